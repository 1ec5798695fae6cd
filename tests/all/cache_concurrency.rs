//! Many `kerros run` processes on one cache: locks, atomic publishing,
//! stale temporaries, `kerros cache gc | info`, read-only caches. Tiny
//! synthetic CSV experiments, so each run takes a fraction of a second.

use crate::support;

use kerros::cache::{Cache, KeyLock, LockMode, StageKey};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};
use support::write;

const SPEC: &str = r#"name: NAME
seed: 5
data: {train: train.csv, test: test.csv, validation: {fraction: 0.25}}
tokenizer: {num_words: 60}
sequence: {maxlen: 8}
model:
  layers:
    - embedding: {input_dim: 60, output_dim: 4}
    - flatten
    - dense: {units: 1}
train: {epochs: EPOCHS, batch_size: 8}
report: {examples: 2}
"#;

/// A folder with train/test CSVs and two specs, `a` and `b`, that share the
/// load, split, vocabulary and encode stages and differ in training.
fn project() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let words = ["good", "great", "fine", "bad", "awful", "poor"];
    let mut train = String::from("text,label\n");
    for i in 0..80 {
        let w = words[i % words.len()];
        let label = if i % words.len() < 3 { "pos" } else { "neg" };
        train.push_str(&format!("a {w} film number {i} was {w},{label}\n"));
    }
    write(dir, "train.csv", &train);
    let mut test = String::from("text,label\n");
    for i in 0..20 {
        let w = words[(i * 5) % words.len()];
        let label = if (i * 5) % words.len() < 3 {
            "pos"
        } else {
            "neg"
        };
        test.push_str(&format!("the {w} show {i},{label}\n"));
    }
    write(dir, "test.csv", &test);
    for (name, epochs) in [("a", 2), ("b", 3)] {
        let spec = SPEC
            .replace("NAME", name)
            .replace("EPOCHS", &epochs.to_string());
        write(dir, &format!("{name}.yaml"), &spec);
    }
    tmp
}

fn kerros_cmd(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kerros"));
    c.current_dir(dir).args(args);
    c
}

/// Start `kerros run SPEC --json` on `cache` and `reports`.
fn spawn_run(dir: &Path, spec: &str, cache: &Path, reports: &Path) -> Child {
    kerros_cmd(
        dir,
        &[
            "run",
            spec,
            "--json",
            "--cache-dir",
            cache.to_str().unwrap(),
            "--reports-dir",
            reports.to_str().unwrap(),
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("the kerros binary starts")
}

fn json_of(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!(
            "not one JSON object ({e}): {text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Every artifact folder verifies against its manifest, and no temporary or
/// trash folder or temporary file is left anywhere under `cache` or `reports`.
fn assert_consistent(cache: &Path, reports: &Path) {
    let store = Cache::new(cache);
    for stage in std::fs::read_dir(cache).unwrap().flatten() {
        let stage_name = stage.file_name().to_string_lossy().into_owned();
        for entry in std::fs::read_dir(stage.path()).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                !name.starts_with(".tmp")
                    && !name.starts_with(".trash")
                    && !name.contains(".kerros-tmp-"),
                "leftover {}",
                entry.path().display()
            );
            if stage_name != "runs" && !name.starts_with('.') {
                let key = StageKey {
                    stage: stage_name.clone(),
                    hex: name.clone(),
                };
                if let Err(e) = store.lookup(&key) {
                    panic!("{stage_name}/{name} does not verify: {e:?}");
                }
            }
        }
    }
    for entry in std::fs::read_dir(reports).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            name.ends_with(".html") && !name.starts_with('.'),
            "leftover {name}"
        );
    }
}

/// Run `specs` at once on one fresh cache per round, `rounds` times. Every
/// process exits 0; metrics are identical per spec across processes and
/// rounds; each stage key is computed by exactly one process per round (the
/// others wait and reuse it); the cache stays consistent.
fn concurrent_rounds(specs: &[&str], rounds: usize) {
    let project = project();
    let dir = project.path();
    let mut reference: BTreeMap<String, Value> = BTreeMap::new();
    for round in 0..rounds {
        let cache = dir.join(format!("cache{round}"));
        let reports = dir.join(format!("reports{round}"));
        let children: Vec<(String, Child)> = specs
            .iter()
            .map(|s| (s.to_string(), spawn_run(dir, s, &cache, &reports)))
            .collect();
        let mut ran: BTreeMap<(String, String), usize> = BTreeMap::new();
        for (spec, child) in children {
            let out = child.wait_with_output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "round {round}, {spec}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let v = json_of(&out);
            let metrics = v["metrics"].clone();
            let first = reference.entry(spec.clone()).or_insert(metrics.clone());
            assert_eq!(&metrics, first, "round {round}, {spec}: metrics differ");
            for (stage, status) in v["stages"].as_object().unwrap() {
                let folder = v["artifacts"][stage].as_str().unwrap().to_string();
                let count = ran.entry((stage.clone(), folder)).or_default();
                if status == "ran" {
                    *count += 1;
                }
            }
        }
        for ((stage, folder), n) in &ran {
            assert_eq!(
                *n, 1,
                "round {round}: {stage} ({folder}) computed {n} times"
            );
        }
        assert_consistent(&cache, &reports);
    }
    // The two specs share their data stages but not their training.
    if reference.len() == 2 {
        assert_ne!(reference["a.yaml"], reference["b.yaml"]);
    }
}

