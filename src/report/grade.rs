//! A graded submission report and the gradebook CSV: what `kerros grade`
//! found for each report, independent of how it was found (that is
//! `pipeline::grade`).

use super::predictions::TestPredictions;
use crate::metrics::significance::Interval;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// The outcome of grading one report, most serious first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The file is not a readable kerros report.
    Unreadable,
    /// The report was edited after it was written (digest, record or page).
    Altered,
    /// The report was made for another assignment (or none).
    WrongAssignment,
    /// A locked key differs from the assignment's template.
    LockedChanged,
    /// The data files' hashes differ from the assignment's data.
    DataMismatch,
    /// `--rerun` gave other metrics.
    NotReproduced,
    /// Written by another kerros version, and not re-run.
    VersionMismatch,
    /// Every check passed.
    Ok,
}

impl Status {
    /// The status as the CSV and the class page write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unreadable => "unreadable",
            Status::Altered => "altered",
            Status::WrongAssignment => "wrong_assignment",
            Status::LockedChanged => "locked_changed",
            Status::DataMismatch => "data_mismatch",
            Status::NotReproduced => "not_reproduced",
            Status::VersionMismatch => "version_mismatch",
            Status::Ok => "ok",
        }
    }
}

/// One graded report.
#[derive(Debug, Clone)]
pub struct Graded {
    /// The report's path as given on the command line.
    pub report: String,
    /// The author the report names.
    pub author: Option<String>,
    /// The experiment name.
    pub experiment: String,
    /// What grading found.
    pub status: Status,
    /// What differed, in words (empty when `ok`).
    pub detail: String,
    /// Points from the assignment's grading bounds (0 unless the report is
    /// intact and made for the assignment).
    pub points: f64,
    /// Scalar test metrics (undefined ones as `None`).
    pub metrics: BTreeMap<String, Option<f64>>,
    /// 95% intervals by metric key, from the report's record.
    pub intervals: BTreeMap<String, Interval>,
    /// The model in one line, e.g. `Embedding → Flatten → Dense (160,017 params)`.
    pub model: String,
    /// The test predictions the report's record keeps.
    pub predictions: Option<TestPredictions>,
    /// The resolved spec without name, title and author: equal keys mean
    /// the same experiment (`None` when the spec could not be read).
    pub fingerprint: Option<String>,
    /// Another report with the same fingerprint.
    pub duplicate_of: Option<String>,
}

/// Fill in `duplicate_of`: each report whose fingerprint another report
/// shares names the first such other report (in command-line order).
pub fn mark_duplicates(graded: &mut [Graded]) {
    let others: Vec<Option<String>> = graded
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let mine = g.fingerprint.as_ref()?;
            graded
                .iter()
                .enumerate()
                .find(|(j, o)| *j != i && o.fingerprint.as_ref() == Some(mine))
                .map(|(_, o)| o.report.clone())
        })
        .collect();
    for (g, other) in graded.iter_mut().zip(others) {
        g.duplicate_of = other;
    }
}

/// The metric columns of the gradebook: every scalar metric of any report,
/// sorted by name.
pub fn metric_columns(graded: &[Graded]) -> Vec<String> {
    let mut names: Vec<String> = graded
        .iter()
        .flat_map(|g| g.metrics.keys().cloned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Points as written: no decimals for whole numbers.
pub fn points_text(points: f64) -> String {
    if points.fract() == 0.0 {
        format!("{points:.0}")
    } else {
        format!("{points}")
    }
}

/// Write the gradebook: columns `report, author, status, points, detail,
/// duplicate_of`, then every metric (empty when a report lacks it), one
/// row per report, quoted as CSV needs.
pub fn write_csv(path: &Path, graded: &[Graded]) -> Result<()> {
    let columns = metric_columns(graded);
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec![
        "report",
        "author",
        "status",
        "points",
        "detail",
        "duplicate_of",
    ];
    header.extend(columns.iter().map(String::as_str));
    w.write_record(&header)?;
    for g in graded {
        let mut row = vec![
            g.report.clone(),
            g.author.clone().unwrap_or_default(),
            g.status.as_str().to_string(),
            points_text(g.points),
            g.detail.clone(),
            g.duplicate_of.clone().unwrap_or_default(),
        ];
        row.extend(columns.iter().map(|c| match g.metrics.get(c) {
            Some(Some(v)) => format!("{v}"),
            _ => String::new(),
        }));
        w.write_record(&row)?;
    }
    let bytes = w.into_inner().context("cannot write the gradebook")?;
    crate::cache::write_file_atomically(path, &bytes, false)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graded(report: &str, print: Option<&str>) -> Graded {
        Graded {
            report: report.into(),
            author: Some("Ada, \"A\"".into()),
            experiment: "e".into(),
            status: Status::Ok,
            detail: String::new(),
            points: 2.0,
            metrics: [("accuracy".to_string(), Some(0.5))].into_iter().collect(),
            intervals: BTreeMap::new(),
            model: String::new(),
            predictions: None,
            fingerprint: print.map(str::to_string),
            duplicate_of: None,
        }
    }

    #[test]
    fn duplicates_point_at_each_other() {
        let mut g = vec![
            graded("a.html", Some("x")),
            graded("b.html", Some("y")),
            graded("c.html", Some("x")),
            graded("d.html", None),
        ];
        mark_duplicates(&mut g);
        let dup: Vec<Option<&str>> = g.iter().map(|g| g.duplicate_of.as_deref()).collect();
        assert_eq!(dup, [Some("c.html"), None, Some("a.html"), None]);
    }

    #[test]
    fn csv_is_quoted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.csv");
        write_csv(&path, &[graded("a,b.html", Some("x"))]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "report,author,status,points,detail,duplicate_of,accuracy\n\"a,b.html\",\"Ada, \"\"A\"\"\",ok,2,,,0.5\n"
        );
    }
}
