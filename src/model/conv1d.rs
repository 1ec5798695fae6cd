//! `conv1d`: a 1-D convolution over the time axis (Keras `Conv1D`).
//!
//! Implemented as im2col plus one matmul in one custom op: every window
//! `(kernel_size, channels)` becomes a row (zero where `same` padding reaches
//! outside the sequence), the rows are multiplied by the kernel reshaped to
//! `(kernel_size · channels, filters)`, and the bias is added. The backward
//! scatters the window gradients back to the steps (adding overlaps).

use super::bias_activation::bias_activation;
use super::conv1d_geometry::Geometry;
use super::conv1d_pool::{conv_pool, MaxWindows};
use super::conv1d_pool_tokens::token_conv_pool;
use super::conv1d_tokens::token_conv;
use super::layer::{live, Layer, Pass, Weight};
use super::layer_shape::{LayerShape, ShapeContext};
use super::shape::{Inferred, Site};
use super::storage::f32_values;
use super::tokens::EmbeddedTokens;
use super::{init, GlobalPooling1d, Pooling1d, Shape};
use crate::spec::{Activation, Conv1dSpec, Invalid, Padding};
use candle_core::{CpuStorage, CustomOp2, Device, Layout, Result, Tensor, Var};
use pulp::Arch;
use rand_chacha::ChaCha8Rng;

/// Output length and left padding of a window op over `len` steps, as Keras
/// computes them: `valid` `⌊(L − k)/s⌋ + 1` (0 when `k > L`), `same` `⌈L/s⌉`
/// with the padding split `total/2` before and the rest after.
pub fn output_length(len: usize, kernel: usize, stride: usize, padding: Padding) -> (usize, usize) {
    match padding {
        Padding::Valid => {
            if kernel > len || stride == 0 {
                (0, 0)
            } else {
                ((len - kernel) / stride + 1, 0)
            }
        }
        Padding::Same => {
            let out = len.div_ceil(stride.max(1));
            let total = ((out.saturating_sub(1)) * stride + kernel).saturating_sub(len);
            (out, total / 2)
        }
    }
}

/// The error for a sequence layer (`conv1d`, pooling) fed a non-sequence:
/// it names both layers, the shape and the fix.
pub(crate) fn needs_sequence(kind: &str, input: &Shape, site: Site) -> Invalid {
    let (feeder, fix) = match site.previous {
        Some("flatten") => (
            format!("model.layers[{}] (flatten) outputs {input}", site.index - 1),
            "remove the flatten or move it after the convolution".to_string(),
        ),
        Some(prev) => (
            format!("model.layers[{}] ({prev}) outputs {input}", site.index - 1),
            format!("move the {kind} before the {prev}, directly after the `embedding` or another layer that outputs (batch, steps, channels)"),
        ),
        None => (
            format!("the model input is {input}"),
            "start with an `embedding` (token-id input, `vectorize.mode: int`) and put it after that".to_string(),
        ),
    };
    Invalid::new(
        site.path(),
        format!(
            "{} ({kind}) needs a 3-D input (batch, steps, channels) but {feeder}; {fix}",
            site.path()
        ),
    )
}

/// Check a conv1d against its input. Params `kernel_size · channels · filters + filters`.
impl LayerShape for Conv1dSpec {
    fn infer(
        &self,
        input: &Shape,
        cx: &ShapeContext<'_>,
    ) -> std::result::Result<Inferred, Invalid> {
        infer(self, input, cx.site)
    }
}

pub(crate) fn infer(
    spec: &Conv1dSpec,
    input: &Shape,
    site: Site,
) -> std::result::Result<Inferred, Invalid> {
    if input.rank() != 3 {
        return Err(needs_sequence("conv1d", input, site));
    }
    for (field, v) in [
        ("filters", spec.filters),
        ("kernel_size", spec.kernel_size),
        ("strides", spec.strides),
    ] {
        if v == 0 {
            return Err(Invalid::new(
                site.field("conv1d", field),
                format!("{field} must be at least 1"),
            ));
        }
    }
    let (steps, channels) = (input.0[0], input.0[1]);
    let (out, _) = output_length(steps, spec.kernel_size, spec.strides, spec.padding);
    if out == 0 {
        return Err(Invalid::new(
            site.field("conv1d", "kernel_size"),
            format!(
                "{} (conv1d): kernel_size {} is longer than the {steps} steps of its input {input}; use a smaller kernel_size or `padding: same`",
                site.path(),
                spec.kernel_size
            ),
        ));
    }
    Ok(Inferred {
        shape: Shape(vec![out, spec.filters]),
        params: spec.kernel_size * channels * spec.filters + spec.filters,
        trainable: true,
    })
}

