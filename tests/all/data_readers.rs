//! Readers, sources and artifacts of the data module, on small files written to
//! a temp dir and on the real IMDB and Druglib files.

use crate::support;

use kerros::data::*;
use kerros::spec::BadRows;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::{data_spec, plan, shared_data, source as csv_source, write_bytes as write};

// ---------- CSV / TSV ----------

#[test]
fn csv_quoted_multiline_field_with_crlf() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "train.csv",
        b"id,text,label\r\n7,\"hello\r\nworld, \"\"quoted\"\"\",pos\r\n9,plain,neg\r\n",
    );
    let t = read_table(&csv_source(&p), &plan("id_column: id")).unwrap();
    assert_eq!(t.columns, vec!["id", "text", "label"]);
    assert_eq!(t.rows.len(), 2);
    assert_eq!(t.rows[0].id, 7);
    assert_eq!(t.rows[0].text, "hello\r\nworld, \"quoted\"");
    assert_eq!(t.rows[0].label, "pos");
    assert_eq!(t.rows[1].id, 9);
    assert_eq!(t.rows[1].text, "plain");
    assert_eq!(t.skipped, 0);
}

#[test]
fn csv_without_id_column_uses_row_numbers_and_keeps_extras() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "a.csv",
        "\u{feff}text,label,topic\nx,1,books\ny,2,films\n".as_bytes(),
    );
    let t = read_table(&csv_source(&p), &plan("{}")).unwrap();
    assert_eq!(t.rows.iter().map(|r| r.id).collect::<Vec<_>>(), vec![0, 1]);
    assert_eq!(
        t.rows[1].extra,
        BTreeMap::from([("topic".to_string(), "films".to_string())])
    );
}

#[test]
fn tsv_joins_text_columns_leaving_out_empty_cells() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "t.tsv",
        b"a\tb\tc\tscore\nA1\t\tC1\t3\nA2\tB2\tC2\t4\n\t\t\t5\n",
    );
    let t = read_table(
        &csv_source(&p),
        &plan("text_columns: [a, b, c]\ntext_separator: ' | '\nlabel_column: score"),
    )
    .unwrap();
    let texts: Vec<&str> = t.rows.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(texts, vec!["A1 | C1", "A2 | B2 | C2", ""]);
    assert_eq!(t.rows[1].label, "4");
    assert!(t.rows[0].extra.is_empty());
}

#[test]
fn missing_column_names_file_columns_and_nearest() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "train.csv", b"id,text,label\n1,a,pos\n");
    let e = read_table(&csv_source(&p), &plan("text_column: txt")).unwrap_err();
    assert_eq!(e.kind, DataErrorKind::MissingColumn);
    assert_eq!(e.column.as_deref(), Some("txt"));
    assert!(
        e.message
            .contains("column `txt` not found in train.csv; columns are: id, text, label"),
        "{e}"
    );
    assert!(e.message.contains("did you mean `text`?"), "{e}");
    assert!(e.to_string().contains("train.csv"), "{e}");
}

#[test]
fn a_header_split_by_another_delimiter_names_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    for (bytes, shown) in [
        (&b"text;label\na;pos\n"[..], "`data.delimiter: \";\"`"),
        (&b"text|label\na|pos\n"[..], "`data.delimiter: \"|\"`"),
    ] {
        let p = write(dir.path(), "train.csv", bytes);
        let e = read_table(&csv_source(&p), &plan("")).unwrap_err();
        assert_eq!(e.kind, DataErrorKind::MissingColumn);
        assert!(e.message.contains(shown), "{e}");
        assert!(!e.message.contains("did you mean"), "{e}");
    }
}

#[test]
fn wrong_field_count_names_physical_line_after_multiline_record() {
    let dir = tempfile::tempdir().unwrap();
    // Line 1 header, lines 2-4 one record, line 5 has two fields.
    let p = write(
        dir.path(),
        "train.csv",
        b"id,text,label\n1,\"a\nb\nc\",pos\n2,x\n",
    );
    let e = read_table(&csv_source(&p), &plan("{}")).unwrap_err();
    assert_eq!(e.kind, DataErrorKind::BadRow);
    assert_eq!(e.line, Some(5));
    assert!(e.message.contains("expected 3 fields"), "{e}");
    assert!(e.message.contains("found 2"), "{e}");
    let shown = e.to_string();
    assert!(
        shown.contains("train.csv") && shown.contains("line 5"),
        "{shown}"
    );
}

