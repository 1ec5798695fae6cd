//! Recurrent layers: `simple_rnn`, `lstm`, `gru` and `bidirectional`, with
//! Keras's names, defaults, initialisers and parameter counts.
//!
//! Speed: a layer is not a per-step chain of small autograd ops. The input
//! projection of all steps is one candle matmul (right after an embedding:
//! one row per distinct token of the batch, see [`crate::model::EmbeddedTokens`]);
//! the time loop and its backpropagation through time are one custom op
//! ([`fused`]) that runs in plain Rust on preallocated buffers, split over the
//! batch with rayon.

mod bidirectional;
mod fused;
mod gru;
pub(crate) mod kernels;
mod lstm;
mod orthogonal;
mod rnn;
mod simple_rnn;
mod time_loop;

pub use bidirectional::Bidirectional;
pub use rnn::Recurrent;

pub(crate) use rnn::infer;

use super::shape::Site;
use super::{Layer, ModelError, Shape};
use crate::spec::LayerSpec;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Build one recurrent layer (`simple_rnn`, `lstm`, `gru` or `bidirectional`)
/// on its own, reading `(batch, steps, features)`, with weights drawn from
/// `seed`. The spec is checked as `infer_shapes` checks it; meant for tests
/// and benchmarks of a single layer.
pub fn build_layer(
    spec: &LayerSpec,
    steps: usize,
    features: usize,
    seed: u64,
) -> Result<Box<dyn Layer>, ModelError> {
    let input = Shape(vec![steps, features]);
    let site = Site {
        index: 1,
        previous: None,
    };
    let inferred = infer(spec, &input, site, None)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let name = spec.type_name().to_string();
    Ok(match spec {
        LayerSpec::Bidirectional(b) => Box::new(Bidirectional::new(
            b,
            name,
            features,
            inferred.shape,
            &mut rng,
        )?),
        other => Box::new(Recurrent::from_spec(
            other,
            name,
            features,
            inferred.shape,
            &mut rng,
        )?),
    })
}
