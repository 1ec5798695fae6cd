//! Reading a resolved source with the reader for its format.

use super::delimited::read_delimited;
use super::error::{DataError, DataErrorKind, Result};
use super::jsonl::read_jsonl;
use super::parquet_table::read_parquet;
use super::source::{format_from_extension, Source, Sources};
use super::table::{ColumnPlan, Table};
use crate::spec::{DataSpec, FileFormat};

/// Read one file with the reader for its format (`Auto` decides by extension).
pub fn read_table(source: &Source, plan: &ColumnPlan) -> Result<Table> {
    let format = match source.format {
        FileFormat::Auto => format_from_extension(&source.path)?,
        f => f,
    };
    if !source.path.is_file() {
        return Err(DataError::in_file(
            DataErrorKind::NotFound,
            &source.path,
            "file not found",
        ));
    }
    match format {
        FileFormat::Csv => read_delimited(&source.path, b',', plan),
        FileFormat::Tsv => read_delimited(&source.path, b'\t', plan),
        FileFormat::Jsonl => read_jsonl(&source.path, plan),
        FileFormat::Parquet => read_parquet(&source.path, plan),
        // Resolved above; kept as an error rather than a panic.
        FileFormat::Auto => Err(DataError::in_file(
            DataErrorKind::Format,
            &source.path,
            "cannot tell the file format; set `data.format`",
        )),
    }
}

/// The three tables of a spec: train, test and the validation file when given.
#[derive(Debug, Clone, PartialEq)]
pub struct Tables {
    /// Training rows.
    pub train: Table,
    /// Test rows.
    pub test: Table,
    /// Validation rows from `validation.file`.
    pub validation: Option<Table>,
}

/// Read every source of a spec with the columns its data section names.
pub fn read_sources(data: &DataSpec, sources: &Sources) -> Result<Tables> {
    let plan = ColumnPlan::from_spec(data);
    // Train and test are independent: read them side by side.
    let (train, test) = rayon::join(
        || read_table(&sources.train, &plan),
        || read_table(&sources.test, &plan),
    );
    Ok(Tables {
        train: train?,
        test: test?,
        validation: sources
            .validation
            .as_ref()
            .map(|v| read_table(v, &plan))
            .transpose()?,
    })
}
