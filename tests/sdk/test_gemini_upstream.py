"""The official openai and anthropic SDKs against a Gemini-format provider: the gateway, started
with only GEMINI_API_KEY and GEMINI_BASE_URL set (the zero-config contract), translates chat
completions, embeddings, Responses and Anthropic Messages to generateContent and the answers back,
streamed or not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import anthropic
import openai
import pytest

from conftest import CLIENT_KEY, MOCK_TEXT, UPSTREAM_KEY, Gateway, Mock, gateway_env, header, launch_gateway

MESSAGES = [{"role": "user", "content": "Hello"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "strict": True,
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
                "required": ["city", "unit"],
                "additionalProperties": False,
            },
        },
    }
]
GENERATE = "/v1beta/models/gemini-2.5-flash:generateContent"
STREAM = "/v1beta/models/gemini-2.5-flash:streamGenerateContent"


@pytest.fixture(scope="module")
def gw(mock: Mock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway whose only provider is the mock speaking the Gemini API."""
    env = gateway_env(mock, GEMINI_API_KEY=UPSTREAM_KEY, GEMINI_BASE_URL=mock.url)
    env.pop("OPENAI_API_KEY")
    env.pop("OPENAI_BASE_URL")
    g = launch_gateway(tmp_path_factory.mktemp("gemini"), "gateway-gemini", env)
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


def sent(mock: Mock, path: str = GENERATE) -> dict:
    return json.loads(mock.last_request(path)["body"])


def test_chat_text(oai: openai.OpenAI, mock: Mock) -> None:
    r = oai.chat.completions.create(
        model="gemini-2.5-flash",
        messages=[{"role": "system", "content": "Be brief."}, *MESSAGES],
        max_completion_tokens=100,
        temperature=0.2,
    )
    assert r.choices[0].message.content == MOCK_TEXT
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.completion_tokens == len(MOCK_TEXT.split(" "))
    assert r.model == "gemini-2.5-flash"
    rec = mock.last_request(GENERATE)
    assert header(rec, "x-goog-api-key") == UPSTREAM_KEY
    assert sent(mock) == {
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "contents": [{"role": "user", "parts": [{"text": "Hello"}]}],
        "generationConfig": {"maxOutputTokens": 100, "temperature": 0.2},
    }


