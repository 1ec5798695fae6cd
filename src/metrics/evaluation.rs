//! One evaluation of a run's test split, typed: the scalar metrics of the
//! [catalog](super::catalog) by name, and the confusion matrix, per-class
//! scores, regression labels and prediction range as their own types.
//!
//! Its serialised form is the flat JSON object `kerros run --json`, run
//! records and report manifests have always held (keys in name order, each
//! scalar a number or `null`), so files written before it read back the same.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::catalog;
use crate::spec::MetricName;

/// Key of the confusion matrix (rows the true class, columns the predicted).
pub const CONFUSION_MATRIX: &str = "confusion_matrix";
/// Key of the per-class scores of a many-class task.
pub const PER_CLASS: &str = "per_class";
/// Key of the integer labels a regression's confusion matrix is indexed by.
pub const CONFUSION_LABELS: &str = "confusion_labels";
/// Key of the range `[lo, hi]` a regression's predictions were rounded into.
pub const PREDICTION_RANGE: &str = "prediction_range";

/// Key of the decision rule fitted on cross-validation folds (`task.decision`)
/// that turned the model's outputs into the predicted labels, when there is one.
pub const DECISION: &str = "decision";

/// Precision, recall, F1 and support of one class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassEntry {
    /// Precision of the class (`null` in JSON counts as undefined).
    pub precision: Option<f64>,
    /// Recall of the class.
    pub recall: Option<f64>,
    /// F1 of the class.
    pub f1: Option<f64>,
    /// Test examples whose true class it is.
    pub support: u64,
}

/// The metrics of one evaluation, typed; see the module documentation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    /// Catalog scalar metrics by name; `None` where the metric is undefined.
    scalars: BTreeMap<&'static str, Option<f64>>,
    confusion_matrix: Option<Vec<Vec<u64>>>,
    per_class: Option<BTreeMap<String, ClassEntry>>,
    confusion_labels: Option<Vec<String>>,
    prediction_range: Option<[f64; 2]>,
    /// Entries whose name is not in the catalog (kept so that a file written
    /// by a later version reads back and writes out unchanged).
    other: BTreeMap<String, Value>,
}

/// A metric map entry that does not have the shape its name calls for.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("metric `{name}` is {found}, not {expected}")]
pub struct ShapeError {
    /// The metric name.
    pub name: String,
    /// What the catalog expects.
    pub expected: &'static str,
    /// The JSON found.
    pub found: String,
}

fn shape<T: serde::de::DeserializeOwned>(
    name: &str,
    v: Value,
    expected: &'static str,
) -> Result<T, ShapeError> {
    let found = v.to_string();
    serde_json::from_value(v).map_err(|_| ShapeError {
        name: name.to_string(),
        expected,
        found,
    })
}

fn number(v: Option<f64>) -> Value {
    super::opt_value(v)
}

impl Evaluation {
    /// The evaluation a flat metric map describes (the form of
    /// `metric_map`, `metrics.json` and `--json`). Catalog names must have
    /// their shape (a scalar a number or `null`, the confusion matrix rows of
    /// counts, ...); names outside the catalog are kept as they are.
    pub fn from_map(map: BTreeMap<String, Value>) -> Result<Evaluation, ShapeError> {
        let mut e = Evaluation::default();
        for (name, v) in map {
            match name.as_str() {
                CONFUSION_MATRIX => {
                    e.confusion_matrix = Some(shape(&name, v, "rows of counts")?);
                }
                PER_CLASS => e.per_class = Some(shape(&name, v, "per-class scores")?),
                CONFUSION_LABELS => e.confusion_labels = Some(shape(&name, v, "a list of labels")?),
                PREDICTION_RANGE => e.prediction_range = Some(shape(&name, v, "[lo, hi]")?),
                _ => match catalog::find(&name) {
                    Some(info) if info.scalar => {
                        let x: Option<f64> = shape(&name, v, "a number or null")?;
                        e.scalars.insert(info.name, x);
                    }
                    _ => {
                        e.other.insert(name, v);
                    }
                },
            }
        }
        Ok(e)
    }

