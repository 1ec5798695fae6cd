//! Sweeps: a spec's `matrix:` maps dotted spec paths to lists of values, and
//! the cartesian product of those lists runs as named variants
//! (`imdb[learning_rate=0.01,num_words=5000]`).
//!
//! Each variant is a complete spec, deserialized and checked like any other,
//! so the runner treats it as an ordinary experiment; variants that share the
//! settings of an upstream stage share its cache key and hence its artifact.

use crate::spec::{self, Locator, Spec, SpecError};
use serde_yaml::{Mapping, Value};
use std::path::Path;

/// Most variants one matrix may produce; a larger product is almost always a
/// mistake (and would take days), so it is refused with the count.
pub const MAX_VARIANTS: usize = 1000;

/// One experiment of a sweep: a complete spec and the matrix settings that made it.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// The variant's name, `<name>[k1=v1,k2=v2]` (just `<name>` without a matrix);
    /// equal to `spec.name`.
    pub name: String,
    /// The resolved, checked spec of this variant; `spec.matrix` is `None`.
    pub spec: Spec,
    /// The matrix settings applied, as (dotted path, value), in matrix order.
    pub overrides: Vec<(String, Value)>,
}

/// One step of a dotted path: a map key or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// One matrix (or search space) entry, parsed.
struct Axis {
    /// `matrix` or `search.space`: where the entry was written.
    origin: &'static str,
    path: String,
    steps: Vec<Step>,
    values: Vec<Value>,
    /// The short key used in variant names (last path component, or the whole
    /// path when two entries share a last component).
    label: String,
}

/// The text of the spec file `file`; an unreadable (e.g. missing) file is a
/// [`SpecError`] naming it, so the command exits as for an invalid spec.
pub fn read_source(file: &Path) -> Result<String, SpecError> {
    spec::read_spec_file(file)
}

