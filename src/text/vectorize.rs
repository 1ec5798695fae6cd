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
//! Speed: words are interned to `u32` ids first, and an n-gram of up to three
//! words is packed exactly into a `u128` key, so counting allocates nothing
//! per occurrence. Longer n-grams use a 120-bit hash of their word ids as the
//! key (a collision is astronomically unlikely). Counting is split into
//! key-space shards, one per thread, so no merging of large maps is needed.

use std::borrow::Cow;
use std::collections::hash_map::Entry as MapEntry;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::clean::strip_tags;
use super::error::TextError;
use super::hash::{mix64, FxHashMap};
use crate::spec::{Standardize, VectorizeMode, VectorizeSpec};

/// Longest n-gram length supported (the length is stored in the key's top byte).
pub const MAX_NGRAMS: usize = 255;

/// Id standing for a word that is in no vocabulary term.
const UNKNOWN: u32 = u32::MAX;

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

/// The key of an n-gram of word ids: exact for up to three words, a 120-bit
/// hash otherwise; the top byte is the length.
#[inline]
fn ngram_key(ids: &[u32]) -> u128 {
    let n = ids.len() as u128;
    if ids.len() <= 3 {
        let mut k = n << 120;
        for (i, &id) in ids.iter().enumerate() {
            // +1 so that id 0 differs from an absent word.
            k |= (id as u128 + 1) << (32 * i);
        }
        k
    } else {
        let (mut a, mut b) = (
            0x243f_6a88_85a3_08d3u64 ^ n as u64,
            0x1319_8a2e_0370_7344u64,
        );
        for &id in ids {
            a = mix64(a ^ id as u64);
            b = mix64(b.wrapping_add(id as u64).rotate_left(23) ^ 0xa409_3822_299f_31d0);
        }
        (n << 120) | ((b as u128 & ((1u128 << 56) - 1)) << 64) | a as u128
    }
}

/// The counting shard an n-gram key belongs to.
#[inline]
fn shard_of(key: u128, shards: usize) -> usize {
    (mix64(key as u64 ^ (key >> 64) as u64) % shards as u64) as usize
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
    /// Words occurring in some term → id used in `features` keys.
    words: FxHashMap<String, u32>,
    /// n-gram key → feature index.
    features: FxHashMap<u128, u32>,
}

/// Where a counted n-gram was first seen, to rebuild its string later.
#[derive(Clone, Copy)]
struct Seen {
    df: u32,
    last_doc: u32,
    first_doc: u32,
    first_pos: u32,
}

/// A counted n-gram that passed `min_df`.
struct Candidate {
    df: u32,
    doc: u32,
    pos: u32,
    n: u32,
}

