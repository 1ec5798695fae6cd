//! `embedding`: token id → dense vector lookup (Keras `Embedding`).

use super::layer::{live, Layer, Pass, Weight};
use super::layer_shape::{LayerShape, ShapeContext};
use super::pretrained::{load_vectors, resolve, BuildContext, Coverage};
use super::shape::{Inferred, Site};
use super::tokens::EmbeddedTokens;
use super::{init, GradSink, ModelError, ModelInput, Shape};
use crate::spec::{EmbeddingInit, EmbeddingSpec, Invalid};
use candle_core::{bail, Device, Result, Tensor, Var};
use rand_chacha::ChaCha8Rng;

impl LayerShape for EmbeddingSpec {
    fn infer(
        &self,
        input: &Shape,
        cx: &ShapeContext<'_>,
    ) -> std::result::Result<Inferred, Invalid> {
        infer(self, input, cx.site, cx.model_input)
    }
}

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
    match (spec.init, &spec.path) {
        (EmbeddingInit::OneHot, _) if spec.output_dim != spec.input_dim => {
            return Err(Invalid::new(
                site.field("embedding", "output_dim"),
                format!(
                    "a one_hot embedding is the identity, so output_dim must equal input_dim ({}), got {}; set `output_dim: {}`",
                    spec.input_dim, spec.output_dim, spec.input_dim
                ),
            ))
        }
        (EmbeddingInit::Pretrained, None) => {
            return Err(Invalid::new(
                site.field("embedding", "path"),
                "init: pretrained needs `path`: a GloVe or word2vec text file (plain or .gz), e.g. `path: glove.6B.50d.txt.gz`",
            ))
        }
        (EmbeddingInit::Random | EmbeddingInit::OneHot, Some(_)) => {
            return Err(Invalid::new(
                site.field("embedding", "path"),
                "`path` is only read with `init: pretrained`; add `init: pretrained` or remove `path`",
            ))
        }
        _ => {}
    }
    let mut dims = input.0.clone();
    dims.push(spec.output_dim);
    Ok(Inferred {
        shape: Shape(dims),
        params: spec.input_dim * spec.output_dim,
        trainable: is_trainable(spec),
    })
}

/// Whether the optimizer updates the vectors: `trainable`, never for `one_hot`.
fn is_trainable(spec: &EmbeddingSpec) -> bool {
    spec.trainable && spec.init != EmbeddingInit::OneHot
}

/// Token id → vector lookup; weights `input_dim × output_dim`, initialised
/// uniform in `[-0.05, 0.05)` like Keras, as an identity (`one_hot`) or from
/// word vectors (`pretrained`).
#[derive(Debug)]
pub struct Embedding {
    name: String,
    input_dim: usize,
    output_dim: usize,
    shape: Shape,
    /// Emit `(batch, steps · dim)` directly because a `flatten` follows (same
    /// memory layout; saves the reshape nodes and their gradient buffers).
    flat_output: bool,
    trainable: bool,
    /// Token 0 is padding: the forward pass publishes a mask for recurrent layers.
    mask_zero: bool,
    embeddings: Var,
    /// Where the ops that read the table directly put its gradient in
    /// training (see [`GradSink`]).
    grad_sink: std::sync::Arc<GradSink>,
}

