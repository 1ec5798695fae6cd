//! Errors of the text module. Each names the spec field or the input that is
//! wrong and what would be valid.

/// A problem with text-processing settings or inputs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TextError {
    /// `tokenizer.split` is empty (Python's `str.split("")` raises, so Keras does too).
    #[error("tokenizer.split: must not be empty (use a separator such as \" \"), unless tokenizer.char_level is true")]
    EmptySplit,
    /// A bag-of-n-grams vectorizer was asked for with `vectorize.mode: int`.
    #[error("vectorize.mode: `int` uses the tokenizer, not the n-gram vectorizer; valid bag modes are multi_hot, count, tf_idf")]
    NotBagMode,
    /// `vectorize.ngrams` is 0.
    #[error("vectorize.ngrams: {0} is out of range; must be at least 1 (1 = unigrams, 2 = unigrams and bigrams, ...)")]
    NgramsRange(usize),
    /// NB weighting was asked for without training targets.
    #[error("vectorize.nb_weighting: needs the training targets (binary task, targets 0 or 1)")]
    MissingTargets,
    /// Texts and targets differ in length.
    #[error("vectorize: {texts} training texts but {targets} targets; they must match one to one")]
    TargetCount {
        /// Number of texts.
        texts: usize,
        /// Number of targets.
        targets: usize,
    },
    /// NB weighting needs binary targets.
    #[error("vectorize.nb_weighting: needs a binary task with targets 0 or 1, but training example {index} has target {value}")]
    NonBinaryTarget {
        /// Position of the example in the training texts.
        index: usize,
        /// Its target.
        value: f32,
    },
    /// Stored vectorizer parts are inconsistent (e.g. a corrupted cache table).
    #[error("stored vectorizer: {0}")]
    InvalidParts(String),
}
