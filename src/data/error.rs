//! The data module's error: what went wrong, located by file, line and column.

use std::fmt;
use std::path::{Path, PathBuf};

/// Result type of the data module.
pub type Result<T> = std::result::Result<T, DataError>;

/// The broad kind of a data error, for callers that branch on it (exit codes, tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataErrorKind {
    /// An input file (or a built-in dataset's file) does not exist.
    NotFound,
    /// Reading or writing a file failed at the OS level.
    Io,
    /// A column the spec names is not in the file.
    MissingColumn,
    /// A row is malformed: field count, quoting, UTF-8, JSON, empty label, bad id.
    BadRow,
    /// A file is not in the format expected (unknown extension, unsupported Parquet type).
    Format,
    /// A label cannot be turned into a target (unknown class, value in no bin, not a number).
    Target,
    /// The spec asks for something the data cannot give (e.g. binary with three labels).
    Spec,
}

/// A data error with its location: file, 1-based physical line, column.
#[derive(Debug, Clone, PartialEq)]
pub struct DataError {
    /// What kind of problem it is.
    pub kind: DataErrorKind,
    /// The file concerned, when there is one.
    pub file: Option<PathBuf>,
    /// 1-based physical line where the record starts, when known.
    pub line: Option<u64>,
    /// The column concerned, when known.
    pub column: Option<String>,
    /// What is wrong and what would be valid.
    pub message: String,
}

impl DataError {
    /// An error not tied to a file.
    pub fn new(kind: DataErrorKind, message: impl Into<String>) -> DataError {
        DataError {
            kind,
            file: None,
            line: None,
            column: None,
            message: message.into(),
        }
    }

    /// An error about a file.
    pub fn in_file(kind: DataErrorKind, file: &Path, message: impl Into<String>) -> DataError {
        DataError {
            file: Some(file.to_path_buf()),
            ..DataError::new(kind, message)
        }
    }

    /// Adds the line number.
    pub fn at_line(mut self, line: u64) -> DataError {
        self.line = Some(line);
        self
    }

    /// Adds the column name.
    pub fn at_column(mut self, column: impl Into<String>) -> DataError {
        self.column = Some(column.into());
        self
    }

    /// An OS-level I/O error on a file.
    pub fn io(file: &Path, err: std::io::Error) -> DataError {
        DataError::in_file(
            DataErrorKind::Io,
            file,
            format!("cannot read or write: {err}"),
        )
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `file, line N, column `c`: message` — each part only when known.
        let mut parts: Vec<String> = Vec::new();
        if let Some(file) = &self.file {
            parts.push(file.display().to_string());
        }
        if let Some(line) = self.line {
            parts.push(format!("line {line}"));
        }
        // A missing-column message names the column itself.
        if let (Some(col), false) = (&self.column, self.kind == DataErrorKind::MissingColumn) {
            parts.push(format!("column `{col}`"));
        }
        if parts.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", parts.join(", "), self.message)
        }
    }
}

impl std::error::Error for DataError {}
