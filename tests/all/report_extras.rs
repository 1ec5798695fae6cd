//! The report's extras, end to end on a tiny bag-of-words spec: "Why this
//! prediction" (marked words, the strongest n-grams), the student's notes
//! (`report.notes`, covered by `kerros verify`) and figures for documents
//! (`report.figures`, `kerros run --figures DIR`: SVG and PNG files).

use crate::support;

use kerros::report::verify::seal;
use resvg::tiny_skia::Pixmap;
use std::path::{Path, PathBuf};
use support::{kerros, ok, write};

/// A tiny binary spec over a bag of words; `report` is its report section.
fn spec(dir: &Path, report: &str) -> PathBuf {
    let mut train = String::from("text,label\n");
    for i in 0..80 {
        let (word, label) = if i % 2 == 0 {
            (["good", "great", "fine"][i % 3], "pos")
        } else {
            (["bad", "awful", "dull"][i % 3], "neg")
        };
        train.push_str(&format!("a {word} film number {},{label}\n", i % 7));
    }
    write(dir, "train.csv", &train);
    write(
        dir,
        "test.csv",
        "text,label\na good film,pos\na bad film<br />really,neg\na great one,pos\nan awful one,neg\n",
    );
    write(
        dir,
        "extras.yaml",
        &format!(
            "name: extras\nseed: 3\ndata: {{train: train.csv, test: test.csv, validation: {{fraction: 0.2}}}}\n\
             vectorize: {{mode: multi_hot, ngrams: 2}}\nmodel:\n  layers:\n    - dense: {{units: 1}}\n\
             train: {{epochs: 8, batch_size: 8, optimizer: {{name: adam, learning_rate: 0.05}}}}\n\
             report: {report}\n"
        ),
    )
}

fn run(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "run",
        "extras.yaml",
        "--reports-dir",
        "r",
        "--cache-dir",
        "c",
    ];
    args.extend(extra);
    kerros(dir, &args)
}

#[test]
fn explanations_and_notes_are_sealed_into_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    spec(dir, "{examples: 2, notes: notes.md}");
    write(
        dir,
        "notes.md",
        "## Discussion of kappa\n\nThe model *learns* the words.\n\n<script>window.x=1</script>\n",
    );
    ok(&run(dir, &[]));
    let html = std::fs::read_to_string(dir.join("r/extras.html")).unwrap();
    // Why this prediction: marked words and the n-gram tables.
    assert!(html.contains("id=\"why\""), "no explanation section");
    assert!(
        html.contains("<mark class=\"up w") && html.contains("<mark class=\"down w"),
        "words marked both ways"
    );
    assert!(html.contains("towards pos") && html.contains("towards neg"));
    assert!(!html.contains(">br</mark>"), "tag names are not words");
    // The notes: rendered, raw HTML as text, and only the two JSON scripts.
    assert!(html.contains("<h2>Discussion of kappa</h2>") && html.contains("<em>learns</em>"));
    assert!(html.contains("&lt;script&gt;window.x=1&lt;/script&gt;"));
    assert_eq!(html.matches("<script").count(), 2);
    let v = kerros(dir, &["verify", "r/extras.html"]);
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&v.stdout)
    );
    // Editing the discussion in the page, digest recomputed, fails verify.
    let edited = seal(&html.replace("<em>learns</em>", "<em>memorises</em>"));
    write(dir, "edited.html", &edited);
    let v = kerros(dir, &["verify", "edited.html"]);
    assert_ne!(v.status.code(), Some(0), "an edited discussion verified");
    // Changing the notes file re-renders the report (the notes are in its key).
    write(dir, "notes.md", "Second thoughts.\n");
    ok(&run(dir, &[]));
    let again = std::fs::read_to_string(dir.join("r/extras.html")).unwrap();
    assert!(again.contains("Second thoughts.") && !again.contains("Discussion of kappa"));
}

