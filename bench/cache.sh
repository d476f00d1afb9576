#!/usr/bin/env bash
# What the response cache costs and saves: a cache hit (whole, and a streamed request served
# re-streamed) against a miss (cache on, every request distinct), the gateway with the cache
# off, a plain nginx hop and the mock directly, in alternating rounds of the same run. Gateways
# and nginx pinned to core 0; the mock and the load generator on core 1. Closed loop (64
# connections) for requests/s and CPU per request on core 0; 200 requests/s open loop for
# latency. Then the memory bound: a load of distinct requests with 2 KB answers against a
# gateway whose cache may hold 8 MiB, its cache bytes and resident memory read at the end.
# Usage: bench/cache.sh [seconds-per-measurement] [rounds]   (defaults 8, 3)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-8}
ROUNDS=${2:-3}
source bench/common.sh
ensure_nginx
cargo build --release --locked -q -p switchyard -p switchyard-mock -p switchyard-loadgen
BIN=$PWD/target/release
MOCK_PORT=19820; OFF_PORT=18820; ON_PORT=18821; NGINX_PORT=18822; MEM_PORT=18823
KEY=bench-client-key-123456
taskset -c 1 $BIN/switchyard-mock --listen 127.0.0.1:$MOCK_PORT --no-record >/dev/null & pids+=($!)
start_nginx $MOCK_PORT $NGINX_PORT
python3 - "$TMP" <<'PY'
import json, sys
d = sys.argv[1]
ask = [{"role": "system", "content": "You are a helpful assistant."},
       {"role": "user", "content": "Say hello in one short sentence."}]
json.dump({"model": "gpt-4o-mini", "messages": ask, "temperature": 0.2, "max_tokens": 64},
          open(d + "/hit.json", "w"))
json.dump({"model": "gpt-4o-mini", "stream": True, "stream_options": {"include_usage": True},
           "messages": ask, "temperature": 0.2, "max_tokens": 64}, open(d + "/hit-stream.json", "w"))
json.dump({"model": "gpt-4o-mini", "temperature": 0.2, "max_tokens": 64,
           "messages": [ask[0], {"role": "user", "content": "Say hello to visitor __N__."}]},
          open(d + "/miss.json", "w"))
# Distinct requests with 2 KB answers, for the memory bound.
json.dump({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Write item __N__."}],
           "mock": {"content": "lorem ipsum dolor sit amet " * 76}}, open(d + "/fill.json", "w"))
PY
config() {  # config on|off [max_bytes]
  cat <<YAML
server: {discover_env: false, admin_keys: [{name: ops, key: bench-admin-key-123}]}
providers:
  - {name: openai, base_url: "http://127.0.0.1:$MOCK_PORT/v1", api_key: x}
client_keys: [{name: bench, key: $KEY}]
YAML
  [ "$1" = on ] && printf 'cache: {enabled: true, ttl_secs: 3600, max_bytes: %s}\n' "${2:-268435456}"
  return 0
}
serve() {  # serve NAME PORT on|off [max_bytes] → pid
  config "$3" "${4:-}" > "$TMP/$1.yaml"; mkdir -p "$TMP/$1"
  SWITCHYARD_LOG=warn bash -c 'cd "$1" && exec "${@:2}"' _ "$TMP/$1" taskset -c 0 $BIN/switchyard serve \
    --config "$TMP/$1.yaml" --listen 127.0.0.1:$2 >/dev/null 2>>"$TMP/gw.log" &
  echo $!
}
OFF=$(serve off $OFF_PORT off); pids+=($OFF)
ON=$(serve on $ON_PORT on); pids+=($ON)
wait_port $MOCK_PORT; wait_port $OFF_PORT; wait_port $ON_PORT; wait_port $NGINX_PORT
ticks() {  # CPU clock ticks of what serves a target on core 0
  local t=0 p
  case $1 in
    nginx) for p in $(pgrep -f 'nginx: worker'); do t=$((t + $(awk '{print $14 + $15}' /proc/$p/stat))); done ;;
    direct) ;;
    *) t=$(awk '{print $14 + $15}' /proc/$1/stat) ;;
  esac
  echo $t
}
LG0="taskset -c 1 $BIN/switchyard-loadgen --key $KEY"
LG="$LG0 --seconds $SECS"
measure() {  # measure LABEL URL PID BODY [--unique] [--mode stream]
  local label=$1 u=$2 pid=$3 body=$4; shift 4
  local mode=closed; [ "${2:-}" = stream ] && mode=stream
  local extra=(); [ "${1:-}" = --unique ] && extra=(--unique)
  local t0 t1 c r
  t0=$(ticks "$pid")
  c=$($LG --mode $mode --connections 64 --url "$u" --body "$body" "${extra[@]}")
  t1=$(ticks "$pid")
  r=$($LG --mode rate --rate 200 --connections 16 --url "$u" --body "$body" "${extra[@]}")
  printf '{"label":"%s","cpu_s":%s,"closed":%s,"rate":%s}\n' "$label" \
    "$(echo "($t1 - $t0) / $(getconf CLK_TCK)" | bc -l)" "$c" "$r"
}
path=/v1/chat/completions
: > "$TMP/raw.jsonl"
for round in $(seq "$ROUNDS"); do
  [ "${SKIP_ROUNDS:-}" = 1 ] && break
  measure direct "http://127.0.0.1:$MOCK_PORT$path" direct "$TMP/hit.json" >> "$TMP/raw.jsonl"
  measure nginx "http://127.0.0.1:$NGINX_PORT$path" nginx "$TMP/hit.json" >> "$TMP/raw.jsonl"
  measure off "http://127.0.0.1:$OFF_PORT$path" $OFF "$TMP/hit.json" >> "$TMP/raw.jsonl"
  measure miss "http://127.0.0.1:$ON_PORT$path" $ON "$TMP/miss.json" --unique >> "$TMP/raw.jsonl"
  measure hit "http://127.0.0.1:$ON_PORT$path" $ON "$TMP/hit.json" >> "$TMP/raw.jsonl"
  measure hit_stream "http://127.0.0.1:$ON_PORT$path" $ON "$TMP/hit-stream.json" x stream >> "$TMP/raw.jsonl"
  measure nginx_stream "http://127.0.0.1:$NGINX_PORT$path" nginx "$TMP/hit-stream.json" x stream >> "$TMP/raw.jsonl"
