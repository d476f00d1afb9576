"""Chat completions through the gateway with the official openai SDK.

The mock records every request it receives, so besides checking what the SDK parses, these tests
check what reached the provider: the body byte for byte (only `model` may change) and the headers.
"""

from __future__ import annotations

import base64
import json
import re
import struct
import zlib

import openai
import pydantic
import pytest

from conftest import CLIENT_KEY, MOCK_TEXT, UPSTREAM_KEY, Gateway, Mock, header

MESSAGES = [{"role": "user", "content": "Say hello."}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}
TOOL_ARGS = {"city": "Paris", "unit": "celsius"}


def upstream_body(mock: Mock) -> dict:
    return json.loads(mock.last_request("/v1/chat/completions")["body"])


def tiny_png(width: int = 1, height: int = 1) -> bytes:
    """A valid greyscale PNG, built here so no test data file is needed."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes((x * 7 + y * 13) & 0xFF for x in range(width)) for y in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 0))
        + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------------------------------------
# Plain answers


def test_chat_non_stream(client: openai.OpenAI, mock: Mock) -> None:
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)
    assert raw.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", raw.headers["x-request-id"])
    assert raw.headers["content-type"].startswith("application/json")
    c = raw.parse()
    assert isinstance(c, openai.types.chat.ChatCompletion)
    assert c.object == "chat.completion"
    assert c.model == "gpt-4o-mini"
    assert len(c.choices) == 1
    assert c.choices[0].message.role == "assistant"
    assert c.choices[0].message.content == MOCK_TEXT
    assert c.choices[0].finish_reason == "stop"
    assert c.usage is not None
    assert c.usage.prompt_tokens > 0 and c.usage.completion_tokens > 0
    assert c.usage.total_tokens == c.usage.prompt_tokens + c.usage.completion_tokens
    assert c.system_fingerprint == "fp_mock"


def test_upstream_gets_the_provider_key_not_the_client_key(client: openai.OpenAI, mock: Mock) -> None:
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    rec = mock.last_request("/v1/chat/completions")
    assert rec["method"] == "POST"
    assert header(rec, "authorization") == f"Bearer {UPSTREAM_KEY}"
    for name, value in rec["headers"]:
        assert CLIENT_KEY not in value, f"client key leaked upstream in {name}"


def test_provider_prefixed_model_is_rewritten(client: openai.OpenAI, mock: Mock) -> None:
    c = client.chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES)
    assert upstream_body(mock)["model"] == "gpt-4o-mini"
    # The provider's answer is relayed as sent: it names the model it ran.
    assert c.model == "gpt-4o-mini"
    assert c.choices[0].message.content == MOCK_TEXT


def test_chat_stream(client: openai.OpenAI, mock: Mock) -> None:
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    assert stream.response.headers["content-type"].startswith("text/event-stream")
    assert re.fullmatch(r"[0-9a-f]{32}", stream.response.headers["x-request-id"])
    chunks = list(stream)
    assert len(chunks) > 3, "the mock sends one chunk per word"
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert all(c.usage is None for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == MOCK_TEXT
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert upstream_body(mock)["stream"] is True


def test_chat_stream_include_usage(client: openai.OpenAI, mock: Mock) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    with_usage = [c for c in chunks if c.usage is not None]
    assert len(with_usage) == 1
    last = chunks[-1]
    assert last is with_usage[0], "the usage chunk comes last"
    assert last.choices == []
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens > 0
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == MOCK_TEXT
    assert upstream_body(mock)["stream_options"] == {"include_usage": True}


def test_chat_stream_helper_final_completion(client: openai.OpenAI) -> None:
    """The SDK's stream helper accumulates events into a full completion."""
    with client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        deltas = [e.delta for e in stream if e.type == "content.delta"]
        final = stream.get_final_completion()
    assert "".join(deltas) == MOCK_TEXT
    assert final.choices[0].message.content == MOCK_TEXT


def test_chat_stream_chunk_count_and_custom_content(client: openai.OpenAI) -> None:
    text = "Ünïcödé ✓ — 日本語のテキスト, and emoji 🚂🚃🚃."
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        stream=True,
        extra_body={"mock": {"content": text, "chunks": 7}},
    )
    content = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
    assert "".join(content) == text
    # The mock cuts the text into 7 slices of equal length in characters (the last ones may be
    # empty): multi-byte characters must survive the gateway's SSE framing whole.
    assert 5 <= len(content) <= 7


# ---------------------------------------------------------------------------------------------
# Tools and structured output


