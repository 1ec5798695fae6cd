//! `dense`: a fully connected layer (Keras `Dense`).
//!
//! Orientation: the spec's fixed `kernel` is written the course's way, one row
//! per output neuron (`units × inputs`, so `z = W·a + b`). Keras stores the
//! transpose (`inputs × units`, `z = a·K + b`); the layer keeps the Keras
//! orientation internally so a batch is one `x.matmul(kernel)`.

use super::bias_activation::bias_activation;
use super::embedding_dense::embedding_matmul;
use super::layer::{live, Layer, Pass, Weight};
use super::layer_shape::{LayerShape, ShapeContext};
use super::shape::{Inferred, Site};
use super::sparse::SparseGradSlot;
use super::tokens::EmbeddedTokens;
use super::{init, Shape};
use crate::spec::{Activation, DenseSpec, Invalid};
use candle_core::{Device, Result, Tensor, Var};
use rand_chacha::ChaCha8Rng;

impl LayerShape for DenseSpec {
    fn infer(
        &self,
        input: &Shape,
        cx: &ShapeContext<'_>,
    ) -> std::result::Result<Inferred, Invalid> {
        infer(self, input, cx.site)
    }
}

/// Check a dense layer against its input (it needs a 2-D input) and its fixed
/// weights. Params: `inputs · units + units` (no bias: `inputs · units`).
pub(crate) fn infer(
    spec: &DenseSpec,
    input: &Shape,
    site: Site,
) -> std::result::Result<Inferred, Invalid> {
    if input.rank() != 2 {
        return Err(Invalid::new(
            site.path(),
            format!(
                "dense {} gets a {}-D input {input}; add `- flatten` or `- global_average_pooling1d` before it",
                site.after(),
                input.rank()
            ),
        ));
    }
    if spec.units == 0 {
        return Err(Invalid::new(
            site.field("dense", "units"),
            "units (number of output neurons) must be at least 1",
        ));
    }
    let inputs = input.size();
    if let Some(kernel) = &spec.kernel {
        let rows = kernel.len();
        let cols = kernel.first().map_or(0, Vec::len);
        if let Some((r, row)) = kernel.iter().enumerate().find(|(_, row)| row.len() != cols) {
            return Err(Invalid::new(
                site.field("dense", "kernel"),
                format!(
                    "layer {} (dense): kernel rows have different lengths: row 0 has {cols} values but row {r} has {}; expected {} rows of {inputs} values",
                    site.path(),
                    row.len(),
                    spec.units
                ),
            ));
        }
        if rows != spec.units || cols != inputs {
            return Err(Invalid::new(
                site.field("dense", "kernel"),
                format!(
                    "layer {} (dense): kernel is {rows}×{cols} but units={} and the previous layer gives {inputs} values: expected {}×{inputs} (one row per output neuron)",
                    site.path(),
                    spec.units,
                    spec.units
                ),
            ));
        }
        if let Some((r, c)) = kernel
            .iter()
            .enumerate()
            .find_map(|(r, row)| row.iter().position(|v| !v.is_finite()).map(|c| (r, c)))
        {
            return Err(Invalid::new(
                site.field("dense", "kernel"),
                format!(
                    "layer {} (dense): kernel[{r}][{c}] is not a finite number",
                    site.path()
                ),
            ));
        }
    }
    if let Some(bias) = &spec.bias {
        if !spec.use_bias {
            return Err(Invalid::new(
                site.field("dense", "bias"),
                format!(
                    "layer {} (dense): a bias is given but use_bias is false; remove `bias` or set `use_bias: true`",
                    site.path()
                ),
            ));
        }
        if bias.len() != spec.units {
            return Err(Invalid::new(
                site.field("dense", "bias"),
                format!(
                    "layer {} (dense): bias has {} values but units={}: expected one value per output neuron",
                    site.path(),
                    bias.len(),
                    spec.units
                ),
            ));
        }
        if let Some(i) = bias.iter().position(|v| !v.is_finite()) {
            return Err(Invalid::new(
                site.field("dense", "bias"),
                format!(
                    "layer {} (dense): bias[{i}] is not a finite number",
                    site.path()
                ),
            ));
        }
    }
    if let Some(r) = &spec.kernel_regularizer {
        if !(r.l2.is_finite() && r.l2 >= 0.0) {
            return Err(Invalid::new(
                site.field("dense", "kernel_regularizer.l2"),
                format!("l2 must be a finite number >= 0 (e.g. 1e-4), got {}", r.l2),
            ));
        }
    }
    let params = inputs * spec.units + if spec.use_bias { spec.units } else { 0 };
    Ok(Inferred {
        shape: Shape(vec![spec.units]),
        params,
        trainable: spec.trainable,
    })
}

/// A fully connected layer `a = activation(x·K + b)`.
#[derive(Debug)]
pub struct Dense {
    name: String,
    inputs: usize,
    units: usize,
    activation: Activation,
    trainable: bool,
    shape: Shape,
    /// Keras orientation: `inputs × units`.
    kernel: Var,
    bias: Option<Var>,
    /// `kernel_regularizer.l2`, when set and non-zero.
    l2: Option<f64>,
    /// The kernel gradient left by a sparse forward's backward pass.
    sparse_grad: SparseGradSlot,
}

