//! The stages of a run, one file each, in order: [`load`] → [`split`] →
//! ([`fold`] with cross-validation, then) [`vocabulary`] → [`encode`] → [`train`]
//! (→ [`fold_evaluate`] in a fold) → [`evaluate`] → [`report`]
//! ([`hand_calculation`] replaces them for a spec without `data`).
//!
//! Each stage file owns its settings (what its cache key hashes), `key()`,
//! `compute()` (which writes the stage's files into a fresh folder) and a
//! typed handle on its artifact folder (`VocabularyArtifact::vocabulary_parquet()`,
//! ...): no other file names a stage's files. Stages import only earlier
//! stages and the pipeline's helpers (tables, score, report data), never the
//! runner or the predictor.

pub mod encode;
pub mod evaluate;
pub mod fold;
pub mod fold_evaluate;
pub mod hand_calculation;
pub mod load;
pub mod report;
pub mod split;
pub mod train;
pub mod vocabulary;

/// One of the three example splits; also names the split's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// The training examples.
    Train,
    /// The validation examples.
    Validation,
    /// The test examples.
    Test,
}

impl Split {
    /// `train`, `validation` or `test`.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "validation",
            Split::Test => "test",
        }
    }
}
