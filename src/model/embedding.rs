//! `embedding`: token id → dense vector lookup (Keras `Embedding`).

use super::layer::{live, Layer, Pass, Weight};
use super::shape::{Inferred, Site};
use super::{init, ModelInput, Shape};
use crate::spec::{EmbeddingSpec, Invalid};
use candle_core::{Device, Result, Tensor, Var};
use rand_chacha::ChaCha8Rng;

/// Check an embedding against its input: it must read token ids, so it is the
/// first layer of a sequence model. Params: `input_dim · output_dim`.
pub(crate) fn infer(
    spec: &EmbeddingSpec,
    input: &Shape,
    site: Site,
    model_input: &ModelInput,
) -> std::result::Result<Inferred, Invalid> {
    if let ModelInput::Features { width } = model_input {
        return Err(Invalid::new(
            site.path(),
            format!(
                "embedding reads token ids, but the model input is {width} feature values per example (a bag of n-grams or hand-given rows); remove the embedding (start with `- dense`) or use `vectorize.mode: int` for token sequences"
            ),
        ));
    }
    if site.index != 0 {
        return Err(Invalid::new(
            site.path(),
            format!(
                "embedding must be the first layer: it reads token ids, but {} gives it {input}; move it to the top of `model.layers`",
                site.after()
            ),
        ));
    }
    if spec.input_dim == 0 {
        return Err(Invalid::new(
            site.field("embedding", "input_dim"),
            "input_dim (vocabulary size: largest token id + 1) must be at least 1",
        ));
    }
    if spec.output_dim == 0 {
        return Err(Invalid::new(
            site.field("embedding", "output_dim"),
            "output_dim (vector size) must be at least 1",
        ));
    }
    let mut dims = input.0.clone();
    dims.push(spec.output_dim);
    Ok(Inferred {
        shape: Shape(dims),
        params: spec.input_dim * spec.output_dim,
        trainable: true,
    })
}

/// Token id → vector lookup; weights `input_dim × output_dim`,
/// initialised uniform in `[-0.05, 0.05)` like Keras.
#[derive(Debug)]
pub struct Embedding {
    name: String,
    input_dim: usize,
    output_dim: usize,
    shape: Shape,
    embeddings: Var,
}

impl Embedding {
    /// A freshly initialised embedding producing `shape`.
    pub(crate) fn new(
        spec: &EmbeddingSpec,
        name: String,
        shape: Shape,
        rng: &mut ChaCha8Rng,
    ) -> Result<Embedding> {
        let values = init::uniform(rng, spec.input_dim * spec.output_dim, -0.05, 0.05);
        let embeddings = Var::from_vec(values, (spec.input_dim, spec.output_dim), &Device::Cpu)?;
        Ok(Embedding {
            name,
            input_dim: spec.input_dim,
            output_dim: spec.output_dim,
            shape,
            embeddings,
        })
    }

    /// Vocabulary size: valid token ids are `0..input_dim`.
    pub fn input_dim(&self) -> usize {
        self.input_dim
    }
}

impl Layer for Embedding {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &'static str {
        "embedding"
    }
    fn output_shape(&self) -> &Shape {
        &self.shape
    }
    fn params(&self) -> usize {
        self.input_dim * self.output_dim
    }
    fn forward(&self, x: &Tensor, _pass: &mut Pass<'_>) -> Result<Tensor> {
        // One gather over all ids of the batch, then restore (batch, steps, dim).
        let mut dims = x.dims().to_vec();
        dims.push(self.output_dim);
        let ids = x.flatten_all()?;
        live(&self.embeddings, true)
            .index_select(&ids, 0)?
            .reshape(dims)
    }
    fn weights(&self) -> Vec<Weight<'_>> {
        vec![Weight {
            name: "embeddings",
            var: &self.embeddings,
            trainable: true,
        }]
    }
}
