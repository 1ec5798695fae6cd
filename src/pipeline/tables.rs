//! Parquet tables the stages exchange: encoded inputs, vocabularies,
//! predictions and training history.

use anyhow::{bail, Context, Result};
use arrow::array::{
    Array, ArrayRef, Float32Array, Float32Builder, Float64Array, Int64Array, ListArray,
    ListBuilder, RecordBatch, StringArray, UInt32Array, UInt32Builder, UInt64Array,
};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

/// Write one record batch as a zstd-compressed Parquet file.
pub fn write_batch(path: &Path, batch: &RecordBatch) -> Result<()> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
        .build();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props))?;
    writer.write(batch)?;
    writer.close()?;
    Ok(())
}

/// Read every batch of a Parquet file into one.
pub fn read_batch(path: &Path) -> Result<RecordBatch> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .with_context(|| format!("{} is not a readable Parquet file", path.display()))?;
    let schema = builder.schema().clone();
    let reader = builder.with_batch_size(65536).build()?;
    let batches: Vec<RecordBatch> = reader.collect::<std::result::Result<_, _>>()?;
    Ok(arrow::compute::concat_batches(&schema, &batches)?)
}

/// Typed access to a column of a batch.
pub fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> Result<&'a T> {
    let col = batch
        .column_by_name(name)
        .with_context(|| format!("column `{name}` missing"))?;
    match col.as_any().downcast_ref::<T>() {
        Some(c) => Ok(c),
        None => bail!("column `{name}` has unexpected type {}", col.data_type()),
    }
}

/// Model inputs and targets of one split.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    /// Example ids.
    pub ids: Vec<i64>,
    /// Targets (class index or number).
    pub targets: Vec<f32>,
    /// The inputs.
    pub inputs: EncodedInputs,
}

/// Encoded inputs: padded token rows or sparse feature rows.
#[derive(Debug, Clone, PartialEq)]
pub enum EncodedInputs {
    /// Row-major token ids, `width` per row.
    Tokens {
        /// Token ids.
        ids: Vec<u32>,
        /// Sequence length.
        width: usize,
    },
    /// Sparse rows of (feature index, value), `width` features in all.
    Sparse {
        /// One row per example.
        rows: Vec<Vec<(u32, f32)>>,
        /// Number of features.
        width: usize,
    },
}

fn list_u32(values: impl Iterator<Item = Vec<u32>>) -> ArrayRef {
    let mut b = ListBuilder::new(UInt32Builder::new());
    for row in values {
        b.values().append_slice(&row);
        b.append(true);
    }
    Arc::new(b.finish())
}

/// The Arrow type of a list-of-u32 column as [`list_u32`] builds it.
fn list_type(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new_list_field(item, true)))
}

/// Write an encoded split.
pub fn write_encoded(path: &Path, enc: &Encoded) -> Result<()> {
    let width = match &enc.inputs {
        EncodedInputs::Tokens { width, .. } | EncodedInputs::Sparse { width, .. } => *width,
    };
    let sparse = matches!(enc.inputs, EncodedInputs::Sparse { .. });
    let mut writer = EncodedWriter::create(path, sparse, width)?;
    writer.write(enc)?;
    writer.finish()
}

/// Writes an encoded split chunk by chunk (the encode stage streams the
/// splits, so no split's inputs are ever whole in memory twice).
pub struct EncodedWriter {
    writer: ArrowWriter<File>,
    schema: Arc<Schema>,
    width: usize,
}

