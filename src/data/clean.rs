//! Text cleaning before tokenization (`data.clean`), applied once in [`super::prepare`].

use crate::spec::CleanSpec;

/// Clean one text as `spec` asks, with `cleaner` doing the work.
///
/// Returns the text unchanged when no cleaning is asked for, without calling
/// `cleaner`. The HTML work itself (entity decoding, tag stripping) belongs to
/// the text module; [`default_cleaner`] is the single place that wires it in.
pub fn clean_text(
    text: &str,
    spec: &CleanSpec,
    cleaner: &dyn Fn(&str, &CleanSpec) -> String,
) -> String {
    if !spec.html_entities && !spec.strip_tags {
        return text.to_owned();
    }
    cleaner(text, spec)
}

/// The cleaner [`super::prepare`] uses.
///
/// INTEGRATION POINT: point this at `crate::text::clean::clean` once the text
/// module provides it. Until then it returns the text unchanged, so
/// `clean: {html_entities: true}` has no effect yet.
pub fn default_cleaner(text: &str, _spec: &CleanSpec) -> String {
    text.to_owned()
}
