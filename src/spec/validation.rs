//! `data.validation`: how the validation data is made (a held-out
//! fraction of train, a file, or k-fold cross-validation).

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Validation split: a seeded stratified fraction of train, a file, or
/// k-fold cross-validation of the training split.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ValidationSpec {
    /// Fraction of the training split held out (seeded, stratified by label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fraction: Option<f64>,
    /// A separate validation file, relative to the spec file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// k-fold cross-validation: the training split is cut into this many
    /// seeded, stratified parts; each fold trains on the others and validates
    /// on one, then one final model trains on the whole training split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folds: Option<usize>,
}

impl Default for ValidationSpec {
    fn default() -> Self {
        ValidationSpec {
            fraction: Some(0.2),
            file: None,
            folds: None,
        }
    }
}

/// Most folds `data.validation.folds` may ask for (each fold trains a model).
pub const MAX_FOLDS: usize = 20;
