"""Routes with the official openai SDK: a fallback route recovers from a failing first target,
the SDK sees the target and attempt headers, an exhausted route raises the SDK's error class with
every attempt listed, and /v1/compare answers side by side."""

from __future__ import annotations

from typing import Iterator

import httpx2
import openai
import pytest

from conftest import CLIENT_KEY, MOCK_TEXT, UPSTREAM_KEY, Gateway, Mock


@pytest.fixture(scope="module")
def routed(mock: Mock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    from conftest import launch_gateway

    env = {"PATH": "/usr/bin:/bin", "SWITCHYARD_API_KEYS": CLIENT_KEY}
    config = f"""
        server:
          discover_env: false
        providers:
          - {{name: first, base_url: "{mock.base_url}", api_key: {UPSTREAM_KEY}, models: [gpt-4o-mini]}}
          - {{name: second, base_url: "{mock.base_url}", api_key: {UPSTREAM_KEY}, models: [gpt-4o]}}
        routes:
          smart:
            strategy: fallback
            targets:
              - model: first/gpt-4o-mini
              - model: second/gpt-4o
                params: {{max_tokens: 33}}
    """
    gw = launch_gateway(tmp_path_factory.mktemp("routes"), "gateway-routes", env, config)
    yield gw
    gw.svc.stop()


def test_fallback_is_invisible_but_for_the_headers(routed: Gateway, mock: Mock) -> None:
    client = routed.client()
    mock.push_faults({"status": 503})
    raw = client.chat.completions.with_raw_response.create(
        model="smart", messages=[{"role": "user", "content": "Hi"}]
    )
    r = raw.parse()
    assert r.choices[0].message.content == MOCK_TEXT
    assert raw.headers["x-switchyard-target"] == "second/gpt-4o"
    assert raw.headers["x-switchyard-attempts"] == "2"
    bodies = [r["body"] for r in mock.requests() if r["path"] == "/v1/chat/completions"]
    assert '"max_tokens":33' in bodies[-1].replace(" ", "")
    # Streams fall back the same way (before the first byte).
    mock.push_faults({"status": 500})
    text = "".join(
        c.choices[0].delta.content or ""
        for c in client.chat.completions.create(
            model="smart", messages=[{"role": "user", "content": "Hi"}], stream=True
        )
        if c.choices
    )
    assert text == MOCK_TEXT


def test_an_exhausted_route_lists_every_attempt(routed: Gateway, mock: Mock) -> None:
    client = routed.client()
    mock.push_faults({"status": 503}, {"status": 502})
    with pytest.raises(openai.APIStatusError) as ei:
        client.chat.completions.create(model="smart", messages=[{"role": "user", "content": "Hi"}])
    assert ei.value.status_code == 502
    assert ei.value.body["message"].startswith(
        "All 2 attempts failed (first/gpt-4o-mini: status 503; second/gpt-4o: status 502). Last: "
    )


def test_compare(routed: Gateway) -> None:
    r = httpx2.post(
        routed.url + "/v1/compare",
        headers={"authorization": f"Bearer {CLIENT_KEY}"},
        json={"models": ["first/gpt-4o-mini", "smart"], "messages": [{"role": "user", "content": "Hi"}]},
        timeout=10.0,
    )
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["model"] for x in results] == ["first/gpt-4o-mini", "smart"]
    assert all(x["status"] == 200 for x in results)
    assert results[1]["target"] == "first/gpt-4o-mini"
    assert results[0]["response"]["choices"][0]["message"]["content"] == MOCK_TEXT
