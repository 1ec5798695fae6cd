//! Comparing finished runs (their [`RunRecord`]s): the settings that differ
//! between runs, and the comparison as a terminal table or a self-contained
//! HTML page (a tera template) with overlaid learning curves.

use super::record::RunRecord;
use super::selection::{
    is_selection_metric, lower_is_better, validation_metrics, SELECTION_METRICS,
};
use anyhow::{bail, Result};
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Metrics shown when none are chosen, in this order, where present.
pub const DEFAULT_METRICS: &[&str] = &["accuracy", "cohen_kappa", "f1", "f1_macro"];

/// Cross-validation metrics scored on the folds shown when none are chosen
/// (after [`SELECTION_METRICS`]), each mean then std, where present; the
/// others (`cv_val_mae`, ...) are shown when named with `--metrics` or `--sort`.
pub const DEFAULT_CV_SCORED: &[&str] = &[
    "cv_val_cohen_kappa",
    "cv_val_cohen_kappa_std",
    "cv_val_cohen_kappa_quadratic",
    "cv_val_cohen_kappa_quadratic_std",
    "cv_val_f1",
    "cv_val_f1_std",
    "cv_val_f1_macro",
    "cv_val_f1_macro_std",
];

/// A JSON value flattened to (dotted path, leaf value): objects add `.key`,
/// arrays `[i]` (e.g. `model.layers[1].dense.units`); empty containers are leaves.
pub fn flatten(value: &Value) -> Vec<(String, Value)> {
    fn walk(prefix: &str, v: &Value, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, x) in m {
                    let p = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&p, x, out);
                }
            }
            Value::Array(a) if !a.is_empty() => {
                for (i, x) in a.iter().enumerate() {
                    walk(&format!("{prefix}[{i}]"), x, out);
                }
            }
            leaf => out.push((prefix.to_string(), leaf.clone())),
        }
    }
    let mut out = Vec::new();
    walk("", value, &mut out);
    out
}

/// The dotted settings whose values are not the same in every record (a
/// setting missing from some records counts as differing), in order of first
/// appearance; `name` is left out.
pub fn differing_settings(records: &[RunRecord]) -> Vec<String> {
    let flat: Vec<BTreeMap<String, Value>> = records
        .iter()
        .map(|r| flatten(&r.spec).into_iter().collect())
        .collect();
    let mut order: Vec<String> = Vec::new();
    for r in records {
        for (p, _) in flatten(&r.spec) {
            if !order.contains(&p) {
                order.push(p);
            }
        }
    }
    order
        .into_iter()
        .filter(|p| p != "name")
        .filter(|p| {
            let first = flat.first().and_then(|f| f.get(p));
            flat.iter().any(|f| f.get(p) != first)
        })
        .collect()
}

/// A comparison of runs, ready to print as a table or a page.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The runs, in display (sorted) order.
    pub records: Vec<RunRecord>,
    /// Dotted paths of the settings that differ.
    pub settings: Vec<String>,
    /// Column headers for `settings` (the last path part where unique).
    pub setting_labels: Vec<String>,
    /// Validation metrics shown (first, as the ones to choose by).
    pub validation_metrics: Vec<String>,
    /// Test metrics shown (after the validation ones, labelled `test:`).
    pub metrics: Vec<String>,
    /// The column sorted by, if any, and whether descending.
    pub sorted_by: Option<(String, bool)>,
    /// The runs a `select:` chose (one per spec), marked in the table and the page.
    pub selected: Vec<String>,
    /// Index in `records` of the run the page compares settings with (the
    /// first run unless [`Comparison::set_baseline`] chose another).
    pub baseline: usize,
    /// McNemar's test against a baseline run (see `compare_mcnemar.rs`):
    /// the baseline's name and, per run name, the p-value as shown.
    pub mcnemar: Option<(String, BTreeMap<String, String>)>,
}

/// Where a column's values come from.
enum Key {
    Validation(String),
    Metric(String),
    Setting(String),
}

