//! The experiment spec: the single source of truth for every setting, its
//! default and its validation.
//!
//! A spec is read from YAML with unknown keys rejected everywhere. Every
//! default lives in this module, written once: a section whose keys are all
//! optional takes its missing keys from its one `Default` impl (container
//! `#[serde(default)]`); the few required-key structs name a single function
//! per default. So `kerros show` can print the fully resolved spec and two
//! runs of the same resolved spec are the same experiment.

pub mod assignment;
mod bounds;
mod controls;
pub mod decision;
mod defaults;
pub mod ensemble;
mod error;
pub mod expect;
mod expected;
mod layers;
mod load;
mod locate;
mod report;
pub mod search;
mod select;
pub mod sweep;
mod test_source;
mod unlabelled;
mod validation;

pub use bounds::{
    check_bounds, MAX_BATCH_SIZE, MAX_EPOCHS, MAX_LAYERS, MAX_NESTING, MAX_NGRAMS,
    MAX_SEQUENCE_LENGTH, MAX_SPEC_BYTES, MAX_UNITS, MAX_VOCABULARY,
};
pub use controls::{
    ClassWeightSpec, EarlyStoppingSpec, ExponentialDecaySpec, MonitorMode, MonitorName,
    ReduceOnPlateauSpec, ScheduleSpec,
};
pub use defaults::{DEFAULT_CACHE_DIR, DEFAULT_REPORTS_DIR, EVALUATION_BATCH_SIZE};
pub use error::{Invalid, SpecError};
pub use layers::{
    Activation, BidirectionalSpec, Conv1dSpec, DenseSpec, DropoutSpec, EmbeddingInit,
    EmbeddingSpec, GruSpec, LayerSpec, LstmSpec, MergeMode, Padding, Pooling1dSpec,
    RegularizerSpec, SimpleRnnSpec,
};
/// Names of the built-in datasets a spec may give as `data.dataset`; `data`
/// resolves each under the data dir.
pub const BUILTIN_DATASETS: &[&str] = &["imdb", "druglib", "drugscom"];

pub use decision::{DecisionSpec, DecisionTarget};
pub(crate) use load::yaml_error;
pub use load::{check, load_spec, nearest, parse_spec, read_spec_file};
pub use locate::Locator;
pub use report::{ExplainMode, ReportSpec};
pub use select::{
    cv_scored_metric, is_selection_metric, SelectSpec, CV_METRICS, SELECTION_METRICS,
    VALIDATION_METRICS,
};
pub use test_source::TestSource;
pub use unlabelled::{UnlabelledSource, UNLABELLED_NEEDS_DATASET};
pub use validation::{ValidationSpec, MAX_FOLDS};

pub use crate::text::doc_vectors::DocVectorSettings;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A whole experiment: data, text processing, model, training, metrics and report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Experiment name; also the report's file name (`<reports-dir>/<name>.html`).
    pub name: String,
    /// Seed for every random choice: shuffles, splits, weight initialisation, dropout.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Where the examples come from. A spec without `data` is a hand-calculation
    /// spec: it has fixed weights and is evaluated with `kerros forward`.
    #[serde(default)]
    pub data: Option<DataSpec>,
    /// What is predicted from the text.
    #[serde(default)]
    pub task: TaskSpec,
    /// Keras `Tokenizer` settings (used when `vectorize.mode` is `int`).
    #[serde(default)]
    pub tokenizer: TokenizerSpec,
    /// Keras `pad_sequences` settings (used when `vectorize.mode` is `int`).
    #[serde(default)]
    pub sequence: SequenceSpec,
    /// How text becomes model input: integer sequences or a bag of n-grams.
    #[serde(default)]
    pub vectorize: VectorizeSpec,
    /// The layer stack (absent only in an `ensemble:` spec).
    #[serde(default)]
    pub model: ModelSpec,
    /// Optimizer, loss, epochs and batches.
    #[serde(default)]
    pub train: TrainSpec,
    /// Which metrics to compute on the test split.
    #[serde(default = "default_metrics")]
    pub metrics: Vec<MetricName>,
    /// Report title, author and how many examples to show.
    #[serde(default)]
    pub report: ReportSpec,
    /// A sweep: dotted spec paths mapped to value lists; each combination runs as a variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix: Option<OrderedMap<Vec<serde_yaml::Value>>>,
    /// Random search: `trials` variants drawn from distributions over spec
    /// paths (instead of a `matrix:`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<search::SearchSpec>,
    /// Which validation metric chooses one variant of the `matrix:` or `search:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select: Option<SelectSpec>,
    /// Example inputs for a spec without data (hand calculation): each row is
    /// one input vector A1, e.g. `[[1, 3, 2]]`; `kerros run` shows their pass.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<Vec<f64>>,
    /// CI gates: metric name mapped to a bound such as `">= 0.85"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<OrderedMap<String>>,
    /// The assignment this spec was handed out for (`kerros init
    /// --assignment`): its locked keys are checked by every command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment: Option<assignment::AssignmentRef>,
    /// An ensemble of member specs (`ensemble: {members: [...], combine:
    /// mean}`) instead of one model; see [`ensemble::EnsembleSpec`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ensemble: Option<ensemble::EnsembleSpec>,
}

