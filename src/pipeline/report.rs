//! Gathering what a report shows from the run's artifacts.

use super::tables::Prediction;
use crate::data::{Item, Prepared};
use crate::model::Summary;
use crate::report::{
    ClassMetrics, Confusion, DataSource, DataSummary, EmbeddingCoverage, EpochRow, Example, Footer,
    ForwardPass, Header, LayerRow, Metric, Metrics, ModelSummary, ReportData, Series, SplitSummary,
    TextLengths, Training,
};
use crate::spec::{Spec, TaskKind};
use crate::train::EpochRecord;
use serde_json::Value;
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
    pub metrics: &'a BTreeMap<String, Value>,
    /// Test predictions in test-split order.
    pub predictions: &'a [Prediction],
    /// Stage name → key, for the footer.
    pub stage_keys: &'a BTreeMap<String, String>,
    /// How many vocabulary words a pretrained embedding file covered.
    pub coverage: Option<crate::model::Coverage>,
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

/// Scalar metrics shown first, with their display names.
const HEADLINE: &[(&str, &str)] = &[
    ("accuracy", "Accuracy"),
    ("cohen_kappa", "Cohen's kappa"),
    ("f1", "F1"),
    ("f1_macro", "Macro F1"),
    ("cohen_kappa_quadratic", "Quadratic-weighted kappa"),
    ("mae", "MAE"),
    ("rmse", "RMSE"),
];

fn metrics_section(inputs: &ReportInputs) -> Metrics {
    let m = inputs.metrics;
    let headline = HEADLINE
        .iter()
        .filter_map(|(key, label)| {
            m.get(*key).and_then(Value::as_f64).map(|v| Metric {
                name: label.to_string(),
                value: v,
            })
        })
        .collect();
    let scalars = m
        .iter()
        .filter_map(|(k, v)| {
            v.as_f64().map(|x| Metric {
                name: k.clone(),
                value: x,
            })
        })
        .collect();
    let per_class = m
        .get("per_class")
        .and_then(Value::as_object)
        .map(|obj| {
            let classes = &inputs.prepared.classes;
            let mut rows: Vec<ClassMetrics> = obj
                .iter()
                .map(|(class, v)| ClassMetrics {
                    class: class.clone(),
                    precision: v["precision"].as_f64().unwrap_or(0.0),
                    recall: v["recall"].as_f64().unwrap_or(0.0),
                    f1: v["f1"].as_f64().unwrap_or(0.0),
                    support: v["support"].as_u64().unwrap_or(0),
                })
                .collect();
            // Class order as in the spec, not alphabetical.
            rows.sort_by_key(|r| {
                classes
                    .iter()
                    .position(|c| *c == r.class)
                    .unwrap_or(usize::MAX)
            });
            rows
        })
        .unwrap_or_default();
    let confusion = m.get("confusion_matrix").and_then(|cm| {
        let counts: Vec<Vec<u64>> = serde_json::from_value(cm.clone()).ok()?;
        let labels = if inputs.spec.task.kind == TaskKind::Regression {
            m.get("confusion_labels")
                .and_then(|l| serde_json::from_value::<Vec<String>>(l.clone()).ok())
                .unwrap_or_else(|| (0..counts.len()).map(|i| i.to_string()).collect())
        } else {
            inputs.prepared.classes.clone()
        };
        (labels.len() == counts.len()).then_some(Confusion { labels, counts })
    });
    Metrics {
        headline,
        scalars,
        per_class,
        confusion,
    }
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
                path: path.clone(),
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
    };
    let by_id: BTreeMap<i64, &Item> = p.test.iter().map(|i| (i.id, i)).collect();
    let examples = inputs
        .predictions
        .iter()
        .take(spec.report.examples)
        .filter_map(|pr| {
            by_id.get(&pr.id).map(|item| Example {
                id: pr.id,
                text: item.text.clone(),
                true_label: pr.true_label.clone(),
                predicted_label: pr.predicted_label.clone(),
                confidence: pr.probability,
            })
        })
        .collect();
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
        forward_pass: None,
        manifest_json: None,
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
