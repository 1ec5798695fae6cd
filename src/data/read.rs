//! Reading a resolved source with the reader for its format.

use super::delimited::read_delimited;
use super::error::{DataError, DataErrorKind, Result};
use super::jsonl::read_jsonl;
use super::parquet_table::read_parquet;
use super::skipped::{
    check_not_empty, check_not_empty_counts, check_skipped, check_skipped_counts, FileRows,
};
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
///
/// Each file must hold at least one row, and under `on_bad_rows: skip` the
/// rows skipped (all files together) must stay within `max_bad_rows` (see
/// [`check_skipped`]); errors name the file.
pub fn read_sources(data: &DataSpec, sources: &Sources) -> Result<Tables> {
    let plan = ColumnPlan::from_spec(data);
    plan.options.check().map_err(|(key, message)| {
        DataError::new(DataErrorKind::Spec, format!("`{key}`: {message}"))
    })?;
    // Train and test are independent: read them side by side.
    let (train, test) = rayon::join(
        || read_table(&sources.train, &plan),
        || match &sources.test {
            Some(test) => read_table(test, &plan),
            // The test split is drawn from train later (`test: {fraction: F}`).
            None => Ok(Table::default()),
        },
    );
    let tables = Tables {
        train: train?,
        test: test?,
        validation: sources
            .validation
            .as_ref()
            .map(|v| read_table(v, &plan))
            .transpose()?,
    };
    let mut named = vec![("train", &tables.train), ("test", &tables.test)];
    named.extend(tables.validation.as_ref().map(|v| ("validation", v)));
    check_skipped(&named, data.max_bad_rows)?;
    check_not_empty("train", &tables.train, &sources.train.path)?;
    if let Some(test) = &sources.test {
        check_not_empty("test", &tables.test, &test.path)?;
    }
    if let (Some(t), Some(s)) = (&tables.validation, &sources.validation) {
        check_not_empty("validation", t, &s.path)?;
    }
    Ok(tables)
}

/// Read the sources of a spec one file at a time, handing each table to
/// `each` (`train`, then `test` when there is a test file, then
/// `validation`) before the next is read, so only one file's rows are ever
/// in memory. The checks are those of [`read_sources`], made on the row
/// counts once every file was read (so a refusal names all of them).
pub fn read_sources_each(
    data: &DataSpec,
    sources: &Sources,
    mut each: impl FnMut(&'static str, Table) -> Result<()>,
) -> Result<()> {
    let plan = ColumnPlan::from_spec(data);
    plan.options.check().map_err(|(key, message)| {
        DataError::new(DataErrorKind::Spec, format!("`{key}`: {message}"))
    })?;
    let mut files: Vec<(&'static str, &Source)> = vec![("train", &sources.train)];
    files.extend(sources.test.as_ref().map(|t| ("test", t)));
    files.extend(sources.validation.as_ref().map(|v| ("validation", v)));
    let mut counts = Vec::with_capacity(files.len() + 1);
    for (role, source) in &files {
        let table = read_table(source, &plan)?;
        counts.push(FileRows::of(role, &table));
        each(role, table)?;
    }
    if sources.test.is_none() {
        // The test split is drawn from train later (`test: {fraction: F}`).
        each("test", Table::default())?;
    }
    check_skipped_counts(&counts, data.max_bad_rows)?;
    for (count, (_, source)) in counts.iter().zip(&files) {
        check_not_empty_counts(count, &source.path)?;
    }
    Ok(())
}
