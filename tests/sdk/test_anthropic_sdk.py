"""The official anthropic SDK against the gateway's /v1/messages, passed through to an
Anthropic-format provider (our mock)."""

from __future__ import annotations

import json
from typing import Iterator

import anthropic
import pytest

from conftest import CLIENT_KEY, MOCK_TEXT, UPSTREAM_KEY, Gateway, Mock, gateway_env, header, launch_gateway

MESSAGES = [{"role": "user", "content": "Hello"}]
TOOLS = [
    {
        "name": "get_weather",
        "description": "Weather for a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]


@pytest.fixture(scope="module")
def gw(mock: Mock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    env = gateway_env(mock, ANTHROPIC_API_KEY=UPSTREAM_KEY, ANTHROPIC_BASE_URL=mock.url)
    g = launch_gateway(tmp_path_factory.mktemp("anthropic-sdk"), "gateway-anthropic-sdk", env)
    yield g
    g.svc.stop()


@pytest.fixture(scope="module")
def claude(gw: Gateway) -> Iterator[anthropic.Anthropic]:
    c = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0, timeout=10.0)
    yield c
    c.close()


def test_message_passes_through(claude: anthropic.Anthropic, mock: Mock) -> None:
    msg = claude.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=64,
        system="Be brief.",
        messages=MESSAGES,
        extra_headers={"anthropic-beta": "prompt-caching-2024-07-31"},
    )
    assert msg.type == "message"
    assert msg.content[0].text == MOCK_TEXT
    assert msg.stop_reason == "end_turn"
    assert msg.usage.output_tokens == len(MOCK_TEXT.split(" "))
    rec = mock.last_request("/v1/messages")
    assert header(rec, "x-api-key") == UPSTREAM_KEY
    assert header(rec, "anthropic-beta") == "prompt-caching-2024-07-31"
    # The caller's own API version is what the provider sees.
    assert header(rec, "anthropic-version") == claude.default_headers["anthropic-version"]
    assert json.loads(rec["body"]) == {
        "model": "claude-sonnet-4-6",
        "max_tokens": 64,
        "system": "Be brief.",
        "messages": MESSAGES,
    }


def test_stream_helper_collects_text(claude: anthropic.Anthropic) -> None:
    with claude.messages.stream(model="anthropic/claude-haiku-4-5", max_tokens=64, messages=MESSAGES) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text == MOCK_TEXT
    assert final.stop_reason == "end_turn"
    assert final.model == "claude-haiku-4-5"


def test_tool_use_streamed_and_not(claude: anthropic.Anthropic, mock: Mock) -> None:
    msg = claude.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=MESSAGES, tools=TOOLS)
    assert msg.stop_reason == "tool_use"
    assert msg.content[0].type == "tool_use"
    assert msg.content[0].input == {"city": "Paris", "unit": "celsius"}
    mock.push_faults({"chunks": 4})
    with claude.messages.stream(model="claude-sonnet-4-6", max_tokens=64, messages=MESSAGES, tools=TOOLS) as s:
        final = s.get_final_message()
    assert final.content[0].input == {"city": "Paris", "unit": "celsius"}


def test_count_tokens(claude: anthropic.Anthropic, mock: Mock) -> None:
    r = claude.messages.count_tokens(model="claude-sonnet-4-6", messages=MESSAGES)
    assert r.input_tokens > 0
    assert mock.last_request()["path"] == "/v1/messages/count_tokens"


def test_error_classes(gw: Gateway, claude: anthropic.Anthropic, mock: Mock) -> None:
    bad = anthropic.Anthropic(base_url=gw.url, api_key="wrong-key-123", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as ei:
        bad.messages.create(model="claude-sonnet-4-6", max_tokens=8, messages=MESSAGES)
    assert ei.value.body["error"]["type"] == "authentication_error"
    with pytest.raises(anthropic.NotFoundError) as ei:
        claude.messages.create(model="nobody-serves-this", max_tokens=8, messages=MESSAGES)
    assert ei.value.body["error"]["type"] == "not_found_error"
    mock.push_faults({"status": 529}, {"status": 429, "retry_after": "4"})
    with pytest.raises(anthropic.APIStatusError) as ei:
        claude.messages.create(model="claude-sonnet-4-6", max_tokens=8, messages=MESSAGES)
    assert ei.value.status_code == 529
    assert ei.value.body["error"]["type"] == "overloaded_error"
    with pytest.raises(anthropic.RateLimitError) as ei:
        claude.messages.create(model="claude-sonnet-4-6", max_tokens=8, messages=MESSAGES)
    assert ei.value.response.headers["retry-after"] == "4"
    # A field whose loss would change the answer, which the model cannot take, is named in a 400.
    mcp = [{"type": "url", "url": "https://mcp.example", "name": "m"}]
    with pytest.raises(anthropic.BadRequestError) as ei:
        claude.messages.create(model="gpt-4o-mini", max_tokens=8, messages=MESSAGES, extra_body={"mcp_servers": mcp})
    assert ei.value.body["error"]["type"] == "invalid_request_error"
    assert "mcp_servers" in ei.value.body["error"]["message"]
    # An advisory one is left out and named.
    raw = claude.messages.with_raw_response.create(
        model="gpt-4o-mini", max_tokens=8, messages=MESSAGES, extra_body={"container": "c"}
    )
    assert raw.headers["x-switchyard-dropped-params"] == "container"
    assert "container" not in json.loads(mock.last_request()["body"])


def test_broken_stream_raises(claude: anthropic.Anthropic, mock: Mock) -> None:
    mock.push_faults({"break_after": 4})
    with pytest.raises(anthropic.APIStatusError) as ei:
        with claude.messages.stream(model="claude-sonnet-4-6", max_tokens=64, messages=MESSAGES) as s:
            for _ in s.text_stream:
                pass
    assert ei.value.body["error"]["type"] == "api_error"


def test_messages_on_an_openai_model(claude: anthropic.Anthropic, mock: Mock) -> None:
    """What Claude Code does when pointed at the gateway with a non-Claude model."""
    msg = claude.messages.create(model="gpt-4o-mini", max_tokens=64, system="Be brief.", messages=MESSAGES)
    assert msg.content[0].text == MOCK_TEXT
    assert msg.stop_reason == "end_turn"
    rec = mock.last_request()
    assert rec["path"] == "/v1/chat/completions"
    assert json.loads(rec["body"])["messages"][0] == {"role": "system", "content": "Be brief."}
    with claude.messages.stream(model="openai/gpt-4o-mini", max_tokens=64, messages=MESSAGES) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text == MOCK_TEXT
    assert final.usage.output_tokens == len(MOCK_TEXT.split(" "))
    with claude.messages.stream(model="gpt-4o-mini", max_tokens=64, messages=MESSAGES, tools=TOOLS) as s:
        final = s.get_final_message()
    assert final.stop_reason == "tool_use"
    assert final.content[0].input == {"city": "Paris", "unit": "celsius"}