def test_tool_call_non_stream(client: openai.OpenAI, mock: Mock) -> None:
    c = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[WEATHER_TOOL],
        tool_choice="auto",
    )
    choice = c.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    (call,) = choice.message.tool_calls
    assert call.type == "function"
    assert call.id
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == TOOL_ARGS
    sent = upstream_body(mock)
    assert sent["tools"] == [WEATHER_TOOL]
    assert sent["tool_choice"] == "auto"


def test_tool_call_streamed_arguments_reassemble(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[WEATHER_TOOL],
        stream=True,
    )
    calls: dict[int, dict] = {}
    pieces = 0
    finish = None
    for chunk in stream:
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            for tc in choice.delta.tool_calls or []:
                slot = calls.setdefault(tc.index, {"id": None, "name": None, "arguments": ""})
                slot["id"] = tc.id or slot["id"]
                if tc.function and tc.function.name:
                    slot["name"] = tc.function.name
                if tc.function and tc.function.arguments:
                    slot["arguments"] += tc.function.arguments
                    pieces += 1
    assert finish == "tool_calls"
    assert list(calls) == [0]
    assert calls[0]["name"] == "get_weather"
    assert calls[0]["id"]
    assert pieces > 1, "arguments should arrive in several pieces"
    assert json.loads(calls[0]["arguments"]) == TOOL_ARGS


def test_tool_call_follow_up_round_trip(client: openai.OpenAI, mock: Mock) -> None:
    """A second turn carrying the assistant's tool call and the tool result reaches upstream intact."""
    first = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[WEATHER_TOOL],
    )
    call = first.choices[0].message.tool_calls[0]
    messages = [
        {"role": "user", "content": "Weather in Paris?"},
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"temp_c": 18})},
    ]
    second = client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, tools=[WEATHER_TOOL], tool_choice="none"
    )
    assert second.choices[0].message.content == MOCK_TEXT
    assert upstream_body(mock)["messages"] == messages


def test_response_format_json_object(client: openai.OpenAI, mock: Mock) -> None:
    c = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Answer in JSON."}],
        response_format={"type": "json_object"},
    )
    assert json.loads(c.choices[0].message.content) == {"answer": "mock"}
    assert upstream_body(mock)["response_format"] == {"type": "json_object"}


JSON_SCHEMA_FORMAT = {
    "type": "json_schema",
    "json_schema": {
        "name": "answer",
        "description": "One answer.",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"answer": {"type": "string"}},
            "required": ["answer"],
            "additionalProperties": False,
        },
    },
}


def test_response_format_json_schema(client: openai.OpenAI, mock: Mock) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Answer in JSON."}],
        response_format=JSON_SCHEMA_FORMAT,
    )
    assert json.loads(raw.parse().choices[0].message.content) == {"answer": "mock"}
    assert upstream_body(mock)["response_format"] == JSON_SCHEMA_FORMAT
    # Byte for byte, too: the response_format text the SDK wrote is the one upstream read.
    sent = json.dumps(json.loads(raw.http_request.content)["response_format"])
    assert json.dumps(upstream_body(mock)["response_format"]) == sent


class Answer(pydantic.BaseModel):
    answer: str


def test_structured_output_parse_helper(client: openai.OpenAI, mock: Mock) -> None:
    """client.chat.completions.parse builds a strict json_schema and parses the reply."""
    c = client.chat.completions.parse(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Answer."}],
        response_format=Answer,
    )
    assert c.choices[0].message.parsed == Answer(answer="mock")
    fmt = upstream_body(mock)["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "Answer"
    assert fmt["json_schema"]["strict"] is True


# ---------------------------------------------------------------------------------------------
# Choices, logprobs, images, extensions


def test_n_choices(client: openai.OpenAI, mock: Mock) -> None:
    c = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, n=2)
    assert [ch.index for ch in c.choices] == [0, 1]
    assert all(ch.message.content == MOCK_TEXT for ch in c.choices)
    assert upstream_body(mock)["n"] == 2


def test_n_choices_stream(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, n=2, stream=True)
    texts = {0: "", 1: ""}
    for chunk in stream:
        for ch in chunk.choices:
            texts[ch.index] += ch.delta.content or ""
    assert texts == {0: MOCK_TEXT, 1: MOCK_TEXT}


def test_logprobs(client: openai.OpenAI, mock: Mock) -> None:
    c = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, logprobs=True, top_logprobs=2
    )
    lp = c.choices[0].logprobs
    assert lp is not None and lp.content
    assert "".join(t.token for t in lp.content) == MOCK_TEXT
    assert all(t.logprob == -0.25 for t in lp.content)
    assert all(bytes(t.bytes) == t.token.encode() for t in lp.content)
    sent = upstream_body(mock)
    assert sent["logprobs"] is True and sent["top_logprobs"] == 2


