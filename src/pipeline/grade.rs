//! `kerros grade`: every submission report checked against an assignment
//! (intact, made for it, locked keys kept, the assignment's data, and with
//! `--rerun` reproduced), in parallel, one bad report never stopping the
//! others.

use super::rerun::rerun_with;
use super::RunOptions;
use crate::cache::hash_file;
use crate::report::grade::{mark_duplicates, Graded, Status};
use crate::report::manifest::Manifest;
use crate::report::rerender::extract_record;
use crate::report::verify::verify;
use crate::report::{metric_label, ReportData};
use crate::spec::assignment::{first_difference, locked_value, Assignment};
use anyhow::{Context, Result};
use rayon::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The largest report file read (reports are a few MB at most).
const MAX_REPORT_BYTES: u64 = 512 * 1024 * 1024;

/// How to grade.
#[derive(Debug, Clone)]
pub struct GradeOptions {
    /// Re-run each report's spec and compare the metrics.
    pub rerun: bool,
    /// Reports graded at once.
    pub jobs: usize,
    /// Where built-in datasets are (`--data-dir`).
    pub data_dir: Option<PathBuf>,
    /// The cache the re-runs share.
    pub cache_dir: PathBuf,
    /// The remote stage cache the re-runs use as a second level.
    pub remote: Option<std::sync::Arc<crate::cache::remote::RemoteCache>>,
}

/// The hashes of the data files the assignment's template reads, by role
/// (`train`, `test`, `validation`), hashed as a run hashes them. Built-in
/// datasets are looked for under `data_dir` (not fetched: the teacher's
/// copy is the reference).
pub fn expected_data(
    assignment: &Assignment,
    data_dir: Option<&Path>,
) -> Result<Vec<(String, String)>> {
    let Some(data) = &assignment.template.data else {
        return Ok(Vec::new());
    };
    let (dir, source) = crate::data::data_dir(data_dir);
    let folder = assignment.template_path.parent().unwrap_or(Path::new(""));
    let sources = crate::data::resolve_sources(data, folder, &dir, source).with_context(|| {
        format!(
            "cannot find the data of the assignment's template {} (give --data-dir)",
            assignment.template_path.display()
        )
    })?;
    let mut files = vec![("train", sources.train.path)];
    files.extend(sources.test.map(|t| ("test", t.path)));
    files.extend(sources.validation.map(|v| ("validation", v.path)));
    files
        .into_iter()
        .map(|(role, path)| Ok((role.to_string(), hash_file(&path)?)))
        .collect()
}

/// Grade `reports` against `assignment`; duplicates are marked. Fails only
/// when the assignment's own data cannot be hashed or the thread pool
/// cannot start.
pub fn grade_reports(
    assignment: &Assignment,
    reports: &[PathBuf],
    opts: &GradeOptions,
) -> Result<Vec<Graded>> {
    let expected = expected_data(assignment, opts.data_dir.as_deref())?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.max(1))
        .build()
        .context("cannot start the grading threads")?;
    let mut graded: Vec<Graded> = pool.install(|| {
        reports
            .par_iter()
            .map(|r| grade_one(r, assignment, &expected, opts))
            .collect()
    });
    mark_duplicates(&mut graded);
    Ok(graded)
}

/// Grade one report; every problem becomes its status and detail.
fn grade_one(
    path: &Path,
    assignment: &Assignment,
    expected: &[(String, String)],
    opts: &GradeOptions,
) -> Graded {
    let mut g = Graded {
        report: path.display().to_string(),
        author: None,
        experiment: String::new(),
        status: Status::Unreadable,
        detail: String::new(),
        points: 0.0,
        metrics: BTreeMap::new(),
        intervals: BTreeMap::new(),
        model: String::new(),
        predictions: None,
        fingerprint: None,
        duplicate_of: None,
    };
    let html = match read_report(path) {
        Ok(h) => h,
        Err(e) => {
            g.detail = e;
            return g;
        }
    };
    let checked = verify(&html);
    let Some(manifest) = checked.manifest.clone() else {
        g.detail = checked.problems.join("; ");
        return g;
    };
    g.author = manifest.author.clone();
    g.experiment = manifest.name.clone();
    g.metrics = manifest
        .metrics
        .iter()
        .filter(|(_, v)| v.is_number() || v.is_null())
        .map(|(k, v)| (k.clone(), v.as_f64()))
        .collect();
    if let Ok(record) = extract_record(&html) {
        describe_from_record(&mut g, &record);
    }
    let spec = match manifest.spec() {
        Ok(s) => s,
        Err(e) => {
            g.detail = format!("the report's spec cannot be read: {e}");
            return g;
        }
    };
    g.fingerprint = fingerprint(&spec);
    let (status, detail) = if !checked.intact {
        (Status::Altered, checked.problems.join("; "))
    } else if let Some(why) = wrong_assignment(&manifest, assignment) {
        (Status::WrongAssignment, why)
    } else if let Some(why) = locked_changed(&spec, assignment) {
        (Status::LockedChanged, why)
    } else if let Some(why) = data_mismatch(&manifest, expected) {
        (Status::DataMismatch, why)
    } else if opts.rerun {
        reproduce(&manifest, assignment, opts)
    } else if let Some(v) = &checked.version_mismatch {
        (
            Status::VersionMismatch,
            format!("{v}; grade with --rerun to reproduce it"),
        )
    } else {
        (Status::Ok, String::new())
    };
    g.status = status;
    g.detail = detail;
    if status == Status::Ok {
        g.points = assignment.points(|m| g.metrics.get(m).copied().flatten());
    }
    g
}

