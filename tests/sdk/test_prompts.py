"""Prompts driven by the official OpenAI SDK: `responses.create(prompt=...)` streamed and not,
against an OpenAI-format and an Anthropic-format upstream (the upstream body asserted), chat
completions with `prompt`, `/v1/prompts/{id}/completions` and `/render`, variables refused by
name, and a label moved on one replica served by another sharing PostgreSQL within a second."""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from pathlib import Path
from typing import Iterator

import httpx2
import openai
import pytest

from conftest import CLIENT_KEY, MOCK_TEXT, UPSTREAM_KEY, Gateway, Mock, base_env, launch_gateway

ADMIN_KEY = "admin-key-prompts-1"
WITHIN_S = 1.0

VERSION = {
    "messages": [
        {"role": "system", "content": "You write {{style}} product names."},
        {"role": "user", "content": "Name a {{thing}}."},
    ],
    "model": "openai/gpt-4o-mini",
    "params": {"temperature": 0.3, "max_tokens": 50},
    "variables": [
        {"name": "style", "type": "string", "default": "short"},
        {"name": "thing", "type": "string", "required": True},
        {"name": "count", "type": "integer"},
    ],
}


def admin(gw: Gateway, method: str, path: str, body: object | None = None) -> httpx2.Response:
    return httpx2.request(method, gw.url + path, json=body, headers={"authorization": f"Bearer {ADMIN_KEY}"}, timeout=10)


def config(mock: Mock, extra: str = "") -> str:
    return f"""
        server:
          discover_env: false
          admin_keys: [{{name: ops, key: {ADMIN_KEY}}}]
{extra}
        providers:
          - name: openai
            base_url: {mock.base_url}
            api_key: {UPSTREAM_KEY}
          - name: anthropic
            base_url: {mock.url}
            api_key: {UPSTREAM_KEY}
        client_keys: [{{name: sdk, key: {CLIENT_KEY}}}]
    """


@pytest.fixture(scope="module")
def gw(mock: Mock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    g = launch_gateway(tmp_path_factory.mktemp("prompts"), "gateway-prompts", base_env(), config(mock))
    r = admin(g, "POST", "/admin/v1/prompts", {"id": "namer", "version": VERSION, "labels": ["production"]})
    assert r.status_code == 201, r.text
    claude = dict(VERSION, model="anthropic/claude-haiku-4-5")
    r = admin(g, "POST", "/admin/v1/prompts", {"id": "namer-claude", "version": claude})
    assert r.status_code == 201, r.text
    yield g
    g.svc.stop()


def upstream(mock: Mock, path: str) -> dict:
    return json.loads(mock.last_request(path)["body"])


def input_texts(body: dict) -> list[str]:
    """Every text in a Responses request's input, in order."""
    out = []
    for item in body["input"]:
        c = item.get("content")
        if isinstance(c, str):
            out.append(c)
        else:
            out += [p["text"] for p in c if "text" in p]
    return out


@pytest.mark.parametrize("stream", [False, True])
def test_responses_with_a_stored_prompt_openai_upstream(gw: Gateway, mock: Mock, stream: bool) -> None:
    client = gw.client()
    prompt = {"id": "namer", "variables": {"thing": "kettle"}}
    if stream:
        # The SDK's stream helper wants a model; a stored prompt supplies it, so iterate.
        events = list(client.responses.create(prompt=prompt, input="Make it fun.", stream=True))
        text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
        assert events[-1].type == "response.completed"
    else:
        r = client.responses.with_raw_response.create(prompt=prompt, input="Make it fun.")
        assert r.headers["x-switchyard-prompt"] == "namer@1"
        text = r.parse().output_text
    assert text == MOCK_TEXT
    sent = upstream(mock, "/v1/responses")
    assert "prompt" not in sent
    assert sent["model"] == "gpt-4o-mini"
    assert input_texts(sent) == ["You write short product names.", "Name a kettle.", "Make it fun."]
    assert sent["input"][0]["role"] == "system"
    assert sent["max_output_tokens"] == 50 and sent["temperature"] == 0.3


@pytest.mark.parametrize("stream", [False, True])
def test_responses_with_a_stored_prompt_anthropic_upstream(gw: Gateway, mock: Mock, stream: bool) -> None:
    client = gw.client()
    prompt = {"id": "namer-claude", "variables": {"thing": "lamp", "style": "grand"}}
    if stream:
        events = list(client.responses.create(prompt=prompt, input="One only.", stream=True))
        text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
        assert events[-1].type == "response.completed"
    else:
        text = client.responses.create(prompt=prompt, input="One only.").output_text
    assert text == MOCK_TEXT
    sent = upstream(mock, "/v1/messages")
    assert sent["model"] == "claude-haiku-4-5"
    assert sent["system"] == [{"type": "text", "text": "You write grand product names."}]
    texts = [b["text"] for m in sent["messages"] for b in (m["content"] if isinstance(m["content"], list) else [{"text": m["content"]}])]
    assert texts == ["Name a lamp.", "One only."]
    assert sent["max_tokens"] == 50


def test_chat_completions_with_prompt(gw: Gateway, mock: Mock) -> None:
    client = gw.client()
    r = client.chat.completions.with_raw_response.create(
        model="", messages=[], extra_body={"prompt": {"id": "namer", "version": "1", "variables": {"thing": "chair"}}})
    assert r.headers["x-switchyard-prompt"] == "namer@1"
    assert r.parse().choices[0].message.content == MOCK_TEXT
    sent = upstream(mock, "/v1/chat/completions")
    assert sent["messages"] == [
        {"role": "system", "content": "You write short product names."},
        {"role": "user", "content": "Name a chair."},
    ]
    # LiteLLM's fields work as well.
    client.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "x"}],
                                   extra_body={"prompt_id": "namer", "prompt_variables": {"thing": "desk"}})
    assert upstream(mock, "/v1/chat/completions")["messages"][1]["content"] == "Name a desk."


