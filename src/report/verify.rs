//! Sealing and verifying submission reports.
//!
//! Contract with the report renderer:
//! - `<head>` holds [`DIGEST_SLOT`] exactly once, i.e.
//!   `<meta name="kerros-digest" content="">`;
//! - the manifest is embedded once, as produced by [`manifest_script`]
//!   (`<script type="application/json" id="kerros-manifest">…</script>`);
//! - every top-level numeric metric of the manifest is shown in the page
//!   formatted as `format!("{:.4}", value)` (e.g. `0.8312`, `-0.0500`), as a
//!   number of its own (not followed by more digits);
//! - the finished page is passed through [`seal`] and written unchanged.
//!
//! - the page embeds its record, the [`ReportData`](super::ReportData) it
//!   was rendered from (see [`super::RECORD_OPEN`]).
//!
//! The digest is blake3 over the whole document with the digest slot blank,
//! so any edited byte, in the numbers shown or in the manifest, is caught.
//! It proves integrity, not authorship: the digest is public, so someone who
//! edits the page can recompute it. Such an edit of the visible page is
//! caught because [`verify`] renders the page again from the embedded record
//! and compares it byte for byte (see [`super::rerender`]), and the record
//! must agree with the manifest. An edit of the record, the manifest and the
//! page together (a consistent forgery) is only caught by a re-run
//! (`kerros verify --rerun`).

use super::manifest::Manifest;
use super::rerender::{check_rendering, extract_record, THIS_VERSION};
use super::ReportData;
use serde_json::Value;

/// The digest tag as the renderer emits it, with an empty digest.
pub const DIGEST_SLOT: &str = r#"<meta name="kerros-digest" content="">"#;

/// The digest tag up to the digest itself.
const DIGEST_OPEN: &str = r#"<meta name="kerros-digest" content=""#;

/// The opening tag of the embedded manifest.
pub const MANIFEST_OPEN: &str = r#"<script type="application/json" id="kerros-manifest">"#;

const SCRIPT_CLOSE: &str = "</script>";

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyResult {
    /// True when no problem was found.
    pub intact: bool,
    /// Each problem in words (empty when intact).
    pub problems: Vec<String>,
    /// The embedded manifest, when it could be read (even if other checks failed).
    pub manifest: Option<Manifest>,
    /// `version mismatch: written by X, this is Y` when another kerros
    /// version wrote the report: its page was then not rendered again (the
    /// digest, the record and the numbers shown were still checked).
    pub version_mismatch: Option<String>,
}

/// The `<script>` element embedding `manifest` as JSON. `<`, `>` and `&` in
/// strings are written as JSON `\u` escapes, so no text in the manifest
/// (`</script>`, `<!--`) can end the element early.
pub fn manifest_script(manifest: &Manifest) -> String {
    let json = serde_json::to_string(manifest)
        // Cannot happen (string keys, finite numbers); an unreadable manifest
        // is then reported by `verify` rather than aborting the report.
        .unwrap_or_else(|e| format!("{{\"error\":\"cannot serialise the manifest: {e}\"}}"));
    let json = json
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    format!("{MANIFEST_OPEN}{json}{SCRIPT_CLOSE}")
}

