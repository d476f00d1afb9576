//! Client connections: header-read, body-read and idle timeouts, the cap on open connections,
//! and drain with half-sent heads. Raw sockets, so the tests control every byte.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::Router;
use std::time::{Duration, Instant};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A gateway with the given `server.limits` lines (YAML, indented under `limits:`).
async fn gateway(limits: &str) -> Harness {
    let yaml = format!(
        "server:\n  discover_env: false\n  admin_keys:\n    - name: admin\n      key: {ADMIN}\n  limits:\n{limits}providers:\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\nclient_keys:\n  - name: test\n    key: {KEY}\n"
    );
    start_with(&yaml, Router::new()).await
}

/// Reads until the peer closes; returns what arrived, or `None` if it was still open at `limit`.
async fn read_until_closed(s: &mut TcpStream, limit: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let until = Instant::now() + limit;
    let mut buf = [0u8; 4096];
    loop {
        let left = until.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(got),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return None,
        }
    }
}

/// Reads one whole response with a `content-length` body.
async fn read_response(s: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .expect("response in time")
            .unwrap();
        assert!(n > 0, "closed before a whole response");
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let len = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if got.len() >= end + 4 + len {
                return text;
            }
        }
    }
}

const ADMIN: &str = "admin-key-123";

const HEALTH: &[u8] = b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n";

async fn metric(h: &Harness, name: &str) -> f64 {
    let (_, _, body) = collect(
        h.send(
            "GET",
            "/metrics",
            &[("authorization", &format!("Bearer {ADMIN}"))],
            "",
        )
        .await,
    )
    .await;
    let text = String::from_utf8_lossy(&body).to_string();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} missing from /metrics:\n{text}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    let h = gateway("    header_read_timeout_ms: 300\n").await;
    let mut s = TcpStream::connect(h.server.addr).await.unwrap();
    let start = Instant::now();
    let got = read_until_closed(&mut s, Duration::from_secs(5)).await;
    assert_eq!(got, Some(vec![]), "connect-only connection still open");
    assert!(start.elapsed() >= Duration::from_millis(250));
    assert_eq!(
        metric(&h, "switchyard_connections_header_timeout_total").await,
        1.0
    );
}

