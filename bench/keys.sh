#!/usr/bin/env bash
# Virtual keys at scale: the gateway with 10,000 virtual keys in its snapshot, a static key, one
# of the virtual keys and a JWT (RS256, from the mock's identity provider) measured in
# alternating rounds on the same gateway (closed loop, 64 connections), gateway pinned to core
# 0, mock and load generator on core 1.
# Usage: bench/keys.sh [seconds-per-measurement] [rounds] [keys]   (defaults 8, 3, 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-8}
ROUNDS=${2:-3}
NKEYS=${3:-10000}
source bench/common.sh
cargo build --release --locked -q -p switchyard -p switchyard-mock -p switchyard-loadgen
BIN=$PWD/target/release
MOCK_PORT=19400; GW_PORT=18400
KEY=bench-client-key-123456
ADMIN=bench-admin-key-123456
# The server secret, fixed so the seeded keys' hashes match.
SECRET=$(python3 -c 'import base64; print(base64.b64encode(b"bench-secret-0123456789abcdefghij").decode())')
export SWITCHYARD_SECRET_KEY=$SECRET SWITCHYARD_API_KEYS=$KEY SWITCHYARD_ADMIN_KEYS=$ADMIN SWITCHYARD_LOG=warn \
  OPENAI_BASE_URL=http://127.0.0.1:$MOCK_PORT/v1 OPENAI_API_KEY=x \
  SWITCHYARD_JWKS_URL=http://127.0.0.1:$MOCK_PORT/.well-known/jwks.json
taskset -c 1 $BIN/switchyard-mock --listen 127.0.0.1:$MOCK_PORT --no-record >/dev/null & pids+=($!)
wait_port $MOCK_PORT
gateway() {
  bash -c 'cd "$1" && exec "${@:2}"' _ "$TMP" taskset -c 0 $BIN/switchyard serve --listen 127.0.0.1:$GW_PORT 2>>"$TMP/gw.log" &
  GW_PID=$!; pids+=($GW_PID)
  wait_port $GW_PORT
}
# First start makes the schema and the default workspace; the keys are then written straight
# into the store (as many creations through the API would, only faster) and loaded at restart.
gateway
kill $GW_PID; wait $GW_PID 2>/dev/null || true
VKEY=$(python3 - "$TMP/switchyard.db" "$NKEYS" <<'PY'
import base64, hmac, hashlib, json, secrets, sqlite3, sys, time, zlib, os
db, n = sys.argv[1], int(sys.argv[2])
secret = base64.b64decode(os.environ["SWITCHYARD_SECRET_KEY"])
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
def b62(k): return "".join(secrets.choice(B62) for _ in range(k))
def check(body):
    v, out = zlib.crc32(body.encode()), []
    for _ in range(6):
        out.append(B62[v % 62]); v //= 62
    return "".join(reversed(out))
con = sqlite3.connect(db)
now = int(time.time() * 1000)
rows, last = [], None
for i in range(n):
    kid = b62(12)
    body = f"sk-sy-{kid}-{b62(32)}"
    key = body + check(body)
    doc = {"id": kid, "workspace": "default", "name": f"bench-{i}", "disabled": False, "models": [],
           "metadata": {}, "tags": [], "created_ms": now,
           "hash": hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()}
    rows.append((kid, "default", json.dumps(doc)))
    last = key
con.executemany("INSERT INTO tenant_keys (id, workspace, doc) VALUES (?, ?, ?)", rows)
con.execute("UPDATE tenant_version SET version = version + 1 WHERE id = 1")
con.commit()
print(last)
PY
)
gateway
grep -q "$NKEYS virtual keys" "$TMP/gw.log" || { echo "the gateway did not load $NKEYS keys:"; cat "$TMP/gw.log"; exit 1; }
# A caller's token for the default workspace, valid for a day.
JWT=$(curl -s http://127.0.0.1:$MOCK_PORT/_mock/idp/token -H 'content-type: application/json' \
  -d "{\"alg\": \"RS256\", \"claims\": {\"sub\": \"bench\", \"switchyard_workspace\": \"default\", \"exp\": $(( $(date +%s) + 86400 ))}}" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
LG="taskset -c 1 $BIN/switchyard-loadgen --seconds $SECS"
u=http://127.0.0.1:$GW_PORT/v1/chat/completions
: > "$TMP/raw.jsonl"
for round in $(seq "$ROUNDS"); do
  s=$($LG --key "$KEY" --mode closed --connections 64 --url "$u" --body bench/chat.json)
  v=$($LG --key "$VKEY" --mode closed --connections 64 --url "$u" --body bench/chat.json)
  j=$($LG --key "$JWT" --mode closed --connections 64 --url "$u" --body bench/chat.json)
  printf '{"static":%s,"virtual":%s,"jwt":%s}\n' "$s" "$v" "$j" >> "$TMP/raw.jsonl"
done
RSS_KB=$(awk '/VmHWM/ {print $2}' /proc/$GW_PID/status)
python3 - "$TMP/raw.jsonl" "$RSS_KB" "$NKEYS" "$SECS" "$ROUNDS" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rss, n, secs, rounds = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
med = lambda k, f: statistics.median(r[k][f] for r in rows)
s, v = med("static", "rps"), med("virtual", "rps")
errors = sum(r[k].get("errors", 0) for r in rows for k in ("static", "virtual", "jwt"))
j = med("jwt", "rps")
print(f"{n} virtual keys loaded; median of {rounds} rounds of {secs} s, closed loop, 64 connections, gateway on core 0\n")
print("| key | req/s | p99 ms |\n|---|---|---|")
print(f"| static (config) | {s:.0f} | {med('static', 'p99_ms'):.2f} |")
print(f"| virtual (one of {n}) | {v:.0f} | {med('virtual', 'p99_ms'):.2f} |")
print(f"| JWT (RS256, 2048-bit) | {j:.0f} | {med('jwt', 'p99_ms'):.2f} |")
print(f"\nvirtual / static: {v / s:.3f}; JWT / static: {j / s:.3f}; errors: {errors}; gateway peak RSS {rss / 1024:.1f} MiB")
PY