def test_chat_stream_with_usage(oai: openai.OpenAI, mock: Mock) -> None:
    mock.push_faults({"chunks": 4})
    chunks = list(
        oai.chat.completions.create(
            model="gemini-2.5-flash", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == MOCK_TEXT
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens == len(MOCK_TEXT.split(" "))
    assert mock.last_request(STREAM)["target"].endswith("?alt=sse")


def test_chat_tools_and_streamed_tools(oai: openai.OpenAI, mock: Mock) -> None:
    r = oai.chat.completions.create(model="gemini-2.5-flash", messages=MESSAGES, tools=TOOLS)
    call = r.choices[0].message.tool_calls[0]
    assert r.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris", "unit": "celsius"}
    params = sent(mock)["tools"][0]["functionDeclarations"][0]["parameters"]
    assert params == {
        "type": "OBJECT",
        "properties": {"city": {"type": "STRING"}, "unit": {"type": "STRING", "enum": ["c", "f"]}},
        "required": ["city", "unit"],
    }
    follow = oai.chat.completions.create(
        model="gemini-2.5-flash",
        messages=[
            *MESSAGES,
            r.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "18C"},
        ],
        tools=TOOLS,
        tool_choice="none",
    )
    assert follow.choices[0].message.content == MOCK_TEXT
    assert sent(mock)["contents"][2]["parts"][0]["functionResponse"] == {
        "name": "get_weather",
        "response": {"result": "18C"},
    }

    stream = oai.chat.completions.create(model="gemini-2.5-flash", messages=MESSAGES, tools=TOOLS, stream=True)
    args = ""
    names = []
    finish = None
    for c in stream:
        if not c.choices:
            continue
        for tc in c.choices[0].delta.tool_calls or []:
            args += tc.function.arguments or ""
            if tc.function.name:
                names.append(tc.function.name)
        finish = c.choices[0].finish_reason or finish
    assert names == ["get_weather"]
    assert json.loads(args) == {"city": "Paris", "unit": "celsius"}
    assert finish == "tool_calls"


def test_chat_errors(oai: openai.OpenAI, mock: Mock) -> None:
    mock.push_faults({"status": 429, "retry_after": "3"})
    with pytest.raises(openai.RateLimitError) as ei:
        oai.chat.completions.create(model="gemini-2.5-flash", messages=MESSAGES)
    assert ei.value.response.headers["retry-after"] == "3"
    with pytest.raises(openai.BadRequestError) as ei:
        oai.chat.completions.create(model="gemini-2.5-flash", messages=MESSAGES, extra_body={"modalities": ["audio"]})
    assert ei.value.body["param"] == "modalities"
    mock.push_faults({"break_after": 2})
    with pytest.raises(openai.APIError):
        for _ in oai.chat.completions.create(model="gemini-2.5-flash", messages=MESSAGES, stream=True):
            pass


def test_embeddings(oai: openai.OpenAI, mock: Mock) -> None:
    # The SDK asks for base64 by default and decodes it: the numbers must match the float form.
    r = oai.embeddings.create(model="gemini-embedding-001", input=["alpha", "beta"], dimensions=6)
    assert [d.index for d in r.data] == [0, 1]
    assert len(r.data[0].embedding) == 6
    floats = oai.embeddings.create(
        model="gemini-embedding-001", input=["alpha", "beta"], dimensions=6, encoding_format="float"
    )
    assert r.data[1].embedding == pytest.approx(floats.data[1].embedding, rel=1e-6)
    body = sent(mock, "/v1beta/models/gemini-embedding-001:batchEmbedContents")
    assert body["requests"][0] == {
        "model": "models/gemini-embedding-001",
        "content": {"parts": [{"text": "alpha"}]},
        "outputDimensionality": 6,
    }


def test_responses(oai: openai.OpenAI, mock: Mock) -> None:
    r = oai.responses.create(model="gemini-2.5-flash", input="Hello", instructions="Be brief.")
    assert r.output_text == MOCK_TEXT
    assert r.usage.output_tokens == len(MOCK_TEXT.split(" "))
    assert sent(mock)["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    with oai.responses.stream(model="gemini-2.5-flash", input="Hello") as s:
        text = "".join(e.delta for e in s if e.type == "response.output_text.delta")
        final = s.get_final_response()
    assert text == MOCK_TEXT
    assert final.status == "completed"
    tool = {"type": "function", "name": "get_weather", "parameters": TOOLS[0]["function"]["parameters"]}
    r = oai.responses.create(model="gemini-2.5-flash", input="Weather?", tools=[tool])
    calls = [o for o in r.output if o.type == "function_call"]
    assert calls and calls[0].name == "get_weather"
    assert json.loads(calls[0].arguments) == {"city": "Paris", "unit": "celsius"}


def test_anthropic_sdk_messages(claude: anthropic.Anthropic, mock: Mock) -> None:
    m = claude.messages.create(
        model="gemini-2.5-flash", max_tokens=100, system="Be brief.", messages=MESSAGES
    )
    assert m.content[0].text == MOCK_TEXT
    assert m.stop_reason == "end_turn"
    assert m.usage.output_tokens == len(MOCK_TEXT.split(" "))
    assert sent(mock)["generationConfig"] == {"maxOutputTokens": 100}
    with claude.messages.stream(model="gemini-2.5-flash", max_tokens=100, messages=MESSAGES) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text == MOCK_TEXT
    assert final.usage.output_tokens == len(MOCK_TEXT.split(" "))


def test_anthropic_sdk_tools(claude: anthropic.Anthropic, mock: Mock) -> None:
    tool = {"name": "get_weather", "description": "Weather", "input_schema": TOOLS[0]["function"]["parameters"]}
    m = claude.messages.create(model="gemini-2.5-flash", max_tokens=100, messages=MESSAGES, tools=[tool])
    use = [b for b in m.content if b.type == "tool_use"]
    assert m.stop_reason == "tool_use"
    assert use[0].name == "get_weather" and use[0].input == {"city": "Paris", "unit": "celsius"}
    follow = claude.messages.create(
        model="gemini-2.5-flash",
        max_tokens=100,
        tools=[tool],
        messages=[
            *MESSAGES,
            {"role": "assistant", "content": [b.model_dump() for b in m.content]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use[0].id, "content": "18C"}]},
        ],
    )
    assert follow.stop_reason in ("tool_use", "end_turn")
    assert sent(mock)["contents"][2]["parts"][0]["functionResponse"]["name"] == "get_weather"
    with claude.messages.stream(model="gemini-2.5-flash", max_tokens=100, messages=MESSAGES, tools=[tool]) as s:
        final = s.get_final_message()
    assert [b.input for b in final.content if b.type == "tool_use"] == [{"city": "Paris", "unit": "celsius"}]


def test_anthropic_sdk_errors(claude: anthropic.Anthropic, mock: Mock) -> None:
    mock.push_faults({"status": 429})
    with pytest.raises(anthropic.RateLimitError):
        claude.messages.create(model="gemini-2.5-flash", max_tokens=10, messages=MESSAGES)
    mock.push_faults({"status": 503})
    with pytest.raises(anthropic.InternalServerError) as ei:
        claude.messages.create(model="gemini-2.5-flash", max_tokens=10, messages=MESSAGES)
    assert ei.value.body["error"]["type"] == "overloaded_error"
    mock.push_faults({"break_after": 2})
    with pytest.raises(anthropic.APIStatusError):
        with claude.messages.stream(model="gemini-2.5-flash", max_tokens=10, messages=MESSAGES) as s:
            for _ in s.text_stream:
                pass
