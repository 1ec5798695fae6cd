//! Gathering what a report shows from the run's artifacts.

use super::tables::Prediction;
use crate::data::{Item, Prepared};
use crate::model::Summary;
use crate::report::{
    ClassMetrics, Confusion, DataSource, DataSummary, EarlyStop, EmbeddingCoverage, EpochRow,
    Footer, ForwardPass, Header, LayerRow, Metric, Metrics, ModelSummary, ReportData, Series,
    SplitSummary, TextLengths, Training,
};
use crate::spec::{Spec, TaskKind};
use crate::train::EpochRecord;
use std::collections::BTreeMap;
use std::path::Path;

/// Names of the recurrent layers' timestep bands, in `EpochRecord::grad_bands` order.
const BAND_NAMES: [&str; 3] = ["first quarter", "middle", "last quarter"];

/// Everything the report stage reads.
pub struct ReportInputs<'a> {
    /// The resolved spec.
    pub spec: &'a Spec,
    /// The spec file.
    pub spec_path: &'a Path,
    /// The prepared splits.
    pub prepared: &'a Prepared,
    /// Source files with their content hashes.
    pub sources: &'a [(String, String)],
    /// Training history.
    pub history: &'a [EpochRecord],
    /// Model summary.
    pub summary: &'a Summary,
    /// Test metrics.
    pub metrics: &'a crate::metrics::Evaluation,
    /// Test predictions in test-split order.
    pub predictions: &'a [Prediction],
    /// Stage name → key, for the footer.
    pub stage_keys: &'a BTreeMap<String, String>,
    /// How many vocabulary words a pretrained embedding file covered.
    pub coverage: Option<crate::model::Coverage>,
    /// The cross-validation folds (`data.validation: {folds: K}`).
    pub cv: Option<&'a crate::report::cv::CvSummary>,
    /// Training hints shown under the curves.
    pub hints: &'a [String],
}

/// Words per text, split on whitespace (what a reader means by review length).
fn word_count(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

fn split_summary(name: &str, items: &[Item], classes: &[String], regression: bool) -> SplitSummary {
    let class_counts = if regression {
        Vec::new()
    } else {
        let mut counts = vec![0u64; classes.len()];
        for i in items {
            if let Some(c) = counts.get_mut(i.target as usize) {
                *c += 1;
            }
        }
        classes.iter().cloned().zip(counts).collect()
    };
    SplitSummary {
        name: name.to_string(),
        rows: items.len() as u64,
        class_counts,
    }
}

/// Binary metrics computed for the positive class only.
const POSITIVE_CLASS_METRICS: [&str; 4] = ["precision", "recall", "f1", "roc_auc"];

/// Metric keys shown as headline cards, in order, per kind of task.
fn headline_keys(spec: &Spec) -> &'static [&'static str] {
    match spec.task.kind {
        TaskKind::Regression => &["mae", "rmse", "r2", "cohen_kappa_quadratic"],
        TaskKind::Binary => &["accuracy", "f1", "roc_auc", "cohen_kappa"],
        TaskKind::Multiclass => &[
            "accuracy",
            "f1_macro",
            "cohen_kappa",
            "cohen_kappa_quadratic",
        ],
    }
}

/// The test split's class counts in class order, and the training split's.
fn class_counts(p: &Prepared) -> (Vec<u64>, Vec<u64>) {
    let count = |items: &[Item]| {
        let mut c = vec![0u64; p.classes.len()];
        for i in items {
            if let Some(n) = c.get_mut(i.target as usize) {
                *n += 1;
            }
        }
        c
    };
    (count(&p.train), count(&p.test))
}

/// The probability of the positive class (the second one) of a binary
/// prediction.
fn positive_probability(pr: &Prediction) -> Option<f64> {
    match pr.probabilities.as_slice() {
        [_, p] => Some(*p as f64),
        [p] => Some(*p as f64),
        _ => None,
    }
}

