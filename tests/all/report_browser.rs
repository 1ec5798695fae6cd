//! Reports opened in a real browser (headless Chromium) at 1280 px and
//! 390 px: no horizontal overflow of the page, every chart legend entry
//! inside its SVG, no console errors, no network requests, and no script
//! from hostile texts runs.
//!
//! Chromium is driven through `--dump-dom`: a check script is injected into
//! a copy of each report (the report itself stays script-free), runs after
//! layout and writes its findings as JSON into the DOM, which the test then
//! reads back. Skips with a reason when `chromium` is missing, except under
//! `CI=true`, where `.ci/run` installs it and a missing browser fails.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{kerros, write};

/// Hostile text: it would set `window.__pwned` if any of it ran.
const HOSTILE: &str = "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\"> {{ 7*7 }} \u{202E}reversed";

/// Injected before `</body>` of the test copy: measures and reports.
const CHECK: &str = r#"<script>
window.addEventListener('load', () => setTimeout(() => {
  const r = {
    width: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    pwned: window.__pwned || 0,
    resources: performance.getEntriesByType('resource').map(e => e.name),
    legendOutside: [],
    legends: 0,
    widestTable: Math.max(0, ...[...document.querySelectorAll('table')].map(t => Math.ceil(t.getBoundingClientRect().width))),
    headers: [...document.querySelectorAll('thead tr:last-child th')].map(th => th.textContent.trim()),
  };
  for (const svg of document.querySelectorAll('svg.chart')) {
    const vb = svg.viewBox.baseVal;
    for (const g of svg.querySelectorAll('.legend-entry')) {
      r.legends++;
      const b = g.getBBox();
      if (b.x < vb.x - 0.5 || b.y < vb.y - 0.5 || b.x + b.width > vb.x + vb.width + 0.5 || b.y + b.height > vb.y + vb.height + 0.5) {
        r.legendOutside.push(g.textContent + ' in ' + svg.getAttribute('aria-label'));
      }
    }
  }
  parent.postMessage(JSON.stringify(r), '*');
}, 50));
</script>"#;

/// The chromium binary, or `None` (with the reason printed) outside CI.
fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(out) = Command::new("which").arg(name).output() {
            if out.status.success() {
                let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
                if !p.is_empty() {
                    return Some(PathBuf::from(p));
                }
            }
        }
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("chromium is missing (CI=true): .ci/run installs it with apt-get");
    }
    eprintln!("note: chromium not found; browser check skipped outside CI");
    None
}

/// Runs Chromium headless on `page` shown `width` px wide and returns the
/// check's JSON and Chromium's stderr (console messages are logged there).
///
/// Headless Chromium will not make its window narrower than 500 px, so the
/// page is shown in an iframe of exactly `width` px (media queries and
/// `innerWidth` inside it see that width); the injected check posts its
/// findings to the frame's parent, which writes them into the dumped DOM.
fn open(browser: &Path, page: &Path, width: u32) -> (serde_json::Value, String) {
    let profile = tempfile::tempdir().unwrap();
    let name = page.file_name().unwrap().to_string_lossy().to_string();
    let frame = write(
        page.parent().unwrap(),
        &format!("frame-{width}-{name}"),
        &format!(
            "<!doctype html><html><body style=\"margin:0\">\
             <iframe src=\"{}\" style=\"width:{width}px;height:2000px;border:0\"></iframe>\
             <script>addEventListener('message', e => {{ const p = document.createElement('pre'); \
             p.id = 'kerros-check'; p.textContent = e.data; document.body.appendChild(p); }});</script>\
             </body></html>",
            name
        ),
    );
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            &format!("--user-data-dir={}", profile.path().display()),
            &format!("--window-size={},2100", width.max(1300) + 100),
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("file://{}", frame.display()))
        .output()
        .expect("chromium starts");
    let dom = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let start = dom
        .find("<pre id=\"kerros-check\">")
        .unwrap_or_else(|| panic!("no check result in the DOM of {}: {stderr}", page.display()))
        + "<pre id=\"kerros-check\">".len();
    let end = start + dom[start..].find("</pre>").unwrap();
    let json = dom[start..end]
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    (serde_json::from_str(&json).unwrap(), stderr)
}

/// A copy of `report` with the check script injected.
/// Named by `index`, so the copy's URL needs no escaping.
fn instrumented(report: &Path, dir: &Path, index: usize) -> PathBuf {
    let html = std::fs::read_to_string(report).unwrap();
    let at = html.rfind("</body>").expect("a body");
    let copy = format!("{}{CHECK}{}", &html[..at], &html[at..]);
    write(dir, &format!("check-{index}.html"), &copy)
}

