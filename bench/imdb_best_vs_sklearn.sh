#!/usr/bin/env bash
# Whole-run wall time of pipelines/imdb_best.yaml (cold cache, load to report)
# against the scikit-learn NB-LR reference, one after the other on this machine.
# Usage: bench/imdb_best_vs_sklearn.sh [DATA_DIR]   (default ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data}
VENV=bench/.venv-sklearn
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q scikit-learn pyarrow scipy numpy
fi
cargo build --release -q
"$VENV/bin/python" bench/sklearn_nblr.py "$DATA"
CACHE=$(mktemp -d)
start=$(date +%s.%N)
./target/release/kerros run pipelines/imdb_best.yaml --data-dir "$DATA" --cache-dir "$CACHE" \
  --reports-dir "$CACHE/reports" --json 2>/dev/null \
  | python3 -c 'import json,sys; m=json.load(sys.stdin)["metrics"]; print("kerros imdb_best: accuracy %.4f kappa %.4f" % (m["accuracy"], m["cohen_kappa"]), end=" ")'
end=$(date +%s.%N)
echo "seconds $(python3 -c "print(f'{$end - $start:.1f}')")"
rm -rf "$CACHE"
