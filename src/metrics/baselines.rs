//! What a model that ignores the text would score, so a reader can tell
//! whether the text helped: always the majority training class, and random
//! guessing with the training class frequencies (its *expected* scores,
//! computed exactly from the expected confusion matrix, no sampling). For
//! regression: always predicting the training mean.

use std::collections::BTreeMap;

/// Baseline scores by metric key (the keys of the metric map).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Baselines {
    /// Always predicting the most frequent training class (the first one on
    /// ties); for regression, always predicting the training mean.
    pub majority: BTreeMap<String, f64>,
    /// Expected scores of guessing at random with the training class
    /// frequencies; empty for regression.
    pub stratified: BTreeMap<String, f64>,
}

/// Baselines of a classification task from the class counts of the
/// training and test splits (same class order). `binary` adds the
/// positive-class (index 1) precision, recall and F1.
pub fn classification_baselines(train: &[u64], test: &[u64], binary: bool) -> Baselines {
    let k = train.len().min(test.len());
    let n_train: u64 = train[..k].iter().sum();
    let n_test: f64 = test[..k].iter().sum::<u64>() as f64;
    if k == 0 || n_train == 0 || n_test == 0.0 {
        return Baselines::default();
    }
    let majority = (0..k).fold(0, |m, c| if train[c] > train[m] { c } else { m });
    let q: Vec<f64> = train[..k]
        .iter()
        .map(|&c| c as f64 / n_train as f64)
        .collect();
    // Expected confusion matrices, rows true, columns predicted.
    let always: Vec<Vec<f64>> = (0..k)
        .map(|i| {
            (0..k)
                .map(|j| if j == majority { test[i] as f64 } else { 0.0 })
                .collect()
        })
        .collect();
    let random: Vec<Vec<f64>> = (0..k)
        .map(|i| (0..k).map(|j| test[i] as f64 * q[j]).collect())
        .collect();
    Baselines {
        majority: scores(&always, binary),
        stratified: scores(&random, binary),
    }
}

/// Baselines of a regression task: always predicting the training mean.
pub fn regression_baselines(train: &[f64], test: &[f64]) -> Baselines {
    if train.is_empty() || test.is_empty() {
        return Baselines::default();
    }
    let mean = train.iter().sum::<f64>() / train.len() as f64;
    let n = test.len() as f64;
    let mae = test.iter().map(|y| (y - mean).abs()).sum::<f64>() / n;
    let mse = test.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / n;
    let test_mean = test.iter().sum::<f64>() / n;
    let ss_tot: f64 = test.iter().map(|y| (y - test_mean).powi(2)).sum();
    let mut majority = BTreeMap::new();
    majority.insert("mae".to_string(), mae);
    majority.insert("mse".to_string(), mse);
    majority.insert("rmse".to_string(), mse.sqrt());
    if ss_tot > 0.0 {
        majority.insert("r2".to_string(), 1.0 - mse * n / ss_tot);
    }
    Baselines {
        majority,
        stratified: BTreeMap::new(),
    }
}

/// Accuracy, kappas, F1 scores of a (possibly fractional) confusion matrix.
fn scores(cm: &[Vec<f64>], binary: bool) -> BTreeMap<String, f64> {
    let k = cm.len();
    let total: f64 = cm.iter().flatten().sum();
    let rows: Vec<f64> = cm.iter().map(|r| r.iter().sum()).collect();
    let cols: Vec<f64> = (0..k).map(|j| cm.iter().map(|r| r[j]).sum()).collect();
    let mut out = BTreeMap::new();
    let diag: f64 = (0..k).map(|i| cm[i][i]).sum();
    out.insert("accuracy".to_string(), diag / total);
    let kappa = |w: &dyn Fn(usize, usize) -> f64| -> Option<f64> {
        let (mut obs, mut exp) = (0.0, 0.0);
        for i in 0..k {
            for j in 0..k {
                obs += w(i, j) * cm[i][j] / total;
                exp += w(i, j) * rows[i] * cols[j] / (total * total);
            }
        }
        (exp > 0.0).then(|| 1.0 - obs / exp)
    };
    let weighted = [
        ("cohen_kappa", 0),
        ("cohen_kappa_linear", 1),
        ("cohen_kappa_quadratic", 2),
    ];
    for (key, power) in weighted {
        if let Some(v) = kappa(&|i, j| match power {
            0 => f64::from(u8::from(i != j)),
            1 => i.abs_diff(j) as f64,
            _ => (i.abs_diff(j) as f64).powi(2),
        }) {
            out.insert(key.to_string(), v);
        }
    }
    let prf = |c: usize| -> (f64, f64, f64) {
        let p = if cols[c] > 0.0 {
            cm[c][c] / cols[c]
        } else {
            0.0
        };
        let r = if rows[c] > 0.0 {
            cm[c][c] / rows[c]
        } else {
            0.0
        };
        let f = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        (p, r, f)
    };
    let per: Vec<(f64, f64, f64)> = (0..k).map(prf).collect();
    out.insert(
        "f1_macro".to_string(),
        per.iter().map(|x| x.2).sum::<f64>() / k as f64,
    );
    if binary && k == 2 {
        out.insert("precision".to_string(), per[1].0);
        out.insert("recall".to_string(), per[1].1);
        out.insert("f1".to_string(), per[1].2);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_baselines_by_hand() {
        // Train 30 neg / 70 pos; test 40 neg / 60 pos.
        let b = classification_baselines(&[30, 70], &[40, 60], true);
        assert!((b.majority["accuracy"] - 0.6).abs() < 1e-12);
        assert!(b.majority["cohen_kappa"].abs() < 1e-12);
        // Always positive: precision 0.6, recall 1, F1 0.75.
        assert!((b.majority["f1"] - 0.75).abs() < 1e-12);
        // Random with q = (0.3, 0.7): accuracy 0.4·0.3 + 0.6·0.7 = 0.54.
        assert!((b.stratified["accuracy"] - 0.54).abs() < 1e-12);
        assert!(b.stratified["cohen_kappa"].abs() < 1e-12);
        // Positive class: precision 0.6, recall 0.7 → F1 = 0.84 / 1.3.
        assert!((b.stratified["f1"] - 0.84 / 1.3).abs() < 1e-12);
    }

    #[test]
    fn regression_mean_baseline() {
        let b = regression_baselines(&[1.0, 3.0], &[2.0, 4.0]);
        assert!((b.majority["mae"] - 1.0).abs() < 1e-12);
        assert!((b.majority["rmse"] - 2f64.sqrt()).abs() < 1e-12);
        // SS_tot 2, SS_res 0 + 4 = 4 → R² = -1.
        assert!((b.majority["r2"] + 1.0).abs() < 1e-12);
    }
}
