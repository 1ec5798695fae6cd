//! Documented upper bounds on the counts a spec may ask for.
//!
//! They keep a typo (`epochs: 1000000000000`, `maxlen: 1000000000`) from
//! turning into an allocation that aborts the process, a run that never ends
//! or a layer stack deep enough to overflow a thread's stack. Every bound is
//! far above what a text classifier of this kind uses; memory for what is
//! allowed is checked separately against the machine (`kerros validate
//! --max-memory`).

use super::{Invalid, LayerSpec, Spec};

/// Largest spec file read, in bytes (1 MiB). Parsing costs a few hundred
/// bytes of memory per byte of YAML (every list item of a hand-written
/// `kernel` becomes a value and a located path), so a spec is kept small;
/// real specs are a few kilobytes.
pub const MAX_SPEC_BYTES: u64 = 1 << 20;
/// Deepest nesting of mappings and lists in a spec file (a spec nests a few
/// levels; a `bidirectional` layer adds two).
pub const MAX_NESTING: usize = 32;
/// Most passes over the training split.
pub const MAX_EPOCHS: usize = 100_000;
/// Most layers in `model.layers`. Gradients are taken by walking the graph of
/// operations recursively (candle), about three operations per layer, so the
/// stack depth of training grows with the number of layers: 4,000 dense
/// layers still train, 6,000 overflow; 500 keeps a wide margin.
pub const MAX_LAYERS: usize = 500;
/// Most units of a `dense` or recurrent layer, filters of a `conv1d`, or
/// `output_dim` of an `embedding`.
pub const MAX_UNITS: usize = 1_000_000;
/// Longest `sequence.maxlen` (tokens per example) and `kernel_size` / `pool_size`.
pub const MAX_SEQUENCE_LENGTH: usize = 100_000;
/// Largest vocabulary: `embedding.input_dim`, `tokenizer.num_words`,
/// `vectorize.max_tokens` and `model.input_dim`.
pub const MAX_VOCABULARY: usize = 10_000_000;
/// Largest `train.batch_size`.
pub const MAX_BATCH_SIZE: usize = 1_000_000;
/// Longest n-grams of the bag modes.
pub const MAX_NGRAMS: usize = 5;

/// `value` must be at most `max`; the error names the setting and the bound.
fn at_most(path: &str, what: &str, value: usize, max: usize) -> Result<(), Invalid> {
    if value > max {
        return Err(Invalid::new(
            path,
            format!(
                "{what} is {value}, above the largest allowed, {max} (see `kerros validate --help` for the documented bounds)"
            ),
        ));
    }
    Ok(())
}

/// Check every count of `spec` against its documented bound.
pub fn check_bounds(spec: &Spec) -> Result<(), Invalid> {
    let t = &spec.train;
    at_most("train.epochs", "epochs", t.epochs, MAX_EPOCHS)?;
    at_most(
        "train.batch_size",
        "batch_size",
        t.batch_size,
        MAX_BATCH_SIZE,
    )?;
    if let Some(n) = spec.tokenizer.num_words {
        at_most("tokenizer.num_words", "num_words", n, MAX_VOCABULARY)?;
    }
    if let Some(n) = spec.sequence.maxlen {
        at_most("sequence.maxlen", "maxlen", n, MAX_SEQUENCE_LENGTH)?;
    }
    if let Some(n) = spec.vectorize.max_tokens {
        at_most("vectorize.max_tokens", "max_tokens", n, MAX_VOCABULARY)?;
    }
    if let Some(n) = spec.model.input_dim {
        at_most("model.input_dim", "input_dim", n, MAX_VOCABULARY)?;
    }
    let layers = &spec.model.layers;
    at_most(
        "model.layers",
        "the number of layers",
        layers.len(),
        MAX_LAYERS,
    )?;
    for (i, layer) in layers.iter().enumerate() {
        check_layer(layer, &format!("model.layers[{i}]"))?;
    }
    Ok(())
}

/// Bounds of one layer's counts; `at` is its spec path.
fn check_layer(layer: &LayerSpec, at: &str) -> Result<(), Invalid> {
    let units = |field: &str, v: usize| {
        at_most(
            &format!("{at}.{}.{field}", layer.type_name()),
            field,
            v,
            MAX_UNITS,
        )
    };
    let length = |field: &str, v: usize| {
        at_most(
            &format!("{at}.{}.{field}", layer.type_name()),
            field,
            v,
            MAX_SEQUENCE_LENGTH,
        )
    };
    match layer {
        LayerSpec::Embedding(e) => {
            at_most(
                &format!("{at}.embedding.input_dim"),
                "input_dim",
                e.input_dim,
                MAX_VOCABULARY,
            )?;
            units("output_dim", e.output_dim)
        }
        LayerSpec::Dense(d) => units("units", d.units),
        LayerSpec::Conv1d(c) => {
            units("filters", c.filters)?;
            length("kernel_size", c.kernel_size)?;
            length("strides", c.strides)
        }
        LayerSpec::MaxPooling1d(p) | LayerSpec::AveragePooling1d(p) => {
            length("pool_size", p.pool_size)?;
            p.strides.map_or(Ok(()), |s| length("strides", s))
        }
        LayerSpec::SimpleRnn(r) => units("units", r.units),
        LayerSpec::Lstm(r) => units("units", r.units),
        LayerSpec::Gru(r) => units("units", r.units),
        // The wrapped layer is one level down; nesting is rejected by shape
        // inference, and serde's recursion limit bounds it while parsing.
        LayerSpec::Bidirectional(b) => check_layer(&b.layer, &format!("{at}.bidirectional.layer")),
        LayerSpec::Flatten
        | LayerSpec::Dropout(_)
        | LayerSpec::GlobalAveragePooling1d
        | LayerSpec::GlobalMaxPooling1d => Ok(()),
    }
}
