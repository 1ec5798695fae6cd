//! The one validation every command runs before it touches data.
//!
//! [`validate`] checks keys, types and values (already done while parsing),
//! the documented bounds, the layer stack's shapes, the output layer against
//! the task and loss, `metrics:` and `expect:` against the metrics the run
//! will compute, a hand calculation's `inputs` against `model.input_dim`, and
//! the memory the run will need. Every error is a [`SpecError`] with the
//! file, line and column of the setting to change. Once it passes, a run
//! fails only on what the data decides (files, rows, classes found).

use super::memory::{self, MemoryLimit};
use crate::metrics::catalog::{self, Scoring};
use crate::model::{self, LayerInfo, ModelInput};
use crate::spec::{
    self, nearest, Invalid, LayerSpec, Locator, LossName, MetricName, Spec, SpecError, TaskKind,
    VectorizeMode,
};
use crate::train::{self, TaskInfo};
use std::path::Path;

/// Check `spec` (read from `spec_path`, positions from `locator`) against
/// everything knowable without data, with the memory limit of this machine.
pub fn validate(spec: &Spec, spec_path: &Path, locator: &Locator) -> Result<(), SpecError> {
    validate_with(spec, spec_path, locator, &MemoryLimit::for_machine())
}

/// [`validate`] with an explicit memory limit (`--max-memory`).
pub fn validate_with(
    spec: &Spec,
    spec_path: &Path,
    locator: &Locator,
    limit: &MemoryLimit,
) -> Result<(), SpecError> {
    if let Some(ensemble) = &spec.ensemble {
        spec::check(spec).map_err(|i| i.at(spec_path, locator))?;
        let members = super::ensemble_members::load_members(ensemble, spec_path, locator, limit)?;
        if let Some(first) = members.first() {
            let effective = super::ensemble::effective_spec(spec, &first.spec);
            check_expectations(&effective).map_err(|i| i.at(spec_path, locator))?;
        }
        return super::notes::load(spec, spec_path).map(|_| ());
    }
    check_spec(spec, locator, limit).map_err(|i| i.at(spec_path, locator))?;
    super::notes::load(spec, spec_path)?;
    spec::assignment::check_spec(spec, spec_path, locator)
}

/// The checks of [`validate_with`], as an [`Invalid`] located by path.
fn check_spec(spec: &Spec, locator: &Locator, limit: &MemoryLimit) -> Result<(), Invalid> {
    spec::check(spec)?;
    // The file-reading options are checked by `data`, which owns their parsing.
    if let Some(data) = &spec.data {
        crate::data::ReadOptions::from_spec(data)
            .check()
            .map_err(|(key, message)| Invalid::new(key, message))?;
    }
    let input = model_input_without_data(spec)?;
    let infos = model::infer_shapes(&spec.model.layers, &input)?;
    check_vocabulary(spec)?;
    check_output(spec, &infos)?;
    check_metric_list(spec, locator)?;
    check_expectations(spec)?;
    check_inputs(spec)?;
    let estimate = memory::estimate(spec, &input.shape().0, &infos);
    if let Some(message) = memory::over_limit(spec, &estimate, limit) {
        return Err(Invalid::new(estimate.largest_key.clone(), message));
    }
    Ok(())
}

/// The model's input as far as the spec tells it.
fn model_input_without_data(spec: &Spec) -> Result<ModelInput, Invalid> {
    if spec.data.is_none() {
        return match spec.model.input_dim {
            Some(width) => Ok(ModelInput::Features { width }),
            None => Err(Invalid::new(
                "model.input_dim",
                "a spec without `data` needs `model.input_dim` (the number of inputs, e.g. 3)",
            )),
        };
    }
    match spec.vectorize.mode {
        VectorizeMode::Int => match spec.sequence.maxlen {
            Some(maxlen) => Ok(ModelInput::Sequence { maxlen }),
            None => Err(Invalid::new(
                "sequence.maxlen",
                "set `sequence.maxlen` (e.g. 200): the model's shapes depend on it",
            )),
        },
        VectorizeMode::DocVectors => Ok(ModelInput::Features {
            width: spec.vectorize.doc_vectors.dim,
        }),
        // The feature count is known only after fitting; any width checks ranks.
        _ => Ok(ModelInput::Features {
            width: spec.vectorize.max_tokens.unwrap_or(1),
        }),
    }
}

/// An embedding must have a row for every token index the tokenizer gives.
fn check_vocabulary(spec: &Spec) -> Result<(), Invalid> {
    if let (Some(n), Some(LayerSpec::Embedding(e))) =
        (spec.tokenizer.num_words, spec.model.layers.first())
    {
        if spec.vectorize.mode == VectorizeMode::Int && e.input_dim < n {
            return Err(Invalid::new(
                "model.layers[0].embedding.input_dim",
                format!(
                    "input_dim {} is smaller than tokenizer.num_words {n}: token indices go up to {}; set input_dim to at least {n}",
                    e.input_dim,
                    n - 1
                ),
            ));
        }
    }
    Ok(())
}

