"""The response cache as the official SDKs see it: a repeated request is answered from the cache
(x-switchyard-cache: hit) with the same answer and no upstream call, for chat (also re-streamed
to a streamed request, usage included) and Anthropic's Messages; two gateway processes share
answers, prompt meanings and purges through Redis."""

from __future__ import annotations

import os
import time
from typing import Callable, Iterator

import anthropic
import httpx2
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


ADMIN_KEY = "sdk-admin-key-123"


def replica_config(mock: Mock, prefix: str) -> str:
    shared = config(mock) + f"""  redis_url: redis://127.0.0.1:6379/
  redis_prefix: "{prefix}"
  semantic:
    enabled: true
    embedding_model: openai/text-embedding-3-small
    dimensions: 256
"""
    return shared.replace("server:\n  discover_env: false\n",
                          f"server:\n  discover_env: false\n  admin_keys: [{{name: ops, key: {ADMIN_KEY}}}]\n")


@pytest.fixture(scope="module")
def replicas(mock: Mock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gateway, Gateway]]:
    """Two gateway processes sharing the cache through the local Redis, under a prefix of their own."""
    prefix = f"sy-sdk-{os.getpid()}-{time.time_ns()}:"
    d = tmp_path_factory.mktemp("replicas")
    a = launch_gateway(d, "gateway-cache-a", base_env(), replica_config(mock, prefix))
    b = launch_gateway(d, "gateway-cache-b", base_env(), replica_config(mock, prefix))
    yield a, b
    a.svc.stop()
    b.svc.stop()


def eventually(check: Callable[[], bool], seconds: float = 3.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.02)
    return check()


def test_two_replicas_share_answers_and_meanings_through_redis(
        replicas: tuple[Gateway, Gateway], mock: Mock) -> None:
    a, b = replicas
    oa, ob = a.client(), b.client()
    msgs = lambda q: [{"role": "system", "content": "Answer in one word."}, {"role": "user", "content": q}]
    ask = lambda q: dict(model="openai/gpt-4o-mini", messages=msgs(q), extra_body={"mock": {"content": "Paris."}})
    before = upstream_calls(mock)
    first = oa.chat.completions.with_raw_response.create(**ask("What is the capital of France?"))
    assert first.headers["x-switchyard-cache"] == "miss"
    # Replica B serves what A stored, exactly, and by meaning (A's prompt vector reached B).
    status = lambda client, q: client.chat.completions.with_raw_response.create(**ask(q)).headers["x-switchyard-cache"]
    assert eventually(lambda: status(ob, "What is the capital of France?") == "hit")
    assert eventually(lambda: status(ob, "What is the capital city of France?") == "semantic-hit")
    answer = ob.chat.completions.create(**ask("What is the capital city of France?"))
    assert answer.choices[0].message.content == "Paris."
    assert status(ob, "What is the capital of Spain?") == "miss"
    assert upstream_calls(mock) == before + 2
    # A purge through A's admin API empties B too.
    r = httpx2.post(a.url + "/admin/v1/cache/purge", json={"workspace": "default"},
                    headers={"authorization": f"Bearer {ADMIN_KEY}"}, timeout=5.0)
    assert r.status_code == 200 and r.json()["purged"] == 2, r.text
    assert status(ob, "What is the capital of France?") == "miss"
    stats = httpx2.get(b.url + "/admin/v1/cache/stats", headers={"authorization": f"Bearer {ADMIN_KEY}"},
                       timeout=5.0).json()
    assert stats["backend"] == "redis" and stats["entries"] == 1, stats
    assert stats["requests"]["semantic_hit"] == 2, stats
