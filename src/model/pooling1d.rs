//! `max_pooling1d` / `average_pooling1d`: local pooling over windows of the
//! time axis (Keras `MaxPooling1D` / `AveragePooling1D`, padding `valid`).

use super::conv1d::{needs_sequence, output_length};
use super::conv1d_pool::MaxWindows;
use super::layer::{Layer, Pass};
use super::layer_shape::{LayerShape, ShapeContext};
use super::pool_op::pool;
use super::shape::{Inferred, Site};
use super::{PoolKind, Shape};
use crate::spec::{Invalid, Padding, Pooling1dSpec};
use candle_core::{Result, Tensor};

/// Check a local pooling layer: a 3-D input, output `(⌊(L − p)/s⌋ + 1, channels)`, no params.
impl LayerShape for Pooling1dSpec {
    fn infer(
        &self,
        input: &Shape,
        cx: &ShapeContext<'_>,
    ) -> std::result::Result<Inferred, Invalid> {
        infer(cx.layer.type_name(), self, input, cx.site)
    }
}

pub(crate) fn infer(
    kind: &str,
    spec: &Pooling1dSpec,
    input: &Shape,
    site: Site,
) -> std::result::Result<Inferred, Invalid> {
    if input.rank() != 3 {
        return Err(needs_sequence(kind, input, site));
    }
    if spec.pool_size == 0 {
        return Err(Invalid::new(
            site.field(kind, "pool_size"),
            "pool_size must be at least 1",
        ));
    }
    if spec.strides == Some(0) {
        return Err(Invalid::new(
            site.field(kind, "strides"),
            "strides must be at least 1",
        ));
    }
    let (steps, channels) = (input.0[0], input.0[1]);
    let (out, _) = output_length(steps, spec.pool_size, spec.stride(), Padding::Valid);
    if out == 0 {
        return Err(Invalid::new(
            site.field(kind, "pool_size"),
            format!(
                "{} ({kind}): pool_size {} is longer than the {steps} steps of its input {input}; use a smaller pool_size",
                site.path(),
                spec.pool_size
            ),
        ));
    }
    Ok(Inferred {
        shape: Shape(vec![out, channels]),
        params: 0,
        trainable: true,
    })
}

/// Max or mean over windows of `pool_size` steps, `strides` apart.
#[derive(Debug)]
pub struct Pooling1d {
    name: String,
    pool: PoolKind,
    size: usize,
    stride: usize,
    shape: Shape,
}

impl Pooling1d {
    /// A local pooling layer producing `shape`.
    pub(crate) fn new(
        pool: PoolKind,
        spec: &Pooling1dSpec,
        name: String,
        shape: Shape,
    ) -> Pooling1d {
        Pooling1d {
            name,
            pool,
            size: spec.pool_size,
            stride: spec.stride(),
            shape,
        }
    }
}

impl Pooling1d {
    /// As a max pooling of a convolution's `steps` outputs: its windows
    /// (`None` for average pooling), for running both as one op.
    pub(crate) fn max_windows(&self, steps: usize) -> Option<MaxWindows> {
        let (out, _) = output_length(steps, self.size, self.stride, Padding::Valid);
        (self.pool == PoolKind::Max).then_some(MaxWindows {
            size: self.size,
            stride: self.stride,
            out,
            squeeze: false,
        })
    }
}

impl Layer for Pooling1d {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &'static str {
        match self.pool {
            PoolKind::Average => "average_pooling1d",
            PoolKind::Max => "max_pooling1d",
        }
    }
    fn output_shape(&self) -> &Shape {
        &self.shape
    }
    fn params(&self) -> usize {
        0
    }
    fn forward(&self, x: &Tensor, pass: &mut Pass<'_>) -> Result<Tensor> {
        let steps = x.dim(1)?;
        let (out, _) = output_length(steps, self.size, self.stride, Padding::Valid);
        // The steps change, so a padding mask no longer applies (Keras drops it here too).
        pass.set_mask(None);
        pool(x, self.pool, self.size, self.stride, out, None)
    }
}