/// A YAML mapping whose entries keep the order they were written in.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderedMap<V>(pub Vec<(String, V)>);

impl<V: Serialize> Serialize for OrderedMap<V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for Visit<V> {
            type Value = OrderedMap<V>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<OrderedMap<V>, A::Error> {
                let mut out: Vec<(String, V)> = Vec::new();
                while let Some((k, v)) = a.next_entry::<String, V>()? {
                    if out.iter().any(|(seen, _)| *seen == k) {
                        return Err(serde::de::Error::custom(format!("duplicate key `{k}`")));
                    }
                    out.push((k, v));
                }
                Ok(OrderedMap(out))
            }
        }
        d.deserialize_map(Visit(std::marker::PhantomData))
    }
}

fn default_seed() -> u64 {
    42
}

/// The data section: a built-in dataset or explicit files.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DataSpec {
    /// A built-in dataset name (`imdb`, `druglib`), resolved under the data dir.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    /// Training file (CSV, TSV, Parquet or JSONL), relative to the spec file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub train: Option<PathBuf>,
    /// Test file relative to the spec file, or `{fraction: F}` of `train`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<TestSource>,
    /// File format; `auto` picks it from the extension.
    pub format: FileFormat,
    /// Column holding the text. Ignored when `text_columns` is set.
    pub text_column: String,
    /// Several text columns joined with `text_separator` (empty cells allowed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub text_columns: Vec<String>,
    /// Separator placed between the cells of `text_columns`.
    pub text_separator: String,
    /// With several `text_columns`: write each word as `<column>·<word>`, so
    /// the same word in two fields (`no` in a side-effects review and in a
    /// benefits review) becomes two features (see `crate::data::join_fields`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub field_tags: bool,
    /// Column holding the label (a class name or a number).
    pub label_column: String,
    /// Optional column with a stable example id; the row number otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_column: Option<String>,
    /// How the validation split is made.
    pub validation: ValidationSpec,
    /// A numeric column (≥ 0) of per-example weights: the training loss is
    /// the weighted mean over each batch; metrics stay unweighted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_column: Option<String>,
    /// Take at most this many rows per split after a seeded shuffle (quick runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// Texts without labels for the steps that learn from unlabelled text
    /// (`vectorize.mode: doc_vectors`): `true` for a built-in dataset's own
    /// (IMDB's 50,000 `unsup` reviews), or a file relative to the spec read
    /// with the same columns, format and cleaning as `train` (its label
    /// column, if any, is ignored). Never the test file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlabelled: Option<UnlabelledSource>,
    /// Text cleaning applied before tokenization.
    pub clean: CleanSpec,
    /// What to do with a malformed row in a delimited file.
    pub on_bad_rows: BadRows,
    /// Under `on_bad_rows: skip`, the most rows all files together may lose;
    /// unset: a tenth of the rows read (`crate::data::MAX_BAD_FRACTION`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_bad_rows: Option<usize>,
    /// Whether a CSV/TSV file starts with a header row naming its columns.
    #[serde(skip_serializing_if = "is_true")]
    pub header: bool,
    /// Names of a header-less CSV/TSV file's columns, in file order (`header: false`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    /// Character encoding of CSV, TSV and JSONL files (`utf-8`, `latin-1`,
    /// `windows-1252`, `utf-16`, ...); unset: UTF-8, or UTF-16 when the file
    /// starts with a UTF-16 byte order mark.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// Field delimiter of a CSV/TSV file, one character (default `,` for CSV, tab for TSV).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    /// Quote character of a CSV/TSV file, one character (default `"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
}

fn is_true(b: &bool) -> bool {
    *b
}

