//! CI gates (`expect:`), report manifests, sealing and verification.

use kerros::metrics::Evaluation;
use kerros::report::manifest::{resolve_author, DataFile, Manifest, Platform};
use kerros::report::verify::{compare_metrics, manifest_script, seal, verify, DIGEST_SLOT};
use kerros::spec::expect::{self, parse_bound, Op, EXIT_EXPECTATION_UNMET};
use kerros::spec::{self, OrderedMap};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

fn metrics() -> BTreeMap<String, Value> {
    let m = json!({
        "accuracy": 0.83125,
        "cohen_kappa": 0.6625,
        "f1": 0.8401234,
        "precision": null,
        "confusion_matrix": [[40, 8], [6, 26]],
    });
    serde_json::from_value(m).unwrap()
}

fn evaluation() -> Evaluation {
    ev(&metrics())
}

fn ev(map: &BTreeMap<String, Value>) -> Evaluation {
    Evaluation::from_map(map.clone()).unwrap()
}

fn expect_map(entries: &[(&str, &str)]) -> OrderedMap<String> {
    OrderedMap(
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

// ---------------------------------------------------------------- expect

#[test]
fn bounds_parse_with_every_operator() {
    let cases = [
        (">= 0.85", Op::Ge, 0.85, "0.85"),
        ("> 0.8", Op::Gt, 0.8, "0.8"),
        ("<= 0.5", Op::Le, 0.5, "0.5"),
        ("< 1", Op::Lt, 1.0, "1"),
        ("== 1", Op::Eq, 1.0, "1"),
        (">=0.40", Op::Ge, 0.4, "0.40"),
        ("  <   -0.25 ", Op::Lt, -0.25, "-0.25"),
    ];
    for (text, op, value, shown) in cases {
        let b = parse_bound(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(
            (b.op, b.value, b.text.as_str()),
            (op, value, shown),
            "{text}"
        );
    }
    assert_eq!(parse_bound(">= 0.40").unwrap().to_string(), ">= 0.40");
}

#[test]
fn bounds_without_operator_or_number_are_refused() {
    let e = parse_bound("0.85").unwrap_err();
    assert!(
        e.contains("no comparison operator") && e.contains("\">= 0.85\""),
        "{e}"
    );
    for bad in [
        "", ">= ", ">= high", "=> 0.8", "= 0.8", "!= 1", ">= nan", ">= inf",
    ] {
        let e = parse_bound(bad).unwrap_err();
        assert!(!e.is_empty(), "{bad:?}");
    }
    let e = parse_bound("=> 0.8").unwrap_err();
    assert!(e.contains("\"<= 0.5\""), "valid forms listed: {e}");
}

#[test]
fn operators_at_the_boundary() {
    assert!(Op::Ge.holds(0.85, 0.85));
    assert!(!Op::Gt.holds(0.85, 0.85));
    assert!(Op::Le.holds(0.5, 0.5));
    assert!(!Op::Lt.holds(1.0, 1.0));
    assert!(Op::Eq.holds(1.0, 1.0));
    // 0.1 + 0.2 is not exactly 0.3 in binary floating point.
    assert!(Op::Eq.holds(0.1 + 0.2, 0.3));
    assert!(!Op::Eq.holds(0.999, 1.0));
}

#[test]
fn unmet_expectations_are_listed_in_spec_order() {
    let exp = expect_map(&[
        ("cohen_kappa", ">= 0.40"),
        ("accuracy", ">= 0.85"),
        ("f1", "< 0.9"),
        ("precision", ">= 0.5"),
    ]);
    let unmet = expect::check(&exp, &evaluation()).unwrap();
    let shown: Vec<String> = unmet.iter().map(|u| u.to_string()).collect();
    assert_eq!(
        shown,
        [
            "accuracy = 0.8313, expected >= 0.85",
            "precision = undefined, expected >= 0.5",
        ]
    );
    assert_eq!(unmet[0].metric, "accuracy");
    assert_eq!(unmet[0].value, Some(0.83125));
    assert_eq!((unmet[0].op, unmet[0].bound), (Op::Ge, 0.85));
    let all_met = expect::check(&expect_map(&[("accuracy", "> 0.8")]), &evaluation()).unwrap();
    assert!(all_met.is_empty());
}

#[test]
fn unknown_metric_is_located_with_a_suggestion() {
    let e = expect::check(&expect_map(&[("acuracy", ">= 0.85")]), &evaluation()).unwrap_err();
    assert_eq!(e.path, "expect.acuracy");
    assert!(
        e.message.contains("did you mean `accuracy`"),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("accuracy, cohen_kappa, f1, precision"),
        "lists the scalar metrics only: {}",
        e.message
    );
    let e = expect::check(&expect_map(&[("confusion_matrix", ">= 1")]), &evaluation()).unwrap_err();
    assert!(e.message.contains("not a single number"), "{}", e.message);
    let e = expect::check(&expect_map(&[("accuracy", "0.85")]), &evaluation()).unwrap_err();
    assert_eq!(e.path, "expect.accuracy");
}

#[test]
fn expect_from_a_spec_and_its_exit_code() {
    let src = "name: x\nmodel:\n  layers:\n    - dense: {units: 1}\nexpect:\n  accuracy: \">= 0.85\"\n  cohen_kappa: \">= 0.40\"\n";
    let (s, locator) = spec::parse_spec(src, Path::new("x.yaml")).unwrap();
    let exp = s.expect.unwrap();
    let parsed = expect::parse_expectations(&exp).unwrap();
    assert_eq!(parsed.len(), 2);
    assert_eq!(parsed[1].metric, "cohen_kappa");
    let e = expect::check(&expect_map(&[("kappa", ">= 0.4")]), &evaluation()).unwrap_err();
    // A metric missing from the spec's own text is located at `expect:`.
    assert_eq!(e.at(Path::new("x.yaml"), &locator).line, Some(5));
    assert_eq!(EXIT_EXPECTATION_UNMET, 3);
    assert_ne!(EXIT_EXPECTATION_UNMET, kerros::cli::EXIT_FAILURE);
    assert_ne!(EXIT_EXPECTATION_UNMET, kerros::cli::EXIT_INVALID);
}

#[test]
fn a_bare_number_is_not_a_bound() {
    // Unquoted in YAML: either the spec refuses it or the bound does.
    let src = "name: x\nmodel:\n  layers:\n    - dense: {units: 1}\nexpect:\n  accuracy: 0.85\n";
    match spec::parse_spec(src, Path::new("x.yaml")) {
        Err(e) => assert_eq!(e.line, Some(6), "{e}"),
        Ok((s, _)) => {
            let inv = expect::parse_expectations(s.expect.as_ref().unwrap()).unwrap_err();
            assert!(inv.message.contains(">= 0.85"), "{}", inv.message);
        }
    }
}

#[test]
fn a_bad_bound_in_a_spec_is_located() {
    let src = "name: x\nmodel:\n  layers:\n    - dense: {units: 1}\nexpect:\n  accuracy: \">= 0.85\"\n  cohen_kappa: \"at least 0.4\"\n";
    let (s, locator) = spec::parse_spec(src, Path::new("x.yaml")).unwrap();
    let inv = expect::parse_expectations(s.expect.as_ref().unwrap()).unwrap_err();
    let e = inv.at(Path::new("x.yaml"), &locator);
    assert_eq!(e.line, Some(7), "{e}");
    assert_eq!(e.path.as_deref(), Some("expect.cohen_kappa"));
}

// ---------------------------------------------------------------- manifest

fn manifest() -> Manifest {
    let src = "name: imdb_quick\nseed: 7\ndata: {dataset: imdb}\nmodel:\n  layers:\n    - embedding: {input_dim: 100, output_dim: 4}\n    - flatten\n    - dense: {units: 1}\nreport:\n  author: \"Ada </script><b>\"\n";
    let (s, _) = spec::parse_spec(src, Path::new("m.yaml")).unwrap();
    let mut m = Manifest::new(&s, metrics(), None).unwrap();
    m.data_files.push(DataFile {
        path: "imdb/train.parquet".into(),
        blake3: "ab".repeat(32),
    });
    m.stage_keys.insert("train".into(), "cd".repeat(32));
    m
}

fn page(m: &Manifest) -> String {
    let mut rows = String::new();
    for (k, v) in &m.metrics {
        if let Some(x) = v.as_f64() {
            rows.push_str(&format!("<tr><td>{k}</td><td>{x:.4}</td></tr>\n"));
        }
    }
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">{DIGEST_SLOT}<title>r</title></head>\n<body><h1>IMDB</h1>\n<table>\n{rows}</table>\n{}\n</body></html>\n",
        manifest_script(m)
    )
}

#[test]
fn manifest_fields_and_round_trip() {
    let m = manifest();
    assert_eq!(m.name, "imdb_quick");
    assert_eq!(m.seed, 7);
    assert_eq!(m.kerros_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(m.author.as_deref(), Some("Ada </script><b>"));
    assert_eq!(m.platform, Platform::current());
    assert!(m.platform.cpus >= 1);
    assert!(chrono::DateTime::parse_from_rfc3339(&m.created).is_ok());
    // The resolved spec parses back to the same spec.
    let (orig, _) = spec::parse_spec(&m.spec_yaml, Path::new("m.yaml")).unwrap();
    assert_eq!(m.spec().unwrap(), orig);
    assert_eq!(orig.seed, 7);
    let back: Manifest = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
    assert_eq!(back, m);
}

#[test]
fn author_from_flag_or_spec() {
    let src = "name: x\nmodel:\n  layers:\n    - dense: {units: 1}\nreport:\n  author: Grace\n";
    let (s, _) = spec::parse_spec(src, Path::new("x.yaml")).unwrap();
    assert_eq!(resolve_author(None, &s).as_deref(), Some("Grace"));
    assert_eq!(resolve_author(Some("Ada"), &s).as_deref(), Some("Ada"));
    assert_eq!(resolve_author(Some("  "), &s), None);
}

#[test]
fn data_file_hash_is_blake3_of_the_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("d.csv");
    std::fs::write(&p, b"text,label\nhi,pos\n").unwrap();
    let d = DataFile::hash("d.csv", &p).unwrap();
    assert_eq!(
        d.blake3,
        blake3::hash(b"text,label\nhi,pos\n").to_hex().to_string()
    );
    assert!(DataFile::hash("x", &dir.path().join("missing")).is_err());
}

// ---------------------------------------------------------------- seal / verify

#[test]
fn manifest_script_cannot_close_early() {
    let s = manifest_script(&manifest());
    assert!(s.starts_with("<script type=\"application/json\" id=\"kerros-manifest\">"));
    assert_eq!(s.matches("</script>").count(), 1);
    assert!(s.ends_with("</script>"));
    assert!(!s.contains("<b>"));
}

#[test]
fn sealed_report_verifies() {
    let m = manifest();
    let sealed = seal(&page(&m));
    assert!(!sealed.contains(DIGEST_SLOT), "the slot is filled");
    let r = verify(&sealed);
    // A hand-made page has no record to render it from: that is its only
    // problem (real reports are checked in tests/all/verify_render.rs).
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert!(
        r.problems[0].contains("no embedded record"),
        "{:?}",
        r.problems
    );
    assert_eq!(r.manifest.as_ref(), Some(&m));
    // Sealing again changes nothing.
    assert_eq!(seal(&sealed), sealed);
}

#[test]
fn an_edited_accuracy_digit_is_caught() {
    let sealed = seal(&page(&manifest()));
    assert!(sealed.contains("<td>0.8313</td>"));
    let edited = sealed.replace("<td>0.8313</td>", "<td>0.8913</td>");
    let r = verify(&edited);
    assert!(!r.intact);
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("digest does not match")),
        "{:?}",
        r.problems
    );
    assert!(
        r.problems.iter().any(|p| p.contains("`accuracy`")),
        "{:?}",
        r.problems
    );

    // Re-sealing the edited page fixes the digest, not the mismatch with the manifest.
    let r = verify(&seal(&edited));
    assert!(!r.intact);
    assert_eq!(r.problems.len(), 2, "{:?}", r.problems);
    assert!(
        r.problems[1].contains("metric `accuracy` is 0.8313"),
        "{:?}",
        r.problems
    );
}

