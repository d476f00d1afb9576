#!/usr/bin/env bash
# The request log's cost: closed-loop requests/s through the gateway with the log off and with it
# on (SQLite, the default), in alternating rounds, against direct-to-mock and a plain nginx hop in
# the same run; then a sustained 5,000 req/s with the log on, counting records shed and written.
# The gateway (and nginx) are pinned to core 0; the mock and the load generator share core 1.
# Usage: bench/logging.sh [seconds-per-measurement] [rounds] [sustained-seconds]  (10 3 30)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
ROUNDS=${2:-3}
SUSTAIN=${3:-30}
RATE=5000
OUT=bench/results
mkdir -p "$OUT"
source bench/common.sh
ensure_nginx
cargo build --release --locked -q -p switchyard -p switchyard-mock -p switchyard-loadgen
BIN=$PWD/target/release
MOCK_PORT=19200; OFF_PORT=18280; ON_PORT=18281; NGINX_PORT=18282; ADMIN_KEY=bench-admin-key-123
KEY=bench-client-key-123456

taskset -c 1 $BIN/switchyard-mock --listen 127.0.0.1:$MOCK_PORT --no-record >/dev/null & pids+=($!)
for mode in off on; do
  enabled=$([ $mode = on ] && echo true || echo false)
  cat > "$TMP/$mode.yaml" <<YAML
server:
  discover_env: false
  admin_keys: [{name: bench, key: $ADMIN_KEY}]
  log: {enabled: $enabled, sqlite_path: "$TMP/requests-$mode.db"}
providers:
  - {name: openai, base_url: "http://127.0.0.1:$MOCK_PORT/v1", api_key: x}
client_keys:
  - {name: bench, key: $KEY}
YAML
done
SWITCHYARD_LOG=warn taskset -c 0 $BIN/switchyard serve --listen 127.0.0.1:$OFF_PORT --config "$TMP/off.yaml" 2>"$TMP/off.log" & pids+=($!)
SWITCHYARD_LOG=warn taskset -c 0 $BIN/switchyard serve --listen 127.0.0.1:$ON_PORT --config "$TMP/on.yaml" 2>"$TMP/on.log" & ON_PID=$!; pids+=($ON_PID)
start_nginx $MOCK_PORT $NGINX_PORT
wait_port $MOCK_PORT; wait_port $OFF_PORT; wait_port $ON_PORT; wait_port $NGINX_PORT

declare -A URL=(
  [direct]=http://127.0.0.1:$MOCK_PORT/v1/chat/completions
  [nginx]=http://127.0.0.1:$NGINX_PORT/v1/chat/completions
  [log_off]=http://127.0.0.1:$OFF_PORT/v1/chat/completions
  [log_on]=http://127.0.0.1:$ON_PORT/v1/chat/completions
)
LG="taskset -c 1 $BIN/switchyard-loadgen --key $KEY"
: > "$OUT/logging.jsonl"
for round in $(seq "$ROUNDS"); do
  # Alternate the order so neither gateway always runs on a warmer machine.
  order="direct nginx log_off log_on"
  [ $((round % 2)) = 0 ] && order="direct nginx log_on log_off"
  for target in $order; do
    r=$($LG --mode closed --connections 64 --seconds "$SECS" --url "${URL[$target]}" --body bench/chat.json)
    printf '{"round":%s,"target":"%s","closed":%s}\n' "$round" "$target" "$r" >> "$OUT/logging.jsonl"
  done
done
metric() { curl -s -H "authorization: Bearer $ADMIN_KEY" http://127.0.0.1:$ON_PORT/metrics | awk -v m="$1" '$1 == m {print $2}'; }
# Start the sustained run with an empty queue (the closed-loop rounds may have left a backlog).
for _ in $(seq 600); do [ "$(metric switchyard_log_queue_depth)" = 0 ] && break; sleep 0.1; done
shed0=$(metric switchyard_log_shed_records_total); written0=$(metric switchyard_log_written_records_total)
r=$($LG --mode rate --rate $RATE --connections 64 --seconds "$SUSTAIN" --warmup 0 --url "${URL[log_on]}" --body bench/chat.json)
sleep 1
shed1=$(metric switchyard_log_shed_records_total); written1=$(metric switchyard_log_written_records_total)
depth=$(metric switchyard_log_queue_depth)
RSS_KB=$(awk '/VmHWM/ {print $2}' /proc/$ON_PID/status)
printf '{"target":"sustained","rate":%s,"shed":%s,"written":%s,"depth":%s,"rss_kb":%s}\n' \
  "$r" "$((shed1 - shed0))" "$((written1 - written0))" "$depth" "$RSS_KB" >> "$OUT/logging.jsonl"

python3 - "$OUT/logging.jsonl" "$SECS" "$ROUNDS" "$SUSTAIN" "$RATE" <<'PY' | tee "$OUT/logging.md"
import json, statistics, subprocess, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
secs, rounds, sustain, rate = sys.argv[2:6]
med = lambda t: statistics.median(r["closed"]["rps"] for r in rows if r.get("target") == t)
every = lambda t: ", ".join(f"{r['closed']['rps']:.0f}" for r in rows if r.get("target") == t)
s = next(r for r in rows if r["target"] == "sustained")
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
off, on = med("log_off"), med("log_on")
# Each round measures both back to back: the median of the per-round ratios is steadier on a
# shared machine than the ratio of medians.
by_round = {}
for r in rows:
    if r.get("target") in ("log_on", "log_off"):
        by_round.setdefault(r["round"], {})[r["target"]] = r["closed"]["rps"]
ratios = sorted(v["log_on"] / v["log_off"] for v in by_round.values() if len(v) == 2)
paired = statistics.median(ratios)
print(f"Request log benchmark, commit {commit}: {rounds} rounds of {secs} s, closed loop, 64 connections, "
      "gateway and nginx on core 0, mock and load generator on core 1.\n")
print("| target | req/s (median) | every round |")
print("|---|---|---|")
for t, name in [("direct", "direct to mock"), ("nginx", "nginx hop"), ("log_off", "switchyard, log off"),
                ("log_on", "switchyard, log on (SQLite)")]:
    print(f"| {name} | {med(t):.0f} | {every(t)} |")
print(f"\nLog on vs off: median of per-round ratios {paired:.3f}x ({100 * (paired - 1):+.1f}%; "
      f"target within 10%; rounds {', '.join(f'{x:.2f}' for x in ratios)}); ratio of medians "
      f"{on / off:.3f}x. Log on vs nginx: {on / med('nginx'):.2f}x.\n")
sr = s["rate"]
print(f"Sustained {rate} req/s for {sustain} s with the log on: {sr['requests']} requests, {sr['errors']} errors, "
      f"{sr['rps']:.0f} req/s achieved, p50 {sr['p50_ms']:.3f} ms, p99 {sr['p99_ms']:.3f} ms; "
      f"records shed {s['shed']} (target 0), written {s['written']}, queue depth after 1 s {s['depth']}; "
      f"gateway peak RSS {int(s['rss_kb']) / 1024:.1f} MiB.")
PY
