"""Conformance: every inbound API (OpenAI chat completions, Anthropic Messages, OpenAI Responses,
plus embeddings and count_tokens) against every upstream wire format (OpenAI-compatible,
Anthropic, Gemini, Cohere, Vertex AI for Gemini and Claude models, Bedrock, and Azure OpenAI deployments), driven by the official openai and anthropic SDKs through one gateway
that has all four formats configured at the mock.

Each test is one cell of the matrix in docs/compatibility.md; conftest.py renders the matrix from
the outcomes at the end of a full run and fails the run when the checked-in copy differs
(`SWITCHYARD_UPDATE_MATRIX=1` rewrites it).

Every cell also asserts the exact requests the upstream received (method, target, body), against
the reviewed copies in tests/sdk/upstream-bodies/ (`SWITCHYARD_UPDATE_BODIES=1` rewrites them),
so a change in what reaches a provider shows as a diff to review."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import anthropic
import httpx2
import openai
import pytest

from conftest import (
    AWS_ACCESS_KEY,
    AWS_SECRET_KEY,
    CLIENT_KEY,
    MOCK_TEXT,
    UPSTREAM_KEY,
    VERTEX_SA,
    Gateway,
    Mock,
    launch_gateway,
)

WORDS = len(MOCK_TEXT.split(" "))
#: Reads the request log (the usage cells check what was recorded).
ADMIN_KEY = "admin-key-conformance-1"
ARGS = {"city": "Paris", "unit": "celsius"}
PARAMS = {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string"}}, "required": ["city"]}

#: Upstream format → the model name that reaches it.
UPSTREAMS = {
    "OpenAI-compatible": "openai/gpt-4o-mini",
    "Anthropic": "anthropic/claude-sonnet-4-6",
    "Gemini": "gemini/gemini-2.5-flash",
    "Cohere": "cohere/command-a-03-2025",
    "Vertex (Gemini)": "vertex/gemini-2.5-flash",
    "Vertex (Claude)": "vertex/claude-sonnet-4-5@20250929",
    "Bedrock": "bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "Azure OpenAI": "azure/gpt-4o-mini",
}

#: Cells whose documented behaviour is a refusal, with the reason shown in the matrix.
REFUSED = {
    ("embeddings", "Anthropic"): "400: Anthropic has no embeddings API",
    ("embeddings", "Vertex (Claude)"): "400: Claude has no embeddings",
}

#: count_tokens cells answered by the gateway's estimate (no counting API upstream).
ESTIMATED = {"OpenAI-compatible", "Cohere", "Vertex (Claude)", "Bedrock", "Azure OpenAI"}


@pytest.fixture(scope="module")
def gw(mock: Mock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    env = {"PATH": "/usr/bin:/bin", "SWITCHYARD_API_KEYS": CLIENT_KEY, "SWITCHYARD_ADMIN_KEYS": ADMIN_KEY}
    config = f"""
        server:
          discover_env: false
        providers:
          - name: openai
            base_url: {mock.base_url}
            api_key: {UPSTREAM_KEY}
          - name: anthropic
            base_url: {mock.url}
            api_key: {UPSTREAM_KEY}
          - name: gemini
            base_url: {mock.url}
            api_key: {UPSTREAM_KEY}
          - name: cohere
            base_url: {mock.url}
            api_key: {UPSTREAM_KEY}
          - name: vertex
            type: vertex
            base_url: {mock.url}
            project: conformance
            location: us-east5
            credentials_file: {VERTEX_SA}
            token_url: {mock.url}/token
          - name: bedrock
            type: bedrock
            base_url: {mock.url}
            region: us-west-2
            aws_access_key_id: {AWS_ACCESS_KEY}
            aws_secret_access_key: {AWS_SECRET_KEY}
          - name: azure
            type: azure
            base_url: {mock.url}
            api_key: {UPSTREAM_KEY}
    """
    g = launch_gateway(tmp_path_factory.mktemp("conformance"), "gateway-conformance", env, config)
    yield g
    g.svc.stop()


@pytest.fixture(scope="module")
def oai(gw: Gateway) -> Iterator[openai.OpenAI]:
    c = gw.client()
    yield c
    c.close()


@pytest.fixture(scope="module")
def claude(gw: Gateway) -> Iterator[anthropic.Anthropic]:
    c = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0, timeout=10.0)
    yield c
    c.close()


# --- OpenAI chat completions ------------------------------------------------------------------

CHAT_TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": PARAMS}}]
MESSAGES = [{"role": "user", "content": "Hello"}]


def chat_text(oai: openai.OpenAI, model: str, mock: Mock) -> None:
    r = oai.chat.completions.create(model=model, messages=[{"role": "system", "content": "Be brief."}, *MESSAGES])
    assert r.choices[0].message.content == MOCK_TEXT
    assert r.choices[0].finish_reason == "stop"


def chat_stream(oai: openai.OpenAI, model: str, mock: Mock) -> None:
    mock.push_faults({"chunks": 5})
    chunks = list(oai.chat.completions.create(model=model, messages=MESSAGES, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == MOCK_TEXT
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert all(c.usage is None for c in chunks)


def chat_usage(oai: openai.OpenAI, model: str, mock: Mock) -> None:
    r = oai.chat.completions.create(model=model, messages=MESSAGES)
    assert r.usage.completion_tokens == WORDS and r.usage.prompt_tokens > 0
    chunks = list(
        oai.chat.completions.create(model=model, messages=MESSAGES, stream=True, stream_options={"include_usage": True})
    )
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == WORDS


def chat_tools(oai: openai.OpenAI, model: str, mock: Mock) -> None:
    r = oai.chat.completions.create(model=model, messages=MESSAGES, tools=CHAT_TOOLS)
    call = r.choices[0].message.tool_calls[0]
    assert r.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == ARGS
    follow = oai.chat.completions.create(
        model=model,
        tools=CHAT_TOOLS,
        tool_choice="none",
        messages=[*MESSAGES, r.choices[0].message.model_dump(exclude_none=True),
                  {"role": "tool", "tool_call_id": call.id, "content": "18C"}],
    )
    assert follow.choices[0].message.content == MOCK_TEXT


def chat_streamed_tools(oai: openai.OpenAI, model: str, mock: Mock) -> None:
    mock.push_faults({"chunks": 4})
    args, names, finish = "", [], None
    for c in oai.chat.completions.create(model=model, messages=MESSAGES, tools=CHAT_TOOLS, stream=True):
        if not c.choices:
            continue
        for tc in c.choices[0].delta.tool_calls or []:
            assert tc.index == 0
            args += tc.function.arguments or ""
            names += [tc.function.name] if tc.function.name else []
        finish = c.choices[0].finish_reason or finish
    assert names == ["get_weather"] and json.loads(args) == ARGS and finish == "tool_calls"


JSON_SCHEMA = {"type": "object", "properties": {"verdict": {"type": "string"}}, "required": ["verdict"]}
JSON_FORMAT = {"type": "json_schema", "json_schema": {"name": "answer", "schema": JSON_SCHEMA}}


def sent_schema(mock: Mock, model: str) -> Any:
    """Where the schema landed in the last upstream request, in the format's own carrier."""
    body = json.loads(mock.last_request()["body"])
    if model.startswith(("openai/", "azure/")):
        return body["response_format"]["json_schema"]["schema"]
    if model.startswith(("anthropic/", "vertex/claude")):
        # No JSON mode: one forced tool whose input is the answer.
        (tool,) = body["tools"]
        assert body["tool_choice"] == {"type": "tool", "name": tool["name"]}
        return tool["input_schema"]
    if model.startswith("bedrock/"):
        (tool,) = body["toolConfig"]["tools"]
        assert body["toolConfig"]["toolChoice"] == {"tool": {"name": tool["toolSpec"]["name"]}}
        return tool["toolSpec"]["inputSchema"]["json"]
    if model.startswith(("gemini/", "vertex/gemini")):
        assert body["generationConfig"]["responseMimeType"] == "application/json"
        return body["generationConfig"]["responseSchema"]
    if model.startswith("cohere/"):
        assert body["response_format"]["type"] == "json_object"
        return body["response_format"]["json_schema"]
    raise AssertionError(f"no schema carrier known for {model}")


