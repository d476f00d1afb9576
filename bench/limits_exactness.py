"""Drives the limits exactness harness (bench/limits.sh): 256 concurrent clients against one or
three gateways that count in the same Redis, under a request rate and a token budget.

Each client loops over four kinds of request: plain (the mock reports its usage), over (the mock
reports more completion tokens than max_tokens allows), cancelled (a stream the client drops
after its first chunk: charged its whole reservation) and streamed to the end. The client keeps
the ledger of what the gateway should have charged: reported usage for answers that completed,
the reservation (prompt bytes / 3 rounded up + max_tokens) for cancelled streams, nothing for
429s, 402s and requests cut by a killed replica. At the end it reads the budget's counter from
Redis and compares.

Usage: limits_exactness.py URLS SECONDS RATE BUDGET PREFIX [KILL_PID]
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import signal
import subprocess
import sys
import time

import httpx2

KEY = "bench-client-key-123456"
MAX_TOKENS = 32
CLIENTS = 256


def body(kind: str, i: int) -> bytes:
    b = {"model": "openai/gpt-4o-mini", "max_tokens": MAX_TOKENS,
         "messages": [{"role": "user", "content": f"count for me, request {i}"}]}
    if kind in ("cancelled", "streamed"):
        b["stream"] = True
        b["stream_options"] = {"include_usage": True}
        b["mock"] = {"chunks": 6, "chunk_delay_ms": 40}
    if kind == "cancelled":
        # Long enough that the gateway sees the client leave well before the usage would come:
        # a stream that ends before the gateway notices is charged its usage instead.
        b["mock"] = {"chunks": 40, "chunk_delay_ms": 25}
    if kind == "over":
        # More than max_tokens allows: the gateway must charge it all the same.
        b["mock"] = {"usage": {"completion_tokens": MAX_TOKENS * 4}}
    return json.dumps(b, separators=(",", ":")).encode()


def reservation(b: bytes) -> int:
    return math.ceil(len(b) / 3) + MAX_TOKENS


class Ledger:
    def __init__(self) -> None:
        self.charged = 0
        self.admitted: list[float] = []
        self.counts = {"200": 0, "429": 0, "402": 0, "503": 0, "cut": 0, "cancelled": 0, "over": 0}
        self.max_reservation = 0


async def one(client: httpx2.AsyncClient, urls: list[str], ledger: Ledger, i: int) -> None:
    over = int(os.environ.get("OVER_PCT", "10"))
    cancel = int(os.environ.get("CANCEL_PCT", "20"))
    kind = random.choices(["plain", "over", "cancelled", "streamed"], [90 - over - cancel, over, cancel, 10])[0]
    b = body(kind, i)
    ledger.max_reservation = max(ledger.max_reservation, reservation(b))
    url = random.choice(urls) + "/v1/chat/completions"
    headers = {"authorization": f"Bearer {KEY}", "content-type": "application/json"}
    sent = time.monotonic()
    try:
        async with client.stream("POST", url, content=b, headers=headers) as r:
            if r.status_code != 200:
                await r.aread()
                ledger.counts[str(r.status_code)] = ledger.counts.get(str(r.status_code), 0) + 1
                return
            ledger.admitted.append(sent)
            ledger.counts["200"] += 1
            if kind == "cancelled":
                async for _ in r.aiter_bytes():
                    break
                ledger.charged += reservation(b)
                ledger.counts["cancelled"] += 1
                return
            raw = await r.aread()
    except (httpx2.TransportError, httpx2.RemoteProtocolError):
        ledger.counts["cut"] += 1
        return
    if kind == "streamed":
        usage = None
        for line in raw.decode().splitlines():
            if line.startswith("data: {"):
                u = json.loads(line[6:]).get("usage")
                usage = u or usage
    else:
        usage = json.loads(raw).get("usage")
    if usage is None:
        ledger.counts["cut"] += 1
        return
    if kind == "over":
        ledger.counts["over"] += 1
    ledger.charged += usage["prompt_tokens"] + usage["completion_tokens"]


async def client_loop(client, urls, ledger, deadline, n) -> None:
    i = 0
    while time.monotonic() < deadline:
        i += 1
        await one(client, urls, ledger, n * 100000 + i)


async def main() -> None:
    urls = sys.argv[1].split(",")
    seconds, rate, budget, prefix = float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    kill_pid = int(sys.argv[6]) if len(sys.argv) > 6 else None
    ledger = Ledger()
    limits = httpx2.Limits(max_connections=CLIENTS * 2, max_keepalive_connections=CLIENTS)
    async with httpx2.AsyncClient(timeout=30, limits=limits) as client:
        start = time.monotonic()
        deadline = start + seconds
        tasks = [asyncio.create_task(client_loop(client, urls, ledger, deadline, n)) for n in range(CLIENTS)]
        if kill_pid:
            await asyncio.sleep(seconds / 2)
            os.kill(kill_pid, signal.SIGKILL)
            print(f"killed gateway pid {kill_pid} at {seconds / 2:.1f} s", file=sys.stderr)
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - start
    # Reservations of the killed replica's requests expire (reservation_ttl_secs) and are
    # released by the surviving replicas' sweeps.
    await asyncio.sleep(float(os.environ.get("SETTLE_WAIT", "3")))
    month = time.strftime("%Y-%m", time.gmtime())
    key = f"{prefix}c:budget|org|{month}"
    used = int(subprocess.run(["redis-cli", "HGET", key, "used"], capture_output=True, text=True).stdout.strip() or 0)
    reserved = int(subprocess.run(["redis-cli", "HGET", key, "reserved"], capture_output=True, text=True).stdout.strip() or 0)
    bound = rate + rate * elapsed
    report = {
        "gateways": len(urls), "clients": CLIENTS, "seconds": round(elapsed, 2), "rate_per_s": rate,
        "admitted": len(ledger.admitted), "admitted_bound": math.floor(bound),
        "budget": budget, "ledger": ledger.charged, "counter_used": used, "counter_reserved": reserved,
        "over_budget_by": max(used - budget, 0), "max_reservation": ledger.max_reservation,
        "answers": ledger.counts,
    }
    # Without over-reported usage, nothing admitted can take a budget past its amount: every
    # admission fitted used + reserved under it, and each settles at most what it reserved.
    strict = os.environ.get("OVER_PCT", "10") == "0"
    if kill_pid:
        # A replica killed between finishing answers and settling them takes those charges
        # with it (they are released at expiry, never charged twice): the counter may be below
        # the ledger by what it had not settled, never above it.
        report["lost_with_killed_replica"] = ledger.charged - used
        exact = used <= ledger.charged
    else:
        exact = used == ledger.charged
    ok = (len(ledger.admitted) <= bound and exact and reserved == 0
          and (used <= budget or not strict))
    print(json.dumps(report))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    asyncio.run(main())
