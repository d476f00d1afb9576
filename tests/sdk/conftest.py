"""Fixtures for driving the Switchyard gateway with the official client SDKs.

One mock provider (`switchyard-mock`) and one gateway (`switchyard serve`) run for the whole
session; tests that need other settings (timeouts, body limits, several providers, a process of
their own to signal) start an extra gateway with `start_gateway`, which stops it afterwards.

Binaries come from SWITCHYARD_BIN and SWITCHYARD_MOCK_BIN, defaulting to target/debug.
Each child process logs to a file under pytest's temporary directory; a failing readiness wait
includes the log in its error.
"""

from __future__ import annotations

import os
import socket
import subprocess
import textwrap
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx2
import openai
import pytest

ROOT = Path(__file__).resolve().parents[2]
SWITCHYARD_BIN = Path(os.environ.get("SWITCHYARD_BIN", ROOT / "target/debug/switchyard"))
MOCK_BIN = Path(os.environ.get("SWITCHYARD_MOCK_BIN", ROOT / "target/debug/switchyard-mock"))

#: The key callers present to the gateway.
CLIENT_KEY = "client-key-123"
#: The key the gateway presents to the mock; the mock refuses any other.
UPSTREAM_KEY = "upstream-key-456"
#: The test service account whose signed assertions the mock's token endpoint accepts.
VERTEX_SA = ROOT / "tests/fixtures/vertex-service-account.json"
#: The AWS keys whose SigV4 signatures the mock's Bedrock routes accept (AWS's documentation
#: example keys, not real ones).
AWS_ACCESS_KEY = "AKIDEXAMPLE"
AWS_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#: Text the mock answers with unless told otherwise.
MOCK_TEXT = "Hello! This is the mock provider answering."

READY_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0
#: Timeout for every SDK call: long enough for a debug build, short enough to fail fast.
CLIENT_TIMEOUT_S = 10.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """A child process listening on a port, with its output in a log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int, log: Path):
        self.name = name
        self.argv = argv
        self.env = env
        self.port = port
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                # The gateway's request log (switchyard.db) goes beside the service's log.
                cwd=self.log.parent,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def wait_ready(self, path: str, timeout: float = READY_TIMEOUT_S) -> bool:
        """Polls GET `path` until 200. False when the process exited first (e.g. port taken)."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                if httpx2.get(self.url + path, timeout=1.0).status_code == 200:
                    return True
            except httpx2.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"{self.name} did not answer GET {path} within {timeout}s\n--- log ---\n{self.log_text()}"
        )

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int | None:
        """SIGTERM, then SIGKILL if it does not exit in time. Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        return self.proc.returncode


def start_service(
    name: str,
    argv_for_port: Callable[[int], list[str]],
    env: dict[str, str],
    log: Path,
    ready_path: str,
    attempts: int = 3,
) -> Service:
    """Starts a service on a free port; retries on another port if the process exits early."""
    binary = argv_for_port(0)[0]
    if not os.access(binary, os.X_OK):
        pytest.exit(f"{binary} is missing or not executable: build it first (cargo build)", 2)
    last = ""
    for _ in range(attempts):
        port = free_port()
        svc = Service(name, argv_for_port(port), env, port, log)
        svc.start()
        if svc.wait_ready(ready_path):
            return svc
        svc.stop()
        last = svc.log_text()
    raise RuntimeError(f"{name} exited before becoming ready ({attempts} tries)\n--- log ---\n{last}")


def base_env() -> dict[str, str]:
    """A clean environment: nothing from the caller's shell (provider keys, SWITCHYARD_CONFIG)
    can leak into the gateway and add providers the tests do not expect."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "RUST_BACKTRACE": "1"}
    env["SWITCHYARD_LOG"] = os.environ.get("SWITCHYARD_LOG", "info")
    return env


