//! `global_average_pooling1d` / `global_max_pooling1d`: reduce the time axis.

use super::conv1d_pool::MaxWindows;
use super::layer::{Layer, Pass};
use super::layer_shape::{LayerShape, ShapeContext};
use super::pool_op::pool;
use super::shape::{Inferred, Site};
use super::Shape;
use crate::spec::Invalid;
use candle_core::{Result, Tensor};

/// The shape rule of both global poolings (they have no settings).
pub(crate) struct GlobalPoolingShape;

impl LayerShape for GlobalPoolingShape {
    fn infer(
        &self,
        input: &Shape,
        cx: &ShapeContext<'_>,
    ) -> std::result::Result<Inferred, Invalid> {
        infer(cx.layer.type_name(), input, cx.site)
    }
}

/// Pooling needs `(batch, steps, features)` and gives `(batch, features)`.
pub(crate) fn infer(
    kind: &str,
    input: &Shape,
    site: Site,
) -> std::result::Result<Inferred, Invalid> {
    if input.rank() != 3 {
        return Err(Invalid::new(
            site.path(),
            format!(
                "{kind} {} gets a {}-D input {input}, but it needs a 3-D input (batch, steps, features), such as an embedding's output; put it directly after the `embedding` (instead of `flatten`) or remove it",
                site.after(),
                input.rank()
            ),
        ));
    }
    Ok(Inferred {
        shape: Shape(vec![input.last()]),
        params: 0,
        trainable: true,
    })
}

/// How the time axis is reduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKind {
    /// Mean over steps; with a padding mask (`embedding.mask_zero`), over
    /// the real steps only (Keras `GlobalAveragePooling1D`).
    Average,
    /// Maximum over steps (padding included, as in Keras).
    Max,
}

/// Global pooling over axis 1.
#[derive(Debug)]
pub struct GlobalPooling1d {
    name: String,
    pool: PoolKind,
    shape: Shape,
}

impl GlobalPooling1d {
    /// A pooling layer producing `shape`.
    pub(crate) fn new(pool: PoolKind, name: String, shape: Shape) -> GlobalPooling1d {
        GlobalPooling1d { name, pool, shape }
    }
}

impl GlobalPooling1d {
    /// As a max pooling of a convolution's `steps` outputs: one window over
    /// all of them (`None` for average pooling), for running both as one op.
    pub(crate) fn max_windows(&self, steps: usize) -> Option<MaxWindows> {
        (self.pool == PoolKind::Max).then_some(MaxWindows {
            size: steps,
            stride: steps.max(1),
            out: 1,
            squeeze: true,
        })
    }
}

impl Layer for GlobalPooling1d {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &'static str {
        match self.pool {
            PoolKind::Average => "global_average_pooling1d",
            PoolKind::Max => "global_max_pooling1d",
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
        // Keras: the average honours the padding mask, the maximum does not.
        let mask = pass.mask().cloned();
        let y = pool(x, self.pool, steps, steps.max(1), 1, mask)?;
        y.squeeze(1)
    }
}
