"""The official openai SDK against a Cohere-format provider started with only COHERE_API_KEY and
COHERE_BASE_URL set (the zero-config contract): what reaches Cohere's endpoints. Behaviour per
inbound API is in test_conformance.py."""

from __future__ import annotations

import json
from typing import Iterator

import openai
import pytest

from conftest import MOCK_TEXT, UPSTREAM_KEY, Gateway, Mock, gateway_env, header, launch_gateway


@pytest.fixture(scope="module")
def oai(mock: Mock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[openai.OpenAI]:
    env = gateway_env(mock, COHERE_API_KEY=UPSTREAM_KEY, COHERE_BASE_URL=mock.url)
    env.pop("OPENAI_API_KEY")
    env.pop("OPENAI_BASE_URL")
    gw: Gateway = launch_gateway(tmp_path_factory.mktemp("cohere"), "gateway-cohere", env)
    c = gw.client()
    yield c
    c.close()
    gw.svc.stop()


def test_bare_command_names_reach_v2_chat(oai: openai.OpenAI, mock: Mock) -> None:
    r = oai.chat.completions.create(
        model="command-a-03-2025",
        messages=[{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        stop=["END"],
        top_p=0.5,
        tool_choice="none",
        tools=[{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}],
    )
    assert r.choices[0].message.content == MOCK_TEXT
    assert r.model == "command-a-03-2025"
    rec = mock.last_request("/v2/chat")
    assert header(rec, "authorization") == f"Bearer {UPSTREAM_KEY}"
    assert json.loads(rec["body"]) == {
        "model": "command-a-03-2025",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        "stop_sequences": ["END"],
        "p": 0.5,
        "tool_choice": "NONE",
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}],
    }


def test_embeddings_reach_v2_embed(oai: openai.OpenAI, mock: Mock) -> None:
    r = oai.embeddings.create(model="embed-v4.0", input="hello world", dimensions=5)
    assert len(r.data[0].embedding) == 5
    assert r.usage.prompt_tokens == 2
    body = json.loads(mock.last_request("/v2/embed")["body"])
    assert body == {
        "model": "embed-v4.0",
        "input_type": "search_document",
        "embedding_types": ["float"],
        "output_dimension": 5,
        "texts": ["hello world"],
    }
