//! Data exploration for the report: the numeric label's histogram, review
//! length per class, the most frequent values of short categorical columns
//! and the most indicative words per class.
//!
//! Each part is computed only when the data has something to show; IMDB, with
//! a text label and no extra columns, gets only the indicative words.

use crate::data::{ColumnPlan, Item, Prepared};
use crate::report::{ClassLength, Exploration};
use crate::spec::{Spec, TaskKind, TokenizerSpec};
use crate::text::text_to_word_sequence;
use std::collections::{BTreeMap, HashMap};

/// Values shown per categorical column.
pub const TOP_VALUES: usize = 10;
/// Words shown per class.
pub const TOP_WORDS: usize = 10;
/// A word needs this many occurrences in the training split to be ranked.
pub const MIN_WORD_COUNT: u64 = 5;
/// Distinct numeric label values shown one bar each; more are binned.
pub const MAX_LABEL_BARS: usize = 50;
/// Bins of a histogram over many distinct label values.
pub const LABEL_BINS: usize = 20;
/// A column is categorical when its distinct values are at most this
/// fraction of its non-empty cells (which leaves out ids and other unique
/// values; Druglib's free-form `condition` has about 45% distinct values over
/// all rows and about 62% in a 600-row sample) ...
pub const MAX_DISTINCT_FRACTION: f64 = 0.75;
/// ... and its non-empty cells average at most this many characters (free
/// text such as review fields is longer).
pub const MAX_MEAN_CHARS: f64 = 50.0;
/// Smoothing added to every word count in the log-odds ratio.
pub const LOG_ODDS_ALPHA: f64 = 1.0;
/// Most classes that get their own word list (a regression with more
/// distinct rounded values gets none).
pub const MAX_WORD_CLASSES: usize = 12;

/// The report's exploration section, or `None` when there is nothing to show.
///
/// - Label histogram over all splits (train, validation, test): the regression
///   target, or with `task.bins` the number before binning (kept by `prepare`
///   in the item's extras under the label column's name).
/// - Length per class and indicative words on the training split only (so
///   nothing about the test split is looked at).
/// - Top values over all splits, see [`top_values`] for the column rule.
pub fn explore(spec: &Spec, p: &Prepared) -> Option<Exploration> {
    let label_name = spec
        .data
        .as_ref()
        .map(|d| ColumnPlan::from_spec(d).label)
        .unwrap_or_else(|| "label".to_string());
    let all: Vec<&Item> = p.train.iter().chain(&p.validation).chain(&p.test).collect();
    let numbers: Vec<f64> = match (spec.task.kind, &spec.task.bins) {
        (TaskKind::Regression, _) => all.iter().map(|i| i.target as f64).collect(),
        (_, Some(_)) => all
            .iter()
            .filter_map(|i| i.extra.get(&label_name))
            .filter_map(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite())
            .collect(),
        _ => Vec::new(),
    };
    let label_counts = label_histogram(&numbers);
    let groups = class_groups(spec, p);
    let length_by_class = length_by_class(&groups);
    let skip: Vec<&str> = if spec.task.bins.is_some() {
        vec![label_name.as_str()]
    } else {
        Vec::new()
    };
    let top_values = top_values(&all, &skip, TOP_VALUES);
    let mut indicative_words = if groups.len() >= 2 && groups.len() <= MAX_WORD_CLASSES {
        indicative_words(
            &groups,
            &TokenizerSpec::default(),
            MIN_WORD_COUNT,
            TOP_WORDS,
        )
    } else {
        Vec::new()
    };
    if indicative_words.iter().all(|(_, w)| w.is_empty()) {
        indicative_words.clear();
    }
    let e = Exploration {
        label_name,
        label_counts,
        length_by_class,
        top_values,
        indicative_words,
    };
    let empty =
        e.label_counts.is_empty() && e.top_values.is_empty() && e.indicative_words.is_empty();
    (!empty).then_some(e)
}

/// Training texts grouped by class, in class order. Regression groups by the
/// rounded target (ascending).
fn class_groups<'a>(spec: &Spec, p: &'a Prepared) -> Vec<(String, Vec<&'a str>)> {
    if spec.task.kind == TaskKind::Regression {
        let mut by: BTreeMap<i64, Vec<&str>> = BTreeMap::new();
        for i in &p.train {
            if i.target.is_finite() {
                by.entry(i.target.round() as i64).or_default().push(&i.text);
            }
        }
        return by.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    }
    let mut groups: Vec<(String, Vec<&str>)> =
        p.classes.iter().map(|c| (c.clone(), Vec::new())).collect();
    for i in &p.train {
        if let Some(g) = groups.get_mut(i.target as usize) {
            g.1.push(&i.text);
        }
    }
    groups
}

