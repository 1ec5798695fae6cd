//! Vose's alias table: draws an index with probability proportional to its
//! weight in O(1), for the negative samples (word2vec's unigram^0.75 noise).

/// Sampling table over `0..n`.
#[derive(Debug, Clone)]
pub struct AliasTable {
    /// Probability of keeping column `i` (else take `alias[i]`), scaled to u32.
    keep: Vec<u32>,
    alias: Vec<u32>,
}

impl AliasTable {
    /// A table for `weights` (non-negative, not all zero).
    pub fn new(weights: &[f64]) -> AliasTable {
        let n = weights.len();
        let total: f64 = weights.iter().sum();
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let mut keep = vec![u32::MAX; n];
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..n).partition(|&i| scaled[i] < 1.0);
        while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
            keep[s] = (scaled[s] * u32::MAX as f64) as u32;
            alias[s] = l as u32;
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // Whatever is left holds (up to rounding) probability 1: keep it.
        AliasTable { keep, alias }
    }

    /// One draw from 64 random bits: the high 32 pick the column, the low 32
    /// the coin.
    #[inline]
    pub fn sample(&self, bits: u64) -> u32 {
        let column = (((bits >> 32) * self.keep.len() as u64) >> 32) as usize;
        if (bits as u32) < self.keep[column] || self.keep[column] == u32::MAX {
            column as u32
        } else {
            self.alias[column]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::doc_vectors::rng::XorShift;

    #[test]
    fn draws_follow_the_weights() {
        let weights = [1.0, 0.0, 3.0, 6.0];
        let table = AliasTable::new(&weights);
        let mut rng = XorShift::new(7);
        let mut counts = [0usize; 4];
        let n = 200_000;
        for _ in 0..n {
            counts[table.sample(rng.next_u64()) as usize] += 1;
        }
        for (c, w) in counts.iter().zip(weights) {
            let p = *c as f64 / n as f64;
            assert!((p - w / 10.0).abs() < 0.005, "{counts:?}");
        }
        assert_eq!(counts[1], 0);
    }
}
