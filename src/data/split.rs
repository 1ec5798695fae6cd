//! Seeded row selection: `limit` sampling and the stratified validation split.

use super::error::{DataError, DataErrorKind, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Independent random streams of one seed, so that changing one choice (say the
/// test limit) never changes another (the validation split).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Sampling the training file under `limit`.
    LimitTrain = 1,
    /// Sampling the test file under `limit`.
    LimitTest = 2,
    /// Sampling the validation file under `limit`.
    LimitValidation = 3,
    /// The validation split of train.
    ValidationSplit = 4,
    /// The test split of train (`test: {fraction: F}`).
    TestSplit = 5,
    /// The cross-validation folds of train (`validation: {folds: K}`).
    Folds = 6,
}

/// A ChaCha8 generator for `seed` on its own stream.
pub fn seeded_rng(seed: u64, stream: Stream) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream as u64);
    rng
}

/// Keep `n` of `rows` chosen by a seeded shuffle, in their original order.
/// All rows are kept when there are at most `n`.
pub fn limit_rows<T>(rows: Vec<T>, n: usize, rng: &mut ChaCha8Rng) -> Vec<T> {
    if rows.len() <= n {
        return rows;
    }
    let mut idx: Vec<usize> = (0..rows.len()).collect();
    idx.shuffle(rng);
    let mut keep = vec![false; rows.len()];
    for &i in &idx[..n] {
        keep[i] = true;
    }
    rows.into_iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(r, _)| r)
        .collect()
}

/// Split row positions into (train, validation) by a seeded stratified draw.
///
/// `strata[i]` is row `i`'s class (0..n_strata). As scikit-learn's
/// `train_test_split(test_size=fraction, stratify=y)`: the validation split gets
/// `ceil(fraction * n)` rows; the training split's per-class counts are
/// `floor(n_train * n_c / n)` plus one more for the classes with the largest
/// fractional parts until they sum to `n_train` (scikit-learn's
/// `_approximate_mode`; ties go to the lower class index here, where
/// scikit-learn breaks them at random), and each class's validation rows are the
/// rest of it. Which rows of a class go where is a seeded shuffle. Both lists are
/// in the original row order.
pub fn stratified_split(
    strata: &[usize],
    n_strata: usize,
    fraction: f64,
    rng: &mut ChaCha8Rng,
) -> Result<(Vec<usize>, Vec<usize>)> {
    stratified_split_for("data.validation.fraction", strata, n_strata, fraction, rng)
}

/// [`stratified_split`] whose errors name `field` (the spec field the fraction
/// came from) instead of `data.validation.fraction`.
pub fn stratified_split_for(
    field: &str,
    strata: &[usize],
    n_strata: usize,
    fraction: f64,
    rng: &mut ChaCha8Rng,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let n = strata.len();
    let n_val = (fraction * n as f64).ceil() as usize;
    if n_val == 0 || n_val >= n {
        return Err(DataError::new(
            DataErrorKind::Spec,
            format!(
                "`{field}` {fraction} of {n} training rows leaves {} held out and {} for training; \
                 both need at least one row (change `{field}` or `data.limit`)",
                n_val.min(n),
                n - n_val.min(n)
            ),
        ));
    }
    let n_train = n - n_val;
    let mut members = members_by_stratum(strata, n_strata)?;
    let counts: Vec<usize> = members.iter().map(|m| m.len()).collect();
    let train_counts = approximate_mode(&counts, n_train);
    let mut in_val = vec![false; n];
    for (m, &k_train) in members.iter_mut().zip(&train_counts) {
        m.shuffle(rng);
        for &i in &m[k_train..] {
            in_val[i] = true;
        }
    }
    let (val, train): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| in_val[i]);
    Ok((train, val))
}

/// Assign each row to one of `k` folds by a seeded stratified draw: each
/// stratum's rows are shuffled and dealt out in turn, the dealing continuing
/// across strata where the previous one stopped, so every fold's size is
/// `n / k` or one more and every stratum is spread as evenly as it can be.
/// `strata[i]` is row `i`'s stratum (0..n_strata). Needs at least `k` rows.
pub fn stratified_folds(
    strata: &[usize],
    n_strata: usize,
    k: usize,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<usize>> {
    let n = strata.len();
    if k < 2 || n < k {
        return Err(DataError::new(
            DataErrorKind::Spec,
            format!(
                "`data.validation.folds` {k} needs at least {k} training rows and 2 folds, the training split has {n} rows \
                 (lower `data.validation.folds` or raise `data.limit`)"
            ),
        ));
    }
    let mut members = members_by_stratum(strata, n_strata)?;
    let mut fold = vec![0; n];
    let mut next = 0;
    for m in &mut members {
        m.shuffle(rng);
        for &i in m.iter() {
            fold[i] = next;
            next = (next + 1) % k;
        }
    }
    Ok(fold)
}

/// Per-class draws that sum to `draws` and follow the class proportions:
/// floors first, then one more for the largest remainders (ties: lower index).
pub fn approximate_mode(counts: &[usize], draws: usize) -> Vec<usize> {
    let total: usize = counts.iter().sum();
    if total == 0 {
        return vec![0; counts.len()];
    }
    // Exact integer arithmetic: floor and remainder of draws * c / total.
    let mut out: Vec<usize> = counts.iter().map(|&c| draws * c / total).collect();
    let rem: Vec<usize> = counts.iter().map(|&c| draws * c % total).collect();
    let mut need = draws - out.iter().sum::<usize>();
    let mut order: Vec<usize> = (0..counts.len()).collect();
    order.sort_by(|&a, &b| rem[b].cmp(&rem[a]).then(a.cmp(&b)));
    for &k in &order {
        if need == 0 {
            break;
        }
        if out[k] < counts[k] {
            out[k] += 1;
            need -= 1;
        }
    }
    out
}

/// The row indices of each stratum, in row order; a stratum index out of
/// range is an error naming the row.
fn members_by_stratum(strata: &[usize], n_strata: usize) -> Result<Vec<Vec<usize>>> {
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); n_strata];
    for (i, &s) in strata.iter().enumerate() {
        if s >= n_strata {
            return Err(DataError::new(
                DataErrorKind::Spec,
                format!("row {i} has class index {s}, but there are {n_strata} classes"),
            ));
        }
        members[s].push(i);
    }
    Ok(members)
}
