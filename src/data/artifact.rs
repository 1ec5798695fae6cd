//! Prepared examples as Parquet artifacts (zstd): columns `id` int64, `text`
//! utf8, `label` utf8, `target` float32 and `extra` utf8 holding a JSON object
//! of the extra columns (so any set of extras round-trips exactly).

use super::error::{DataError, DataErrorKind, Result};
use super::prepare::Item;
use arrow::array::{Array, AsArray, Float32Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Float32Type, Int64Type, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Rows per record batch when writing and reading. Small enough that a
/// batch's text buffer (about 1.3 KB a review) stays a few MB: large
/// temporary buffers are what the allocator is slow to hand back.
const CHUNK: usize = 2_048;

/// The artifact schema.
fn schema() -> Schema {
    Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("text", DataType::Utf8, false),
        Field::new("label", DataType::Utf8, false),
        Field::new("target", DataType::Float32, false),
        Field::new("extra", DataType::Utf8, false),
    ])
}

/// Write items to a Parquet file (zstd), replacing it if it exists.
pub fn write_items(path: &Path, items: &[Item]) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| DataError::io(path, e))?;
    let werr = |e: &dyn std::fmt::Display| {
        DataError::in_file(
            DataErrorKind::Io,
            path,
            format!("cannot write Parquet: {e}"),
        )
    };
    let schema = Arc::new(schema());
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build();
    let mut writer =
        ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| werr(&e))?;
    for chunk in items.chunks(CHUNK) {
        let id = Int64Array::from_iter_values(chunk.iter().map(|it| it.id));
        let text = StringArray::from_iter_values(chunk.iter().map(|it| it.text.as_str()));
        let label = StringArray::from_iter_values(chunk.iter().map(|it| it.label.as_str()));
        let target = Float32Array::from_iter_values(chunk.iter().map(|it| it.target));
        let extra = chunk
            .iter()
            .map(|it| serde_json::to_string(&it.extra))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| werr(&e))?;
        let extra = StringArray::from_iter_values(extra);
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(id),
                Arc::new(text),
                Arc::new(label),
                Arc::new(target),
                Arc::new(extra),
            ],
        )
        .map_err(|e| werr(&e))?;
        writer.write(&batch).map_err(|e| werr(&e))?;
    }
    writer.close().map_err(|e| werr(&e))?;
    Ok(())
}

/// Read items written by [`write_items`].
pub fn read_items(path: &Path) -> Result<Vec<Item>> {
    let mut items = Vec::new();
    read_item_chunks(path, |chunk| {
        if items.is_empty() {
            items = chunk;
        } else {
            items.extend(chunk);
        }
        Ok(())
    })?;
    Ok(items)
}

/// Read items written by [`write_items`] a chunk of at most 2,048 rows at a
/// time, handing each chunk to `each` before the next is decoded (the encode
/// stage streams a split this way instead of holding all its texts).
pub fn read_item_chunks(path: &Path, mut each: impl FnMut(Vec<Item>) -> Result<()>) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let rerr = |e: &dyn std::fmt::Display| {
        DataError::in_file(
            DataErrorKind::Format,
            path,
            format!("cannot read the items artifact: {e}"),
        )
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| rerr(&e))?;
    let expected = schema();
    for f in expected.fields() {
        match builder.schema().field_with_name(f.name()) {
            Ok(g) if g.data_type() == f.data_type() => {}
            _ => {
                return Err(rerr(&format!(
                    "expected a column `{}` of type {}; the file's columns are: {}",
                    f.name(),
                    f.data_type(),
                    builder
                        .schema()
                        .fields()
                        .iter()
                        .map(|g| format!("{} ({})", g.name(), g.data_type()))
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        }
    }
    let reader = builder
        .with_batch_size(CHUNK)
        .build()
        .map_err(|e| rerr(&e))?;
    let mut read = 0usize;
    for batch in reader {
        let batch = batch.map_err(|e| rerr(&e))?;
        let col = |name: &str| {
            batch
                .column_by_name(name)
                .ok_or_else(|| rerr(&format!("column `{name}` missing")))
        };
        let id = col("id")?.as_primitive::<Int64Type>().clone();
        let text = col("text")?.as_string::<i32>().clone();
        let label = col("label")?.as_string::<i32>().clone();
        let target = col("target")?.as_primitive::<Float32Type>().clone();
        let extra = col("extra")?.as_string::<i32>().clone();
        let mut items = Vec::with_capacity(batch.num_rows());
        for r in 0..batch.num_rows() {
            let row = read + r + 1;
            if id.is_null(r) || target.is_null(r) {
                return Err(rerr(&format!("row {row} has a null id or target")));
            }
            let extra: BTreeMap<String, String> = if extra.is_null(r) {
                BTreeMap::new()
            } else {
                serde_json::from_str(extra.value(r))
                    .map_err(|e| rerr(&format!("row {row}: extra: {e}")))?
            };
            items.push(Item {
                id: id.value(r),
                text: text.value(r).to_string(),
                label: label.value(r).to_string(),
                target: target.value(r),
                extra,
            });
        }
        read += items.len();
        drop((batch, id, text, label, target, extra));
        each(items)?;
    }
    Ok(())
}
