//! `Model`: a Keras-style Sequential stack of layers.

use super::layer::{Layer, Pass, Weight};
use super::{
    infer_shapes, BuildContext, Conv1d, Coverage, Dense, Dropout, Embedding, Flatten,
    GlobalPooling1d, GradSink, LayerInfo, ModelError, ModelInput, PoolKind, Pooling1d, Summary,
};
use crate::spec::LayerSpec;
use candle_core::{Result, Tensor, Var};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::sync::Mutex;

/// ChaCha stream of the RNG behind `Model::forward(x, true)`; stream 0 initialises weights.
const DROPOUT_STREAM: u64 = 1;

/// A Sequential model: layers applied in order to token ids or feature rows.
#[derive(Debug)]
pub struct Model {
    specs: Vec<LayerSpec>,
    input: ModelInput,
    infos: Vec<LayerInfo>,
    layers: Vec<Box<dyn Layer>>,
    vocab: Option<usize>,
    /// How many vocabulary words a pretrained embedding found in its file.
    coverage: Option<Coverage>,
    /// Dropout masks for `forward(x, true)` calls; training loops pass their own RNG.
    dropout_rng: Mutex<ChaCha8Rng>,
}

impl Model {
    /// Build and initialise a model. Weights come from a ChaCha8 stream seeded
    /// with `seed` (Keras initialisers: embedding uniform ±0.05, dense Glorot
    /// uniform kernel and zero bias, unless the spec fixes them), so the same
    /// seed gives bit-identical weights. Shape problems are `ModelError::Spec`.
    pub fn new(
        layers: &[LayerSpec],
        input: &ModelInput,
        seed: u64,
    ) -> std::result::Result<Model, ModelError> {
        Model::with_context(layers, input, seed, &BuildContext::default())
    }

    /// [`Model::new`] with what some layers need beyond their specs: the
    /// tokenizer vocabulary and the spec's folder for `embedding: {init: pretrained}`.
    pub fn with_context(
        layers: &[LayerSpec],
        input: &ModelInput,
        seed: u64,
        ctx: &BuildContext<'_>,
    ) -> std::result::Result<Model, ModelError> {
        let mut coverage = None;
        let infos = infer_shapes(layers, input)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut built: Vec<Box<dyn Layer>> = Vec::with_capacity(layers.len());
        let mut in_shape = input.shape();
        for (i, (spec, info)) in layers.iter().zip(&infos).enumerate() {
            let flatten_next = matches!(layers.get(i + 1), Some(LayerSpec::Flatten));
            let shape = super::Shape(info.dims.clone());
            let name = info.name.clone();
            let layer: Box<dyn Layer> = match spec {
                LayerSpec::Embedding(e) => {
                    let at = format!("model.layers[{i}].embedding.path");
                    let (layer, found) =
                        Embedding::new(e, name, shape.clone(), flatten_next, &mut rng, ctx, &at)?;
                    coverage = coverage.or(found);
                    Box::new(layer)
                }
                LayerSpec::Flatten => Box::new(Flatten::new(name, shape.clone())),
                LayerSpec::Dense(d) => Box::new(Dense::new(d, name, in_shape.size(), &mut rng)?),
                LayerSpec::Dropout(d) => Box::new(Dropout::new(d, name, shape.clone())),
                LayerSpec::GlobalAveragePooling1d => {
                    Box::new(GlobalPooling1d::new(PoolKind::Average, name, shape.clone()))
                }
                LayerSpec::GlobalMaxPooling1d => {
                    Box::new(GlobalPooling1d::new(PoolKind::Max, name, shape.clone()))
                }
                LayerSpec::SimpleRnn(_) | LayerSpec::Lstm(_) | LayerSpec::Gru(_) => {
                    Box::new(super::Recurrent::from_spec(
                        spec,
                        name,
                        in_shape.last(),
                        shape.clone(),
                        &mut rng,
                    )?)
                }
                LayerSpec::Bidirectional(b) => Box::new(super::Bidirectional::new(
                    b,
                    name,
                    in_shape.last(),
                    shape.clone(),
                    &mut rng,
                )?),
                LayerSpec::Conv1d(c) => Box::new(Conv1d::new(
                    c,
                    name,
                    in_shape.last(),
                    shape.clone(),
                    &mut rng,
                )?),
                LayerSpec::MaxPooling1d(p) => {
                    Box::new(Pooling1d::new(PoolKind::Max, p, name, shape.clone()))
                }
                LayerSpec::AveragePooling1d(p) => {
                    Box::new(Pooling1d::new(PoolKind::Average, p, name, shape.clone()))
                }
            };
            built.push(layer);
            in_shape = shape;
        }
        let vocab = match layers.first() {
            Some(LayerSpec::Embedding(e)) => Some(e.input_dim),
            _ => None,
        };
        let mut dropout_rng = ChaCha8Rng::seed_from_u64(seed);
        dropout_rng.set_stream(DROPOUT_STREAM);
        Ok(Model {
            specs: layers.to_vec(),
            input: *input,
            infos,
            layers: built,
            vocab,
            coverage,
            dropout_rng: Mutex::new(dropout_rng),
        })
    }

