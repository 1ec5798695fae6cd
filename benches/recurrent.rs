//! Benchmark: `fit` epoch time of the recurrent workloads (and the course
//! model) on encoded IMDB reviews, for comparison with Keras (see
//! `bench/README.md` and `bench/keras_vs_kerros.sh`).
//!
//! `cargo bench --bench recurrent -- [--data DIR] [--epochs N] [--models a,b]`
//!
//! `--data DIR` reads `DIR/ids.u32` (little-endian u32, `n × maxlen`),
//! `DIR/labels.f32` (`n` values) and `DIR/meta.json` (`{"n", "maxlen",
//! "vocab"}`), as written by `bench/keras_models.py`; without it, 20,000
//! random sequences of 200 ids below 10,000 are used. Models: `course`,
//! `lstm`, `gru`, `bilstm`, `simple_rnn`, `cnn`. Prints one line per epoch and a
//! `RESULT <model> <examples/s>` line per model: steady state, the median
//! epoch after the first.
//!
//! After each `RESULT` line a `GFLOPS <model> …` line gives the achieved
//! GFLOP/s of that steady state against the machine's peak (cores × clock ×
//! 32 FLOPs per cycle; `--clock-ghz X` and `--flops-per-cycle N` override the
//! clock read from `/proc/cpuinfo` and the AVX2/FMA figure), from the matmul
//! FLOPs of one training step ([`flops`]), both as the model is written and as
//! kerros executes it, and per CPU-second (what the busy cores achieved, which
//! other load on the machine does not dilute).

#[path = "recurrent/flops.rs"]
mod flops;

// The kerros binary uses mimalloc; measure with the same allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use kerros::model::{Model, ModelInput};
use kerros::spec::{LayerSpec, TaskKind, TrainSpec};
use kerros::train::{fit, Dataset, EpochRecord, InputData, TaskInfo, TrainObserver};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;

fn layers(model: &str, vocab: usize) -> Option<(Vec<LayerSpec>, usize)> {
    let emb = format!("- embedding: {{input_dim: {vocab}, output_dim: 16}}\n");
    let (body, batch) = match model {
        "course" => ("- flatten\n- dense: {units: 1}\n", 512),
        "lstm" => ("- lstm: {units: 32}\n- dense: {units: 1}\n", 128),
        "gru" => ("- gru: {units: 32}\n- dense: {units: 1}\n", 128),
        "simple_rnn" => ("- simple_rnn: {units: 32}\n- dense: {units: 1}\n", 128),
        "bilstm" => (
            "- bidirectional: {layer: {lstm: {units: 32}}}\n- dense: {units: 1}\n",
            128,
        ),
        "cnn" => (
            "- conv1d: {filters: 32, kernel_size: 7, activation: relu}\n- max_pooling1d: {pool_size: 5}\n- conv1d: {filters: 32, kernel_size: 7, activation: relu}\n- global_max_pooling1d\n- dense: {units: 1}\n",
            128,
        ),
        _ => return None,
    };
    let specs: Vec<LayerSpec> = serde_yaml::from_str(&format!("{emb}{body}")).ok()?;
    Some((specs, batch))
}

fn read_data(dir: &Path) -> Result<(Vec<u32>, Vec<f32>, usize, usize), String> {
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("meta.json")).map_err(|e| format!("meta.json: {e}"))?,
    )
    .map_err(|e| format!("meta.json: {e}"))?;
    let get = |k: &str| {
        meta[k]
            .as_u64()
            .map(|v| v as usize)
            .ok_or(format!("meta.json: no `{k}`"))
    };
    let (n, maxlen, vocab) = (get("n")?, get("maxlen")?, get("vocab")?);
    let raw = std::fs::read(dir.join("ids.u32")).map_err(|e| format!("ids.u32: {e}"))?;
    let ids: Vec<u32> = raw
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let raw = std::fs::read(dir.join("labels.f32")).map_err(|e| format!("labels.f32: {e}"))?;
    let labels: Vec<f32> = raw
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    if ids.len() != n * maxlen || labels.len() != n {
        return Err(format!(
            "data has {} ids and {} labels; meta says n={n}, maxlen={maxlen}",
            ids.len(),
            labels.len()
        ));
    }
    Ok((ids, labels, maxlen, vocab))
}

/// Steady-state epoch time: the median of the epochs after the first (which
/// includes warm-up; Keras compiles then), or the only epoch.
fn steady_seconds(epochs: &[f64]) -> f64 {
    let mut rest: Vec<f64> = epochs.iter().skip(1).copied().collect();
    if rest.is_empty() {
        return epochs.first().copied().unwrap_or(f64::NAN);
    }
    rest.sort_by(f64::total_cmp);
    let m = rest.len() / 2;
    if rest.len() % 2 == 1 {
        rest[m]
    } else {
        (rest[m - 1] + rest[m]) / 2.0
    }
}

/// Records the process's CPU seconds at the end of every epoch.
struct CpuClock {
    marks: Vec<f64>,
}

impl TrainObserver for CpuClock {
    fn on_epoch(&mut self, _record: &EpochRecord) {
        if let Some(s) = flops::process_cpu_seconds() {
            self.marks.push(s);
        }
    }
}

