#!/usr/bin/env bash
# Benchmark: the gateway against direct-to-mock and a plain nginx hop, in the same run.
# The gateway (or nginx) is pinned to core 0; the mock and the load generator share core 1.
# Usage: bench/run.sh [seconds-per-measurement] [rounds]   (defaults 10 and 3)
# BASELINE_BIN=/path/to/an/older/switchyard adds that build as a fourth target, measured in the
# same rounds the same way (to tell a regression from a slow machine day).
# Each round measures every target in turn; the report gives the median over rounds, since a
# shared VM's figures move from run to run.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
ROUNDS=${2:-3}
OUT=bench/results
mkdir -p "$OUT"
source bench/common.sh
ensure_nginx
cargo build --release --locked -q -p switchyard -p switchyard-mock -p switchyard-loadgen
BIN=$PWD/target/release
MOCK_PORT=19000; GW_PORT=18080; NGINX_PORT=18081
KEY=bench-client-key-123456

taskset -c 1 $BIN/switchyard-mock --listen 127.0.0.1:$MOCK_PORT --no-record >/dev/null & pids+=($!)
# A second mock on core 0 measures what one cross-core loopback hop costs by itself.
XMOCK_PORT=19001
taskset -c 0 $BIN/switchyard-mock --listen 127.0.0.1:$XMOCK_PORT --no-record >/dev/null & pids+=($!)
OPENAI_BASE_URL=http://127.0.0.1:$MOCK_PORT/v1 OPENAI_API_KEY=x SWITCHYARD_API_KEYS=$KEY SWITCHYARD_LOG=warn \
  ANTHROPIC_BASE_URL=http://127.0.0.1:$MOCK_PORT ANTHROPIC_API_KEY=x \
  GEMINI_BASE_URL=http://127.0.0.1:$MOCK_PORT GEMINI_API_KEY=x \
  bash -c 'cd "$1" && exec "${@:2}"' _ "$TMP" taskset -c 0 $BIN/switchyard serve --listen 127.0.0.1:$GW_PORT 2>"$TMP/gw.log" & GW_PID=$!; pids+=($GW_PID)
# (The gateway runs in $TMP, so its default request log, switchyard.db, is written there.)
TARGETS="direct nginx switchyard"
BASE_PORT=18082
if [ -n "${BASELINE_BIN:-}" ]; then
  mkdir -p "$TMP/base"
  OPENAI_BASE_URL=http://127.0.0.1:$MOCK_PORT/v1 OPENAI_API_KEY=x SWITCHYARD_API_KEYS=$KEY SWITCHYARD_LOG=warn \
    ANTHROPIC_BASE_URL=http://127.0.0.1:$MOCK_PORT ANTHROPIC_API_KEY=x \
    GEMINI_BASE_URL=http://127.0.0.1:$MOCK_PORT GEMINI_API_KEY=x \
    bash -c 'cd "$1" && exec "${@:2}"' _ "$TMP/base" taskset -c 0 "$BASELINE_BIN" serve --listen 127.0.0.1:$BASE_PORT 2>"$TMP/base.log" & BASE_PID=$!; pids+=($BASE_PID)
  wait_port $BASE_PORT
  TARGETS="$TARGETS baseline"
fi
start_nginx $MOCK_PORT $NGINX_PORT
wait_port $MOCK_PORT; wait_port $XMOCK_PORT; wait_port $GW_PORT; wait_port $NGINX_PORT

