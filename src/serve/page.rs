//! The served page: the review form and, after a submission, the result
//! (predicted class or rating, class probabilities as bars, words
//! highlighted by their contribution), with the model's test metrics.
//!
//! Rendered by tera with autoescape on, so every text a user typed (and every
//! name from the spec) is HTML-escaped; the stylesheet is the reports' own,
//! plus a few rules for the form and dark mode.

use super::model::ServedModel;
use crate::pipeline::explain::Explanation;
use crate::pipeline::predict::TextPrediction;
use anyhow::{Context, Result};
use serde::Serialize;

const TEMPLATE: &str = include_str!("templates/page.html");
const TEMPLATE_NAME: &str = "page.html";
/// The reports' stylesheet, so the page looks like a report.
const REPORT_CSS: &str = include_str!("../report/templates/report.css");
/// The page's own rules: form, bars, highlights, dark mode.
const PAGE_CSS: &str = include_str!("templates/page.css");
/// Words listed as pushing up and as pushing down.
const TOP_WORDS: usize = 8;

/// What a user submitted and what came of it.
pub struct Submission<'a> {
    /// One text per field of the model, as typed.
    pub texts: &'a [String],
    /// The prediction of the joined text.
    pub prediction: &'a TextPrediction,
    /// Why, word by word.
    pub explanation: &'a Explanation,
}

#[derive(Serialize)]
struct PageView {
    css: String,
    name: String,
    variant: Option<String>,
    task: &'static str,
    version: &'static str,
    fields: Vec<FieldView>,
    metrics: Vec<MetricView>,
    has_report: bool,
    error: Option<String>,
    result: Option<ResultView>,
}

#[derive(Serialize)]
struct FieldView {
    name: String,
    label: String,
    value: String,
}

#[derive(Serialize)]
struct MetricView {
    name: String,
    value: String,
}

#[derive(Serialize)]
struct ResultView {
    label: String,
    classes: Vec<ClassBar>,
    scale: Option<ScaleView>,
    explained: String,
    highlighted: Vec<HighlightedField>,
    up: Vec<WordRow>,
    down: Vec<WordRow>,
    unexplained: usize,
}

#[derive(Serialize)]
struct ClassBar {
    name: String,
    percent: String,
    width: String,
    predicted: bool,
}

#[derive(Serialize)]
struct ScaleView {
    value: String,
    low: String,
    high: String,
    position: String,
}

#[derive(Serialize)]
struct HighlightedField {
    label: String,
    segments: Vec<Segment>,
}

#[derive(Serialize)]
struct Segment {
    text: String,
    /// `""` plain text, `"up"` or `"down"` a highlighted word.
    kind: &'static str,
    /// Highlight strength, 0–1 (style value).
    alpha: String,
    title: String,
}

#[derive(Serialize)]
struct WordRow {
    word: String,
    contribution: String,
}

/// The page with empty text boxes (or `texts` refilled) and an optional
/// error message.
pub fn form_page(
    model: &ServedModel,
    texts: Option<&[String]>,
    error: Option<String>,
) -> Result<String> {
    render(view(model, texts, error, None))
}

/// The page showing a submission's result.
pub fn result_page(model: &ServedModel, submission: &Submission) -> Result<String> {
    let result = result_view(model, submission);
    render(view(model, Some(submission.texts), None, Some(result)))
}

fn render(view: PageView) -> Result<String> {
    let mut tera = tera::Tera::default();
    tera.add_raw_template(TEMPLATE_NAME, TEMPLATE)
        .context("the page template is invalid")?;
    tera.autoescape_on(vec![".html"]);
    let context = tera::Context::from_serialize(&view).context("cannot build the page")?;
    tera.render(TEMPLATE_NAME, &context)
        .context("cannot render the page")
}

fn view(
    model: &ServedModel,
    texts: Option<&[String]>,
    error: Option<String>,
    result: Option<ResultView>,
) -> PageView {
    PageView {
        css: format!("{REPORT_CSS}\n{PAGE_CSS}"),
        name: model.name.clone(),
        variant: model.variant.clone(),
        task: model.task(),
        version: env!("CARGO_PKG_VERSION"),
        fields: model
            .text
            .fields
            .iter()
            .enumerate()
            .map(|(k, f)| FieldView {
                name: f.name.clone(),
                label: field_label(&f.name),
                value: texts.and_then(|t| t.get(k)).cloned().unwrap_or_default(),
            })
            .collect(),
        metrics: model
            .scalar_metrics()
            .into_iter()
            .map(|(name, v)| MetricView {
                name,
                value: format!("{v:.4}"),
            })
            .collect(),
        has_report: model.report.is_some(),
        error,
        result,
    }
}

