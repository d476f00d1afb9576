#!/usr/bin/env bash
# Soak: many slow streams and idle connections at once, while normal requests keep being served.
# Usage: bench/soak.sh [seconds] [slow-streams] [idle-connections]   (defaults 180 10000 2000)
#        SECOND_ROUND=0 bench/soak.sh ...   (one round only)
#
# The gateway runs on core 0 with its defaults (request log on); the mock and the load
# generators share core 1. Each slow stream is 20 chunks 500 ms apart (10 s), repeated on each
# connection for the whole soak; the idle connections send nothing and are reopened whenever the
# gateway closes them. Meanwhile 200 req/s of ordinary chat requests measure latency. RSS is
# sampled every second: warm (75 s after a warm-up of ordinary requests), peak, 75 s after the
# soak ends (past the sweep of upstream connections idle 50 s, which runs every 10 s and is
# followed by giving freed memory back), and 75 s after a second round of the same load (growth
# there would be a leak). The allocator's own figures (/metrics) say what the RSS is made of.
#
# Descriptors: each stream holds two in the gateway (the caller's and the upstream's). Where the
# hard open-file limit is 20,000 (no CAP_SYS_RESOURCE to raise it), the gateway's default
# connection cap is 9,968: 10,000 streams plus 2,000 idle connections then run past the cap
# (the rest wait in the backlog), and 7,500 plus 2,000 stay under it.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-180}
STREAMS=${2:-10000}
IDLE=${3:-2000}
OUT=bench/results
mkdir -p "$OUT"
source bench/common.sh
# Every stream holds two descriptors in the gateway; the load generators hold as many again.
ulimit -Hn 262144 2>/dev/null || true
ulimit -Sn "$(ulimit -Hn)"
cargo build --release --locked -q -p switchyard -p switchyard-mock -p switchyard-loadgen
BIN=$PWD/target/release
MOCK_PORT=19100; GW_PORT=18180
KEY=bench-client-key-123456

taskset -c 1 $BIN/switchyard-mock --listen 127.0.0.1:$MOCK_PORT --no-record >/dev/null & pids+=($!)
OPENAI_BASE_URL=http://127.0.0.1:$MOCK_PORT/v1 OPENAI_API_KEY=x SWITCHYARD_API_KEYS=$KEY SWITCHYARD_ADMIN_KEYS=$KEY-admin SWITCHYARD_LOG=warn \
  bash -c 'cd "$1" && exec "${@:2}"' _ "$TMP" taskset -c 0 $BIN/switchyard serve --listen 127.0.0.1:$GW_PORT 2>"$TMP/gw.log" & GW_PID=$!; pids+=($GW_PID)
wait_port $MOCK_PORT; wait_port $GW_PORT
U=http://127.0.0.1:$GW_PORT/v1/chat/completions
LG="taskset -c 1 $BIN/switchyard-loadgen --key $KEY"
rss() { awk '/VmRSS/ {print $2}' /proc/$GW_PID/status; }
# The allocator's own account (KiB): allocated, active, resident, metadata.
heap() {
  curl -s -H "authorization: Bearer $KEY-admin" http://127.0.0.1:$GW_PORT/metrics |
    awk '/^switchyard_memory_(allocated|active|resident|metadata)_bytes / {printf "%d,", $2 / 1024}' | sed 's/,$//'
}

# Warm: ordinary traffic, streamed and not, until the allocator has its working set.
$LG --mode closed --connections 64 --seconds 5 --url $U --body bench/chat.json >/dev/null
$LG --mode stream --connections 64 --seconds 5 --url $U --body bench/chat-stream.json >/dev/null
sleep 75   # as long as after the soak: idle upstream connections swept, allocator settled
WARM=$(rss); HEAP_WARM=$(heap)
before=$($LG --mode rate --rate 200 --connections 16 --seconds 10 --url $U --body bench/chat.json)