impl DataSpec {
    /// This section without `unlabelled`: what decides which rows make the
    /// splits (the load stage's key, and what ensemble members must share).
    pub fn without_unlabelled(&self) -> DataSpec {
        DataSpec {
            unlabelled: None,
            ..self.clone()
        }
    }
}

impl Default for DataSpec {
    fn default() -> Self {
        DataSpec {
            dataset: None,
            train: None,
            test: None,
            format: FileFormat::Auto,
            text_column: "text".into(),
            text_columns: Vec::new(),
            text_separator: " ".into(),
            field_tags: false,
            label_column: "label".into(),
            unlabelled: None,
            id_column: None,
            validation: ValidationSpec::default(),
            weight_column: None,
            limit: None,
            clean: CleanSpec::default(),
            on_bad_rows: BadRows::Error,
            max_bad_rows: None,
            header: true,
            columns: Vec::new(),
            encoding: None,
            delimiter: None,
            quote: None,
        }
    }
}

/// Input file format.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    /// Decide from the file extension (`.csv`, `.tsv`, `.parquet`, `.jsonl`).
    #[default]
    Auto,
    /// Comma-separated values with a header row.
    Csv,
    /// Tab-separated values with a header row.
    Tsv,
    /// Apache Parquet.
    Parquet,
    /// One JSON object per line.
    Jsonl,
}

/// What to do with malformed rows in delimited files.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum BadRows {
    /// Stop with an error naming file, line and column.
    #[default]
    Error,
    /// Skip the row and report how many were skipped.
    Skip,
}

/// Text cleaning before tokenization.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct CleanSpec {
    /// Decode HTML entities such as `&#039;` and `&amp;`.
    pub html_entities: bool,
    /// Replace HTML tags such as `<br />` with a space.
    pub strip_tags: bool,
}

/// What is predicted and how labels are made.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct TaskSpec {
    /// `binary`, `multiclass` or `regression`.
    #[serde(rename = "type")]
    pub kind: TaskKind,
    /// Class names in output and report order; empty: sorted training labels (`neg`, `pos`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
    /// Classes derived from a numeric label column by inclusive ranges, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bins: Option<BinsSpec>,
    /// For regression: the valid range that rounded predictions are clamped into.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<[f64; 2]>,
    /// `classes` are listed lowest to highest (ratings): weighted kappas apply.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ordinal: bool,
    /// Binary tasks: the class whose precision, recall, F1 and ROC AUC are
    /// reported (and whose probability the one sigmoid output is); unset:
    /// the second of the classes (of the sorted labels, `pos` of `neg`/`pos`).
    /// It becomes the second class in output order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub positive_class: Option<String>,
    /// A decision rule fitted on the cross-validation folds' out-of-fold
    /// predictions to maximise a kappa (regression: cut points between the
    /// whole labels instead of rounding; classes: offsets on the
    /// log-probabilities before the arg-max). Needs `data.validation.folds`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<DecisionSpec>,
}

/// Ordered class bins over a numeric column: `name: [low, high]`, inclusive.
pub type BinsSpec = OrderedMap<[f64; 2]>;

/// The kind of target.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Two classes, one sigmoid (or logit) output.
    #[default]
    Binary,
    /// N classes, softmax output.
    Multiclass,
    /// A number, linear output.
    Regression,
}

/// Keras `Tokenizer` settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TokenizerSpec {
    /// Keep only words with index below `num_words` (Keras semantics); all when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_words: Option<usize>,
    /// Characters replaced by the split character before splitting.
    pub filters: String,
    /// Lower-case before splitting.
    pub lower: bool,
    /// The split string.
    pub split: String,
    /// Every character is a token.
    pub char_level: bool,
    /// Token for out-of-vocabulary words; gets index 1 when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oov_token: Option<String>,
}

/// Keras's default `Tokenizer` filters: punctuation, tab and newline.
pub const KERAS_DEFAULT_FILTERS: &str = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";

impl Default for TokenizerSpec {
    fn default() -> Self {
        TokenizerSpec {
            num_words: None,
            filters: KERAS_DEFAULT_FILTERS.into(),
            lower: true,
            split: " ".into(),
            char_level: false,
            oov_token: None,
        }
    }
}

/// Which end of a sequence padding or truncation applies to.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// At the start (Keras default).
    #[default]
    Pre,
    /// At the end.
    Post,
}

/// Keras `pad_sequences` settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct SequenceSpec {
    /// Length of every sequence; the longest training sequence when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maxlen: Option<usize>,
    /// Where padding goes.
    pub padding: Side,
    /// Where long sequences are cut.
    pub truncating: Side,
    /// The padding value.
    pub value: u32,
}