    /// The layer specs the model was built from.
    pub fn specs(&self) -> &[LayerSpec] {
        &self.specs
    }

    /// What the model reads.
    pub fn input(&self) -> &ModelInput {
        &self.input
    }

    /// The layers, first to last.
    pub fn layers(&self) -> &[Box<dyn Layer>] {
        &self.layers
    }

    /// Each layer's name, output shape and parameter count.
    pub fn layer_infos(&self) -> &[LayerInfo] {
        &self.infos
    }

    /// Number of values the last layer gives per example.
    pub fn output_width(&self) -> usize {
        self.infos.last().map_or(0, |i| i.dims.iter().product())
    }

    /// For a sequence model: the embedding's `input_dim` (valid ids are `0..vocab`).
    pub fn vocab_size(&self) -> Option<usize> {
        self.vocab
    }

    /// For `embedding: {init: pretrained}`: how many vocabulary words the
    /// word-vector file covered (`None` for other models, or after `Model::load`).
    pub fn embedding_coverage(&self) -> Option<Coverage> {
        self.coverage.clone()
    }

    /// Keras-style summary: per-layer rows and parameter totals.
    pub fn summary(&self) -> Summary {
        Summary::from_infos(&self.infos)
    }

    /// Run a batch through the model: `x` is `u32` ids (batch × maxlen) for a
    /// sequence model, `f32` rows (batch × width) otherwise. With `train`,
    /// dropout is active and draws its masks from the model's own seeded
    /// stream; training loops should use [`Model::forward_pass`] with their RNG.
    pub fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        if train {
            let mut rng = self
                .dropout_rng
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            self.forward_pass(x, &mut Pass::training(&mut rng))
        } else {
            self.forward_pass(x, &mut Pass::inference())
        }
    }

    /// Run a batch through the model in the given mode.
    ///
    /// An embedding hands the layer after it (after `flatten`, if one follows)
    /// its tokens rather than the looked-up vectors when that layer can use
    /// them ([`Layer::forward_tokens`]): the result is the same up to rounding.
    /// Pairs of layers that run faster as one op do ([`Layer::forward_pair`]).
    pub fn forward_pass(&self, x: &Tensor, pass: &mut Pass<'_>) -> Result<Tensor> {
        let (mut h, mut next) = (x.clone(), 0);
        if let Some(embedding) = self.layers.first().and_then(|l| l.as_embedding()) {
            let tokens = embedding.tokens(x, pass)?;
            let reader = if tokens.flat() { 2 } else { 1 };
            let pair = self
                .layers
                .get(reader)
                .zip(self.layers.get(reader + 1))
                .and_then(|(l, n)| l.forward_tokens_pair(&tokens, n.as_ref(), pass));
            match pair {
                Some(y) => (h, next) = (y?, reader + 2),
                None => match self
                    .layers
                    .get(reader)
                    .and_then(|l| l.forward_tokens(&tokens, pass))
                {
                    Some(y) => (h, next) = (y?, reader + 1),
                    None => (h, next) = (tokens.materialize()?, 1),
                },
            }
        }
        // A layer may run together with the one after it ([`Layer::forward_pair`]).
        while let Some(layer) = self.layers.get(next) {
            let pair = self
                .layers
                .get(next + 1)
                .and_then(|n| layer.forward_pair(&h, n.as_ref(), pass));
            match pair {
                Some(y) => (h, next) = (y?, next + 2),
                None => (h, next) = (layer.forward(&h, pass)?, next + 1),
            }
        }
        Ok(h)
    }

    /// Every weight with its file name (`dense_1/kernel`), in layer order.
    pub fn named_weights(&self) -> Vec<(String, Weight<'_>)> {
        self.layers
            .iter()
            .flat_map(|l| {
                l.weights()
                    .into_iter()
                    .map(move |w| (format!("{}/{}", l.name(), w.name), w))
            })
            .collect()
    }

    /// The variables the optimizer updates (trainable layers only), in layer order.
    pub fn trainable_vars(&self) -> Vec<Var> {
        self.named_weights()
            .into_iter()
            .filter(|(_, w)| w.trainable)
            .map(|(_, w)| w.var.clone())
            .collect()
    }

    /// The trainable weights whose gradient fused ops put into a
    /// [`GradSink`] in a pass with [`Pass::set_use_grad_sinks`], with their
    /// sinks: the optimizer of such a pass must read them.
    pub fn grad_sinks(&self) -> Vec<(Var, std::sync::Arc<GradSink>)> {
        self.layers
            .iter()
            .filter(|l| l.trainable())
            .filter_map(|l| l.as_embedding())
            .map(|e| {
                let (var, sink) = e.grad_sink();
                (var.clone(), std::sync::Arc::clone(sink))
            })
            .collect()
    }
}
