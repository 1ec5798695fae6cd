# Shared by bench/serve_load.sh and bench/serve_memory.sh (sourced, not run):
# the single-review request both send, and starting `kerros serve`.

review="The medicine worked well for my migraines and I had few side effects, just a little drowsiness in the first week."

# write_post_lua SPEC FILE: a wrk script POSTing one review to /predict, as
# the three Druglib text columns for druglib specs, as `texts` otherwise.
write_post_lua() {
  local body
  case "$1" in
    druglib*) body="{\"rows\": [{\"benefitsReview\": \"$review\", \"sideEffectsReview\": \"drowsiness\", \"commentsReview\": \"one tablet a day\"}]}" ;;
    *) body="{\"texts\": [\"$review\"]}" ;;
  esac
  cat > "$2" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[$body]]
LUA
}

# start_server TICKS LOG COMMAND...: run COMMAND (a `kerros serve --port 0`)
# in the background with its stderr in LOG; sets $server (its pid) and $addr
# (its "listening on" address), waiting up to TICKS half-seconds (it may
# train the model first). Exits when the server dies or never listens.
start_server() {
  local ticks=$1 log=$2
  shift 2
  "$@" 2> "$log" &
  server=$!
  addr=""
  for _ in $(seq 1 "$ticks"); do
    addr=$(sed -n 's/^listening on //p' "$log" | head -1)
    [ -n "$addr" ] && break
    kill -0 "$server" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.5
  done
  [ -n "$addr" ] || { echo "$log: the server did not start" >&2; exit 1; }
}