impl Comparison {
    /// Choose columns and sort. `metrics` empty means [`DEFAULT_METRICS`]
    /// where present; a chosen metric must exist in some record. `sort_by`
    /// names a metric (added to the columns if not chosen; `test:` may prefix
    /// a test metric), a validation metric ([`SELECTION_METRICS`]; losses
    /// always sort smallest first) or a differing setting (dotted path or
    /// column label); runs missing the value sort last. Validation metrics
    /// come from each record's `validation` (or its history).
    pub fn new(
        records: &[RunRecord],
        metrics: &[String],
        sort_by: Option<&str>,
        descending: bool,
    ) -> Result<Comparison> {
        if records.is_empty() {
            bail!("nothing to compare: no runs given");
        }
        let mut rows: Vec<RunRecord> = records.to_vec();
        for r in &mut rows {
            if r.validation.is_empty() {
                r.validation = validation_metrics(&r.history);
            }
        }
        let (asked_validation, metrics): (Vec<String>, Vec<String>) = metrics
            .iter()
            .map(|m| m.strip_prefix("test:").unwrap_or(m).to_string())
            .partition(|m| is_selection_metric(m));
        let metrics = &metrics[..];
        let present = |m: &str| rows.iter().any(|r| r.validation.contains_key(m));
        let mut validation_chosen: Vec<String> = if asked_validation.is_empty() {
            SELECTION_METRICS
                .iter()
                .chain(DEFAULT_CV_SCORED)
                .filter(|m| present(m))
                .map(|m| m.to_string())
                .collect()
        } else {
            let mut order: Vec<&str> = SELECTION_METRICS.to_vec();
            order.extend(asked_validation.iter().map(String::as_str));
            let mut out: Vec<String> = Vec::new();
            for m in order {
                if present(m)
                    && asked_validation.iter().any(|a| a == m)
                    && !out.iter().any(|o| o == m)
                {
                    out.push(m.to_string());
                }
            }
            out
        };
        let sort_by = sort_by.map(|k| k.strip_prefix("test:").unwrap_or(k));
        let mut scalar_names: Vec<&str> = Vec::new();
        for r in records {
            for (k, _) in r.metrics.scalars() {
                if !scalar_names.contains(&k) {
                    scalar_names.push(k);
                }
            }
        }
        let mut chosen: Vec<String> = if metrics.is_empty() && !asked_validation.is_empty() {
            Vec::new()
        } else if metrics.is_empty() {
            DEFAULT_METRICS
                .iter()
                .filter(|m| scalar_names.contains(m))
                .map(|m| m.to_string())
                .collect()
        } else {
            for m in metrics {
                if !scalar_names.contains(&m.as_str()) {
                    bail!("{}", unknown_metric(m, &scalar_names));
                }
            }
            metrics.to_vec()
        };
        let settings = shown_settings(records);
        let setting_labels = short_labels(&settings);
        let mut sorted_by = None;
        if let Some(key) = sort_by {
            let mut descending = descending;
            let k = if is_selection_metric(key) {
                if !validation_chosen.iter().any(|m| m == key) {
                    validation_chosen.push(key.to_string());
                }
                descending &= !lower_is_better(key);
                Key::Validation(key.to_string())
            } else if scalar_names.contains(&key) {
                if !chosen.iter().any(|m| m == key) {
                    chosen.push(key.to_string());
                }
                Key::Metric(key.to_string())
            } else if let Some(i) = settings
                .iter()
                .zip(&setting_labels)
                .position(|(p, l)| p == key || l == key)
            {
                Key::Setting(settings[i].clone())
            } else {
                let mut msg = unknown_metric(key, &scalar_names);
                let _ = write!(
                    msg,
                    "; or a validation metric: {}, or cv_val_<metric> (and its _std) for a metric scored on the folds",
                    SELECTION_METRICS.join(", ")
                );
                if !settings.is_empty() {
                    let _ = write!(msg, "; or a differing setting: {}", settings.join(", "));
                }
                bail!("cannot sort by `{key}`: {msg}");
            };
            let value_of = |r: &RunRecord| -> Option<Value> {
                match &k {
                    Key::Validation(m) => r.validation.get(m).cloned(),
                    Key::Metric(m) => r.metrics.scalar(m).map(Value::from),
                    Key::Setting(p) => setting_value(r, p),
                }
                .filter(|v| !v.is_null())
            };
            let mut keyed: Vec<(Option<Value>, RunRecord)> =
                rows.into_iter().map(|r| (value_of(&r), r)).collect();
            keyed.sort_by(|(a, _), (b, _)| match (a, b) {
                (Some(x), Some(y)) => {
                    let o = cmp_values(x, y);
                    if descending {
                        o.reverse()
                    } else {
                        o
                    }
                }
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            });
            rows = keyed.into_iter().map(|(_, r)| r).collect();
            let label = match &k {
                Key::Validation(m) | Key::Metric(m) => m.clone(),
                Key::Setting(p) => p.clone(),
            };
            sorted_by = Some((label, descending));
        }
        Ok(Comparison {
            records: rows,
            settings,
            setting_labels,
            validation_metrics: validation_chosen,
            metrics: chosen,
            sorted_by,
            selected: Vec::new(),
            baseline: 0,
            mcnemar: None,
        })
    }

