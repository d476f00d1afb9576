"""The real agentic coding CLIs through the gateway: Claude Code, Codex, Cline and aider.

Each run is one agent loop against a model the mock plays from a script (the mock's
`script.rs`): the model asks the agent's own write tool to create `greeting.txt`, then its shell
tool to run a command that reads that file and writes `shout.txt`, then gives a final answer that
quotes the command's output, which it can only know from the tool result it was sent. Every tool
runs against an upstream of its own format and against others, so the gateway's translation
carries each tool's real requests (the fields, tools and streams of the pinned releases in
tests/agents/package.json) both ways.

What is asserted is what happened, never the exit code alone (the agents exit 0 after many
failures): the two files in the scratch directory, the script's steps played, the upstream's
request log (path of its own format, streamed, the gateway's key and header, the agent's calls
and the tool result in the history) and the gateway's request log (what the field policy left
out). Every run has a fresh HOME, TMPDIR and working directory, a timeout and no stdin.

The tools are installed by scripts/agent-tools.sh (run by scripts/sdk-tests.sh); a missing one
fails the test rather than skipping it.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator

import httpx2
import pytest

from conftest import CLIENT_KEY, ROOT, UPSTREAM_KEY, Gateway, Mock, base_env, header, launch_gateway

TOOLS = ROOT / "tests/agents"
NODE_BIN = TOOLS / "node_modules/.bin"
AIDER = TOOLS / ".venv-aider/bin/aider"
ADMIN_KEY = "admin-key-agents-1"
RUN_TIMEOUT_S = 90

GREETING = "hello from switchyard\n"
SHOUT = "HELLO FROM SWITCHYARD"
COMMAND = "tr a-z A-Z < greeting.txt | tee shout.txt"
PATCH = "*** Begin Patch\n*** Add File: greeting.txt\n+hello from switchyard\n*** End Patch\n"
FINAL = "The command printed: {last_result}"

#: The provider each upstream format is reached through, and the mock's path for it.
UPSTREAMS = {
    "up-openai": ("openai-compatible", "/v1/chat/completions"),
    "up-anthropic": ("anthropic", "/v1/messages"),
    "up-gemini": ("gemini", "/v1beta/models/gemini-2.5-flash:streamGenerateContent"),
    "up-responses": ("openai-compatible", "/v1/responses"),
}


def plan(work: Path) -> dict[str, Any]:
    """The model's side of the loop, with each agent's names for its write and shell tools."""
    return {
        "steps": [
            {"call": [
                # Claude Code
                {"name": "Write", "arguments": {"file_path": str(work / "greeting.txt"), "content": GREETING}},
                # Cline
                {"name": "editor", "arguments": {"path": "greeting.txt", "new_text": GREETING}},
                # Codex with a model it knows (a freeform tool), or its fallback tool set
                {"name": "apply_patch", "input": PATCH},
                {"name": "exec_command", "arguments": {"cmd": "printf 'hello from switchyard\\n' > greeting.txt"}},
            ]},
            {"call": [
                {"name": "Bash", "arguments": {"command": COMMAND, "description": "Shout the greeting"}},
                {"name": "run_commands", "arguments": {"commands": [COMMAND]}},
                {"name": "exec_command", "arguments": {"cmd": COMMAND}},
            ]},
            {"text": FINAL},
        ]
    }


@pytest.fixture(scope="module")
def gw(mock: Mock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    providers = "".join(
        f"""
          - name: {name}
            type: {kind}
            base_url: {mock.url + ("/v1" if kind == "openai-compatible" else "")}
            api_key: {UPSTREAM_KEY}
            headers: {{x-via-switchyard: {name}}}"""
        + ("\n            responses: native" if name == "up-responses" else "")
        for name, (kind, _) in UPSTREAMS.items()
    )
    config = f"""
        server:
          discover_env: false
        providers:{providers}
    """
    env = base_env()
    env.update(SWITCHYARD_API_KEYS=CLIENT_KEY, SWITCHYARD_ADMIN_KEYS=ADMIN_KEY)
    g = launch_gateway(tmp_path_factory.mktemp("agents"), "gateway-agents", env, config)
    yield g
    g.svc.stop()


class Scratch:
    """A fresh HOME, TMPDIR and working directory for one agent run."""

    def __init__(self, root: Path):
        self.home = root / "home"
        self.tmp = root / "tmp"
        self.work = root / "work"
        for d in (self.home, self.tmp, self.work):
            d.mkdir(parents=True)

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "TMPDIR": str(self.tmp),
            "LANG": "C.UTF-8",
        }
        env.update(extra)
        return env


def tool(path: Path) -> Path:
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: scripts/agent-tools.sh installs the agent CLIs")
    return path


def run(argv: list[Any], scratch: Scratch, env: dict[str, str], stdin: str | None = None) -> str:
    """Runs an agent to the end; returns its stdout and stderr together."""
    try:
        p = subprocess.run(
            [str(a) for a in argv],
            cwd=scratch.work,
            env=env,
            input=(stdin or "").encode(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=RUN_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{argv[0]} did not finish in {RUN_TIMEOUT_S}s:\n{(e.output or b'').decode(errors='replace')}")
    return p.stdout.decode(errors="replace")


def calls_in(path: str, body: dict[str, Any]) -> list[str]:
    """The names of the tool calls in a request's history, in the upstream's format."""
    if path.endswith("/chat/completions"):
        return [c["function"]["name"] for m in body["messages"] for c in m.get("tool_calls") or []]
    if path == "/v1/messages":
        return [
            b["name"]
            for m in body["messages"]
            if isinstance(m["content"], list)
            for b in m["content"]
            if b.get("type") == "tool_use"
        ]
    if path == "/v1/responses":
        return [i["name"] for i in body["input"] if i.get("type") in ("function_call", "custom_tool_call")]
    return [p["functionCall"]["name"] for c in body["contents"] for p in c["parts"] if "functionCall" in p]


def upstream_key(recorded: dict[str, Any]) -> str | None:
    bearer = header(recorded, "authorization")
    if bearer:
        return bearer.removeprefix("Bearer ")
    return header(recorded, "x-api-key") or header(recorded, "x-goog-api-key")


def record_of(gw: Gateway, upstream: dict[str, Any]) -> dict[str, Any]:
    """The gateway's request record of an upstream request (by the `x-request-id` it sent),
    once the writer has stored it."""
    request_id = header(upstream, "x-request-id")
    assert request_id, upstream["headers"]
    for _ in range(100):
        r = httpx2.get(
            gw.url + "/admin/logs",
            params={"request_id": request_id},
            headers={"authorization": f"Bearer {ADMIN_KEY}"},
            timeout=10.0,
        )
        assert r.status_code == 200, r.text
        if r.json()["data"]:
            return r.json()["data"][0]
        time.sleep(0.05)
    raise AssertionError(f"the gateway's request log has no record of {request_id}")


def check_loop(
    mock: Mock,
    gw: Gateway,
    scratch: Scratch,
    output: str,
    provider: str,
    write_tool: str,
    run_tool: str,
    dropped: set[str],
    steps: list[int] = [0, 1, 2],
) -> list[dict[str, Any]]:
    """Asserts one agent loop completed through the gateway; returns the upstream requests."""
    assert (scratch.work / "greeting.txt").read_text() == GREETING, output
    assert (scratch.work / "shout.txt").read_text() == SHOUT + "\n", output
    assert mock.script()["played"] == steps, output
    _, path = UPSTREAMS[provider]
    reqs = mock.requests()
    assert [r["path"] for r in reqs] == [path] * len(steps), output
    for r in reqs:
        assert header(r, "x-via-switchyard") == provider
        assert upstream_key(r) == UPSTREAM_KEY
        body = json.loads(r["body"])
        assert body.get("stream") is True or "alt=sse" in r["target"], r["target"]
    last = json.loads(reqs[-1]["body"])
    if write_tool:
        assert calls_in(path, last) == [write_tool, run_tool]
    # The command's output went back to the model in the upstream's own format.
    assert SHOUT in reqs[-1]["body"]
    records = [record_of(gw, r) for r in reqs]
    assert {r["status"] for r in records} == {200}
    assert {r["provider"] for r in records} == {provider}
    left_out = {f for r in records for a in r["attempts"] for f in a.get("dropped", [])}
    assert left_out == dropped
    return reqs


# ---------------------------------------------------------------------------------------------
# Claude Code: Anthropic Messages, always streamed, the heaviest request shape for a model name
# it does not know (adaptive thinking, output_config, context_management, a system message).

#: Caching and context-management directives the other formats have no field for.
CLAUDE_ADVISORY = {
    "context_management",
    "messages[].content[].cache_control",
    "system[].cache_control",
    "tools[].defer_loading",
}
CLAUDE_CASES = [
    # provider, model, the fields the field policy left out (named in the request log)
    ("up-anthropic", "up-anthropic/mock-model", set()),
    ("up-openai", "up-openai/mock-model", CLAUDE_ADVISORY),
    # Gemini has no end-user field for metadata.user_id.
    ("up-gemini", "up-gemini/gemini-2.5-flash", CLAUDE_ADVISORY | {"metadata.user_id"}),
]


@pytest.mark.parametrize("provider,model,dropped", CLAUDE_CASES, ids=[c[0] for c in CLAUDE_CASES])
def test_claude_code(mock: Mock, gw: Gateway, tmp_path: Path, provider: str, model: str, dropped: set[str]) -> None:
    s = Scratch(tmp_path)
    mock.load_script(plan(s.work))
    env = s.env(
        ANTHROPIC_BASE_URL=gw.url,
        ANTHROPIC_API_KEY=CLIENT_KEY,
        ANTHROPIC_MODEL=model,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        DISABLE_TELEMETRY="1",
        DISABLE_ERROR_REPORTING="1",
        DISABLE_AUTOUPDATER="1",
        CLAUDE_CODE_MAX_RETRIES="0",
        # A stream it cannot read must fail the run, not be retried silently without streaming.
        CLAUDE_CODE_DISABLE_NONSTREAMING_FALLBACK="1",
    )
    out = run(
        [tool(NODE_BIN / "claude"), "-p", "Write a greeting file, then shout it.",
         "--allowedTools", "Write", "Bash", "--output-format", "json"],
        s, env,
    )
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"type":"result"' in line]
    assert len(lines) == 1, out
    result = lines[0]
    assert result["is_error"] is False, out
    assert result["result"] == f"The command printed: {SHOUT}", out
    reqs = check_loop(mock, gw, s, out, provider, "Write", "Bash", dropped)
    first = json.loads(reqs[0]["body"])
    if provider == "up-anthropic":
        # Its own format: passed through, Claude Code's own fields intact.
        assert "context_management" in first and first["thinking"]["type"] == "adaptive"


# ---------------------------------------------------------------------------------------------
# Codex: the Responses API only; with gpt-5.5's tool set, apply_patch is a freeform (custom)
# tool and tool_search and web_search are hosted tools.

#: Client bookkeeping, the hosted tools tool_search and
#: web_search (tools 8 and 9), and apply_patch's Lark grammar (a function tool has no grammar).
CODEX_ADVISORY = {"client_metadata", "tools[8]", "tools[9]", "tools[].format"}
CODEX_CASES = [
    ("up-responses", "up-responses/gpt-5.5", set()),
    ("up-openai", "up-openai/gpt-5.5", CODEX_ADVISORY),
    # Anthropic has no prompt cache key, storage or verbosity settings either.
    ("up-anthropic", "up-anthropic/gpt-5.5", CODEX_ADVISORY | {"prompt_cache_key", "store", "text.verbosity"}),
]


@pytest.mark.parametrize("provider,model,dropped", CODEX_CASES, ids=[c[0] for c in CODEX_CASES])
def test_codex(mock: Mock, gw: Gateway, tmp_path: Path, provider: str, model: str, dropped: set[str]) -> None:
    s = Scratch(tmp_path)
    mock.load_script(plan(s.work))
    codex_home = s.home / ".codex"
    codex_home.mkdir()
    (codex_home / "config.toml").write_text(
        f"""model = "{model}"