def assert_schema_sent(mock: Mock, model: str) -> None:
    schema = sent_schema(mock, model)
    # Gemini's dialect writes types in capitals; the shape is the caller's.
    assert schema["properties"]["verdict"]["type"].lower() == "string", schema
    assert schema["required"] == ["verdict"], schema


def chat_json(oai: openai.OpenAI, model: str, mock: Mock) -> None:
    r = oai.chat.completions.create(model=model, messages=MESSAGES, response_format=JSON_FORMAT)
    assert isinstance(json.loads(r.choices[0].message.content), dict)
    assert r.choices[0].finish_reason == "stop" and not r.choices[0].message.tool_calls
    assert_schema_sent(mock, model)
    chunks = list(oai.chat.completions.create(model=model, messages=MESSAGES, response_format=JSON_FORMAT, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert isinstance(json.loads(text), dict)
    assert_schema_sent(mock, model)


def chat_errors(oai: openai.OpenAI, model: str, mock: Mock) -> None:
    mock.push_faults({"status": 429, "retry_after": "3"})
    with pytest.raises(openai.RateLimitError) as ei:
        oai.chat.completions.create(model=model, messages=MESSAGES)
    assert ei.value.response.headers["retry-after"] == "3"
    mock.push_faults({"status": 503})
    with pytest.raises(openai.InternalServerError):
        oai.chat.completions.create(model=model, messages=MESSAGES)


def chat_broken_stream(oai: openai.OpenAI, model: str, mock: Mock) -> None:
    mock.push_faults({"break_after": 3})
    with pytest.raises(openai.APIError):
        for _ in oai.chat.completions.create(model=model, messages=MESSAGES, stream=True):
            pass


# --- Anthropic Messages -----------------------------------------------------------------------

TOOL = {"name": "get_weather", "description": "Weather", "input_schema": PARAMS}


def messages_text(claude: anthropic.Anthropic, model: str, mock: Mock) -> None:
    m = claude.messages.create(model=model, max_tokens=100, system="Be brief.", messages=MESSAGES)
    assert m.content[0].text == MOCK_TEXT and m.stop_reason == "end_turn"


def messages_stream(claude: anthropic.Anthropic, model: str, mock: Mock) -> None:
    mock.push_faults({"chunks": 5})
    with claude.messages.stream(model=model, max_tokens=100, messages=MESSAGES) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text == MOCK_TEXT and final.stop_reason == "end_turn"


def messages_usage(claude: anthropic.Anthropic, model: str, mock: Mock) -> None:
    m = claude.messages.create(model=model, max_tokens=100, messages=MESSAGES)
    assert m.usage.output_tokens == WORDS and m.usage.input_tokens > 0
    with claude.messages.stream(model=model, max_tokens=100, messages=MESSAGES) as s:
        final = s.get_final_message()
    assert final.usage.output_tokens == WORDS


def messages_tools(claude: anthropic.Anthropic, model: str, mock: Mock) -> None:
    m = claude.messages.create(model=model, max_tokens=100, messages=MESSAGES, tools=[TOOL])
    use = [b for b in m.content if b.type == "tool_use"]
    assert m.stop_reason == "tool_use" and use[0].name == "get_weather" and use[0].input == ARGS
    follow = claude.messages.create(
        model=model,
        max_tokens=100,
        tools=[TOOL],
        tool_choice={"type": "none"},
        messages=[*MESSAGES, {"role": "assistant", "content": [b.model_dump() for b in m.content]},
                  {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use[0].id, "content": "18C"}]}],
    )
    assert follow.content[0].text == MOCK_TEXT


