#!/usr/bin/env bash
# What limits cost on the hot path: one gateway config with no limits, one with three limits on
# the key (a request rate, a token rate and a monthly cost budget) counted in memory, and the
# same three counted in Redis; measured in alternating rounds (closed loop, 64 connections, for
# requests/s; 500 requests/s open loop, for added latency), gateway pinned to core 0, mock and
# load generator on core 1. The limits are set high enough that nothing is refused.
# Usage: bench/limits-cost.sh [seconds-per-measurement] [rounds]   (defaults 8, 3)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-8}
ROUNDS=${2:-3}
source bench/common.sh
cargo build --release --locked -q -p switchyard -p switchyard-mock -p switchyard-loadgen
redis-cli ping >/dev/null
BIN=$PWD/target/release
MOCK_PORT=19800; GW_PORT=18800
KEY=bench-client-key-123456
taskset -c 1 $BIN/switchyard-mock --listen 127.0.0.1:$MOCK_PORT --no-record >/dev/null & pids+=($!)
wait_port $MOCK_PORT
config() {  # config none|memory|redis
  cat <<YAML
server: {discover_env: false}
providers:
  - {name: openai, base_url: "http://127.0.0.1:$MOCK_PORT/v1", api_key: x}
client_keys: [{name: bench, key: $KEY}]
YAML
  [ "$1" = none ] && return
  cat <<YAML
limits:
  rules:
    - {id: rpm, scope: "key:bench", dimension: requests, amount: 100000000, window: minute}
    - {id: tpm, scope: "key:bench", dimension: total_tokens, amount: 100000000000, window: minute}
    - {id: monthly, scope: "key:bench", dimension: cost_usd, amount: 1000000000, window: month}
YAML
  [ "$1" = redis ] && printf '  redis_url: redis://127.0.0.1:6379/\n  redis_prefix: "sy-cost-%s:"\n' "$(date +%s%N)"
  return 0
}
measure() {  # measure MODE → one JSON line
  config "$1" > "$TMP/$1.yaml"
  mkdir -p "$TMP/$1"
  SWITCHYARD_LOG=warn bash -c 'cd "$1" && exec "${@:2}"' _ "$TMP/$1" taskset -c 0 $BIN/switchyard serve \
    --config "$TMP/$1.yaml" --listen 127.0.0.1:$GW_PORT 2>>"$TMP/gw.log" &
  local gw=$!
  wait_port $GW_PORT
  local u=http://127.0.0.1:$GW_PORT/v1/chat/completions
  local c r
  c=$(taskset -c 1 $BIN/switchyard-loadgen --key $KEY --seconds $SECS --mode closed --connections 64 --url $u --body bench/chat.json)
  r=$(taskset -c 1 $BIN/switchyard-loadgen --key $KEY --seconds $SECS --mode rate --rate 500 --url $u --body bench/chat.json)
  kill $gw; wait $gw 2>/dev/null || true
  printf '{"mode":"%s","closed":%s,"rate":%s}\n' "$1" "$c" "$r"
}
: > "$TMP/raw.jsonl"
for round in $(seq "$ROUNDS"); do
  for mode in none memory redis; do measure $mode >> "$TMP/raw.jsonl"; done
done
python3 - "$TMP/raw.jsonl" "$SECS" "$ROUNDS" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = lambda mode, kind, f: statistics.median(r[kind][f] for r in rows if r["mode"] == mode)
errors = sum(r[k].get("errors", 0) for r in rows for k in ("closed", "rate"))
print(f"median of {sys.argv[3]} rounds of {sys.argv[2]} s; gateway on core 0\n")
print("| limits | req/s (closed, 64 conns) | p50 ms @500 rps | p99 ms @500 rps |\n|---|---|---|---|")
base = med("none", "closed", "rps")
for mode, name in (("none", "none"), ("memory", "3 on the key, in memory"), ("redis", "3 on the key, in Redis")):
    rps = med(mode, "closed", "rps")
    print(f"| {name} | {rps:.0f} ({rps / base:.2f}x) | {med(mode, 'rate', 'p50_ms'):.2f} | {med(mode, 'rate', 'p99_ms'):.2f} |")
print(f"\nerrors: {errors}")
sys.exit(0 if errors == 0 else 1)
PY
