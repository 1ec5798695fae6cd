//! `embedding`: token id → dense vector lookup (Keras `Embedding`).

use super::layer::{live, Layer, Pass, Weight};
use super::shape::{Inferred, Site};
use super::{init, ModelInput, Shape};
use crate::spec::{EmbeddingSpec, Invalid};
use candle_core::{bail, CpuStorage, CustomOp1, Device, Layout, Result, Storage, Tensor, Var};
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
    /// Emit `(batch, steps · dim)` directly because a `flatten` follows (same
    /// memory layout; saves the reshape nodes and their gradient buffers).
    flat_output: bool,
    /// Token 0 is padding: the forward pass publishes a mask for recurrent layers.
    mask_zero: bool,
    embeddings: Var,
}

impl Embedding {
    /// A freshly initialised embedding producing `shape`.
    pub(crate) fn new(
        spec: &EmbeddingSpec,
        name: String,
        shape: Shape,
        flat_output: bool,
        rng: &mut ChaCha8Rng,
    ) -> Result<Embedding> {
        let values = init::uniform(rng, spec.input_dim * spec.output_dim, -0.05, 0.05);
        let embeddings = Var::from_vec(values, (spec.input_dim, spec.output_dim), &Device::Cpu)?;
        Ok(Embedding {
            name,
            input_dim: spec.input_dim,
            output_dim: spec.output_dim,
            shape,
            flat_output,
            mask_zero: spec.mask_zero,
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
    fn forward(&self, x: &Tensor, pass: &mut Pass<'_>) -> Result<Tensor> {
        let dims = x.dims();
        let shape: Vec<usize> = if self.flat_output {
            vec![
                dims[0],
                dims[1..].iter().product::<usize>() * self.output_dim,
            ]
        } else {
            dims.iter().copied().chain([self.output_dim]).collect()
        };
        let ids = x
            .flatten_all()?
            .to_dtype(candle_core::DType::U32)?
            .to_vec1::<u32>()?;
        if self.mask_zero {
            pass.set_mask(Some(std::sync::Arc::new(
                ids.iter().map(|&id| id != 0).collect(),
            )));
        }
        let op = Lookup {
            ids,
            dim: self.output_dim,
            vocab: self.input_dim,
            shape: shape.into(),
        };
        live(&self.embeddings, true).apply_op1(op)
    }
    fn weights(&self) -> Vec<Weight<'_>> {
        vec![Weight {
            name: "embeddings",
            var: &self.embeddings,
            trainable: true,
        }]
    }
}

/// The lookup as one candle op: a row gather forward, and a backward that adds
/// each position's gradient straight into a `vocab × dim` buffer. (candle's
/// `index_select` backward builds a zero table and an `index_add` copy instead.)
struct Lookup {
    /// Token ids of the batch, row-major.
    ids: Vec<u32>,
    dim: usize,
    vocab: usize,
    /// Output shape: `(batch, steps, dim)` or, flattened, `(batch, steps · dim)`.
    shape: candle_core::Shape,
}

impl CustomOp1 for Lookup {
    fn name(&self) -> &'static str {
        "embedding-lookup"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> Result<(CpuStorage, candle_core::Shape)> {
        let CpuStorage::F32(table) = storage else {
            bail!("embedding table must be f32");
        };
        let Some((start, end)) = layout.contiguous_offsets() else {
            bail!("embedding table must be contiguous");
        };
        let table = &table[start..end];
        let dim = self.dim;
        let mut out = Vec::with_capacity(self.ids.len() * dim);
        for &id in &self.ids {
            let id = id as usize;
            if id >= self.vocab {
                bail!(
                    "token id {id} is outside the embedding's input_dim {} (valid ids 0..{})",
                    self.vocab,
                    self.vocab - 1
                );
            }
            out.extend_from_slice(&table[id * dim..(id + 1) * dim]);
        }
        Ok((CpuStorage::F32(out), self.shape.clone()))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        let grad_res = grad_res.contiguous()?;
        let (storage, layout) = grad_res.storage_and_layout();
        let (Storage::Cpu(CpuStorage::F32(g)), Some((start, end))) =
            (&*storage, layout.contiguous_offsets())
        else {
            bail!("embedding gradient must be a contiguous f32 cpu tensor");
        };
        let g = &g[start..end];
        let dim = self.dim;
        let mut out = vec![0f32; self.vocab * dim];
        for (row, &id) in g.chunks_exact(dim).zip(&self.ids) {
            let dst = &mut out[id as usize * dim..(id as usize + 1) * dim];
            for (d, s) in dst.iter_mut().zip(row) {
                *d += s;
            }
        }
        Ok(Some(Tensor::from_vec(
            out,
            (self.vocab, dim),
            arg.device(),
        )?))
    }
}
