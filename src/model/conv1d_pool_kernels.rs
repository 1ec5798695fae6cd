//! Numeric kernels of the fused convolution + max pooling (`conv1d_pool.rs`,
//! `conv1d_pool_tokens.rs`): the windows-times-kernel product, the pooling
//! epilogue and the sparse backward updates.
//!
//! Everything is `#[inline(always)]` and generic over `pulp`'s [`Simd`], so it
//! is compiled inside each op's `pulp` dispatch once per instruction set
//! (AVX2/FMA, NEON, or the portable build that `Arch::Scalar` runs and the
//! tests compare against). Every sum is accumulated in the same order with
//! fused multiply-adds on every path.

use crate::model::recurrent::kernels::deriv;
pub(crate) use crate::simd::axpy;
use crate::spec::Activation;
use pulp::{Simd, WithSimd};

/// `c[m×n] = a·b`: row `i` of `a` is `a[i·lda .. i·lda + k]` (rows may
/// overlap: the windows of a `[steps × channels]` sequence are its rows,
/// `stride · channels` apart), `b` is `k × n` row-major, `c` is overwritten.
/// Register tiles of 4 rows × 2 vectors as `recurrent::kernels::gemm_acc`;
/// edges use scalar FMAs in the same `k` order.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn windows_times<S: Simd>(
    simd: S,
    c: &mut [f32],
    a: &[f32],
    lda: usize,
    b: &[f32],
    m: usize,
    k: usize,
    n: usize,
) {
    let c = &mut c[..m * n];
    let b = &b[..k * n];
    let row = |i: usize| &a[i * lda..i * lda + k];
    let width = 2 * S::F32_LANES;
    let (m4, nt) = (m / 4 * 4, n / width * width);
    for i in (0..m4).step_by(4) {
        let a_rows: [&[f32]; 4] = std::array::from_fn(|r| row(i + r));
        for j in (0..nt).step_by(width) {
            let mut acc = [[simd.splat_f32s(0.0); 2]; 4];
            for (kk, brow) in b.chunks_exact(n).enumerate() {
                let (bv, _) = S::as_simd_f32s(&brow[j..j + width]);
                let (b0, b1) = (bv[0], bv[1]);
                for (tile, ar) in acc.iter_mut().zip(&a_rows) {
                    let av = simd.splat_f32s(ar[kk]);
                    tile[0] = simd.mul_add_f32s(av, b0, tile[0]);
                    tile[1] = simd.mul_add_f32s(av, b1, tile[1]);
                }
            }
            for (r, tile) in acc.iter().enumerate() {
                let at = (i + r) * n + j;
                let (v, _) = S::as_mut_simd_f32s(&mut c[at..at + width]);
                v[0] = tile[0];
                v[1] = tile[1];
            }
        }
    }
    for i in 0..m {
        let j0 = if i < m4 { nt } else { 0 };
        if j0 == n {
            continue;
        }
        let crow = &mut c[i * n + j0..(i + 1) * n];
        crow.fill(0.0);
        for (av, brow) in row(i).iter().zip(b.chunks_exact(n)) {
            for (cj, bj) in crow.iter_mut().zip(&brow[j0..]) {
                *cj = av.mul_add(*bj, *cj);
            }
        }
    }
}

/// The max pooling epilogue of one example: `z` holds the convolution
/// (without bias) at steps `0 ..`, `filters` values per step; window `w`
/// covers steps `w·stride .. w·stride + size`. Writes `y = act(max + bias)`
/// per window and filter and the step of the maximum (the first one on ties,
/// as the unfused pooling). `act` is monotone, so `max(act(z + b)) =
/// act(max(z) + b)`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn pool_windows(
    z: &[f32],
    bias: &[f32],
    act: Activation,
    size: usize,
    stride: usize,
    y: &mut [f32],
    argmax: &mut [u32],
) {
    let f = bias.len();
    for (w, (yw, aw)) in y
        .chunks_exact_mut(f)
        .zip(argmax.chunks_exact_mut(f))
        .enumerate()
    {
        let first = w * stride;
        yw.copy_from_slice(&z[first * f..(first + 1) * f]);
        aw.fill(first as u32);
        for t in first + 1..first + size {
            // Branch-free selects, so the loop vectorises.
            for ((m, i), v) in yw.iter_mut().zip(aw.iter_mut()).zip(&z[t * f..(t + 1) * f]) {
                let greater = *v > *m;
                *m = if greater { *v } else { *m };
                *i = if greater { t as u32 } else { *i };
            }
        }
        for (m, b) in yw.iter_mut().zip(bias) {
            *m += b;
        }
        crate::model::recurrent::kernels::activate(act, yw);
    }
}

