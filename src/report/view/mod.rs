//! The template's view of a [`ReportData`]: every number already formatted,
//! every chart already drawn, so the template only lays things out and
//! formatting stays in one tested place. All text here is raw; tera's
//! autoescape escapes it. Only the SVG strings (escaped when drawn) and the
//! manifest (escaped for a script element) are emitted unescaped.

use serde::Serialize;

use super::data::ReportData;
use super::format::{compact, fixed, megabytes, percent, thousands};
use super::svg::{self, BarSeries};
use super::ReportError;

mod cross_validation;
mod explain;
mod forward;
mod notes;
mod results;

use explain::{explanations_view, ExplanationsView};
use forward::{forward_view, ForwardView};
use notes::{notes_view, NotesView};
pub use results::EXAMPLE_TEXT_CHARS;
use results::{metrics_view, training_view, ExampleView, MetricsView, TrainingView};

/// Root of the template context.
#[derive(Debug, Serialize)]
pub struct View {
    pub css: &'static str,
    pub title: String,
    pub author: Option<String>,
    pub generated_at: String,
    pub version: String,
    pub experiment: String,
    pub seed: String,
    pub nav: Vec<Nav>,
    pub spec_yaml: Option<String>,
    pub data: Option<DataView>,
    pub exploration: Option<ExplorationView>,
    pub model: Option<ModelView>,
    pub training: Option<TrainingView>,
    pub metrics: Option<MetricsView>,
    pub examples: Vec<ExampleView>,
    pub misclassified: Vec<ExampleView>,
    /// Regression task: examples show the predicted value and the error.
    pub regression_examples: bool,
    pub examples_truncated_to: usize,
    /// "Why this prediction": the method and a bag model's strongest n-grams.
    pub explanations: Option<ExplanationsView>,
    /// Some shown example has its words marked.
    pub examples_explained: bool,
    /// The author's discussion.
    pub notes: Option<NotesView>,
    pub forward: Option<ForwardView>,
    pub manifest: Option<String>,
    pub command: String,
    pub cache_keys: Vec<Pair>,
}

impl View {
    /// Every chart of the page (inline SVG documents), in page order.
    pub fn charts(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        if let Some(d) = &self.data {
            out.extend(d.balance_chart.as_deref());
            out.extend(d.lengths.as_ref().map(|l| l.chart.as_str()));
        }
        if let Some(e) = &self.exploration {
            out.extend(e.label_chart.as_deref());
        }
        if let Some(t) = &self.training {
            out.push(&t.loss_chart);
            out.extend(t.accuracy_chart.as_deref());
            out.extend(t.gradient_chart.as_deref());
        }
        if let Some(m) = &self.metrics {
            out.extend(m.confusion_chart.as_deref());
            out.extend(m.residual_chart.as_deref());
            out.extend(m.curve_charts.iter().map(String::as_str));
        }
        if let Some(f) = &self.forward {
            out.push(&f.diagram);
        }
        out
    }
}

/// Table-of-contents entry.
#[derive(Debug, Serialize)]
pub struct Nav {
    pub id: &'static str,
    pub label: &'static str,
}

/// Two formatted strings (key / value, path / hash, word / score, ...).
#[derive(Debug, Serialize)]
pub struct Pair {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Serialize)]
pub struct DataView {
    pub splits: Vec<SplitRow>,
    pub total_rows: String,
    pub split_names: Vec<String>,
    pub balance: Vec<BalanceRow>,
    pub balance_totals: Vec<String>,
    pub balance_chart: Option<String>,
    pub lengths: Option<LengthsView>,
    pub skipped: String,
    /// Rows skipped per file read (train, validation, test); empty when none were.
    pub skipped_per_split: Vec<Pair>,
    pub sources: Vec<Pair>,
}

#[derive(Debug, Serialize)]
pub struct SplitRow {
    pub name: String,
    pub rows: String,
    pub share: String,
}

