#!/usr/bin/env bash
# Limits' exactness across replicas: 256 concurrent clients against one, then three gateways
# counting in the same Redis, under a request rate (RATE per second) and a token budget
# (BUDGET tokens a month). The mock provider serves; 20% of requests are streams the client
# drops after the first chunk, 10% have the mock report more tokens than max_tokens allows.
# Checks, per run: requests admitted never exceed the rate's bound (RATE at once + RATE per
# second of the run); the budget's counter in Redis equals the client-side ledger exactly, with
# nothing left reserved; without over-reported usage, the budget is never exceeded. The third
# run kills one of the three gateways with SIGKILL halfway: its reservations expire and are
# released by the others (nothing left reserved), and the counter is never above the ledger:
# what the killed replica had answered but not yet settled is lost with it (reported).
# Usage: bench/limits.sh [seconds] [rate] [budget]   (defaults 15, 200, 40000)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-15}
RATE=${2:-200}
BUDGET=${3:-40000}
source bench/common.sh
cargo build --release --locked -q -p switchyard -p switchyard-mock
[ -x .venv/bin/python ] || { python3 -m venv .venv && .venv/bin/pip install -q -r tests/sdk/requirements.txt; }
redis-cli ping >/dev/null
BIN=$PWD/target/release
MOCK_PORT=19600
taskset -c 1 $BIN/switchyard-mock --listen 127.0.0.1:$MOCK_PORT --no-record >/dev/null & pids+=($!)
wait_port $MOCK_PORT
config() {  # config PREFIX BUDGET
  cat <<YAML
server: {discover_env: false}
providers:
  - {name: openai, base_url: "http://127.0.0.1:$MOCK_PORT/v1", api_key: x}
client_keys: [{name: bench, key: bench-client-key-123456}]
limits:
  redis_url: redis://127.0.0.1:6379/
  redis_prefix: "$1"
  reservation_ttl_secs: 3
  rules:
    - {id: rate, scope: org, dimension: requests, amount: $RATE, window: second}
    - {id: budget, scope: org, dimension: total_tokens, amount: $2, window: month}
YAML
}
start_gateways() {  # start_gateways N PREFIX BUDGET → URLS, GW_PIDS
  URLS=""; GW_PIDS=()
  config "$2" "$3" > "$TMP/gw-$2.yaml"
  for i in $(seq "$1"); do
    port=$((18600 + i))
    mkdir -p "$TMP/gw$i"
    SWITCHYARD_LOG=warn bash -c 'cd "$1" && exec "${@:2}"' _ "$TMP/gw$i" taskset -c 0 $BIN/switchyard serve \
      --config "$TMP/gw-$2.yaml" --listen 127.0.0.1:$port 2>>"$TMP/gw$i.log" &
    GW_PIDS+=($!); pids+=($!)
    wait_port $port
    URLS="${URLS:+$URLS,}http://127.0.0.1:$port"
  done
}
stop_gateways() { for p in "${GW_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }
: > "$TMP/runs.jsonl"
run() {  # run LABEL N OVER_PCT BUDGET [kill]
  local prefix="sy-bench-$(date +%s%N):"
  start_gateways "$2" "$prefix" "$4"
  local kill_pid=""
  [ "${5:-}" = kill ] && kill_pid=${GW_PIDS[1]}
  set +e
  out=$(OVER_PCT=$3 SETTLE_WAIT=5 taskset -c 1 .venv/bin/python bench/limits_exactness.py "$URLS" "$SECS" "$RATE" "$4" "$prefix" $kill_pid)
  rc=$?
  set -e
  stop_gateways
  echo "{\"run\": \"$1\", \"ok\": $([ $rc = 0 ] && echo true || echo false), \"report\": $out}" >> "$TMP/runs.jsonl"
}
run "1 gateway" 1 0 "$BUDGET"
run "1 gateway, over-reported usage" 1 10 "$BUDGET"
run "3 gateways, one killed halfway" 3 10 "$BUDGET" kill
# The rate alone (a budget nothing reaches): three replicas admit what one would.
run "1 gateway, rate only" 1 10 1000000000
run "3 gateways, rate only" 3 10 1000000000
python3 - "$TMP/runs.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("| run | admitted / bound | budget | counter used | ledger | lost with killed replica | reserved left | 200 / 429 / 402 / cut | cancelled streams | over-reported | ok |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    p = r["report"]; a = p["answers"]
    print(f"| {r['run']} | {p['admitted']} / {p['admitted_bound']} | {p['budget']} | {p['counter_used']} | {p['ledger']} | "
          f"{p.get('lost_with_killed_replica', '')} | {p['counter_reserved']} | {a.get('200',0)} / {a.get('429',0)} / {a.get('402',0)} / {a.get('cut',0)} | "
          f"{a.get('cancelled',0)} | {a.get('over',0)} | {'yes' if r['ok'] else 'NO'} |")
sys.exit(0 if all(r["ok"] for r in rows) else 1)
PY