    /// The flat metric map (what [`Serialize`] writes).
    pub fn to_map(&self) -> BTreeMap<String, Value> {
        let mut m: BTreeMap<String, Value> = self.other.clone();
        for (name, v) in &self.scalars {
            m.insert(name.to_string(), number(*v));
        }
        if let Some(cm) = &self.confusion_matrix {
            m.insert(CONFUSION_MATRIX.into(), super::matrix_value(cm));
        }
        if let Some(pc) = &self.per_class {
            let obj = pc
                .iter()
                .map(|(class, s)| {
                    let mut o = serde_json::Map::new();
                    o.insert("precision".into(), number(s.precision));
                    o.insert("recall".into(), number(s.recall));
                    o.insert("f1".into(), number(s.f1));
                    o.insert("support".into(), Value::from(s.support));
                    (class.clone(), Value::Object(o))
                })
                .collect();
            m.insert(PER_CLASS.into(), Value::Object(obj));
        }
        if let Some(l) = &self.confusion_labels {
            m.insert(CONFUSION_LABELS.into(), Value::from(l.clone()));
        }
        if let Some([lo, hi]) = self.prediction_range {
            m.insert(PREDICTION_RANGE.into(), serde_json::json!([lo, hi]));
        }
        m
    }

    /// The value of scalar metric `name`: `None` when the run has no such
    /// metric or it is undefined (see [`Evaluation::scalar_entry`] to tell
    /// the two apart).
    pub fn scalar(&self, name: &str) -> Option<f64> {
        self.scalar_entry(name).flatten()
    }

    /// `Some(value)` when the run has scalar metric `name` (`Some(None)` when
    /// it is undefined), `None` when it has not.
    pub fn scalar_entry(&self, name: &str) -> Option<Option<f64>> {
        self.scalars.get(name).copied()
    }

    /// Whether the run has metric `name`, of any shape.
    pub fn contains(&self, name: &str) -> bool {
        self.to_map_keys().any(|k| k == name)
    }

    fn to_map_keys(&self) -> impl Iterator<Item = &str> {
        let tables = [
            (CONFUSION_MATRIX, self.confusion_matrix.is_some()),
            (PER_CLASS, self.per_class.is_some()),
            (CONFUSION_LABELS, self.confusion_labels.is_some()),
            (PREDICTION_RANGE, self.prediction_range.is_some()),
        ];
        self.scalars
            .keys()
            .copied()
            .chain(tables.into_iter().filter(|t| t.1).map(|t| t.0))
            .chain(self.other.keys().map(String::as_str))
    }

    /// How many metrics the run has, of any shape.
    pub fn len(&self) -> usize {
        self.to_map_keys().count()
    }

