//! Tests of the chart drawing.

use super::*;

/// Checks that every opening tag is closed in order (self-closing tags
/// allowed), which is enough to catch unbalanced markup in our output.
pub(crate) fn balanced(svg: &str) -> Result<(), String> {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').ok_or("unterminated tag")? + start;
        let tag = &rest[start + 1..end];
        if let Some(name) = tag.strip_prefix('/') {
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().unwrap_or("").to_string();
            stack.push(name);
        }
        rest = &rest[end + 1..];
    }
    if stack.is_empty() {
        Ok(())
    } else {
        Err(format!("unclosed: {stack:?}"))
    }
}

#[test]
fn ticks_are_nice() {
    let s = nice_scale(0.0, 1.0, 5);
    assert_eq!(s.ticks, vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
    assert_eq!(s.decimals, 1);
    let s = nice_scale(0.31, 0.69, 5);
    assert_eq!((s.lo, s.hi), (0.3, 0.7));
    assert_eq!(s.decimals, 1);
    let s = nice_scale(0.0, 163201.0, 5);
    assert_eq!(s.ticks.last().copied(), Some(200000.0));
    assert_eq!(tick_label(200000.0, s.decimals), "200,000");
    // A flat series still gets a non-empty range.
    let s = nice_scale(0.5, 0.5, 5);
    assert!(s.lo < 0.5 && s.hi > 0.5);
}

#[test]
fn histogram_bins_count_everything() {
    let bins = histogram_bins(&[1.0, 2.0, 2.0, 10.0], 3);
    assert_eq!(bins.len(), 3);
    assert_eq!(
        bins.iter().map(|b| b.count).collect::<Vec<_>>(),
        vec![3, 0, 1]
    );
    assert_eq!((bins[0].lo, bins[2].hi), (1.0, 10.0));
    // Small integer ranges get one bin per integer (ratings 1–10).
    let bins = histogram_bins(&[1.0, 10.0, 10.0], 20);
    assert_eq!(bins.len(), 10);
    assert_eq!(bins[9].count, 2);
    assert!(histogram_bins(&[], 10).is_empty());
}

#[test]
fn text_is_escaped() {
    let evil = "<script>alert('x')</script> & \"q\"";
    let svg = line_chart(
        evil,
        evil,
        evil,
        &[Series {
            name: evil.into(),
            points: vec![(1.0, 0.5), (2.0, 0.4)],
        }],
    );
    assert!(!svg.contains("<script"));
    assert!(svg.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"));
    balanced(&svg).expect("balanced line chart");
}

#[test]
fn charts_are_well_formed() {
    let labels: Vec<String> = ["neg", "neutral", "a very long class name indeed"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let counts = vec![vec![50, 3, 2], vec![4, 20, 6], vec![1, 2, 163201]];
    let hm = heatmap(&labels, &labels, &counts, "Confusion");
    balanced(&hm).expect("heatmap");
    assert!(hm.contains(">163,201<"));
    assert!(hm.contains("Predicted label") && hm.contains("True label"));
    // Row-normalised shading: the dominant cell of each row is the darkest.
    assert!(hm.contains(&heatmap::blues(50.0 / 55.0)));
    let bins = histogram_bins(&[1.0, 5.0, 7.0, 200.0], 10);
    balanced(&histogram("Lengths", "words", "reviews", &bins)).expect("histogram");
    let bars = bar_chart(
        "Balance",
        "class",
        "%",
        &labels,
        &[
            BarSeries {
                name: "train".into(),
                values: vec![50.0, 25.0, 25.0],
            },
            BarSeries {
                name: "test".into(),
                values: vec![40.0, 30.0],
            },
        ],
    );
    balanced(&bars).expect("bar chart");
    for empty in [
        line_chart("t", "x", "y", &[]),
        histogram("t", "x", "y", &[]),
        bar_chart("t", "x", "y", &[], &[]),
        heatmap(&[], &[], &[], "t"),
    ] {
        balanced(&empty).expect("empty chart");
        assert!(empty.contains("no data"));
    }
}

#[test]
fn labels_are_escaped_in_every_chart() {
    let evil = vec!["<script>x</script>".to_string(), "a&b".to_string()];
    let hm = heatmap(&evil, &evil, &[vec![1, 2], vec![3, 4]], "<t>");
    let bars = bar_chart(
        "t",
        "x",
        "y",
        &evil,
        &[BarSeries {
            name: "<s>".into(),
            values: vec![1.0, 2.0],
        }],
    );
    for svg in [&hm, &bars] {
        assert!(!svg.contains("<script") && !svg.contains("<s>") && !svg.contains("a&b"));
        assert!(svg.contains("&lt;script&gt;x&lt;/script&gt;") && svg.contains("a&amp;b"));
        balanced(svg).expect("balanced");
    }
}

#[test]
fn line_breaks_at_non_finite_points() {
    let svg = line_chart(
        "loss",
        "epoch",
        "loss",
        &[Series {
            name: "loss".into(),
            points: vec![
                (1.0, 1.0),
                (2.0, 0.8),
                (3.0, f64::NAN),
                (4.0, 0.5),
                (5.0, 0.4),
            ],
        }],
    );
    assert_eq!(svg.matches("<polyline").count(), 2);
    assert_eq!(svg.matches("<circle").count(), 4);
    assert!(!svg.contains("NaN\""));
}
