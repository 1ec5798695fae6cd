//! Spec problems: [`SpecError`] with file, line and column, and [`Invalid`],
//! a problem located by its dotted spec path until a [`Locator`] places it.

use super::Locator;
use std::fmt;
use std::path::{Path, PathBuf};

/// A problem with a spec, pointing at the file, line and column that caused it.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecError {
    /// The spec file.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// Dotted path of the offending key (`train.epochs`), when known.
    pub path: Option<String>,
    /// What is wrong and what would be valid.
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": ")?;
        if let Some(path) = &self.path {
            if !path.is_empty() {
                write!(f, "`{path}`: ")?;
            }
        }
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for SpecError {}

/// A problem found after parsing, located by its dotted spec path.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    /// Dotted path, e.g. `model.layers[2]`.
    pub path: String,
    /// What is wrong and what would fix it.
    pub message: String,
}

impl Invalid {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Invalid {
        Invalid {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Attach the file and position of the path.
    pub fn at(self, file: &Path, locator: &Locator) -> SpecError {
        let pos = locator.find(&self.path);
        SpecError {
            file: file.to_path_buf(),
            line: pos.map(|p| p.0),
            column: pos.map(|p| p.1),
            path: Some(self.path),
            message: self.message,
        }
    }
}
