//! How much memory a run will need, estimated from the spec alone, and the
//! limit it is checked against (`--max-memory`, by default half the RAM).

use crate::model::LayerInfo;
use crate::spec::{LayerSpec, OptimizerName, Spec, VectorizeMode, EVALUATION_BATCH_SIZE};

/// Bytes of one weight or activation (f32).
const FLOAT: f64 = 4.0;

/// The most memory a run may plan to use, and where that number came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryLimit {
    /// The limit in bytes.
    pub bytes: u64,
    /// The machine's RAM when the limit was derived from it.
    pub ram: Option<u64>,
}

impl MemoryLimit {
    /// Half of this machine's RAM (read from `/proc/meminfo`), or 8 GiB where
    /// the RAM cannot be read.
    pub fn for_machine() -> MemoryLimit {
        match machine_ram() {
            Some(ram) => MemoryLimit {
                bytes: ram / 2,
                ram: Some(ram),
            },
            None => MemoryLimit {
                bytes: 8 << 30,
                ram: None,
            },
        }
    }

    /// A limit given with `--max-memory`.
    pub fn given(bytes: u64) -> MemoryLimit {
        MemoryLimit { bytes, ram: None }
    }

    /// The limit when `flag` (`--max-memory`) is set, else [`MemoryLimit::for_machine`].
    pub fn from_flag(flag: Option<u64>) -> MemoryLimit {
        flag.map_or_else(MemoryLimit::for_machine, MemoryLimit::given)
    }

    /// Where the limit comes from, for messages.
    fn origin(&self) -> String {
        match self.ram {
            Some(ram) => format!(
                "half of this machine's {} of RAM; raise it with `--max-memory`, e.g. `--max-memory {}G`",
                human(ram as f64),
                (ram >> 30).max(1)
            ),
            None => "set with `--max-memory` (or the 8 GiB default where the RAM is unknown)".into(),
        }
    }
}

