//! The fused recurrence's time loop, forward and backward, for one chunk of
//! batch rows. Each entry point is compiled once per instruction set and
//! chosen at run time by `pulp` (AVX2/FMA on x86, NEON on ARM, portable
//! elsewhere; pulp's AVX-512 level is behind its `x86-v4` feature, not enabled): the per-step product uses that width explicitly
//! ([`gemm_acc`]) and the gate arithmetic is auto-vectorised for it.
//! `pulp::Arch::Scalar` runs the portable build, the reference the tests
//! compare the SIMD paths against.

use super::fused::{Cell, Recurrence};
use super::kernels::{gemm_acc, gemm_acc_at, ROW_TILE};
use super::{gru, lstm, simple_rnn};
use pulp::{Arch, Simd, WithSimd};

/// What one chunk of batch rows keeps for backward, in processing order.
pub(super) struct Chunk {
    row0: usize,
    rows: usize,
    /// Activated gates, `steps × rows × gates·units`.
    gates: Vec<f32>,
    /// States, `(steps + 1) × rows × units` (entry 0 is the zero initial state).
    h: Vec<f32>,
    /// LSTM cell states, `(steps + 1) × rows × units`; empty otherwise.
    c: Vec<f32>,
    /// LSTM `act(c)` or GRU recurrent candidate part `r_h`, `steps × rows × units`.
    aux: Vec<f32>,
}

/// The projected input as the time loop reads it.
pub(super) struct Input<'a> {
    /// `rows × gates·units`, row-major.
    pub xp: &'a [f32],
    /// Token input: the `xp` row of each position.
    pub row_of: Option<&'a [u32]>,
    /// Steps per batch row.
    pub steps: usize,
}

impl Input<'_> {
    /// The `xp` row (of `gu` values) for batch row `row` at position `t`.
    #[inline(always)]
    fn row(&self, row: usize, t: usize, gu: usize) -> &[f32] {
        let pos = row * self.steps + t;
        let r = match self.row_of {
            Some(m) => m[pos] as usize,
            None => pos,
        };
        &self.xp[r * gu..(r + 1) * gu]
    }
}

/// Where backward puts the gradient of each live position's `xp` row.
pub(super) enum DxSink<'a> {
    /// The chunk's slice of a `(batch · steps) × gu` gradient (its rows only,
    /// so positions are counted from the chunk's first row).
    Positions(&'a mut [f32]),
    /// A `distinct tokens × gu` gradient: each position adds into its token's row.
    Rows {
        row_of: &'a [u32],
        acc: &'a mut [f32],
    },
}

impl DxSink<'_> {
    /// Record `dz` for chunk row `r` (batch row `row0 + r`) at position `t`.
    #[inline(always)]
    fn put(&mut self, row0: usize, r: usize, steps: usize, t: usize, dz: &[f32]) {
        let gu = dz.len();
        match self {
            DxSink::Positions(dx) => {
                dx[(r * steps + t) * gu..(r * steps + t + 1) * gu].copy_from_slice(dz)
            }
            DxSink::Rows { row_of, acc } => {
                let k = row_of[(row0 + r) * steps + t] as usize;
                for (a, v) in acc[k * gu..(k + 1) * gu].iter_mut().zip(dz) {
                    *a += v;
                }
            }
        }
    }

    /// Everything recorded (masked positions left zero).
    fn values(&self) -> &[f32] {
        match self {
            DxSink::Positions(dx) => dx,
            DxSink::Rows { acc, .. } => acc,
        }
    }
}

/// `dst = a + b`, element-wise.
#[inline(always)]
fn add_into(dst: &mut [f32], a: &[f32], b: &[f32]) {
    for ((d, x), y) in dst.iter_mut().zip(a).zip(b) {
        *d = x + y;
    }
}

/// Column sums of a row-major `_ × n` matrix added into `acc` (length `n`).
#[inline(always)]
fn add_column_sums(acc: &mut [f32], m: &[f32], n: usize) {
    for row in m.chunks_exact(n) {
        for (a, v) in acc.iter_mut().zip(row) {
            *a += v;
        }
    }
}

/// Whether row `row` is a real step at position `t`.
#[inline(always)]
fn live(mask: Option<&[bool]>, row: usize, steps: usize, t: usize) -> bool {
    mask.is_none_or(|m| m[row * steps + t])
}

