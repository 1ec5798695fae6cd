//! Assignments: a teacher's `assignment.yaml` names a template spec, the
//! dotted keys students may not change (`locked:`) and points per metric
//! bound (`grading:`). A student's spec points back at it with
//! `assignment: {path, digest}` ([`AssignmentRef`]); [`check_spec`] (run by
//! every command through `pipeline::validate`) refuses a spec whose locked
//! keys differ from the template's.

mod file;
mod locked;

pub use file::{load_assignment, Assignment, GradingRule};
pub use locked::{check_spec, first_difference, locked_value, locked_values, LockedKey};

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A spec's link to the assignment it was handed out for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignmentRef {
    /// The assignment file, relative to the spec's folder (or absolute).
    pub path: PathBuf,
    /// [`digest`] of the assignment and its template when the folder was
    /// made, e.g. `blake3:3f…`.
    pub digest: String,
}

/// The digest of an assignment: blake3 over the assignment file's bytes and
/// its template's bytes (each preceded by its length, so the two cannot be
/// shifted into each other), written `blake3:<hex>`. A changed template
/// therefore changes the assignment too.
pub fn digest(assignment: &[u8], template: &[u8]) -> String {
    let mut h = blake3::Hasher::new();
    for part in [assignment, template] {
        h.update(&(part.len() as u64).to_le_bytes());
        h.update(part);
    }
    format!("blake3:{}", h.finalize().to_hex())
}

#[cfg(test)]
mod tests;
