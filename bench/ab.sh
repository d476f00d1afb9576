#!/usr/bin/env bash
# A/B: the gateway built at REV against the working tree's, same mock, alternating rounds, so a
# change's cost is measured in one run on one machine (a shared VM's figures drift between runs).
# Usage: bench/ab.sh REV [seconds-per-measurement] [rounds]   (defaults 8 and 3)
set -euo pipefail
cd "$(dirname "$0")/.."
REV=${1:?usage: bench/ab.sh REV [seconds] [rounds]}
SECS=${2:-8}
ROUNDS=${3:-3}
WT=$(mktemp -d)
OLD_TARGET=${OLD_TARGET:-$WT-target}
cargo build --release --locked -q -p switchyard -p switchyard-mock -p switchyard-loadgen
git worktree add -q "$WT" "$REV"
# Reuse the current build's dependencies; only the workspace crates rebuild.
mkdir -p "$OLD_TARGET" && cp -a target/release "$OLD_TARGET/" 2>/dev/null || true
(cd "$WT" && CARGO_TARGET_DIR="$OLD_TARGET" cargo build --release -q -p switchyard)
BIN=target/release
OLD=$OLD_TARGET/release/switchyard
KEY=bench-client-key-123456
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  git worktree remove --force "$WT" 2>/dev/null || true
}
trap cleanup EXIT
wait_port() { for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 not up" >&2; exit 1; }
taskset -c 1 $BIN/switchyard-mock --listen 127.0.0.1:19300 --no-record >/dev/null & pids+=($!)
for pair in "old $OLD 18300" "new $BIN/switchyard 18301"; do
  set -- $pair
  OPENAI_BASE_URL=http://127.0.0.1:19300/v1 OPENAI_API_KEY=x SWITCHYARD_API_KEYS=$KEY SWITCHYARD_LOG=warn \
    taskset -c 0 "$2" serve --listen 127.0.0.1:$3 2>/dev/null & pids+=($!)
done
wait_port 19300; wait_port 18300; wait_port 18301
LG="taskset -c 1 $BIN/switchyard-loadgen --key $KEY --seconds $SECS"
for round in $(seq "$ROUNDS"); do
  for which in old new; do
    port=18300; [ "$which" = new ] && port=18301
    u=http://127.0.0.1:$port/v1/chat/completions
    c=$($LG --mode closed --connections 64 --url "$u" --body bench/chat.json)
    s=$($LG --mode stream --connections 64 --url "$u" --body bench/chat-stream.json)
    r=$($LG --mode rate --rate 500 --connections 16 --url "$u" --body bench/chat.json)
    printf '{"which":"%s","closed":%s,"stream":%s,"rate":%s}\n' "$which" "$c" "$s" "$r"
  done
done | tee /tmp/ab-raw.jsonl | python3 -c '
import json, statistics, sys
rows = [json.loads(l) for l in sys.stdin]
med = lambda w, m, k: statistics.median(r[m][k] for r in rows if r["which"] == w)
print("| measurement | before | after | change |")
print("|---|---|---|---|")
for m, k, label in (("closed", "rps", "closed-loop req/s, 64 conns"), ("stream", "rps", "stream req/s, 64 conns"),
                    ("rate", "p50_ms", "p50 at 500 req/s (ms)"), ("rate", "p99_ms", "p99 at 500 req/s (ms)")):
    a, b = med("old", m, k), med("new", m, k)
    print(f"| {label} | {a:.3f} | {b:.3f} | {100 * (b - a) / a:+.1f}% |" if k != "rps" else f"| {label} | {a:.0f} | {b:.0f} | {100 * (b - a) / a:+.1f}% |")
'