impl Dense {
    /// A dense layer reading `inputs` values: the spec's fixed weights when given,
    /// otherwise a Glorot-uniform kernel and a zero bias (Keras defaults).
    pub(crate) fn new(
        spec: &DenseSpec,
        name: String,
        inputs: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<Dense> {
        let units = spec.units;
        let kernel_values: Vec<f32> = match &spec.kernel {
            // Course rows (units × inputs) transposed into Keras's inputs × units.
            Some(rows) => (0..inputs)
                .flat_map(|i| rows.iter().map(move |row| row[i] as f32))
                .collect(),
            None => init::glorot_uniform(rng, inputs, units),
        };
        let kernel = Var::from_vec(kernel_values, (inputs, units), &Device::Cpu)?;
        let bias = if spec.use_bias {
            let values: Vec<f32> = match &spec.bias {
                Some(b) => b.iter().map(|v| *v as f32).collect(),
                None => vec![0.0; units],
            };
            Some(Var::from_vec(values, units, &Device::Cpu)?)
        } else {
            None
        };
        Ok(Dense {
            name,
            inputs,
            units,
            activation: spec.activation,
            trainable: spec.trainable,
            shape: Shape(vec![units]),
            kernel,
            bias,
            l2: spec
                .kernel_regularizer
                .map(|r| r.l2)
                .filter(|l2| *l2 != 0.0),
            sparse_grad: SparseGradSlot::default(),
        })
    }

    /// The kernel variable (Keras orientation, `inputs × units`).
    pub(crate) fn kernel_var(&self) -> &Var {
        &self.kernel
    }

    /// The bias variable, when the layer has one.
    pub(crate) fn bias_var(&self) -> Option<&Var> {
        self.bias.as_ref()
    }

    /// Where the sparse forward's backward pass leaves the kernel gradient.
    pub(crate) fn sparse_grad_slot(&self) -> &SparseGradSlot {
        &self.sparse_grad
    }

    /// Number of output neurons.
    pub fn units(&self) -> usize {
        self.units
    }

    /// The kernel's L2 factor (`kernel_regularizer.l2`), when non-zero.
    pub fn l2(&self) -> Option<f64> {
        self.l2
    }

    /// The activation applied after `x·K + b`.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// The kernel in the course's orientation: one row per output neuron.
    pub fn kernel_rows(&self) -> Result<Vec<Vec<f64>>> {
        let k = self
            .kernel
            .as_tensor()
            .t()?
            .to_dtype(candle_core::DType::F64)?;
        k.to_vec2::<f64>()
    }

    /// The bias, when the layer has one.
    pub fn bias_values(&self) -> Result<Option<Vec<f64>>> {
        self.bias
            .as_ref()
            .map(|b| {
                b.as_tensor()
                    .to_dtype(candle_core::DType::F64)?
                    .to_vec1::<f64>()
            })
            .transpose()
    }

    /// Number of input values.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// `activation(z + b)` for the product `z = x·K` (one fused op).
    fn bias_activation(&self, z: &Tensor) -> Result<Tensor> {
        let bias = self.bias.as_ref().map(|b| live(b, self.trainable));
        bias_activation(z, bias.as_ref(), self.activation)
    }
}

impl dyn Layer {
    /// The layer as a dense layer, for hand-calculation traces and the sparse path.
    pub fn as_dense(&self) -> Option<&Dense> {
        self.as_any().downcast_ref::<Dense>()
    }
}

impl Layer for Dense {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &'static str {
        "dense"
    }
    fn output_shape(&self) -> &Shape {
        &self.shape
    }
    fn params(&self) -> usize {
        self.inputs * self.units + if self.bias.is_some() { self.units } else { 0 }
    }
    fn trainable(&self) -> bool {
        self.trainable
    }
    fn forward(&self, x: &Tensor, _pass: &mut Pass<'_>) -> Result<Tensor> {
        let z = x.matmul(&live(&self.kernel, self.trainable))?;
        self.bias_activation(&z)
    }
    fn weights(&self) -> Vec<Weight<'_>> {
        let mut w = vec![Weight {
            name: "kernel",
            var: &self.kernel,
            trainable: self.trainable,
        }];
        if let Some(b) = &self.bias {
            w.push(Weight {
                name: "bias",
                var: b,
                trainable: self.trainable,
            });
        }
        w
    }
    fn forward_tokens(
        &self,
        tokens: &EmbeddedTokens,
        _pass: &mut Pass<'_>,
    ) -> Option<Result<Tensor>> {
        // Only the flattened embedding is a valid dense input.
        if !tokens.flat() {
            return None;
        }
        let y = || {
            let z = embedding_matmul(tokens, &live(&self.kernel, self.trainable))?;
            self.bias_activation(&z)
        };
        Some(y())
    }
}