/// Per-class precision, recall, F1 and support from a confusion matrix
/// (`counts[true][predicted]`), plus macro and weighted average rows.
fn per_class_from_confusion(labels: &[String], counts: &[Vec<u64>]) -> Vec<ClassMetrics> {
    let k = labels.len();
    let mut rows: Vec<ClassMetrics> = (0..k)
        .map(|c| {
            let tp = counts[c][c] as f64;
            let predicted: u64 = counts.iter().map(|r| r[c]).sum();
            let support: u64 = counts[c].iter().sum();
            let precision = if predicted > 0 {
                tp / predicted as f64
            } else {
                0.0
            };
            let recall = if support > 0 {
                tp / support as f64
            } else {
                0.0
            };
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            ClassMetrics {
                class: labels[c].clone(),
                precision,
                recall,
                f1,
                support,
            }
        })
        .collect();
    rows.extend(average_rows(&rows));
    rows
}

/// The "macro average" and "weighted average" rows of per-class rows.
fn average_rows(rows: &[ClassMetrics]) -> Vec<ClassMetrics> {
    let total: u64 = rows.iter().map(|r| r.support).sum();
    if rows.is_empty() || total == 0 {
        return Vec::new();
    }
    let k = rows.len() as f64;
    let avg = |f: &dyn Fn(&ClassMetrics) -> f64, weighted: bool| -> f64 {
        rows.iter()
            .map(|r| {
                f(r) * if weighted {
                    r.support as f64 / total as f64
                } else {
                    1.0 / k
                }
            })
            .sum()
    };
    [("macro average", false), ("weighted average", true)]
        .into_iter()
        .map(|(name, w)| ClassMetrics {
            class: name.to_string(),
            precision: avg(&|r| r.precision, w),
            recall: avg(&|r| r.recall, w),
            f1: avg(&|r| r.f1, w),
            support: total,
        })
        .collect()
}

