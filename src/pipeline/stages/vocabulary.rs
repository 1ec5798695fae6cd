//! vocabulary: fit the tokenizer (`vectorize.mode: int`) or the n-gram
//! vectorizer on the training split only; for `doc_vectors`, fit the n-gram
//! vocabulary and train the document-vector model on the training split plus
//! `data.unlabelled` (never the validation or test texts).

use crate::cache::{Artifact, StageKey};
use crate::data::Item;
use crate::data::Source;
use crate::pipeline::tables::{self, Vocabulary};
use crate::spec::{DataSpec, Spec, VectorizeMode};
use crate::text::doc_vectors::{output_table, DocVectorModel};
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
        // The trained vectors depend on the seed too.
        VectorizeMode::DocVectors => serde_json::json!({
            "vectorize": serde_json::to_value(&spec.vectorize)?,
            "seed": spec.seed,
        }),
        _ => serde_json::to_value(&spec.vectorize)?,
    })
}

/// The stage key: its settings, the split stage's key and, for document
/// vectors, the unlabelled file's content.
pub fn key(spec: &Spec, split: &StageKey, unlabelled: &Unlabelled) -> Result<StageKey> {
    let mut key = StageKey::build(NAME, &settings(spec)?).input(split);
    if spec.vectorize.mode == VectorizeMode::DocVectors {
        if let Some((_, blake3)) = unlabelled.source {
            key = key.file("unlabelled", blake3);
        }
    }
    Ok(key.finish())
}

/// `data.unlabelled`: its file and content hash (which keys this stage for
/// document vectors), read and cleaned only when the stage runs.
pub struct Unlabelled<'a> {
    data: &'a DataSpec,
    source: Option<&'a (Source, String)>,
}

impl<'a> Unlabelled<'a> {
    /// The unlabelled file of `data` with its blake3 hash, if it names one.
    pub fn new(data: &'a DataSpec, source: Option<&'a (Source, String)>) -> Unlabelled<'a> {
        Unlabelled { data, source }
    }

    /// The cleaned texts; none without `data.unlabelled`.
    pub fn texts(&self) -> Result<Vec<String>> {
        match self.source {
            Some((s, _)) => Ok(crate::data::read_unlabelled_texts(self.data, s)?),
            None => Ok(Vec::new()),
        }
    }
}

/// Fit on the training examples' texts (and, for document vectors, the
/// unlabelled texts) and write the vocabulary into `dir`.
pub fn compute(spec: &Spec, train: &[Item], unlabelled: &Unlabelled, dir: &Path) -> Result<()> {
    let out = VocabularyArtifact::at(dir);
    let texts: Vec<&str> = train.iter().map(|i| i.text.as_str()).collect();
    match spec.vectorize.mode {
        VectorizeMode::DocVectors => {
            let extra = unlabelled.texts()?;
            let all: Vec<&str> = texts
                .iter()
                .copied()
                .chain(extra.iter().map(String::as_str))
                .collect();
            let (v, docs) = text::Vectorizer::fit_term_sequences(&spec.vectorize, &all)?;
            drop(extra);
            let settings = spec.vectorize.doc_vectors;
            let (model, _) = DocVectorModel::train(&docs, v.num_features(), settings, spec.seed);
            drop(docs);
            tables::write_vocabulary(
                &out.vocabulary_parquet(),
                v.terms(),
                v.document_frequencies(),
                &[("idf", v.idf())],
            )?;
            fs::write(out.num_docs_json(), serde_json::to_vec(&v.num_docs())?)?;
            tables::write_term_outputs(
                &out.term_outputs_parquet(),
                model.counts(),
                model.outputs(),
                model.dim(),
            )
        }
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

    /// Document vectors: each term's occurrence count and output vector.
    pub fn term_outputs_parquet(&self) -> PathBuf {
        self.dir.join("term_outputs.parquet")
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

    /// The n-gram vocabulary and the trained document-vector model
    /// (`vectorize.mode: doc_vectors`).
    pub fn doc_vectors(&self, spec: &Spec) -> Result<(Vectorizer, DocVectorModel)> {
        let vectorizer = self.vectorizer(spec)?;
        let path = self.term_outputs_parquet();
        let (counts, values, dim) = tables::read_term_outputs(&path)?;
        let settings = spec.vectorize.doc_vectors;
        if dim != settings.dim || counts.len() != vectorizer.num_features() {
            anyhow::bail!(
                "{}: {} terms of {dim} dimensions, but the vocabulary has {} terms and the spec asks for {}",
                path.display(),
                counts.len(),
                vectorizer.num_features(),
                settings.dim
            );
        }
        // Copied into a huge-page table: inference reads its rows at random.
        let mut outputs = output_table(values.len());
        outputs.copy_from_slice(&values);
        drop(values);
        let model = DocVectorModel::from_parts(settings, spec.seed, outputs, &counts);
        Ok((vectorizer, model))
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
