//! What training recorded, epoch by epoch.

use serde::{Deserialize, Serialize};

/// Metrics at the end of one epoch (Keras's `History.history` row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch number, starting at 1.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches, weighted by batch size
    /// (computed with the weights of each step, dropout active, as Keras reports it).
    pub loss: f64,
    /// Training accuracy over the epoch (see [`AccuracyRule`](super::AccuracyRule)).
    pub accuracy: f64,
    /// Loss on the validation split after the epoch.
    pub val_loss: Option<f64>,
    /// Accuracy on the validation split after the epoch.
    pub val_accuracy: Option<f64>,
    /// Wall-clock seconds for the epoch, validation included.
    pub seconds: f64,
}

/// Every epoch of a training run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct History {
    /// One record per epoch, in order.
    pub epochs: Vec<EpochRecord>,
}

impl History {
    /// The last epoch's record.
    pub fn last(&self) -> Option<&EpochRecord> {
        self.epochs.last()
    }

    /// The epoch with the lowest validation loss, when there is validation data.
    pub fn best_val_loss(&self) -> Option<&EpochRecord> {
        self.epochs
            .iter()
            .filter(|e| e.val_loss.is_some_and(f64::is_finite))
            .min_by(|a, b| {
                a.val_loss
                    .unwrap_or(f64::INFINITY)
                    .total_cmp(&b.val_loss.unwrap_or(f64::INFINITY))
            })
    }
}
