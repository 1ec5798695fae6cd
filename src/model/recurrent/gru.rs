//! `gru` step math (Keras `GRU` with `reset_after: true`, gate order z, r, h):
//! `x·W + b_in = [x_z, x_r, x_h]`, `h·U + b_rec = [r_z, r_r, r_h]`,
//! `z = σ(x_z + r_z)`, `r = σ(x_r + r_r)`, `ĥ = act(x_h + r ⊙ r_h)`,
//! `h' = z ⊙ h + (1 − z) ⊙ ĥ`.
//!
//! Parameters `3 · units · (inputs + units + 2)`: the bias has two rows
//! (input and recurrent).

use super::kernels::{activate, AnyDerivs, Derivs, TanhSigmoid};
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
    // Cut every slice to its length: no bounds checks, so the loops vectorise.
    let (x, r, g, rh, h_prev) = (
        &x[..3 * u],
        &r[..3 * u],
        &mut g[..3 * u],
        &mut rh[..u],
        &h_prev[..u],
    );
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
    if (act, rec) == (Activation::Tanh, Activation::Sigmoid) {
        backward_row_with(TanhSigmoid, g, rh, h_prev, dh, dx, dr, dh_prev);
    } else {
        backward_row_with(AnyDerivs(act, rec), g, rh, h_prev, dh, dx, dr, dh_prev);
    }
}

/// [`backward_row`] with the derivatives `d`. Every slice is cut to its
/// length first so the loop has no bounds checks and vectorises.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn backward_row_with<D: Derivs>(
    d: D,
    g: &[f32],
    rh: &[f32],
    h_prev: &[f32],
    dh: &[f32],
    dx: &mut [f32],
    dr: &mut [f32],
    dh_prev: &mut [f32],
) {
    let u = dh.len();
    let (gz, rest) = g[..3 * u].split_at(u);
    let (gr, gh) = rest.split_at(u);
    let (dxz, rest) = dx[..3 * u].split_at_mut(u);
    let (dxr, dxh) = rest.split_at_mut(u);
    let (drz, rest) = dr[..3 * u].split_at_mut(u);
    let (drr, drh) = rest.split_at_mut(u);
    let (rh, h_prev, dh_prev) = (&rh[..u], &h_prev[..u], &mut dh_prev[..u]);
    for j in 0..u {
        let (z, r, hh) = (gz[j], gr[j], gh[j]);
        let dph = dh[j] * (1.0 - z) * d.act(hh);
        let dpz = dh[j] * (h_prev[j] - hh) * d.rec(z);
        let dpr = dph * rh[j] * d.rec(r);
        dxz[j] = dpz;
        dxr[j] = dpr;
        dxh[j] = dph;
        drz[j] = dpz;
        drr[j] = dpr;
        drh[j] = dph * r;
        dh_prev[j] = dh[j] * z;
    }
}
