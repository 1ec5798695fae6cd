//! `prepare`: limit, stratified validation split, classes, bins, regression and cleaning.

use crate::support;

use kerros::data::*;
use kerros::spec::Spec;
use std::collections::BTreeMap;
use std::path::Path;
use support::shared_data;

/// A spec from YAML: `extra` is added under the top level (task, data keys...).
fn spec(data: &str, task: &str) -> Spec {
    let yaml = format!(
        "name: t\nseed: 7\ndata:\n  train: a.csv\n  test: b.csv\n{data}\ntask: {task}\nmodel: {{layers: [{{dense: {{units: 1}}}}]}}\n"
    );
    support::parse(&yaml)
}

fn rows(labels: &[&str]) -> Table {
    Table {
        rows: labels
            .iter()
            .enumerate()
            .map(|(i, l)| Row {
                id: 100 + i as i64,
                text: format!("text {i}"),
                label: l.to_string(),
                extra: BTreeMap::new(),
            })
            .collect(),
        columns: vec!["text".into(), "label".into()],
        ..Table::default()
    }
}

fn ids(items: &[Item]) -> Vec<i64> {
    items.iter().map(|i| i.id).collect()
}

fn count(items: &[Item], label: &str) -> usize {
    items.iter().filter(|i| i.label == label).count()
}

#[test]
fn inferred_binary_classes_are_sorted() {
    let s = spec("", "{type: binary}");
    let p = prepare(
        rows(&["pos", "neg", "pos", "neg", "pos"]),
        rows(&["neg", "pos"]),
        None,
        &s,
    )
    .unwrap();
    assert_eq!(p.classes, vec!["neg", "pos"]);
    assert_eq!(p.test[0].target, 0.0);
    assert_eq!(p.test[1].target, 1.0);
    assert_eq!(p.test[1].label, "pos");
    // ceil(0.2 * 5) = 1 validation row.
    assert_eq!((p.train.len(), p.validation.len()), (4, 1));
}

#[test]
fn given_classes_keep_their_order() {
    let s = spec("", "{type: binary, classes: [pos, neg]}");
    let p = prepare(
        rows(&["pos", "neg", "neg", "pos", "pos"]),
        rows(&["neg", "pos"]),
        None,
        &s,
    )
    .unwrap();
    assert_eq!(p.classes, vec!["pos", "neg"]);
    assert_eq!(
        p.test.iter().map(|i| i.target).collect::<Vec<_>>(),
        vec![1.0, 0.0]
    );
}

#[test]
fn numeric_labels_sort_as_numbers() {
    let s = spec("", "{type: multiclass}");
    let p = prepare(
        rows(&["10", "2", "1", "2", "10", "1"]),
        rows(&["2"]),
        None,
        &s,
    )
    .unwrap();
    assert_eq!(p.classes, vec!["1", "2", "10"]);
    assert_eq!(p.test[0].target, 1.0);
    let mixed = infer_classes(&rows(&["b", "10", "a", "2"]).rows);
    assert_eq!(mixed, vec!["10", "2", "a", "b"]);
}

#[test]
fn binary_needs_exactly_two_classes() {
    let s = spec("", "{type: binary}");
    let e = prepare(rows(&["a", "b", "c", "a"]), rows(&["a"]), None, &s).unwrap_err();
    assert_eq!(e.kind, DataErrorKind::Spec);
    assert!(
        e.message.contains("exactly 2 classes") && e.message.contains("`c`"),
        "{e}"
    );
}

#[test]
fn unknown_label_names_label_split_and_row() {
    let s = spec("", "{type: binary, classes: [neg, pos]}");
    let e = prepare(
        rows(&["neg", "pos", "neg", "pos"]),
        rows(&["neg", "maybe"]),
        None,
        &s,
    )
    .unwrap_err();
    assert_eq!(e.kind, DataErrorKind::Target);
    let m = &e.message;
    assert!(
        m.contains("`maybe`")
            && m.contains("test split")
            && m.contains("row 2")
            && m.contains("id 101"),
        "{m}"
    );
}

