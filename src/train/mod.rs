//! Training: losses, optimizers, the fit loop and its history.
//!
//! [`fit`] trains a [`Model`](crate::model::Model) on a [`Dataset`] with the
//! spec's [`TrainSpec`](crate::spec::TrainSpec): seeded shuffling each epoch,
//! Keras loss definitions and Keras optimizer update rules implemented over the
//! model's trainable candle `Var`s. [`predict`] and [`evaluate`] run inference.
//! Errors are [`ModelError`](crate::model::ModelError)s.

mod accuracy;
mod dataset;
mod fit;
mod history;
mod loss;
mod optimizer;
mod predict;
mod sparse_step;

pub use accuracy::{count_correct, AccuracyRule};
pub use dataset::{check_loss, Dataset, InputData, TaskInfo};
pub use fit::{fit, TrainObserver};
pub use history::{EpochRecord, History};
pub use loss::{loss_tensor, KERAS_EPSILON};
pub use optimizer::Optimizer;
pub use predict::{evaluate, evaluate_loss, outputs, predict, Evaluation};
pub use sparse_step::SparseOptimizer;

#[cfg(test)]
mod tests;
