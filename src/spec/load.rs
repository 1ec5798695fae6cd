//! Reading a spec file: YAML parsing with positioned errors, suggestions for
//! misspelt keys, and the checks that need no data.

use super::error::{Invalid, SpecError};
use super::{Locator, Spec, TaskKind, VectorizeMode};
use std::path::Path;

/// Read and parse a spec file, then run the checks that need no data.
///
/// Only a regular file of at most [`super::MAX_SPEC_BYTES`] is read (not a
/// folder, a fifo or a device such as `/dev/zero`), and never more than that.
pub fn load_spec(path: &Path) -> Result<(Spec, Locator), SpecError> {
    let source = read_spec_file(path)?;
    parse_spec(&source, path)
}

/// The text of a spec file, read with a bound: see [`load_spec`].
pub fn read_spec_file(path: &Path) -> Result<String, SpecError> {
    use std::io::Read;
    let fail = |message: String| SpecError {
        file: path.to_path_buf(),
        line: None,
        column: None,
        path: None,
        message,
    };
    let meta =
        std::fs::metadata(path).map_err(|e| fail(format!("cannot read the spec file: {e}")))?;
    if !meta.is_file() {
        return Err(fail(
            "the spec is not a regular file (a folder, fifo or device); give a .yaml file".into(),
        ));
    }
    let max = super::MAX_SPEC_BYTES;
    if meta.len() > max {
        return Err(fail(format!(
            "the spec file is {} bytes, above the largest allowed, {max} bytes (1 MiB); a spec holds settings, not data",
            meta.len()
        )));
    }
    let file =
        std::fs::File::open(path).map_err(|e| fail(format!("cannot read the spec file: {e}")))?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot read the spec file: {e}")))?;
    if bytes.len() as u64 > max {
        return Err(fail(format!(
            "the spec file grew past the largest allowed size, {max} bytes, while it was read"
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        fail(format!(
            "the spec file is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Parse spec text (`file` is used in messages only), then check it.
pub fn parse_spec(source: &str, file: &Path) -> Result<(Spec, Locator), SpecError> {
    let locator = Locator::new(source);
    // The YAML reader behind serde takes time quadratic in the nesting depth
    // of flow collections (`[[[[...`), so a deep document is refused first.
    let depth = locator.depth().max(flow_depth(source));
    if depth > super::MAX_NESTING {
        return Err(SpecError {
            file: file.to_path_buf(),
            line: None,
            column: None,
            path: None,
            message: format!(
                "the spec nests mappings and lists {depth} levels deep; at most {} are allowed",
                super::MAX_NESTING
            ),
        });
    }
    let spec: Spec =
        serde_yaml::from_str(source).map_err(|e| yaml_error::<Spec>(e, file, source))?;
    check(&spec).map_err(|inv| inv.at(file, &locator))?;
    Ok((spec, locator))
}

/// The deepest nesting of flow collections (`[` and `{`), skipping quoted
/// text and comments: a linear scan that also sees a document the YAML
/// parser gives up on before its first event.
fn flow_depth(source: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let mut quote: Option<char> = None;
    let mut previous = '\n';
    let mut comment = false;
    for c in source.chars() {
        if comment {
            comment = c != '\n';
        } else if let Some(q) = quote {
            if c == q {
                quote = None;
            }
        } else {
            match c {
                '"' | '\'' => quote = Some(c),
                '#' if previous.is_whitespace() => comment = true,
                '[' | '{' => {
                    depth += 1;
                    max = max.max(depth);
                }
                ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        previous = c;
    }
    max
}

/// Turn a serde_yaml error from reading `source` as a `T` into a positioned
/// message in the spec's terms, with a suggestion for typos.
pub(crate) fn yaml_error<T: serde::de::DeserializeOwned>(
    e: serde_yaml::Error,
    file: &Path,
    source: &str,
) -> SpecError {
    let raw = e.to_string();
    let (line, column) = match e.location() {
        Some(l) => (Some(l.line()), Some(l.column())),
        None => (None, None),
    };
    // serde_yaml appends " at line L column C"; the position is shown separately.
    let mut text = match raw.find(" at line ") {
        Some(i) => raw[..i].to_string(),
        None => raw.clone(),
    };
    // It also prefixes the dotted path ("train.optimizer: unknown field ...").
    let mut path = None;
    if let Some((p, rest)) = text.split_once(": ") {
        if !p.contains(' ') && !p.is_empty() {
            path = Some(p.to_string());
            text = rest.to_string();
        }
    }
    text = super::expected::plain_expected::<T>(source, path.as_deref(), text);
    if let Some(hint) = suggestion(&text) {
        text.push_str(&hint);
    }
    SpecError {
        file: file.to_path_buf(),
        line,
        column,
        path,
        message: text,
    }
}

/// For "unknown field `x`, expected one of `a`, `b`" (or variant), the nearest valid name.
fn suggestion(message: &str) -> Option<String> {
    if !(message.starts_with("unknown field") || message.starts_with("unknown variant")) {
        return None;
    }
    let given = message.split('`').nth(1)?;
    let expected: Vec<&str> = message
        .split_once("expected")?
        .1
        .split('`')
        .skip(1)
        .step_by(2)
        .collect();
    nearest(given, &expected).map(|best| format!(" (did you mean `{best}`?)"))
}

/// The candidate closest to `given`, if it is close enough to be a likely typo.
pub fn nearest<'a>(given: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(given, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The name is the report's file name: not empty, no path separators.
fn check_name(spec: &Spec) -> Result<(), Invalid> {
    if spec.name.trim().is_empty() {
        return Err(Invalid::new("name", "the experiment name is empty"));
    }
    if spec
        .name
        .chars()
        .any(|c| matches!(c, '/' | '\\' | '\0') || c.is_control())
    {
        return Err(Invalid::new(
            "name",
            "the name is used as the report's file name: it may not contain `/`, `\\` or control characters",
        ));
    }
    Ok(())
}

/// Checks on a parsed spec that need no data; layer shapes are checked by the model.
pub fn check(spec: &Spec) -> Result<(), Invalid> {
    if let Some(ensemble) = &spec.ensemble {
        check_name(spec)?;
        return super::ensemble::check(spec, ensemble);
    }
    if let Some(select) = &spec.select {
        select.check(&spec.metrics)?;
    }
    super::decision::check(spec)?;
    if let Some(positive) = &spec.task.positive_class {
        check_positive_class(&spec.task, positive)?;
    }
    if let Some(search) = &spec.search {
        if spec.matrix.is_some() {
            return Err(Invalid::new(
                "search",
                "give either `matrix:` (a grid) or `search:` (random trials), not both",
            ));
        }
        search.check()?;
    }
    check_name(spec)?;
    super::bounds::check_bounds(spec)?;
    if let Some(data) = &spec.data {
        match (&data.dataset, &data.train, &data.test) {
            (Some(_), None, None) | (None, Some(_), Some(_)) => {}
            (Some(_), _, _) => {
                return Err(Invalid::new(
                    "data",
                    "give either `dataset` (a built-in name) or `train` and `test` files, not both",
                ))
            }
            _ => {
                return Err(Invalid::new(
                    "data",
                    "give either `dataset: imdb` (a built-in dataset) or `train:` with `test:` (a file path or `{fraction: 0.2}`)",
                ))
            }
        }
        if let Some(name) = &data.dataset {
            let known = super::BUILTIN_DATASETS;
            if !known.contains(&name.as_str()) {
                let hint = nearest(name, known)
                    .map(|n| format!(" (did you mean `{n}`?)"))
                    .unwrap_or_default();
                return Err(Invalid::new(
                    "data.dataset",
                    format!(
                        "unknown built-in dataset `{name}`{hint}; built-in datasets: {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        if let Some(k) = data.validation.folds {
            if data.validation.fraction.is_some() || data.validation.file.is_some() {
                return Err(Invalid::new(
                    "data.validation",
                    "give one of `fraction`, `file` or `folds`, not several",
                ));
            }
            if !(2..=super::MAX_FOLDS).contains(&k) {
                return Err(Invalid::new(
                    "data.validation.folds",
                    format!(
                        "folds must be between 2 and {} (got {k}); e.g. `validation: {{folds: 5}}`",
                        super::MAX_FOLDS
                    ),
                ));
            }
            // The final model trains on the whole training split: no
            // validation data for a schedule to watch.
            if let super::ScheduleSpec::ReduceOnPlateau(r) = &spec.train.optimizer.schedule {
                if r.monitor.needs_validation() {
                    return Err(Invalid::new(
                        "train.optimizer.schedule.reduce_on_plateau.monitor",
                        format!(
                            "with `data.validation: {{folds: {k}}}` the final model trains on the whole training split without validation data; monitor `loss` or `accuracy`"
                        ),
                    ));
                }
            }
        }
        match (data.validation.fraction, &data.validation.file) {
            _ if data.validation.folds.is_some() => {}
            (Some(f), None) if f > 0.0 && f < 1.0 => {}
            (Some(f), None) => {
                return Err(Invalid::new(
                    "data.validation.fraction",
                    format!(
                        "validation fraction {f} must be between 0 and 1 (exclusive), e.g. 0.2"
                    ),
                ))
            }
            (None, Some(_)) => {}
            (Some(_), Some(_)) => {
                return Err(Invalid::new(
                    "data.validation",
                    "give either `fraction` or `file`, not both",
                ))
            }
            (None, None) => {
                return Err(Invalid::new(
                    "data.validation",
                    "give `fraction: 0.2` (part of train held out), `file: path` or `folds: 5` (cross-validation)",
                ))
            }
        }
        if let Some(f) = data.test.as_ref().and_then(|t| t.fraction()) {
            if !(f > 0.0 && f < 1.0) {
                return Err(Invalid::new(
                    "data.test.fraction",
                    format!("data.test.fraction must be between 0 and 1 exclusive (got {f}); e.g. `test: {{fraction: 0.2}}`"),
                ));
            }
        }
        if data.limit == Some(0) {
            return Err(Invalid::new("data.limit", "limit must be at least 1"));
        }
    }
    if let Some(bins) = &spec.task.bins {
        check_bins(bins)?;
        if !spec.task.classes.is_empty() {
            return Err(Invalid::new(
                "task.classes",
                "give either `classes` or `bins`: bins name the classes themselves",
            ));
        }
    }
    if spec.task.ordinal
        && spec.task.kind != TaskKind::Regression
        && spec.task.bins.is_none()
        && spec.task.classes.is_empty()
    {
        return Err(Invalid::new(
            "task.ordinal",
            "ordered classes need their order: list them from lowest to highest in `task.classes` (or use `bins`)",
        ));
    }
    if spec.task.kind == TaskKind::Regression && spec.task.bins.is_some() {
        return Err(Invalid::new(
            "task.bins",
            "a regression task predicts the number itself; remove `bins` or use `type: multiclass`",
        ));
    }
    if let Some(n) = spec.tokenizer.num_words {
        if n < 2 {
            return Err(Invalid::new(
                "tokenizer.num_words",
                "num_words must be at least 2 (index 0 is reserved for padding)",
            ));
        }
    }
    if spec.sequence.maxlen == Some(0) {
        return Err(Invalid::new("sequence.maxlen", "maxlen must be at least 1"));
    }
    let v = &spec.vectorize;
    if v.mode != VectorizeMode::Int && !(1..=5).contains(&v.ngrams) {
        return Err(Invalid::new(
            "vectorize.ngrams",
            format!("ngrams must be between 1 and 5, got {}", v.ngrams),
        ));
    }
    if v.max_tokens == Some(0) {
        return Err(Invalid::new(
            "vectorize.max_tokens",
            "max_tokens must be at least 1; remove it to keep every n-gram",
        ));
    }
    if v.mode == VectorizeMode::DocVectors {
        check_doc_vectors(v)?;
    }
    let unlabelled = spec.data.as_ref().and_then(|d| d.unlabelled.as_ref());
    if unlabelled.is_some() && v.mode != VectorizeMode::DocVectors {
        return Err(Invalid::new(
            "data.unlabelled",
            "unlabelled texts are used only to train document vectors: set `vectorize.mode: doc_vectors`, or remove `unlabelled`",
        ));
    }
    if unlabelled == Some(&super::UnlabelledSource::Dataset)
        && spec.data.as_ref().is_some_and(|d| d.dataset.is_none())
    {
        return Err(Invalid::new(
            "data.unlabelled",
            super::UNLABELLED_NEEDS_DATASET,
        ));
    }
    if v.nb_weighting && matches!(v.mode, VectorizeMode::Int | VectorizeMode::DocVectors) {
        return Err(Invalid::new(
            "vectorize.nb_weighting",
            "naive-Bayes weighting applies to bag-of-n-gram modes: set `mode: multi_hot`, `count` or `tf_idf`",
        ));
    }
    if v.nb_weighting && spec.task.kind != TaskKind::Binary {
        return Err(Invalid::new(
            "vectorize.nb_weighting",
            "naive-Bayes weighting is defined for binary tasks only",
        ));
    }
    let t = &spec.train;
    if t.epochs == 0 {
        return Err(Invalid::new("train.epochs", "epochs must be at least 1"));
    }
    if t.batch_size == 0 {
        return Err(Invalid::new(
            "train.batch_size",
            "batch_size must be at least 1",
        ));
    }
    let lr = t.optimizer.learning_rate;
    if !(lr > 0.0 && lr.is_finite()) {
        return Err(Invalid::new(
            "train.optimizer.learning_rate",
            format!("learning_rate must be a positive number, got {lr}"),
        ));
    }
    check_controls(t)?;
    if spec.model.layers.is_empty() {
        return Err(Invalid::new(
            "model.layers",
            "the model has no layers; add e.g. `- dense: {units: 1}`",
        ));
    }
    for (i, layer) in spec.model.layers.iter().enumerate() {
        if let super::LayerSpec::Dropout(d) = layer {
            if !(0.0..1.0).contains(&d.rate) {
                return Err(Invalid::new(
                    format!("model.layers[{i}].dropout.rate"),
                    format!("dropout rate must be in [0, 1), got {}", d.rate),
                ));
            }
        }
    }
    Ok(())
}

/// `vectorize.doc_vectors` under `mode: doc_vectors`.
fn check_doc_vectors(v: &super::VectorizeSpec) -> Result<(), Invalid> {
    let d = &v.doc_vectors;
    let range = |key: &str, value: usize, lo: usize, hi: usize| -> Result<(), Invalid> {
        if (lo..=hi).contains(&value) {
            Ok(())
        } else {
            Err(Invalid::new(
                format!("vectorize.doc_vectors.{key}"),
                format!("{key} must be between {lo} and {hi}, got {value}"),
            ))
        }
    };
    range("dim", d.dim, 1, 1024)?;
    range("epochs", d.epochs, 1, 1000)?;
    range("negative", d.negative, 1, 64)?;
    for (key, value) in [
        ("learning_rate", d.learning_rate),
        ("min_learning_rate", d.min_learning_rate),
    ] {
        if !(value > 0.0 && value.is_finite()) {
            return Err(Invalid::new(
                format!("vectorize.doc_vectors.{key}"),
                format!("{key} must be a positive number, got {value}"),
            ));
        }
    }
    if d.min_learning_rate > d.learning_rate {
        return Err(Invalid::new(
            "vectorize.doc_vectors.min_learning_rate",
            format!(
                "min_learning_rate ({}) must not exceed learning_rate ({})",
                d.min_learning_rate, d.learning_rate
            ),
        ));
    }
    if !(d.sample >= 0.0 && d.sample.is_finite()) {
        return Err(Invalid::new(
            "vectorize.doc_vectors.sample",
            format!("sample must be 0 (keep every occurrence) or a small positive number like 0.0001, got {}", d.sample),
        ));
    }
    Ok(())
}

/// Optimizer, schedule, early-stopping, class-weight and loss settings.
fn check_controls(t: &super::TrainSpec) -> Result<(), Invalid> {
    use super::{ClassWeightSpec, ScheduleSpec};
    let o = &t.optimizer;
    let unit = |path: &str, v: f64, what: &str| -> Result<(), Invalid> {
        if (0.0..1.0).contains(&v) {
            Ok(())
        } else {
            Err(Invalid::new(
                path,
                format!("{what} must be in [0, 1), got {v}"),
            ))
        }
    };
    unit("train.optimizer.momentum", o.momentum, "momentum")?;
    unit("train.optimizer.beta_1", o.beta_1, "beta_1")?;
    unit("train.optimizer.beta_2", o.beta_2, "beta_2")?;
    unit("train.optimizer.rho", o.rho, "rho")?;
    let positive = |path: &str, v: f64, what: &str| -> Result<(), Invalid> {
        if v > 0.0 && v.is_finite() {
            Ok(())
        } else {
            Err(Invalid::new(
                path,
                format!("{what} must be a positive number, got {v}"),
            ))
        }
    };
    positive("train.optimizer.epsilon", o.epsilon, "epsilon")?;
    if !(o.weight_decay >= 0.0 && o.weight_decay.is_finite()) {
        return Err(Invalid::new(
            "train.optimizer.weight_decay",
            format!("weight_decay must be 0 or more, got {}", o.weight_decay),
        ));
    }
    if !(o.initial_accumulator_value >= 0.0 && o.initial_accumulator_value.is_finite()) {
        return Err(Invalid::new(
            "train.optimizer.initial_accumulator_value",
            format!(
                "initial_accumulator_value must be 0 or more, got {}",
                o.initial_accumulator_value
            ),
        ));
    }
    if o.nesterov && o.momentum == 0.0 {
        return Err(Invalid::new(
            "train.optimizer.nesterov",
            "Nesterov momentum needs a momentum; set e.g. `momentum: 0.9`",
        ));
    }
    if o.clipnorm.is_some() && o.global_clipnorm.is_some() {
        return Err(Invalid::new(
            "train.optimizer.global_clipnorm",
            "give either `clipnorm` (per weight tensor) or `global_clipnorm` (all gradients together), not both (as Keras)",
        ));
    }
    if let Some(c) = o.clipnorm {
        positive("train.optimizer.clipnorm", c, "clipnorm")?;
    }
    if let Some(c) = o.global_clipnorm {
        positive("train.optimizer.global_clipnorm", c, "global_clipnorm")?;
    }
    match &o.schedule {
        ScheduleSpec::Constant => {}
        ScheduleSpec::ExponentialDecay(e) => {
            if e.decay_steps == 0 {
                return Err(Invalid::new(
                    "train.optimizer.schedule.exponential_decay.decay_steps",
                    "decay_steps must be at least 1",
                ));
            }
            positive(
                "train.optimizer.schedule.exponential_decay.decay_rate",
                e.decay_rate,
                "decay_rate",
            )?;
        }
        ScheduleSpec::ReduceOnPlateau(r) => {
            let at = "train.optimizer.schedule.reduce_on_plateau";
            if !(r.factor > 0.0 && r.factor < 1.0) {
                return Err(Invalid::new(
                    format!("{at}.factor"),
                    format!("factor must be in (0, 1), got {}", r.factor),
                ));
            }
            if !(r.min_delta >= 0.0 && r.min_delta.is_finite()) {
                return Err(Invalid::new(
                    format!("{at}.min_delta"),
                    format!("min_delta must be 0 or more, got {}", r.min_delta),
                ));
            }
            if !(r.min_lr >= 0.0 && r.min_lr.is_finite()) {
                return Err(Invalid::new(
                    format!("{at}.min_lr"),
                    format!("min_lr must be 0 or more, got {}", r.min_lr),
                ));
            }
        }
    }
    if let Some(es) = &t.early_stopping {
        if !(es.min_delta >= 0.0 && es.min_delta.is_finite()) {
            return Err(Invalid::new(
                "train.early_stopping.min_delta",
                format!("min_delta must be 0 or more, got {}", es.min_delta),
            ));
        }
    }
    if let Some(ClassWeightSpec::Map(m)) = &t.class_weight {
        if let Some((k, w)) = m.0.iter().find(|(_, w)| !(*w >= 0.0 && w.is_finite())) {
            return Err(Invalid::new(
                format!("train.class_weight.{k}"),
                format!("class weight must be a number of 0 or more, got {w}"),
            ));
        }
    }
    positive("train.loss.delta", t.loss.delta, "delta")?;
    Ok(())
}

/// `task.positive_class`: binary tasks only, and one of the classes when the
/// spec lists them (`task.classes` or `task.bins`); inferred classes are
/// checked when the data is read.
fn check_positive_class(task: &super::TaskSpec, positive: &str) -> Result<(), Invalid> {
    if task.kind != super::TaskKind::Binary {
        return Err(Invalid::new(
            "task.positive_class",
            "only a binary task has a positive class; remove `positive_class` or use `type: binary`",
        ));
    }
    let listed: Vec<String> = match &task.bins {
        Some(bins) => bins.0.iter().map(|(n, _)| n.clone()).collect(),
        None => task.classes.clone(),
    };
    if !listed.is_empty() && !listed.iter().any(|c| c == positive) {
        let names: Vec<&str> = listed.iter().map(String::as_str).collect();
        let hint = nearest(positive, &names)
            .map(|n| format!(" (did you mean `{n}`?)"))
            .unwrap_or_default();
        return Err(Invalid::new(
            "task.positive_class",
            format!(
                "`{positive}` is not one of the classes{hint}: {}",
                names.join(", ")
            ),
        ));
    }
    Ok(())
}

fn check_bins(bins: &super::BinsSpec) -> Result<(), Invalid> {
    if bins.0.len() < 2 {
        return Err(Invalid::new("task.bins", "give at least two bins"));
    }
    let mut sorted: Vec<&(String, [f64; 2])> = bins.0.iter().collect();
    sorted.sort_by(|a, b| a.1[0].total_cmp(&b.1[0]));
    for (name, [lo, hi]) in &bins.0 {
        if lo > hi {
            return Err(Invalid::new(
                format!("task.bins.{name}"),
                format!("bin `{name}` has low {lo} above high {hi}"),
            ));
        }
    }
    for w in sorted.windows(2) {
        let (a, [_, a_hi]) = w[0];
        let (b, [b_lo, _]) = w[1];
        if b_lo <= a_hi {
            return Err(Invalid::new(
                format!("task.bins.{b}"),
                format!(
                    "bins `{a}` and `{b}` overlap: `{a}` ends at {a_hi}, `{b}` starts at {b_lo}"
                ),
            ));
        }
        // Integer-valued bins must meet exactly (e.g. [1, 4] then [5, 6]).
        let gap = b_lo - a_hi;
        let integral = a_hi.fract() == 0.0 && b_lo.fract() == 0.0;
        if (integral && gap > 1.0) || (!integral && gap > 0.0) {
            return Err(Invalid::new(
                format!("task.bins.{b}"),
                format!(
                    "there is a gap between bins `{a}` (ends at {a_hi}) and `{b}` (starts at {b_lo}); values there would have no class"
                ),
            ));
        }
    }
    Ok(())
}
