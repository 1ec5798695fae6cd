//! The author's discussion (`report.notes`): Markdown rendered to HTML with
//! nothing that could run or fetch.
//!
//! Raw HTML in the notes (blocks and inline tags) is shown as text, links
//! keep their text but lose their target, and images show their alt text,
//! so the sealed report stays script-free and makes no request.

use pulldown_cmark::{html, Event, Options, Parser, Tag, TagEnd};
use serde::Serialize;

use super::super::data::Notes;

/// The template's view of the notes.
#[derive(Debug, Serialize)]
pub struct NotesView {
    /// The notes file as the spec names it.
    pub source: String,
    /// The rendered discussion; every piece of text in it is escaped.
    pub html: String,
}

/// The view of `notes`.
pub fn notes_view(notes: &Notes) -> NotesView {
    NotesView {
        source: notes.source.clone(),
        html: markdown_html(&notes.markdown),
    }
}

/// Markdown (CommonMark with tables, strikethrough and task lists) as safe
/// HTML: raw HTML becomes text, links and images become their text.
pub fn markdown_html(markdown: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let text = markdown.replace('\0', "");
    let events = Parser::new_ext(&text, options).filter_map(|e| match e {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Link { .. } | Tag::Image { .. })
        | Event::End(TagEnd::Link | TagEnd::Image) => None,
        other => Some(other),
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_and_raw_html_is_text() {
        let h = markdown_html(
            "# Result\n\nKappa is **0.82** & *good*.\n\n<script>alert(1)</script>\n\nA <b onclick=x>tag</b>.\n",
        );
        assert!(h.contains("<h1>Result</h1>"), "{h}");
        assert!(
            h.contains("<strong>0.82</strong> &amp; <em>good</em>"),
            "{h}"
        );
        assert!(
            !h.contains("<script") && h.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{h}"
        );
        assert!(
            !h.contains("<b ") && h.contains("&lt;b onclick=x&gt;"),
            "{h}"
        );
    }

    #[test]
    fn links_and_images_keep_only_their_text() {
        let h = markdown_html("[click](javascript:alert(1)) ![a cat](http://example.com/cat.png) <http://example.com>");
        assert!(
            !h.contains("href") && !h.contains("src") && !h.contains("<img"),
            "{h}"
        );
        assert!(h.contains("click") && h.contains("a cat"), "{h}");
    }
}
