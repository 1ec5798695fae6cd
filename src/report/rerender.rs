//! The check that a report shows what its record says: the page is rendered
//! again from the [`ReportData`] embedded after [`RECORD_OPEN`], sealed, and
//! compared with the file byte for byte.
//!
//! Rendering is a pure function of the record and of the kerros version (its
//! template and stylesheet): dates, the version string and cache keys are
//! fields of the record, never read from the clock or the environment. A
//! report written by another version is therefore not re-rendered; the
//! caller reports the version mismatch instead.

use super::verify::{blank_digest, seal};
use super::{render, ReportData, RECORD_OPEN};

const SCRIPT_CLOSE: &str = "</script>";

/// This kerros version, as reports record it.
pub const THIS_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Read the embedded record; the error says what is missing or malformed.
pub fn extract_record(html: &str) -> Result<ReportData, String> {
    let Some(start) = html.find(RECORD_OPEN) else {
        return Err(format!(
            "no embedded record (`{RECORD_OPEN}`): the page cannot be checked against what it was rendered from"
        ));
    };
    let body = start + RECORD_OPEN.len();
    if html[body..].contains(RECORD_OPEN) {
        return Err("the report embeds more than one record".into());
    }
    let Some(close) = html[body..].find(SCRIPT_CLOSE) else {
        return Err("the embedded record is not closed by `</script>`".into());
    };
    serde_json::from_str(&html[body..body + close])
        .map_err(|e| format!("the embedded record is not valid: {e}"))
}

/// Render `record` again and compare it with `html`, both with the digest
/// left out (the digest is checked on its own). `Err` names the first
/// differing section.
pub fn check_rendering(html: &str, record: &ReportData) -> Result<(), String> {
    let page =
        render(record).map_err(|e| format!("the embedded record cannot be rendered again: {e}"))?;
    let sealed = seal(&page);
    let expected = blank_digest(&sealed).unwrap_or(sealed);
    let html = blank_digest(html).unwrap_or_else(|| html.to_string());
    if expected == html {
        return Ok(());
    }
    let at = html
        .bytes()
        .zip(expected.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(html.len().min(expected.len()));
    Err(format!(
        "the page differs from the one its embedded record renders to, first in {}: the visible content was edited",
        section_at(&html, at)
    ))
}

/// The section of the report that holds byte `at`: the nearest marker
/// (`<section id=…>`, the headline, footer, manifest or record) before it.
pub fn section_at(html: &str, at: usize) -> String {
    let mut at = at.min(html.len());
    while !html.is_char_boundary(at) {
        at -= 1;
    }
    let before = &html[..at];
    let fixed = [
        ("<body", "the page header".to_string()),
        (
            r#"<section class="headline""#,
            "the headline results".to_string(),
        ),
        ("<footer", "the footer".to_string()),
        (
            r#"<script type="application/json" id="kerros-manifest">"#,
            "the embedded manifest".to_string(),
        ),
        (RECORD_OPEN, "the embedded record".to_string()),
    ];
    let mut best = (0usize, "the document head".to_string());
    for (marker, name) in fixed {
        if let Some(i) = before.rfind(marker) {
            if i >= best.0 {
                best = (i, name);
            }
        }
    }
    if let Some(i) = before.rfind("<section id=\"") {
        if i >= best.0 {
            let id_start = i + "<section id=\"".len();
            let id: String = html[id_start..]
                .chars()
                .take_while(|&c| c != '"')
                .take(40)
                .collect();
            best = (i, format!("section `{id}`"));
        }
    }
    best.1
}

/// `s` safe to print on a terminal: control characters (below U+0020 and
/// U+007F..=U+009F) and bidirectional overrides and isolates are written as
/// `\u{…}` escapes, so text from a report cannot move the cursor, recolour or
/// reorder the line it is printed on. Other characters are kept.
pub fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}');
        if c.is_control() || bidi {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
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
    fn printable_escapes_terminal_controls() {
        assert_eq!(printable("a\x1b[2Kb"), "a\\u{1b}[2Kb");
        assert_eq!(
            printable("x\u{202e}y\r\n\x7f"),
            "x\\u{202e}y\\u{d}\\u{a}\\u{7f}"
        );
        assert_eq!(printable("Cohen's κ"), "Cohen's κ");
    }

    #[test]
    fn sections_are_named() {
        let html =
            r#"<head></head><body><section id="spec">x</section><section id="metrics"><td>1</td>"#;
        assert_eq!(section_at(html, html.len() - 3), "section `metrics`");
        assert_eq!(section_at(html, 3), "the document head");
        assert_eq!(section_at(html, 22), "the page header");
    }
}
