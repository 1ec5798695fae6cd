//! Keras weight initialisers, drawn from a seeded ChaCha8 stream
//! (candle's own CPU RNG cannot be seeded).

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Keras `RandomUniform(minval, maxval)`: `n` values in `[low, high)`.
pub fn uniform(rng: &mut ChaCha8Rng, n: usize, low: f32, high: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(low..high)).collect()
}

/// Keras `GlorotUniform` for a `fan_in × fan_out` kernel:
/// uniform in `±sqrt(6 / (fan_in + fan_out))`, row-major `fan_in × fan_out`.
pub fn glorot_uniform(rng: &mut ChaCha8Rng, fan_in: usize, fan_out: usize) -> Vec<f32> {
    let limit = (6.0 / (fan_in + fan_out) as f64).sqrt() as f32;
    uniform(rng, fan_in * fan_out, -limit, limit)
}
