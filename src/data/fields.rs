//! Joining an example's text fields (`data.text_columns`) into the one text
//! a model reads, optionally tagging each word with its field
//! (`data.field_tags`): training, `predict --input`, `serve` and the
//! occlusion explanations all join through [`join_fields`], so a model sees
//! the same features wherever its text comes from.

/// Placed between a field's name and each of its words by `data.field_tags`
/// (`sideEffectsReview·nausea`): not punctuation to the standardiser, so it
/// survives `lower_and_strip_punctuation` and keeps the tagged word one token.
pub const TAG_MARK: char = '·';

/// `text` with each whitespace-separated word written as `<column>·<word>`.
pub fn tag_words(column: &str, text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(column);
        out.push(TAG_MARK);
        out.push_str(word);
    }
    out
}

/// The fields of one example (in `columns` order) as one text: one field is
/// taken as is; several are joined with `separator`, leaving out blank ones.
/// With `tags` and one field per column (more than one), each word is
/// tagged with its column first ([`tag_words`]); a single already-joined
/// text is taken as is.
pub fn join_fields<S: AsRef<str>>(
    columns: &[String],
    fields: &[S],
    separator: &str,
    tags: bool,
) -> String {
    if let [only] = fields {
        return only.as_ref().to_string();
    }
    let tagged = tags && fields.len() == columns.len();
    fields
        .iter()
        .zip(columns.iter().map(Some).chain(std::iter::repeat(None)))
        .map(|(f, c)| (f.as_ref(), c))
        .filter(|(f, _)| !f.trim().is_empty())
        .map(|(f, c)| match c {
            Some(c) if tagged => tag_words(c, f),
            _ => f.to_string(),
        })
        .collect::<Vec<_>>()
        .join(separator)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn tags_each_word_with_its_field_and_skips_blank_fields() {
        let c = cols(&["benefits", "side"]);
        assert_eq!(
            join_fields(&c, &["no pain", "no  nausea\n"], " ", true),
            "benefits·no benefits·pain side·no side·nausea"
        );
        assert_eq!(join_fields(&c, &["  ", "none"], " | ", true), "side·none");
        assert_eq!(join_fields(&c, &["a", "b"], " | ", false), "a | b");
        // One (already joined) text is taken as is, tags or not.
        assert_eq!(join_fields(&c, &["a b"], " ", true), "a b");
    }
}