/// Expand a spec source into its variants.
///
/// Without `matrix:` the result is the spec itself as one variant. With it,
/// every combination of the listed values (in the order written, the last
/// entry varying fastest) becomes a variant: each path is set in the YAML
/// (missing maps are created; list indices such as `model.layers[1].dense.units`
/// must exist), the name becomes `<name>[k1=v1,k2=v2]`, and the result is
/// deserialized and checked with [`spec::check`].
///
/// Errors point at the matrix entry's line: a malformed path, a path into a
/// value that is not a map or list, a path that is not a spec setting, an empty
/// or repeated value, or a value of the wrong type (named with its variant).
pub fn expand(source: &str, file: &Path) -> Result<Vec<Variant>, SpecError> {
    let (base, locator) = spec::parse_spec(source, file)?;
    // A search's trials are a matrix whose i-th values go together.
    let (matrix, trials) = match (&base.matrix, &base.search) {
        (Some(m), _) => (m.clone(), None),
        (None, Some(s)) => (spec::OrderedMap(s.sample(base.seed)), Some(s.trials)),
        (None, None) => {
            return Ok(vec![Variant {
                name: base.name.clone(),
                spec: base,
                overrides: Vec::new(),
            }])
        }
    };
    let origin = if trials.is_some() {
        "search.space"
    } else {
        "matrix"
    };
    let err = |at: &str, line_of: &str, msg: String| located(file, &locator, at, line_of, msg);
    if matrix.0.is_empty() {
        return Err(err(
            "matrix",
            "matrix",
            "the matrix is empty; map dotted spec paths to lists of values, e.g. \
             `train.optimizer.learning_rate: [0.001, 0.01]`"
                .into(),
        ));
    }
    let mut root: Value = serde_yaml::from_str(source).map_err(|e| SpecError {
        file: file.to_path_buf(),
        line: e.location().map(|l| l.line()),
        column: e.location().map(|l| l.column()),
        path: None,
        message: e.to_string(),
    })?;
    if let Value::Mapping(m) = &mut root {
        m.remove("matrix");
        m.remove("search");
        // Choosing between variants is the sweep's business, not a variant's.
        m.remove("select");
    }

    let mut axes: Vec<Axis> = Vec::new();
    for (path, values) in &matrix.0 {
        let at = format!("{origin}.{path}");
        let steps = parse_path(path).map_err(|m| err(&at, &at, m))?;
        if let Some(Step::Key(first)) = steps.first() {
            let why = match first.as_str() {
                "name" => Some("the experiment name cannot be swept: each variant is named `<name>[key=value,...]` from its matrix values"),
                "matrix" => Some("a matrix cannot sweep itself"),
                "expect" => Some("CI gates (`expect`) cannot be swept; they apply to every variant"),
                _ => None,
            };
            if let Some(why) = why {
                return Err(err(&at, &at, why.into()));
            }
        }
        if values.is_empty() {
            return Err(err(
                &at,
                &at,
                format!("`{path}` has an empty list of values; give at least one, e.g. `{path}: [a, b]`"),
            ));
        }
        for (j, v) in values.iter().enumerate() {
            // Random draws may repeat a value; a matrix may not.
            if trials.is_none() && values[..j].contains(v) {
                let item = format!("{at}[{j}]");
                return Err(err(
                    &at,
                    &item,
                    format!("`{path}` lists the value `{}` twice", render(v)),
                ));
            }
        }
        for other in &axes {
            if overlaps(&other.steps, &steps) {
                return Err(err(
                    &at,
                    &at,
                    format!(
                        "`{path}` overlaps the matrix entry `{}`: one path lies inside the other, so the variants would be ambiguous",
                        other.path
                    ),
                ));
            }
        }
        // A path into a scalar or a missing list item is wrong whatever the value.
        let mut probe = root.clone();
        set_path(&mut probe, &steps, values[0].clone()).map_err(|m| err(&at, &at, m))?;
        axes.push(Axis {
            origin,
            path: path.clone(),
            steps,
            values: values.clone(),
            label: String::new(),
        });
    }
    assign_labels(&mut axes);

    let total = match trials {
        Some(n) => Some(n),
        None => axes
            .iter()
            .try_fold(1usize, |acc, a| acc.checked_mul(a.values.len()))
            .filter(|n| *n <= MAX_VARIANTS),
    };
    let Some(total) = total else {
        return Err(err(
            "matrix",
            "matrix",
            format!(
                "the matrix makes more than {MAX_VARIANTS} variants ({}); sweep fewer values",
                axes.iter()
                    .map(|a| a.values.len().to_string())
                    .collect::<Vec<_>>()
                    .join(" × ")
            ),
        ));
    };

    // Each value alone, so a wrong path or type is blamed on its own line.
    for (a, axis) in axes.iter().enumerate() {
        for (j, value) in axis.values.iter().enumerate() {
            let mut doc = root.clone();
            set_path(&mut doc, &axis.steps, value.clone()).map_err(|m| {
                err(
                    &format!("{}.{}", axis.origin, axis.path),
                    &format!("{}.{}", axis.origin, axis.path),
                    m,
                )
            })?;
            if let Err(e) = serde_yaml::from_value::<Spec>(doc) {
                let at = format!("{}.{}", axis.origin, axis.path);
                let msg = e.to_string();
                if let Some(hint) = schema_miss(&msg, &axis.steps) {
                    return Err(err(&at, &at, format!("not a spec setting: {hint}")));
                }
                let mut idx = vec![0; axes.len()];
                idx[a] = j;
                let name = variant_name(&base.name, &axes, &idx, trials.map(|_| j));
                let hint = value_hint(&msg, value);
                return Err(err(
                    &at,
                    &format!("{at}[{j}]"),
                    format!(
                        "variant `{name}`: the value `{}` does not fit `{}`: {msg}{hint}",
                        render(value),
                        axis.path
                    ),
                ));
            }
        }
    }

    let mut variants: Vec<Variant> = Vec::with_capacity(total);
    let mut idx = vec![0usize; axes.len()];
    for t in 0..total {
        if trials.is_some() {
            idx.iter_mut().for_each(|i| *i = t);
            let trial = Some(t);
            variants.push(build_variant(
                &root, &base.name, &axes, &idx, trial, file, &locator,
            )?);
            continue;
        }
        variants.push(build_variant(
            &root, &base.name, &axes, &idx, None, file, &locator,
        )?);
        // Odometer: the last entry varies fastest.
        for k in (0..axes.len()).rev() {
            idx[k] += 1;
            if idx[k] < axes[k].values.len() {
                break;
            }
            idx[k] = 0;
        }
    }
    for (i, v) in variants.iter().enumerate() {
        if variants[..i].iter().any(|w| w.name == v.name) {
            return Err(err(
                "matrix",
                "matrix",
                format!(
                    "two variants would both be named `{}` (values that differ only in characters replaced in file names); make the values distinct",
                    v.name
                ),
            ));
        }
    }
    Ok(variants)
}

