//! Training-control settings: learning-rate schedules, early stopping and
//! class weights (Keras callbacks and `fit` arguments). Fields of
//! [`TrainSpec`](super::TrainSpec) and [`OptimizerSpec`](super::OptimizerSpec).

use super::OrderedMap;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// A learning-rate schedule (`train.optimizer.schedule`).
///
/// Written `schedule: constant`, `schedule: {exponential_decay: {decay_steps: 1000,
/// decay_rate: 0.96}}` or `schedule: {reduce_on_plateau: {patience: 2}}`.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ScheduleSpec {
    /// The learning rate stays at `learning_rate`.
    #[default]
    Constant,
    /// Keras `ExponentialDecay`: `lr · decay_rate^(step / decay_steps)`.
    ExponentialDecay(ExponentialDecaySpec),
    /// Keras `ReduceLROnPlateau`: multiply by `factor` when `monitor` stalls.
    ReduceOnPlateau(ReduceOnPlateauSpec),
}

/// Schedule names accepted in a spec.
const SCHEDULES: &[&str] = &["constant", "exponential_decay", "reduce_on_plateau"];

impl Serialize for ScheduleSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            ScheduleSpec::Constant => s.serialize_str("constant"),
            ScheduleSpec::ExponentialDecay(e) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("exponential_decay", e)?;
                m.end()
            }
            ScheduleSpec::ReduceOnPlateau(r) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("reduce_on_plateau", r)?;
                m.end()
            }
        }
    }
}

