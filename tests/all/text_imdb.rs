//! The text module on the real IMDB data (`/work/shared/data/imdb`).
//!
//! Missing data fails the test when `CI=true`; otherwise the test returns
//! early with a note.

use crate::support;

use std::fs::File;
use std::time::Instant;

use arrow::array::{Array, LargeStringArray, StringArray};
use kerros::data::html::clean;
use kerros::spec::{CleanSpec, Side, TokenizerSpec, VectorizeMode, VectorizeSpec};
use kerros::text::{pad_sequences, Tokenizer, Vectorizer};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// Reads (text, label) of an IMDB split, or `None` (with a note) when absent.
fn read_imdb(split: &str) -> Option<Vec<(String, String)>> {
    let path = support::imdb_data()?
        .join("imdb")
        .join(format!("{split}.parquet"));
    let file = File::open(&path).expect("open parquet");
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet metadata")
        .build()
        .expect("parquet reader");
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.expect("record batch");
        let col = |name: &str| -> Vec<String> {
            let c = batch.column_by_name(name).expect("column");
            if let Some(a) = c.as_any().downcast_ref::<StringArray>() {
                (0..a.len()).map(|i| a.value(i).to_owned()).collect()
            } else if let Some(a) = c.as_any().downcast_ref::<LargeStringArray>() {
                (0..a.len()).map(|i| a.value(i).to_owned()).collect()
            } else {
                panic!("column {name} is {:?}, expected utf8", c.data_type())
            }
        };
        out.extend(col("text").into_iter().zip(col("label")));
    }
    Some(out)
}

#[test]
fn tokenizer_on_first_2000_reviews() {
    let Some(train) = read_imdb("train") else {
        return;
    };
    assert_eq!(train.len(), 25_000);
    let texts: Vec<&str> = train[..2000].iter().map(|(t, _)| t.as_str()).collect();
    let spec = TokenizerSpec {
        num_words: Some(5000),
        ..TokenizerSpec::default()
    };
    let start = Instant::now();
    let tok = Tokenizer::fit(&spec, &texts).unwrap();
    println!("tokenizer fit on 2000 reviews: {:?}", start.elapsed());
    assert_eq!(tok.word_index("the"), Some(1));
    assert_eq!(tok.document_count(), 2000);
    assert_eq!(tok.input_dim(), 5000);
    // Without cleaning, `<br />` leaves the token "br" (a classic IMDB artefact).
    assert!(tok.word_index("br").is_some_and(|i| i < 20));
    // Counts never increase along the index.
    assert!(tok.vocabulary().windows(2).all(|w| w[0].1 >= w[1].1));
    assert!(tok.vocabulary().len() > 20_000);
    let seqs = tok.texts_to_sequences(&texts);
    assert!(seqs.iter().flatten().all(|&i| (1..5000).contains(&i)));
    let longest = seqs.iter().map(Vec::len).max().unwrap();
    let (data, width) = pad_sequences(&seqs, None, Side::Pre, Side::Pre, 0);
    assert_eq!((width, data.len()), (longest, 2000 * longest));
    let (data, width) = pad_sequences(&seqs, Some(200), Side::Post, Side::Pre, 0);
    assert_eq!((width, data.len()), (200, 2000 * 200));
    // A long review keeps its last 200 tokens.
    let (k, s) = seqs
        .iter()
        .enumerate()
        .find(|(_, s)| s.len() > 200)
        .unwrap();
    assert_eq!(&data[k * 200..(k + 1) * 200], &s[s.len() - 200..]);

    // Cleaning removes the tag artefact.
    let both = CleanSpec {
        html_entities: true,
        strip_tags: true,
    };
    let cleaned: Vec<String> = texts.iter().map(|t| clean(t, &both)).collect();
    let tok2 = Tokenizer::fit(&TokenizerSpec::default(), &cleaned).unwrap();
    assert_eq!(tok2.word_index("the"), Some(1));
    assert_eq!(tok2.word_index("br"), None);

    // Speed: the whole training split (25,000 reviews), fit and encode.
    let all: Vec<&str> = train.iter().map(|(t, _)| t.as_str()).collect();
    let start = Instant::now();
    let tok3 = Tokenizer::fit(&TokenizerSpec::default(), &all).unwrap();
    let fit = start.elapsed();
    let start = Instant::now();
    let seqs = tok3.texts_to_sequences(&all);
    println!(
        "tokenizer on {} reviews: fit {fit:?}, texts_to_sequences {:?}, {} words",
        all.len(),
        start.elapsed(),
        tok3.vocabulary().len()
    );
    assert_eq!(tok3.word_index("the"), Some(1));
    assert_eq!(seqs.len(), 25_000);
}

#[test]
fn vectorizer_trigrams_timing() {
    let (Some(train), Some(test)) = (read_imdb("train"), read_imdb("test")) else {
        return;
    };
    let texts: Vec<&str> = train.iter().map(|(t, _)| t.as_str()).collect();
    let targets: Vec<f32> = train
        .iter()
        .map(|(_, l)| if l == "pos" { 1.0 } else { 0.0 })
        .collect();
    let spec = VectorizeSpec {
        mode: VectorizeMode::TfIdf,
        ngrams: 3,
        max_tokens: Some(200_000),
        min_df: 2,
        nb_weighting: true,
        ..VectorizeSpec::default()
    };
    let start = Instant::now();
    let v = Vectorizer::fit(&spec, &texts, Some(&targets)).unwrap();
    let fit = start.elapsed();
    let all: Vec<&str> = texts
        .iter()
        .copied()
        .chain(test.iter().map(|(t, _)| t.as_str()))
        .collect();
    let start = Instant::now();
    let rows = v.transform_many(&all);
    let transform = start.elapsed();
    println!(
        "vectorizer 1-3-grams: fit on {} reviews {fit:?}, transform {} reviews {transform:?}, {} features",
        texts.len(),
        all.len(),
        v.num_features()
    );
    assert_eq!(v.num_features(), 200_000);
    assert_eq!(v.terms()[0], "the");
    assert_eq!(rows.len(), 50_000);
    assert!(rows.iter().all(|r| r.windows(2).all(|w| w[0].0 < w[1].0)));
    // NB ratios point the right way on clear sentiment words.
    let r = |t: &str| v.nb_weights().unwrap()[v.term_index(t).unwrap() as usize];
    assert!(r("excellent") > 0.5 && r("worst") < -0.5);
    assert!(r("waste of time") < 0.0);
}
