//! The view of the run's results: training curves, test metrics with their
//! meanings and baselines, and the examples of the error analysis.

use serde::Serialize;

use super::super::data::{EpochRow, Example, Metric, Metrics, Training};
use super::super::format::{duration, fixed, seconds, significant, truncate_chars};
use super::super::svg::{self, LineOptions, Marker, Series};
use super::super::ReportError;

/// Example texts are cut to this many characters.
pub const EXAMPLE_TEXT_CHARS: usize = 600;

/// Texts in the folded table of all mistakes are cut to this many characters.
const MISCLASSIFIED_TEXT_CHARS: usize = 240;

#[derive(Debug, Serialize)]
pub struct TrainingView {
    pub rows: Vec<EpochRowView>,
    pub has_accuracy: bool,
    pub has_val_loss: bool,
    pub has_val_accuracy: bool,
    pub total: String,
    pub loss_chart: String,
    pub accuracy_name: String,
    /// Header of the epoch table's accuracy column, e.g. "Rounded accuracy".
    pub accuracy_column: String,
    pub accuracy_chart: Option<String>,
    pub gradient_chart: Option<String>,
    pub gradient_notes: Vec<String>,
    /// "Stopped at epoch 15 of 30; …", when early stopping acted.
    pub early_stop: Option<String>,
    /// The cross-validation folds, when the run had them.
    pub cross_validation: Option<super::cross_validation::CrossValidationView>,
    /// Training hints.
    pub hints: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct EpochRowView {
    pub epoch: String,
    pub loss: String,
    pub accuracy: String,
    pub val_loss: String,
    pub val_accuracy: String,
    pub seconds: String,
    /// The epoch whose weights the test metrics use (restored by early
    /// stopping), else the one with the lowest validation loss.
    pub best: bool,
}

#[derive(Debug, Serialize)]
pub struct MetricsView {
    pub headline: Vec<MetricView>,
    pub has_baselines: bool,
    /// Some metric has a stratified-random baseline (classification only).
    pub has_random: bool,
    /// Name of the constant baseline: "majority" or "mean".
    pub majority_name: String,
    pub scalars: Vec<MetricView>,
    pub notes: Vec<String>,
    pub per_class: Vec<ClassMetricsRow>,
    pub confusion_chart: Option<String>,
    pub residual_chart: Option<String>,
    pub curve_charts: Vec<String>,
}

/// One metric with its formatted value, meaning and baselines.
#[derive(Debug, Serialize)]
pub struct MetricView {
    pub name: String,
    pub value: String,
    pub meaning: String,
    pub majority: Option<String>,
    pub stratified: Option<String>,
    /// `0.8512–0.8701`: the 95% interval, when computed.
    pub interval: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ClassMetricsRow {
    pub class: String,
    pub precision: String,
    pub recall: String,
    pub f1: String,
    pub support: String,
}

#[derive(Debug, Serialize)]
pub struct ExampleView {
    pub id: String,
    pub text: String,
    /// The text with its words marked by contribution; empty when the
    /// example was not explained.
    pub segments: Vec<super::explain::Segment>,
    pub truncated: bool,
    pub true_label: String,
    pub predicted_label: String,
    /// Confidence (classification) or the raw predicted value (regression).
    pub confidence: String,
    /// Regression: prediction minus truth, signed; empty for classification.
    pub error: String,
    pub correct: bool,
    pub group: String,
    /// The first example of its group, so the table shows the group's title.
    pub group_start: bool,
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| fixed(x, 4)).unwrap_or_else(|| "—".to_string())
}

pub fn training_view(t: &Training) -> TrainingView {
    let h = &t.history;
    let lowest_val_loss = h
        .iter()
        .filter_map(|r| r.val_loss.filter(|v| v.is_finite()).map(|v| (r.epoch, v)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(e, _)| e);
    let best = match &t.early_stop {
        Some(es) if es.restored => Some(es.best_epoch),
        _ => lowest_val_loss,
    };
    let series = |name: &str, f: &dyn Fn(&EpochRow) -> Option<f64>| Series {
        name: name.to_string(),
        points: h
            .iter()
            .filter_map(|r| f(r).map(|v| (r.epoch as f64, v)))
            .collect(),
    };
    let has_accuracy = h.iter().any(|r| r.accuracy.is_some());
    let has_val_loss = h.iter().any(|r| r.val_loss.is_some());
    let has_val_accuracy = h.iter().any(|r| r.val_accuracy.is_some());
    let mut loss = vec![series("train", &|r| Some(r.loss))];
    if has_val_loss {
        loss.push(series("validation", &|r| r.val_loss));
    }
    let mut acc = Vec::new();
    if has_accuracy {
        acc.push(series("train", &|r| r.accuracy));
    }
    if has_val_accuracy {
        acc.push(series("validation", &|r| r.val_accuracy));
    }
    let marked = LineOptions {
        marker: t
            .early_stop
            .as_ref()
            .filter(|es| es.restored)
            .map(|es| Marker {
                x: es.best_epoch as f64,
                label: format!("epoch {} restored", es.best_epoch),
            }),
        ..LineOptions::default()
    };
    let loss_axis = if t.loss_name.is_empty() {
        "loss".to_string()
    } else {
        format!("loss ({})", t.loss_name)
    };
    let accuracy_name = if t.accuracy_name.is_empty() {
        "accuracy".to_string()
    } else {
        t.accuracy_name.clone()
    };
    // The epoch table's column: short, capitalised ("Rounded accuracy").
    let accuracy_column = if accuracy_name.contains("rounded") {
        "Rounded accuracy".to_string()
    } else {
        capitalised(&accuracy_name)
    };
    TrainingView {
        rows: h
            .iter()
            .map(|r| EpochRowView {
                epoch: r.epoch.to_string(),
                loss: fixed(r.loss, 4),
                accuracy: opt(r.accuracy),
                val_loss: opt(r.val_loss),
                val_accuracy: opt(r.val_accuracy),
                seconds: seconds(r.seconds),
                best: Some(r.epoch) == best && h.len() > 1,
            })
            .collect(),
        has_accuracy,
        has_val_loss,
        has_val_accuracy,
        total: duration(t.total_seconds),
        loss_chart: svg::line_chart_with("Loss", "epoch", &loss_axis, &loss, &marked),
        accuracy_chart: (!acc.is_empty()).then(|| {
            svg::line_chart_with(
                &capitalised(&accuracy_name),
                "epoch",
                &accuracy_name,
                &acc,
                &marked,
            )
        }),
        accuracy_name,
        accuracy_column,
        gradient_chart: (!t.gradient_norms.is_empty()).then(|| {
            svg::line_chart_with(
                "Gradient norm per layer (log scale)",
                "epoch",
                "gradient L2 norm",
                &t.gradient_norms,
                &LineOptions {
                    log_y: true,
                    ..LineOptions::default()
                },
            )
        }),
        gradient_notes: t.gradient_notes.clone(),
        early_stop: t.early_stop.as_ref().map(|es| {
            let mut s = if es.stopped_epoch < es.max_epochs {
                format!(
                    "Early stopping ended training at epoch {} of {}: {} had not improved since epoch {}",
                    es.stopped_epoch,
                    es.max_epochs,
                    monitor_name(&es.monitor),
                    es.best_epoch
                )
            } else {
                format!(
                    "Training ran all {} epochs; {} was best at epoch {}",
                    es.max_epochs,
                    monitor_name(&es.monitor),
                    es.best_epoch
                )
            };
            if es.restored {
                s.push_str(&format!(
                    "; epoch {}'s weights were restored and used for the test metrics (marked on the curves).",
                    es.best_epoch
                ));
            } else {
                s.push_str("; the last epoch's weights were used for the test metrics.");
            }
            s
        }),
        cross_validation: t
            .cross_validation
            .as_ref()
            .map(super::cross_validation::cross_validation_view),
        hints: t.hints.clone(),
    }
}

fn metric_view(m: &Metric) -> MetricView {
    MetricView {
        name: m.name.clone(),
        value: fixed(m.value, 4),
        meaning: m.meaning.clone(),
        majority: m.majority.map(|v| fixed(v, 4)),
        stratified: m.stratified.map(|v| fixed(v, 4)),
        interval: m
            .interval
            .map(|i| format!("{}–{}", fixed(i.low, 4), fixed(i.high, 4))),
    }
}

pub fn metrics_view(m: &Metrics) -> Result<MetricsView, ReportError> {
    let confusion_chart = match &m.confusion {
        None => None,
        Some(c) => {
            let k = c.labels.len();
            if c.counts.len() != k || c.counts.iter().any(|row| row.len() != k) {
                return Err(ReportError::Invalid {
                    field: "metrics.confusion.counts".into(),
                    message: format!(
                        "expected a {k}×{k} matrix (one row and column per label), got rows of lengths {:?}",
                        c.counts.iter().map(Vec::len).collect::<Vec<_>>()
                    ),
                });
            }
            let title = if m.confusion_title.is_empty() {
                "Confusion matrix (test split)"
            } else {
                m.confusion_title.as_str()
            };
            Some(svg::heatmap(&c.labels, &c.labels, &c.counts, title))
        }
    };
    let residual_chart = (!m.residuals.is_empty()).then(|| {
        svg::histogram(
            "Residuals: prediction − true value (test split)",
            "prediction − true value",
            "examples",
            &svg::histogram_bins(&m.residuals, 30),
        )
    });
    let curve = |title: &str, x: &str, y: &str, name: &str, pts: &[(f64, f64)], diagonal| {
        svg::line_chart_with(
            title,
            x,
            y,
            &[Series {
                name: name.to_string(),
                points: pts.to_vec(),
            }],
            &LineOptions {
                unit_square: true,
                diagonal,
                ..LineOptions::default()
            },
        )
    };
    let mut curve_charts = Vec::new();
    if m.roc.len() > 1 {
        curve_charts.push(curve(
            "ROC curve (test split)",
            "false positive rate",
            "true positive rate",
            "model (dashed: chance)",
            &m.roc,
            true,
        ));
    }
    if m.pr.len() > 1 {
        curve_charts.push(curve(
            "Precision-recall curve (test split)",
            "recall",
            "precision",
            "model",
            &m.pr,
            false,
        ));
    }
    if m.calibration.len() > 1 {
        let pts: Vec<(f64, f64)> = m.calibration.iter().map(|&(p, f, _)| (p, f)).collect();
        curve_charts.push(curve(
            "Calibration (test split)",
            "mean predicted probability",
            "observed frequency",
            "model (dashed: perfectly calibrated)",
            &pts,
            true,
        ));
    }
    Ok(MetricsView {
        majority_name: if m.majority_name.is_empty() {
            "majority".to_string()
        } else {
            m.majority_name.clone()
        },
        has_random: m.scalars.iter().any(|s| s.stratified.is_some()),
        has_baselines: m
            .headline
            .iter()
            .any(|h| h.majority.is_some() || h.stratified.is_some()),
        headline: m.headline.iter().map(metric_view).collect(),
        scalars: m.scalars.iter().map(metric_view).collect(),
        notes: m.notes.clone(),
        per_class: m
            .per_class
            .iter()
            .map(|c| ClassMetricsRow {
                class: c.class.clone(),
                precision: fixed(c.precision, 4),
                recall: fixed(c.recall, 4),
                f1: fixed(c.f1, 4),
                support: super::super::format::thousands(c.support),
            })
            .collect(),
        confusion_chart,
        residual_chart,
        curve_charts,
    })
}

/// Text as a reader should see it: HTML line breaks (IMDB's `<br />`)
/// become line breaks, so no markup shows.
pub fn clean_text(text: &str) -> String {
    let mut out = breaks_to_newlines(text);
    // At most one empty line in a row.
    while out.contains("\n\n\n") {
        out = out.replace("\n\n\n", "\n\n");
    }
    out.trim().to_string()
}

/// `text` with HTML line breaks (`<br />`, `<br/>`, `<br>`, any case) as
/// line breaks; nothing else changed.
pub fn breaks_to_newlines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let lower: String = tail
            .chars()
            .take(6)
            .collect::<String>()
            .to_ascii_lowercase();
        let tag_len = ["<br />", "<br/>", "<br>"]
            .iter()
            .find(|t| lower.starts_with(**t))
            .map(|t| t.len());
        match tag_len {
            Some(len) => {
                out.push('\n');
                rest = &tail[len..];
            }
            None => {
                out.push('<');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

pub fn example_view(e: &Example, max_chars: usize) -> ExampleView {
    let cleaned = clean_text(&e.text);
    let text = truncate_chars(&cleaned, max_chars);
    let (segments, _) = if e.words.is_empty() {
        (Vec::new(), false)
    } else {
        super::explain::highlighted(&e.text, &e.words, max_chars)
    };
    let (confidence, error) = match (e.predicted_value, e.true_value) {
        (Some(p), Some(t)) => (significant(p, 3), format!("{:+.2}", p - t)),
        (Some(p), None) => (significant(p, 3), String::new()),
        _ => (fixed(e.confidence, 4), String::new()),
    };
    ExampleView {
        id: e.id.to_string(),
        truncated: text.len() != cleaned.len(),
        text,
        segments,
        true_label: e.true_label.clone(),
        predicted_label: e.predicted_label.clone(),
        confidence,
        error,
        correct: e.true_label == e.predicted_label,
        group: e.group.clone(),
        group_start: false,
    }
}

/// The views of the examples table and of the folded table of all mistakes.
pub fn examples_views(shown: &[Example], misclassified: &[Example]) -> [Vec<ExampleView>; 2] {
    let mut views: Vec<ExampleView> = shown
        .iter()
        .map(|e| example_view(e, EXAMPLE_TEXT_CHARS))
        .collect();
    let mut previous: Option<String> = None;
    for v in &mut views {
        v.group_start = !v.group.is_empty() && previous.as_ref() != Some(&v.group);
        previous = Some(v.group.clone());
    }
    [
        views,
        misclassified
            .iter()
            .map(|e| example_view(e, MISCLASSIFIED_TEXT_CHARS))
            .collect(),
    ]
}

/// `text` with its first letter upper-cased.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The early-stopping monitor in words: `val_loss` → "validation loss".
fn monitor_name(monitor: &str) -> String {
    match monitor.strip_prefix("val_") {
        Some("loss") => "validation loss".to_string(),
        Some(rest) => format!(
            "validation {}",
            crate::report::metric_label(rest).0.to_lowercase()
        ),
        None if monitor == "loss" => "training loss".to_string(),
        None => crate::report::metric_label(monitor).0.to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_are_cleaned() {
        assert_eq!(clean_text("a<br /><br />b<BR>c"), "a\n\nb\nc");
        assert_eq!(clean_text("x < y <b>"), "x < y <b>");
    }
}