fn metrics_section(inputs: &ReportInputs) -> Metrics {
    let m = inputs.metrics;
    let spec = inputs.spec;
    let p = inputs.prepared;
    let regression = spec.task.kind == TaskKind::Regression;
    let baselines = if regression {
        let train: Vec<f64> = p.train.iter().map(|i| i.target as f64).collect();
        let test: Vec<f64> = p.test.iter().map(|i| i.target as f64).collect();
        crate::metrics::regression_baselines(&train, &test)
    } else {
        let (train, test) = class_counts(p);
        crate::metrics::classification_baselines(&train, &test, spec.task.kind == TaskKind::Binary)
    };
    let intervals =
        super::test_predictions::class_predictions(spec, inputs.predictions, &p.classes)
            .map(|tp| super::test_predictions::intervals(&tp, p.classes.len(), spec.seed))
            .unwrap_or_default();
    // Binary scores of one class say which (`task.positive_class`).
    let positive = (spec.task.kind == TaskKind::Binary)
        .then(|| p.classes.get(1))
        .flatten();
    let metric = |key: &str, v: f64| {
        let (mut name, meaning) = crate::report::metric_label(key);
        if let Some(pos) = positive.filter(|_| POSITIVE_CLASS_METRICS.contains(&key)) {
            name = format!("{name} (positive: {pos})");
        }
        Metric {
            name,
            value: v,
            meaning,
            majority: baselines.majority.get(key).copied(),
            stratified: baselines.stratified.get(key).copied(),
            interval: intervals.iter().find(|(k, _)| *k == key).map(|(_, i)| *i),
        }
    };
    let headline = headline_keys(spec)
        .iter()
        .filter_map(|key| m.scalar(key).map(|v| metric(key, v)))
        .collect();
    // The headline metrics lead the table, in their order; the rest follow by key.
    let keys = headline_keys(spec);
    let rank = |k: &str| keys.iter().position(|h| *h == k).unwrap_or(keys.len());
    let mut scalar_keys: Vec<(&str, f64)> = m.defined_scalars().collect();
    scalar_keys.sort_by(|a, b| rank(a.0).cmp(&rank(b.0)).then(a.0.cmp(b.0)));
    let scalars = scalar_keys.into_iter().map(|(k, x)| metric(k, x)).collect();
    let mut notes = Vec::new();
    if m.contains("cohen_kappa_quadratic") || m.contains("cohen_kappa_linear") {
        notes.push(if spec.task.ordinal {
            "The classes are ordered as listed in the spec (task.ordinal), so weighted kappas count how far a miss is.".to_string()
        } else {
            "The classes are ordered (bins or numeric ratings), so weighted kappas count how far a miss is.".to_string()
        });
    } else if spec.task.kind == TaskKind::Multiclass {
        notes.push("The classes are unordered, so no weighted kappa is shown (set task.ordinal: true when the listed class order is meaningful).".to_string());
    }
    if !baselines.majority.is_empty() {
        notes.push(if regression {
            "Baseline: always predicting the mean of the training targets.".to_string()
        } else {
            "Baselines: always predicting the most frequent training class, and the expected score of guessing at random with the training class frequencies.".to_string()
        });
    }
    let confusion = m.confusion_matrix().and_then(|cm| {
        let counts: Vec<Vec<u64>> = cm.to_vec();
        let labels = if regression {
            m.confusion_labels()
                .map(<[String]>::to_vec)
                .unwrap_or_else(|| (0..counts.len()).map(|i| i.to_string()).collect())
        } else {
            p.classes.clone()
        };
        (labels.len() == counts.len() && counts.iter().all(|r| r.len() == labels.len()))
            .then_some(Confusion { labels, counts })
    });
    // A spec whose `metrics:` leaves out the confusion matrix still gets the
    // per-class table and the predicted-vs-true chart, counted from the
    // predictions themselves.
    let confusion =
        confusion.or_else(|| confusion_from_predictions(inputs.predictions, p, regression));
    let per_class = match (&confusion, regression) {
        (Some(c), false) => per_class_from_confusion(&c.labels, &c.counts),
        _ => Vec::new(),
    };
    let residuals = if regression {
        let by_id: BTreeMap<i64, &Item> = p.test.iter().map(|i| (i.id, i)).collect();
        inputs
            .predictions
            .iter()
            .filter_map(|pr| by_id.get(&pr.id).map(|i| pr.probability - i.target as f64))
            .collect()
    } else {
        Vec::new()
    };
    let (mut roc, mut pr, mut calibration) = (Vec::new(), Vec::new(), Vec::new());
    if spec.task.kind == TaskKind::Binary && p.classes.len() == 2 {
        let positive_name = &p.classes[1];
        let (ys, ps): (Vec<bool>, Vec<f64>) = inputs
            .predictions
            .iter()
            .filter_map(|pr| positive_probability(pr).map(|q| (&pr.true_label == positive_name, q)))
            .unzip();
        roc = crate::metrics::roc_points(&ys, &ps);
        pr = crate::metrics::precision_recall_points(&ys, &ps);
        calibration = crate::metrics::calibration_bins(&ys, &ps, 10);
    }
    Metrics {
        headline,
        scalars,
        per_class,
        confusion_title: if regression {
            "Predicted vs true value (rounded predictions, test split)".to_string()
        } else {
            String::new()
        },
        confusion,
        residuals,
        roc,
        pr,
        calibration,
        notes,
        majority_name: if regression {
            "mean".to_string()
        } else {
            String::new()
        },
    }
}

