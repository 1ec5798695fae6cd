//! Locked keys: dotted spec paths (`data`, `data.validation`,
//! `model.layers[0]`) whose resolved value a student's spec must keep equal
//! to the template's.

use super::load_assignment;
use crate::spec::{nearest, Invalid, Locator, Spec, SpecError};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The top-level keys of a spec, for checking and suggesting locked keys.
const SPEC_KEYS: &[&str] = &[
    "name",
    "seed",
    "data",
    "task",
    "tokenizer",
    "sequence",
    "vectorize",
    "model",
    "train",
    "metrics",
    "report",
    "matrix",
    "select",
    "inputs",
    "expect",
];

/// One step of a locked key.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A locked dotted key, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedKey {
    /// The key as written, e.g. `data.validation`.
    pub text: String,
    steps: Vec<Step>,
}

impl LockedKey {
    /// Parse `text` (`a.b`, `a.b[2].c`) and check it against the resolved
    /// template `resolved`: the first key must be a spec key, and a key
    /// missing from a mapping that has a close one is taken for a typo. (A
    /// missing key without a close one is an optional setting left unset.)
    pub fn parse(text: &str, resolved: &Value) -> Result<LockedKey, String> {
        let steps = parse_steps(text)?;
        let Some(Step::Key(first)) = steps.first() else {
            return Err(format!("`{text}` must start with a spec key, e.g. `data`"));
        };
        if first == "assignment" {
            return Err("`assignment` is the link to this file; it cannot be locked".into());
        }
        if !SPEC_KEYS.contains(&first.as_str()) {
            let hint = nearest(first, SPEC_KEYS)
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            return Err(format!(
                "`{first}` is not a spec key{hint}; lock any of: {}",
                SPEC_KEYS.join(", ")
            ));
        }
        let mut value = Some(resolved);
        let mut walked = String::new();
        for step in &steps {
            match (step, value) {
                (Step::Key(k), Some(Value::Object(map))) => {
                    if !map.contains_key(k) {
                        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
                        if let Some(n) = nearest(k, &keys) {
                            return Err(format!(
                                "the template has no `{walked}{}{k}` (did you mean `{n}`?)",
                                if walked.is_empty() { "" } else { "." }
                            ));
                        }
                    }
                    value = map.get(k);
                }
                (Step::Index(i), Some(Value::Array(items))) => value = items.get(*i),
                _ => value = None,
            }
            walked = match step {
                Step::Key(k) if walked.is_empty() => k.clone(),
                Step::Key(k) => format!("{walked}.{k}"),
                Step::Index(i) => format!("{walked}[{i}]"),
            };
        }
        Ok(LockedKey {
            text: text.to_string(),
            steps,
        })
    }
}

/// `a.b[2].c` → keys and indexes; an empty part or a bad index is an error.
fn parse_steps(text: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for part in text.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if key.is_empty() {
            return Err(format!(
                "`{text}` has an empty key; write dotted keys like `data.validation`"
            ));
        }
        steps.push(Step::Key(key.to_string()));
        while let Some(inner) = rest.strip_prefix('[') {
            let close = inner
                .find(']')
                .ok_or_else(|| format!("`{text}`: `[` without `]`"))?;
            let i = inner[..close]
                .parse::<usize>()
                .map_err(|_| format!("`{text}`: `{}` is not a list index", &inner[..close]))?;
            steps.push(Step::Index(i));
            rest = &inner[close + 1..];
        }
        if !rest.is_empty() {
            return Err(format!("`{text}`: unexpected `{rest}` after an index"));
        }
    }
    Ok(steps)
}

/// The value at `key` in a resolved spec (as JSON); `None` when unset.
pub fn locked_value<'a>(spec_json: &'a Value, key: &LockedKey) -> Option<&'a Value> {
    let mut value = spec_json;
    for step in &key.steps {
        value = match (step, value) {
            (Step::Key(k), Value::Object(map)) => map.get(k)?,
            (Step::Index(i), Value::Array(items)) => items.get(*i)?,
            _ => return None,
        };
    }
    Some(value)
}

/// Each locked key's value in `spec` (`null` when unset), by key.
pub fn locked_values(spec: &Spec, keys: &[LockedKey]) -> BTreeMap<String, Value> {
    let json = serde_json::to_value(spec).unwrap_or(Value::Null);
    keys.iter()
        .map(|k| {
            let v = locked_value(&json, k).cloned().unwrap_or(Value::Null);
            (k.text.clone(), v)
        })
        .collect()
}

/// The first place where `ours` and `theirs` differ, as `(path, ours,
/// theirs)` with `null` for an absent value; `None` when equal.
pub fn first_difference(
    path: &str,
    ours: &Value,
    theirs: &Value,
) -> Option<(String, Value, Value)> {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let (x, y) = (
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                );
                first_difference(&format!("{path}.{k}"), x, y)
            })
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(&format!("{path}[{i}]"), x, y)),
        (a, b) if a == b => None,
        (a, b) => Some((path.to_string(), a.clone(), b.clone())),
    }
}

/// The assignment check of `pipeline::validate`: a spec with `assignment:`
/// must name a readable assignment file (relative to the spec's folder)
/// whose digest is the one recorded, and keep every locked key at the
/// template's resolved value. The error points at the spec line of the
/// changed setting and gives the assignment's value.
pub fn check_spec(spec: &Spec, spec_path: &Path, locator: &Locator) -> Result<(), SpecError> {
    let Some(link) = &spec.assignment else {
        return Ok(());
    };
    let file = spec_path.parent().unwrap_or(Path::new("")).join(&link.path);
    let assignment = load_assignment(&file).map_err(|e| {
        Invalid::new(
            "assignment.path",
            format!("cannot use the assignment this spec was made for: {e}"),
        )
        .at(spec_path, locator)
    })?;
    if assignment.digest != link.digest {
        return Err(Invalid::new(
            "assignment.digest",
            format!(
                "the assignment {} has changed since this folder was made (digest {} here, {} now); ask for the current assignment folder",
                file.display(),
                link.digest,
                assignment.digest
            ),
        )
        .at(spec_path, locator));
    }
    let ours = serde_json::to_value(spec).unwrap_or(Value::Null);
    let theirs = serde_json::to_value(&assignment.template).unwrap_or(Value::Null);
    for key in &assignment.locked {
        let (a, b) = (
            locked_value(&ours, key).unwrap_or(&Value::Null),
            locked_value(&theirs, key).unwrap_or(&Value::Null),
        );
        if let Some((path, here, want)) = first_difference(&key.text, a, b) {
            return Err(Invalid::new(
                path.clone(),
                format!(
                    "`{}` is locked by assignment `{}`: `{path}` is {} here, the assignment's value is {}",
                    key.text, assignment.name, here, want
                ),
            )
            .at(spec_path, locator));
        }
    }
    Ok(())
}
