//! encode: texts to model inputs (padded token sequences or sparse n-gram
//! rows) with the fitted vocabulary. [`TextEncoder::encode`] is the one
//! encoding, used on the splits here and on new texts by the predictor.

use super::vocabulary::VocabularyArtifact;
use super::Split;
use crate::cache::{Artifact, StageKey};
use crate::data::{Item, Prepared};
use crate::model::ModelInput;
use crate::pipeline::tables::{self, Encoded, EncodedInputs};
use crate::spec::{SequenceSpec, Spec, VectorizeMode};
use crate::text;
use crate::train::{self, InputData};
use anyhow::{Context, Result};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::Serialize;
use std::fs::File;
use std::path::{Path, PathBuf};

/// Stage name, the first part of its cache folder.
pub const NAME: &str = "encode";

/// The settings the encoding depends on, serialised as a JSON array
/// `[sequence, vectorize.mode]` (the stage key's settings bytes).
#[derive(Serialize)]
pub struct EncodeSettings<'a>(
    /// `sequence`.
    pub &'a SequenceSpec,
    /// `vectorize.mode`.
    pub VectorizeMode,
);

/// The stage key: its settings, the vocabulary's and the split's keys.
pub fn key(spec: &Spec, vocabulary: &StageKey, split: &StageKey) -> StageKey {
    StageKey::build(NAME, &EncodeSettings(&spec.sequence, spec.vectorize.mode))
        .input(vocabulary)
        .input(split)
        .finish()
}

/// The fitted vocabulary loaded for encoding: the Keras tokenizer
/// (`vectorize.mode: int`) or the n-gram vectorizer. Loading reads the
/// vocabulary stage's files, so a caller encoding many batches (the
/// predictor, `kerros serve`) loads it once.
pub enum TextEncoder {
    /// Token sequences.
    Tokenizer(text::Tokenizer),
    /// Sparse n-gram rows.
    Vectorizer(text::Vectorizer),
}

impl TextEncoder {
    /// Load the encoder the spec's `vectorize.mode` uses from `vocabulary`.
    pub fn load(spec: &Spec, vocabulary: &VocabularyArtifact) -> Result<TextEncoder> {
        Ok(match spec.vectorize.mode {
            VectorizeMode::Int => TextEncoder::Tokenizer(vocabulary.tokenizer(spec)?),
            _ => TextEncoder::Vectorizer(vocabulary.vectorizer(spec)?),
        })
    }

    /// Encode already-cleaned texts as model inputs, exactly as the encode
    /// stage does for the splits.
    ///
    /// Token sequences are padded / truncated to `maxlen` (`None`: the
    /// longest sequence among `texts`, at least 1, which is what the encode
    /// stage uses on the training split when `sequence.maxlen` is unset).
    /// Bag-of-n-gram modes give the fitted vectorizer's sparse rows.
    pub fn encode<T: AsRef<str> + Sync>(
        &self,
        spec: &Spec,
        texts: &[T],
        maxlen: Option<usize>,
    ) -> EncodedInputs {
        match self {
            TextEncoder::Tokenizer(tokenizer) => {
                let seqs = tokenizer.texts_to_sequences(texts);
                let maxlen =
                    maxlen.unwrap_or_else(|| seqs.iter().map(Vec::len).max().unwrap_or(1).max(1));
                let (ids, width) = text::pad_sequences(
                    &seqs,
                    Some(maxlen),
                    spec.sequence.padding,
                    spec.sequence.truncating,
                    spec.sequence.value,
                );
                EncodedInputs::Tokens { ids, width }
            }
            TextEncoder::Vectorizer(vectorizer) => EncodedInputs::Sparse {
                rows: vectorizer.transform_many(texts),
                width: vectorizer.num_features(),
            },
        }
    }
}

/// Encode the three splits into `dir`. The training split fixes the width
/// (`sequence.maxlen` unset: its longest sequence).
pub fn compute(
    spec: &Spec,
    vocabulary: &VocabularyArtifact,
    prepared: &Prepared,
    dir: &Path,
) -> Result<()> {
    let out = EncodeArtifact::at(dir);
    let encoder = TextEncoder::load(spec, vocabulary)?;
    // Borrow the texts: no copy of every split's strings.
    fn texts(items: &[Item]) -> Vec<&str> {
        items.iter().map(|i| i.text.as_str()).collect()
    }
    let train_inputs = encoder.encode(spec, &texts(&prepared.train), spec.sequence.maxlen);
    let maxlen = match &train_inputs {
        EncodedInputs::Tokens { width, .. } => Some(*width),
        EncodedInputs::Sparse { .. } => None,
    };
    let mut train_inputs = Some(train_inputs);
    for (split, items) in [
        (Split::Train, &prepared.train),
        (Split::Validation, &prepared.validation),
        (Split::Test, &prepared.test),
    ] {
        let inputs = match train_inputs.take() {
            Some(t) => t,
            None => encoder.encode(spec, &texts(items), maxlen),
        };
        let enc = Encoded {
            ids: items.iter().map(|i| i.id).collect(),
            targets: items.iter().map(|i| i.target).collect(),
            inputs,
        };
        tables::write_encoded(&out.encoded_parquet(split), &enc)?;
    }
    Ok(())
}

/// The model input an encoded split feeds.
pub fn model_input(e: &Encoded) -> ModelInput {
    match &e.inputs {
        EncodedInputs::Tokens { width, .. } => ModelInput::Sequence { maxlen: *width },
        EncodedInputs::Sparse { width, .. } => ModelInput::Features { width: *width },
    }
}

/// Model inputs of encoded rows.
pub fn input_data(inputs: EncodedInputs) -> InputData {
    match inputs {
        EncodedInputs::Tokens { ids, width } => InputData::Sequences { ids, width },
        EncodedInputs::Sparse { rows, width } => InputData::Sparse { rows, width },
    }
}

/// An encoded split as a training / evaluation dataset.
pub fn to_dataset(e: &Encoded) -> train::Dataset {
    train::Dataset {
        inputs: input_data(e.inputs.clone()),
        targets: e.targets.clone(),
    }
}

/// The encode stage's artifact folder.
#[derive(Debug, Clone)]
pub struct EncodeArtifact {
    dir: PathBuf,
}

impl EncodeArtifact {
    /// The artifact in folder `dir`.
    pub fn at(dir: &Path) -> EncodeArtifact {
        EncodeArtifact {
            dir: dir.to_path_buf(),
        }
    }

    /// The artifact the runner returned.
    pub fn from_artifact(a: &Artifact) -> EncodeArtifact {
        EncodeArtifact::at(&a.dir)
    }

    /// One split's ids, targets and inputs.
    pub fn encoded_parquet(&self, split: Split) -> PathBuf {
        self.dir.join(format!("{}.parquet", split.name()))
    }

    /// One encoded split.
    pub fn read(&self, split: Split) -> Result<Encoded> {
        tables::read_encoded(&self.encoded_parquet(split))
    }

    /// The input width (`width` in the training split's Parquet metadata),
    /// read without loading the rows.
    pub fn width(&self) -> Result<usize> {
        let path = self.encoded_parquet(Split::Train);
        let file = File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)
            .with_context(|| format!("{} is not a readable Parquet file", path.display()))?;
        builder
            .schema()
            .metadata()
            .get("width")
            .and_then(|w| w.parse().ok())
            .with_context(|| format!("{} lacks its input width", path.display()))
    }
}
