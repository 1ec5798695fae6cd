//! Malformed rows skipped under `on_bad_rows: skip`, per split, and the limit
//! past which a run is refused.

use super::error::{DataError, DataErrorKind, Result};
use super::options::MAX_BAD_FRACTION;
use super::table::Table;
use serde::{Deserialize, Serialize};

/// Rows skipped while reading, by the file they were in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SkippedRows {
    /// In the train file (before the validation split is drawn from it).
    pub train: usize,
    /// In the validation file (`validation.file`).
    pub validation: usize,
    /// In the test file.
    pub test: usize,
}

impl SkippedRows {
    /// All files together.
    pub fn total(&self) -> usize {
        self.train + self.validation + self.test
    }

    /// `{"train": .., "validation": .., "test": .., "total": ..}` as in `--json`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "train": self.train,
            "validation": self.validation,
            "test": self.test,
            "total": self.total(),
        })
    }
}

/// Refuse the data when more rows were skipped than allowed: `max_bad_rows`
/// when given, else [`MAX_BAD_FRACTION`] of all rows read (kept and skipped,
/// every file together). The error names the first skipped row's file and line.
pub fn check_skipped(tables: &[(&str, &Table)], max_bad_rows: Option<usize>) -> Result<()> {
    let skipped: usize = tables.iter().map(|(_, t)| t.skipped).sum();
    if skipped == 0 {
        return Ok(());
    }
    let read: usize = tables.iter().map(|(_, t)| t.rows.len() + t.skipped).sum();
    let (limit, rule) = match max_bad_rows {
        Some(n) => (n, "`data.max_bad_rows`".to_string()),
        None => (
            (MAX_BAD_FRACTION * read as f64).floor() as usize,
            format!(
                "{}% of the {read} rows read; raise it with `data.max_bad_rows: N`",
                MAX_BAD_FRACTION * 100.0
            ),
        ),
    };
    if skipped <= limit {
        return Ok(());
    }
    let per_file = tables
        .iter()
        .map(|(role, t)| format!("{role} {}", t.skipped))
        .collect::<Vec<_>>()
        .join(", ");
    let first = tables.iter().find_map(|(_, t)| t.first_bad.as_ref());
    let mut message = format!(
        "{skipped} malformed rows were skipped ({per_file}), more than the {limit} allowed ({rule}); \
         fix the file or its parsing options (`delimiter`, `quote`, `encoding`, `header`)"
    );
    match first {
        Some(first) => {
            message.push_str(&format!("; the first malformed row: {}", first.message));
            let mut e = DataError {
                message,
                kind: DataErrorKind::BadRow,
                ..first.clone()
            };
            e.column = first.column.clone();
            Err(e)
        }
        None => Err(DataError::new(DataErrorKind::BadRow, message)),
    }
}

/// Refuse a file without usable rows, naming its role and path.
pub fn check_not_empty(role: &str, table: &Table, path: &std::path::Path) -> Result<()> {
    if !table.rows.is_empty() {
        return Ok(());
    }
    let why = if table.skipped > 0 {
        format!(
            "the {role} file has no rows left: all {} were malformed and skipped",
            table.skipped
        )
    } else {
        format!(
            "the {role} file has no rows (only a header, or nothing at all); \
             every file needs at least one example"
        )
    };
    Err(DataError::in_file(DataErrorKind::Format, path, why))
}