/// A 1-D convolution `activation(windows · K + b)`.
#[derive(Debug)]
pub struct Conv1d {
    name: String,
    kernel_size: usize,
    channels: usize,
    filters: usize,
    stride: usize,
    padding: Padding,
    activation: Activation,
    shape: Shape,
    /// Keras orientation: `kernel_size × channels × filters`.
    kernel: Var,
    bias: Var,
}

impl Conv1d {
    /// A conv1d reading `channels` features per step: Glorot-uniform kernel
    /// (fan in `k·channels`, fan out `k·filters`, as Keras) and a zero bias.
    pub(crate) fn new(
        spec: &Conv1dSpec,
        name: String,
        channels: usize,
        shape: Shape,
        rng: &mut ChaCha8Rng,
    ) -> Result<Conv1d> {
        let k = spec.kernel_size;
        let limit = (6.0 / ((k * channels + k * spec.filters) as f64)).sqrt() as f32;
        let values = init::uniform(rng, k * channels * spec.filters, -limit, limit);
        let kernel = Var::from_vec(values, (k, channels, spec.filters), &Device::Cpu)?;
        let bias = Var::from_vec(vec![0f32; spec.filters], spec.filters, &Device::Cpu)?;
        Ok(Conv1d {
            name,
            kernel_size: k,
            channels,
            filters: spec.filters,
            stride: spec.strides,
            padding: spec.padding,
            activation: spec.activation,
            shape,
            kernel,
            bias,
        })
    }

    /// Where this layer's windows lie on a `batch × steps × channels` input.
    fn geometry(&self, batch: usize, steps: usize, channels: usize) -> Geometry {
        let (out, pad_left) = output_length(steps, self.kernel_size, self.stride, self.padding);
        Geometry {
            batch,
            steps,
            channels,
            size: self.kernel_size,
            stride: self.stride,
            out,
            pad_left,
        }
    }

    /// The windows of `next` when it is a max pooling of this layer's
    /// `conv_out` steps that the fused op can run with this layer.
    fn pooled_by(&self, next: &dyn Layer, conv_out: usize) -> Option<MaxWindows> {
        if self.activation == Activation::Softmax {
            return None;
        }
        let next = next.as_any();
        let windows = match next.downcast_ref::<Pooling1d>() {
            Some(p) => p.max_windows(conv_out),
            None => next
                .downcast_ref::<GlobalPooling1d>()?
                .max_windows(conv_out),
        }?;
        windows.fit(conv_out).then_some(windows)
    }

    /// Set the kernel (`kernel_size × channels × filters`, row-major) and bias, e.g. for tests.
    pub fn set_weights(&self, kernel: &[f32], bias: &[f32]) -> Result<()> {
        self.kernel.set(&Tensor::from_slice(
            kernel,
            (self.kernel_size, self.channels, self.filters),
            &Device::Cpu,
        )?)?;
        self.bias
            .set(&Tensor::from_slice(bias, self.filters, &Device::Cpu)?)
    }
}

