//! `kerros serve` over real HTTP: the binary on a free port of 127.0.0.1
//! with a tiny model trained here, called with ureq: the API (same labels
//! as `kerros predict --input`), the page, limits, errors, the access log
//! and graceful shutdown on SIGTERM. Also the occlusion explanation on the
//! trained model.

use crate::support;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{kerros, write};

const SPEC: &str = r#"name: tiny_serve
seed: 3
data:
  train: train.csv
  test: test.csv
  text_columns: [title, body]
  text_separator: " | "
  label_column: label
  validation: {fraction: 0.2}
vectorize: {mode: multi_hot, ngrams: 1}
model:
  layers:
    - dense: {units: 1}
train:
  optimizer: {name: adam, learning_rate: 0.05}
  epochs: 15
  batch_size: 16
"#;

const GOOD: [&str; 3] = ["excellent", "wonderful", "superb"];
const BAD: [&str; 3] = ["awful", "terrible", "dreadful"];
const FILLER: [&str; 8] = [
    "film", "plot", "actor", "the", "a", "story", "scene", "music",
];

/// A deterministic synthetic CSV: `rows` reviews, half positive; the label
/// follows the sentiment words, the filler is noise.
fn reviews(rows: usize, seed: u64) -> String {
    let mut state = seed;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as usize) % n
    };
    let mut out = String::from("id,title,body,label\n");
    for i in 0..rows {
        let positive = i % 2 == 0;
        let words = if positive { GOOD } else { BAD };
        let title = format!("{} {}", FILLER[next(8)], words[next(3)]);
        let mut body: Vec<&str> = (0..6).map(|_| FILLER[next(8)]).collect();
        body.insert(next(6), words[next(3)]);
        let label = if positive { "pos" } else { "neg" };
        out.push_str(&format!("{i},{title},{},{label}\n", body.join(" ")));
    }
    out
}