#[test]
fn an_edited_manifest_is_caught() {
    let sealed = seal(&page(&manifest()));
    let edited = sealed.replacen("\"seed\":7", "\"seed\":8", 1);
    assert_ne!(edited, sealed);
    let r = verify(&edited);
    assert!(!r.intact);
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("digest does not match")),
        "{:?}",
        r.problems
    );
    assert_eq!(r.manifest.unwrap().seed, 8);

    let broken = sealed.replacen("\"seed\":7", "\"seed\":", 1);
    let r = verify(&broken);
    assert!(r.manifest.is_none());
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("manifest is not valid")),
        "{:?}",
        r.problems
    );
}

#[test]
fn any_single_byte_change_is_caught() {
    let sealed = seal(&page(&manifest()));
    let digest_at = sealed.find("kerros-digest").unwrap();
    for i in (0..sealed.len()).step_by(37) {
        // Skip the digest tag itself (changing it is caught too, but may
        // leave it unparsable instead of mismatched) and non-ASCII bytes.
        if (digest_at..digest_at + 100).contains(&i) || !sealed.is_char_boundary(i + 1) {
            continue;
        }
        let c = sealed.as_bytes()[i];
        if !c.is_ascii_alphanumeric() {
            continue;
        }
        let mut bytes = sealed.clone().into_bytes();
        bytes[i] = if c == b'x' { b'y' } else { b'x' };
        let edited = String::from_utf8(bytes).unwrap();
        assert!(!verify(&edited).intact, "change at byte {i} not caught");
    }
}

