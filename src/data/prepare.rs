//! From tables to examples with targets: `limit`, the validation split, class
//! lists, bins and regression targets, and text cleaning.

use super::clean::clean_text;
use super::error::{DataError, DataErrorKind, Result};
use super::skipped::SkippedRows;
use super::split::{limit_rows, seeded_rng, stratified_split_for, Stream};
use super::table::{Row, Table};
use crate::spec::{Spec, TaskKind};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One example with its target.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The row's id (id column or row number).
    pub id: i64,
    /// The cleaned text.
    pub text: String,
    /// The class name, or for regression the number as written.
    pub label: String,
    /// The class index into [`Prepared::classes`], or the number for regression.
    pub target: f32,
    /// Other columns kept for exploration; with `task.bins` also the label
    /// column's number as written (under the label column's name).
    pub extra: BTreeMap<String, String>,
}

/// The examples of an experiment, split and labelled.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// Class names in output order; empty for regression.
    pub classes: Vec<String>,
    /// Training examples.
    pub train: Vec<Item>,
    /// Validation examples (held out of train, or from the validation file).
    pub validation: Vec<Item>,
    /// Test examples.
    pub test: Vec<Item>,
    /// Malformed rows skipped while reading (`on_bad_rows: skip`), per file.
    pub skipped_rows: SkippedRows,
}

/// Prepare the examples: limit, classes, targets, the validation split, and
/// text cleaning as `data.clean` asks (see [`clean_text`]).
///
/// Order of steps: `limit` samples each file's rows (train, test, validation
/// file) with its own seeded stream, keeping file order; classes are fixed from
/// the (limited) training rows; targets are assigned; the validation split is
/// then drawn from train, stratified by class (see [`stratified_split`]), unless
/// a validation file is given. Class inference: the sorted distinct labels of
/// the training rows, numerically when every label is a number (so `2` comes
/// before `10`), by text otherwise.
pub fn prepare(
    train: Table,
    test: Table,
    validation: Option<Table>,
    spec: &Spec,
) -> Result<Prepared> {
    let Some(data) = spec.data.as_ref() else {
        return Err(DataError::new(
            DataErrorKind::Spec,
            "the spec has no `data` section, so there are no examples to prepare",
        ));
    };
    let skipped_rows = SkippedRows {
        train: train.skipped,
        validation: validation.as_ref().map_or(0, |v| v.skipped),
        test: test.skipped,
    };
    let limit = |rows: Vec<Row>, stream| match data.limit {
        Some(n) => limit_rows(rows, n, &mut seeded_rng(spec.seed, stream)),
        None => rows,
    };
    let train_rows = limit(train.rows, Stream::LimitTrain);
    let test_rows = limit(test.rows, Stream::LimitTest);
    let val_rows = validation.map(|v| limit(v.rows, Stream::LimitValidation));

    let targets = Targets::new(spec, &train_rows)?;
    let label_column = super::table::ColumnPlan::from_spec(data).label;
    let to_items = |rows: Vec<Row>, split: &str| -> Result<Vec<Item>> {
        rows.into_iter()
            .enumerate()
            .map(|(i, row)| {
                let (label, target) = targets.assign(&row.label).map_err(|msg| {
                    DataError::new(
                        DataErrorKind::Target,
                        format!("{split} split, row {} (id {}): {msg}", i + 1, row.id),
                    )
                })?;
                let mut extra = row.extra;
                // Binned labels lose their number; keep it for the report's histogram.
                if matches!(targets, Targets::Bins(..)) {
                    extra.entry(label_column.clone()).or_insert(row.label);
                }
                Ok(Item {
                    id: row.id,
                    text: clean_text(&row.text, &data.clean),
                    label,
                    target,
                    extra,
                })
            })
            .collect()
    };
    let mut train_items = to_items(train_rows, "train")?;
    // `test: {fraction: F}` holds the test part out of train first, so the
    // validation split below only ever sees the rest.
    let test_items = match data.test.as_ref().and_then(|t| t.fraction()) {
        Some(fraction) => {
            let (rest, test) = hold_out(
                train_items,
                &targets,
                fraction,
                ("data.test.fraction", true),
                spec.seed,
                Stream::TestSplit,
            )?;
            train_items = rest;
            test
        }
        None => to_items(test_rows, "test")?,
    };
    let validation_items = match (val_rows, data.validation.fraction) {
        (Some(rows), _) => to_items(rows, "validation")?,
        (None, Some(fraction)) => {
            let (rest, val) = hold_out(
                train_items,
                &targets,
                fraction,
                ("data.validation.fraction", false),
                spec.seed,
                Stream::ValidationSplit,
            )?;
            train_items = rest;
            val
        }
        (None, None) => Vec::new(),
    };
    Ok(Prepared {
        classes: targets.classes().to_vec(),
        train: train_items,
        validation: validation_items,
        test: test_items,
        skipped_rows,
    })
}

