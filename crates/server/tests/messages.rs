//! Anthropic's Messages API as an inbound API: passed through byte-faithfully to Anthropic
//! providers, with every error in Anthropic's shape.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::Value;
use support::*;

const YAML: &str = "server:\n  discover_env: false\nproviders:\n  - name: anthropic\n    base_url: ${MOCK_ROOT}\n    api_key: sk-ant-up\n    timeouts: { idle_ms: 800 }\n  - name: openai\n    base_url: ${MOCK}\n    api_key: sk-oa\nclient_keys:\n  - name: test\n    key: client-key-123\n";

async fn send(
    h: &Harness,
    path: &str,
    body: &str,
    extra: &[(&str, &str)],
) -> (http::StatusCode, http::HeaderMap, bytes::Bytes) {
    let mut headers = vec![
        ("x-api-key", KEY),
        ("anthropic-version", "2023-06-01"),
        ("content-type", "application/json"),
    ];
    headers.extend_from_slice(extra);
    collect(h.send("POST", path, &headers, body.to_owned()).await).await
}

fn assert_anthropic_error(b: &bytes::Bytes, kind: &str) -> Value {
    let v = json(b);
    assert_eq!(v["type"], "error", "{v}");
    assert_eq!(v["error"]["type"], kind, "{v}");
    assert!(v["error"]["message"].is_string(), "{v}");
    v
}

#[tokio::test]
async fn messages_pass_through_byte_for_byte() {
    let h = start_with(YAML, axum::Router::new()).await;
    let body = "{\"model\": \"anthropic/claude-sonnet-4-5\", \"max_tokens\": 64,\n \"messages\": [{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hi\",\"cache_control\":{\"type\":\"ephemeral\"}}]}], \"future_field\": [1.0, 2]}";
    let (s, headers, b) = send(
        &h,
        "/v1/messages",
        body,
        &[("anthropic-beta", "prompt-caching-2024-07-31")],
    )
    .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    assert_eq!(headers["x-switchyard-provider"], "anthropic");
    let v = json(&b);
    assert_eq!(v["type"], "message");
    assert_eq!(
        v["content"][0]["text"],
        "Hello! This is the mock provider answering."
    );
    let rec = &h.mock.requests()[0];
    assert_eq!(rec.path, "/v1/messages");
    assert_eq!(
        rec.body,
        body.replace("\"anthropic/claude-sonnet-4-5\"", "\"claude-sonnet-4-5\"")
    );
    assert_eq!(
        rec.header("x-api-key"),
        Some("sk-ant-up"),
        "the provider key, not the caller's"
    );
    assert_eq!(
        rec.header("anthropic-beta"),
        Some("prompt-caching-2024-07-31")
    );
    assert_eq!(rec.header("anthropic-version"), Some("2023-06-01"));
}

#[tokio::test]
async fn streamed_messages_keep_anthropics_event_sequence() {
    let h = start_with(YAML, axum::Router::new()).await;
    let (s, headers, b) = send(&h, "/v1/messages", r#"{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"Hi"}]}"#, &[]).await;
    assert_eq!(s, 200);
    assert_eq!(headers["content-type"], "text/event-stream");
    let text = String::from_utf8_lossy(&b);
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(names.last(), Some(&"message_stop"));
    assert!(names.contains(&"ping") && names.contains(&"content_block_delta"));
}

#[tokio::test]
async fn gateway_errors_come_in_anthropics_shape() {
    let h = start_with(YAML, axum::Router::new()).await;
    let (s, _, b) = collect(
        h.send(
            "POST",
            "/v1/messages",
            &[],
            r#"{"model":"claude-sonnet-4-5","max_tokens":1,"messages":[]}"#,
        )
        .await,
    )
    .await;
    assert_eq!(s, 401);
    assert_anthropic_error(&b, "authentication_error");
    let (s, _, b) = send(
        &h,
        "/v1/messages",
        r#"{"model":"claude-sonnet-4-5","max_tokens":1}"#,
        &[],
    )
    .await;
    assert_eq!(s, 400);
    let v = assert_anthropic_error(&b, "invalid_request_error");
    assert!(v["error"]["message"].as_str().unwrap().contains("messages"));
    let (s, _, b) = send(
        &h,
        "/v1/messages",
        r#"{"model":"nobody-serves-this","max_tokens":1,"messages":[]}"#,
        &[],
    )
    .await;
    assert_eq!(s, 404);
    assert_anthropic_error(&b, "not_found_error");
    // An OpenAI-compatible provider cannot take Messages requests yet: said plainly, in shape.
    let (s, _, b) = send(
        &h,
        "/v1/messages",
        r#"{"model":"openai/gpt-4o","max_tokens":1,"messages":[]}"#,
        &[],
    )
    .await;
    assert_eq!(s, 400);
    assert_anthropic_error(&b, "invalid_request_error");
}

#[tokio::test]
async fn upstream_errors_are_relayed_in_anthropics_shape() {
    let h = start_with(YAML, axum::Router::new()).await;
    let (s, _, b) = send(
        &h,
        "/v1/messages",
        r#"{"model":"claude-sonnet-4-5","max_tokens":1,"messages":[],"mock":{"status":529}}"#,
        &[],
    )
    .await;
    assert_eq!(s.as_u16(), 529);
    assert_anthropic_error(&b, "overloaded_error");
    let (s, headers, b) = send(&h, "/v1/messages", r#"{"model":"claude-sonnet-4-5","max_tokens":1,"messages":[],"mock":{"status":429,"retry_after":"9","body":"slow down"}}"#, &[]).await;
    assert_eq!(s, 429);
    assert_eq!(headers["retry-after"], "9");
    let v = assert_anthropic_error(&b, "rate_limit_error");
    assert_eq!(v["error"]["message"], "slow down");
}

#[tokio::test]
async fn a_broken_stream_ends_with_an_anthropic_error_event() {
    let h = start_with(YAML, axum::Router::new()).await;
    let (s, _, b) = send(&h, "/v1/messages", r#"{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"Hi"}],"mock":{"break_after":3}}"#, &[]).await;
    assert_eq!(s, 200);
    let text = String::from_utf8_lossy(&b);
    let last = text.trim_end().rsplit("\n\n").next().unwrap();
    assert!(last.starts_with("event: error\ndata: "), "{text}");
    let v: Value = serde_json::from_str(last.trim_start_matches("event: error\ndata: ")).unwrap();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "api_error");
}

#[tokio::test]
async fn count_tokens_passes_through() {
    let h = start_with(YAML, axum::Router::new()).await;
    let (s, _, b) = send(
        &h,
        "/v1/messages/count_tokens",
        r#"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"Hello there"}]}"#,
        &[],
    )
    .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    assert!(json(&b)["input_tokens"].as_u64().unwrap() > 0);
    assert_eq!(h.mock.requests()[0].path, "/v1/messages/count_tokens");
}