/// Accepts a bare name (`constant`, `reduce_on_plateau` with its defaults) or a
/// one-key map (`exponential_decay: {...}`), like layer entries (serde_yaml
/// would otherwise want YAML tags for enums).
impl<'de> Deserialize<'de> for ScheduleSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ScheduleSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a schedule: `constant`, `{exponential_decay: {decay_steps: 1000, decay_rate: 0.96}}` or `{reduce_on_plateau: {patience: 2}}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ScheduleSpec, E> {
                match v {
                    "constant" => Ok(ScheduleSpec::Constant),
                    "reduce_on_plateau" => {
                        Ok(ScheduleSpec::ReduceOnPlateau(ReduceOnPlateauSpec::default()))
                    }
                    "exponential_decay" => Err(E::custom(
                        "exponential_decay needs settings, e.g. `{exponential_decay: {decay_steps: 1000, decay_rate: 0.96}}`",
                    )),
                    _ => Err(E::unknown_variant(v, SCHEDULES)),
                }
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut a: A) -> Result<ScheduleSpec, A::Error> {
                let Some(name) = a.next_key::<String>()? else {
                    return Err(de::Error::custom("empty schedule; write e.g. `constant`"));
                };
                let out = match name.as_str() {
                    "constant" => {
                        a.next_value::<Option<serde_yaml::Mapping>>()?;
                        ScheduleSpec::Constant
                    }
                    "exponential_decay" => ScheduleSpec::ExponentialDecay(a.next_value()?),
                    "reduce_on_plateau" => ScheduleSpec::ReduceOnPlateau(
                        a.next_value::<Option<ReduceOnPlateauSpec>>()?
                            .unwrap_or_default(),
                    ),
                    other => return Err(de::Error::unknown_variant(other, SCHEDULES)),
                };
                if let Some(extra) = a.next_key::<String>()? {
                    return Err(de::Error::custom(format!(
                        "one schedule only: `{extra}` follows `{name}`"
                    )));
                }
                Ok(out)
            }
        }
        d.deserialize_any(V)
    }
}

/// Keras `ExponentialDecay` settings; `step` counts optimizer updates from 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExponentialDecaySpec {
    /// Updates over which the rate is multiplied by `decay_rate` once.
    pub decay_steps: u64,
    /// Factor per `decay_steps` updates, in (0, 1] (above 1 grows the rate).
    pub decay_rate: f64,
    /// Decay in whole steps: `decay_rate^⌊step / decay_steps⌋`.
    #[serde(default)]
    pub staircase: bool,
}

/// A quantity watched after each epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorName {
    /// Validation loss (needs validation data).
    #[default]
    ValLoss,
    /// Validation accuracy (needs validation data).
    ValAccuracy,
    /// Training loss.
    Loss,
    /// Training accuracy.
    Accuracy,
}

impl MonitorName {
    /// The name as written in a spec and in Keras logs (`val_loss`).
    pub fn as_str(self) -> &'static str {
        match self {
            MonitorName::ValLoss => "val_loss",
            MonitorName::ValAccuracy => "val_accuracy",
            MonitorName::Loss => "loss",
            MonitorName::Accuracy => "accuracy",
        }
    }

    /// Whether the quantity comes from the validation split.
    pub fn needs_validation(self) -> bool {
        matches!(self, MonitorName::ValLoss | MonitorName::ValAccuracy)
    }
}

/// Whether a monitored quantity should go down or up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorMode {
    /// `max` for accuracies, `min` otherwise (Keras: "acc" in the name).
    #[default]
    Auto,
    /// Lower is better.
    Min,
    /// Higher is better.
    Max,
}

/// Keras `ReduceLROnPlateau` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReduceOnPlateauSpec {
    /// The watched quantity.
    pub monitor: MonitorName,
    /// Direction of improvement.
    pub mode: MonitorMode,
    /// New rate = rate · factor, in (0, 1).
    pub factor: f64,
    /// Epochs without improvement before the rate is reduced.
    pub patience: usize,
    /// Smallest change that counts as an improvement.
    pub min_delta: f64,
    /// The rate is never reduced below this.
    pub min_lr: f64,
    /// Epochs to wait after a reduction before counting again.
    pub cooldown: usize,
}

impl Default for ReduceOnPlateauSpec {
    fn default() -> Self {
        ReduceOnPlateauSpec {
            monitor: MonitorName::ValLoss,
            mode: MonitorMode::Auto,
            factor: 0.1,
            patience: 10,
            min_delta: 1e-4,
            min_lr: 0.0,
            cooldown: 0,
        }
    }
}

/// Keras `EarlyStopping` settings (`train.early_stopping`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EarlyStoppingSpec {
    /// The watched quantity.
    pub monitor: MonitorName,
    /// Direction of improvement.
    pub mode: MonitorMode,
    /// Epochs without improvement before training stops (Keras: 0 and 1 both
    /// stop after the first epoch that does not improve).
    pub patience: usize,
    /// Smallest change that counts as an improvement.
    pub min_delta: f64,
    /// When training stops early, put back the weights of the best epoch.
    pub restore_best_weights: bool,
}

impl Default for EarlyStoppingSpec {
    fn default() -> Self {
        EarlyStoppingSpec {
            monitor: MonitorName::ValLoss,
            mode: MonitorMode::Auto,
            patience: 0,
            min_delta: 0.0,
            restore_best_weights: false,
        }
    }
}

/// Per-class loss weights (`train.class_weight`): `balanced`, or a map from
/// class name or class index to weight (classes not listed weigh 1).
#[derive(Debug, Clone, PartialEq)]
pub enum ClassWeightSpec {
    /// `n_samples / (n_classes · count(class))`, as scikit-learn's
    /// `compute_class_weight("balanced")`.
    Balanced,
    /// Explicit weights by class name or index (`"0"`, `"pos"`).
    Map(OrderedMap<f64>),
}

impl Serialize for ClassWeightSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ClassWeightSpec::Balanced => s.serialize_str("balanced"),
            ClassWeightSpec::Map(m) => m.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for ClassWeightSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ClassWeightSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`balanced` or a map from class name or index to weight, e.g. `{neg: 1.0, pos: 3.0}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ClassWeightSpec, E> {
                if v == "balanced" {
                    Ok(ClassWeightSpec::Balanced)
                } else {
                    Err(E::custom(format!(
                        "unknown class_weight `{v}`; write `balanced` or a map such as `{{neg: 1.0, pos: 3.0}}`"
                    )))
                }
            }
            fn visit_map<A: de::MapAccess<'de>>(self, a: A) -> Result<ClassWeightSpec, A::Error> {
                // Keys may be written as numbers (`0: 1.0`); read them as text.
                let raw: OrderedMap<f64> =
                    Deserialize::deserialize(de::value::MapAccessDeserializer::new(KeyText(a)))?;
                Ok(ClassWeightSpec::Map(raw))
            }
        }
        d.deserialize_any(V)
    }
}

/// A map whose keys are read as text whether written as strings or numbers.
struct KeyText<A>(A);

impl<'de, A: de::MapAccess<'de>> de::MapAccess<'de> for KeyText<A> {
    type Error = A::Error;
    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        match self.0.next_key::<serde_yaml::Value>()? {
            None => Ok(None),
            Some(k) => {
                let text = match k {
                    serde_yaml::Value::String(s) => s,
                    serde_yaml::Value::Number(n) => n.to_string(),
                    serde_yaml::Value::Bool(b) => b.to_string(),
                    _ => {
                        return Err(de::Error::custom(
                            "class_weight keys must be class names or indices",
                        ))
                    }
                };
                seed.deserialize(de::value::StringDeserializer::<A::Error>::new(text))
                    .map(Some)
            }
        }
    }
    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, A::Error> {
        self.0.next_value_seed(seed)
    }
}
