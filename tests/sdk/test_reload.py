"""Config reloads of the running binary under load: eight OpenAI SDK clients keep requests
going (plain and streamed) while the config file is rewritten and the gateway sent SIGHUP, over
and over; no request fails, and the new routes apply. A file with mistakes is refused (the
running config stays, the refusal is counted and logged); a change to the file alone, with no
signal, is picked up by the poll."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path
from typing import Iterator

import httpx2
import openai
import pytest

from conftest import CLIENT_KEY, UPSTREAM_KEY, Gateway, Mock, base_env, launch_gateway

ADMIN_KEY = "admin-key-reload-1"


def config(mock: Mock, routes: dict[str, str]) -> str:
    text = f"""server:
  discover_env: false
  admin_keys:
    - name: ops
      key: {ADMIN_KEY}
providers:
  - name: openai
    base_url: {mock.base_url}
    api_key: {UPSTREAM_KEY}
client_keys:
  - name: sdk
    key: {CLIENT_KEY}
"""
    if routes:
        text += "routes:\n" + "".join(f"  {name}: {{model: {target}}}\n" for name, target in routes.items())
    return text


def reloads(url: str) -> dict[str, int]:
    text = httpx2.get(url + "/metrics", headers={"authorization": f"Bearer {ADMIN_KEY}"}, timeout=5).text
    out = {}
    for line in text.splitlines():
        if line.startswith("switchyard_config_reloads_total{"):
            result = line.split('result="')[1].split('"')[0]
            out[result] = int(float(line.rsplit(" ", 1)[1]))
    return out


def upstream_model(mock: Mock) -> str:
    chats = [r for r in mock.requests() if r["path"].endswith("/chat/completions")]
    return json.loads(chats[-1]["body"])["model"]


@pytest.fixture
def gw(mock: Mock, tmp_path: Path) -> Iterator[Gateway]:
    env = base_env()
    env["SWITCHYARD_CONFIG_POLL_MS"] = "100"
    g = launch_gateway(tmp_path, "reload", env, config(mock, {}))
    yield g
    g.svc.stop()


def test_reloads_under_load_drop_nothing_and_apply_new_routes(mock: Mock, gw: Gateway, tmp_path: Path) -> None:
    path = tmp_path / "reload.yaml"
    stop = threading.Event()
    done: list[int] = []
    failures: list[str] = []

    def worker(i: int) -> None:
        client = gw.client()
        n = 0
        while not stop.is_set():
            n += 1
            try:
                if n % 2:
                    r = client.chat.completions.create(
                        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": f"hi {i}"}]
                    )
                    assert r.choices[0].message.content
                else:
                    chunks = list(
                        client.chat.completions.create(
                            model="openai/gpt-4o-mini",
                            messages=[{"role": "user", "content": f"hi {i}"}],
                            stream=True,
                            stream_options={"include_usage": True},
                        )
                    )
                    assert chunks[-1].usage is not None
                done.append(1)
            except Exception as e:  # noqa: BLE001 - every failure is the finding
                failures.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    try:
        # Twenty reloads by signal, alternating two configs, a route added and taken away.
        # Each is awaited before the next: signals sent faster than a loaded machine handles
        # them coalesce into one (as POSIX signals do), which is not a reload lost.
        for n in range(20):
            before = reloads(gw.url).get("applied", 0)
            routes = {"fast": "openai/gpt-4o-mini"} if n % 2 else {"fast": "openai/gpt-4.1-nano"}
            path.write_text(config(mock, routes))
            gw.svc.signal(signal.SIGHUP)
            deadline = time.monotonic() + 5
            while reloads(gw.url).get("applied", 0) <= before and time.monotonic() < deadline:
                time.sleep(0.02)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert failures == [], failures[:5]
    assert len(done) > 100, len(done)
    # The last config's route is the one served.
    client = gw.client()
    client.chat.completions.create(model="fast", messages=[{"role": "user", "content": "x"}])
    assert upstream_model(mock) == "gpt-4o-mini"
    counted = reloads(gw.url)
    assert counted.get("applied", 0) >= 20 and counted.get("refused", 0) == 0, counted

    # A file with a mistake: refused by the poll, the running config serves on.
    path.write_text(config(mock, {"fast": "openai/gpt-4o, retries: 3"}))
    deadline = time.monotonic() + 5
    while reloads(gw.url).get("refused", 0) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reloads(gw.url).get("refused") == 1
    client.chat.completions.create(model="fast", messages=[{"role": "user", "content": "x"}])
    assert upstream_model(mock) == "gpt-4o-mini"
    assert "config reload refused" in gw.log_text()
    assert "routes.fast" in gw.log_text()

    # The file fixed, no signal: the poll applies it.
    path.write_text(config(mock, {"fast": "openai/gpt-4.1-mini", "second": "openai/o3"}))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            client.chat.completions.create(model="second", messages=[{"role": "user", "content": "x"}])
            if upstream_model(mock) == "o3":
                break
        except openai.APIStatusError:
            pass
        time.sleep(0.05)
    assert upstream_model(mock) == "o3"
    client.chat.completions.create(model="fast", messages=[{"role": "user", "content": "x"}])
    assert upstream_model(mock) == "gpt-4.1-mini"
