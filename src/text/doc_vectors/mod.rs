//! Document vectors learnt without labels: PV-DBOW (Le & Mikolov 2014), each
//! document's vector trained to predict the n-grams it contains (DV-ngram,
//! Li et al. 2016), with word2vec's negative sampling and frequent-term
//! subsampling, as gensim's `Doc2Vec(dm=0)` does.
//!
//! Why: it is how the 50,000 unlabelled IMDB reviews can help a classifier.
//! The output vectors are fitted on the training texts plus unlabelled ones;
//! a new text's vector is then *inferred* (its own vector fitted with the
//! output vectors frozen), so nothing of a validation or test text is fitted
//! into the shared model.
//!
//! Determinism: training runs on one thread in a fixed order with a seeded
//! generator ([`rng::XorShift`]); inference seeds each text's generator from
//! the spec's seed and the text's term ids, so a text gets the same vector
//! whatever batch it is in and however many threads infer it.

mod alias;
mod kernels;
mod rng;

use alias::AliasTable;
use rayon::prelude::*;
use rng::XorShift;
use serde::{Deserialize, Serialize};

/// Training settings (`vectorize.doc_vectors` in a spec).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DocVectorSettings {
    /// Length of each document vector.
    pub dim: usize,
    /// Passes over the training documents; also the passes of an inference.
    pub epochs: usize,
    /// Noise terms drawn per predicted term.
    pub negative: usize,
    /// Learning rate at the start, decayed linearly to `min_learning_rate`.
    pub learning_rate: f64,
    /// Learning rate at the end.
    pub min_learning_rate: f64,
    /// Subsampling threshold: a term making up a fraction `f` of all term
    /// occurrences is kept with probability `(sqrt(f/sample) + 1)·sample/f`
    /// (word2vec's formula); 0 keeps every occurrence.
    pub sample: f64,
}

impl Default for DocVectorSettings {
    fn default() -> Self {
        DocVectorSettings {
            dim: 100,
            epochs: 10,
            negative: 5,
            learning_rate: 0.05,
            min_learning_rate: 0.0001,
            sample: 1e-4,
        }
    }
}

/// A trained PV-DBOW model: the output vector of each term and what
/// inference needs to draw noise and subsample as training did.
#[derive(Debug, Clone)]
pub struct DocVectorModel {
    /// `num_terms × dim`, row-major.
    outputs: Vec<f32>,
    sampler: Sampler,
    seed: u64,
    counts: Vec<u64>,
}

/// Per-term keep probabilities and the noise table, from occurrence counts.
fn sampling(counts: &[u64], sample: f64) -> (Vec<f32>, AliasTable) {
    let total: u64 = counts.iter().sum();
    let keep = counts
        .iter()
        .map(|&c| {
            if sample <= 0.0 || c == 0 {
                return 1.0;
            }
            let threshold = sample * total as f64;
            (((c as f64 / threshold).sqrt() + 1.0) * threshold / c as f64).min(1.0) as f32
        })
        .collect();
    let weights: Vec<f64> = counts.iter().map(|&c| (c as f64).powf(0.75)).collect();
    let noise = if weights.iter().any(|&w| w > 0.0) {
        AliasTable::new(&weights)
    } else {
        AliasTable::new(&vec![1.0; counts.len().max(1)])
    };
    (keep, noise)
}