#[test]
fn bins_map_numbers_to_classes() {
    let s = spec(
        "  validation: {fraction: 0.5}",
        "{type: multiclass, bins: {negative: [1, 4], neutral: [5, 6], positive: [7, 10]}}",
    );
    let p = prepare(
        rows(&["1", "4", "5", "6", "7", "10"]),
        rows(&["4", "5", "6.0", "7", "9.5"]),
        None,
        &s,
    )
    .unwrap();
    assert_eq!(p.classes, vec!["negative", "neutral", "positive"]);
    let got: Vec<(&str, f32)> = p
        .test
        .iter()
        .map(|i| (i.label.as_str(), i.target))
        .collect();
    assert_eq!(
        got,
        vec![
            ("negative", 0.0),
            ("neutral", 1.0),
            ("neutral", 1.0),
            ("positive", 2.0),
            ("positive", 2.0)
        ]
    );
    let e = prepare(
        rows(&["1", "5", "7", "1", "5", "7"]),
        rows(&["3", "11"]),
        None,
        &s,
    )
    .unwrap_err();
    assert!(
        e.message.contains("value 11 is in no bin") && e.message.contains("row 2"),
        "{e}"
    );
    let e = prepare(
        rows(&["1", "5", "7", "x", "5", "7"]),
        rows(&["3"]),
        None,
        &s,
    )
    .unwrap_err();
    assert!(
        e.message.contains("`x`") && e.message.contains("train split, row 4"),
        "{e}"
    );
}

#[test]
fn regression_targets_are_the_numbers() {
    let s = spec("", "{type: regression}");
    let p = prepare(
        rows(&["1.5", "2", "3", "4", "5"]),
        rows(&[" 7 ", "-0.25"]),
        None,
        &s,
    )
    .unwrap();
    assert!(p.classes.is_empty());
    assert_eq!(
        p.test.iter().map(|i| i.target).collect::<Vec<_>>(),
        vec![7.0, -0.25]
    );
    assert_eq!((p.train.len(), p.validation.len()), (4, 1));
    let e = prepare(rows(&["1", "two", "3"]), rows(&["1"]), None, &s).unwrap_err();
    assert!(
        e.message.contains("`two`") && e.message.contains("train split, row 2"),
        "{e}"
    );
}

#[test]
fn stratified_split_follows_class_proportions() {
    // 70 a / 30 b, fraction 0.2: ceil(20) = 20 validation rows; train gets
    // floor(80 * 0.7) = 56 a and floor(80 * 0.3) = 24 b, validation 14 a and 6 b.
    let labels: Vec<&str> = (0..100)
        .map(|i| if i % 10 < 7 { "a" } else { "b" })
        .collect();
    let s = spec("", "{type: binary}");
    let p = prepare(rows(&labels), rows(&["a"]), None, &s).unwrap();
    assert_eq!(
        (count(&p.validation, "a"), count(&p.validation, "b")),
        (14, 6)
    );
    assert_eq!((count(&p.train, "a"), count(&p.train, "b")), (56, 24));
    // Original order is kept in both parts.
    assert!(p.train.windows(2).all(|w| w[0].id < w[1].id));
    assert!(p.validation.windows(2).all(|w| w[0].id < w[1].id));
    // Same seed, same split; another seed, another split.
    let again = prepare(rows(&labels), rows(&["a"]), None, &s).unwrap();
    assert_eq!(ids(&again.validation), ids(&p.validation));
    let mut s2 = s.clone();
    s2.seed = 8;
    let other = prepare(rows(&labels), rows(&["a"]), None, &s2).unwrap();
    assert_ne!(ids(&other.validation), ids(&p.validation));
    assert_eq!(count(&other.validation, "b"), 6);
}