( while kill -0 $GW_PID 2>/dev/null; do echo "$(date +%s) $(rss)"; sleep 1; done ) > "$OUT/soak-rss.txt" & pids+=($!)
$LG --mode stream --connections "$STREAMS" --warmup 0 --seconds "$SECS" --url $U --body bench/chat-slow-stream.json > "$TMP/slow.json" & SLOW=$!
$LG --mode idle --connections "$IDLE" --seconds "$SECS" --url $U --body bench/chat.json > "$TMP/idle.json" & IDLEP=$!
sleep 15   # let the slow streams ramp up before measuring ordinary requests beside them
CPU0=$(grep '^cpu[01] ' /proc/stat | tr '\n' ' ')
$LG --mode rate --rate 200 --connections 16 --warmup 0 --seconds $((SECS - 30)) --url $U --body bench/chat.json > "$TMP/during.json" & DURING=$!
sleep $(( (SECS - 30) / 2 )); HEAP_PEAK=$(heap)   # mid-soak, every stream open
wait $DURING; during=$(cat "$TMP/during.json")
CPU1=$(grep '^cpu[01] ' /proc/stat | tr '\n' ' ')
wait $SLOW $IDLEP
sleep 75
AFTER=$(rss); HEAP_AFTER=$(heap)
FDS_AFTER=$(ls /proc/$GW_PID/fd | wc -l)
PEAK=$(awk '/VmHWM/ {print $2}' /proc/$GW_PID/status)
cp "$TMP/gw.log" "$OUT/soak-gateway.log"
after=$($LG --mode rate --rate 200 --connections 16 --seconds 10 --url $U --body bench/chat.json)
# A second round of the same: memory that leaks would show as growth past the first round's.
# (SECOND_ROUND=0 skips it.)
AFTER2=$AFTER
if [ "${SECOND_ROUND:-1}" = 1 ]; then
  $LG --mode stream --connections "$STREAMS" --warmup 0 --seconds "$SECS" --url $U --body bench/chat-slow-stream.json > /dev/null & SLOW=$!
  $LG --mode idle --connections "$IDLE" --seconds "$SECS" --url $U --body bench/chat.json > /dev/null & IDLEP=$!
  wait $SLOW $IDLEP
  sleep 75
  AFTER2=$(rss)
fi

python3 - "$WARM" "$PEAK" "$AFTER" "$FDS_AFTER" "$SECS" "$STREAMS" "$IDLE" "$AFTER2" \
  "$before" "$during" "$after" "$(cat "$TMP/slow.json")" "$(cat "$TMP/idle.json")" "$CPU0" "$CPU1" \
  "$HEAP_WARM" "$HEAP_PEAK" "$HEAP_AFTER" <<'EOF' | tee "$OUT/soak.md"
import json, sys
warm, peak, after, fds_after, secs, streams, idle, after2 = map(int, sys.argv[1:9])
before, during, after_r, slow, idle_r = (json.loads(a) for a in sys.argv[9:14])
def busy(a, b):
    # /proc/stat: cpuN user nice system idle iowait irq softirq steal ...
    out = []
    for core in ("cpu0", "cpu1"):
        x = a.split(core + " ")[1].split()[:8]
        y = b.split(core + " ")[1].split()[:8]
        d = [int(q) - int(p) for p, q in zip(x, y)]
        out.append(100.0 * (sum(d) - d[3] - d[4]) / max(sum(d), 1))
    return out
cpu = busy(sys.argv[14], sys.argv[15])
mib = lambda kb: f"{kb / 1024:.1f} MiB"
print(f"Soak: {secs} s, {streams} slow streams (20 chunks, 500 ms apart), {idle} idle connections")
print()
print("| measurement | value |")
print("|---|---|")
print(f"| RSS warm | {mib(warm)} |")
print(f"| RSS peak | {mib(peak)} |")
print(f"| RSS 75 s after the soak | {mib(after)} ({after / warm:.2f}x warm) |")
print(f"| RSS 75 s after a second round | {mib(after2)} ({after2 / after:.2f}x the first round's) |")
heaps = [[int(v) for v in h.split(",")] if h else None for h in sys.argv[16:19]]
for name, h in zip(("warm", "mid-soak", "75 s after the soak"), heaps):
    if h:
        print(f"| allocator {name}: allocated / active / resident / metadata | "
              + " / ".join(mib(v) for v in h) + " |")
print(f"| descriptors 75 s after the soak | {fds_after} |")
print(f"| slow streams completed / errors | {slow['requests'] - slow['errors']} / {slow['errors']} |")
print(f"| idle connections closed by the gateway / connect failures | {idle_r['closed_by_server']} / {idle_r['connect_failures']} |")
print(f"| busy while measuring beside the soak: core 0 (gateway) / core 1 (mock, load) | {cpu[0]:.0f}% / {cpu[1]:.0f}% |")
for name, r in (("before", before), ("during", during), ("after", after_r)):
    print(f"| 200 req/s {name}: p50 / p99 / errors | {r['p50_ms']:.2f} ms / {r['p99_ms']:.2f} ms / {r['errors']} |")
EOF