#[tokio::test]
async fn a_head_dribbled_slowly_is_cut_even_on_a_kept_alive_connection() {
    // Idle connections may wait long; a head that has started must finish quickly.
    let h = gateway("    header_read_timeout_ms: 400\n    idle_timeout_ms: 20000\n").await;
    let mut s = TcpStream::connect(h.server.addr).await.unwrap();
    s.write_all(HEALTH).await.unwrap();
    let first = read_response(&mut s).await;
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    // Idle for longer than the header timeout: allowed.
    tokio::time::sleep(Duration::from_millis(700)).await;
    s.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
    let start = Instant::now();
    let dribble = async {
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if s.write_all(b"x-slow: 1\r\n").await.is_err() {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(6), dribble)
        .await
        .unwrap();
    let closed_after = start.elapsed();
    let got = read_until_closed(&mut s, Duration::from_secs(2)).await;
    assert!(got.is_some(), "the slow head's connection was never closed");
    assert!(
        closed_after < Duration::from_secs(3),
        "closed only after {closed_after:?}"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_but_a_busy_one_is_not() {
    let h = gateway("    header_read_timeout_ms: 5000\n    idle_timeout_ms: 400\n").await;
    let mut s = TcpStream::connect(h.server.addr).await.unwrap();
    // A stream longer than the idle timeout is a request in progress, not idleness.
    let body = r#"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}],"mock":{"chunks":4,"chunk_delay_ms":250}}"#;
    let req = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {KEY}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let start = Instant::now();
    let got = read_until_closed(&mut s, Duration::from_secs(5))
        .await
        .expect("the idle connection was closed");
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("data: [DONE]"), "stream cut short: {text}");
    let took = start.elapsed();
    // Four chunks 250 ms apart, then 400 ms of idleness.
    assert!(took >= Duration::from_millis(1300), "closed after {took:?}");
    assert!(
        metric(&h, "switchyard_connections_idle_closed_total").await >= 1.0,
        "idle close not counted"
    );
}

#[tokio::test]
async fn a_body_that_stalls_gets_a_408_in_the_callers_shape() {
    let h = gateway("    body_read_timeout_ms: 300\n").await;
    for (path, shape) in [
        ("/v1/chat/completions", "openai"),
        ("/v1/messages", "anthropic"),
    ] {
        let mut s = TcpStream::connect(h.server.addr).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {KEY}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"model\":"
        );
        s.write_all(head.as_bytes()).await.unwrap();
        let start = Instant::now();
        let got = read_until_closed(&mut s, Duration::from_secs(5))
            .await
            .expect("answered and closed");
        let text = String::from_utf8_lossy(&got).to_string();
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
        let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        match shape {
            "openai" => assert_eq!(v["error"]["code"], "request_timeout", "{v}"),
            _ => assert_eq!(v["type"], "error", "{v}"),
        }
        assert!(start.elapsed() < Duration::from_secs(3));
    }
}

#[tokio::test]
async fn at_the_connection_cap_idle_connections_make_room_and_busy_ones_stay() {
    let h = gateway("    max_connections: 3\n    header_read_timeout_ms: 30000\n").await;
    // A stream in progress (busy), a connection that sends nothing (idle) and a keep-alive
    // client between two requests (fresh) take the three slots.
    let body = r#"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}],"mock":{"chunks":6,"chunk_delay_ms":200}}"#;
    let mut busy = raw_chat_post(h.server.addr, body).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut idle = TcpStream::connect(h.server.addr).await.unwrap();
    // Idle for more than the second after which a connection gives way.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let mut fresh = TcpStream::connect(h.server.addr).await.unwrap();
    fresh.write_all(HEALTH).await.unwrap();
    assert!(read_response(&mut fresh).await.starts_with("HTTP/1.1 200"));
    // The third is served at once: the idle one is closed to make room, long before its
    // header timeout.
    let start = Instant::now();
    let mut c = TcpStream::connect(h.server.addr).await.unwrap();
    c.write_all(HEALTH).await.unwrap();
    let answer = read_response(&mut c).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(
        read_until_closed(&mut idle, Duration::from_secs(1)).await,
        Some(vec![]),
        "the idle connection was not closed"
    );
    // The keep-alive client's connection is still there for its next request.
    fresh.write_all(HEALTH).await.unwrap();
    assert!(read_response(&mut fresh).await.starts_with("HTTP/1.1 200"));
    // The stream was never interrupted.
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("data: [DONE]") {
        let n = tokio::time::timeout(Duration::from_secs(5), busy.read(&mut buf))
            .await
            .expect("the stream went on")
            .unwrap();
        assert!(n > 0, "stream cut: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    assert!(metric(&h, "switchyard_connections_cap_reached_total").await >= 1.0);
    assert!(metric(&h, "switchyard_connections_evicted_total").await >= 1.0);
}

#[tokio::test]
async fn a_half_sent_head_does_not_hold_up_shutdown() {
    let h = gateway("    header_read_timeout_ms: 60000\n").await;
    let mut s = TcpStream::connect(h.server.addr).await.unwrap();
    s.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let start = Instant::now();
    let finished = h.server.shutdown().await;
    assert!(finished, "drain did not finish");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "shutdown waited {:?} for a half-sent head",
        start.elapsed()
    );
}

#[tokio::test]
async fn idle_upstream_connections_are_swept_and_replaced() {
    let h = gateway("    max_series: 100\n").await;
    let body = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    let (s, _, _) = h.chat(body).await;
    assert_eq!(s, 200);
    let up = &h.server.state().upstreams[0];
    // Fresh: kept for the next request.
    assert_eq!(up.sweep_idle(Duration::from_secs(50)), 0);
    let (s, _, _) = h.chat(body).await;
    assert_eq!(s, 200);
    assert_eq!(
        h.mock.stats().connections,
        1,
        "the pooled connection was reused"
    );
    // Past the idle time: closed, and the next request opens a new one.
    assert_eq!(up.sweep_idle(Duration::ZERO), 1);
    let (s, _, _) = h.chat(body).await;
    assert_eq!(s, 200);
    assert_eq!(h.mock.stats().connections, 2);
}
