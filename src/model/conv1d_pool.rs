//! `conv1d` + bias + activation + the max pooling after it, as one candle op.
//!
//! Run separately, the convolution writes `batch × steps × filters` values,
//! bias-activation reads and writes them again, the pooling keeps one in
//! `pool_size` of them, and in backward candle zero-fills and adds a gradient
//! of that size at every node, then the convolution multiplies the mostly
//! zero gradient back through im2col matrices. Fused, the convolution output
//! of an example lives in a small per-thread buffer, only the pooled values
//! and the step of each window's maximum are kept, and backward touches only
//! those maxima: per pooled value, one window of the input and one column of
//! the kernel (a few multiply-adds instead of two full matmuls).
//!
//! The product itself needs no im2col either: on a `[steps × channels]`
//! row-major sequence, the window of output step `t` is the contiguous run
//! `x[t·stride·channels ..][.. kernel_size·channels]`, so the windows are the
//! rows of a matrix with overlapping rows (`conv1d_pool_kernels::windows_times`).
//! `same` padding copies an example into a zero-padded buffer first.
//!
//! The op reads a `(batch, steps, channels)` input; `conv1d_pool_tokens.rs`
//! is the variant for a convolution right after an embedding.

use super::conv1d_geometry::Geometry;
use super::conv1d_pool_kernels::{add_into, axpy, through_activation, windows_times, PoolEpilogue};
use super::recurrent::kernels::transpose;
use super::storage::{f32_values, with_f32};
use crate::spec::Activation;
use candle_core::{bail, CpuStorage, CustomOp3, Device, Layout, Result, Shape, Tensor};
use pulp::{Arch, Simd, WithSimd};
use rayon::prelude::*;
use std::sync::{Mutex, PoisonError};

/// The windows of a max pooling right after a convolution: `out` windows of
/// `size` convolution steps, `stride` apart, from step 0 (a global max
/// pooling is one window over all steps, its output squeezed to `(batch, filters)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MaxWindows {
    /// Steps per window.
    pub size: usize,
    /// Steps between window starts.
    pub stride: usize,
    /// Number of windows.
    pub out: usize,
    /// Global pooling: the output has no step axis.
    pub squeeze: bool,
}

impl MaxWindows {
    /// Convolution steps the windows read: the rest are never computed.
    pub(crate) fn used_steps(&self) -> usize {
        (self.out - 1) * self.stride + self.size
    }

    /// Whether these windows fit a convolution of `conv_out` steps (and are not empty).
    pub(crate) fn fit(&self, conv_out: usize) -> bool {
        self.out > 0 && self.size > 0 && self.stride > 0 && self.used_steps() <= conv_out
    }
}

/// Examples per parallel task: one task per thread, as even as possible.
pub(crate) fn examples_per_task(batch: usize) -> usize {
    batch.div_ceil(rayon::current_num_threads().max(1)).max(1)
}

/// The forward pass shared by both pooled convolutions: for each example
/// `b` (in parallel, one task per thread), `conv(b, z, scratch)` writes its
/// first `windows.used_steps()` convolution steps (`steps × filters`, before
/// the bias) into `z`, with `scratch` a per-task buffer the caller may use;
/// then the pooling epilogue adds the bias, applies `act` and keeps each
/// window's maximum and its step. Returns the pooled values and those steps
/// (`batch × windows × filters` each).
#[allow(clippy::too_many_arguments)]
pub(crate) fn pool_examples(
    arch: Arch,
    batch: usize,
    windows: &MaxWindows,
    filters: usize,
    bias: &[f32],
    act: Activation,
    conv: impl Fn(usize, &mut [f32], &mut Vec<f32>) + Sync,
) -> (Vec<f32>, Vec<u32>) {
    let per_out = windows.out * filters;
    let mut y = vec![0f32; batch * per_out];
    let mut steps = vec![0u32; y.len()];
    let per_task = examples_per_task(batch);
    y.par_chunks_mut(per_task * per_out)
        .zip(steps.par_chunks_mut(per_task * per_out))
        .enumerate()
        .for_each(|(task, (yc, sc))| {
            let mut scratch = Vec::new();
            let mut z = vec![0f32; windows.used_steps() * filters];
            for (i, (yb, sb)) in yc
                .chunks_exact_mut(per_out)
                .zip(sc.chunks_exact_mut(per_out))
                .enumerate()
            {
                conv(task * per_task + i, &mut z, &mut scratch);
                arch.dispatch(PoolEpilogue {
                    z: &z,
                    bias,
                    act,
                    size: windows.size,
                    stride: windows.stride,
                    y: yb,
                    argmax: sb,
                });
            }
        });
    (y, steps)
}

