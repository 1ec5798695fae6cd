//! "Why this prediction": an example's words highlighted by their
//! contribution, and a bag-of-n-gram model's strongest n-grams as tables.

use serde::Serialize;

use super::super::data::{Explanations, WordWeight};
use super::super::format::significant;
use super::results::breaks_to_newlines;

/// Words moving the prediction by less than this share of the example's
/// largest contribution are left unmarked, so the marks stay readable.
const MARK_FROM: f64 = 0.05;

/// Strengths of a mark: the share of the example's largest contribution,
/// in four steps (CSS classes `w1`…`w4`).
const LEVELS: f64 = 4.0;

/// A piece of an example's text: plain, or a word with its mark.
#[derive(Debug, Serialize, PartialEq)]
pub struct Segment {
    pub text: String,
    /// CSS classes: empty for plain text, else `up w3` / `down w1` ….
    pub class: String,
    /// The contribution, e.g. `+0.12`; empty for plain text.
    pub title: String,
}

/// The template's view of [`Explanations`].
#[derive(Debug, Serialize)]
pub struct ExplanationsView {
    pub method: String,
    pub tables: Vec<NgramTable>,
    pub ngram_note: String,
}

/// One output's strongest n-grams, side by side.
#[derive(Debug, Serialize)]
pub struct NgramTable {
    pub up_label: String,
    pub down_label: String,
    /// (n-gram, weight) up, (n-gram, weight) down; empty strings where one
    /// side has fewer entries.
    pub rows: Vec<[String; 4]>,
}

/// The view of the explanations section.
pub fn explanations_view(e: &Explanations) -> ExplanationsView {
    ExplanationsView {
        method: e.method.clone(),
        ngram_note: e.ngram_note.clone(),
        tables: e
            .ngrams
            .iter()
            .map(|t| {
                let n = t.up.len().max(t.down.len());
                let cell = |side: &[(String, f64)], i: usize| match side.get(i) {
                    Some((g, w)) => [g.clone(), signed(*w, 3)],
                    None => [String::new(), String::new()],
                };
                NgramTable {
                    up_label: t.up_label.clone(),
                    down_label: t.down_label.clone(),
                    rows: (0..n)
                        .map(|i| {
                            let [a, b] = cell(&t.up, i);
                            let [c, d] = cell(&t.down, i);
                            [a, b, c, d]
                        })
                        .collect(),
                }
            })
            .collect(),
    }
}

/// `text` cut into plain pieces and marked words, cleaned for display as
/// [`super::results::clean_text`] cleans it (line breaks for `<br />`, at
/// most one empty line, trimmed) and cut after about `max_chars`
/// characters; also whether it was cut. Words whose span is not a valid,
/// ordered range of `text` are shown unmarked (a record is user data).
pub fn highlighted(text: &str, words: &[WordWeight], max_chars: usize) -> (Vec<Segment>, bool) {
    let scale = words
        .iter()
        .map(|w| w.contribution.abs())
        .filter(|c| c.is_finite())
        .fold(0.0, f64::max);
    let mut pieces: Vec<(String, Option<f64>)> = Vec::new();
    let mut at = 0;
    for w in words {
        let valid = w.start >= at
            && w.start < w.end
            && w.end <= text.len()
            && text.is_char_boundary(w.start)
            && text.is_char_boundary(w.end);
        if !valid {
            continue;
        }
        pieces.push((breaks_to_newlines(&text[at..w.start]), None));
        pieces.push((text[w.start..w.end].to_string(), Some(w.contribution)));
        at = w.end;
    }
    pieces.push((breaks_to_newlines(&text[at..]), None));
    // Clean across pieces: trimmed ends, at most one empty line in a row.
    if let Some(first) = pieces.first_mut() {
        first.0 = first.0.trim_start().to_string();
    }
    if let Some(last) = pieces.last_mut() {
        last.0 = last.0.trim_end().to_string();
    }
    let mut out = Vec::new();
    let mut left = max_chars;
    let mut truncated = false;
    for (mut piece, weight) in pieces {
        while piece.contains("\n\n\n") {
            piece = piece.replace("\n\n\n", "\n\n");
        }
        if piece.is_empty() {
            continue;
        }
        let n = piece.chars().count();
        if n > left {
            piece = piece.chars().take(left).collect::<String>() + "…";
            truncated = true;
        }
        left = left.saturating_sub(n);
        let (class, title) = match weight {
            Some(c) if c.is_finite() && scale > 0.0 && c.abs() >= MARK_FROM * scale => {
                let level = ((c.abs() / scale) * LEVELS).ceil().clamp(1.0, LEVELS) as u8;
                let side = if c > 0.0 { "up" } else { "down" };
                (format!("{side} w{level}"), signed(c, 2))
            }
            _ => (String::new(), String::new()),
        };
        out.push(Segment {
            text: piece,
            class,
            title,
        });
        if truncated {
            break;
        }
    }
    (out, truncated)
}

/// `x` with `digits` significant digits and its sign, `+0.12` / `-0.034`.
fn signed(x: f64, digits: usize) -> String {
    let s = significant(x, digits);
    if x > 0.0 {
        format!("+{s}")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(start: usize, end: usize, contribution: f64) -> WordWeight {
        WordWeight {
            start,
            end,
            contribution,
        }
    }

    #[test]
    fn words_are_marked_by_sign_and_share_of_the_largest() {
        let text = "a good<br /><br /><br />bad film";
        let (segs, cut) = highlighted(text, &[w(2, 6, 0.8), w(24, 27, -0.2), w(28, 32, 0.01)], 100);
        assert!(!cut);
        let shown: Vec<(&str, &str)> = segs
            .iter()
            .map(|s| (s.text.as_str(), s.class.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("a ", ""),
                ("good", "up w4"),
                ("\n\n", ""),
                ("bad", "down w1"),
                (" ", ""),
                ("film", "")
            ]
        );
        assert_eq!(segs[1].title, "+0.80");
        assert_eq!(segs[3].title, "-0.20");
    }

    #[test]
    fn long_texts_are_cut_and_bad_spans_ignored() {
        let text = "éé good and more words";
        // Overlapping, reversed, out of range and inside a character.
        let words = [w(5, 9, 1.0), w(6, 8, 1.0), w(1, 3, 1.0), w(30, 40, 1.0)];
        let (segs, cut) = highlighted(text, &words, 7);
        assert!(cut);
        let all: String = segs.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(all, "éé good…");
        assert_eq!(segs[1].class, "up w4");
    }
}
