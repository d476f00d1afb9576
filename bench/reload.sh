#!/usr/bin/env bash
# Config reloads under load: the gateway serves a route (`bench`) to a closed loop of 64
# connections while its config file is rewritten and SIGHUP sent every 100 ms, the route's
# target alternating between two models. Measured against the same loop with no reloads, in
# alternating rounds on the same gateway (pinned to core 0; mock and load generator on core 1).
# Passes only with zero failed requests and the last config's target serving the route.
# Usage: bench/reload.sh [seconds-per-measurement] [rounds]   (defaults 8, 3)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-8}
ROUNDS=${2:-3}
source bench/common.sh
cargo build --release --locked -q -p switchyard -p switchyard-mock -p switchyard-loadgen
BIN=$PWD/target/release
MOCK_PORT=19500; GW_PORT=18500
KEY=bench-client-key-123456
ADMIN=bench-admin-key-123456
CFG=$TMP/switchyard.yaml
config() {
  cat > "$CFG.new" <<YAML
server:
  discover_env: false
  admin_keys: [{name: bench, key: $ADMIN}]
providers:
  - {name: openai, base_url: "http://127.0.0.1:$MOCK_PORT/v1", api_key: x}
client_keys: [{name: bench, key: $KEY}]
routes:
  bench: {model: openai/$1}
YAML
  mv "$CFG.new" "$CFG"
}
config gpt-4o-mini
taskset -c 1 $BIN/switchyard-mock --listen 127.0.0.1:$MOCK_PORT --no-record >/dev/null & pids+=($!)
SWITCHYARD_LOG=warn SWITCHYARD_CONFIG_POLL_MS=0 \
  bash -c 'cd "$1" && exec "${@:2}"' _ "$TMP" taskset -c 0 $BIN/switchyard serve \
  --config "$CFG" --listen 127.0.0.1:$GW_PORT 2>"$TMP/gw.log" & GW_PID=$!; pids+=($GW_PID)
wait_port $MOCK_PORT; wait_port $GW_PORT
sed 's/"model":"gpt-4o-mini"/"model":"bench"/' bench/chat.json > "$TMP/body.json"
LG="taskset -c 1 $BIN/switchyard-loadgen --key $KEY --seconds $SECS --mode closed --connections 64"
u=http://127.0.0.1:$GW_PORT/v1/chat/completions
# Rewrites the config and signals every 100 ms until told to stop; counts what it sent.
reloader() {
  local n=0
  while [ ! -f "$TMP/stop" ]; do
    if (( n % 2 )); then config gpt-4o-mini; else config gpt-4.1-nano; fi
    kill -HUP $GW_PID; n=$((n + 1)); sleep 0.1
  done
  echo $n > "$TMP/sent"
}
: > "$TMP/raw.jsonl"
sent_total=0
for round in $(seq "$ROUNDS"); do
  s=$($LG --url "$u" --body "$TMP/body.json")
  rm -f "$TMP/stop"; reloader & R=$!
  r=$($LG --url "$u" --body "$TMP/body.json")
  touch "$TMP/stop"; wait $R
  sent_total=$((sent_total + $(cat "$TMP/sent")))
  printf '{"steady":%s,"reloading":%s}\n' "$s" "$r" >> "$TMP/raw.jsonl"
done
# The last write wins: make it known, reload, and check the route serves it.
config gpt-4.1-mini; kill -HUP $GW_PID; sleep 0.5
served=$(curl -s -H "authorization: Bearer $KEY" -H 'content-type: application/json' \
  -d @"$TMP/body.json" "$u" | python3 -c 'import json,sys; print(json.load(sys.stdin)["model"])')
metrics=$(curl -s -H "authorization: Bearer $ADMIN" http://127.0.0.1:$GW_PORT/metrics | grep '^switchyard_config_reloads_total')
python3 - "$TMP/raw.jsonl" "$SECS" "$ROUNDS" "$sent_total" "$served" "$metrics" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
secs, rounds, sent, served, metrics = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
med = lambda k, f: statistics.median(r[k][f] for r in rows)
errors = {k: sum(r[k].get("errors", 0) for r in rows) for k in ("steady", "reloading")}
total = {k: sum(r[k].get("requests", 0) for r in rows) for k in ("steady", "reloading")}
applied = int(next(l for l in metrics.splitlines() if 'result="applied"' in l).rsplit(" ", 1)[1])
refused = int(next(l for l in metrics.splitlines() if 'result="refused"' in l).rsplit(" ", 1)[1])
print(f"median of {rounds} rounds of {secs} s, closed loop, 64 connections, route `bench`, gateway on core 0\n")
print("| | req/s | p99 ms | requests | failed |\n|---|---|---|---|---|")
for k, name in (("steady", "no reloads"), ("reloading", "SIGHUP + new config every 100 ms")):
    print(f"| {name} | {med(k, 'rps'):.0f} | {med(k, 'p99_ms'):.2f} | {total[k]} | {errors[k]} |")
print(f"\nreloads: {sent + 1} signals sent, {applied} applied, {refused} refused; "
      f"the route now serves {served} (the last config's target)")
ok = errors["reloading"] == 0 and errors["steady"] == 0 and served == "gpt-4.1-mini" and refused == 0
sys.exit(0 if ok else 1)
PY
