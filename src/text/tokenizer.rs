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
        // `sort_by_key` is stable, like Python's `list.sort(reverse=True)`.
        words.sort_by_key(|w| std::cmp::Reverse(w.1));
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

    /// The length of the longest of `texts`' sequences (0 for none), what
    /// `pad_sequences` without `maxlen` pads to, without keeping them.
    pub fn longest_sequence<T: AsRef<str> + Sync>(&self, texts: &[T]) -> usize {
        texts
            .par_iter()
            .map(|t| self.text_to_sequence(t.as_ref()).len())
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> TokenizerSpec {
        TokenizerSpec::default()
    }

    const TEXTS: [&str; 3] = [
        "The cat sat on the mat.",
        "The dog ate my homework!",
        "cat cat dog",
    ];

    fn index_of(t: &Tokenizer) -> Vec<(String, u32)> {
        t.vocabulary()
            .iter()
            .map(|(w, _)| (w.clone(), t.word_index(w).unwrap()))
            .collect()
    }

    #[test]
    fn word_sequence_default_filters_and_lower() {
        assert_eq!(
            text_to_word_sequence("Hello, World!\tfoo\nbar  baz", &spec()),
            ["hello", "world", "foo", "bar", "baz"]
        );
        // Keras keeps the apostrophe (not in the default filters).
        assert_eq!(text_to_word_sequence("It's OK", &spec()), ["it's", "ok"]);
    }

    #[test]
    fn index_by_count_ties_by_first_appearance() {
        let t = Tokenizer::fit(&spec(), &TEXTS).unwrap();
        // Counts: the 3, cat 3, sat 1, on 1, mat 1, dog 2, ate 1, my 1, homework 1.
        let want = [
            ("the", 1, 3),
            ("cat", 2, 3),
            ("dog", 3, 2),
            ("sat", 4, 1),
            ("on", 5, 1),
            ("mat", 6, 1),
            ("ate", 7, 1),
            ("my", 8, 1),
            ("homework", 9, 1),
        ];
        let got: Vec<(String, u32, u64)> = t
            .vocabulary()
            .iter()
            .map(|(w, c)| (w.clone(), t.word_index(w).unwrap(), *c))
            .collect();
        let want: Vec<(String, u32, u64)> = want
            .iter()
            .map(|(w, i, c)| (w.to_string(), *i, *c))
            .collect();
        assert_eq!(got, want);
        assert_eq!(t.document_count(), 3);
        assert_eq!(t.word_index("fish"), None);
        assert_eq!(t.index_word(3), Some("dog"));
        assert_eq!(t.index_word(0), None);
        assert_eq!(t.input_dim(), 10);
        assert_eq!(
            t.texts_to_sequences(&["the cat ate the fish", "", "The DOG."]),
            vec![vec![1, 2, 7, 1], vec![], vec![1, 3]]
        );
    }

    #[test]
    fn num_words_keeps_indices_below() {
        let s = TokenizerSpec {
            num_words: Some(4),
            ..spec()
        };
        let t = Tokenizer::fit(&s, &TEXTS).unwrap();
        // word_index is complete; only encoding is cut.
        assert_eq!(t.word_index("homework"), Some(9));
        assert_eq!(t.texts_to_sequences(&TEXTS[..1]), vec![vec![1, 2, 1]]);
        assert_eq!(t.text_to_sequence("dog ate cat"), vec![3, 2]);
        assert_eq!(t.input_dim(), 4);
        // Keras tests `if num_words`: 0 means no limit.
        let s0 = TokenizerSpec {
            num_words: Some(0),
            ..spec()
        };
        let t0 = Tokenizer::fit(&s0, &TEXTS).unwrap();
        assert_eq!(t0.text_to_sequence("dog ate cat"), vec![3, 7, 2]);
    }

    #[test]
    fn oov_token_gets_index_one() {
        let s = TokenizerSpec {
            oov_token: Some("<OOV>".into()),
            ..spec()
        };
        let t = Tokenizer::fit(&s, &TEXTS).unwrap();
        assert_eq!(t.word_index("<OOV>"), Some(1));
        assert_eq!(t.oov_index(), Some(1));
        assert_eq!(t.word_index("the"), Some(2));
        assert_eq!(t.word_index("homework"), Some(10));
        assert_eq!(t.index_word(1), Some("<OOV>"));
        assert_eq!(t.index_word(2), Some("the"));
        assert_eq!(t.input_dim(), 11);
        assert_eq!(
            t.text_to_sequence("the cat ate the fish"),
            vec![2, 3, 8, 2, 1]
        );
        let s4 = TokenizerSpec {
            num_words: Some(4),
            ..s
        };
        let t4 = Tokenizer::fit(&s4, &TEXTS).unwrap();
        // ate (8) >= 4 and fish (unknown) both become the OOV index.
        assert_eq!(
            t4.text_to_sequence("the cat ate the fish"),
            vec![2, 3, 1, 2, 1]
        );
    }

    #[test]
    fn oov_token_that_occurs_in_texts_takes_its_counted_index() {
        // Keras: sorted_voc = [oov] + words, then dict(zip(...)) keeps the last.
        let s = TokenizerSpec {
            oov_token: Some("the".into()),
            ..spec()
        };
        let t = Tokenizer::fit(&s, &["the the cat"]).unwrap();
        assert_eq!(t.word_index("the"), Some(2));
        assert_eq!(t.word_index("cat"), Some(3));
        assert_eq!(t.oov_index(), Some(2));
        assert_eq!(t.index_word(1), None);
        assert_eq!(t.text_to_sequence("dog cat"), vec![2, 3]);
    }

    #[test]
    fn char_level_ignores_filters_and_counts_spaces() {
        let s = TokenizerSpec {
            char_level: true,
            ..spec()
        };
        let t = Tokenizer::fit(&s, &["abca", "B a"]).unwrap();
        // a 3, b 2, c 1, ' ' 1 (c seen before ' ').
        assert_eq!(
            index_of(&t),
            [("a", 1), ("b", 2), ("c", 3), (" ", 4)]
                .map(|(w, i)| (w.to_string(), i))
                .to_vec()
        );
        // '!' is unknown (not filtered): dropped.
        assert_eq!(t.text_to_sequence("CAB!"), vec![3, 1, 2]);
        let t2 = Tokenizer::fit(&s, &["a.b"]).unwrap();
        assert_eq!(t2.word_index("."), Some(2));
        assert_eq!(t2.text_to_sequence("b.a"), vec![3, 2, 1]);
    }

    #[test]
    fn lower_false_and_empty_filters() {
        let s = TokenizerSpec {
            lower: false,
            filters: String::new(),
            ..spec()
        };
        let t = Tokenizer::fit(&s, &["Hello, hello world!"]).unwrap();
        assert_eq!(
            index_of(&t),
            [("Hello,", 1), ("hello", 2), ("world!", 3)]
                .map(|(w, i)| (w.to_string(), i))
                .to_vec()
        );
        assert_eq!(t.text_to_sequence("HELLO hello"), vec![2]);
    }

    #[test]
    fn custom_split() {
        // Space is not a filter, so with split "," it stays inside tokens.
        let s = TokenizerSpec {
            split: ",".into(),
            ..spec()
        };
        assert_eq!(text_to_word_sequence("A b,c;d", &s), ["a b", "c", "d"]);
        // Multi-character split behaves like Python's translate + split.
        let s = TokenizerSpec {
            split: "aa".into(),
            filters: "!".into(),
            ..spec()
        };
        assert_eq!(text_to_word_sequence("a!a", &s), Vec::<String>::new());
        assert_eq!(text_to_word_sequence("XAAy!z", &s), ["x", "y", "z"]);
        let empty = TokenizerSpec {
            split: String::new(),
            ..spec()
        };
        assert_eq!(
            Tokenizer::fit(&empty, &["a"]).unwrap_err(),
            TextError::EmptySplit
        );
    }

    #[test]
    fn unicode_lowering() {
        let t = Tokenizer::fit(&spec(), &["ÉCOLE école ΟΔΟΣ"]).unwrap();
        assert_eq!(t.word_index("école"), Some(1));
        // Final sigma, as Python's str.lower.
        assert_eq!(t.word_index("οδος"), Some(2));
    }

    #[test]
    fn parallel_fit_matches_order_across_chunks() {
        // More texts than one chunk: first appearance must still be global.
        let texts: Vec<String> = (0..3000)
            .map(|i| format!("w{} common w{}", 2999 - i, i % 7))
            .collect();
        let t = Tokenizer::fit(&spec(), &texts).unwrap();
        assert_eq!(t.word_index("common"), Some(1));
        // w0..w5 appear 430 times, w6 429 (each once more as a first word);
        // the tie among w0..w5 keeps first appearance (texts 0..5).
        let w: Vec<&str> = t.vocabulary().iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(&w[1..8], ["w0", "w1", "w2", "w3", "w4", "w5", "w6"]);
        // Then the count-1 words in first-appearance order: w2999, w2998, ...
        assert_eq!(&w[8..11], ["w2999", "w2998", "w2997"]);
        assert_eq!(w.len(), 1 + 3000);
    }

    #[test]
    fn from_vocabulary_rebuilds_identically() {
        let s = TokenizerSpec {
            oov_token: Some("<OOV>".into()),
            num_words: Some(6),
            ..spec()
        };
        let t = Tokenizer::fit(&s, &TEXTS).unwrap();
        let r = Tokenizer::from_vocabulary(&s, t.vocabulary().to_vec())
            .with_document_count(t.document_count());
        assert_eq!(r.vocabulary(), t.vocabulary());
        assert_eq!(r.document_count(), 3);
        let probe = ["the cat ate my fish", "homework on the mat", ""];
        assert_eq!(r.texts_to_sequences(&probe), t.texts_to_sequences(&probe));
        for (w, _) in t.vocabulary() {
            assert_eq!(r.word_index(w), t.word_index(w));
        }
    }
}