/// The step of each pooled value's maximum, kept by a forward pass for its
/// backward pass (candle keeps only the op's output).
#[derive(Default)]
pub(crate) struct PooledSteps(Mutex<Vec<u32>>);

impl PooledSteps {
    /// Keep the forward pass's steps.
    pub(crate) fn keep(&self, steps: Vec<u32>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = steps;
    }

    /// For backward: the kept steps (taken, so memory is freed) and `grad`,
    /// the gradient of the op's output `res`, through the activation.
    /// `op` names the op in the error for a backward without a forward.
    pub(crate) fn take_with_gradient(
        &self,
        op: &str,
        grad: &Tensor,
        res: &Tensor,
        act: Activation,
    ) -> Result<(Vec<u32>, Vec<f32>)> {
        let steps = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        let mut gz = grad.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        if steps.len() != gz.len() {
            bail!("{op}: backward without a forward pass");
        }
        with_f32(res, "conv1d-pool output", |y| {
            through_activation(act, &mut gz, y)
        })?;
        Ok((steps, gz))
    }
}

/// `maxpool(activation(conv1d(x) + bias))` of `x` (`batch × steps × channels`),
/// `kernel` `kernel_size × channels × filters`: `(batch, windows, filters)`,
/// or `(batch, filters)` for a global pooling. `arch`: the instruction set
/// (`Arch::new()`, or `Arch::Scalar` for the reference).
#[allow(clippy::too_many_arguments)]
pub(crate) fn conv_pool(
    x: &Tensor,
    kernel: &Tensor,
    bias: &Tensor,
    geometry: Geometry,
    windows: MaxWindows,
    act: Activation,
    arch: Arch,
) -> Result<Tensor> {
    if !windows.fit(geometry.out) || act == Activation::Softmax {
        bail!(
            "conv1d-pool: {windows:?} do not fit {} convolution steps",
            geometry.out
        );
    }
    let filters = bias.elem_count();
    let y = x.contiguous()?.apply_op3(
        kernel,
        bias,
        ConvPool {
            geometry,
            windows,
            act,
            filters,
            arch,
            argmax: PooledSteps::default(),
        },
    )?;
    if windows.squeeze {
        y.squeeze(1)
    } else {
        Ok(y)
    }
}

struct ConvPool {
    geometry: Geometry,
    windows: MaxWindows,
    act: Activation,
    filters: usize,
    arch: Arch,
    /// The convolution step of each pooled value's maximum (`batch × windows × filters`).
    argmax: PooledSteps,
}

impl ConvPool {
    /// Example `xb` as the windows read it: borrowed when no padding is
    /// needed, else copied into `buf`.
    fn padded<'a>(&self, xb: &'a [f32], buf: &'a mut Vec<f32>) -> &'a [f32] {
        let (p, c) = (
            PaddedWindows::new(&self.geometry, &self.windows),
            self.geometry.channels,
        );
        if p.is_prefix() {
            return &xb[..p.len() * c];
        }
        buf.resize(p.len() * c, 0.0);
        p.fill(buf, c, |s| &xb[s * c..(s + 1) * c]);
        buf
    }
}