#[test]
fn unclosed_quote_is_bad_quoting() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "train.csv",
        b"id,text,label\n1,ok,pos\n2,\"never closed,neg\n3,c,pos\n",
    );
    let e = read_table(&csv_source(&p), &plan("{}")).unwrap_err();
    assert_eq!(e.line, Some(3));
    assert!(
        e.message.contains("quote") && e.message.contains("never closed"),
        "{e}"
    );
    assert!(e.message.contains("line 3"), "{e}");
}

#[test]
fn unclosed_quote_in_last_field_of_last_row_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "train.csv", b"text,label\nok,pos\nfine,\"neg\n");
    let e = read_table(&csv_source(&p), &plan("{}")).unwrap_err();
    assert_eq!(e.line, Some(3));
    assert!(e.message.contains("bad quoting"), "{e}");
}

#[test]
fn text_after_closing_quote_is_named_when_fields_do_not_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "train.csv", b"id,text,label\n1,\"a\"b,c,pos\n");
    let e = read_table(&csv_source(&p), &plan("{}")).unwrap_err();
    assert_eq!(e.line, Some(2));
    assert!(e.message.contains("bad quoting"), "{e}");
    assert!(e.message.contains("doubled"), "{e}");
}

#[test]
fn invalid_utf8_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "train.csv",
        b"id,text,label\n1,fine,pos\n2,caf\xe9,neg\n",
    );
    let e = read_table(&csv_source(&p), &plan("{}")).unwrap_err();
    assert_eq!(e.line, Some(3));
    assert_eq!(e.column.as_deref(), Some("text"));
    assert!(e.message.contains("UTF-8"), "{e}");
}

#[test]
fn empty_label_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "train.csv", b"text,label\na,pos\nb,  \n");
    let e = read_table(&csv_source(&p), &plan("{}")).unwrap_err();
    assert_eq!(e.line, Some(3));
    assert_eq!(e.column.as_deref(), Some("label"));
    assert!(e.message.contains("empty label"), "{e}");
}

#[test]
fn bad_integer_id_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "train.csv", b"id,text,label\nx1,a,pos\n");
    let e = read_table(&csv_source(&p), &plan("id_column: id")).unwrap_err();
    assert_eq!((e.line, e.column.as_deref()), (Some(2), Some("id")));
    assert!(
        e.message.contains("integer id") && e.message.contains("x1"),
        "{e}"
    );
}

#[test]
fn skip_counts_malformed_rows_and_keeps_row_numbers_stable() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "train.csv",
        b"text,label\na,pos\nb\nc,neg\nd,\ne,pos,extra\nf\xff,neg\ng,pos\n",
    );
    let mut pl = plan("on_bad_rows: skip");
    assert_eq!(pl.on_bad_rows, BadRows::Skip);
    let t = read_table(&csv_source(&p), &pl).unwrap();
    assert_eq!(t.skipped, 4);
    let ids: Vec<i64> = t.rows.iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![0, 2, 6]);
    assert_eq!(t.rows[2].text, "g");
    pl.on_bad_rows = BadRows::Error;
    assert!(read_table(&csv_source(&p), &pl).is_err());
}

#[test]
fn empty_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "e.csv", b"");
    let e = read_table(&csv_source(&p), &plan("{}")).unwrap_err();
    assert!(e.message.contains("header"), "{e}");
}

// ---------- JSONL ----------

#[test]
fn jsonl_reads_objects_and_renders_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "d.jsonl",
        b"{\"id\": 10, \"text\": \"caf\xc3\xa9\", \"label\": 3, \"src\": \"web\"}\r\n\n{\"id\": 11, \"text\": null, \"label\": 4.5, \"src\": \"app\"}\n",
    );
    let t = read_table(&csv_source(&p), &plan("id_column: id")).unwrap();
    assert_eq!(t.rows.len(), 2);
    assert_eq!(t.rows[0].text, "café");
    assert_eq!(t.rows[0].label, "3");
    assert_eq!(t.rows[1].label, "4.5");
    assert_eq!(t.rows[1].text, "");
    assert_eq!(t.rows[1].id, 11);
    assert_eq!(t.rows[1].extra["src"], "app");
}

