//! encode: texts to model inputs (padded token sequences or sparse n-gram
//! rows) with the fitted vocabulary. [`TextEncoder::encode`] is the one
//! encoding, used on the splits here and on new texts by the predictor.

use super::split::SplitArtifact;
use super::vocabulary::VocabularyArtifact;
use super::Split;
use crate::cache::{Artifact, StageKey};
use crate::data::{self, Item};
use crate::model::ModelInput;
use crate::pipeline::tables::{self, Encoded, EncodedInputs, EncodedWriter};
use crate::spec::{SequenceSpec, Spec, VectorizeMode};
use crate::text;
use crate::text::doc_vectors::DocVectorModel;
use crate::train::{self, InputData};
use anyhow::{Context, Result};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rayon::prelude::*;
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
    /// Inferred document vectors (dense, stored as full sparse rows).
    DocVectors(text::Vectorizer, Box<DocVectorModel>),
}

impl TextEncoder {
    /// Load the encoder the spec's `vectorize.mode` uses from `vocabulary`.
    pub fn load(spec: &Spec, vocabulary: &VocabularyArtifact) -> Result<TextEncoder> {
        Ok(match spec.vectorize.mode {
            VectorizeMode::Int => TextEncoder::Tokenizer(vocabulary.tokenizer(spec)?),
            VectorizeMode::DocVectors => {
                let (vectorizer, model) = vocabulary.doc_vectors(spec)?;
                TextEncoder::DocVectors(vectorizer, Box::new(model))
            }
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
            TextEncoder::DocVectors(vectorizer, model) => {
                let docs: Vec<Vec<u32>> = texts
                    .par_iter()
                    .map(|t| vectorizer.term_sequence(t.as_ref()))
                    .collect();
                let dim = model.dim();
                let rows = model
                    .infer_many(&docs)
                    .chunks_exact(dim)
                    .map(|v| v.iter().enumerate().map(|(j, &x)| (j as u32, x)).collect())
                    .collect();
                EncodedInputs::Sparse { rows, width: dim }
            }
        }
    }
}

/// Encode the three splits into `dir`, streaming each split from the split
/// stage's Parquet a chunk at a time (only one chunk's texts and inputs are
/// in memory at once). The training split fixes the width (`sequence.maxlen`
/// unset: its longest sequence, found in a first pass over its texts).
pub fn compute(
    spec: &Spec,
    vocabulary: &VocabularyArtifact,
    splits: &SplitArtifact,
    dir: &Path,
) -> Result<()> {
    let out = EncodeArtifact::at(dir);
    let encoder = TextEncoder::load(spec, vocabulary)?;
    let (sparse, width) = match &encoder {
        TextEncoder::Vectorizer(v) => (true, v.num_features()),
        TextEncoder::DocVectors(_, model) => (true, model.dim()),
        TextEncoder::Tokenizer(t) => match spec.sequence.maxlen {
            Some(maxlen) => (false, maxlen),
            None => {
                let mut longest = 1;
                data::read_item_chunks(&splits.items_parquet(Split::Train), |chunk| {
                    longest = longest.max(t.longest_sequence(&texts(&chunk)));
                    Ok(())
                })?;
                (false, longest)
            }
        },
    };
    let maxlen = (!sparse).then_some(width);
    for split in [Split::Train, Split::Validation, Split::Test] {
        let mut writer = EncodedWriter::create(&out.encoded_parquet(split), sparse, width)?;
        let mut failed = None;
        data::read_item_chunks(&splits.items_parquet(split), |chunk| {
            let enc = Encoded {
                ids: chunk.iter().map(|i| i.id).collect(),
                targets: chunk.iter().map(|i| i.target).collect(),
                inputs: encoder.encode(spec, &texts(&chunk), maxlen),
            };
            // A write error is not a data error: carry it out of the reader.
            writer.write(&enc).map_err(|e| {
                failed = Some(e);
                data::DataError::new(data::DataErrorKind::Io, "cannot write the encoded split")
            })
        })
        .map_err(|e| failed.take().unwrap_or_else(|| e.into()))?;
        writer.finish()?;
    }
    Ok(())
}

/// The texts of `items`, borrowed.
fn texts(items: &[Item]) -> Vec<&str> {
    items.iter().map(|i| i.text.as_str()).collect()
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

/// An encoded split as a training / evaluation dataset (its inputs and
/// targets moved, not copied).
pub fn into_dataset(e: Encoded) -> train::Dataset {
    train::Dataset {
        inputs: input_data(e.inputs),
        targets: e.targets,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::parse_spec;

    fn item(id: i64, text: &str) -> Item {
        Item {
            id,
            text: text.to_string(),
            label: "a".to_string(),
            target: (id % 2) as f32,
            extra: Default::default(),
        }
    }

    /// The streamed stage gives what encoding each whole split at once gives,
    /// with the width of the longest training sequence when `maxlen` is unset.
    #[test]
    fn streamed_splits_equal_whole_split_encoding() {
        let (spec, _) = parse_spec(
            "name: t\ndata: {train: tr.csv, test: te.csv}\nmodel: {layers: [{embedding: {input_dim: 20, output_dim: 2}}, flatten, {dense: {units: 1}}]}\n",
            Path::new("t.yaml"),
        )
        .unwrap();
        assert_eq!(spec.sequence.maxlen, None);
        let dir = tempfile::tempdir().unwrap();
        let (split_dir, vocab_dir, out_dir) = (
            dir.path().join("s"),
            dir.path().join("v"),
            dir.path().join("e"),
        );
        for d in [&split_dir, &vocab_dir, &out_dir] {
            std::fs::create_dir(d).unwrap();
        }
        // More training rows than one read chunk, the longest one last.
        let mut train: Vec<Item> = (0..5000)
            .map(|i| {
                item(
                    i,
                    ["good film", "bad plot and bad acting", "fine"][i as usize % 3],
                )
            })
            .collect();
        train.push(item(
            5000,
            "good good good bad bad fine film plot acting and more",
        ));
        let test = vec![item(1, "unknown words good"), item(2, "")];
        let splits = SplitArtifact::at(&split_dir);
        data::write_items(&splits.items_parquet(Split::Train), &train).unwrap();
        data::write_items(&splits.items_parquet(Split::Validation), &[]).unwrap();
        data::write_items(&splits.items_parquet(Split::Test), &test).unwrap();
        let texts_of = |items: &[Item]| items.iter().map(|i| i.text.clone()).collect::<Vec<_>>();
        let tok = text::Tokenizer::fit(&spec.tokenizer, &texts_of(&train)).unwrap();
        let (terms, counts): (Vec<String>, Vec<u64>) = tok.vocabulary().iter().cloned().unzip();
        let vocab = VocabularyArtifact::at(&vocab_dir);
        tables::write_vocabulary(&vocab.vocabulary_parquet(), &terms, &counts, &[]).unwrap();

        compute(&spec, &vocab, &splits, &out_dir).unwrap();
        let out = EncodeArtifact::at(&out_dir);
        let encoder = TextEncoder::load(&spec, &vocab).unwrap();
        let whole_train = encoder.encode(&spec, &texts_of(&train), None);
        let EncodedInputs::Tokens { width, .. } = &whole_train else {
            panic!("token sequences expected")
        };
        assert_eq!(*width, 11);
        assert_eq!(out.width().unwrap(), 11);
        let got = out.read(Split::Train).unwrap();
        assert_eq!(got.inputs, whole_train);
        assert_eq!(got.ids, train.iter().map(|i| i.id).collect::<Vec<_>>());
        let got = out.read(Split::Test).unwrap();
        assert_eq!(
            got.inputs,
            encoder.encode(&spec, &texts_of(&test), Some(11))
        );
        assert_eq!(got.targets, vec![1.0, 0.0]);
        assert!(out.read(Split::Validation).unwrap().ids.is_empty());
    }
}
