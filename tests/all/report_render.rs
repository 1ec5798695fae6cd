//! Renders a full report and checks that it is self-contained, escaped and
//! complete; also writes a sample to /tmp/kerros_sample_report.html.

use kerros::report::verify::seal;
use kerros::report::{
    render, ClassLength, ClassMetrics, Confusion, DataSource, DataSummary, EmbeddingCoverage,
    EpochRow, Example, Exploration, Footer, ForwardInput, ForwardLayer, ForwardPass, ForwardStep,
    Header, LayerRow, Metric, Metrics, ModelSummary, ReportData, ReportError, Series, SplitSummary,
    TextLengths, Training,
};
use kerros::report::{Explanations, NgramWeights, Notes, WordWeight};

const EVIL: &str =
    "Great drug.<br /><br />But <script>alert(1)</script> & \"side effects\" </script><!--";

fn s(x: &str) -> String {
    x.to_string()
}

fn counts(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
    pairs.iter().map(|(c, n)| (s(c), *n)).collect()
}

/// Hand-computed forward pass: x = (1, 2),
/// W1 = [[0.5, -0.2], [0.3, 0.8]], b1 = (0.1, -0.1) → Z1 = (0.2, 1.8), ReLU → A1 = (0.2, 1.8);
/// W2 = [[1.0, -0.5]], b2 = (0.2) → Z2 = 0.2 − 0.9 + 0.2 = −0.5, sigmoid(−0.5) = 0.377540669.
fn forward_pass() -> ForwardPass {
    ForwardPass {
        input_names: vec![s("x1"), s("x2")],
        layers: vec![
            ForwardLayer {
                name: s("hidden"),
                activation: s("relu"),
                weights: vec![vec![0.5, -0.2], vec![0.3, 0.8]],
                bias: vec![0.1, -0.1],
            },
            ForwardLayer {
                name: s("output"),
                activation: s("sigmoid"),
                weights: vec![vec![1.0, -0.5]],
                bias: vec![0.2],
            },
        ],
        inputs: vec![ForwardInput {
            name: s("Input 1"),
            values: vec![1.0, 2.0],
            steps: vec![
                ForwardStep {
                    z: vec![0.2, 1.8],
                    a: vec![0.2, 1.8],
                },
                ForwardStep {
                    z: vec![-0.5],
                    a: vec![1.0 / (1.0 + 0.5f64.exp())],
                },
            ],
        }],
    }
}