/// Run the time loop for batch rows `row0 .. row0 + rows` with `arch`'s
/// instruction set (`pulp::Arch::new()`: the best this CPU has).
#[allow(clippy::too_many_arguments)]
pub(super) fn forward_chunk(
    arch: Arch,
    cfg: &Recurrence,
    input: &Input<'_>,
    uk: &[f32],
    bias: &[f32],
    mask: Option<&[bool]>,
    row0: usize,
    rows: usize,
    out: &mut [f32],
) -> Chunk {
    /// The arguments, carried into the dispatched code.
    struct Forward<'a> {
        cfg: &'a Recurrence,
        input: &'a Input<'a>,
        uk: &'a [f32],
        bias: &'a [f32],
        mask: Option<&'a [bool]>,
        row0: usize,
        rows: usize,
        out: &'a mut [f32],
    }
    impl WithSimd for Forward<'_> {
        type Output = Chunk;
        #[inline(always)]
        fn with_simd<S: Simd>(self, simd: S) -> Chunk {
            let Forward {
                cfg,
                input,
                uk,
                bias,
                mask,
                row0,
                rows,
                out,
            } = self;
            forward_chunk_impl(simd, cfg, input, uk, bias, mask, row0, rows, out)
        }
    }
    arch.dispatch(Forward {
        cfg,
        input,
        uk,
        bias,
        mask,
        row0,
        rows,
        out,
    })
}