#[test]
fn jsonl_errors_name_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "d.jsonl",
        b"{\"text\": \"a\", \"label\": \"x\"}\n{\"text\": \"b\", \"label\": \"y\"\n",
    );
    let e = read_table(&csv_source(&p), &plan("{}")).unwrap_err();
    assert_eq!(e.line, Some(2));
    assert!(e.message.contains("invalid JSON"), "{e}");

    let p = write(
        dir.path(),
        "m.jsonl",
        b"{\"text\": \"a\", \"label\": \"x\"}\n{\"txt\": \"b\", \"label\": \"y\"}\n",
    );
    let e = read_table(&csv_source(&p), &plan("{}")).unwrap_err();
    assert_eq!((e.line, e.column.as_deref()), (Some(2), Some("text")));
    assert!(e.message.contains("did you mean `txt`?"), "{e}");

    let p = write(
        dir.path(),
        "l.jsonl",
        b"{\"text\": \"a\", \"label\": [1]}\n",
    );
    let e = read_table(&csv_source(&p), &plan("{}")).unwrap_err();
    assert_eq!((e.line, e.column.as_deref()), (Some(1), Some("label")));
    assert!(e.message.contains("an array"), "{e}");
}

#[test]
fn jsonl_skip_counts_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "d.jsonl",
        b"{\"text\": \"a\", \"label\": \"x\"}\nnot json\n[1, 2]\n{\"text\": \"b\", \"label\": \"\"}\n{\"text\": \"c\", \"label\": \"y\"}\n",
    );
    let t = read_table(&csv_source(&p), &plan("on_bad_rows: skip")).unwrap();
    assert_eq!(t.skipped, 3);
    assert_eq!(
        t.rows.iter().map(|r| r.text.as_str()).collect::<Vec<_>>(),
        vec!["a", "c"]
    );
}

// ---------- Parquet ----------

mod parquet_files {
    use super::*;
    use arrow::array::{
        ArrayRef, Float64Array, Int32Array, Int64Array, LargeStringArray, RecordBatch, StringArray,
    };
    use parquet::arrow::ArrowWriter;
    use std::sync::Arc;

    fn write_parquet(path: &Path, cols: Vec<(&str, ArrayRef)>) {
        let batch = RecordBatch::try_from_iter(cols).unwrap();
        let f = std::fs::File::create(path).unwrap();
        let mut w = ArrowWriter::try_new(f, batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }

    #[test]
    fn parquet_reads_strings_integer_ids_and_numeric_labels() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.parquet");
        write_parquet(
            &p,
            vec![
                ("key", Arc::new(Int32Array::from(vec![5, 6, 7])) as ArrayRef),
                (
                    "body",
                    Arc::new(LargeStringArray::from(vec![Some("x y"), None, Some("z")])),
                ),
                ("stars", Arc::new(Int64Array::from(vec![1, 10, 3]))),
                ("topic", Arc::new(StringArray::from(vec!["a", "b", "c"]))),
                ("score", Arc::new(Float64Array::from(vec![0.5, 1.0, 2.25]))),
            ],
        );
        let t = read_table(
            &csv_source(&p),
            &plan("text_column: body\nlabel_column: stars\nid_column: key"),
        )
        .unwrap();
        assert_eq!(t.columns, vec!["key", "body", "stars", "topic", "score"]);
        assert_eq!(
            t.rows.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![5, 6, 7]
        );
        assert_eq!(
            t.rows.iter().map(|r| r.label.as_str()).collect::<Vec<_>>(),
            vec!["1", "10", "3"]
        );
        assert_eq!(t.rows[1].text, "");
        assert_eq!(t.rows[0].text, "x y");
        assert_eq!(t.rows[2].extra["topic"], "c");
        assert_eq!(t.rows[2].extra["score"], "2.25");
    }