    /// Compare every run's settings with run `name` instead of the first.
    pub fn set_baseline(&mut self, name: &str) -> Result<()> {
        match self.records.iter().position(|r| r.name == name) {
            Some(i) => {
                self.baseline = i;
                Ok(())
            }
            None => {
                let names: Vec<&str> = self.records.iter().map(|r| r.name.as_str()).collect();
                let hint = crate::spec::nearest(name, &names)
                    .map(|n| format!(" (did you mean `{n}`?)"))
                    .unwrap_or_default();
                bail!(
                    "--baseline `{name}` is not one of the compared runs{hint}; runs: {}",
                    names.join(", ")
                )
            }
        }
    }

    /// Mark run `name` as the one a `select:` chose.
    pub fn mark_selected(&mut self, name: &str) {
        self.selected.push(name.to_string());
    }

    /// Header and cells (all as text), plus which columns are numeric.
    pub(super) fn grid(&self) -> (Vec<String>, Vec<Vec<String>>, Vec<bool>) {
        let mut header = vec!["name".to_string()];
        header.extend(self.setting_labels.iter().cloned());
        header.extend(self.validation_metrics.iter().cloned());
        header.extend(self.metrics.iter().map(|m| format!("test:{m}")));
        let mut numeric = vec![false; 1 + self.settings.len()];
        numeric.extend(std::iter::repeat_n(
            true,
            self.validation_metrics.len() + self.metrics.len(),
        ));
        let number = |v: Option<&Value>| match v {
            None => "-".to_string(),
            Some(v) => v.as_f64().map_or("n/a".to_string(), |x| {
                if v.is_u64() {
                    x.to_string()
                } else {
                    format!("{x:.4}")
                }
            }),
        };
        if let Some((baseline, _)) = &self.mcnemar {
            header.push(format!("p vs {baseline} (McNemar)"));
            numeric.push(true);
        }
        let rows =
            self.records
                .iter()
                .map(|r| {
                    let mut row = vec![if self.selected.contains(&r.name) {
                        format!("{} (selected)", r.name)
                    } else {
                        r.name.clone()
                    }];
                    row.extend(self.settings.iter().map(|p| {
                        setting_value(r, p).map_or("-".to_string(), |v| setting_text(&v))
                    }));
                    row.extend(
                        self.validation_metrics
                            .iter()
                            .map(|m| number(r.validation.get(m))),
                    );
                    row.extend(
                        self.metrics
                            .iter()
                            .map(|m| match r.metrics.scalar_entry(m) {
                                None => "-".to_string(),
                                Some(v) => v.map_or("n/a".to_string(), |x| format!("{x:.4}")),
                            }),
                    );
                    if let Some((_, p)) = &self.mcnemar {
                        row.push(p.get(&r.name).cloned().unwrap_or_else(|| "-".into()));
                    }
                    row
                })
                .collect();
        (header, rows, numeric)
    }

