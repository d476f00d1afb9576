#!/usr/bin/env bash
# Instructions per request (callgrind, deterministic) of the gateway built at REV and of the
# working tree's, for a plain chat request through the pass-through path: a change's cost
# measured without the run-to-run drift of throughput on a shared VM. Startup is cancelled out
# by measuring 1,000 and 4,000 requests and dividing the difference.
# Usage: bench/instructions.sh REV
set -euo pipefail
cd "$(dirname "$0")/.."
REV=${1:?usage: bench/instructions.sh REV}
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
WT=$(mktemp -d)
OLD_TARGET=${OLD_TARGET:-$WT-target}
cargo build --release --locked -q -p switchyard -p switchyard-mock -p switchyard-loadgen
git worktree add -q "$WT" "$REV"
mkdir -p "$OLD_TARGET" && cp -a target/release "$OLD_TARGET/" 2>/dev/null || true
(cd "$WT" && CARGO_TARGET_DIR="$OLD_TARGET" cargo build --release -q -p switchyard)
BIN=target/release; KEY=bench-client-key-123456
OUT=$(mktemp -d)
cleanup() { kill "${MOCK:-0}" 2>/dev/null || true; git worktree remove --force "$WT" 2>/dev/null || true; rm -rf "$OUT"; }
trap cleanup EXIT
wait_port() { for _ in $(seq 600); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 not up" >&2; exit 1; }
taskset -c 1 $BIN/switchyard-mock --listen 127.0.0.1:19300 --no-record >/dev/null & MOCK=$!
wait_port 19300
run() { # binary requests → total instructions
  OPENAI_BASE_URL=http://127.0.0.1:19300/v1 OPENAI_API_KEY=x SWITCHYARD_API_KEYS=$KEY SWITCHYARD_LOG=warn \
    valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.out" "$1" serve --listen 127.0.0.1:18400 >/dev/null 2>"$OUT/cg.err" &
  local pid=$!
  wait_port 18400
  $BIN/switchyard-loadgen --key $KEY --mode closed --connections 4 --requests "$2" \
    --url http://127.0.0.1:18400/v1/chat/completions --body bench/chat.json >/dev/null
  kill -INT $pid; wait $pid || true
  awk '/^(summary|totals):/ {print $2; exit}' "$OUT/cg.out"
}
per() { local a b; a=$(run "$1" 1000); b=$(run "$1" 4000); echo $(( (b - a) / 3000 )); }
before=$(per "$OLD_TARGET/release/switchyard")
after=$(per "$BIN/switchyard")
python3 -c "b, a = $before, $after; print(f'| instructions per request | {b} ({\"$REV\"[:7]}) | {a} (working tree) | {100 * (a - b) / b:+.1f}% |')"