/// The confusion matrix counted from the test predictions: class names in
/// class order for classification; for regression the rounded values seen
/// (true or predicted), in numeric order. `None` when nothing was predicted.
fn confusion_from_predictions(
    predictions: &[Prediction],
    p: &Prepared,
    regression: bool,
) -> Option<Confusion> {
    if predictions.is_empty() {
        return None;
    }
    let labels: Vec<String> = if regression {
        let mut values: Vec<f64> = predictions
            .iter()
            .flat_map(|pr| [&pr.true_label, &pr.predicted_label])
            .filter_map(|l| l.trim().parse::<f64>().ok())
            .map(f64::round)
            .collect();
        values.sort_by(f64::total_cmp);
        values.dedup();
        values.iter().map(|v| format!("{v}")).collect()
    } else {
        p.classes.clone()
    };
    let index = |label: &str| -> Option<usize> {
        if regression {
            let v = label.trim().parse::<f64>().ok()?.round();
            labels.iter().position(|l| l.parse::<f64>().ok() == Some(v))
        } else {
            labels.iter().position(|l| l == label)
        }
    };
    let mut counts = vec![vec![0u64; labels.len()]; labels.len()];
    for pr in predictions {
        if let (Some(t), Some(q)) = (index(&pr.true_label), index(&pr.predicted_label)) {
            counts[t][q] += 1;
        }
    }
    (!labels.is_empty()).then_some(Confusion { labels, counts })
}

fn header(spec: &Spec, author: Option<String>) -> Header {
    Header {
        title: spec
            .report
            .title
            .clone()
            .unwrap_or_else(|| spec.name.clone()),
        author,
        generated_at: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        kerros_version: env!("CARGO_PKG_VERSION").to_string(),
        experiment: spec.name.clone(),
        seed: spec.seed,
    }
}

fn model_section(s: &Summary) -> ModelSummary {
    ModelSummary {
        layers: s
            .layers
            .iter()
            .map(|l| LayerRow {
                name: l.name.clone(),
                kind: l.kind.clone(),
                output_shape: l.output_shape.clone(),
                params: l.params as u64,
            })
            .collect(),
        total_params: s.total_params as u64,
        trainable_params: s.trainable_params as u64,
        non_trainable_params: s.non_trainable_params as u64,
        embedding_coverage: None,
    }
}

/// The report of a hand-calculation spec: the network and its forward pass.
pub fn forward_report_data(
    spec: &Spec,
    spec_path: &Path,
    summary: &Summary,
    pass: ForwardPass,
    author: Option<&str>,
) -> ReportData {
    let author = crate::report::manifest::resolve_author(author, spec);
    ReportData {
        header: header(spec, author),
        spec_yaml: serde_yaml::to_string(spec).unwrap_or_default(),
        model: Some(model_section(summary)),
        forward_pass: Some(pass),
        footer: Footer {
            command: format!("kerros run {}", spec_path.display()),
            cache_keys: Vec::new(),
        },
        ..ReportData::default()
    }
}