model_provider = "gw"
[analytics]
enabled = false
[features]
plugins = false
[model_providers.gw]
name = "Switchyard"
base_url = "{gw.base_url}"
env_key = "GW_API_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
"""
    )
    env = s.env(CODEX_HOME=str(codex_home), GW_API_KEY=CLIENT_KEY)
    out = run(
        [tool(NODE_BIN / "codex"), "exec", "--skip-git-repo-check", "--ephemeral", "-s", "workspace-write",
         "Write a greeting file, then shout it."],
        s, env,
    )
    assert f"The command printed: " in out and SHOUT in out.split("The command printed: ", 1)[1], out
    reqs = check_loop(mock, gw, s, out, provider, "apply_patch", "exec_command", dropped)
    first = json.loads(reqs[0]["body"])
    if provider == "up-responses":
        # Its own format: passed through byte for byte, freeform and hosted tools included.
        assert "client_metadata" in first
        assert {"custom", "web_search"} <= {t["type"] for t in first["tools"]}
    else:
        names = {(t.get("function") or t).get("name") for t in first["tools"]}
        assert "apply_patch" in names and "web_search" not in names
    if provider == "up-anthropic":
        # Codex's reasoning effort turned thinking on: each tool-use turn went back opening with
        # its signed thinking block (carried in the reasoning items' encrypted_content), which
        # the mock, as Anthropic, requires and checks.
        last = json.loads(reqs[-1]["body"])
        assert last["thinking"]["type"] == "enabled"
        turns = [m for m in last["messages"] if m["role"] == "assistant"]
        assert len(turns) == 2 and all(t["content"][0]["type"] == "thinking" for t in turns)


# ---------------------------------------------------------------------------------------------
# Cline: its openai-compatible provider (Chat Completions) and its anthropic provider (Messages,
# with the server tool web_search offered to every model).

CLINE_CASES = [
    ("openai-compatible", "up-openai", "up-openai/mock-model", set()),
    ("openai-compatible", "up-gemini", "up-gemini/gemini-2.5-flash", set()),
    ("anthropic", "up-anthropic", "up-anthropic/mock-model", set()),
    # The server tool web_search (tools[0]) and the Messages-only eager_input_streaming.
    ("anthropic", "up-openai", "up-openai/mock-model", {"tools[0]", "tools[].eager_input_streaming"}),
]


@pytest.mark.parametrize(
    "client,provider,model,dropped", CLINE_CASES, ids=[f"{c[0]}-{c[1]}" for c in CLINE_CASES]
)
def test_cline(
    mock: Mock, gw: Gateway, tmp_path: Path, client: str, provider: str, model: str, dropped: set[str]
) -> None:
    s = Scratch(tmp_path)
    mock.load_script(plan(s.work))
    settings = s.home / ".cline/data/settings"
    settings.mkdir(parents=True)
    (settings / "providers.json").write_text(json.dumps({
        "version": 1,
        "lastUsedProvider": client,
        "modes": {},
        "providers": {client: {
            "settings": {"provider": client, "apiKey": CLIENT_KEY, "model": model, "baseUrl": gw.base_url},
            # Without updatedAt the file is ignored and Cline uses its own cloud provider.
            "updatedAt": "2026-01-01T00:00:00.000Z",
            "tokenSource": "manual",
        }},
    }))
    (settings / "global-settings.json").write_text(json.dumps({"telemetryOptOut": True, "autoUpdateEnabled": False}))
    env = s.env(CLINE_SESSION_BACKEND_MODE="local", CLINE_NO_AUTO_UPDATE="1", E2E_TEST="true")
    out = run([tool(NODE_BIN / "cline"), "-t", "80", "Write a greeting file, then shout it."], s, env)
    assert "The command printed: " in out and SHOUT in out.split("The command printed: ", 1)[1], out
    check_loop(mock, gw, s, out, provider, "editor", "run_commands", dropped)


# ---------------------------------------------------------------------------------------------
# aider: Chat Completions without tools; edits are SEARCH/REPLACE blocks in the reply text and
# commands are fenced shell blocks it asks to run. The conversation goes on from stdin: the
# command's output is added to the chat and the next message is answered with it in view.

AIDER_EDIT = (
    "greeting.txt\n```\n<<<<<<< SEARCH\n=======\nhello from switchyard\n>>>>>>> REPLACE\n```\n\n"
    f"```bash\n{COMMAND}\n```\n"
)
AIDER_CASES = [("up-openai", "up-openai/mock-model"), ("up-anthropic", "up-anthropic/mock-model")]


def _seed_price_map(home: Path) -> None:
    """litellm fetches its price map from the network unless a non-empty copy is cached."""
    bundled = next((TOOLS / ".venv-aider/lib").glob("python3*/site-packages/litellm/model_prices_and_context_window_backup.json"))
    caches = home / ".aider/caches"
    caches.mkdir(parents=True)
    (caches / "model_prices_and_context_window.json").write_bytes(bundled.read_bytes())


@pytest.mark.parametrize("provider,model", AIDER_CASES, ids=[c[0] for c in AIDER_CASES])
def test_aider(mock: Mock, gw: Gateway, tmp_path: Path, provider: str, model: str) -> None:
    s = Scratch(tmp_path)
    # aider's prompt holds example assistant turns: the plan counts requests instead.
    mock.load_script({"count": "requests", "steps": [{"text": AIDER_EDIT}, {"text": "Shouted as asked."}]})
    _seed_price_map(s.home)
    env = s.env(LITELLM_LOCAL_MODEL_COST_MAP="True")
    # Stdin: the task, "yes" to creating the file, running the command and adding its output
    # to the chat, then a follow-up question.
    stdin = "Write a greeting file, then shout it.\ny\ny\ny\nWhat did the command print?\n"
    out = run(
        [tool(AIDER), "--model", f"openai/{model}", "--openai-api-base", gw.base_url,
         "--openai-api-key", CLIENT_KEY, "--edit-format", "diff", "--no-git", "--no-check-update",
         "--analytics-disable", "--no-show-release-notes", "--no-pretty", "--no-fancy-input",
         "--no-detect-urls", "--no-show-model-warnings"],
        s, env, stdin,
    )
    assert "Shouted as asked." in out, out
    check_loop(mock, gw, s, out, provider, "", "", set(), steps=[0, 1])


# ---------------------------------------------------------------------------------------------
# A budget that runs out: the agent shows its user the gateway's message (a 402 in the shape
# of the API it speaks), instead of retrying or failing with nothing said.

BUDGET_MESSAGE = "Budget 'agent-budget' is used up: 1 requests per month for the organisation."


@pytest.fixture(scope="module")
def spent(mock: Mock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    config = f"""
        server:
          discover_env: false
        providers:
          - name: up-openai
            type: openai-compatible
            base_url: {mock.url}/v1
            api_key: {UPSTREAM_KEY}
          - name: up-anthropic
            type: anthropic
            base_url: {mock.url}
            api_key: {UPSTREAM_KEY}
        limits:
          rules:
            - {{id: agent-budget, scope: org, dimension: requests, amount: 1, window: month}}
    """
    env = base_env()
    env.update(SWITCHYARD_API_KEYS=CLIENT_KEY)
    g = launch_gateway(tmp_path_factory.mktemp("agents-budget"), "gateway-agents-budget", env, config)
    # The month's one request.
    g.client().chat.completions.create(model="up-openai/mock-model", messages=[{"role": "user", "content": "hi"}])
    yield g
    g.svc.stop()


def test_claude_code_shows_a_spent_budget(spent: Gateway, tmp_path: Path) -> None:
    s = Scratch(tmp_path)
    env = s.env(
        ANTHROPIC_BASE_URL=spent.url, ANTHROPIC_API_KEY=CLIENT_KEY, ANTHROPIC_MODEL="up-anthropic/claude-sonnet-4-5",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1", DISABLE_TELEMETRY="1", DISABLE_ERROR_REPORTING="1",
        DISABLE_AUTOUPDATER="1", CLAUDE_CODE_MAX_RETRIES="0",
    )
    out = run([tool(NODE_BIN / "claude"), "-p", "Say hello.", "--output-format", "json"], s, env)
    assert BUDGET_MESSAGE in out, out
    assert "402" in out, out


def test_codex_shows_a_spent_budget(spent: Gateway, tmp_path: Path) -> None:
    s = Scratch(tmp_path)
    codex_home = s.home / ".codex"
    codex_home.mkdir()
    (codex_home / "config.toml").write_text(
        f"""model = "up-openai/gpt-5.5"
model_provider = "gw"
[analytics]
enabled = false
[features]
plugins = false
[model_providers.gw]
name = "Switchyard"
base_url = "{spent.base_url}"
env_key = "GW_API_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
"""
    )
    env = s.env(CODEX_HOME=str(codex_home), GW_API_KEY=CLIENT_KEY)
    out = run([tool(NODE_BIN / "codex"), "exec", "--skip-git-repo-check", "--ephemeral", "Say hello."], s, env)
    assert BUDGET_MESSAGE in out, out
