//! Learning-rate schedules: Keras `ExponentialDecay` and `ReduceLROnPlateau`.

use super::early_stopping::is_max_mode;
use crate::spec::{ExponentialDecaySpec, ReduceOnPlateauSpec};

/// Keras `ExponentialDecay`: `initial · decay_rate^(step / decay_steps)`, the
/// exponent floored when `staircase`. `step` counts updates already applied (from 0).
pub fn exponential_decay(initial: f64, spec: &ExponentialDecaySpec, step: u64) -> f64 {
    let p = step as f64 / spec.decay_steps.max(1) as f64;
    let p = if spec.staircase { p.floor() } else { p };
    initial * spec.decay_rate.powf(p)
}

/// Keras `ReduceLROnPlateau` state, fed one monitored value per epoch.
///
/// After each epoch: in cooldown, the cooldown counter drops and the wait is
/// reset; an improvement (`value < best − min_delta`, or `> best + min_delta`
/// in max mode) becomes the new best and resets the wait; otherwise, outside
/// cooldown, the wait grows and at `patience` the rate becomes
/// `max(rate · factor, min_lr)` (only when above `min_lr`), cooldown starts
/// and the wait is reset.
#[derive(Debug, Clone)]
pub struct Plateau {
    spec: ReduceOnPlateauSpec,
    max_mode: bool,
    best: f64,
    wait: usize,
    cooldown_counter: usize,
}

impl Plateau {
    /// Fresh state (best = ±∞).
    pub fn new(spec: &ReduceOnPlateauSpec) -> Plateau {
        let max_mode = is_max_mode(spec.mode, spec.monitor);
        Plateau {
            spec: spec.clone(),
            max_mode,
            best: if max_mode {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            },
            wait: 0,
            cooldown_counter: 0,
        }
    }

    /// The learning rate after an epoch that ended with `lr` and `value`.
    pub fn on_epoch_end(&mut self, value: f64, lr: f64) -> f64 {
        let in_cooldown = self.cooldown_counter > 0;
        if in_cooldown {
            self.cooldown_counter -= 1;
            self.wait = 0;
        }
        let improved = if self.max_mode {
            value > self.best + self.spec.min_delta
        } else {
            value < self.best - self.spec.min_delta
        };
        if improved {
            self.best = value;
            self.wait = 0;
            return lr;
        }
        // Keras checks the cooldown again after decrementing it.
        if self.cooldown_counter > 0 {
            return lr;
        }
        self.wait += 1;
        if self.wait >= self.spec.patience && lr > self.spec.min_lr as f32 as f64 {
            self.cooldown_counter = self.spec.cooldown;
            self.wait = 0;
            return (lr * self.spec.factor).max(self.spec.min_lr);
        }
        lr
    }
}
