"""Request ids, trace context, client disconnects and graceful shutdown, seen through the SDK."""

from __future__ import annotations

import re
import signal
import time

import httpx2
import openai

from conftest import CLIENT_KEY, MOCK_TEXT, Gateway, Mock, header

MESSAGES = [{"role": "user", "content": "Say hello."}]
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT_RE = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


def wait_for(predicate, timeout: float, interval: float = 0.05):
    """Polls until predicate() is truthy; returns its last value."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    return value


def test_traceparent_continues_the_callers_trace(client: openai.OpenAI, mock: Mock) -> None:
    client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        extra_headers={"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01", "tracestate": "vendor=abc"},
    )
    rec = mock.last_request("/v1/chat/completions")
    m = TRACEPARENT_RE.fullmatch(header(rec, "traceparent") or "")
    assert m, header(rec, "traceparent")
    assert m.group(1) == TRACE_ID, "same trace"
    assert m.group(2) != PARENT_ID and m.group(2) != "0" * 16, "a new span as the parent"
    assert m.group(3) == "01"
    assert header(rec, "tracestate") == "vendor=abc"


def test_traceparent_started_when_caller_sends_none(client: openai.OpenAI, mock: Mock) -> None:
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    parents = [header(r, "traceparent") or "" for r in mock.requests()]
    matches = [TRACEPARENT_RE.fullmatch(p) for p in parents]
    assert all(matches), parents
    assert matches[0].group(1) != matches[1].group(1), "each request starts its own trace"
    assert matches[0].group(1) != "0" * 32


def test_request_id_is_echoed_and_forwarded(client: openai.OpenAI, mock: Mock) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=MESSAGES, extra_headers={"x-request-id": "sdk-test-req-42"}
    )
    assert raw.headers["x-request-id"] == "sdk-test-req-42"
    assert header(mock.last_request(), "x-request-id") == "sdk-test-req-42"


def test_request_id_generated_and_unique(client: openai.OpenAI, mock: Mock) -> None:
    ids = set()
    for _ in range(3):
        raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)
        ids.add(raw.headers["x-request-id"])
    assert len(ids) == 3
    assert {header(r, "x-request-id") for r in mock.requests()} == ids


def test_request_id_on_streams_and_errors(client: openai.OpenAI, gateway: Gateway) -> None:
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        stream=True,
        extra_headers={"x-request-id": "stream-req-1"},
    ) as resp:
        assert resp.headers["x-request-id"] == "stream-req-1"
        text = "".join(c.choices[0].delta.content or "" for c in resp.parse() if c.choices)
    assert text == MOCK_TEXT
    bad = gateway.client(api_key="wrong")
    try:
        bad.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, extra_headers={"x-request-id": "err-req-1"}
        )
    except openai.AuthenticationError as e:
        assert e.response.headers["x-request-id"] == "err-req-1"
    else:
        raise AssertionError("expected a 401")


def test_unusable_request_id_is_replaced(gateway: Gateway) -> None:
    r = httpx2.get(
        gateway.url + "/v1/models",
        headers={"authorization": f"Bearer {CLIENT_KEY}", "x-request-id": "has spaces in it"},
    )
    assert r.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])


def test_client_disconnect_cancels_the_upstream_stream(client: openai.OpenAI, mock: Mock) -> None:
    before = mock.stats()
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        stream=True,
        extra_body={"mock": {"chunk_delay_ms": 200, "chunks": 20}},
    )
    first = next(iter(stream))
    assert first.choices[0].delta.role == "assistant"
    stream.close()
    stats = wait_for(
        lambda: (s := mock.stats())["streams_aborted"] > before["streams_aborted"] and s, timeout=5
    )
    assert stats, f"the mock's stream was not cancelled: {mock.stats()} (before: {before})"
    # Cancelled, not finished: the whole stream would have completed after about 4.4 s.
    assert stats["streams_completed"] == before["streams_completed"]


def test_sigterm_drains_an_in_flight_stream(start_gateway, mock: Mock) -> None:
    gw = start_gateway()
    c = gw.client()
    stream = c.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        stream=True,
        extra_body={"mock": {"chunk_delay_ms": 100, "chunks": 10}},
    )
    it = iter(stream)
    chunks = [next(it)]
    gw.svc.signal(signal.SIGTERM)
    # Once draining, new connections are refused (or the health check fails); wait until then so
    # we know the signal has been handled while the stream is still running.
    def refusing() -> bool:
        try:
            return httpx2.get(gw.url + "/readyz", timeout=0.5).status_code != 200
        except httpx2.TransportError:
            return True

    assert wait_for(refusing, timeout=3)
    chunks.extend(it)
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert text == MOCK_TEXT
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert gw.svc.wait(timeout=10) == 0, gw.log_text()


def test_concurrent_requests_do_not_cross(gateway: Gateway, mock: Mock) -> None:
    """Parallel streamed and plain requests each get their own answer and request id."""
    from concurrent.futures import ThreadPoolExecutor

    c = gateway.client()

    def one(i: int) -> tuple[str, str, str]:
        text = f"reply number {i} for you"
        mock_opts = {"content": text, "chunk_delay_ms": 5}
        if i % 2:
            with c.chat.completions.with_streaming_response.create(
                model="gpt-4o-mini", messages=MESSAGES, stream=True, extra_body={"mock": mock_opts}
            ) as resp:
                got = "".join(ch.choices[0].delta.content or "" for ch in resp.parse() if ch.choices)
                return text, got, resp.headers["x-request-id"]
        raw = c.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=MESSAGES, extra_body={"mock": mock_opts}
        )
        return text, raw.parse().choices[0].message.content, raw.headers["x-request-id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(24)))
    c.close()
    for want, got, _ in results:
        assert got == want
    assert len({rid for _, _, rid in results}) == 24
    assert len(mock.requests()) == 24


def test_stream_cut_by_drain_deadline_ends_with_error_event(start_gateway, mock: Mock) -> None:
    """A stream still running when the drain deadline passes is a failure after the first byte, so
    like every such failure it must end with an OpenAI-shaped error event (which the SDK raises as
    APIError with a body), not a connection cut mid-chunk (APIConnectionError)."""
    gw = start_gateway(
        """
        server:
          drain_timeout_secs: 1
        """
    )
    c = gw.client()
    stream = c.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        stream=True,
        extra_body={"mock": {"chunk_delay_ms": 1000, "chunks": 10}},
    )
    it = iter(stream)
    chunks = [next(it)]
    t0 = time.monotonic()
    gw.svc.signal(signal.SIGTERM)
    with_error = None
    try:
        for ch in it:
            chunks.append(ch)
    except openai.APIError as e:
        with_error = e
    assert gw.svc.wait(timeout=10) == 0, gw.log_text()
    # The stream alone would take 10 s; the 1 s deadline plus exit takes far less, even loaded.
    assert time.monotonic() - t0 < 8, "the 1 s drain deadline was not kept"
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert text != MOCK_TEXT, "the stream should not have had time to finish"
    assert with_error is not None, "the stream ended without any error"
    assert not isinstance(with_error, openai.APIConnectionError), (
        f"the stream was cut at the transport level ({with_error!r}) instead of ending with "
        "a data: {\"error\": ...} event"
    )
    assert with_error.body and with_error.body.get("message")