declare -A URL=(
  [direct]=http://127.0.0.1:$MOCK_PORT/v1/chat/completions
  [nginx]=http://127.0.0.1:$NGINX_PORT/v1/chat/completions
  [switchyard]=http://127.0.0.1:$GW_PORT/v1/chat/completions
  [baseline]=http://127.0.0.1:$BASE_PORT/v1/chat/completions
)
LG="taskset -c 1 $BIN/switchyard-loadgen --key $KEY --seconds $SECS"
# CPU time (clock ticks) of what runs on core 0 for a target: the gateway, or nginx's worker.
ticks() {
  local pids
  case $1 in
    switchyard) pids=$GW_PID ;;
    baseline) pids=$BASE_PID ;;
    nginx) pids=$(pgrep -f 'nginx: worker' | tr '\n' ' ') ;;
    *) echo 0; return ;;
  esac
  local t=0
  for p in $pids; do t=$((t + $(awk '{print $14 + $15}' /proc/$p/stat))); done
  echo $t
}
: > "$OUT/raw.jsonl"
for round in $(seq "$ROUNDS"); do
for target in $TARGETS; do
  u=${URL[$target]}
  c0=$(ticks $target)
  r1=$($LG --mode closed --connections 64 --url "$u" --body bench/chat.json)
  c1=$(ticks $target)
  r2=$($LG --mode rate --rate 500 --connections 16 --url "$u" --body bench/chat.json)
  r3=$($LG --mode stream --connections 64 --url "$u" --body bench/chat-stream.json)
  r4=$($LG --mode stream --connections 1 --url "$u" --body bench/chat-stream.json)
  # The upstream writes each of the 20 chunks on its own, as providers do; with the CPU time
  # the target's core spent, per request.
  t0=$(ticks $target)
  r9=$($LG --mode stream --connections 64 --url "$u" --body bench/chat-stream-separate.json)
  t1=$(ticks $target)
  cpu=$(python3 -c "import json,sys; r=json.loads(sys.argv[1]); n=r['rps']*$SECS; print(json.dumps({'us_per_req': ($t1-$t0)/$(getconf CLK_TCK)/n*1e6 if n else 0}))" "$r9")
  cpuc=$(python3 -c "import json,sys; r=json.loads(sys.argv[1]); n=r['rps']*$SECS; print(json.dumps({'us_per_req': ($c1-$c0)/$(getconf CLK_TCK)/n*1e6 if n else 0}))" "$r1")
  printf '{"target":"%s","closed":%s,"rate":%s,"stream":%s,"stream1":%s,"stream_sep":%s,"cpu_sep":%s,"cpu_closed":%s}\n' "$target" "$r1" "$r2" "$r3" "$r4" "$r9" "$cpu" "$cpuc" >> "$OUT/raw.jsonl"
done
# The translated path: OpenAI chat in, Anthropic Messages upstream (7 text deltas per stream).
u=${URL[switchyard]}
r5=$($LG --mode closed --connections 64 --url "$u" --body bench/chat-anthropic.json)
r6=$($LG --mode stream --connections 64 --url "$u" --body bench/chat-anthropic-stream.json)
printf '{"target":"translated","closed":%s,"stream":%s}\n' "$r5" "$r6" >> "$OUT/raw.jsonl"
# The same through Gemini's format (generateContent; streamGenerateContent SSE).
r7=$($LG --mode closed --connections 64 --url "$u" --body bench/chat-gemini.json)
r8=$($LG --mode stream --connections 64 --url "$u" --body bench/chat-gemini-stream.json)
printf '{"target":"translated_gemini","closed":%s,"stream":%s}\n' "$r7" "$r8" >> "$OUT/raw.jsonl"
u=http://127.0.0.1:$XMOCK_PORT/v1/chat/completions
r2=$($LG --mode rate --rate 500 --connections 16 --url "$u" --body bench/chat.json)
r4=$($LG --mode stream --connections 1 --url "$u" --body bench/chat-stream.json)
printf '{"target":"cross_core","rate":%s,"stream1":%s}\n' "$r2" "$r4" >> "$OUT/raw.jsonl"
done
RSS_KB=$(awk '/VmHWM/ {print $2}' /proc/$GW_PID/status)
python3 bench/report.py "$OUT/raw.jsonl" "$RSS_KB" "$SECS" "$ROUNDS" | tee "$OUT/latest.md"