def messages_streamed_tools(claude: anthropic.Anthropic, model: str, mock: Mock) -> None:
    mock.push_faults({"chunks": 4})
    with claude.messages.stream(model=model, max_tokens=100, messages=MESSAGES, tools=[TOOL]) as s:
        final = s.get_final_message()
    assert final.stop_reason == "tool_use"
    assert [b.input for b in final.content if b.type == "tool_use"] == [ARGS]


def messages_errors(claude: anthropic.Anthropic, model: str, mock: Mock) -> None:
    mock.push_faults({"status": 429, "retry_after": "3"})
    with pytest.raises(anthropic.RateLimitError) as ei:
        claude.messages.create(model=model, max_tokens=10, messages=MESSAGES)
    assert ei.value.response.headers["retry-after"] == "3"
    mock.push_faults({"status": 503})
    with pytest.raises(anthropic.InternalServerError):
        claude.messages.create(model=model, max_tokens=10, messages=MESSAGES)


def messages_broken_stream(claude: anthropic.Anthropic, model: str, mock: Mock) -> None:
    mock.push_faults({"break_after": 3})
    with pytest.raises(anthropic.APIStatusError):
        with claude.messages.stream(model=model, max_tokens=10, messages=MESSAGES) as s:
            for _ in s.text_stream:
                pass


# --- OpenAI Responses -------------------------------------------------------------------------

RESP_TOOLS = [{"type": "function", "name": "get_weather", "parameters": PARAMS}]


def responses_text(oai: openai.OpenAI, model: str, mock: Mock) -> None:
    r = oai.responses.create(model=model, input="Hello", instructions="Be brief.")
    assert r.output_text == MOCK_TEXT and r.status == "completed"


def responses_stream(oai: openai.OpenAI, model: str, mock: Mock) -> None:
    mock.push_faults({"chunks": 5})
    with oai.responses.stream(model=model, input="Hello") as s:
        text = "".join(e.delta for e in s if e.type == "response.output_text.delta")
        final = s.get_final_response()
    assert text == MOCK_TEXT and final.status == "completed"


def responses_usage(oai: openai.OpenAI, model: str, mock: Mock) -> None:
    r = oai.responses.create(model=model, input="Hello")
    assert r.usage.output_tokens == WORDS and r.usage.input_tokens > 0
    with oai.responses.stream(model=model, input="Hello") as s:
        final = s.get_final_response()
    assert final.usage.output_tokens == WORDS


