"""Errors as the official openai SDK sees them: the right exception class, status, OpenAI-shaped
body, and the headers a client needs (Retry-After, x-request-id)."""

from __future__ import annotations

import json
import time
from typing import Iterator

import httpx2
import openai
import pytest

from conftest import (
    CLIENT_KEY,
    MOCK_TEXT,
    UPSTREAM_KEY,
    Gateway,
    Mock,
    free_port,
    gateway_env,
    launch_gateway,
)

MESSAGES = [{"role": "user", "content": "Say hello."}]
ERROR_KEYS = {"message", "type", "param", "code"}
MAX_BODY = 4096


def error_of(resp: httpx2.Response) -> dict:
    body = resp.json()
    assert set(body) == {"error"}, body
    assert ERROR_KEYS <= set(body["error"]), body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


@pytest.fixture(scope="module")
def edge(mock: Mock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway with short upstream timeouts, a small body limit, and a second provider whose
    address nothing listens on."""
    closed = free_port()
    config = f"""
        server:
          max_body_bytes: {MAX_BODY}
          discover_env: false
        providers:
          - name: openai
            base_url: {mock.base_url}
            api_key: {UPSTREAM_KEY}
            timeouts:
              first_byte_ms: 400
              idle_ms: 400
          - name: dead
            base_url: http://127.0.0.1:{closed}/v1
            api_key: unused
            models: [dead-model]
            timeouts:
              connect_ms: 2000
    """
    env = gateway_env(mock)
    del env["OPENAI_BASE_URL"], env["OPENAI_API_KEY"]
    gw = launch_gateway(tmp_path_factory.mktemp("edge"), "edge-gateway", env, config)
    yield gw
    gw.svc.stop()


@pytest.fixture
def edge_client(edge: Gateway) -> Iterator[openai.OpenAI]:
    c = edge.client()
    yield c
    c.close()


# ---------------------------------------------------------------------------------------------
# Caller errors: refused by the gateway, never sent upstream


def test_wrong_key_is_authentication_error(gateway: Gateway, mock: Mock) -> None:
    bad = gateway.client(api_key="not-the-key")
    with pytest.raises(openai.AuthenticationError) as ei:
        bad.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    e = ei.value
    assert e.status_code == 401
    assert e.code == "invalid_api_key"
    assert e.response.headers.get("x-request-id")
    assert ERROR_KEYS <= set(e.body)
    assert mock.requests() == []


def test_missing_key_is_401(gateway: Gateway, mock: Mock) -> None:
    r = gateway.post(
        "/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": MESSAGES}, headers={}
    )
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers.get("x-request-id")
    err = error_of(r)
    assert "key" in err["message"].lower()
    assert mock.requests() == []


def test_unknown_model_is_not_found(start_gateway, mock: Mock) -> None:
    """With two providers, a bare name neither claims is a 404; with one, every name routes to it."""
    gw = start_gateway(env={"GROQ_API_KEY": UPSTREAM_KEY, "GROQ_BASE_URL": mock.base_url})
    c = gw.client()
    with pytest.raises(openai.NotFoundError) as ei:
        c.chat.completions.create(model="no-such-model-xyz", messages=MESSAGES)
    assert ei.value.status_code == 404
    assert ei.value.code == "model_not_found"
    assert "no-such-model-xyz" in ei.value.message
    with pytest.raises(openai.NotFoundError):
        c.chat.completions.create(model="nonexistent-provider/x", messages=MESSAGES)
    assert mock.requests() == []
    # Both providers still route: by prefix and by provider/model.
    assert c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES).model == "gpt-4o-mini"
    r = c.chat.completions.with_raw_response.create(model="groq/llama-3.1-8b-instant", messages=MESSAGES)
    assert r.headers.get("x-switchyard-provider") == "groq"
    assert json.loads(mock.last_request()["body"])["model"] == "llama-3.1-8b-instant"


def test_missing_messages_is_bad_request(gateway: Gateway, mock: Mock) -> None:
    r = gateway.post("/v1/chat/completions", json={"model": "gpt-4o-mini"})
    assert r.status_code == 400
    err = error_of(r)
    assert err["param"] == "messages"
    assert err["type"] == "invalid_request_error"
    assert mock.requests() == []


@pytest.mark.parametrize(
    "path,body,param",
    [
        ("/v1/chat/completions", {"messages": MESSAGES}, "model"),
        ("/v1/completions", {"model": "gpt-3.5-turbo-instruct"}, "prompt"),
        ("/v1/embeddings", {"model": "text-embedding-3-small"}, "input"),
    ],
)
def test_missing_required_field_names_it(gateway: Gateway, path: str, body: dict, param: str) -> None:
    r = gateway.post(path, json=body)
    assert r.status_code == 400
    assert error_of(r)["param"] == param


def test_malformed_json_is_bad_request(gateway: Gateway, mock: Mock) -> None:
    r = gateway.post(
        "/v1/chat/completions",
        content=b'{"model": "gpt-4o-mini", "messages": [',
        headers={"authorization": f"Bearer {CLIENT_KEY}", "content-type": "application/json"},
    )
    assert r.status_code == 400
    error_of(r)
    assert mock.requests() == []


def test_bad_request_through_the_sdk(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as ei:
        client.chat.completions.create(model="gpt-4o-mini", messages="not a list")  # type: ignore[arg-type]
    assert ei.value.status_code == 400
    assert ei.value.param == "messages"


def test_body_over_limit_is_413(edge: Gateway, edge_client: openai.OpenAI, mock: Mock) -> None:
    big = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x" * (MAX_BODY + 10)}]}
    # Declared by Content-Length.
    r = edge.post("/v1/chat/completions", json=big)
    assert r.status_code == 413
    assert error_of(r)["code"] == "request_too_large"
    # Chunked, with no Content-Length: the limit still holds while reading.
    data = json.dumps(big).encode()
    r = edge.post(
        "/v1/chat/completions",
        content=iter([data[i : i + 1000] for i in range(0, len(data), 1000)]),
        headers={"authorization": f"Bearer {CLIENT_KEY}", "content-type": "application/json"},
    )
    assert r.status_code == 413
    # Through the SDK: a generic status error with the same code.
    with pytest.raises(openai.APIStatusError) as ei:
        edge_client.chat.completions.create(model="gpt-4o-mini", messages=big["messages"])
    assert ei.value.status_code == 413
    assert mock.requests() == []
    # Just under the limit is fine.
    ok = edge_client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "y" * (MAX_BODY - 200)}]
    )
    assert ok.choices[0].message.content == MOCK_TEXT


# ---------------------------------------------------------------------------------------------
# Upstream errors


def test_rate_limit_with_retry_after(client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as ei:
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            extra_body={"mock": {"status": 429, "retry_after": "7"}},
        )
    e = ei.value
    assert e.status_code == 429
    assert e.response.headers["retry-after"] == "7"
    assert e.type == "rate_limit_error"
    assert ERROR_KEYS <= set(e.body)


def test_stream_request_refused_upstream_raises_before_iterating(client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as ei:
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            stream=True,
            extra_body={"mock": {"status": 429, "retry_after": "3"}},
        )
    assert ei.value.response.headers["retry-after"] == "3"
    assert ei.value.response.headers["content-type"].startswith("application/json")


def test_sdk_retries_follow_relayed_retry_after(gateway: Gateway, mock: Mock) -> None:
    """The SDK's own retries work through the gateway: it waits as Retry-After says, then succeeds."""
    # Longer than the SDK's own backoff (about 0.5 s, then 1 s): only a lower bound on time, which
    # a loaded machine cannot break.
    mock.push_faults({"status": 429, "retry_after": "1.5"}, {"status": 503, "retry_after": "1.5"})
    c = gateway.client(max_retries=2)
    t0 = time.monotonic()
    out = c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert out.choices[0].message.content == MOCK_TEXT
    assert time.monotonic() - t0 >= 3.0, "Retry-After (1.5 s, twice) was not honoured"
    assert len(mock.requests()) == 3
    c.close()


def test_upstream_openai_error_body_is_kept(client: openai.OpenAI, mock: Mock) -> None:
    body = {
        "error": {
            "message": "Rate limit reached for requests",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }
    mock.push_faults({"status": 429, "body": body, "retry_after": "2"})
    with pytest.raises(openai.RateLimitError) as ei:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert ei.value.body == body["error"]
    assert ei.value.message.endswith("Rate limit reached for requests")
    assert ei.value.response.headers["retry-after"] == "2"


def test_upstream_plain_text_error_is_normalised(client: openai.OpenAI, mock: Mock) -> None:
    mock.push_faults({"status": 503, "body": "upstream overloaded, try later"})
    with pytest.raises(openai.InternalServerError) as ei:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    e = ei.value
    assert e.status_code == 503
    assert e.response.headers["content-type"].startswith("application/json")
    assert set(e.response.json()) == {"error"}
    assert e.body["message"] == "upstream overloaded, try later"
    assert ERROR_KEYS <= set(e.body)


@pytest.mark.parametrize("status,cls", [(400, openai.BadRequestError), (401, openai.AuthenticationError),
                                        (403, openai.PermissionDeniedError), (404, openai.NotFoundError),
                                        (409, openai.ConflictError), (422, openai.UnprocessableEntityError),
                                        (500, openai.InternalServerError)])
def test_upstream_status_maps_to_sdk_class(client: openai.OpenAI, status: int, cls: type) -> None:
    with pytest.raises(cls) as ei:
        client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, extra_body={"mock": {"status": status}}
        )
    assert ei.value.status_code == status


def test_upstream_unreachable_is_502(edge_client: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as ei:
        edge_client.chat.completions.create(model="dead-model", messages=MESSAGES)
    assert ei.value.status_code == 502
    assert ei.value.code == "upstream_unreachable"


def test_upstream_first_byte_timeout_is_504(edge_client: openai.OpenAI) -> None:
    t0 = time.monotonic()
    with pytest.raises(openai.InternalServerError) as ei:
        edge_client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, extra_body={"mock": {"latency_ms": 3000}}
        )
    elapsed = time.monotonic() - t0
    assert ei.value.status_code == 504
    assert ei.value.code == "upstream_timeout"
    assert elapsed < 2.5, f"the 400 ms first-byte limit took {elapsed:.1f}s"


def read_sse(resp: httpx2.Response) -> list[str]:
    """The data fields of every SSE event in a streamed response."""
    events, data = [], []
    for line in resp.iter_lines():
        if line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
        elif line == "" and data:
            events.append("\n".join(data))
            data = []
    if data:
        events.append("\n".join(data))
    return events


# The mock's break_after aborts the connection right after handing its server the Nth event; the
# events still in that server's write buffer are lost with it. So a break needs a chunk delay to
# put events on the wire first, and the last event before the break may not arrive.
BREAK = {"break_after": 4, "chunk_delay_ms": 30}


def test_broken_stream_raises_api_error(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, extra_body={"mock": BREAK}
    )
    got = []
    with pytest.raises(openai.APIError) as ei:
        for chunk in stream:
            got.append(chunk)
    assert 3 <= len(got) <= 4, "the events before the break are delivered"
    e = ei.value
    assert not isinstance(e, openai.APIStatusError)
    assert ERROR_KEYS <= set(e.body)
    assert e.body["code"] == "upstream_bad_response"


def test_broken_stream_ends_with_openai_shaped_error_event(gateway: Gateway) -> None:
    body = {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True, "mock": BREAK}
    with httpx2.stream(
        "POST",
        gateway.url + "/v1/chat/completions",
        json=body,
        headers={"authorization": f"Bearer {CLIENT_KEY}"},
        timeout=10,
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = read_sse(r)
    assert 4 <= len(events) <= 5
    assert all("error" not in json.loads(e) for e in events[:-1])
    last = json.loads(events[-1])
    assert set(last) == {"error"}
    assert set(last["error"]) == ERROR_KEYS
    assert last["error"]["type"] == "api_error"
    assert "[DONE]" not in events


def test_upstream_breaking_before_the_first_event_gives_an_error_event(client: openai.OpenAI) -> None:
    """The upstream sent its 200 headers, then the connection broke before any event: the caller
    gets one OpenAI-shaped error event, which the SDK raises as APIError with a body."""
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, extra_body={"mock": {"break_after": 0}}
    )
    got = []
    with pytest.raises(openai.APIError) as ei:
        for chunk in stream:
            got.append(chunk)
    assert got == []
    assert ei.value.body["code"] == "upstream_bad_response"


def test_stream_idle_timeout_ends_with_error_event(edge_client: openai.OpenAI) -> None:
    stream = edge_client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        stream=True,
        extra_body={"mock": {"chunk_delay_ms": 1500}},
    )
    got = []
    with pytest.raises(openai.APIError) as ei:
        for chunk in stream:
            got.append(chunk)
    # The idle timeout ended the stream before the next chunk (due 1.5 s after the first) came.
    assert len(got) == 1
    assert ei.value.body["code"] == "upstream_timeout"


def test_wrong_method_is_openai_shaped_405(gateway: Gateway) -> None:
    r = httpx2.get(gateway.url + "/v1/chat/completions", headers={"authorization": f"Bearer {CLIENT_KEY}"})
    assert r.status_code == 405
    assert error_of(r)["code"] == "method_not_allowed"


def test_unknown_route_is_openai_shaped_404(gateway: Gateway) -> None:
    r = httpx2.get(gateway.url + "/v1/nope", headers={"authorization": f"Bearer {CLIENT_KEY}"})
    assert r.status_code == 404
    assert error_of(r)["code"] == "unknown_url"
    assert r.headers.get("x-request-id")
