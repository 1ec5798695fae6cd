//! Small numeric kernels of the fused recurrence: activations with a
//! vectorisable exponential and a row-major `C += A·B` for the per-step
//! `(batch × units)·(units × gates)` product.
//!
//! Everything is `#[inline(always)]` so that it is compiled inside the
//! recurrence's AVX2/FMA entry points (see `fused.rs`) and auto-vectorised there.

use crate::spec::Activation;

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

/// `c[m×n] += a[m×k] · b[k×n]`, all row-major. For the recurrence's shapes
/// (`k`, `n` ≤ a few hundred) `b` stays in L1 and the inner loop over a row of
/// `c` vectorises; four rows of `c` are updated per pass over `b` so each
/// loaded vector of `b` is used four times.
#[inline(always)]
pub(crate) fn gemm_acc(c: &mut [f32], a: &[f32], b: &[f32], m: usize, k: usize, n: usize) {
    let c = &mut c[..m * n];
    let a = &a[..m * k];
    let b = &b[..k * n];
    let mut i = 0;
    while i + 4 <= m {
        let (c0, rest) = c[i * n..(i + 4) * n].split_at_mut(n);
        let (c1, rest) = rest.split_at_mut(n);
        let (c2, c3) = rest.split_at_mut(n);
        for kk in 0..k {
            let a0 = a[i * k + kk];
            let a1 = a[(i + 1) * k + kk];
            let a2 = a[(i + 2) * k + kk];
            let a3 = a[(i + 3) * k + kk];
            let brow = &b[kk * n..(kk + 1) * n];
            for j in 0..n {
                let bj = brow[j];
                c0[j] = a0.mul_add(bj, c0[j]);
                c1[j] = a1.mul_add(bj, c1[j]);
                c2[j] = a2.mul_add(bj, c2[j]);
                c3[j] = a3.mul_add(bj, c3[j]);
            }
        }
        i += 4;
    }
    while i < m {
        let crow = &mut c[i * n..(i + 1) * n];
        for kk in 0..k {
            let av = a[i * k + kk];
            let brow = &b[kk * n..(kk + 1) * n];
            for (cj, bj) in crow.iter_mut().zip(brow) {
                *cj = av.mul_add(*bj, *cj);
            }
        }
        i += 1;
    }
}

/// The per-step product `C += A·B`, chosen once per chunk: the recurrence is
/// compiled twice (portable, and AVX2/FMA after a runtime check), each with its
/// own implementation of this trait.
pub(crate) trait Gemm {
    /// `c[m×n] += a[m×k] · b[k×n]`, row-major.
    fn gemm_acc(c: &mut [f32], a: &[f32], b: &[f32], m: usize, k: usize, n: usize);
}

/// Plain Rust; auto-vectorised for whatever the build targets.
pub(crate) struct Portable;

impl Gemm for Portable {
    #[inline(always)]
    fn gemm_acc(c: &mut [f32], a: &[f32], b: &[f32], m: usize, k: usize, n: usize) {
        gemm_acc(c, a, b, m, k, n)
    }
}

/// AVX2 + FMA register-tiled kernel. Only used from functions that checked
/// `is_x86_feature_detected!("avx2")` and `("fma")` (see `fused.rs`).
#[cfg(target_arch = "x86_64")]
pub(crate) struct Avx2Fma;

#[cfg(target_arch = "x86_64")]
impl Gemm for Avx2Fma {
    #[inline(always)]
    fn gemm_acc(c: &mut [f32], a: &[f32], b: &[f32], m: usize, k: usize, n: usize) {
        assert!(c.len() >= m * n && a.len() >= m * k && b.len() >= k * n);
        // SAFETY: bounds checked above; the CPU features were checked by the
        // caller before entering the AVX2 code path that uses this type.
        unsafe { gemm_acc_avx2(c, a, b, m, k, n) }
    }
}

/// `C += A·B` with 4×16 register tiles: per step of `k`, two vectors of `B`
/// and four broadcasts of `A` feed eight FMAs into accumulators that stay in
/// registers for the whole `k` loop. Edges fall back to scalar FMAs.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn gemm_acc_avx2(c: &mut [f32], a: &[f32], b: &[f32], m: usize, k: usize, n: usize) {
    use std::arch::x86_64::*;
    let (m4, n16) = (m / 4 * 4, n / 16 * 16);
    let (cp, ap, bp) = (c.as_mut_ptr(), a.as_ptr(), b.as_ptr());
    for i in (0..m4).step_by(4) {
        for j in (0..n16).step_by(16) {
            // SAFETY: i + 3 < m, j + 15 < n and kk < k keep every offset in
            // bounds of the m×n, m×k and k×n slices checked by the caller.
            unsafe {
                let ct = cp.add(i * n + j);
                let mut acc = [[_mm256_setzero_ps(); 2]; 4];
                for (r, row) in acc.iter_mut().enumerate() {
                    row[0] = _mm256_loadu_ps(ct.add(r * n));
                    row[1] = _mm256_loadu_ps(ct.add(r * n + 8));
                }
                for kk in 0..k {
                    let b0 = _mm256_loadu_ps(bp.add(kk * n + j));
                    let b1 = _mm256_loadu_ps(bp.add(kk * n + j + 8));
                    for (r, row) in acc.iter_mut().enumerate() {
                        let av = _mm256_set1_ps(*ap.add((i + r) * k + kk));
                        row[0] = _mm256_fmadd_ps(av, b0, row[0]);
                        row[1] = _mm256_fmadd_ps(av, b1, row[1]);
                    }
                }
                for (r, row) in acc.iter().enumerate() {
                    _mm256_storeu_ps(ct.add(r * n), row[0]);
                    _mm256_storeu_ps(ct.add(r * n + 8), row[1]);
                }
            }
        }
    }
    for i in 0..m {
        let j0 = if i < m4 { n16 } else { 0 };
        if j0 == n {
            continue;
        }
        for kk in 0..k {
            let av = a[i * k + kk];
            for j in j0..n {
                c[i * n + j] = av.mul_add(b[kk * n + j], c[i * n + j]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn gemm_acc_matches_naive() {
        for (m, k, n) in [(7, 5, 9), (8, 32, 128), (66, 128, 32), (5, 3, 35)] {
            check_gemm(m, k, n);
        }
    }

    fn check_gemm(m: usize, k: usize, n: usize) {
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
        let mut c: Vec<f32> = (0..m * n).map(|i| i as f32 * 0.01).collect();
        let mut want = c.clone();
        for i in 0..m {
            for j in 0..n {
                for kk in 0..k {
                    want[i * n + j] += a[i * k + kk] * b[kk * n + j];
                }
            }
        }
        let mut c2 = c.clone();
        gemm_acc(&mut c, &a, &b, m, k, n);
        for (x, y) in c.iter().zip(&want) {
            assert!((x - y).abs() < 1e-4);
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            Avx2Fma::gemm_acc(&mut c2, &a, &b, m, k, n);
            for (x, y) in c2.iter().zip(&want) {
                assert!((x - y).abs() < 1e-4, "avx2 {m}x{k}x{n}");
            }
        }
    }
}
