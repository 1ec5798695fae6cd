//! How a prediction counts as correct, per task.

use super::TaskInfo;
use crate::spec::{LossName, LossSpec, TaskKind};

/// The rule that turns raw model outputs into a right / wrong answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AccuracyRule {
    /// One output: class 1 when the output is above the threshold
    /// (0.5 on a probability, 0 on a logit).
    Threshold(f32),
    /// One output per class: the largest output is the predicted class.
    Argmax,
    /// Regression: correct when the prediction rounds to the same whole number
    /// as the target (useful for ratings such as 1–10).
    Rounded,
}

impl AccuracyRule {
    /// The rule for a task, loss and output width.
    pub fn for_task(task: &TaskInfo, loss: &LossSpec, width: usize) -> AccuracyRule {
        if task.kind == TaskKind::Regression {
            AccuracyRule::Rounded
        } else if width >= 2 {
            AccuracyRule::Argmax
        } else if loss.from_logits && loss.name == LossName::BinaryCrossentropy {
            AccuracyRule::Threshold(0.0)
        } else {
            AccuracyRule::Threshold(0.5)
        }
    }
}

/// Number of rows of `outputs` (row-major, `width` per row) whose prediction
/// matches the target.
pub fn count_correct(rule: AccuracyRule, outputs: &[f32], width: usize, targets: &[f32]) -> usize {
    outputs
        .chunks(width.max(1))
        .zip(targets)
        .filter(|(row, t)| match rule {
            AccuracyRule::Threshold(th) => (row[0] > th) == (**t > 0.5),
            AccuracyRule::Argmax => {
                let best = row
                    .iter()
                    .enumerate()
                    .fold(
                        (0, f32::NEG_INFINITY),
                        |b, (i, v)| if *v > b.1 { (i, *v) } else { b },
                    )
                    .0;
                best as f32 == **t
            }
            AccuracyRule::Rounded => row[0].round() == t.round(),
        })
        .count()
}
