//! vocabulary: fit the tokenizer (`vectorize.mode: int`) or the n-gram
//! vectorizer on the training split only.

use crate::cache::{Artifact, StageKey};
use crate::data::Item;
use crate::pipeline::tables::{self, Vocabulary};
use crate::spec::{Spec, VectorizeMode};
use crate::text::{self, Tokenizer, Vectorizer, VectorizerParts};
use anyhow::{Context, Result};
use std::fs;
use std::path::{Path, PathBuf};

/// Stage name, the first part of its cache folder.
pub const NAME: &str = "vocabulary";

/// The settings the vocabulary depends on: `tokenizer` for token sequences,
/// `vectorize` for the bag-of-n-gram modes.
pub fn settings(spec: &Spec) -> Result<serde_json::Value> {
    Ok(match spec.vectorize.mode {
        VectorizeMode::Int => serde_json::to_value(&spec.tokenizer)?,
        _ => serde_json::to_value(&spec.vectorize)?,
    })
}

/// The stage key: its settings and the split stage's key.
pub fn key(spec: &Spec, split: &StageKey) -> Result<StageKey> {
    Ok(StageKey::build(NAME, &settings(spec)?)
        .input(split)
        .finish())
}

/// Fit on the training examples' texts and write the vocabulary into `dir`.
pub fn compute(spec: &Spec, train: &[Item], dir: &Path) -> Result<()> {
    let out = VocabularyArtifact::at(dir);
    let texts: Vec<&str> = train.iter().map(|i| i.text.as_str()).collect();
    match spec.vectorize.mode {
        VectorizeMode::Int => {
            let tok = Tokenizer::fit(&spec.tokenizer, &texts)?;
            let (terms, counts): (Vec<String>, Vec<u64>) = tok.vocabulary().iter().cloned().unzip();
            tables::write_vocabulary(&out.vocabulary_parquet(), &terms, &counts, &[])
        }
        _ => {
            let targets: Vec<f32> = train.iter().map(|i| i.target).collect();
            let nb = spec.vectorize.nb_weighting.then_some(targets.as_slice());
            let v = text::Vectorizer::fit(&spec.vectorize, &texts, nb)?;
            let mut weights: Vec<(&str, &[f32])> = vec![("idf", v.idf())];
            if let Some(nb) = v.nb_weights() {
                weights.push(("nb", nb));
            }
            tables::write_vocabulary(
                &out.vocabulary_parquet(),
                v.terms(),
                v.document_frequencies(),
                &weights,
            )?;
            fs::write(out.num_docs_json(), serde_json::to_vec(&v.num_docs())?)?;
            Ok(())
        }
    }
}

/// The vocabulary stage's artifact folder.
#[derive(Debug, Clone)]
pub struct VocabularyArtifact {
    dir: PathBuf,
}

impl VocabularyArtifact {
    /// The artifact in folder `dir`.
    pub fn at(dir: &Path) -> VocabularyArtifact {
        VocabularyArtifact {
            dir: dir.to_path_buf(),
        }
    }

    /// The artifact the runner returned.
    pub fn from_artifact(a: &Artifact) -> VocabularyArtifact {
        VocabularyArtifact::at(&a.dir)
    }

    /// Terms with their counts (and idf / NB weights for the n-gram modes).
    pub fn vocabulary_parquet(&self) -> PathBuf {
        self.dir.join("vocabulary.parquet")
    }

    /// The n-gram vectorizer's document count (n-gram modes only).
    pub fn num_docs_json(&self) -> PathBuf {
        self.dir.join("num_docs.json")
    }

    /// The vocabulary table.
    pub fn read(&self) -> Result<Vocabulary> {
        tables::read_vocabulary(&self.vocabulary_parquet())
    }

    /// The fitted Keras tokenizer (`vectorize.mode: int`).
    pub fn tokenizer(&self, spec: &Spec) -> Result<Tokenizer> {
        let v = self.read()?;
        Ok(Tokenizer::from_vocabulary(
            &spec.tokenizer,
            v.terms.into_iter().zip(v.counts).collect(),
        ))
    }

    /// The fitted n-gram vectorizer (the bag-of-n-gram modes).
    pub fn vectorizer(&self, spec: &Spec) -> Result<Vectorizer> {
        let v = self.read()?;
        let path = self.num_docs_json();
        let bytes = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let num_docs: u64 = serde_json::from_slice(&bytes)?;
        let parts = VectorizerParts {
            terms: v.terms,
            document_frequencies: v.counts,
            idf: v.weights.get("idf").cloned().unwrap_or_default(),
            nb_weights: v.weights.get("nb").cloned(),
            num_docs,
        };
        Ok(Vectorizer::from_parts(&spec.vectorize, parts)?)
    }

    /// The words behind token ids for a pretrained embedding: id k+1 is the
    /// k-th vocabulary word, id 1 the OOV token when one is set.
    pub fn embedding_words(&self, spec: &Spec) -> Result<Vec<String>> {
        let mut words: Vec<String> = spec.tokenizer.oov_token.iter().cloned().collect();
        if spec.vectorize.mode == VectorizeMode::Int {
            words.extend(self.read()?.terms);
        }
        Ok(words)
    }
}