/// Split `items` into (kept, held out) by a seeded stratified draw of
/// `fraction` on its own `stream`; errors name `field`. Classes are the strata;
/// regression targets are one stratum, or with `quantiles` [`REGRESSION_STRATA`]
/// quantile bins (the test split; the validation split keeps its original draw
/// so existing runs do not change).
fn hold_out(
    items: Vec<Item>,
    targets: &Targets,
    fraction: f64,
    (field, quantiles): (&str, bool),
    seed: u64,
    stream: Stream,
) -> Result<(Vec<Item>, Vec<Item>)> {
    let (strata, n_strata) = match targets {
        Targets::Regression if quantiles => quantile_strata(&items),
        Targets::Regression => (vec![0; items.len()], 1),
        _ => (
            items.iter().map(|it| it.target as usize).collect(),
            targets.classes().len(),
        ),
    };
    let mut rng = seeded_rng(seed, stream);
    let (_, held_idx) = stratified_split_for(field, &strata, n_strata, fraction, &mut rng)?;
    let mut held = vec![false; items.len()];
    for i in held_idx {
        held[i] = true;
    }
    let (mut kept, mut out) = (Vec::new(), Vec::new());
    for (item, h) in items.into_iter().zip(held) {
        if h {
            out.push(item);
        } else {
            kept.push(item);
        }
    }
    Ok((kept, out))
}

/// The cross-validation fold (0..k) of each training item: seeded and
/// stratified by class, or for regression (`n_classes` 0) by
/// [`REGRESSION_STRATA`] quantile bins of the target (see
/// [`super::split::stratified_folds`]). The same items, seed and `k` always
/// give the same folds.
pub fn fold_assignment(
    items: &[Item],
    n_classes: usize,
    k: usize,
    seed: u64,
) -> Result<Vec<usize>> {
    let (strata, n_strata) = if n_classes == 0 {
        quantile_strata(items)
    } else {
        (
            items.iter().map(|it| it.target as usize).collect(),
            n_classes,
        )
    };
    let mut rng = seeded_rng(seed, Stream::Folds);
    super::split::stratified_folds(&strata, n_strata, k, &mut rng)
}

/// How many quantile bins stratify a regression target's splits.
pub const REGRESSION_STRATA: usize = 5;

/// Each item's quantile bin of its target (ranked, ties by position), so a
/// held-out part covers the whole range of the target; fewer bins for few rows.
fn quantile_strata(items: &[Item]) -> (Vec<usize>, usize) {
    let n = items.len();
    let bins = REGRESSION_STRATA.min(n / 2).max(1);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| items[a].target.total_cmp(&items[b].target).then(a.cmp(&b)));
    let mut strata = vec![0; n];
    for (rank, &i) in order.iter().enumerate() {
        strata[i] = rank * bins / n.max(1);
    }
    (strata, bins)
}

/// How labels become targets.
enum Targets {
    /// Named classes: index in the list.
    Classes(Vec<String>, HashMap<String, usize>),
    /// Numeric bins: the index of the bin holding the value.
    Bins(Vec<String>, Vec<[f64; 2]>),
    /// The number itself.
    Regression,
}