/// `s` as a single-quoted YAML scalar (no escapes but `''`).
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn csv(dir: &Path, name: &str, rows: &[(String, String)]) {
    let mut text = String::from("text,label\n");
    for (t, l) in rows {
        text.push_str(&format!("\"{}\",{l}\n", t.replace('"', "\"\"")));
    }
    write(dir, name, &text);
}

/// Writes the data and specs of the synthetic runs; returns the spec paths.
fn specs(dir: &Path) -> Vec<PathBuf> {
    let words = ["good", "bad", "fine", "awful", "great", "dull"];
    let mut binary = Vec::new();
    let mut multi = Vec::new();
    let mut rating = Vec::new();
    for i in 0..120 {
        let w = words[i % words.len()];
        let hostile = if i % 10 == 0 { HOSTILE } else { "" };
        let text = format!("a {w} film<br /><br />number {i} {hostile}");
        binary.push((
            text.clone(),
            if i % 2 == 0 { "pos" } else { "neg" }.to_string(),
        ));
        multi.push((text.clone(), ["red", "blue", "green"][i % 3].to_string()));
        rating.push((text, (1 + i % 10).to_string()));
    }
    csv(dir, "bin_train.csv", &binary[..90]);
    csv(dir, "bin_test.csv", &binary[90..]);
    csv(dir, "multi_train.csv", &multi[..90]);
    csv(dir, "multi_test.csv", &multi[90..]);
    csv(dir, "rate_train.csv", &rating[..90]);
    csv(dir, "rate_test.csv", &rating[90..]);
    let common = "tokenizer: {num_words: 60}\nsequence: {maxlen: 12}\n";
    let texts = [
        ("binary", format!(
            "name: {}\nseed: 1\ndata: {{train: bin_train.csv, test: bin_test.csv, validation: {{fraction: 0.25}}}}\n{common}model:\n  layers:\n    - embedding: {{input_dim: 60, output_dim: 4}}\n    - flatten\n    - dense: {{units: 1}}\ntrain: {{epochs: 3, batch_size: 16, loss: {{name: binary_crossentropy, from_logits: true}}}}\nreport: {{examples: 4, title: {}, author: {}}}\n",
            quoted("browser<binary>: *?\"|{{ 7*7 }}"),
            quoted(&format!("T {HOSTILE}")),
            quoted("\u{202E}evil author"),
        )),
        ("multiclass", format!(
            "name: browser_multi\nseed: 1\ndata: {{train: multi_train.csv, test: multi_test.csv, validation: {{fraction: 0.25}}}}\ntask: {{type: multiclass}}\n{common}model:\n  layers:\n    - embedding: {{input_dim: 60, output_dim: 4}}\n    - flatten\n    - dense: {{units: 3}}\ntrain: {{epochs: 2, batch_size: 16, loss: {{name: sparse_categorical_crossentropy, from_logits: true}}}}\n"
        )),
        ("regression", format!(
            "name: browser_regression\nseed: 1\ndata: {{train: rate_train.csv, test: rate_test.csv, validation: {{fraction: 0.25}}}}\ntask: {{type: regression, range: [1, 10]}}\n{common}model:\n  layers:\n    - embedding: {{input_dim: 60, output_dim: 4}}\n    - flatten\n    - dense: {{units: 1, activation: linear}}\ntrain: {{epochs: 2, batch_size: 16, loss: {{name: mse}}}}\n"
        )),
        ("rnn", format!(
            "name: browser_rnn_with_a_long_name_for_the_legend\nseed: 1\ndata: {{train: bin_train.csv, test: bin_test.csv, validation: {{fraction: 0.25}}}}\n{common}model:\n  layers:\n    - embedding: {{input_dim: 60, output_dim: 4}}\n    - simple_rnn: {{units: 4}}\n    - dense: {{units: 1}}\ntrain: {{epochs: 3, batch_size: 16, loss: {{name: binary_crossentropy, from_logits: true}}, early_stopping: {{monitor: val_loss, patience: 1, restore_best_weights: true}}}}\n"
        )),
        ("bag", "name: browser_bag\nseed: 1\ndata: {train: bin_train.csv, test: bin_test.csv, validation: {fraction: 0.25}}\nvectorize: {mode: multi_hot, ngrams: 2, max_tokens: 200}\nmodel:\n  layers:\n    - dense: {units: 1, kernel_regularizer: {l2: 0.001}}\ntrain: {epochs: 3, batch_size: 16, optimizer: {name: adam, learning_rate: 0.01}, loss: {name: binary_crossentropy, from_logits: true}}\n".to_string()),
        ("hand", "name: browser_hand\ninputs: [[1, 3]]\nmodel:\n  input_dim: 2\n  layers:\n    - dense: {units: 2, use_bias: false, kernel: [[1, -1], [0.5, 2]], activation: relu}\n    - dense: {units: 1, use_bias: false, kernel: [[1, 1]]}\n".to_string()),
    ];
    texts
        .iter()
        .map(|(name, text)| write(dir, &format!("{name}.yaml"), text))
        .collect()
}

