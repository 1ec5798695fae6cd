//! Layer entries of `model.layers`, written the Keras way:
//! `- embedding: {input_dim: 10000, output_dim: 16}`, `- flatten`, `- dense: {units: 1}`.

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::path::PathBuf;

/// One layer of the Sequential stack.
#[derive(Debug, Clone, PartialEq)]
pub enum LayerSpec {
    /// Token index → dense vector lookup.
    Embedding(EmbeddingSpec),
    /// Collapse all axes but the batch axis.
    Flatten,
    /// Fully connected layer.
    Dense(DenseSpec),
    /// Randomly zero inputs while training.
    Dropout(DropoutSpec),
    /// Mean over the time axis.
    GlobalAveragePooling1d,
    /// Maximum over the time axis.
    GlobalMaxPooling1d,
    /// 1-D convolution over the time axis.
    Conv1d(Conv1dSpec),
    /// Local maximum over windows of the time axis.
    MaxPooling1d(Pooling1dSpec),
    /// Local mean over windows of the time axis.
    AveragePooling1d(Pooling1dSpec),
    /// Fully connected recurrent layer (Keras `SimpleRNN`).
    SimpleRnn(SimpleRnnSpec),
    /// Long short-term memory layer (Keras `LSTM`).
    Lstm(LstmSpec),
    /// Gated recurrent unit layer (Keras `GRU`, `reset_after: true`).
    Gru(GruSpec),
    /// A recurrent layer run forwards and backwards (Keras `Bidirectional`).
    Bidirectional(BidirectionalSpec),
}

/// Every layer type name accepted in a spec, for error messages and suggestions.
pub const LAYER_TYPES: &[&str] = &[
    "embedding",
    "flatten",
    "dense",
    "dropout",
    "global_average_pooling1d",
    "global_max_pooling1d",
    "conv1d",
    "max_pooling1d",
    "average_pooling1d",
    "simple_rnn",
    "lstm",
    "gru",
    "bidirectional",
];

impl LayerSpec {
    /// The layer's type name as written in a spec.
    pub fn type_name(&self) -> &'static str {
        match self {
            LayerSpec::Embedding(_) => "embedding",
            LayerSpec::Flatten => "flatten",
            LayerSpec::Dense(_) => "dense",
            LayerSpec::Dropout(_) => "dropout",
            LayerSpec::GlobalAveragePooling1d => "global_average_pooling1d",
            LayerSpec::GlobalMaxPooling1d => "global_max_pooling1d",
            LayerSpec::Conv1d(_) => "conv1d",
            LayerSpec::MaxPooling1d(_) => "max_pooling1d",
            LayerSpec::AveragePooling1d(_) => "average_pooling1d",
            LayerSpec::SimpleRnn(_) => "simple_rnn",
            LayerSpec::Lstm(_) => "lstm",
            LayerSpec::Gru(_) => "gru",
            LayerSpec::Bidirectional(_) => "bidirectional",
        }
    }
}

/// `embedding` settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingSpec {
    /// Vocabulary size: the largest token index plus one.
    pub input_dim: usize,
    /// Vector size.
    pub output_dim: usize,
    /// Where the vectors start from: `random` (uniform ±0.05, Keras), `one_hot`
    /// (a fixed identity; needs `output_dim == input_dim`) or `pretrained`
    /// (word vectors read from `path`).
    #[serde(default)]
    pub init: EmbeddingInit,
    /// Word-vector file for `init: pretrained`: GloVe or word2vec text format,
    /// plain or `.gz`, relative to the spec file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// Update the vectors while training (forced off for `one_hot`).
    #[serde(default = "default_true")]
    pub trainable: bool,
    /// Treat token id 0 as padding: recurrent layers skip those steps (Keras `mask_zero`).
    #[serde(default)]
    pub mask_zero: bool,
}

