"""Peer for bench/doc_vectors_vs_gensim.sh: the same document vectors as
kerros's `vectorize.mode: doc_vectors` (PV-DBOW predicting each text's 1-3-grams,
"DV-ngram") with gensim's Doc2Vec(dm=0), on the files the script wrote.

    python gensim_doc_vectors.py DIR write N U   # DIR/{train,test,unl}.csv + spec
    python gensim_doc_vectors.py DIR gensim E    # train, infer, score

The texts are standardised as kerros's default (`<br />` to a space, lower
case, Keras's punctuation stripped, split on whitespace). gensim trains on
the training and unlabelled texts, every text's vector is then inferred, and
a logistic regression on the training vectors is scored on the test texts."""
import csv
import re
import sys
import time

import numpy as np

DIR, STEP = sys.argv[1], sys.argv[2]
PUNCT = re.compile(r"""[!"#$%&()\*\+,\-\./:;<=>?@\[\\\]^_`{|}~']""")


def read(name):
    with open(f"{DIR}/{name}.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r.get("label") for r in rows]


def grams(text):
    words = PUNCT.sub("", text.replace("<br />", " ").lower()).split()
    out = list(words)
    out += [" ".join(p) for p in zip(words, words[1:])]
    out += [" ".join(p) for p in zip(words, words[1:], words[2:])]
    return out


if STEP == "write":
    import pyarrow.parquet as pq

    data, n, u = sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
    rng = np.random.default_rng(7)
    train = pq.read_table(f"{data}/imdb/train.parquet").to_pydict()
    test = pq.read_table(f"{data}/imdb/test.parquet").to_pydict()
    unsup = pq.read_table(f"{data}/imdb/unsup.parquet").column("text").to_pylist()
    for name, table, k in [("train", train, n), ("test", test, n)]:
        idx = rng.permutation(len(table["text"]))[:k]
        with open(f"{DIR}/{name}.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["text", "label"])
            w.writerows([table["text"][i], table["label"][i]] for i in idx)
    with open(f"{DIR}/unl.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text"])
        w.writerows([t] for t in unsup[:u])
elif STEP == "gensim":
    from gensim.models.doc2vec import Doc2Vec, TaggedDocument
    from sklearn.linear_model import LogisticRegression

    epochs = int(sys.argv[3])
    train, y = read("train")
    test, y_test = read("test")
    unl, _ = read("unl")
    start = time.time()
    docs = [grams(t) for t in train + unl]
    corpus = [TaggedDocument(d, [i]) for i, d in enumerate(docs)]
    model = Doc2Vec(dm=0, vector_size=100, negative=5, hs=0, min_count=2, sample=1e-4,
                    epochs=epochs, workers=2, alpha=0.05, min_alpha=0.0001, seed=1,
                    max_final_vocab=400000)
    model.build_vocab(corpus)
    model.train(corpus, total_examples=len(corpus), epochs=model.epochs)
    trained = time.time() - start
    start = time.time()
    x = np.array([model.infer_vector(grams(t)) for t in train])
    x_test = np.array([model.infer_vector(grams(t)) for t in test])
    inferred = time.time() - start
    clf = LogisticRegression(C=1.0, max_iter=3000).fit(x, y)
    acc = (clf.predict(x_test) == np.array(y_test)).mean()
    print(f"gensim  train {trained:7.1f} s  infer {inferred:6.1f} s  "
          f"({len(train) + len(test)} texts)  test accuracy {acc:.4f}")
