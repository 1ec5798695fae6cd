//! Keras `Orthogonal` initialiser for recurrent kernels, from a seeded stream.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Standard normal draws by the Box–Muller transform (rand 0.9 without
/// `rand_distr` has no normal distribution).
fn normals(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]: ln is finite
        let u2: f64 = rng.random::<f64>();
        let r = (-2.0 * u1.ln()).sqrt();
        let a = std::f64::consts::TAU * u2;
        out.push(r * a.cos());
        out.push(r * a.sin());
    }
    out.truncate(n);
    out
}

/// A `rows × cols` matrix (row-major) with orthonormal rows (when
/// `rows ≤ cols`) or columns (otherwise), as Keras's `Orthogonal(gain=1)`:
/// the Q factor of a seeded normal matrix, with the signs fixed so that R has
/// a positive diagonal. Q is computed by modified Gram–Schmidt in f64.
pub(crate) fn orthogonal(rng: &mut ChaCha8Rng, rows: usize, cols: usize) -> Vec<f32> {
    // Work on the tall orientation: `n` vectors of length `len` (n ≤ len).
    let (len, n) = (rows.max(cols), rows.min(cols));
    let a = normals(rng, len * n);
    // Vectors are the columns of the `len × n` matrix `a`.
    let mut q: Vec<Vec<f64>> = (0..n)
        .map(|j| (0..len).map(|i| a[i * n + j]).collect())
        .collect();
    for j in 0..n {
        for k in 0..j {
            let (done, rest) = q.split_at_mut(j);
            let dot: f64 = done[k].iter().zip(&rest[0]).map(|(x, y)| x * y).sum();
            for (v, p) in rest[0].iter_mut().zip(&done[k]) {
                *v -= dot * p;
            }
        }
        let norm = q[j].iter().map(|v| v * v).sum::<f64>().sqrt();
        // A zero norm has probability 0 for normal draws; keep the vector finite anyway.
        let inv = if norm > 0.0 { 1.0 / norm } else { 0.0 };
        q[j].iter_mut().for_each(|v| *v *= inv);
    }
    // Gram–Schmidt gives R a positive diagonal, which is Keras's sign convention.
    let mut out = vec![0f32; rows * cols];
    for i in 0..rows {
        for j in 0..cols {
            // rows ≤ cols: row i is vector i; otherwise column j is vector j.
            out[i * cols + j] = if rows <= cols { q[i][j] } else { q[j][i] } as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn rows_are_orthonormal_and_seeded() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (r, c) = (8, 32);
        let m = orthogonal(&mut rng, r, c);
        for i in 0..r {
            for k in 0..r {
                let d: f64 = (0..c)
                    .map(|j| m[i * c + j] as f64 * m[k * c + j] as f64)
                    .sum();
                let want = if i == k { 1.0 } else { 0.0 };
                assert!((d - want).abs() < 1e-5, "row {i}·row {k} = {d}");
            }
        }
        let again = orthogonal(&mut ChaCha8Rng::seed_from_u64(3), r, c);
        assert_eq!(m, again);
        let tall = orthogonal(&mut rng, 6, 4);
        for j in 0..4 {
            let d: f64 = (0..6).map(|i| (tall[i * 4 + j] as f64).powi(2)).sum();
            assert!((d - 1.0).abs() < 1e-5);
        }
    }
}
