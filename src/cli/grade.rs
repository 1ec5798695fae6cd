//! `kerros grade`: grade a class's reports against an assignment; prints
//! one line per report, writes the gradebook CSV and the class page.

use super::InvalidArguments;
use crate::pipeline::grade::{grade_reports, GradeOptions};
use crate::report::class_page::class_page;
use crate::report::grade::{points_text, write_csv};
use crate::report::rerender::printable;
use crate::spec::assignment::load_assignment;
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;

/// Options of `kerros grade`.
#[derive(Debug, Args)]
pub struct GradeArgs {
    /// The assignment file the reports were made for.
    #[arg(long, value_name = "ASSIGNMENT.yaml")]
    pub assignment: PathBuf,
    /// The submitted reports (HTML).
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
    /// Also re-run each report's spec (on the assignment's data) and
    /// compare the metrics; the re-runs share one cache.
    #[arg(long)]
    pub rerun: bool,
    /// Reports graded at once.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: u16,
    /// Folder holding built-in datasets: the assignment's data, whose
    /// hashes the reports must match.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Cache shared by the re-runs.
    #[arg(long, value_name = "DIR", default_value = crate::spec::DEFAULT_CACHE_DIR)]
    pub cache_dir: PathBuf,
    /// Write the gradebook: report, author, status, points, detail,
    /// duplicate_of and every metric.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Write the class page: leaderboard with 95% intervals, score
    /// distribution, models, statuses and McNemar's test.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// The metric the class page ranks by.
    #[arg(long, default_value = "accuracy")]
    pub metric: String,
    /// The report (path as given) the class page tests every run against;
    /// default the best intact run.
    #[arg(long, value_name = "REPORT")]
    pub baseline: Option<String>,
    /// With `--rerun`: the remote stage cache the re-runs share with other
    /// machines (stages a student's CI or another grader computed are pulled).
    #[command(flatten)]
    pub remote: super::remote::RemoteArgs,
}

/// `kerros grade`: exit 0 when grading completed (whatever the reports'
/// statuses), 2 for a bad command line or assignment.
pub fn grade(args: GradeArgs) -> Result<i32> {
    let assignment = load_assignment(&args.assignment)?;
    if let Some(b) = &args.baseline {
        if !args.reports.iter().any(|r| r.display().to_string() == *b) {
            return Err(InvalidArguments(format!(
                "--baseline `{b}` is not one of the reports given"
            ))
            .into());
        }
    }
    let known = crate::metrics::catalog::find(&args.metric).is_some_and(|m| m.scalar);
    if !known {
        return Err(InvalidArguments(format!(
            "--metric `{}` is not a scalar metric (e.g. accuracy, cohen_kappa, f1_macro)",
            args.metric
        ))
        .into());
    }
    let opts = GradeOptions {
        rerun: args.rerun,
        jobs: usize::from(args.jobs),
        data_dir: args.data_dir.clone(),
        cache_dir: args.cache_dir.clone(),
        remote: args.remote.open()?,
    };
    let graded = grade_reports(&assignment, &args.reports, &opts)?;
    for g in &graded {
        let mut line = format!(
            "{}: {} ({} points)",
            printable(&g.report),
            g.status.as_str(),
            points_text(g.points)
        );
        if let Some(d) = &g.duplicate_of {
            line.push_str(&format!(", same spec as {}", printable(d)));
        }
        if !g.detail.is_empty() {
            line.push_str(&format!(": {}", printable(&g.detail)));
        }
        println!("{line}");
    }
    if let Some(path) = &args.csv {
        write_csv(path, &graded)?;
        eprintln!("gradebook written to {}", path.display());
    }
    if let Some(path) = &args.html {
        let page = class_page(
            &graded,
            &assignment.name,
            &args.metric,
            args.baseline.as_deref(),
            assignment.max_points(),
        )?;
        crate::cache::write_file_atomically(path, page.as_bytes(), false)
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("class page written to {}", path.display());
    }
    Ok(0)
}