    #[test]
    fn parquet_errors_name_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("train.parquet");
        write_parquet(
            &p,
            vec![
                ("text", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
                ("label", Arc::new(StringArray::from(vec![Some("a"), None]))),
            ],
        );
        let e = read_table(&csv_source(&p), &plan("text_column: texts")).unwrap_err();
        assert_eq!(e.kind, DataErrorKind::MissingColumn);
        assert!(e.message.contains("columns are: text, label"), "{e}");
        let e = read_table(&csv_source(&p), &plan("{}")).unwrap_err();
        assert_eq!(e.column.as_deref(), Some("text"));
        assert!(
            e.message.contains("text (utf8)") && e.message.contains("Int64"),
            "{e}"
        );

        let p = dir.path().join("nulls.parquet");
        write_parquet(
            &p,
            vec![
                (
                    "text",
                    Arc::new(StringArray::from(vec!["a", "b"])) as ArrayRef,
                ),
                ("label", Arc::new(StringArray::from(vec![Some("a"), None]))),
            ],
        );
        let e = read_table(&csv_source(&p), &plan("{}")).unwrap_err();
        assert_eq!(e.column.as_deref(), Some("label"));
        assert!(
            e.message.contains("row 2") && e.message.contains("empty label"),
            "{e}"
        );
        let t = read_table(&csv_source(&p), &plan("on_bad_rows: skip")).unwrap();
        assert_eq!((t.rows.len(), t.skipped), (1, 1));
    }
}

// ---------- artifacts ----------

#[test]
fn write_items_read_items_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("items.parquet");
    // More than one write chunk, extras with unicode and none at all.
    let items: Vec<Item> = (0..20_000)
        .map(|i| Item {
            id: i as i64 * 3 - 7,
            text: format!("text {i} — ünïcode\n\"q\""),
            label: if i % 3 == 0 {
                "pos".into()
            } else {
                "neg".into()
            },
            target: i as f32 / 7.0,
            extra: if i % 2 == 0 {
                BTreeMap::from([
                    ("condition".to_string(), format!("c{i}")),
                    ("drug \"x\"".to_string(), "ä".to_string()),
                ])
            } else {
                BTreeMap::new()
            },
        })
        .collect();
    write_items(&p, &items).unwrap();
    let back = read_items(&p).unwrap();
    assert_eq!(back, items);
    // zstd is used: the column chunks say so.
    let f = std::fs::File::open(&p).unwrap();
    let r = parquet::file::reader::SerializedFileReader::new(f).unwrap();
    use parquet::file::reader::FileReader;
    let codec = r.metadata().row_group(0).column(1).compression();
    assert!(
        matches!(codec, parquet::basic::Compression::ZSTD(_)),
        "{codec:?}"
    );
    // An empty list round-trips too.
    write_items(&p, &[]).unwrap();
    assert!(read_items(&p).unwrap().is_empty());
}

#[test]
fn read_items_rejects_other_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.csv");
    std::fs::write(&p, "not parquet").unwrap();
    let e = read_items(&p).unwrap_err();
    assert!(e.to_string().contains("x.csv"), "{e}");
}

// ---------- sources ----------

#[test]
fn data_dir_precedence() {
    let cache = Some(PathBuf::from("/c"));
    assert_eq!(
        data_dir_from(
            Some(Path::new("/cli")),
            Some(Path::new("/env")),
            cache.clone()
        ),
        (PathBuf::from("/cli"), DataDirSource::Cli)
    );
    assert_eq!(
        data_dir_from(None, Some(Path::new("/env")), cache.clone()),
        (PathBuf::from("/env"), DataDirSource::Env)
    );
    assert_eq!(
        data_dir_from(None, Some(Path::new("")), cache.clone()),
        (PathBuf::from("/c/kerros/data"), DataDirSource::UserCache)
    );
    assert_eq!(data_dir_from(None, None, None).1, DataDirSource::Fallback);
}