/// The `GFLOPS` line of model `name`: its FLOPs per example at `rate`
/// examples/s (wall clock) and at `cpu_rate` examples per CPU-second.
fn gflops_line(
    name: &str,
    f: flops::StepFlops,
    rate: f64,
    cpu_rate: Option<f64>,
    peak: Option<&flops::Peak>,
) -> String {
    let pct = |gf: f64| {
        peak.map_or(String::from("?"), |p| {
            format!("{:.1}%", 100.0 * gf / p.gflops())
        })
    };
    let (gm, ge) = (f.model * rate / 1e9, f.executed * rate / 1e9);
    let mut line = format!(
        "GFLOPS {name} model {:.3} MFLOP/ex {gm:.1} GFLOP/s {} | executed {:.3} MFLOP/ex {ge:.1} GFLOP/s {}",
        f.model / 1e6,
        pct(gm),
        f.executed / 1e6,
        pct(ge),
    );
    if let (Some(cpu), Some(p)) = (cpu_rate, peak) {
        let core_peak = p.ghz * p.per_cycle;
        line += &format!(
            " | per CPU-second: model {:.1}%, executed {:.1}% of one core's {core_peak:.1} GFLOP/s ({:.2} cores busy)",
            100.0 * f.model * cpu / 1e9 / core_peak,
            100.0 * f.executed * cpu / 1e9 / core_peak,
            rate / cpu,
        );
    }
    line
}

fn main() {
    kerros::model::configure_candle_threads();
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let epochs: usize = arg("--epochs").and_then(|e| e.parse().ok()).unwrap_or(4);
    let models = arg("--models").unwrap_or_else(|| "course,lstm,gru,bilstm,cnn".into());
    let (ids, labels, maxlen, vocab) = match arg("--data") {
        Some(dir) => match read_data(Path::new(&dir)) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("cannot read {dir}: {e}");
                std::process::exit(2);
            }
        },
        None => {
            let (n, maxlen) = (20_000, 200);
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let ids = (0..n * maxlen)
                .map(|_| rng.random_range(0..10_000u32))
                .collect();
            let labels = (0..n).map(|i| (i % 2) as f32).collect();
            (ids, labels, maxlen, 10_000)
        }
    };
    let n = labels.len();
    let parse = |name: &str| arg(name).and_then(|v| v.parse::<f64>().ok());
    let peak = flops::Peak::of_this_machine(parse("--clock-ghz"), parse("--flops-per-cycle"));
    match &peak {
        Some(p) => println!(
            "PEAK {:.1} GFLOP/s = {} cores x {:.3} GHz x {} FLOP/cycle",
            p.gflops(),
            p.cores,
            p.ghz,
            p.per_cycle
        ),
        None => println!("PEAK unknown (no `cpu MHz` in /proc/cpuinfo; pass --clock-ghz)"),
    }
    // Distinct tokens per example at each batch size (for the executed FLOPs).
    let distinct_at = |batch: usize| flops::distinct_per_example(&ids, maxlen, batch);
    let distinct: Vec<(usize, f64)> = [128, 512].iter().map(|&b| (b, distinct_at(b))).collect();
    let train = Dataset {
        inputs: InputData::Sequences { ids, width: maxlen },
        targets: labels,
    };
    let task = TaskInfo {
        kind: TaskKind::Binary,
        n_classes: 2,
    };
    for name in models.split(',') {
        let Some((specs, batch_size)) = layers(name, vocab) else {
            eprintln!("unknown model `{name}` (course, lstm, gru, bilstm, simple_rnn)");
            std::process::exit(2);
        };
        let mut model = Model::new(&specs, &ModelInput::Sequence { maxlen }, 1).expect("model");
        let cfg = TrainSpec {
            epochs,
            batch_size,
            ..TrainSpec::default()
        };
        let mut clock = CpuClock {
            marks: flops::process_cpu_seconds().into_iter().collect(),
        };
        let h = fit(&mut model, &train, None, &cfg, &task, 1, &mut clock).expect("fit");
        for e in &h.epochs {
            let rate = n as f64 / e.seconds;
            println!(
                "{name} epoch {}: {:.2} s, {:.0} examples/s, loss {:.4}, accuracy {:.4}",
                e.epoch, e.seconds, rate, e.loss, e.accuracy
            );
        }
        let seconds: Vec<f64> = h.epochs.iter().map(|e| e.seconds).collect();
        let rate = n as f64 / steady_seconds(&seconds);
        println!("RESULT {name} {rate:.0}");
        let cpu_seconds: Vec<f64> = clock.marks.windows(2).map(|w| w[1] - w[0]).collect();
        let cpu_rate = (cpu_seconds.len() == seconds.len())
            .then(|| n as f64 / steady_seconds(&cpu_seconds))
            .filter(|r| r.is_finite());
        let d = distinct
            .iter()
            .find(|(b, _)| *b == batch_size)
            .map_or(maxlen as f64, |(_, d)| *d);
        if let Some(f) = flops::per_example(name, maxlen, d) {
            println!("{}", gflops_line(name, f, rate, cpu_rate, peak.as_ref()));
        }
    }
}
