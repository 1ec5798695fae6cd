//! The Keras `keras.preprocessing.text.Tokenizer`, reproduced exactly.
//!
//! Semantics (from the Keras source, `keras/src/legacy/preprocessing/text.py`):
//! - `text_to_word_sequence`: lower-case if `lower`; replace every character
//!   of `filters` by the `split` string; `str.split(split)`; drop empty strings.
//! - `fit_on_texts`: counts words in first-appearance order; the index is the
//!   words sorted by count descending with a *stable* sort (ties keep first
//!   appearance); index 0 is reserved; an `oov_token` is put first (index 1).
//!   With `char_level`, every character of the (lower-cased) text is a token
//!   and `filters` are not applied.
//! - `texts_to_sequences`: a known word with index `>= num_words` is dropped,
//!   or mapped to the OOV index when `oov_token` is set; unknown words
//!   likewise. `num_words` of 0 means no limit (Keras tests `if num_words`).

use std::borrow::Cow;

use rayon::prelude::*;

use super::error::TextError;
use super::hash::FxHashMap;
use crate::spec::TokenizerSpec;

/// A set of characters with a fast path for ASCII.
#[derive(Debug, Clone)]
struct CharSet {
    ascii: [bool; 128],
    other: Vec<char>,
}

impl CharSet {
    fn new(chars: &str) -> CharSet {
        let mut ascii = [false; 128];
        let mut other = Vec::new();
        for c in chars.chars() {
            if c.is_ascii() {
                ascii[c as usize] = true;
            } else {
                other.push(c);
            }
        }
        other.sort_unstable();
        other.dedup();
        CharSet { ascii, other }
    }

    #[inline]
    fn contains(&self, c: char) -> bool {
        if c.is_ascii() {
            self.ascii[c as usize]
        } else {
            !self.other.is_empty() && self.other.binary_search(&c).is_ok()
        }
    }
}

/// How a text is cut into tokens; shared by fitting and encoding so that
/// both see exactly the same tokens.
#[derive(Debug, Clone)]
struct Splitter {
    filters: CharSet,
    /// The split string as given.
    split: String,
    /// `Some(c)` when `split` is one character: filters and `c` are then all
    /// plain separators, which avoids building the translated string.
    split_char: Option<char>,
    lower: bool,
    char_level: bool,
}

impl Splitter {
    fn new(spec: &TokenizerSpec) -> Splitter {
        let mut chars = spec.split.chars();
        let split_char = match (chars.next(), chars.next()) {
            (Some(c), None) => Some(c),
            _ => None,
        };
        Splitter {
            filters: CharSet::new(&spec.filters),
            split: spec.split.clone(),
            split_char,
            lower: spec.lower,
            char_level: spec.char_level,
        }
    }

    /// Calls `f` on each token of `text`, in order.
    fn for_each_token(&self, text: &str, mut f: impl FnMut(&str)) {
        // `str::to_lowercase` is Unicode-aware like Python's `str.lower`
        // (including the final-sigma rule), unlike per-char lowering.
        let text: Cow<str> = if self.lower {
            Cow::Owned(text.to_lowercase())
        } else {
            Cow::Borrowed(text)
        };
        if self.char_level {
            for (i, c) in text.char_indices() {
                f(&text[i..i + c.len_utf8()]);
            }
            return;
        }
        if let Some(sep) = self.split_char {
            text.split(|c: char| c == sep || self.filters.contains(c))
                .filter(|t| !t.is_empty())
                .for_each(f);
            return;
        }
        if self.split.is_empty() {
            // Rejected by `Tokenizer::fit`; a tokenizer rebuilt from stored
            // parts with an empty split treats the filtered text as one token.
            let t: String = text
                .chars()
                .filter(|&c| !self.filters.contains(c))
                .collect();
            if !t.is_empty() {
                f(&t);
            }
            return;
        }
        // A multi-character split: translate then split, exactly as Python,
        // because replacements can combine with neighbouring characters
        // (split "aa": "a!a" -> "aaaa" -> no tokens).
        let mut translated = String::with_capacity(text.len());
        for c in text.chars() {
            if self.filters.contains(c) {
                translated.push_str(&self.split);
            } else {
                translated.push(c);
            }
        }
        translated
            .split(self.split.as_str())
            .filter(|t| !t.is_empty())
            .for_each(f);
    }
}

/// Keras `text_to_word_sequence`: the tokens of `text` under `spec`
/// (`filters`, `lower`, `split`; `char_level` gives one token per character).
pub fn text_to_word_sequence(text: &str, spec: &TokenizerSpec) -> Vec<String> {
    let mut out = Vec::new();
    Splitter::new(spec).for_each_token(text, |t| out.push(t.to_owned()));
    out
}

/// A fitted Keras `Tokenizer`.
///
/// Index layout: 0 is reserved for padding. Without `oov_token`, the word at
/// position `k` of [`Tokenizer::vocabulary`] has index `k + 1`. With
/// `oov_token`, the OOV token has index 1 and the word at position `k` has
/// index `k + 2` (if the OOV token itself occurs in the training texts it
/// is also a counted word and, as in Keras, takes that word's index; index 1
/// is then unused).
#[derive(Debug, Clone)]
pub struct Tokenizer {
    spec: TokenizerSpec,
    splitter: Splitter,
    /// Words in index order with their training counts.
    words: Vec<(String, u64)>,
    word_index: FxHashMap<String, u32>,
    oov_index: Option<u32>,
    document_count: u64,
}

/// Word counts of a run of texts, in first-appearance order.
#[derive(Default)]
struct Counts {
    index: FxHashMap<String, usize>,
    words: Vec<(String, u64)>,
}