/// Build and check the variant for one combination of value indices.
fn build_variant(
    root: &Value,
    base_name: &str,
    axes: &[Axis],
    idx: &[usize],
    trial: Option<usize>,
    file: &Path,
    locator: &Locator,
) -> Result<Variant, SpecError> {
    let name = variant_name(base_name, axes, idx, trial);
    let mut doc = root.clone();
    let mut overrides = Vec::with_capacity(axes.len());
    for (axis, &j) in axes.iter().zip(idx) {
        let value = axis.values[j].clone();
        // Cannot fail: every path was set successfully on its own before.
        set_path(&mut doc, &axis.steps, value.clone()).map_err(|m| {
            let at = format!("{}.{}", axis.origin, axis.path);
            located(file, locator, &at, &at, m)
        })?;
        overrides.push((axis.path.clone(), value));
    }
    if let Value::Mapping(m) = &mut doc {
        m.insert(Value::String("name".into()), Value::String(name.clone()));
    }
    let blame_all = || {
        axes.iter()
            .zip(idx)
            .map(|(a, &j)| format!("{}: {}", a.path, render(&a.values[j])))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let spec: Spec = serde_yaml::from_value(doc).map_err(|e| {
        located(
            file,
            locator,
            "matrix",
            "matrix",
            format!(
                "variant `{name}` ({}) is not a valid spec: {e}",
                blame_all()
            ),
        )
    })?;
    spec::check(&spec).map_err(|inv| {
        // Blame the matrix entry that set (part of) the offending path, if any.
        let culprit = axes.iter().zip(idx).find(|(a, _)| {
            inv.path == a.path
                || inv.path.starts_with(&format!("{}.", a.path))
                || inv.path.starts_with(&format!("{}[", a.path))
                || a.path.starts_with(&format!("{}.", inv.path))
                || a.path.starts_with(&format!("{}[", inv.path))
        });
        match culprit {
            Some((a, &j)) => {
                let at = format!("{}.{}", a.origin, a.path);
                located(
                    file,
                    locator,
                    &at,
                    &format!("{at}[{j}]"),
                    format!("variant `{name}`: `{}`: {}", inv.path, inv.message),
                )
            }
            None => {
                let path = inv.path.clone();
                let mut e = inv.at(file, locator);
                e.message = format!("variant `{name}` ({}): {}", blame_all(), e.message);
                e.path = Some(path);
                e
            }
        }
    })?;
    Ok(Variant {
        name,
        spec,
        overrides,
    })
}

/// `<name>[k1=v1,k2=v2]` for one combination; a search's trial `t` is
/// `<name>[trial=t+1,k1=v1,...]` (draws may repeat, trial numbers do not).
fn variant_name(base: &str, axes: &[Axis], idx: &[usize], trial: Option<usize>) -> String {
    let parts: Vec<String> = trial
        .map(|t| format!("trial={}", t + 1))
        .into_iter()
        .chain(
            axes.iter()
                .zip(idx)
                .map(|(a, &j)| format!("{}={}", a.label, file_safe(&render(&a.values[j])))),
        )
        .collect();
    format!("{base}[{}]", parts.join(","))
}

/// Short labels: the last key of each path, or the whole path where two
/// entries end in the same key (`a.units`, `b.units`).
fn assign_labels(axes: &mut [Axis]) {
    let last: Vec<String> = axes.iter().map(|a| last_key(&a.steps, &a.path)).collect();
    for (i, axis) in axes.iter_mut().enumerate() {
        let clash = last.iter().filter(|l| **l == last[i]).count() > 1;
        axis.label = if clash {
            axis.path.clone()
        } else {
            last[i].clone()
        };
    }
}

fn last_key(steps: &[Step], path: &str) -> String {
    match steps.last() {
        Some(Step::Key(k)) => k.clone(),
        // A path ending in an index (`model.layers[1]`): the last dotted part.
        _ => path.rsplit('.').next().unwrap_or(path).to_string(),
    }
}

/// A value as written in a variant name.
fn render(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => serde_json::to_string(other).unwrap_or_else(|_| {
            serde_yaml::to_string(other)
                .unwrap_or_default()
                .trim()
                .replace('\n', " ")
        }),
    }
}