/// Counts per numeric label value, in ascending order.
///
/// Up to [`MAX_LABEL_BARS`] distinct values get one entry each; when they are
/// all integers the gaps are filled with zero counts (a rating nobody gave
/// still shows). More distinct values are put in [`LABEL_BINS`] equal-width
/// bins labelled `lo–hi`. Empty input gives an empty list.
pub fn label_histogram(values: &[f64]) -> Vec<(String, u64)> {
    let mut distinct: BTreeMap<u64, (f64, u64)> = BTreeMap::new();
    for &v in values.iter().filter(|v| v.is_finite()) {
        // Order by the value's total order key; -0.0 and 0.0 are merged.
        let v = if v == 0.0 { 0.0 } else { v };
        distinct.entry(order_key(v)).or_insert((v, 0)).1 += 1;
    }
    if distinct.is_empty() {
        return Vec::new();
    }
    let entries: Vec<(f64, u64)> = distinct.into_values().collect();
    let all_int = entries.iter().all(|(v, _)| v.fract() == 0.0);
    let (lo, hi) = (entries[0].0, entries[entries.len() - 1].0);
    if all_int && hi - lo < MAX_LABEL_BARS as f64 {
        let mut out: Vec<(String, u64)> = Vec::new();
        let mut it = entries.iter().peekable();
        let mut v = lo;
        while v <= hi {
            let n = match it.peek() {
                Some((x, n)) if *x == v => {
                    it.next();
                    *n
                }
                _ => 0,
            };
            out.push((super::score::format_rounded(v), n));
            v += 1.0;
        }
        return out;
    }
    if entries.len() <= MAX_LABEL_BARS {
        return entries.iter().map(|(v, n)| (format!("{v}"), *n)).collect();
    }
    let width = (hi - lo) / LABEL_BINS as f64;
    let mut counts = vec![0u64; LABEL_BINS];
    for (v, n) in &entries {
        let k = (((v - lo) / width) as usize).min(LABEL_BINS - 1);
        counts[k] += n;
    }
    counts
        .into_iter()
        .enumerate()
        .map(|(k, n)| {
            let a = lo + width * k as f64;
            (format!("{}–{}", short(a), short(a + width)), n)
        })
        .collect()
}

