//! The remote stage cache (issue 17) against a real S3-compatible server on
//! 127.0.0.1 (moto, installed by `.ci/run` into `.ci/venv-s3`), and against a
//! `file://` folder: push and pull, a second machine that pulls every stage,
//! corrupted and half-uploaded artifacts, two writers of one key, read-only
//! mode, missing credentials, leases, and sharded sweeps.

use crate::support;

use kerros::cache::remote::REMOTE_MANIFEST;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::write;

/// Environment variable naming the S3 server binary (`moto_server`).
const SERVER_ENV: &str = "KERROS_TEST_S3_SERVER";

/// A moto S3 server on 127.0.0.1, stopped when dropped.
struct S3Server {
    child: Child,
    port: u16,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server binary: $KERROS_TEST_S3_SERVER, else `.ci/venv-s3/bin/moto_server`.
fn server_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(SERVER_ENV) {
        return Some(PathBuf::from(p));
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/venv-s3/bin/moto_server");
    p.is_file().then_some(p)
}

/// Start a server, or `None` (with a printed reason) when it is not
/// installed; under CI=true its absence fails the test.
fn start_server() -> Option<S3Server> {
    let Some(bin) = server_binary() else {
        let why = format!(
            "no S3 test server: set {SERVER_ENV} or run `python3 -m venv .ci/venv-s3 && .ci/venv-s3/bin/pip install 'moto[server]'`"
        );
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{why}");
        }
        eprintln!("SKIPPED: {why}");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let server = S3Server { child, port };
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the S3 server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(server)
}

impl S3Server {
    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment kerros needs for this server.
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "kerros-test".into()),
            ("AWS_SECRET_ACCESS_KEY", "kerros-test-secret".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ALLOW_HTTP", "true".into()),
        ]
    }

    /// Create `bucket` and return a client for it.
    fn bucket(&self, bucket: &str) -> Bucket {
        // moto accepts an unsigned CreateBucket.
        use std::io::{Read, Write};
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            s,
            "PUT /{bucket} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        // kerros's reqwest has no bundled TLS provider (Cargo.toml); the
        // test's own client needs one installed, as kerros installs ring's.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let store = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_endpoint(self.endpoint())
            .with_allow_http(true)
            .with_region("us-east-1")
            .with_access_key_id("kerros-test")
            .with_secret_access_key("kerros-test-secret")
            .build()
            .unwrap();
        Bucket {
            store,
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
        }
    }
}

/// A test's own view of a bucket.
struct Bucket {
    store: AmazonS3,
    rt: tokio::runtime::Runtime,
}

impl Bucket {
    fn keys(&self) -> Vec<String> {
        use futures_util::TryStreamExt;
        let listed: Vec<_> = self
            .rt
            .block_on(self.store.list(None).try_collect())
            .unwrap();
        let mut keys: Vec<String> = listed.into_iter().map(|m| m.location.to_string()).collect();
        keys.sort();
        keys
    }

    fn get(&self, key: &str) -> Vec<u8> {
        self.rt.block_on(async {
            let r = self.store.get(&StorePath::from(key)).await.unwrap();
            r.bytes().await.unwrap().to_vec()
        })
    }

    fn put(&self, key: &str, bytes: Vec<u8>) {
        self.rt
            .block_on(
                self.store
                    .put(&StorePath::from(key), PutPayload::from(bytes)),
            )
            .unwrap();
    }

    fn delete(&self, key: &str) {
        self.rt
            .block_on(self.store.delete(&StorePath::from(key)))
            .unwrap();
    }

    fn create(&self, key: &str, bytes: &[u8]) -> object_store::Result<()> {
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        self.rt
            .block_on(self.store.put_opts(
                &StorePath::from(key),
                PutPayload::from(bytes.to_vec()),
                opts,
            ))
            .map(|_| ())
    }
}

// ------------------------------------------------------------------ helpers

/// Every stage of a run with data.
const STAGES: [&str; 7] = [
    "load",
    "split",
    "vocabulary",
    "encode",
    "train",
    "evaluate",
    "report",
];

