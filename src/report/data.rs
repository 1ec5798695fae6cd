//! The data a report is rendered from: plain values the pipeline fills in.
//!
//! Optional sections are `Option`s (or empty `Vec`s); a section whose data is
//! absent is left out of the report entirely.

use serde::{Deserialize, Serialize};

use super::svg::{HistBin, Series};

/// Everything one report shows. Build it in the pipeline, then call
/// [`render`](super::render).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ReportData {
    /// Title, author, date, version, experiment name and seed.
    pub header: Header,
    /// The resolved spec as YAML text; the section is omitted when empty.
    pub spec_yaml: String,
    /// Rows per split, class balance, text lengths and data sources.
    pub data_summary: Option<DataSummary>,
    /// Extra exploration (e.g. drug reviews: rating histogram, top drugs).
    pub exploration: Option<Exploration>,
    /// Keras-style model summary.
    pub model: Option<ModelSummary>,
    /// Training history and charts.
    pub training: Option<Training>,
    /// Evaluation metrics on the test split.
    pub metrics: Option<Metrics>,
    /// Test examples chosen for error analysis (per class the most confident
    /// mistakes and a few correct ones); omitted when empty.
    pub examples: Vec<Example>,
    /// Every misclassified test example, for small test sets (shown folded).
    #[serde(default)]
    pub misclassified: Vec<Example>,
    /// "Why this prediction": how the shown examples' words were weighed,
    /// and a bag-of-n-gram model's strongest n-grams; omitted when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanations: Option<Explanations>,
    /// The author's discussion (`report.notes`); omitted when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<Notes>,
    /// Forward pass of a hand-calculation spec (no data).
    pub forward_pass: Option<ForwardPass>,
    /// A JSON document embedded as `<script type="application/json"
    /// id="kerros-manifest">`; it must be valid JSON.
    pub manifest_json: Option<String>,
    /// The command line and the stage cache keys.
    pub footer: Footer,
    /// A classification run's test predictions (ids, true and predicted
    /// classes), compressed: for significance tests between reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predictions: Option<super::predictions::TestPredictions>,
}

/// The report's heading block.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Header {
    /// Report title (the experiment name when the spec sets none).
    pub title: String,
    /// Author, when the spec names one.
    pub author: Option<String>,
    /// Date and time of the run, already formatted by the caller.
    pub generated_at: String,
    /// kerros version, e.g. `env!("CARGO_PKG_VERSION")`.
    pub kerros_version: String,
    /// Experiment name from the spec.
    pub experiment: String,
    /// The seed the run used.
    pub seed: u64,
}

/// Summary of the loaded data.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DataSummary {
    /// One entry per split, in display order (train, validation, test).
    pub splits: Vec<SplitSummary>,
    /// Words per review in the training split; omitted when `None`.
    pub train_lengths: Option<TextLengths>,
    /// Rows skipped while reading (empty text, missing label, ...).
    pub skipped_rows: u64,
    /// The same per file read: (`train`, `validation`, `test`) → rows skipped;
    /// empty when nothing was skipped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_per_split: Vec<(String, u64)>,
    /// The files the data came from.
    pub sources: Vec<DataSource>,
}

/// Size and class balance of one split.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SplitSummary {
    /// Split name: `train`, `validation` or `test`.
    pub name: String,
    /// Number of rows.
    pub rows: u64,
    /// Rows per class (empty for regression tasks).
    pub class_counts: Vec<(String, u64)>,
}

/// Distribution of text lengths (in words).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TextLengths {
    /// Shortest text.
    pub min: u64,
    /// Median length (mean of the two middle values for an even count).
    pub median: f64,
    /// Mean length.
    pub mean: f64,
    /// Longest text.
    pub max: u64,
    /// Histogram bins of the lengths.
    pub bins: Vec<HistBin>,
}

