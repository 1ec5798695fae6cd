//! How CSV, TSV and JSONL files are parsed: header or positional column
//! names, character encoding, delimiter and quote (the `data` keys `header`,
//! `columns`, `encoding`, `delimiter`, `quote`), checked once with errors
//! naming the key.

use crate::spec::DataSpec;
use encoding_rs::Encoding;

/// Under `on_bad_rows: skip` without `max_bad_rows`, the largest fraction of
/// all rows read (train, test and validation files together) that may be
/// dropped before the run is refused.
pub const MAX_BAD_FRACTION: f64 = 0.1;

/// Parsing options of text files, as written in the spec (checked by [`ReadOptions::check`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ReadOptions {
    /// Whether a delimited file starts with a header row.
    pub header: bool,
    /// Column names of a header-less delimited file, in file order.
    pub columns: Vec<String>,
    /// Encoding label (`latin-1`, `utf-16`, ...); `None`: UTF-8 (UTF-16 when the file has its BOM).
    pub encoding: Option<String>,
    /// Delimiter override, one character.
    pub delimiter: Option<String>,
    /// Quote character override, one character.
    pub quote: Option<String>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            header: true,
            columns: Vec::new(),
            encoding: None,
            delimiter: None,
            quote: None,
        }
    }
}

/// A bad option: the spec key (`data.encoding`) and what is wrong.
pub type OptionProblem = (&'static str, String);

impl ReadOptions {
    /// The options of a spec's data section (not yet checked).
    pub fn from_spec(data: &DataSpec) -> ReadOptions {
        ReadOptions {
            header: data.header,
            columns: data.columns.clone(),
            encoding: data.encoding.clone(),
            delimiter: data.delimiter.clone(),
            quote: data.quote.clone(),
        }
    }

    /// Check every option; the first problem names its key.
    pub fn check(&self) -> Result<(), OptionProblem> {
        self.encoding()?;
        self.delimiter_byte(b',')?;
        self.quote_byte()?;
        match (self.header, self.columns.is_empty()) {
            (false, true) => {
                return Err((
                    "data.columns",
                    "a file without a header row (`header: false`) needs `columns: [label, text]` \
                     naming its columns in file order"
                        .into(),
                ))
            }
            (true, false) => return Err((
                "data.columns",
                "`columns` names the columns of a file without a header row; add `header: false`, \
                     or remove `columns` to use the names in the file's header"
                    .into(),
            )),
            _ => {}
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in &self.columns {
            if c.trim().is_empty() {
                return Err(("data.columns", "a column name is empty".into()));
            }
            if !seen.insert(c.as_str()) {
                return Err(("data.columns", format!("column `{c}` is named twice")));
            }
        }
        if let (Some(d), Some(q)) = (&self.delimiter, &self.quote) {
            if d == q {
                return Err((
                    "data.quote",
                    format!("the quote `{q}` is also the delimiter; they must differ"),
                ));
            }
        }
        Ok(())
    }

    /// The encoding asked for; `None` for the default (UTF-8, BOM-sniffed).
    pub fn encoding(&self) -> Result<Option<&'static Encoding>, OptionProblem> {
        let Some(label) = &self.encoding else {
            return Ok(None);
        };
        // encoding_rs follows the WHATWG labels, which lack a few common spellings.
        let normalized = match label.trim().to_ascii_lowercase().as_str() {
            "latin1" | "latin-1" | "iso8859-1" | "iso-8859-1" | "iso_8859-1" => {
                "windows-1252".to_string()
            }
            "utf8" => "utf-8".to_string(),
            "utf16" => "utf-16".to_string(),
            other => other.to_string(),
        };
        match Encoding::for_label(normalized.as_bytes()) {
            Some(e) if e == encoding_rs::UTF_8 => Ok(None),
            Some(e) if e == encoding_rs::REPLACEMENT => Err(unknown_encoding(label)),
            Some(e) => Ok(Some(e)),
            None => Err(unknown_encoding(label)),
        }
    }

    /// The delimiter byte: the override, else `default`.
    pub fn delimiter_byte(&self, default: u8) -> Result<u8, OptionProblem> {
        match &self.delimiter {
            None => Ok(default),
            Some(d) => single_byte(d, "data.delimiter", "e.g. `;`, `|` or `\"\\t\"` for a tab"),
        }
    }

    /// The quote byte: the override, else `"`.
    pub fn quote_byte(&self) -> Result<u8, OptionProblem> {
        match &self.quote {
            None => Ok(b'"'),
            Some(q) => single_byte(q, "data.quote", "e.g. `'`"),
        }
    }
}

/// The error for an encoding label that is not known.
fn unknown_encoding(label: &str) -> OptionProblem {
    (
        "data.encoding",
        format!(
            "unknown encoding `{label}`; use e.g. utf-8, latin-1 (iso-8859-1), windows-1252, \
             utf-16 (with a byte order mark), utf-16le, utf-16be, shift_jis, gbk"
        ),
    )
}

/// One ASCII character other than a line break, as a byte.
fn single_byte(value: &str, key: &'static str, example: &str) -> Result<u8, OptionProblem> {
    match value.as_bytes() {
        [b] if b.is_ascii() && *b != b'\n' && *b != b'\r' => Ok(*b),
        _ => Err((
            key,
            format!(
                "`{}` is not a single ASCII character other than a line break; {example}",
                value.escape_debug()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(f: impl FnOnce(&mut ReadOptions)) -> ReadOptions {
        let mut o = ReadOptions::default();
        f(&mut o);
        o
    }

    #[test]
    fn encodings_by_common_names() {
        let e = |l: &str| opts(|o| o.encoding = Some(l.into())).encoding();
        assert_eq!(e("latin-1").unwrap(), Some(encoding_rs::WINDOWS_1252));
        assert_eq!(e("ISO-8859-1").unwrap(), Some(encoding_rs::WINDOWS_1252));
        assert_eq!(e("utf-16").unwrap(), Some(encoding_rs::UTF_16LE));
        assert_eq!(e("UTF-8").unwrap(), None);
        let (key, msg) = e("klingon").unwrap_err();
        assert_eq!(key, "data.encoding");
        assert!(msg.contains("klingon") && msg.contains("latin-1"), "{msg}");
    }

    #[test]
    fn bad_values_name_their_key() {
        let k = |o: ReadOptions| o.check().unwrap_err().0;
        assert_eq!(
            k(opts(|o| o.delimiter = Some(";;".into()))),
            "data.delimiter"
        );
        assert_eq!(k(opts(|o| o.quote = Some("".into()))), "data.quote");
        assert_eq!(k(opts(|o| o.header = false)), "data.columns");
        assert_eq!(k(opts(|o| o.columns = vec!["a".into()])), "data.columns");
        let o = opts(|o| {
            o.delimiter = Some("\t".into());
            o.quote = Some("'".into())
        });
        assert!(o.check().is_ok());
        assert_eq!(o.delimiter_byte(b',').unwrap(), b'\t');
    }
}