/// The number of classes the spec itself fixes (`task.classes` or `task.bins`).
fn classes_in_spec(spec: &Spec) -> Option<usize> {
    match spec.task.kind {
        TaskKind::Binary => Some(2),
        TaskKind::Regression => None,
        TaskKind::Multiclass => match (&spec.task.bins, spec.task.classes.len()) {
            (Some(bins), _) => Some(bins.0.len()),
            (None, 0) => None,
            (None, n) => Some(n),
        },
    }
}

/// The last layer must be the `dense` output layer, as wide as the task and
/// loss need, with an activation that matches `from_logits`.
fn check_output(spec: &Spec, infos: &[LayerInfo]) -> Result<(), Invalid> {
    let last = spec.model.layers.len() - 1;
    let at = format!("model.layers[{last}]");
    let Some(LayerSpec::Dense(d)) = spec.model.layers.last() else {
        return Err(Invalid::new(
            at,
            format!(
                "the last layer is `{}`, but it must be `dense`, the model's output (e.g. `- dense: {{units: {}}}`)",
                spec.model.layers[last].type_name(),
                output_units_hint(spec)
            ),
        ));
    };
    if spec.data.is_none() {
        // A hand calculation is evaluated layer by layer, not trained or scored.
        return Ok(());
    }
    let loss = &spec.train.loss;
    let kind = spec.task.kind;
    if kind == TaskKind::Multiclass && d.units < 2 {
        return Err(Invalid::new(
            format!("{at}.dense.units"),
            format!(
                "a multiclass task needs one output unit per class, but the last layer has {}; set `units` to the number of classes{}",
                d.units,
                classes_in_spec(spec).map(|n| format!(" ({n})")).unwrap_or_default()
            ),
        ));
    }
    if kind == TaskKind::Multiclass
        && matches!(loss.name, LossName::Mse | LossName::Mae | LossName::Huber)
    {
        return Err(Invalid::new(
            "train.loss.name",
            "a multiclass task needs a classification loss: use sparse_categorical_crossentropy",
        ));
    }
    let width = infos.last().map_or(d.units, |i| i.dims.iter().product());
    let n_classes = match kind {
        TaskKind::Multiclass => classes_in_spec(spec).unwrap_or(width),
        _ => 2,
    };
    let task = TaskInfo { kind, n_classes };
    train::check_loss_layers(&spec.model.layers, width, loss, &task)
}

/// What `units` the output layer needs, for a message.
fn output_units_hint(spec: &Spec) -> usize {
    match (spec.task.kind, spec.train.loss.name) {
        (TaskKind::Multiclass, _) => classes_in_spec(spec).unwrap_or(3),
        (TaskKind::Binary, LossName::SparseCategoricalCrossentropy)
        | (TaskKind::Binary, LossName::CategoricalCrossentropy) => 2,
        _ => 1,
    }
}

/// The scoring of a run, when the spec decides it (a multiclass task without
/// `classes` or `bins` may turn out to have two classes).
fn scoring(spec: &Spec) -> Option<Scoring> {
    match spec.task.kind {
        TaskKind::Regression => Some(Scoring::Regression),
        TaskKind::Binary => Some(Scoring::TwoClasses),
        TaskKind::Multiclass => match classes_in_spec(spec) {
            Some(2) => Some(Scoring::TwoClasses),
            Some(_) => Some(Scoring::ManyClasses),
            None => None,
        },
    }
}

/// The scorings the run may end up with.
fn possible_scorings(spec: &Spec) -> Vec<Scoring> {
    match scoring(spec) {
        Some(s) => vec![s],
        None => vec![Scoring::TwoClasses, Scoring::ManyClasses],
    }
}

