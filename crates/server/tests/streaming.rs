//! Streams: relayed event by event, failures end with an error event, disconnects cancel upstream,
//! and shutdown lets them finish.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use http_body_util::BodyExt;
use std::time::Duration;
use support::*;

/// Reads SSE `data:` payloads from a response until it ends.
async fn data_events(resp: hyper::Response<hyper::body::Incoming>) -> Vec<String> {
    let (_, _, body) = collect(resp).await;
    String::from_utf8_lossy(&body)
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: ").map(str::to_owned))
        .collect()
}

async fn stream_req(h: &Harness, mock: &str) -> hyper::Response<hyper::body::Incoming> {
    let body = format!(
        r#"{{"model":"gpt-4o-mini","stream":true,"messages":[{{"role":"user","content":"hi"}}],"mock":{mock}}}"#
    );
    h.send(
        "POST",
        "/v1/chat/completions",
        &[("authorization", &format!("Bearer {KEY}"))],
        body,
    )
    .await
}

#[tokio::test]
async fn stream_is_relayed_whole_and_in_order() {
    let h = start().await;
    let resp = stream_req(&h, r#"{"chunks":5}"#).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let events = data_events(resp).await;
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let text: String = events
        .iter()
        .filter(|e| e.starts_with('{'))
        .filter_map(|e| {
            json(&bytes::Bytes::from(e.clone()))["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(text, "Hello! This is the mock provider answering.");
}

#[tokio::test]
async fn first_event_arrives_before_the_upstream_finishes() {
    let h = start().await;
    // An upstream that never finishes: relaying as events arrive is the only way to get one.
    let resp = stream_req(&h, r#"{"endless":true,"chunk_delay_ms":100}"#).await;
    let mut body = resp.into_body();
    let first = tokio::time::timeout(Duration::from_secs(10), body.frame())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
        .into_data()
        .unwrap();
    assert!(first.starts_with(b"data: {"), "{first:?}");
    assert!(first.ends_with(b"\n\n"), "one whole event per frame");
    assert_eq!(h.mock.stats().streams_completed, 0);
    // Hanging up ends the upstream stream too.
    drop(body);
    assert!(eventually(|| h.mock.stats().streams_aborted == 1).await);
}

#[tokio::test]
async fn broken_upstream_stream_ends_with_an_error_event() {
    let h = start().await;
    let resp = stream_req(&h, r#"{"break_after":3}"#).await;
    assert_eq!(resp.status(), 200);
    let events = data_events(resp).await;
    assert_eq!(events.len(), 4, "{events:?}");
    let last = json(&bytes::Bytes::from(events[3].clone()));
    assert_eq!(last["error"]["code"], "upstream_bad_response");
    assert!(!events.iter().any(|e| e == "[DONE]"));
}

#[tokio::test]
async fn idle_upstream_stream_ends_with_a_timeout_event() {
    let h = start().await;
    // idle_ms is 800 in the default config.
    let resp = stream_req(&h, r#"{"chunks":3,"chunk_delay_ms":2000}"#).await;
    let events = data_events(resp).await;
    let last = json(&bytes::Bytes::from(events.last().unwrap().clone()));
    assert_eq!(last["error"]["code"], "upstream_timeout");
    assert!(last["error"]["message"].as_str().unwrap().contains("idle"));
}

#[tokio::test]
async fn slow_first_chunk_within_limits_is_fine() {
    let h = start().await;
    let resp = stream_req(&h, r#"{"first_chunk_delay_ms":300}"#).await;
    let events = data_events(resp).await;
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
}

#[tokio::test]
async fn client_disconnect_cancels_the_upstream_stream() {
    let h = start().await;
    let resp = stream_req(&h, r#"{"chunks":20,"chunk_delay_ms":200}"#).await;
    let mut body = resp.into_body();
    body.frame().await.unwrap().unwrap();
    drop(body);
    assert!(
        eventually(|| h.mock.stats().streams_aborted == 1).await,
        "{:?}",
        h.mock.stats()
    );
    assert_eq!(h.mock.stats().streams_completed, 0);
}

#[tokio::test]
async fn shutdown_lets_in_flight_streams_finish() {
    let h = start().await;
    let resp = stream_req(&h, r#"{"chunks":4,"chunk_delay_ms":150}"#).await;
    let reader = tokio::spawn(data_events(resp));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let addr = h.server.addr;
    let state = h.server.state();
    let finished = h.server.shutdown().await;
    assert!(finished, "drained before the deadline");
    assert!(state.draining.load(std::sync::atomic::Ordering::Relaxed));
    let events = reader.await.unwrap();
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn streams_still_running_at_the_drain_deadline_end_with_an_error_event() {
    let yaml = default_yaml().replace(
        "  max_body_bytes: 4096\n",
        "  max_body_bytes: 4096\n  drain_timeout_secs: 1\n",
    );
    let h = start_with(&yaml, axum::Router::new()).await;
    let resp = stream_req(&h, r#"{"chunks":20,"chunk_delay_ms":300}"#).await;
    let reader = tokio::spawn(data_events(resp));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!h.server.shutdown().await, "the deadline was reached");
    let events = reader.await.unwrap();
    let last = json(&bytes::Bytes::from(events.last().unwrap().clone()));
    assert_eq!(last["error"]["code"], "shutting_down", "{events:?}");
    assert!(events.len() < 20, "cut short: {}", events.len());
}

// --- Hardening: the total deadline, size limits and framing checks ---

/// Two providers at the mock (`openai` and `anthropic`) with a 1.5 s total deadline, a 64 KiB
/// event limit and a 64 KiB limit on whole upstream bodies.
const HARD_YAML: &str = "server:\n  discover_env: false\n  limits:\n    max_event_bytes: 65536\n    max_upstream_body_bytes: 65536\nproviders:\n  - name: openai\n    base_url: ${MOCK}\n    api_key: sk-upstream\n    timeouts: { idle_ms: 800, total_ms: 1500 }\n  - name: anthropic\n    base_url: ${MOCK_ROOT}\n    api_key: sk-ant\n    timeouts: { idle_ms: 800, total_ms: 1500 }\nclient_keys:\n  - name: test\n    key: client-key-123\n";

async fn start_hard() -> Harness {
    start_with(HARD_YAML, axum::Router::new()).await
}

const CLAUDE_CHAT_STREAM: &str = r#"{"model":"anthropic/claude-sonnet-4-5","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
const CLAUDE_MESSAGES_STREAM: &str = r#"{"model":"anthropic/claude-sonnet-4-5","stream":true,"max_tokens":64,"messages":[{"role":"user","content":"hi"}]}"#;

/// A chat stream request with a `mock` fault in its body (for pass-through requests).
fn chat_with(mock: &str) -> String {
    format!(
        r#"{{"model":"openai/gpt-4o-mini","stream":true,"messages":[{{"role":"user","content":"hi"}}],"mock":{mock}}}"#
    )
}

async fn post_stream(
    h: &Harness,
    path: &str,
    body: &str,
) -> hyper::Response<hyper::body::Incoming> {
    h.send(
        "POST",
        path,
        &[
            ("authorization", &format!("Bearer {KEY}")),
            ("anthropic-version", "2023-06-01"),
            ("content-type", "application/json"),
        ],
        body.to_owned(),
    )
    .await
}

/// Reads a body to its end within `within`, keeping only its last 64 KiB (endless upstreams
/// can send a lot); returns that tail and how long the body took.
async fn tail_of(
    resp: hyper::Response<hyper::body::Incoming>,
    within: Duration,
) -> (String, Duration) {
    const KEEP: usize = 64 * 1024;
    let started = std::time::Instant::now();
    let mut body = resp.into_body();
    let mut tail: Vec<u8> = Vec::new();
    let read = async {
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.unwrap().into_data() {
                tail.extend_from_slice(&data);
                if tail.len() > 2 * KEEP {
                    tail.drain(..tail.len() - KEEP);
                }
            }
        }
    };
    assert!(
        tokio::time::timeout(within, read).await.is_ok(),
        "the stream did not end within {within:?}"
    );
    (
        String::from_utf8_lossy(&tail).into_owned(),
        started.elapsed(),
    )
}

/// The last whole event of an SSE text.
fn last_event(text: &str) -> &str {
    text.trim_end_matches('\n')
        .rsplit("\n\n")
        .next()
        .unwrap_or_default()
}

/// The JSON of an OpenAI-shaped error event (`data: {"error":...}`).
fn openai_error_event(event: &str) -> serde_json::Value {
    let data = event
        .strip_prefix("data: ")
        .unwrap_or_else(|| panic!("not a data event: {event}"));
    let v: serde_json::Value = serde_json::from_str(data).unwrap();
    assert!(v["error"]["message"].is_string(), "{v}");
    v
}

/// The JSON of an Anthropic-shaped error event (`event: error`).
fn anthropic_error_event(event: &str) -> serde_json::Value {
    let data = event
        .strip_prefix("event: error\ndata: ")
        .unwrap_or_else(|| panic!("not an Anthropic error event: {event}"));
    let v: serde_json::Value = serde_json::from_str(data).unwrap();
    assert_eq!(v["type"], "error", "{v}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn total_timeout_ends_an_endless_translated_stream() {
    let h = start_hard().await;
    // Anthropic's events as fast as the gateway takes them, translated to chat chunks: the
    // gateway always has data to read, so only the deadline itself can end this.
    h.mock.push_faults([switchyard_mock::Fault {
        endless: true,
        ..Default::default()
    }]);
    let resp = post_stream(&h, "/v1/chat/completions", CLAUDE_CHAT_STREAM).await;
    assert_eq!(resp.status(), 200);
    let (tail, took) = tail_of(resp, Duration::from_secs(10)).await;
    assert!(took < Duration::from_secs(5), "{took:?}");
    let v = openai_error_event(last_event(&tail));
    assert_eq!(v["error"]["code"], "upstream_timeout", "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("total"),
        "{v}"
    );
    assert!(
        tail.contains("chat.completion.chunk"),
        "chunks came before the error"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn total_timeout_ends_endless_passthrough_streams_in_the_callers_shape() {
    let h = start_hard().await;
    let resp = post_stream(
        &h,
        "/v1/chat/completions",
        &chat_with(r#"{"endless":true}"#),
    )
    .await;
    let (tail, took) = tail_of(resp, Duration::from_secs(10)).await;
    assert!(took < Duration::from_secs(5), "{took:?}");
    let v = openai_error_event(last_event(&tail));
    assert_eq!(v["error"]["code"], "upstream_timeout", "{v}");

    h.mock.push_faults([switchyard_mock::Fault {
        endless: true,
        ..Default::default()
    }]);
    let resp = post_stream(&h, "/v1/messages", CLAUDE_MESSAGES_STREAM).await;
    let (tail, took) = tail_of(resp, Duration::from_secs(10)).await;
    assert!(took < Duration::from_secs(5), "{took:?}");
    let v = anthropic_error_event(last_event(&tail));
    assert_eq!(v["error"]["type"], "api_error", "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("total"),
        "{v}"
    );
}

#[tokio::test]
async fn total_timeout_ends_an_endless_whole_body_with_504() {
    let h = start_hard().await;
    let body = r#"{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"mock":{"endless":true,"chunk_delay_ms":50}}"#;
    let started = std::time::Instant::now();
    let (s, _, b) = h.chat(body).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(s, 504, "{}", String::from_utf8_lossy(&b));
    assert_eq!(json(&b)["error"]["code"], "upstream_timeout");
}

#[tokio::test]
async fn total_timeout_releases_the_upstream_while_the_caller_is_not_reading() {
    use tokio::io::AsyncReadExt;
    let h = start_hard().await;
    let body = chat_with(r#"{"endless":true}"#);
    let mut tcp = raw_chat_post(h.server.addr, &body).await;
    // The caller reads nothing: the gateway's socket fills and the relay is not polled; the
    // deadline must still end the upstream request.
    let released = async {
        while h.mock.stats().streams_aborted == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    assert!(
        tokio::time::timeout(Duration::from_secs(5), released)
            .await
            .is_ok(),
        "the upstream stream was still open 5 s after a 1.5 s deadline: {:?}",
        h.mock.stats()
    );
    // Reading now gets what was buffered, then the timeout's error event and the end.
    let mut tail: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let read = async {
        loop {
            let n = tcp.read(&mut buf).await.unwrap();
            tail.extend_from_slice(&buf[..n]);
            if tail.len() > 256 * 1024 {
                tail.drain(..tail.len() - 128 * 1024);
            }
            if n == 0 || tail.ends_with(b"\r\n0\r\n\r\n") {
                break;
            }
        }
    };
    assert!(tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .is_ok());
    let text = String::from_utf8_lossy(&tail);
    assert!(
        text.contains(r#""code":"upstream_timeout""#),
        "{}",
        &text[text.len().saturating_sub(500)..]
    );
}

#[tokio::test]
async fn an_event_over_the_size_limit_ends_the_stream_without_buffering_it() {
    let h = start_hard().await;
    // 2 MiB in one event against a 64 KiB limit, sent in 64 KiB pieces 20 ms apart: the
    // gateway gives up after two pieces, long before the event would end.
    let resp = post_stream(
        &h,
        "/v1/chat/completions",
        &chat_with(r#"{"oversized_event":2097152,"chunk_delay_ms":20}"#),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let (tail, _) = tail_of(resp, Duration::from_secs(10)).await;
    assert!(
        tail.len() < 64 * 1024,
        "the oversized event was not relayed"
    );
    let v = openai_error_event(last_event(&tail));
    assert_eq!(v["error"]["code"], "upstream_response_too_large", "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("65536"),
        "{v}"
    );
    assert!(
        eventually(|| h.mock.stats().streams_aborted == 1).await,
        "the gateway stopped reading mid-event: {:?}",
        h.mock.stats()
    );

    // The same in Anthropic's shape, for a Messages caller.
    h.mock.push_faults([switchyard_mock::Fault {
        oversized_event: Some(4 * 1024 * 1024),
        ..Default::default()
    }]);
    let resp = post_stream(&h, "/v1/messages", CLAUDE_MESSAGES_STREAM).await;
    let (tail, _) = tail_of(resp, Duration::from_secs(10)).await;
    let v = anthropic_error_event(last_event(&tail));
    assert_eq!(v["error"]["type"], "api_error", "{v}");
}

#[tokio::test]
async fn a_whole_upstream_body_over_the_limit_is_502() {
    let h = start_hard().await;
    let big = "word ".repeat(20000);
    let body = format!(
        r#"{{"model":"openai/gpt-4o-mini","messages":[{{"role":"user","content":"hi"}}],"mock":{{"content":"{big}"}}}}"#
    );
    let (s, _, b) = h.chat(&body).await;
    assert_eq!(s, 502, "{}", String::from_utf8_lossy(&b));
    let v = json(&b);
    assert_eq!(v["error"]["code"], "upstream_response_too_large", "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("65536"),
        "{v}"
    );
    // Small answers are unaffected.
    let (s, _, _) = h
        .chat(r#"{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#)
        .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn a_passthrough_stream_of_binary_garbage_ends_with_an_error_event() {
    let h = start_hard().await;
    let resp = post_stream(
        &h,
        "/v1/chat/completions",
        &chat_with(r#"{"garbage":2000}"#),
    )
    .await;
    let (tail, _) = tail_of(resp, Duration::from_secs(10)).await;
    let events: Vec<&str> = tail.trim_end_matches('\n').split("\n\n").collect();
    assert!(
        events[0].starts_with("data: {\"choices\""),
        "the first event passed: {tail:?}"
    );
    assert_eq!(events.len(), 2, "{tail:?}");
    let v = openai_error_event(events[1]);
    assert_eq!(v["error"]["code"], "upstream_bad_response", "{v}");
}

#[tokio::test]
async fn a_passthrough_event_that_is_not_json_ends_the_stream() {
    let h = start_hard().await;
    let resp = post_stream(
        &h,
        "/v1/chat/completions",
        &chat_with(r#"{"inject":"data: {\"oops\n\n"}"#),
    )
    .await;
    let (tail, _) = tail_of(resp, Duration::from_secs(10)).await;
    assert!(!tail.contains("oops"), "{tail}");
    assert!(!tail.contains("[DONE]"), "{tail}");
    let v = openai_error_event(last_event(&tail));
    assert_eq!(v["error"]["code"], "upstream_bad_response", "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("JSON"),
        "{v}"
    );
    // Valid JSON of any shape, and [DONE], pass untouched.
    let ok = r#"{"inject":"data: [1, {\"a\": \"\\u00e9\"}]\n\n"}"#;
    let resp = post_stream(&h, "/v1/chat/completions", &chat_with(ok)).await;
    let (tail, _) = tail_of(resp, Duration::from_secs(10)).await;
    assert!(
        tail.contains("data: [1, {\"a\": \"\\u00e9\"}]\n\n"),
        "{tail}"
    );
    assert!(tail.ends_with("data: [DONE]\n\n"), "{tail}");
}

#[tokio::test]
async fn a_truncated_last_event_is_dropped_and_reported() {
    let h = start_hard().await;
    let resp = post_stream(
        &h,
        "/v1/chat/completions",
        &chat_with(r#"{"truncate":true}"#),
    )
    .await;
    let (tail, _) = tail_of(resp, Duration::from_secs(10)).await;
    // The last event was `data: [DONE]`; half of it reached the gateway.
    assert!(!tail.contains("data: [D"), "{tail}");
    let v = openai_error_event(last_event(&tail));
    assert_eq!(v["error"]["code"], "upstream_bad_response", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("middle of an event"),
        "{v}"
    );
}