#[test]
fn four_runs_of_one_spec_on_one_cache() {
    concurrent_rounds(&["a.yaml"; 4], 10);
}

#[test]
fn two_runs_of_one_spec_on_one_cache() {
    concurrent_rounds(&["a.yaml"; 2], 5);
}

#[test]
fn two_plus_two_runs_of_specs_sharing_early_stages() {
    concurrent_rounds(&["a.yaml", "b.yaml", "a.yaml", "b.yaml"], 5);
}

/// A run that finds a stage's lock held by another process waits, and then
/// uses the artifact that process published instead of computing it.
#[test]
fn a_run_waits_for_a_held_lock_and_uses_the_finished_artifact() {
    let project = project();
    let dir = project.path();
    // A first cache, to learn the load stage's key and have its artifact.
    let donor = dir.join("donor");
    let out = spawn_run(dir, "a.yaml", &donor, &dir.join("r1"))
        .wait_with_output()
        .unwrap();
    assert!(out.status.success());
    let load_dir = PathBuf::from(json_of(&out)["artifacts"]["load"].as_str().unwrap());
    let hex = load_dir.file_name().unwrap().to_string_lossy().into_owned();

    // This test process plays the other run: it holds the load key's lock.
    let cache = dir.join("cache");
    let stage_dir = cache.join("load");
    std::fs::create_dir_all(&stage_dir).unwrap();
    let lock =
        KeyLock::acquire(&KeyLock::path(&stage_dir, &hex), LockMode::Exclusive, || {}).unwrap();
    let mut child = spawn_run(dir, "a.yaml", &cache, &dir.join("r2"));
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("waiting for another run") {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the second run reports that it waits");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "it must wait, not finish"
    );
    // Publish the artifact as the holder would (complete folder, one rename).
    let staging = stage_dir.join(format!(".tmp-{hex}-test01"));
    std::fs::create_dir(&staging).unwrap();
    for f in std::fs::read_dir(&load_dir).unwrap().flatten() {
        std::fs::copy(f.path(), staging.join(f.file_name())).unwrap();
    }
    std::fs::rename(&staging, stage_dir.join(&hex)).unwrap();
    drop(lock);
    let out = child.wait_with_output().unwrap();
    let log = reader.join().unwrap();
    assert!(out.status.success(), "{log}");
    let v = json_of(&out);
    assert_eq!(v["stages"]["load"], "cached", "{log}");
    assert_eq!(v["stages"]["train"], "ran");
}

/// (path, size, modification time) of everything under `root`.
fn listing(root: &Path) -> Vec<(PathBuf, u64, SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        let meta = std::fs::symlink_metadata(&p).unwrap();
        out.push((p.clone(), meta.len(), meta.modified().unwrap()));
        if meta.is_dir() {
            for e in std::fs::read_dir(&p).unwrap().flatten() {
                stack.push(e.path());
            }
        }
    }
    out.sort();
    out
}

fn run_once(dir: &Path, spec: &str, cache: &Path, reports: &Path) -> Output {
    spawn_run(dir, spec, cache, reports)
        .wait_with_output()
        .unwrap()
}

/// A fully cached run reads the cache and writes nothing into it, so it
/// works on a read-only copy (this holds even where, as root, permissions
/// cannot be taken away to show it).
#[test]
fn a_fully_cached_run_writes_nothing_into_the_cache() {
    let project = project();
    let dir = project.path();
    let cache = dir.join("cache");
    let first = run_once(dir, "a.yaml", &cache, &dir.join("r"));
    assert!(first.status.success());
    let before = listing(&cache);
    std::thread::sleep(Duration::from_millis(20));
    let again = run_once(dir, "a.yaml", &cache, &dir.join("r"));
    assert!(again.status.success());
    let v = json_of(&again);
    assert!(v["stages"]
        .as_object()
        .unwrap()
        .values()
        .all(|s| s == "cached"));
    assert_eq!(listing(&cache), before, "a cached run changed the cache");
}

