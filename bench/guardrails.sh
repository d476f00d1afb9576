#!/usr/bin/env bash
# What guardrails cost: 20 deterministic checks (PII, secrets, injection, Unicode hygiene, a
# pattern) as flag policies, on the input of an 8 KB prompt and on the output of a streamed
# answer whose 20 chunks the mock writes separately; against no policies, in alternating rounds
# of the same run. Gateway pinned to core 0; mock and load generator on core 1. Closed loop (64
# connections) for requests/s and the gateway's CPU per request; 200 requests/s open loop for
# added latency.
# Usage: bench/guardrails.sh [seconds-per-measurement] [rounds]   (defaults 8, 3)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-8}
ROUNDS=${2:-3}
source bench/common.sh
cargo build --release --locked -q -p switchyard -p switchyard-mock -p switchyard-loadgen
BIN=$PWD/target/release
MOCK_PORT=19810; GW_PORT=18810
KEY=bench-client-key-123456
taskset -c 1 $BIN/switchyard-mock --listen 127.0.0.1:$MOCK_PORT --no-record >/dev/null & pids+=($!)
wait_port $MOCK_PORT
# An 8 KB prompt of ordinary prose (no check fires on it), and a streamed request.
python3 - "$TMP" <<'PY'
import json, sys
para = ("The quarterly review covered revenue, hiring and the roadmap for the next release. "
        "Customers asked for faster exports, better search and clearer invoices, and the team "
        "agreed to ship the export work first. Support volume fell by a tenth after the new help "
        "pages went live, and the on-call rotation moved to weekly shifts. ")
text = (para * 40)[:8192]
json.dump({"model": "gpt-4o-mini", "max_tokens": 64,
           "messages": [{"role": "user", "content": text}]}, open(sys.argv[1] + "/prompt-8k.json", "w"))
json.dump({"model": "gpt-4o-mini", "stream": True, "stream_options": {"include_usage": True},
           "messages": [{"role": "user", "content": "Say hello."}],
           "mock": {"chunks": 20, "flush_each": True,
                    "content": "Hello there! Here is a short answer written out in twenty separate pieces so that every chunk arrives on its own, just as a provider streams tokens to a client one after another."}},
          open(sys.argv[1] + "/stream.json", "w"))
PY
CHECKS='[{check: email}, {check: phone}, {check: payment_card}, {check: iban}, {check: us_ssn},
        {check: ip_address}, {check: aws_keys}, {check: gcp_keys}, {check: code_host_tokens},
        {check: slack_tokens}, {check: stripe_keys}, {check: llm_vendor_keys}, {check: private_key},
        {check: jwt}, {check: injection_phrases}, {check: chat_template_tokens},
        {check: invisible_chars}, {check: unicode_tags}, {check: bidi_controls},
        {check: regex_match, patterns: ["(?i)project\\s+falcon"]}]'
config() {  # config none|input|output
  cat <<YAML
server: {discover_env: false}
providers:
  - {name: openai, base_url: "http://127.0.0.1:$MOCK_PORT/v1", api_key: x}
client_keys: [{name: bench, key: $KEY}]
YAML
  [ "$1" = none ] && return 0
  cat <<YAML
guardrails:
  policies:
    - {id: twenty, stages: [$1], checks: $CHECKS}
  attach: {org: [twenty]}
YAML
}
cpu_ticks() { awk '{print $14 + $15}' /proc/$1/stat; }
measure() {  # measure MODE BODY → one JSON line
  config "$1" > "$TMP/$1.yaml"
  mkdir -p "$TMP/$1"
  SWITCHYARD_LOG=warn bash -c 'cd "$1" && exec "${@:2}"' _ "$TMP/$1" taskset -c 0 $BIN/switchyard serve \
    --config "$TMP/$1.yaml" --listen 127.0.0.1:$GW_PORT 2>>"$TMP/gw.log" &
  local gw=$!
  wait_port $GW_PORT
  local u=http://127.0.0.1:$GW_PORT/v1/chat/completions
  local c r t0 t1
  t0=$(cpu_ticks $gw)
  c=$(taskset -c 1 $BIN/switchyard-loadgen --key $KEY --seconds $SECS --mode closed --connections 64 --url $u --body "$2")
  t1=$(cpu_ticks $gw)
  r=$(taskset -c 1 $BIN/switchyard-loadgen --key $KEY --seconds $SECS --mode rate --rate 200 --url $u --body "$2")
  kill $gw; wait $gw 2>/dev/null || true
  printf '{"mode":"%s","body":"%s","cpu_s":%s,"closed":%s,"rate":%s}\n' "$1" "$(basename "$2")" \
    "$(echo "($t1 - $t0) / $(getconf CLK_TCK)" | bc -l)" "$c" "$r"
}
: > "$TMP/raw.jsonl"
for round in $(seq "$ROUNDS"); do
  measure none "$TMP/prompt-8k.json" >> "$TMP/raw.jsonl"
  measure input "$TMP/prompt-8k.json" >> "$TMP/raw.jsonl"
  measure none "$TMP/stream.json" >> "$TMP/raw.jsonl"
  measure output "$TMP/stream.json" >> "$TMP/raw.jsonl"
done
python3 - "$TMP/raw.jsonl" "$SECS" "$ROUNDS" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(mode, body, f):
    return statistics.median(f(r) for r in rows if r["mode"] == mode and r["body"] == body)
errors = sum(r[k].get("errors", 0) for r in rows for k in ("closed", "rate"))
print(f"median of {sys.argv[3]} rounds of {sys.argv[2]} s; gateway on core 0\n")
print("| request | guardrails | req/s (closed, 64 conns) | gateway CPU µs/request | p50 ms @200 rps | p99 ms @200 rps |")
print("|---|---|---|---|---|---|")
for body, name in (("prompt-8k.json", "8 KB prompt"), ("stream.json", "stream, 20 chunks written separately")):
    base = med("none", body, lambda r: r["closed"]["rps"])
    for mode in ("none", "input" if body == "prompt-8k.json" else "output"):
        rps = med(mode, body, lambda r: r["closed"]["rps"])
        cpu = med(mode, body, lambda r: r["cpu_s"] / max(r["closed"]["rps"] * float(sys.argv[2]), 1) * 1e6)
        label = "none" if mode == "none" else f"20 checks on {mode}"
        print(f"| {name} | {label} | {rps:.0f} ({rps / base:.2f}x) | {cpu:.0f} | "
              f"{med(mode, body, lambda r: r['rate']['p50_ms']):.2f} | {med(mode, body, lambda r: r['rate']['p99_ms']):.2f} |")
print(f"\nerrors: {errors}")
sys.exit(0 if errors == 0 else 1)
PY