/// An example's steps as the used windows of a convolution read them:
/// `pad_left` zero steps in front (`same` padding), then the example's
/// steps, cut or zero-filled to the steps those windows reach.
pub(crate) struct PaddedWindows {
    pad_left: usize,
    steps: usize,
    len: usize,
}

impl PaddedWindows {
    /// The layout for `geometry`'s examples and the windows `windows` keeps.
    pub(crate) fn new(geometry: &Geometry, windows: &MaxWindows) -> PaddedWindows {
        PaddedWindows {
            pad_left: geometry.pad_left,
            steps: geometry.steps,
            len: (windows.used_steps() - 1) * geometry.stride + geometry.size,
        }
    }

    /// Steps in a padded example.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The padded steps that hold the example's steps `0 ..`.
    fn real(&self) -> std::ops::Range<usize> {
        let start = self.pad_left.min(self.len);
        start..start + self.steps.min(self.len - start)
    }

    /// Whether a padded example is just the example's first steps (no copy needed).
    pub(crate) fn is_prefix(&self) -> bool {
        self.pad_left == 0 && self.len <= self.steps
    }

    /// Writes a padded example into `buf` (`len() · c` values): step `s`'s
    /// `c` values are `step(s)`, padding is zeros.
    pub(crate) fn fill<'a>(&self, buf: &mut [f32], c: usize, step: impl Fn(usize) -> &'a [f32]) {
        let real = self.real();
        buf[..real.start * c].fill(0.0);
        for (s, dst) in buf[real.start * c..real.end * c]
            .chunks_exact_mut(c)
            .enumerate()
        {
            dst.copy_from_slice(step(s));
        }
        buf[real.end * c..].fill(0.0);
    }

    /// The example's steps `0 ..` within a padded buffer (`c` values a step).
    pub(crate) fn real_steps<'a>(&self, buf: &'a [f32], c: usize) -> &'a [f32] {
        let real = self.real();
        &buf[real.start * c..real.end * c]
    }
}