/// Write the spec and data, train the model; returns the spec path.
fn trained(dir: &Path) -> std::path::PathBuf {
    write(dir, "train.csv", &reviews(240, 1));
    write(dir, "test.csv", &reviews(60, 2));
    let spec = write(dir, "spec.yaml", SPEC);
    let out = kerros(
        dir,
        &[
            "run",
            "spec.yaml",
            "--cache-dir",
            "cache",
            "--reports-dir",
            "reports",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    spec
}

/// A running `kerros serve` and everything it printed on stderr.
struct Server {
    child: Child,
    base: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    fn start(dir: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kerros"))
            .current_dir(dir)
            .args(["serve", "spec.yaml", "--port", "0", "--cache-dir", "cache"])
            .args(["--reports-dir", "reports"])
            .args(extra)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("kerros serve starts");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("listening on ") {
                    let _ = tx.send(addr.to_string());
                }
                sink.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("no `listening on` line; stderr:\n{}", log.lock().unwrap()));
        assert!(base.starts_with("http://127.0.0.1:"), "{base}");
        Server { child, base, log }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// SIGTERM, then the exit code.
    fn terminate(mut self) -> (Option<i32>, String) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success());
        let status = self.child.wait().unwrap();
        // Let the reader thread take the last lines.
        std::thread::sleep(Duration::from_millis(200));
        (status.code(), self.log())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// Status and body of a JSON POST.
fn post(agent: &ureq::Agent, url: &str, body: &str) -> (u16, String) {
    let mut r = agent
        .post(url)
        .header("content-type", "application/json")
        .send(body)
        .unwrap();
    (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
}

fn get(agent: &ureq::Agent, url: &str) -> (u16, String, Option<String>) {
    let mut r = agent.get(url).call().unwrap();
    let csp = r
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_string());
    (
        r.status().as_u16(),
        r.body_mut().read_to_string().unwrap(),
        csp,
    )
}

#[test]
fn serve_answers_like_predict_guards_its_limits_and_stops_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    trained(dir);
    // The reference: `kerros predict --input` on the test file.
    let out = kerros(
        dir,
        &[
            "predict",
            "spec.yaml",
            "--input",
            "test.csv",
            "--output",
            "pred.csv",
            "--cache-dir",
            "cache",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut expected = csv::Reader::from_path(dir.join("pred.csv")).unwrap();
    let expected: Vec<(String, f64)> = expected
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[1].to_string(), r[3].parse().unwrap())
        })
        .collect();
    let mut test_rows = csv::Reader::from_path(dir.join("test.csv")).unwrap();
    let rows: Vec<Value> = test_rows
        .records()
        .map(|r| {
            let r = r.unwrap();
            json!({"id": &r[0], "title": &r[1], "body": &r[2]})
        })
        .collect();
    assert_eq!(rows.len(), 60);

    let server = Server::start(dir, &[]);
    let a = agent();

    // Health and model.
    let (status, body, csp) = get(&a, &server.url("/health"));
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    let csp = csp.expect("a Content-Security-Policy header");
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    let (status, body, _) = get(&a, &server.url("/model"));
    assert_eq!(status, 200);
    let model: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(model["name"], "tiny_serve");
    assert_eq!(model["classes"], json!(["neg", "pos"]));
    assert_eq!(model["text_fields"], json!(["title", "body"]));
    assert_eq!(model["kerros_version"], env!("CARGO_PKG_VERSION"));
    let accuracy = model["metrics"]["accuracy"].as_f64().unwrap();
    assert!(
        accuracy > 0.9,
        "the tiny model learns the sentiment words: {accuracy}"
    );

    // Rows: the same labels and probabilities as `kerros predict --input`.
    let (status, body) = post(
        &a,
        &server.url("/predict"),
        &json!({ "rows": rows }).to_string(),
    );
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["model"], "tiny_serve");
    assert_eq!(answer["variant"], Value::Null);
    let predictions = answer["predictions"].as_array().unwrap();
    assert_eq!(predictions.len(), expected.len());
    for (p, (label, p_pos)) in predictions.iter().zip(&expected) {
        assert_eq!(p["label"].as_str().unwrap(), label);
        let got = p["probabilities"]["pos"].as_f64().unwrap();
        assert!((got - p_pos).abs() < 6e-5, "{got} vs {p_pos}");
    }
    // Texts: the joined text gives the same answer.
    let texts: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{} | {}",
                r["title"].as_str().unwrap(),
                r["body"].as_str().unwrap()
            )
        })
        .collect();
    let (status, body) = post(
        &a,
        &server.url("/predict"),
        &json!({ "texts": texts }).to_string(),
    );
    assert_eq!(status, 200, "{body}");
    let by_text: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(by_text["predictions"], answer["predictions"]);

    // Limits and errors, and the server keeps serving.
    let huge = json!({ "texts": ["x".repeat(2 << 20)] }).to_string();
    let (status, body) = post(&a, &server.url("/predict"), &huge);
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("limit of 1048576 bytes"), "{body}");
    let many = json!({ "texts": vec!["good"; 2001] }).to_string();
    let (status, body) = post(&a, &server.url("/predict"), &many);
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("limit of 2000"), "{body}");
    let (status, body) = post(&a, &server.url("/predict"), "{\"texts\": [\"a\"");
    assert_eq!(status, 400);
    assert!(body.contains("not valid JSON"), "{body}");
    let (status, body) = post(&a, &server.url("/predict"), r#"{"rows": [{"title": "a"}]}"#);
    assert_eq!(status, 400);
    assert!(body.contains("missing field `body`"), "{body}");
    let (status, body, _) = get(&a, &server.url("/no/such/page"));
    assert_eq!(status, 404);
    assert!(body.contains("POST /predict"), "{body}");
    assert_eq!(get(&a, &server.url("/health")).0, 200);

    // The page: one box per text column; a submission shows the result with
    // every typed text escaped.
    let (status, page, csp) = get(&a, &server.url("/"));
    assert_eq!(status, 200);
    assert!(csp.is_some());
    assert!(
        page.contains(r#"name="title""#) && page.contains(r#"name="body""#),
        "{page}"
    );
    assert!(!page.contains(r#"id="prediction""#));
    let hostile = "<script>alert(1)</script>";
    let mut r = a
        .post(&server.url("/"))
        .send_form([
            ("title", "excellent"),
            ("body", &format!("the plot {hostile} music")[..]),
        ])
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let result = r.body_mut().read_to_string().unwrap();
    assert!(result.contains(r#"id="prediction""#), "{result}");
    assert!(result.contains(r#"id="predicted-label">pos<"#), "{result}");
    assert!(!result.contains("<script"), "typed text is escaped");
    assert!(result.contains("&lt;script&gt;"), "{result}");
    assert!(
        result.contains(r#"<mark class="up""#),
        "the sentiment word is highlighted"
    );
    let mut r = a
        .post(&server.url("/"))
        .send_form([("title", " "), ("body", "")])
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(r
        .body_mut()
        .read_to_string()
        .unwrap()
        .contains("every box is empty"));

    // The sealed report of the run.
    let (status, report, _) = get(&a, &server.url("/report"));
    assert_eq!(status, 200);
    assert!(report.contains("kerros-manifest"));

    // Graceful shutdown; the access log has a line per request, no texts.
    let (code, log) = server.terminate();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("POST /predict 200"), "{log}");
    assert!(log.contains("POST /predict 413"), "{log}");
    assert!(log.contains("GET /no/such/page 404"), "{log}");
    assert!(
        log.contains("terminated; finishing requests in flight"),
        "{log}"
    );
    assert!(
        !log.contains("alert(1)") && !log.contains("excellent"),
        "{log}"
    );
}

#[test]
fn the_word_that_drives_the_prediction_explains_it() {
    use kerros::pipeline::explain::explain_prediction;
    use kerros::pipeline::predict::Predictor;
    use kerros::pipeline::RunOptions;
    let tmp = tempfile::tempdir().unwrap();
    let spec = trained(tmp.path());
    let mut opts = RunOptions::new(None);
    opts.cache_dir = tmp.path().join("cache");
    opts.reports_dir = tmp.path().join("reports");
    let predictor = Predictor::open(&spec, &opts).unwrap();
    for (fields, driver) in [
        (["the story", "a scene with superb music"], "superb"),
        (["plot", "the actor was dreadful in a film"], "dreadful"),
    ] {
        let e = explain_prediction(&predictor, &fields, 100).unwrap();
        let top = e
            .words
            .iter()
            .max_by(|a, b| a.contribution.total_cmp(&b.contribution))
            .unwrap();
        assert_eq!(top.word, driver, "{e:?}");
        assert!(top.contribution > 0.2, "{e:?}");
        // The word's span points into its own field.
        assert_eq!(
            &fields[top.span.field][top.span.start..top.span.end],
            driver
        );
    }
}

#[test]
fn a_sweep_without_variant_lists_its_variants() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = format!("{SPEC}matrix:\n  train.epochs: [3, 4]\n");
    write(tmp.path(), "spec.yaml", &spec);
    let out = kerros(tmp.path(), &["serve", "spec.yaml", "--port", "0"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--variant"), "{err}");
    assert!(
        err.contains("tiny_serve[epochs=3]") && err.contains("tiny_serve[epochs=4]"),
        "{err}"
    );
}