    /// Whether the run has no metrics at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The scalar metrics, defined or not, in name order.
    pub fn scalars(&self) -> impl Iterator<Item = (&'static str, Option<f64>)> + '_ {
        self.scalars.iter().map(|(k, v)| (*k, *v))
    }

    /// The defined scalar metrics in name order.
    pub fn defined_scalars(&self) -> impl Iterator<Item = (&'static str, f64)> + '_ {
        self.scalars().filter_map(|(k, v)| v.map(|x| (k, x)))
    }

    /// Set scalar metric `name` (a catalog scalar; other names are refused).
    pub fn set_scalar(&mut self, name: &str, value: Option<f64>) -> Result<(), ShapeError> {
        match catalog::find(name) {
            Some(info) if info.scalar => {
                self.scalars.insert(info.name, value);
                Ok(())
            }
            _ => Err(ShapeError {
                name: name.to_string(),
                expected: "a scalar metric of the catalog",
                found: format!("{value:?}"),
            }),
        }
    }

    /// Remove metric `name`, of any shape; whether it was there.
    pub fn remove(&mut self, name: &str) -> bool {
        match name {
            CONFUSION_MATRIX => self.confusion_matrix.take().is_some(),
            PER_CLASS => self.per_class.take().is_some(),
            CONFUSION_LABELS => self.confusion_labels.take().is_some(),
            PREDICTION_RANGE => self.prediction_range.take().is_some(),
            _ => self.scalars.remove(name).is_some() || self.other.remove(name).is_some(),
        }
    }

    /// Keep only the metrics the spec's `metrics:` list asks for (see
    /// [`super::metric_enabled`]).
    pub fn retain_enabled(&mut self, enabled: &[MetricName]) {
        let names: Vec<String> = self.to_map_keys().map(str::to_string).collect();
        for name in names {
            if !super::metric_enabled(&name, enabled) {
                self.remove(&name);
            }
        }
    }

    /// The fitted decision rule the predictions were made with
    /// (`task.decision`), `None` without one (arg-max or rounding).
    pub fn decision(&self) -> Option<super::FittedDecision> {
        serde_json::from_value(self.other.get(DECISION)?.clone()).ok()
    }

    /// Record the fitted decision rule the predictions were made with.
    pub fn set_decision(&mut self, rule: &super::FittedDecision) {
        if let Ok(v) = serde_json::to_value(rule) {
            self.other.insert(DECISION.to_string(), v);
        }
    }

    /// The confusion matrix: rows the true class, columns the predicted one.
    pub fn confusion_matrix(&self) -> Option<&[Vec<u64>]> {
        self.confusion_matrix.as_deref()
    }

    /// Per-class scores by class name (many-class tasks).
    pub fn per_class(&self) -> Option<&BTreeMap<String, ClassEntry>> {
        self.per_class.as_ref()
    }

    /// The labels of a regression's confusion matrix.
    pub fn confusion_labels(&self) -> Option<&[String]> {
        self.confusion_labels.as_deref()
    }

    /// Set the labels of a regression's confusion matrix.
    pub fn set_confusion_labels(&mut self, labels: Vec<String>) {
        self.confusion_labels = Some(labels);
    }

    /// The range `[lo, hi]` a regression's predictions were rounded into.
    pub fn prediction_range(&self) -> Option<[f64; 2]> {
        self.prediction_range
    }

    /// Set the range a regression's predictions were rounded into.
    pub fn set_prediction_range(&mut self, range: [f64; 2]) {
        self.prediction_range = Some(range);
    }
}

impl Serialize for Evaluation {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_map().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Evaluation {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Evaluation, D::Error> {
        let map = BTreeMap::<String, Value>::deserialize(d)?;
        Evaluation::from_map(map).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{ClassificationMetrics, RegressionMetrics};

    fn round_trip(map: BTreeMap<String, Value>) {
        let text = serde_json::to_string_pretty(&map).unwrap();
        let e: Evaluation = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_string_pretty(&e).unwrap(), text);
        assert_eq!(e.to_map(), map);
    }

    #[test]
    fn serialised_form_is_the_flat_map() {
        let three = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let probs = [
            vec![0.7, 0.2, 0.1],
            vec![0.2, 0.5, 0.3],
            vec![0.1, 0.1, 0.8],
        ];
        let m = ClassificationMetrics::compute(&[0, 1, 2], &[0, 1, 1], Some(&probs[..]), &three)
            .unwrap();
        round_trip(m.metric_map());
        let two = vec!["a".to_string(), "b".to_string()];
        let m = ClassificationMetrics::compute(&[0, 1, 1], &[0, 0, 0], None, &two).unwrap();
        round_trip(m.metric_map());
        let r = RegressionMetrics::compute(&[1.0, 2.0, 3.0], &[1.1, 2.2, 2.7], Some([1.0, 3.0]))
            .unwrap();
        let mut map = r.metric_map();
        map.insert(CONFUSION_LABELS.into(), serde_json::json!(["1", "2", "3"]));
        map.insert(PREDICTION_RANGE.into(), serde_json::json!([1.0, 3.0]));
        map.insert("loss".into(), serde_json::json!(0.25));
        map.insert("from_a_later_version".into(), serde_json::json!({"x": 1}));
        round_trip(map);
    }

    #[test]
    fn typed_accessors() {
        let map: BTreeMap<String, Value> = serde_json::from_str(
            r#"{"accuracy": 0.5, "roc_auc": null, "confusion_matrix": [[1, 0], [1, 0]]}"#,
        )
        .unwrap();
        let mut e = Evaluation::from_map(map).unwrap();
        assert_eq!(e.scalar("accuracy"), Some(0.5));
        assert_eq!(e.scalar_entry("roc_auc"), Some(None));
        assert_eq!(e.scalar_entry("f1"), None);
        assert_eq!(e.confusion_matrix(), Some(&[vec![1, 0], vec![1, 0]][..]));
        assert!(e.contains("confusion_matrix") && e.len() == 3);
        e.retain_enabled(&[MetricName::Accuracy]);
        assert_eq!(e.len(), 1);
        assert!(e.set_scalar("confusion_matrix", Some(1.0)).is_err());
        let bad: BTreeMap<String, Value> = serde_json::from_str(r#"{"accuracy": "high"}"#).unwrap();
        assert!(Evaluation::from_map(bad).is_err());
    }
}