impl Counts {
    fn add(&mut self, word: &str, n: u64) {
        match self.index.get(word) {
            Some(&i) => self.words[i].1 += n,
            None => {
                self.index.insert(word.to_owned(), self.words.len());
                self.words.push((word.to_owned(), n));
            }
        }
    }
}

impl Tokenizer {
    /// Keras `fit_on_texts` on the training texts.
    ///
    /// Errors when `spec.split` is empty and `char_level` is false (Keras
    /// raises `ValueError: empty separator`).
    pub fn fit<T: AsRef<str> + Sync>(
        spec: &TokenizerSpec,
        texts: &[T],
    ) -> Result<Tokenizer, TextError> {
        if spec.split.is_empty() && !spec.char_level {
            return Err(TextError::EmptySplit);
        }
        let splitter = Splitter::new(spec);
        // Count chunks in parallel, then merge the chunks in order: a word's
        // first appearance overall is its first appearance in the first chunk
        // that has it, so the merged order equals the sequential order.
        let chunk = (texts.len() / (rayon::current_num_threads() * 4)).max(256);
        let partial: Vec<Counts> = texts
            .par_chunks(chunk)
            .map(|part| {
                let mut c = Counts::default();
                for t in part {
                    splitter.for_each_token(t.as_ref(), |w| c.add(w, 1));
                }
                c
            })
            .collect();
        let mut total = Counts::default();
        for c in partial {
            if total.words.is_empty() {
                total = c;
                continue;
            }
            for (w, n) in c.words {
                total.add(&w, n);
            }
        }
        let mut words = total.words;
        // `sort_by` is stable, like Python's `list.sort(reverse=True)`.
        words.sort_by(|a, b| b.1.cmp(&a.1));
        let mut tok = Tokenizer::from_vocabulary(spec, words);
        tok.document_count = texts.len() as u64;
        Ok(tok)
    }

    /// Rebuilds a tokenizer from its settings and [`Tokenizer::vocabulary`]
    /// (words in index order with counts). The result encodes exactly like the
    /// original; set the document count with [`Tokenizer::with_document_count`].
    pub fn from_vocabulary(spec: &TokenizerSpec, words: Vec<(String, u64)>) -> Tokenizer {
        let offset = if spec.oov_token.is_some() { 2 } else { 1 };
        let mut word_index = FxHashMap::default();
        word_index.reserve(words.len() + 1);
        if let Some(oov) = &spec.oov_token {
            word_index.insert(oov.clone(), 1);
        }
        // Later entries overwrite earlier ones, as Keras's
        // `dict(zip(sorted_voc, range(1, ...)))` does.
        for (k, (w, _)) in words.iter().enumerate() {
            word_index.insert(w.clone(), (k + offset) as u32);
        }
        let oov_index = spec
            .oov_token
            .as_ref()
            .and_then(|o| word_index.get(o).copied());
        Tokenizer {
            spec: spec.clone(),
            splitter: Splitter::new(spec),
            words,
            word_index,
            oov_index,
            document_count: 0,
        }
    }

    /// Sets the number of training documents (for a tokenizer rebuilt with
    /// [`Tokenizer::from_vocabulary`]).
    pub fn with_document_count(mut self, document_count: u64) -> Tokenizer {
        self.document_count = document_count;
        self
    }

    /// The settings this tokenizer was built with.
    pub fn spec(&self) -> &TokenizerSpec {
        &self.spec
    }

    /// All training words in index order with their training counts; see the
    /// type docs for the position → index rule. `num_words` does not shorten
    /// this list (as Keras keeps the full `word_index`).
    pub fn vocabulary(&self) -> &[(String, u64)] {
        &self.words
    }

    /// Keras `word_index[word]`: the index of a word (or of the OOV token).
    pub fn word_index(&self, word: &str) -> Option<u32> {
        self.word_index.get(word).copied()
    }

    /// Keras `index_word[index]`: the word with this index.
    pub fn index_word(&self, index: u32) -> Option<&str> {
        let offset = if self.spec.oov_token.is_some() { 2 } else { 1 };
        if index == 1 && self.oov_index == Some(1) {
            return self.spec.oov_token.as_deref();
        }
        let k = (index as usize).checked_sub(offset)?;
        self.words.get(k).map(|(w, _)| w.as_str())
    }

    /// The index of the OOV token, when `oov_token` is set.
    pub fn oov_index(&self) -> Option<u32> {
        self.oov_index
    }

    /// Number of texts the tokenizer was fitted on (Keras `document_count`).
    pub fn document_count(&self) -> u64 {
        self.document_count
    }

    /// One more than the largest index a sequence can contain, i.e. the
    /// `input_dim` an `Embedding` layer needs: `min(num_words, highest index + 1)`.
    pub fn input_dim(&self) -> usize {
        let offset = if self.spec.oov_token.is_some() { 2 } else { 1 };
        let all = self.words.len() + offset;
        match self.spec.num_words {
            Some(n) if n > 0 => n.min(all),
            _ => all,
        }
    }

    /// Keras `texts_to_sequences` for one text.
    pub fn text_to_sequence(&self, text: &str) -> Vec<u32> {
        let limit = self.spec.num_words.filter(|&n| n > 0);
        let mut out = Vec::new();
        self.splitter
            .for_each_token(text, |w| match self.word_index.get(w) {
                Some(&i) if limit.is_some_and(|n| i as usize >= n) => {
                    out.extend(self.oov_index);
                }
                Some(&i) => out.push(i),
                None => out.extend(self.oov_index),
            });
        out
    }

    /// Keras `texts_to_sequences`, in parallel over texts (order preserved).
    pub fn texts_to_sequences<T: AsRef<str> + Sync>(&self, texts: &[T]) -> Vec<Vec<u32>> {
        texts
            .par_iter()
            .map(|t| self.text_to_sequence(t.as_ref()))
            .collect()
    }
}
