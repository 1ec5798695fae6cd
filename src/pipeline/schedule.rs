//! Running several experiments: spec files expanded into jobs (one per
//! `matrix:` variant), run a few at a time with the CPU threads shared out
//! between them, and their `expect:` gates checked.

use super::{run_spec, RunOptions, RunOutcome};
use crate::pipeline::memory::MemoryLimit;
use crate::pipeline::validate_with;
use crate::report::selection::select_best;
use crate::spec::expect::{self, Unmet};
use crate::spec::{self, sweep, Locator, Spec, SpecError};
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// One experiment to run: a spec file or one variant of its sweep.
#[derive(Debug, Clone)]
pub struct Job {
    /// The spec file (relative data paths are resolved against its folder).
    pub file: PathBuf,
    /// The variant's resolved, checked spec.
    pub spec: Spec,
    /// The spec file's text, to locate errors in it.
    source: String,
    /// The spec file's `select:` metric and the file's position in the list
    /// (the variants one selection chooses between).
    pub selection: Option<(usize, String)>,
}

impl Job {
    /// The `expect:` bounds this run missed (empty when all are met or the
    /// spec has none); an `expect:` on a metric the run lacks is a
    /// [`SpecError`] at that key.
    pub fn unmet_expectations(&self, outcome: &RunOutcome) -> Result<Vec<Unmet>, SpecError> {
        let Some(bounds) = &self.spec.expect else {
            return Ok(Vec::new());
        };
        let locator = Locator::new(&self.source);
        expect::check(bounds, &outcome.metrics).map_err(|i| i.at(&self.file, &locator))
    }
}

/// Parse every spec file, expand its sweep and check each variant without
/// data ([`validate_with`], against the `--max-memory` limit, default half
/// the RAM): the jobs to run, in order.
pub fn jobs(files: &[PathBuf], max_memory: Option<u64>) -> Result<Vec<Job>, SpecError> {
    let limit = MemoryLimit::from_flag(max_memory);
    let mut out = Vec::new();
    for (group, file) in files.iter().enumerate() {
        let source = sweep::read_source(file)?;
        let locator = Locator::new(&source);
        let (base, _) = spec::parse_spec(&source, file)?;
        let selection = base.select.map(|s| (group, s.metric));
        for v in sweep::expand(&source, file)? {
            validate_with(&v.spec, file, &locator, &limit)?;
            out.push(Job {
                file: file.clone(),
                spec: v.spec,
                source: source.clone(),
                selection: selection.clone(),
            });
        }
    }
    Ok(out)
}

/// One of N shards of a run (`--shard I/N`, I from 1 to N).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, 1-based.
    pub index: usize,
    /// How many shards there are.
    pub count: usize,
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Parse `I/N`; I must be in 1..=N.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = |why: &str| {
            format!("--shard `{text}`: {why}; write I/N with 1 <= I <= N, e.g. 1/4 (a 0-based array index i is --shard $((i+1))/N)")
        };
        let (i, n) = text.split_once('/').ok_or_else(|| bad("no `/`"))?;
        let index: usize = i
            .trim()
            .parse()
            .map_err(|_| bad("I is not a whole number"))?;
        let count: usize = n
            .trim()
            .parse()
            .map_err(|_| bad("N is not a whole number"))?;
        if count == 0 {
            return Err(bad("N must be at least 1"));
        }
        if index == 0 || index > count {
            return Err(bad(&format!("I must be between 1 and {count}")));
        }
        Ok(Shard { index, count })
    }

    /// This shard's jobs: all jobs sorted by a key that does not depend on
    /// the order of the command line (variant name, then the spec file's
    /// content hash), of which every N-th from the (I-1)-th. So N shards
    /// split the jobs into disjoint parts whose sizes differ by at most one.
    pub fn select(self, jobs: Vec<Job>) -> Vec<Job> {
        let mut keyed: Vec<((String, String), Job)> = jobs
            .into_iter()
            .map(|j| {
                let content = blake3::hash(j.source.as_bytes()).to_hex().to_string();
                ((j.spec.name.clone(), content), j)
            })
            .collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        keyed
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % self.count == self.index - 1)
            .map(|(_, (_, j))| j)
            .collect()
    }
}

