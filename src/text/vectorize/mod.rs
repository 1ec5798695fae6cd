//! Bag-of-n-grams vectorizer, like Keras `TextVectorization` with
//! `output_mode` `multi_hot`, `count` or `tf_idf`, plus optional naive-Bayes
//! log-count-ratio weighting (Wang & Manning 2012, "NBSVM").
//!
//! Pipeline per text: optional HTML tag stripping (tags → space), then
//! standardisation, then whitespace split, then all n-grams of 1..=N words
//! joined by one space.
//!
//! Differences from Keras, on purpose:
//! - the vocabulary is ordered by document frequency descending, ties by the
//!   term string ascending (deterministic), and `max_tokens` counts terms only
//!   (Keras also counts its OOV/padding slots; there is no OOV feature here);
//! - lower-casing is Unicode-aware (`tf.strings.lower` only lowers ASCII).
//!
//! Speed: words are interned to `u32` ids, and n-grams are counted level by
//! level (Apriori): an n-gram is the id of its first n-1 words plus its last
//! word, a `u64` key, so nothing is allocated per occurrence. An n-gram's
//! document frequency is at most that of its two (n-1)-word parts, so once
//! the `max_tokens`-th largest frequency so far (or `min_df`) exceeds a
//! part's frequency, the n-grams containing it cannot make the vocabulary and
//! are not counted. Transforming walks a trie of the vocabulary terms.

use std::borrow::Cow;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

mod trie;

use super::error::TextError;
use super::hash::FxHashMap;
use crate::data::html::strip_tags;
use crate::spec::{Standardize, VectorizeMode, VectorizeSpec};
use trie::Trie;

/// Marks "no id": an unknown word, a pruned n-gram, a trie node without feature.
const NONE: u32 = u32::MAX;

/// Keras's default punctuation, `[!"#$%&()*+,\-./:;<=>?@\[\\\]^_`{|}~']`.
fn is_keras_punctuation(c: char) -> bool {
    matches!(
        c,
        '!' | '"'
            | '#'
            | '$'
            | '%'
            | '&'
            | '('
            | ')'
            | '*'
            | '+'
            | ','
            | '-'
            | '.'
            | '/'
            | ':'
            | ';'
            | '<'
            | '='
            | '>'
            | '?'
            | '@'
            | '['
            | '\\'
            | ']'
            | '^'
            | '_'
            | '`'
            | '{'
            | '|'
            | '}'
            | '~'
            | '\''
    )
}

/// Standardises one text: tags → space when `strip_html` (first), then
/// `lower_and_strip_punctuation` (lower-case, delete Keras's default
/// punctuation), `lower`, or `none`.
pub fn standardize(text: &str, mode: Standardize, strip_html: bool) -> String {
    let text: Cow<str> = if strip_html {
        Cow::Owned(strip_tags(text))
    } else {
        Cow::Borrowed(text)
    };
    match mode {
        Standardize::None => text.into_owned(),
        Standardize::Lower => text.to_lowercase(),
        Standardize::LowerAndStripPunctuation => {
            let mut s = text.to_lowercase();
            s.retain(|c| !is_keras_punctuation(c));
            s
        }
    }
}

/// A `u64` key for an n-gram: its first n-1 words' id and its last word.
#[inline]
fn gram_key(prefix: u32, word: u32) -> u64 {
    ((prefix as u64) << 32) | word as u64
}

/// The fitted state that defines a vectorizer; store it to rebuild one with
/// [`Vectorizer::from_parts`]. All vectors are in feature-index order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VectorizerParts {
    /// The n-grams (words joined by one space); position = feature index.
    pub terms: Vec<String>,
    /// Number of training documents containing each term.
    pub document_frequencies: Vec<u64>,
    /// Keras idf: `ln(1 + num_docs / (1 + df))`.
    pub idf: Vec<f32>,
    /// NB log-count ratios `r`, when `nb_weighting` is on.
    pub nb_weights: Option<Vec<f32>>,
    /// Number of training documents.
    pub num_docs: u64,
}

