//! The fused recurrence: one candle op that runs a recurrent layer's whole
//! time loop in plain Rust and whose backward is backpropagation through time
//! in one pass.
//!
//! Inputs: the projected input `xp = x·W` for all steps at once
//! (`(batch · steps) × (gates · units)`, computed by an autograd-tracked candle
//! matmul before the op), the recurrent kernel `U` (`units × gates · units`)
//! and the bias (`gates · units`; for GRU `2 × gates · units`, input and
//! recurrent rows). The bias is added inside the op: a candle broadcast add
//! and its reduction backward cost more than the whole recurrence. Per step only the small product
//! `h·U` and the gate arithmetic remain; they run on preallocated buffers.
//! Batch rows are independent, so the batch is split into one chunk per rayon
//! thread and each chunk runs the entire time loop without synchronisation.
//! The forward pass keeps the activated gates and states for backward; the
//! backward pass returns the gradients of `xp`, `U` (`h_prevᵀ·dz` added up
//! step by step) and the bias.
//!
//! Token input: when the layer reads an embedding directly, the op's inputs are
//! the batch's distinct token vectors and the stacked kernels `[W; U]`; it
//! projects each distinct token once (`xp = table[id]·W`, one row per token)
//! and `row_of` gives each position's row. Backward adds each position's
//! gradient into its token's row instead of writing a `(batch · steps)`
//! gradient, and turns those rows into the gradients of the token vectors and
//! of `W` itself, so the megabytes of `xp` and its gradient never pass through
//! candle's autograd (which would zero-fill and add them once more).
//!
//! Masked steps (padding when the embedding has `mask_zero`) carry the state
//! over unchanged; with `return_sequences` their output is the carried state
//! (Keras's default) or zero (`zero_output_for_mask`, which Keras forces on
//! inside `Bidirectional`).

use super::kernels::{matmul_acc, transpose};
use super::time_loop::{backward_chunk, forward_chunk, Chunk, DxSink, Input};
use super::{gru, lstm, simple_rnn};
use crate::model::storage::{f32_values, with_f32};
use crate::model::Distinct;
use crate::spec::Activation;
use candle_core::{bail, CpuStorage, CustomOp3, Device, Layout, Result, Shape, Tensor};
use pulp::Arch;
use rayon::prelude::*;
use std::sync::{Arc, Mutex};

/// The recurrent cell a layer runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cell {
    /// Keras `SimpleRNN`.
    Simple,
    /// Keras `LSTM`.
    Lstm,
    /// Keras `GRU` (`reset_after: true`).
    Gru,
}

impl Cell {
    /// Gate blocks per step: the projected input has `gates() · units` columns.
    pub(crate) fn gates(self) -> usize {
        match self {
            Cell::Simple => simple_rnn::GATES,
            Cell::Lstm => lstm::GATES,
            Cell::Gru => gru::GATES,
        }
    }
}

/// Everything that fixes how the time loop runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Recurrence {
    /// The cell.
    pub cell: Cell,
    /// State size.
    pub units: usize,
    /// Activation of the candidate / state (`activation`).
    pub act: Activation,
    /// Activation of the gates (`recurrent_activation`).
    pub rec_act: Activation,
    /// Output every step instead of the last state.
    pub return_sequences: bool,
    /// Read the steps last to first; outputs stay at their input positions.
    pub reverse: bool,
    /// Output zeros (instead of the carried state) at masked steps.
    pub zero_output_for_mask: bool,
    /// With `reverse` and `return_sequences`: write step outputs at their input
    /// positions (as `Bidirectional` flips them back) instead of in processing
    /// order (a plain Keras layer with `go_backwards`).
    pub align_outputs: bool,
}

impl Recurrence {
    /// The output position of processing step `s`, which reads input position `t`.
    #[inline(always)]
    pub(super) fn out_pos(&self, s: usize, t: usize) -> usize {
        if self.reverse && !self.align_outputs {
            s
        } else {
            t
        }
    }
}