def responses_tools(oai: openai.OpenAI, model: str, mock: Mock) -> None:
    r = oai.responses.create(model=model, input="Weather?", tools=RESP_TOOLS)
    call = [o for o in r.output if o.type == "function_call"][0]
    assert call.name == "get_weather" and json.loads(call.arguments) == ARGS
    follow = oai.responses.create(
        model=model,
        tools=RESP_TOOLS,
        tool_choice="none",
        input=[{"role": "user", "content": "Weather?"},
               {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
               {"type": "function_call_output", "call_id": call.call_id, "output": "18C"}],
    )
    assert follow.output_text == MOCK_TEXT


def responses_streamed_tools(oai: openai.OpenAI, model: str, mock: Mock) -> None:
    mock.push_faults({"chunks": 4})
    with oai.responses.stream(model=model, input="Weather?", tools=RESP_TOOLS) as s:
        deltas = "".join(e.delta for e in s if e.type == "response.function_call_arguments.delta")
        final = s.get_final_response()
    call = [o for o in final.output if o.type == "function_call"][0]
    assert json.loads(deltas) == ARGS and json.loads(call.arguments) == ARGS


#: A custom (freeform) tool as Codex declares its apply_patch, with a Lark grammar.
CUSTOM_TOOLS = [{"type": "custom", "name": "apply_patch", "description": "Edit files.",
                 "format": {"type": "grammar", "syntax": "lark", "definition": "start: /(.|\\n)+/"}}]
PATCH = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch"


#: Upstreams that serve the Responses API themselves: `/v1/responses` passes through to them.
NATIVE_RESPONSES = {"openai/gpt-4o-mini", "azure/gpt-4o-mini"}


def responses_custom_tools(oai: openai.OpenAI, model: str, mock: Mock) -> None:
    # The model sees a function taking one string; the caller gets a custom_tool_call back.
    args = json.dumps({"input": PATCH})
    mock.push_faults({"tool_arguments": args}, {"tool_arguments": args, "chunks": 4})
    raw = oai.responses.with_raw_response.create(model=model, input="Patch it", tools=CUSTOM_TOOLS)
    call = [o for o in raw.parse().output if o.type == "custom_tool_call"][0]
    assert (call.name, call.input) == ("apply_patch", PATCH)
    if model in NATIVE_RESPONSES:
        # Passed through: the provider enforces the grammar itself; nothing is left out.
        assert "x-switchyard-dropped-params" not in raw.headers
        assert mock.last_request()["path"].endswith("/v1/responses")
    else:
        assert raw.headers["x-switchyard-dropped-params"] == "tools[].format"
    with oai.responses.stream(model=model, input="Patch it", tools=CUSTOM_TOOLS) as s:
        streamed = "".join(e.delta for e in s if e.type == "response.custom_tool_call_input.delta")
        final = s.get_final_response()
    call = [o for o in final.output if o.type == "custom_tool_call"][0]
    assert streamed == PATCH and call.input == PATCH
    follow = oai.responses.create(
        model=model,
        tools=CUSTOM_TOOLS,
        tool_choice="none",
        input=[{"role": "user", "content": "Patch it"},
               {"type": "custom_tool_call", "call_id": call.call_id, "name": call.name, "input": call.input},
               {"type": "custom_tool_call_output", "call_id": call.call_id, "output": "Done"}],
    )
    assert follow.output_text == MOCK_TEXT


def responses_json(oai: openai.OpenAI, model: str, mock: Mock) -> None:
    fmt = {"format": {"type": "json_schema", "name": "answer", "schema": {"type": "object"}}}
    r = oai.responses.create(model=model, input="Hello", text=fmt)
    assert isinstance(json.loads(r.output_text), dict)


def responses_errors(oai: openai.OpenAI, model: str, mock: Mock) -> None:
    mock.push_faults({"status": 429, "retry_after": "3"})
    with pytest.raises(openai.RateLimitError):
        oai.responses.create(model=model, input="Hello")
    mock.push_faults({"status": 503})
    with pytest.raises(openai.InternalServerError):
        oai.responses.create(model=model, input="Hello")


def responses_broken_stream(oai: openai.OpenAI, model: str, mock: Mock) -> None:
    mock.push_faults({"break_after": 3})
    with pytest.raises(openai.APIError):
        with oai.responses.stream(model=model, input="Hello") as s:
            for _ in s:
                pass


# --- Parallel tool calls ----------------------------------------------------------------------

#: The second of two parallel calls (the first has ARGS).
ARGS2 = {"city": "Lyon", "unit": "celsius"}
#: Two calls of get_weather; streamed, their argument pieces interleave where the format allows
#: it (OpenAI chat streams), else come block after block.
TWO_CALLS = {"tool_arguments": json.dumps(ARGS), "second_call": json.dumps(ARGS2)}


def chat_parallel(oai: openai.OpenAI, model: str, mock: Mock) -> None:
    mock.push_faults(TWO_CALLS, {**TWO_CALLS, "chunks": 3})
    r = oai.chat.completions.create(model=model, messages=MESSAGES, tools=CHAT_TOOLS)
    calls = r.choices[0].message.tool_calls
    assert [json.loads(c.function.arguments) for c in calls] == [ARGS, ARGS2]
    assert {c.function.name for c in calls} == {"get_weather"} and len({c.id for c in calls}) == 2
    args: dict[int, str] = {}
    ids: dict[int, str] = {}
    for c in oai.chat.completions.create(model=model, messages=MESSAGES, tools=CHAT_TOOLS, stream=True):
        for tc in (c.choices[0].delta.tool_calls or []) if c.choices else []:
            args[tc.index] = args.get(tc.index, "") + (tc.function.arguments or "")
            if tc.id:
                ids[tc.index] = tc.id
    assert [json.loads(args[i]) for i in sorted(args)] == [ARGS, ARGS2] and len(set(ids.values())) == 2
    follow = oai.chat.completions.create(
        model=model, tools=CHAT_TOOLS, tool_choice="none",
        messages=[*MESSAGES, r.choices[0].message.model_dump(exclude_none=True),
                  {"role": "tool", "tool_call_id": calls[0].id, "content": "18C"},
                  {"role": "tool", "tool_call_id": calls[1].id, "content": "15C"}],
    )
    assert follow.choices[0].message.content == MOCK_TEXT


def messages_parallel(claude: anthropic.Anthropic, model: str, mock: Mock) -> None:
    mock.push_faults(TWO_CALLS, {**TWO_CALLS, "chunks": 3})
    m = claude.messages.create(model=model, max_tokens=100, messages=MESSAGES, tools=[TOOL])
    with claude.messages.stream(model=model, max_tokens=100, messages=MESSAGES, tools=[TOOL]) as s:
        final = s.get_final_message()
    for answer in (m, final):
        uses = [b for b in answer.content if b.type == "tool_use"]
        assert [u.input for u in uses] == [ARGS, ARGS2] and len({u.id for u in uses}) == 2
        assert answer.stop_reason == "tool_use"
    # Blocks one after another, as Anthropic streams them: no delta outside its open block.
    mock.push_faults({**TWO_CALLS, "chunks": 3})
    open_block = None
    for e in claude.messages.create(model=model, max_tokens=100, messages=MESSAGES, tools=[TOOL], stream=True):
        if e.type == "content_block_start":
            assert open_block is None, e
            open_block = e.index
        elif e.type == "content_block_delta":
            assert e.index == open_block, e
        elif e.type == "content_block_stop":
            assert e.index == open_block, e
            open_block = None
    uses = [b for b in final.content if b.type == "tool_use"]
    follow = claude.messages.create(
        model=model, max_tokens=100, tools=[TOOL], tool_choice={"type": "none"},
        messages=[*MESSAGES, {"role": "assistant", "content": [b.model_dump() for b in final.content]},
                  {"role": "user", "content": [{"type": "tool_result", "tool_use_id": u.id, "content": t}
                                               for u, t in zip(uses, ["18C", "15C"])]}],
    )
    assert [b.text for b in follow.content if b.type == "text"] == [MOCK_TEXT]


def responses_parallel(oai: openai.OpenAI, model: str, mock: Mock) -> None:
    mock.push_faults(TWO_CALLS, {**TWO_CALLS, "chunks": 3})
    r = oai.responses.create(model=model, input="Weather?", tools=RESP_TOOLS)
    with oai.responses.stream(model=model, input="Weather?", tools=RESP_TOOLS) as s:
        deltas: dict[int, str] = {}
        for e in s:
            if e.type == "response.function_call_arguments.delta":
                deltas[e.output_index] = deltas.get(e.output_index, "") + e.delta
        final = s.get_final_response()
    for answer in (r, final):
        calls = [o for o in answer.output if o.type == "function_call"]
        assert [json.loads(c.arguments) for c in calls] == [ARGS, ARGS2] and len({c.call_id for c in calls}) == 2
    assert sorted(json.loads(d)["city"] for d in deltas.values()) == ["Lyon", "Paris"]
    calls = [o for o in final.output if o.type == "function_call"]
    follow = oai.responses.create(
        model=model, tools=RESP_TOOLS, tool_choice="none",
        input=[{"role": "user", "content": "Weather?"},
               *[{"type": "function_call", "call_id": c.call_id, "name": c.name, "arguments": c.arguments} for c in calls],
               *[{"type": "function_call_output", "call_id": c.call_id, "output": t} for c, t in zip(calls, ["18C", "15C"])]],
    )
    assert follow.output_text == MOCK_TEXT


# --- Cached and reasoning usage ---------------------------------------------------------------

CACHED, REASONING = 6, 3
#: Each upstream format's usage report of CACHED cached input tokens and, where the format has
#: the field, REASONING reasoning tokens (the mock's `usage` fault, in the format's own shape).
USAGE_REPORTS: dict[str, tuple[dict[str, Any], bool]] = {
    "OpenAI-compatible": ({"prompt_tokens_details": {"cached_tokens": CACHED},
                           "completion_tokens_details": {"reasoning_tokens": REASONING}}, True),
    "Anthropic": ({"cache_read_input_tokens": CACHED}, False),
    "Gemini": ({"cachedContentTokenCount": CACHED, "thoughtsTokenCount": REASONING}, True),
    "Cohere": ({"cached_tokens": CACHED}, False),
    "Vertex (Gemini)": ({"cachedContentTokenCount": CACHED, "thoughtsTokenCount": REASONING}, True),
    "Vertex (Claude)": ({"cache_read_input_tokens": CACHED}, False),
    "Bedrock": ({"cacheReadInputTokens": CACHED}, False),
    "Azure OpenAI": ({"prompt_tokens_details": {"cached_tokens": CACHED},
                      "completion_tokens_details": {"reasoning_tokens": REASONING}}, True),
}
#: The Responses API's own report, for upstreams that serve it (passed through).
RESPONSES_REPORT = {"input_tokens_details": {"cached_tokens": CACHED},
                    "output_tokens_details": {"reasoning_tokens": REASONING}}


def usage_report(model: str, inbound: str) -> tuple[dict[str, Any], bool]:
    if inbound == "OpenAI Responses" and model in NATIVE_RESPONSES:
        return RESPONSES_REPORT, True
    (name,) = [k for k, v in UPSTREAMS.items() if v == model]
    return USAGE_REPORTS[name]


def recorded_usage(gw_url: str, request_id: str) -> tuple[int, int]:
    """The request log's cached and reasoning tokens for a request, once it is stored."""
    for _ in range(100):
        r = httpx2.get(gw_url + "/admin/logs", params={"request_id": request_id},
                       headers={"authorization": f"Bearer {ADMIN_KEY}"}, timeout=10.0)
        assert r.status_code == 200, r.text
        if r.json()["data"]:
            rec = r.json()["data"][0]
            return rec["cached_tokens"] or 0, rec["reasoning_tokens"] or 0
        time.sleep(0.05)
    raise AssertionError(f"no record of {request_id}")


def chat_cached_usage(oai: openai.OpenAI, model: str, mock: Mock) -> None:
    report, reasons = usage_report(model, "OpenAI chat completions")
    mock.push_faults({"usage": report}, {"usage": report, "chunks": 3})
    r = oai.chat.completions.create(model=model, messages=MESSAGES)
    s = oai.chat.completions.create(model=model, messages=MESSAGES, stream=True,
                                    stream_options={"include_usage": True})
    last = list(s)[-1]
    for u in (r.usage, last.usage):
        assert u.prompt_tokens_details.cached_tokens == CACHED and u.prompt_tokens > CACHED, u
        assert (u.completion_tokens_details.reasoning_tokens if reasons else 0) == (REASONING if reasons else 0), u
    want = (CACHED, REASONING if reasons else 0)
    assert recorded_usage(str(oai.base_url).removesuffix("/v1/"), s.response.headers["x-request-id"]) == want


def messages_cached_usage(claude: anthropic.Anthropic, model: str, mock: Mock) -> None:
    report, reasons = usage_report(model, "Anthropic Messages")
    mock.push_faults({"usage": report}, {"usage": report, "chunks": 3})
    m = claude.messages.create(model=model, max_tokens=100, messages=MESSAGES)
    # Streamed, the usage is in message_start (Anthropic) or, when it is known only at the end
    # (a translated stream), in message_delta: the SDK's final message has it either way.
    with claude.messages.stream(model=model, max_tokens=100, messages=MESSAGES) as s:
        final = s.get_final_message()
        request_id = s.response.headers["x-request-id"]
    for u in (m.usage, final.usage):
        assert u.cache_read_input_tokens == CACHED and u.input_tokens > 0, u
    want = (CACHED, REASONING if reasons else 0)
    assert recorded_usage(str(claude.base_url).rstrip("/"), request_id) == want


def responses_cached_usage(oai: openai.OpenAI, model: str, mock: Mock) -> None:
    report, reasons = usage_report(model, "OpenAI Responses")
    mock.push_faults({"usage": report}, {"usage": report, "chunks": 3})
    r = oai.responses.create(model=model, input="Hello")
    s = oai.responses.create(model=model, input="Hello", stream=True)
    done = [e.response for e in s if e.type == "response.completed"]
    for u in (r.usage, done[0].usage):
        assert u.input_tokens_details.cached_tokens == CACHED, u
        assert u.output_tokens_details.reasoning_tokens == (REASONING if reasons else 0), u
    want = (CACHED, REASONING if reasons else 0)
    assert recorded_usage(str(oai.base_url).removesuffix("/v1/"), s.response.headers["x-request-id"]) == want


# --- Reasoning round trip ---------------------------------------------------------------------

#: Upstreams whose models sign their thinking (Claude: Anthropic's API, Vertex, Bedrock). A
#: tool-use turn sent back to them must open with its signed thinking, which the mock checks.
SIGNED = {UPSTREAMS["Anthropic"], UPSTREAMS["Vertex (Claude)"], UPSTREAMS["Bedrock"]}
#: The mock's thinking text.
THOUGHT = "Thinking about the question."


def assert_sent_back_signed(mock: Mock, model: str) -> None:
    """The last upstream request's last assistant turn opens with its signed thinking."""
    body = json.loads(mock.last_request()["body"])
    turn = [m for m in body["messages"] if m["role"] == "assistant"][-1]["content"][0]
    if model.startswith("bedrock/"):
        assert turn["reasoningContent"]["reasoningText"]["text"] == THOUGHT, turn
        assert turn["reasoningContent"]["reasoningText"]["signature"], turn
    else:
        assert turn["type"] == "thinking" and turn["thinking"] == THOUGHT and turn["signature"], turn


def chat_reasoning(oai: openai.OpenAI, model: str, mock: Mock) -> None:
    r = oai.chat.completions.create(model=model, messages=MESSAGES, tools=CHAT_TOOLS, reasoning_effort="low")
    whole = r.choices[0].message.model_extra or {}
    reasoning, blocks, calls = "", [], {}
    for c in oai.chat.completions.create(
        model=model, messages=MESSAGES, tools=CHAT_TOOLS, reasoning_effort="low", stream=True
    ):
        if not c.choices:
            continue
        d = c.choices[0].delta
        reasoning += (d.model_extra or {}).get("reasoning_content") or ""
        blocks += (d.model_extra or {}).get("thinking_blocks") or []
        for tc in d.tool_calls or []:
            call = calls.setdefault(tc.index, {"id": tc.id, "type": "function", "function": {"name": "", "arguments": ""}})
            call["function"]["name"] += tc.function.name or ""
            call["function"]["arguments"] += tc.function.arguments or ""
    if model in SIGNED:
        assert whole["reasoning_content"] == THOUGHT and whole["thinking_blocks"][0]["signature"]
        assert reasoning == THOUGHT and blocks == whole["thinking_blocks"]
    # The streamed turn goes back as a client that keeps reasoning would send it.
    turn: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": list(calls.values())}
    if reasoning:
        turn["reasoning_content"] = reasoning
    if blocks:
        turn["thinking_blocks"] = blocks
    raw = oai.chat.completions.with_raw_response.create(
        model=model, tools=CHAT_TOOLS, tool_choice="none", reasoning_effort="low",
        messages=[*MESSAGES, turn, {"role": "tool", "tool_call_id": turn["tool_calls"][0]["id"], "content": "18C"}],
    )
    assert raw.parse().choices[0].message.content == MOCK_TEXT
    # Thinking stayed on: nothing was left out for want of the signed blocks.
    assert "reasoning_effort" not in raw.headers.get("x-switchyard-dropped-params", "")
    if model in SIGNED:
        assert_sent_back_signed(mock, model)


def messages_reasoning(claude: anthropic.Anthropic, model: str, mock: Mock) -> None:
    thinking = {"type": "enabled", "budget_tokens": 1024}
    m = claude.messages.create(model=model, max_tokens=2000, thinking=thinking, tools=[TOOL], messages=MESSAGES)
    with claude.messages.stream(model=model, max_tokens=2000, thinking=thinking, tools=[TOOL], messages=MESSAGES) as s:
        final = s.get_final_message()
    if model in SIGNED:
        for answer in (m, final):
            first = answer.content[0]
            assert first.type == "thinking" and first.thinking == THOUGHT and first.signature, answer
    use = [b for b in final.content if b.type == "tool_use"][0]
    follow = claude.messages.create(
        model=model, max_tokens=2000, thinking=thinking, tools=[TOOL], tool_choice={"type": "none"},
        messages=[*MESSAGES, {"role": "assistant", "content": [b.model_dump() for b in final.content]},
                  {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "18C"}]}],
    )
    assert [b.text for b in follow.content if b.type == "text"] == [MOCK_TEXT]
    if model in SIGNED:
        assert_sent_back_signed(mock, model)


