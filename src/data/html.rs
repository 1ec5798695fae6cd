//! HTML cleaning before tokenization (`data.clean`): tag stripping and entity decoding.
//!
//! Scraped review corpora such as IMDB contain `<br /><br />` line breaks and
//! entities such as `&#039;`. Left alone, Keras's default filters turn
//! `<br />` into a frequent token `br`.

use crate::spec::CleanSpec;

/// Named entities decoded by [`decode_html_entities`], with their text.
const NAMED: &[(&str, &str)] = &[
    ("amp", "&"),
    ("lt", "<"),
    ("gt", ">"),
    ("quot", "\""),
    ("apos", "'"),
    ("nbsp", "\u{a0}"),
    ("rsquo", "\u{2019}"),
    ("lsquo", "\u{2018}"),
    ("rdquo", "\u{201d}"),
    ("ldquo", "\u{201c}"),
    ("hellip", "\u{2026}"),
    ("mdash", "\u{2014}"),
    ("ndash", "\u{2013}"),
    ("laquo", "\u{ab}"),
    ("raquo", "\u{bb}"),
    ("copy", "\u{a9}"),
    ("reg", "\u{ae}"),
    ("trade", "\u{2122}"),
    ("middot", "\u{b7}"),
    ("bull", "\u{2022}"),
];

/// Longest entity body (between `&` and `;`) worth looking at.
const MAX_ENTITY: usize = 10;

/// The text of one entity body (the part between `&` and `;`), if known.
fn entity(body: &str) -> Option<char> {
    if let Some(num) = body.strip_prefix('#') {
        let code = if let Some(hex) = num.strip_prefix(['x', 'X']) {
            if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            u32::from_str_radix(hex, 16).ok()?
        } else {
            if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            num.parse::<u32>().ok()?
        };
        // NUL and surrogates are not characters; leave such entities alone.
        return char::from_u32(code).filter(|&c| c != '\0');
    }
    None
}

/// Decodes numeric (`&#039;`, `&#x27;`) and common named HTML entities
/// (`amp lt gt quot apos nbsp rsquo lsquo rdquo ldquo hellip mdash ndash`
/// and a few more). Unknown or malformed entities, and entities without the
/// closing `;`, are left as they are. One pass: `&amp;lt;` becomes `&lt;`.
/// `&nbsp;` becomes U+00A0, as Python's `html.unescape` gives.
pub fn decode_html_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let semi = after
            .as_bytes()
            .iter()
            .take(MAX_ENTITY + 1)
            .position(|&b| b == b';');
        let decoded = semi.and_then(|end| {
            let body = &after[..end];
            let text = match entity(body) {
                Some(c) => Some(Decoded::Char(c)),
                None => NAMED
                    .iter()
                    .find(|(name, _)| *name == body)
                    .map(|(_, t)| Decoded::Str(t)),
            };
            text.map(|t| (t, end + 1))
        });
        match decoded {
            Some((t, used)) => {
                match t {
                    Decoded::Char(c) => out.push(c),
                    Decoded::Str(s) => out.push_str(s),
                }
                rest = &after[used..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A decoded entity: one code point or a fixed string.
enum Decoded {
    Char(char),
    Str(&'static str),
}

/// Byte length of the HTML tag starting at `s` (which starts with `<`), if it is one.
///
/// A tag is `<` followed by a letter, `/` or `!` (comments, doctype), up to
/// the next `>` with no `<` in between. So `a < b`, `<3` and an unclosed
/// `<b` stay text.
fn tag_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    match b.get(1) {
        Some(c) if c.is_ascii_alphabetic() || *c == b'/' || *c == b'!' => {}
        _ => return None,
    }
    for (i, &c) in b.iter().enumerate().skip(2) {
        match c {
            b'>' => return Some(i + 1),
            b'<' => return None,
            _ => {}
        }
    }
    None
}

/// Replaces each HTML tag (`<br />`, `<br/>`, `<i>`, `</i>`, `<!-- x -->`)
/// with one space. A `<` that does not start a tag stays.
pub fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let from = &rest[lt..];
        match tag_len(from) {
            Some(n) => {
                out.push(' ');
                rest = &from[n..];
            }
            None => {
                out.push('<');
                rest = &from[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Applies the cleaning steps switched on in `spec`: tags are stripped first,
/// then entities decoded. That order matters: decoding first would turn
/// escaped literal text such as `&lt;b&gt;` (which the author wrote as visible
/// text) into a tag and then delete it.
pub fn clean(text: &str, spec: &CleanSpec) -> String {
    let stripped = if spec.strip_tags {
        strip_tags(text)
    } else {
        text.to_owned()
    };
    if spec.html_entities {
        decode_html_entities(&stripped)
    } else {
        stripped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities() {
        assert_eq!(decode_html_entities("It&#039;s"), "It's");
        assert_eq!(decode_html_entities("It&#x27;s &#X27;"), "It's '");
        assert_eq!(
            decode_html_entities("&lt;b&gt; &amp; &quot;q&quot; &apos;"),
            "<b> & \"q\" '"
        );
        assert_eq!(decode_html_entities("a&nbsp;b"), "a\u{a0}b");
        assert_eq!(
            decode_html_entities("&ldquo;x&rdquo; &lsquo;y&rsquo; &hellip; &mdash; &ndash;"),
            "\u{201c}x\u{201d} \u{2018}y\u{2019} \u{2026} \u{2014} \u{2013}"
        );
        // One pass only.
        assert_eq!(decode_html_entities("&amp;lt;"), "&lt;");
        // Unknown, unterminated, malformed and invalid entities stay.
        for s in [
            "&foo; & AT&T &amp &#; &#x; &#12a; &#xD800; &#0; &#99999999999;",
            "fish & chips",
            "&",
            "trailing &#39",
        ] {
            assert_eq!(decode_html_entities(s), s);
        }
        assert_eq!(decode_html_entities("é&#233;€&#8364;"), "éé€€");
    }

    #[test]
    fn tags() {
        assert_eq!(
            strip_tags("One.<br /><br />Two<br/>three <i>four</i>"),
            "One.  Two three  four "
        );
        assert_eq!(strip_tags("<!-- c -->x</p>"), " x ");
        // A `<` that does not start a tag stays.
        assert_eq!(
            strip_tags("a < b, <3, x<y, <b unclosed"),
            "a < b, <3, x<y, <b unclosed"
        );
        assert_eq!(strip_tags("<a <b>"), "<a  ");
        assert_eq!(strip_tags("<>"), "<>");
    }

    #[test]
    fn clean_strips_then_decodes() {
        let both = CleanSpec {
            html_entities: true,
            strip_tags: true,
        };
        assert_eq!(
            clean("It&#039;s good.<br /><br />Really &lt;b&gt;", &both),
            "It's good.  Really <b>"
        );
        let none = CleanSpec::default();
        assert_eq!(clean("a<br />&amp;", &none), "a<br />&amp;");
        let tags = CleanSpec {
            strip_tags: true,
            ..none.clone()
        };
        assert_eq!(clean("a<br />&amp;", &tags), "a &amp;");
        let ent = CleanSpec {
            html_entities: true,
            ..none
        };
        assert_eq!(clean("a<br />&amp;", &ent), "a<br />&");
    }
}