/// Where backward reports the gradient of the layer's own input, for the
/// per-timestep gradient bands: `dx = dxp · Wᵀ` (times the dropout scale).
pub(crate) struct InputProbe {
    /// The input kernel `W` (`inputs × gates·units`), detached.
    pub kernel: Tensor,
    /// The input dropout scale `(batch, 1, inputs)` of this pass, if any.
    pub scale: Option<Tensor>,
    /// Receives `dx` as `(batch, steps, inputs)`.
    pub sink: Arc<Mutex<Option<Tensor>>>,
}

/// Token rows per block of the token projection and its gradients (blocks
/// run on the rayon threads; a fixed size keeps the sums' order fixed).
const PROJECT_ROWS: usize = 256;

/// The op itself; one instance per forward call.
pub(crate) struct FusedRecurrence {
    cfg: Recurrence,
    batch: usize,
    steps: usize,
    /// `batch × steps`, `true` = real step.
    mask: Option<Arc<Vec<bool>>>,
    /// Token input: the `xp` row of each position (`batch × steps`); `None`: row = position.
    row_of: Option<Arc<Vec<u32>>>,
    /// Rows of the projected input: one per position, or per distinct token.
    xp_rows: usize,
    /// Token input: features per token vector (the op projects them itself).
    token_inputs: Option<usize>,
    saved: Mutex<Vec<Chunk>>,
    probe: Option<InputProbe>,
    /// The instruction set the time loop runs with: the best this CPU has.
    arch: Arch,
}

impl FusedRecurrence {
    /// An op for a `batch × steps` input.
    pub(crate) fn new(
        cfg: Recurrence,
        batch: usize,
        steps: usize,
        mask: Option<Arc<Vec<bool>>>,
        probe: Option<InputProbe>,
    ) -> FusedRecurrence {
        FusedRecurrence {
            cfg,
            batch,
            steps,
            mask: mask.filter(|m| m.len() == batch * steps),
            row_of: None,
            xp_rows: batch * steps,
            token_inputs: None,
            saved: Mutex::new(Vec::new()),
            probe,
            arch: Arch::new(),
        }
    }

    /// Token input: the op's first input is the batch's distinct token
    /// vectors (`distinct × inputs`) and its second the stacked kernels
    /// `[W; U]` (`(inputs + units) × gates·units`); the op projects the tokens
    /// itself and position `p` reads row `row_of[p]`. The input probe needs
    /// per-position gradients, so it is dropped.
    pub(crate) fn with_rows(mut self, distinct: &Distinct, inputs: usize) -> FusedRecurrence {
        self.row_of = Some(Arc::clone(&distinct.row_of));
        self.xp_rows = distinct.ids.len();
        self.token_inputs = Some(inputs);
        self.probe = None;
        self
    }

    /// `xp = x·W` for the token vectors `x` (`xp_rows × inputs`), in blocks of
    /// rows over the rayon threads.
    fn project(&self, x: &[f32], w: &[f32], inputs: usize) -> Vec<f32> {
        let gu = self.cfg.cell.gates() * self.cfg.units;
        let mut xp = vec![0f32; self.xp_rows * gu];
        xp.par_chunks_mut(PROJECT_ROWS * gu)
            .zip(x.par_chunks(PROJECT_ROWS * inputs))
            .for_each(|(dst, src)| {
                let rows = dst.len() / gu;
                matmul_acc(self.arch, dst, src, w, (rows, inputs, gu));
            });
        xp
    }

    /// Gradients of the token vectors (`dx = dxp·Wᵀ`) and of `W` (`xᵀ·dxp`)
    /// from the token rows' gradient `dxp`. The partial `dW` of each block of
    /// rows is summed in block order, so the result does not depend on the
    /// number of threads.
    fn project_backward(
        &self,
        x: &[f32],
        w: &[f32],
        dxp: &[f32],
        inputs: usize,
    ) -> (Vec<f32>, Vec<f32>) {
        let gu = self.cfg.cell.gates() * self.cfg.units;
        let wt = transpose(w, inputs, gu);
        let mut dx = vec![0f32; self.xp_rows * inputs];
        let parts: Vec<Vec<f32>> = dx
            .par_chunks_mut(PROJECT_ROWS * inputs)
            .zip(dxp.par_chunks(PROJECT_ROWS * gu))
            .zip(x.par_chunks(PROJECT_ROWS * inputs))
            .map(|((dxb, dzb), xb)| {
                let rows = dxb.len() / inputs;
                matmul_acc(self.arch, dxb, dzb, &wt, (rows, gu, inputs));
                let xt = transpose(xb, rows, inputs);
                let mut dw = vec![0f32; inputs * gu];
                matmul_acc(self.arch, &mut dw, &xt, dzb, (inputs, rows, gu));
                dw
            })
            .collect();
        let mut dw = vec![0f32; inputs * gu];
        for part in &parts {
            for (s, v) in dw.iter_mut().zip(part) {
                *s += v;
            }
        }
        (dx, dw)
    }