#[test]
fn unsealed_and_non_reports() {
    let r = verify(&page(&manifest()));
    assert!(!r.intact);
    assert!(
        r.problems.iter().any(|p| p.contains("not sealed")),
        "{:?}",
        r.problems
    );
    let r = verify("<html><body>hello</body></html>");
    assert!(!r.intact);
    assert_eq!(r.problems.len(), 3, "{:?}", r.problems);
    assert!(r.manifest.is_none());
}

#[test]
fn seal_inserts_a_missing_slot_into_head() {
    let m = manifest();
    let html = page(&m).replace(DIGEST_SLOT, "");
    let sealed = seal(&html);
    let head = sealed.find("<head>").unwrap();
    assert_eq!(
        sealed.find("<meta name=\"kerros-digest\"").unwrap(),
        head + "<head>".len()
    );
    let r = verify(&sealed);
    assert!(
        !r.problems.iter().any(|p| p.contains("digest")),
        "{:?}",
        r.problems
    );
}

#[test]
fn shown_numbers_must_be_whole_numbers() {
    // 0.8313 inside 0.83130 (a longer number) does not count as shown.
    let m = manifest();
    let html = page(&m).replace("<td>0.8313</td>", "<td>0.83130</td>");
    let r = verify(&seal(&html));
    assert!(
        r.problems.iter().any(|p| p.contains("`accuracy`")),
        "{:?}",
        r.problems
    );
}

