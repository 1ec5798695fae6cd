//! `druglib` / `drugscom` zip extraction and checksum lock files, against a
//! local HTTP server on 127.0.0.1.

use crate::fetch_support;
use crate::support;

use fetch_support::{listing, opts, serve, sha256_hex, zip_of, Reply};
use kerros::data::fetch::{self, FetchError};

const TRAIN: &[u8] = b"\tDrugName\trating\teffectiveness\tsideEffects\tcondition\tbenefitsReview\tsideEffectsReview\tcommentsReview\n2202\tenalapril\t4\tHighly Effective\tMild Side Effects\tmanagement of congestive heart failure\t\"slowed the progression\nof left ventricular dysfunction\"\tcough\tmonitor blood pressure\n3117\tortho-tri-cyclen\t1\tHighly Effective\tSevere Side Effects\tbirth prevention\t\"Although this type of birth control had more cons than pros\"\t\"Heavy Cycle, Cramps\"\t\"I took 2 pills\"\n";
const TEST: &[u8] = b"\turlDrugName\trating\teffectiveness\tsideEffects\tcondition\tbenefitsReview\tsideEffectsReview\tcommentsReview\n1366\tbiaxin\t9\tConsiderably Effective\tMild Side Effects\tsinus infection\tcleared it\tbitter taste\tten days\n";

fn druglib_zip(train: &[u8], test: &[u8]) -> Vec<u8> {
    zip_of(&[
        ("drugLib_raw/", b""),
        ("drugLib_raw/drugLibTrain_raw.tsv", train),
        (
            "__MACOSX/drugLib_raw/._drugLibTrain_raw.tsv",
            b"resource fork",
        ),
        ("drugLib_raw/drugLibTest_raw.tsv", test),
        ("drugLib_raw/readme.txt", b"UCI"),
    ])
}

#[test]
fn druglib_is_extracted_and_its_checksum_locked() {
    let good = druglib_zip(TRAIN, TEST);
    let good_sha = sha256_hex(&good);
    let changed = druglib_zip(TRAIN, b"tampered\n");
    let changed_sha = sha256_hex(&changed);
    let server = serve(vec![
        ("/druglib.zip", Reply::Bytes(good)),
        ("/changed.zip", Reply::Bytes(changed)),
    ]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let data_dir = tmp.path();

    // First fetch: no checksum known in advance, so the one seen is recorded.
    let path = fetch::fetch("druglib", data_dir, &opts(server.url("/druglib.zip"), None))
        .expect("druglib fetch");
    assert_eq!(path, data_dir.join("druglib"));
    assert!(fetch::is_present("druglib", data_dir));
    assert_eq!(
        std::fs::read(path.join("drugLibTrain_raw.tsv")).expect("train"),
        TRAIN
    );
    assert_eq!(
        std::fs::read(path.join("drugLibTest_raw.tsv")).expect("test"),
        TEST
    );
    let names: Vec<String> = listing(data_dir)
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "druglib",
            "druglib/drugLibTest_raw.tsv",
            "druglib/drugLibTrain_raw.tsv",
            "druglib.lock.json"
        ]
    );
    let lock = fetch::read_lock("druglib", data_dir)
        .expect("lock readable")
        .expect("lock written");
    assert_eq!(lock.sha256, good_sha);
    assert_eq!(lock.dataset, "druglib");
    assert_eq!(lock.url, server.url("/druglib.zip"));
    let listed = fetch::cli::list_text(data_dir);
    assert!(
        listed.contains(&format!("{good_sha} (recorded in")),
        "{listed}"
    );

    // The data goes away; the source now serves a different archive: the
    // lock catches it and nothing is kept.
    std::fs::remove_dir_all(&path).expect("rm");
    let err = fetch::fetch("druglib", data_dir, &opts(server.url("/changed.zip"), None))
        .expect_err("mismatch against the lock");
    match &err {
        FetchError::ChecksumMismatch {
            expected,
            actual,
            origin,
            ..
        } => {
            assert_eq!(expected, &good_sha);
            assert_eq!(actual, &changed_sha);
            assert!(origin.contains("druglib.lock.json"), "{origin}");
        }
        other => panic!("expected ChecksumMismatch, got {other:?}"),
    }
    assert!(!fetch::is_present("druglib", data_dir));
    assert_eq!(
        listing(data_dir)
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>(),
        ["druglib.lock.json"]
    );
    assert_eq!(
        fetch::read_lock("druglib", data_dir)
            .expect("lock")
            .map(|l| l.sha256),
        Some(good_sha.clone()),
        "a failed fetch must not change the lock"
    );

    // The original archive still verifies against the lock.
    fetch::fetch("druglib", data_dir, &opts(server.url("/druglib.zip"), None))
        .expect("matches the lock");
    std::fs::remove_dir_all(data_dir.join("druglib")).expect("rm");

    // A checksum given explicitly overrides the lock and is recorded.
    fetch::fetch(
        "druglib",
        data_dir,
        &opts(server.url("/changed.zip"), Some(changed_sha.clone())),
    )
    .expect("explicit checksum");
    assert_eq!(
        fetch::read_lock("druglib", data_dir)
            .expect("lock")
            .map(|l| l.sha256),
        Some(changed_sha)
    );
}