def test_prompt_completions_and_render(gw: Gateway, mock: Mock) -> None:
    client = gw.client()
    # Portkey's endpoints, reached with the SDK's generic post.
    done = client.post("/prompts/namer/completions", cast_to=openai.types.chat.ChatCompletion,
                       body={"variables": {"thing": "rug"}, "temperature": 0.9})
    assert done.choices[0].message.content == MOCK_TEXT
    sent = upstream(mock, "/v1/chat/completions")
    assert sent["temperature"] == 0.9 and sent["messages"][1]["content"] == "Name a rug."
    before = len(mock.requests())
    r = httpx2.post(gw.url + "/v1/prompts/namer/render", json={"variables": {"thing": "rug", "style": "long"}},
                    headers={"authorization": f"Bearer {CLIENT_KEY}"}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["messages"][0]["content"] == "You write long product names."
    assert len(mock.requests()) == before


def test_a_missing_or_mistyped_variable_is_a_400_naming_it(gw: Gateway, mock: Mock) -> None:
    client = gw.client()
    with pytest.raises(openai.BadRequestError) as e:
        client.responses.create(prompt={"id": "namer", "variables": {}}, input="x")
    assert e.value.status_code == 400
    assert e.value.body["param"] == "prompt.variables.thing"
    assert "Missing required prompt variable \"thing\"" in e.value.body["message"]
    with pytest.raises(openai.BadRequestError) as e:
        client.responses.create(prompt={"id": "namer", "variables": {"thing": "cup", "count": "two"}}, input="x")
    assert e.value.body["param"] == "prompt.variables.count"
    assert "integer, not string" in e.value.body["message"]
    assert mock.requests() == []


@pytest.fixture
def pg_url() -> str:
    schema = f"prompts_{secrets.token_hex(8)}"
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "root", "-d", "test", "-qc", f"CREATE SCHEMA {schema}"], check=True)
    return f"postgres://root@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"


def test_a_label_moved_on_one_replica_is_served_by_the_other_within_a_second(mock: Mock, pg_url: str, tmp_path: Path) -> None:
    extra = f"""          tenants:
            postgres_url: "{pg_url}\""""
    env = base_env()
    env.update(SWITCHYARD_SECRET_KEY="c2hhcmVkLXNlY3JldC1mb3ItdHdvLXJlcGxpY2FzLTAxMjM0NTY3")
    gws = []
    for name in ("replica-a", "replica-b"):
        d = tmp_path / name
        d.mkdir()
        gws.append(launch_gateway(d, name, env, config(mock, extra)))
    a, b = gws
    try:
        assert admin(a, "POST", "/admin/v1/prompts", {"id": "namer", "version": VERSION, "labels": ["production"]}).status_code == 201
        v2 = dict(VERSION, messages=[{"role": "user", "content": "Version two names a {{thing}}."}])
        assert admin(a, "POST", "/admin/v1/prompts/namer/versions", v2).status_code == 201
        client = b.client()

        def served() -> str:
            r = client.responses.with_raw_response.create(prompt={"id": "namer", "variables": {"thing": "pen"}}, input="go")
            return r.headers["x-switchyard-prompt"]

        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                if served() == "namer@1":
                    break
            except openai.NotFoundError:
                time.sleep(0.05)
        assert served() == "namer@1"
        moved = time.monotonic()
        assert admin(a, "PUT", "/admin/v1/prompts/namer/labels/production", {"version": 2}).status_code == 200
        while served() != "namer@2":
            assert time.monotonic() - moved < WITHIN_S, "replica b still serves version 1"
            time.sleep(0.02)
        assert input_texts(upstream(mock, "/v1/responses"))[0] == "Version two names a pen."
    finally:
        for g in gws:
            g.svc.stop()
