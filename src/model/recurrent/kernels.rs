//! Small numeric kernels of the fused recurrence: activations with a
//! vectorisable exponential and a row-major `C += A·B` for the per-step
//! `(batch × units)·(units × gates)` product.
//!
//! Everything is `#[inline(always)]` so that it is compiled inside the
//! recurrence's `pulp` dispatch (see `time_loop.rs`), once per instruction
//! set, and auto-vectorised there.

use crate::spec::Activation;
use pulp::Simd;

/// `e^x` for `x` clamped to the finite f32 range: Cody–Waite range reduction
/// and the Cephes `expf` polynomial; branch-free, so loops over it vectorise
/// (libm's `expf` is a scalar call). Relative error about 2e-7.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.clamp(-87.3, 88.3);
    let n = (x * LOG2E + 0.5).floor();
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_2e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 0.166_666_65;
    p = p * r + 0.5;
    let e = p * r * r + r + 1.0;
    // 2^n without a float→int cast (a saturating `as` cast does not vectorise):
    // adding 2^23 puts the integer n + 127 ∈ [1, 254] in the low mantissa bits.
    let biased = (n + (127.0 + 8_388_608.0)).to_bits() - 0x4B00_0000;
    e * f32::from_bits(biased << 23)
}

/// Logistic sigmoid `1 / (1 + e^-x)`.
#[inline(always)]
pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// Hyperbolic tangent: `1 - 2 / (1 + e^{2x})`, with a Taylor polynomial near 0
/// where that form cancels (both computed and blended, so it stays branch-free).
#[inline(always)]
pub(crate) fn tanh(x: f32) -> f32 {
    let wide = 1.0 - 2.0 / (1.0 + exp(2.0 * x));
    let x2 = x * x;
    let small = x * (1.0 + x2 * (-1.0 / 3.0 + x2 * (2.0 / 15.0 + x2 * (-17.0 / 315.0))));
    if x.abs() < 0.1 {
        small
    } else {
        wide
    }
}

/// Apply `act` to every value in place. Softmax is rejected before a layer is
/// built, so it never reaches here (treated as the identity).
#[inline(always)]
pub(crate) fn activate(act: Activation, v: &mut [f32]) {
    match act {
        Activation::Tanh => v.iter_mut().for_each(|x| *x = tanh(*x)),
        Activation::Sigmoid => v.iter_mut().for_each(|x| *x = sigmoid(*x)),
        Activation::Relu => v.iter_mut().for_each(|x| *x = x.max(0.0)),
        Activation::Linear | Activation::Softmax => {}
    }
}

/// Derivative of `act` written in terms of its output `y = act(x)`
/// (possible for tanh, sigmoid, relu and linear; what backward stores is `y`).
#[inline(always)]
pub(crate) fn deriv(act: Activation, y: f32) -> f32 {
    match act {
        Activation::Tanh => 1.0 - y * y,
        Activation::Sigmoid => y * (1.0 - y),
        Activation::Relu => {
            if y > 0.0 {
                1.0
            } else {
                0.0
            }
        }
        Activation::Linear | Activation::Softmax => 1.0,
    }
}

/// The derivatives of a cell's two activations, as backward uses them: of
/// `activation` (`act`) and of `recurrent_activation` (`rec`), each in terms
/// of the activation's output. [`TanhSigmoid`] (the Keras defaults) has no
/// `match` per element, so the per-element backward loops vectorise;
/// [`AnyDerivs`] serves every other pair.
pub(crate) trait Derivs: Copy {
    /// Derivative of `activation` at output `y`.
    fn act(self, y: f32) -> f32;
    /// Derivative of `recurrent_activation` at output `y`.
    fn rec(self, y: f32) -> f32;
}

/// `activation: tanh`, `recurrent_activation: sigmoid`.
#[derive(Clone, Copy)]
pub(crate) struct TanhSigmoid;

impl Derivs for TanhSigmoid {
    #[inline(always)]
    fn act(self, y: f32) -> f32 {
        1.0 - y * y
    }
    #[inline(always)]
    fn rec(self, y: f32) -> f32 {
        y * (1.0 - y)
    }
}

/// Any pair of activations, through [`deriv`].
#[derive(Clone, Copy)]
pub(crate) struct AnyDerivs(pub Activation, pub Activation);

impl Derivs for AnyDerivs {
    #[inline(always)]
    fn act(self, y: f32) -> f32 {
        deriv(self.0, y)
    }
    #[inline(always)]
    fn rec(self, y: f32) -> f32 {
        deriv(self.1, y)
    }
}

