//! CSV parsing options (`header`, `columns`, `encoding`, `delimiter`,
//! `quote`), carriage returns, skipped-row counting and limits, empty files
//! and wide files, on small files written to a temp dir.

use crate::support;

use kerros::data::*;
use kerros::spec::parse_spec;
use std::path::Path;
use support::{data_spec, plan, source, write_bytes as write};

fn texts(t: &Table) -> Vec<&str> {
    t.rows.iter().map(|r| r.text.as_str()).collect()
}

/// Resolve and read a spec's files (train.csv / test.csv in `dir`).
fn read_dir(dir: &Path, yaml: &str) -> kerros::data::Result<Tables> {
    let data = data_spec(yaml);
    let s = resolve_sources(&data, dir, Path::new("/nowhere"), DataDirSource::Cli)?;
    read_sources(&data, &s)
}

// ---------- options ----------

#[test]
fn headerless_file_with_named_columns() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "t.csv", b"pos,great film\nneg,\"dull, long\"\n");
    let t = read_table(&source(&p), &plan("header: false\ncolumns: [label, text]")).unwrap();
    assert_eq!(texts(&t), vec!["great film", "dull, long"]);
    assert_eq!(t.rows[0].label, "pos");
    assert_eq!(t.columns, vec!["label", "text"]);
    // A row with another field count names the columns it should have.
    let p = write(dir.path(), "u.csv", b"pos,great film\nneg,a,b\n");
    let e = read_table(&source(&p), &plan("header: false\ncolumns: [label, text]")).unwrap_err();
    assert_eq!(e.line, Some(2));
    assert!(e.message.contains("as named in `data.columns`"), "{e}");
}

#[test]
fn latin1_utf16_and_utf8_bom() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "l.csv", b"text,label\ncaf\xe9 cr\xe8me,pos\n");
    // Without the option the bytes are not UTF-8, and the error says what to set.
    let e = read_table(&source(&p), &plan("{}")).unwrap_err();
    assert!(e.message.contains("data.encoding"), "{e}");
    for enc in ["latin-1", "iso-8859-1", "windows-1252"] {
        let t = read_table(&source(&p), &plan(&format!("encoding: {enc}"))).unwrap();
        assert_eq!(texts(&t), vec!["café crème"], "{enc}");
    }
    // UTF-16 with a byte order mark is recognised with or without the option.
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "text,label\r\nnaïve,pos\r\n"
                .encode_utf16()
                .flat_map(|u| u.to_le_bytes()),
        )
        .collect();
    let p = write(dir.path(), "w.csv", &utf16);
    for yaml in ["{}", "encoding: utf-16"] {
        let t = read_table(&source(&p), &plan(yaml)).unwrap();
        assert_eq!(texts(&t), vec!["naïve"], "{yaml}");
    }
    let p = write(dir.path(), "b.csv", b"\xEF\xBB\xBFtext,label\nx,pos\n");
    let t = read_table(&source(&p), &plan("encoding: utf-8")).unwrap();
    assert_eq!(t.columns, vec!["text", "label"]);
    // JSONL takes the same option.
    let p = write(
        dir.path(),
        "j.jsonl",
        b"{\"text\": \"gar\xe7on\", \"label\": \"a\"}\n",
    );
    let t = read_table(&source(&p), &plan("encoding: latin-1")).unwrap();
    assert_eq!(texts(&t), vec!["garçon"]);
}

#[test]
fn delimiter_and_quote() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "s.csv",
        b"text;label\n'semi; colon';pos\n'it''s';neg\n",
    );
    let t = read_table(&source(&p), &plan("delimiter: ';'\nquote: \"'\"")).unwrap();
    assert_eq!(texts(&t), vec!["semi; colon", "it's"]);
    let p = write(dir.path(), "p.tsv", b"text|label\na|pos\n");
    let t = read_table(&source(&p), &plan("delimiter: '|'")).unwrap();
    assert_eq!(t.rows[0].label, "pos");
}

#[test]
fn bad_option_values_name_the_key() {
    for (yaml, key) in [
        ("encoding: klingon", "data.encoding"),
        ("delimiter: ';;'", "data.delimiter"),
        ("quote: ''", "data.quote"),
        ("header: false", "data.columns"),
        ("columns: [label, text]", "data.columns"),
        ("header: false\ncolumns: [a, a]", "data.columns"),
        ("delimiter: ','\nquote: ','", "data.quote"),
    ] {
        let spec = format!(
            "name: t\ndata:\n  train: a.csv\n  test: b.csv\n  {}\nmodel: {{layers: [{{dense: {{units: 1}}}}]}}\n",
            yaml.replace('\n', "\n  ")
        );
        // Parsing accepts the values; the one validation every command runs
        // before reading data refuses them.
        let (spec, locator) = parse_spec(&spec, Path::new("t.yaml")).unwrap();
        let e = kerros::pipeline::validate(&spec, Path::new("t.yaml"), &locator)
            .unwrap_err()
            .to_string();
        assert!(e.contains(key), "{yaml}: {e}");
        assert!(e.contains("t.yaml:"), "{yaml}: {e}");
    }
    // The readers check too, naming the file.
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "t.csv", b"text,label\na,b\n");
    let e = read_table(&source(&p), &plan("encoding: klingon")).unwrap_err();
    assert!(
        e.to_string().contains("t.csv") && e.message.contains("klingon"),
        "{e}"
    );
}