impl EmbeddingSpec {
    /// An embedding with default settings: random init, trainable.
    pub fn new(input_dim: usize, output_dim: usize) -> EmbeddingSpec {
        EmbeddingSpec {
            input_dim,
            output_dim,
            init: EmbeddingInit::Random,
            path: None,
            trainable: true,
            mask_zero: false,
        }
    }
}

/// How an embedding's vectors are initialised.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum EmbeddingInit {
    /// Uniform in `[-0.05, 0.05)` (Keras's default).
    #[default]
    Random,
    /// A fixed identity: token `i` becomes the unit vector `e_i` (not trained).
    OneHot,
    /// Vectors from a word-vector file; words missing from it get random vectors.
    Pretrained,
}

/// `conv1d` settings (Keras `Conv1D`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Conv1dSpec {
    /// Number of filters (output channels).
    pub filters: usize,
    /// Window length.
    pub kernel_size: usize,
    /// Step between windows.
    #[serde(default = "default_one")]
    pub strides: usize,
    /// `valid` (no padding) or `same` (zero padding so the length is `⌈L/strides⌉`).
    #[serde(default)]
    pub padding: Padding,
    /// Activation applied to the convolution plus bias.
    #[serde(default)]
    pub activation: Activation,
}

fn default_one() -> usize {
    1
}

/// Convolution padding, as Keras names it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Padding {
    /// No padding: output length `⌊(L − k)/s⌋ + 1`.
    #[default]
    Valid,
    /// Zero padding (extra zero at the end when odd, as Keras): output length `⌈L/s⌉`.
    Same,
}

/// `max_pooling1d` / `average_pooling1d` settings (Keras `MaxPooling1D`,
/// `AveragePooling1D`, padding `valid`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Pooling1dSpec {
    /// Window length.
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
    /// Step between windows; `pool_size` when unset (Keras).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strides: Option<usize>,
}

fn default_pool_size() -> usize {
    2
}

impl Default for Pooling1dSpec {
    fn default() -> Self {
        Pooling1dSpec {
            pool_size: default_pool_size(),
            strides: None,
        }
    }
}

impl Pooling1dSpec {
    /// The step between windows (`strides`, or `pool_size` when unset).
    pub fn stride(&self) -> usize {
        self.strides.unwrap_or(self.pool_size)
    }
}

/// `dense` settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DenseSpec {
    /// Number of output neurons.
    pub units: usize,
    /// Activation applied to `W·a + b`.
    #[serde(default)]
    pub activation: Activation,
    /// Add a bias vector.
    #[serde(default = "default_true")]
    pub use_bias: bool,
    /// Fixed weights, one row per output neuron (`units` rows × input width).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<Vec<Vec<f64>>>,
    /// Fixed bias, one value per output neuron.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias: Option<Vec<f64>>,
    /// Update the weights while training.
    #[serde(default = "default_true")]
    pub trainable: bool,
    /// Penalty on the kernel added to the loss (Keras `kernel_regularizer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_regularizer: Option<RegularizerSpec>,
}

/// A weight penalty, Keras `regularizers.L2`: adds `l2 · Σ w²` to the loss.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RegularizerSpec {
    /// Factor of the squared-weight sum, `>= 0`.
    pub l2: f64,
}

fn default_true() -> bool {
    true
}

/// `dropout` settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DropoutSpec {
    /// Fraction of inputs zeroed while training, in `[0, 1)`.
    pub rate: f64,
}

fn default_tanh() -> Activation {
    Activation::Tanh
}

fn default_sigmoid() -> Activation {
    Activation::Sigmoid
}

/// `simple_rnn` settings (Keras `SimpleRNN` names and defaults).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SimpleRnnSpec {
    /// Size of the state and of the output.
    pub units: usize,
    /// Activation of the state update.
    #[serde(default = "default_tanh")]
    pub activation: Activation,
    /// Output every step `(batch, steps, units)` instead of the last `(batch, units)`.
    #[serde(default)]
    pub return_sequences: bool,
    /// Fraction of the input features dropped while training, in `[0, 1)`.
    #[serde(default)]
    pub dropout: f64,
    /// Read the sequence from its end to its start.
    #[serde(default)]
    pub go_backwards: bool,
}

