"""The official openai SDK's Responses API through the gateway (served via chat completions)."""

from __future__ import annotations

import json

import openai
import pytest

from conftest import MOCK_TEXT, Mock

TOOLS = [{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]


def test_create(client: openai.OpenAI, mock: Mock) -> None:
    r = client.responses.create(model="gpt-4o-mini", instructions="Be brief.", input="Hello", store=False)
    assert r.status == "completed"
    assert r.output_text == MOCK_TEXT
    assert r.usage.output_tokens == len(MOCK_TEXT.split(" "))
    sent = json.loads(mock.last_request("/v1/chat/completions")["body"])
    assert sent["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]


def test_stream_events(client: openai.OpenAI) -> None:
    events = list(client.responses.create(model="gpt-4o-mini", input="Hello", stream=True))
    types = [e.type for e in events]
    assert types[0] == "response.created"
    assert types[-1] == "response.completed"
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == MOCK_TEXT
    assert events[-1].response.output_text == MOCK_TEXT
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_function_call_round_trip(client: openai.OpenAI, mock: Mock) -> None:
    r = client.responses.create(model="gpt-4o-mini", input="Weather in Paris?", tools=TOOLS)
    call = next(i for i in r.output if i.type == "function_call")
    assert call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Paris", "unit": "celsius"}
    follow = [
        {"role": "user", "content": "Weather in Paris?"},
        {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": "18C"},
    ]
    client.responses.create(model="gpt-4o-mini", input=follow, tools=TOOLS, tool_choice="none")
    sent = json.loads(mock.last_request("/v1/chat/completions")["body"])
    assert sent["messages"][1]["tool_calls"][0]["id"] == call.call_id
    assert sent["messages"][2] == {"role": "tool", "tool_call_id": call.call_id, "content": "18C"}


def test_stream_helper_with_function_call(client: openai.OpenAI) -> None:
    with client.responses.stream(model="gpt-4o-mini", input="Weather?", tools=TOOLS) as s:
        final = s.get_final_response()
    call = next(i for i in final.output if i.type == "function_call")
    assert json.loads(call.arguments) == {"city": "Paris", "unit": "celsius"}


def test_previous_response_id_is_a_bad_request(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as ei:
        client.responses.create(model="gpt-4o-mini", input="Hi", previous_response_id="resp_123")
    assert ei.value.param == "previous_response_id"