fn result_view(model: &ServedModel, s: &Submission) -> ResultView {
    let classes = model.predictor.classes();
    let bars = classes
        .iter()
        .zip(&s.prediction.probabilities)
        .map(|(c, &p)| ClassBar {
            name: c.clone(),
            percent: format!("{:.1}%", p * 100.0),
            width: format!("{:.1}", (p * 100.0).clamp(0.0, 100.0)),
            predicted: *c == s.prediction.predicted,
        })
        .collect();
    let scale = s.prediction.raw.map(|raw| {
        let [low, high] = model.range.unwrap_or([raw.min(0.0), raw.max(1.0)]);
        let position = if high > low {
            ((raw - low) / (high - low)).clamp(0.0, 1.0) * 100.0
        } else {
            50.0
        };
        ScaleView {
            value: format!("{raw:.2}"),
            low: format_bound(low),
            high: format_bound(high),
            position: format!("{position:.1}"),
        }
    });
    let e = s.explanation;
    let explained = match e.class.and_then(|k| classes.get(k)) {
        Some(c) => format!("the probability of {c} ({:.3})", e.value),
        None => format!("the predicted value ({:.2})", e.value),
    };
    let scale_of = e.max_abs();
    let mut highlighted: Vec<HighlightedField> = model
        .text
        .fields
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let text = s.texts.get(k).map(String::as_str).unwrap_or("");
            let words: Vec<_> = e.words.iter().filter(|w| w.span.field == k).collect();
            let mut segments = Vec::new();
            let mut at = 0;
            for w in words {
                if w.span.start > at {
                    segments.push(plain(&text[at..w.span.start]));
                }
                let strength = if scale_of > 0.0 {
                    w.contribution.abs() / scale_of
                } else {
                    0.0
                };
                segments.push(Segment {
                    text: w.word.clone(),
                    kind: match w.contribution {
                        c if c > 0.0 && strength >= 0.05 => "up",
                        c if c < 0.0 && strength >= 0.05 => "down",
                        _ => "",
                    },
                    alpha: format!("{:.2}", 0.15 + 0.6 * strength),
                    title: format!("{:+.4}", w.contribution),
                });
                at = w.span.end;
            }
            if at < text.len() {
                segments.push(plain(&text[at..]));
            }
            HighlightedField {
                label: field_label(&f.name),
                segments,
            }
        })
        .collect();
    highlighted.retain(|h| !h.segments.is_empty());
    let mut ranked: Vec<_> = e.words.iter().collect();
    ranked.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
    let row = |w: &&crate::pipeline::explain::WordContribution| WordRow {
        word: w.word.clone(),
        contribution: format!("{:+.4}", w.contribution),
    };
    let up = ranked
        .iter()
        .filter(|w| w.contribution > 0.0)
        .take(TOP_WORDS)
        .map(row)
        .collect();
    let down = ranked
        .iter()
        .rev()
        .filter(|w| w.contribution < 0.0)
        .take(TOP_WORDS)
        .map(row)
        .collect();
    ResultView {
        label: s.prediction.predicted.clone(),
        classes: bars,
        scale,
        explained,
        highlighted,
        up,
        down,
        unexplained: e.unexplained,
    }
}

fn plain(text: &str) -> Segment {
    Segment {
        text: text.to_string(),
        kind: "",
        alpha: String::new(),
        title: String::new(),
    }
}

fn format_bound(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// A column name as a label: `sideEffectsReview` → `Side effects review`.
pub fn field_label(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c == '_' || c == '-' {
            out.push(' ');
        } else if c.is_uppercase() && i > 0 {
            out.push(' ');
            out.extend(c.to_lowercase());
        } else if i == 0 {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_become_labels() {
        assert_eq!(field_label("sideEffectsReview"), "Side effects review");
        assert_eq!(field_label("text"), "Text");
        assert_eq!(field_label("review_body"), "Review body");
    }

    #[test]
    fn the_template_parses() {
        let mut tera = tera::Tera::default();
        tera.add_raw_template(TEMPLATE_NAME, TEMPLATE).unwrap();
    }
}
