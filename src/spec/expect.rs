//! CI gates: the spec's `expect:` section maps metric names to bounds such as
//! `">= 0.85"`; an unmet bound makes `kerros run` exit with
//! [`EXIT_EXPECTATION_UNMET`].

use crate::spec::{nearest, Invalid, OrderedMap};
use std::fmt;

/// Exit code of `kerros run` when every run finished but an `expect:` bound
/// was not met (distinct from 1, a failed run, and 2, an invalid spec).
pub const EXIT_EXPECTATION_UNMET: i32 = 3;

/// The forms a bound may take, for error messages.
const VALID_FORMS: &str = "\">= 0.85\", \"> 0.8\", \"<= 0.5\", \"< 1\" or \"== 1\"";

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `>=`
    Ge,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `<`
    Lt,
    /// `==` (equal within 1e-9, relative to the bound's magnitude when above 1).
    Eq,
}

impl Op {
    /// The operator as written in a spec.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Ge => ">=",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Lt => "<",
            Op::Eq => "==",
        }
    }

    /// Whether `value op bound` holds.
    pub fn holds(self, value: f64, bound: f64) -> bool {
        match self {
            Op::Ge => value >= bound,
            Op::Gt => value > bound,
            Op::Le => value <= bound,
            Op::Lt => value < bound,
            // Metrics are computed in floating point; exact equality of e.g.
            // an accuracy of 1 should not hinge on the last bit.
            Op::Eq => (value - bound).abs() <= 1e-9 * bound.abs().max(1.0),
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed bound: an operator and a number (and the number as written).
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    /// The comparison.
    pub op: Op,
    /// The bound's value.
    pub value: f64,
    /// The number as written in the spec (`0.40` stays `0.40` in messages).
    pub text: String,
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{} {}", self.op, self.text)
    }
}

/// One `expect:` entry, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    /// Metric name, a key of the run's metric map.
    pub metric: String,
    /// The bound it must satisfy.
    pub bound: Bound,
}

/// An expectation that a run did not meet.
#[derive(Debug, Clone, PartialEq)]
pub struct Unmet {
    /// Metric name.
    pub metric: String,
    /// The metric's value; `None` when it was undefined (`null`, e.g. kappa
    /// with no expected disagreement), which never meets a bound.
    pub value: Option<f64>,
    /// The comparison.
    pub op: Op,
    /// The bound's value.
    pub bound: f64,
    /// The bound as written in the spec.
    pub bound_text: String,
}

impl fmt::Display for Unmet {
    /// `accuracy = 0.8312, expected >= 0.85`
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.value {
            Some(v) => write!(f, "{} = {v:.4}", self.metric)?,
            None => write!(f, "{} = undefined", self.metric)?,
        }
        write!(f, ", expected {} {}", self.op, self.bound_text)
    }
}

/// Parse a bound such as `">= 0.85"`; the operator is required. The error
/// says what was wrong and lists the valid forms.
pub fn parse_bound(text: &str) -> Result<Bound, String> {
    let t = text.trim();
    // Two-character operators first so `>=` is not read as `>` then `=0.85`.
    let ops = [
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("==", Op::Eq),
        (">", Op::Gt),
        ("<", Op::Lt),
    ];
    let Some((op, rest)) = ops
        .iter()
        .find_map(|(s, op)| t.strip_prefix(s).map(|rest| (*op, rest.trim())))
    else {
        let hint = if t.parse::<f64>().is_ok() {
            format!(" (for \"at least\", write \">= {t}\")")
        } else {
            String::new()
        };
        return Err(format!(
            "`{text}` has no comparison operator{hint}; write a bound as {VALID_FORMS}"
        ));
    };
    let value: f64 = rest.parse().map_err(|_| {
        format!("`{text}`: `{rest}` is not a number; write a bound as {VALID_FORMS}")
    })?;
    if !value.is_finite() {
        return Err(format!("`{text}`: the bound must be a finite number"));
    }
    Ok(Bound {
        op,
        value,
        text: rest.to_string(),
    })
}

/// Parse every `expect:` entry; an error is located at `expect.<metric>`.
/// Metric names are checked against a run's metrics by [`check`].
pub fn parse_expectations(expect: &OrderedMap<String>) -> Result<Vec<Expectation>, Invalid> {
    expect
        .0
        .iter()
        .map(|(metric, text)| {
            parse_bound(text)
                .map(|bound| Expectation {
                    metric: metric.clone(),
                    bound,
                })
                .map_err(|m| Invalid::new(format!("expect.{metric}"), m))
        })
        .collect()
}

/// Check a run's metrics against `expect:`; returns the unmet expectations in
/// spec order (empty when all are met).
///
/// An unparsable bound, or a metric that is not a scalar metric of this run,
/// is an [`Invalid`] at `expect.<metric>` listing the scalar metrics available
/// (with the nearest name when it looks like a typo).
pub fn check(
    expect: &OrderedMap<String>,
    metrics: &crate::metrics::Evaluation,
) -> Result<Vec<Unmet>, Invalid> {
    let parsed = parse_expectations(expect)?;
    let scalars: Vec<&str> = metrics.scalars().map(|(k, _)| k).collect();
    let mut unmet = Vec::new();
    for e in parsed {
        let value = match metrics.scalar_entry(&e.metric) {
            Some(value) => value,
            None => {
                let what = if metrics.contains(&e.metric) {
                    format!(
                        "`{}` is not a single number, so it cannot be bounded",
                        e.metric
                    )
                } else {
                    format!("this run has no metric `{}`", e.metric)
                };
                let hint = nearest(&e.metric, &scalars)
                    .map(|n| format!(" (did you mean `{n}`?)"))
                    .unwrap_or_default();
                return Err(Invalid::new(
                    format!("expect.{}", e.metric),
                    format!(
                        "{what}{hint}; scalar metrics of this run: {}",
                        scalars.join(", ")
                    ),
                ));
            }
        };
        let met = value.is_some_and(|v| e.bound.op.holds(v, e.bound.value));
        if !met {
            unmet.push(Unmet {
                metric: e.metric,
                value,
                op: e.bound.op,
                bound: e.bound.value,
                bound_text: e.bound.text,
            });
        }
    }
    Ok(unmet)
}
