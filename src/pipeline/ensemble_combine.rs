//! The arithmetic of an `ensemble:` spec: the mean of the members' class
//! probabilities, or a stacked multinomial logistic regression on their
//! log-probabilities fitted on the validation split.

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// One member's class probabilities: one row per example, one column per class.
pub type Probabilities = Vec<Vec<f32>>;

/// Probabilities below this are clipped before a logarithm (a member that
/// is certain and wrong must not give an infinite feature or loss).
const FLOOR: f64 = 1e-7;

/// Full-batch gradient steps of the stacking fit: the problem is convex and
/// its features standardised, so a fixed count converges and is reproducible.
const STACK_STEPS: usize = 600;
/// Step size of the stacking fit.
const STACK_RATE: f64 = 0.5;
/// L2 penalty of the stacking weights (keeps two near-copies of one member
/// from getting large opposite weights).
const STACK_L2: f64 = 1e-3;

/// The element-wise mean of `members` (each `n × k`).
pub fn mean(members: &[Probabilities]) -> Result<Probabilities> {
    let (n, k) = shape(members)?;
    let m = members.len() as f32;
    Ok((0..n)
        .map(|i| {
            (0..k)
                .map(|c| members.iter().map(|p| p[i][c]).sum::<f32>() / m)
                .collect()
        })
        .collect())
}

/// A fitted stacking model: softmax over `weights · features + bias`, where
/// the features are the members' standardised log-probabilities.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Stacker {
    /// Per class, one weight per feature (member-major: member 0's classes first).
    pub weights: Vec<Vec<f64>>,
    /// Per class, the intercept.
    pub bias: Vec<f64>,
    /// Per feature, the validation mean subtracted before weighting.
    pub feature_mean: Vec<f64>,
    /// Per feature, the validation standard deviation divided by.
    pub feature_std: Vec<f64>,
}

impl Stacker {
    /// Fit on the members' validation probabilities and the true classes
    /// (`targets[i]` in `0..k`); deterministic (zero start, full batches).
    pub fn fit(members: &[Probabilities], targets: &[usize]) -> Result<Stacker> {
        let (n, k) = shape(members)?;
        if n == 0 {
            bail!("stacking needs a validation split with examples; set `data.validation: {{fraction: 0.1}}` in the members");
        }
        if targets.len() != n {
            bail!("{} validation targets for {n} predictions", targets.len());
        }
        if let Some(&t) = targets.iter().find(|&&t| t >= k) {
            bail!("validation target class {t} is outside the {k} classes");
        }
        let raw = features(members, n);
        let d = raw[0].len();
        let feature_mean: Vec<f64> = (0..d)
            .map(|j| raw.iter().map(|x| x[j]).sum::<f64>() / n as f64)
            .collect();
        let feature_std: Vec<f64> = (0..d)
            .map(|j| {
                let var = raw
                    .iter()
                    .map(|x| (x[j] - feature_mean[j]).powi(2))
                    .sum::<f64>()
                    / n as f64;
                if var > 1e-12 {
                    var.sqrt()
                } else {
                    1.0
                }
            })
            .collect();
        let mut s = Stacker {
            weights: vec![vec![0.0; d]; k],
            bias: vec![0.0; k],
            feature_mean,
            feature_std,
        };
        let x: Vec<Vec<f64>> = raw.iter().map(|r| s.standardise(r)).collect();
        for _ in 0..STACK_STEPS {
            let mut gw = vec![vec![0.0; d]; k];
            let mut gb = vec![0.0; k];
            for (xi, &t) in x.iter().zip(targets) {
                let p = s.softmax(xi);
                for (c, (row, bias)) in gw.iter_mut().zip(gb.iter_mut()).enumerate() {
                    let err = p[c] - if c == t { 1.0 } else { 0.0 };
                    *bias += err;
                    for (g, v) in row.iter_mut().zip(xi) {
                        *g += err * v;
                    }
                }
            }
            for c in 0..k {
                s.bias[c] -= STACK_RATE * gb[c] / n as f64;
                for (w, g) in s.weights[c].iter_mut().zip(&gw[c]) {
                    *w -= STACK_RATE * (g / n as f64 + STACK_L2 * *w);
                }
            }
        }
        Ok(s)
    }

    /// The stacked class probabilities for the members' `members` rows.
    pub fn apply(&self, members: &[Probabilities]) -> Result<Probabilities> {
        let (n, k) = shape(members)?;
        if k != self.bias.len() || members.len() * k != self.feature_mean.len() {
            bail!(
                "the stacker was fitted on {} features, got {} members of {k} classes",
                self.feature_mean.len(),
                members.len()
            );
        }
        Ok(features(members, n)
            .iter()
            .map(|r| {
                self.softmax(&self.standardise(r))
                    .into_iter()
                    .map(|p| p as f32)
                    .collect()
            })
            .collect())
    }

    fn standardise(&self, raw: &[f64]) -> Vec<f64> {
        raw.iter()
            .enumerate()
            .map(|(j, v)| (v - self.feature_mean[j]) / self.feature_std[j])
            .collect()
    }