    /// The terminal table: aligned columns (text left, numbers right), a
    /// dashed rule under the header; `-` for a missing value, `n/a` for an
    /// undefined metric.
    pub fn text(&self) -> String {
        let (header, rows, numeric) = self.grid();
        let width = |s: &str| s.chars().count();
        let widths: Vec<usize> = (0..header.len())
            .map(|c| {
                rows.iter()
                    .map(|r| width(&r[c]))
                    .chain([width(&header[c])])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (c, cell) in cells.iter().enumerate() {
                if c > 0 {
                    s.push_str("  ");
                }
                let pad = " ".repeat(widths[c] - width(cell));
                if numeric[c] {
                    s.push_str(&pad);
                    s.push_str(cell);
                } else {
                    s.push_str(cell);
                    s.push_str(&pad);
                }
            }
            s.trim_end().to_string()
        };
        let mut out = line(&header);
        out.push('\n');
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        out.push_str(&rule.join("  "));
        out.push('\n');
        for r in &rows {
            out.push_str(&line(r));
            out.push('\n');
        }
        out
    }
}

/// The terminal table for `records` (see [`Comparison::new`] and [`Comparison::text`]).
pub fn table(
    records: &[RunRecord],
    metrics: &[String],
    sort_by: Option<&str>,
    descending: bool,
) -> Result<String> {
    Ok(Comparison::new(records, metrics, sort_by, descending)?.text())
}

/// The comparison page for `records` (see [`Comparison::new`] and [`Comparison::html`]).
pub fn comparison_html(
    records: &[RunRecord],
    metrics: &[String],
    sort_by: Option<&str>,
    descending: bool,
) -> Result<String> {
    Comparison::new(records, metrics, sort_by, descending)?.html()
}

/// (epoch, value) points of `key` in a history; the epoch is the record's
/// `epoch` field when present, else its 1-based position.
pub(super) fn curve(history: &[Value], key: &str) -> Vec<(f64, f64)> {
    history
        .iter()
        .enumerate()
        .filter_map(|(i, rec)| {
            let y = rec.get(key)?.as_f64()?;
            let x = rec
                .get("epoch")
                .and_then(Value::as_f64)
                .unwrap_or((i + 1) as f64);
            Some((x, y))
        })
        .collect()
}

fn unknown_metric(name: &str, available: &[&str]) -> String {
    let hint = crate::spec::nearest(name, available)
        .map(|n| format!(" (did you mean `{n}`?)"))
        .unwrap_or_default();
    format!(
        "no run has a metric `{name}`{hint}; metrics available: {}",
        available.join(", ")
    )
}

/// Numbers by value, strings alphabetically, anything else by its JSON text.
fn cmp_values(a: &Value, b: &Value) -> Ordering {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        _ => match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => x.cmp(y),
            _ => a.to_string().cmp(&b.to_string()),
        },
    }
}

/// The pseudo-setting standing for the whole layer stack: its value is the
/// stack's one-line summary, so stacks are compared as stacks, not layer
/// settings by position.
pub const LAYERS: &str = "model.layers";

/// Whether a setting path is shown as a setting: not the name, the report's
/// title and author or any other `report.*` option (they change no result),
/// nor a single layer's setting (the stack is compared whole, see [`LAYERS`]).
fn is_shown_setting(path: &str) -> bool {
    !(path == "name"
        || path == "title"
        || path == "author"
        || path == "report"
        || path.starts_with("report.")
        || path.starts_with("model.layers"))
}

/// The settings compared: [`differing_settings`] without those
/// [`is_shown_setting`] leaves out, with [`LAYERS`] where the first layer
/// setting was when the stacks differ.
pub fn shown_settings(records: &[RunRecord]) -> Vec<String> {
    let stacks: Vec<String> = records
        .iter()
        .map(|r| super::layer_stack::stack_summary(&r.spec))
        .collect();
    let stacks_differ = stacks.iter().any(|s| Some(s) != stacks.first());
    let mut out = Vec::new();
    for p in differing_settings(records) {
        if p.starts_with("model.layers") {
            if stacks_differ && !out.iter().any(|x| x == LAYERS) {
                out.push(LAYERS.to_string());
            }
        } else if is_shown_setting(&p) {
            out.push(p);
        }
    }
    out
}

/// A run's value of a setting path ([`LAYERS`]: its stack summary).
pub(super) fn setting_value(r: &RunRecord, path: &str) -> Option<Value> {
    if path == LAYERS {
        return Some(Value::String(super::layer_stack::stack_summary(&r.spec)));
    }
    flatten(&r.spec)
        .into_iter()
        .find(|(q, _)| q == path)
        .map(|x| x.1)
}

pub(super) fn setting_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Column labels: the last dotted part of each path, or the whole path where
/// that part would be ambiguous.
fn short_labels(paths: &[String]) -> Vec<String> {
    let last: Vec<&str> = paths
        .iter()
        .map(|p| p.rsplit('.').next().unwrap_or(p))
        .collect();
    paths
        .iter()
        .zip(&last)
        .map(|(p, l)| {
            if last.iter().filter(|x| *x == l).count() > 1 {
                p.clone()
            } else {
                l.to_string()
            }
        })
        .collect()
}