impl EncodedWriter {
    /// Start `path`: token rows of `width` ids, or sparse rows over `width`
    /// features when `sparse`.
    pub fn create(path: &Path, sparse: bool, width: usize) -> Result<EncodedWriter> {
        let mut fields = vec![
            Field::new("id", DataType::Int64, false),
            Field::new("target", DataType::Float32, false),
        ];
        if sparse {
            fields.push(Field::new("indices", list_type(DataType::UInt32), false));
            fields.push(Field::new("values", list_type(DataType::Float32), false));
        } else {
            fields.push(Field::new("tokens", list_type(DataType::UInt32), false));
        }
        let mut meta = std::collections::HashMap::new();
        meta.insert("width".to_string(), width.to_string());
        let schema = Arc::new(Schema::new(fields).with_metadata(meta));
        let file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
            .build();
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(props))?;
        Ok(EncodedWriter {
            writer,
            schema,
            width,
        })
    }

    /// Append the rows of `enc` (same kind and width as the file).
    pub fn write(&mut self, enc: &Encoded) -> Result<()> {
        let mut cols: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(enc.ids.clone())),
            Arc::new(Float32Array::from(enc.targets.clone())),
        ];
        match &enc.inputs {
            EncodedInputs::Tokens { ids, width } => {
                if *width != self.width {
                    bail!(
                        "token rows of width {width} written to a file of width {}",
                        self.width
                    );
                }
                let rows = ids.chunks(*width.max(&1)).map(|c| c.to_vec());
                cols.push(list_u32(rows.take(enc.ids.len())));
            }
            EncodedInputs::Sparse { rows, .. } => {
                let idx = list_u32(rows.iter().map(|r| r.iter().map(|p| p.0).collect()));
                let mut vb = ListBuilder::new(Float32Builder::new());
                for r in rows {
                    for p in r {
                        vb.values().append_value(p.1);
                    }
                    vb.append(true);
                }
                cols.push(idx);
                cols.push(Arc::new(vb.finish()));
            }
        }
        let batch = RecordBatch::try_new(self.schema.clone(), cols)?;
        self.writer.write(&batch)?;
        Ok(())
    }

    /// Finish the file.
    pub fn finish(self) -> Result<()> {
        self.writer.close()?;
        Ok(())
    }
}

/// Read an encoded split written by [`write_encoded`] or [`EncodedWriter`],
/// a batch at a time into the flat vectors (no whole-file batch in between).
pub fn read_encoded(path: &Path) -> Result<Encoded> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .with_context(|| format!("{} is not a readable Parquet file", path.display()))?;
    let schema = builder.schema().clone();
    let width: usize = schema
        .metadata()
        .get("width")
        .and_then(|w| w.parse().ok())
        .context("encoded table lacks its width")?;
    let total = builder.metadata().file_metadata().num_rows().max(0) as usize;
    let tokens = schema.field_with_name("tokens").is_ok();
    let reader = builder.with_batch_size(8192).build()?;
    let mut ids = Vec::with_capacity(total);
    let mut targets = Vec::with_capacity(total);
    let mut flat = Vec::with_capacity(if tokens { total * width } else { 0 });
    let mut rows = Vec::with_capacity(if tokens { 0 } else { total });
    for batch in reader {
        let batch = batch?;
        ids.extend_from_slice(column::<Int64Array>(&batch, "id")?.values());
        targets.extend_from_slice(column::<Float32Array>(&batch, "target")?.values());
        if tokens {
            let list = column::<ListArray>(&batch, "tokens")?;
            let values = list
                .values()
                .as_any()
                .downcast_ref::<UInt32Array>()
                .context("tokens are not u32")?;
            for i in 0..list.len() {
                let (s, e) = (
                    list.value_offsets()[i] as usize,
                    list.value_offsets()[i + 1] as usize,
                );
                flat.extend_from_slice(&values.values()[s..e]);
            }
        } else {
            let idx = column::<ListArray>(&batch, "indices")?;
            let vals = column::<ListArray>(&batch, "values")?;
            let iv = idx
                .values()
                .as_any()
                .downcast_ref::<UInt32Array>()
                .context("indices are not u32")?;
            let vv = vals
                .values()
                .as_any()
                .downcast_ref::<Float32Array>()
                .context("values are not f32")?;
            rows.extend((0..idx.len()).map(|i| {
                let (s, e) = (
                    idx.value_offsets()[i] as usize,
                    idx.value_offsets()[i + 1] as usize,
                );
                (s..e)
                    .map(|j| (iv.value(j), vv.value(j)))
                    .collect::<Vec<_>>()
            }));
        }
    }
    let inputs = if tokens {
        EncodedInputs::Tokens { ids: flat, width }
    } else {
        EncodedInputs::Sparse { rows, width }
    };
    Ok(Encoded {
        ids,
        targets,
        inputs,
    })
}

/// Write a vocabulary: terms in index order with a count and optional weights.
pub fn write_vocabulary(
    path: &Path,
    terms: &[String],
    counts: &[u64],
    weights: &[(&str, &[f32])],
) -> Result<()> {
    let mut fields = vec![
        Field::new("term", DataType::Utf8, false),
        Field::new("count", DataType::UInt64, false),
    ];
    let mut cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(terms.iter())),
        Arc::new(UInt64Array::from(counts.to_vec())),
    ];
    for (name, w) in weights {
        fields.push(Field::new(*name, DataType::Float32, false));
        cols.push(Arc::new(Float32Array::from(w.to_vec())));
    }
    write_batch(
        path,
        &RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?,
    )
}