/// Build the report's data from the run's artifacts.
pub fn build(inputs: &ReportInputs) -> ReportData {
    let spec = inputs.spec;
    let p = inputs.prepared;
    let regression = spec.task.kind == TaskKind::Regression;
    let lengths: Vec<u64> = p.train.iter().map(|i| word_count(&i.text)).collect();
    let data_summary = DataSummary {
        splits: vec![
            split_summary("train", &p.train, &p.classes, regression),
            split_summary("validation", &p.validation, &p.classes, regression),
            split_summary("test", &p.test, &p.classes, regression),
        ],
        train_lengths: TextLengths::from_word_counts(&lengths, 30),
        skipped_rows: p.skipped_rows.total() as u64,
        skipped_per_split: if p.skipped_rows.total() == 0 {
            Vec::new()
        } else {
            let s = &p.skipped_rows;
            [
                ("train", s.train),
                ("validation", s.validation),
                ("test", s.test),
            ]
            .into_iter()
            .map(|(n, c)| (n.to_string(), c as u64))
            .collect()
        },
        sources: inputs
            .sources
            .iter()
            .map(|(path, hash)| DataSource {
                path: display_path(
                    path,
                    inputs.spec_path,
                    spec.data.as_ref().and_then(|d| d.dataset.as_deref()),
                ),
                hash: hash.chars().take(16).collect(),
            })
            .collect(),
    };
    let mut model = model_section(inputs.summary);
    model.embedding_coverage = inputs.coverage.as_ref().map(|c| EmbeddingCoverage {
        source: c.source.clone(),
        covered: c.found as u64,
        vocabulary: c.total as u64,
    });
    // One series per layer: its gradient norm by epoch (the vanishing-gradient plot).
    let mut gradient_norms: Vec<Series> = Vec::new();
    for e in inputs.history {
        for (layer, norm) in &e.grad_norms {
            let idx = match gradient_norms.iter().position(|s| &s.name == layer) {
                Some(i) => i,
                None => {
                    gradient_norms.push(Series {
                        name: layer.clone(),
                        points: Vec::new(),
                    });
                    gradient_norms.len() - 1
                }
            };
            gradient_norms[idx].points.push((e.epoch as f64, *norm));
        }
        // Recurrent layers: one more series per timestep band, so a gradient that
        // vanishes towards the first steps shows as a low "first quarter" line.
        for (layer, bands) in &e.grad_bands {
            for (band, value) in BAND_NAMES.iter().zip(bands) {
                let name = format!("{layer} steps, {band}");
                let idx = match gradient_norms.iter().position(|s| s.name == name) {
                    Some(i) => i,
                    None => {
                        gradient_norms.push(Series {
                            name,
                            points: Vec::new(),
                        });
                        gradient_norms.len() - 1
                    }
                };
                gradient_norms[idx].points.push((e.epoch as f64, *value));
            }
        }
    }
    let gradient_notes = gradient_notes(inputs.history);
    let training = Training {
        history: inputs
            .history
            .iter()
            .map(|e| EpochRow {
                epoch: e.epoch as u32,
                loss: e.loss,
                accuracy: Some(e.accuracy),
                val_loss: e.val_loss,
                val_accuracy: e.val_accuracy,
                seconds: e.seconds,
            })
            .collect(),
        total_seconds: inputs.history.iter().map(|e| e.seconds).sum(),
        gradient_norms,
        gradient_notes,
        loss_name: loss_name(spec),
        accuracy_name: if regression {
            "accuracy of rounded predictions".to_string()
        } else {
            "accuracy".to_string()
        },
        early_stop: early_stop(spec, inputs.history),
        cross_validation: inputs.cv.map(super::cross_validation::report_data),
        hints: inputs.hints.to_vec(),
    };
    let (examples, misclassified) =
        super::error_analysis::error_analysis(spec, p, inputs.predictions);
    ReportData {
        header: Header {
            title: spec
                .report
                .title
                .clone()
                .unwrap_or_else(|| spec.name.clone()),
            author: spec.report.author.clone(),
            generated_at: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            kerros_version: env!("CARGO_PKG_VERSION").to_string(),
            experiment: spec.name.clone(),
            seed: spec.seed,
        },
        spec_yaml: serde_yaml::to_string(spec).unwrap_or_default(),
        data_summary: Some(data_summary),
        exploration: super::explore::explore(spec, p),
        model: Some(model),
        training: Some(training),
        metrics: Some(metrics_section(inputs)),
        examples,
        misclassified,
        explanations: None,
        notes: None,
        forward_pass: None,
        manifest_json: None,
        predictions: super::test_predictions::class_predictions(
            spec,
            inputs.predictions,
            &p.classes,
        ),
        footer: Footer {
            command: format!("kerros run {}", inputs.spec_path.display()),
            cache_keys: inputs
                .stage_keys
                .iter()
                .map(|(k, v)| (k.clone(), v.chars().take(12).collect()))
                .collect(),
        },
    }
}

/// A data path as the page shows it: relative to the spec's folder when
/// inside it, `<data dir>/…` for a built-in dataset's file, else only the
/// file name, so the author's home folder never appears in the report.
fn display_path(path: &str, spec_path: &Path, dataset: Option<&str>) -> String {
    let p = Path::new(path);
    if !p.is_absolute() {
        return path.to_string();
    }
    if let Some(dir) = spec_path.parent().and_then(|d| d.canonicalize().ok()) {
        let real = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
        if let Ok(rel) = real.strip_prefix(&dir) {
            return rel.display().to_string();
        }
    }
    let parts: Vec<String> = p
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if let Some(name) = dataset {
        if let Some(at) = parts.iter().rposition(|c| c == name) {
            return format!("<data dir>/{}", parts[at..].join("/"));
        }
    }
    format!("…/{}", parts.last().cloned().unwrap_or_default())
}