// ---------------------------------------------------------------- rerun

#[test]
fn rerun_metric_comparison() {
    let a = metrics();
    assert!(compare_metrics(&ev(&a), &ev(&a), 0.0).is_empty());
    let mut b = a.clone();
    b.insert("accuracy".into(), json!(0.83126));
    assert!(compare_metrics(&ev(&a), &ev(&b), 1e-4).is_empty());
    assert_eq!(
        compare_metrics(&ev(&a), &ev(&b), 1e-6),
        ["`accuracy`: report 0.83125, re-run 0.83126"]
    );
    b.insert("confusion_matrix".into(), json!([[40, 8], [7, 25]]));
    b.remove("f1");
    b.insert("roc_auc".into(), json!(0.9));
    let d = compare_metrics(&ev(&a), &ev(&b), 1e-4);
    assert_eq!(
        d,
        [
            "`confusion_matrix[1][0]`: report 6, re-run 7",
            "`confusion_matrix[1][1]`: report 26, re-run 25",
            "`f1`: in the report but not in the re-run",
            "`roc_auc`: in the re-run but not in the report",
        ]
    );
    let mut c = a.clone();
    c.insert("precision".into(), json!(0.5));
    assert_eq!(
        compare_metrics(&ev(&a), &ev(&c), 1.0),
        ["`precision`: report null, re-run 0.5"]
    );
}
