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
    let resp = stream_req(&h, r#"{"chunks":4,"chunk_delay_ms":400}"#).await;
    let mut body = resp.into_body();
    let first = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
        .into_data()
        .unwrap();
    assert!(first.starts_with(b"data: {"), "{first:?}");
    assert!(first.ends_with(b"\n\n"), "one whole event per frame");
    assert_eq!(
        h.mock.stats().streams_completed,
        0,
        "the upstream is still streaming"
    );
    while let Some(f) = body.frame().await {
        f.unwrap();
    }
    assert!(eventually(|| h.mock.stats().streams_completed == 1).await);
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
    let state = h.server.state.clone();
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
    assert!(events.len() > 2 && events.len() < 20, "{}", events.len());
}
