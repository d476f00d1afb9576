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
    let body = "{\"model\": \"anthropic/claude-sonnet-4-5\", \"max_tokens\": 64,\n \"messages\": [{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hi\",\"cache_control\":{\"type\":\"ephemeral\"}}]}], \"context_management\": {\"edits\": [1.0, 2]}}";
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
    // A field Anthropic does not know goes as it is too; its refusal comes back whole.
    let future = "{\"model\":\"anthropic/claude-sonnet-4-5\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"future_field\":[1.0,2]}";
    let (s, _, b) = send(&h, "/v1/messages", future, &[]).await;
    assert_eq!(s, 400);
    let v = assert_anthropic_error(&b, "invalid_request_error");
    assert_eq!(
        v["error"]["message"],
        "future_field: Extra inputs are not permitted"
    );
    assert_eq!(
        h.mock.requests()[1].body,
        future.replace("anthropic/claude-sonnet-4-5", "claude-sonnet-4-5")
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
    // A malformed count_tokens body is a 400 in shape, also where the gateway estimates.
    let (s, _, b) = send(
        &h,
        "/v1/messages/count_tokens",
        r#"{"model":"openai/gpt-4o"}"#,
        &[],
    )
    .await;
    assert_eq!(s, 400);
    assert_anthropic_error(&b, "invalid_request_error");
    // A field whose loss would change the answer (MCP servers the model should call), which no
    // OpenAI-compatible model can take, is named in a 400.
    let (s, _, b) = send(
        &h,
        "/v1/messages",
        r#"{"model":"openai/gpt-4o","max_tokens":1,"messages":[],"mcp_servers":[{"type":"url","url":"https://m.example","name":"m"}]}"#,
        &[],
    )
    .await;
    assert_eq!(s, 400);
    let v = assert_anthropic_error(&b, "invalid_request_error");
    assert_eq!(
        v["error"]["message"],
        "'mcp_servers' cannot be sent to an OpenAI-compatible model: it cannot call MCP servers"
    );
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

#[tokio::test]
async fn messages_to_an_openai_provider_are_translated_both_ways() {
    let h = start_with(YAML, axum::Router::new()).await;
    let (s, _, b) = send(&h, "/v1/messages", r#"{"model":"openai/gpt-4o","max_tokens":50,"system":"Be brief.","messages":[{"role":"user","content":"Hi"}]}"#, &[]).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let v = json(&b);
    assert_eq!(v["type"], "message");
    assert_eq!(v["role"], "assistant");
    assert_eq!(
        v["content"][0]["text"],
        "Hello! This is the mock provider answering."
    );
    assert_eq!(v["stop_reason"], "end_turn");
    assert!(v["usage"]["input_tokens"].as_u64().unwrap() > 0);
    let rec = &h.mock.requests()[0];
    assert_eq!(rec.path, "/v1/chat/completions");
    assert_eq!(rec.header("authorization"), Some("Bearer sk-oa"));
    assert_eq!(rec.header("anthropic-version"), None);
    let sent: Value = serde_json::from_str(&rec.body).unwrap();
    assert_eq!(
        sent,
        serde_json::json!({"model": "gpt-4o", "max_tokens": 50,
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]})
    );
}

#[tokio::test]
async fn streamed_messages_from_an_openai_provider_follow_anthropics_sequence() {
    let h = start_with(YAML, axum::Router::new()).await;
    let tools = r#"[{"name":"get_weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}]"#;
    let (s, _, b) = send(&h, "/v1/messages", &format!(r#"{{"model":"openai/gpt-4o","max_tokens":50,"stream":true,"tools":{tools},"messages":[{{"role":"user","content":"Weather?"}}]}}"#), &[]).await;
    assert_eq!(s, 200);
    let text = String::from_utf8_lossy(&b).into_owned();
    let events: Vec<(String, Value)> = text
        .trim_end()
        .split("\n\n")
        .map(|f| {
            let (ev, data) = f.split_once('\n').unwrap();
            (
                ev.trim_start_matches("event: ").to_owned(),
                serde_json::from_str(data.trim_start_matches("data: ")).unwrap(),
            )
        })
        .collect();
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(
        &names[names.len() - 2..],
        &["message_delta", "message_stop"]
    );
    let tool = events
        .iter()
        .find(|(n, d)| n == "content_block_start" && d["content_block"]["type"] == "tool_use")
        .unwrap();
    assert_eq!(tool.1["content_block"]["name"], "get_weather");
    let args: String = events
        .iter()
        .filter_map(|(_, d)| d.pointer("/delta/partial_json").and_then(Value::as_str))
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&args).unwrap(),
        serde_json::json!({"city": "Paris", "unit": "celsius"})
    );
    let delta = &events[events.len() - 2].1;
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
    assert!(
        delta["usage"]["output_tokens"].as_u64().unwrap() > 0,
        "usage from the include_usage chunk"
    );
    let sent: Value = serde_json::from_str(&h.mock.requests()[0].body).unwrap();
    assert_eq!(
        sent["stream_options"],
        serde_json::json!({"include_usage": true})
    );
}

#[tokio::test]
async fn count_tokens_on_an_openai_model_is_estimated_without_calling_it() {
    let h = start().await;
    let body = r#"{"model":"openai/gpt-4o","system":"Be brief.","messages":[{"role":"user","content":"Hello there, how are you today?"}]}"#;
    let (s, headers, b) = send(&h, "/v1/messages/count_tokens", body, &[]).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    assert_eq!(headers["x-switchyard-token-count"], "estimate");
    // docs/compatibility.md's rule: four characters a token over the text ("Be brief." 9,
    // "user" 4, the question 31: 44 characters, 11 tokens) plus three for the one message.
    assert_eq!(json(&b), serde_json::json!({ "input_tokens": 14 }));
    assert!(h.mock.requests().is_empty(), "nothing was sent upstream");
}
