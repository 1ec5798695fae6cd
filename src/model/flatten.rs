//! `flatten`: collapse all axes but the batch axis (Keras `Flatten`).

use super::layer::{Layer, Pass};
use super::layer_shape::{LayerShape, ShapeContext};
use super::shape::Inferred;
use super::Shape;
use candle_core::{Result, Tensor};

/// The shape rule of `flatten` (it has no settings).
pub(crate) struct FlattenShape;

impl LayerShape for FlattenShape {
    fn infer(
        &self,
        input: &Shape,
        _cx: &ShapeContext<'_>,
    ) -> std::result::Result<Inferred, crate::spec::Invalid> {
        Ok(infer(input))
    }
}

/// Flatten's output: one axis of all values; a 2-D input passes unchanged.
pub(crate) fn infer(input: &Shape) -> Inferred {
    Inferred {
        shape: Shape(vec![input.size()]),
        params: 0,
        trainable: true,
    }
}

/// Reshape `(batch, a, b, ...)` to `(batch, a·b·...)`.
#[derive(Debug)]
pub struct Flatten {
    name: String,
    shape: Shape,
}

impl Flatten {
    /// A flatten layer producing `shape`.
    pub(crate) fn new(name: String, shape: Shape) -> Flatten {
        Flatten { name, shape }
    }
}

impl Layer for Flatten {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &'static str {
        "flatten"
    }
    fn output_shape(&self) -> &Shape {
        &self.shape
    }
    fn params(&self) -> usize {
        0
    }
    fn forward(&self, x: &Tensor, _pass: &mut Pass<'_>) -> Result<Tensor> {
        // Already flat (2-D input, or an embedding that emitted flat rows):
        // no reshape node, so no extra gradient buffers.
        if x.rank() == 2 {
            return Ok(x.clone());
        }
        x.flatten_from(1)
    }
}
