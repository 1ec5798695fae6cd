//! Benchmark: epoch time of the course model, Embedding(10000, 16) → Flatten →
//! Dense(1) on maxlen 200, batch 512, 20,000 synthetic examples.
//! Run with `cargo bench --bench course_model`.

// The kerros binary is expected to use mimalloc; measure with the same allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use kerros::model::{Model, ModelInput};
use kerros::spec::{Activation, DenseSpec, EmbeddingSpec, LayerSpec, TaskKind, TrainSpec};
use kerros::train::{fit, Dataset, InputData, TaskInfo};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn main() {
    kerros::model::configure_candle_threads();
    let (n, maxlen) = (20_000, 200);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let ids: Vec<u32> = (0..n * maxlen)
        .map(|_| rng.random_range(0..10_000u32))
        .collect();
    let targets: Vec<f32> = (0..n).map(|i| (i % 2) as f32).collect();
    let train = Dataset {
        inputs: InputData::Sequences { ids, width: maxlen },
        targets,
    };
    let layers = vec![
        LayerSpec::Embedding(EmbeddingSpec::new(10_000, 16)),
        LayerSpec::Flatten,
        LayerSpec::Dense(DenseSpec {
            units: 1,
            activation: Activation::Linear,
            use_bias: true,
            kernel: None,
            bias: None,
            trainable: true,
            kernel_regularizer: None,
        }),
    ];
    let mut model = Model::new(&layers, &ModelInput::Sequence { maxlen }, 1).expect("model");
    let cfg = TrainSpec {
        epochs: 2,
        batch_size: 512,
        ..TrainSpec::default()
    };
    let task = TaskInfo {
        kind: TaskKind::Binary,
        n_classes: 2,
    };
    let h = fit(&mut model, &train, None, &cfg, &task, 1, &mut ()).expect("fit");
    for e in &h.epochs {
        println!("epoch {}: {:.3} s, loss {:.4}", e.epoch, e.seconds, e.loss);
    }
}
