//! Comparing finished runs: the per-run record the runner saves under
//! `<cache-dir>/runs/`, the settings that differ between runs, and the
//! comparison as a terminal table or a self-contained HTML page with
//! overlaid learning curves.

use crate::report::svg::{escape_xml as html_escape, line_chart, Series, PALETTE};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Folder under the cache dir holding one record per run.
pub const RUNS_DIR: &str = "runs";

/// Metrics shown when none are chosen, in this order, where present.
pub const DEFAULT_METRICS: &[&str] = &["accuracy", "cohen_kappa", "f1", "f1_macro"];

/// What `kerros compare` needs from one finished run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Experiment (or variant) name.
    pub name: String,
    /// The resolved spec, as JSON.
    pub spec: Value,
    /// Test metrics, as in `kerros run --json`.
    pub metrics: BTreeMap<String, Value>,
    /// Per-epoch records (`loss`, `accuracy`, `val_loss`, `val_accuracy`, ...).
    #[serde(default)]
    pub history: Vec<Value>,
    /// Path of the run's HTML report.
    #[serde(default)]
    pub report: Option<String>,
}

/// Where the record of run `name` lives: `<cache-dir>/runs/<file>.json`. The
/// file name keeps ASCII letters, digits and `-_.=,[]+` of the lower-cased
/// name; when anything had to change, a short hash of the exact name is
/// appended, so distinct names never share a file (also on case-insensitive
/// file systems).
pub fn record_path(cache_dir: &Path, name: &str) -> PathBuf {
    let mut safe: String = name
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || "-_.=,[]+".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.starts_with('.') {
        safe.replace_range(0..1, "_");
    }
    if safe != name || safe.len() > 100 {
        let hash = blake3::hash(name.as_bytes()).to_hex();
        safe = format!("{}-{}", &safe[..safe.len().min(100)], &hash[..8]);
    }
    cache_dir.join(RUNS_DIR).join(format!("{safe}.json"))
}

/// Write `record` to [`record_path`] atomically (a temporary file renamed into
/// place), creating `runs/`; an identical file is left as it is. Returns the
/// path.
pub fn save_record(cache_dir: &Path, record: &RunRecord) -> Result<PathBuf> {
    let path = record_path(cache_dir, &record.name);
    let dir = cache_dir.join(RUNS_DIR);
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the run records folder {}", dir.display()))?;
    let mut bytes = serde_json::to_vec_pretty(record).context("cannot serialise the run record")?;
    bytes.push(b'\n');
    // Unchanged (a cached rerun): leave the file alone, so such a run
    // writes nothing into the cache.
    crate::cache::write_file_atomically(&path, &bytes, true)
        .with_context(|| format!("cannot write the run record {}", path.display()))?;
    Ok(path)
}

/// Read one run record.
pub fn load_record(path: &Path) -> Result<RunRecord> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the run record {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a kerros run record", path.display()))
}

