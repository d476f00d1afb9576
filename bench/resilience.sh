#!/usr/bin/env bash
# Resilience run: 10,000 chat requests through a fallback route whose first target fails half the
# time (25% answer 503, 25% answer 2 s late, past the route's 100 ms first-byte timeout) and whose
# second target is healthy; the same requests straight to the healthy target give the baseline.
# Reports success rate and the latency distribution of both, and what the route added.
# Usage: bench/resilience.sh [requests] [connections]   (defaults 10000 and 16)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
CONNS=${2:-16}
OUT=bench/results
mkdir -p "$OUT"
cargo build --release --locked -q -p switchyard -p switchyard-mock -p switchyard-loadgen
BIN=target/release
FLAKY_PORT=19100; GOOD_PORT=19101; GW_PORT=18180
KEY=bench-client-key-123456
source bench/common.sh

taskset -c 1 $BIN/switchyard-mock --listen 127.0.0.1:$FLAKY_PORT --no-record \
  --chaos-error-rate 0.25 --chaos-error-status 503 --chaos-slow-rate 0.25 --chaos-slow-ms 2000 >/dev/null & pids+=($!)
taskset -c 1 $BIN/switchyard-mock --listen 127.0.0.1:$GOOD_PORT --no-record >/dev/null & pids+=($!)
cat > "$TMP/gw.yaml" <<YAML
server:
  discover_env: false
  log: {sqlite_path: "$TMP/requests.db"}
providers:
  - {name: flaky, base_url: "http://127.0.0.1:$FLAKY_PORT/v1", api_key: x, models: [m]}
  - {name: good, base_url: "http://127.0.0.1:$GOOD_PORT/v1", api_key: x, models: [m]}
client_keys:
  - {name: bench, key: $KEY}
routes:
  resilient:
    strategy: fallback
    targets:
      - {model: flaky/m, timeouts: {first_byte_ms: 100}}
      - {model: good/m}
YAML
SWITCHYARD_LOG=error taskset -c 0 $BIN/switchyard serve --listen 127.0.0.1:$GW_PORT --config "$TMP/gw.yaml" 2>"$TMP/gw.log" & pids+=($!)
wait_port $FLAKY_PORT; wait_port $GOOD_PORT; wait_port $GW_PORT
sed 's/"model":"[^"]*"/"model":"resilient"/' bench/chat.json > "$TMP/route.json"
sed 's/"model":"[^"]*"/"model":"good\/m"/' bench/chat.json > "$TMP/direct.json"
LG="taskset -c 1 $BIN/switchyard-loadgen --key $KEY --mode closed --connections $CONNS --requests $N"
base=$($LG --url http://127.0.0.1:$GW_PORT/v1/chat/completions --body "$TMP/direct.json")
route=$($LG --url http://127.0.0.1:$GW_PORT/v1/chat/completions --body "$TMP/route.json")
printf '{"baseline":%s,"route":%s}\n' "$base" "$route" > "$OUT/resilience.json"
python3 - "$OUT/resilience.json" "$N" "$CONNS" <<'PY' | tee "$OUT/resilience.md"
import json, subprocess, sys
r = json.load(open(sys.argv[1]))
n, conns = sys.argv[2], sys.argv[3]
b, t = r["baseline"], r["route"]
ok = t["requests"] - t["errors"]
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
print(f"Resilience run, commit {commit}: {n} requests, {conns} connections, closed loop; route `fallback` "
      "[flaky (25% 503, 25% 2 s late; 100 ms first-byte timeout), good].\n")
print(f"Success: {ok} of {t['requests']} ({100.0 * ok / max(t['requests'], 1):.2f}%; target >= 99.9%).\n")
print("| latency (ms) | straight to the healthy target | through the route | added |")
print("|---|---|---|---|")
for k, label in (("p50_ms", "p50"), ("p90_ms", "p90"), ("p99_ms", "p99"), ("p999_ms", "p99.9"), ("max_ms", "max")):
    print(f"| {label} | {b[k]:.2f} | {t[k]:.2f} | {t[k] - b[k]:+.2f} |")
print(f"| requests/s | {b['rps']:.0f} | {t['rps']:.0f} | |")
PY