/// How text becomes model input (Keras `TextVectorization` output modes).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct VectorizeSpec {
    /// `int` (token sequences through `tokenizer` and `sequence`), or a bag of
    /// n-grams: `multi_hot`, `count`, `tf_idf`.
    pub mode: VectorizeMode,
    /// Use all n-grams from 1 up to this length (bag modes).
    pub ngrams: usize,
    /// Keep the most frequent `max_tokens` n-grams (bag modes); all when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<usize>,
    /// Drop n-grams seen in fewer than this many training documents (bag modes).
    pub min_df: usize,
    /// Text standardisation (bag modes).
    pub standardize: Standardize,
    /// Replace HTML tags like `<br />` with spaces before standardising (bag modes).
    pub strip_html: bool,
    /// Scale each feature by its naive-Bayes log-count ratio (Wang & Manning 2012).
    pub nb_weighting: bool,
    /// `mode: doc_vectors`: how the document vectors are trained.
    #[serde(skip_serializing_if = "is_default_doc_vectors")]
    pub doc_vectors: DocVectorSettings,
}

fn is_default_doc_vectors(s: &DocVectorSettings) -> bool {
    *s == DocVectorSettings::default()
}

/// The spec as `kerros show` prints it: every setting, defaults included.
/// Serialisation leaves `vectorize.doc_vectors` out when it holds the
/// defaults (so the stage keys of specs written before it existed did not
/// change); under `mode: doc_vectors` it is put back here.
pub fn resolved_yaml(spec: &Spec) -> Result<String, serde_yaml::Error> {
    let mut value = serde_yaml::to_value(spec)?;
    if spec.vectorize.mode == VectorizeMode::DocVectors {
        if let Some(v) = value.get_mut("vectorize").and_then(|v| v.as_mapping_mut()) {
            if !v.contains_key("doc_vectors") {
                v.insert(
                    "doc_vectors".into(),
                    serde_yaml::to_value(spec.vectorize.doc_vectors)?,
                );
            }
        }
    }
    serde_yaml::to_string(&value)
}

impl Default for VectorizeSpec {
    fn default() -> Self {
        VectorizeSpec {
            mode: VectorizeMode::Int,
            ngrams: 1,
            max_tokens: None,
            min_df: 1,
            standardize: Standardize::default(),
            strip_html: true,
            nb_weighting: false,
            doc_vectors: DocVectorSettings::default(),
        }
    }
}

/// Vectorization output mode.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum VectorizeMode {
    /// Integer token sequences (Keras `Tokenizer` + `pad_sequences`).
    #[default]
    Int,
    /// 1 for each n-gram present.
    MultiHot,
    /// Count of each n-gram.
    Count,
    /// Count times inverse document frequency.
    TfIdf,
    /// A dense document vector per text (PV-DBOW over its n-grams, trained
    /// on the training split plus `data.unlabelled`; see
    /// `crate::text::doc_vectors`).
    DocVectors,
}

/// Text standardisation for bag-of-n-gram modes.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Standardize {
    /// Lower-case and remove punctuation.
    #[default]
    LowerAndStripPunctuation,
    /// Lower-case only.
    Lower,
    /// Leave text unchanged.
    None,
}

/// The model: a Keras-style Sequential stack.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Layers in order, first to last.
    pub layers: Vec<LayerSpec>,
    /// Input width for a spec without data (hand calculation); taken from the data otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_dim: Option<usize>,
}

/// Training settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TrainSpec {
    /// The optimizer.
    pub optimizer: OptimizerSpec,
    /// The loss.
    pub loss: LossSpec,
    /// Passes over the training split.
    pub epochs: usize,
    /// Examples per gradient step.
    pub batch_size: usize,
    /// Shuffle the training split before each epoch (seeded).
    pub shuffle: bool,
    /// Stop when a watched quantity stops improving (Keras `EarlyStopping`); off when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<EarlyStoppingSpec>,
    /// Weight each training example's loss by its class (`balanced` or a map); off when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_weight: Option<ClassWeightSpec>,
}

impl Default for TrainSpec {
    fn default() -> Self {
        TrainSpec {
            optimizer: OptimizerSpec::default(),
            loss: LossSpec::default(),
            epochs: 10,
            batch_size: 32,
            shuffle: true,
            early_stopping: None,
            class_weight: None,
        }
    }
}

