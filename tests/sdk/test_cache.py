"""The response cache as the official SDKs see it: a repeated request is answered from the cache
(x-switchyard-cache: hit) with the same answer and no upstream call, for chat (also re-streamed
to a streamed request, usage included) and Anthropic's Messages."""

from __future__ import annotations

from typing import Iterator

import anthropic
import openai
import pytest

from conftest import CLIENT_KEY, UPSTREAM_KEY, Gateway, Mock, base_env, launch_gateway


def config(mock: Mock) -> str:
    return f"""server:
  discover_env: false
providers:
  - name: openai
    base_url: {mock.base_url}
    api_key: {UPSTREAM_KEY}
  - name: anthropic
    base_url: {mock.url}
    api_key: {UPSTREAM_KEY}
client_keys:
  - name: sdk
    key: {CLIENT_KEY}
cache:
  enabled: true
  ttl_secs: 300
"""


@pytest.fixture(scope="module")
def gw(mock: Mock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    g = launch_gateway(tmp_path_factory.mktemp("cache"), "gateway-cache", base_env(), config(mock))
    yield g
    g.svc.stop()


def upstream_calls(mock: Mock) -> int:
    return len([r for r in mock.requests() if r["path"].endswith(("/chat/completions", "/messages"))])


def test_chat_is_served_from_the_cache_whole_and_streamed(gw: Gateway, mock: Mock) -> None:
    oai = gw.client()
    ask = dict(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "cache me"}],
               extra_body={"mock": {"content": "A cached answer, word for word."}})
    before = upstream_calls(mock)
    first = oai.chat.completions.with_raw_response.create(**ask)
    assert first.headers["x-switchyard-cache"] == "miss"
    again = oai.chat.completions.with_raw_response.create(**ask)
    assert again.headers["x-switchyard-cache"] == "hit"
    a, b = first.parse(), again.parse()
    assert b.choices[0].message.content == a.choices[0].message.content == "A cached answer, word for word."
    assert b.id == a.id and b.usage == a.usage
    # The same request streamed: chunks from the cache, with the usage chunk asked for.
    stream = oai.chat.completions.create(**ask, stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == a.choices[0].message.content
    assert chunks[-1].usage == a.usage
    assert chunks[-2].choices[0].finish_reason == a.choices[0].finish_reason
    assert upstream_calls(mock) == before + 1


def test_messages_are_served_from_the_cache(gw: Gateway, mock: Mock) -> None:
    claude = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0, timeout=10.0)
    ask = dict(model="anthropic/claude-3-5-haiku-latest", max_tokens=50,
               messages=[{"role": "user", "content": "cache this too"}],
               extra_body={"mock": {"content": "Stored once."}})
    before = upstream_calls(mock)
    first = claude.messages.with_raw_response.create(**ask)
    again = claude.messages.with_raw_response.create(**ask)
    assert (first.headers["x-switchyard-cache"], again.headers["x-switchyard-cache"]) == ("miss", "hit")
    assert again.parse().content[0].text == first.parse().content[0].text == "Stored once."
    # Stored from a stream, served whole (the SDK's stream helper reads the events).
    streamed = dict(ask, messages=[{"role": "user", "content": "stream then whole"}])
    with claude.messages.stream(**streamed) as s:
        text = "".join(s.text_stream)
    whole = claude.messages.with_raw_response.create(**streamed)
    assert whole.headers["x-switchyard-cache"] == "hit"
    assert whole.parse().content[0].text == text == "Stored once."
    assert upstream_calls(mock) == before + 2
    claude.close()
