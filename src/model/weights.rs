//! Saving and loading a model's weights as safetensors.

use super::{Model, ModelError, ModelInput};
use crate::spec::LayerSpec;
use candle_core::{Device, Tensor};
use std::collections::HashMap;
use std::path::Path;

impl Model {
    /// Write every weight to a safetensors file, named `<layer>/<weight>`
    /// (`embedding/embeddings`, `dense/kernel`, `dense/bias`; kernels in Keras's
    /// `inputs × units` orientation).
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let tensors: HashMap<String, Tensor> = self
            .named_weights()
            .into_iter()
            .map(|(name, w)| (name, w.var.as_detached_tensor()))
            .collect();
        candle_core::safetensors::save(&tensors, path).map_err(|e| ModelError::Weights {
            path: path.to_path_buf(),
            message: format!("cannot write: {e}"),
        })
    }

    /// Build the model described by `layers` and `input` and fill it with the
    /// weights saved by [`Model::save`]. Every weight must be present with the
    /// same shape; a file with other or extra weights is rejected.
    pub fn load(
        layers: &[LayerSpec],
        input: &ModelInput,
        path: &Path,
    ) -> Result<Model, ModelError> {
        let ctx = super::BuildContext {
            weights_follow: true,
            ..Default::default()
        };
        let model = Model::with_context(layers, input, 0, &ctx)?;
        let bad = |message: String| ModelError::Weights {
            path: path.to_path_buf(),
            message,
        };
        let mut stored = candle_core::safetensors::load(path, &Device::Cpu)
            .map_err(|e| bad(format!("cannot read: {e}")))?;
        for (name, w) in model.named_weights() {
            let t = stored.remove(&name).ok_or_else(|| {
                bad(format!(
                    "has no weight `{name}`; it was saved from a different model (re-run training)"
                ))
            })?;
            if t.dims() != w.var.dims() {
                return Err(bad(format!(
                    "weight `{name}` has shape {:?} but the model needs {:?}; it was saved from a different model",
                    t.dims(),
                    w.var.dims()
                )));
            }
            let t = t.to_dtype(w.var.dtype())?;
            w.var.set(&t)?;
        }
        if let Some(extra) = stored.keys().min() {
            return Err(bad(format!(
                "has a weight `{extra}` that this model does not have; it was saved from a different model"
            )));
        }
        Ok(model)
    }
}