impl TextLengths {
    /// Summarises word counts into min / median / mean / max and `bins`
    /// equal-width histogram bins. Returns `None` for an empty slice.
    pub fn from_word_counts(counts: &[u64], bins: usize) -> Option<TextLengths> {
        if counts.is_empty() {
            return None;
        }
        let mut sorted = counts.to_vec();
        sorted.sort_unstable();
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2] as f64
        } else {
            (sorted[n / 2 - 1] as f64 + sorted[n / 2] as f64) / 2.0
        };
        let mean = sorted.iter().map(|&c| c as f64).sum::<f64>() / n as f64;
        let values: Vec<f64> = sorted.iter().map(|&c| c as f64).collect();
        Some(TextLengths {
            min: sorted[0],
            median,
            mean,
            max: sorted[n - 1],
            bins: super::svg::histogram_bins(&values, bins),
        })
    }
}

/// One input file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DataSource {
    /// Path as given in the spec (or the built-in dataset's cached file).
    pub path: String,
    /// Short content hash (e.g. the first 12 hex digits of its blake3).
    pub hash: String,
}

/// Optional data exploration (designed for the drug-review datasets).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Exploration {
    /// Name of the numeric label, e.g. `rating`.
    pub label_name: String,
    /// Count per label value in display order, e.g. `("1", 3021)` … `("10", 9000)`.
    pub label_counts: Vec<(String, u64)>,
    /// Review length per class.
    pub length_by_class: Vec<ClassLength>,
    /// Most frequent values of named extra columns: (column, [(value, count)]).
    pub top_values: Vec<(String, Vec<(String, u64)>)>,
    /// Most indicative words per class: (class, [(word, score)]).
    pub indicative_words: Vec<(String, Vec<(String, f64)>)>,
}

/// Text length statistics of one class.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ClassLength {
    /// Class name.
    pub class: String,
    /// Number of texts in the class.
    pub count: u64,
    /// Median words per text.
    pub median: f64,
    /// Mean words per text.
    pub mean: f64,
}

/// Keras `model.summary()`-style table.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ModelSummary {
    /// One row per layer.
    pub layers: Vec<LayerRow>,
    /// All parameters.
    pub total_params: u64,
    /// Parameters updated by training.
    pub trainable_params: u64,
    /// Frozen parameters (e.g. a fixed pretrained embedding).
    pub non_trainable_params: u64,
    /// Pretrained-embedding coverage, when one is used.
    pub embedding_coverage: Option<EmbeddingCoverage>,
}

/// One layer of the model summary.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LayerRow {
    /// Layer name, e.g. `dense_1`.
    pub name: String,
    /// Layer type, e.g. `Dense`.
    pub kind: String,
    /// Output shape as Keras prints it, e.g. `(None, 200, 64)`.
    pub output_shape: String,
    /// Parameter count.
    pub params: u64,
}

/// How much of the vocabulary a pretrained embedding covered.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EmbeddingCoverage {
    /// Name of the embedding, e.g. `GloVe 6B 100d`.
    pub source: String,
    /// Vocabulary words found in the embedding.
    pub covered: u64,
    /// Vocabulary size.
    pub vocabulary: u64,
}

/// Training history.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Training {
    /// One row per epoch.
    pub history: Vec<EpochRow>,
    /// Wall-clock seconds of the whole fit.
    pub total_seconds: f64,
    /// Per-layer gradient norm by epoch, drawn on a log axis; the chart is
    /// omitted when empty.
    pub gradient_norms: Vec<Series>,
    /// Sentences that state what the gradient chart shows, e.g. the ratio of
    /// the first to the last band of a recurrent layer.
    #[serde(default)]
    pub gradient_notes: Vec<String>,
    /// What the loss is, for the axis title, e.g. `binary cross-entropy`.
    #[serde(default)]
    pub loss_name: String,
    /// What the accuracy curve measures, e.g. `accuracy` or
    /// `accuracy of rounded predictions`.
    #[serde(default)]
    pub accuracy_name: String,
    /// Early stopping, when it ended training before the last epoch or
    /// restored an earlier epoch's weights.
    #[serde(default)]
    pub early_stop: Option<EarlyStop>,
    /// k-fold cross-validation that chose the final model's epochs.
    #[serde(default)]
    pub cross_validation: Option<CrossValidation>,
    /// Training hints (under-training, a large train/validation gap, ...).
    #[serde(default)]
    pub hints: Vec<String>,
}

