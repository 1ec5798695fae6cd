//! The Sequential model: layers, shapes, parameter counts and summary.
