//! Text cleaning before tokenization (`data.clean`), applied once in [`super::prepare`]
//! and to new texts by the predictor.

use super::html;
use crate::spec::CleanSpec;

/// Clean one text as `spec` asks: tags stripped (`strip_tags`), then HTML
/// entities decoded (`html_entities`); unchanged when neither is asked for.
pub fn clean_text(text: &str, spec: &CleanSpec) -> String {
    if !spec.html_entities && !spec.strip_tags {
        return text.to_owned();
    }
    html::clean(text, spec)
}
