#!/usr/bin/env bash
# Memory flatness of `kerros serve` under load (issue 19, "memory flat"):
# starts the server on one spec, runs `wrk` at 64 connections of single-review
# `POST /predict` requests for several consecutive windows, and samples the
# server's RSS every second. Prints the RSS at start and after each window;
# the per-second samples go to `--trace FILE` when given.
#
#   bench/serve_memory.sh [--spec druglib_rating3] [--windows 3] [--duration 30]
#                         [--connections 64] [--data-dir ../shared/data]
#                         [--cache-dir .kerros/cache] [--binary target/release/kerros]
#                         [--trace FILE]
set -euo pipefail
cd "$(dirname "$0")/.."

spec=druglib_rating3
windows=3
duration=30
connections=64
data_dir=../shared/data
[ -d "$data_dir" ] || data_dir=/work/shared/data
cache_dir=.kerros/cache
binary=target/release/kerros
trace=""
while [ $# -gt 0 ]; do
  case "$1" in
    --spec) spec=$2; shift 2 ;;
    --windows) windows=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --data-dir) data_dir=$2; shift 2 ;;
    --cache-dir) cache_dir=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --trace) trace=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "needs wrk (Debian package \`wrk\`)" >&2; exit 1; }
[ -x "$binary" ] || cargo build --release --quiet

work=$(mktemp -d)
server=""
sampler=""
cleanup() {
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null
  [ -n "$server" ] && kill "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

source bench/serve_common.sh
write_post_lua "$spec" "$work/post.lua"
start_server 1200 "$work/server.log" \
  "$binary" serve "pipelines/$spec.yaml" --port 0 --data-dir "$data_dir" --cache-dir "$cache_dir"

rss() { echo $(( $(awk '/^VmRSS/ {print $2}' "/proc/$server/status") / 1024 )); }
start=$(date +%s)
( while kill -0 "$server" 2>/dev/null; do
    echo "$(( $(date +%s) - start )) $(rss)"
    sleep 1
  done ) > "$work/trace.txt" &
sampler=$!

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$spec, $connections connections, ${duration} s windows"
echo "RSS at start: $(rss) MiB"
for w in $(seq 1 "$windows"); do
  threads=$(( connections < 2 ? connections : 2 ))
  wrk -t"$threads" -c"$connections" -d"${duration}s" -s "$work/post.lua" "$addr/predict" > "$work/wrk.txt"
  rps=$(awk '/^Requests\/sec/ {print $2}' "$work/wrk.txt")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.txt")
  echo "after window $w: RSS $(rss) MiB ($rps req/s, ${non2xx:-0} non-2xx)"
done
kill "$sampler" 2>/dev/null || true
sampler=""
peak=$(awk 'BEGIN {m = 0} $2 > m {m = $2} END {print m}' "$work/trace.txt")
echo "highest RSS sampled: $peak MiB"
[ -n "$trace" ] && cp "$work/trace.txt" "$trace"
kill -TERM "$server"; wait "$server" || true; server=""
