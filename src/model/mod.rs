//! The Sequential model: layers, shapes, parameter counts and summary.
//!
//! A model is built from the spec's `&[LayerSpec]` and a [`ModelInput`]
//! (token-id sequences or dense feature rows). [`infer_shapes`] checks a stack
//! without data (for `kerros validate`); [`Model`] holds the candle weights,
//! runs the forward pass, prints a Keras-style [`Summary`] and saves / loads
//! its weights as safetensors. Every random number (initialisers, dropout
//! masks) comes from a seeded `ChaCha8Rng`, so a seed fixes the model exactly.

mod activation;
mod bias_activation;
mod conv1d;
mod conv1d_geometry;
mod conv1d_pool;
mod conv1d_pool_kernels;
#[cfg(test)]
mod conv1d_pool_tests;
mod conv1d_pool_tokens;
mod conv1d_tokens;
mod dense;
mod dropout;
mod embedding;
mod embedding_dense;
mod error;
mod flatten;
mod grad_sink;
mod init;
mod input;
mod layer;
mod layer_shape;
mod lookup;
mod pool_op;
mod pooling;
mod pooling1d;
mod pretrained;
pub mod recurrent;
mod sequential;
mod shape;
mod sparse;
mod stack;
mod storage;
mod summary;
mod threads;
mod tokens;
mod trace;
mod weights;

pub use activation::apply_activation;
pub use conv1d::{output_length, Conv1d};
pub use dense::Dense;
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use error::ModelError;
pub use flatten::Flatten;
pub use grad_sink::GradSink;
pub use input::ModelInput;
pub use layer::{Layer, Pass, Weight};
pub use pooling::{GlobalPooling1d, PoolKind};
pub use pooling1d::Pooling1d;
pub use pretrained::{load_vectors, resolve as resolve_vectors_path, BuildContext, Coverage};
pub use recurrent::{Bidirectional, Recurrent};
pub use sequential::Model;
pub use shape::{layer_names, LayerInfo, Shape};
pub use sparse::{ModelBatch, SparseBatch, SparseGrad};
pub use stack::infer_shapes;
pub(crate) use storage::{f32_values_mut, with_f32};
pub use summary::Summary;
pub use threads::{configure_candle_threads, CANDLE_THREADS_VAR};
pub use tokens::{Distinct, EmbeddedTokens};
pub use trace::LayerTrace;

#[cfg(test)]
mod tests;
