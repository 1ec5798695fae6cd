//! The teacher's side end to end, through the built binary: student folders
//! from `examples/assignment/` with `kerros init --assignment`, a locked key
//! refused, `kerros grade` telling an honest report from an edited one and
//! one made on other data, duplicates, the class page, and `compare`'s
//! McNemar p-value. The data is a tiny IMDB-shaped folder written here.

use crate::support;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use kerros::report::verify::seal;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use support::{kerros, ok, write};

/// `<dir>/imdb/{train,test}.parquet`: separable reviews (`good` / `bad`
/// words); `flip_test` changes every third test label.
fn imdb_folder(dir: &Path, flip_test: bool) {
    let imdb = dir.join("imdb");
    std::fs::create_dir_all(&imdb).unwrap();
    let table = |name: &str, n: i64, flip: bool| {
        let ids: Vec<i64> = (0..n).collect();
        let pos = |i: i64| (i * 7 + 3) % 5 < 2 || i % 2 == 0;
        let texts: Vec<String> = ids
            .iter()
            .map(|&i| {
                let w = if pos(i) {
                    "good great fine"
                } else {
                    "bad awful poor"
                };
                let words = format!("{w} ").repeat(8);
                format!(
                    "film {i} was {words}and {}",
                    if i % 3 == 0 { "long" } else { "short" }
                )
            })
            .collect();
        let labels: Vec<&str> = ids
            .iter()
            .map(|&i| {
                let p = pos(i) != (flip && i % 3 == 0);
                if p {
                    "pos"
                } else {
                    "neg"
                }
            })
            .collect();
        let batch = RecordBatch::try_from_iter(vec![
            ("id", Arc::new(Int64Array::from(ids)) as ArrayRef),
            ("text", Arc::new(StringArray::from(texts)) as ArrayRef),
            ("label", Arc::new(StringArray::from(labels)) as ArrayRef),
        ])
        .unwrap();
        let f = std::fs::File::create(imdb.join(name)).unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    };
    table("train.parquet", 800, false);
    table("test.parquet", 200, flip_test);
}