impl Targets {
    /// Decide classes from the spec, or from the training rows when not given.
    fn new(spec: &Spec, train: &[Row]) -> Result<Targets> {
        let task = &spec.task;
        let kind = task.kind;
        let spec_err = |m: String| Err(DataError::new(DataErrorKind::Spec, m));
        if kind == TaskKind::Regression {
            if task.bins.is_some() {
                return spec_err(
                    "a regression task predicts the number itself; remove `task.bins`".into(),
                );
            }
            return Ok(Targets::Regression);
        }
        if let Some(bins) = &task.bins {
            if kind == TaskKind::Binary && bins.0.len() != 2 {
                return spec_err(format!(
                    "a binary task needs exactly 2 bins, `task.bins` has {}; use `type: multiclass`",
                    bins.0.len()
                ));
            }
            let mut names: Vec<String> = bins.0.iter().map(|(n, _)| n.clone()).collect();
            let mut ranges: Vec<[f64; 2]> = bins.0.iter().map(|(_, r)| *r).collect();
            if positive_first(task, &names)? {
                names.swap(0, 1);
                ranges.swap(0, 1);
            }
            return Ok(Targets::Bins(names, ranges));
        }
        let classes: Vec<String> = if task.classes.is_empty() {
            infer_classes(train)
        } else {
            let mut seen = BTreeSet::new();
            for c in &task.classes {
                if !seen.insert(c) {
                    return spec_err(format!("class `{c}` is listed twice in `task.classes`"));
                }
            }
            task.classes.clone()
        };
        let given = if task.classes.is_empty() {
            "the training split has"
        } else {
            "`task.classes` lists"
        };
        let shown = preview(&classes);
        if kind == TaskKind::Binary && classes.len() != 2 {
            return spec_err(format!(
                "a binary task needs exactly 2 classes, but {given} {}: {shown}; \
                 use `type: multiclass`, list the two classes in `task.classes`, or map labels with `task.bins`",
                classes.len()
            ));
        }
        if classes.len() < 2 {
            return spec_err(format!(
                "a classifier needs at least 2 classes, but {given} {}: {shown}",
                classes.len()
            ));
        }
        let mut classes = classes;
        if kind == TaskKind::Binary && positive_first(task, &classes)? {
            classes.swap(0, 1);
        }
        let index = classes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), i))
            .collect();
        Ok(Targets::Classes(classes, index))
    }

    /// Class names; empty for regression.
    fn classes(&self) -> &[String] {
        match self {
            Targets::Classes(c, _) | Targets::Bins(c, _) => c,
            Targets::Regression => &[],
        }
    }

    /// (label, target) for a label cell, or what is wrong with it.
    fn assign(&self, label: &str) -> std::result::Result<(String, f32), String> {
        match self {
            Targets::Classes(classes, index) => match index.get(label) {
                Some(&i) => Ok((label.to_string(), i as f32)),
                None => Err(format!(
                    "label `{label}` is not one of the classes: {}",
                    preview(classes)
                )),
            },
            Targets::Bins(names, ranges) => {
                let v = parse_number(label).ok_or_else(|| {
                    format!("expected a number to place in `task.bins`, found `{label}`")
                })?;
                match ranges.iter().position(|[lo, hi]| *lo <= v && v <= *hi) {
                    Some(i) => Ok((names[i].clone(), i as f32)),
                    None => Err(format!(
                        "value {v} is in no bin of `task.bins`: {}",
                        names
                            .iter()
                            .zip(ranges)
                            .map(|(n, [lo, hi])| format!("{n} [{lo}, {hi}]"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                }
            }
            Targets::Regression => {
                let v = parse_number(label).ok_or_else(|| {
                    format!("expected a number for a regression target, found `{label}`")
                })?;
                Ok((label.to_string(), v as f32))
            }
        }
    }
}

/// Whether `task.positive_class` is the first of the two `classes` (so the
/// two swap: the positive class is always the second in output order); an
/// error when it is neither of them.
fn positive_first(task: &crate::spec::TaskSpec, classes: &[String]) -> Result<bool> {
    let Some(positive) = &task.positive_class else {
        return Ok(false);
    };
    match classes.iter().position(|c| c == positive) {
        Some(i) => Ok(i == 0),
        None => Err(DataError::new(
            DataErrorKind::Spec,
            format!(
                "`task.positive_class` `{positive}` is not one of the classes: {}",
                preview(classes)
            ),
        )),
    }
}

/// A finite number, or `None`.
fn parse_number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Sorted distinct labels: numerically when all are numbers, by text otherwise.
pub fn infer_classes(rows: &[Row]) -> Vec<String> {
    let distinct: BTreeSet<&str> = rows.iter().map(|r| r.label.as_str()).collect();
    let mut classes: Vec<String> = distinct.into_iter().map(str::to_string).collect();
    let numbers: Option<Vec<f64>> = classes.iter().map(|c| parse_number(c)).collect();
    if let Some(nums) = numbers {
        let mut pairs: Vec<(f64, String)> = nums.into_iter().zip(classes).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        classes = pairs.into_iter().map(|p| p.1).collect();
    }
    classes
}

/// The first few names, for messages.
fn preview(names: &[String]) -> String {
    let mut s = names
        .iter()
        .take(12)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > 12 {
        s.push_str(&format!(", … ({} in all)", names.len()));
    }
    s
}
