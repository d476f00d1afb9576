#!/usr/bin/env bash
# What naming a stored prompt costs: the same chat request sent whole (its 2 KB system prompt
# written out) and as a `prompt` reference with 20 variables (the gateway renders the same
# 2 KB), against a plain nginx hop and the mock directly, in alternating rounds of the same run.
# The gateway and nginx pinned to core 0; the mock and the load generator on core 1. Closed loop
# (64 connections) for requests/s and CPU per request on core 0; 200 requests/s open loop for
# latency. Then the render alone (`render_cost` example).
# Usage: bench/prompts.sh [seconds-per-measurement] [rounds]   (defaults 8, 3)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-8}
ROUNDS=${2:-3}
source bench/common.sh
ensure_nginx
cargo build --release --locked -q -p switchyard -p switchyard-mock -p switchyard-loadgen
cargo build --release --locked -q -p switchyard-prompts --example render_cost
BIN=$PWD/target/release
MOCK_PORT=19830; GW_PORT=18830; NGINX_PORT=18832
KEY=bench-client-key-123456
ADMIN=bench-admin-key-123
taskset -c 1 $BIN/switchyard-mock --listen 127.0.0.1:$MOCK_PORT --no-record >/dev/null & pids+=($!)
start_nginx $MOCK_PORT $NGINX_PORT
cat > "$TMP/gw.yaml" <<YAML
server: {discover_env: false, admin_keys: [{name: ops, key: $ADMIN}]}
providers:
  - {name: openai, base_url: "http://127.0.0.1:$MOCK_PORT/v1", api_key: x}
client_keys: [{name: bench, key: $KEY}]
YAML
mkdir -p "$TMP/gw"
SWITCHYARD_LOG=warn bash -c 'cd "$1" && exec "${@:2}"' _ "$TMP/gw" taskset -c 0 $BIN/switchyard serve \
  --config "$TMP/gw.yaml" --listen 127.0.0.1:$GW_PORT >/dev/null 2>>"$TMP/gw.log" & GW=$!; pids+=($GW)
wait_port $MOCK_PORT; wait_port $GW_PORT; wait_port $NGINX_PORT
python3 - "$TMP" "$GW_PORT" "$ADMIN" <<'PY'
import json, sys, urllib.request
d, port, admin = sys.argv[1], sys.argv[2], sys.argv[3]
template = "You are {{assistant}}, the support agent of {{company}}.\n"
for i in range(18):
    template += f"Rule {i}: when the customer mentions {{{{topic_{i}}}}}, answer plainly and cite the policy on the matter; never invent facts.\n"
while len(template) < 2048:
    template += "Keep answers short and polite. "
variables = {"assistant": "Ada", "company": "Acme"} | {f"topic_{i}": f"topic number {i}" for i in range(18)}
rendered = template
for k, v in variables.items():
    rendered = rendered.replace("{{" + k + "}}", v)
version = {"messages": [{"role": "system", "content": template}], "model": "gpt-4o-mini",
           "params": {"temperature": 0.2, "max_tokens": 64}}
req = urllib.request.Request(f"http://127.0.0.1:{port}/admin/v1/prompts", method="POST",
                             data=json.dumps({"id": "support", "version": version, "labels": ["production"]}).encode(),
                             headers={"authorization": f"Bearer {admin}", "content-type": "application/json"})
urllib.request.urlopen(req).read()
ask = {"role": "user", "content": "Say hello in one short sentence."}
json.dump({"model": "gpt-4o-mini", "temperature": 0.2, "max_tokens": 64,
           "messages": [{"role": "system", "content": rendered}, ask]}, open(d + "/plain.json", "w"))
json.dump({"prompt": {"id": "support", "variables": variables}, "messages": [ask]}, open(d + "/prompt.json", "w"))
print(f"template {len(template)} bytes, rendered {len(rendered)} bytes")
PY
ticks() {
  local t=0 p
  case $1 in
    nginx) for p in $(pgrep -f 'nginx: worker'); do t=$((t + $(awk '{print $14 + $15}' /proc/$p/stat))); done ;;
    direct) ;;
    *) t=$(awk '{print $14 + $15}' /proc/$1/stat) ;;
  esac
  echo $t
}
LG="taskset -c 1 $BIN/switchyard-loadgen --key $KEY --seconds $SECS"
measure() {  # measure LABEL URL PID BODY
  local t0 t1 c r
  t0=$(ticks "$3")
  c=$($LG --mode closed --connections 64 --url "$2" --body "$4")
  t1=$(ticks "$3")
  r=$($LG --mode rate --rate 200 --connections 16 --url "$2" --body "$4")
  printf '{"label":"%s","cpu_s":%s,"closed":%s,"rate":%s}\n' "$1" \
    "$(echo "($t1 - $t0) / $(getconf CLK_TCK)" | bc -l)" "$c" "$r"
}
path=/v1/chat/completions
: > "$TMP/raw.jsonl"
for round in $(seq "$ROUNDS"); do
  measure direct "http://127.0.0.1:$MOCK_PORT$path" direct "$TMP/plain.json" >> "$TMP/raw.jsonl"
  measure nginx "http://127.0.0.1:$NGINX_PORT$path" nginx "$TMP/plain.json" >> "$TMP/raw.jsonl"
  measure plain "http://127.0.0.1:$GW_PORT$path" $GW "$TMP/plain.json" >> "$TMP/raw.jsonl"
  measure prompt "http://127.0.0.1:$GW_PORT$path" $GW "$TMP/prompt.json" >> "$TMP/raw.jsonl"
done
RENDER=$($BIN/examples/render_cost 200000)
mkdir -p bench/results && cp "$TMP/raw.jsonl" bench/results/prompts-raw.jsonl
python3 - "$TMP/raw.jsonl" "$SECS" "$ROUNDS" "$RENDER" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
secs = float(sys.argv[2])
def med(label, f):
    return statistics.median(f(r) for r in rows if r["label"] == label)
errors = sum(r[k].get("errors", 0) for r in rows for k in ("closed", "rate"))
print(f"median of {sys.argv[3]} rounds of {sys.argv[2]} s; gateway and nginx on core 0, mock and load generator on core 1\n")
print("| target | req/s (closed, 64 conns) | CPU µs/request on core 0 | p50 ms @200 rps | p99 ms @200 rps |")
print("|---|---|---|---|---|")
names = {"direct": "mock directly", "nginx": "nginx hop", "plain": "Switchyard, request written out",
         "prompt": "Switchyard, `prompt` reference (2 KB template, 20 variables)"}
for label in ("direct", "nginx", "plain", "prompt"):
    rps = med(label, lambda r: r["closed"]["rps"])
    cpu = "—" if label == "direct" else f"{med(label, lambda r: r['cpu_s'] / max(r['closed']['rps'] * secs, 1) * 1e6):.0f}"
    print(f"| {names[label]} | {rps:.0f} | {cpu} | {med(label, lambda r: r['rate']['p50_ms']):.3f} | "
          f"{med(label, lambda r: r['rate']['p99_ms']):.3f} |")
print(f"\nrender alone: {sys.argv[4]}")
print(f"errors: {errors}")
sys.exit(0 if errors == 0 else 1)
PY