/// The time loop for batch rows `row0 .. row0 + rows`; `out` is their slice of the output.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn forward_chunk_impl<S: Simd>(
    simd: S,
    cfg: &Recurrence,
    input: &Input<'_>,
    uk: &[f32],
    bias: &[f32],
    mask: Option<&[bool]>,
    row0: usize,
    rows: usize,
    out: &mut [f32],
) -> Chunk {
    let steps = input.steps;
    let u = cfg.units;
    let gu = cfg.cell.gates() * u;
    let ru = rows * u;
    // Filled step by step below (not zero-filled up front: that memset of
    // megabytes was about 5 % of an LSTM training step).
    let mut gates: Vec<f32> = Vec::with_capacity(steps * rows * gu);
    let mut h = vec![0f32; (steps + 1) * ru];
    let mut c = if cfg.cell == Cell::Lstm {
        vec![0f32; (steps + 1) * ru]
    } else {
        Vec::new()
    };
    let mut aux = if cfg.cell == Cell::Simple {
        Vec::new()
    } else {
        vec![0f32; steps * ru]
    };
    // GRU: the recurrent part and the biased input, per step.
    let (mut rec, mut xb) = if cfg.cell == Cell::Gru {
        (vec![0f32; rows * gu], vec![0f32; rows * gu])
    } else {
        (Vec::new(), Vec::new())
    };
    for s in 0..steps {
        let t = if cfg.reverse { steps - 1 - s } else { s };
        let (h_done, h_rest) = h.split_at_mut((s + 1) * ru);
        let h_prev = &h_done[s * ru..];
        let h_next = &mut h_rest[..ru];
        // The step's gates start as input + bias (simple, LSTM: the product
        // adds to them) or zeros (GRU: its cell writes them).
        match cfg.cell {
            Cell::Simple | Cell::Lstm => {
                for r in 0..rows {
                    let x = input.row(row0 + r, t, gu);
                    gates.extend(x.iter().zip(bias).map(|(x, b)| x + b));
                }
            }
            Cell::Gru => gates.resize((s + 1) * rows * gu, 0.0),
        }
        let g = &mut gates[s * rows * gu..(s + 1) * rows * gu];
        // Blocks of ROW_TILE rows: the block's gates go through the product and
        // the cell arithmetic while they are in L1 (the product's row tile is
        // the same, so the result is the same bits as one product over all rows).
        for r0 in (0..rows).step_by(ROW_TILE) {
            let rb = ROW_TILE.min(rows - r0);
            match cfg.cell {
                Cell::Simple | Cell::Lstm => {
                    gemm_acc(
                        simd,
                        &mut g[r0 * gu..(r0 + rb) * gu],
                        &h_prev[r0 * u..(r0 + rb) * u],
                        uk,
                        rb,
                        u,
                        gu,
                    );
                }
                Cell::Gru => {
                    let (b_in, b_rec) = bias.split_at(gu);
                    for r in r0..r0 + rb {
                        add_into(
                            &mut xb[r * gu..(r + 1) * gu],
                            input.row(row0 + r, t, gu),
                            b_in,
                        );
                        rec[r * gu..(r + 1) * gu].copy_from_slice(b_rec);
                    }
                    gemm_acc(
                        simd,
                        &mut rec[r0 * gu..(r0 + rb) * gu],
                        &h_prev[r0 * u..(r0 + rb) * u],
                        uk,
                        rb,
                        u,
                        gu,
                    );
                }
            }
            for r in r0..r0 + rb {
                let hp = &h_prev[r * u..(r + 1) * u];
                let hn = &mut h_next[r * u..(r + 1) * u];
                let is_live = live(mask, row0 + r, steps, t);
                match cfg.cell {
                    Cell::Simple => {
                        if is_live {
                            simple_rnn::forward_row(cfg.act, &mut g[r * gu..(r + 1) * gu], hn);
                        } else {
                            hn.copy_from_slice(hp);
                        }
                    }
                    Cell::Lstm => {
                        let (c_done, c_rest) = c.split_at_mut((s + 1) * ru);
                        let cp = &c_done[s * ru + r * u..s * ru + (r + 1) * u];
                        let cn = &mut c_rest[r * u..(r + 1) * u];
                        if is_live {
                            lstm::forward_row(
                                cfg.act,
                                cfg.rec_act,
                                &mut g[r * gu..(r + 1) * gu],
                                cp,
                                cn,
                                &mut aux[s * ru + r * u..s * ru + (r + 1) * u],
                                hn,
                            );
                        } else {
                            cn.copy_from_slice(cp);
                            hn.copy_from_slice(hp);
                        }
                    }
                    Cell::Gru => {
                        if is_live {
                            gru::forward_row(
                                cfg.act,
                                cfg.rec_act,
                                &xb[r * gu..(r + 1) * gu],
                                &rec[r * gu..(r + 1) * gu],
                                &mut g[r * gu..(r + 1) * gu],
                                &mut aux[s * ru + r * u..s * ru + (r + 1) * u],
                                hp,
                                hn,
                            );
                        } else {
                            hn.copy_from_slice(hp);
                        }
                    }
                }
                if cfg.return_sequences {
                    let o = cfg.out_pos(s, t);
                    let dst = &mut out[(r * steps + o) * u..(r * steps + o + 1) * u];
                    if !is_live && cfg.zero_output_for_mask {
                        dst.fill(0.0);
                    } else {
                        dst.copy_from_slice(hn);
                    }
                }
            }
        }
    }
    if !cfg.return_sequences {
        out[..ru].copy_from_slice(&h[steps * ru..]);
    }
    Chunk {
        row0,
        rows,
        gates,
        h,
        c,
        aux,
    }
}

/// Backpropagation through time over one chunk with `arch`'s instruction set;
/// see [`backward_chunk_impl`].
#[allow(clippy::too_many_arguments)]
pub(super) fn backward_chunk(
    arch: Arch,
    cfg: &Recurrence,
    ch: &Chunk,
    ut: &[f32],
    mask: Option<&[bool]>,
    steps: usize,
    dout: &[f32],
    dxp: &mut DxSink<'_>,
) -> (Vec<f32>, Vec<f32>) {
    /// The arguments, carried into the dispatched code.
    struct Backward<'a, 'b> {
        cfg: &'a Recurrence,
        ch: &'a Chunk,
        ut: &'a [f32],
        mask: Option<&'a [bool]>,
        steps: usize,
        dout: &'a [f32],
        dxp: &'a mut DxSink<'b>,
    }
    impl WithSimd for Backward<'_, '_> {
        type Output = (Vec<f32>, Vec<f32>);
        #[inline(always)]
        fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
            let Backward {
                cfg,
                ch,
                ut,
                mask,
                steps,
                dout,
                dxp,
            } = self;
            backward_chunk_impl(simd, cfg, ch, ut, mask, steps, dout, dxp)
        }
    }
    arch.dispatch(Backward {
        cfg,
        ch,
        ut,
        mask,
        steps,
        dout,
        dxp,
    })
}

