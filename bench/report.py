"""Turns bench/run.sh's raw JSON lines into the Markdown table in docs/benchmarks.md."""
import json
import platform
import subprocess
import sys

import statistics

raw, rss_kb, secs, rounds = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
runs = {}
for r in map(json.loads, open(raw)):
    runs.setdefault(r["target"], []).append(r)


def median_run(samples):
    """One record whose every figure is the median of that figure over the rounds."""
    out = {}
    for mode in samples[0]:
        if mode == "target":
            continue
        out[mode] = {k: statistics.median(s[mode][k] for s in samples) for k in samples[0][mode]}
    return out


rows = {t: median_run(s) for t, s in runs.items()}
d, n, g = rows["direct"], rows["nginx"], rows["switchyard"]
x = rows.get("cross_core")


def ratio(a, b):
    return a / b if b else 0.0


cpu = "unknown"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
except OSError:
    pass
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()

print(f"Run: median of {rounds} rounds of {secs} s per measurement, commit {commit}, {cpu}, {platform.machine()}; "
      "gateway/nginx on core 0, mock + load generator on core 1; client auth on.\n")
print("| measurement | direct to mock | nginx hop | switchyard | switchyard / nginx | target |")
print("|---|---|---|---|---|---|")
print(f"| closed-loop req/s, 64 conns | {d['closed']['rps']:.0f} | {n['closed']['rps']:.0f} | {g['closed']['rps']:.0f} "
      f"| {ratio(g['closed']['rps'], n['closed']['rps']):.2f}x | >= 0.6x |")
print(f"| stream req/s (20 chunks), 64 conns | {d['stream']['rps']:.0f} | {n['stream']['rps']:.0f} | {g['stream']['rps']:.0f} "
      f"| {ratio(g['stream']['rps'], n['stream']['rps']):.2f}x | >= 0.6x |")
if "stream_sep" in g:
    print(f"| stream req/s (20 chunks written separately), 64 conns | {d['stream_sep']['rps']:.0f} | {n['stream_sep']['rps']:.0f} "
          f"| {g['stream_sep']['rps']:.0f} | {ratio(g['stream_sep']['rps'], n['stream_sep']['rps']):.2f}x | >= 0.8x |")
    if "cpu_closed" in g:
        print(f"| core-0 CPU µs per closed-loop request | | {n['cpu_closed']['us_per_req']:.0f} | {g['cpu_closed']['us_per_req']:.0f} "
              f"| {ratio(g['cpu_closed']['us_per_req'], n['cpu_closed']['us_per_req']):.2f}x nginx's | |")
    print(f"| core-0 CPU µs per such request | | {n['cpu_sep']['us_per_req']:.0f} | {g['cpu_sep']['us_per_req']:.0f} "
          f"| {ratio(g['cpu_sep']['us_per_req'], n['cpu_sep']['us_per_req']):.2f}x nginx's | |")
for key, label in (("p50_ms", "p50"), ("p99_ms", "p99")):
    print(f"| latency {label} at 500 req/s (ms) | {d['rate'][key]:.3f} | {n['rate'][key]:.3f} | {g['rate'][key]:.3f} "
          f"| added vs direct: {g['rate'][key] - d['rate'][key]:+.3f} ms | "
          f"{'<= 0.10 ms added' if label == 'p99' else ''} |")
print(f"| time to first chunk p50, 1 conn (ms) | {d['stream1']['first_p50_ms']:.3f} | {n['stream1']['first_p50_ms']:.3f} "
      f"| {g['stream1']['first_p50_ms']:.3f} | added vs direct: {g['stream1']['first_p50_ms'] - d['stream1']['first_p50_ms']:+.3f} ms | <= 0.15 ms added |")
print(f"| errors (all runs) | {sum(r[k]['errors'] for r in [d] for k in ('closed','rate','stream','stream1'))} "
      f"| {sum(n[k]['errors'] for k in ('closed','rate','stream','stream1'))} "
      f"| {sum(g[k]['errors'] for k in ('closed','rate','stream','stream1'))} | | 0 |")
