"""Legacy completions, embeddings and the model list through the official openai SDK."""

from __future__ import annotations

import json

import openai
import pytest

from conftest import CLIENT_KEY, MOCK_TEXT, Gateway, Mock


def upstream_body(mock: Mock, path: str) -> dict:
    return json.loads(mock.last_request(path)["body"])


def test_legacy_completion(client: openai.OpenAI, mock: Mock) -> None:
    c = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hello.", max_tokens=20)
    assert c.object == "text_completion"
    assert c.choices[0].text == MOCK_TEXT
    assert c.choices[0].finish_reason == "stop"
    assert c.usage.total_tokens == c.usage.prompt_tokens + c.usage.completion_tokens
    sent = upstream_body(mock, "/v1/completions")
    assert sent == {"model": "gpt-3.5-turbo-instruct", "prompt": "Say hello.", "max_tokens": 20}


def test_legacy_completion_stream(client: openai.OpenAI, mock: Mock) -> None:
    stream = client.completions.create(
        model="openai/gpt-3.5-turbo-instruct", prompt=["Say hello."], stream=True
    )
    chunks = list(stream)
    assert len(chunks) > 3
    assert "".join(c.choices[0].text for c in chunks) == MOCK_TEXT
    assert chunks[-1].choices[0].finish_reason == "stop"
    sent = upstream_body(mock, "/v1/completions")
    assert sent["model"] == "gpt-3.5-turbo-instruct"
    assert sent["prompt"] == ["Say hello."]


def test_embeddings_float(client: openai.OpenAI, mock: Mock) -> None:
    e = client.embeddings.create(model="text-embedding-3-small", input="hello", encoding_format="float")
    assert e.object == "list"
    assert e.model == "text-embedding-3-small"
    (item,) = e.data
    assert item.index == 0
    assert len(item.embedding) == 8
    assert all(isinstance(x, float) and -1.0 <= x <= 1.0 for x in item.embedding)
    assert e.usage.prompt_tokens > 0
    assert upstream_body(mock, "/v1/embeddings")["encoding_format"] == "float"


def test_embeddings_default_base64_is_decoded_by_the_sdk(client: openai.OpenAI, mock: Mock) -> None:
    """Without encoding_format the SDK asks for base64 and decodes it; values match the float form."""
    e = client.embeddings.create(model="text-embedding-3-small", input="hello")
    assert upstream_body(mock, "/v1/embeddings")["encoding_format"] == "base64"
    vec = e.data[0].embedding
    assert len(vec) == 8
    floats = client.embeddings.create(
        model="text-embedding-3-small", input="hello", encoding_format="float"
    ).data[0].embedding
    assert vec == pytest.approx(floats, rel=1e-6, abs=1e-7)


def test_embeddings_dimensions_and_batch(client: openai.OpenAI, mock: Mock) -> None:
    e = client.embeddings.create(
        model="openai/text-embedding-3-small",
        input=["one", "two", "three"],
        dimensions=4,
        encoding_format="float",
    )
    assert [d.index for d in e.data] == [0, 1, 2]
    assert all(len(d.embedding) == 4 for d in e.data)
    assert e.data[0].embedding != e.data[1].embedding
    sent = upstream_body(mock, "/v1/embeddings")
    assert sent["dimensions"] == 4
    assert sent["model"] == "text-embedding-3-small"
    assert sent["input"] == ["one", "two", "three"]


def test_models_list(client: openai.OpenAI, mock: Mock) -> None:
    ids = [m.id for m in client.models.list()]
    assert "gpt-4o-mini" in ids
    assert "openai/gpt-4o-mini" in ids
    assert len(ids) == len(set(ids)), "no duplicates"
    m = next(m for m in client.models.list() if m.id == "openai/gpt-4o-mini")
    assert m.object == "model"
    assert m.owned_by == "openai"
    # Listing is answered by the gateway itself.
    assert mock.requests() == []


def test_models_list_requires_a_key(gateway: Gateway) -> None:
    with pytest.raises(openai.AuthenticationError):
        gateway.client(api_key="wrong-key").models.list()


def test_base_url_without_v1(gateway: Gateway) -> None:
    """Clients configured with the bare host (no /v1) reach the same routes."""
    c = openai.OpenAI(base_url=gateway.url, api_key=CLIENT_KEY, max_retries=0, timeout=10)
    assert c.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    ).choices[0].message.content == MOCK_TEXT
    assert len(c.embeddings.create(model="text-embedding-3-small", input="hi").data[0].embedding) == 8
    assert "gpt-4o-mini" in [m.id for m in c.models.list()]
    c.close()