/// A `metrics:` entry written in the spec must give some metric for the task.
fn check_metric_list(spec: &Spec, locator: &Locator) -> Result<(), Invalid> {
    if spec.data.is_none() || !locator.contains("metrics") {
        // The default list holds every family; each task keeps what applies.
        return Ok(());
    }
    let scorings = possible_scorings(spec);
    let applies = |m: MetricName| scorings.iter().any(|&s| catalog::family_applies(m, s));
    for (i, m) in spec.metrics.iter().enumerate() {
        if !applies(*m) {
            let valid: Vec<&str> = MetricName::ALL
                .into_iter()
                .filter(|&f| applies(f))
                .map(MetricName::as_str)
                .collect();
            return Err(Invalid::new(
                format!("metrics[{i}]"),
                format!(
                    "`{}` is not computed for a {} task; for it, list any of: {}",
                    m.as_str(),
                    describe_task(spec),
                    valid.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn task_name(kind: TaskKind) -> &'static str {
    match kind {
        TaskKind::Binary => "binary",
        TaskKind::Multiclass => "multiclass",
        TaskKind::Regression => "regression",
    }
}

/// Every `expect:` bound must parse and name a scalar metric the run computes.
fn check_expectations(spec: &Spec) -> Result<(), Invalid> {
    let Some(expect) = &spec.expect else {
        return Ok(());
    };
    let parsed = crate::spec::expect::parse_expectations(expect)?;
    if spec.data.is_none() {
        return Err(Invalid::new(
            "expect",
            "a spec without `data` is a hand calculation: it computes no metrics to expect; remove `expect:`",
        ));
    }
    let scorings = possible_scorings(spec);
    let mut available: Vec<&str> = Vec::new();
    for &s in &scorings {
        for name in catalog::computed_scalars(s, &spec.metrics) {
            if !available.contains(&name) {
                available.push(name);
            }
        }
    }
    for e in parsed {
        if available.contains(&e.metric.as_str()) {
            continue;
        }
        let computed_with = |enabled: &[MetricName]| {
            scorings
                .iter()
                .any(|&s| catalog::computed(&e.metric, s, enabled))
        };
        let why = match catalog::find(&e.metric) {
            Some(info) if !info.scalar => format!(
                "`{}` is not a single number, so it cannot be bounded",
                e.metric
            ),
            Some(_) if computed_with(&MetricName::ALL) => format!(
                "`{}` is not computed because the spec's `metrics:` list leaves it out",
                e.metric
            ),
            Some(_) => format!(
                "`{}` is not computed for a {} task",
                e.metric,
                describe_task(spec)
            ),
            None => format!("there is no metric `{}`", e.metric),
        };
        let hint = nearest(&e.metric, &available)
            .map(|n| format!(" (did you mean `{n}`?)"))
            .unwrap_or_default();
        return Err(Invalid::new(
            format!("expect.{}", e.metric),
            format!("{why}{hint}; this run computes: {}", available.join(", ")),
        ));
    }
    Ok(())
}

/// `binary`, `multiclass (3 classes)`, `regression`.
fn describe_task(spec: &Spec) -> String {
    match (spec.task.kind, classes_in_spec(spec)) {
        (TaskKind::Multiclass, Some(n)) => format!("multiclass ({n} classes)"),
        (kind, _) => task_name(kind).to_string(),
    }
}

/// A hand calculation's `inputs` rows must each have `model.input_dim` values.
fn check_inputs(spec: &Spec) -> Result<(), Invalid> {
    if spec.inputs.is_empty() {
        return Ok(());
    }
    if spec.data.is_some() {
        return Err(Invalid::new(
            "inputs",
            "`inputs` are the example vectors of a hand calculation (a spec without `data`); remove them, or remove `data`",
        ));
    }
    let Some(width) = spec.model.input_dim else {
        return Ok(()); // reported by the model input check
    };
    for (i, row) in spec.inputs.iter().enumerate() {
        if row.len() != width {
            return Err(Invalid::new(
                format!("inputs[{i}]"),
                format!(
                    "input row {} has {} values, but `model.input_dim` is {width}; give {width} numbers per row",
                    i + 1,
                    row.len()
                ),
            ));
        }
        if let Some(v) = row.iter().find(|v| !v.is_finite()) {
            return Err(Invalid::new(
                format!("inputs[{i}]"),
                format!(
                    "input row {} holds {v}; inputs must be finite numbers",
                    i + 1
                ),
            ));
        }
    }
    Ok(())
}

/// After the split stage: the classes found in the data must match the
/// output layer (a multiclass task whose classes the spec does not list).
/// The error points at the last layer's line in `spec_path`.
pub fn check_classes(spec: &Spec, spec_path: &Path, n_classes: usize) -> Result<(), SpecError> {
    if spec.task.kind != TaskKind::Multiclass || spec.data.is_none() {
        return Ok(());
    }
    let last = spec.model.layers.len().saturating_sub(1);
    let Some(LayerSpec::Dense(d)) = spec.model.layers.last() else {
        return Ok(()); // rejected by validate
    };
    let loss = &spec.train.loss;
    let categorical = matches!(
        loss.name,
        LossName::SparseCategoricalCrossentropy | LossName::CategoricalCrossentropy
    );
    if d.units == n_classes || !categorical {
        return Ok(());
    }
    let locator = spec::read_spec_file(spec_path)
        .map(|s| Locator::new(&s))
        .unwrap_or_default();
    Err(Invalid::new(
        format!("model.layers[{last}].dense.units"),
        format!(
            "the last layer has {} units, but the training data has {n_classes} classes; a multiclass task needs one unit per class: set `units: {n_classes}` (or list the classes in `task.classes`)",
            d.units
        ),
    )
    .at(spec_path, &locator))
}