fn sample() -> ReportData {
    let classes = ["negative", "neutral", "positive"];
    let lengths: Vec<u64> = (0..2000u64)
        .map(|i| 5 + (i * 37 % 180) + (i % 7) * (i % 11))
        .collect();
    ReportData {
        header: Header {
            title: s("Drug review sentiment <baseline>"),
            author: Some(s("Ada Student")),
            generated_at: s("2026-11-26 21:30 UTC"),
            kerros_version: s("0.1.0"),
            experiment: s("drugs-cnn"),
            seed: 42,
        },
        spec_yaml: s("name: drugs-cnn\ndata:\n  dataset: druglib  # see https://archive.ics.uci.edu/\n  text: review\nmodel:\n  layers:\n    - embedding: {dim: 100}\n    - conv1d: {filters: 64, kernel: 5}\n    - dense: {units: 3, activation: softmax}\n"),
        data_summary: Some(DataSummary {
            splits: vec![
                SplitSummary {
                    name: s("train"),
                    rows: 96_921,
                    class_counts: counts(&[("negative", 24_000), ("neutral", 8_700), ("positive", 64_221)]),
                },
                SplitSummary {
                    name: s("validation"),
                    rows: 32_307,
                    class_counts: counts(&[("negative", 8_000), ("neutral", 2_900), ("positive", 21_407)]),
                },
                SplitSummary {
                    name: s("test"),
                    rows: 33_973,
                    class_counts: counts(&[("negative", 8_400), ("neutral", 3_050), ("positive", 22_523)]),
                },
            ],
            train_lengths: TextLengths::from_word_counts(&lengths, 30),
            skipped_rows: 1_204,
            skipped_per_split: vec![(s("train"), 1_000), (s("test"), 204)],
            sources: vec![
                DataSource {
                    path: s("~/.cache/kerros/datasets/drugsComTrain_raw.tsv"),
                    hash: s("3f9a1c0b7d2e"),
                },
                DataSource {
                    path: s("~/.cache/kerros/datasets/drugsComTest_raw.tsv"),
                    hash: s("a41be09c55d1"),
                },
            ],
        }),
        exploration: Some(Exploration {
            label_name: s("rating"),
            label_counts: (1..=10).map(|r| (r.to_string(), 1_000 * r as u64 + 500)).collect(),
            length_by_class: classes
                .iter()
                .enumerate()
                .map(|(i, c)| ClassLength {
                    class: s(c),
                    count: 10_000 + i as u64,
                    median: 70.0 + i as f64,
                    mean: 84.25 + i as f64,
                })
                .collect(),
            top_values: vec![
                (
                    s("condition"),
                    counts(&[("Birth Control", 28_788), ("Depression", 9_069), ("Pain", 6_145), ("Anxiety", 5_904)]),
                ),
                (s("drugName"), counts(&[("Levonorgestrel", 3_657), ("Etonogestrel", 3_336), ("Ethinyl estradiol / norethindrone", 2_850)])),
            ],
            indicative_words: vec![
                (s("negative"), vec![(s("worst"), 3.214), (s("<b>awful</b>"), 2.9)]),
                (s("positive"), vec![(s("amazing"), 2.75), (s("life-saver"), 2.5)]),
            ],
        }),
        model: Some(ModelSummary {
            layers: vec![
                LayerRow {
                    name: s("embedding"),
                    kind: s("Embedding"),
                    output_shape: s("(None, 200, 100)"),
                    params: 1_000_000,
                },
                LayerRow {
                    name: s("conv1d"),
                    kind: s("Conv1D"),
                    output_shape: s("(None, 196, 64)"),
                    params: 32_064,
                },
                LayerRow {
                    name: s("global_max_pooling1d"),
                    kind: s("GlobalMaxPooling1D"),
                    output_shape: s("(None, 64)"),
                    params: 0,
                },
                LayerRow {
                    name: s("dense"),
                    kind: s("Dense"),
                    output_shape: s("(None, 3)"),
                    params: 195,
                },
            ],
            total_params: 1_032_259,
            trainable_params: 32_259,
            non_trainable_params: 1_000_000,
            embedding_coverage: Some(EmbeddingCoverage {
                source: s("GloVe"),
                covered: 9_123,
                vocabulary: 10_000,
            }),
        }),
        training: Some(Training {
            history: vec![
                EpochRow {
                    epoch: 1,
                    loss: 0.8123,
                    accuracy: Some(0.6712),
                    val_loss: Some(0.6541),
                    val_accuracy: Some(0.7345),
                    seconds: 41.2,
                },
                EpochRow {
                    epoch: 2,
                    loss: 0.5532,
                    accuracy: Some(0.7901),
                    val_loss: Some(0.5897),
                    val_accuracy: Some(0.7712),
                    seconds: 39.8,
                },
                EpochRow {
                    epoch: 3,
                    loss: 0.4410,
                    accuracy: Some(0.8388),
                    val_loss: Some(0.6012),
                    val_accuracy: Some(0.7750),
                    seconds: 40.1,
                },
            ],
            total_seconds: 121.1,
            gradient_norms: vec![
                Series {
                    name: s("conv1d"),
                    points: vec![(1.0, 2.1), (2.0, 1.4), (3.0, 1.1)],
                },
                Series {
                    name: s("dense"),
                    points: vec![(1.0, 0.9), (2.0, 0.7), (3.0, 0.65)],
                },
            ],
            ..Default::default()
        }),
        metrics: Some(Metrics {
            headline: vec![
                Metric {
                    name: s("Accuracy"),
                    value: 0.7731,
                    ..Default::default()
                },
                Metric {
                    name: s("Cohen's kappa"),
                    value: 0.5512,
                    ..Default::default()
                },
                Metric {
                    name: s("Macro F1"),
                    value: 0.6420,
                    ..Default::default()
                },
            ],
            scalars: vec![
                Metric {
                    name: s("accuracy"),
                    value: 0.773_12,
                    ..Default::default()
                },
                Metric {
                    name: s("cohen_kappa"),
                    value: 0.551_23,
                    ..Default::default()
                },
                Metric {
                    name: s("macro_f1"),
                    value: 0.641_98,
                    ..Default::default()
                },
            ],
            per_class: classes
                .iter()
                .map(|c| ClassMetrics {
                    class: s(c),
                    precision: 0.7,
                    recall: 0.65,
                    f1: 0.674_07,
                    support: 8_400,
                })
                .collect(),
            confusion: Some(Confusion {
                labels: classes.iter().map(|c| s(c)).collect(),
                counts: vec![vec![6_120, 731, 1_549], vec![902, 1_104, 1_044], vec![1_650, 1_329, 19_544]],
            }),
            ..Default::default()
        }),
        examples: vec![
            Example {
                id: 206_461,
                text: s(EVIL),
                true_label: s("positive"),
                predicted_label: s("positive"),
                confidence: 0.9312,
                ..Default::default()
            },
            Example {
                id: 95_260,
                text: "This medicine made me dizzy. ".repeat(40),
                true_label: s("negative"),
                predicted_label: s("neutral"),
                confidence: 0.5123,
                ..Default::default()
            },
        ],
        misclassified: Vec::new(),
        explanations: None,
        notes: None,
        forward_pass: Some(forward_pass()),
        manifest_json: Some(s(r#"{"spec_hash": "abc123", "note": "</script><script>alert(2)</script>"}"#)),
        predictions: None,
        footer: Footer {
            command: s("kerros run specs/drugs-cnn.yaml --seed 42"),
            cache_keys: vec![(s("load"), s("1a2b3c4d5e6f")), (s("train"), s("9f8e7d6c5b4a"))],
        },
    }
}

/// Checks that tags open and close in order (void/self-closing tags allowed).
fn balanced(markup: &str) -> Result<(), String> {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = markup;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').ok_or("unterminated tag")? + start;
        let tag = &rest[start + 1..end];
        if let Some(name) = tag.strip_prefix('/') {
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
        } else if !tag.ends_with('/') {
            stack.push(tag.split_whitespace().next().unwrap_or("").to_string());
        }
        rest = &rest[end + 1..];
    }
    if stack.is_empty() {
        Ok(())
    } else {
        Err(format!("unclosed: {stack:?}"))
    }
}

fn render_sample() -> String {
    match render(&sample()) {
        Ok(html) => html,
        Err(e) => panic!("render failed: {e}"),
    }
}

#[test]
fn report_is_self_contained_and_escaped() {
    let html = render_sample();
    std::fs::write("/tmp/kerros_sample_report.html", &html).expect("write sample report");

    // Exactly two script elements, both JSON that cannot be closed early:
    // the manifest and the record the page was rendered from.
    assert_eq!(
        html.matches("<script").count(),
        2,
        "only the manifest and the record may be scripts"
    );
    assert_eq!(html.matches("<script type=\"application/json\"").count(), 2);
    assert_eq!(html.matches("</script>").count(), 2);
    let record = kerros::report::rerender::extract_record(&html).expect("record is JSON");
    assert_eq!(
        kerros::report::render(&record).expect("renders again"),
        html,
        "the page is a pure function of its record"
    );
    let start = html
        .find("<script type=\"application/json\" id=\"kerros-manifest\">")
        .expect("manifest block");
    let body_start = start + html[start..].find('>').expect("tag end") + 1;
    let body_end = body_start
        + html[body_start..]
            .find("</script>")
            .expect("manifest closed");
    let manifest: serde_json::Value =
        serde_json::from_str(&html[body_start..body_end]).expect("manifest is JSON");
    assert_eq!(manifest["note"], "</script><script>alert(2)</script>");

    // Nothing external: no URLs at all (the spec's URL is escaped to https:&#x2F;&#x2F;).
    for bad in [
        "http://", "https://", "<link", "<img", "@import", "url(", "<iframe", "<object",
    ] {
        assert!(!html.contains(bad), "report contains {bad}");
    }
    assert!(
        html.contains("https:&#x2F;&#x2F;archive.ics.uci.edu"),
        "spec text shown escaped"
    );

    // The malicious review is shown as text; its `<br />` become line breaks.
    assert!(html.contains(
        "Great drug.\n\nBut &lt;script&gt;alert(1)&lt;&#x2F;script&gt; &amp; &quot;side effects&quot; &lt;&#x2F;script&gt;&lt;!--"
    ));
    assert!(!html.contains("<br />"));
    assert!(html.contains("Drug review sentiment &lt;baseline&gt;"));
    assert!(html.contains("&lt;b&gt;awful&lt;&#x2F;b&gt;"));

    // Long texts are cut to 600 characters plus an ellipsis.
    let long = "This medicine made me dizzy. ".repeat(40);
    let cut: String = long.chars().take(600).collect();
    assert!(html.contains(&format!("{}…", cut.trim_end())));
    // (The embedded record keeps the whole text; the visible page does not.)
    let visible = &html[..html.find(kerros::report::RECORD_OPEN).expect("record")];
    assert!(!visible.contains(long.trim_end()));

    // Numbers.
    assert!(html.contains(">163,201<"), "total rows with separators");
    assert!(html.contains("96,921") && html.contains("1,204"));
    assert!(
        html.contains("(train 1,000, test 204)"),
        "skipped rows per split"
    );
    assert!(
        html.contains("1,032,259 (3.94 MB)"),
        "1,032,259 f32 params = 3.94 MB"
    );
    assert!(html.contains("GloVe covered 9,123 of 10,000 vocabulary words (91.2%)."));
    assert!(
        html.contains(">0.7731<") && html.contains(">0.5512<"),
        "4-decimal metrics"
    );
    assert!(html.contains("Cohen&#x27;s kappa"));
    assert!(html.contains("2 min 01.1 s"));

    // Confusion matrix labels and counts.
    let conf = html
        .find("Confusion matrix (test split)")
        .expect("confusion chart");
    let conf_svg = &html[conf..conf + html[conf..].find("</svg>").expect("closed")];
    for label in [
        "negative",
        "neutral",
        "positive",
        "True label",
        "Predicted label",
    ] {
        assert!(conf_svg.contains(label), "{label} in confusion matrix");
    }
    for count in [
        "6,120", "731", "1,549", "902", "1,104", "1,044", "1,650", "1,329", "19,544",
    ] {
        assert!(
            conf_svg.contains(&format!(">{count}<")),
            "count {count} in confusion matrix"
        );
    }

    // Forward pass: the hand-computed values.
    assert!(html.contains("id=\"forward\""));
    for v in [
        ">0.2<",
        ">1.8<",
        ">-0.5<",
        ">0.3775<",
        "b=0.1",
        "b=-0.1",
        ">relu<",
        ">sigmoid<",
    ] {
        assert!(html.contains(v), "forward pass shows {v}");
    }

    // Charts: every <svg> is closed and balanced.
    let svgs: Vec<&str> = html
        .match_indices("<svg")
        .map(|(i, _)| &html[i..])
        .collect();
    assert_eq!(
        svgs.len(),
        8,
        "balance, lengths, ratings, loss, accuracy, gradients, confusion, network"
    );
    for svg in svgs {
        let end = svg.find("</svg>").expect("svg closed") + "</svg>".len();
        balanced(&svg[..end]).unwrap_or_else(|e| panic!("unbalanced svg: {e}"));
    }
    // The whole body balances too (apart from void elements, which we avoid in the body).
    let body = &html[html.find("<body>").expect("body")..html.find("</body>").expect("/body") + 7];
    balanced(body).unwrap_or_else(|e| panic!("unbalanced body: {e}"));
}

#[test]
fn absent_sections_are_omitted() {
    let mut data = sample();
    data.forward_pass = None;
    data.exploration = None;
    data.manifest_json = None;
    data.training = None;
    data.examples.clear();
    data.header.author = None;
    let html = render(&data).expect("render");
    for id in [
        "id=\"forward\"",
        "id=\"exploration\"",
        "id=\"training\"",
        "id=\"examples\"",
    ] {
        assert!(!html.contains(id), "{id} should be absent");
    }
    // No manifest; the record is the only script.
    assert_eq!(html.matches("<script").count(), 1);
    assert!(!html.contains("kerros-manifest"));
    assert!(!html.contains("Author"));
    assert!(!html.contains("href=\"#training\""));
    assert!(html.contains("id=\"metrics\"") && html.contains("id=\"data\""));

    let bare = ReportData::default();
    let html = render(&bare).expect("an empty report still renders");
    assert!(!html.contains("<svg") && !html.contains("id=\"spec\""));
}

#[test]
fn inconsistent_data_is_an_error_naming_the_field() {
    let mut data = sample();
    if let Some(m) = data.metrics.as_mut() {
        if let Some(c) = m.confusion.as_mut() {
            c.counts[1].pop();
        }
    }
    match render(&data) {
        Err(ReportError::Invalid { field, .. }) => assert_eq!(field, "metrics.confusion.counts"),
        other => panic!("expected Invalid, got {other:?}"),
    }

    let mut data = sample();
    if let Some(fp) = data.forward_pass.as_mut() {
        fp.layers[1].weights[0].push(0.3);
    }
    match render(&data) {
        Err(ReportError::Invalid { field, message }) => {
            assert_eq!(field, "forward_pass.layers[1].weights[0]");
            assert!(
                message.contains("3 values") && message.contains("2 inputs"),
                "{message}"
            );
        }
        other => panic!("expected Invalid, got {other:?}"),
    }

    let mut data = sample();
    data.manifest_json = Some(s("{\"unterminated\": "));
    assert!(matches!(render(&data), Err(ReportError::Manifest(_))));
}

#[test]
fn same_data_renders_byte_identical_reports() {
    // `kerros verify` and the report cache rely on rendering being a pure
    // function of the data: no clock, no map iteration order, no randomness.
    let data = sample();
    let first = render(&data).unwrap();
    let again: ReportData = serde_json::from_str(&serde_json::to_string(&data).unwrap()).unwrap();
    assert_eq!(render(&again).unwrap(), first);
    assert_eq!(render(&sample()).unwrap(), first);
}

/// The sample with "Why this prediction" and a hostile discussion.
fn explained_sample() -> ReportData {
    let mut data = sample();
    let text = "Worked well<br />but <b>nausea</b> at night";
    data.examples.push(Example {
        id: 7,
        text: s(text),
        true_label: s("positive"),
        predicted_label: s("positive"),
        confidence: 0.8,
        words: vec![
            WordWeight {
                start: 0,
                end: 6,
                contribution: 0.4,
            },
            WordWeight {
                start: 7,
                end: 11,
                contribution: 0.1,
            },
            WordWeight {
                start: 24,
                end: 30,
                contribution: -0.3,
            },
        ],
        ..Default::default()
    });
    data.explanations = Some(Explanations {
        method: s("Occlusion <scored>."),
        ngrams: vec![NgramWeights {
            up_label: s("towards <positive>"),
            down_label: s("towards negative"),
            up: vec![(s("life saver"), 1.25), (s("<i>great</i>"), 0.5)],
            down: vec![(s("worst"), -2.0)],
        }],
        ngram_note: String::new(),
    });
    data.notes = Some(Notes {
        source: s("notes.md"),
        markdown: s("## My answer\n\nKappa **0.6** says *moderate*.\n\n<script>alert(3)</script>\n\n[x](javascript:alert(4)) <img src=x onerror=alert(5)>\n"),
    });
    data
}

#[test]
fn explanations_and_notes_are_shown_escaped_and_verified() {
    let html = seal(&render(&explained_sample()).unwrap());
    // Marked words, in the cleaned text.
    assert!(html.contains("<mark class=\"up w4\" title=\"+0.40\">Worked</mark> <mark class=\"up w1\" title=\"+0.10\">well</mark>\nbut &lt;b&gt;<mark class=\"down w3\" title=\"-0.30\">nausea</mark>&lt;&#x2F;b&gt; at night"), "{html}");
    assert!(html.contains("id=\"why\"") && html.contains("Occlusion &lt;scored&gt;."));
    assert!(
        html.contains("towards &lt;positive&gt;") && html.contains("&lt;i&gt;great&lt;&#x2F;i&gt;")
    );
    assert!(
        html.contains("<td class=\"num\">+1.25</td>")
            && html.contains("<td class=\"num\">-2.00</td>")
    );
    // The discussion: Markdown rendered, raw HTML shown as text, links inert.
    assert!(html.contains("id=\"discussion\"") && html.contains("<h2>My answer</h2>"));
    assert!(html.contains("<strong>0.6</strong>"));
    assert!(html.contains("&lt;script&gt;alert(3)&lt;/script&gt;"));
    assert_eq!(html.matches("<script").count(), 2, "only the JSON scripts");
    assert!(!html.contains("<img") && !html.contains("javascript:alert(4)\""));
    assert!(!html.contains("href=\"javascript"));
    // Editing the discussion in the page (sealing again) no longer matches
    // the page rendered from the record, which is what `kerros verify`
    // checks (end to end in tests/all/report_extras.rs).
    let edited = seal(&html.replace("<strong>0.6</strong>", "<strong>0.9</strong>"));
    let record = kerros::report::rerender::extract_record(&edited).unwrap();
    assert_ne!(seal(&render(&record).unwrap()), edited);
    // Re-rendering from the record gives the same page.
    let record = kerros::report::rerender::extract_record(&html).unwrap();
    assert_eq!(seal(&render(&record).unwrap()), html);
}
