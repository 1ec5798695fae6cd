//! The self-contained HTML report and its inline SVG charts.
//!
//! [`render`] turns a [`ReportData`] into one HTML file with inline CSS and
//! inline SVG: no scripts, styles, fonts or images are fetched, nothing needs
//! JavaScript, and it prints on A4. The only `<script>` elements are the
//! optional `application/json` manifest and the `application/json` record
//! (the [`ReportData`] the page was rendered from, see [`RECORD_OPEN`]),
//! which browsers never execute.
//! Every piece of user text (spec, review texts, class names, paths) is
//! HTML-escaped by tera's autoescape.

pub mod class_page;
pub mod compare;
pub mod compare_mcnemar;
mod compare_page;
pub mod cv;
mod data;
pub mod figures;
pub mod format;
pub mod grade;
pub mod hints;
mod labels;
pub mod layer_stack;
pub mod manifest;
mod network;
pub mod predictions;
pub mod record;
pub mod rerender;
pub mod selection;
pub mod svg;
pub mod verify;
mod view;

pub use data::{
    ClassLength, ClassMetrics, Confusion, CrossValidation, DataSource, DataSummary, EarlyStop,
    EmbeddingCoverage, EpochRow, Example, Explanations, Exploration, Footer, ForwardInput,
    ForwardLayer, ForwardPass, ForwardStep, Header, LayerRow, Metric, Metrics, ModelSummary,
    NgramWeights, Notes, ReportData, SplitSummary, TextLengths, Training, WordWeight,
};
pub use labels::metric_label;
pub use network::network_diagram;
pub use svg::{line_chart, BarSeries, HistBin, Series, PALETTE};
pub use view::EXAMPLE_TEXT_CHARS;

/// The page layout; `.html` suffix so tera autoescapes it.
const TEMPLATE: &str = include_str!("templates/report.html");
/// The stylesheet, inlined into the page's `<style>` element.
const CSS: &str = include_str!("templates/report.css");
const TEMPLATE_NAME: &str = "report.html";

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A field of [`ReportData`] has inconsistent dimensions.
    #[error("report data field `{field}`: {message}")]
    Invalid {
        /// Path of the field, e.g. `metrics.confusion.counts`.
        field: String,
        /// What is wrong and what would be valid.
        message: String,
    },
    /// `manifest_json` is not valid JSON.
    #[error("report manifest is not valid JSON: {0}")]
    Manifest(String),
    /// The report data could not be written as JSON for the embedded record.
    #[error("report record: {0}")]
    Record(String),
    /// The template failed to render (a bug in kerros, not in the input).
    #[error("report template: {0}")]
    Template(String),
}

/// A hash of the page template and stylesheet: part of the report stage's
/// cache key, so a kerros build with a changed layout re-renders reports.
pub fn template_fingerprint() -> String {
    let mut h = blake3::Hasher::new();
    h.update(TEMPLATE.as_bytes());
    h.update(CSS.as_bytes());
    h.finalize().to_hex().to_string()
}

/// Formats a tera error with its whole source chain; tera's top-level
/// message alone ("Failed to render") hides the cause.
fn tera_error(e: tera::Error) -> ReportError {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    ReportError::Template(msg)
}

/// Renders the report as one self-contained HTML document.
///
/// Sections whose data is absent (`None` or empty) are left out. Fails when
/// the data is inconsistent (e.g. a confusion matrix that is not square with
/// its labels, forward-pass matrices of mismatched sizes) or the manifest is
/// not valid JSON.
pub fn render(data: &ReportData) -> Result<String, ReportError> {
    let view = view::build(data, CSS)?;
    let mut tera = tera::Tera::default();
    tera.add_raw_template(TEMPLATE_NAME, TEMPLATE)
        .map_err(tera_error)?;
    // Explicit, so escaping never depends on the template's name.
    tera.autoescape_on(vec![".html"]);
    let mut context = tera::Context::from_serialize(&view).map_err(tera_error)?;
    context.insert("record", &record_json(data)?);
    let html = tera.render(TEMPLATE_NAME, &context).map_err(tera_error)?;
    // Inline SVG in HTML needs no namespace; dropping it keeps the page free
    // of any URL, so a reader can check at a glance that nothing is fetched.
    // NUL is never valid in HTML text; user text may carry it.
    Ok(html
        .replace(" xmlns=\"http://www.w3.org/2000/svg\"", "")
        .replace('\0', ""))
}

/// The opening tag of the embedded record: the whole [`ReportData`] as JSON,
/// so `kerros verify` can render the page again and compare it byte for byte.
pub const RECORD_OPEN: &str = r#"<script type="application/json" id="kerros-record">"#;

/// `data` as compact JSON with `<`, `>` and `&` written as `\u` escapes, so
/// no text in it (`</script>`, `<!--`) can end the script element early, and
/// `/` too, so the page holds no URL a reader could mistake for a fetch.
/// Non-finite numbers are written as `null` (JSON has no NaN).
fn record_json(data: &ReportData) -> Result<String, ReportError> {
    let json = serde_json::to_string(data).map_err(|e| ReportError::Record(e.to_string()))?;
    Ok(json
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('/', "\\u002f"))
}

/// The report's file name for an experiment name: characters that Windows
/// forbids in file names (`: * ? " < > | \ /`) and control characters become
/// `_`, as do trailing dots and spaces; the page itself keeps the real name.
pub fn file_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| match c {
            ':' | '*' | '?' | '"' | '<' | '>' | '|' | '\\' | '/' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    // Windows drops trailing dots and spaces; make them visible instead.
    let kept = out.trim_end_matches(['.', ' ']).len();
    let trailing = out.len() - kept;
    out.truncate(kept);
    out.push_str(&"_".repeat(trailing));
    if out.is_empty() {
        out.push('_');
    }
    format!("{out}.html")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_valid_on_windows() {
        assert_eq!(file_name("imdb_seed"), "imdb_seed.html");
        assert_eq!(file_name("a:b*c?\"d<e>f|g\\h/i"), "a_b_c__d_e_f_g_h_i.html");
        assert_eq!(file_name("tab\there\0"), "tab_here_.html");
        assert_eq!(file_name("end. "), "end__.html");
        assert_eq!(file_name(""), "_.html");
    }
}
