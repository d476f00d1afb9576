#!/usr/bin/env bash
# The console over a large log: 1,000,000 seeded records in the embedded store (SQLite), the
# release gateway, and Playwright in Debian's chromium timing the logs page: from navigation to
# the first rows painted, and from a filter's Apply to the filtered rows painted, for several
# filters (median of 5 each); then the same admin API calls timed alone.
# Usage: bench/console.sh [records]   (default 1000000). Needs scripts/browser-tests.sh's .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
source bench/common.sh
cargo build --release --locked -q -p switchyard
BIN=$PWD/target/release
PORT=18950
KEY=bench-console-admin-key
cat > "$TMP/gw.yaml" <<YAML
server:
  discover_env: false
  admin_keys: [{name: ops, key: $KEY}]
  log: {sqlite_path: $TMP/log.db, retention_days: 0}
providers:
  - {name: openai, base_url: "http://127.0.0.1:9/v1", api_key: x}
YAML
start=$(date +%s.%N)
$BIN/switchyard logs seed --config "$TMP/gw.yaml" --count "$N" --days 30 >/dev/null
echo "seeded $N records in $(echo "$(date +%s.%N) - $start" | bc) s; file $(du -h "$TMP/log.db" | cut -f1)"
SWITCHYARD_LOG=warn $BIN/switchyard serve --config "$TMP/gw.yaml" --listen 127.0.0.1:$PORT >/dev/null 2>"$TMP/gw.log" & pids+=($!)
wait_port $PORT
.venv/bin/python - "$PORT" "$KEY" "$N" <<'PY'
import statistics, sys, time, urllib.request
from playwright.sync_api import sync_playwright
port, key, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
base = f"http://127.0.0.1:{port}"
FILTERS = [("model", "gpt-4o"), ("status", "5xx"), ("key", "ci"), ("workspace", "support"),
           ("cache", "hit"), ("provider", "groq")]
def api(path):
    t = time.perf_counter()
    req = urllib.request.Request(base + "/admin/v1" + path, headers={"authorization": f"Bearer {key}"})
    with urllib.request.urlopen(req) as r:
        r.read()
    return (time.perf_counter() - t) * 1000
rows = []
with sync_playwright() as p:
    b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
    page = b.new_page(viewport={"width": 1400, "height": 900})
    page.goto(base + "/ui/")
    page.fill("#token", key)
    page.click("button[type=submit]")
    page.wait_for_selector("#who .actor")
    def first_paint():
        t = time.perf_counter()
        page.goto(base + "/ui/#/")  # away, then to the logs page as a user would
        page.wait_for_selector(".stat-value", timeout=60000)
        t = time.perf_counter()
        page.goto(base + "/ui/#/logs")
        page.wait_for_selector(".vt-spacer .vt-row")
        return (time.perf_counter() - t) * 1000
    fp = [first_paint() for _ in range(5)]
    rows.append(("logs page, first rows painted (no filter)", statistics.median(fp), max(fp)))
    for k, v in FILTERS:
        times = []
        for _ in range(5):
            page.goto(base + "/ui/#/logs")
            page.wait_for_selector(".vt-spacer .vt-row")
            page.fill(f"#f-{k}", v)
            t = time.perf_counter()
            page.click("button[type=submit]")
            page.wait_for_function(
                "([k, v]) => location.hash.includes(k + '=') && document.querySelectorAll('.vt-spacer .vt-row').length > 0",
                arg=[k, v], timeout=60000)
            times.append((time.perf_counter() - t) * 1000)
        rows.append((f"filter {k}={v}, rows painted", statistics.median(times), max(times)))
    t = time.perf_counter()
    page.goto(base + "/ui/#/?range=30d")
    page.wait_for_selector(".stat-value", timeout=120000)
    page.wait_for_function("() => !document.querySelector('.loading')", timeout=120000)
    rows.append(("overview, 30 days (one analytics read with totals)", (time.perf_counter() - t) * 1000, None))
    b.close()
print(f"\n{n:,} records in SQLite; gateway (release) and chromium on this machine's 2 cores\n")
print("| what | median ms | max ms |\n|---|---|---|")
for name, med, mx in rows:
    print(f"| {name} | {med:.0f} | {'' if mx is None else f'{mx:.0f}'} |")
print("\n| admin API call alone | median ms of 5 |\n|---|---|")
for path in ["/logs?limit=200"] + [f"/logs?limit=200&{k}={v}" for k, v in FILTERS] + ["/analytics?bucket=1d"]:
    print(f"| GET {path} | {statistics.median(api(path) for _ in range(5)):.0f} |")
PY