/// A fitted bag-of-n-grams vectorizer.
#[derive(Debug, Clone)]
pub struct Vectorizer {
    spec: VectorizeSpec,
    parts: VectorizerParts,
    /// Trie of the terms, to find every vocabulary n-gram starting at a word.
    trie: Trie,
}

/// A counted n-gram of one level: its (n-1)-gram prefix id on the level below
/// (`NONE` for a word), its last word and its document frequency.
#[derive(Clone, Copy)]
struct Gram {
    prefix: u32,
    word: u32,
    df: u32,
}

fn check_spec(spec: &VectorizeSpec) -> Result<(), TextError> {
    if spec.mode == VectorizeMode::Int {
        return Err(TextError::NotBagMode);
    }
    if spec.ngrams == 0 {
        return Err(TextError::NgramsRange(spec.ngrams));
    }
    Ok(())
}

/// Keras idf.
fn idf(num_docs: u64, df: u64) -> f32 {
    (1.0 + num_docs as f64 / (1.0 + df as f64)).ln() as f32
}

/// Interns the words of standardised documents: (id → word, documents as ids).
fn intern(docs: &[String]) -> (Vec<&str>, Vec<Vec<u32>>) {
    let chunk = (docs.len() / (rayon::current_num_threads() * 4)).max(64);
    // Each chunk interns locally; locals are then mapped to global ids.
    let partial: Vec<(Vec<&str>, Vec<Vec<u32>>)> = docs
        .par_chunks(chunk)
        .map(|part| {
            let mut map: FxHashMap<&str, u32> = FxHashMap::default();
            let mut words = Vec::new();
            let seqs = part
                .iter()
                .map(|d| {
                    d.split_whitespace()
                        .map(|w| {
                            *map.entry(w).or_insert_with(|| {
                                words.push(w);
                                (words.len() - 1) as u32
                            })
                        })
                        .collect()
                })
                .collect();
            (words, seqs)
        })
        .collect();
    let mut global: FxHashMap<&str, u32> = FxHashMap::default();
    let mut words: Vec<&str> = Vec::new();
    let remaps: Vec<Vec<u32>> = partial
        .iter()
        .map(|(local, _)| {
            local
                .iter()
                .map(|&w| {
                    *global.entry(w).or_insert_with(|| {
                        words.push(w);
                        (words.len() - 1) as u32
                    })
                })
                .collect()
        })
        .collect();
    let seqs = partial
        .into_par_iter()
        .zip(remaps.par_iter())
        .map(|((_, mut seqs), remap)| {
            for s in &mut seqs {
                for id in s.iter_mut() {
                    *id = remap[*id as usize];
                }
            }
            seqs
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect();
    (words, seqs)
}

/// Document frequency of every word.
fn count_words(seqs: &[Vec<u32>], num_words: usize) -> Vec<u32> {
    let chunk = (seqs.len() / rayon::current_num_threads().max(1)).max(64);
    seqs.par_chunks(chunk)
        .map(|part| {
            let mut df = vec![0u32; num_words];
            let mut last = vec![NONE; num_words];
            for (d, s) in part.iter().enumerate() {
                for &w in s {
                    if last[w as usize] != d as u32 {
                        last[w as usize] = d as u32;
                        df[w as usize] += 1;
                    }
                }
            }
            df
        })
        .reduce(
            || vec![0u32; num_words],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                a
            },
        )
}

/// Every text standardised as `spec` says, in parallel (order preserved).
fn standardize_many<T: AsRef<str> + Sync>(spec: &VectorizeSpec, texts: &[T]) -> Vec<String> {
    texts
        .par_iter()
        .map(|t| standardize(t.as_ref(), spec.standardize, spec.strip_html))
        .collect()
}

/// The lowest document frequency a term can have and still make the
/// vocabulary, given the frequencies known so far: `min_df`, raised to the
/// `max_tokens`-th largest known frequency (more candidates only raise it).
fn threshold(levels: &[Vec<Gram>], min_df: u32, max_tokens: Option<usize>, t: u32) -> u32 {
    let t = t.max(min_df);
    let Some(k) = max_tokens else { return t };
    let mut dfs: Vec<u32> = levels
        .iter()
        .flatten()
        .map(|g| g.df)
        .filter(|&df| df >= t)
        .collect();
    if k == 0 || dfs.len() < k {
        return t;
    }
    let (_, kth, _) = dfs.select_nth_unstable_by(k - 1, |a, b| b.cmp(a));
    t.max(*kth)
}

/// Counts n-grams of `n` words whose two (n-1)-word parts are alive, keeping
/// those with df >= `t`. `prev[d][i]` is the id of the (n-1)-gram at position
/// `i` of document `d` on level `below`. Returns the level and the positions
/// of its n-grams.
///
/// Counting sorts instead of hashing: each document's distinct keys are
/// gathered and the whole list sorted, so a run of equal keys is one n-gram
/// and its length the document frequency. This streams through memory where
/// a hash map of millions of keys would miss the cache on every occurrence.
fn count_level(
    seqs: &[Vec<u32>],
    prev: &[Vec<u32>],
    below: &[Gram],
    n: usize,
    t: u32,
) -> (Vec<Gram>, Vec<Vec<u32>>) {
    let alive = |id: u32| id != NONE && below[id as usize].df >= t;
    let key_at = |seq: &[u32], p: &[u32], i: usize| {
        (alive(p[i]) && alive(p[i + 1])).then(|| gram_key(p[i], seq[i + n - 1]))
    };
    let mut keys: Vec<u64> = seqs
        .par_iter()
        .zip(prev)
        .flat_map_iter(|(seq, p)| {
            let mut k: Vec<u64> = (0..(seq.len() + 1).saturating_sub(n))
                .filter_map(|i| key_at(seq, p, i))
                .collect();
            k.sort_unstable();
            k.dedup();
            k
        })
        .collect();
    keys.par_sort_unstable();
    let mut grams = Vec::new();
    let mut ids: FxHashMap<u64, u32> = FxHashMap::default();
    for run in keys.chunk_by(|a, b| a == b) {
        let df = run.len() as u32;
        if df >= t {
            let key = run[0];
            ids.insert(key, grams.len() as u32);
            grams.push(Gram {
                prefix: (key >> 32) as u32,
                word: key as u32,
                df,
            });
        }
    }
    drop(keys);
    let positions = seqs
        .par_iter()
        .zip(prev)
        .map(|(seq, p)| {
            (0..(seq.len() + 1).saturating_sub(n))
                .map(|i| {
                    key_at(seq, p, i)
                        .and_then(|k| ids.get(&k).copied())
                        .unwrap_or(NONE)
                })
                .collect()
        })
        .collect();
    (grams, positions)
}

/// The vocabulary of standardised documents: terms with their document
/// frequencies, ordered by df descending then term ascending.
fn vocabulary(docs: &[String], spec: &VectorizeSpec) -> Vec<(String, u64)> {
    let (words, seqs) = intern(docs);
    let min_df = spec.min_df.clamp(1, u32::MAX as usize) as u32;
    let df1 = count_words(&seqs, words.len());
    let unigrams: Vec<Gram> = df1
        .iter()
        .enumerate()
        .map(|(w, &df)| Gram {
            prefix: NONE,
            word: w as u32,
            df,
        })
        .collect();
    let mut levels = vec![unigrams];
    let mut t = threshold(&levels, min_df, spec.max_tokens, min_df);
    // Level-1 positions are the word ids themselves (gram id = word id).
    let mut prev: Vec<Vec<u32>> = seqs.clone();
    for n in 2..=spec.ngrams {
        let (grams, positions) = count_level(&seqs, &prev, &levels[n - 2], n, t);
        if grams.is_empty() {
            break;
        }
        levels.push(grams);
        prev = positions;
        t = threshold(&levels, min_df, spec.max_tokens, t);
    }
    drop(prev);
    // Candidates (level, id) above the final threshold, most frequent first;
    // strings are built only for those, ties at the cut included.
    let mut cands: Vec<(u32, u32, u32)> = levels
        .iter()
        .enumerate()
        .flat_map(|(l, g)| {
            g.iter()
                .enumerate()
                .filter(|(_, g)| g.df >= t)
                .map(move |(id, g)| (g.df, l as u32, id as u32))
        })
        .collect();
    cands.par_sort_unstable_by(|a, b| b.0.cmp(&a.0));
    if let Some(k) = spec.max_tokens {
        if k < cands.len() {
            let cut = if k == 0 {
                0
            } else {
                let kth = cands[k - 1].0;
                cands.partition_point(|c| c.0 >= kth)
            };
            cands.truncate(cut);
        }
    }
    let mut terms: Vec<(String, u64)> = cands
        .par_iter()
        .map(|&(df, l, id)| {
            let mut parts = Vec::with_capacity(l as usize + 1);
            let (mut l, mut id) = (l as usize, id);
            loop {
                let g = levels[l][id as usize];
                parts.push(words[g.word as usize]);
                if l == 0 {
                    break;
                }
                (l, id) = (l - 1, g.prefix);
            }
            parts.reverse();
            (parts.join(" "), df as u64)
        })
        .collect();
    terms.par_sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    if let Some(k) = spec.max_tokens {
        terms.truncate(k);
    }
    terms
}

impl Vectorizer {
    /// Fits on the training texts. `targets` (one per text, 0 or 1) are needed
    /// only with `nb_weighting`; when given they must match the texts one to
    /// one. A `min_df` of 0 acts as 1.
    pub fn fit<T: AsRef<str> + Sync>(
        spec: &VectorizeSpec,
        texts: &[T],
        targets: Option<&[f32]>,
    ) -> Result<Vectorizer, TextError> {
        check_spec(spec)?;
        if let Some(t) = targets {
            if t.len() != texts.len() {
                return Err(TextError::TargetCount {
                    texts: texts.len(),
                    targets: t.len(),
                });
            }
        }
        let nb_targets = if spec.nb_weighting {
            let t = targets.ok_or(TextError::MissingTargets)?;
            if let Some((index, &value)) = t.iter().enumerate().find(|(_, &v)| v != 0.0 && v != 1.0)
            {
                return Err(TextError::NonBinaryTarget { index, value });
            }
            Some(t)
        } else {
            None
        };
        let docs = standardize_many(spec, texts);
        Vectorizer::fit_standardized(spec, &docs, nb_targets)
    }

    /// Fit on `texts` without targets and return, with the vectorizer, each
    /// text's [`Vectorizer::term_sequence`] (what document vectors train on),
    /// standardising each text once for both.
    pub fn fit_term_sequences<T: AsRef<str> + Sync>(
        spec: &VectorizeSpec,
        texts: &[T],
    ) -> Result<(Vectorizer, Vec<Vec<u32>>), TextError> {
        check_spec(spec)?;
        let docs = standardize_many(spec, texts);
        let v = Vectorizer::fit_standardized(spec, &docs, None)?;
        let sequences = docs.par_iter().map(|d| v.standardized_terms(d)).collect();
        Ok((v, sequences))
    }

    /// [`Vectorizer::fit`] on texts already standardised.
    fn fit_standardized(
        spec: &VectorizeSpec,
        docs: &[String],
        nb_targets: Option<&[f32]>,
    ) -> Result<Vectorizer, TextError> {
        let num_docs = docs.len() as u64;
        let (terms, dfs): (Vec<String>, Vec<u64>) = vocabulary(docs, spec).into_iter().unzip();
        let parts = VectorizerParts {
            idf: dfs.iter().map(|&df| idf(num_docs, df)).collect(),
            terms,
            document_frequencies: dfs,
            nb_weights: None,
            num_docs,
        };
        let mut v = Vectorizer::index(spec, parts)?;
        if let Some(t) = nb_targets {
            v.parts.nb_weights = Some(v.nb_ratios(docs, t));
        }
        Ok(v)
    }

    /// Rebuilds a vectorizer from stored parts; it transforms exactly like the
    /// one they came from. Errors name what is inconsistent.
    pub fn from_parts(
        spec: &VectorizeSpec,
        parts: VectorizerParts,
    ) -> Result<Vectorizer, TextError> {
        check_spec(spec)?;
        match (&parts.nb_weights, spec.nb_weighting) {
            (None, true) => {
                return Err(TextError::InvalidParts(
                    "vectorize.nb_weighting is on but no NB weights are stored".into(),
                ))
            }
            (Some(_), false) => {
                return Err(TextError::InvalidParts(
                    "NB weights are stored but vectorize.nb_weighting is off".into(),
                ))
            }
            _ => {}
        }
        Vectorizer::index(spec, parts)
    }

    /// Builds the trie for `parts` and checks their consistency.
    fn index(spec: &VectorizeSpec, parts: VectorizerParts) -> Result<Vectorizer, TextError> {
        let n = parts.terms.len();
        let lens = [
            ("document_frequencies", parts.document_frequencies.len()),
            ("idf", parts.idf.len()),
            ("nb_weights", parts.nb_weights.as_ref().map_or(n, Vec::len)),
        ];
        for (name, len) in lens {
            if len != n {
                return Err(TextError::InvalidParts(format!(
                    "{n} terms but {len} {name}; they must match one to one"
                )));
            }
        }
        let mut trie = Trie::default();
        for (j, term) in parts.terms.iter().enumerate() {
            let words = term.split(' ').count();
            if words > spec.ngrams {
                return Err(TextError::InvalidParts(format!(
                    "term {j} `{term}` has {words} words but vectorize.ngrams is {}",
                    spec.ngrams
                )));
            }
            match trie.insert(term, j as u32) {
                Err(why) => {
                    return Err(TextError::InvalidParts(format!("term {j} `{term}` {why}")))
                }
                Ok(Some(first)) => {
                    return Err(TextError::InvalidParts(format!(
                        "term {j} `{term}` is the same as term {first}"
                    )))
                }
                Ok(None) => {}
            }
        }
        Ok(Vectorizer {
            spec: spec.clone(),
            parts,
            trie,
        })
    }

    /// Appends the feature index of every vocabulary n-gram occurrence in a
    /// standardised text (unsorted, with repeats).
    fn feature_ids(&self, standardized: &str, out: &mut Vec<u32>) {
        let ids: Vec<u32> = standardized
            .split_whitespace()
            .map(|w| self.trie.word_id(w))
            .collect();
        for i in 0..ids.len() {
            let mut node = self.trie.step(NONE, ids[i]);
            let mut j = i;
            while node != NONE {
                let f = self.trie.feature[node as usize];
                if f != NONE {
                    out.push(f);
                }
                j += 1;
                if j == ids.len() {
                    break;
                }
                // No node means no term continues this prefix.
                node = self.trie.step(node, ids[j]);
            }
        }
    }

    /// NB log-count ratios from binarised training features.
    fn nb_ratios(&self, docs: &[String], targets: &[f32]) -> Vec<f32> {
        let v = self.parts.terms.len();
        let chunk = (docs.len() / rayon::current_num_threads().max(1)).max(1);
        let (pos, neg) = docs
            .par_chunks(chunk)
            .zip(targets.par_chunks(chunk))
            .map(|(ds, ts)| {
                let (mut pos, mut neg) = (vec![0u64; v], vec![0u64; v]);
                let mut f = Vec::new();
                for (d, &t) in ds.iter().zip(ts) {
                    f.clear();
                    self.feature_ids(d, &mut f);
                    f.sort_unstable();
                    f.dedup();
                    let acc = if t == 1.0 { &mut pos } else { &mut neg };
                    for &j in &f {
                        acc[j as usize] += 1;
                    }
                }
                (pos, neg)
            })
            .reduce(
                || (vec![0u64; v], vec![0u64; v]),
                |(mut p1, mut n1), (p2, n2)| {
                    p1.iter_mut().zip(p2).for_each(|(a, b)| *a += b);
                    n1.iter_mut().zip(n2).for_each(|(a, b)| *a += b);
                    (p1, n1)
                },
            );
        let p: Vec<f64> = pos.iter().map(|&c| 1.0 + c as f64).collect();
        let q: Vec<f64> = neg.iter().map(|&c| 1.0 + c as f64).collect();
        let (sp, sq): (f64, f64) = (p.iter().sum(), q.iter().sum());
        p.iter()
            .zip(&q)
            .map(|(&p, &q)| ((p / sp) / (q / sq)).ln() as f32)
            .collect()
    }

    /// One text as a sparse row: `(feature index, value)` sorted by index,
    /// with the value for the mode (1, count, or count × idf), times the NB
    /// ratio when `nb_weighting` is on.
    pub fn transform(&self, text: &str) -> Vec<(u32, f32)> {
        let s = standardize(text, self.spec.standardize, self.spec.strip_html);
        let mut f = Vec::new();
        self.feature_ids(&s, &mut f);
        f.sort_unstable();
        let mut row: Vec<(u32, f32)> = Vec::new();
        for &j in &f {
            match row.last_mut() {
                Some((last, c)) if *last == j => *c += 1.0,
                _ => row.push((j, 1.0)),
            }
        }
        for (j, value) in &mut row {
            let j = *j as usize;
            match self.spec.mode {
                VectorizeMode::MultiHot => *value = 1.0,
                // The counts behind a document vector's term sequence.
                VectorizeMode::Count | VectorizeMode::Int | VectorizeMode::DocVectors => {}
                VectorizeMode::TfIdf => *value *= self.parts.idf[j],
            }
            if let Some(r) = &self.parts.nb_weights {
                *value *= r[j];
            }
        }
        row
    }

    /// The vocabulary n-grams of one text in text order (by start word, then
    /// length), each occurrence once: what document vectors are trained on.
    pub fn term_sequence(&self, text: &str) -> Vec<u32> {
        self.standardized_terms(&standardize(
            text,
            self.spec.standardize,
            self.spec.strip_html,
        ))
    }

    /// [`Vectorizer::term_sequence`] of a text already standardised.
    fn standardized_terms(&self, standardized: &str) -> Vec<u32> {
        let mut f = Vec::new();
        self.feature_ids(standardized, &mut f);
        f
    }

    /// [`Vectorizer::transform`] over many texts, in parallel (order preserved).
    pub fn transform_many<T: AsRef<str> + Sync>(&self, texts: &[T]) -> Vec<Vec<(u32, f32)>> {
        texts
            .par_iter()
            .map(|t| self.transform(t.as_ref()))
            .collect()
    }

    /// Number of features (vocabulary terms): the width of a row.
    pub fn num_features(&self) -> usize {
        self.parts.terms.len()
    }

    /// The settings this vectorizer was built with.
    pub fn spec(&self) -> &VectorizeSpec {
        &self.spec
    }

    /// The fitted parts (for persistence).
    pub fn parts(&self) -> &VectorizerParts {
        &self.parts
    }

    /// The fitted parts, consuming the vectorizer.
    pub fn into_parts(self) -> VectorizerParts {
        self.parts
    }

    /// The vocabulary terms in feature-index order.
    pub fn terms(&self) -> &[String] {
        &self.parts.terms
    }

    /// Training document frequency of each term.
    pub fn document_frequencies(&self) -> &[u64] {
        &self.parts.document_frequencies
    }

    /// Keras idf of each term.
    pub fn idf(&self) -> &[f32] {
        &self.parts.idf
    }

    /// NB log-count ratio of each term, when `nb_weighting` is on.
    pub fn nb_weights(&self) -> Option<&[f32]> {
        self.parts.nb_weights.as_deref()
    }

    /// Number of training documents.
    pub fn num_docs(&self) -> u64 {
        self.parts.num_docs
    }

    /// The feature index of a term (words joined by one space), if in the vocabulary.
    pub fn term_index(&self, term: &str) -> Option<u32> {
        let mut node = NONE;
        for w in term.split(' ') {
            node = self.trie.step(node, self.trie.word_id(w));
            if node == NONE {
                return None;
            }
        }
        let f = self.trie.feature[node as usize];
        (f != NONE).then_some(f)
    }
}

#[cfg(test)]
mod tests;