/// A tiny CSV experiment in `dir` (40 training rows); `extra` is appended
/// to the spec (a `matrix:`). Returns the spec path.
fn tiny_spec(dir: &Path, name: &str, extra: &str) -> PathBuf {
    let train = support::film_reviews_csv(40, ("good", "pos"), ("bad", "neg"));
    write(dir, "train.csv", &train);
    write(
        dir,
        "test.csv",
        "text,label\na good film,pos\na bad film,neg\ngood good,pos\nbad bad,neg\n",
    );
    let spec = format!(
        r#"name: {name}
seed: 3
data: {{train: train.csv, test: test.csv}}
tokenizer: {{num_words: 50}}
sequence: {{maxlen: 6}}
model:
  layers:
    - embedding: {{input_dim: 50, output_dim: 4}}
    - flatten
    - dense: {{units: 1}}
train: {{epochs: 2, batch_size: 8}}
report: {{examples: 2}}
{extra}"#
    );
    write(dir, &format!("{name}.yaml"), &spec)
}

/// Run kerros in `cwd` with `env` added and every remote-cache variable of
/// the caller's environment removed.
fn kerros(cwd: &Path, env: &[(&str, String)], args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kerros"));
    c.current_dir(cwd).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k.starts_with("KERROS_REMOTE") {
            c.env_remove(k);
        }
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("the kerros binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `kerros run SPEC --json` on cache `cache` with `remote`: one JSON object
/// per experiment, with the command's stderr. Panics on failure.
fn run_json(
    cwd: &Path,
    env: &[(&str, String)],
    spec: &Path,
    cache: &str,
    remote: &str,
    more: &[&str],
) -> (Vec<Value>, String) {
    let mut args = vec![
        "run",
        spec.to_str().unwrap(),
        "--json",
        "--cache-dir",
        cache,
        "--reports-dir",
        "reports",
        "--remote-cache",
        remote,
    ];
    args.extend_from_slice(more);
    let o = kerros(cwd, env, &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let values = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (values, stderr(&o))
}

/// Stage → status of one `--json` object.
fn statuses(v: &Value) -> BTreeMap<String, String> {
    v["stages"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, s)| (k.clone(), s.as_str().unwrap().to_string()))
        .collect()
}

fn all(status: &str) -> BTreeMap<String, String> {
    STAGES
        .iter()
        .map(|s| (s.to_string(), status.to_string()))
        .collect()
}

/// Stage → key of a run, from its artifact folders.
fn keys(v: &Value) -> BTreeMap<String, String> {
    v["artifacts"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, p)| {
            let dir = Path::new(p.as_str().unwrap());
            (k.clone(), dir.file_name().unwrap().to_string_lossy().into())
        })
        .collect()
}

// -------------------------------------------------------------------- S3

#[test]
fn a_second_machine_pulls_every_stage_with_equal_metrics() {
    let Some(server) = start_server() else { return };
    let bucket = server.bucket("course");
    let env = server.env();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spec = tiny_spec(dir, "tiny", "");
    let remote = "s3://course/kerros/2026";

    let (a, _) = run_json(dir, &env, &spec, "machine-a", remote, &[]);
    assert_eq!(statuses(&a[0]), all("ran"));
    let stored = bucket.keys();
    for (stage, key) in keys(&a[0]) {
        let base = format!("kerros/2026/{stage}/{key}");
        assert!(
            stored.contains(&format!("{base}/kerros-remote-manifest.json")),
            "{base}: {stored:?}"
        );
        assert!(
            !stored.contains(&format!("{base}/.lease")),
            "lease released"
        );
    }
    assert!(stored.contains(&"kerros/2026/records/tiny.json".to_string()));
    // The manifest lists each file with its digest and size.
    let train_key = &keys(&a[0])["train"];
    let m: Value = serde_json::from_slice(&bucket.get(&format!(
        "kerros/2026/train/{train_key}/kerros-remote-manifest.json"
    )))
    .unwrap();
    let model = &m["files"]["model.safetensors"];
    let bytes = bucket.get(&format!("kerros/2026/train/{train_key}/model.safetensors"));
    assert_eq!(model["size"].as_u64(), Some(bytes.len() as u64));
    assert_eq!(
        model["blake3"].as_str().unwrap(),
        blake3::hash(&bytes).to_hex().as_str()
    );
    assert_eq!(m["kerros_version"], env!("CARGO_PKG_VERSION"));

    // Machine B: an empty local cache, the same remote.
    let (b, _) = run_json(dir, &env, &spec, "machine-b", remote, &[]);
    assert_eq!(statuses(&b[0]), all("pulled"));
    assert_eq!(a[0]["metrics"], b[0]["metrics"]);
    // Pulled artifacts went into B's local cache: next time they are cached.
    let (again, _) = run_json(dir, &env, &spec, "machine-b", remote, &[]);
    assert_eq!(statuses(&again[0]), all("cached"));

    // The secret never reaches anything kerros wrote.
    for entry in walk(dir) {
        let text = std::fs::read(&entry).unwrap();
        assert!(
            !String::from_utf8_lossy(&text).contains("kerros-test-secret"),
            "{}",
            entry.display()
        );
    }
    for key in &stored {
        assert!(!String::from_utf8_lossy(&bucket.get(key)).contains("kerros-test-secret"));
    }

    // compare reads the records from the remote.
    let o = kerros(dir, &env, &["compare", "--remote-cache", remote]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("tiny"));
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_corrupted_remote_file_is_recomputed_not_trusted() {
    let Some(server) = start_server() else { return };
    let bucket = server.bucket("flip");
    let env = server.env();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spec = tiny_spec(dir, "tiny", "");
    let remote = "s3://flip";
    let (a, _) = run_json(dir, &env, &spec, "a", remote, &[]);
    let train = format!("train/{}/model.safetensors", keys(&a[0])["train"]);
    let mut bytes = bucket.get(&train);
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    bucket.put(&train, bytes);

    let (b, err) = run_json(dir, &env, &spec, "b", remote, &[]);
    let s = statuses(&b[0]);
    assert_eq!(s["train"], "ran", "{err}");
    assert!(
        err.contains("stage `train`")
            && err.contains("model.safetensors")
            && err.contains("not trusted"),
        "{err}"
    );
    for stage in [
        "load",
        "split",
        "vocabulary",
        "encode",
        "evaluate",
        "report",
    ] {
        assert_eq!(s[stage], "pulled", "{stage}");
    }
    assert_eq!(a[0]["metrics"], b[0]["metrics"]);
    // B repaired the remote copy: a third machine pulls everything.
    let (c, err) = run_json(dir, &env, &spec, "c", remote, &[]);
    assert_eq!(statuses(&c[0]), all("pulled"), "{err}");
}

#[test]
fn an_interrupted_upload_is_not_trusted() {
    let Some(server) = start_server() else { return };
    let bucket = server.bucket("half");
    let env = server.env();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spec = tiny_spec(dir, "tiny", "");
    let remote = "s3://half/p";
    let (a, _) = run_json(dir, &env, &spec, "a", remote, &[]);
    // Files uploaded, manifest not: what an interrupted push leaves.
    let vocab = format!("p/vocabulary/{}", keys(&a[0])["vocabulary"]);
    bucket.delete(&format!("{vocab}/kerros-remote-manifest.json"));
    assert!(bucket.keys().iter().any(|k| k.starts_with(&vocab)));

    let (b, err) = run_json(dir, &env, &spec, "b", remote, &[]);
    let s = statuses(&b[0]);
    assert_eq!(s["vocabulary"], "ran", "{err}");
    assert_eq!(s["train"], "pulled");
    assert_eq!(a[0]["metrics"], b[0]["metrics"]);
    // B sealed it.
    assert!(bucket
        .keys()
        .contains(&format!("{vocab}/kerros-remote-manifest.json")));
}

#[test]
fn two_writers_of_one_key_never_interleave() {
    let Some(server) = start_server() else { return };
    let bucket = server.bucket("race");
    // The conditional create the manifest relies on: the second writer is
    // told the object exists, and the first one's bytes stay.
    bucket
        .create("k/kerros-remote-manifest.json", b"first")
        .unwrap();
    let second = bucket.create("k/kerros-remote-manifest.json", b"second");
    assert!(
        matches!(second, Err(object_store::Error::AlreadyExists { .. })),
        "{second:?}"
    );
    assert_eq!(bucket.get("k/kerros-remote-manifest.json"), b"first");

    // Two machines running the same spec at once: both succeed, one key
    // each is computed by one of them or both, and a third pulls it all.
    let env = server.env();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let spec = tiny_spec(&dir, "tiny", "");
    let remote = "s3://race/shared";
    let runs: Vec<_> = ["w1", "w2"]
        .into_iter()
        .map(|cache| {
            let (dir, spec, env) = (dir.clone(), spec.clone(), env.clone());
            std::thread::spawn(move || run_json(&dir, &env, &spec, cache, remote, &[]))
        })
        .collect();
    let results: Vec<_> = runs.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(results[0].0[0]["metrics"], results[1].0[0]["metrics"]);
    let (c, err) = run_json(&dir, &env, &spec, "w3", remote, &[]);
    assert_eq!(statuses(&c[0]), all("pulled"), "{err}");
    assert!(!bucket.keys().iter().any(|k| k.ends_with(".lease")));
}

#[test]
fn read_only_mode_pushes_nothing() {
    let Some(server) = start_server() else { return };
    let bucket = server.bucket("pull-request");
    let env = server.env();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spec = tiny_spec(dir, "tiny", "");
    let (a, _) = run_json(
        dir,
        &env,
        &spec,
        "a",
        "s3://pull-request/c",
        &["--remote-cache-mode", "read"],
    );
    assert_eq!(statuses(&a[0]), all("ran"));
    assert_eq!(bucket.keys(), Vec::<String>::new());
    // With a filled remote, read mode pulls.
    run_json(dir, &env, &spec, "b", "s3://pull-request/c", &[]);
    let before = bucket.keys();
    let (c, _) = run_json(
        dir,
        &env,
        &spec,
        "c",
        "s3://pull-request/c",
        &["--remote-cache-mode", "read"],
    );
    assert_eq!(statuses(&c[0]), all("pulled"));
    assert_eq!(bucket.keys(), before);
}

// ------------------------------------------------- errors (no server needed)

#[test]
fn missing_credentials_and_bad_urls_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spec = tiny_spec(dir, "tiny", "");
    let spec = spec.to_str().unwrap();
    // A secret key alone is not a complete set; it is never echoed.
    let env = [("AWS_SECRET_ACCESS_KEY", "do-not-print-me".to_string())];
    let o = kerros(dir, &env, &["run", spec, "--remote-cache", "s3://b/p"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no credentials") && err.contains("AWS_ACCESS_KEY_ID"),
        "{err}"
    );
    assert!(
        !err.contains("do-not-print-me") && !err.contains("panicked"),
        "{err}"
    );

    let o = kerros(dir, &[], &["run", spec, "--remote-cache", "ftp://x/y"]);
    let err = stderr(&o);
    assert!(
        err.contains("--remote-cache") && err.contains("s3://BUCKET/PREFIX"),
        "{err}"
    );
    let env = [("KERROS_REMOTE_CACHE", "bucket-only".to_string())];
    let o = kerros(dir, &env, &["run", spec]);
    let err = stderr(&o);
    assert!(
        err.contains("KERROS_REMOTE_CACHE") && err.contains("no scheme"),
        "{err}"
    );
    let o = kerros(
        dir,
        &[],
        &[
            "run",
            spec,
            "--remote-cache",
            "file:///tmp/x",
            "--remote-cache-mode",
            "both",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("read, write, read-write"),
        "{}",
        stderr(&o)
    );
    for bad in ["0/2", "3/2", "1/0", "x", "1/"] {
        let o = kerros(dir, &[], &["run", spec, "--shard", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(stderr(&o).contains("I/N"), "{bad}: {}", stderr(&o));
    }
}

#[test]
fn an_unreachable_remote_is_reported_once_and_the_run_goes_on_without_it() {
    // A port nothing listens on: every request fails to connect.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = [
        ("AWS_ACCESS_KEY_ID", "kerros-test".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "kerros-test-secret".to_string()),
        ("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}")),
        ("AWS_ALLOW_HTTP", "true".to_string()),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spec = tiny_spec(dir, "offline", "");
    let (runs, err) = run_json(dir, &env, &spec, "cache", "s3://course/kerros", &[]);
    assert_eq!(statuses(&runs[0]), all("ran"));
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 1, "one warning, not one per stage: {err}");
    assert!(
        warnings[0].contains("skipped for the rest of this run"),
        "{err}"
    );
    assert!(!err.contains("kerros-test-secret"), "{err}");
}

// ------------------------------------------------------ file:// and shards

#[test]
fn stages_cached_before_the_remote_was_configured_are_pushed_to_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spec = tiny_spec(dir, "early", "");
    // First without a remote: everything lands in the local cache only.
    let o = kerros(
        dir,
        &[],
        &[
            "run",
            spec.to_str().unwrap(),
            "--cache-dir",
            "machine-a",
            "--reports-dir",
            "reports",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let remote = format!("file://{}", dir.join("shared").display());
    let (a, _) = run_json(dir, &[], &spec, "machine-a", &remote, &[]);
    assert_eq!(statuses(&a[0]), all("cached"));
    for (stage, key) in keys(&a[0]) {
        let manifest = dir
            .join("shared")
            .join(&stage)
            .join(&key)
            .join(REMOTE_MANIFEST);
        assert!(manifest.is_file(), "{} not pushed", manifest.display());
    }
    // Another machine now pulls every stage.
    let (b, _) = run_json(dir, &[], &spec, "machine-b", &remote, &[]);
    assert_eq!(statuses(&b[0]), all("pulled"));
    assert_eq!(a[0]["metrics"], b[0]["metrics"]);
    // In read mode a cached stage is not pushed.
    let ro = format!("file://{}", dir.join("read-only").display());
    std::fs::create_dir_all(dir.join("read-only")).unwrap();
    run_json(
        dir,
        &[],
        &spec,
        "machine-a",
        &ro,
        &["--remote-cache-mode", "read"],
    );
    assert_eq!(std::fs::read_dir(dir.join("read-only")).unwrap().count(), 0);
}

#[test]
fn a_fresh_lease_is_waited_for_then_a_stale_one_taken_over() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spec = tiny_spec(dir, "tiny", "");
    let store = dir.join("shared");
    let remote = format!("file://{}", store.display());
    let (a, _) = run_json(dir, &[], &spec, "a", &remote, &[]);
    // Another machine holds the train key and dies before publishing.
    let train = store.join("train").join(&keys(&a[0])["train"]);
    std::fs::remove_file(train.join("kerros-remote-manifest.json")).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    write(
        &train,
        ".lease",
        &format!(r#"{{"holder":"dead-host","written":{now}}}"#),
    );
    let env = [
        ("KERROS_REMOTE_LEASE_STALE_SECS", "3".to_string()),
        ("KERROS_REMOTE_LEASE_POLL_MS", "200".to_string()),
    ];
    let start = Instant::now();
    let (b, err) = run_json(dir, &env, &spec, "b", &remote, &[]);
    assert!(start.elapsed() >= Duration::from_secs(2), "{err}");
    assert!(err.contains("waiting for another machine"), "{err}");
    assert!(
        err.contains("taking over") && err.contains("dead-host"),
        "{err}"
    );
    assert_eq!(statuses(&b[0])["train"], "ran");
    assert!(train.join("kerros-remote-manifest.json").is_file());
    assert!(!train.join(".lease").exists());

    // A fresh lease whose holder publishes meanwhile: the waiter pulls.
    let eval = store.join("evaluate").join(&keys(&a[0])["evaluate"]);
    let manifest = eval.join("kerros-remote-manifest.json");
    let saved = std::fs::read(&manifest).unwrap();
    std::fs::remove_file(&manifest).unwrap();
    write(
        &eval,
        ".lease",
        &format!(r#"{{"holder":"slow-host","written":{now}}}"#),
    );
    let env = [
        ("KERROS_REMOTE_LEASE_STALE_SECS", "600".to_string()),
        ("KERROS_REMOTE_LEASE_POLL_MS", "200".to_string()),
    ];
    let publisher = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        std::fs::write(&manifest, saved).unwrap();
        std::fs::remove_file(eval.join(".lease")).unwrap();
    });
    let (c, err) = run_json(dir, &env, &spec, "c", &remote, &[]);
    publisher.join().unwrap();
    assert!(err.contains("waiting for another machine"), "{err}");
    assert_eq!(statuses(&c[0]), all("pulled"), "{err}");
}

#[test]
fn four_shards_of_an_eight_variant_sweep_make_the_unsharded_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let matrix =
        "matrix:\n  seed: [1, 2]\n  train.epochs: [1, 2]\n  tokenizer.num_words: [30, 50]\n";
    let spec = tiny_spec(dir, "sweep", matrix);
    let by_name = |runs: &[Value]| -> BTreeMap<String, Value> {
        runs.iter()
            .map(|v| {
                (
                    v["name"].as_str().unwrap().to_string(),
                    v["metrics"].clone(),
                )
            })
            .collect()
    };
    let whole = dir.join("whole");
    let (unsharded, _) = run_json(
        dir,
        &[],
        &spec,
        "unsharded",
        &format!("file://{}", whole.display()),
        &[],
    );
    assert_eq!(unsharded.len(), 8);
    let unsharded = by_name(&unsharded);

    let shared = format!("file://{}", dir.join("shared").display());
    let mut union = BTreeMap::new();
    let mut ran: BTreeMap<String, usize> = BTreeMap::new();
    for i in 1..=4 {
        let shard = format!("{i}/4");
        let (runs, err) = run_json(
            dir,
            &[],
            &spec,
            &format!("shard{i}"),
            &shared,
            &["--shard", &shard],
        );
        assert_eq!(runs.len(), 2, "shard {shard}: {err}");
        assert!(err.contains(&format!("shard {shard}: 2 of 8")), "{err}");
        for r in &runs {
            for (stage, status) in statuses(r) {
                if status == "ran" {
                    *ran.entry(stage).or_default() += 1;
                }
            }
        }
        for (name, metrics) in by_name(&runs) {
            assert!(
                union.insert(name.clone(), metrics).is_none(),
                "{name} twice"
            );
        }
    }
    assert_eq!(union, unsharded);
    // Stages shared between variants are computed by one shard only: load
    // by all 8 variants, split by the 4 of each seed; train by none.
    assert_eq!(ran["load"], 1, "{ran:?}");
    assert_eq!(ran["split"], 2, "{ran:?}");
    assert_eq!(ran["train"], 8, "{ran:?}");

    // compare over the remote lists every shard's runs.
    let o = kerros(dir, &[], &["compare", "--remote-cache", &shared]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    for name in unsharded.keys() {
        assert!(table.contains(name.as_str()), "{name}: {table}");
    }

    // The selection does not depend on the order of the command line.
    let other_dir = dir.join("other");
    std::fs::create_dir_all(&other_dir).unwrap();
    let other = tiny_spec(&other_dir, "other", "matrix:\n  seed: [5, 6]\n");
    let names = |args: &[&str]| -> Vec<String> {
        let mut full = vec![
            "run",
            "--json",
            "--cache-dir",
            "order",
            "--reports-dir",
            "reports",
        ];
        full.extend_from_slice(args);
        let o = kerros(dir, &[], &full);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let mut n: Vec<String> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                v["name"].as_str().unwrap().to_string()
            })
            .collect();
        n.sort();
        n
    };
    let (s, o) = (spec.to_str().unwrap(), other.to_str().unwrap());
    let forward = names(&[s, o, "--shard", "2/3"]);
    assert_eq!(forward.len(), 3, "10 jobs in 3 shards: 4, 3, 3");
    assert_eq!(forward, names(&[o, s, "--shard", "2/3"]));
}