#[test]
fn lone_carriage_return_is_text_crlf_ends_records() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "c.csv",
        b"text,label\r\nline one\rstill one,pos\r\n\r\nnext,neg\r\nlast,pos",
    );
    let t = read_table(&source(&p), &plan("{}")).unwrap();
    assert_eq!(texts(&t), vec!["line one\rstill one", "next", "last"]);
    assert_eq!(
        t.rows.iter().map(|r| r.label.as_str()).collect::<Vec<_>>(),
        vec!["pos", "neg", "pos"]
    );
}

// ---------- skipped rows ----------

#[test]
fn unterminated_quote_counts_every_row_it_swallows() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "q.csv",
        b"text,label\ngood,pos\n\"open quote,neg\nswallowed,pos\n",
    );
    let t = read_table(&source(&p), &plan("on_bad_rows: skip")).unwrap();
    assert_eq!(texts(&t), vec!["good"]);
    assert_eq!(t.skipped, 2);
    let first = t.first_bad.expect("the first bad row is kept");
    assert_eq!(first.line, Some(3));
}

#[test]
fn too_many_skipped_rows_are_refused_naming_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut train = String::from("text,label\n");
    for i in 0..18 {
        train.push_str(&format!("t{i},{}\n", if i % 2 == 0 { "a" } else { "b" }));
    }
    train.push_str("bad row without label,\nthree,fields,here\n");
    write(dir.path(), "train.csv", train.as_bytes());
    write(dir.path(), "test.csv", b"text,label\nx,a\ny,b\n");
    // 2 of 22 rows read: within 10%.
    let t = read_dir(
        dir.path(),
        "train: train.csv\ntest: test.csv\non_bad_rows: skip",
    )
    .unwrap();
    assert_eq!((t.train.skipped, t.test.skipped), (2, 0));
    // One more bad row in the test file: 3 of 23 is more than 10%.
    write(dir.path(), "test.csv", b"text,label\nx,a\ny,b\nz\n");
    let e = read_dir(
        dir.path(),
        "train: train.csv\ntest: test.csv\non_bad_rows: skip",
    )
    .unwrap_err();
    let m = e.to_string();
    assert!(m.contains("train.csv") && m.contains("line 20"), "{m}");
    assert!(
        m.contains("3 malformed rows") && m.contains("train 2, test 1"),
        "{m}"
    );
    assert!(m.contains("max_bad_rows"), "{m}");
    // `max_bad_rows` sets the limit either way.
    let yaml = "train: train.csv\ntest: test.csv\non_bad_rows: skip\nmax_bad_rows: 3";
    assert!(read_dir(dir.path(), yaml).is_ok());
    let yaml = "train: train.csv\ntest: test.csv\non_bad_rows: skip\nmax_bad_rows: 1";
    let e = read_dir(dir.path(), yaml).unwrap_err();
    assert!(e.message.contains("more than the 1 allowed"), "{e}");
}

#[test]
fn prepared_examples_count_skipped_rows_per_split() {
    let dir = tempfile::tempdir().unwrap();
    let mut train = String::from("text,label\n");
    for i in 0..30 {
        train.push_str(&format!("t{i},{}\n", if i % 2 == 0 { "a" } else { "b" }));
    }
    train.push_str("no label,\n");
    write(dir.path(), "train.csv", train.as_bytes());
    write(dir.path(), "test.csv", b"text,label\nx,a\ny,b\nz\n");
    let spec = support::parse(
        "name: t\ndata: {train: train.csv, test: test.csv, on_bad_rows: skip}\nmodel: {layers: [{dense: {units: 1}}]}\n",
    );
    let data = spec.data.as_ref().unwrap();
    let s = resolve_sources(data, dir.path(), Path::new("/x"), DataDirSource::Cli).unwrap();
    let t = read_sources(data, &s).unwrap();
    let p = prepare(t.train, t.test, t.validation, &spec).unwrap();
    assert_eq!(
        p.skipped_rows,
        SkippedRows {
            train: 1,
            validation: 0,
            test: 1
        }
    );
    assert_eq!(
        p.skipped_rows.to_json(),
        serde_json::json!({"train": 1, "validation": 0, "test": 1, "total": 2})
    );
}

