//! Workflows around single runs: sweeps over a `matrix:`, CI gates from
//! `expect:`, sealed and verifiable submission reports, comparisons of
//! finished runs, and `kerros init`.
//!
//! These are library functions; the pipeline runner and the CLI call them.
//!
//! - [`sweep`]: expand a spec with a `matrix:` into named [`Variant`]s.
//! - [`expect`]: parse `expect:` bounds and check metrics against them
//!   ([`EXIT_EXPECTATION_UNMET`] is the exit code for an unmet gate).
//! - [`manifest`]: the machine-readable [`Manifest`] embedded in a report.
//! - [`verify`]: seal a report with a digest and verify it later.
//! - [`compare`]: per-run [`RunRecord`]s and the comparison table / page.
//! - [`init`]: create a new experiment folder.

pub mod compare;
pub mod expect;
pub mod init;
pub mod manifest;
pub mod sweep;
pub mod verify;

pub use compare::{
    comparison_html, differing_settings, load_record, load_records, record_path, save_record,
    table, Comparison, RunRecord,
};
pub use expect::{
    check as check_expectations, parse_bound, parse_expectations, Bound, Expectation, Op, Unmet,
    EXIT_EXPECTATION_UNMET,
};
pub use init::init;
pub use manifest::{resolve_author, DataFile, Manifest, Platform};
pub use sweep::{expand, Variant};
pub use verify::{
    compare_metrics, extract_manifest, manifest_script, seal, verify, VerifyResult, DIGEST_SLOT,
};
