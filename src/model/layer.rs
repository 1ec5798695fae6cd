//! The layer abstraction every layer type implements.

use super::{EmbeddedTokens, Shape};
use candle_core::{Result, Tensor, Var};
use rand_chacha::ChaCha8Rng;

/// How a forward pass runs: inference, or training with the RNG that draws
/// dropout masks (passed in so the caller controls the random stream).
pub struct Pass<'a> {
    rng: Option<&'a mut ChaCha8Rng>,
    /// Which input steps are real tokens (`batch × steps`, row-major), set by an
    /// `embedding` with `mask_zero` and read by recurrent layers.
    mask: Option<std::sync::Arc<Vec<bool>>>,
    /// Ask recurrent layers to record the input-gradient norms per timestep band.
    record_grad_bands: bool,
    /// Fused ops add the gradients of weights that have a [`GradSink`](super::GradSink)
    /// there instead of returning them to candle (the optimizer reads the sinks).
    use_grad_sinks: bool,
}

impl<'a> Pass<'a> {
    /// Inference: dropout is the identity.
    pub fn inference() -> Pass<'static> {
        Pass {
            rng: None,
            mask: None,
            record_grad_bands: false,
            use_grad_sinks: false,
        }
    }

    /// Training: dropout draws its masks from `rng`.
    pub fn training(rng: &'a mut ChaCha8Rng) -> Pass<'a> {
        Pass {
            rng: Some(rng),
            mask: None,
            record_grad_bands: false,
            use_grad_sinks: false,
        }
    }

    /// Whether this pass is a training pass.
    pub fn is_training(&self) -> bool {
        self.rng.is_some()
    }

    /// The training RNG, or `None` at inference.
    pub fn rng(&mut self) -> Option<&mut ChaCha8Rng> {
        self.rng.as_deref_mut()
    }

    /// Set (or clear) the padding mask of the current batch: `true` = real step.
    pub fn set_mask(&mut self, mask: Option<std::sync::Arc<Vec<bool>>>) {
        self.mask = mask;
    }

    /// Make recurrent layers record, in the backward pass of this forward pass,
    /// the gradient norms reaching each timestep band of their input (read
    /// them with [`Layer::timestep_grad_bands`]; costs one extra matmul).
    pub fn set_record_grad_bands(&mut self, on: bool) {
        self.record_grad_bands = on;
    }

    /// Whether recurrent layers record timestep-band gradient norms.
    pub fn records_grad_bands(&self) -> bool {
        self.record_grad_bands
    }

    /// Let fused ops add weight gradients into the weights' [`GradSink`](super::GradSink)s
    /// instead of returning them to candle: only for a training step whose
    /// optimizer reads the sinks (`train::fit`), else those gradients are lost.
    pub fn set_use_grad_sinks(&mut self, on: bool) {
        self.use_grad_sinks = on;
    }

    /// Whether fused ops send weight gradients to the weights' sinks.
    pub fn uses_grad_sinks(&self) -> bool {
        self.use_grad_sinks
    }

    /// The padding mask of the current batch, if an embedding set one.
    pub fn mask(&self) -> Option<&std::sync::Arc<Vec<bool>>> {
        self.mask.as_ref()
    }
}

/// One weight tensor of a layer, named as Keras names it (`kernel`, `bias`, `embeddings`).
#[derive(Debug, Clone, Copy)]
pub struct Weight<'a> {
    /// Keras weight name within the layer.
    pub name: &'static str,
    /// The variable holding it.
    pub var: &'a Var,
    /// Whether the optimizer updates it.
    pub trainable: bool,
}

/// Any layer as [`std::any::Any`], so a caller that needs one concrete layer
/// type (`dyn Layer::as_dense`) can ask for it without this module knowing
/// every layer type. Implemented for every type.
pub trait AsAny {
    /// `self` as `Any`.
    fn as_any(&self) -> &dyn std::any::Any;
}

impl<T: std::any::Any> AsAny for T {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// A layer of a Sequential model. New layer types (bag-of-n-gram input,
/// recurrent layers) implement this and are added to `Model::new`; their
/// shape rule without weights is [`super::layer_shape::LayerShape`].
pub trait Layer: AsAny + Send + Sync + std::fmt::Debug {
    /// Keras-style unique name (`dense_1`).
    fn name(&self) -> &str;
    /// Layer type as written in the spec (`dense`).
    fn kind(&self) -> &'static str;
    /// Output shape without the batch axis.
    fn output_shape(&self) -> &Shape;
    /// Number of parameters, counted as Keras does.
    fn params(&self) -> usize;
    /// Whether the optimizer updates this layer's weights.
    fn trainable(&self) -> bool {
        true
    }
    /// Apply the layer to a batch.
    fn forward(&self, x: &Tensor, pass: &mut Pass<'_>) -> Result<Tensor>;
    /// The layer's weights, in a fixed order.
    fn weights(&self) -> Vec<Weight<'_>> {
        Vec::new()
    }
    /// Apply the layer straight to an embedding's tokens when that is faster
    /// than reading the looked-up vectors (same result up to rounding);
    /// `None` when the layer has no such path for this input or pass.
    fn forward_tokens(
        &self,
        tokens: &EmbeddedTokens,
        pass: &mut Pass<'_>,
    ) -> Option<Result<Tensor>> {
        let _ = (tokens, pass);
        None
    }
    /// Apply this layer and `next`, the layer after it, as one op when that is
    /// faster than one after the other (same result up to rounding; a
    /// convolution and the max pooling after it); `None` when the pair has no
    /// such path.
    fn forward_pair(
        &self,
        x: &Tensor,
        next: &dyn Layer,
        pass: &mut Pass<'_>,
    ) -> Option<Result<Tensor>> {
        let _ = (x, next, pass);
        None
    }
    /// [`Layer::forward_pair`] for the layer right after an embedding, reading its tokens.
    fn forward_tokens_pair(
        &self,
        tokens: &EmbeddedTokens,
        next: &dyn Layer,
        pass: &mut Pass<'_>,
    ) -> Option<Result<Tensor>> {
        let _ = (tokens, next, pass);
        None
    }
    /// For recurrent layers: the gradient norm that reached the input in the
    /// last backward pass of a forward pass run with
    /// [`Pass::set_record_grad_bands`], summed over the steps of the first, middle and last
    /// quarter of the time axis (`[first, middle, last]`).
    fn timestep_grad_bands(&self) -> Option<Vec<f64>> {
        None
    }
}

/// A weight as the forward pass should see it: tracked for gradients only
/// when trainable, so frozen weights cost no backward work.
pub(crate) fn live(var: &Var, trainable: bool) -> Tensor {
    if trainable {
        var.as_tensor().clone()
    } else {
        var.as_detached_tensor()
    }
}