    fn rows_per_chunk(&self) -> usize {
        // At least 8 rows per chunk: smaller ones cost more in scheduling than they gain.
        let threads = rayon::current_num_threads().max(1);
        let chunks = threads.min(self.batch.div_ceil(8)).max(1);
        self.batch.div_ceil(chunks).max(1)
    }

    fn out_per_row(&self) -> usize {
        if self.cfg.return_sequences {
            self.steps * self.cfg.units
        } else {
            self.cfg.units
        }
    }

    fn forward(&self, xp: &[f32], uk: &[f32], bias: &[f32]) -> Result<(CpuStorage, Shape)> {
        let (b, t, u) = (self.batch, self.steps, self.cfg.units);
        let gu = self.cfg.cell.gates() * u;
        let n_rows = self.xp_rows;
        let rows_ok = self.row_of.as_ref().is_none_or(|r| r.len() == b * t);
        if xp.len() < n_rows * gu || !rows_ok || uk.len() != u * gu {
            bail!(
                "fused recurrence: projected input has {} values, recurrent kernel {} (expected {} and {})",
                xp.len(),
                uk.len(),
                n_rows * gu,
                u * gu
            );
        }
        let bias_rows = if self.cfg.cell == Cell::Gru { 2 } else { 1 };
        if bias.len() != bias_rows * gu {
            bail!(
                "fused recurrence: bias has {} values, expected {}",
                bias.len(),
                bias_rows * gu
            );
        }
        let opr = self.out_per_row();
        let rpc = self.rows_per_chunk();
        let mut out = vec![0f32; b * opr];
        let mask = self.mask.as_deref().map(Vec::as_slice);
        let input = Input {
            xp,
            row_of: self.row_of.as_deref().map(Vec::as_slice),
            steps: t,
        };
        let cfg = self.cfg;
        let chunks: Vec<Chunk> = out
            .par_chunks_mut(rpc * opr)
            .enumerate()
            .map(|(i, o)| {
                let row0 = i * rpc;
                let rows = o.len() / opr;
                forward_chunk(self.arch, &cfg, &input, uk, bias, mask, row0, rows, o)
            })
            .collect();
        *self
            .saved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = chunks;
        let shape: Shape = if cfg.return_sequences {
            (b, t, u).into()
        } else {
            (b, u).into()
        };
        Ok((CpuStorage::F32(out), shape))
    }

    /// Backpropagation through time: gradients of `xp`, `U` and the bias.
    fn backward(
        &self,
        uk: &Tensor,
        bias_shape: &Shape,
        grad: &Tensor,
    ) -> Result<(Tensor, Tensor, Tensor)> {
        let (b, t, u) = (self.batch, self.steps, self.cfg.units);
        let gu = self.cfg.cell.gates() * u;
        let (dxp, du, dbias) = self.backward_values(uk, grad)?;
        let dev = Device::Cpu;
        let du = Tensor::from_vec(du, (u, gu), &dev)?;
        let rows = dxp.len() / gu;
        let dxp = Tensor::from_vec(dxp, (rows, gu), &dev)?;
        if let Some(p) = &self.probe {
            let mut dx = dxp.matmul(&p.kernel.t()?)?.reshape((b, t, ()))?;
            if let Some(scale) = &p.scale {
                dx = dx.broadcast_mul(scale)?;
            }
            *p.sink
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(dx);
        }
        let dbias = Tensor::from_vec(dbias, bias_shape.clone(), &dev)?;
        Ok((dxp, du, dbias))
    }

