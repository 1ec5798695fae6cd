//! Unit tests of the training module.