#[derive(Debug, Serialize)]
pub struct BalanceRow {
    pub class: String,
    /// One "count (share)" cell per split.
    pub cells: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct LengthsView {
    pub min: String,
    pub median: String,
    pub mean: String,
    pub max: String,
    pub chart: String,
}

#[derive(Debug, Serialize)]
pub struct ExplorationView {
    pub label_name: String,
    pub label_chart: Option<String>,
    pub length_by_class: Vec<ClassLengthRow>,
    pub top_values: Vec<TopValues>,
    pub indicative_words: Vec<WordList>,
}

#[derive(Debug, Serialize)]
pub struct ClassLengthRow {
    pub class: String,
    pub count: String,
    pub median: String,
    pub mean: String,
}

#[derive(Debug, Serialize)]
pub struct TopValues {
    pub column: String,
    pub rows: Vec<TopValueRow>,
}

#[derive(Debug, Serialize)]
pub struct TopValueRow {
    pub value: String,
    pub count: String,
    /// Bar width in percent of the most frequent value.
    pub bar: String,
}

#[derive(Debug, Serialize)]
pub struct WordList {
    pub class: String,
    pub words: Vec<Pair>,
}

#[derive(Debug, Serialize)]
pub struct ModelView {
    pub layers: Vec<LayerRowView>,
    pub total: String,
    pub trainable: String,
    pub non_trainable: String,
    pub size: String,
    pub coverage: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct LayerRowView {
    pub name: String,
    pub kind: String,
    pub shape: String,
    pub params: String,
}

/// Builds the view, checking the shapes that would otherwise draw nonsense.
pub fn build(d: &ReportData, css: &'static str) -> Result<View, ReportError> {
    let mut nav = Vec::new();
    let mut push_nav = |present: bool, id: &'static str, label: &'static str| {
        if present {
            nav.push(Nav { id, label });
        }
    };
    push_nav(!d.spec_yaml.trim().is_empty(), "spec", "Spec");
    push_nav(d.data_summary.is_some(), "data", "Data");
    push_nav(d.exploration.is_some(), "exploration", "Exploration");
    push_nav(d.model.is_some(), "model", "Model");
    push_nav(d.training.is_some(), "training", "Training");
    push_nav(d.metrics.is_some(), "metrics", "Metrics");
    push_nav(!d.examples.is_empty(), "examples", "Error analysis");
    push_nav(d.explanations.is_some(), "why", "Why this prediction");
    push_nav(d.notes.is_some(), "discussion", "Discussion");
    push_nav(d.forward_pass.is_some(), "forward", "Forward pass");

    let [examples, misclassified] = results::examples_views(&d.examples, &d.misclassified);
    Ok(View {
        css,
        title: d.header.title.clone(),
        author: d.header.author.clone().filter(|a| !a.trim().is_empty()),
        generated_at: d.header.generated_at.clone(),
        version: d.header.kerros_version.clone(),
        experiment: d.header.experiment.clone(),
        seed: d.header.seed.to_string(),
        nav,
        spec_yaml: Some(d.spec_yaml.clone()).filter(|s| !s.trim().is_empty()),
        data: d.data_summary.as_ref().map(data_view),
        exploration: d.exploration.as_ref().map(exploration_view),
        model: d.model.as_ref().map(model_view),
        training: d.training.as_ref().map(training_view),
        metrics: d.metrics.as_ref().map(metrics_view).transpose()?,
        examples,
        misclassified,
        regression_examples: d.examples.iter().any(|e| e.predicted_value.is_some()),
        examples_truncated_to: EXAMPLE_TEXT_CHARS,
        explanations: d.explanations.as_ref().map(explanations_view),
        examples_explained: d.examples.iter().any(|e| !e.words.is_empty()),
        notes: d.notes.as_ref().map(notes_view),
        forward: d.forward_pass.as_ref().map(forward_view).transpose()?,
        manifest: d.manifest_json.as_deref().map(manifest).transpose()?,
        command: d.footer.command.clone(),
        cache_keys: d
            .footer
            .cache_keys
            .iter()
            .map(|(k, v)| Pair {
                key: k.clone(),
                value: v.clone(),
            })
            .collect(),
    })
}

fn share(part: u64, total: u64) -> String {
    if total == 0 {
        "—".to_string()
    } else {
        percent(part as f64 / total as f64)
    }
}

fn data_view(s: &super::data::DataSummary) -> DataView {
    let total: u64 = s.splits.iter().map(|sp| sp.rows).sum();
    // Classes in first-seen order across splits, so a class missing from
    // one split still gets a row.
    let mut classes: Vec<String> = Vec::new();
    for sp in &s.splits {
        for (c, _) in &sp.class_counts {
            if !classes.contains(c) {
                classes.push(c.clone());
            }
        }
    }
    let count_of = |sp: &super::data::SplitSummary, class: &str| -> u64 {
        sp.class_counts
            .iter()
            .filter(|(c, _)| c == class)
            .map(|(_, n)| *n)
            .sum()
    };
    let class_total =
        |sp: &super::data::SplitSummary| -> u64 { sp.class_counts.iter().map(|(_, n)| *n).sum() };
    let balance: Vec<BalanceRow> = classes
        .iter()
        .map(|class| BalanceRow {
            class: class.clone(),
            cells: s
                .splits
                .iter()
                .map(|sp| {
                    let n = count_of(sp, class);
                    format!("{} ({})", thousands(n), share(n, class_total(sp)))
                })
                .collect(),
        })
        .collect();
    let balance_chart = (!classes.is_empty()).then(|| {
        let series: Vec<BarSeries> = s
            .splits
            .iter()
            .filter(|sp| class_total(sp) > 0)
            .map(|sp| BarSeries {
                name: sp.name.clone(),
                values: classes
                    .iter()
                    .map(|c| {
                        let pct = 100.0 * count_of(sp, c) as f64 / class_total(sp) as f64;
                        (pct * 10.0).round() / 10.0
                    })
                    .collect(),
            })
            .collect();
        svg::bar_chart(
            "Class balance per split",
            "class",
            "share of split (%)",
            &classes,
            &series,
        )
    });
    DataView {
        splits: s
            .splits
            .iter()
            .map(|sp| SplitRow {
                name: sp.name.clone(),
                rows: thousands(sp.rows),
                share: share(sp.rows, total),
            })
            .collect(),
        total_rows: thousands(total),
        split_names: s.splits.iter().map(|sp| sp.name.clone()).collect(),
        balance_totals: s
            .splits
            .iter()
            .map(|sp| thousands(class_total(sp)))
            .collect(),
        balance,
        balance_chart,
        lengths: s.train_lengths.as_ref().map(|l| LengthsView {
            min: thousands(l.min),
            median: compact(l.median, 1),
            mean: fixed(l.mean, 1),
            max: thousands(l.max),
            chart: svg::histogram(
                "Words per review (training split)",
                "words per review",
                "reviews",
                &l.bins,
            ),
        }),
        skipped: thousands(s.skipped_rows),
        skipped_per_split: s
            .skipped_per_split
            .iter()
            .map(|(split, n)| Pair {
                key: split.clone(),
                value: thousands(*n),
            })
            .collect(),
        sources: s
            .sources
            .iter()
            .map(|src| Pair {
                key: src.path.clone(),
                value: src.hash.clone(),
            })
            .collect(),
    }
}

fn exploration_view(e: &super::data::Exploration) -> ExplorationView {
    let label_chart = (!e.label_counts.is_empty()).then(|| {
        let cats: Vec<String> = e.label_counts.iter().map(|(v, _)| v.clone()).collect();
        let values: Vec<f64> = e.label_counts.iter().map(|(_, n)| *n as f64).collect();
        svg::bar_chart(
            &format!("Distribution of {}", e.label_name),
            &e.label_name,
            "reviews",
            &cats,
            &[BarSeries {
                name: e.label_name.clone(),
                values,
            }],
        )
    });
    ExplorationView {
        label_name: e.label_name.clone(),
        label_chart,
        length_by_class: e
            .length_by_class
            .iter()
            .map(|c| ClassLengthRow {
                class: c.class.clone(),
                count: thousands(c.count),
                median: compact(c.median, 1),
                mean: fixed(c.mean, 1),
            })
            .collect(),
        top_values: e
            .top_values
            .iter()
            .map(|(column, values)| {
                let max = values.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
                TopValues {
                    column: column.clone(),
                    rows: values
                        .iter()
                        .map(|(v, n)| TopValueRow {
                            value: v.clone(),
                            count: thousands(*n),
                            bar: fixed(100.0 * *n as f64 / max as f64, 1),
                        })
                        .collect(),
                }
            })
            .collect(),
        indicative_words: e
            .indicative_words
            .iter()
            .map(|(class, words)| WordList {
                class: class.clone(),
                words: words
                    .iter()
                    .map(|(w, s)| Pair {
                        key: w.clone(),
                        value: fixed(*s, 3),
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn model_view(m: &super::data::ModelSummary) -> ModelView {
    ModelView {
        layers: m
            .layers
            .iter()
            .map(|l| LayerRowView {
                name: l.name.clone(),
                kind: l.kind.clone(),
                shape: l.output_shape.clone(),
                params: thousands(l.params),
            })
            .collect(),
        total: thousands(m.total_params),
        trainable: thousands(m.trainable_params),
        non_trainable: thousands(m.non_trainable_params),
        // Weights are f32: 4 bytes per parameter.
        size: megabytes(m.total_params as f64 * 4.0 / (1024.0 * 1024.0)),
        coverage: m.embedding_coverage.as_ref().map(|c| {
            let frac = if c.vocabulary > 0 {
                format!(" ({})", percent(c.covered as f64 / c.vocabulary as f64))
            } else {
                String::new()
            };
            format!(
                "{} covered {} of {} vocabulary words{}.",
                c.source,
                thousands(c.covered),
                thousands(c.vocabulary),
                frac
            )
        }),
    }
}

/// `\u003c` means the same thing.
/// Re-serialises the caller's JSON and escapes `<`, `>` and `&` as JSON
/// unicode escapes, so no `</script>` or `<!--` can end or confuse the
/// script element. Those characters only occur inside JSON strings, where
pub fn manifest(json: &str) -> Result<String, ReportError> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| ReportError::Manifest(e.to_string()))?;
    let pretty =
        serde_json::to_string_pretty(&value).map_err(|e| ReportError::Manifest(e.to_string()))?;
    Ok(pretty
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_cannot_close_the_script() {
        let m = manifest(r#"{"note": "</script><script>alert(1)</script> & <!--"}"#)
            .expect("valid json");
        assert!(!m.contains('<') && !m.contains('>'));
        let back: serde_json::Value = serde_json::from_str(&m).expect("still valid json");
        assert_eq!(back["note"], "</script><script>alert(1)</script> & <!--");
        assert!(matches!(
            manifest("{not json"),
            Err(ReportError::Manifest(_))
        ));
    }
}