/// Total RAM from `/proc/meminfo` (`MemTotal`), in bytes.
fn machine_ram() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// Parse a memory size for `--max-memory`: bytes, or a number with `K`, `M`,
/// `G` or `T` (powers of 1024; `KiB`, `MB`, `GiB`... accepted alike).
pub fn parse_memory_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a memory size; write e.g. 8G, 512M or 2000000000"))?;
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1u64,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}`; use K, M, G or T, e.g. 8G"
            ))
        }
    };
    let bytes = value * scale as f64;
    if !(bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!(
            "`{text}` is not a usable memory size; write e.g. 8G"
        ));
    }
    Ok(bytes as u64)
}

/// A byte count the way people read it: `1.5 GiB`.
pub fn human(bytes: f64) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = bytes;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < units.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{v:.0} {}", units[0])
    } else {
        format!("{v:.1} {}", units[i])
    }
}

/// The memory a run needs, estimated from its spec (floats, so no count overflows).
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryEstimate {
    /// Number of parameters.
    pub params: f64,
    /// Bytes of the weights.
    pub weights: f64,
    /// Bytes of the gradients and the optimizer's state.
    pub optimizer: f64,
    /// Bytes of the largest batch's activations (training with gradients, or
    /// inference at the evaluation batch size).
    pub activations: f64,
    /// Bytes of the document-vector model's output table (`max_tokens × dim`
    /// floats; 0 for other modes, or when `max_tokens` is unset and the
    /// vocabulary's size is not known before fitting).
    pub doc_vector_table: f64,
    /// The spec key of what needs the most memory (`model.layers[i]`, or
    /// `vectorize.max_tokens` for a document-vector table).
    pub largest_key: String,
    /// What drives the largest layer's memory, for the message.
    pub largest_detail: String,
}

impl MemoryEstimate {
    /// Weights, optimizer state and activations together.
    pub fn total(&self) -> f64 {
        self.weights + self.optimizer + self.activations + self.doc_vector_table
    }
}

/// Values the optimizer keeps per weight (besides the gradient).
fn optimizer_states(spec: &Spec) -> f64 {
    let o = &spec.train.optimizer;
    let momentum = if o.momentum > 0.0 { 1.0 } else { 0.0 };
    match o.name {
        OptimizerName::Adam | OptimizerName::Adamw => 2.0,
        OptimizerName::Sgd => momentum,
        OptimizerName::Rmsprop => 1.0 + momentum,
        OptimizerName::Adagrad => 1.0,
    }
}

/// Values a layer keeps per example for its backward pass: its output, and
/// for a recurrent layer every step's gates and state.
fn activation_values(layer: &LayerSpec, input: &[usize], output: &[usize]) -> f64 {
    let out: f64 = output.iter().map(|&d| d as f64).product();
    let steps = input.first().copied().unwrap_or(1) as f64;
    let recurrent = |layer: &LayerSpec| match layer {
        LayerSpec::SimpleRnn(r) => Some(r.units as f64),
        LayerSpec::Lstm(r) => Some(4.0 * r.units as f64),
        LayerSpec::Gru(r) => Some(3.0 * r.units as f64),
        _ => None,
    };
    let per_step = match layer {
        LayerSpec::Bidirectional(b) => recurrent(&b.layer).map(|v| 2.0 * v),
        other => recurrent(other),
    };
    match per_step {
        Some(v) => out + steps * (v + 1.0),
        None => out,
    }
}

/// Estimate the memory of training and evaluating `spec`'s model, whose
/// layers inference described as `infos` (with `input` the model's input shape).
pub fn estimate(spec: &Spec, input: &[usize], infos: &[LayerInfo]) -> MemoryEstimate {
    let states = optimizer_states(spec);
    let batch = spec.train.batch_size as f64;
    let mut params = 0.0;
    let mut per_example: f64 = input.iter().map(|&d| d as f64).product();
    let mut largest = (0usize, -1.0f64, String::new());
    let mut previous = input.to_vec();
    for (i, (layer, info)) in spec.model.layers.iter().zip(infos).enumerate() {
        let p = info.params as f64;
        let act = activation_values(layer, &previous, &info.dims);
        params += p;
        per_example += act;
        let cost = p * FLOAT * (2.0 + states) + act * batch * FLOAT * 2.0;
        if cost > largest.1 {
            let detail = format!(
                "model.layers[{i}] ({}, output {}): {} parameters and {} values per example",
                info.kind,
                info.output_shape,
                count(p),
                count(act)
            );
            largest = (i, cost, detail);
        }
        previous = info.dims.clone();
    }
    let training = batch * per_example * FLOAT * 2.0;
    let inference = EVALUATION_BATCH_SIZE as f64 * per_example * FLOAT;
    let v = &spec.vectorize;
    let doc_vector_table = match (v.mode, v.max_tokens) {
        (VectorizeMode::DocVectors, Some(terms)) => terms as f64 * v.doc_vectors.dim as f64 * FLOAT,
        _ => 0.0,
    };
    let (largest_key, largest_detail) = if doc_vector_table > largest.1 {
        (
            "vectorize.max_tokens".to_string(),
            format!(
                "the document vectors' output table: {} terms × {} dimensions",
                count(v.max_tokens.unwrap_or(0) as f64),
                v.doc_vectors.dim
            ),
        )
    } else {
        (format!("model.layers[{}]", largest.0), largest.2)
    };
    MemoryEstimate {
        params,
        weights: params * FLOAT,
        optimizer: params * FLOAT * (1.0 + states),
        activations: training.max(inference),
        doc_vector_table,
        largest_key,
        largest_detail,
    }
}

/// A count with thousands separators, or in scientific notation when huge.
fn count(v: f64) -> String {
    if v >= 1e15 {
        return format!("{v:.2e}");
    }
    let s = format!("{:.0}", v);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The refusal message when `estimate` is above `limit`, `None` when it fits.
pub fn over_limit(spec: &Spec, estimate: &MemoryEstimate, limit: &MemoryLimit) -> Option<String> {
    let total = estimate.total();
    if total <= limit.bytes as f64 {
        return None;
    }
    Some(format!(
        "this run needs about {} of memory: weights {} ({} parameters), gradients and {:?} optimizer state {}, activations {} (batch_size {}){}; the limit is {} ({}). Most of it comes from {}.",
        human(total),
        human(estimate.weights),
        count(estimate.params),
        spec.train.optimizer.name,
        human(estimate.optimizer),
        human(estimate.activations),
        spec.train.batch_size,
        if estimate.doc_vector_table > 0.0 {
            format!(", document-vector table {}", human(estimate.doc_vector_table))
        } else {
            String::new()
        },
        human(limit.bytes as f64),
        limit.origin(),
        estimate.largest_detail
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_memory_size("8G"), Ok(8 << 30));
        assert_eq!(parse_memory_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_memory_size("1.5g"), Ok(3 << 29));
        assert_eq!(parse_memory_size("1000"), Ok(1000));
        assert!(parse_memory_size("lots").is_err());
        assert!(parse_memory_size("8X").is_err());
        assert!(parse_memory_size("0").is_err());
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(512.0), "512 bytes");
        assert_eq!(human(1536.0 * 1024.0 * 1024.0), "1.5 GiB");
        assert_eq!(count(1234567.0), "1,234,567");
    }
}
