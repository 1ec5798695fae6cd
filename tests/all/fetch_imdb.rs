//! `imdb` download and conversion against a local HTTP server on 127.0.0.1.

use crate::fetch_support;
use crate::support;

use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant};

use arrow::array::{Array, Int64Array, Int8Array, StringArray};
use arrow::datatypes::DataType;
use fetch_support::{
    imdb_tar_gz, imdb_tar_gz_with, listing, opts, sample_reviews, serve, sha256_hex, Reply,
};
use kerros::data::fetch::{self, FetchError};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::reader::{FileReader, SerializedFileReader};

/// All rows of a Parquet file as one batch.
fn read_all(path: &Path) -> arrow::record_batch::RecordBatch {
    let file = File::open(path).expect("open parquet");
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet reader")
        .build()
        .expect("build reader");
    let batches: Vec<_> = reader.map(|b| b.expect("batch")).collect();
    let schema = batches[0].schema();
    arrow::compute::concat_batches(&schema, &batches).expect("concat")
}

/// `(name, physical type, logical type, repetition)` of each Parquet column.
fn parquet_columns(path: &Path) -> Vec<String> {
    let reader = SerializedFileReader::new(File::open(path).expect("open")).expect("reader");
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    schema
        .columns()
        .iter()
        .map(|c| {
            format!(
                "{} {:?} {:?} {:?}",
                c.name(),
                c.physical_type(),
                c.logical_type_ref(),
                c.self_type().get_basic_info().repetition()
            )
        })
        .collect()
}

fn compressions(path: &Path) -> Vec<Compression> {
    let reader = SerializedFileReader::new(File::open(path).expect("open")).expect("reader");
    let md = reader.metadata();
    (0..md.num_row_groups())
        .flat_map(|g| {
            md.row_group(g)
                .columns()
                .iter()
                .map(|c| c.compression())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn col<'a, T: 'static>(batch: &'a arrow::record_batch::RecordBatch, name: &str) -> &'a T {
    batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("column {name}"))
        .as_any()
        .downcast_ref::<T>()
        .unwrap_or_else(|| panic!("column {name} type"))
}

fn strings(a: &StringArray) -> Vec<String> {
    (0..a.len()).map(|i| a.value(i).to_string()).collect()
}

#[test]
fn good_fetch_converts_to_documented_parquet() {
    let reviews = sample_reviews();
    let archive = imdb_tar_gz(&reviews);
    let sha = sha256_hex(&archive);
    let server = serve(vec![("/aclImdb_v1.tar.gz", Reply::Bytes(archive))]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let data_dir = tmp.path().join("data");

    assert!(!fetch::is_present("imdb", &data_dir));
    let path = fetch::fetch(
        "imdb",
        &data_dir,
        &opts(server.url("/aclImdb_v1.tar.gz"), Some(sha.to_uppercase())),
    )
    .expect("fetch succeeds");
    assert_eq!(path, data_dir.join("imdb"));
    assert_eq!(fetch::dataset_path("imdb", &data_dir), path);
    assert!(fetch::is_present("imdb", &data_dir));
    // Exactly the three files; no temporary leftovers, no lock (checksum was given).
    let names: Vec<String> = listing(&data_dir)
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "imdb",
            "imdb/test.parquet",
            "imdb/train.parquet",
            "imdb/unsup.parquet"
        ]
    );

    // train: pos by numeric id, then neg by numeric id.
    let train = read_all(&path.join("train.parquet"));
    let schema = train.schema();
    let fields: Vec<(String, DataType, bool)> = schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone(), f.is_nullable()))
        .collect();
    assert_eq!(
        fields,
        vec![
            ("id".to_string(), DataType::Int64, true),
            ("label".to_string(), DataType::Utf8, true),
            ("rating".to_string(), DataType::Int8, true),
            ("text".to_string(), DataType::Utf8, true),
        ]
    );
    let ids: Vec<i64> = col::<Int64Array>(&train, "id").values().to_vec();
    assert_eq!(ids, vec![0, 1, 2, 7, 10, 33, 0, 3, 5, 12, 100]);
    let labels = strings(col::<StringArray>(&train, "label"));
    assert_eq!(labels[..6], ["pos"; 6]);
    assert_eq!(labels[6..], ["neg"; 5]);
    let ratings: Vec<i8> = col::<Int8Array>(&train, "rating").values().to_vec();
    assert_eq!(ratings, vec![10, 10, 7, 8, 9, 7, 2, 3, 1, 4, 1]);
    let texts = strings(col::<StringArray>(&train, "text"));
    assert_eq!(
        texts[4],
        "Great film #10.<br /><br />Loved it, \"really\" (9/10) — café"
    );
    assert_eq!(texts[10], "Awful #100.<br />Tabs\tand, commas; rating 1");

    // Every row equals its file in the archive.
    let check_split = |file: &str, split: &str| {
        let batch = read_all(&path.join(file));
        let ids = col::<Int64Array>(&batch, "id");
        let labels = strings(col::<StringArray>(&batch, "label"));
        let ratings = col::<Int8Array>(&batch, "rating");
        let texts = strings(col::<StringArray>(&batch, "text"));
        let expected: Vec<_> = reviews
            .iter()
            .filter(|r| r.split == split && r.label != "unsup")
            .collect();
        assert_eq!(batch.num_rows(), expected.len());
        for i in 0..batch.num_rows() {
            let r = expected
                .iter()
                .find(|r| r.id == ids.value(i) && r.label == labels[i])
                .unwrap_or_else(|| panic!("row {i} of {file} not in the archive"));
            assert_eq!(ratings.value(i), r.rating);
            assert_eq!(texts[i], r.text);
        }
    };
    check_split("train.parquet", "train");
    check_split("test.parquet", "test");
    let test = read_all(&path.join("test.parquet"));
    assert_eq!(
        col::<Int64Array>(&test, "id").values().to_vec(),
        vec![4, 9, 11, 40, 1, 6, 8, 15, 20]
    );

    let unsup = read_all(&path.join("unsup.parquet"));
    let ufields: Vec<(String, DataType, bool)> = unsup
        .schema()
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone(), f.is_nullable()))
        .collect();
    assert_eq!(
        ufields,
        vec![
            ("id".to_string(), DataType::Int64, true),
            ("text".to_string(), DataType::Utf8, true),
        ]
    );
    assert_eq!(
        col::<Int64Array>(&unsup, "id").values().to_vec(),
        vec![0, 1, 2, 3, 5, 8, 13, 21, 34]
    );
    assert_eq!(
        strings(col::<StringArray>(&unsup, "text"))[8],
        "unlabelled review 34"
    );

    for f in ["train.parquet", "test.parquet", "unsup.parquet"] {
        let c = compressions(&path.join(f));
        assert!(!c.is_empty());
        assert!(
            c.iter().all(|c| matches!(c, Compression::ZSTD(_))),
            "{f}: {c:?}"
        );
    }

    // The Parquet schema (types, logical types, nullability) equals the
    // reference files' in ../shared/data/imdb.
    if let Some(shared) = support::imdb_data() {
        for f in ["train.parquet", "unsup.parquet"] {
            assert_eq!(
                parquet_columns(&path.join(f)),
                parquet_columns(&shared.join("imdb").join(f)),
                "{f}"
            );
        }
    }

    // Present: a second fetch makes no connection, even to a dead address.
    let hits = server.hits();
    assert_eq!(hits, 1);
    let again = fetch::fetch(
        "imdb",
        &data_dir,
        &opts("http://127.0.0.1:9/aclImdb_v1.tar.gz".into(), None),
    )
    .expect("present dataset needs no network");
    assert_eq!(again, path);
    let again = fetch::fetch(
        "imdb",
        &data_dir,
        &opts(server.url("/aclImdb_v1.tar.gz"), None),
    )
    .expect("present");
    assert_eq!(again, path);
    assert_eq!(server.hits(), hits, "no connection for a present dataset");
}