/// The folds of k-fold cross-validation, for the report.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CrossValidation {
    /// Each fold's validation loss by epoch (one series per fold).
    pub val_loss: Vec<Series>,
    /// Each fold's validation accuracy by epoch; empty when not computed.
    pub val_accuracy: Vec<Series>,
    /// (metric, mean, std) over the folds.
    pub summary: Vec<(String, f64, f64)>,
    /// Each fold's (metric → value), in fold order.
    pub folds: Vec<Vec<(String, f64)>>,
    /// Epochs the final model trained on the whole training split.
    pub final_epochs: usize,
    /// How `final_epochs` was chosen.
    pub final_epochs_rule: String,
    /// With `task.decision`: the fitted rule the predicted labels use, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
}

/// What early stopping did.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EarlyStop {
    /// The last epoch trained.
    pub stopped_epoch: u32,
    /// The epochs the spec allowed.
    pub max_epochs: u32,
    /// The epoch with the best monitored value.
    pub best_epoch: u32,
    /// The monitored quantity, e.g. `val_loss`.
    pub monitor: String,
    /// The best epoch's weights were restored and used for the test metrics.
    pub restored: bool,
}

/// One epoch of the history. Metrics that were not computed are `None`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EpochRow {
    /// 1-based epoch number.
    pub epoch: u32,
    /// Training loss.
    pub loss: f64,
    /// Training accuracy.
    pub accuracy: Option<f64>,
    /// Validation loss.
    pub val_loss: Option<f64>,
    /// Validation accuracy.
    pub val_accuracy: Option<f64>,
    /// Seconds the epoch took.
    pub seconds: f64,
}

/// Evaluation metrics.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Metrics {
    /// Shown large at the top of the section, e.g. accuracy, Cohen's kappa,
    /// macro-F1.
    pub headline: Vec<Metric>,
    /// All scalar metrics, shown in a table with 4 decimals.
    pub scalars: Vec<Metric>,
    /// Per-class precision / recall / F1 / support; omitted when empty.
    pub per_class: Vec<ClassMetrics>,
    /// Confusion matrix; omitted when `None`.
    pub confusion: Option<Confusion>,
    /// Title of the confusion chart; empty means "Confusion matrix (test split)".
    #[serde(default)]
    pub confusion_title: String,
    /// Regression: prediction minus true value, one per test example.
    #[serde(default)]
    pub residuals: Vec<f64>,
    /// Binary tasks: the ROC curve as `(false positive rate, true positive rate)`.
    #[serde(default)]
    pub roc: Vec<(f64, f64)>,
    /// Binary tasks: the precision-recall curve as `(recall, precision)`.
    #[serde(default)]
    pub pr: Vec<(f64, f64)>,
    /// Reliability of the predicted probabilities: `(mean predicted
    /// probability, observed frequency, examples)` per bin.
    #[serde(default)]
    pub calibration: Vec<(f64, f64, u64)>,
    /// Sentences explaining the metrics shown (kappas and their weights).
    #[serde(default)]
    pub notes: Vec<String>,
    /// What the `majority` baseline is called on the page: empty means
    /// "majority" (classification); regression uses "mean".
    #[serde(default)]
    pub majority_name: String,
}

/// A named scalar metric.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Metric {
    /// Display name, e.g. `Cohen's kappa`.
    pub name: String,
    /// Value.
    pub value: f64,
    /// One line saying what the metric means; empty when none is known.
    #[serde(default)]
    pub meaning: String,
    /// The same metric for a model that always predicts the most frequent
    /// training class.
    #[serde(default)]
    pub majority: Option<f64>,
    /// The expected value for a model that guesses at random with the
    /// training split's class frequencies.
    #[serde(default)]
    pub stratified: Option<f64>,
    /// Seeded 95% bootstrap interval of the metric on the test split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<crate::metrics::significance::Interval>,
}

/// Per-class metrics (scikit-learn `classification_report` columns).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// Class name.
    pub class: String,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1 score.
    pub f1: f64,
    /// Number of true examples of the class.
    pub support: u64,
}

