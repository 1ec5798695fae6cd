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
    let counts: Vec<FileRows> = tables
        .iter()
        .map(|(role, t)| FileRows::of(role, t))
        .collect();
    check_skipped_counts(&counts, max_bad_rows)
}

/// How many rows one file gave and lost, kept after its rows are gone (the
/// load stage writes each file out before reading the next).
#[derive(Debug, Clone)]
pub struct FileRows<'a> {
    /// `train`, `test` or `validation`.
    pub role: &'a str,
    /// Rows read and kept.
    pub kept: usize,
    /// Malformed rows skipped.
    pub skipped: usize,
    /// The first malformed row skipped, for messages.
    pub first_bad: Option<DataError>,
}

impl<'a> FileRows<'a> {
    /// The counts of `table`, read as the file `role`.
    pub fn of(role: &'a str, table: &Table) -> FileRows<'a> {
        FileRows {
            role,
            kept: table.rows.len(),
            skipped: table.skipped,
            first_bad: table.first_bad.clone(),
        }
    }
}

/// [`check_skipped`] on counts alone.
pub fn check_skipped_counts(files: &[FileRows<'_>], max_bad_rows: Option<usize>) -> Result<()> {
    let skipped: usize = files.iter().map(|f| f.skipped).sum();
    if skipped == 0 {
        return Ok(());
    }
    let read: usize = files.iter().map(|f| f.kept + f.skipped).sum();
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
    let per_file = files
        .iter()
        .map(|f| format!("{} {}", f.role, f.skipped))
        .collect::<Vec<_>>()
        .join(", ");
    let first = files.iter().find_map(|f| f.first_bad.as_ref());
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
    check_not_empty_counts(&FileRows::of(role, table), path)
}

/// [`check_not_empty`] on counts alone.
pub fn check_not_empty_counts(file: &FileRows<'_>, path: &std::path::Path) -> Result<()> {
    if file.kept > 0 {
        return Ok(());
    }
    let role = file.role;
    let why = if file.skipped > 0 {
        format!(
            "the {role} file has no rows left: all {} were malformed and skipped",
            file.skipped
        )
    } else {
        format!(
            "the {role} file has no rows (only a header, or nothing at all); \
             every file needs at least one example"
        )
    };
    Err(DataError::in_file(DataErrorKind::Format, path, why))
}