/// Rows of [`gemm_acc`]'s register tile: a product over `m` rows gives the
/// same bits as products over consecutive blocks of `ROW_TILE` rows.
pub(crate) const ROW_TILE: usize = 4;

/// `c[m×n] += a[m×k] · b[k×n]`, all row-major, with `S`'s vectors (AVX2/FMA,
/// NEON, or one lane for the portable build). Register tiles of
/// 4 rows × 2 vectors: per step of `k`, two vectors of `b` and four broadcasts
/// of `a` feed eight FMAs into accumulators that stay in registers for the
/// whole `k` loop. Edges use scalar FMAs. Every `c` value is accumulated over
/// `k` in order with fused multiply-adds, so all widths give the same bits.
#[inline(always)]
pub(crate) fn gemm_acc<S: Simd>(
    simd: S,
    c: &mut [f32],
    a: &[f32],
    b: &[f32],
    m: usize,
    k: usize,
    n: usize,
) {
    let c = &mut c[..m * n];
    let a = &a[..m * k];
    let b = &b[..k * n];
    let width = 2 * S::F32_LANES;
    let (m4, nt) = (m / ROW_TILE * ROW_TILE, n / width * width);
    for i in (0..m4).step_by(ROW_TILE) {
        let a_rows: [&[f32]; ROW_TILE] = std::array::from_fn(|r| &a[(i + r) * k..(i + r + 1) * k]);
        for j in (0..nt).step_by(width) {
            let mut acc = [[simd.splat_f32s(0.0); 2]; ROW_TILE];
            for (r, tile) in acc.iter_mut().enumerate() {
                let at = (i + r) * n + j;
                let (v, _) = S::as_simd_f32s(&c[at..at + width]);
                *tile = [v[0], v[1]];
            }
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
        for (av, brow) in a[i * k..(i + 1) * k].iter().zip(b.chunks_exact(n)) {
            for (cj, bj) in crow.iter_mut().zip(&brow[j0..]) {
                *cj = av.mul_add(*bj, *cj);
            }
        }
    }
}

/// `c[m×n] += aᵀ · b` for `a` stored row-major as `k×m` (so `aᵀ` is `m×k`)
/// and `b` `k×n`: [`gemm_acc`] without transposing `a` first (the per-step
/// `dU += h_prevᵀ·dz` of backpropagation through time reads `h_prev` as
/// stored). Same register tiles and the same order of fused multiply-adds
/// over `k`, so the same bits as [`gemm_acc`] on the transposed `a`.
#[inline(always)]
pub(crate) fn gemm_acc_at<S: Simd>(
    simd: S,
    c: &mut [f32],
    a: &[f32],
    b: &[f32],
    m: usize,
    k: usize,
    n: usize,
) {
    let c = &mut c[..m * n];
    let a = &a[..k * m];
    let b = &b[..k * n];
    let width = 2 * S::F32_LANES;
    let (m4, nt) = (m / ROW_TILE * ROW_TILE, n / width * width);
    for i in (0..m4).step_by(ROW_TILE) {
        for j in (0..nt).step_by(width) {
            let mut acc = [[simd.splat_f32s(0.0); 2]; ROW_TILE];
            for (r, tile) in acc.iter_mut().enumerate() {
                let at = (i + r) * n + j;
                let (v, _) = S::as_simd_f32s(&c[at..at + width]);
                *tile = [v[0], v[1]];
            }
            for (arow, brow) in a.chunks_exact(m).zip(b.chunks_exact(n)) {
                let (bv, _) = S::as_simd_f32s(&brow[j..j + width]);
                let (b0, b1) = (bv[0], bv[1]);
                for (tile, av) in acc.iter_mut().zip(&arow[i..i + ROW_TILE]) {
                    let av = simd.splat_f32s(*av);
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
        for (arow, brow) in a.chunks_exact(m).zip(b.chunks_exact(n)) {
            let av = arow[i];
            for (cj, bj) in crow.iter_mut().zip(&brow[j0..]) {
                *cj = av.mul_add(*bj, *cj);
            }
        }
    }
}

/// [`gemm_acc`] with `arch`'s instruction set, for callers outside a `pulp`
/// dispatch (the token projection and its gradients in `fused.rs`).
pub(crate) fn matmul_acc(
    arch: pulp::Arch,
    c: &mut [f32],
    a: &[f32],
    b: &[f32],
    (m, k, n): (usize, usize, usize),
) {
    /// The arguments, carried into the dispatched code.
    struct Product<'a> {
        c: &'a mut [f32],
        a: &'a [f32],
        b: &'a [f32],
        dims: (usize, usize, usize),
    }
    impl pulp::WithSimd for Product<'_> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: Simd>(self, simd: S) {
            let (m, k, n) = self.dims;
            gemm_acc(simd, self.c, self.a, self.b, m, k, n)
        }
    }
    arch.dispatch(Product {
        c,
        a,
        b,
        dims: (m, k, n),
    })
}

/// The transpose of a row-major `rows × cols` matrix.
pub(crate) fn transpose(m: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0f32; rows * cols];
    for (r, row) in m.chunks_exact(cols).take(rows).enumerate() {
        for (c, v) in row.iter().enumerate() {
            t[c * rows + r] = *v;
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_swaps_rows_and_columns() {
        let m: Vec<f32> = (0..6).map(|i| i as f32).collect();
        assert_eq!(transpose(&m, 2, 3), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    }

    #[test]
    fn exp_sigmoid_tanh_match_std() {
        let mut x = -30.0f32;
        while x < 30.0 {
            let e = exp(x.min(20.0));
            let want = (x.min(20.0) as f64).exp();
            assert!(((e as f64 - want) / want).abs() < 1e-6, "exp({x})");
            assert!((sigmoid(x) as f64 - 1.0 / (1.0 + (-x as f64).exp())).abs() < 1e-6);
            assert!(
                (tanh(x) as f64 - (x as f64).tanh()).abs() < 1e-6,
                "tanh({x})"
            );
            x += 0.0137;
        }
        assert_eq!(tanh(0.0), 0.0);
        assert!(exp(-200.0) >= 0.0 && exp(-200.0) < 1e-37);
        assert!(exp(200.0).is_finite());
    }

    #[test]
    fn gemm_acc_matches_scalar_reference_on_every_path() {
        for (m, k, n) in [
            (7, 5, 9),
            (8, 32, 128),
            (66, 128, 32),
            (5, 3, 35),
            (4, 1, 16),
        ] {
            check_gemm(m, k, n);
        }
    }

    #[test]
    fn gemm_acc_at_matches_gemm_acc_on_the_transpose() {
        /// Runs `gemm_acc_at` with the SIMD width `pulp` picks for this CPU.
        struct At<'a>(&'a mut [f32], &'a [f32], &'a [f32], (usize, usize, usize));
        impl pulp::WithSimd for At<'_> {
            type Output = ();
            #[inline(always)]
            fn with_simd<S: Simd>(self, simd: S) {
                let (m, k, n) = self.3;
                gemm_acc_at(simd, self.0, self.1, self.2, m, k, n)
            }
        }
        for (m, k, n) in [(32, 64, 128), (7, 5, 9), (5, 3, 35), (4, 1, 16)] {
            let a: Vec<f32> = (0..k * m).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
            let c0: Vec<f32> = (0..m * n).map(|i| i as f32 * 0.01).collect();
            let mut want = c0.clone();
            gemm_reference(&mut want, &transpose(&a, k, m), &b, m, k, n);
            let mut scalar = c0.clone();
            gemm_acc_at(pulp::Scalar::new(), &mut scalar, &a, &b, m, k, n);
            let mut simd = c0;
            pulp::Arch::new().dispatch(At(&mut simd, &a, &b, (m, k, n)));
            assert_eq!(scalar, want, "portable {m}x{k}x{n}");
            assert_eq!(simd, want, "simd {m}x{k}x{n}");
        }
    }

    /// The scalar reference: one fused multiply-add per term, in `k` order.
    fn gemm_reference(c: &mut [f32], a: &[f32], b: &[f32], m: usize, k: usize, n: usize) {
        for i in 0..m {
            for j in 0..n {
                for kk in 0..k {
                    c[i * n + j] = a[i * k + kk].mul_add(b[kk * n + j], c[i * n + j]);
                }
            }
        }
    }

    fn check_gemm(m: usize, k: usize, n: usize) {
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
        let c0: Vec<f32> = (0..m * n).map(|i| i as f32 * 0.01).collect();
        let mut want = c0.clone();
        gemm_reference(&mut want, &a, &b, m, k, n);
        let mut scalar = c0.clone();
        gemm_acc(pulp::Scalar::new(), &mut scalar, &a, &b, m, k, n);
        let mut simd = c0;
        matmul_acc(pulp::Arch::new(), &mut simd, &a, &b, (m, k, n));
        // Same FMAs in the same order on every path: equal bits.
        assert_eq!(scalar, want, "portable {m}x{k}x{n}");
        assert_eq!(simd, want, "simd {m}x{k}x{n}");
    }
}
