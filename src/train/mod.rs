//! Training: losses, optimizers, the fit loop and its history.
//!
//! [`fit`] trains a [`Model`](crate::model::Model) on a [`Dataset`] with the
//! spec's [`TrainSpec`](crate::spec::TrainSpec): seeded shuffling each epoch,
//! Keras loss definitions and Keras optimizer update rules implemented over the
//! model's trainable candle `Var`s. [`predict`] and [`evaluate`] run inference.
//! Errors are [`ModelError`](crate::model::ModelError)s.

mod accuracy;
mod class_weight;
mod dataset;
mod early_stopping;
mod fit;
mod grad_norms;
mod history;
mod loss;
mod optimizer;
mod predict;
mod schedule;
mod sparse_step;

pub use accuracy::{count_correct, AccuracyRule};
pub use class_weight::{balanced_weights, class_weights};
pub use dataset::{check_loss, check_loss_layers, Dataset, InputData, TaskInfo};
pub use early_stopping::{is_max_mode, monitored, Decision, Monitor};
pub use fit::{fit, fit_with, FitContext, TrainObserver};
pub use grad_norms::GradNorms;
pub use history::{EpochRecord, History};
pub use loss::{
    loss_tensor, per_example_loss, weighted_loss_tensor, weighted_mean_loss_tensor, KERAS_EPSILON,
};
pub use optimizer::Optimizer;
pub use predict::{evaluate, evaluate_loss, outputs, predict, Evaluation};
pub use schedule::{exponential_decay, Plateau};
pub use sparse_step::SparseOptimizer;

#[cfg(test)]
mod tests;
