//! The model's error type.

use crate::spec::Invalid;
use std::path::PathBuf;

/// What can go wrong building, running, saving or loading a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A problem with the layer stack, located by its spec path (`model.layers[1]`).
    #[error("`{}`: {}", .0.path, .0.message)]
    Spec(Invalid),
    /// Input data that does not fit the model (wrong width, token id out of range...).
    #[error("{0}")]
    Input(String),
    /// A weights file that is missing, unreadable or does not match the model.
    #[error("weights file {}: {message}", path.display())]
    Weights {
        /// The safetensors file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An error from a candle tensor operation.
    #[error("tensor operation failed: {0}")]
    Candle(#[from] candle_core::Error),
}

impl From<Invalid> for ModelError {
    fn from(e: Invalid) -> Self {
        ModelError::Spec(e)
    }
}