#[test]
fn reports_pass_the_browser_check() {
    let Some(browser) = chromium() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut reports = Vec::new();
    let specs = specs(dir);
    for spec in &specs {
        let o = kerros(dir, &["run", spec.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{}: {stderr}", spec.display());
        for entry in std::fs::read_dir(dir.join("reports")).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "html") && !reports.contains(&p) {
                reports.push(p);
            }
        }
    }
    reports.sort();
    assert!(reports.len() >= 5, "{reports:?}");
    let checks = dir.join("checks");
    std::fs::create_dir_all(&checks).unwrap();
    let mut legends = 0;
    for (index, report) in reports.iter().enumerate() {
        let html = std::fs::read_to_string(report).unwrap();
        assert!(!html.contains('\0'));
        assert!(
            !html.contains("<script>window.__pwned"),
            "{}",
            report.display()
        );
        let page = instrumented(report, &checks, index);
        for width in [1280, 390] {
            let (r, stderr) = open(&browser, &page, width);
            let at = format!("{} at {width} px", report.display());
            assert_eq!(r["width"], width, "{at}: {r}");
            assert!(
                r["scrollWidth"].as_u64().unwrap() <= width as u64,
                "{at}: the page scrolls sideways: {r}"
            );
            assert_eq!(r["pwned"], 0, "{at}: a hostile script ran");
            assert_eq!(r["resources"], serde_json::json!([]), "{at}: requests");
            assert_eq!(
                r["legendOutside"],
                serde_json::json!([]),
                "{at}: legend cut"
            );
            legends += r["legends"].as_u64().unwrap();
            let console: Vec<&str> = stderr
                .lines()
                .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
                .collect();
            assert!(console.is_empty(), "{at}: console messages: {console:?}");
        }
    }
    assert!(legends > 0, "the check saw no legend at all");
    check_comparison(&browser, dir, &specs);
}

/// The comparison of runs with different layer stacks (embedding → flatten,
/// a recurrent layer, a bag of n-grams) at 1600 px: the page and its table
/// fit, the metrics come first, and every stack reads as one line.
fn check_comparison(browser: &Path, dir: &Path, specs: &[PathBuf]) {
    let pick = |name: &str| {
        specs
            .iter()
            .find(|p| p.file_stem().is_some_and(|s| s == name))
            .unwrap()
            .to_str()
            .unwrap()
            .to_string()
    };
    let (binary, rnn, bag) = (pick("binary"), pick("rnn"), pick("bag"));
    let o = kerros(
        dir,
        &["compare", &binary, &rnn, &bag, "--html", "compare.html"],
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "compare: {stderr}");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        !text.contains("title") && !text.contains("author") && text.contains("layers"),
        "{text}"
    );
    let html = std::fs::read_to_string(dir.join("compare.html")).unwrap();
    for stack in [
        "Embedding(60,4) → Flatten → Dense(1)",
        "Embedding(60,4) → SimpleRNN(4) → Dense(1)",
        "MultiHot(1–2-grams, 200) → Dense(1, l2=0.001)",
    ] {
        assert!(html.contains(stack), "{stack} missing");
    }
    assert!(!html.contains("<script"), "the page has no script");
    let page = instrumented(&dir.join("compare.html"), &dir.join("checks"), 999);
    for width in [1600, 390] {
        let (r, stderr) = open(browser, &page, width);
        let at = format!("comparison at {width} px");
        assert_eq!(r["width"], width, "{at}: {r}");
        assert!(
            r["scrollWidth"].as_u64().unwrap() <= width as u64,
            "{at}: the page scrolls sideways: {r}"
        );
        assert_eq!(r["legendOutside"], serde_json::json!([]), "{at}: {r}");
        assert_eq!(r["pwned"], 0, "{at}: a hostile script ran");
        assert_eq!(r["resources"], serde_json::json!([]), "{at}: requests");
        assert!(
            !stderr
                .lines()
                .any(|l| l.contains("CONSOLE") || l.contains("Uncaught")),
            "{at}: console messages: {stderr}"
        );
        if width == 1600 {
            assert!(
                r["widestTable"].as_u64().unwrap() <= 1600,
                "{at}: the table is wider than the screen: {r}"
            );
            let headers: Vec<&str> = r["headers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h.as_str().unwrap())
                .collect();
            assert_eq!(headers[0], "run", "{r}");
            assert_eq!(headers[1], "val_loss", "metrics first: {r}");
            assert!(headers.contains(&"accuracy"), "{r}");
            assert!(
                headers.ends_with(&["model", "settings (differences from the baseline)"]),
                "{r}"
            );
        }
    }
}

