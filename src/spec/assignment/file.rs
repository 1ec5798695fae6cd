//! Reading `assignment.yaml`: the assignment's name, its template spec, the
//! locked keys and the grading bounds, with every problem located by line.

use super::locked::LockedKey;
use crate::spec::expect::{parse_bound, Bound};
use crate::spec::{load_spec, nearest, Invalid, Locator, OrderedMap, Spec, SpecError};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The file as written; unknown keys are refused (with a did-you-mean).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignmentFile {
    assignment: String,
    template: PathBuf,
    #[serde(default)]
    locked: Vec<String>,
    #[serde(default)]
    grading: Option<OrderedMap<OrderedMap<f64>>>,
}

/// The points one metric can earn.
#[derive(Debug, Clone, PartialEq)]
pub struct GradingRule {
    /// Metric name, a scalar metric of the run (`accuracy`, `cohen_kappa`).
    pub metric: String,
    /// Each bound and the points it gives, in file order.
    pub bounds: Vec<(Bound, f64)>,
}

/// A parsed, checked assignment.
#[derive(Debug, Clone)]
pub struct Assignment {
    /// The assignment's name (`assignment:`).
    pub name: String,
    /// The assignment file as given.
    pub file: PathBuf,
    /// The template spec's file (resolved against the assignment's folder).
    pub template_path: PathBuf,
    /// The template's text, copied into student folders.
    pub template_source: String,
    /// The template, parsed and resolved.
    pub template: Spec,
    /// The keys students may not change.
    pub locked: Vec<LockedKey>,
    /// Points per metric bound (empty: no points).
    pub grading: Vec<GradingRule>,
    /// [`super::digest`] of the assignment file and the template.
    pub digest: String,
}

impl Assignment {
    /// Points for a run whose scalar metrics `metric` gives: per grading
    /// metric the most points of the bounds it meets (bounds of one metric
    /// are not added up), summed over the metrics. An undefined or missing
    /// metric meets no bound.
    pub fn points(&self, metric: impl Fn(&str) -> Option<f64>) -> f64 {
        self.grading
            .iter()
            .map(|rule| {
                let value = metric(&rule.metric);
                rule.bounds
                    .iter()
                    .filter(|(b, _)| value.is_some_and(|v| b.op.holds(v, b.value)))
                    .map(|(_, p)| *p)
                    .fold(0.0, f64::max)
            })
            .sum()
    }

    /// The most points a run can earn.
    pub fn max_points(&self) -> f64 {
        self.grading
            .iter()
            .map(|r| r.bounds.iter().map(|(_, p)| *p).fold(0.0, f64::max))
            .sum()
    }
}

/// Read and check an assignment file: its keys, the template (a readable,
/// valid spec without an `assignment:` of its own), each locked key (a key
/// of the spec; a misspelt one gets a did-you-mean) and each grading bound
/// (parsed like `expect:`, naming a scalar metric). Errors carry the file
/// and line.
pub fn load_assignment(path: &Path) -> Result<Assignment, SpecError> {
    let source = crate::spec::read_spec_file(path).map_err(|mut e| {
        e.message = e.message.replace("spec file", "assignment file");
        e
    })?;
    let bytes = source.as_bytes();
    let locator = Locator::new(&source);
    let file: AssignmentFile = serde_yaml::from_str(&source)
        .map_err(|e| crate::spec::yaml_error::<AssignmentFile>(e, path, &source))?;
    let at = |i: Invalid| i.at(path, &locator);
    if file.assignment.trim().is_empty() {
        return Err(at(Invalid::new(
            "assignment",
            "the assignment's name is empty; name it, e.g. `assignment: imdb-exercise-3`",
        )));
    }
    let folder = path.parent().unwrap_or(Path::new(""));
    let template_path = folder.join(&file.template);
    let template_source = crate::spec::read_spec_file(&template_path).map_err(|e| {
        at(Invalid::new(
            "template",
            format!(
                "cannot read the template spec {} (relative to the assignment's folder): {}",
                template_path.display(),
                e.message
            ),
        ))
    })?;
    let (template, _) = load_spec(&template_path)?;
    if template.assignment.is_some() {
        return Err(at(Invalid::new(
            "template",
            "the template has an `assignment:` of its own; a template is the plain spec students start from",
        )));
    }
    let resolved = serde_json::to_value(&template).map_err(|e| {
        at(Invalid::new(
            "template",
            format!("cannot resolve the template: {e}"),
        ))
    })?;
    let mut locked = Vec::new();
    for (i, text) in file.locked.iter().enumerate() {
        let key = LockedKey::parse(text, &resolved)
            .map_err(|m| at(Invalid::new(format!("locked[{i}]"), m)))?;
        if locked.iter().any(|k: &LockedKey| k.text == key.text) {
            return Err(at(Invalid::new(
                format!("locked[{i}]"),
                format!("`{text}` is locked twice"),
            )));
        }
        locked.push(key);
    }
    let grading = match &file.grading {
        Some(g) => parse_grading(g).map_err(at)?,
        None => Vec::new(),
    };
    Ok(Assignment {
        name: file.assignment.trim().to_string(),
        file: path.to_path_buf(),
        template_path,
        digest: super::digest(bytes, template_source.as_bytes()),
        template_source,
        template,
        locked,
        grading,
    })
}

/// `grading:` entries: a scalar metric name mapped to bounds and points.
fn parse_grading(grading: &OrderedMap<OrderedMap<f64>>) -> Result<Vec<GradingRule>, Invalid> {
    let scalars: Vec<&str> = crate::metrics::catalog::METRICS
        .iter()
        .filter(|m| m.scalar)
        .map(|m| m.name)
        .collect();
    let mut rules = Vec::new();
    for (metric, bounds) in &grading.0 {
        let here = format!("grading.{metric}");
        if !scalars.contains(&metric.as_str()) {
            let hint = nearest(metric, &scalars)
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            return Err(Invalid::new(
                here,
                format!(
                    "there is no scalar metric `{metric}`{hint}; grade any of: {}",
                    scalars.join(", ")
                ),
            ));
        }
        if bounds.0.is_empty() {
            return Err(Invalid::new(
                here,
                "give at least one bound and its points, e.g. `{\">= 0.86\": 2}`",
            ));
        }
        let mut parsed = Vec::new();
        for (text, points) in &bounds.0 {
            let bound = parse_bound(text).map_err(|m| Invalid::new(here.clone(), m))?;
            if !points.is_finite() || *points < 0.0 {
                return Err(Invalid::new(
                    format!("{here}.{text}"),
                    format!("points must be a number >= 0, not {points}"),
                ));
            }
            parsed.push((bound, *points));
        }
        rules.push(GradingRule {
            metric: metric.clone(),
            bounds: parsed,
        });
    }
    Ok(rules)
}
