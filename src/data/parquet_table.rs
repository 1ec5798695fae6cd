//! Reading examples from Apache Parquet through the arrow reader.

use super::error::{DataError, DataErrorKind, Result};
use super::table::{ColumnPlan, Table};
use crate::spec::BadRows;
use arrow::array::{Array, ArrayRef, AsArray, LargeStringArray, StringArray, StringViewArray};
use arrow::datatypes::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use std::borrow::Cow;
use std::path::Path;

/// Rows per arrow batch while reading.
const BATCH_SIZE: usize = 8192;

/// Read a Parquet file. Text columns must be strings (utf8, large utf8 or utf8
/// view); the label may be a string, integer, float or boolean column (rendered
/// as text); the id must be an integer column. Other scalar columns (strings,
/// numbers, booleans) are kept as extras; nested columns are not read at all.
pub fn read_parquet(path: &Path, plan: &ColumnPlan) -> Result<Table> {
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let perr = |e: &dyn std::fmt::Display| {
        DataError::in_file(
            DataErrorKind::Format,
            path,
            format!("cannot read as Parquet: {e}"),
        )
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| perr(&e))?;
    let schema = builder.schema().clone();
    let mut header: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    plan.rename_header(&mut header);
    let types: Vec<DataType> = schema
        .fields()
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    let resolved = plan.resolve(&header, path, |i| is_scalar(&types[i]))?;
    let type_error = |i: usize, expected: &str| {
        DataError::in_file(
            DataErrorKind::Format,
            path,
            format!(
                "expected {expected}, found the Parquet/arrow type {}",
                types[i]
            ),
        )
        .at_column(header[i].clone())
    };
    for &t in &resolved.text {
        if !is_string(&types[t]) {
            return Err(type_error(t, "a text (utf8) column"));
        }
    }
    if let Some(label) = resolved.label {
        if !is_scalar(&types[label]) {
            return Err(type_error(label, "a string or numeric label column"));
        }
    }
    if let Some(i) = resolved.id {
        if !types[i].is_integer() {
            return Err(type_error(i, "an integer id column"));
        }
    }
    // Only the columns used are decoded (a projection), however wide the file.
    let wanted = resolved.used();
    let mask = ProjectionMask::roots(builder.parquet_schema(), wanted.iter().copied());
    let reader = builder
        .with_projection(mask)
        .with_batch_size(BATCH_SIZE)
        .build()
        .map_err(|e| perr(&e))?;
    let mut table = Table {
        columns: header.clone(),
        ..Table::default()
    };
    let mut index = 0usize;
    for batch in reader {
        let batch = batch.map_err(|e| perr(&e))?;
        // Projected columns keep the file's order: position in `wanted` = batch column.
        let mut cols: Vec<Option<Col>> = (0..header.len()).map(|_| None).collect();
        for (k, &i) in wanted.iter().enumerate() {
            cols[i] = Some(Col::new(batch.column(k).clone(), &types[i]).map_err(|e| perr(&e))?);
        }
        let mut cells: Vec<Cow<str>> = vec![Cow::Borrowed(""); header.len()];
        for r in 0..batch.num_rows() {
            for &i in &wanted {
                if let Some(c) = &cols[i] {
                    cells[i] = c.cell(r);
                }
            }
            let this = index;
            index += 1;
            let cell = |i: usize| cells.get(i).map(|c| c.as_ref()).unwrap_or("");
            match resolved.build_row(cell, this, &plan.separator) {
                Ok(row) => table.rows.push(row),
                Err(p) => {
                    let problem = DataError::in_file(
                        DataErrorKind::BadRow,
                        path,
                        format!("row {} (counting from 1): {}", this + 1, p.message),
                    )
                    .at_column(p.column);
                    match plan.on_bad_rows {
                        BadRows::Skip => table.skip(problem, 1),
                        BadRows::Error => return Err(problem),
                    }
                }
            }
        }
    }
    Ok(table)
}

/// utf8, large utf8 or utf8 view.
fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// Columns cheap to keep as text: strings, numbers, booleans.
fn is_scalar(t: &DataType) -> bool {
    is_string(t) || t.is_numeric() || matches!(t, DataType::Boolean)
}

/// One column of a batch, readable as text cells; nulls read as empty.
enum Col {
    Small(StringArray),
    Large(LargeStringArray),
    View(StringViewArray),
}

impl Col {
    /// Wrap a string column, or render a scalar column as utf8.
    fn new(a: ArrayRef, t: &DataType) -> std::result::Result<Col, arrow::error::ArrowError> {
        Ok(match t {
            DataType::Utf8 => Col::Small(a.as_string::<i32>().clone()),
            DataType::LargeUtf8 => Col::Large(a.as_string::<i64>().clone()),
            DataType::Utf8View => Col::View(a.as_string_view().clone()),
            _ => {
                let s = arrow::compute::cast(&a, &DataType::Utf8)?;
                Col::Small(s.as_string::<i32>().clone())
            }
        })
    }

    /// The cell at row `r`.
    fn cell(&self, r: usize) -> Cow<'_, str> {
        let v = match self {
            Col::Small(a) => (!a.is_null(r)).then(|| a.value(r)),
            Col::Large(a) => (!a.is_null(r)).then(|| a.value(r)),
            Col::View(a) => (!a.is_null(r)).then(|| a.value(r)),
        };
        Cow::Borrowed(v.unwrap_or(""))
    }
}