#[test]
fn explicit_paths_are_relative_to_the_spec_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("d")).unwrap();
    write(&dir.path().join("d"), "tr.csv", b"text,label\na,b\n");
    write(&dir.path().join("d"), "te.tsv", b"text\tlabel\na\tb\n");
    write(
        &dir.path().join("d"),
        "va.jsonl",
        b"{\"text\":\"a\",\"label\":\"b\"}\n",
    );
    let data = data_spec("train: d/tr.csv\ntest: d/te.tsv\nvalidation: {file: d/va.jsonl}");
    let s = resolve_sources(&data, dir.path(), Path::new("/nowhere"), DataDirSource::Cli).unwrap();
    use kerros::spec::FileFormat;
    assert_eq!(s.train.path, dir.path().join("d/tr.csv"));
    assert_eq!(s.train.format, FileFormat::Csv);
    assert_eq!(s.test.as_ref().unwrap().format, FileFormat::Tsv);
    assert_eq!(
        s.validation.as_ref().map(|v| v.format),
        Some(FileFormat::Jsonl)
    );
    let t = read_sources(&data, &s).unwrap();
    assert_eq!(t.validation.map(|v| v.rows.len()), Some(1));

    let data = data_spec("train: d/tr.csv\ntest: d/missing.csv");
    let e =
        resolve_sources(&data, dir.path(), Path::new("/nowhere"), DataDirSource::Cli).unwrap_err();
    assert_eq!(e.kind, DataErrorKind::NotFound);
    assert!(e.to_string().contains("missing.csv"), "{e}");
    assert!(e.message.contains("relative to the spec's folder"), "{e}");

    let data = data_spec("train: d/tr.csv\ntest: d/tr.txt");
    write(&dir.path().join("d"), "tr.txt", b"");
    let e =
        resolve_sources(&data, dir.path(), Path::new("/nowhere"), DataDirSource::Cli).unwrap_err();
    assert_eq!(e.kind, DataErrorKind::Format);
    assert!(e.message.contains(".parquet"), "{e}");
}

#[test]
fn missing_builtin_dataset_says_where_and_how_to_point_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_spec("dataset: imdb");
    let e = resolve_sources(&data, Path::new("."), dir.path(), DataDirSource::Env).unwrap_err();
    assert_eq!(e.kind, DataErrorKind::NotFound);
    let m = &e.message;
    assert!(
        m.contains(&dir.path().join("imdb/train.parquet").display().to_string()),
        "{m}"
    );
    assert!(m.contains("KERROS_DATA_DIR environment variable"), "{m}");
    assert!(m.contains("--data-dir DIR"), "{m}");
}

// ---------- real data ----------

#[test]
fn real_imdb_files() {
    let Some(root) = shared_data() else { return };
    let data = data_spec("dataset: imdb");
    let s = resolve_sources(&data, Path::new("."), &root, DataDirSource::Cli).unwrap();
    let start = std::time::Instant::now();
    let t = read_sources(&data, &s).unwrap();
    eprintln!("read IMDB train+test in {:?}", start.elapsed());
    for table in [&t.train, &t.test] {
        assert_eq!(table.rows.len(), 25_000);
        assert_eq!(table.skipped, 0);
        assert!(table.rows[..12_500].iter().all(|r| r.label == "pos"));
        assert!(table.rows[12_500..].iter().all(|r| r.label == "neg"));
        // Ordered by id within each label.
        assert!(table.rows[..12_500].windows(2).all(|w| w[0].id < w[1].id));
        assert!(table.rows[12_500..].windows(2).all(|w| w[0].id < w[1].id));
        // The rating is kept as an extra: 7-10 for pos, 1-4 for neg.
        let r: i32 = table.rows[0].extra["rating"].parse().unwrap();
        assert!((7..=10).contains(&r));
    }
    assert!(t.train.rows.iter().any(|r| r.text.contains("<br />")));
}

