//! How much arithmetic one training step does, and how much the machine could
//! do: the GFLOP/s lines of `benches/recurrent.rs` (`bench/README.md`, "How
//! close to the machine's limit").
//!
//! Counted: every matrix product of the forward and backward pass at
//! `2·m·n·k` FLOPs (forward `x·W`; backward `dy·Wᵀ` and `xᵀ·dy`, the first
//! also for the layer right after the embedding, whose input gradient trains
//! the embedding). Not counted: gate nonlinearities, element-wise products,
//! pooling, the loss and the optimizer (all `O(values)`, not `O(values · k)`).

/// Embedding width of every bench model.
pub const EMBED: usize = 16;

/// Matmul FLOPs of one training step (forward + backward) per example.
#[derive(Debug, Clone, Copy)]
pub struct StepFlops {
    /// The model as written: every layer applied at every position.
    pub model: f64,
    /// What kerros computes: a recurrent or convolutional layer reading the
    /// embedding projects each distinct token of the batch once, not each position.
    pub executed: f64,
}

impl std::ops::Add for StepFlops {
    type Output = StepFlops;
    fn add(self, o: StepFlops) -> StepFlops {
        StepFlops {
            model: self.model + o.model,
            executed: self.executed + o.executed,
        }
    }
}

/// A product with `weights` weights applied to `rows` rows, forward and backward
/// (`dx` too): `3 · 2 · rows · weights`.
fn trained_product(rows: f64, weights: usize) -> f64 {
    6.0 * rows * weights as f64
}

/// A recurrent layer with `gates` gate blocks of `units` over `steps` positions
/// of `inputs` features; `distinct` is the distinct tokens per example when it
/// reads the embedding (`None`: it projects every position).
fn recurrent(
    gates: usize,
    units: usize,
    steps: usize,
    inputs: usize,
    distinct: Option<f64>,
) -> StepFlops {
    let gu = gates * units;
    // h·U forward, dh·Uᵀ and hᵀ·dz backward, every step.
    let rec = trained_product(steps as f64, units * gu);
    let input = |rows: f64| trained_product(rows, inputs * gu);
    StepFlops {
        model: rec + input(steps as f64),
        executed: rec + input(distinct.unwrap_or(steps as f64)),
    }
}

/// A `Dense(1)` on `inputs` features.
fn dense_out(inputs: usize) -> StepFlops {
    let f = trained_product(1.0, inputs);
    StepFlops {
        model: f,
        executed: f,
    }
}

/// A valid `Conv1D(filters, size)` on `len` positions of `channels`; `distinct`
/// as in [`recurrent`] (the token path projects each distinct token by all
/// `size` taps). Returns the FLOPs and the output length.
fn conv(
    filters: usize,
    size: usize,
    len: usize,
    channels: usize,
    distinct: Option<f64>,
) -> (StepFlops, usize) {
    let out = len + 1 - size;
    let model = trained_product(out as f64, size * channels * filters);
    let executed = match distinct {
        Some(d) => trained_product(d, size * channels * filters),
        None => model,
    };
    (StepFlops { model, executed }, out)
}

/// The bench model `name`'s FLOPs per example for sequences of `steps` tokens
/// with `distinct` distinct tokens per example (batch-wide count / batch size);
/// `None` for `course` (one gather-and-multiply, no product worth counting).
pub fn per_example(name: &str, steps: usize, distinct: f64) -> Option<StepFlops> {
    let d = Some(distinct);
    Some(match name {
        "lstm" => recurrent(4, 32, steps, EMBED, d) + dense_out(32),
        "gru" => recurrent(3, 32, steps, EMBED, d) + dense_out(32),
        "simple_rnn" => recurrent(1, 32, steps, EMBED, d) + dense_out(32),
        "bilstm" => {
            let one = recurrent(4, 32, steps, EMBED, d);
            one + one + dense_out(64)
        }
        "cnn" => {
            let (c1, l1) = conv(32, 7, steps, EMBED, d);
            let (c2, _) = conv(32, 7, l1 / 5, 32, None);
            c1 + c2 + dense_out(32)
        }
        _ => return None,
    })
}

/// Mean distinct tokens per example over consecutive batches of `batch`
/// rows of `width` ids (training shuffles, so real batches differ; with
/// thousands of batches the mean is the same to a few per cent).
pub fn distinct_per_example(ids: &[u32], width: usize, batch: usize) -> f64 {
    let vocab = ids.iter().copied().max().map_or(0, |m| m as usize + 1);
    let mut seen = vec![usize::MAX; vocab];
    let (mut total, mut examples) = (0usize, 0usize);
    for (b, rows) in ids.chunks(batch * width).enumerate() {
        for &id in rows {
            if seen[id as usize] != b {
                seen[id as usize] = b;
                total += 1;
            }
        }
        examples += rows.len() / width.max(1);
    }
    total as f64 / examples.max(1) as f64
}

/// The machine's single-precision peak: cores × clock × FLOPs per cycle per core.
#[derive(Debug, Clone)]
pub struct Peak {
    /// CPUs this process may use.
    pub cores: usize,
    /// Clock in GHz (`cpu MHz` of `/proc/cpuinfo`, or `--clock-ghz`).
    pub ghz: f64,
    /// FLOPs per cycle per core: 2 FMA pipes × 8 f32 lanes (AVX2) × 2 = 32
    /// (Zen 2–4, Skylake and later client cores), or `--flops-per-cycle`.
    pub per_cycle: f64,
}

impl Peak {
    /// GFLOP/s.
    pub fn gflops(&self) -> f64 {
        self.cores as f64 * self.ghz * self.per_cycle
    }

    /// The peak of this machine; `ghz` / `per_cycle` override what is read.
    pub fn of_this_machine(ghz: Option<f64>, per_cycle: Option<f64>) -> Option<Peak> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let ghz = ghz.or_else(|| {
            let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
            let line = info.lines().find(|l| l.starts_with("cpu MHz"))?;
            let mhz: f64 = line.split(':').nth(1)?.trim().parse().ok()?;
            Some(mhz / 1000.0)
        })?;
        Some(Peak {
            cores,
            ghz,
            per_cycle: per_cycle.unwrap_or(32.0),
        })
    }
}

/// CPU seconds this process has used (all threads, user + system), from
/// `/proc/self/stat` (Linux's fixed 100 ticks per second); `None` elsewhere.
pub fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}