/// `lstm` settings (Keras `LSTM` names and defaults).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LstmSpec {
    /// Size of the state and of the output.
    pub units: usize,
    /// Activation of the cell candidate and of the cell state on output.
    #[serde(default = "default_tanh")]
    pub activation: Activation,
    /// Activation of the input, forget and output gates.
    #[serde(default = "default_sigmoid")]
    pub recurrent_activation: Activation,
    /// Output every step `(batch, steps, units)` instead of the last `(batch, units)`.
    #[serde(default)]
    pub return_sequences: bool,
    /// Fraction of the input features dropped while training, in `[0, 1)`.
    #[serde(default)]
    pub dropout: f64,
    /// Read the sequence from its end to its start.
    #[serde(default)]
    pub go_backwards: bool,
    /// Initialise the forget-gate bias to 1.
    #[serde(default = "default_true")]
    pub unit_forget_bias: bool,
}

/// `gru` settings (Keras `GRU` names and defaults; always `reset_after: true`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GruSpec {
    /// Size of the state and of the output.
    pub units: usize,
    /// Activation of the candidate state.
    #[serde(default = "default_tanh")]
    pub activation: Activation,
    /// Activation of the update and reset gates.
    #[serde(default = "default_sigmoid")]
    pub recurrent_activation: Activation,
    /// Output every step `(batch, steps, units)` instead of the last `(batch, units)`.
    #[serde(default)]
    pub return_sequences: bool,
    /// Fraction of the input features dropped while training, in `[0, 1)`.
    #[serde(default)]
    pub dropout: f64,
    /// Read the sequence from its end to its start.
    #[serde(default)]
    pub go_backwards: bool,
}

/// How `bidirectional` combines its forward and backward outputs.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum MergeMode {
    /// Concatenate along the feature axis (twice the units).
    #[default]
    Concat,
    /// Element-wise sum.
    Sum,
    /// Element-wise mean.
    Ave,
    /// Element-wise product.
    Mul,
}

/// `bidirectional` settings: `{layer: {lstm: {units: 32}}, merge_mode: concat}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BidirectionalSpec {
    /// The recurrent layer (`simple_rnn`, `lstm` or `gru`) run in both directions.
    pub layer: Box<LayerSpec>,
    /// How the two directions' outputs are combined.
    #[serde(default)]
    pub merge_mode: MergeMode,
}

/// Element-wise activation functions.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// Identity.
    #[default]
    Linear,
    /// max(0, x).
    Relu,
    /// 1 / (1 + e^-x).
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// Normalised exponentials over the last axis.
    Softmax,
}

impl Serialize for LayerSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            LayerSpec::Flatten
            | LayerSpec::GlobalAveragePooling1d
            | LayerSpec::GlobalMaxPooling1d => s.serialize_str(self.type_name()),
            other => {
                let mut m = s.serialize_map(Some(1))?;
                match other {
                    LayerSpec::Embedding(e) => m.serialize_entry("embedding", e)?,
                    LayerSpec::Dense(d) => m.serialize_entry("dense", d)?,
                    LayerSpec::Dropout(d) => m.serialize_entry("dropout", d)?,
                    LayerSpec::Conv1d(c) => m.serialize_entry("conv1d", c)?,
                    LayerSpec::MaxPooling1d(p) => m.serialize_entry("max_pooling1d", p)?,
                    LayerSpec::AveragePooling1d(p) => m.serialize_entry("average_pooling1d", p)?,
                    LayerSpec::SimpleRnn(r) => m.serialize_entry("simple_rnn", r)?,
                    LayerSpec::Lstm(r) => m.serialize_entry("lstm", r)?,
                    LayerSpec::Gru(r) => m.serialize_entry("gru", r)?,
                    LayerSpec::Bidirectional(b) => m.serialize_entry("bidirectional", b)?,
                    _ => unreachable!("unit layers handled above"),
                }
                m.end()
            }
        }
    }
}