/// Run `jobs`, `workers` at a time (at least 1), each with its share of the
/// CPU threads; `on_finish` sees each outcome as soon as its job ends. When
/// several jobs run, progress lines are prefixed with the experiment name.
/// Returns one result per job, in job order.
pub fn run_jobs(
    jobs: &[Job],
    opts: &RunOptions,
    workers: usize,
    on_finish: impl Fn(&RunOutcome) + Sync,
) -> Vec<Result<RunOutcome>> {
    let several = jobs.len() > 1;
    let workers = workers.clamp(1, jobs.len().max(1));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Each job gets its share of the cores so parallel jobs do not oversubscribe.
    let threads_per_job = (cores / workers).max(1);
    let results: Mutex<Vec<(usize, Result<RunOutcome>)>> = Mutex::new(Vec::new());
    let run_one = |i: usize, job: &Job| {
        let opts = RunOptions {
            log_prefix: several.then(|| job.spec.name.clone()),
            ..opts.clone()
        };
        let outcome = run_with_threads(job, &opts, threads_per_job)
            .with_context(|| format!("experiment `{}`", job.spec.name));
        if let Ok(o) = &outcome {
            on_finish(o);
        }
        results
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((i, outcome));
    };
    if workers == 1 {
        for (i, job) in jobs.iter().enumerate() {
            run_one(i, job);
        }
    } else {
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(job) = jobs.get(i) else { break };
                    run_one(i, job);
                });
            }
        });
    }
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Run one job in a thread pool of `threads` threads.
fn run_with_threads(job: &Job, opts: &RunOptions, threads: usize) -> Result<RunOutcome> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    pool.install(|| run_spec(&job.spec, &job.file, opts))
}

/// For each job, whether its spec's `select:` chose it (`None` for a job of a
/// spec without `select:`): among the finished variants of one spec file, the
/// best by the metric (ties to the first variant), so exactly one is chosen
/// where any finished with the metric.
pub fn selected(jobs: &[Job], results: &[Result<RunOutcome>]) -> Vec<Option<bool>> {
    let mut out: Vec<Option<bool>> = jobs
        .iter()
        .map(|j| j.selection.as_ref().map(|_| false))
        .collect();
    let groups: Vec<usize> = jobs
        .iter()
        .filter_map(|j| j.selection.as_ref().map(|s| s.0))
        .collect();
    for group in groups {
        let members: Vec<usize> = (0..jobs.len())
            .filter(|&i| jobs[i].selection.as_ref().is_some_and(|s| s.0 == group))
            .collect();
        let Some(metric) = jobs[members[0]].selection.as_ref().map(|s| s.1.as_str()) else {
            continue;
        };
        let values: Vec<Option<f64>> = members
            .iter()
            .map(|&i| {
                let o = results.get(i)?.as_ref().ok()?;
                o.validation.get(metric)?.as_f64()
            })
            .collect();
        if let Some(best) = select_best(&values, metric) {
            out[members[best]] = Some(true);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Shard;

    #[test]
    fn shards_parse_one_based_and_reject_the_rest() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        assert_eq!(Shard::parse("1/1"), Ok(Shard { index: 1, count: 1 }));
        for (bad, why) in [
            ("0/4", "between 1 and 4"),
            ("5/4", "between 1 and 4"),
            ("1/0", "at least 1"),
            ("2", "no `/`"),
            ("a/4", "I is not"),
            ("1/-2", "N is not"),
        ] {
            let e = Shard::parse(bad).unwrap_err();
            assert!(e.contains(why) && e.contains("I/N"), "{bad}: {e}");
        }
    }
}
