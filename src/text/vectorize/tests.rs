//! Tests of the n-gram vectorizer.

use super::*;

const DOCS: [&str; 3] = ["The cat sat.", "the CAT ran", "a dog<br />ran"];

fn spec(mode: VectorizeMode, ngrams: usize) -> VectorizeSpec {
    VectorizeSpec {
        mode,
        ngrams,
        ..VectorizeSpec::default()
    }
}

fn close(a: f32, b: f64) -> bool {
    (a as f64 - b).abs() < 1e-6
}

#[test]
fn standardisation_modes() {
    assert_eq!(
        standardize(
            "It's <b>GREAT</b>, (really)!",
            Standardize::LowerAndStripPunctuation,
            true
        ),
        "its  great  really"
    );
    assert_eq!(
        standardize("It's <b>GREAT</b>", Standardize::Lower, false),
        "it's <b>great</b>"
    );
    assert_eq!(standardize("A<br/>B.", Standardize::None, true), "A B.");
    // Every character of Keras's default strip regex is removed.
    assert_eq!(
        standardize(
            "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'x",
            Standardize::LowerAndStripPunctuation,
            false
        ),
        "x"
    );
}

#[test]
fn bigram_vocabulary_by_df_then_term() {
    let v = Vectorizer::fit(&spec(VectorizeMode::MultiHot, 2), &DOCS, None).unwrap();
    // df 2: cat, ran, the, "the cat"; df 1 in string order.
    let want = [
        "cat", "ran", "the", "the cat", "a", "a dog", "cat ran", "cat sat", "dog", "dog ran", "sat",
    ];
    assert_eq!(v.terms(), want);
    assert_eq!(v.document_frequencies(), [2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1]);
    assert_eq!(v.num_docs(), 3);
    assert_eq!(v.term_index("dog ran"), Some(9));
    assert_eq!(v.term_index("ran dog"), None);
    // Unknown words break n-grams: "cat fish ran" has no "cat ran".
    assert_eq!(
        v.transform("The cat, fish ran. The cat!"),
        vec![(0, 1.0), (1, 1.0), (2, 1.0), (3, 1.0)]
    );
}

#[test]
fn min_df_and_max_tokens() {
    let s = VectorizeSpec {
        min_df: 2,
        ..spec(VectorizeMode::Count, 2)
    };
    let v = Vectorizer::fit(&s, &DOCS, None).unwrap();
    assert_eq!(v.terms(), ["cat", "ran", "the", "the cat"]);
    let s = VectorizeSpec {
        max_tokens: Some(3),
        ..spec(VectorizeMode::Count, 2)
    };
    let v = Vectorizer::fit(&s, &DOCS, None).unwrap();
    assert_eq!(v.terms(), ["cat", "ran", "the"]);
    assert_eq!(v.transform("the the cat dog"), vec![(0, 1.0), (2, 2.0)]);
    let s = VectorizeSpec {
        max_tokens: Some(5),
        ..spec(VectorizeMode::Count, 2)
    };
    let v = Vectorizer::fit(&s, &DOCS, None).unwrap();
    assert_eq!(v.terms(), ["cat", "ran", "the", "the cat", "a"]);
    let s = VectorizeSpec {
        max_tokens: Some(0),
        ..spec(VectorizeMode::Count, 2)
    };
    assert_eq!(Vectorizer::fit(&s, &DOCS, None).unwrap().num_features(), 0);
}

#[test]
fn tf_idf_hand_computed() {
    let v = Vectorizer::fit(&spec(VectorizeMode::TfIdf, 1), &DOCS, None).unwrap();
    assert_eq!(v.terms(), ["cat", "ran", "the", "a", "dog", "sat"]);
    // idf = ln(1 + 3 / (1 + df)): df 2 -> ln 2, df 1 -> ln 2.5.
    let row = v.transform("the THE cat sat sat sat");
    let want = [
        (0, 1.0 * 2f64.ln()),
        (2, 2.0 * 2f64.ln()),
        (5, 3.0 * 2.5f64.ln()),
    ];
    assert_eq!(row.len(), 3);
    for ((j, x), (wj, wx)) in row.iter().zip(want) {
        assert_eq!(*j, wj);
        assert!(close(*x, wx), "feature {j}: {x} vs {wx}");
    }
    assert!(close(v.idf()[3], 2.5f64.ln()));
}