/// Accepts a bare name (`- flatten`) or a one-key map (`- dense: {units: 1}`);
/// a layer without settings may also be written `- flatten: {}`.
impl<'de> Deserialize<'de> for LayerSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LayerVisitor)
    }
}

struct LayerVisitor;

fn unit_layer<E: de::Error>(name: &str) -> Result<LayerSpec, E> {
    match name {
        "flatten" => Ok(LayerSpec::Flatten),
        "global_average_pooling1d" => Ok(LayerSpec::GlobalAveragePooling1d),
        "global_max_pooling1d" => Ok(LayerSpec::GlobalMaxPooling1d),
        "max_pooling1d" => Ok(LayerSpec::MaxPooling1d(Pooling1dSpec::default())),
        "average_pooling1d" => Ok(LayerSpec::AveragePooling1d(Pooling1dSpec::default())),
        "embedding" | "dense" | "dropout" | "conv1d" | "simple_rnn" | "lstm" | "gru"
        | "bidirectional" => Err(E::custom(format!(
            "layer `{name}` needs settings, e.g. `- {name}: {{...}}`"
        ))),
        _ => Err(E::unknown_variant(name, LAYER_TYPES)),
    }
}

/// A settings map that must be empty (`{}` or null), for layers without settings.
struct NoSettings;

impl<'de> Deserialize<'de> for NoSettings {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = NoSettings;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("no settings (`{}`)")
            }
            fn visit_unit<E: de::Error>(self) -> Result<NoSettings, E> {
                Ok(NoSettings)
            }
            fn visit_none<E: de::Error>(self) -> Result<NoSettings, E> {
                Ok(NoSettings)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<NoSettings, A::Error> {
                if let Some(k) = a.next_key::<String>()? {
                    return Err(de::Error::custom(format!(
                        "unknown field `{k}`: this layer takes no settings"
                    )));
                }
                Ok(NoSettings)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Visitor<'de> for LayerVisitor {
    type Value = LayerSpec;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "a layer: a name such as `flatten` or a one-key map such as `dense: {{units: 1}}`; layer types: {}",
            LAYER_TYPES.join(", ")
        )
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<LayerSpec, E> {
        unit_layer(v)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<LayerSpec, A::Error> {
        let Some(name) = a.next_key::<String>()? else {
            return Err(de::Error::custom(
                "empty layer entry; write e.g. `- dense: {units: 1}`",
            ));
        };
        let layer = match name.as_str() {
            "embedding" => LayerSpec::Embedding(a.next_value()?),
            "dense" => LayerSpec::Dense(a.next_value()?),
            "dropout" => LayerSpec::Dropout(a.next_value()?),
            "conv1d" => LayerSpec::Conv1d(a.next_value()?),
            "max_pooling1d" => LayerSpec::MaxPooling1d(
                a.next_value::<Option<Pooling1dSpec>>()?.unwrap_or_default(),
            ),
            "average_pooling1d" => LayerSpec::AveragePooling1d(
                a.next_value::<Option<Pooling1dSpec>>()?.unwrap_or_default(),
            ),
            "simple_rnn" => LayerSpec::SimpleRnn(a.next_value()?),
            "lstm" => LayerSpec::Lstm(a.next_value()?),
            "gru" => LayerSpec::Gru(a.next_value()?),
            "bidirectional" => LayerSpec::Bidirectional(a.next_value()?),
            other => {
                let layer = unit_layer(other)?;
                a.next_value::<NoSettings>()?;
                layer
            }
        };
        if let Some(extra) = a.next_key::<String>()? {
            return Err(de::Error::custom(format!(
                "one layer per list entry: `{extra}` follows `{name}` in the same entry; start it on a new `- ` line"
            )));
        }
        Ok(layer)
    }
}
