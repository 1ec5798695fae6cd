//! The weight-free half of a layer: given its input shape, each layer type
//! knows its output shape and parameter count (Keras's formulas) and which
//! settings cannot work. Every layer file implements [`LayerShape`] for its
//! spec next to its [`super::Layer`] implementation.

use super::shape::{Inferred, Site};
use super::{ModelInput, Shape};
use crate::spec::{Invalid, LayerSpec};

/// What a layer's shape rule may read besides its input shape.
#[derive(Clone, Copy)]
pub(crate) struct ShapeContext<'a> {
    /// Where the layer sits, for error messages.
    pub site: Site<'a>,
    /// The layer as written in the spec.
    pub layer: &'a LayerSpec,
    /// The layer before it, if any.
    pub previous: Option<&'a LayerSpec>,
    /// The model's input (token ids or feature rows).
    pub model_input: &'a ModelInput,
}

/// A layer type's shape rule.
pub(crate) trait LayerShape {
    /// The output shape, parameter count and trainability for `input`, or
    /// what is wrong with the layer there (located at its spec path).
    fn infer(&self, input: &Shape, cx: &ShapeContext<'_>) -> Result<Inferred, Invalid>;
}