#[test]
fn approximate_mode_matches_hand_computation() {
    // counts [5, 3, 2], 7 draws: 3.5, 2.1, 1.4 → floors 3, 2, 1; the one left
    // goes to the largest remainder (class 0).
    assert_eq!(approximate_mode(&[5, 3, 2], 7), vec![4, 2, 1]);
    let mut rng = seeded_rng(1, Stream::ValidationSplit);
    let strata = [0, 0, 0, 0, 0, 1, 1, 1, 2, 2];
    let (train, val) = stratified_split(&strata, 3, 0.25, &mut rng).unwrap();
    assert_eq!((train.len(), val.len()), (7, 3));
    let per_class = |idx: &[usize], k| idx.iter().filter(|&&i| strata[i] == k).count();
    assert_eq!(
        [per_class(&val, 0), per_class(&val, 1), per_class(&val, 2)],
        [1, 1, 1]
    );
    let e = stratified_split(&[0, 1], 2, 0.6, &mut rng).unwrap_err();
    assert!(e.message.contains("at least one row"), "{e}");
}

#[test]
fn limit_is_seeded_and_keeps_file_order() {
    let labels: Vec<&str> = (0..100)
        .map(|i| if i % 2 == 0 { "a" } else { "b" })
        .collect();
    let s = spec("  limit: 10", "{type: binary}");
    let p = prepare(rows(&labels), rows(&labels), None, &s).unwrap();
    assert_eq!(p.train.len() + p.validation.len(), 10);
    assert_eq!(p.validation.len(), 2);
    assert_eq!(p.test.len(), 10);
    assert!(p.test.windows(2).all(|w| w[0].id < w[1].id));
    let again = prepare(rows(&labels), rows(&labels), None, &s).unwrap();
    assert_eq!(ids(&again.test), ids(&p.test));
    assert_eq!(ids(&again.train), ids(&p.train));
    // Train and test use different streams: not the same sample.
    let mut all_train = ids(&p.train);
    all_train.extend(ids(&p.validation));
    all_train.sort();
    assert_ne!(all_train, ids(&p.test));
    let mut s2 = s.clone();
    s2.seed = 99;
    assert_ne!(
        ids(&prepare(rows(&labels), rows(&labels), None, &s2)
            .unwrap()
            .test),
        ids(&p.test)
    );
    // A limit above the row count keeps everything.
    let s3 = spec("  limit: 1000", "{type: binary}");
    assert_eq!(
        prepare(rows(&labels), rows(&labels), None, &s3)
            .unwrap()
            .test
            .len(),
        100
    );
}

#[test]
fn validation_file_replaces_the_split_and_skips_add_up() {
    let s = spec("  validation: {file: v.csv}", "{type: binary}");
    let mut train = rows(&["a", "b", "a"]);
    train.skipped = 2;
    let mut val = rows(&["b", "a"]);
    val.skipped = 1;
    let p = prepare(train, rows(&["a"]), Some(val), &s).unwrap();
    assert_eq!((p.train.len(), p.validation.len()), (3, 2));
    assert_eq!(p.skipped_rows.total(), 3);
    assert_eq!((p.skipped_rows.train, p.skipped_rows.validation), (2, 1));
    let e = prepare(rows(&["a", "b"]), rows(&["a"]), Some(rows(&["c"])), &s).unwrap_err();
    assert!(
        e.message.contains("validation split") && e.message.contains("`c`"),
        "{e}"
    );
}

/// The words of `text`, one space apart.
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Rows whose texts carry HTML, as scraped reviews do.
fn html_rows(labels: &[&str]) -> Table {
    let mut t = rows(labels);
    for r in &mut t.rows {
        r.text = format!("It&#039;s <b>{}</b><br />ok", r.text);
    }
    t
}

#[test]
fn cleaning_runs_only_when_asked() {
    let s = spec("", "{type: binary}");
    let p = prepare(html_rows(&["a", "b"]), html_rows(&["a"]), None, &s).unwrap();
    assert_eq!(p.test[0].text, "It&#039;s <b>text 0</b><br />ok");
}