/// BPTT over one chunk: fills the chunk's rows of `dxp` and returns the
/// chunk's gradients of `U` (`units × gates·units`, accumulated step by step
/// as `h_prevᵀ·dr`) and of the bias.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn backward_chunk_impl<S: Simd>(
    simd: S,
    cfg: &Recurrence,
    ch: &Chunk,
    ut: &[f32],
    mask: Option<&[bool]>,
    steps: usize,
    dout: &[f32],
    dxp: &mut DxSink<'_>,
) -> (Vec<f32>, Vec<f32>) {
    let u = cfg.units;
    let gu = cfg.cell.gates() * u;
    let (row0, rows) = (ch.row0, ch.rows);
    let ru = rows * u;
    let mut dr = vec![0f32; rows * gu];
    // GRU: the input-side gradient of one row (it differs from the recurrent `dr`).
    let mut dx_row = vec![0f32; if cfg.cell == Cell::Gru { gu } else { 0 }];
    let mut du = vec![0f32; u * gu];
    let mut dbias = vec![0f32; if cfg.cell == Cell::Gru { 2 * gu } else { gu }];
    let mut dh = vec![0f32; ru];
    let mut dh_prev = vec![0f32; ru];
    let mut dc = if cfg.cell == Cell::Lstm {
        vec![0f32; ru]
    } else {
        Vec::new()
    };
    if !cfg.return_sequences {
        dh.copy_from_slice(&dout[row0 * u..(row0 + rows) * u]);
    }
    for s in (0..steps).rev() {
        let t = if cfg.reverse { steps - 1 - s } else { s };
        for r in 0..rows {
            let is_live = live(mask, row0 + r, steps, t);
            let dhr = &mut dh[r * u..(r + 1) * u];
            if cfg.return_sequences && (is_live || !cfg.zero_output_for_mask) {
                let src = ((row0 + r) * steps + cfg.out_pos(s, t)) * u;
                for (d, g) in dhr.iter_mut().zip(&dout[src..src + u]) {
                    *d += g;
                }
            }
            let dhp = &mut dh_prev[r * u..(r + 1) * u];
            if !is_live {
                // The state was carried over: its gradient passes straight through.
                dhp.copy_from_slice(dhr);
                dr[r * gu..(r + 1) * gu].fill(0.0);
                continue;
            }
            let g = &ch.gates[(s * rows + r) * gu..(s * rows + r + 1) * gu];
            let drr = &mut dr[r * gu..(r + 1) * gu];
            match cfg.cell {
                Cell::Simple => {
                    simple_rnn::backward_row(cfg.act, g, dhr, drr);
                    dxp.put(row0, r, steps, t, drr);
                    dhp.fill(0.0);
                }
                Cell::Lstm => {
                    lstm::backward_row(
                        cfg.act,
                        cfg.rec_act,
                        g,
                        &ch.c[s * ru + r * u..s * ru + (r + 1) * u],
                        &ch.aux[s * ru + r * u..s * ru + (r + 1) * u],
                        dhr,
                        &mut dc[r * u..(r + 1) * u],
                        drr,
                    );
                    dxp.put(row0, r, steps, t, drr);
                    dhp.fill(0.0);
                }
                Cell::Gru => {
                    gru::backward_row(
                        cfg.act,
                        cfg.rec_act,
                        g,
                        &ch.aux[s * ru + r * u..s * ru + (r + 1) * u],
                        &ch.h[s * ru + r * u..s * ru + (r + 1) * u],
                        dhr,
                        &mut dx_row,
                        drr,
                        dhp,
                    );
                    dxp.put(row0, r, steps, t, &dx_row);
                }
            }
        }
        gemm_acc(simd, &mut dh_prev, &dr, ut, rows, gu, u);
        // dU += h_prevᵀ · dr, reading h_prev (`rows × units`) as stored.
        gemm_acc_at(simd, &mut du, &ch.h[s * ru..(s + 1) * ru], &dr, u, rows, gu);
        if cfg.cell == Cell::Gru {
            add_column_sums(&mut dbias[gu..], &dr, gu);
        }
        std::mem::swap(&mut dh, &mut dh_prev);
    }
    // Masked steps left zeros in dxp, so plain column sums are right.
    add_column_sums(&mut dbias[..gu], dxp.values(), gu);
    (du, dbias)
}