impl Embedding {
    /// A freshly initialised embedding producing `shape`, with the pretrained
    /// file's coverage for `init: pretrained`. `at` is the spec path of the
    /// layer's `path` field, for errors. The random table is always drawn (so
    /// later layers' weights do not depend on `init`); `pretrained` then
    /// overwrites the rows of words found in the file and zeroes row 0 (padding).
    pub(crate) fn new(
        spec: &EmbeddingSpec,
        name: String,
        shape: Shape,
        flat_output: bool,
        rng: &mut ChaCha8Rng,
        ctx: &BuildContext<'_>,
        at: &str,
    ) -> std::result::Result<(Embedding, Option<Coverage>), ModelError> {
        let (n, dim) = (spec.input_dim, spec.output_dim);
        let mut values = init::uniform(rng, n * dim, -0.05, 0.05);
        let mut coverage = None;
        match spec.init {
            EmbeddingInit::Random => {}
            EmbeddingInit::OneHot => {
                values.iter_mut().for_each(|v| *v = 0.0);
                for i in 0..n.min(dim) {
                    values[i * dim + i] = 1.0;
                }
            }
            EmbeddingInit::Pretrained if ctx.weights_follow => {}
            EmbeddingInit::Pretrained => {
                let Some(vocabulary) = ctx.vocabulary else {
                    return Err(Invalid::new(
                        at,
                        "init: pretrained needs the tokenizer vocabulary to match words to vectors; it is only available for token-sequence input built by the pipeline (`vectorize.mode: int`)",
                    )
                    .into());
                };
                let Some(rel) = &spec.path else {
                    return Err(Invalid::new(at, "init: pretrained needs `path`").into());
                };
                let path = resolve(rel, ctx.spec_dir);
                let found = load_vectors(&path, vocabulary, dim, &mut values)
                    .map_err(|m| Invalid::new(at, m))?;
                let pad = dim.min(values.len());
                values[..pad].iter_mut().for_each(|v| *v = 0.0);
                coverage = Some(found);
            }
        }
        let embeddings = Var::from_vec(values, (n, dim), &Device::Cpu)?;
        Ok((
            Embedding {
                name,
                input_dim: n,
                output_dim: dim,
                shape,
                flat_output,
                trainable: is_trainable(spec),
                mask_zero: spec.mask_zero,
                grad_sink: std::sync::Arc::new(GradSink::new(n * dim)),
                embeddings,
            },
            coverage,
        ))
    }

    /// The current vectors, one row per token id.
    pub fn table(&self) -> Result<Vec<Vec<f32>>> {
        self.embeddings.as_tensor().to_vec2::<f32>()
    }

    /// The table's variable and the sink its gradient goes to in a pass
    /// with [`Pass::uses_grad_sinks`] (from the ops that support it).
    pub fn grad_sink(&self) -> (&Var, &std::sync::Arc<GradSink>) {
        (&self.embeddings, &self.grad_sink)
    }

    /// Vocabulary size: valid token ids are `0..input_dim`.
    pub fn input_dim(&self) -> usize {
        self.input_dim
    }

    /// The batch `x` (token ids, `batch × steps`) as tokens over this
    /// embedding's table, not yet looked up. Ids outside `0..input_dim` are an
    /// error; with `mask_zero` the padding mask is published on `pass`.
    pub fn tokens(&self, x: &Tensor, pass: &mut Pass<'_>) -> Result<EmbeddedTokens> {
        let dims = x.dims();
        let batch = dims.first().copied().unwrap_or(0);
        let steps = dims[1..].iter().product::<usize>();
        let ids = x
            .flatten_all()?
            .to_dtype(candle_core::DType::U32)?
            .to_vec1::<u32>()?;
        if let Some(id) = ids.iter().find(|&&id| id as usize >= self.input_dim) {
            bail!(
                "token id {id} is outside the embedding's input_dim {} (valid ids 0..{})",
                self.input_dim,
                self.input_dim - 1
            );
        }
        if self.mask_zero {
            pass.set_mask(Some(std::sync::Arc::new(
                ids.iter().map(|&id| id != 0).collect(),
            )));
        }
        let tokens = EmbeddedTokens::new(
            std::sync::Arc::new(ids),
            batch,
            steps,
            live(&self.embeddings, self.trainable),
            self.flat_output,
        )?;
        Ok(if self.trainable && pass.uses_grad_sinks() {
            tokens.with_grad_sink(std::sync::Arc::clone(&self.grad_sink))
        } else {
            tokens
        })
    }
}

impl dyn Layer {
    /// The layer as an embedding, so the model can hand the next layer its
    /// tokens instead of looked-up vectors.
    pub fn as_embedding(&self) -> Option<&Embedding> {
        self.as_any().downcast_ref::<Embedding>()
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
    fn forward(&self, x: &Tensor, pass: &mut Pass<'_>) -> Result<Tensor> {
        self.tokens(x, pass)?.materialize()
    }
    fn trainable(&self) -> bool {
        self.trainable
    }
    fn weights(&self) -> Vec<Weight<'_>> {
        vec![Weight {
            name: "embeddings",
            var: &self.embeddings,
            trainable: self.trainable,
        }]
    }
}
