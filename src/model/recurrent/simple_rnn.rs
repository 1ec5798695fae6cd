//! `simple_rnn` step math (Keras `SimpleRNN`): `h_t = act(x_t·W + b + h_{t-1}·U)`.
//!
//! One gate block; parameters `units · (inputs + units + 1)`.

use super::kernels::{activate, deriv};
use crate::spec::Activation;

/// Gate blocks per step (the projected input has `GATES · units` columns).
pub(crate) const GATES: usize = 1;

/// Keras parameter count: `u(in + u + 1)`.
pub(crate) fn params(inputs: usize, units: usize) -> usize {
    units * (inputs + units + 1)
}

/// One row of one step: `g` holds `x·W + b + h·U` on entry and the new state on exit.
#[inline(always)]
pub(crate) fn forward_row(act: Activation, g: &mut [f32], h: &mut [f32]) {
    activate(act, g);
    h.copy_from_slice(g);
}

/// Backward of one row: `dz = dh · act'(h)`, the gradient of the step's
/// pre-activation (both its input and its recurrent part).
#[inline(always)]
pub(crate) fn backward_row(act: Activation, g: &[f32], dh: &[f32], dz: &mut [f32]) {
    for ((d, &y), &dh) in dz.iter_mut().zip(g).zip(dh) {
        *d = dh * deriv(act, y);
    }
}