/// Confusion matrix: `counts[true][predicted]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Confusion {
    /// Class names, in matrix order.
    pub labels: Vec<String>,
    /// Square matrix of counts, rows are true classes.
    pub counts: Vec<Vec<u64>>,
}

/// One test example and its prediction.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Example {
    /// Row id.
    pub id: i64,
    /// Raw text (shown escaped, truncated to about 600 characters).
    pub text: String,
    /// True label.
    pub true_label: String,
    /// Predicted label.
    pub predicted_label: String,
    /// Probability of the predicted label (confidence); unused for regression.
    pub confidence: f64,
    /// Regression: the raw predicted value (the error is its difference to
    /// the true value); `None` for classification.
    #[serde(default)]
    pub predicted_value: Option<f64>,
    /// Regression: the true value.
    #[serde(default)]
    pub true_value: Option<f64>,
    /// Why the example is shown, e.g. `confident mistakes, true class pos`.
    #[serde(default)]
    pub group: String,
    /// The words of `text` and how much each moved the prediction (see
    /// [`Explanations`]); empty when the example was not explained.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<WordWeight>,
}

/// One word of an example's text and its contribution to the prediction.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct WordWeight {
    /// Byte offset of the word in the example's `text`.
    pub start: usize,
    /// Byte offset just past the word.
    pub end: usize,
    /// Positive: the word supported the predicted class (or raised the
    /// predicted value); negative: it argued against it (or lowered it).
    pub contribution: f64,
}

/// "Why this prediction".
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Explanations {
    /// How the example words were weighed, in one or two sentences.
    pub method: String,
    /// Bag-of-n-gram models: the strongest n-grams by weight, per class
    /// (binary and regression: one entry).
    pub ngrams: Vec<NgramWeights>,
    /// Why `ngrams` is empty for a model that reads n-grams, when it is.
    #[serde(default)]
    pub ngram_note: String,
}

/// The n-grams whose weights push one output up and down the most.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NgramWeights {
    /// What a positive weight does, e.g. `towards pos` or `raise the rating`.
    pub up_label: String,
    /// What a negative weight does, e.g. `towards neg`.
    pub down_label: String,
    /// Largest weights first.
    pub up: Vec<(String, f64)>,
    /// Most negative weights first.
    pub down: Vec<(String, f64)>,
}

/// The author's discussion, as written.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Notes {
    /// The notes file as the spec names it.
    pub source: String,
    /// Its Markdown text (rendered with raw HTML shown as text).
    pub markdown: String,
}

/// A forward pass through a small network, computed by hand-calculation specs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ForwardPass {
    /// Names of the input features, e.g. `x1`, `x2`.
    pub input_names: Vec<String>,
    /// The layers, input side first.
    pub layers: Vec<ForwardLayer>,
    /// The inputs pushed through the network.
    pub inputs: Vec<ForwardInput>,
}

/// One dense layer of the hand-calculation network.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ForwardLayer {
    /// Layer name.
    pub name: String,
    /// Activation name, e.g. `relu`.
    pub activation: String,
    /// Weights `W[unit][input]` (units × inputs, so `Z = W·A + b`).
    pub weights: Vec<Vec<f64>>,
    /// Bias per unit.
    pub bias: Vec<f64>,
}

/// One input and the values it produced in every layer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ForwardInput {
    /// Name of the input, e.g. `example 1`.
    pub name: String,
    /// Input values, one per input feature.
    pub values: Vec<f64>,
    /// Per layer: pre-activation `Z` and activation `A`.
    pub steps: Vec<ForwardStep>,
}

/// Pre-activation and activation of one layer for one input.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ForwardStep {
    /// `Z = W·A_prev + b`, one value per unit.
    pub z: Vec<f64>,
    /// `A = activation(Z)`, one value per unit.
    pub a: Vec<f64>,
}

/// The report's footer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Footer {
    /// The command that produced the report.
    pub command: String,
    /// Stage name → short cache key.
    pub cache_keys: Vec<(String, String)>,
}