class Mock:
    """The mock provider and its control endpoints."""

    def __init__(self, svc: Service):
        self.svc = svc
        self.http = httpx2.Client(base_url=svc.url, timeout=5.0)

    @property
    def url(self) -> str:
        return self.svc.url

    @property
    def base_url(self) -> str:
        """What a provider's base_url should be set to."""
        return self.svc.url + "/v1"

    def requests(self) -> list[dict[str, Any]]:
        r = self.http.get("/_mock/requests")
        r.raise_for_status()
        return r.json()

    def last_request(self, path: str | None = None) -> dict[str, Any]:
        reqs = [r for r in self.requests() if path is None or r["path"] == path]
        assert reqs, f"the mock received no request{' for ' + path if path else ''}"
        return reqs[-1]

    def clear_requests(self) -> None:
        self.http.delete("/_mock/requests").raise_for_status()

    def push_faults(self, *faults: dict[str, Any]) -> None:
        """Queues faults; each is used by one of the next requests, in order."""
        self.http.post("/_mock/faults", json=list(faults)).raise_for_status()

    def clear_faults(self) -> None:
        self.http.delete("/_mock/faults").raise_for_status()

    def load_script(self, script: dict[str, Any]) -> None:
        """Loads an agent script: the model's turns of an agent loop (see the mock's script.rs)."""
        self.http.post("/_mock/script", json=script).raise_for_status()

    def script(self) -> dict[str, Any]:
        """`{loaded, steps, played}`: the steps played so far, in order."""
        r = self.http.get("/_mock/script")
        r.raise_for_status()
        return r.json()

    def clear_script(self) -> None:
        self.http.delete("/_mock/script").raise_for_status()

    def stats(self) -> dict[str, int]:
        r = self.http.get("/_mock/stats")
        r.raise_for_status()
        return r.json()


def header(recorded: dict[str, Any], name: str) -> str | None:
    """First value of a header in a recorded request, by case-insensitive name."""
    for k, v in recorded["headers"]:
        if k.lower() == name.lower():
            return v
    return None


class Gateway:
    """A running `switchyard serve`."""

    def __init__(self, svc: Service):
        self.svc = svc

    @property
    def url(self) -> str:
        return self.svc.url

    @property
    def base_url(self) -> str:
        return self.svc.url + "/v1"

    def client(self, api_key: str = CLIENT_KEY, **kw: Any) -> openai.OpenAI:
        kw.setdefault("max_retries", 0)
        kw.setdefault("timeout", CLIENT_TIMEOUT_S)
        return openai.OpenAI(base_url=self.base_url, api_key=api_key, **kw)

    def post(self, path: str, **kw: Any) -> httpx2.Response:
        """A raw POST, for requests the SDK would not send. Authenticated unless headers say."""
        headers = kw.pop("headers", {"authorization": f"Bearer {CLIENT_KEY}"})
        return httpx2.post(self.url + path, headers=headers, timeout=CLIENT_TIMEOUT_S, **kw)

    def log_text(self) -> str:
        return self.svc.log_text()


def _gateway_argv(config: Path | None) -> Callable[[int], list[str]]:
    def argv(port: int) -> list[str]:
        out = [str(SWITCHYARD_BIN), "serve", "--listen", f"127.0.0.1:{port}"]
        if config is not None:
            out += ["--config", str(config)]
        return out

    return argv


def launch_gateway(
    log_dir: Path, name: str, env: dict[str, str], config_yaml: str | None = None
) -> Gateway:
    config = None
    if config_yaml is not None:
        config = log_dir / f"{name}.yaml"
        config.write_text(textwrap.dedent(config_yaml))
    svc = start_service(name, _gateway_argv(config), env, log_dir / f"{name}.log", "/healthz")
    return Gateway(svc)


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="session")
def logs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("services")


@pytest.fixture(scope="session")
def mock(logs_dir: Path) -> Iterator[Mock]:
    svc = start_service(
        "switchyard-mock",
        lambda port: [
            str(MOCK_BIN), "--listen", f"127.0.0.1:{port}", "--expect-key", UPSTREAM_KEY,
            "--google-credentials", str(VERTEX_SA),
            "--aws-access-key", AWS_ACCESS_KEY, "--aws-secret-key", AWS_SECRET_KEY,
        ],
        base_env(),
        logs_dir / "mock.log",
        "/_mock/stats",
    )
    m = Mock(svc)
    yield m
    m.http.close()
    svc.stop()


def gateway_env(mock: Mock, **extra: str) -> dict[str, str]:
    """Environment for a gateway whose one provider (openai) is the mock, with client auth on."""
    env = base_env()
    env.update(
        OPENAI_BASE_URL=mock.base_url,
        OPENAI_API_KEY=UPSTREAM_KEY,
        SWITCHYARD_API_KEYS=CLIENT_KEY,
    )
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def gateway(mock: Mock, logs_dir: Path) -> Iterator[Gateway]:
    gw = launch_gateway(logs_dir, "gateway", gateway_env(mock))
    yield gw
    gw.svc.stop()


@pytest.fixture(scope="session")
def client(gateway: Gateway) -> Iterator[openai.OpenAI]:
    c = gateway.client()
    yield c
    c.close()


@pytest.fixture(autouse=True)
def _fresh_mock(mock: Mock) -> None:
    """Every test starts with an empty request log, no queued faults and no agent script."""
    mock.clear_faults()
    mock.clear_requests()
    mock.clear_script()


