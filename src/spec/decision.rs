//! `task.decision`: a decision rule fitted on the cross-validation folds'
//! out-of-fold predictions (cut points for a regression, class offsets for
//! a classifier) that maximises a kappa; see `crate::metrics::FittedDecision`.

use super::error::Invalid;
use super::Spec;
use crate::metrics::KappaWeights;
use serde::{Deserialize, Serialize};

/// `task.decision: {maximise: cohen_kappa_quadratic}`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DecisionSpec {
    /// The kappa the rule is fitted to maximise on the out-of-fold predictions.
    pub maximise: DecisionTarget,
}

/// The kappas a decision rule can be fitted for.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DecisionTarget {
    /// Unweighted Cohen's kappa: every miss counts the same.
    CohenKappa,
    /// Linear-weighted kappa (ordered classes, regression).
    CohenKappaLinear,
    /// Quadratic-weighted kappa (ordered classes, regression).
    CohenKappaQuadratic,
}

impl DecisionTarget {
    /// The kappa's weights.
    pub fn weights(self) -> KappaWeights {
        match self {
            DecisionTarget::CohenKappa => KappaWeights::Unweighted,
            DecisionTarget::CohenKappaLinear => KappaWeights::Linear,
            DecisionTarget::CohenKappaQuadratic => KappaWeights::Quadratic,
        }
    }
}

/// A rule is fitted on out-of-fold predictions, so the spec needs
/// `data.validation: {folds: K}`.
pub fn check(spec: &Spec) -> Result<(), Invalid> {
    if spec.task.decision.is_none() {
        return Ok(());
    }
    let folds = spec
        .data
        .as_ref()
        .is_some_and(|d| d.validation.folds.is_some());
    if folds {
        return Ok(());
    }
    Err(Invalid::new(
        "task.decision",
        "a decision rule is fitted on the cross-validation folds' out-of-fold predictions: add `data.validation: {folds: 5}`",
    ))
}
