"""The official openai SDK against an Anthropic-format provider: the gateway translates
chat completions to the Messages API and the answers back, streamed or not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import openai
import pytest

from conftest import MOCK_TEXT, UPSTREAM_KEY, Gateway, Mock, gateway_env, header, launch_gateway

MESSAGES = [{"role": "user", "content": "Hello"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]


@pytest.fixture(scope="module")
def claude(mock: Mock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[openai.OpenAI]:
    """A gateway whose only provider is the mock speaking Anthropic's Messages API."""
    env = gateway_env(mock, ANTHROPIC_API_KEY=UPSTREAM_KEY, ANTHROPIC_BASE_URL=mock.url)
    env.pop("OPENAI_API_KEY")
    env.pop("OPENAI_BASE_URL")
    gw: Gateway = launch_gateway(tmp_path_factory.mktemp("anthropic"), "gateway-anthropic", env)
    c = gw.client()
    yield c
    c.close()
    gw.svc.stop()


def sent(mock: Mock) -> dict:
    return json.loads(mock.last_request("/v1/messages")["body"])


def test_chat_translates_both_ways(claude: openai.OpenAI, mock: Mock) -> None:
    r = claude.chat.completions.create(
        model="claude-sonnet-4-6",
        messages=[{"role": "system", "content": "Be brief."}, *MESSAGES],
        max_tokens=100,
    )
    assert r.object == "chat.completion"
    assert r.choices[0].message.content == MOCK_TEXT
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.completion_tokens == len(MOCK_TEXT.split(" "))
    rec = mock.last_request("/v1/messages")
    assert header(rec, "x-api-key") == UPSTREAM_KEY
    assert header(rec, "anthropic-version") == "2023-06-01"
    assert sent(mock) == {
        "model": "claude-sonnet-4-6",
        "system": [{"type": "text", "text": "Be brief."}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello"}]}],
        "max_tokens": 100,
    }


def test_stream_with_usage(claude: openai.OpenAI) -> None:
    chunks = list(
        claude.chat.completions.create(
            model="anthropic/claude-haiku-4-5",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == MOCK_TEXT
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens == len(MOCK_TEXT.split(" "))
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]


def test_tool_call_and_tool_result_round_trip(claude: openai.OpenAI, mock: Mock) -> None:
    r = claude.chat.completions.create(model="claude-sonnet-4-6", messages=MESSAGES, tools=TOOLS)
    call = r.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris", "unit": "celsius"}
    assert r.choices[0].finish_reason == "tool_calls"
    follow_up = [
        *MESSAGES,
        r.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "18C"},
    ]
    claude.chat.completions.create(model="claude-sonnet-4-6", messages=follow_up, tools=TOOLS, tool_choice="none")
    body = sent(mock)
    assert body["messages"][1] == {
        "role": "assistant",
        "content": [{"type": "tool_use", "id": call.id, "name": "get_weather", "input": {"city": "Paris", "unit": "celsius"}}],
    }
    assert body["messages"][2] == {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "18C"}]}
    assert body["tool_choice"] == {"type": "none"}


def test_streamed_tool_call_arguments(claude: openai.OpenAI, mock: Mock) -> None:
    mock.push_faults({"chunks": 5})
    stream = claude.chat.completions.create(model="claude-sonnet-4-6", messages=MESSAGES, tools=TOOLS, stream=True)
    args, names = "", []
    for c in stream:
        for tc in (c.choices[0].delta.tool_calls or []) if c.choices else []:
            if tc.function.name:
                names.append(tc.function.name)
            args += tc.function.arguments or ""
    assert names == ["get_weather"]
    assert json.loads(args) == {"city": "Paris", "unit": "celsius"}


def test_unrepresentable_field_is_bad_request(claude: openai.OpenAI, mock: Mock) -> None:
    with pytest.raises(openai.BadRequestError) as ei:
        claude.chat.completions.create(model="claude-sonnet-4-6", messages=MESSAGES, logprobs=True)
    assert ei.value.body["param"] == "logprobs"
    assert mock.requests() == []


def test_overloaded_and_rate_limited(claude: openai.OpenAI, mock: Mock) -> None:
    mock.push_faults({"status": 529}, {"status": 429, "retry_after": "3"})
    with pytest.raises(openai.InternalServerError) as ei:
        claude.chat.completions.create(model="claude-sonnet-4-6", messages=MESSAGES)
    assert ei.value.status_code == 529
    assert ei.value.body["type"] == "overloaded_error"
    with pytest.raises(openai.RateLimitError) as ei:
        claude.chat.completions.create(model="claude-sonnet-4-6", messages=MESSAGES)
    assert ei.value.response.headers["retry-after"] == "3"


def test_broken_stream_raises_api_error(claude: openai.OpenAI, mock: Mock) -> None:
    mock.push_faults({"break_after": 4})
    got = []
    with pytest.raises(openai.APIError) as ei:
        for c in claude.chat.completions.create(model="claude-sonnet-4-6", messages=MESSAGES, stream=True):
            got.append(c)
    assert got, "some chunks arrived before the break"
    assert ei.value.body["code"] == "upstream_bad_response"
