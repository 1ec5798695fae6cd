//! `data.unlabelled`: texts without labels, for the steps that learn from
//! unlabelled text (document vectors). Resolved beside the labelled files
//! (so their content hash keys the stages) and read with the training
//! file's columns and cleaning, the label column left out.

use super::clean::clean_text;
use super::error::{DataError, DataErrorKind, Result};
use super::read::read_table;
use super::source::{format_from_extension, Source};
use super::table::ColumnPlan;
use crate::spec::{DataSpec, FileFormat, UnlabelledSource, UNLABELLED_NEEDS_DATASET};
use std::path::{Path, PathBuf};

/// A built-in dataset's unlabelled texts under the data dir, if it has any.
pub fn builtin_unlabelled(name: &str, data_dir: &Path) -> Option<PathBuf> {
    match name {
        "imdb" => Some(data_dir.join(name).join("unsup.parquet")),
        _ => None,
    }
}

/// The file `data.unlabelled` names, checked to exist.
pub fn resolve_unlabelled(
    data: &DataSpec,
    spec_dir: &Path,
    data_dir: &Path,
) -> Result<Option<Source>> {
    let path = match &data.unlabelled {
        None => return Ok(None),
        Some(UnlabelledSource::Dataset) => {
            let Some(name) = &data.dataset else {
                return Err(DataError::new(
                    DataErrorKind::Spec,
                    UNLABELLED_NEEDS_DATASET,
                ));
            };
            builtin_unlabelled(name, data_dir).ok_or_else(|| {
                DataError::new(
                    DataErrorKind::Spec,
                    format!(
                        "`data.unlabelled: true`: the built-in dataset `{name}` has no unlabelled texts (only `imdb` has); give the path of a file of texts instead"
                    ),
                )
            })?
        }
        Some(UnlabelledSource::File(p)) => spec_dir.join(p),
    };
    if !path.is_file() {
        return Err(DataError::in_file(
            DataErrorKind::NotFound,
            &path,
            "`data.unlabelled` file not found (a path in the spec is relative to the spec's folder)",
        ));
    }
    let format = match (&data.unlabelled, data.format) {
        (Some(UnlabelledSource::File(_)), f) if f != FileFormat::Auto => f,
        _ => format_from_extension(&path)?,
    };
    Ok(Some(Source { path, format }))
}

/// The texts of the unlabelled file, cleaned as `data.clean` cleans the
/// training texts. Empty texts are kept (they train nothing).
pub fn read_unlabelled_texts(data: &DataSpec, source: &Source) -> Result<Vec<String>> {
    let mut plan = ColumnPlan::from_spec(data);
    plan.label.clear();
    plan.weight = None;
    let table = read_table(source, &plan)?;
    if table.rows.is_empty() {
        return Err(DataError::in_file(
            DataErrorKind::Format,
            &source.path,
            "the `data.unlabelled` file holds no rows",
        ));
    }
    Ok(table
        .rows
        .into_iter()
        .map(|r| clean_text(&r.text, &data.clean))
        .collect())
}