def responses_reasoning(oai: openai.OpenAI, model: str, mock: Mock) -> None:
    ask = {"reasoning": {"effort": "low"}, "include": ["reasoning.encrypted_content"]}
    r = oai.responses.create(model=model, input="Weather?", tools=RESP_TOOLS, **ask)
    with oai.responses.stream(model=model, input="Weather?", tools=RESP_TOOLS, **ask) as s:
        summary = "".join(e.delta for e in s if e.type == "response.reasoning_summary_text.delta")
        final = s.get_final_response()
    if model in SIGNED:
        for answer in (r, final):
            item = answer.output[0]
            assert item.type == "reasoning" and item.summary[0].text == THOUGHT and item.encrypted_content
        assert summary == THOUGHT
    call = [o for o in final.output if o.type == "function_call"][0]
    follow = oai.responses.create(
        model=model, tools=RESP_TOOLS, tool_choice="none", **ask,
        input=[{"role": "user", "content": "Weather?"}, *[o.model_dump(exclude_none=True) for o in final.output],
               {"type": "function_call_output", "call_id": call.call_id, "output": "18C"}],
    )
    assert follow.output_text == MOCK_TEXT
    if model in SIGNED:
        assert_sent_back_signed(mock, model)


# --- Client disconnect ------------------------------------------------------------------------

