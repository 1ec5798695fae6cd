//! Text processing: Keras Tokenizer, pad_sequences, n-gram vectorizers, cleaning.
//!
//! - [`Tokenizer`]: Keras `Tokenizer` (fit on training texts, `texts_to_sequences`).
//! - [`pad_sequences`]: Keras `pad_sequences` into row-major data.
//! - [`Vectorizer`]: bag of n-grams (multi-hot, count, TF-IDF) with optional
//!   naive-Bayes weighting, like Keras `TextVectorization`.
//!
//! Settings come from [`crate::spec`] and are taken by reference.

pub mod doc_vectors;
mod error;
mod hash;
pub mod sequence;
pub mod tokenizer;
pub mod vectorize;

pub use error::TextError;
pub use sequence::pad_sequences;
pub use tokenizer::{text_to_word_sequence, Tokenizer};
pub use vectorize::{standardize, Vectorizer, VectorizerParts};
