"""The request log seen from the official SDKs: what they send is recorded with its tokens and
cost (streams included, even when the caller did not ask for a usage chunk, which it then does
not get), feedback attaches to the record, and the admin API lists, exports and aggregates."""

from __future__ import annotations

import csv
import io
import time
from typing import Any, Iterator

import anthropic
import httpx2
import pytest

from conftest import CLIENT_KEY, MOCK_TEXT, UPSTREAM_KEY, Gateway, Mock, gateway_env, launch_gateway

ADMIN_KEY = "admin-key-sdk-1"


@pytest.fixture(scope="module")
def gw(mock: Mock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    env = gateway_env(
        mock,
        ANTHROPIC_API_KEY=UPSTREAM_KEY,
        ANTHROPIC_BASE_URL=mock.url,
        SWITCHYARD_ADMIN_KEYS=ADMIN_KEY,
    )
    g = launch_gateway(tmp_path_factory.mktemp("observability"), "gateway-observability", env)
    yield g
    g.svc.stop()


def admin(gw: Gateway, path: str, **params: Any) -> httpx2.Response:
    return httpx2.get(
        gw.url + path, params=params, headers={"authorization": f"Bearer {ADMIN_KEY}"}, timeout=10.0
    )


def record(gw: Gateway, request_id: str) -> dict[str, Any]:
    """The record of `request_id`, once the writer has stored it."""
    for _ in range(100):
        r = admin(gw, "/admin/logs", request_id=request_id)
        assert r.status_code == 200, r.text
        if r.json()["data"]:
            return r.json()["data"][0]
        time.sleep(0.05)
    raise AssertionError(f"no record for {request_id}")


def test_openai_stream_is_recorded_with_usage_the_caller_did_not_ask_for(gw: Gateway) -> None:
    client = gw.client()
    raw = client.chat.completions.with_raw_response.create(
        model="openai/gpt-6-sol", messages=[{"role": "user", "content": "Hi"}], stream=True
    )
    chunks = list(raw.parse())
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == MOCK_TEXT
    assert all(c.usage is None for c in chunks)
    rec = record(gw, raw.headers["x-request-id"])
    assert rec["stream"] is True and rec["status"] == 200 and rec["outcome"] == "ok"
    assert rec["output_tokens"] == len(MOCK_TEXT.split(" "))
    assert rec["cost_usd"] > 0
    assert 0 < rec["ttft_ms"] <= rec["latency_ms"]
    # Asked for, the usage chunk arrives as OpenAI sends it.
    with_usage = list(
        client.chat.completions.create(
            model="openai/gpt-6-sol",
            messages=[{"role": "user", "content": "Hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert with_usage[-1].usage is not None
    assert with_usage[-1].usage.completion_tokens == rec["output_tokens"]


def test_anthropic_sdk_messages_are_recorded(gw: Gateway) -> None:
    claude = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0, timeout=10.0)
    with claude.messages.stream(
        model="claude-opus-5-5", max_tokens=64, messages=[{"role": "user", "content": "Hello"}]
    ) as stream:
        final = stream.get_final_message()
        request_id = stream.response.headers["x-request-id"]
    rec = record(gw, request_id)
    assert rec["operation"] == "messages" and rec["provider"] == "anthropic"
    assert rec["output_tokens"] == final.usage.output_tokens
    assert rec["input_tokens"] == final.usage.input_tokens
    # claude-opus-5-5 at $4 in and $20 out per million tokens.
    expected = (final.usage.input_tokens * 4 + final.usage.output_tokens * 20) / 1e6
    assert rec["cost_usd"] == pytest.approx(expected)
    claude.close()


def test_feedback_export_and_analytics(gw: Gateway) -> None:
    client = gw.client()
    raw = client.chat.completions.with_raw_response.create(
        model="openai/gpt-6-sol",
        messages=[{"role": "user", "content": "Rate me"}],
        extra_headers={"x-switchyard-metadata": '{"feature": "rating"}'},
    )
    request_id = raw.headers["x-request-id"]
    record(gw, request_id)
    fb = gw.post("/v1/feedback", json={"request_id": request_id, "score": 1, "metadata": {"thumb": "up"}})
    assert fb.status_code == 201, fb.text
    one = admin(gw, f"/admin/logs/{request_id}").json()
    assert one["metadata"] == {"feature": "rating"}
    assert [(f["score"], f["metadata"]) for f in one["feedback"]] == [(1.0, {"thumb": "up"})]

    exported = admin(gw, "/admin/logs/export", format="csv", **{"metadata.feature": "rating"})
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["request_id"] for r in rows] == [request_id]
    assert rows[0]["model"] == "gpt-6-sol" and rows[0]["status"] == "200"

    stats = admin(gw, "/admin/analytics", group_by="metadata.feature").json()
    rating = [d for d in stats["data"] if d["key"] == "rating"]
    assert rating and rating[0]["requests"] == 1 and rating[0]["error_rate"] == 0
    # The admin API is not for client keys.
    assert httpx2.get(gw.url + "/admin/logs", headers={"authorization": f"Bearer {CLIENT_KEY}"}).status_code == 401
