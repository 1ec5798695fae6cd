//! `lstm` step math (Keras `LSTM`, gate order i, f, c, o):
//! `z = x·W + b + h·U`, `i, f, o = σ(z_i, z_f, z_o)`, `g = act(z_c)`,
//! `c' = f·c + i·g`, `h' = o · act(c')`.
//!
//! Parameters `4 · units · (inputs + units + 1)`; the forget-gate bias starts
//! at 1 (Keras `unit_forget_bias`).

use super::kernels::{activate, deriv};
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
    let u = dh.len();
    let (i, rest) = g.split_at(u);
    let (f, rest) = rest.split_at(u);
    let (gg, o) = rest.split_at(u);
    let (dzi, rest) = dz.split_at_mut(u);
    let (dzf, rest) = rest.split_at_mut(u);
    let (dzc, dzo) = rest.split_at_mut(u);
    for j in 0..u {
        let dct = dc[j] + dh[j] * o[j] * deriv(act, ac[j]);
        dzo[j] = dh[j] * ac[j] * deriv(rec, o[j]);
        dzi[j] = dct * gg[j] * deriv(rec, i[j]);
        dzf[j] = dct * c_prev[j] * deriv(rec, f[j]);
        dzc[j] = dct * i[j] * deriv(act, gg[j]);
        dc[j] = dct * f[j];
    }
}
