#!/usr/bin/env bash
# Document vectors (`vectorize.mode: doc_vectors`) against gensim's
# Doc2Vec(dm=0) on the same texts and settings, one after the other on this
# machine: training time (train + unlabelled texts), inference time (train +
# test texts) and the test accuracy of a linear model on the vectors.
# Usage: bench/doc_vectors_vs_gensim.sh [DATA_DIR] [N] [U] [EPOCHS]
#   N training and N test reviews (default 5000), U unlabelled (default 10000),
#   EPOCHS training passes (default 5); DATA_DIR default ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data}
N=${2:-5000}
U=${3:-10000}
EPOCHS=${4:-5}
VENV=bench/.venv-gensim
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q gensim scikit-learn pyarrow numpy
fi
cargo build --release -q
WORK=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
"$VENV/bin/python" bench/gensim_doc_vectors.py "$WORK" write "$EPOCHS" "$DATA" "$N" "$U"
# kerros: the same settings; validation only stops the classifier's training.
cat > "$WORK/spec.yaml" <<SPEC
name: dv_bench
seed: 1
data:
  train: train.csv
  test: test.csv
  validation: {fraction: 0.1}
  unlabelled: unl.csv
vectorize:
  mode: doc_vectors
  ngrams: 3
  max_tokens: 400000
  min_df: 2
  doc_vectors: {dim: 100, epochs: $EPOCHS, negative: 5}
model:
  layers:
    - dense: {units: 1}
train:
  optimizer: {name: adam, learning_rate: 0.005}
  epochs: 40
  batch_size: 64
  early_stopping: {monitor: val_loss, patience: 3, restore_best_weights: true}
SPEC
./target/release/kerros run "$WORK/spec.yaml" --cache-dir "$WORK/cache" \
  --reports-dir "$WORK/reports" --json > "$WORK/kerros.json" 2> "$WORK/kerros.log"
python3 - "$WORK" <<'PY'
import json, re, sys
d = sys.argv[1]
log = open(f"{d}/kerros.log").read()
secs = lambda stage: float(re.search(rf"^(?:\[\S+\] )?{stage}\s+ran\s+\S+ in ([0-9.]+)s", log, re.M).group(1))
acc = json.load(open(f"{d}/kerros.json"))["metrics"]["accuracy"]
print(f"kerros  train {secs('vocabulary'):7.1f} s  infer {secs('encode'):6.1f} s  "
      f"(train, validation and test texts)  test accuracy {acc:.4f}")
PY
"$VENV/bin/python" bench/gensim_doc_vectors.py "$WORK" gensim "$EPOCHS"
