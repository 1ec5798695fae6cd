"""Keras side of the kerros-vs-Keras benchmark.

1. Encodes the first N reviews of ../shared/data/imdb/train.parquet with the
   Keras Tokenizer semantics (lower-case, Keras's default filters replaced by
   spaces, split on spaces; ids by descending word count, ties by first
   occurrence; num_words keeps ids below it) and pad_sequences (maxlen, 'pre'
   padding and truncation), and writes them for the Rust bench
   (ids.u32, labels.f32, meta.json).
2. Trains the same models in Keras (KERAS_BACKEND=jax) and prints per-epoch
   examples/second and a `RESULT keras <model> <examples/s>` line (steady
   state: the median epoch after the first, which includes compilation).

Keras 3 has no Tokenizer any more, so its documented behaviour is
re-implemented here in a few lines.
"""

import argparse
import json
import os
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def words(text):
    table = str.maketrans({c: " " for c in FILTERS})
    return [w for w in text.lower().translate(table).split(" ") if w]


def encode(texts, num_words, maxlen):
    counts = OrderedDict()
    docs = [words(t) for t in texts]
    for d in docs:
        for w in d:
            counts[w] = counts.get(w, 0) + 1
    # Keras: sorted by count, descending; Python's sort is stable (first occurrence wins ties).
    order = sorted(counts.items(), key=lambda kv: kv[1], reverse=True)
    index = {w: i + 1 for i, (w, _) in enumerate(order)}
    out = np.zeros((len(docs), maxlen), dtype=np.uint32)
    for r, d in enumerate(docs):
        seq = [index[w] for w in d if index[w] < num_words]
        seq = seq[-maxlen:]  # truncating='pre'
        if seq:
            out[r, maxlen - len(seq):] = seq  # padding='pre'
    return out


def steady_seconds(times):
    """Median epoch time after the first (which includes XLA compilation)."""
    rest = sorted(times[1:]) or times
    m = len(rest) // 2
    return rest[m] if len(rest) % 2 else (rest[m - 1] + rest[m]) / 2


def build(name, vocab, maxlen):
    import keras
    from keras import layers

    body = {
        "course": [layers.Flatten(), layers.Dense(1)],
        "lstm": [layers.LSTM(32), layers.Dense(1)],
        "gru": [layers.GRU(32), layers.Dense(1)],
        "simple_rnn": [layers.SimpleRNN(32), layers.Dense(1)],
        "bilstm": [layers.Bidirectional(layers.LSTM(32)), layers.Dense(1)],
        "cnn": [
            layers.Conv1D(32, 7, activation="relu"),
            layers.MaxPooling1D(5),
            layers.Conv1D(32, 7, activation="relu"),
            layers.GlobalMaxPooling1D(),
            layers.Dense(1),
        ],
    }[name]
    model = keras.Sequential(
        [keras.Input((maxlen,), dtype="int32"), layers.Embedding(vocab, 16)] + body
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data/imdb/train.parquet")
    ap.add_argument("--out", required=True, help="folder for ids.u32, labels.f32, meta.json")
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--maxlen", type=int, default=200)
    ap.add_argument("--vocab", type=int, default=10000)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--models", default="course,lstm,gru,bilstm,cnn")
    ap.add_argument("--encode-only", action="store_true")
    a = ap.parse_args()

    table = pq.read_table(a.data, columns=["text", "label"]).to_pydict()
    texts, labels = table["text"][: a.n], table["label"][: a.n]
    x = encode(texts, a.vocab, a.maxlen)
    y = np.array([1.0 if l == "pos" else 0.0 for l in labels], dtype=np.float32)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    x.astype("<u4").tofile(out / "ids.u32")
    y.astype("<f4").tofile(out / "labels.f32")
    (out / "meta.json").write_text(
        json.dumps({"n": len(y), "maxlen": a.maxlen, "vocab": a.vocab})
    )
    print(f"encoded {len(y)} reviews into {out}")
    if a.encode_only:
        return

    import keras

    print(f"keras {keras.__version__}, backend {keras.backend.backend()}")
    xi = x.astype(np.int32)
    for name in a.models.split(","):
        batch = 512 if name == "course" else 128
        model = build(name, a.vocab, a.maxlen)
        times = []

        class Timer(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.t = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                times.append(time.perf_counter() - self.t)

        h = model.fit(xi, y, batch_size=batch, epochs=a.epochs, shuffle=True,
                      verbose=0, callbacks=[Timer()])
        for e, s in enumerate(times):
            print(f"keras {name} epoch {e + 1}: {s:.2f} s, {len(y) / s:.0f} examples/s, "
                  f"loss {h.history['loss'][e]:.4f}, accuracy {h.history['accuracy'][e]:.4f}")
        print(f"RESULT keras {name} {len(y) / steady_seconds(times):.0f}", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("KERAS_BACKEND", "jax")
    main()
