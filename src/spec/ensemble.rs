//! `ensemble:` at the top level of a spec: member specs whose class
//! probabilities are combined (averaged, or stacked by a logistic regression
//! fitted on their validation-split probabilities).

use super::error::Invalid;
use super::{Spec, TaskKind};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// `ensemble: {members: [a.yaml, b.yaml], combine: mean}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EnsembleSpec {
    /// Member spec files, relative to the ensemble spec's folder. They must
    /// share `seed`, `data` and `task`, so their splits are the same rows.
    pub members: Vec<PathBuf>,
    /// How the members' probabilities become the ensemble's.
    #[serde(default)]
    pub combine: Combine,
}

/// How an ensemble combines its members' class probabilities.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// The mean of the members' probabilities.
    #[default]
    Mean,
    /// A multinomial logistic regression on the members' log-probabilities,
    /// fitted on the validation split (never the test split).
    Stack,
}

impl Combine {
    /// The YAML spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Combine::Mean => "mean",
            Combine::Stack => "stack",
        }
    }
}

/// The most members an ensemble may list.
pub const MAX_MEMBERS: usize = 16;

/// The keys an ensemble spec may set besides `name` and `ensemble`: the rest
/// (data, task, model, training) belong to its members.
pub const ENSEMBLE_KEYS: &str = "name, seed, ensemble, metrics, report, expect";

/// Checks an ensemble spec needs without reading its members: at least one
/// and at most [`MAX_MEMBERS`] distinct members, and none of the settings
/// that belong to the members.
pub fn check(spec: &Spec, ensemble: &EnsembleSpec) -> Result<(), Invalid> {
    if ensemble.members.is_empty() {
        return Err(Invalid::new(
            "ensemble.members",
            "an ensemble needs at least one member spec file, e.g. `members: [words.yaml, chars.yaml]`",
        ));
    }
    if ensemble.members.len() > MAX_MEMBERS {
        return Err(Invalid::new(
            "ensemble.members",
            format!(
                "{} members; an ensemble has at most {MAX_MEMBERS}",
                ensemble.members.len()
            ),
        ));
    }
    for (i, m) in ensemble.members.iter().enumerate() {
        if ensemble.members[..i].contains(m) {
            return Err(Invalid::new(
                format!("ensemble.members[{i}]"),
                format!("`{}` is listed twice", m.display()),
            ));
        }
        if m.as_os_str().is_empty() {
            return Err(Invalid::new(
                format!("ensemble.members[{i}]"),
                "the member path is empty; give a spec file such as `words.yaml`",
            ));
        }
    }
    let owned_by_members: [(&str, bool); 9] = [
        ("data", spec.data.is_some()),
        ("task", spec.task != Default::default()),
        ("model", spec.model != Default::default()),
        ("train", spec.train != Default::default()),
        ("vectorize", spec.vectorize != Default::default()),
        ("tokenizer", spec.tokenizer != Default::default()),
        ("sequence", spec.sequence != Default::default()),
        ("matrix", spec.matrix.is_some() || spec.search.is_some()),
        ("inputs", !spec.inputs.is_empty() || spec.select.is_some()),
    ];
    if let Some((key, _)) = owned_by_members.iter().find(|(_, set)| *set) {
        return Err(Invalid::new(
            *key,
            format!(
                "an `ensemble:` spec takes `{key}` from its members; it may set only {ENSEMBLE_KEYS}"
            ),
        ));
    }
    Ok(())
}

/// The task kinds an ensemble can combine: classification only (a member
/// gives class probabilities).
pub fn check_member_task(kind: TaskKind) -> Result<(), String> {
    match kind {
        TaskKind::Regression => Err(
            "a regression member has no class probabilities; ensembles combine classifiers (binary or multiclass)"
                .into(),
        ),
        _ => Ok(()),
    }
}