impl Layer for Conv1d {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &'static str {
        "conv1d"
    }
    fn output_shape(&self) -> &Shape {
        &self.shape
    }
    fn params(&self) -> usize {
        self.kernel_size * self.channels * self.filters + self.filters
    }
    fn forward(&self, x: &Tensor, pass: &mut Pass<'_>) -> Result<Tensor> {
        // Keras's Conv1D does not carry a padding mask to the layers after it.
        pass.set_mask(None);
        let (batch, steps, channels) = x.dims3()?;
        let geometry = self.geometry(batch, steps, channels);
        let op = ConvOp {
            geometry,
            filters: self.filters,
            cols: std::sync::Mutex::new(None),
        };
        let z = x.contiguous()?.apply_op2(&live(&self.kernel, true), op)?;
        bias_activation(&z, Some(&live(&self.bias, true)), self.activation)
    }
    fn forward_tokens(
        &self,
        tokens: &EmbeddedTokens,
        pass: &mut Pass<'_>,
    ) -> Option<Result<Tensor>> {
        if tokens.flat() {
            return None;
        }
        pass.set_mask(None);
        let run = || {
            let geometry = self.geometry(tokens.batch(), tokens.steps(), self.channels);
            let z = token_conv(tokens, &live(&self.kernel, true), geometry, self.filters)?;
            bias_activation(&z, Some(&live(&self.bias, true)), self.activation)
        };
        Some(run())
    }
    fn forward_pair(
        &self,
        x: &Tensor,
        next: &dyn Layer,
        pass: &mut Pass<'_>,
    ) -> Option<Result<Tensor>> {
        let (batch, steps, channels) = x.dims3().ok()?;
        let geometry = self.geometry(batch, steps, channels);
        let windows = self.pooled_by(next, geometry.out)?;
        pass.set_mask(None);
        let (kernel, bias) = (live(&self.kernel, true), live(&self.bias, true));
        Some(conv_pool(
            x,
            &kernel,
            &bias,
            geometry,
            windows,
            self.activation,
            Arch::new(),
        ))
    }
    fn forward_tokens_pair(
        &self,
        tokens: &EmbeddedTokens,
        next: &dyn Layer,
        pass: &mut Pass<'_>,
    ) -> Option<Result<Tensor>> {
        if tokens.flat() {
            return None;
        }
        let geometry = self.geometry(tokens.batch(), tokens.steps(), self.channels);
        let windows = self.pooled_by(next, geometry.out)?;
        pass.set_mask(None);
        let (kernel, bias) = (live(&self.kernel, true), live(&self.bias, true));
        Some(token_conv_pool(
            tokens,
            &kernel,
            &bias,
            geometry,
            windows,
            self.activation,
            Arch::new(),
        ))
    }
    fn weights(&self) -> Vec<Weight<'_>> {
        vec![
            Weight {
                name: "kernel",
                var: &self.kernel,
                trainable: true,
            },
            Weight {
                name: "bias",
                var: &self.bias,
                trainable: true,
            },
        ]
    }
}

/// The values of a tensor as a contiguous f32 vector.
fn tensor_values(t: &Tensor) -> Result<Vec<f32>> {
    t.flatten_all()?.to_vec1::<f32>()
}

/// The convolution without bias as one candle op: im2col and one matmul
/// forward; backward `dK = colsᵀ·G` (columns gathered again) and
/// `dX = scatter(G·Kᵀ)`. Fusing keeps the large column matrix and its
/// gradient out of the autograd graph.
struct ConvOp {
    geometry: Geometry,
    filters: usize,
    /// The column matrix of the forward pass, kept for backward.
    cols: std::sync::Mutex<Option<Tensor>>,
}

impl ConvOp {
    fn rows(&self) -> usize {
        self.geometry.batch * self.geometry.out
    }
    fn width(&self) -> usize {
        self.geometry.size * self.geometry.channels
    }
}

impl CustomOp2 for ConvOp {
    fn name(&self) -> &'static str {
        "conv1d"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, candle_core::Shape)> {
        let g = &self.geometry;
        let cols = g.gather(f32_values(s1, l1, "conv1d input")?);
        let cols = Tensor::from_vec(cols, (self.rows(), self.width()), &Device::Cpu)?;
        let kernel = Tensor::from_slice(
            f32_values(s2, l2, "conv1d kernel")?,
            (self.width(), self.filters),
            &Device::Cpu,
        )?;
        let y = tensor_values(&cols.matmul(&kernel)?)?;
        *self
            .cols
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(cols);
        let shape = candle_core::Shape::from((g.batch, g.out, self.filters));
        Ok((CpuStorage::F32(y), shape))
    }

    fn bwd(
        &self,
        x: &Tensor,
        kernel: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let g = &self.geometry;
        let grad = grad_res
            .detach()
            .contiguous()?
            .reshape((self.rows(), self.filters))?;
        let saved = self
            .cols
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let cols = match saved {
            Some(cols) => cols,
            None => Tensor::from_vec(
                g.gather(&tensor_values(&x.detach())?),
                (self.rows(), self.width()),
                x.device(),
            )?,
        };
        let dk = cols
            .t()?
            .matmul(&grad)?
            .reshape((g.size, g.channels, self.filters))?;
        let k2 = kernel.detach().reshape((self.width(), self.filters))?;
        let dcols = tensor_values(&grad.matmul(&k2.t()?)?)?;
        let dx = Tensor::from_vec(
            g.scatter(&dcols),
            (g.batch, g.steps, g.channels),
            x.device(),
        )?;
        Ok((Some(dx), Some(dk)))
    }
}