print(f"| switchyard peak RSS | | | {rss_kb / 1024:.1f} MiB | | <= 32 MiB |")
if x:
    print()
    print("One cross-core hop by itself (load on core 1, a mock pinned to core 0, no proxy): "
          f"p50 {x['rate']['p50_ms'] - d['rate']['p50_ms']:+.3f} ms, p99 {x['rate']['p99_ms'] - d['rate']['p99_ms']:+.3f} ms "
          f"at 500 req/s, first chunk {x['stream1']['first_p50_ms'] - d['stream1']['first_p50_ms']:+.3f} ms, "
          "relative to direct-to-mock on the same core. A proxy on core 0 adds two such hops.")
b = rows.get("baseline")
if b:
    print()
    print("The same measurements against an older build (`BASELINE_BIN`), in the same rounds:")
    print()
    print("| measurement | baseline build | this build | this / baseline |")
    print("|---|---|---|---|")
    for mode, label in (("closed", "closed-loop req/s, 64 conns"), ("stream", "stream req/s (20 chunks), 64 conns"),
                        ("stream_sep", "stream req/s (20 chunks written separately), 64 conns")):
        print(f"| {label} | {b[mode]['rps']:.0f} | {g[mode]['rps']:.0f} | {ratio(g[mode]['rps'], b[mode]['rps']):.2f}x |")
    print(f"| core-0 CPU µs per closed-loop request | {b['cpu_closed']['us_per_req']:.0f} | {g['cpu_closed']['us_per_req']:.0f} "
          f"| {ratio(g['cpu_closed']['us_per_req'], b['cpu_closed']['us_per_req']):.2f}x |")
    print(f"| core-0 CPU µs per separately-chunked stream | {b['cpu_sep']['us_per_req']:.0f} | {g['cpu_sep']['us_per_req']:.0f} "
          f"| {ratio(g['cpu_sep']['us_per_req'], b['cpu_sep']['us_per_req']):.2f}x |")
    print(f"| latency p50 / p99 at 500 req/s (ms) | {b['rate']['p50_ms']:.3f} / {b['rate']['p99_ms']:.3f} "
          f"| {g['rate']['p50_ms']:.3f} / {g['rate']['p99_ms']:.3f} | |")
t = rows.get("translated")
if t:
    print()
    print("Translated paths (OpenAI chat in; Anthropic Messages, and Gemini generateContent, upstream at the mock):")
    print()
    print("| measurement | nginx hop (plain) | switchyard translated | ratio | target |")
    print("|---|---|---|---|---|")
    print(f"| closed-loop req/s, 64 conns | {n['closed']['rps']:.0f} | {t['closed']['rps']:.0f} "
          f"| {ratio(t['closed']['rps'], n['closed']['rps']):.2f}x | >= 0.4x |")
    print(f"| stream req/s, 64 conns (Anthropic events → OpenAI chunks) | {n['stream']['rps']:.0f} | {t['stream']['rps']:.0f} "
          f"| {ratio(t['stream']['rps'], n['stream']['rps']):.2f}x | |")
    tg = rows.get("translated_gemini")
    if tg:
        print(f"| closed-loop req/s, 64 conns, Gemini upstream | {n['closed']['rps']:.0f} | {tg['closed']['rps']:.0f} "
              f"| {ratio(tg['closed']['rps'], n['closed']['rps']):.2f}x | >= 0.4x |")
        print(f"| stream req/s, 64 conns (Gemini SSE → OpenAI chunks) | {n['stream']['rps']:.0f} | {tg['stream']['rps']:.0f} "
              f"| {ratio(tg['stream']['rps'], n['stream']['rps']):.2f}x | |")
    errors = t['closed']['errors'] + t['stream']['errors']
    if tg:
        errors += tg['closed']['errors'] + tg['stream']['errors']
    print(f"| errors | | {errors} | | 0 |")
