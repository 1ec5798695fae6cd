//! Predictions for new texts with an experiment's trained model.
//!
//! [`Predictor::open`] runs the experiment through the cache (a fully cached
//! run only checks keys and reads a few small files; a missing model is
//! trained first), then loads the vocabulary, the model and the class names
//! from the stage artifacts. New texts are cleaned with the spec's
//! `data.clean` and encoded by [`encode_texts`], the same encoding the encode
//! stage applies to the splits.

use super::score::{format_rounded, round_into_range, PREDICTION_RANGE};
use super::stages::DataInfo;
use super::tables::{self, EncodedInputs};
use super::RunOptions;
use crate::data;
use crate::model::{Model, ModelInput};
use crate::spec::{Spec, TaskKind, VectorizeMode};
use crate::text::{self, Tokenizer};
use crate::train::{self, InputData, TaskInfo};
use anyhow::{bail, Context, Result};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

/// Rows per forward pass.
const BATCH: usize = crate::spec::EVALUATION_BATCH_SIZE;

/// Encode already-cleaned texts as model inputs, exactly as the encode stage
/// does for the splits.
///
/// `vocabulary` is the vocabulary stage's artifact folder. `vectorize.mode:
/// int`: Keras tokenizer sequences padded / truncated to `maxlen` (`None`: the
/// longest sequence among `texts`, at least 1, which is what the encode
/// stage uses on the training split when `sequence.maxlen` is unset). Bag-of-
/// n-gram modes: the fitted vectorizer's sparse rows.
pub fn encode_texts<T: AsRef<str> + Sync>(
    spec: &Spec,
    vocabulary: &Path,
    texts: &[T],
    maxlen: Option<usize>,
) -> Result<EncodedInputs> {
    match spec.vectorize.mode {
        VectorizeMode::Int => {
            let v = tables::read_vocabulary(&vocabulary.join("vocabulary.parquet"))?;
            let tok = Tokenizer::from_vocabulary(
                &spec.tokenizer,
                v.terms.into_iter().zip(v.counts).collect(),
            );
            let seqs = tok.texts_to_sequences(texts);
            let maxlen =
                maxlen.unwrap_or_else(|| seqs.iter().map(Vec::len).max().unwrap_or(1).max(1));
            let (ids, width) = text::pad_sequences(
                &seqs,
                Some(maxlen),
                spec.sequence.padding,
                spec.sequence.truncating,
                spec.sequence.value,
            );
            Ok(EncodedInputs::Tokens { ids, width })
        }
        _ => {
            let vectorizer = load_vectorizer(spec, vocabulary)?;
            let rows = vectorizer.transform_many(texts);
            Ok(EncodedInputs::Sparse {
                rows,
                width: vectorizer.num_features(),
            })
        }
    }
}

/// Name of the vectorizer's document count, stored beside its vocabulary.
pub const NUM_DOCS_FILE: &str = "num_docs.json";

/// Rebuild the fitted n-gram vectorizer from the vocabulary stage's artifact.
pub fn load_vectorizer(spec: &Spec, vocabulary: &Path) -> Result<crate::text::Vectorizer> {
    let v = tables::read_vocabulary(&vocabulary.join("vocabulary.parquet"))?;
    let num_docs: u64 = serde_json::from_slice(&std::fs::read(vocabulary.join(NUM_DOCS_FILE))?)?;
    let parts = crate::text::VectorizerParts {
        terms: v.terms,
        document_frequencies: v.counts,
        idf: v.weights.get("idf").cloned().unwrap_or_default(),
        nb_weights: v.weights.get("nb").cloned(),
        num_docs,
    };
    Ok(crate::text::Vectorizer::from_parts(&spec.vectorize, parts)?)
}

/// The input width stored with an encoded split (`width` in its Parquet
/// metadata), read without loading the rows.
pub fn encoded_width(path: &Path) -> Result<usize> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .with_context(|| format!("{} is not a readable Parquet file", path.display()))?;
    builder
        .schema()
        .metadata()
        .get("width")
        .and_then(|w| w.parse().ok())
        .with_context(|| format!("{} lacks its input width", path.display()))
}

/// Model inputs of encoded rows (sparse rows become dense feature rows).
pub fn input_data(inputs: EncodedInputs) -> InputData {
    match inputs {
        EncodedInputs::Tokens { ids, width } => InputData::Sequences { ids, width },
        EncodedInputs::Sparse { rows, width } => InputData::Sparse { rows, width },
    }
}