/// The name becomes a report file name: no path separators or control characters.
fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | '\0') || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// Parse `a.b[1].c` into steps. Keys are non-empty and contain no brackets.
fn parse_path(path: &str) -> Result<Vec<Step>, String> {
    let bad = |why: &str| {
        format!("`{path}` is not a valid dotted path ({why}); write e.g. `train.epochs` or `model.layers[1].dense.units`")
    };
    if path.trim().is_empty() {
        return Err(bad("it is empty"));
    }
    let mut steps = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => part.split_at(i),
            None => (part, ""),
        };
        if key.is_empty() {
            return Err(bad("an empty key"));
        }
        if key.contains(']') || key.chars().any(char::is_whitespace) {
            return Err(bad(&format!("`{key}` is not a key")));
        }
        steps.push(Step::Key(key.to_string()));
        while !rest.is_empty() {
            let Some(close) = rest.find(']') else {
                return Err(bad("a `[` without `]`"));
            };
            let digits = &rest[1..close];
            let n: usize = digits
                .parse()
                .map_err(|_| bad(&format!("`[{digits}]` is not a list index")))?;
            steps.push(Step::Index(n));
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return Err(bad(&format!("unexpected `{rest}` after an index")));
            }
        }
    }
    Ok(steps)
}

/// One path lies inside (or equals) the other.
fn overlaps(a: &[Step], b: &[Step]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

fn show_path(steps: &[Step]) -> String {
    let mut s = String::new();
    for step in steps {
        match step {
            Step::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "empty".into(),
        Value::Bool(b) => format!("the boolean `{b}`"),
        Value::Number(n) => format!("the number `{n}`"),
        Value::String(s) => format!("the string `{s}`"),
        Value::Sequence(_) => "a list".into(),
        Value::Mapping(_) => "a map".into(),
        Value::Tagged(_) => "a tagged value".into(),
    }
}

/// Set `steps` in `root` to `value`, creating missing maps (an empty value
/// counts as an empty map); list items must already exist.
fn set_path(root: &mut Value, steps: &[Step], value: Value) -> Result<(), String> {
    let mut cur = root;
    for (i, step) in steps.iter().enumerate() {
        let here = show_path(&steps[..i]);
        let last = i + 1 == steps.len();
        match step {
            Step::Key(k) => {
                if cur.is_null() {
                    *cur = Value::Mapping(Mapping::new());
                }
                let desc = describe(cur);
                let Value::Mapping(map) = cur else {
                    return Err(format!(
                        "`{here}` is {desc}, not a map, so it has no setting `{k}`"
                    ));
                };
                let key = Value::String(k.clone());
                if last {
                    map.insert(key, value);
                    return Ok(());
                }
                if !map.contains_key(&key) {
                    if let Some(Step::Index(n)) = steps.get(i + 1) {
                        return Err(format!(
                            "`{}` is not set in the spec, so it has no item [{n}]",
                            show_path(&steps[..=i])
                        ));
                    }
                    map.insert(key.clone(), Value::Mapping(Mapping::new()));
                }
                cur = map.get_mut(&key).ok_or_else(|| {
                    format!("`{}` vanished while being set", show_path(&steps[..=i]))
                })?;
            }
            Step::Index(n) => {
                let desc = describe(cur);
                let Value::Sequence(seq) = cur else {
                    return Err(format!(
                        "`{here}` is {desc}, not a list, so it has no item [{n}]"
                    ));
                };
                let len = seq.len();
                let Some(item) = seq.get_mut(*n) else {
                    return Err(format!(
                        "`{here}` has {len} item(s) (indices 0 to {}), so there is no item [{n}]",
                        len.saturating_sub(1)
                    ));
                };
                if last {
                    *item = value;
                    return Ok(());
                }
                cur = item;
            }
        }
    }
    Ok(())
}

/// For a serde "unknown field/variant `x`, expected ..." error about a key of
/// the path itself, the explanation with a suggestion; `None` for other errors.
fn schema_miss(message: &str, steps: &[Step]) -> Option<String> {
    // A layer entry is a one-key map: a second key means the path named a
    // layer type that the entry does not have.
    if let Some(rest) = message.strip_prefix("one layer per list entry: `") {
        let mut parts = rest.split('`');
        let (given, _, actual) = (parts.next()?, parts.next()?, parts.next()?);
        if steps
            .iter()
            .any(|s| matches!(s, Step::Key(k) if k == given))
        {
            let hint = spec::nearest(given, &[actual])
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            return Some(format!(
                "that list entry is a `{actual}` layer, so it has no `{given}`{hint}"
            ));
        }
    }
    let kind = if message.starts_with("unknown field") {
        "field"
    } else if message.starts_with("unknown variant") {
        "variant"
    } else {
        return None;
    };
    let given = message.split('`').nth(1)?;
    if !steps
        .iter()
        .any(|s| matches!(s, Step::Key(k) if k == given))
    {
        return None;
    }
    let expected: Vec<&str> = match message.split_once("expected") {
        Some((_, tail)) => tail.split('`').skip(1).step_by(2).collect(),
        None => Vec::new(),
    };
    let hint = spec::nearest(given, &expected)
        .map(|n| format!(" (did you mean `{n}`?)"))
        .unwrap_or_default();
    let what = if kind == "field" {
        "setting"
    } else {
        "layer type"
    };
    let valid = if expected.is_empty() {
        String::new()
    } else {
        format!("; valid there: {}", expected.join(", "))
    };
    Some(format!("there is no {what} `{given}`{hint}{valid}"))
}

/// For "unknown variant `x`, expected one of ..." about the value itself, a
/// nearest-name suggestion.
fn value_hint(message: &str, value: &Value) -> String {
    let (Some(tail), Value::String(given)) = (message.strip_prefix("unknown variant `"), value)
    else {
        return String::new();
    };
    if !tail.starts_with(&format!("{given}`")) {
        return String::new();
    }
    let expected: Vec<&str> = match message.split_once("expected") {
        Some((_, t)) => t.split('`').skip(1).step_by(2).collect(),
        None => return String::new(),
    };
    spec::nearest(given, &expected)
        .map(|n| format!(" (did you mean `{n}`?)"))
        .unwrap_or_default()
}

/// A `SpecError` about `path` whose line and column are those of `line_of`.
fn located(
    file: &Path,
    locator: &Locator,
    path: &str,
    line_of: &str,
    message: String,
) -> SpecError {
    let pos = locator.find(line_of);
    SpecError {
        file: file.to_path_buf(),
        line: pos.map(|p| p.0),
        column: pos.map(|p| p.1),
        path: Some(path.to_string()),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_paths() {
        assert_eq!(
            parse_path("model.layers[1].dense.units").unwrap(),
            vec![
                Step::Key("model".into()),
                Step::Key("layers".into()),
                Step::Index(1),
                Step::Key("dense".into()),
                Step::Key("units".into()),
            ]
        );
        assert_eq!(
            parse_path("a[0][2]").unwrap(),
            vec![Step::Key("a".into()), Step::Index(0), Step::Index(2)]
        );
        for bad in ["", "a..b", "a[x]", "a[1", "[0].b", "a[1]b", "a.b c"] {
            assert!(parse_path(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn set_path_creates_maps_but_not_list_items() {
        let mut v: Value = serde_yaml::from_str("a: {b: 1}\nl: [x, {y: 2}]\nn:\n").unwrap();
        set_path(&mut v, &parse_path("c.d").unwrap(), Value::from(3)).unwrap();
        set_path(&mut v, &parse_path("n.m").unwrap(), Value::from(4)).unwrap();
        set_path(&mut v, &parse_path("l[1].y").unwrap(), Value::from(5)).unwrap();
        let want: Value =
            serde_yaml::from_str("a: {b: 1}\nl: [x, {y: 5}]\nn: {m: 4}\nc: {d: 3}\n").unwrap();
        assert_eq!(v, want);
        let e = set_path(&mut v, &parse_path("a.b.c").unwrap(), Value::from(1)).unwrap_err();
        assert!(e.contains("`a.b` is the number `1`, not a map"), "{e}");
        let e = set_path(&mut v, &parse_path("l[0].y").unwrap(), Value::from(1)).unwrap_err();
        assert!(e.contains("`l[0]` is the string `x`"), "{e}");
        let e = set_path(&mut v, &parse_path("l[2]").unwrap(), Value::from(1)).unwrap_err();
        assert!(e.contains("has 2 item(s)"), "{e}");
    }
}