/// Write a document-vector model's per-term state: each term's occurrence
/// count in the training texts and its output vector (`outputs` is
/// `counts.len() × dim`, row-major), one row per term in vocabulary order.
pub fn write_term_outputs(path: &Path, counts: &[u64], outputs: &[f32], dim: usize) -> Result<()> {
    use arrow::array::FixedSizeListArray;
    if outputs.len() != counts.len() * dim {
        bail!(
            "{} output values for {} terms of {dim} dimensions",
            outputs.len(),
            counts.len()
        );
    }
    let item = Arc::new(Field::new("item", DataType::Float32, false));
    let vectors = FixedSizeListArray::try_new(
        item.clone(),
        dim as i32,
        Arc::new(Float32Array::from(outputs.to_vec())),
        None,
    )?;
    let schema = Schema::new(vec![
        Field::new("occurrences", DataType::UInt64, false),
        Field::new("output", DataType::FixedSizeList(item, dim as i32), false),
    ]);
    let cols: Vec<ArrayRef> = vec![
        Arc::new(UInt64Array::from(counts.to_vec())),
        Arc::new(vectors),
    ];
    write_batch(path, &RecordBatch::try_new(Arc::new(schema), cols)?)
}

/// Read what [`write_term_outputs`] wrote: (occurrence counts, outputs, dim).
pub fn read_term_outputs(path: &Path) -> Result<(Vec<u64>, Vec<f32>, usize)> {
    use arrow::array::{Array, FixedSizeListArray};
    let batch = read_batch(path)?;
    let counts = column::<UInt64Array>(&batch, "occurrences")?
        .values()
        .to_vec();
    let list = column::<FixedSizeListArray>(&batch, "output")?;
    let dim = list.value_length() as usize;
    let values = list
        .values()
        .as_any()
        .downcast_ref::<Float32Array>()
        .with_context(|| format!("{}: `output` does not hold f32 values", path.display()))?;
    if values.len() != counts.len() * dim || values.null_count() > 0 {
        bail!(
            "{}: {} output values for {} terms of {dim} dimensions",
            path.display(),
            values.len(),
            counts.len()
        );
    }
    Ok((counts, values.values().to_vec(), dim))
}

/// A vocabulary read back: terms, counts, named weight columns.
pub struct Vocabulary {
    /// Terms in index order.
    pub terms: Vec<String>,
    /// Count per term.
    pub counts: Vec<u64>,
    /// Extra f32 columns by name.
    pub weights: std::collections::BTreeMap<String, Vec<f32>>,
}

/// Read a vocabulary written by [`write_vocabulary`].
pub fn read_vocabulary(path: &Path) -> Result<Vocabulary> {
    let batch = read_batch(path)?;
    let terms = column::<StringArray>(&batch, "term")?
        .iter()
        .map(|t| t.unwrap_or_default().to_string())
        .collect();
    let counts = column::<UInt64Array>(&batch, "count")?.values().to_vec();
    let mut weights = std::collections::BTreeMap::new();
    for f in batch.schema().fields() {
        if f.data_type() == &DataType::Float32 {
            let c = column::<Float32Array>(&batch, f.name())?;
            weights.insert(f.name().clone(), c.values().to_vec());
        }
    }
    Ok(Vocabulary {
        terms,
        counts,
        weights,
    })
}

/// One test prediction.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Prediction {
    /// Example id.
    pub id: i64,
    /// True label (class name or number as text).
    pub true_label: String,
    /// Predicted label (class name, or the rounded number for regression).
    pub predicted_label: String,
    /// Probability of the predicted class (classification) or the raw prediction (regression).
    pub probability: f64,
    /// All class probabilities (empty for regression).
    pub probabilities: Vec<f32>,
}

/// Write predictions: id, true_label, predicted_label, probability, and `p_<class>`
/// columns; for regression (`classes` empty) a `raw` column instead.
pub fn write_predictions(path: &Path, preds: &[Prediction], classes: &[String]) -> Result<()> {
    let mut fields = vec![
        Field::new("id", DataType::Int64, false),
        Field::new("true_label", DataType::Utf8, false),
        Field::new("predicted_label", DataType::Utf8, false),
        Field::new("probability", DataType::Float64, false),
    ];
    let mut cols: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(preds.iter().map(|p| p.id))),
        Arc::new(StringArray::from_iter_values(
            preds.iter().map(|p| &p.true_label),
        )),
        Arc::new(StringArray::from_iter_values(
            preds.iter().map(|p| &p.predicted_label),
        )),
        Arc::new(Float64Array::from_iter_values(
            preds.iter().map(|p| p.probability),
        )),
    ];
    // Regression (no classes): the raw value beside the rounded `predicted_label`.
    if classes.is_empty() {
        fields.push(Field::new("raw", DataType::Float64, false));
        cols.push(Arc::new(Float64Array::from_iter_values(
            preds.iter().map(|p| p.probability),
        )));
    }
    for (k, class) in classes.iter().enumerate() {
        if preds.iter().any(|p| p.probabilities.len() != classes.len()) {
            break;
        }
        fields.push(Field::new(format!("p_{class}"), DataType::Float32, false));
        cols.push(Arc::new(Float32Array::from_iter_values(
            preds.iter().map(|p| p.probabilities[k]),
        )));
    }
    write_batch(
        path,
        &RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?,
    )
}

