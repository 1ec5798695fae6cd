#!/usr/bin/env bash
# Peak memory (maximum RSS, from GNU time) and wall time of a cold run of each
# bundled pipeline: a fresh cache and reports folder per pipeline, so every
# stage runs. Pipelines are run one after the other.
#
#   bench/pipeline_memory.sh [--data-dir ../shared/data] [--binary target/release/kerros]
#                            [--timeout 180] [pipelines/NAME.yaml ...]
#
# A pipeline still running after `--timeout` seconds is stopped and reported
# as such (its peak so far is not a whole-run figure).
set -euo pipefail
cd "$(dirname "$0")/.."

data_dir=../shared/data
[ -d "$data_dir" ] || data_dir=/work/shared/data
binary=target/release/kerros
limit=180
specs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --data-dir) data_dir=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --timeout) limit=$2; shift 2 ;;
    *) specs+=("$1"); shift ;;
  esac
done
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time, Debian package \`time\`)" >&2; exit 1; }
[ -x "$binary" ] || cargo build --release --quiet
[ ${#specs[@]} -gt 0 ] || specs=(pipelines/*.yaml)

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-36s %10s %9s  %s\n' pipeline "peak MiB" "wall s" result
for spec in "${specs[@]}"; do
  work=$(mktemp -d)
  status=0
  timeout "$limit" /usr/bin/time -f '%M %e' -o "$work/time.txt" \
    "$binary" run "$spec" --data-dir "$data_dir" --cache-dir "$work/cache" \
    --reports-dir "$work/reports" > "$work/out.txt" 2>&1 || status=$?
  if [ "$status" = 124 ]; then
    result="stopped after ${limit} s"
    peak="-"; wall="> $limit"
  else
    read -r kb wall < <(tail -1 "$work/time.txt")
    peak=$(( kb / 1024 ))
    if [ "$status" = 0 ]; then
      result=$(awk '$1 == "accuracy" {a = $2} $1 == "cohen_kappa" {k = $2} END {if (a != "") print "accuracy " a ", kappa " k; else print "ok"}' "$work/out.txt")
    else
      result="failed (exit $status): $(tail -1 "$work/out.txt")"
    fi
  fi
  printf '%-36s %10s %9s  %s\n' "$(basename "$spec")" "$peak" "$wall" "$result"
  rm -rf "$work"
done
