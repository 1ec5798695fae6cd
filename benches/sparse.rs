//! Benchmark: epoch time on sparse bag-of-n-gram rows of IMDB's shape —
//! 25,000 documents, ~700 distinct active features each out of 800,000
//! (Zipf-like feature frequencies, tf-idf-like values) — for logistic
//! regression `dense(1)` and `dense(16, relu) → dense(1)` at batch 32 and 256.
//! Run with `cargo bench --bench sparse` (optionally `-- <documents> [epochs]`).
//! Besides wall-clock seconds per epoch it prints the process CPU seconds of
//! the whole fit (from `/proc/self/stat`, Linux), which a busy machine
//! distorts less.

// The kerros binary is expected to use mimalloc; measure with the same allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use kerros::model::{Model, ModelInput};
use kerros::spec::{LayerSpec, TaskKind, TrainSpec};
use kerros::train::{fit, Dataset, InputData, TaskInfo};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

const WIDTH: usize = 800_000;

fn main() {
    kerros::model::configure_candle_threads();
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(25_000);
    let epochs: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2);
    let start = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let ln_width = (WIDTH as f64).ln();
    let rows: Vec<Vec<(u32, f32)>> = (0..n)
        .map(|_| {
            let k = rng.random_range(400..1000);
            // Zipf-like: P(i) ∝ 1/(i+1), as n-gram counts roughly are.
            let mut row: Vec<u32> = (0..k)
                .map(|_| ((rng.random::<f64>() * ln_width).exp() as u32 - 1).min(WIDTH as u32 - 1))
                .collect();
            row.sort_unstable();
            row.dedup();
            row.into_iter()
                .map(|i| (i, rng.random_range(0.01f32..0.2)))
                .collect()
        })
        .collect();
    let nnz: usize = rows.iter().map(Vec::len).sum();
    let targets: Vec<f32> = (0..n).map(|i| (i % 2) as f32).collect();
    let train = Dataset {
        inputs: InputData::Sparse { rows, width: WIDTH },
        targets,
    };
    println!(
        "{n} documents, {:.0} active features each on average, width {WIDTH} (built in {:.2}s)",
        nnz as f64 / n as f64,
        start.elapsed().as_secs_f64()
    );
    let task = TaskInfo {
        kind: TaskKind::Binary,
        n_classes: 2,
    };
    for (name, yaml) in [
        ("dense(1)", "- dense: {units: 1}\n"),
        (
            "dense(16, relu) -> dense(1)",
            "- dense: {units: 16, activation: relu}\n- dense: {units: 1}\n",
        ),
    ] {
        let layers: Vec<LayerSpec> = serde_yaml::from_str(yaml).expect("layers");
        for batch in [32, 256] {
            let cfg: TrainSpec = serde_yaml::from_str(&format!(
                "loss: {{name: binary_crossentropy, from_logits: true}}\nepochs: {epochs}\nbatch_size: {batch}\n"
            ))
            .expect("train spec");
            let mut model =
                Model::new(&layers, &ModelInput::Features { width: WIDTH }, 1).expect("model");
            let cpu = cpu_seconds();
            let h = fit(&mut model, &train, None, &cfg, &task, 1, &mut ()).expect("fit");
            let secs: Vec<String> = h
                .epochs
                .iter()
                .map(|e| format!("{:.2}s", e.seconds))
                .collect();
            let cpu = cpu_seconds().zip(cpu).map(|(b, a)| (b - a) / epochs as f64);
            let cpu = cpu.map_or(String::new(), |c| format!(" ({c:.2} CPU s per epoch)"));
            println!(
                "{name:<28} batch {batch:>3}: epochs {}{cpu}",
                secs.join(", ")
            );
        }
    }
}

/// User + system CPU seconds of this process so far (Linux `/proc/self/stat`,
/// fields 14 and 15 in clock ticks, assumed 100 per second).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name (which may hold spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
