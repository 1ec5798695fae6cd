//! `gru` step math (Keras `GRU` with `reset_after: true`, gate order z, r, h):
//! `x·W + b_in = [x_z, x_r, x_h]`, `h·U + b_rec = [r_z, r_r, r_h]`,
//! `z = σ(x_z + r_z)`, `r = σ(x_r + r_r)`, `ĥ = act(x_h + r ⊙ r_h)`,
//! `h' = z ⊙ h + (1 − z) ⊙ ĥ`.
//!
//! Parameters `3 · units · (inputs + units + 2)`: the bias has two rows
//! (input and recurrent).

use super::kernels::{activate, deriv};
use crate::spec::Activation;

/// Gate blocks per step: update, reset, candidate.
pub(crate) const GATES: usize = 3;

/// Keras parameter count: `3u(in + u + 2)`.
pub(crate) fn params(inputs: usize, units: usize) -> usize {
    3 * units * (inputs + units + 2)
}

/// One row of one step. `x` (3u) is the projected input, `r` (3u) the
/// recurrent part `h·U + b_rec`; writes the activated gates `[z, r, ĥ]` to
/// `g`, the recurrent candidate part `r_h` to `rh` and the new state to `h`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn forward_row(
    act: Activation,
    rec: Activation,
    x: &[f32],
    r: &[f32],
    g: &mut [f32],
    rh: &mut [f32],
    h_prev: &[f32],
    h: &mut [f32],
) {
    let u = h.len();
    for j in 0..2 * u {
        g[j] = x[j] + r[j];
    }
    activate(rec, &mut g[..2 * u]);
    rh.copy_from_slice(&r[2 * u..3 * u]);
    {
        let (zr, hh) = g.split_at_mut(2 * u);
        for j in 0..u {
            hh[j] = x[2 * u + j] + zr[u + j] * rh[j];
        }
        activate(act, hh);
    }
    for j in 0..u {
        let z = g[j];
        h[j] = z * h_prev[j] + (1.0 - z) * g[2 * u + j];
    }
}

/// Backward of one row. Writes the gradient of the projected input to `dx`
/// (3u), that of the recurrent part `h·U + b_rec` to `dr` (3u), and the direct
/// gradient reaching the previous state (through `z ⊙ h`) to `dh_prev`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward_row(
    act: Activation,
    rec: Activation,
    g: &[f32],
    rh: &[f32],
    h_prev: &[f32],
    dh: &[f32],
    dx: &mut [f32],
    dr: &mut [f32],
    dh_prev: &mut [f32],
) {
    let u = dh.len();
    for j in 0..u {
        let (z, r, hh) = (g[j], g[u + j], g[2 * u + j]);
        let dph = dh[j] * (1.0 - z) * deriv(act, hh);
        let dpz = dh[j] * (h_prev[j] - hh) * deriv(rec, z);
        let dpr = dph * rh[j] * deriv(rec, r);
        dx[j] = dpz;
        dx[u + j] = dpr;
        dx[2 * u + j] = dph;
        dr[j] = dpz;
        dr[u + j] = dpr;
        dr[2 * u + j] = dph * r;
        dh_prev[j] = dh[j] * z;
    }
}