done
# The memory bound: 8 MiB of cache under distinct requests (2 KB answers), against the same
# load with the cache off.
rss() { awk '/VmRSS/ {print $2}' /proc/$1/status; }
hwm() { awk '/VmHWM/ {print $2}' /proc/$1/status; }
MEMON=$(serve memon $MEM_PORT on 8388608); pids+=($MEMON); wait_port $MEM_PORT
$LG0 --mode closed --connections 64 --url "http://127.0.0.1:$MEM_PORT$path" --body "$TMP/fill.json" --unique --seconds $((SECS * 2)) > "$TMP/fill-on.json"
METRICS=$(curl -s -H "authorization: Bearer bench-admin-key-123" "http://127.0.0.1:$MEM_PORT/metrics" || true)
ON_RSS=$(rss $MEMON); ON_HWM=$(hwm $MEMON); kill $MEMON
MEMOFF=$(serve memoff $((MEM_PORT + 1)) off); pids+=($MEMOFF); wait_port $((MEM_PORT + 1))
$LG0 --mode closed --connections 64 --url "http://127.0.0.1:$((MEM_PORT + 1))$path" --body "$TMP/fill.json" --unique --seconds $((SECS * 2)) > "$TMP/fill-off.json"
OFF_RSS=$(rss $MEMOFF); OFF_HWM=$(hwm $MEMOFF); kill $MEMOFF
printf '%s\n' "$METRICS" | grep -E '^switchyard_cache_(bytes|entries|max_bytes|stored_total) ' > "$TMP/cache-metrics.txt" || true
mkdir -p bench/results && cp "$TMP/raw.jsonl" bench/results/cache-raw.jsonl
python3 - "$TMP/raw.jsonl" "$SECS" "$ROUNDS" "$TMP/fill-on.json" "$TMP/fill-off.json" "$TMP/cache-metrics.txt" \
  "$ON_RSS" "$ON_HWM" "$OFF_RSS" "$OFF_HWM" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
secs = float(sys.argv[2])
def med(label, f):
    return statistics.median(f(r) for r in rows if r["label"] == label)
errors = sum(r[k].get("errors", 0) for r in rows for k in ("closed", "rate"))
print(f"median of {sys.argv[3]} rounds of {sys.argv[2]} s; gateways and nginx on core 0, mock and load generator on core 1\n")
print("| target | req/s (closed, 64 conns) | CPU µs/request on core 0 | p50 ms @200 rps | p99 ms @200 rps |")
print("|---|---|---|---|---|")
names = {"direct": "mock directly", "nginx": "nginx hop", "off": "Switchyard, cache off",
         "miss": "Switchyard, cache miss (every request distinct)", "hit": "Switchyard, cache hit",
         "hit_stream": "Switchyard, cache hit, streamed request (re-streamed)",
         "nginx_stream": "nginx hop, streamed request (20 chunks)"}
for label in ("direct", "nginx", "off", "miss", "hit", "hit_stream", "nginx_stream") if rows else ():
    rps = med(label, lambda r: r["closed"]["rps"])
    cpu = "—" if label == "direct" else f"{med(label, lambda r: r['cpu_s'] / max(r['closed']['rps'] * secs, 1) * 1e6):.0f}"
    print(f"| {names[label]} | {rps:.0f} | {cpu} | {med(label, lambda r: r['rate']['p50_ms']):.3f} | "
          f"{med(label, lambda r: r['rate']['p99_ms']):.3f} |")
on, off = json.load(open(sys.argv[4])), json.load(open(sys.argv[5]))
m = dict(l.split() for l in open(sys.argv[6]) if l.strip())
on_rss, on_hwm, off_rss, off_hwm = (int(x) for x in sys.argv[7:11])
print(f"\nmemory bound (cache.max_bytes 8 MiB; distinct requests, 2 KB answers, {2 * secs:.0f} s closed loop):")
print(f"- cache on: {on['rps'] * 2 * secs:.0f} requests, {m.get('switchyard_cache_stored_total', '?')} stored, "
      f"{m.get('switchyard_cache_entries', '?')} held in {float(m.get('switchyard_cache_bytes', 0)) / 1048576:.2f} MiB "
      f"(bound {float(m.get('switchyard_cache_max_bytes', 0)) / 1048576:.0f} MiB); RSS {on_rss / 1024:.1f} MiB, peak {on_hwm / 1024:.1f} MiB")
print(f"- cache off: {off['rps'] * 2 * secs:.0f} requests; RSS {off_rss / 1024:.1f} MiB, peak {off_hwm / 1024:.1f} MiB")
errors += on.get("errors", 0) + off.get("errors", 0)
print(f"\nerrors: {errors}")
held = float(m.get("switchyard_cache_bytes", 0))
sys.exit(0 if errors == 0 and 0 < held <= 8388608 else 1)
PY
