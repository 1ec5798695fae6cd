#!/usr/bin/env bash
# The course pipeline end to end: `kerros run pipelines/imdb_seed.yaml` from a
# cold cache against the same pipeline as a Keras script (bench/keras_seed.py:
# tokenise, pad, 10 epochs with a validation split, evaluate on the test
# set), one after the other on the same machine. Prints each process's wall
# time and peak RSS (GNU time) and kerros's fraction of Keras's wall time.
#
#   bench/seed_vs_keras.sh [--data-dir ../shared/data] [--runs 1]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
data_dir="$root/../shared/data"
[ -d "$data_dir" ] || data_dir=/work/shared/data
runs=1
while [ $# -gt 0 ]; do
  case "$1" in
    --data-dir) data_dir="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -f "$data_dir/imdb/train.parquet" ] || { echo "no $data_dir/imdb/train.parquet" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time, Debian package \`time\`)" >&2; exit 1; }
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet keras "jax[cpu]" pyarrow numpy
fi
(cd "$root" && cargo build --release --quiet)
export KERAS_BACKEND=jax
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-7s %4s %8s %9s  %s\n' side run "wall s" "peak MiB" result
for r in $(seq 1 "$runs"); do
  work=$(mktemp -d)
  (cd "$here" && /usr/bin/time -f '%M %e' -o "$work/keras.time" \
    "$venv/bin/python" keras_seed.py --data-dir "$data_dir" > "$work/keras.out" 2>&1)
  (cd "$root" && /usr/bin/time -f '%M %e' -o "$work/kerros.time" \
    target/release/kerros run pipelines/imdb_seed.yaml --data-dir "$data_dir" \
    --cache-dir "$work/cache" --reports-dir "$work/reports" > "$work/kerros.out" 2>&1)
  for side in keras kerros; do
    read -r kb wall < <(tail -1 "$work/$side.time")
    result=$(awk '$1 == "accuracy" {a = $2} $1 == "cohen_kappa" {k = $2} END {print "accuracy " a ", kappa " k}' "$work/$side.out")
    printf '%-7s %4s %8s %9s  %s\n' "$side" "$r" "$wall" "$(( kb / 1024 ))" "$result"
    eval "${side}_wall=$wall"
  done
  awk -v a="$kerros_wall" -v b="$keras_wall" 'BEGIN { printf "kerros / Keras wall time: %.2f\n", a / b }'
  rm -rf "$work"
done