fn check_spec(spec: &VectorizeSpec) -> Result<(), TextError> {
    if spec.mode == VectorizeMode::Int {
        return Err(TextError::NotBagMode);
    }
    if spec.ngrams == 0 || spec.ngrams > MAX_NGRAMS {
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

/// Document frequencies of all n-grams of 1..=`ngrams` words; keeps those with
/// df >= `min_df`. Each shard scans every document but counts only its keys.
fn count_ngrams(seqs: &[Vec<u32>], ngrams: usize, min_df: usize) -> Vec<Candidate> {
    let shards = rayon::current_num_threads().max(1);
    let per_shard: Vec<Vec<Candidate>> = (0..shards)
        .into_par_iter()
        .map(|s| {
            let mut map: FxHashMap<u128, Seen> = FxHashMap::default();
            for (d, seq) in seqs.iter().enumerate() {
                let d = d as u32;
                for i in 0..seq.len() {
                    for n in 1..=ngrams.min(seq.len() - i) {
                        let key = ngram_key(&seq[i..i + n]);
                        if shards > 1 && shard_of(key, shards) != s {
                            continue;
                        }
                        match map.entry(key) {
                            MapEntry::Occupied(e) => {
                                let e = e.into_mut();
                                if e.last_doc != d {
                                    e.df += 1;
                                    e.last_doc = d;
                                }
                            }
                            MapEntry::Vacant(e) => {
                                e.insert(Seen {
                                    df: 1,
                                    last_doc: d,
                                    first_doc: d,
                                    first_pos: i as u32,
                                });
                            }
                        }
                    }
                }
            }
            map.into_iter()
                .filter(|(_, e)| e.df as usize >= min_df)
                .map(|(k, e)| Candidate {
                    df: e.df,
                    doc: e.first_doc,
                    pos: e.first_pos,
                    n: (k >> 120) as u32,
                })
                .collect()
        })
        .collect();
    per_shard.into_iter().flatten().collect()
}

impl Vectorizer {
    /// Fits on the training texts. `targets` (one per text, 0 or 1) are needed
    /// only with `nb_weighting`.
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
        let docs: Vec<String> = texts
            .par_iter()
            .map(|t| standardize(t.as_ref(), spec.standardize, spec.strip_html))
            .collect();
        let (words, seqs) = intern(&docs);
        let mut cands = count_ngrams(&seqs, spec.ngrams, spec.min_df);
        // Build strings only for the candidates that can make the cut: all
        // with df at least the max_tokens-th largest df (ties need strings).
        cands.par_sort_unstable_by(|a, b| b.df.cmp(&a.df));
        if let Some(k) = spec.max_tokens {
            if k < cands.len() {
                let cut = match k {
                    0 => 0,
                    _ => {
                        let threshold = cands[k - 1].df;
                        cands.partition_point(|c| c.df >= threshold)
                    }
                };
                cands.truncate(cut);
            }
        }
        let mut terms: Vec<(String, u32)> = cands
            .par_iter()
            .map(|c| {
                let ids = &seqs[c.doc as usize][c.pos as usize..(c.pos + c.n) as usize];
                let mut s = String::new();
                for (j, &id) in ids.iter().enumerate() {
                    if j > 0 {
                        s.push(' ');
                    }
                    s.push_str(words[id as usize]);
                }
                (s, c.df)
            })
            .collect();
        drop(cands);
        terms.par_sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        if let Some(k) = spec.max_tokens {
            terms.truncate(k);
        }
        let num_docs = texts.len() as u64;
        let (terms, dfs): (Vec<String>, Vec<u64>) =
            terms.into_iter().map(|(t, df)| (t, df as u64)).unzip();
        let parts = VectorizerParts {
            idf: dfs.iter().map(|&df| idf(num_docs, df)).collect(),
            terms,
            document_frequencies: dfs,
            nb_weights: None,
            num_docs,
        };
        let mut v = Vectorizer::index(spec, parts)?;
        if let Some(t) = nb_targets {
            v.parts.nb_weights = Some(v.nb_ratios(&docs, t));
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

    /// Builds the lookup tables for `parts` and checks their consistency.
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
        let mut words: FxHashMap<String, u32> = FxHashMap::default();
        let mut features: FxHashMap<u128, u32> = FxHashMap::default();
        features.reserve(n);
        let mut ids = Vec::new();
        for (j, term) in parts.terms.iter().enumerate() {
            ids.clear();
            for w in term.split(' ') {
                if w.is_empty() {
                    return Err(TextError::InvalidParts(format!(
                        "term {j} `{term}` has an empty word (words are joined by one space)"
                    )));
                }
                let id = match words.get(w) {
                    Some(&id) => id,
                    None => {
                        let id = words.len() as u32;
                        words.insert(w.to_owned(), id);
                        id
                    }
                };
                ids.push(id);
            }
            if ids.len() > spec.ngrams {
                return Err(TextError::InvalidParts(format!(
                    "term {j} `{term}` has {} words but vectorize.ngrams is {}",
                    ids.len(),
                    spec.ngrams
                )));
            }
            if features.insert(ngram_key(&ids), j as u32).is_some() {
                return Err(TextError::InvalidParts(format!(
                    "term {j} `{term}` occurs twice"
                )));
            }
        }
        Ok(Vectorizer {
            spec: spec.clone(),
            parts,
            words,
            features,
        })
    }

    /// Appends the feature index of every vocabulary n-gram occurrence in a
    /// standardised text (unsorted, with repeats).
    fn feature_ids(&self, standardized: &str, out: &mut Vec<u32>) {
        let ids: Vec<u32> = standardized
            .split_whitespace()
            .map(|w| self.words.get(w).copied().unwrap_or(UNKNOWN))
            .collect();
        for i in 0..ids.len() {
            for n in 1..=self.spec.ngrams.min(ids.len() - i) {
                let gram = &ids[i..i + n];
                if gram[n - 1] == UNKNOWN {
                    // Every longer n-gram from `i` contains this word too.
                    break;
                }
                if let Some(&f) = self.features.get(&ngram_key(gram)) {
                    out.push(f);
                }
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
                VectorizeMode::Count | VectorizeMode::Int => {}
                VectorizeMode::TfIdf => *value *= self.parts.idf[j],
            }
            if let Some(r) = &self.parts.nb_weights {
                *value *= r[j];
            }
        }
        row
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
        let mut ids = Vec::new();
        for w in term.split(' ') {
            ids.push(*self.words.get(w)?);
        }
        self.features.get(&ngram_key(&ids)).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCS: [&str; 3] = ["The cat sat.", "the CAT ran", "a dog<br />ran"];

    fn spec(mode: VectorizeMode, ngrams: usize) -> VectorizeSpec {
        VectorizeSpec {
            mode,
            ngrams,
            ..VectorizeSpec::default()
        }
    }

    fn close(a: f32, b: f64) -> bool {
        (a as f64 - b).abs() < 1e-6
    }

    #[test]
    fn standardisation_modes() {
        assert_eq!(
            standardize(
                "It's <b>GREAT</b>, (really)!",
                Standardize::LowerAndStripPunctuation,
                true
            ),
            "its  great  really"
        );
        assert_eq!(
            standardize("It's <b>GREAT</b>", Standardize::Lower, false),
            "it's <b>great</b>"
        );
        assert_eq!(standardize("A<br/>B.", Standardize::None, true), "A B.");
        // Every character of Keras's default strip regex is removed.
        assert_eq!(
            standardize(
                "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'x",
                Standardize::LowerAndStripPunctuation,
                false
            ),
            "x"
        );
    }

    #[test]
    fn bigram_vocabulary_by_df_then_term() {
        let v = Vectorizer::fit(&spec(VectorizeMode::MultiHot, 2), &DOCS, None).unwrap();
        // df 2: cat, ran, the, "the cat"; df 1 in string order.
        let want = [
            "cat", "ran", "the", "the cat", "a", "a dog", "cat ran", "cat sat", "dog", "dog ran",
            "sat",
        ];
        assert_eq!(v.terms(), want);
        assert_eq!(v.document_frequencies(), [2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1]);
        assert_eq!(v.num_docs(), 3);
        assert_eq!(v.term_index("dog ran"), Some(9));
        assert_eq!(v.term_index("ran dog"), None);
        // Unknown words break n-grams: "cat fish ran" has no "cat ran".
        assert_eq!(
            v.transform("The cat, fish ran. The cat!"),
            vec![(0, 1.0), (1, 1.0), (2, 1.0), (3, 1.0)]
        );
    }

    #[test]
    fn min_df_and_max_tokens() {
        let s = VectorizeSpec {
            min_df: 2,
            ..spec(VectorizeMode::Count, 2)
        };
        let v = Vectorizer::fit(&s, &DOCS, None).unwrap();
        assert_eq!(v.terms(), ["cat", "ran", "the", "the cat"]);
        let s = VectorizeSpec {
            max_tokens: Some(3),
            ..spec(VectorizeMode::Count, 2)
        };
        let v = Vectorizer::fit(&s, &DOCS, None).unwrap();
        assert_eq!(v.terms(), ["cat", "ran", "the"]);
        assert_eq!(v.transform("the the cat dog"), vec![(0, 1.0), (2, 2.0)]);
        let s = VectorizeSpec {
            max_tokens: Some(5),
            ..spec(VectorizeMode::Count, 2)
        };
        let v = Vectorizer::fit(&s, &DOCS, None).unwrap();
        assert_eq!(v.terms(), ["cat", "ran", "the", "the cat", "a"]);
        let s = VectorizeSpec {
            max_tokens: Some(0),
            ..spec(VectorizeMode::Count, 2)
        };
        assert_eq!(Vectorizer::fit(&s, &DOCS, None).unwrap().num_features(), 0);
    }

    #[test]
    fn tf_idf_hand_computed() {
        let v = Vectorizer::fit(&spec(VectorizeMode::TfIdf, 1), &DOCS, None).unwrap();
        assert_eq!(v.terms(), ["cat", "ran", "the", "a", "dog", "sat"]);
        // idf = ln(1 + 3 / (1 + df)): df 2 -> ln 2, df 1 -> ln 2.5.
        let row = v.transform("the THE cat sat sat sat");
        let want = [
            (0, 1.0 * 2f64.ln()),
            (2, 2.0 * 2f64.ln()),
            (5, 3.0 * 2.5f64.ln()),
        ];
        assert_eq!(row.len(), 3);
        for ((j, x), (wj, wx)) in row.iter().zip(want) {
            assert_eq!(*j, wj);
            assert!(close(*x, wx), "feature {j}: {x} vs {wx}");
        }
        assert!(close(v.idf()[3], 2.5f64.ln()));
    }

    #[test]
    fn nb_ratios_hand_computed() {
        let s = VectorizeSpec {
            nb_weighting: true,
            ..spec(VectorizeMode::MultiHot, 1)
        };
        // Vocabulary: cat ran the a dog sat. Positives: docs 0 and 1.
        // p = 1 + [2,1,2,0,0,1] = [3,2,3,1,1,2], |p| = 12
        // q = 1 + [0,1,0,1,1,0] = [1,2,1,2,2,1], |q| = 9
        let v = Vectorizer::fit(&s, &DOCS, Some(&[1.0, 1.0, 0.0])).unwrap();
        let r = v.nb_weights().unwrap();
        let want = [
            (3.0 / 12.0) / (1.0 / 9.0),
            (2.0 / 12.0) / (2.0 / 9.0),
            (3.0 / 12.0) / (1.0 / 9.0),
            (1.0 / 12.0) / (2.0 / 9.0),
            (1.0 / 12.0) / (2.0 / 9.0),
            (2.0 / 12.0) / (1.0 / 9.0),
        ];
        for (j, w) in want.iter().enumerate() {
            assert!(close(r[j], f64::ln(*w)), "r[{j}] = {} vs ln {w}", r[j]);
        }
        // Binarised feature times r; repeats do not count.
        let row = v.transform("cat cat a");
        assert_eq!(row.len(), 2);
        assert!(row[0].0 == 0 && close(row[0].1, 2.25f64.ln()));
        assert!(row[1].0 == 3 && close(row[1].1, 0.375f64.ln()));
    }

    #[test]
    fn nb_needs_binary_targets() {
        let s = VectorizeSpec {
            nb_weighting: true,
            ..spec(VectorizeMode::MultiHot, 1)
        };
        assert_eq!(
            Vectorizer::fit(&s, &DOCS, None).unwrap_err(),
            TextError::MissingTargets
        );
        assert_eq!(
            Vectorizer::fit(&s, &DOCS, Some(&[1.0, 2.0, 0.0])).unwrap_err(),
            TextError::NonBinaryTarget {
                index: 1,
                value: 2.0
            }
        );
        assert_eq!(
            Vectorizer::fit(&s, &DOCS, Some(&[1.0])).unwrap_err(),
            TextError::TargetCount {
                texts: 3,
                targets: 1
            }
        );
        assert_eq!(
            Vectorizer::fit(&spec(VectorizeMode::Int, 1), &DOCS, None).unwrap_err(),
            TextError::NotBagMode
        );
        assert_eq!(
            Vectorizer::fit(&spec(VectorizeMode::Count, 0), &DOCS, None).unwrap_err(),
            TextError::NgramsRange(0)
        );
    }

    #[test]
    fn long_ngrams_use_hashed_keys() {
        let v = Vectorizer::fit(
            &spec(VectorizeMode::Count, 5),
            &["a b c d e", "b c d e f"],
            None,
        )
        .unwrap();
        assert_eq!(
            v.term_index("b c d e")
                .map(|j| v.document_frequencies()[j as usize]),
            Some(2)
        );
        assert_eq!(
            v.term_index("a b c d e")
                .map(|j| v.document_frequencies()[j as usize]),
            Some(1)
        );
        // 5 + 4 + 3 + 2 + 1 per doc, shared: b c d e and its 10 sub-grams.
        assert_eq!(v.num_features(), 15 + 15 - 10);
        // The 15 n-grams of "b c d e f"; "f f" is not in the vocabulary.
        let row = v.transform("b c d e f f");
        assert_eq!(row.len(), 15);
        let f = v.term_index("f").unwrap();
        assert_eq!(row.iter().find(|(j, _)| *j == f), Some(&(f, 2.0)));
    }

    #[test]
    fn from_parts_rebuilds_identically_and_checks() {
        let s = VectorizeSpec {
            nb_weighting: true,
            ..spec(VectorizeMode::TfIdf, 3)
        };
        let v = Vectorizer::fit(&s, &DOCS, Some(&[1.0, 0.0, 1.0])).unwrap();
        let r = Vectorizer::from_parts(&s, v.parts().clone()).unwrap();
        assert_eq!(r.parts(), v.parts());
        let probe = ["the cat sat on a dog", "ran ran ran", ""];
        assert_eq!(r.transform_many(&probe), v.transform_many(&probe));
        let mut bad = v.parts().clone();
        bad.idf.pop();
        assert!(matches!(
            Vectorizer::from_parts(&s, bad),
            Err(TextError::InvalidParts(_))
        ));
        let mut dup = v.parts().clone();
        dup.terms[1] = dup.terms[0].clone();
        assert!(Vectorizer::from_parts(&s, dup).is_err());
        let no_nb = VectorizeSpec {
            nb_weighting: false,
            ..s
        };
        assert!(Vectorizer::from_parts(&no_nb, v.into_parts()).is_err());
    }
}