    /// Backward of the token input: gradients of the token vectors, of the
    /// stacked kernels `[W; U]` and of the bias.
    fn backward_tokens(
        &self,
        x: &Tensor,
        wu: &Tensor,
        bias_shape: &Shape,
        grad: &Tensor,
        inputs: usize,
    ) -> Result<(Tensor, Tensor, Tensor)> {
        let (u, gu) = (self.cfg.units, self.cfg.cell.gates() * self.cfg.units);
        let uk = wu.narrow(0, inputs, u)?;
        let (dxp, du, dbias) = self.backward_values(&uk, grad)?;
        let w = wu.narrow(0, 0, inputs)?.flatten_all()?.to_vec1::<f32>()?;
        let (dx, mut dwu) = with_f32(x, "token vectors", |x| {
            self.project_backward(x, &w, &dxp, inputs)
        })?;
        dwu.extend_from_slice(&du);
        let dev = Device::Cpu;
        Ok((
            Tensor::from_vec(dx, (self.xp_rows, inputs), &dev)?,
            Tensor::from_vec(dwu, (inputs + u, gu), &dev)?,
            Tensor::from_vec(dbias, bias_shape.clone(), &dev)?,
        ))
    }

    /// BPTT proper: the gradients of `xp` (one row per position or per
    /// distinct token), `U` and the bias, as plain values.
    fn backward_values(
        &self,
        uk: &Tensor,
        grad: &Tensor,
    ) -> Result<(Vec<f32>, Vec<f32>, Vec<f32>)> {
        let (b, t, u) = (self.batch, self.steps, self.cfg.units);
        let gu = self.cfg.cell.gates() * u;
        let dout = grad
            .flatten_all()?
            .to_dtype(candle_core::DType::F32)?
            .to_vec1::<f32>()?;
        let ukv = uk.flatten_all()?.to_vec1::<f32>()?;
        // Uᵀ (gates·units × units) so the per-step dh·Uᵀ is a row-major C += A·B.
        let mut ut = vec![0f32; gu * u];
        for k in 0..u {
            for j in 0..gu {
                ut[j * u + k] = ukv[k * gu + j];
            }
        }
        let saved = self
            .saved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if saved.is_empty() {
            bail!("fused recurrence: backward without a forward pass");
        }
        let rpc = self.rows_per_chunk();
        let mask = self.mask.as_deref().map(Vec::as_slice);
        let cfg = self.cfg;
        let n_rows = self.xp_rows;
        let (dxp, parts) = match self.row_of.as_deref() {
            None => {
                let mut dxp = vec![0f32; b * t * gu];
                let parts: Vec<_> = dxp
                    .par_chunks_mut(rpc * t * gu)
                    .zip(saved.par_iter())
                    .map(|(dx, ch)| {
                        let mut sink = DxSink::Positions(dx);
                        backward_chunk(self.arch, &cfg, ch, &ut, mask, t, &dout, &mut sink)
                    })
                    .collect();
                (dxp, parts)
            }
            Some(row_of) => {
                // Each chunk adds into its own copy of the token rows; summed after.
                let (tables, parts): (Vec<Vec<f32>>, Vec<_>) = saved
                    .par_iter()
                    .map(|ch| {
                        let mut acc = vec![0f32; n_rows * gu];
                        let mut sink = DxSink::Rows {
                            row_of,
                            acc: &mut acc,
                        };
                        let part =
                            backward_chunk(self.arch, &cfg, ch, &ut, mask, t, &dout, &mut sink);
                        (acc, part)
                    })
                    .unzip();
                let mut tables = tables.into_iter();
                let mut dxp = tables.next().unwrap_or_default();
                let others: Vec<Vec<f32>> = tables.collect();
                // Summed in parallel blocks: one thread summing megabytes of
                // rows costs as much as a good part of the time loop.
                const BLOCK: usize = 1 << 14;
                dxp.par_chunks_mut(BLOCK).enumerate().for_each(|(i, dst)| {
                    for other in &others {
                        for (s, v) in dst.iter_mut().zip(&other[i * BLOCK..]) {
                            *s += v;
                        }
                    }
                });
                (dxp, parts)
            }
        };
        let bias_len = if cfg.cell == Cell::Gru { 2 * gu } else { gu };
        let mut du = vec![0f32; u * gu];
        let mut dbias = vec![0f32; bias_len];
        for (du_part, db) in parts {
            for (s, v) in du.iter_mut().zip(&du_part) {
                *s += v;
            }
            for (s, v) in dbias.iter_mut().zip(&db) {
                *s += v;
            }
        }
        Ok((dxp, du, dbias))
    }
}