/// Optimizer settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct OptimizerSpec {
    /// Optimizer name.
    pub name: OptimizerName,
    /// Step size.
    pub learning_rate: f64,
    /// Adam's first-moment decay.
    pub beta_1: f64,
    /// Adam's second-moment decay.
    pub beta_2: f64,
    /// Adam's epsilon (Keras default 1e-7).
    pub epsilon: f64,
    /// Decoupled weight decay (AdamW).
    pub weight_decay: f64,
    /// SGD / RMSprop momentum, in [0, 1).
    pub momentum: f64,
    /// SGD: use Nesterov momentum.
    pub nesterov: bool,
    /// RMSprop's discount of the squared-gradient average.
    pub rho: f64,
    /// Adagrad's starting accumulator value.
    pub initial_accumulator_value: f64,
    /// Clip each weight tensor's gradient to this L2 norm (Keras `clipnorm`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clipnorm: Option<f64>,
    /// Clip all gradients together to this global L2 norm (Keras `global_clipnorm`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global_clipnorm: Option<f64>,
    /// How the learning rate changes during training.
    pub schedule: ScheduleSpec,
}

impl Default for OptimizerSpec {
    fn default() -> Self {
        OptimizerSpec {
            name: OptimizerName::Adam,
            learning_rate: 0.001,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            weight_decay: 0.0,
            momentum: 0.0,
            nesterov: false,
            rho: 0.9,
            initial_accumulator_value: 0.1,
            clipnorm: None,
            global_clipnorm: None,
            schedule: ScheduleSpec::Constant,
        }
    }
}

/// Optimizer names.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerName {
    /// Adam (Kingma & Ba), with Keras's epsilon placement.
    #[default]
    Adam,
    /// Adam with decoupled weight decay.
    Adamw,
    /// Stochastic gradient descent, with optional (Nesterov) momentum.
    Sgd,
    /// RMSprop (Keras form: epsilon inside the square root).
    Rmsprop,
    /// Adagrad (Keras form: epsilon inside the square root).
    Adagrad,
}

/// Loss settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LossSpec {
    /// Loss name.
    pub name: LossName,
    /// The model's last layer outputs logits, not probabilities.
    pub from_logits: bool,
    /// Huber loss: where the quadratic part becomes linear (Keras default 1).
    pub delta: f64,
}

impl Default for LossSpec {
    fn default() -> Self {
        LossSpec {
            name: LossName::BinaryCrossentropy,
            from_logits: true,
            delta: 1.0,
        }
    }
}

/// Loss names.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum LossName {
    /// Binary cross-entropy on one output.
    #[default]
    BinaryCrossentropy,
    /// Cross-entropy on N outputs with integer class targets.
    SparseCategoricalCrossentropy,
    /// Cross-entropy on N outputs with one-hot targets (same value as sparse).
    CategoricalCrossentropy,
    /// Mean squared error (regression).
    Mse,
    /// Mean absolute error (regression).
    Mae,
    /// Huber loss with `delta` (regression).
    Huber,
}

/// Metric names.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum MetricName {
    /// Fraction of correct predictions.
    Accuracy,
    /// Precision (of the positive class; macro and weighted for multi-class).
    Precision,
    /// Recall.
    Recall,
    /// F1 score.
    F1,
    /// Area under the ROC curve (binary).
    RocAuc,
    /// Confusion matrix, rows true, columns predicted.
    ConfusionMatrix,
    /// Cohen's kappa (also linear and quadratic weighted for multi-class).
    CohenKappa,
}

impl MetricName {
    /// Every metric family, in the order of the default `metrics:` list.
    pub const ALL: [MetricName; 7] = [
        MetricName::Accuracy,
        MetricName::Precision,
        MetricName::Recall,
        MetricName::F1,
        MetricName::RocAuc,
        MetricName::ConfusionMatrix,
        MetricName::CohenKappa,
    ];

    /// The name as written in a spec (`roc_auc`).
    pub fn as_str(self) -> &'static str {
        match self {
            MetricName::Accuracy => "accuracy",
            MetricName::Precision => "precision",
            MetricName::Recall => "recall",
            MetricName::F1 => "f1",
            MetricName::RocAuc => "roc_auc",
            MetricName::ConfusionMatrix => "confusion_matrix",
            MetricName::CohenKappa => "cohen_kappa",
        }
    }
}

fn default_metrics() -> Vec<MetricName> {
    MetricName::ALL.to_vec()
}
