"""The console's browser suite: a gateway (with the mock provider behind it and 10,000 seeded
request records) driven by Playwright in Debian's chromium. Each test gets a fresh browser
context; what a page logs as an error fails the test that loaded it. Screenshots go to
target/console-screenshots/."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("SWITCHYARD_BIN", ROOT / "target/debug/switchyard"))
MOCK_BIN = Path(os.environ.get("SWITCHYARD_MOCK_BIN", ROOT / "target/debug/switchyard-mock"))
CHROMIUM = os.environ.get("SWITCHYARD_CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "target/console-screenshots"
ADMIN_KEY = "console-admin-key-123"
CLIENT_KEY = "console-client-key-123"
SEEDED = 10_000


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} not up\n{log.read_text(errors='replace')}")


class Gateway:
    def __init__(self, url: str, mock_url: str, workdir: Path):
        self.url = url
        self.mock_url = mock_url
        self.workdir = workdir

    def chat(self, key: str, content: str) -> int:
        """A chat request with `key`; its status."""
        body = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": content}]}
        req = urllib.request.Request(self.url + "/v1/chat/completions", method="POST", data=json.dumps(body).encode(),
                                     headers={"authorization": f"Bearer {key}", "content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def post(self, path: str, body: dict, key: str = CLIENT_KEY, extra: dict | None = None) -> tuple[int, dict]:
        """A client request; its status and headers."""
        headers = {"authorization": f"Bearer {key}", "content-type": "application/json"} | (extra or {})
        req = urllib.request.Request(self.url + path, method="POST", data=json.dumps(body).encode(), headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, {k.lower(): v for k, v in r.headers.items()}
        except urllib.error.HTTPError as e:
            return e.code, {k.lower(): v for k, v in e.headers.items()}

    def idp_user(self, body: dict) -> None:
        """Who signs in at the mock identity provider next (`{"claims": ...}` or `{"refuse": ...}`)."""
        req = urllib.request.Request(self.mock_url + "/_mock/idp/user", method="POST", data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
        urllib.request.urlopen(req, timeout=10).close()

    def admin(self, method: str, path: str, body: object | None = None, key: str = ADMIN_KEY) -> dict:
        req = urllib.request.Request(self.url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"authorization": f"Bearer {key}", "content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"null")


@pytest.fixture(scope="session")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    for b in (BIN, MOCK_BIN):
        if not os.access(b, os.X_OK):
            pytest.exit(f"{b} is missing: build it first (cargo build)", 2)
    d = tmp_path_factory.mktemp("console")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SWITCHYARD_LOG": "warn"}
    mport, gport = _port(), _port()
    mlog, glog = d / "mock.log", d / "gateway.log"
    mock = subprocess.Popen([str(MOCK_BIN), "--listen", f"127.0.0.1:{mport}"], env=env, cwd=d,
                            stdout=mlog.open("ab"), stderr=subprocess.STDOUT)
    _up(f"http://127.0.0.1:{mport}/_mock/requests", mock, mlog)
    config = d / "gateway.yaml"
    config.write_text(textwrap.dedent(f"""\
        server:
          discover_env: false
          admin_keys: [{{name: ops, key: {ADMIN_KEY}}}]
          log: {{sqlite_path: {d}/log.db, flush_interval_ms: 50, bodies: true}}
          tenants:
            jwt:
              jwks_url: http://127.0.0.1:{mport}/.well-known/jwks.json
              audience: switchyard-console
              oidc:
                authorization_url: http://127.0.0.1:{mport}/_mock/idp/authorize
                token_url: http://127.0.0.1:{mport}/_mock/idp/oauth/token
                client_id: switchyard-console
        providers:
          - {{name: openai, base_url: "http://127.0.0.1:{mport}/v1", api_key: sk-upstream}}
          - {{name: anthropic, base_url: "http://127.0.0.1:{mport}", api_key: sk-ant}}
        client_keys: [{{name: console-tests, key: {CLIENT_KEY}}}]
        cache: {{enabled: true}}
        limits:
          rules:
            - {{id: org-daily-spend, scope: org, dimension: cost_usd, amount: 25, window: day}}
        guardrails:
          policies:
            - {{id: no-pii, stages: [input], action: flag, checks: [{{check: email}}, {{check: phone}}]}}
          attach: {{org: [no-pii]}}
        """))
    seeded = subprocess.run([str(BIN), "logs", "seed", "--config", str(config), "--count", str(SEEDED)],
                            env=env, cwd=d, capture_output=True, text=True, check=True)
    assert json.loads(seeded.stdout)["seeded"] == SEEDED
    gw = subprocess.Popen([str(BIN), "serve", "--config", str(config), "--listen", f"127.0.0.1:{gport}"],
                          env=env, cwd=d, stdout=glog.open("ab"), stderr=subprocess.STDOUT)
    _up(f"http://127.0.0.1:{gport}/healthz", gw, glog)
    yield Gateway(f"http://127.0.0.1:{gport}", f"http://127.0.0.1:{mport}", d)
    for p in (gw, mock):
        p.terminate()
        p.wait(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


class Console:
    """A signed-in page, and what it logged as errors."""

    def __init__(self, page: Page, gateway: Gateway):
        self.page = page
        self.gateway = gateway
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(f"{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

    def sign_in(self, key: str = ADMIN_KEY, wait: bool = True) -> None:
        self.page.goto(self.gateway.url + "/ui/")
        self.page.get_by_label("Admin key or token").fill(key)
        self.page.get_by_role("button", name="Sign in").click()
        if wait:
            self.page.wait_for_selector("#who .actor")

    def open(self, hash_path: str, ready: str) -> None:
        self.page.goto(f"{self.gateway.url}/ui/#{hash_path}")
        self.page.wait_for_selector(ready)

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _context(browser: Browser, **kw: object) -> BrowserContext:
    return browser.new_context(viewport={"width": 1400, "height": 900}, **kw)


@pytest.fixture
def console(browser: Browser, gateway: Gateway) -> Iterator[Console]:
    ctx = _context(browser)
    c = Console(ctx.new_page(), gateway)
    yield c
    ctx.close()
    assert not c.errors, c.errors


@pytest.fixture
def console_without_csp(browser: Browser, gateway: Gateway) -> Iterator[Console]:
    """For injecting axe-core (a script the page's CSP rightly refuses)."""
    ctx = _context(browser, bypass_csp=True)
    c = Console(ctx.new_page(), gateway)
    yield c
    ctx.close()