/// Make student folder `name` and run it (`edit` changes its spec first).
fn student(root: &Path, name: &str, author: &str, data: &str, edit: impl Fn(String) -> String) {
    ok(&kerros(
        root,
        &["init", "--assignment", "teacher/assignment.yaml", name],
    ));
    let spec = root.join(name).join("sentiment.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, edit(text)).unwrap();
    ok(&kerros(
        root,
        &[
            "run",
            &format!("{name}/sentiment.yaml"),
            "--data-dir",
            data,
            "--cache-dir",
            &format!("{name}/cache"),
            "--reports-dir",
            &format!("{name}/reports"),
            "--author",
            author,
        ],
    ));
}

/// `<root>/teacher/` with `examples/assignment/`'s assignment and template,
/// and the class's data in `<root>/data/`.
fn class_folder(root: &Path) {
    let teacher = root.join("teacher");
    std::fs::create_dir_all(&teacher).unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/assignment");
    for f in ["assignment.yaml", "sentiment.yaml"] {
        std::fs::copy(example.join(f), teacher.join(f)).unwrap();
    }
    imdb_folder(&root.join("data"), false);
}

#[test]
fn grading_catches_edits_other_data_and_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    class_folder(root);
    imdb_folder(&root.join("other"), true);

    // A changed locked key is refused before any data is read.
    ok(&kerros(
        root,
        &["init", "--assignment", "teacher/assignment.yaml", "s2"],
    ));
    let spec = root.join("s2/sentiment.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, text.replace("fraction: 0.2", "fraction: 0.1")).unwrap();
    let o = kerros(root, &["run", "s2/sentiment.yaml", "--data-dir", "data"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("sentiment.yaml:"), "no spec line: {err}");
    assert!(err.contains("`data.validation.fraction`"), "{err}");
    assert!(err.contains("the assignment's value is 0.2"), "{err}");

    let same = |t: String| t;
    student(root, "s1", "Ada", "data", same);
    // An unlocked change, so s3 and s4 are not duplicates of s1.
    student(root, "s3", "Bo", "data", |t| {
        t.replace("output_dim: 16", "output_dim: 12")
    });
    student(root, "s4", "Cy", "other", |t| {
        t.replace("epochs: 8", "epochs: 7")
    });
    student(root, "s5", "Dee", "data", same);

    // Bo edits the accuracy shown and seals the page again.
    let r3 = root.join("s3/reports/sentiment.html");
    let html = std::fs::read_to_string(&r3).unwrap();
    let at = html.find("<div class=\"value\">").unwrap() + "<div class=\"value\">".len();
    let shown = &html[at..at + 6];
    let forged = if shown == "0.9999" {
        "0.9998"
    } else {
        "0.9999"
    };
    let edited = format!("{}{forged}{}", &html[..at], &html[at + 6..]);
    std::fs::write(&r3, seal(&edited)).unwrap();
    assert_eq!(
        kerros(root, &["verify", "s3/reports/sentiment.html"])
            .status
            .code(),
        Some(4)
    );

    // A run of the template itself was made for no assignment.
    ok(&kerros(
        root,
        &[
            "run",
            "teacher/sentiment.yaml",
            "--data-dir",
            "data",
            "--cache-dir",
            "tc",
            "--reports-dir",
            "plain",
        ],
    ));
    // Ada's report as another kerros version would have written it.
    let r1 = std::fs::read_to_string(root.join("s1/reports/sentiment.html")).unwrap();
    // As tests/all/verify_render.rs does: every mention of the version, in the
    // page, the manifest and the record.
    let old = r1.replace(env!("CARGO_PKG_VERSION"), "0.0.1-old");
    write(root, "old.html", &seal(&old));

    let reports = [
        "s1/reports/sentiment.html",
        "s3/reports/sentiment.html",
        "s4/reports/sentiment.html",
        "s5/reports/sentiment.html",
        "missing.html",
        "plain/sentiment.html",
        "old.html",
    ];
    let mut args = vec!["grade", "--assignment", "teacher/assignment.yaml"];
    args.extend(reports);
    args.extend([
        "--data-dir",
        "data",
        "--csv",
        "grades.csv",
        "--html",
        "class.html",
    ]);
    let out = ok(&kerros(root, &args));
    let mut rows: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut csv = csv::Reader::from_path(root.join("grades.csv")).unwrap();
    let header = csv.headers().unwrap().clone();
    for field in [
        "report",
        "author",
        "status",
        "points",
        "detail",
        "duplicate_of",
        "accuracy",
    ] {
        assert!(
            header.iter().any(|h| h == field),
            "no column {field}: {header:?}"
        );
    }
    for rec in csv.records() {
        let rec = rec.unwrap();
        let row: BTreeMap<String, String> = header
            .iter()
            .zip(rec.iter())
            .map(|(h, v)| (h.to_string(), v.to_string()))
            .collect();
        rows.insert(row["report"].clone(), row);
    }
    let status = |r: &str| rows[r]["status"].as_str();
    assert_eq!(status(reports[0]), "ok", "{out}");
    assert_eq!(status(reports[1]), "altered", "{out}");
    assert_eq!(status(reports[2]), "data_mismatch", "{out}");
    assert_eq!(status(reports[3]), "ok", "{out}");
    assert_eq!(status(reports[4]), "unreadable", "{out}");
    assert_eq!(status(reports[5]), "wrong_assignment", "{out}");
    assert_eq!(status(reports[6]), "version_mismatch", "{out}");
    assert!(
        rows[reports[2]]["detail"].contains("test file differs"),
        "{out}"
    );
    assert_eq!(rows[reports[1]]["points"], "0");

    // The honest report's points follow the assignment's bounds.
    let honest = &rows[reports[0]];
    let acc: f64 = honest["accuracy"].parse().unwrap();
    let kappa: f64 = honest["cohen_kappa"].parse().unwrap_or(f64::NAN);
    let want = if acc >= 0.80 {
        3
    } else if acc >= 0.75 {
        2
    } else {
        0
    } + u32::from(kappa >= 0.5);
    assert_eq!(
        honest["points"],
        want.to_string(),
        "accuracy {acc}, kappa {kappa}"
    );
    assert!(
        want > 0,
        "the honest run should earn points: accuracy {acc}"
    );

    // Ada and Dee handed in the same spec (and old.html is Ada's again).
    assert_eq!(rows[reports[0]]["duplicate_of"], reports[3]);
    assert_eq!(rows[reports[3]]["duplicate_of"], reports[0]);
    assert_eq!(rows[reports[1]]["duplicate_of"], "");

    let page = std::fs::read_to_string(root.join("class.html")).unwrap();
    assert!(page.contains("sentiment-exercise-1"));
    assert!(page.contains("McNemar"));
    assert!(page.contains("data_mismatch") && page.contains("altered"));
    assert!(!page.contains("<script"), "the class page runs no script");
    // Deterministic: grading again writes the same page.
    ok(&kerros(root, &args));
    assert_eq!(
        page,
        std::fs::read_to_string(root.join("class.html")).unwrap()
    );

    // --rerun reproduces the other version's report on a shared cache.
    let out = ok(&kerros(
        root,
        &[
            "grade",
            "--assignment",
            "teacher/assignment.yaml",
            "old.html",
            "s5/reports/sentiment.html",
            "--rerun",
            "--jobs",
            "2",
            "--data-dir",
            "data",
            "--cache-dir",
            "grading-cache",
            "--csv",
            "rerun.csv",
        ],
    ));
    assert!(out.contains("old.html: ok"), "{out}");
    assert!(out.contains("s5/reports/sentiment.html: ok"), "{out}");

    // The report shows 95% intervals.
    let r1 = std::fs::read_to_string(root.join(reports[0])).unwrap();
    assert!(r1.contains("95% CI "), "no interval in the report");

    // A bad assignment is a bad command line.
    write(
        root,
        "bad.yaml",
        "assignment: x\ntemplate: teacher/sentiment.yaml\nlocked: [dta]\n",
    );
    let o = kerros(root, &["grade", "--assignment", "bad.yaml", reports[0]]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("did you mean `data`"));
}

/// `html` with its embedded record's spec edited by `edit` (in the record
/// and in its manifest), the page rendered again from that record and
/// sealed: what a student who edits the record with kerros's own library
/// would hand in. Its page, record, manifest and digest agree.
fn forge_spec(html: &str, edit: impl Fn(&str) -> String) -> String {
    let mut record = kerros::report::rerender::extract_record(html).unwrap();
    let edited = edit(&record.spec_yaml);
    assert_ne!(edited, record.spec_yaml, "the edit changed nothing");
    record.spec_yaml = edited;
    let mut manifest: kerros::report::manifest::Manifest =
        serde_json::from_str(record.manifest_json.as_deref().unwrap()).unwrap();
    manifest.spec_yaml = edit(&manifest.spec_yaml);
    record.manifest_json = Some(serde_json::to_string(&manifest).unwrap());
    seal(&kerros::report::render(&record).unwrap())
}

#[test]
fn grading_judges_the_record_a_consistent_forgery_claims() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    class_folder(root);
    student(root, "s1", "Ada", "data", |t| t);
    let honest = std::fs::read_to_string(root.join("s1/reports/sentiment.html")).unwrap();
    // Claims a smaller data limit (`data` is locked) than the run used.
    write(
        root,
        "locked.html",
        &forge_spec(&honest, |y| y.replace("limit: 2000", "limit: 1000")),
    );
    // Claims 2 epochs (unlocked) for metrics that 8 epochs made.
    write(
        root,
        "epochs.html",
        &forge_spec(&honest, |y| y.replace("epochs: 8", "epochs: 2")),
    );
    // Both pass `verify`: it checks that a report is intact, not that it is true.
    for forged in ["locked.html", "epochs.html"] {
        let o = kerros(root, &["verify", forged]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{forged}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let grade = |extra: &[&str], csv: &str| {
        let mut args = vec![
            "grade",
            "--assignment",
            "teacher/assignment.yaml",
            "s1/reports/sentiment.html",
            "locked.html",
            "epochs.html",
            "--data-dir",
            "data",
            "--cache-dir",
            "grading-cache",
            "--csv",
            csv,
        ];
        args.extend(extra);
        let out = ok(&kerros(root, &args));
        let mut rows = BTreeMap::new();
        let mut reader = csv::Reader::from_path(root.join(csv)).unwrap();
        let header = reader.headers().unwrap().clone();
        for rec in reader.records() {
            let rec = rec.unwrap();
            let field =
                |name: &str| rec[header.iter().position(|h| h == name).unwrap()].to_string();
            rows.insert(
                field("report"),
                (field("status"), field("detail"), field("points")),
            );
        }
        (out, rows)
    };
    // Without --rerun: the locked key is caught from the record alone; the
    // epoch claim cannot be, so that report is graded on its metrics.
    let (out, rows) = grade(&[], "plain.csv");
    assert_eq!(rows["s1/reports/sentiment.html"].0, "ok", "{out}");
    let (status, detail, points) = &rows["locked.html"];
    assert_eq!(status, "locked_changed", "{out}");
    assert!(
        detail.contains("locked `data` changed") && detail.contains("limit"),
        "{detail}"
    );
    assert_eq!(points, "0");
    assert_eq!(rows["epochs.html"].0, "ok", "{out}");
    // --rerun runs each report's spec again: the epoch claim does not reproduce.
    let (out, rows) = grade(&["--rerun"], "rerun.csv");
    assert_eq!(rows["s1/reports/sentiment.html"].0, "ok", "{out}");
    assert_eq!(rows["locked.html"].0, "locked_changed", "{out}");
    let (status, detail, points) = &rows["epochs.html"];
    assert_eq!(status, "not_reproduced", "{out}");
    assert!(detail.contains("the re-run differs"), "{detail}");
    assert_eq!(points, "0");
}

#[test]
fn compare_prints_a_mcnemar_p_value() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let train = support::film_reviews_csv(40, ("good", "pos"), ("bad", "neg"));
    write(dir, "train.csv", &train);
    let mut test = String::from("text,label\n");
    for i in 0..30 {
        let w = if i % 3 == 0 { "bad" } else { "good" };
        test.push_str(&format!(
            "a {w} one {i},{}\n",
            if i % 2 == 0 { "neg" } else { "pos" }
        ));
    }
    write(dir, "test.csv", &test);
    for (name, width) in [("t1", 4), ("t2", 8)] {
        write(
            dir,
            &format!("{name}.yaml"),
            &format!(
                "name: {name}\nseed: 3\ndata: {{train: train.csv, test: test.csv}}\ntokenizer: {{num_words: 50}}\n\
                 sequence: {{maxlen: 6}}\nmodel:\n  layers:\n    - embedding: {{input_dim: 50, output_dim: {width}}}\n\
                 \x20   - flatten\n    - dense: {{units: 1}}\ntrain: {{epochs: 2, batch_size: 8}}\n"
            ),
        );
    }
    ok(&kerros(
        dir,
        &[
            "run",
            "t1.yaml",
            "t2.yaml",
            "--cache-dir",
            "c",
            "--reports-dir",
            "r",
        ],
    ));
    let out = ok(&kerros(
        dir,
        &["compare", "t1.yaml", "t2.yaml", "--cache-dir", "c"],
    ));
    assert!(out.contains("p vs t1 (McNemar)"), "{out}");
    let t2 = out.lines().find(|l| l.starts_with("t2 ")).unwrap();
    let p: f64 = t2.split_whitespace().last().unwrap().parse().unwrap();
    assert!((0.0..=1.0).contains(&p), "{t2}");
    let t1 = out.lines().find(|l| l.starts_with("t1 ")).unwrap();
    assert!(t1.ends_with("baseline"), "{t1}");
    // --baseline names another run; an unknown one is a bad command line.
    let out = ok(&kerros(
        dir,
        &[
            "compare",
            "t1.yaml",
            "t2.yaml",
            "--cache-dir",
            "c",
            "--baseline",
            "t2",
        ],
    ));
    assert!(out.contains("p vs t2 (McNemar)"), "{out}");
    let o = kerros(
        dir,
        &[
            "compare",
            "t1.yaml",
            "--cache-dir",
            "c",
            "--baseline",
            "nope",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
}
