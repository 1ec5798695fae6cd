//! Why a model predicted what it did: word importance by occlusion.
//!
//! Model-agnostic: the text is predicted once as written and once with each
//! word removed, all in one batch. A word's contribution is how much the
//! prediction drops without it: for a classifier, the fall in the predicted
//! class's probability (positive: the word argued for that class; negative:
//! it argued against it); for a regression model, the fall in the predicted
//! value (positive: the word pushed the value up). This works for every model
//! kerros trains (bag of n-grams and sequence models alike) at the cost of one
//! forward pass per word, which is why [`explain`] takes a word limit.
//!
//! A text may have several fields (druglib's three review boxes): the model
//! sees them joined with the spec's separator, leaving out blank fields, as
//! the data readers and `kerros predict --input` join them; words are removed
//! one field at a time and the spans refer to the field they came from.

use super::predict::{Predictor, TextPrediction};
use crate::data::ColumnPlan;
use crate::spec::TaskKind;
use anyhow::{bail, Context, Result};
use serde::Serialize;

/// Most words explained per text by default; each one costs a forward pass.
pub const DEFAULT_MAX_WORDS: usize = 400;

/// A word of one field: byte offsets `start..end` into that field's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WordSpan {
    /// Index of the field the word is in.
    pub field: usize,
    /// Byte offset of the word's first character.
    pub start: usize,
    /// Byte offset just past the word.
    pub end: usize,
}

/// One word and how much it contributed to the prediction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WordContribution {
    /// Where the word is.
    pub span: WordSpan,
    /// The word as written.
    pub word: String,
    /// Prediction with the whole text minus prediction without this word:
    /// positive values supported the prediction (or pushed a regression
    /// value up), negative values opposed it (or pushed it down).
    pub contribution: f64,
}

/// What was explained and by how much each word moved it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The explained output: the predicted class's index, or `None` for a
    /// regression model's single value.
    pub class: Option<usize>,
    /// The explained output's value for the whole text (the class
    /// probability, or the regression value).
    pub value: f64,
    /// Every explained word in text order (field by field).
    pub words: Vec<WordContribution>,
    /// Words beyond the limit, left unexplained.
    pub unexplained: usize,
}

impl Explanation {
    /// The largest absolute contribution (0 without words): the scale for
    /// highlighting.
    pub fn max_abs(&self) -> f64 {
        self.words
            .iter()
            .map(|w| w.contribution.abs())
            .fold(0.0, f64::max)
    }
}