/// The prediction for one text.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TextPrediction {
    /// The predicted class, or for regression the rounded value (`7`).
    pub predicted: String,
    /// One probability per class in class order; empty for regression.
    pub probabilities: Vec<f32>,
    /// The raw model output (regression only).
    pub raw: Option<f64>,
}

/// An experiment's trained model, ready to predict new texts.
pub struct Predictor {
    spec: Spec,
    classes: Vec<String>,
    model: Model,
    task: TaskInfo,
    vocabulary: PathBuf,
    width: usize,
    range: Option<[f64; 2]>,
}

impl Predictor {
    /// Run (or reuse from the cache) the experiment in `spec_path` and load
    /// its model. Progress output is suppressed whatever `opts.quiet` says.
    pub fn open(spec_path: &Path, opts: &RunOptions) -> Result<Predictor> {
        let quiet = RunOptions {
            quiet: true,
            ..opts.clone()
        };
        let outcome = super::run(spec_path, &quiet)?;
        let (spec, _) = crate::spec::load_spec(spec_path)?;
        let artifact = |stage: &str| -> Result<&PathBuf> {
            outcome
                .artifacts
                .get(stage)
                .with_context(|| format!("the run left no `{stage}` artifact"))
        };
        let info_path = artifact("split")?.join("info.json");
        let info: DataInfo = serde_json::from_slice(
            &fs::read(&info_path)
                .with_context(|| format!("cannot read {}", info_path.display()))?,
        )
        .with_context(|| format!("{} is not valid", info_path.display()))?;
        let width = encoded_width(&artifact("encode")?.join("train.parquet"))?;
        let input = match spec.vectorize.mode {
            VectorizeMode::Int => ModelInput::Sequence { maxlen: width },
            _ => ModelInput::Features { width },
        };
        let model = Model::load(
            &spec.model.layers,
            &input,
            &artifact("train")?.join("model.safetensors"),
        )?;
        let range = match spec.task.kind {
            TaskKind::Regression => spec.task.range.or_else(|| {
                outcome
                    .metrics
                    .get(PREDICTION_RANGE)
                    .and_then(|v| serde_json::from_value::<[f64; 2]>(v.clone()).ok())
            }),
            _ => None,
        };
        Ok(Predictor {
            task: TaskInfo {
                kind: spec.task.kind,
                n_classes: info.classes.len(),
            },
            classes: info.classes,
            vocabulary: artifact("vocabulary")?.clone(),
            spec,
            model,
            width,
            range,
        })
    }

    /// Class names in output order (empty for regression).
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The task kind.
    pub fn kind(&self) -> TaskKind {
        self.task.kind
    }

    /// The resolved spec.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// Predict raw texts: cleaned as `data.clean` says, encoded like the
    /// training data, one prediction per text in order.
    pub fn predict<T: AsRef<str>>(&self, texts: &[T]) -> Result<Vec<TextPrediction>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let clean = self
            .spec
            .data
            .as_ref()
            .map(|d| d.clean.clone())
            .unwrap_or_default();
        let cleaned: Vec<String> = texts
            .iter()
            .map(|t| data::clean_text(t.as_ref(), &clean, &text::clean))
            .collect();
        let encoded = encode_texts(&self.spec, &self.vocabulary, &cleaned, Some(self.width))?;
        let rows = train::predict(
            &self.model,
            &input_data(encoded),
            &self.task,
            self.spec.train.loss.from_logits,
            BATCH,
        )?;
        rows.into_iter()
            .map(|p| self.interpret(p))
            .collect::<Result<_>>()
    }

    fn interpret(&self, p: Vec<f32>) -> Result<TextPrediction> {
        if self.task.kind == TaskKind::Regression {
            let raw = p.first().copied().context("the model gave no output")? as f64;
            return Ok(TextPrediction {
                predicted: format_rounded(round_into_range(raw, self.range)),
                probabilities: Vec::new(),
                raw: Some(raw),
            });
        }
        let best = p
            .iter()
            .enumerate()
            .fold(
                (0, f32::MIN),
                |acc, (k, &v)| if v > acc.1 { (k, v) } else { acc },
            )
            .0;
        let Some(name) = self.classes.get(best) else {
            bail!(
                "the model gave {} outputs but there are {} classes",
                p.len(),
                self.classes.len()
            );
        };
        Ok(TextPrediction {
            predicted: name.clone(),
            probabilities: p,
            raw: None,
        })
    }
}