impl CustomOp3 for ConvPool {
    fn name(&self) -> &'static str {
        "conv1d-pool"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let x = f32_values(s1, l1, "conv1d input")?;
        let kernel = f32_values(s2, l2, "conv1d kernel")?;
        let bias = f32_values(s3, l3, "conv1d bias")?;
        let (g, w, f) = (&self.geometry, &self.windows, self.filters);
        let width = g.size * g.channels;
        if x.len() != g.batch * g.steps * g.channels || kernel.len() != width * f {
            bail!("conv1d-pool: input or kernel size does not match the layer");
        }
        let used = w.used_steps();
        let per_in = g.steps * g.channels;
        let lda = g.stride * g.channels;
        let (y, steps) = pool_examples(self.arch, g.batch, w, f, bias, self.act, |b, z, buf| {
            let xp = self.padded(&x[b * per_in..(b + 1) * per_in], buf);
            self.arch.dispatch(Windows {
                z,
                x: xp,
                lda,
                kernel,
                used,
                width,
                f,
            });
        });
        self.argmax.keep(steps);
        Ok((CpuStorage::F32(y), (g.batch, w.out, f).into()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        kernel: &Tensor,
        bias: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (g, f) = (&self.geometry, self.filters);
        let width = g.size * g.channels;
        let (argmax, gz) = self
            .argmax
            .take_with_gradient("conv1d-pool", grad, res, self.act)?;
        let kt = with_f32(kernel, "conv1d kernel", |k| transpose(k, width, f))?;
        let per_in = g.steps * g.channels;
        let per_out = self.windows.out * f;
        let per_task = examples_per_task(g.batch);
        let mut dx = vec![0f32; g.batch * per_in];
        let partial: Vec<(Vec<f32>, Vec<f32>)> = with_f32(x, "conv1d input", |x| {
            dx.par_chunks_mut(per_task * per_in)
                .enumerate()
                .map(|(task, dxc)| {
                    let (mut dkt, mut db) = (vec![0f32; f * width], vec![0f32; f]);
                    let padded = PaddedWindows::new(g, &self.windows);
                    let (mut buf, mut dbuf) = (Vec::new(), vec![0f32; padded.len() * g.channels]);
                    let b0 = task * per_task;
                    for (i, dxb) in dxc.chunks_exact_mut(per_in).enumerate() {
                        let b = b0 + i;
                        let xp = self.padded(&x[b * per_in..(b + 1) * per_in], &mut buf);
                        dbuf.fill(0.0);
                        let span = b * per_out..(b + 1) * per_out;
                        self.arch.dispatch(WindowGrads {
                            gz: &gz[span.clone()],
                            argmax: &argmax[span],
                            xp,
                            kt: &kt,
                            g,
                            f,
                            dkt: &mut dkt,
                            db: &mut db,
                            dxp: &mut dbuf,
                        });
                        // The padded buffer's real steps are the example's gradient.
                        let real = padded.real_steps(&dbuf, g.channels);
                        dxb[..real.len()].copy_from_slice(real);
                    }
                    (dkt, db)
                })
                .collect()
        })?;
        let (mut dkt, mut db) = (vec![0f32; f * width], vec![0f32; f]);
        for (k, b) in &partial {
            add_into(&mut dkt, k);
            add_into(&mut db, b);
        }
        let dev = Device::Cpu;
        let dk = kernel
            .track_op()
            .then(|| Tensor::from_vec(transpose(&dkt, f, width), kernel.shape(), &dev))
            .transpose()?;
        let db = bias
            .track_op()
            .then(|| Tensor::from_vec(db, bias.shape(), &dev))
            .transpose()?;
        let dx = Tensor::from_vec(dx, (g.batch, g.steps, g.channels), &dev)?;
        Ok((Some(dx), dk, db))
    }
}

/// Backward of one example, run under `pulp`'s dispatch: for each pooled
/// value with gradient `g` at convolution step `t`, the kernel column gets
/// `g ·` the window of `t` and the window's input gradient gets `g ·` the
/// kernel column (`kt`: the kernel transposed, one row of `kernel_size ·
/// channels` per filter). `xp` and `dxp` are padded examples ([`PaddedWindows`]).
pub(crate) struct WindowGrads<'a> {
    pub gz: &'a [f32],
    pub argmax: &'a [u32],
    pub xp: &'a [f32],
    pub kt: &'a [f32],
    pub g: &'a Geometry,
    pub f: usize,
    pub dkt: &'a mut [f32],
    pub db: &'a mut [f32],
    pub dxp: &'a mut [f32],
}

impl WithSimd for WindowGrads<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let WindowGrads {
            gz,
            argmax,
            xp,
            kt,
            g,
            f,
            dkt,
            db,
            dxp,
        } = self;
        let width = g.size * g.channels;
        for (gw, aw) in gz.chunks_exact(f).zip(argmax.chunks_exact(f)) {
            for (fi, (&gv, &t)) in gw.iter().zip(aw).enumerate() {
                if gv == 0.0 {
                    continue;
                }
                let at = t as usize * g.stride * g.channels;
                db[fi] += gv;
                axpy(
                    simd,
                    &mut dkt[fi * width..(fi + 1) * width],
                    gv,
                    &xp[at..at + width],
                );
                axpy(
                    simd,
                    &mut dxp[at..at + width],
                    gv,
                    &kt[fi * width..(fi + 1) * width],
                );
            }
        }
    }
}

/// The forward product of one example, run under `pulp`'s dispatch.
struct Windows<'a> {
    z: &'a mut [f32],
    x: &'a [f32],
    lda: usize,
    kernel: &'a [f32],
    used: usize,
    width: usize,
    f: usize,
}

impl WithSimd for Windows<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        windows_times(
            simd,
            self.z,
            self.x,
            self.lda,
            self.kernel,
            self.used,
            self.width,
            self.f,
        )
    }
}