def test_image_content_part_reaches_upstream_unchanged(client: openai.OpenAI, mock: Mock) -> None:
    png = tiny_png(180, 180)  # uncompressed, so the data URL is ~43 KB
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this image?"},
                {"type": "image_url", "image_url": {"url": url, "detail": "low"}},
            ],
        }
    ]
    c = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    assert c.choices[0].message.content == MOCK_TEXT
    sent = upstream_body(mock)
    assert sent["messages"] == messages
    part = sent["messages"][0]["content"][1]
    assert base64.b64decode(part["image_url"]["url"].split(",", 1)[1]) == png


def test_unknown_fields_via_extra_body_reach_upstream(client: openai.OpenAI, mock: Mock) -> None:
    extra = {
        "vendor_extension": {"nested": [1, 2.5, {"deep": None, "flag": False}], "s": "x\u00e9\n"},
        "top_k": 40,
        "repetition_penalty": 1.05,
        "safe_prompt": True,
    }
    # Hosts such as vLLM or Mistral take these; OpenAI (which the mock plays) refuses them, and
    # its refusal comes back as it is. Either way the fields reached the provider untouched.
    with pytest.raises(openai.BadRequestError) as ei:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, extra_body=extra)
    assert "Unrecognized request argument supplied" in ei.value.message
    sent = upstream_body(mock)
    for k, v in extra.items():
        assert sent[k] == v


def test_upstream_body_is_sent_body_except_model(client: openai.OpenAI, mock: Mock) -> None:
    """Every byte the SDK wrote reaches the provider; only the model value is rewritten."""
    raw = client.chat.completions.with_raw_response.create(
        model="openai/gpt-4o-mini",
        messages=[
            {"role": "system", "content": "You are terse. \"Quotes\", \\backslashes\\ and\ttabs."},
            {"role": "user", "content": "Grüße, 世界! 🚂 Numbers: 1e-7, 0.1, -0"},
        ],
        temperature=0.7,
        top_p=0.95,
        max_completion_tokens=64,
        presence_penalty=-0.5,
        seed=1234567890123,
        stop=["\n\n", "END"],
        logit_bias={"50256": -100},
        user="user-42",
        metadata={"team": "sdk-tests", "z": "1", "a": "[true, null]"},
    )
    sent = raw.http_request.content
    assert sent.count(b'"openai/gpt-4o-mini"') == 1
    expected = sent.replace(b'"openai/gpt-4o-mini"', b'"gpt-4o-mini"')
    received = mock.last_request("/v1/chat/completions")["body"].encode()
    assert received == expected
    assert raw.parse().choices[0].message.content == MOCK_TEXT


def test_raw_body_formatting_is_preserved(gateway: Gateway, mock: Mock) -> None:
    """Whitespace, key order, escapes and number spellings the caller chose are kept as sent."""
    body = (
        b'{\n  "messages" : [ {"role":"user",   "content":"caf\\u00e9 \\ud83d\\ude82"} ],\n'
        b'\t"temperature": 1.0E0, "top_p": 0.10, "metadata": { },\n'
        b'  "model": "openai/gpt-4o-mini" ,"max_tokens":16 }\n'
    )
    r = gateway.post(
        "/v1/chat/completions",
        content=body,
        headers={"authorization": f"Bearer {CLIENT_KEY}", "content-type": "application/json"},
    )
    assert r.status_code == 200, r.text
    received = mock.last_request("/v1/chat/completions")["body"].encode()
    assert received == body.replace(b'"openai/gpt-4o-mini"', b'"gpt-4o-mini"')


def test_x_api_key_header_authenticates(gateway: Gateway, mock: Mock) -> None:
    r = gateway.post(
        "/v1/chat/completions",
        json={"model": "gpt-4o-mini", "messages": MESSAGES},
        headers={"x-api-key": CLIENT_KEY},
    )
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["message"]["content"] == MOCK_TEXT
    rec = mock.last_request("/v1/chat/completions")
    assert header(rec, "x-api-key") is None
    assert header(rec, "authorization") == f"Bearer {UPSTREAM_KEY}"


@pytest.mark.parametrize("stream", [False, True])
def test_async_client(gateway: Gateway, stream: bool) -> None:
    import asyncio

    async def run() -> str:
        async with openai.AsyncOpenAI(
            base_url=gateway.base_url, api_key=CLIENT_KEY, max_retries=0, timeout=10
        ) as ac:
            if not stream:
                c = await ac.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
                return c.choices[0].message.content
            s = await ac.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
            return "".join([c.choices[0].delta.content or "" async for c in s if c.choices])

    assert asyncio.run(run()) == MOCK_TEXT