#[test]
fn a_missing_notes_file_is_a_located_spec_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    spec(dir, "{notes: missing.md}");
    let o = run(dir, &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("extras.yaml:") && err.contains("report.notes") && err.contains("missing.md"),
        "{err}"
    );
    let o = kerros(dir, &["validate", "extras.yaml"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn explain_false_leaves_the_report_without_explanations() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    spec(dir, "{explain: false}");
    ok(&run(dir, &[]));
    let html = std::fs::read_to_string(dir.join("r/extras.html")).unwrap();
    assert!(!html.contains("id=\"why\"") && !html.contains("<mark class=\"up"));
    spec(dir, "{explain: sometimes}");
    let o = run(dir, &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("expected `auto`, `true` or `false`"), "{err}");
}

/// The PNG's pixel size, and whether its title band (the top 30 units) has
/// dark pixels, i.e. drawn text.
fn png_facts(path: &Path) -> (u32, u32, bool) {
    let png = Pixmap::load_png(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let band = (30 * 2).min(png.height());
    let dark = (0..band)
        .flat_map(|y| (0..png.width()).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let p = png.pixel(x, y).unwrap();
            p.alpha() > 200 && p.red() < 120 && p.green() < 120 && p.blue() < 120
        })
        .count();
    (png.width(), png.height(), dark > 40)
}

/// The `width` and `height` of an SVG file's root element.
fn svg_size(path: &Path) -> (u32, u32) {
    let svg = std::fs::read_to_string(path).unwrap();
    let attr = |name: &str| -> u32 {
        let key = format!(" {name}=\"");
        let at = svg.find(&key).unwrap() + key.len();
        svg[at..at + svg[at..].find('"').unwrap()].parse().unwrap()
    };
    (attr("width"), attr("height"))
}

#[test]
fn figures_are_written_as_svg_and_png_with_a_titled_band() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    spec(dir, "{figures: true}");
    ok(&run(dir, &["--figures", "figs"]));
    for folder in [dir.join("r/extras-figures"), dir.join("figs")] {
        let mut names: Vec<String> = std::fs::read_dir(&folder)
            .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert!(
            names.contains(&"extras-confusion-matrix-test-split.png".to_string()),
            "{names:?}"
        );
        assert!(!names.iter().any(|n| n.ends_with(".partial")), "{names:?}");
        let svgs: Vec<&String> = names.iter().filter(|n| n.ends_with(".svg")).collect();
        assert!(
            svgs.len() >= 4,
            "loss, accuracy, confusion, ROC …: {names:?}"
        );
        for svg in svgs {
            let svg_path = folder.join(svg);
            let text = std::fs::read_to_string(&svg_path).unwrap();
            assert!(text.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
            assert!(
                text.contains("extras — Accuracy"),
                "run and key metric in the title"
            );
            let (w, h) = svg_size(&svg_path);
            let (pw, ph, text_drawn) = png_facts(&svg_path.with_extension("png"));
            assert_eq!((pw, ph), (2 * w, 2 * h), "{svg}");
            assert!(text_drawn, "{svg}: the title band has no text");
        }
    }
}

#[test]
fn report_figures_in_a_hand_calculation_spec_writes_its_network_diagram() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(
        dir,
        "hand.yaml",
        "name: hand\ninputs: [[1, 3, 2]]\nreport: {figures: true}\nmodel:\n  input_dim: 3\n  layers:\n\
         \x20   - dense: {units: 2, use_bias: false, kernel: [[1, 0, 2], [0, 1, 1]]}\n",
    );
    let o = kerros(
        dir,
        &["run", "hand.yaml", "--reports-dir", "r", "--cache-dir", "c"],
    );
    ok(&o);
    let folder = dir.join("r/hand-figures");
    for name in ["hand-network-diagram.svg", "hand-network-diagram.png"] {
        assert!(
            folder.join(name).is_file(),
            "{name} missing in {}",
            folder.display()
        );
    }
}
