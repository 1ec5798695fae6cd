//! Data exploration on small hand-made examples: label histogram, top values,
//! length per class and indicative words.

use crate::support;

use kerros::data::{Item, Prepared};
use kerros::pipeline::explore::{
    explore, indicative_words, label_histogram, length_by_class, top_values,
};
use kerros::spec::{Spec, TokenizerSpec};
use std::collections::BTreeMap;

fn spec(task: &str) -> Spec {
    let yaml = format!(
        "name: t\ndata: {{train: a.csv, test: b.csv}}\ntask: {task}\nmodel: {{layers: [{{dense: {{units: 1}}}}]}}\n"
    );
    support::parse(&yaml)
}

fn item(text: &str, label: &str, target: f32, extra: &[(&str, &str)]) -> Item {
    Item {
        id: 0,
        text: text.into(),
        label: label.into(),
        target,
        extra: extra
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn pairs(v: &[(&str, u64)]) -> Vec<(String, u64)> {
    v.iter().map(|(s, n)| (s.to_string(), *n)).collect()
}

#[test]
fn histogram_fills_integer_gaps() {
    assert_eq!(
        label_histogram(&[1.0, 3.0, 3.0, 5.0]),
        pairs(&[("1", 1), ("2", 0), ("3", 2), ("4", 0), ("5", 1)])
    );
    assert_eq!(
        label_histogram(&[1.25, 0.5, 0.5]),
        pairs(&[("0.5", 2), ("1.25", 1)])
    );
    assert!(label_histogram(&[]).is_empty());
    // 100 distinct integers 0..=99 span more than 50 bars: 20 bins of width 4.95.
    let many: Vec<f64> = (0..100).map(f64::from).collect();
    let h = label_histogram(&many);
    assert_eq!(h.len(), 20);
    assert_eq!(h.iter().map(|(_, n)| n).sum::<u64>(), 100);
    // [0, 4.95) holds 0..=4; the last bin [94.05, 99] holds 95..=99.
    assert_eq!((h[0].1, h[19].1), (5, 5));
}

#[test]
fn top_values_of_categorical_columns_only() {
    let long = "a long free-text cell that is well over fifty characters in all";
    let rows = [
        ("Depression", "a", "7"),
        ("depression ", "b", "7"),
        ("acne", "c", "3"),
        ("acne", "d", "3"),
        ("acne", "e", "3"),
        ("", "f", "1"),
    ];
    let items: Vec<Item> = rows
        .iter()
        .map(|(c, code, r)| {
            item(
                "x",
                "l",
                0.0,
                &[
                    ("condition", c),
                    ("code", code),
                    ("note", long),
                    ("rating", r),
                ],
            )
        })
        .collect();
    let refs: Vec<&Item> = items.iter().collect();
    // code: 6 distinct of 6 (unique ids); note: free text; rating: skipped.
    let t = top_values(&refs, &["rating"], 10);
    assert_eq!(
        t,
        vec![(
            "condition".to_string(),
            pairs(&[("acne", 3), ("depression", 2)])
        )]
    );
    assert_eq!(
        top_values(&refs, &["rating"], 1)[0].1,
        pairs(&[("acne", 3)])
    );
    // Not skipped, rating (3 distinct of 6) counts too; ties break by value.
    let t = top_values(&refs, &[], 10);
    assert_eq!(t[1].0, "rating");
    assert_eq!(t[1].1, pairs(&[("3", 3), ("7", 2), ("1", 1)]));
}

#[test]
fn length_per_class() {
    let groups = vec![
        ("a".to_string(), vec!["one two", "one two three four", "x"]),
        ("b".to_string(), vec![]),
    ];
    let l = length_by_class(&groups);
    assert_eq!(l.len(), 1);
    assert_eq!((l[0].class.as_str(), l[0].count), ("a", 3));
    assert_eq!(l[0].median, 2.0);
    assert!((l[0].mean - 7.0 / 3.0).abs() < 1e-12);
}

#[test]
fn indicative_words_by_hand() {
    let groups = vec![
        ("pos".to_string(), vec!["Good, GOOD great!", "good fine"]),
        ("neg".to_string(), vec!["bad bad awful", "bad\u{a0}fine"]),
    ];
    let tok = TokenizerSpec::default();
    let w = indicative_words(&groups, &tok, 1, 10);
    // V = 5 words, 5 tokens per class. good: a=3, b=0:
    // ln(4/6) - ln(1/9) = ln 6, over sqrt(1/4 + 1) ; great: ln(9/4) over sqrt(1/2 + 1).
    // fine (1 vs 1) scores 0 and is left out.
    let good = 6f64.ln() / 1.25f64.sqrt();
    let great = 2.25f64.ln() / 1.5f64.sqrt();
    assert_eq!(w[0].0, "pos");
    let names: Vec<&str> = w[0].1.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(names, ["good", "great"]);
    assert!((w[0].1[0].1 - good).abs() < 1e-9);
    assert!((w[0].1[1].1 - great).abs() < 1e-9);
    // Symmetric data: the no-break space splits "bad\u{a0}fine" into two words.
    let names: Vec<&str> = w[1].1.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(names, ["bad", "awful"]);
    // min_count 2 drops great / awful: V = 3, 4 tokens per class: ln 8 / sqrt(1.25).
    let w = indicative_words(&groups, &tok, 2, 10);
    assert_eq!(w[0].1.len(), 1);
    assert!((w[0].1[0].1 - 8f64.ln() / 1.25f64.sqrt()).abs() < 1e-9);
}

#[test]
fn explore_text_labels_gives_only_words() {
    let s = spec("{type: binary, classes: [neg, pos]}");
    let mut train = Vec::new();
    for _ in 0..5 {
        train.push(item("great movie", "pos", 1.0, &[]));
        train.push(item("awful movie", "neg", 0.0, &[]));
    }
    let p = Prepared {
        classes: vec!["neg".into(), "pos".into()],
        train,
        validation: vec![],
        test: vec![item("fine", "pos", 1.0, &[])],
        skipped_rows: Default::default(),
    };
    let e = explore(&s, &p).expect("words to show");
    assert!(e.label_counts.is_empty() && e.top_values.is_empty());
    assert_eq!(e.indicative_words[0].0, "neg");
    assert_eq!(e.indicative_words[0].1[0].0, "awful");
    assert_eq!(e.indicative_words[1].1[0].0, "great");
    assert_eq!(e.length_by_class.len(), 2);
    // Nothing occurs 5 times and there is no number or category: no section.
    let mut q = p.clone();
    q.train.truncate(2);
    assert!(explore(&s, &q).is_none());
}

#[test]
fn explore_binned_label_keeps_the_number() {
    let s = spec("{type: binary, bins: {low: [1, 5], high: [6, 10]}}");
    let p = Prepared {
        classes: vec!["low".into(), "high".into()],
        train: vec![
            item("bad", "low", 0.0, &[("label", "2"), ("drug", "x")]),
            item("good", "high", 1.0, &[("label", "9"), ("drug", "x")]),
        ],
        validation: vec![item("ok", "high", 1.0, &[("label", "9"), ("drug", "y")])],
        test: vec![item("meh", "low", 0.0, &[("label", "4"), ("drug", "x")])],
        skipped_rows: Default::default(),
    };
    let e = explore(&s, &p).expect("a histogram");
    assert_eq!(e.label_name, "label");
    let counts: BTreeMap<String, u64> = e.label_counts.iter().cloned().collect();
    assert_eq!(e.label_counts.len(), 8, "2..=9");
    assert_eq!(
        (counts["2"], counts["4"], counts["9"], counts["5"]),
        (1, 1, 2, 0)
    );
    // The raw label is not shown again as a categorical column.
    assert_eq!(e.top_values.len(), 1);
    assert_eq!(e.top_values[0].0, "drug");
    assert_eq!(e.top_values[0].1, pairs(&[("x", 3), ("y", 1)]));
}

#[test]
fn explore_regression_histogram_of_targets() {
    let s = spec("{type: regression, range: [1, 3]}");
    let p = Prepared {
        classes: vec![],
        train: vec![item("a", "1", 1.0, &[]), item("b", "3", 3.0, &[])],
        validation: vec![],
        test: vec![item("c", "3", 3.0, &[])],
        skipped_rows: Default::default(),
    };
    let e = explore(&s, &p).unwrap();
    assert_eq!(e.label_counts, pairs(&[("1", 1), ("2", 0), ("3", 2)]));
    let classes: Vec<&str> = e.length_by_class.iter().map(|c| c.class.as_str()).collect();
    assert_eq!(classes, ["1", "3"]);
}
