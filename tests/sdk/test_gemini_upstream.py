"""The official openai SDK against a Gemini-format provider started with only GEMINI_API_KEY and
GEMINI_BASE_URL set (the zero-config contract): what reaches Gemini's endpoints, byte for byte.
Behaviour per inbound API (text, streams, usage, tools, errors) is in test_conformance.py."""

from __future__ import annotations

import json
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