#: A stream long enough (20 pieces, 200 ms apart) that only a cancelled one ends early.
SLOW = {"chunks": 20, "chunk_delay_ms": 200}


def upstream_cancelled(mock: Mock, before: dict[str, int]) -> None:
    """The caller hung up after the first event: the upstream stream was cut, not finished."""
    deadline = time.monotonic() + 10
    while mock.stats()["streams_aborted"] <= before["streams_aborted"]:
        assert time.monotonic() < deadline, f"the upstream stream was not cancelled: {mock.stats()}"
        time.sleep(0.05)
    assert mock.stats()["streams_completed"] == before["streams_completed"]


def chat_disconnect(oai: openai.OpenAI, model: str, mock: Mock) -> None:
    mock.push_faults(SLOW)
    before = mock.stats()
    stream = oai.chat.completions.create(model=model, messages=MESSAGES, stream=True)
    next(iter(stream))
    stream.close()
    upstream_cancelled(mock, before)


def messages_disconnect(claude: anthropic.Anthropic, model: str, mock: Mock) -> None:
    mock.push_faults(SLOW)
    before = mock.stats()
    with claude.messages.stream(model=model, max_tokens=64, messages=MESSAGES) as s:
        next(iter(s))
    upstream_cancelled(mock, before)


def responses_disconnect(oai: openai.OpenAI, model: str, mock: Mock) -> None:
    mock.push_faults(SLOW)
    before = mock.stats()
    stream = oai.responses.create(model=model, input="Hello", stream=True)
    next(iter(stream))
    stream.close()
    upstream_cancelled(mock, before)