impl CustomOp3 for FusedRecurrence {
    fn name(&self) -> &'static str {
        "fused-recurrence"
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
        let x = f32_values(s1, l1, "fused recurrence input")?;
        let kernels = f32_values(s2, l2, "recurrent kernel")?;
        let bias = f32_values(s3, l3, "recurrent bias")?;
        let Some(inputs) = self.token_inputs else {
            return self.forward(x, kernels, bias);
        };
        let gu = self.cfg.cell.gates() * self.cfg.units;
        if x.len() != self.xp_rows * inputs || kernels.len() != (inputs + self.cfg.units) * gu {
            bail!(
                "fused recurrence: {} token values and {} kernel values (expected {} and {})",
                x.len(),
                kernels.len(),
                self.xp_rows * inputs,
                (inputs + self.cfg.units) * gu
            );
        }
        let (w, uk) = kernels.split_at(inputs * gu);
        let xp = self.project(x, w, inputs);
        self.forward(&xp, uk, bias)
    }
    fn bwd(
        &self,
        x: &Tensor,
        kernels: &Tensor,
        bias: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (dx, dk, db) = match self.token_inputs {
            Some(inputs) => self.backward_tokens(x, kernels, bias.shape(), grad, inputs)?,
            None => self.backward(kernels, bias.shape(), grad)?,
        };
        Ok((Some(dx), Some(dk), Some(db)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, f: f32) -> Vec<f32> {
        (0..n).map(|i| ((i as f32 + 1.0) * f).sin() * 0.5).collect()
    }

    fn to_vec(t: &Tensor) -> Vec<f32> {
        t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
    }

    /// `|a - b| ≤ 1e-5 · max(1, |b|)` for every pair.
    fn assert_close(got: &[f32], want: &[f32], what: &str) {
        assert_eq!(got.len(), want.len(), "{what}");
        for (i, (a, b)) in got.iter().zip(want).enumerate() {
            assert!(
                (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                "{what}[{i}]: {a} vs {b}"
            );
        }
    }

    /// Output and the gradients of `xp`, `U` and the bias, run with `arch`.
    fn run(cfg: Recurrence, arch: Arch, batch: usize, steps: usize) -> [Vec<f32>; 4] {
        let (u, gu) = (cfg.units, cfg.cell.gates() * cfg.units);
        let bias_len = if cfg.cell == Cell::Gru { 2 * gu } else { gu };
        // Pre-padding of 0, 1 or 2 steps, so masked steps are exercised.
        let mask: Vec<bool> = (0..batch * steps)
            .map(|p| p % steps >= (p / steps) % 3)
            .collect();
        let mut op = FusedRecurrence::new(cfg, batch, steps, Some(Arc::new(mask)), None);
        op.arch = arch;
        let (xp, uk, bias) = (
            values(batch * steps * gu, 0.37),
            values(u * gu, 0.11),
            values(bias_len, 0.53),
        );
        let (out, shape) = op.forward(&xp, &uk, &bias).unwrap();
        let CpuStorage::F32(out) = out else {
            panic!("f32 output")
        };
        let dev = Device::Cpu;
        let grad = Tensor::from_vec(values(out.len(), 0.23), shape, &dev).unwrap();
        let uk = Tensor::from_vec(uk, (u, gu), &dev).unwrap();
        let (dxp, du, db) = op.backward(&uk, &Shape::from(bias_len), &grad).unwrap();
        [out, to_vec(&dxp), to_vec(&du), to_vec(&db)]
    }

    /// The time loop with the CPU's SIMD instruction set against the portable
    /// build (`Arch::Scalar`), for every cell, direction and output mode.
    #[test]
    fn simd_time_loop_matches_scalar_reference() {
        for cell in [Cell::Simple, Cell::Lstm, Cell::Gru] {
            for (return_sequences, reverse) in [(false, false), (true, false), (true, true)] {
                let cfg = Recurrence {
                    cell,
                    units: 20,
                    act: Activation::Tanh,
                    rec_act: Activation::Sigmoid,
                    return_sequences,
                    reverse,
                    zero_output_for_mask: false,
                    align_outputs: false,
                };
                let (batch, steps) = (21, 6);
                let want = run(cfg, Arch::Scalar, batch, steps);
                let got = run(cfg, Arch::new(), batch, steps);
                for (name, (g, w)) in ["out", "dxp", "dU", "dbias"]
                    .iter()
                    .zip(got.iter().zip(&want))
                {
                    assert!(w.iter().any(|v| *v != 0.0), "{cell:?} {name} is all zeros");
                    assert_close(
                        g,
                        w,
                        &format!("{cell:?} seq={return_sequences} rev={reverse} {name}"),
                    );
                }
            }
        }
    }

    /// The token input (projection and its gradients inside the op) against
    /// the position input with `xp = x[row_of]·W` computed by candle, with
    /// more distinct tokens than one projection block.
    #[test]
    fn token_input_matches_projected_positions() {
        let cfg = Recurrence {
            cell: Cell::Lstm,
            units: 8,
            act: Activation::Tanh,
            rec_act: Activation::Sigmoid,
            return_sequences: false,
            reverse: false,
            zero_output_for_mask: false,
            align_outputs: false,
        };
        let (batch, steps, inputs, tokens) = (40, 15, 5, 2 * PROJECT_ROWS + 17);
        let gu = 4 * cfg.units;
        // 7919 is prime, so the 600 positions use every one of the tokens.
        let row_of: Vec<u32> = (0..batch * steps)
            .map(|p| (p * 7919 % tokens) as u32)
            .collect();
        let distinct = Distinct {
            ids: Arc::new((0..tokens as u32).collect()),
            row_of: Arc::new(row_of.clone()),
        };
        let dev = Device::Cpu;
        let var =
            |v: Vec<f32>, shape: &[usize]| candle_core::Var::from_vec(v, shape, &dev).unwrap();
        let x = var(values(tokens * inputs, 0.29), &[tokens, inputs]);
        let w = var(values(inputs * gu, 0.17), &[inputs, gu]);
        let uk = var(values(cfg.units * gu, 0.11), &[cfg.units, gu]);
        let b = var(values(gu, 0.53), &[gu]);
        let loss = |y: &Tensor| {
            let weights = Tensor::from_vec(values(y.elem_count(), 0.23), y.shape(), &dev).unwrap();
            (y * weights).unwrap().sum_all().unwrap()
        };
        let kernels = Tensor::cat(&[w.as_tensor(), uk.as_tensor()], 0).unwrap();
        let op = FusedRecurrence::new(cfg, batch, steps, None, None).with_rows(&distinct, inputs);
        let y_tok = x
            .as_tensor()
            .apply_op3(&kernels, b.as_tensor(), op)
            .unwrap();
        let g_tok = loss(&y_tok).backward().unwrap();
        let idx = Tensor::from_vec(row_of, batch * steps, &dev).unwrap();
        let xp = x
            .as_tensor()
            .index_select(&idx, 0)
            .unwrap()
            .matmul(w.as_tensor())
            .unwrap();
        let op = FusedRecurrence::new(cfg, batch, steps, None, None);
        let y_pos = xp.apply_op3(uk.as_tensor(), b.as_tensor(), op).unwrap();
        let g_pos = loss(&y_pos).backward().unwrap();
        let close = |got: &[f32], want: &[f32], what: &str| {
            assert_eq!(got.len(), want.len(), "{what}");
            assert!(want.iter().any(|v| *v != 0.0), "{what} is all zeros");
            for (i, (a, b)) in got.iter().zip(want).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-4 * b.abs().max(1.0),
                    "{what}[{i}]: {a} vs {b}"
                );
            }
        };
        close(&to_vec(&y_tok), &to_vec(&y_pos), "output");
        for (name, v) in [("x", &x), ("W", &w), ("U", &uk), ("bias", &b)] {
            let grad = |g: &candle_core::backprop::GradStore| to_vec(g.get(v.as_tensor()).unwrap());
            close(&grad(&g_tok), &grad(&g_pos), name);
        }
    }
}