    fn softmax(&self, x: &[f64]) -> Vec<f64> {
        let z: Vec<f64> = self
            .weights
            .iter()
            .zip(&self.bias)
            .map(|(w, b)| b + w.iter().zip(x).map(|(a, v)| a * v).sum::<f64>())
            .collect();
        let top = z.iter().cloned().fold(f64::MIN, f64::max);
        let e: Vec<f64> = z.iter().map(|v| (v - top).exp()).collect();
        let total: f64 = e.iter().sum();
        e.into_iter().map(|v| v / total).collect()
    }
}

/// Mean cross-entropy (natural log) and accuracy of `probs` against `targets`.
pub fn loss_and_accuracy(probs: &[Vec<f32>], targets: &[usize]) -> (f64, f64) {
    if probs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mut loss = 0.0;
    let mut right = 0usize;
    for (p, &t) in probs.iter().zip(targets) {
        loss -= (p.get(t).copied().unwrap_or(0.0) as f64).max(FLOOR).ln();
        let best = p
            .iter()
            .enumerate()
            .fold((0, f32::MIN), |a, (c, &v)| if v > a.1 { (c, v) } else { a })
            .0;
        right += usize::from(best == t);
    }
    let n = probs.len() as f64;
    (loss / n, right as f64 / n)
}

/// Per example, every member's log-probabilities side by side.
fn features(members: &[Probabilities], n: usize) -> Vec<Vec<f64>> {
    (0..n)
        .map(|i| {
            members
                .iter()
                .flat_map(|p| p[i].iter().map(|&v| (v as f64).max(FLOOR).ln()))
                .collect()
        })
        .collect()
}

/// `(rows, classes)` shared by every member, or an error naming the mismatch.
fn shape(members: &[Probabilities]) -> Result<(usize, usize)> {
    let Some(first) = members.first() else {
        bail!("an ensemble needs at least one member");
    };
    let n = first.len();
    let k = first.first().map_or(0, Vec::len);
    for (m, p) in members.iter().enumerate() {
        if p.len() != n {
            bail!("member {} gave {} rows, member 1 gave {n}", m + 1, p.len());
        }
        if let Some(row) = p.iter().position(|r| r.len() != k) {
            bail!(
                "member {} gave {} class probabilities in row {}, expected {k}",
                m + 1,
                p[row].len(),
                row + 1
            );
        }
    }
    Ok((n, k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_averages_each_class() {
        let a = vec![vec![0.2, 0.8], vec![0.6, 0.4]];
        let b = vec![vec![0.4, 0.6], vec![1.0, 0.0]];
        let m = mean(&[a, b]).unwrap();
        assert!((m[0][0] - 0.3).abs() < 1e-6 && (m[1][1] - 0.2).abs() < 1e-6);
    }

    #[test]
    fn mismatched_members_are_refused() {
        let a = vec![vec![0.2, 0.8]];
        let b = vec![vec![0.2, 0.8], vec![0.5, 0.5]];
        assert!(mean(&[a, b]).unwrap_err().to_string().contains("member 2"));
    }

    #[test]
    fn stacking_trusts_the_informative_member() {
        // Member 0 is right with confidence 0.9, member 1 is a coin flip
        // that is wrong half the time: the stack must weigh member 0.
        let n = 200;
        let targets: Vec<usize> = (0..n).map(|i| i % 2).collect();
        let good: Probabilities = targets
            .iter()
            .map(|&t| {
                if t == 1 {
                    vec![0.1, 0.9]
                } else {
                    vec![0.9, 0.1]
                }
            })
            .collect();
        let noise: Probabilities = (0..n)
            .map(|i| {
                if (i / 2) % 2 == 0 {
                    vec![0.2, 0.8]
                } else {
                    vec![0.8, 0.2]
                }
            })
            .collect();
        let members = vec![good, noise];
        let s = Stacker::fit(&members, &targets).unwrap();
        let w1 = s.weights[1][1] - s.weights[0][1];
        let w3 = s.weights[1][3] - s.weights[0][3];
        assert!(w1 > 1.0 && w3.abs() < 0.1 * w1, "{s:?}");
        let p = s.apply(&members).unwrap();
        let (_, acc) = loss_and_accuracy(&p, &targets);
        assert_eq!(acc, 1.0);
        // Deterministic: a second fit gives identical weights.
        assert_eq!(Stacker::fit(&members, &targets).unwrap(), s);
    }

    #[test]
    fn stacking_without_validation_rows_says_what_to_set() {
        let err = Stacker::fit(&[Vec::new()], &[]).unwrap_err().to_string();
        assert!(err.contains("data.validation"), "{err}");
    }

    #[test]
    fn loss_and_accuracy_of_a_perfect_and_a_wrong_row() {
        let (loss, acc) = loss_and_accuracy(&[vec![0.0, 1.0], vec![1.0, 0.0]], &[1, 1]);
        assert_eq!(acc, 0.5);
        assert!((loss - (-(1e-7f64).ln()) / 2.0).abs() < 1e-9);
    }
}
