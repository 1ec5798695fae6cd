//! "Why this prediction" for the report: the shown examples' words scored
//! by occlusion ([`super::explain`]), and a bag-of-n-gram model's strongest
//! n-grams read from its weights.
//!
//! Cost is bounded by the shown examples, never the test set: at most
//! [`REPORT_MAX_WORDS`] forward passes per shown example (the page cuts
//! example texts at about 600 characters, so more words would never show).

use super::explain::explain_prediction;
use super::predict::Predictor;
use super::stages::encode::TextEncoder;
use crate::report::{Explanations, NgramWeights, ReportData, WordWeight};
use crate::spec::{LayerSpec, TaskKind, VectorizeMode};
use anyhow::{Context, Result};

/// Words scored per shown example.
pub const REPORT_MAX_WORDS: usize = 150;

/// N-grams listed per direction and output.
const TOP_NGRAMS: usize = 15;

/// Explain `data`'s shown examples with `predictor` (the run's model) and,
/// for a bag-of-n-gram model whose only weighted layer is its output, list
/// the n-grams with the largest and smallest weights.
pub fn explain_report(predictor: &Predictor, data: &mut ReportData) -> Result<()> {
    let regression = predictor.kind() == TaskKind::Regression;
    for example in &mut data.examples {
        let e = explain_prediction(predictor, &[example.text.as_str()], REPORT_MAX_WORDS)
            .with_context(|| format!("explaining test example {}", example.id))?;
        example.words = e
            .words
            .iter()
            .filter(|w| !inside_tag(&example.text, w.span.start))
            .map(|w| WordWeight {
                start: w.span.start,
                end: w.span.end,
                contribution: w.contribution,
            })
            .collect();
    }
    let mut method = if regression {
        format!("Each shown example's words are scored by occlusion: the text is predicted again without the word, and the word's contribution is how much the predicted value falls without it (negative: it rises). Up to {REPORT_MAX_WORDS} words per example are scored.")
    } else {
        format!("Each shown example's words are scored by occlusion: the text is predicted again without the word, and the word's contribution is how much the predicted class's probability falls without it (negative: it rises). Up to {REPORT_MAX_WORDS} words per example are scored.")
    };
    let mut explanations = Explanations {
        method: String::new(),
        ngrams: Vec::new(),
        ngram_note: String::new(),
    };
    let mode = predictor.spec().vectorize.mode;
    if mode == VectorizeMode::DocVectors {
        explanations.ngram_note = "This model reads document vectors, whose dimensions stand for no single word or n-gram, so no weight per n-gram says which way it pushes; the marked words in the error analysis show each word's effect instead.".to_string();
    } else if mode != VectorizeMode::Int {
        match ngram_weights(predictor)? {
            Some(tables) => {
                let nb = predictor.spec().vectorize.nb_weighting;
                method.push_str(&format!(
                    " The model is a weighted sum of n-gram features: its output is the sum of each n-gram's value in the text times the weight below{}, plus a bias; the tables list the n-grams with the largest and the most negative weights.",
                    if nb { " (the dense layer's weight × the n-gram's naive-Bayes ratio)" } else { "" }
                ));
                explanations.ngrams = tables;
            }
            None => {
                explanations.ngram_note = "This model has hidden layers between its n-grams and its output, so no single weight per n-gram says which way it pushes; the marked words in the error analysis show each word's effect instead.".to_string();
            }
        }
    }
    explanations.method = method;
    data.explanations = Some(explanations);
    Ok(())
}

/// Whether the word starting at byte `start` is the name of an HTML tag
/// (`br` in IMDB's `<br />`): the page shows the tag as a line break.
fn inside_tag(text: &str, start: usize) -> bool {
    text[..start].ends_with('<')
}

/// Per output, the n-grams with the largest and most negative effective
/// weights, when the model is one dense layer (dropout aside) on n-gram
/// features; `None` for a model with hidden layers.
fn ngram_weights(predictor: &Predictor) -> Result<Option<Vec<NgramWeights>>> {
    let model = predictor.model();
    let weighted: Vec<&LayerSpec> = model
        .specs()
        .iter()
        .filter(|l| !matches!(l, LayerSpec::Dropout(_)))
        .collect();
    if !matches!(weighted.as_slice(), [LayerSpec::Dense(_)]) {
        return Ok(None);
    }
    let TextEncoder::Vectorizer(vectorizer) = predictor.encoder() else {
        return Ok(None);
    };
    let Some(dense) = model.layers().iter().find(|l| l.kind() == "dense") else {
        return Ok(None);
    };
    let Some(kernel) = dense.weights().into_iter().find(|w| w.name == "kernel") else {
        return Ok(None);
    };
    let kernel = kernel
        .var
        .as_tensor()
        .to_dtype(candle_core::DType::F32)?
        .to_vec2::<f32>()?;
    let terms = vectorizer.terms();
    let nb = vectorizer.nb_weights();
    // The kernel is (inputs × units): one row per n-gram.
    if kernel.len() != terms.len() {
        return Ok(None);
    }
    let units = kernel.first().map_or(0, Vec::len);
    let classes = predictor.classes();
    let labels: Vec<(String, String)> = match predictor.kind() {
        TaskKind::Regression => vec![(
            "raise the prediction".to_string(),
            "lower the prediction".to_string(),
        )],
        _ if units == 1 && classes.len() == 2 => vec![(
            format!("towards {}", classes[1]),
            format!("towards {}", classes[0]),
        )],
        _ if units == classes.len() => classes
            .iter()
            .map(|c| (format!("towards {c}"), format!("away from {c}")))
            .collect(),
        _ => return Ok(None),
    };
    let tables = labels
        .into_iter()
        .enumerate()
        .map(|(unit, (up_label, down_label))| {
            let mut weights: Vec<(usize, f64)> = kernel
                .iter()
                .enumerate()
                .map(|(j, row)| {
                    let ratio = nb.and_then(|r| r.get(j)).copied().unwrap_or(1.0);
                    (j, f64::from(row[unit]) * f64::from(ratio))
                })
                .filter(|(_, w)| w.is_finite() && *w != 0.0)
                .collect();
            // Largest first; ties by n-gram so the page is reproducible.
            weights.sort_by(|a, b| b.1.total_cmp(&a.1).then(terms[a.0].cmp(&terms[b.0])));
            let pick = |it: &mut dyn Iterator<Item = &(usize, f64)>| -> Vec<(String, f64)> {
                it.take(TOP_NGRAMS)
                    .map(|&(j, w)| (terms[j].clone(), w))
                    .collect()
            };
            NgramWeights {
                up_label,
                down_label,
                up: pick(&mut weights.iter().filter(|(_, w)| *w > 0.0)),
                down: pick(&mut weights.iter().rev().filter(|(_, w)| *w < 0.0)),
            }
        })
        .collect();
    Ok(Some(tables))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_names_are_not_words() {
        let text = "good<br />bad";
        assert!(inside_tag(text, 5));
        assert!(!inside_tag(text, 0) && !inside_tag(text, 10));
    }
}