# --- Embeddings and count_tokens --------------------------------------------------------------

EMBED_MODELS = {
    "OpenAI-compatible": "openai/text-embedding-3-small",
    "Anthropic": "anthropic/claude-sonnet-4-6",
    "Gemini": "gemini/gemini-embedding-001",
    "Cohere": "cohere/embed-v4.0",
    "Vertex (Gemini)": "vertex/text-embedding-005",
    "Vertex (Claude)": "vertex/claude-sonnet-4-5@20250929",
    "Bedrock": "bedrock/amazon.titan-embed-text-v2:0",
    "Azure OpenAI": "azure/text-embedding-3-small",
}


def embeddings(oai: openai.OpenAI, upstream: str, mock: Mock) -> None:
    model = EMBED_MODELS[upstream]
    if (("embeddings", upstream)) in REFUSED:
        with pytest.raises(openai.BadRequestError):
            oai.embeddings.create(model=model, input="alpha")
        return
    # The SDK asks for base64 by default and decodes it; the floats must agree.
    # Titan on Bedrock embeds one text per request.
    texts = ["alpha"] if upstream == "Bedrock" else ["alpha", "beta"]
    b64 = oai.embeddings.create(model=model, input=texts, dimensions=4)
    floats = oai.embeddings.create(model=model, input=texts, dimensions=4, encoding_format="float")
    assert [d.index for d in b64.data] == list(range(len(texts))) and len(b64.data[-1].embedding) == 4
    assert b64.data[-1].embedding == pytest.approx(floats.data[-1].embedding, rel=1e-6)


def count_tokens(claude: anthropic.Anthropic, upstream: str, mock: Mock) -> None:
    model = UPSTREAMS[upstream]
    before = mock.stats()["requests"]
    raw = claude.messages.with_raw_response.count_tokens(model=model, system="Be brief.", messages=MESSAGES)
    assert raw.parse().input_tokens > 0
    estimated = raw.headers.get("x-switchyard-token-count") == "estimate"
    assert estimated == (upstream in ESTIMATED)
    # An estimate is made without asking the provider.
    assert (mock.stats()["requests"] == before) == estimated


