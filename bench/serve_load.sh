#!/usr/bin/env bash
# Load test of `kerros serve`: requests per second and p50 / p99 latency of
# single-review `POST /predict` requests at 1, 16 and 64 concurrent
# connections, for druglib_rating3 and imdb_seed, with the server's memory
# (RSS) before and after. Uses Debian's `wrk` (installed when missing).
#
#   bench/serve_load.sh [--duration 30s] [--data-dir ../shared/data]
#                       [--specs "druglib_rating3 imdb_seed"] [--connections "1 16 64"]
#
# The models come from the cache (`.kerros/cache`, trained first when
# missing). Run it on an otherwise idle machine: the client and the server
# share its cores, so the numbers are a lower bound for the server alone.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=30s
data_dir=../shared/data
[ -d "$data_dir" ] || data_dir=/work/shared/data
specs="druglib_rating3 imdb_seed"
connections="1 16 64"
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --data-dir) data_dir=$2; shift 2 ;;
    --specs) specs=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y wrk >/dev/null; else sudo apt-get install -y wrk >/dev/null; fi
fi
cargo build --release --quiet
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

source bench/serve_common.sh
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-16s %5s %10s %9s %9s %7s %12s\n' spec conns "req/s" "p50" "p99" errors "rss MiB"
for spec in $specs; do
  write_post_lua "$spec" "$work/post.lua"
  start_server 600 "$work/$spec.log" \
    target/release/kerros serve "pipelines/$spec.yaml" --port 0 --data-dir "$data_dir"
  rss_start=$(( $(ps -o rss= -p "$server") / 1024 ))
  for c in $connections; do
    threads=$(( c < 2 ? c : 2 ))
    wrk -t"$threads" -c"$c" -d"$duration" --latency -s "$work/post.lua" "$addr/predict" > "$work/wrk.txt"
    rps=$(awk '/^Requests\/sec/ {print $2}' "$work/wrk.txt")
    p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
    non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.txt")
    sock=$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$work/wrk.txt")
    errors=$(( ${non2xx:-0} + ${sock:-0} ))
    rss=$(( $(ps -o rss= -p "$server") / 1024 ))
    printf '%-16s %5s %10s %9s %9s %7s %5s → %4s\n' "$spec" "$c" "$rps" "$p50" "$p99" "$errors" "$rss_start" "$rss"
  done
  kill -TERM "$server"; wait "$server" || true; server=""
done
