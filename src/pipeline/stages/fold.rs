//! fold: one part of k-fold cross-validation (`data.validation: {folds: K}`).
//!
//! Fold `i` of `K` takes the split stage's training examples, holds out the
//! ones the seeded stratified assignment ([`data::fold_assignment`]) puts in
//! part `i` as its validation split, and keeps the rest as its training split
//! (its test split is empty: folds never see the test file). The artifact has
//! the split stage's layout, so the vocabulary, encode and train stages run on
//! a fold exactly as on the whole split, fitting the vocabulary and NB weights
//! on the fold's own training part only, under their own cache keys.

use super::split::{DataInfo, SplitArtifact};
use super::Split;
use crate::cache::StageKey;
use crate::data::{self, Item, Prepared};
use crate::spec::Spec;
use anyhow::Result;
use serde::Serialize;
use std::fs;
use std::path::Path;

/// Stage name, the first part of its cache folder.
pub const NAME: &str = "fold";

/// The settings a fold depends on, serialised as a JSON array
/// `[index, folds]` (the stage key's settings bytes).
#[derive(Serialize)]
pub struct FoldSettings(
    /// The fold's 0-based index.
    pub usize,
    /// How many folds there are.
    pub usize,
);

/// The stage key: the fold's index and count, and the split stage's key
/// (which holds the seed the assignment is drawn with).
pub fn key(index: usize, folds: usize, split: &StageKey) -> StageKey {
    StageKey::build(NAME, &FoldSettings(index, folds))
        .input(split)
        .finish()
}

/// The training split's examples cut into fold `index`'s (training,
/// validation) parts, in their original order.
pub fn fold_parts(
    spec: &Spec,
    classes: usize,
    train: &[Item],
    index: usize,
    folds: usize,
) -> Result<(Vec<Item>, Vec<Item>)> {
    let assignment = data::fold_assignment(train, classes, folds, spec.seed)?;
    let (mut kept, mut held) = (Vec::new(), Vec::new());
    for (item, f) in train.iter().zip(assignment) {
        if f == index {
            held.push(item.clone());
        } else {
            kept.push(item.clone());
        }
    }
    Ok((kept, held))
}

/// Write fold `index` of `folds` into `dir` with the split stage's layout.
pub fn compute(
    spec: &Spec,
    info: &DataInfo,
    prepared: &Prepared,
    index: usize,
    folds: usize,
    dir: &Path,
) -> Result<()> {
    let (train, validation) = fold_parts(spec, info.classes.len(), &prepared.train, index, folds)?;
    let out = SplitArtifact::at(dir);
    for (split, items) in [
        (Split::Train, &train),
        (Split::Validation, &validation),
        (Split::Test, &Vec::new()),
    ] {
        data::write_items(&out.items_parquet(split), items)?;
    }
    fs::write(out.info_json(), serde_json::to_vec_pretty(info)?)?;
    Ok(())
}