/// Every run record under `<cache-dir>/runs/`, sorted by name. A missing
/// folder gives an error saying that no run has finished there yet.
pub fn load_records(cache_dir: &Path) -> Result<Vec<RunRecord>> {
    let dir = cache_dir.join(RUNS_DIR);
    let entries = std::fs::read_dir(&dir).with_context(|| {
        format!(
            "no finished runs in {} (run `kerros run` with the same --cache-dir first)",
            dir.display()
        )
    })?;
    let mut out = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if !hidden && path.extension().is_some_and(|e| e == "json") {
            out.push(load_record(&path)?);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

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
    /// Metrics shown.
    pub metrics: Vec<String>,
    /// The column sorted by, if any, and whether descending.
    pub sorted_by: Option<(String, bool)>,
}

impl Comparison {
    /// Choose columns and sort. `metrics` empty means [`DEFAULT_METRICS`]
    /// where present; a chosen metric must exist in some record. `sort_by`
    /// names a metric (added to the columns if not chosen) or a differing
    /// setting (dotted path or column label); runs missing the value sort last.
    pub fn new(
        records: &[RunRecord],
        metrics: &[String],
        sort_by: Option<&str>,
        descending: bool,
    ) -> Result<Comparison> {
        if records.is_empty() {
            bail!("nothing to compare: no runs given");
        }
        let mut scalar_names: Vec<&str> = Vec::new();
        for r in records {
            for (k, v) in &r.metrics {
                if (v.is_number() || v.is_null()) && !scalar_names.contains(&k.as_str()) {
                    scalar_names.push(k);
                }
            }
        }
        let mut chosen: Vec<String> = if metrics.is_empty() {
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
        let settings = differing_settings(records);
        let setting_labels = short_labels(&settings);
        let mut rows: Vec<RunRecord> = records.to_vec();
        let mut sorted_by = None;
        if let Some(key) = sort_by {
            enum Key {
                Metric(String),
                Setting(String),
            }
            let k = if scalar_names.contains(&key) {
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
                if !settings.is_empty() {
                    let _ = write!(msg, "; or a differing setting: {}", settings.join(", "));
                }
                bail!("cannot sort by `{key}`: {msg}");
            };
            let value_of = |r: &RunRecord| -> Option<Value> {
                match &k {
                    Key::Metric(m) => r.metrics.get(m).cloned(),
                    Key::Setting(p) => flatten(&r.spec)
                        .into_iter()
                        .find(|(q, _)| q == p)
                        .map(|x| x.1),
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
                Key::Metric(m) => m.clone(),
                Key::Setting(p) => p.clone(),
            };
            sorted_by = Some((label, descending));
        }
        Ok(Comparison {
            records: rows,
            settings,
            setting_labels,
            metrics: chosen,
            sorted_by,
        })
    }

    /// Header and cells (all as text), plus which columns are numeric.
    fn grid(&self) -> (Vec<String>, Vec<Vec<String>>, Vec<bool>) {
        let mut header = vec!["name".to_string()];
        header.extend(self.setting_labels.iter().cloned());
        header.extend(self.metrics.iter().cloned());
        let mut numeric = vec![false; 1 + self.settings.len()];
        numeric.extend(std::iter::repeat_n(true, self.metrics.len()));
        let rows = self
            .records
            .iter()
            .map(|r| {
                let flat: BTreeMap<String, Value> = flatten(&r.spec).into_iter().collect();
                let mut row = vec![r.name.clone()];
                row.extend(
                    self.settings
                        .iter()
                        .map(|p| flat.get(p).map_or("-".to_string(), setting_text)),
                );
                row.extend(self.metrics.iter().map(|m| match r.metrics.get(m) {
                    None => "-".to_string(),
                    Some(v) => v.as_f64().map_or("n/a".to_string(), |x| format!("{x:.4}")),
                }));
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

    /// A self-contained HTML page: the table, then validation accuracy and
    /// validation loss by epoch, one coloured line per run.
    pub fn html(&self) -> String {
        let (header, rows, numeric) = self.grid();
        let mut h = String::new();
        h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>kerros comparison</title><style>\n");
        h.push_str(
            "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
             table{border-collapse:collapse;margin:1em 0}\
             th,td{padding:.3em .7em;border-bottom:1px solid #ddd;text-align:left}\
             td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\
             th{background:#f4f4f4}.swatch{display:inline-block;width:1.5em;height:.35em;vertical-align:middle;margin-right:.4em}\
             ul.legend{list-style:none;padding:0}.charts svg{margin:0 1em 1em 0;max-width:100%}\n",
        );
        h.push_str("</style></head><body>\n<h1>kerros comparison</h1>\n");
        let _ = write!(h, "<p>{} runs", self.records.len());
        if let Some((by, desc)) = &self.sorted_by {
            let _ = write!(
                h,
                ", sorted by <code>{}</code> ({})",
                html_escape(by),
                if *desc { "descending" } else { "ascending" }
            );
        }
        h.push_str(".</p>\n<table><thead><tr>");
        for (i, (label, num)) in header.iter().zip(&numeric).enumerate() {
            let title = if i >= 1 && i <= self.settings.len() {
                format!(" title=\"{}\"", html_escape(&self.settings[i - 1]))
            } else {
                String::new()
            };
            let class = if *num { " class=\"num\"" } else { "" };
            let _ = write!(h, "<th{class}{title}>{}</th>", html_escape(label));
        }
        h.push_str("</tr></thead><tbody>\n");
        for (r, row) in rows.iter().enumerate() {
            h.push_str("<tr>");
            for (c, (cell, num)) in row.iter().zip(&numeric).enumerate() {
                let class = if *num { " class=\"num\"" } else { "" };
                if c == 0 {
                    let color = PALETTE[r % PALETTE.len()];
                    let _ = write!(
                        h,
                        "<td><span class=\"swatch\" style=\"background:{color}\"></span>{}</td>",
                        html_escape(cell)
                    );
                } else {
                    let _ = write!(h, "<td{class}>{}</td>", html_escape(cell));
                }
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</tbody></table>\n<h2>Learning curves</h2>\n<div class=\"charts\">\n");
        for (key, title) in [
            ("val_accuracy", "Validation accuracy"),
            ("val_loss", "Validation loss"),
        ] {
            let series: Vec<Series> = self
                .records
                .iter()
                .map(|r| Series {
                    name: r.name.clone(),
                    points: curve(&r.history, key),
                })
                .collect();
            h.push_str(&line_chart(title, "epoch", key, &series));
            h.push('\n');
        }
        h.push_str("</div>\n</body></html>\n");
        // Inline SVG needs no namespace; without it the page holds no URL at all.
        h.replace(" xmlns=\"http://www.w3.org/2000/svg\"", "")
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
    Ok(Comparison::new(records, metrics, sort_by, descending)?.html())
}

/// (epoch, value) points of `key` in a history; the epoch is the record's
/// `epoch` field when present, else its 1-based position.
fn curve(history: &[Value], key: &str) -> Vec<(f64, f64)> {
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

fn setting_text(v: &Value) -> String {
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