# --- The matrix -------------------------------------------------------------------------------

FEATURES: dict[str, list[tuple[str, Callable[..., None]]]] = {
    "OpenAI chat completions": [
        ("text", chat_text), ("stream", chat_stream), ("usage (+ stream include_usage)", chat_usage),
        ("tools + tool results", chat_tools), ("streamed tool calls", chat_streamed_tools),
        ("parallel tool calls (+ stream)", chat_parallel),
        ("cached and reasoning usage, caller and log (+ stream)", chat_cached_usage),
        ("reasoning round trip (+ stream)", chat_reasoning), ("JSON schema output (+ stream)", chat_json),
        ("errors (429 + Retry-After, 503)", chat_errors), ("broken stream → error event", chat_broken_stream),
        ("client disconnect cancels the upstream", chat_disconnect),
    ],
    "Anthropic Messages": [
        ("text", messages_text), ("stream", messages_stream), ("usage (+ stream)", messages_usage),
        ("tools + tool results", messages_tools), ("streamed tool calls", messages_streamed_tools),
        ("parallel tool calls (+ stream)", messages_parallel),
        ("cached usage, caller and log (+ stream)", messages_cached_usage),
        ("reasoning round trip (+ stream)", messages_reasoning),
        ("errors (429 + Retry-After, 503)", messages_errors), ("broken stream → error event", messages_broken_stream),
        ("client disconnect cancels the upstream", messages_disconnect),
    ],
    "OpenAI Responses": [
        ("text", responses_text), ("stream", responses_stream), ("usage (+ stream)", responses_usage),
        ("function calls + outputs", responses_tools), ("streamed function calls", responses_streamed_tools),
        ("parallel function calls (+ stream)", responses_parallel),
        ("cached and reasoning usage, caller and log (+ stream)", responses_cached_usage),
        ("custom tools (+ stream)", responses_custom_tools), ("reasoning round trip (+ stream)", responses_reasoning),
        ("JSON schema output", responses_json),
        ("errors (429, 503)", responses_errors), ("broken stream → error event", responses_broken_stream),
        ("client disconnect cancels the upstream", responses_disconnect),
    ],
}

CELLS = [
    pytest.param(inbound, feature, upstream, fn, id=f"{inbound}|{feature}|{upstream}")
    for inbound, features in FEATURES.items()
    for feature, fn in features
    for upstream in UPSTREAMS
]


# --- The exact upstream requests ---------------------------------------------------------------

BODIES = Path(__file__).parent / "upstream-bodies"
#: The mock's own ids (a counter over the whole run) in bodies that send its answers back.
MOCK_IDS = re.compile(r"mock[-_]?\d+(?:_\d+)*")


def _stable(v: Any) -> Any:
    if isinstance(v, str):
        return MOCK_IDS.sub("mock#", v)
    if isinstance(v, list):
        return [_stable(x) for x in v]
    if isinstance(v, dict):
        return {k: _stable(x) for k, x in v.items()}
    return v


def upstream_requests(mock: Mock) -> list[dict[str, Any]]:
    """What the upstream received, in order: method, target and body (JSON parsed). Vertex's
    OAuth token exchanges (signed, time-stamped assertions) are left aside."""
    out = []
    for r in mock.requests():
        if r["path"] == "/token":
            continue
        try:
            body: Any = json.loads(r["body"])
        except ValueError:
            body = r["body"]
        out.append({"method": r["method"], "target": r["target"], "body": body})
    return _stable(out)


def assert_upstream_requests(mock: Mock, inbound: str, feature: str, upstream: str) -> None:
    slug = lambda s: re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")  # noqa: E731
    path = BODIES / slug(inbound) / f"{slug(feature)}.json"
    kept = json.loads(path.read_text()) if path.exists() else {}
    got = upstream_requests(mock)
    if kept.get(upstream) == got:
        return
    if os.environ.get("SWITCHYARD_UPDATE_BODIES"):
        kept[upstream] = got
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(kept, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
        return
    assert got == kept.get(upstream), (
        f"the upstream requests of {inbound} | {feature} | {upstream} differ from {path.relative_to(BODIES.parent)}"
        " (review, then SWITCHYARD_UPDATE_BODIES=1 rewrites it)"
    )


@pytest.mark.parametrize("inbound,feature,upstream,fn", CELLS)
def test_cell(inbound: str, feature: str, upstream: str, fn: Callable[..., None], oai: openai.OpenAI,
              claude: anthropic.Anthropic, mock: Mock) -> None:
    client: Any = claude if inbound == "Anthropic Messages" else oai
    fn(client, UPSTREAMS[upstream], mock)
    assert_upstream_requests(mock, inbound, feature, upstream)


@pytest.mark.parametrize("upstream", list(UPSTREAMS))
def test_embeddings_cell(upstream: str, oai: openai.OpenAI, mock: Mock) -> None:
    embeddings(oai, upstream, mock)
    assert_upstream_requests(mock, "OpenAI embeddings", "floats and base64", upstream)


@pytest.mark.parametrize("upstream", list(UPSTREAMS))
def test_count_tokens_cell(upstream: str, claude: anthropic.Anthropic, mock: Mock) -> None:
    count_tokens(claude, upstream, mock)
    assert_upstream_requests(mock, "Anthropic count_tokens", "input tokens", upstream)
