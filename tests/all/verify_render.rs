//! `kerros verify` checks what the reader sees (issue 13 §3): the page is
//! rendered again from its embedded record and compared byte for byte, so an
//! edit with the digest recomputed is caught; a report of another kerros
//! version exits 5; text printed from a report is escaped.

use crate::support;

use kerros::report::verify::seal;
use std::path::{Path, PathBuf};
use support::{kerros, write};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Run a tiny CSV spec in `dir` and return its report.
fn tiny_report(dir: &Path) -> PathBuf {
    let train = support::film_reviews_csv(40, ("good", "pos"), ("bad", "neg"));
    write(dir, "train.csv", &train);
    write(
        dir,
        "test.csv",
        "text,label\na good film,pos\na bad film,neg\na good one,pos\n",
    );
    write(
        dir,
        "tiny.yaml",
        "name: tiny\nseed: 3\ndata: {train: train.csv, test: test.csv}\ntokenizer: {num_words: 50}\n\
         sequence: {maxlen: 6}\nmodel:\n  layers:\n    - embedding: {input_dim: 50, output_dim: 4}\n\
         \x20   - flatten\n    - dense: {units: 1}\ntrain: {epochs: 2, batch_size: 8}\n",
    );
    let o = kerros(
        dir,
        &["run", "tiny.yaml", "--reports-dir", "r", "--cache-dir", "c"],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    dir.join("r/tiny.html")
}

fn verify(dir: &Path, html: &str) -> std::process::Output {
    let p = write(dir, "checked.html", html);
    kerros(dir, &["verify", p.to_str().unwrap()])
}

#[test]
fn edited_confusion_cell_with_recomputed_digest_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let html = std::fs::read_to_string(tiny_report(dir)).unwrap();
    let o = verify(dir, &html);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    // The confusion matrix's cells are `<text …>N</text>` inside its chart.
    let chart = html
        .find("aria-label=\"Confusion matrix")
        .expect("a confusion chart");
    let cell = chart + html[chart..].find("font-weight=\"600\" fill=").unwrap();
    let digit = cell + html[cell..].find('>').unwrap() + 1;
    let old = html.as_bytes()[digit];
    assert!(old.is_ascii_digit(), "a count at the cell");
    let mut edited = html.clone().into_bytes();
    edited[digit] = if old == b'7' { b'8' } else { b'7' };
    let edited = seal(&String::from_utf8(edited).unwrap());
    let o = verify(dir, &edited);
    assert_eq!(o.status.code(), Some(4), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("NOT intact") && out.contains("section `metrics`"),
        "{out}"
    );
    assert!(!out.contains("digest does not match"), "{out}");

    // An injected script with the digest recomputed is caught too.
    let injected = seal(&html.replacen("</main>", "<script>alert(1)</script></main>", 1));
    let o = verify(dir, &injected);
    assert_eq!(o.status.code(), Some(4), "{}", stdout(&o));
}

#[test]
fn hand_calculation_report_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/hand_calculation.yaml");
    let o = kerros(
        dir,
        &[
            "run",
            spec.to_str().unwrap(),
            "--reports-dir",
            "r",
            "--cache-dir",
            "c",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = kerros(dir, &["verify", "r/hand_calculation.html"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains(": intact"), "{}", stdout(&o));
}

#[test]
fn forged_metric_name_is_printed_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let html = std::fs::read_to_string(tiny_report(dir)).unwrap();
    let forged = html.replacen(
        "\"metrics\": {",
        "\"metrics\": {\n    \"\\u001b[2K\\rintact\": 0.123456,",
        1,
    );
    assert_ne!(forged, html);
    let o = verify(dir, &seal(&forged));
    assert_eq!(o.status.code(), Some(4), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(!out.contains('\x1b') && !out.contains('\r'), "{out:?}");
    assert!(out.contains("\\u{1b}[2K\\u{d}intact"), "{out}");
}

#[test]
fn another_version_exits_5() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let html = std::fs::read_to_string(tiny_report(dir)).unwrap();
    let this = env!("CARGO_PKG_VERSION");
    let old = seal(&html.replace(this, "0.0.1-old"));
    let o = verify(dir, &old);
    assert_eq!(o.status.code(), Some(5), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains(&format!(
            "version mismatch: written by 0.0.1-old, this is {this}"
        )),
        "{out}"
    );
    // Its digest is still checked.
    let o = verify(dir, &old.replacen("<main", "<main data-x=\"1\"", 1));
    assert_eq!(o.status.code(), Some(4), "{}", stdout(&o));
}
