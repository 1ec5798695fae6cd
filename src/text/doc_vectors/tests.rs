use super::*;

/// Two topics: documents of topic 0 use terms 0..10, of topic 1 terms
/// 10..20; terms 20..24 appear everywhere.
fn corpus(n: usize, seed: u64) -> (Vec<Vec<u32>>, Vec<usize>) {
    let mut rng = XorShift::new(seed);
    let mut docs = Vec::new();
    let mut topics = Vec::new();
    for i in 0..n {
        let topic = i % 2;
        let doc: Vec<u32> = (0..30)
            .map(|k| {
                let r = (rng.next_u64() % 10) as u32;
                if k % 3 == 0 {
                    20 + r % 4
                } else {
                    topic as u32 * 10 + r
                }
            })
            .collect();
        docs.push(doc);
        topics.push(topic);
    }
    (docs, topics)
}

fn settings() -> DocVectorSettings {
    DocVectorSettings {
        dim: 16,
        epochs: 20,
        sample: 0.0,
        ..DocVectorSettings::default()
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

#[test]
fn inferred_vectors_of_new_documents_sit_with_their_topic() {
    let (docs, topics) = corpus(200, 1);
    let (model, trained) = DocVectorModel::train(&docs, 24, settings(), 7);
    let dim = model.dim();
    let centroid = |topic: usize| -> Vec<f32> {
        let mut c = vec![0.0; dim];
        for (v, _) in trained
            .chunks(dim)
            .zip(&topics)
            .filter(|(_, &t)| t == topic)
        {
            c.iter_mut().zip(v).for_each(|(a, b)| *a += b);
        }
        c
    };
    let (c0, c1) = (centroid(0), centroid(1));
    let (new_docs, new_topics) = corpus(40, 99);
    let inferred = model.infer_many(&new_docs);
    let mut right = 0;
    for (v, &t) in inferred.chunks(dim).zip(&new_topics) {
        let nearer = if cosine(v, &c0) > cosine(v, &c1) {
            0
        } else {
            1
        };
        right += (nearer == t) as usize;
    }
    assert!(
        right >= 38,
        "{right} of 40 new documents nearer their topic"
    );
}

#[test]
fn training_and_inference_are_reproducible_and_batch_independent() {
    let (docs, _) = corpus(60, 3);
    let s = DocVectorSettings {
        sample: 1e-2,
        ..settings()
    };
    let (a, va) = DocVectorModel::train(&docs, 24, s, 5);
    let (b, vb) = DocVectorModel::train(&docs, 24, s, 5);
    assert_eq!(a.outputs(), b.outputs());
    assert_eq!(va, vb);
    let (c, _) = DocVectorModel::train(&docs, 24, s, 6);
    assert_ne!(
        a.outputs(),
        c.outputs(),
        "another seed trains other vectors"
    );
    // A document's vector does not depend on the batch or thread it is in.
    let all = a.infer_many(&docs);
    let one = a.infer(&docs[17]);
    assert_eq!(&all[17 * s.dim..18 * s.dim], one.as_slice());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    assert_eq!(pool.install(|| a.infer_many(&docs)), all);
    // Rebuilt from its stored parts, the model infers the same vectors.
    let rebuilt = DocVectorModel::from_parts(s, 5, a.outputs().to_vec(), a.counts());
    assert_eq!(rebuilt.infer(&docs[3]), a.infer(&docs[3]));
}

#[test]
fn empty_documents_and_unseen_terms_only_keep_the_starting_vector() {
    let (docs, _) = corpus(20, 4);
    // Term 24 is in the vocabulary but never occurs: its output stays zero.
    let (model, _) = DocVectorModel::train(&docs, 25, settings(), 1);
    assert!(model.outputs()[24 * 16..].iter().all(|&x| x == 0.0));
    let v = model.infer(&[]);
    assert_eq!(v.len(), 16);
    assert!(v.iter().all(|x| x.abs() <= 0.5 / 16.0));
}

#[test]
fn subsampling_follows_word2vec_formula() {
    // Term 0 makes up 90% of 1,000 occurrences; with sample 0.01 its keep
    // probability is (sqrt(0.9/0.01) + 1) * 0.01 / 0.9.
    let counts = [900u64, 100];
    let (keep, _) = sampling(&counts, 0.01);
    let f = 0.9f64;
    let expected = (((f / 0.01).sqrt() + 1.0) * 0.01 / f) as f32;
    assert!(
        (keep[0] - expected).abs() < 1e-6,
        "{} vs {expected}",
        keep[0]
    );
    assert_eq!(sampling(&counts, 0.0).0, vec![1.0, 1.0]);
}

#[test]
fn the_simd_path_and_the_portable_path_agree() {
    let (docs, _) = corpus(30, 8);
    let (model, _) = DocVectorModel::train(&docs, 24, settings(), 2);
    let mut rng = XorShift::new(11);
    let mut fast = initial_vector(&mut rng, 16);
    let mut portable = fast.clone();
    let (mut r1, mut r2) = (XorShift::new(1), XorShift::new(1));
    let infer = |vector: &mut Vec<f32>, rng: &mut XorShift, arch: pulp::Arch| {
        arch.dispatch(kernels::Infer {
            doc: &docs[0],
            vector,
            outputs: &model.outputs,
            sampler: &model.sampler,
            rng,
        })
    };
    infer(&mut fast, &mut r1, pulp::Arch::new());
    infer(&mut portable, &mut r2, pulp::Arch::Scalar);
    for (a, b) in fast.iter().zip(&portable) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
}
