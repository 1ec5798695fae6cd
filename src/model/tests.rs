//! Unit tests of the model module.