/// The report's text, read with a size bound; the error is the detail.
fn read_report(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read the report: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_REPORT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the report: {e}"))?;
    if bytes.len() as u64 > MAX_REPORT_BYTES {
        return Err("the file is larger than any kerros report (512 MiB)".into());
    }
    String::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text: not a kerros report".into())
}

/// Intervals, the model line and the predictions from the report's record.
fn describe_from_record(g: &mut Graded, record: &ReportData) {
    if let Some(m) = &record.metrics {
        for key in ["accuracy", "cohen_kappa"] {
            let label = metric_label(key).0;
            let found = m.headline.iter().chain(&m.scalars).find_map(|x| {
                (x.name == label || x.name == key)
                    .then_some(x.interval)
                    .flatten()
            });
            if let Some(i) = found {
                g.intervals.insert(key.to_string(), i);
            }
        }
    }
    if let Some(model) = &record.model {
        let kinds: Vec<&str> = model.layers.iter().map(|l| l.kind.as_str()).collect();
        g.model = format!("{} ({} params)", kinds.join(" → "), model.total_params);
    }
    g.predictions = record.predictions.clone();
}

/// The resolved spec without what does not change the experiment (name,
/// report title and author).
fn fingerprint(spec: &crate::spec::Spec) -> Option<String> {
    let mut s = spec.clone();
    s.name = String::new();
    s.report.title = None;
    s.report.author = None;
    serde_json::to_string(&s).ok()
}

/// Why the report was not made for `assignment`, if it was not.
fn wrong_assignment(manifest: &Manifest, assignment: &Assignment) -> Option<String> {
    match &manifest.assignment {
        None => Some(format!(
            "the report was made for no assignment; expected `{}` (make the folder with kerros init --assignment)",
            assignment.name
        )),
        Some(s) if s.digest != assignment.digest => Some(format!(
            "made for assignment `{}` ({}), not `{}` ({})",
            s.name, s.digest, assignment.name, assignment.digest
        )),
        Some(_) => None,
    }
}

/// The first locked key whose value in the report's spec differs from the
/// template's.
fn locked_changed(spec: &crate::spec::Spec, assignment: &Assignment) -> Option<String> {
    let ours = serde_json::to_value(spec).unwrap_or(Value::Null);
    let theirs = serde_json::to_value(&assignment.template).unwrap_or(Value::Null);
    assignment.locked.iter().find_map(|key| {
        let (a, b) = (
            locked_value(&ours, key).unwrap_or(&Value::Null),
            locked_value(&theirs, key).unwrap_or(&Value::Null),
        );
        first_difference(&key.text, a, b).map(|(path, here, want)| {
            format!(
                "locked `{}` changed: `{path}` is {here} in the report, the assignment's value is {want}",
                key.text
            )
        })
    })
}

/// Data files whose hash in the report differs from the assignment's data.
fn data_mismatch(manifest: &Manifest, expected: &[(String, String)]) -> Option<String> {
    let recorded = |role: &str| {
        manifest
            .data_files
            .iter()
            .find(|f| f.path.starts_with(&format!("{role}: ")))
    };
    let mut out = Vec::new();
    for (role, hash) in expected {
        match recorded(role) {
            None => out.push(format!("the report records no {role} file")),
            Some(f) if &f.blake3 != hash => out.push(format!(
                "{role} file differs from the assignment's (blake3 {} in the report, {} expected)",
                short(&f.blake3),
                short(hash)
            )),
            Some(_) => {}
        }
    }
    for f in &manifest.data_files {
        let role = f.path.split(": ").next().unwrap_or("");
        if !expected.iter().any(|(r, _)| r == role) {
            out.push(format!(
                "the report read a {role} file the assignment has none of"
            ));
        }
    }
    (!out.is_empty()).then(|| out.join("; "))
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

/// Re-run the report's spec from the template's folder (so relative data
/// paths are the assignment's files) on the shared cache.
fn reproduce(
    manifest: &Manifest,
    assignment: &Assignment,
    opts: &GradeOptions,
) -> (Status, String) {
    let tmp = match tempfile::tempdir() {
        Ok(t) => t,
        Err(e) => {
            return (
                Status::NotReproduced,
                format!("cannot make a folder for the re-run: {e}"),
            )
        }
    };
    let run = RunOptions {
        data_dir: opts.data_dir.clone(),
        cache_dir: opts.cache_dir.clone(),
        reports_dir: tmp.path().join("reports"),
        force: false,
        quiet: true,
        author: manifest.author.clone(),
        log_prefix: None,
        remote: opts.remote.clone(),
    };
    let folder = assignment.template_path.parent().unwrap_or(Path::new(""));
    let folder = if folder.as_os_str().is_empty() {
        Path::new(".")
    } else {
        folder
    };
    match rerun_with(manifest, Some(folder), &run) {
        Err(e) => (Status::NotReproduced, format!("the re-run failed: {e:#}")),
        Ok(r) if r.differences.is_empty() => (Status::Ok, String::new()),
        Ok(r) => (
            Status::NotReproduced,
            format!("the re-run differs: {}", r.differences.join("; ")),
        ),
    }
}