/// [`pool_windows`] under `pulp`'s dispatch (so its selects vectorise).
pub(crate) struct PoolEpilogue<'a> {
    /// Convolution steps without bias, `filters` values per step.
    pub z: &'a [f32],
    pub bias: &'a [f32],
    pub act: Activation,
    /// Window size and stride, in steps.
    pub size: usize,
    pub stride: usize,
    pub y: &'a mut [f32],
    pub argmax: &'a mut [u32],
}

impl WithSimd for PoolEpilogue<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let PoolEpilogue {
            z,
            bias,
            act,
            size,
            stride,
            y,
            argmax,
        } = self;
        pool_windows(z, bias, act, size, stride, y, argmax)
    }
}

/// The gradient at each window's maximum: `dy · act'(y)` in place (`y` the
/// pooled output the forward pass returned).
#[inline(always)]
pub(crate) fn through_activation(act: Activation, dy: &mut [f32], y: &[f32]) {
    for (g, v) in dy.iter_mut().zip(y) {
        *g *= deriv(act, *v);
    }
}

/// `acc += v`, element-wise.
#[inline(always)]
pub(crate) fn add_into(acc: &mut [f32], v: &[f32]) {
    for (a, b) in acc.iter_mut().zip(v) {
        *a += b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `windows_times` with the SIMD width `pulp` picks for this CPU, or the portable one.
    fn run(
        arch: pulp::Arch,
        a: &[f32],
        lda: usize,
        b: &[f32],
        dims: (usize, usize, usize),
    ) -> Vec<f32> {
        struct Op<'a> {
            c: &'a mut [f32],
            a: &'a [f32],
            lda: usize,
            b: &'a [f32],
            dims: (usize, usize, usize),
        }
        impl pulp::WithSimd for Op<'_> {
            type Output = ();
            #[inline(always)]
            fn with_simd<S: Simd>(self, simd: S) {
                let (m, k, n) = self.dims;
                windows_times(simd, self.c, self.a, self.lda, self.b, m, k, n)
            }
        }
        let (m, _, n) = dims;
        let mut c = vec![f32::NAN; m * n];
        arch.dispatch(Op {
            c: &mut c,
            a,
            lda,
            b,
            dims,
        });
        c
    }

    #[test]
    fn windows_times_matches_a_plain_product_on_every_path() {
        // (m, k, n, lda): overlapping rows (lda < k) as a convolution has, and plain ones.
        for (m, k, n, lda) in [
            (32, 224, 32, 32),
            (7, 5, 9, 5),
            (9, 12, 35, 3),
            (4, 1, 16, 1),
            (6, 6, 3, 12),
        ] {
            let a: Vec<f32> = (0..(m - 1) * lda + k)
                .map(|i| ((i * 37 % 23) as f32 - 11.0) / 7.0)
                .collect();
            let b: Vec<f32> = (0..k * n)
                .map(|i| ((i * 13 % 17) as f32 - 8.0) / 5.0)
                .collect();
            let mut want = vec![0f32; m * n];
            for i in 0..m {
                for j in 0..n {
                    let mut s = 0f32;
                    for kk in 0..k {
                        s = a[i * lda + kk].mul_add(b[kk * n + j], s);
                    }
                    want[i * n + j] = s;
                }
            }
            let scalar = run(pulp::Arch::Scalar, &a, lda, &b, (m, k, n));
            let simd = run(pulp::Arch::new(), &a, lda, &b, (m, k, n));
            assert_eq!(scalar, want, "scalar {m}x{k}x{n}");
            assert_eq!(simd, want, "simd {m}x{k}x{n}");
        }
    }

    #[test]
    fn pool_windows_keeps_the_first_maximum_and_activates_after() {
        // 2 filters, 5 steps, windows of 2 steps 2 apart.
        let z = [1.0, -3.0, 2.0, -1.0, 2.0, -2.0, 0.5, -0.5, 0.0, 9.0];
        let (mut y, mut arg) = (vec![0f32; 4], vec![0u32; 4]);
        pool_windows(&z, &[0.5, 0.25], Activation::Relu, 2, 2, &mut y, &mut arg);
        assert_eq!(y, vec![2.5, 0.0, 2.5, 0.0]);
        assert_eq!(arg, vec![1, 1, 2, 3]);
    }
}