#[test]
fn nb_ratios_hand_computed() {
    let s = VectorizeSpec {
        nb_weighting: true,
        ..spec(VectorizeMode::MultiHot, 1)
    };
    // Vocabulary: cat ran the a dog sat. Positives: docs 0 and 1.
    // p = 1 + [2,1,2,0,0,1] = [3,2,3,1,1,2], |p| = 12
    // q = 1 + [0,1,0,1,1,0] = [1,2,1,2,2,1], |q| = 9
    let v = Vectorizer::fit(&s, &DOCS, Some(&[1.0, 1.0, 0.0])).unwrap();
    let r = v.nb_weights().unwrap();
    let want = [
        (3.0 / 12.0) / (1.0 / 9.0),
        (2.0 / 12.0) / (2.0 / 9.0),
        (3.0 / 12.0) / (1.0 / 9.0),
        (1.0 / 12.0) / (2.0 / 9.0),
        (1.0 / 12.0) / (2.0 / 9.0),
        (2.0 / 12.0) / (1.0 / 9.0),
    ];
    for (j, w) in want.iter().enumerate() {
        assert!(close(r[j], f64::ln(*w)), "r[{j}] = {} vs ln {w}", r[j]);
    }
    // Binarised feature times r; repeats do not count.
    let row = v.transform("cat cat a");
    assert_eq!(row.len(), 2);
    assert!(row[0].0 == 0 && close(row[0].1, 2.25f64.ln()));
    assert!(row[1].0 == 3 && close(row[1].1, 0.375f64.ln()));
}

#[test]
fn nb_needs_binary_targets() {
    let s = VectorizeSpec {
        nb_weighting: true,
        ..spec(VectorizeMode::MultiHot, 1)
    };
    assert_eq!(
        Vectorizer::fit(&s, &DOCS, None).unwrap_err(),
        TextError::MissingTargets
    );
    assert_eq!(
        Vectorizer::fit(&s, &DOCS, Some(&[1.0, 2.0, 0.0])).unwrap_err(),
        TextError::NonBinaryTarget {
            index: 1,
            value: 2.0
        }
    );
    assert_eq!(
        Vectorizer::fit(&s, &DOCS, Some(&[1.0])).unwrap_err(),
        TextError::TargetCount {
            texts: 3,
            targets: 1
        }
    );
    assert_eq!(
        Vectorizer::fit(&spec(VectorizeMode::Int, 1), &DOCS, None).unwrap_err(),
        TextError::NotBagMode
    );
    assert_eq!(
        Vectorizer::fit(&spec(VectorizeMode::Count, 0), &DOCS, None).unwrap_err(),
        TextError::NgramsRange(0)
    );
}

#[test]
fn five_grams() {
    let v = Vectorizer::fit(
        &spec(VectorizeMode::Count, 5),
        &["a b c d e", "b c d e f"],
        None,
    )
    .unwrap();
    assert_eq!(
        v.term_index("b c d e")
            .map(|j| v.document_frequencies()[j as usize]),
        Some(2)
    );
    assert_eq!(
        v.term_index("a b c d e")
            .map(|j| v.document_frequencies()[j as usize]),
        Some(1)
    );
    // 5 + 4 + 3 + 2 + 1 per doc, shared: b c d e and its 10 sub-grams.
    assert_eq!(v.num_features(), 15 + 15 - 10);
    // The 15 n-grams of "b c d e f"; "f f" is not in the vocabulary.
    let row = v.transform("b c d e f f");
    assert_eq!(row.len(), 15);
    let f = v.term_index("f").unwrap();
    assert_eq!(row.iter().find(|(j, _)| *j == f), Some(&(f, 2.0)));
}

#[test]
fn from_parts_rebuilds_identically_and_checks() {
    let s = VectorizeSpec {
        nb_weighting: true,
        ..spec(VectorizeMode::TfIdf, 3)
    };
    let v = Vectorizer::fit(&s, &DOCS, Some(&[1.0, 0.0, 1.0])).unwrap();
    let r = Vectorizer::from_parts(&s, v.parts().clone()).unwrap();
    assert_eq!(r.parts(), v.parts());
    let probe = ["the cat sat on a dog", "ran ran ran", ""];
    assert_eq!(r.transform_many(&probe), v.transform_many(&probe));
    let mut bad = v.parts().clone();
    bad.idf.pop();
    assert!(matches!(
        Vectorizer::from_parts(&s, bad),
        Err(TextError::InvalidParts(_))
    ));
    let mut dup = v.parts().clone();
    dup.terms[1] = dup.terms[0].clone();
    assert!(Vectorizer::from_parts(&s, dup).is_err());
    let no_nb = VectorizeSpec {
        nb_weighting: false,
        ..s
    };
    assert!(Vectorizer::from_parts(&no_nb, v.into_parts()).is_err());
}