/// Fill the digest slot of a finished report. A document without a slot gets
/// one inserted right after its `<head>` tag (or at the very start); a
/// document sealed before is re-sealed.
pub fn seal(html: &str) -> String {
    let mut doc = blank_digest(html).unwrap_or_else(|| insert_slot(html));
    let digest = blake3::hash(doc.as_bytes()).to_hex().to_string();
    if let Some(at) = doc.find(DIGEST_SLOT) {
        let filled = format!(r#"{DIGEST_OPEN}{digest}">"#);
        doc.replace_range(at..at + DIGEST_SLOT.len(), &filled);
    }
    doc
}

/// The document with the first digest tag's content blanked, or `None` when
/// there is no complete digest tag.
pub(crate) fn blank_digest(html: &str) -> Option<String> {
    let start = html.find(DIGEST_OPEN)?;
    let content = start + DIGEST_OPEN.len();
    let end = content + html[content..].find("\">")?;
    let mut doc = String::with_capacity(html.len());
    doc.push_str(&html[..content]);
    doc.push_str(&html[end..]);
    Some(doc)
}

fn insert_slot(html: &str) -> String {
    let at = html
        .find("<head")
        .and_then(|h| html[h..].find('>').map(|g| h + g + 1))
        .unwrap_or(0);
    let mut doc = String::with_capacity(html.len() + DIGEST_SLOT.len());
    doc.push_str(&html[..at]);
    doc.push_str(DIGEST_SLOT);
    doc.push_str(&html[at..]);
    doc
}

/// Read the embedded manifest; the error says what is missing or malformed.
pub fn extract_manifest(html: &str) -> Result<Manifest, String> {
    let (start, end) = manifest_span(html)?;
    let json = &html[start + MANIFEST_OPEN.len()..end - SCRIPT_CLOSE.len()];
    serde_json::from_str(json).map_err(|e| format!("the embedded manifest is not valid: {e}"))
}

/// Byte range of the whole manifest element.
fn manifest_span(html: &str) -> Result<(usize, usize), String> {
    let Some(start) = html.find(MANIFEST_OPEN) else {
        return Err(format!(
            "no embedded manifest (`{MANIFEST_OPEN}`): not a kerros submission report"
        ));
    };
    if html[start + 1..].contains(MANIFEST_OPEN) {
        return Err("the report embeds more than one manifest".into());
    }
    let body = start + MANIFEST_OPEN.len();
    let Some(close) = html[body..].find(SCRIPT_CLOSE) else {
        return Err("the embedded manifest is not closed by `</script>`".into());
    };
    Ok((start, body + close + SCRIPT_CLOSE.len()))
}

/// Check a sealed report: the digest matches the document, the manifest is
/// readable, and every top-level numeric metric of the manifest appears in the
/// page as `format!("{:.4}", value)`.
pub fn verify(html: &str) -> VerifyResult {
    let mut problems = Vec::new();
    match html.matches(DIGEST_OPEN).count() {
        0 => problems.push(
            "no digest tag `<meta name=\"kerros-digest\">`: the report was not sealed, or the tag was removed"
                .to_string(),
        ),
        1 => match blank_digest(html) {
            None => problems.push("the digest tag is not closed".into()),
            Some(blank) => {
                let start = html.find(DIGEST_OPEN).unwrap_or(0) + DIGEST_OPEN.len();
                let found = html[start..].split('"').next().unwrap_or("");
                let want = blake3::hash(blank.as_bytes()).to_hex().to_string();
                if found.is_empty() {
                    problems.push("the digest is empty: the report was not sealed".into());
                } else if found != want {
                    problems.push(
                        "the digest does not match the content: the report was changed after it was written"
                            .into(),
                    );
                }
            }
        },
        n => problems.push(format!(
            "the report has {n} digest tags; a sealed report has exactly one"
        )),
    }
    let manifest = match extract_manifest(html) {
        Ok(m) => Some(m),
        Err(e) => {
            problems.push(e);
            None
        }
    };
    let mut version_mismatch = None;
    match extract_record(html) {
        Err(e) => problems.push(e),
        Ok(record) => {
            problems.extend(record_matches_manifest(&record, manifest.as_ref()));
            let written_by = &record.header.kerros_version;
            if written_by != THIS_VERSION {
                version_mismatch = Some(format!(
                    "version mismatch: written by {written_by}, this is {THIS_VERSION}"
                ));
            } else if let Err(e) = check_rendering(html, &record) {
                problems.push(e);
            }
        }
    }
    if let (Some(m), Ok((start, end))) = (&manifest, manifest_span(html)) {
        // Search the visible page only: the manifest's full-precision numbers
        // would otherwise match their own 4-decimal prefixes.
        let page = format!("{}{}", &html[..start], &html[end..]);
        for (name, value) in &m.metrics {
            if let Some(v) = value.as_f64() {
                let shown = format!("{v:.4}");
                if !contains_number(&page, &shown) {
                    problems.push(format!(
                        "metric `{name}` is {shown} in the manifest but the page does not show {shown}: the numbers shown were edited"
                    ));
                }
            }
        }
    }
    VerifyResult {
        intact: problems.is_empty(),
        problems,
        manifest,
        version_mismatch,
    }
}

/// The record's internal consistency with the manifest: the record embeds
/// the same manifest, and both name the same kerros version.
fn record_matches_manifest(record: &ReportData, manifest: Option<&Manifest>) -> Vec<String> {
    let mut out = Vec::new();
    let recorded = record
        .manifest_json
        .as_deref()
        .map(serde_json::from_str::<Manifest>);
    match (recorded, manifest) {
        (Some(Ok(r)), Some(m)) if &r == m => {}
        (Some(Ok(_)), Some(_)) => {
            out.push("the embedded record and the embedded manifest disagree".into())
        }
        (Some(Err(e)), _) => out.push(format!("the record's manifest is not valid: {e}")),
        (None, Some(_)) => out.push("the embedded record has no manifest".into()),
        (_, None) => {}
    }
    if let Some(m) = manifest {
        if m.kerros_version != record.header.kerros_version {
            out.push(format!(
                "the manifest says kerros {} but the record says {}",
                m.kerros_version, record.header.kerros_version
            ));
        }
    }
    out
}

/// `needle` occurs in `text` as a whole number: not preceded by a digit, `.`
/// or `-`, and not followed by a digit.
fn contains_number(text: &str, needle: &str) -> bool {
    text.match_indices(needle).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + needle.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit() || c == '.' || c == '-')
            && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

/// Differences between a report's metrics and a re-run's, in words (empty
/// when they match). Numbers match within `tol` (absolute); nested arrays
/// (confusion matrix) and objects (per-class scores) are compared item by item.
pub fn compare_metrics(
    expected: &crate::metrics::Evaluation,
    actual: &crate::metrics::Evaluation,
    tol: f64,
) -> Vec<String> {
    let (expected_map, actual_map) = (expected.to_map(), actual.to_map());
    let mut out = Vec::new();
    for (name, e) in &expected_map {
        // Defined scalars compare as numbers; the rest (undefined scalars,
        // tables) item by item in their JSON form.
        match (
            expected.scalar(name),
            actual.scalar(name),
            actual_map.get(name),
        ) {
            (Some(x), Some(y), _) => {
                // NaN (never written by kerros) counts as a difference.
                if (x - y).abs() > tol || x.is_nan() || y.is_nan() {
                    out.push(format!("`{name}`: report {x}, re-run {y}"));
                }
            }
            (_, _, Some(a)) => diff_value(name, e, a, tol, &mut out),
            (_, _, None) => out.push(format!("`{name}`: in the report but not in the re-run")),
        }
    }
    for name in actual_map.keys().filter(|k| !expected_map.contains_key(*k)) {
        out.push(format!("`{name}`: in the re-run but not in the report"));
    }
    out
}

fn diff_value(path: &str, e: &Value, a: &Value, tol: f64, out: &mut Vec<String>) {
    match (e, a) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            // NaN (a number serde_json could not widen) counts as a difference.
            let close = (x - y).abs() <= tol;
            if !close {
                out.push(format!("`{path}`: report {x}, re-run {y}"));
            }
        }
        (Value::Array(xs), Value::Array(ys)) if xs.len() == ys.len() => {
            for (i, (x, y)) in xs.iter().zip(ys).enumerate() {
                diff_value(&format!("{path}[{i}]"), x, y, tol, out);
            }
        }
        (Value::Object(xs), Value::Object(ys)) => {
            for (k, x) in xs {
                match ys.get(k) {
                    Some(y) => diff_value(&format!("{path}.{k}"), x, y, tol, out),
                    None => out.push(format!("`{path}.{k}`: in the report but not in the re-run")),
                }
            }
            for k in ys.keys().filter(|k| !xs.contains_key(*k)) {
                out.push(format!("`{path}.{k}`: in the re-run but not in the report"));
            }
        }
        (x, y) if x == y => {}
        (x, y) => out.push(format!("`{path}`: report {x}, re-run {y}")),
    }
}
