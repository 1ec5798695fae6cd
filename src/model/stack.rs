//! Shape inference over a whole layer stack, without data: each layer's
//! own [`LayerShape`] rule applied in order.

use super::flatten::FlattenShape;
use super::layer_shape::{LayerShape, ShapeContext};
use super::pooling::GlobalPoolingShape;
use super::shape::{layer_names, LayerInfo, Site};
use super::ModelInput;
use crate::spec::{Invalid, LayerSpec};

/// The shape rule of a layer as written in the spec.
fn rule(layer: &LayerSpec) -> &dyn LayerShape {
    match layer {
        LayerSpec::Embedding(e) => e,
        LayerSpec::Flatten => &FlattenShape,
        LayerSpec::Dense(d) => d,
        LayerSpec::Dropout(d) => d,
        LayerSpec::GlobalAveragePooling1d | LayerSpec::GlobalMaxPooling1d => &GlobalPoolingShape,
        LayerSpec::Conv1d(c) => c,
        LayerSpec::MaxPooling1d(p) | LayerSpec::AveragePooling1d(p) => p,
        LayerSpec::SimpleRnn(r) => r,
        LayerSpec::Lstm(r) => r,
        LayerSpec::Gru(r) => r,
        LayerSpec::Bidirectional(b) => b,
    }
}

/// Check a layer stack against its input without data and return each layer's
/// name, Keras output shape and parameter count.
///
/// Errors name the layer (`model.layers[1]`) and the fix, e.g. a `dense` fed a
/// 3-D input asks for a `flatten` or `global_average_pooling1d` before it.
/// (Keras itself would apply such a dense layer to the last axis; kerros rejects
/// it because it is almost always a forgotten flatten.)
pub fn infer_shapes(layers: &[LayerSpec], input: &ModelInput) -> Result<Vec<LayerInfo>, Invalid> {
    if layers.is_empty() {
        return Err(Invalid::new(
            "model.layers",
            "the model has no layers; add e.g. `- dense: {units: 1}`",
        ));
    }
    match *input {
        ModelInput::Sequence { maxlen: 0 } => {
            return Err(Invalid::new("sequence.maxlen", "maxlen must be at least 1"))
        }
        ModelInput::Features { width: 0 } => {
            return Err(Invalid::new(
                "model.input_dim",
                "the input has no features; input_dim must be at least 1",
            ))
        }
        _ => {}
    }
    let names = layer_names(layers);
    let mut shape = input.shape();
    let mut out = Vec::with_capacity(layers.len());
    for (index, layer) in layers.iter().enumerate() {
        let previous = index.checked_sub(1).map(|p| &layers[p]);
        let site = Site {
            index,
            previous: previous.map(LayerSpec::type_name),
        };
        if index == 0 {
            if let (ModelInput::Sequence { .. }, false) =
                (input, matches!(layer, LayerSpec::Embedding(_)))
            {
                return Err(Invalid::new(
                    site.path(),
                    format!(
                        "the input is token ids {shape}, so the first layer must be an `embedding` (it turns ids into vectors), not `{}`; add e.g. `- embedding: {{input_dim: 10000, output_dim: 16}}` first",
                        layer.type_name()
                    ),
                ));
            }
        }
        let cx = ShapeContext {
            site,
            layer,
            previous,
            model_input: input,
        };
        let inferred = rule(layer).infer(&shape, &cx)?;
        shape = inferred.shape;
        out.push(LayerInfo {
            name: names[index].clone(),
            kind: layer.type_name().to_string(),
            output_shape: shape.to_string(),
            dims: shape.0.clone(),
            params: inferred.params,
            trainable: inferred.trainable,
        });
    }
    Ok(out)
}