// ---------- empty and wide files ----------

#[test]
fn header_only_or_empty_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "train.csv", b"text,label\n");
    write(dir.path(), "test.csv", b"text,label\nx,a\n");
    let e = read_dir(dir.path(), "train: train.csv\ntest: test.csv").unwrap_err();
    let m = e.to_string();
    assert!(
        m.contains("train.csv") && m.contains("the train file has no rows"),
        "{m}"
    );

    write(dir.path(), "train.csv", b"text,label\nx,a\n");
    write(dir.path(), "test.csv", b"text,label\r\n\r\n");
    let e = read_dir(dir.path(), "train: train.csv\ntest: test.csv").unwrap_err();
    assert!(
        e.to_string().contains("test.csv") && e.message.contains("test file has no rows"),
        "{e}"
    );
}

#[test]
fn zero_row_parquet_file_is_named() {
    use arrow::array::{ArrayRef, RecordBatch, StringArray};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let write_parquet = |name: &str, rows: Vec<&str>| {
        let col: ArrayRef = Arc::new(StringArray::from(rows));
        let batch =
            RecordBatch::try_from_iter(vec![("text", col.clone()), ("label", col)]).unwrap();
        let f = std::fs::File::create(dir.path().join(name)).unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    };
    write_parquet("train.parquet", vec!["a", "b"]);
    write_parquet("test.parquet", vec![]);
    let e = read_dir(dir.path(), "train: train.parquet\ntest: test.parquet").unwrap_err();
    assert!(
        e.to_string().contains("test.parquet") && e.message.contains("test file has no rows"),
        "{e}"
    );
}

#[test]
fn wide_csv_keeps_only_used_columns() {
    // 20,000 columns: the row keeps text, label and at most MAX_EXTRA_COLUMNS extras.
    let width = 20_000;
    let mut text = String::from("text,label");
    for i in 0..width {
        text.push_str(&format!(",c{i}"));
    }
    text.push('\n');
    for r in 0..3 {
        text.push_str(&format!("row {r},pos"));
        for i in 0..width {
            // Bad UTF-8 in a column that is never read is not an error.
            text.push_str(if i == width - 1 { ",\u{0}x" } else { ",v" });
        }
        text.push('\n');
    }
    let mut bytes = text.into_bytes();
    let n = bytes.len();
    bytes[n - 3] = 0xff;
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "w.csv", &bytes);
    let t = read_table(&source(&p), &plan("{}")).unwrap();
    assert_eq!(t.rows.len(), 3);
    assert_eq!(t.columns.len(), width + 2);
    assert!(t.rows.iter().all(|r| r.extra.len() == MAX_EXTRA_COLUMNS));
    assert_eq!(t.rows[2].extra["c0"], "v");
    assert!(!t.rows[0].extra.contains_key(&format!("c{}", width - 1)));
}

// ---------- built-in layouts ----------

#[test]
fn drugscom_layout_reads_review_and_rating() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("drugscom");
    std::fs::create_dir(&d).unwrap();
    let head = b"\tdrugName\tcondition\treview\trating\tdate\tusefulCount\n";
    let mut train = head.to_vec();
    train.extend_from_slice(
        b"206461\tValsartan\tLeft Ventricular Dysfunction\t\"\"It has no side effect\"\"\t9.0\tMay 20, 2012\t27\n",
    );
    let mut test = head.to_vec();
    test.extend_from_slice(
        b"163740\tMirtazapine\tDepression\t\"I&#039;ve tried\"\t10.0\tFebruary 28, 2012\t22\n",
    );
    std::fs::write(d.join("drugsComTrain_raw.tsv"), &train).unwrap();
    std::fs::write(d.join("drugsComTest_raw.tsv"), &test).unwrap();
    let data = data_spec("dataset: drugscom");
    let s = resolve_sources(&data, Path::new("."), dir.path(), DataDirSource::Cli).unwrap();
    let t = read_sources(&data, &s).unwrap();
    assert_eq!(t.train.rows[0].id, 206461);
    assert_eq!(t.train.rows[0].label, "9.0");
    assert_eq!(t.test.rows[0].text, "I&#039;ve tried");
    assert_eq!(t.test.rows[0].extra["drugName"], "Mirtazapine");
    assert!(BUILTIN_DATASETS.contains(&"drugscom"));
    // `data list` says how each listed dataset is used in a spec.
    let list = kerros::data::fetch::cli::list_text(dir.path());
    for name in ["imdb", "druglib", "drugscom"] {
        assert!(
            list.contains(&format!("use: data: {{dataset: {name}}}")),
            "{list}"
        );
    }
    assert!(list.contains("not pinned"), "{list}");
}