/// Make `cache` read-only for one `kerros` invocation: a read-only bind mount
/// in a private mount namespace (works as root too), else `chmod -R a-w`
/// when not root. `None` (with the reason printed) when neither is possible.
fn read_only_run(dir: &Path, cache: &Path, args: &[&str]) -> Option<Output> {
    let bin = env!("CARGO_BIN_EXE_kerros");
    let c = cache.to_str().unwrap();
    let script = r#"mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" && touch "$1/probe" 2>/dev/null && exit 99; shift; exec "$@""#;
    let mut cmd = Command::new("unshare");
    cmd.current_dir(dir)
        .args(["-rm", "sh", "-c", script, "sh", c, bin])
        .args(args);
    if let Ok(out) = cmd.output() {
        // 99: the mount did not make it read-only; other failures of the
        // wrapper itself print nothing from kerros.
        let wrapper_failed = out.status.code() == Some(99)
            || (!out.status.success() && out.stdout.is_empty() && out.stderr.is_empty());
        if !wrapper_failed && !String::from_utf8_lossy(&out.stderr).contains("unshare:") {
            return Some(out);
        }
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if root {
        eprintln!("note: skipped: no read-only bind mount possible here (unshare -rm failed) and chmod does not bind root");
        return None;
    }
    Command::new("chmod")
        .args(["-R", "a-w", c])
        .status()
        .unwrap();
    let out = kerros_cmd(dir, &[]).args(args).output().unwrap();
    Command::new("chmod")
        .args(["-R", "u+w", c])
        .status()
        .unwrap();
    Some(out)
}

#[test]
fn a_fully_cached_run_on_a_read_only_cache_exits_0() {
    let project = project();
    let dir = project.path();
    let cache = dir.join("cache");
    assert!(run_once(dir, "a.yaml", &cache, &dir.join("r"))
        .status
        .success());
    // Another reports folder: the run record would change, and cannot be saved.
    let reports = dir.join("elsewhere");
    let args = [
        "run",
        "a.yaml",
        "--json",
        "--cache-dir",
        cache.to_str().unwrap(),
        "--reports-dir",
        reports.to_str().unwrap(),
    ];
    let Some(out) = read_only_run(dir, &cache, &args) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("warning: the run record"), "{stderr}");
    assert!(reports.join("a.html").is_file());
    let v = json_of(&out);
    assert!(v["stages"]
        .as_object()
        .unwrap()
        .values()
        .all(|s| s == "cached"));
}

fn kerros(dir: &Path, args: &[&str]) -> Output {
    kerros_cmd(dir, args).output().unwrap()
}

#[test]
fn stale_temporaries_go_at_the_next_run_and_gc_and_info_report_the_cache() {
    let project = project();
    let dir = project.path();
    let cache = dir.join("cache");
    let reports = dir.join("reports");
    let c = cache.to_str().unwrap();
    let out = run_once(dir, "a.yaml", &cache, &reports);
    let hex = {
        let v = json_of(&out);
        let p = PathBuf::from(v["artifacts"]["train"].as_str().unwrap());
        p.file_name().unwrap().to_string_lossy().into_owned()
    };
    // What an interrupted run leaves: a half-written stage folder, a report
    // temporary, and an old-style report temporary.
    let leftover = cache.join("train").join(format!(".tmp-{hex}-abc123"));
    std::fs::create_dir(&leftover).unwrap();
    std::fs::write(leftover.join("model.safetensors"), vec![0u8; 5000]).unwrap();
    let report_tmp = reports.join(".a.html.kerros-tmp-abc123");
    std::fs::write(&report_tmp, "<html>half").unwrap();

    let info = kerros(dir, &["cache", "info", "--cache-dir", c]);
    assert!(info.status.success());
    let text = String::from_utf8_lossy(&info.stdout);
    for stage in [
        "load",
        "split",
        "vocabulary",
        "encode",
        "train",
        "evaluate",
        "report",
        "total",
    ] {
        assert!(text.contains(stage), "{stage} missing in\n{text}");
    }
    let train_line = text.lines().find(|l| l.starts_with("train")).unwrap();
    assert_eq!(
        train_line.split_whitespace().nth(4),
        Some("1"),
        "{train_line}"
    );

    // The next run removes both (nobody holds their locks).
    let out = run_once(dir, "b.yaml", &cache, &reports);
    assert!(out.status.success());
    assert!(!leftover.exists() && !report_tmp.exists());
    assert_consistent(&cache, &reports);

    // gc: bad arguments exit 2; temporaries go; --older-than 0s removes
    // every artifact nobody uses.
    for bad in [
        vec![
            "cache",
            "gc",
            "--cache-dir",
            c,
            "--older-than",
            "thirty days",
        ],
        vec!["cache", "gc", "--cache-dir", c, "--older-than"],
        vec!["cache", "info", "--bogus"],
        vec!["cache", "sweep"],
    ] {
        let o = kerros(dir, &bad);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
    }
    let o = kerros(
        dir,
        &["cache", "gc", "--cache-dir", c, "--older-than", "30d"],
    );
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("0 unused artifacts"));
    let o = kerros(
        dir,
        &["cache", "gc", "--cache-dir", c, "--older-than", "0s"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let info = String::from_utf8_lossy(&kerros(dir, &["cache", "info", "--cache-dir", c]).stdout)
        .into_owned();
    let total = info.lines().find(|l| l.starts_with("total")).unwrap();
    assert_eq!(total.split_whitespace().nth(1), Some("0"), "{info}");
    // A missing cache folder is a bad argument, not an empty report.
    let o = kerros(dir, &["cache", "info", "--cache-dir", "no/such/cache"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no/such/cache"));
    // And the emptied cache still works.
    let started = Instant::now();
    assert!(run_once(dir, "a.yaml", &cache, &reports).status.success());
    assert!(started.elapsed() < Duration::from_secs(60));
}