#[test]
fn real_druglib_files() {
    let Some(root) = shared_data() else { return };
    let data = data_spec("dataset: druglib");
    let s = resolve_sources(&data, Path::new("."), &root, DataDirSource::Cli).unwrap();
    let t = read_sources(&data, &s).unwrap();
    assert_eq!(t.train.rows.len(), 3_107);
    assert_eq!(t.test.rows.len(), 1_036);
    assert_eq!((t.train.skipped, t.test.skipped), (0, 0));
    let mut dist: BTreeMap<i32, usize> = BTreeMap::new();
    for r in &t.train.rows {
        *dist.entry(r.label.parse().unwrap()).or_default() += 1;
    }
    let want = [
        (1, 305),
        (2, 103),
        (3, 146),
        (4, 107),
        (5, 159),
        (6, 157),
        (7, 350),
        (8, 558),
        (9, 480),
        (10, 742),
    ];
    assert_eq!(dist, BTreeMap::from(want));
    // Ids from the first column; the drug name under one name in both files.
    let first = &t.train.rows[0];
    assert_eq!(first.id, 2202);
    assert_eq!(first.extra["urlDrugName"], "enalapril");
    assert_eq!(
        first.extra["condition"],
        "management of congestive heart failure"
    );
    assert!(first
        .text
        .starts_with("slowed the progression of left ventricular dysfunction"));
    assert!(
        // Fields joined with the default separator, a space.
        first.text.contains("heart failur cough, hypotension"),
        "{:?}",
        first.text
    );
    assert_eq!(t.test.rows[0].id, 1366);
    assert_eq!(t.test.rows[0].extra["urlDrugName"], "biaxin");
    assert_eq!(t.train.columns[1], "urlDrugName");
    // Either spelling of the drug column works as a text column.
    let data = data_spec("dataset: druglib\ntext_columns: [DrugName, condition]");
    let t = read_sources(&data, &s).unwrap();
    assert_eq!(t.test.rows[0].text, "biaxin sinus infection");
}

#[test]
fn error_display_joins_file_line_and_column() {
    let e = DataError::in_file(
        DataErrorKind::BadRow,
        Path::new("d/train.csv"),
        "empty label",
    )
    .at_line(12)
    .at_column("label");
    assert_eq!(
        e.to_string(),
        "d/train.csv, line 12, column `label`: empty label"
    );
    assert_eq!(DataError::new(DataErrorKind::Spec, "x").to_string(), "x");
}

#[test]
fn reading_one_file_at_a_time_gives_the_same_tables_and_checks() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tr.csv", b"text,label\na,x\nb,y\n");
    write(dir.path(), "te.csv", b"text,label\nc,x\n");
    write(dir.path(), "va.csv", b"text,label\nd,y\n");
    let data = data_spec("train: tr.csv\ntest: te.csv\nvalidation: {file: va.csv}");
    let s = resolve_sources(&data, dir.path(), Path::new("/nowhere"), DataDirSource::Cli).unwrap();
    let whole = read_sources(&data, &s).unwrap();
    let mut seen = Vec::new();
    read_sources_each(&data, &s, |role, table| {
        seen.push((role, table));
        Ok(())
    })
    .unwrap();
    let roles: Vec<&str> = seen.iter().map(|(r, _)| *r).collect();
    assert_eq!(roles, ["train", "test", "validation"]);
    assert_eq!(seen[0].1, whole.train);
    assert_eq!(seen[1].1, whole.test);
    assert_eq!(Some(&seen[2].1), whole.validation.as_ref());

    // Without a test file the test table is empty (drawn from train later).
    let data = data_spec("train: tr.csv\ntest: {fraction: 0.5}");
    let s = resolve_sources(&data, dir.path(), Path::new("/nowhere"), DataDirSource::Cli).unwrap();
    let mut roles = Vec::new();
    read_sources_each(&data, &s, |role, table| {
        roles.push((role, table.rows.len()));
        Ok(())
    })
    .unwrap();
    assert_eq!(roles, [("train", 2), ("test", 0)]);

    // The same refusals as reading them together: an empty file, too many bad rows.
    write(dir.path(), "empty.csv", b"text,label\n");
    let data = data_spec("train: tr.csv\ntest: empty.csv");
    let s = resolve_sources(&data, dir.path(), Path::new("/nowhere"), DataDirSource::Cli).unwrap();
    let together = read_sources(&data, &s).unwrap_err();
    let each = read_sources_each(&data, &s, |_, _| Ok(())).unwrap_err();
    assert_eq!(each.to_string(), together.to_string());
    assert!(each.to_string().contains("empty.csv"), "{each}");

    write(dir.path(), "bad.csv", b"text,label\n\"a,x\nb,y\n");
    let data = data_spec("train: bad.csv\ntest: te.csv\non_bad_rows: skip\nmax_bad_rows: 0");
    let s = resolve_sources(&data, dir.path(), Path::new("/nowhere"), DataDirSource::Cli).unwrap();
    let together = read_sources(&data, &s).unwrap_err();
    let each = read_sources_each(&data, &s, |_, _| Ok(())).unwrap_err();
    assert_eq!(each.kind, together.kind);
    assert_eq!(each.to_string(), together.to_string());
}
