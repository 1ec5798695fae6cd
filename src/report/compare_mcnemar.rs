//! The McNemar column of `kerros compare`: each run against a baseline run,
//! paired on the same test examples.

use super::compare::Comparison;
use super::predictions::TestPredictions;
use crate::metrics::significance::{mcnemar_paired, McNemar};
use std::collections::{BTreeMap, HashMap};

/// McNemar's test of `first` against `second`, pairing examples by id;
/// `None` when the two were not scored on the same test examples (their id
/// sets differ, or an id repeats).
pub fn mcnemar_between(first: &TestPredictions, second: &TestPredictions) -> Option<McNemar> {
    if first.ids.len() != second.ids.len() {
        return None;
    }
    let position: HashMap<i64, usize> = second
        .ids
        .iter()
        .enumerate()
        .map(|(i, &id)| (id, i))
        .collect();
    if position.len() != second.ids.len() {
        return None;
    }
    let (a, b) = (first.correct(), second.correct());
    let mut paired = Vec::with_capacity(a.len());
    for (i, id) in first.ids.iter().enumerate() {
        paired.push(b[*position.get(id)?]);
        // Same example, same truth: otherwise they are different test sets.
        if first.truth[i] != second.truth[position[id]] {
            return None;
        }
    }
    mcnemar_paired(&a, &paired)
}

/// A p-value as shown: four decimals, `<0.0001` below that.
pub fn p_value_text(p: f64) -> String {
    if p < 0.0001 {
        "<0.0001".to_string()
    } else {
        format!("{p:.4}")
    }
}

impl Comparison {
    /// Add the column `p vs <baseline> (McNemar)`: each run's McNemar p-value
    /// against run `baseline`; `baseline` for the baseline itself, `n/a`
    /// for a run without recorded predictions or scored on other test
    /// examples. An error names the runs when `baseline` is not one of them.
    pub fn add_mcnemar(&mut self, baseline: &str) -> Result<(), String> {
        let Some(base) = self.records.iter().find(|r| r.name == baseline) else {
            let names: Vec<&str> = self.records.iter().map(|r| r.name.as_str()).collect();
            return Err(format!(
                "--baseline `{baseline}` is not one of the runs compared: {}",
                names.join(", ")
            ));
        };
        let base = base.predictions.clone();
        let mut cells = BTreeMap::new();
        for r in &self.records {
            let cell = if r.name == baseline {
                "baseline".to_string()
            } else {
                match (&base, &r.predictions) {
                    (Some(b), Some(p)) => {
                        mcnemar_between(b, p).map_or("n/a".to_string(), |m| p_value_text(m.p_value))
                    }
                    _ => "n/a".to_string(),
                }
            };
            cells.insert(r.name.clone(), cell);
        }
        self.mcnemar = Some((baseline.to_string(), cells));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preds(ids: &[i64], correct: &[bool]) -> TestPredictions {
        TestPredictions {
            ids: ids.to_vec(),
            truth: vec![1; ids.len()],
            predicted: correct.iter().map(|&c| u32::from(c)).collect(),
        }
    }

    #[test]
    fn pairs_by_id_and_refuses_other_test_sets() {
        let a = preds(&[1, 2, 3, 4], &[true, true, false, true]);
        // Same examples in another order: 2 and 4 right in a, wrong in b.
        let b = preds(&[4, 3, 2, 1], &[false, true, false, true]);
        let m = mcnemar_between(&a, &b).unwrap();
        assert_eq!((m.b, m.c), (2, 1));
        assert!(mcnemar_between(&a, &preds(&[1, 2, 3, 5], &[true; 4])).is_none());
        assert!(mcnemar_between(&a, &preds(&[1, 2, 3], &[true; 3])).is_none());
        assert_eq!(p_value_text(0.5), "0.5000");
        assert_eq!(p_value_text(1e-9), "<0.0001");
    }
}