#[test]
fn drugscom_found_inside_a_nested_zip() {
    let train = b"\tdrugName\tcondition\treview\trating\tdate\tusefulCount\n206461\tValsartan\tLeft Ventricular Dysfunction\t\"It has no side effect\"\t9.0\tMay 20, 2012\t27\n";
    let test = b"\tdrugName\tcondition\treview\trating\tdate\tusefulCount\n163740\tMirtazapine\tDepression\t\"I&#039;ve tried a few\"\t10.0\tFebruary 28, 2012\t22\n";
    let inner = zip_of(&[
        ("drugsComTrain_raw.tsv", &train[..]),
        ("drugsComTest_raw.tsv", &test[..]),
    ]);
    let outer = zip_of(&[("drugsCom_raw.zip", &inner[..])]);
    let sha = sha256_hex(&outer);
    let server = serve(vec![("/d.zip", Reply::Bytes(outer))]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = fetch::fetch(
        "drugscom",
        tmp.path(),
        &opts(server.url("/d.zip"), Some(sha.clone())),
    )
    .expect("drugscom fetch");
    assert_eq!(path, tmp.path().join("drugscom"));
    assert_eq!(
        std::fs::read(path.join("drugsComTrain_raw.tsv")).expect("train"),
        train
    );
    assert_eq!(
        std::fs::read(path.join("drugsComTest_raw.tsv")).expect("test"),
        test
    );
    assert_eq!(
        fetch::read_lock("drugscom", tmp.path())
            .expect("lock")
            .map(|l| l.sha256),
        Some(sha)
    );
}

#[test]
fn zip_entry_escaping_is_rejected_and_missing_files_reported() {
    let evil = zip_of(&[
        ("drugLib_raw/drugLibTrain_raw.tsv", TRAIN),
        ("drugLib_raw/../../evil.tsv", b"pwned"),
        ("drugLib_raw/drugLibTest_raw.tsv", TEST),
    ]);
    let incomplete = zip_of(&[("drugLibTrain_raw.tsv", TRAIN)]);
    let server = serve(vec![
        ("/evil.zip", Reply::Bytes(evil)),
        ("/incomplete.zip", Reply::Bytes(incomplete)),
    ]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let data_dir = tmp.path().join("data");
    let err = fetch::fetch("druglib", &data_dir, &opts(server.url("/evil.zip"), None))
        .expect_err("zip slip");
    assert!(matches!(err, FetchError::Archive { .. }), "{err:?}");
    assert!(
        err.to_string().contains("drugLib_raw/../../evil.tsv"),
        "{err}"
    );
    // Nothing is left, not even the data dir the fetch created.
    assert!(!data_dir.exists(), "{:?}", listing(tmp.path()));
    assert!(listing(tmp.path()).is_empty(), "{:?}", listing(tmp.path()));

    let err = fetch::fetch(
        "druglib",
        &data_dir,
        &opts(server.url("/incomplete.zip"), None),
    )
    .expect_err("missing test file");
    assert!(
        err.to_string()
            .contains("does not contain drugLibTest_raw.tsv"),
        "{err}"
    );
    assert!(listing(&data_dir).is_empty(), "{:?}", listing(&data_dir));
}

#[test]
fn list_and_path_texts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let text = fetch::cli::list_text(tmp.path());
    for name in ["imdb", "druglib", "drugscom"] {
        assert!(text.contains(name), "{text}");
    }
    assert!(text.contains("84125825 bytes"), "{text}");
    assert!(text.contains("c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"));
    assert_eq!(
        fetch::cli::path_text("druglib", tmp.path()).expect("known"),
        tmp.path().join("druglib").display().to_string()
    );
    assert!(fetch::cli::path_text("nope", tmp.path()).is_err());
}

#[test]
fn shared_data_folder_counts_as_present() {
    // ../shared/data is the layout a fetch produces, so it needs no download.
    if let Some(shared) = support::shared_data() {
        assert!(fetch::is_present("imdb", &shared));
        assert!(fetch::is_present("druglib", &shared));
        let path = fetch::fetch(
            "imdb",
            &shared,
            &opts("http://127.0.0.1:9/unused".into(), None),
        )
        .expect("present");
        assert_eq!(path, shared.join("imdb"));
    }
}

#[test]
fn mirror_from_environment_is_used_when_no_url_is_given() {
    // Through the binary, with the variable set for that process only: a
    // `std::env::set_var` here would reach every test of this binary running
    // beside it (and every `kerros` they spawn). No `--url`, which would win.
    let archive = zip_of(&[
        ("drugsComTrain_raw.tsv", b"a\tb\n1\t2\n"),
        ("drugsComTest_raw.tsv", b"a\tb\n3\t4\n"),
    ]);
    let server = serve(vec![(
        "/mirror/drug+review+dataset+drugs+com.zip",
        Reply::Bytes(archive),
    )]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_kerros"))
        .current_dir(tmp.path())
        .args(["data", "fetch", "drugscom", "--data-dir", "data"])
        .env(fetch::MIRROR_ENV, server.url("/mirror/"))
        .output()
        .expect("the kerros binary runs");
    let stdout = support::ok(&o);
    let path = tmp.path().join("data/drugscom");
    assert!(stdout.contains("drugscom fetched into"), "{stdout}");
    assert_eq!(
        std::fs::read(path.join("drugsComTest_raw.tsv")).expect("test"),
        b"a\tb\n3\t4\n"
    );
    assert_eq!(server.hits(), 1);
}

#[test]
fn failed_fetch_leaves_no_data_folder_and_says_how_to_point_elsewhere() {
    let server = serve(vec![]);
    let tmp = tempfile::tempdir().expect("tempdir");
    // A data dir two levels below an existing folder: both are created for
    // the download and both are gone after it fails.
    let data_dir = tmp.path().join("shared").join("data");
    let err = fetch::fetch(
        "druglib",
        &data_dir,
        &opts(server.url("/missing.zip"), None),
    )
    .expect_err("404");
    assert!(
        matches!(err, FetchError::Status { status: 404, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("--data-dir DIR") && msg.contains("KERROS_DATA_DIR=DIR"),
        "{msg}"
    );
    assert!(
        !tmp.path().join("shared").exists(),
        "{:?}",
        listing(tmp.path())
    );
    // The same for a checksum mismatch, and a folder that existed stays.
    std::fs::create_dir(tmp.path().join("kept")).unwrap();
    let server = serve(vec![("/d.zip", Reply::Bytes(druglib_zip(TRAIN, TEST)))]);
    let err = fetch::fetch(
        "druglib",
        &tmp.path().join("kept/data"),
        &opts(server.url("/d.zip"), Some("0".repeat(64))),
    )
    .expect_err("mismatch");
    assert!(err.to_string().contains("KERROS_DATA_DIR"), "{err}");
    assert!(tmp.path().join("kept").is_dir());
    assert!(!tmp.path().join("kept/data").exists());
}