/// Read predictions written by [`write_predictions`].
pub fn read_predictions(path: &Path) -> Result<Vec<Prediction>> {
    let batch = read_batch(path)?;
    let ids = column::<Int64Array>(&batch, "id")?;
    let truth = column::<StringArray>(&batch, "true_label")?;
    let pred = column::<StringArray>(&batch, "predicted_label")?;
    let prob = column::<Float64Array>(&batch, "probability")?;
    let class_cols: Vec<&Float32Array> = batch
        .schema()
        .fields()
        .iter()
        .filter(|f| f.name().starts_with("p_"))
        .map(|f| column::<Float32Array>(&batch, f.name()))
        .collect::<Result<_>>()?;
    Ok((0..batch.num_rows())
        .map(|i| Prediction {
            id: ids.value(i),
            true_label: truth.value(i).to_string(),
            predicted_label: pred.value(i).to_string(),
            probability: prob.value(i),
            probabilities: class_cols.iter().map(|c| c.value(i)).collect(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.parquet");
        let tokens = Encoded {
            ids: vec![3, 9],
            targets: vec![1.0, 0.0],
            inputs: EncodedInputs::Tokens {
                ids: vec![0, 1, 2, 5, 6, 7],
                width: 3,
            },
        };
        write_encoded(&p, &tokens).unwrap();
        assert_eq!(read_encoded(&p).unwrap(), tokens);
        let sparse = Encoded {
            ids: vec![1, 2],
            targets: vec![0.0, 1.0],
            inputs: EncodedInputs::Sparse {
                rows: vec![vec![(0, 1.0), (4, 2.5)], vec![]],
                width: 10,
            },
        };
        write_encoded(&p, &sparse).unwrap();
        assert_eq!(read_encoded(&p).unwrap(), sparse);
    }

    #[test]
    fn encoded_written_in_chunks_reads_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.parquet");
        let chunk = |ids: Vec<i64>, tokens: Vec<u32>| Encoded {
            targets: ids.iter().map(|&i| i as f32).collect(),
            ids,
            inputs: EncodedInputs::Tokens {
                ids: tokens,
                width: 2,
            },
        };
        let mut w = EncodedWriter::create(&p, false, 2).unwrap();
        w.write(&chunk(vec![1, 2], vec![0, 1, 2, 3])).unwrap();
        w.write(&chunk(vec![], vec![])).unwrap();
        w.write(&chunk(vec![3], vec![4, 5])).unwrap();
        let wrong = Encoded {
            inputs: EncodedInputs::Tokens {
                ids: vec![1, 2, 3],
                width: 3,
            },
            ..chunk(vec![4], vec![])
        };
        assert!(
            w.write(&wrong).is_err(),
            "a chunk of another width is refused"
        );
        w.finish().unwrap();
        assert_eq!(
            read_encoded(&p).unwrap(),
            chunk(vec![1, 2, 3], vec![0, 1, 2, 3, 4, 5])
        );
        // A split with no rows keeps its width.
        EncodedWriter::create(&p, false, 7)
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!(
            read_encoded(&p).unwrap(),
            chunk(vec![], vec![]).with_width(7)
        );
    }

    impl Encoded {
        fn with_width(mut self, w: usize) -> Encoded {
            if let EncodedInputs::Tokens { width, .. } = &mut self.inputs {
                *width = w;
            }
            self
        }
    }

    #[test]
    fn vocabulary_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.parquet");
        let terms = vec!["the".to_string(), "a b".to_string()];
        write_vocabulary(&p, &terms, &[5, 2], &[("idf", &[0.5, 1.5])]).unwrap();
        let v = read_vocabulary(&p).unwrap();
        assert_eq!(v.terms, terms);
        assert_eq!(v.counts, vec![5, 2]);
        assert_eq!(v.weights["idf"], vec![0.5, 1.5]);
    }
}