/// The loss function's name for the loss axis.
fn loss_name(spec: &Spec) -> String {
    use crate::spec::LossName;
    match spec.train.loss.name {
        LossName::BinaryCrossentropy => "binary cross-entropy",
        LossName::SparseCategoricalCrossentropy | LossName::CategoricalCrossentropy => {
            "categorical cross-entropy"
        }
        LossName::Mse => "mean squared error",
        LossName::Mae => "mean absolute error",
        LossName::Huber => "Huber",
    }
    .to_string()
}

/// What early stopping did, derived from the spec and the history the
/// same way training decided it: the best epoch of the monitored value.
pub(crate) fn early_stop(spec: &Spec, history: &[EpochRecord]) -> Option<EarlyStop> {
    use crate::spec::{MonitorMode, MonitorName};
    let es = spec.train.early_stopping.as_ref()?;
    let value = |e: &EpochRecord| match es.monitor {
        MonitorName::ValLoss => e.val_loss,
        MonitorName::ValAccuracy => e.val_accuracy,
        MonitorName::Loss => Some(e.loss),
        MonitorName::Accuracy => Some(e.accuracy),
    };
    let higher_is_better = match es.mode {
        MonitorMode::Max => true,
        MonitorMode::Min => false,
        MonitorMode::Auto => es.monitor.as_str().contains("acc"),
    };
    let mut best: Option<(usize, f64)> = None;
    for e in history {
        let Some(v) = value(e).filter(|v| v.is_finite()) else {
            continue;
        };
        let better = match best {
            None => true,
            Some((_, b)) if higher_is_better => v > b + es.min_delta,
            Some((_, b)) => v < b - es.min_delta,
        };
        if better {
            best = Some((e.epoch, v));
        }
    }
    let (best_epoch, _) = best?;
    let stopped = history.last()?.epoch;
    Some(EarlyStop {
        stopped_epoch: stopped as u32,
        max_epochs: spec.train.epochs as u32,
        best_epoch: best_epoch as u32,
        monitor: es.monitor.as_str().to_string(),
        restored: es.restore_best_weights && best_epoch != stopped,
    })
}

/// Sentences stating the vanishing-gradient lesson: per recurrent layer,
/// how much less gradient its first quarter of steps got than its last, in
/// the last epoch.
fn gradient_notes(history: &[EpochRecord]) -> Vec<String> {
    use crate::report::format::significant;
    let Some(last) = history.last() else {
        return Vec::new();
    };
    last.grad_bands
        .iter()
        .filter_map(|(layer, bands)| {
            let (first, last_band) = (*bands.first()?, *bands.last()?);
            if !(first.is_finite() && last_band.is_finite()) || last_band <= 0.0 {
                return None;
            }
            Some(if first <= 0.0 {
                format!(
                    "In epoch {}, the first quarter of {layer}'s steps got no gradient at all; the last quarter got {}.",
                    last.epoch,
                    significant(last_band, 3)
                )
            } else if first < last_band {
                format!(
                    "In epoch {}, the first quarter of {layer}'s steps got {}× less gradient than the last quarter ({} vs {}): the signal from early words vanishes on its way back through the steps.",
                    last.epoch,
                    significant(last_band / first, 2),
                    significant(first, 3),
                    significant(last_band, 3)
                )
            } else {
                format!(
                    "In epoch {}, the first quarter of {layer}'s steps got {}× the gradient of the last quarter: no vanishing gradient here.",
                    last.epoch,
                    significant(first / last_band, 2)
                )
            })
        })
        .collect()
}
