//! The class page of `kerros grade --html`: a leaderboard of the graded
//! reports by one metric with 95% intervals, the distribution of scores,
//! each model in one line, status badges, and McNemar's test of each run
//! against the best run (or a chosen baseline). Self-contained and
//! deterministic like the reports: no clock, no script, all text escaped.

use super::compare_mcnemar::{mcnemar_between, p_value_text};
use super::grade::{points_text, Graded, Status};
use super::svg::{histogram, histogram_bins};
use anyhow::{bail, Result};
use serde::Serialize;

const TEMPLATE: &str = include_str!("templates/class.html");
const TEMPLATE_NAME: &str = "class.html";

/// Significance level of the page's "significant" column.
pub const ALPHA: f64 = 0.05;

#[derive(Serialize)]
struct Row {
    rank: usize,
    report: String,
    author: String,
    status: &'static str,
    ok: bool,
    detail: String,
    points: String,
    value: String,
    interval: String,
    p_value: String,
    significant: String,
    model: String,
    duplicate_of: String,
}

#[derive(Serialize)]
struct Page {
    css: &'static str,
    assignment: String,
    metric: String,
    count: usize,
    reference_text: String,
    max_points: String,
    has_points: bool,
    rows: Vec<Row>,
    histogram: String,
}

/// Render the page for `graded`, ranked by `metric` (largest first; runs
/// without it last). McNemar's reference is the report `baseline` (a path
/// as given) or else the best `ok` run; an unknown baseline is an error.
pub fn class_page(
    graded: &[Graded],
    assignment: &str,
    metric: &str,
    baseline: Option<&str>,
    max_points: f64,
) -> Result<String> {
    let value = |g: &Graded| g.metrics.get(metric).copied().flatten();
    let mut order: Vec<&Graded> = graded.iter().collect();
    order.sort_by(|a, b| match (value(a), value(b)) {
        (Some(x), Some(y)) => y.total_cmp(&x).then_with(|| a.report.cmp(&b.report)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.report.cmp(&b.report),
    });
    let reference = match baseline {
        Some(b) => match graded.iter().find(|g| g.report == b) {
            Some(g) => Some(g),
            None => bail!("--baseline `{b}` is not one of the graded reports"),
        },
        None => order
            .iter()
            .find(|g| g.status == Status::Ok && value(g).is_some())
            .copied(),
    };
    let reference_text = match (reference, baseline) {
        (Some(r), Some(_)) => format!("the baseline {}", r.report),
        (Some(r), None) => format!("the best intact run, {}", r.report),
        (None, _) => "no run (none is intact)".to_string(),
    };
    let rows = order
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let test = reference.and_then(|r| {
                if std::ptr::eq(*g, r) {
                    return None;
                }
                mcnemar_between(r.predictions.as_ref()?, g.predictions.as_ref()?)
            });
            let is_reference = reference.is_some_and(|r| std::ptr::eq(*g, r));
            Row {
                rank: i + 1,
                report: g.report.clone(),
                author: g.author.clone().unwrap_or_default(),
                status: g.status.as_str(),
                ok: g.status == Status::Ok,
                detail: g.detail.clone(),
                points: points_text(g.points),
                value: value(g).map_or("-".into(), |v| format!("{v:.4}")),
                interval: g
                    .intervals
                    .get(metric)
                    .map_or(String::new(), |i| format!("{:.4}–{:.4}", i.low, i.high)),
                p_value: if is_reference {
                    "reference".into()
                } else {
                    test.map_or("n/a".into(), |m| p_value_text(m.p_value))
                },
                significant: match test {
                    Some(m) if m.p_value < ALPHA => "yes".into(),
                    Some(_) => "no".into(),
                    None => String::new(),
                },
                model: g.model.clone(),
                duplicate_of: g.duplicate_of.clone().unwrap_or_default(),
            }
        })
        .collect();
    let values: Vec<f64> = graded.iter().filter_map(value).collect();
    let page = Page {
        css: super::CSS,
        assignment: assignment.to_string(),
        metric: metric.to_string(),
        count: graded.len(),
        reference_text,
        max_points: points_text(max_points),
        has_points: max_points > 0.0,
        rows,
        histogram: histogram(
            &format!("{metric} across the class"),
            metric,
            "reports",
            &histogram_bins(&values, 10),
        ),
    };
    let mut tera = tera::Tera::default();
    tera.add_raw_template(TEMPLATE_NAME, TEMPLATE)?;
    tera.autoescape_on(vec![".html"]);
    let html = tera.render(TEMPLATE_NAME, &tera::Context::from_serialize(&page)?)?;
    Ok(html.replace(" xmlns=\"http://www.w3.org/2000/svg\"", ""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::predictions::TestPredictions;
    use std::collections::BTreeMap;

    fn graded(report: &str, author: &str, acc: f64, right: usize) -> Graded {
        Graded {
            report: report.into(),
            author: Some(author.into()),
            experiment: "e".into(),
            status: Status::Ok,
            detail: String::new(),
            points: 1.0,
            metrics: [("accuracy".to_string(), Some(acc))].into_iter().collect(),
            intervals: BTreeMap::new(),
            model: "Embedding → Dense (10 params)".into(),
            predictions: Some(TestPredictions {
                ids: (0..40).collect(),
                truth: vec![1; 40],
                predicted: (0..40).map(|i| u32::from(i < right)).collect(),
            }),
            fingerprint: None,
            duplicate_of: None,
        }
    }

    #[test]
    fn ranks_escapes_and_tests_against_the_best() {
        let g = vec![
            graded("b.html", "<script>Bo</script>", 0.5, 20),
            graded("a.html", "Ada", 0.95, 38),
        ];
        let html = class_page(&g, "ex & 1", "accuracy", None, 3.0).unwrap();
        assert!(html.contains("&lt;script&gt;Bo"), "author not escaped");
        assert!(!html.contains("<script>"));
        assert!(html.contains("ex &amp; 1"));
        assert!(html.find("a.html").unwrap() < html.find("b.html").unwrap());
        // b vs a: 18 right in a only, none in b only: p < 0.0001, significant.
        assert!(html.contains("<0.0001") || html.contains("&lt;0.0001"));
        assert!(html.contains(">yes<"));
        assert_eq!(
            html,
            class_page(&g, "ex & 1", "accuracy", None, 3.0).unwrap()
        );
        assert!(class_page(&g, "x", "accuracy", Some("zz.html"), 0.0).is_err());
    }
}