/// `prepare` itself honours `data.clean` (it used to ignore it: only the
/// pipeline passed the real cleaner).
#[test]
fn prepare_honours_data_clean() {
    let s = spec("  clean: {strip_tags: true}", "{type: binary}");
    let p = prepare(html_rows(&["a", "b"]), html_rows(&["a"]), None, &s).unwrap();
    // Each tag becomes a space; compare the words.
    assert_eq!(words(&p.test[0].text), "It&#039;s text 0 ok");
    let s = spec(
        "  clean: {strip_tags: true, html_entities: true}",
        "{type: binary}",
    );
    let p = prepare(html_rows(&["a", "b"]), html_rows(&["a"]), None, &s).unwrap();
    assert_eq!(words(&p.test[0].text), "It's text 0 ok");
    assert!(
        p.train.iter().all(|i| !i.text.contains('<')),
        "{:?}",
        p.train
    );
    let s = spec("  clean: {html_entities: true}", "{type: binary}");
    let p = prepare(html_rows(&["a", "b"]), html_rows(&["a"]), None, &s).unwrap();
    assert_eq!(p.test[0].text, "It's <b>text 0</b><br />ok");
}

fn builtin_spec(name: &str, task: &str) -> Spec {
    let yaml =
        format!("name: t\ndata: {{dataset: {name}}}\ntask: {task}\nmodel: {{layers: [{{dense: {{units: 1}}}}]}}\n");
    support::parse(&yaml)
}

#[test]
fn real_imdb_prepared() {
    let Some(root) = shared_data() else { return };
    let s = builtin_spec("imdb", "{type: binary}");
    let data = s.data.as_ref().unwrap();
    let src = resolve_sources(data, Path::new("."), &root, DataDirSource::Cli).unwrap();
    let t = read_sources(data, &src).unwrap();
    let p = prepare(t.train, t.test, t.validation, &s).unwrap();
    assert_eq!(p.classes, vec!["neg", "pos"]);
    assert_eq!(
        (p.train.len(), p.validation.len(), p.test.len()),
        (20_000, 5_000, 25_000)
    );
    assert_eq!(count(&p.validation, "pos"), 2_500);
    // Artifact round trip of a whole split, timed.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.parquet");
    write_items(&path, &p.test).unwrap();
    let start = std::time::Instant::now();
    let back = read_items(&path).unwrap();
    eprintln!("read 25k items in {:?}", start.elapsed());
    assert_eq!(back, p.test);
}

#[test]
fn real_druglib_three_bins() {
    let Some(root) = shared_data() else { return };
    let s = builtin_spec(
        "druglib",
        "{type: multiclass, bins: {negative: [1, 4], neutral: [5, 6], positive: [7, 10]}}",
    );
    let data = s.data.as_ref().unwrap();
    let src = resolve_sources(data, Path::new("."), &root, DataDirSource::Cli).unwrap();
    let t = read_sources(data, &src).unwrap();
    let p = prepare(t.train, t.test, t.validation, &s).unwrap();
    // negative 305+103+146+107 = 661, neutral 159+157 = 316, positive 350+558+480+742 = 2130.
    let all: Vec<Item> = p.train.iter().chain(&p.validation).cloned().collect();
    assert_eq!(
        (
            count(&all, "negative"),
            count(&all, "neutral"),
            count(&all, "positive")
        ),
        (661, 316, 2130)
    );
    // ceil(0.2 * 3107) = 622 validation rows, n_train = 2485. Train per class:
    // 2485*661/3107 = 528.67, 2485*316/3107 = 252.74, 2485*2130/3107 = 1703.59;
    // floors sum to 2483, the 2 left go to the largest remainders (neutral, negative):
    // train 529 / 253 / 1703, validation 132 / 63 / 427.
    assert_eq!(p.validation.len(), 622);
    assert_eq!(
        (
            count(&p.validation, "negative"),
            count(&p.validation, "neutral"),
            count(&p.validation, "positive")
        ),
        (132, 63, 427)
    );
    assert_eq!(p.test.len(), 1_036);
}
