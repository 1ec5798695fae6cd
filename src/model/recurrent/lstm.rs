//! `lstm` step math (Keras `LSTM`, gate order i, f, c, o):
//! `z = x·W + b + h·U`, `i, f, o = σ(z_i, z_f, z_o)`, `g = act(z_c)`,
//! `c' = f·c + i·g`, `h' = o · act(c')`.
//!
//! Parameters `4 · units · (inputs + units + 1)`; the forget-gate bias starts
//! at 1 (Keras `unit_forget_bias`).

use super::kernels::{activate, AnyDerivs, Derivs, TanhSigmoid};
use crate::spec::Activation;

/// Gate blocks per step: input, forget, cell candidate, output.
pub(crate) const GATES: usize = 4;

/// Keras parameter count: `4u(in + u + 1)`.
pub(crate) fn params(inputs: usize, units: usize) -> usize {
    4 * units * (inputs + units + 1)
}

/// One row of one step. `g` (4u) holds the pre-activations on entry and the
/// activated gates on exit; writes the new cell `c`, `ac = act(c)` and `h`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn forward_row(
    act: Activation,
    rec: Activation,
    g: &mut [f32],
    c_prev: &[f32],
    c: &mut [f32],
    ac: &mut [f32],
    h: &mut [f32],
) {
    let u = c.len();
    // Cut every slice to its length: no bounds checks, so the loops vectorise.
    let (g, c_prev, ac, h) = (&mut g[..4 * u], &c_prev[..u], &mut ac[..u], &mut h[..u]);
    activate(rec, &mut g[..2 * u]);
    activate(act, &mut g[2 * u..3 * u]);
    activate(rec, &mut g[3 * u..4 * u]);
    let (i, rest) = g.split_at(u);
    let (f, rest) = rest.split_at(u);
    let (gg, o) = rest.split_at(u);
    for j in 0..u {
        c[j] = f[j] * c_prev[j] + i[j] * gg[j];
    }
    ac.copy_from_slice(c);
    activate(act, ac);
    for j in 0..u {
        h[j] = o[j] * ac[j];
    }
}

/// Backward of one row. `dc` holds the gradient reaching the new cell state on
/// entry and the one reaching the previous cell state on exit; `dz` (4u)
/// receives the gradient of the pre-activations.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward_row(
    act: Activation,
    rec: Activation,
    g: &[f32],
    c_prev: &[f32],
    ac: &[f32],
    dh: &[f32],
    dc: &mut [f32],
    dz: &mut [f32],
) {
    if (act, rec) == (Activation::Tanh, Activation::Sigmoid) {
        backward_row_with(TanhSigmoid, g, c_prev, ac, dh, dc, dz);
    } else {
        backward_row_with(AnyDerivs(act, rec), g, c_prev, ac, dh, dc, dz);
    }
}

/// [`backward_row`] with the derivatives `d`. Every slice is cut to its
/// length first so the loop has no bounds checks and vectorises.
#[inline(always)]
fn backward_row_with<D: Derivs>(
    d: D,
    g: &[f32],
    c_prev: &[f32],
    ac: &[f32],
    dh: &[f32],
    dc: &mut [f32],
    dz: &mut [f32],
) {
    let u = dh.len();
    let (i, rest) = g[..4 * u].split_at(u);
    let (f, rest) = rest.split_at(u);
    let (gg, o) = rest.split_at(u);
    let (dzi, rest) = dz[..4 * u].split_at_mut(u);
    let (dzf, rest) = rest.split_at_mut(u);
    let (dzc, dzo) = rest.split_at_mut(u);
    let (c_prev, ac, dc) = (&c_prev[..u], &ac[..u], &mut dc[..u]);
    for j in 0..u {
        let dct = dc[j] + dh[j] * o[j] * d.act(ac[j]);
        dzo[j] = dh[j] * ac[j] * d.rec(o[j]);
        dzi[j] = dct * gg[j] * d.rec(i[j]);
        dzf[j] = dct * c_prev[j] * d.rec(f[j]);
        dzc[j] = dct * i[j] * d.act(gg[j]);
        dc[j] = dct * f[j];
    }
}