/// A sortable key for a finite f64 (sign-flipped bits).
fn order_key(v: f64) -> u64 {
    let b = v.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

fn short(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Median and mean words (whitespace-separated, as in the data summary) per
/// class; classes without texts are left out.
pub fn length_by_class(groups: &[(String, Vec<&str>)]) -> Vec<ClassLength> {
    groups
        .iter()
        .filter(|(_, texts)| !texts.is_empty())
        .map(|(class, texts)| {
            let mut n: Vec<u64> = texts
                .iter()
                .map(|t| t.split_whitespace().count() as u64)
                .collect();
            n.sort_unstable();
            let k = n.len();
            let median = if k % 2 == 1 {
                n[k / 2] as f64
            } else {
                (n[k / 2 - 1] + n[k / 2]) as f64 / 2.0
            };
            ClassLength {
                class: class.clone(),
                count: k as u64,
                median,
                mean: n.iter().sum::<u64>() as f64 / k as f64,
            }
        })
        .collect()
}

/// The `top` most frequent values of each categorical extra column, columns
/// in name order.
///
/// Values are trimmed and lower-cased before counting (`Depression` and
/// `depression` are one condition); empty cells are not counted. A column is
/// categorical when it has non-empty cells, its distinct values are at most
/// [`MAX_DISTINCT_FRACTION`] of them, its cells average at most
/// [`MAX_MEAN_CHARS`] characters (which leaves out free text) and its most
/// frequent value occurs at least twice. Ties are broken by value. Columns in
/// `skip` are left out.
pub fn top_values(items: &[&Item], skip: &[&str], top: usize) -> Vec<(String, Vec<(String, u64)>)> {
    let mut columns: BTreeMap<&str, HashMap<String, u64>> = BTreeMap::new();
    let mut chars: HashMap<&str, usize> = HashMap::new();
    for item in items {
        for (col, value) in &item.extra {
            if skip.contains(&col.as_str()) {
                continue;
            }
            let counts = columns.entry(col).or_default();
            let v = value.trim().to_lowercase();
            if v.is_empty() {
                continue;
            }
            *chars.entry(col).or_default() += v.chars().count();
            *counts.entry(v).or_default() += 1;
        }
    }
    columns
        .into_iter()
        .filter_map(|(col, counts)| {
            let cells: u64 = counts.values().sum();
            if cells == 0 {
                return None;
            }
            let mean_chars = chars.get(col).copied().unwrap_or(0) as f64 / cells as f64;
            let mut sorted: Vec<(String, u64)> = counts.into_iter().collect();
            if sorted.len() as f64 > MAX_DISTINCT_FRACTION * cells as f64
                || mean_chars > MAX_MEAN_CHARS
            {
                return None;
            }
            sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            if sorted[0].1 < 2 {
                return None;
            }
            sorted.truncate(top);
            Some((col.to_string(), sorted))
        })
        .collect()
}

/// The `top` words per class by the z-scored smoothed log-odds ratio of the
/// class against all other classes together (Monroe, Colaresi & Quinn 2008,
/// "Fightin' Words", with a uniform prior).
///
/// Words are the tokens of `tokenizer` (Keras `text_to_word_sequence`), each
/// further split on Unicode whitespace (Keras splits on `split` only, which
/// would keep e.g. a no-break space inside a token); counts are token
/// occurrences. For a word `w` with count `a` in the class (of `A` ranked
/// tokens) and `b` in the rest (of `B`), with `V` words ranked and
/// `α` = [`LOG_ODDS_ALPHA`]:
///
/// `δ = ln((a+α) / (A+αV − a−α)) − ln((b+α) / (B+αV − b−α))`,
/// `score = δ / sqrt(1/(a+α) + 1/(b+α))`.
///
/// `δ` is the log odds ratio of drawing `w` from the class versus the rest;
/// dividing by its approximate standard deviation keeps rare words (a drug
/// named five times in one class) from crowding out frequent, telling ones.
/// Only words occurring at least `min_count` times in all groups together are
/// ranked, and only words with a positive score are listed; ties are broken
/// alphabetically. Classes keep their order; a class without texts gets an
/// empty list.
pub fn indicative_words(
    groups: &[(String, Vec<&str>)],
    tokenizer: &TokenizerSpec,
    min_count: u64,
    top: usize,
) -> Vec<(String, Vec<(String, f64)>)> {
    let k = groups.len();
    let mut counts: HashMap<String, Vec<u64>> = HashMap::new();
    for (c, (_, texts)) in groups.iter().enumerate() {
        for t in texts {
            for token in text_to_word_sequence(t, tokenizer) {
                for w in token.split_whitespace() {
                    match counts.get_mut(w) {
                        Some(v) => v[c] += 1,
                        None => {
                            let mut v = vec![0; k];
                            v[c] = 1;
                            counts.insert(w.to_string(), v);
                        }
                    }
                }
            }
        }
    }
    counts.retain(|_, v| v.iter().sum::<u64>() >= min_count);
    let vocab = counts.len() as f64;
    // Totals over the ranked words only, so that the odds are over one vocabulary.
    let mut kept = vec![0u64; k];
    for v in counts.values() {
        for (c, n) in v.iter().enumerate() {
            kept[c] += n;
        }
    }
    let all: u64 = kept.iter().sum();
    let alpha = LOG_ODDS_ALPHA;
    let log_odds = |n: f64, total: f64| ((n + alpha) / (total + alpha * vocab - n - alpha)).ln();
    groups
        .iter()
        .enumerate()
        .map(|(c, (class, _))| {
            let (a_tot, b_tot) = (kept[c] as f64, (all - kept[c]) as f64);
            let mut scored: Vec<(String, f64)> = if kept[c] == 0 {
                Vec::new()
            } else {
                counts
                    .iter()
                    .map(|(w, v)| {
                        let a = v[c] as f64;
                        let b = v.iter().sum::<u64>() as f64 - a;
                        let delta = log_odds(a, a_tot) - log_odds(b, b_tot);
                        let sd = (1.0 / (a + alpha) + 1.0 / (b + alpha)).sqrt();
                        (w.clone(), delta / sd)
                    })
                    .filter(|(_, s)| *s > 0.0)
                    .collect()
            };
            scored.sort_by(|x, y| y.1.total_cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
            scored.truncate(top);
            (class.clone(), scored)
        })
        .collect()
}