/// A tiny two-column spec for `kerros serve` (a bag of words, so it trains
/// in seconds): the label follows the sentiment word in the text.
const SERVE_SPEC: &str = "name: browser_serve\nseed: 3\ndata:\n  train: serve_train.csv\n  test: serve_test.csv\n  text_columns: [title, body]\n  text_separator: ' | '\n  label_column: label\n  validation: {fraction: 0.2}\nvectorize: {mode: multi_hot, ngrams: 1}\nmodel:\n  layers:\n    - dense: {units: 1}\ntrain:\n  optimizer: {name: adam, learning_rate: 0.05}\n  epochs: 15\n  batch_size: 16\n";

fn serve_rows(rows: usize, offset: usize) -> String {
    let good = ["excellent", "wonderful", "superb"];
    let bad = ["awful", "terrible", "dreadful"];
    let filler = ["film", "plot", "actor", "the", "story", "music"];
    let mut out = String::from("title,body,label\n");
    for i in offset..offset + rows {
        let (words, label) = if i % 2 == 0 {
            (good, "pos")
        } else {
            (bad, "neg")
        };
        out.push_str(&format!(
            "{} {},{} {} {} {},{label}\n",
            filler[i % 6],
            words[i % 3],
            filler[(i / 2) % 6],
            filler[(i / 3) % 6],
            words[(i / 5) % 3],
            filler[(i / 7) % 6],
        ));
    }
    out
}

/// Chromium's DOM of `url` after loading (and any navigation it starts).
fn dump_dom(browser: &Path, url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.path().display()),
            "--virtual-time-budget=10000",
            "--dump-dom",
            url,
        ])
        .output()
        .expect("chromium starts");
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// `kerros serve` in a real browser: the served form (as Chromium parsed
/// it) is filled in and submitted, and the result page's `#prediction`
/// shows a class, a probability bar per class and highlighted words.
///
/// `--dump-dom` cannot type, so the form the server sent is copied into a
/// local page whose script fills every text box and submits it to the
/// server; Chromium follows the POST and dumps the page the server answered.
/// (Driving the DevTools protocol from Rust would need an async client
/// crate or file-descriptor plumbing; this needs neither.)
#[test]
fn served_page_predicts_in_the_browser() {
    let Some(browser) = chromium() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "serve_train.csv", &serve_rows(240, 0));
    write(dir, "serve_test.csv", &serve_rows(60, 1000));
    write(dir, "spec.yaml", SERVE_SPEC);
    let o = kerros(dir, &["run", "spec.yaml", "--cache-dir", "cache"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut child = Command::new(env!("CARGO_BIN_EXE_kerros"))
        .current_dir(dir)
        .args(["serve", "spec.yaml", "--port", "0", "--cache-dir", "cache"])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("kerros serve starts");
    let server = KillOnDrop(&mut child);
    let stderr = server.0.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(addr) = line.strip_prefix("listening on ") {
                let _ = tx.send(addr.to_string());
            }
        }
    });
    let base = rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("a `listening on` line");
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    let page = dump_dom(&browser, &format!("{base}/"));
    let start = page.find("<form").expect("the served page has a form");
    let end = start + page[start..].find("</form>").expect("form closed") + "</form>".len();
    let form = page[start..end].replace("action=\"/\"", &format!("action=\"{base}/\""));
    assert_eq!(
        form.matches("<textarea").count(),
        2,
        "one box per text column: {form}"
    );
    let driver = write(
        dir,
        "drive.html",
        &format!(
            "<!doctype html><html><body>{form}<script>\
             const texts = ['An excellent film', 'superb story and wonderful music, excellent'];\
             document.querySelectorAll('form textarea').forEach((t, i) => {{ t.value = texts[i % texts.length]; }});\
             document.querySelector('form').requestSubmit();\
             </script></body></html>"
        ),
    );
    let result = dump_dom(&browser, &format!("file://{}", driver.display()));
    let at = result
        .find("id=\"prediction\"")
        .unwrap_or_else(|| panic!("no #prediction after submitting: {result}"));
    let prediction = &result[at..at + result[at..].find("</section>").unwrap()];
    assert!(
        prediction.contains("id=\"predicted-label\">pos<"),
        "the positive review is predicted pos: {prediction}"
    );
    assert_eq!(
        prediction.matches("class=\"prob-bar\"").count(),
        2,
        "{prediction}"
    );
    let explained = &prediction[prediction
        .find("class=\"explained\"")
        .expect("highlighted text")..];
    assert!(
        explained.contains("<mark class=\"up") && explained.contains(">wonderful</mark>"),
        "a sentiment word is highlighted: {explained}"
    );
}

/// Ends a child process when the test ends, also on failure.
struct KillOnDrop<'a>(&'a mut std::process::Child);

impl Drop for KillOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
