"""The official openai SDK's Responses API through the gateway: passed through to OpenAI (which
serves it), and served via chat completions for a host that does not (Groq's preset)."""

from __future__ import annotations

import json

import openai
import pytest

from conftest import MOCK_TEXT, UPSTREAM_KEY, Mock


@pytest.fixture
def chat_host(start_gateway, mock: Mock) -> openai.OpenAI:
    """A client of a gateway with OpenAI and a host whose Responses go through chat (groq/...)."""
    gw = start_gateway(env={"GROQ_API_KEY": UPSTREAM_KEY, "GROQ_BASE_URL": mock.base_url})
    return gw.client()

TOOLS = [{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]


def test_create(client: openai.OpenAI, chat_host: openai.OpenAI, mock: Mock) -> None:
    # OpenAI serves the Responses API: the request goes as it is.
    r = client.responses.create(model="gpt-4o-mini", instructions="Be brief.", input="Hello", store=False)
    assert r.status == "completed"
    assert r.output_text == MOCK_TEXT
    sent = json.loads(mock.last_request("/v1/responses")["body"])
    assert sent == {"model": "gpt-4o-mini", "instructions": "Be brief.", "input": "Hello", "store": False}
    # Another host: through chat completions.
    r = chat_host.responses.create(model="groq/llama-3.3-70b", instructions="Be brief.", input="Hello", store=False)
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


@pytest.mark.parametrize("route", ["native", "chat"])
def test_function_call_round_trip(route: str, client: openai.OpenAI, chat_host: openai.OpenAI, mock: Mock) -> None:
    c, model = (client, "gpt-4o-mini") if route == "native" else (chat_host, "groq/llama-3.3-70b")
    r = c.responses.create(model=model, input="Weather in Paris?", tools=TOOLS)
    call = next(i for i in r.output if i.type == "function_call")
    assert call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Paris", "unit": "celsius"}
    follow = [
        {"role": "user", "content": "Weather in Paris?"},
        {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": "18C"},
    ]
    r = c.responses.create(model=model, input=follow, tools=TOOLS, tool_choice="none")
    assert r.output_text == MOCK_TEXT
    if route == "native":
        assert json.loads(mock.last_request("/v1/responses")["body"])["input"] == follow
    else:
        sent = json.loads(mock.last_request("/v1/chat/completions")["body"])
        assert sent["messages"][1]["tool_calls"][0]["id"] == call.call_id
        assert sent["messages"][2] == {"role": "tool", "tool_call_id": call.call_id, "content": "18C"}


def test_stream_helper_with_function_call(client: openai.OpenAI) -> None:
    with client.responses.stream(model="gpt-4o-mini", input="Weather?", tools=TOOLS) as s:
        final = s.get_final_response()
    call = next(i for i in final.output if i.type == "function_call")
    assert json.loads(call.arguments) == {"city": "Paris", "unit": "celsius"}


def test_previous_response_id(client: openai.OpenAI, chat_host: openai.OpenAI, mock: Mock) -> None:
    # A provider that keeps responses gets the id; through chat there is no stored state: a 400.
    client.responses.create(model="gpt-4o-mini", input="Hi", previous_response_id="resp_123")
    assert json.loads(mock.last_request("/v1/responses")["body"])["previous_response_id"] == "resp_123"
    with pytest.raises(openai.BadRequestError) as ei:
        chat_host.responses.create(model="groq/llama-3.3-70b", input="Hi", previous_response_id="resp_123")
    assert ei.value.param == "previous_response_id"