/// A zeroed table of `len` floats for the output vectors, backed by huge
/// pages where Linux allows them: the rows a pass reads are random over
/// hundreds of megabytes, and with 4 KiB pages nearly every read also misses
/// the TLB. Asked before the first write, so the pages are huge from the start.
pub fn output_table(len: usize) -> Vec<f32> {
    let mut table = vec![0.0f32; len];
    #[cfg(target_os = "linux")]
    if len > 0 {
        // madvise wants a page-aligned start: skip the allocation's first
        // partial page (its header sits before the data).
        let start = table.as_mut_ptr() as usize;
        let end = start + len * std::mem::size_of::<f32>();
        let aligned = (start + 4095) & !4095;
        if aligned < end {
            // SAFETY: the range lies inside the vector's own allocation;
            // MADV_HUGEPAGE only changes how the kernel backs it (a failure
            // leaves 4 KiB pages).
            unsafe {
                libc::madvise(
                    aligned as *mut libc::c_void,
                    end - aligned,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }
    table
}

/// A document's generator: the spec's seed mixed with its term ids (FNV-1a).
fn doc_seed(seed: u64, terms: &[u32]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for &t in terms {
        h ^= t as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    seed ^ h
}

/// A fresh document vector, uniform in ±0.5/dim as word2vec starts its vectors.
fn initial_vector(rng: &mut XorShift, dim: usize) -> Vec<f32> {
    (0..dim)
        .map(|_| (rng.next_f32() - 0.5) / dim as f32)
        .collect()
}

impl DocVectorModel {
    /// Train on `docs` (each a document's term ids in text order, terms in
    /// `0..num_terms`). Returns the model and the trained vectors of `docs`,
    /// `docs.len() × dim` row-major.
    pub fn train(
        docs: &[Vec<u32>],
        num_terms: usize,
        settings: DocVectorSettings,
        seed: u64,
    ) -> (DocVectorModel, Vec<f32>) {
        let mut counts = vec![0u64; num_terms];
        for d in docs {
            for &t in d {
                counts[t as usize] += 1;
            }
        }
        let dim = settings.dim;
        let mut model =
            DocVectorModel::from_parts(settings, seed, output_table(num_terms * dim), &counts);
        let mut rng = XorShift::new(seed);
        let mut vectors: Vec<f32> = Vec::with_capacity(docs.len() * dim);
        for _ in docs {
            vectors.extend(initial_vector(&mut rng, dim));
        }
        let total = (settings.epochs as u64 * counts.iter().sum::<u64>()).max(1) as f64;
        let (outputs, sampler) = (&mut model.outputs, &model.sampler);
        pulp::Arch::new().dispatch(kernels::Train {
            docs,
            vectors: &mut vectors,
            outputs,
            sampler,
            rng: &mut rng,
            total,
        });
        (model, vectors)
    }

    /// A model from its stored parts: the settings and seed it was trained
    /// with, its output vectors and each term's occurrence count in the
    /// training documents.
    pub fn from_parts(
        settings: DocVectorSettings,
        seed: u64,
        outputs: Vec<f32>,
        counts: &[u64],
    ) -> DocVectorModel {
        let (keep, noise) = sampling(counts, settings.sample);
        DocVectorModel {
            outputs,
            sampler: Sampler {
                settings,
                keep,
                noise,
            },
            seed,
            counts: counts.to_vec(),
        }
    }

    /// The vector of a new document (term ids in text order): its own vector
    /// fitted for `epochs` passes with the output vectors frozen.
    pub fn infer(&self, doc: &[u32]) -> Vec<f32> {
        let mut rng = XorShift::new(doc_seed(self.seed, doc));
        let mut vector = initial_vector(&mut rng, self.dim());
        pulp::Arch::new().dispatch(kernels::Infer {
            doc,
            vector: &mut vector,
            outputs: &self.outputs,
            sampler: &self.sampler,
            rng: &mut rng,
        });
        vector
    }

    /// [`DocVectorModel::infer`] for many documents, in parallel, row-major.
    pub fn infer_many(&self, docs: &[Vec<u32>]) -> Vec<f32> {
        docs.par_iter().flat_map_iter(|d| self.infer(d)).collect()
    }

    /// Length of a document vector.
    pub fn dim(&self) -> usize {
        self.sampler.settings.dim
    }

    /// The settings it was trained with.
    pub fn settings(&self) -> &DocVectorSettings {
        &self.sampler.settings
    }

    /// The output vectors, `num_terms × dim` row-major (what is stored).
    pub fn outputs(&self) -> &[f32] {
        &self.outputs
    }

    /// Each term's occurrence count in the training documents (what is stored).
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }
}

/// What decides which occurrences are trained and against which noise terms.
#[derive(Debug, Clone)]
pub(crate) struct Sampler {
    settings: DocVectorSettings,
    /// Probability of keeping one occurrence of each term.
    keep: Vec<f32>,
    noise: AliasTable,
}

impl Sampler {
    /// Whether to train this occurrence of `term` (subsampling).
    #[inline(always)]
    fn keeps(&self, term: u32, rng: &mut XorShift) -> bool {
        let keep = self.keep[term as usize];
        keep >= 1.0 || rng.next_f32() < keep
    }

    /// One noise term.
    #[inline(always)]
    fn noise_term(&self, rng: &mut XorShift) -> u32 {
        self.noise.sample(rng.next_u64())
    }
}

/// The logistic function, saturated beyond ±6 as word2vec's table is.
#[inline]
fn sigmoid(x: f32) -> f32 {
    if x >= 6.0 {
        1.0
    } else if x <= -6.0 {
        0.0
    } else {
        1.0 / (1.0 + (-x).exp())
    }
}

#[cfg(test)]
mod tests;
