#!/usr/bin/env bash
# Train the same models on the same encoded IMDB reviews in Keras (JAX backend,
# CPU) and in kerros, model by model (Keras, then kerros), and print examples/second and the
# kerros / Keras ratio. Usage (from the repo root or bench/):
#   bench/keras_vs_kerros.sh [--models course,lstm,gru,bilstm,cnn] [--epochs 4] [--n 20000]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
models="course,lstm,gru,bilstm,cnn"; epochs=4; n=20000
while [ $# -gt 0 ]; do
  case "$1" in
    --models) models="$2"; shift 2 ;;
    --epochs) epochs="$2"; shift 2 ;;
    --n) n="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
data="$root/../shared/data/imdb/train.parquet"
[ -f "$data" ] || data=/work/shared/data/imdb/train.parquet
[ -f "$data" ] || { echo "IMDB train.parquet not found (../shared/data/imdb)" >&2; exit 1; }
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet keras "jax[cpu]" pyarrow numpy
fi
enc="$root/target/bench-data/imdb-$n"
log="$root/target/bench-data/run-$(date +%s)"
mkdir -p "$log"
export KERAS_BACKEND=jax
# Model by model, Keras then kerros right after it: the machine is shared
# and its speed drifts over minutes (two runs in the old order, all Keras
# models then all kerros models, caught a stretch where kerros ran at half
# the speed it had alone minutes before and after), so each pair is measured
# close together. kerros is built once, first.
(cd "$root" && cargo bench --quiet --bench recurrent --no-run)
for m in ${models//,/ }; do
  echo "== $m: Keras (JAX, CPU) =="
  "$venv/bin/python" "$here/keras_models.py" --data "$data" --out "$enc" --n "$n" \
    --epochs "$epochs" --models "$m" | tee -a "$log/keras.txt"
  echo "== $m: kerros =="
  (cd "$root" && cargo bench --quiet --bench recurrent -- --data "$enc" --epochs "$epochs" \
    --models "$m") | tee -a "$log/kerros.txt"
done
echo
printf '%-8s %14s %14s %8s\n' model "keras ex/s" "kerros ex/s" ratio
for m in ${models//,/ }; do
  k=$(awk -v m="$m" '$1=="RESULT" && $2=="keras" && $3==m {print $4}' "$log/keras.txt")
  r=$(awk -v m="$m" '$1=="RESULT" && $2==m {print $3}' "$log/kerros.txt")
  ratio=$(awk -v a="$r" -v b="$k" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
  printf '%-8s %14s %14s %8s\n' "$m" "$k" "$r" "$ratio"
done
