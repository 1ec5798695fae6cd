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
    /// The learning rate used in the epoch's last step (after the schedule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learning_rate: Option<f64>,
    /// Each layer's gradient L2 norm (over all its trainable weights),
    /// averaged over the epoch's steps, in layer order.
    #[serde(default)]
    pub grad_norms: Vec<(String, f64)>,
    /// Recurrent layers' input-gradient norms in the epoch's last batch, summed
    /// over the first, middle and last quarter of the time axis
    /// (`[first, middle, last]`), in layer order; empty without recurrent layers.
    #[serde(default)]
    pub grad_bands: Vec<(String, Vec<f64>)>,
}

/// Every epoch of a training run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct History {
    /// One record per epoch, in order.
    pub epochs: Vec<EpochRecord>,
    /// Early stopping: the epoch (from 1) after which training stopped, when it stopped early.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_epoch: Option<usize>,
    /// Early stopping: the epoch (from 1) with the best monitored value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_epoch: Option<usize>,
    /// Early stopping put back the best epoch's weights.
    #[serde(default)]
    pub restored_best_weights: bool,
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
