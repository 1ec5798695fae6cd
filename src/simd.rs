//! Element-wise SIMD loops shared by the model's kernels and document-vector
//! training. Generic over `pulp`'s [`Simd`] and `#[inline(always)]`, so each
//! is compiled inside its caller's dispatch, once per instruction set.

use pulp::Simd;

/// `y += a · x`, element-wise with fused multiply-adds, in `S`'s vectors
/// (explicitly: auto-vectorised, a 16-value row falls to the 4-wide tail of
/// a loop unrolled for 32), the rest one by one.
#[inline(always)]
pub(crate) fn axpy<S: Simd>(simd: S, y: &mut [f32], a: f32, x: &[f32]) {
    let n = y.len().min(x.len());
    let (yv, yt) = S::as_mut_simd_f32s(&mut y[..n]);
    let (xv, xt) = S::as_simd_f32s(&x[..n]);
    let av = simd.splat_f32s(a);
    for (d, v) in yv.iter_mut().zip(xv) {
        *d = simd.mul_add_f32s(av, *v, *d);
    }
    for (d, v) in yt.iter_mut().zip(xt) {
        *d = a.mul_add(*v, *d);
    }
}
