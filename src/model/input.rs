//! What a model reads: token-id sequences or dense feature rows.

use super::Shape;
use serde::Serialize;

/// The kind and width of the model's input (the batch axis is implied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ModelInput {
    /// Token ids, batch × `maxlen`, `u32`; the first layer must be an `embedding`.
    Sequence {
        /// Length of every (padded) sequence.
        maxlen: usize,
    },
    /// Dense `f32` rows, batch × `width` (hand-calculation specs, bags of n-grams).
    Features {
        /// Number of values per row.
        width: usize,
    },
}

impl ModelInput {
    /// The input shape without the batch axis.
    pub fn shape(&self) -> Shape {
        match *self {
            ModelInput::Sequence { maxlen } => Shape(vec![maxlen]),
            ModelInput::Features { width } => Shape(vec![width]),
        }
    }

    /// Values per example (`maxlen` or `width`).
    pub fn width(&self) -> usize {
        match *self {
            ModelInput::Sequence { maxlen } => maxlen,
            ModelInput::Features { width } => width,
        }
    }

    /// Keras-style description, e.g. `(None, 200)` token ids.
    pub fn describe(&self) -> String {
        match self {
            ModelInput::Sequence { .. } => format!("token ids {}", self.shape()),
            ModelInput::Features { .. } => format!("features {}", self.shape()),
        }
    }
}
