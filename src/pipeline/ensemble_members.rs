//! The members of an `ensemble:` spec: read, checked like any spec, and
//! checked to share the seed, data and task (so their validation and test
//! splits are the same rows in the same order).

use super::memory::MemoryLimit;
use super::validate_with;
use crate::spec::ensemble::{check_member_task, EnsembleSpec};
use crate::spec::{self, DataSpec, Invalid, Locator, Spec, SpecError};
use std::path::{Path, PathBuf};

/// One member spec, read and checked.
#[derive(Debug, Clone)]
pub struct Member {
    /// The member spec file (the ensemble's folder joined with its entry).
    pub path: PathBuf,
    /// Its parsed, checked spec.
    pub spec: Spec,
}

/// Read and check every member of `ensemble` (the spec at `spec_path`,
/// positions from `locator`). A member that cannot be read, is itself an
/// ensemble or a sweep, is a regression, or differs from the first member in
/// `seed`, `data` or `task` is a [`SpecError`] at its `ensemble.members[i]`
/// entry; a member's own mistakes are located in the member's file.
pub fn load_members(
    ensemble: &EnsembleSpec,
    spec_path: &Path,
    locator: &Locator,
    limit: &MemoryLimit,
) -> Result<Vec<Member>, SpecError> {
    let dir = spec_path.parent().unwrap_or(Path::new("."));
    let mut members: Vec<Member> = Vec::new();
    for (i, entry) in ensemble.members.iter().enumerate() {
        let at = |message: String| Invalid::new(format!("ensemble.members[{i}]"), message);
        let located = |message: String| at(message).at(spec_path, locator);
        let path = dir.join(entry);
        if !path.is_file() {
            return Err(located(format!(
                "member spec `{}` not found (looked for {}); member paths are relative to the ensemble spec's folder",
                entry.display(),
                path.display()
            )));
        }
        let (member, member_locator) = spec::load_spec(&path)?;
        if member.ensemble.is_some() {
            return Err(located(format!(
                "`{}` is itself an ensemble; list its members here instead",
                entry.display()
            )));
        }
        if member.matrix.is_some() || member.search.is_some() {
            return Err(located(format!(
                "`{}` has a `matrix:` or `search:`; a member is one model (copy the chosen variant's settings into its own spec)",
                entry.display()
            )));
        }
        if member.data.is_none() {
            return Err(located(format!(
                "`{}` has no `data` section; members are trained on data",
                entry.display()
            )));
        }
        check_member_task(member.task.kind)
            .map_err(|m| located(format!("`{}`: {m}", entry.display())))?;
        validate_with(&member, &path, &member_locator, limit)?;
        if let Some(first) = members.first() {
            if let Some(field) = differing_field(&first.spec, &member) {
                return Err(located(format!(
                    "`{}` has a different `{field}` than `{}`; every member must share `seed`, `data` and `task` so their validation and test splits are the same rows",
                    entry.display(),
                    ensemble.members[0].display()
                )));
            }
            if members.iter().any(|m| m.spec.name == member.name) {
                return Err(located(format!(
                    "`{}` has the name `{}` of an earlier member; give each member its own `name` (it names its report and run record)",
                    entry.display(),
                    member.name
                )));
            }
        }
        members.push(Member { path, spec: member });
    }
    Ok(members)
}

/// The first of `seed`, `data`, `task` where `b` differs from `a`.
/// `data.unlabelled` may differ: it feeds one member's document vectors and
/// has no part in which rows make the splits.
fn differing_field(a: &Spec, b: &Spec) -> Option<&'static str> {
    let labelled = |s: &Spec| s.data.as_ref().map(DataSpec::without_unlabelled);
    if a.seed != b.seed {
        Some("seed")
    } else if labelled(a) != labelled(b) {
        Some("data")
    } else if a.task != b.task {
        Some("task")
    } else {
        None
    }
}