/// The words of `text` as byte ranges: maximal runs of letters, digits and
/// apostrophes inside a word (`don't`), the characters the course's
/// tokenizers keep together.
pub fn word_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start: Option<usize> = None;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (k, &(i, c)) in chars.iter().enumerate() {
        let next_is_word = chars.get(k + 1).is_some_and(|&(_, n)| n.is_alphanumeric());
        let in_word = c.is_alphanumeric() || (c == '\'' && start.is_some() && next_is_word);
        match (in_word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    spans
}

/// Join fields as the data readers do: one field as it is; several with
/// `separator`, leaving out blank ones.
pub fn join_fields<S: AsRef<str>>(fields: &[S], separator: &str) -> String {
    if let [only] = fields {
        return only.as_ref().to_string();
    }
    fields
        .iter()
        .map(AsRef::as_ref)
        .filter(|f| !f.trim().is_empty())
        .collect::<Vec<_>>()
        .join(separator)
}

/// Explain a prediction by occlusion with any model.
///
/// `fields` are the texts of one example, joined with `separator` before
/// predicting; at most `max_words` words (in field order) are removed one at
/// a time. `predict` receives the whole text first, then one text per
/// removed word, and returns per text the model outputs: class probabilities
/// for a classifier (`regression: false`; the predicted class is the first
/// largest), or one value for a regression model.
pub fn explain<F>(
    fields: &[&str],
    separator: &str,
    max_words: usize,
    regression: bool,
    predict: F,
) -> Result<Explanation>
where
    F: FnOnce(&[String]) -> Result<Vec<Vec<f64>>>,
{
    let join = |parts: &[&str]| join_fields(parts, separator);
    explain_joined(fields, &join, max_words, regression, predict)
}

/// [`explain`] with the fields joined by `join` (e.g. tagging each word
/// with its field, `data.field_tags`) instead of a separator.
pub fn explain_joined<F>(
    fields: &[&str],
    join: &dyn Fn(&[&str]) -> String,
    max_words: usize,
    regression: bool,
    predict: F,
) -> Result<Explanation>
where
    F: FnOnce(&[String]) -> Result<Vec<Vec<f64>>>,
{
    let mut spans = Vec::new();
    for (f, text) in fields.iter().enumerate() {
        for (start, end) in word_spans(text) {
            spans.push(WordSpan {
                field: f,
                start,
                end,
            });
        }
    }
    let unexplained = spans.len().saturating_sub(max_words);
    spans.truncate(max_words);
    let mut texts = Vec::with_capacity(spans.len() + 1);
    texts.push(join(fields));
    for s in &spans {
        let text = fields[s.field];
        let without = format!("{}{}", &text[..s.start], &text[s.end..]);
        let mut parts: Vec<&str> = fields.to_vec();
        parts[s.field] = &without;
        texts.push(join(&parts));
    }
    let outputs = predict(&texts)?;
    if outputs.len() != texts.len() {
        bail!(
            "the model returned {} predictions for {} texts",
            outputs.len(),
            texts.len()
        );
    }
    let whole = &outputs[0];
    let class = if regression {
        None
    } else {
        Some(
            whole
                .iter()
                .enumerate()
                .fold(
                    (0, f64::MIN),
                    |acc, (k, &v)| if v > acc.1 { (k, v) } else { acc },
                )
                .0,
        )
    };
    let pick = |out: &[f64]| -> Result<f64> {
        out.get(class.unwrap_or(0))
            .copied()
            .context("the model returned an empty prediction")
    };
    let value = pick(whole)?;
    let mut words = Vec::with_capacity(spans.len());
    for (s, out) in spans.iter().zip(&outputs[1..]) {
        words.push(WordContribution {
            span: *s,
            word: fields[s.field][s.start..s.end].to_string(),
            contribution: value - pick(out)?,
        });
    }
    Ok(Explanation {
        class,
        value,
        words,
        unexplained,
    })
}

/// Explain `predictor`'s prediction for one example whose text fields are
/// `fields` (in the spec's text column order; one field for a one-column
/// spec), joined with the spec's separator.
pub fn explain_prediction(
    predictor: &Predictor,
    fields: &[&str],
    max_words: usize,
) -> Result<Explanation> {
    let plan = predictor.spec().data.as_ref().map(ColumnPlan::from_spec);
    let separator = plan
        .as_ref()
        .map_or_else(|| " ".to_string(), |p| p.separator.clone());
    let (columns, tags) = plan
        .as_ref()
        .map_or((Vec::new(), false), |p| (p.text.clone(), p.field_tags));
    // Joined (and tagged, with `data.field_tags`) as the model was trained.
    let join = |parts: &[&str]| crate::data::join_fields(&columns, parts, &separator, tags);
    let regression = predictor.kind() == TaskKind::Regression;
    explain_joined(fields, &join, max_words, regression, |texts| {
        Ok(predictor
            .predict(texts)?
            .into_iter()
            .map(|p| outputs(&p))
            .collect())
    })
}

/// A prediction's outputs: the class probabilities, or the raw value.
fn outputs(p: &TextPrediction) -> Vec<f64> {
    match p.raw {
        Some(r) => vec![r],
        None => p.probabilities.iter().map(|&v| f64::from(v)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<&str> {
        word_spans(text).iter().map(|&(s, e)| &text[s..e]).collect()
    }

    #[test]
    fn words_keep_inner_apostrophes_and_unicode_letters() {
        assert_eq!(
            words("Don't stop — it's 'great', naïve 10mg!"),
            vec!["Don't", "stop", "it's", "great", "naïve", "10mg"]
        );
        assert!(words("  ...  ").is_empty());
        assert_eq!(words("end"), vec!["end"]);
    }

    #[test]
    fn fields_join_like_the_data_readers() {
        assert_eq!(join_fields(&["a", " ", "b"], " | "), "a | b");
        assert_eq!(join_fields(&["  "], " | "), "  ");
    }

    /// A fake model: probability of "pos" is 0.9 when the joined text holds
    /// "good", else 0.2, and "bad" lowers it by 0.1.
    fn fake(texts: &[String]) -> Result<Vec<Vec<f64>>> {
        Ok(texts
            .iter()
            .map(|t| {
                let ws = words(t);
                let mut p: f64 = if ws.contains(&"good") { 0.9 } else { 0.2 };
                if ws.contains(&"bad") {
                    p -= 0.1;
                }
                vec![1.0 - p, p]
            })
            .collect())
    }

    #[test]
    fn the_driving_word_gets_the_largest_contribution() {
        let e = explain(&["a good drug", "", "bad taste"], " ", 100, false, fake).unwrap();
        assert_eq!(e.class, Some(1));
        assert!((e.value - 0.8).abs() < 1e-12);
        let by_word = |w: &str| e.words.iter().find(|c| c.word == w).unwrap();
        assert!((by_word("good").contribution - 0.7).abs() < 1e-12);
        assert!((by_word("bad").contribution + 0.1).abs() < 1e-12);
        assert_eq!(by_word("drug").contribution, 0.0);
        // Spans point into their own field.
        let bad = by_word("bad").span;
        assert_eq!((bad.field, bad.start, bad.end), (2, 0, 3));
        assert_eq!(e.max_abs(), by_word("good").contribution);
    }

    #[test]
    fn the_word_limit_leaves_the_rest_unexplained() {
        let e = explain(&["one two three"], " ", 2, false, fake).unwrap();
        assert_eq!(e.words.len(), 2);
        assert_eq!(e.unexplained, 1);
    }

    #[test]
    fn regression_contributions_are_value_changes() {
        let e = explain(&["great great awful"], " ", 10, true, |texts| {
            Ok(texts
                .iter()
                .map(|t| {
                    let ws = words(t);
                    let great = ws.iter().filter(|w| **w == "great").count() as f64;
                    let awful = ws.iter().filter(|w| **w == "awful").count() as f64;
                    vec![5.0 + 2.0 * great - 3.0 * awful]
                })
                .collect())
        })
        .unwrap();
        assert_eq!(e.class, None);
        assert_eq!(e.value, 6.0);
        let c: Vec<f64> = e.words.iter().map(|w| w.contribution).collect();
        assert_eq!(c, vec![2.0, 2.0, -3.0]);
    }

    #[test]
    fn a_model_returning_too_few_rows_is_an_error() {
        let err = explain(&["a b"], " ", 10, false, |_| Ok(vec![vec![1.0]])).unwrap_err();
        assert!(err
            .to_string()
            .contains("returned 1 predictions for 3 texts"));
    }
}
