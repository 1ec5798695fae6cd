//! The template's view of a [`ReportData`]: every number already formatted,
//! every chart already drawn, so the template only lays things out and
//! formatting stays in one tested place. All text here is raw; tera's
//! autoescape escapes it. Only the SVG strings (escaped when drawn) and the
//! manifest (escaped for a script element) are emitted unescaped.

use serde::Serialize;

use super::data::{ForwardPass, ReportData};
use super::format::{compact, duration, fixed, megabytes, percent, thousands, truncate_chars};
use super::svg::{self, BarSeries, Series};
use super::ReportError;

/// Example texts are cut to this many characters.
pub const EXAMPLE_TEXT_CHARS: usize = 600;

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
    pub examples_truncated_to: usize,
    pub forward: Option<ForwardView>,
    pub manifest: Option<String>,
    pub command: String,
    pub cache_keys: Vec<Pair>,
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

#[derive(Debug, Serialize)]
pub struct TrainingView {
    pub rows: Vec<EpochRowView>,
    pub has_accuracy: bool,
    pub has_val_loss: bool,
    pub has_val_accuracy: bool,
    pub total: String,
    pub loss_chart: String,
    pub accuracy_chart: Option<String>,
    pub gradient_chart: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct EpochRowView {
    pub epoch: String,
    pub loss: String,
    pub accuracy: String,
    pub val_loss: String,
    pub val_accuracy: String,
    pub seconds: String,
    /// The epoch with the lowest validation loss.
    pub best: bool,
}

#[derive(Debug, Serialize)]
pub struct MetricsView {
    pub headline: Vec<Pair>,
    pub scalars: Vec<Pair>,
    pub per_class: Vec<ClassMetricsRow>,
    pub confusion_chart: Option<String>,
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
    pub truncated: bool,
    pub true_label: String,
    pub predicted_label: String,
    pub confidence: String,
    pub correct: bool,
}

#[derive(Debug, Serialize)]
pub struct ForwardView {
    pub diagram: String,
    pub inputs: Vec<ForwardInputView>,
}

#[derive(Debug, Serialize)]
pub struct ForwardInputView {
    pub name: String,
    pub values: String,
    pub layers: Vec<ForwardLayerView>,
}

/// The matrices of one layer for one input, each as rows of cells.
#[derive(Debug, Serialize)]
pub struct ForwardLayerView {
    pub index: usize,
    pub prev_index: usize,
    pub name: String,
    pub activation: String,
    pub w: Vec<Vec<String>>,
    pub a_prev: Vec<Vec<String>>,
    pub b: Vec<Vec<String>>,
    pub z: Vec<Vec<String>>,
    pub a: Vec<Vec<String>>,
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
    push_nav(!d.examples.is_empty(), "examples", "Examples");
    push_nav(d.forward_pass.is_some(), "forward", "Forward pass");

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
        examples: d.examples.iter().map(example_view).collect(),
        examples_truncated_to: EXAMPLE_TEXT_CHARS,
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

fn opt(v: Option<f64>) -> String {
    v.map(|x| fixed(x, 4)).unwrap_or_else(|| "—".to_string())
}

fn training_view(t: &super::data::Training) -> TrainingView {
    let h = &t.history;
    let best = h
        .iter()
        .filter_map(|r| r.val_loss.filter(|v| v.is_finite()).map(|v| (r.epoch, v)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(e, _)| e);
    let series = |name: &str, f: &dyn Fn(&super::data::EpochRow) -> Option<f64>| Series {
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
    TrainingView {
        rows: h
            .iter()
            .map(|r| EpochRowView {
                epoch: r.epoch.to_string(),
                loss: fixed(r.loss, 4),
                accuracy: opt(r.accuracy),
                val_loss: opt(r.val_loss),
                val_accuracy: opt(r.val_accuracy),
                seconds: fixed(r.seconds, 1),
                best: Some(r.epoch) == best && h.len() > 1,
            })
            .collect(),
        has_accuracy,
        has_val_loss,
        has_val_accuracy,
        total: duration(t.total_seconds),
        loss_chart: svg::line_chart("Loss", "epoch", "loss", &loss),
        accuracy_chart: (!acc.is_empty())
            .then(|| svg::line_chart("Accuracy", "epoch", "accuracy", &acc)),
        gradient_chart: (!t.gradient_norms.is_empty()).then(|| {
            svg::line_chart(
                "Gradient norm per layer",
                "epoch",
                "gradient L2 norm",
                &t.gradient_norms,
            )
        }),
    }
}

fn metrics_view(m: &super::data::Metrics) -> Result<MetricsView, ReportError> {
    let pairs = |v: &[super::data::Metric]| -> Vec<Pair> {
        v.iter()
            .map(|m| Pair {
                key: m.name.clone(),
                value: fixed(m.value, 4),
            })
            .collect()
    };
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
            Some(svg::heatmap(
                &c.labels,
                &c.labels,
                &c.counts,
                "Confusion matrix (test split)",
            ))
        }
    };
    Ok(MetricsView {
        headline: pairs(&m.headline),
        scalars: pairs(&m.scalars),
        per_class: m
            .per_class
            .iter()
            .map(|c| ClassMetricsRow {
                class: c.class.clone(),
                precision: fixed(c.precision, 4),
                recall: fixed(c.recall, 4),
                f1: fixed(c.f1, 4),
                support: thousands(c.support),
            })
            .collect(),
        confusion_chart,
    })
}

fn example_view(e: &super::data::Example) -> ExampleView {
    let text = truncate_chars(&e.text, EXAMPLE_TEXT_CHARS);
    ExampleView {
        id: e.id.to_string(),
        truncated: text.len() != e.text.len(),
        text,
        true_label: e.true_label.clone(),
        predicted_label: e.predicted_label.clone(),
        confidence: fixed(e.confidence, 4),
        correct: e.true_label == e.predicted_label,
    }
}

fn column(values: &[f64]) -> Vec<Vec<String>> {
    values.iter().map(|v| vec![compact(*v, 4)]).collect()
}

fn invalid(field: String, message: String) -> ReportError {
    ReportError::Invalid { field, message }
}

/// Checks that every matrix of the forward pass has matching dimensions and
/// returns the input names (generated `x1…xn` when none were given).
pub fn check_forward(fp: &ForwardPass) -> Result<Vec<String>, ReportError> {
    let n_in = match fp.layers.first() {
        Some(l) => l.weights.first().map(Vec::len).unwrap_or(0),
        None => {
            return Err(invalid(
                "forward_pass.layers".into(),
                "at least one layer is needed".into(),
            ))
        }
    };
    let names = if fp.input_names.is_empty() {
        (1..=n_in).map(|i| format!("x{i}")).collect()
    } else {
        fp.input_names.clone()
    };
    let mut prev = names.len();
    for (l, layer) in fp.layers.iter().enumerate() {
        let units = layer.bias.len();
        if layer.weights.len() != units {
            return Err(invalid(
                format!("forward_pass.layers[{l}].weights"),
                format!(
                    "has {} rows but the layer has {units} biases; W must be units × inputs",
                    layer.weights.len()
                ),
            ));
        }
        if let Some((j, row)) = layer
            .weights
            .iter()
            .enumerate()
            .find(|(_, r)| r.len() != prev)
        {
            return Err(invalid(
                format!("forward_pass.layers[{l}].weights[{j}]"),
                format!("has {} values but the layer has {prev} inputs", row.len()),
            ));
        }
        prev = units;
    }
    for (k, input) in fp.inputs.iter().enumerate() {
        if input.values.len() != names.len() {
            return Err(invalid(
                format!("forward_pass.inputs[{k}].values"),
                format!(
                    "has {} values; the network has {} inputs",
                    input.values.len(),
                    names.len()
                ),
            ));
        }
        if input.steps.len() != fp.layers.len() {
            return Err(invalid(
                format!("forward_pass.inputs[{k}].steps"),
                format!(
                    "has {} steps; expected one per layer ({})",
                    input.steps.len(),
                    fp.layers.len()
                ),
            ));
        }
        for (l, (step, layer)) in input.steps.iter().zip(&fp.layers).enumerate() {
            if step.z.len() != layer.bias.len() || step.a.len() != layer.bias.len() {
                return Err(invalid(
                    format!("forward_pass.inputs[{k}].steps[{l}]"),
                    format!(
                        "z has {} and a has {} values; the layer has {} units",
                        step.z.len(),
                        step.a.len(),
                        layer.bias.len()
                    ),
                ));
            }
        }
    }
    Ok(names)
}

fn forward_view(fp: &ForwardPass) -> Result<ForwardView, ReportError> {
    let names = check_forward(fp)?;
    let inputs = fp
        .inputs
        .iter()
        .map(|input| {
            let mut prev: Vec<f64> = input.values.clone();
            let layers = fp
                .layers
                .iter()
                .zip(&input.steps)
                .enumerate()
                .map(|(l, (layer, step))| {
                    let view = ForwardLayerView {
                        index: l + 1,
                        prev_index: l,
                        name: layer.name.clone(),
                        activation: layer.activation.clone(),
                        w: layer
                            .weights
                            .iter()
                            .map(|row| row.iter().map(|v| compact(*v, 4)).collect())
                            .collect(),
                        a_prev: column(&prev),
                        b: column(&layer.bias),
                        z: column(&step.z),
                        a: column(&step.a),
                    };
                    prev = step.a.clone();
                    view
                })
                .collect();
            ForwardInputView {
                name: input.name.clone(),
                values: names
                    .iter()
                    .zip(&input.values)
                    .map(|(n, v)| format!("{n} = {}", compact(*v, 4)))
                    .collect::<Vec<_>>()
                    .join(", "),
                layers,
            }
        })
        .collect();
    Ok(ForwardView {
        diagram: super::network::network_diagram(fp, &names),
        inputs,
    })
}

/// Re-serialises the caller's JSON and escapes `<`, `>` and `&` as JSON
/// unicode escapes, so no `</script>` or `<!--` can end or confuse the
/// script element. Those characters only occur inside JSON strings, where
/// `\u003c` means the same thing.
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