@pytest.fixture
def start_gateway(mock: Mock, tmp_path: Path) -> Iterator[Callable[..., Gateway]]:
    """Starts extra gateways for one test: `start_gateway(config_yaml=None, env=None)`.

    `env` entries are added to an environment with the mock as the openai provider and client
    auth on; a None value removes a variable. The YAML is dedented and passed with --config.
    Every gateway started here is stopped after the test.
    """
    started: list[Gateway] = []

    def start(config_yaml: str | None = None, env: dict[str, str | None] | None = None) -> Gateway:
        full = gateway_env(mock)
        for k, v in (env or {}).items():
            if v is None:
                full.pop(k, None)
            else:
                full[k] = v
        gw = launch_gateway(tmp_path, f"gateway-{len(started)}", full, config_yaml)
        started.append(gw)
        return gw

    yield start
    for gw in started:
        gw.svc.stop()


# ---------------------------------------------------------------------------------------------
# The conformance matrix (test_conformance.py): each cell's outcome, rendered into
# docs/compatibility.md between the markers below at the end of a full run.

MATRIX_DOC = ROOT / "docs/compatibility.md"
MATRIX_START = "<!-- conformance matrix: generated by tests/sdk/test_conformance.py -->"
MATRIX_END = "<!-- end of conformance matrix -->"
#: (inbound, feature, upstream) → outcome ("passed", "failed", "skipped").
CONFORMANCE: dict[tuple[str, str, str], str] = {}


def _cell_key(item: pytest.Item) -> tuple[str, str, str] | None:
    if not item.nodeid.split("::")[0].endswith("test_conformance.py"):
        return None
    params = getattr(item, "callspec", None)
    if params is None:
        return None
    p = params.params
    name = item.originalname if hasattr(item, "originalname") else item.name
    if name == "test_cell":
        return (p["inbound"], p["feature"], p["upstream"])
    if name == "test_embeddings_cell":
        return ("OpenAI embeddings", "floats and base64", p["upstream"])
    if name == "test_count_tokens_cell":
        return ("Anthropic count_tokens", "input tokens", p["upstream"])
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    rep = yield
    key = _cell_key(item)
    if key is not None and (rep.when == "call" or rep.outcome != "passed"):
        CONFORMANCE[key] = rep.outcome
    return rep


def render_matrix(upstreams: list[str], refused: dict[tuple[str, str], str], estimated: set[str]) -> str:
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for (inbound, feature, upstream), outcome in CONFORMANCE.items():
        op = {"OpenAI embeddings": "embeddings", "Anthropic count_tokens": "count_tokens"}.get(inbound)
        note = refused.get((op, upstream)) if op else None
        if outcome == "passed" and op == "count_tokens" and upstream in estimated:
            text = "pass (gateway estimate)"
        elif outcome == "passed":
            text = f"refused as documented ({note})" if note else "pass"
        else:
            text = outcome.upper()
        rows.setdefault((inbound, feature), {})[upstream] = text
    lines = [
        MATRIX_START,
        "",
        "| inbound API | feature | " + " | ".join(upstreams) + " |",
        "|---|---|" + "---|" * len(upstreams),
    ]
    for (inbound, feature), cells in rows.items():
        lines.append(f"| {inbound} | {feature} | " + " | ".join(cells.get(u, "not run") for u in upstreams) + " |")
    lines += ["", MATRIX_END]
    return "\n".join(lines)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    try:
        import test_conformance as tc
    except ImportError:
        return
    expected = {tuple(p.values[:3]) for p in tc.CELLS}
    expected |= {("OpenAI embeddings", "floats and base64", u) for u in tc.UPSTREAMS}
    expected |= {("Anthropic count_tokens", "input tokens", u) for u in tc.UPSTREAMS}
    if set(CONFORMANCE) != expected:
        return  # a partial run: the matrix is only checked when every cell ran
    table = render_matrix(list(tc.UPSTREAMS), tc.REFUSED, tc.ESTIMATED)
    doc = MATRIX_DOC.read_text()
    start, end = doc.find(MATRIX_START), doc.find(MATRIX_END)
    if start < 0 or end < 0:
        current, new_doc = "", doc.rstrip("\n") + "\n\n" + table + "\n"
    else:
        current = doc[start : end + len(MATRIX_END)]
        new_doc = doc[:start] + table + doc[end + len(MATRIX_END) :]
    if current == table:
        return
    if os.environ.get("SWITCHYARD_UPDATE_MATRIX") == "1":
        MATRIX_DOC.write_text(new_doc)
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(
            "docs/compatibility.md: the conformance matrix differs from this run's results; "
            "rerun with SWITCHYARD_UPDATE_MATRIX=1 to rewrite it:\n" + table,
            red=True,
        )
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
