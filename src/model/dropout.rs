//! `dropout`: zero a random fraction of values while training (Keras `Dropout`).

use super::layer::{Layer, Pass};
use super::layer_shape::{LayerShape, ShapeContext};
use super::shape::{Inferred, Site};
use super::Shape;
use crate::spec::{DropoutSpec, Invalid};
use candle_core::{Result, Tensor};
use rand::Rng;

/// Dropout keeps the shape; it has no parameters.
impl LayerShape for DropoutSpec {
    fn infer(
        &self,
        input: &Shape,
        cx: &ShapeContext<'_>,
    ) -> std::result::Result<Inferred, Invalid> {
        infer(self, input, cx.site)
    }
}

pub(crate) fn infer(
    spec: &DropoutSpec,
    input: &Shape,
    site: Site,
) -> std::result::Result<Inferred, Invalid> {
    if !(0.0..1.0).contains(&spec.rate) {
        return Err(Invalid::new(
            site.field("dropout", "rate"),
            format!("dropout rate must be in [0, 1), got {}", spec.rate),
        ));
    }
    Ok(Inferred {
        shape: input.clone(),
        params: 0,
        trainable: true,
    })
}

/// Inverted dropout: while training each value is kept with probability
/// `1 - rate` and scaled by `1 / (1 - rate)` (so inference is the identity).
#[derive(Debug)]
pub struct Dropout {
    name: String,
    rate: f64,
    shape: Shape,
}

impl Dropout {
    /// A dropout layer with the given rate.
    pub(crate) fn new(spec: &DropoutSpec, name: String, shape: Shape) -> Dropout {
        Dropout {
            name,
            rate: spec.rate,
            shape,
        }
    }
}

impl Layer for Dropout {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &'static str {
        "dropout"
    }
    fn output_shape(&self) -> &Shape {
        &self.shape
    }
    fn params(&self) -> usize {
        0
    }
    fn forward(&self, x: &Tensor, pass: &mut Pass<'_>) -> Result<Tensor> {
        let Some(rng) = pass.rng() else {
            return Ok(x.clone());
        };
        if self.rate == 0.0 {
            return Ok(x.clone());
        }
        // Keras keeps a value where uniform >= rate.
        let rate = self.rate as f32;
        let scale = 1.0 / (1.0 - rate);
        let mask: Vec<f32> = (0..x.elem_count())
            .map(|_| {
                if rng.random::<f32>() >= rate {
                    scale
                } else {
                    0.0
                }
            })
            .collect();
        let mask = Tensor::from_vec(mask, x.shape(), x.device())?.to_dtype(x.dtype())?;
        x.mul(&mask)
    }
}
