#!/usr/bin/env bash
# Instructions per request with the request log off and on (SQLite), counted by callgrind over
# the whole gateway process (the log writer's thread included): a figure that does not move with
# the machine's load, beside bench/logging.sh's requests/s.
# Usage: bench/logging-instructions.sh [requests]   (default 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
cargo build --release --locked -q -p switchyard -p switchyard-mock -p switchyard-loadgen
BIN=$PWD/target/release
MOCK_PORT=19400; GW_PORT=18400; KEY=bench-client-key-123456
source bench/common.sh
taskset -c 1 $BIN/switchyard-mock --listen 127.0.0.1:$MOCK_PORT --no-record >/dev/null & pids+=($!)
declare -A TOTAL
for mode in off on; do
  enabled=$([ $mode = on ] && echo true || echo false)
  cat > "$TMP/$mode.yaml" <<YAML
server:
  discover_env: false
  log: {enabled: $enabled, sqlite_path: "$TMP/requests.db"}
providers:
  - {name: openai, base_url: "http://127.0.0.1:$MOCK_PORT/v1", api_key: x}
client_keys:
  - {name: bench, key: $KEY}
YAML
  for n in 0 "$N"; do
    valgrind --tool=callgrind --callgrind-out-file="$TMP/cg-$mode-$n.out" \
      $BIN/switchyard serve --listen 127.0.0.1:$GW_PORT --config "$TMP/$mode.yaml" 2>"$TMP/gw.log" & G=$!
    for _ in $(seq 300); do (echo > /dev/tcp/127.0.0.1/$GW_PORT) 2>/dev/null && break; sleep 0.1; done
    if [ "$n" != 0 ]; then
      $BIN/switchyard-loadgen --key $KEY --mode closed --connections 8 --requests "$n" --warmup 0 \
        --url http://127.0.0.1:$GW_PORT/v1/chat/completions --body bench/chat.json >/dev/null
    fi
    sleep 1
    kill -INT $G; wait $G || true
    TOTAL[$mode-$n]=$(grep -h '^summary:' "$TMP/cg-$mode-$n.out"* | awk '{s+=$2} END {print s}')
  done
done
# KEEP=dir keeps the callgrind profiles (for callgrind_annotate).
if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp "$TMP"/cg-* "$KEEP"/; fi
off=$(( (${TOTAL[off-$N]} - ${TOTAL[off-0]}) / N ))
on=$(( (${TOTAL[on-$N]} - ${TOTAL[on-0]}) / N ))
commit=$(git rev-parse --short HEAD)
printf 'Instructions per request (callgrind, %s requests, start-up and shutdown subtracted), commit %s:\nlog off %s, log on %s: %+.1f%%\n' \
  "$N" "$commit" "$off" "$on" "$(python3 -c "print(100 * ($on / $off - 1))")"