#[test]
fn checksum_mismatch_leaves_nothing() {
    let archive = imdb_tar_gz(&sample_reviews());
    let wrong = sha256_hex(b"something else");
    let server = serve(vec![("/a.tar.gz", Reply::Bytes(archive))]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let data_dir = tmp.path().join("data");
    let err = fetch::fetch(
        "imdb",
        &data_dir,
        &opts(server.url("/a.tar.gz"), Some(wrong.clone())),
    )
    .expect_err("mismatch must fail");
    let msg = err.to_string();
    assert!(
        matches!(err, FetchError::ChecksumMismatch { .. }),
        "{err:?}"
    );
    assert!(msg.contains("checksum mismatch"), "{msg}");
    assert!(msg.contains(&wrong), "{msg}");
    assert!(msg.contains("--sha256"), "{msg}");
    assert!(listing(&data_dir).is_empty(), "{:?}", listing(&data_dir));
    assert!(!fetch::is_present("imdb", &data_dir));
}

#[test]
fn official_checksum_stays_in_force_with_a_mirror_url() {
    // No --sha256: the official size and checksum apply to the mirror, and
    // this small archive matches neither.
    let archive = imdb_tar_gz(&sample_reviews());
    let server = serve(vec![("/aclImdb_v1.tar.gz", Reply::Bytes(archive))]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let err = fetch::fetch(
        "imdb",
        tmp.path(),
        &opts(server.url("/aclImdb_v1.tar.gz"), None),
    )
    .expect_err("official size/checksum must be enforced");
    assert!(
        matches!(
            err,
            FetchError::SizeMismatch {
                expected: 84_125_825,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(listing(tmp.path()).is_empty(), "{:?}", listing(tmp.path()));
}

#[test]
fn dropped_connection_is_reported_and_leaves_nothing() {
    let archive = imdb_tar_gz(&sample_reviews());
    let sha = sha256_hex(&archive);
    let total = archive.len() as u64;
    let server = serve(vec![("/a.tar.gz", Reply::DropHalfway(archive))]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let err = fetch::fetch(
        "imdb",
        tmp.path(),
        &opts(server.url("/a.tar.gz"), Some(sha)),
    )
    .expect_err("truncated download must fail");
    match &err {
        FetchError::Truncated {
            received, expected, ..
        } => {
            assert_eq!(*expected, total);
            assert!(*received < total);
        }
        other => panic!("expected Truncated, got {other:?}"),
    }
    assert!(err.to_string().contains("truncated"), "{err}");
    assert!(listing(tmp.path()).is_empty(), "{:?}", listing(tmp.path()));
}

#[test]
fn stalled_connection_times_out() {
    let archive = imdb_tar_gz(&sample_reviews());
    let sha = sha256_hex(&archive);
    let server = serve(vec![("/a.tar.gz", Reply::Stall(archive))]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut o = opts(server.url("/a.tar.gz"), Some(sha));
    o.timeout = Duration::from_millis(700);
    let start = Instant::now();
    let err = fetch::fetch("imdb", tmp.path(), &o).expect_err("stall must time out");
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
    assert!(matches!(err, FetchError::Network { .. }), "{err:?}");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(listing(tmp.path()).is_empty(), "{:?}", listing(tmp.path()));

    // A server that accepts the request and never sends headers.
    let silent = serve(vec![("/a.tar.gz", Reply::Silent)]);
    let mut o = opts(silent.url("/a.tar.gz"), Some(sha256_hex(b"x")));
    o.timeout = Duration::from_millis(700);
    let start = Instant::now();
    let err = fetch::fetch("imdb", tmp.path(), &o).expect_err("silence must time out");
    assert!(start.elapsed() < Duration::from_secs(20));
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(listing(tmp.path()).is_empty(), "{:?}", listing(tmp.path()));
}

#[test]
fn tar_entry_escaping_with_dotdot_is_rejected() {
    let archive = imdb_tar_gz_with(&sample_reviews(), &[("aclImdb/../evil.txt", b"pwned")]);
    let sha = sha256_hex(&archive);
    let server = serve(vec![("/a.tar.gz", Reply::Bytes(archive))]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let data_dir = tmp.path().join("data");
    let err = fetch::fetch("imdb", &data_dir, &opts(server.url("/a.tar.gz"), Some(sha)))
        .expect_err("malicious archive must fail");
    let msg = err.to_string();
    assert!(matches!(err, FetchError::Archive { .. }), "{err:?}");
    assert!(msg.contains("aclImdb/../evil.txt"), "{msg}");
    assert!(msg.contains(".."), "{msg}");
    // Nothing in the data dir, nothing beside it, and the data dir that the
    // fetch created is gone too (an empty one would pass for "present").
    let left: Vec<String> = listing(tmp.path())
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn absolute_paths_and_escaping_links_are_rejected() {
    let limits = fetch::ArchiveLimits::default();
    let abs = imdb_tar_gz_with(&sample_reviews(), &[("/tmp/evil.txt", b"x")]);
    let err = fetch::imdb::read_tar_gz(&abs[..], "abs.tar.gz", limits).expect_err("absolute");
    assert!(err.to_string().contains("absolute"), "{err}");

    // A symlink pointing outside the archive root.
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    h.set_path("aclImdb/train/pos/link").expect("path");
    h.set_link_name("../../../../etc/passwd").expect("link");
    h.set_cksum();
    tar.append(&h, std::io::empty()).expect("append");
    let bytes = tar.into_inner().expect("tar").finish().expect("gz");
    let err = fetch::imdb::read_tar_gz(&bytes[..], "link.tar.gz", limits).expect_err("link");
    assert!(err.to_string().contains("outside the archive"), "{err}");
}

#[test]
fn absurd_sizes_are_rejected() {
    let reviews = sample_reviews();
    let archive = imdb_tar_gz(&reviews);
    // One entry above the per-entry cap.
    let small = fetch::ArchiveLimits {
        max_entry: 20,
        max_total: 1 << 30,
        max_entries: 1000,
    };
    let err = fetch::imdb::read_tar_gz(&archive[..], "a.tar.gz", small).expect_err("entry cap");
    assert!(
        err.to_string().contains("more than the 20 allowed"),
        "{err}"
    );
    // Entries adding up above the total cap.
    let total = fetch::ArchiveLimits {
        max_entry: 1 << 20,
        max_total: 200,
        max_entries: 1000,
    };
    let err = fetch::imdb::read_tar_gz(&archive[..], "a.tar.gz", total).expect_err("total cap");
    assert!(err.to_string().contains("add up to more than 200"), "{err}");
    // A header announcing 1 TiB with the data missing: refused before reading.
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    let mut h = tar::Header::new_gnu();
    h.set_size(1 << 40);
    h.set_path("aclImdb/train/pos/1_9.txt").expect("path");
    h.set_cksum();
    tar.append(&h, std::io::empty()).ok();
    let mut gz = tar.into_inner().expect("tar");
    use std::io::Write;
    gz.flush().ok();
    let bytes = gz.finish().expect("gz");
    let err = fetch::imdb::read_tar_gz(&bytes[..], "huge.tar.gz", fetch::ArchiveLimits::default())
        .expect_err("huge entry");
    assert!(
        err.to_string().contains("announces 1099511627776 bytes"),
        "{err}"
    );
}

#[test]
fn truncated_archive_with_matching_checksum_is_rejected() {
    // A checksum given for a truncated file: the download verifies, the
    // conversion must still fail cleanly.
    let archive = imdb_tar_gz(&sample_reviews());
    let cut = archive[..archive.len() / 2].to_vec();
    let sha = sha256_hex(&cut);
    let server = serve(vec![("/cut.tar.gz", Reply::Bytes(cut))]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let err = fetch::fetch(
        "imdb",
        tmp.path(),
        &opts(server.url("/cut.tar.gz"), Some(sha)),
    )
    .expect_err("truncated archive");
    assert!(matches!(err, FetchError::Archive { .. }), "{err:?}");
    assert!(listing(tmp.path()).is_empty(), "{:?}", listing(tmp.path()));
}

#[test]
fn redirect_to_file_scheme_is_refused() {
    let server = serve(vec![(
        "/a.tar.gz",
        Reply::Redirect("file:///etc/passwd".into()),
    )]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let err = fetch::fetch(
        "imdb",
        tmp.path(),
        &opts(server.url("/a.tar.gz"), Some(sha256_hex(b"x"))),
    )
    .expect_err("file:// redirect must be refused");
    assert!(matches!(err, FetchError::RedirectRefused { .. }), "{err:?}");
    assert!(err.to_string().contains("file:///etc/passwd"), "{err}");
    assert!(listing(tmp.path()).is_empty());
}

#[test]
fn http_redirects_are_followed_within_limits() {
    let archive = imdb_tar_gz(&sample_reviews());
    let sha = sha256_hex(&archive);
    let server = serve(vec![
        ("/old.tar.gz", Reply::Redirect("/new.tar.gz".into())),
        ("/new.tar.gz", Reply::Bytes(archive)),
        ("/loop", Reply::Redirect("/loop".into())),
    ]);
    let tmp = tempfile::tempdir().expect("tempdir");
    fetch::fetch(
        "imdb",
        tmp.path(),
        &opts(server.url("/old.tar.gz"), Some(sha.clone())),
    )
    .expect("relative redirect followed");
    let tmp2 = tempfile::tempdir().expect("tempdir");
    let err = fetch::fetch("imdb", tmp2.path(), &opts(server.url("/loop"), Some(sha)))
        .expect_err("redirect loop");
    assert!(
        matches!(err, FetchError::TooManyRedirects { .. }),
        "{err:?}"
    );
}

#[test]
fn bad_inputs_are_explained() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let err = fetch::fetch(
        "imbd",
        tmp.path(),
        &opts("http://127.0.0.1:9/x".into(), None),
    )
    .expect_err("unknown");
    assert!(err.to_string().contains("did you mean `imdb`"), "{err}");
    let err = fetch::fetch(
        "imdb",
        tmp.path(),
        &opts("http://127.0.0.1:9/x".into(), Some("xyz".into())),
    )
    .expect_err("bad sha");
    assert!(err.to_string().contains("64 hexadecimal digits"), "{err}");
    let err = fetch::fetch("imdb", tmp.path(), &opts("file:///etc/passwd".into(), None))
        .expect_err("file url");
    assert!(matches!(err, FetchError::BadUrl { .. }), "{err:?}");
    // An incomplete dataset folder is not trusted and not overwritten.
    std::fs::create_dir_all(tmp.path().join("imdb")).expect("mkdir");
    std::fs::write(tmp.path().join("imdb/train.parquet"), b"x").expect("write");
    assert!(!fetch::is_present("imdb", tmp.path()));
    let err = fetch::fetch(
        "imdb",
        tmp.path(),
        &opts("http://127.0.0.1:9/x".into(), None),
    )
    .expect_err("incomplete");
    assert!(
        err.to_string().contains("test.parquet, unsup.parquet"),
        "{err}"
    );
}
