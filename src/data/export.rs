//! The splits a run uses, written as plain files (`kerros data split`) so a
//! peer tool can be run on identical train / validation / test parts.

use super::error::{DataError, DataErrorKind, Result};
use super::prepare::Item;
use arrow::array::{Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The file format of exported splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Comma-separated with a header row `id,text,label`.
    Csv,
    /// Parquet with columns `id` int64, `text` and `label` utf8.
    Parquet,
}

impl ExportFormat {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Parquet => "parquet",
        }
    }
}

/// Write `items` to `path` in `format` (columns id, text, label), under a
/// temporary name renamed into place, so a half-written file never carries
/// the final name.
pub fn export_items(path: &Path, items: &[Item], format: ExportFormat) -> Result<()> {
    let tmp = temporary_name(path);
    let written = match format {
        ExportFormat::Csv => write_csv(&tmp, items),
        ExportFormat::Parquet => write_parquet(&tmp, items),
    };
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    fs::rename(&tmp, path).map_err(|e| DataError::io(path, e))
}

fn temporary_name(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{}.partial", name.unwrap_or_default()))
}

fn write_csv(path: &Path, items: &[Item]) -> Result<()> {
    let err = |e: csv::Error| {
        DataError::in_file(DataErrorKind::Io, path, format!("cannot write CSV: {e}"))
    };
    let mut w = csv::Writer::from_path(path).map_err(err)?;
    w.write_record(["id", "text", "label"]).map_err(err)?;
    for it in items {
        w.write_record([it.id.to_string().as_str(), &it.text, &it.label])
            .map_err(err)?;
    }
    w.flush().map_err(|e| DataError::io(path, e))
}

fn write_parquet(path: &Path, items: &[Item]) -> Result<()> {
    let werr = |e: &dyn std::fmt::Display| {
        DataError::in_file(
            DataErrorKind::Io,
            path,
            format!("cannot write Parquet: {e}"),
        )
    };
    let file = fs::File::create(path).map_err(|e| DataError::io(path, e))?;
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("text", DataType::Utf8, false),
        Field::new("label", DataType::Utf8, false),
    ]));
    let mut writer = ArrowWriter::try_new(file, schema.clone(), None).map_err(|e| werr(&e))?;
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from_iter_values(items.iter().map(|it| it.id))),
            Arc::new(StringArray::from_iter_values(
                items.iter().map(|it| it.text.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                items.iter().map(|it| it.label.as_str()),
            )),
        ],
    )
    .map_err(|e| werr(&e))?;
    writer.write(&batch).map_err(|e| werr(&e))?;
    writer.close().map_err(|e| werr(&e))?;
    Ok(())
}
