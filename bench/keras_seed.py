"""The course pipeline (`pipelines/imdb_seed.yaml`) written as a Keras script,
for `bench/seed_vs_keras.sh`: the whole process is timed, as a student would
run it.

Reads the 25,000 training and 25,000 test reviews, fits the Keras Tokenizer
semantics on the training texts (`keras_models.encode`'s rules: lower-case,
default filters, split on spaces, ids by descending count, num_words 10,000),
pads / truncates to 200 ('pre'), holds out 20 % of the training reviews for
validation (seeded, stratified, like the spec), trains Embedding(10000, 16) →
Flatten → Dense(1) with Adam(1e-3) and binary cross-entropy from logits for 10
epochs of batch 512, and evaluates on the test reviews. Prints `accuracy` and
`cohen_kappa` of the test set.
"""

import argparse
import os
from collections import OrderedDict

import numpy as np
import pyarrow.parquet as pq

from keras_models import words


def fit_index(docs):
    counts = OrderedDict()
    for d in docs:
        for w in d:
            counts[w] = counts.get(w, 0) + 1
    order = sorted(counts.items(), key=lambda kv: kv[1], reverse=True)
    return {w: i + 1 for i, (w, _) in enumerate(order)}


def to_sequences(docs, index, num_words, maxlen):
    out = np.zeros((len(docs), maxlen), dtype=np.int32)
    for r, d in enumerate(docs):
        seq = [index[w] for w in d if w in index and index[w] < num_words][-maxlen:]
        if seq:
            out[r, maxlen - len(seq):] = seq
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default="../shared/data")
    a = ap.parse_args()
    import keras

    keras.utils.set_random_seed(42)
    read = lambda split: pq.read_table(
        os.path.join(a.data_dir, "imdb", f"{split}.parquet"), columns=["text", "label"]
    ).to_pydict()
    train, test = read("train"), read("test")
    train_docs = [words(t) for t in train["text"]]
    index = fit_index(train_docs)
    x = to_sequences(train_docs, index, 10000, 200)
    y = np.array([l == "pos" for l in train["label"]], dtype=np.float32)
    x_test = to_sequences([words(t) for t in test["text"]], index, 10000, 200)
    y_test = np.array([l == "pos" for l in test["label"]], dtype=np.float32)

    # 20 % validation, stratified and seeded.
    rng = np.random.default_rng(42)
    val = np.zeros(len(y), dtype=bool)
    for c in (0.0, 1.0):
        rows = np.flatnonzero(y == c)
        val[rng.choice(rows, size=round(0.2 * len(rows)), replace=False)] = True

    model = keras.Sequential([
        keras.Input((200,), dtype="int32"),
        keras.layers.Embedding(10000, 16),
        keras.layers.Flatten(),
        keras.layers.Dense(1),
    ])
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(x[~val], y[~val], batch_size=512, epochs=10, shuffle=True,
              validation_data=(x[val], y[val]), verbose=0)
    pred = (model.predict(x_test, batch_size=1024, verbose=0)[:, 0] > 0).astype(np.float32)
    acc = float((pred == y_test).mean())
    # Cohen's kappa from the 2 x 2 confusion matrix.
    p_yes = pred.mean() * y_test.mean() + (1 - pred.mean()) * (1 - y_test.mean())
    kappa = (acc - p_yes) / (1 - p_yes)
    print(f"accuracy {acc:.5f}")
    print(f"cohen_kappa {kappa:.5f}")


if __name__ == "__main__":
    os.environ.setdefault("KERAS_BACKEND", "jax")
    main()