#[test]
fn empty_inputs() {
    let none: [&str; 0] = [];
    let v = Vectorizer::fit(&spec(VectorizeMode::Count, 3), &none, None).unwrap();
    assert_eq!((v.num_features(), v.num_docs()), (0, 0));
    assert_eq!(v.transform("anything at all"), vec![]);
    let v = Vectorizer::fit(&spec(VectorizeMode::Count, 3), &["", "  ", "<br />"], None).unwrap();
    assert_eq!((v.num_features(), v.num_docs()), (0, 3));
    let t = crate::text::Tokenizer::fit(&crate::spec::TokenizerSpec::default(), &none).unwrap();
    assert_eq!((t.vocabulary().len(), t.input_dim()), (0, 1));
}

/// Reference vocabulary by brute force: strings for every n-gram.
fn naive_vocabulary(docs: &[String], spec: &VectorizeSpec) -> Vec<(String, u64)> {
    let mut df: std::collections::HashMap<String, u64> = Default::default();
    for d in docs {
        let s = standardize(d, spec.standardize, spec.strip_html);
        let w: Vec<&str> = s.split_whitespace().collect();
        let mut seen = std::collections::HashSet::new();
        for n in 1..=spec.ngrams {
            for g in w.windows(n) {
                seen.insert(g.join(" "));
            }
        }
        for g in seen {
            *df.entry(g).or_default() += 1;
        }
    }
    let mut v: Vec<(String, u64)> = df
        .into_iter()
        .filter(|(_, c)| *c >= spec.min_df as u64)
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    if let Some(k) = spec.max_tokens {
        v.truncate(k);
    }
    v
}

#[test]
fn pruned_counting_matches_brute_force() {
    // Deterministic skewed corpus over a small alphabet, many documents
    // (several interning chunks), so that n-grams repeat and ties occur.
    let alphabet: Vec<String> = (0..24).map(|i| format!("w{i}")).collect();
    let mut x: u64 = 12345;
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as usize
    };
    let docs: Vec<String> = (0..400)
        .map(|_| {
            let len = 1 + next() % 25;
            (0..len)
                .map(|_| {
                    let r = next() % 1000;
                    // Skew: low word ids much more likely.
                    alphabet[(r * r / 1000) * 24 / 1000].as_str()
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    for ngrams in 1..=4 {
        for min_df in [1, 2, 7] {
            for max_tokens in [None, Some(1), Some(10), Some(57), Some(400)] {
                let s = VectorizeSpec {
                    ngrams,
                    min_df,
                    max_tokens,
                    ..spec(VectorizeMode::Count, 1)
                };
                let v = Vectorizer::fit(&s, &docs, None).unwrap();
                let got: Vec<(String, u64)> = v
                    .terms()
                    .iter()
                    .cloned()
                    .zip(v.document_frequencies().iter().copied())
                    .collect();
                assert_eq!(
                    got,
                    naive_vocabulary(&docs, &s),
                    "ngrams {ngrams} min_df {min_df} max_tokens {max_tokens:?}"
                );
                // Count rows agree with brute-force counting.
                let d = &docs[3];
                let w: Vec<&str> = d.split_whitespace().collect();
                let mut want: Vec<(u32, f32)> = Vec::new();
                for n in 1..=ngrams {
                    for g in w.windows(n) {
                        if let Some(j) = v.term_index(&g.join(" ")) {
                            want.push((j, 1.0));
                        }
                    }
                }
                want.sort_by_key(|p| p.0);
                let mut merged: Vec<(u32, f32)> = Vec::new();
                for (j, c) in want {
                    match merged.last_mut() {
                        Some((l, m)) if *l == j => *m += c,
                        _ => merged.push((j, c)),
                    }
                }
                assert_eq!(v.transform(d), merged);
            }
        }
    }
}

#[test]
fn fit_term_sequences_matches_fit_then_term_sequence() {
    let s = VectorizeSpec {
        min_df: 1,
        ..spec(VectorizeMode::DocVectors, 2)
    };
    let (v, sequences) = Vectorizer::fit_term_sequences(&s, &DOCS).unwrap();
    let fitted = Vectorizer::fit(&s, &DOCS, None).unwrap();
    assert_eq!(v.terms(), fitted.terms());
    assert_eq!(v.document_frequencies(), fitted.document_frequencies());
    for (text, sequence) in DOCS.iter().zip(&sequences) {
        assert_eq!(sequence, &fitted.term_sequence(text), "{text}");
    }
    // "the cat sat": the, cat, sat, then the bigrams in text order.
    let id = |t: &str| v.terms().iter().position(|x| x == t).unwrap() as u32;
    assert!(sequences[0].contains(&id("the cat")));
    assert!(
        sequences[2].contains(&id("dog ran")),
        "<br /> became a space"
    );
}
