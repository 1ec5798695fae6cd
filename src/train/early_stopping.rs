//! Keras `EarlyStopping`, as a state machine fed one value per epoch so the
//! logic can be checked on scripted sequences without training.

use super::EpochRecord;
use crate::spec::{EarlyStoppingSpec, MonitorMode, MonitorName};

/// Whether higher is better: `max` mode, or `auto` on an accuracy (Keras:
/// "acc" in the monitored name).
pub fn is_max_mode(mode: MonitorMode, monitor: MonitorName) -> bool {
    match mode {
        MonitorMode::Max => true,
        MonitorMode::Min => false,
        MonitorMode::Auto => monitor.as_str().contains("acc"),
    }
}

/// The monitored value in an epoch's record (`None` when not measured,
/// e.g. `val_loss` without validation data).
pub fn monitored(record: &EpochRecord, monitor: MonitorName) -> Option<f64> {
    match monitor {
        MonitorName::ValLoss => record.val_loss,
        MonitorName::ValAccuracy => record.val_accuracy,
        MonitorName::Loss => Some(record.loss),
        MonitorName::Accuracy => Some(record.accuracy),
    }
}

/// What [`Monitor::on_epoch_end`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// The value improved on the best so far: save the weights if restoring.
    pub improved: bool,
    /// Stop training after this epoch.
    pub stop: bool,
}

/// Keras `EarlyStopping` state.
///
/// Per epoch `e` (from 0): the wait grows by one; an improvement
/// (`value − min_delta < best`, or `value + min_delta > best` in max mode,
/// best starting at ±∞) records the best value and epoch and resets the wait;
/// otherwise training stops when `wait ≥ patience` and `e > 0`.
#[derive(Debug, Clone)]
pub struct Monitor {
    spec: EarlyStoppingSpec,
    max_mode: bool,
    best: f64,
    best_epoch: Option<usize>,
    wait: usize,
    stopped_epoch: Option<usize>,
}

impl Monitor {
    /// Fresh state.
    pub fn new(spec: &EarlyStoppingSpec) -> Monitor {
        let max_mode = is_max_mode(spec.mode, spec.monitor);
        Monitor {
            spec: spec.clone(),
            max_mode,
            best: if max_mode {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            },
            best_epoch: None,
            wait: 0,
            stopped_epoch: None,
        }
    }

    /// Feed the value at the end of epoch `epoch` (0-based, as Keras counts).
    pub fn on_epoch_end(&mut self, epoch: usize, value: f64) -> Decision {
        self.wait += 1;
        let improved = if self.max_mode {
            value - self.spec.min_delta > self.best
        } else {
            value + self.spec.min_delta < self.best
        };
        if improved {
            self.best = value;
            self.best_epoch = Some(epoch);
            self.wait = 0;
            return Decision {
                improved: true,
                stop: false,
            };
        }
        let stop = self.wait >= self.spec.patience && epoch > 0;
        if stop {
            self.stopped_epoch = Some(epoch);
        }
        Decision {
            improved: false,
            stop,
        }
    }

    /// The best value seen.
    pub fn best(&self) -> f64 {
        self.best
    }

    /// The 0-based epoch of the best value.
    pub fn best_epoch(&self) -> Option<usize> {
        self.best_epoch
    }

    /// The 0-based epoch training stopped after, if it stopped early.
    pub fn stopped_epoch(&self) -> Option<usize> {
        self.stopped_epoch
    }
}
