//! Every error reaches the caller in OpenAI's shape with the right status.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::routing::get;
use axum::Router;
use support::*;

fn assert_openai_error(b: &bytes::Bytes) -> serde_json::Value {
    let v = json(b);
    let e = &v["error"];
    assert!(e["message"].is_string(), "{v}");
    assert!(e["type"].is_string(), "{v}");
    assert!(e.get("param").is_some() && e.get("code").is_some(), "{v}");
    v
}

#[tokio::test]
async fn missing_and_wrong_keys_are_401() {
    let h = start().await;
    let body = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    for headers in [
        vec![],
        vec![("authorization", "Bearer wrong-key")],
        vec![("x-api-key", "also-wrong")],
    ] {
        let (s, _, b) = collect(h.send("POST", "/v1/chat/completions", &headers, body).await).await;
        assert_eq!(s, 401);
        let v = assert_openai_error(&b);
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert_eq!(v["error"]["code"], "invalid_api_key");
    }
    let (s, _, _) = collect(
        h.send("POST", "/v1/chat/completions", &[("x-api-key", KEY)], body)
            .await,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        h.mock.requests().len(),
        1,
        "refused requests never reach upstream"
    );
}

#[tokio::test]
async fn bad_bodies_are_400_naming_the_field() {
    let h = start().await;
    let (s, _, b) = h.chat(r#"{"model":"m","#).await;
    assert_eq!(s, 400);
    let v = assert_openai_error(&b);
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("request body is not valid JSON"));
    let (s, _, b) = h.chat(r#"{"model":"m"}"#).await;
    assert_eq!(s, 400);
    let v = assert_openai_error(&b);
    assert_eq!(v["error"]["param"], "messages");
    assert_eq!(v["error"]["message"], "missing required field 'messages'");
    let (s, _, b) = h.post("/v1/embeddings", r#"{"input":"x"}"#).await;
    assert_eq!(s, 400);
    assert_eq!(json(&b)["error"]["param"], "model");
    let (s, _, b) = h
        .chat(r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":"yes"}"#)
        .await;
    assert_eq!(s, 400);
    assert_eq!(json(&b)["error"]["param"], "stream");
    assert!(h.mock.requests().is_empty());
}

#[tokio::test]
async fn unknown_model_is_404_and_says_how_to_list_models() {
    let h = start().await;
    let (s, _, b) = h
        .chat(r#"{"model":"no-such-model","messages":[{"role":"user","content":"hi"}]}"#)
        .await;
    assert_eq!(s, 404);
    let v = assert_openai_error(&b);
    assert_eq!(v["error"]["code"], "model_not_found");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("GET /v1/models"));
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let h = start().await;
    let big = format!(
        r#"{{"model":"gpt-4o-mini","messages":[{{"role":"user","content":"{}"}}]}}"#,
        "x".repeat(5000)
    );
    let (s, _, b) = h.chat(&big).await;
    assert_eq!(s, 413);
    let v = assert_openai_error(&b);
    assert_eq!(v["error"]["code"], "request_too_large");
    assert!(h.mock.requests().is_empty());
}

#[tokio::test]
async fn upstream_errors_are_relayed_normalised_with_retry_after() {
    let h = start().await;
    let (s, headers, b) = h
        .chat(r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"mock":{"status":429,"retry_after":"7","body":{"detail":"slow down"}}}"#,
        )
        .await;
    assert_eq!(s, 429);
    assert_eq!(headers["retry-after"], "7");
    let v = assert_openai_error(&b);
    assert_eq!(v["error"]["message"], "slow down");
    assert_eq!(v["error"]["type"], "rate_limit_error");
    // An OpenAI-shaped body keeps its own fields.
    let (s, _, b) = h
        .chat(r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"mock":{"status":400,"body":{"error":{"message":"bad temperature","type":"invalid_request_error","param":"temperature","code":null}}}}"#,
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(json(&b)["error"]["param"], "temperature");
    // Plain text becomes the message.
    let (s, _, b) = h
        .chat(r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"mock":{"status":503,"body":"upstream overloaded"}}"#,
        )
        .await;
    assert_eq!(s, 503);
    assert_eq!(json(&b)["error"]["message"], "upstream overloaded");
}

#[tokio::test]
async fn unreachable_upstream_is_502() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let yaml = format!(
        "server: {{ discover_env: false }}\nproviders:\n  - name: dead\n    base_url: http://127.0.0.1:{port}/v1\n"
    );
    let h = start_with(&yaml, Router::new()).await;
    let (s, _, b) = h
        .chat(r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#)
        .await;
    assert_eq!(s, 502);
    let v = assert_openai_error(&b);
    assert_eq!(v["error"]["code"], "upstream_unreachable");
    assert!(
        !v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1"),
        "no internal addresses leak"
    );
}

#[tokio::test]
async fn slow_upstream_is_504() {
    let h = start().await;
    let (s, _, b) = h
        .chat(r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"mock":{"latency_ms":3000}}"#)
        .await;
    assert_eq!(s, 504);
    assert_eq!(assert_openai_error(&b)["error"]["code"], "upstream_timeout");
}

#[tokio::test]
async fn no_providers_gives_a_clear_error_and_not_ready() {
    let h = start_with("server: { discover_env: false }\n", Router::new()).await;
    let (s, _, b) = h
        .chat(r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#)
        .await;
    assert_eq!(s, 404);
    let msg = json(&b)["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        msg.contains("No provider is configured") && msg.contains("OPENAI_API_KEY"),
        "{msg}"
    );
    let (s, _, b) = collect(h.send("GET", "/readyz", &[], "").await).await;
    assert_eq!(s, 503);
    assert_eq!(&b[..], b"{\"status\":\"no_providers\"}");
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let h = start().await;
    let (s, _, b) = collect(h.send("GET", "/v2/whatever", &[], "").await).await;
    assert_eq!(s, 404);
    assert_eq!(assert_openai_error(&b)["error"]["code"], "unknown_url");
    let (s, _, b) = collect(h.send("GET", "/v1/chat/completions", &[], "").await).await;
    assert_eq!(s, 405);
    assert_openai_error(&b);
}

#[tokio::test]
async fn messages_paths_answer_unknown_methods_and_routes_in_anthropics_shape() {
    let h = start().await;
    for (method, path, status) in [
        ("GET", "/v1/messages", 405),
        ("GET", "/v1/messages/count_tokens", 405),
        ("POST", "/v1/messages/batches", 404),
    ] {
        let (s, _, b) = collect(h.send(method, path, &[], "").await).await;
        assert_eq!(s, status, "{method} {path}");
        let v = json(&b);
        assert_eq!(v["type"], "error", "{method} {path}: {v}");
        assert!(v["error"]["type"].is_string() && v["error"]["message"].is_string());
    }
    // Other paths keep OpenAI's.
    let (s, _, b) = collect(h.send("GET", "/v1/messagesx", &[], "").await).await;
    assert_eq!(s, 404);
    assert_openai_error(&b);
}

#[tokio::test]
async fn a_path_id_that_is_not_utf8_is_answered_in_openais_shape() {
    let h = start().await;
    let auth = format!("Bearer {KEY}");
    let (s, headers, b) = collect(
        h.send("GET", "/v1/models/%ff%fe", &[("authorization", &auth)], "")
            .await,
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(assert_openai_error(&b)["error"]["param"], "model");
}

#[tokio::test]
async fn a_metadata_header_that_is_not_an_object_is_a_400_in_the_callers_shape() {
    let h = start().await;
    let auth = format!("Bearer {KEY}");
    for (path, body) in [
        (
            "/v1/chat/completions",
            r#"{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#,
        ),
        (
            "/v1/messages",
            r#"{"model":"openai/gpt-4o-mini","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#,
        ),
    ] {
        for meta in ["[1,2]", "\"text\"", "7", "not json"] {
            let headers = [
                ("authorization", auth.as_str()),
                ("content-type", "application/json"),
                ("x-switchyard-metadata", meta),
            ];
            let (s, _, b) = collect(h.send("POST", path, &headers, body).await).await;
            assert_eq!(s, 400, "{path} {meta}");
            let v = json(&b);
            let message = if path == "/v1/messages" {
                assert_eq!(v["type"], "error", "{v}");
                v["error"]["message"].clone()
            } else {
                assert_openai_error(&b)["error"]["message"].clone()
            };
            assert!(
                message.as_str().unwrap().contains("x-switchyard-metadata"),
                "{v}"
            );
        }
    }
    assert!(h.mock.requests().is_empty());
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
        ("x-switchyard-metadata", r#"{"team":"a"}"#),
    ];
    let body = r#"{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    let (s, _, _) = collect(h.send("POST", "/v1/chat/completions", &headers, body).await).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let h = start().await;
    let body = r#"{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    for scheme in ["Bearer", "bearer", "BEARER", "BeArEr"] {
        let auth = format!("{scheme} {KEY}");
        let headers = [
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ];
        let (s, _, _) = collect(h.send("POST", "/v1/chat/completions", &headers, body).await).await;
        assert_eq!(s, 200, "{scheme}");
    }
}

async fn boom() -> &'static str {
    panic!("deliberate test panic")
}

#[tokio::test]
async fn a_panic_becomes_a_500_and_the_server_keeps_serving() {
    let extra: Router<switchyard::state::Gateway> = Router::new().route("/test/panic", get(boom));
    let h = start_with(&default_yaml(), extra).await;
    let (s, headers, b) = collect(h.send("GET", "/test/panic", &[], "").await).await;
    assert_eq!(s, 500);
    assert!(headers.contains_key("x-request-id"));
    let v = assert_openai_error(&b);
    assert!(!v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("deliberate"));
    let (s, _, _) = h
        .chat(r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#)
        .await;
    assert_eq!(s, 200);
}

/// A one-connection HTTP server answering whatever is asked with `response`, as it is.
async fn raw_upstream(response: &'static [u8]) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                // Read the request's head and body (enough for a small request), then answer.
                let mut buf = vec![0u8; 64 * 1024];
                let mut got = 0;
                loop {
                    let n = tcp.read(&mut buf[got..]).await.unwrap_or(0);
                    got += n;
                    let text = String::from_utf8_lossy(&buf[..got]);
                    if n == 0 {
                        break;
                    }
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length: ")
                                    .map(|v| v.trim().parse::<usize>().unwrap())
                            })
                            .unwrap_or(0);
                        if got >= end + 4 + len {
                            break;
                        }
                    }
                }
                let _ = tcp.write_all(response).await;
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn upstream_statuses_outside_200_to_599_are_502_in_the_callers_shape() {
    for response in [
        &b"HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n{\"choices\":[]}"[..],
        &b"HTTP/1.1 600 Whatever\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"[..],
        &b"HTTP/1.1 999 Nine\r\ncontent-length: 0\r\n\r\n"[..],
    ] {
        let addr = raw_upstream(response).await;
        let yaml = format!(
            "server:\n  discover_env: false\nproviders:\n  - name: openai\n    base_url: http://{addr}/v1\n    api_key: sk-upstream\n  - name: anthropic\n    base_url: http://{addr}\n    api_key: sk-ant\nclient_keys:\n  - name: test\n    key: {KEY}\n"
        );
        let h = start_with(&yaml, Router::new()).await;
        let (s, _, b) = h
            .chat(r#"{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#)
            .await;
        let head = String::from_utf8_lossy(&response[..16]).into_owned();
        assert_eq!(s, 502, "{head}: {}", String::from_utf8_lossy(&b));
        let v = assert_openai_error(&b);
        assert_eq!(v["error"]["code"], "upstream_bad_response", "{head}: {v}");
        let (s, _, b) = collect(
            h.send(
                "POST",
                "/v1/messages",
                &[("x-api-key", KEY), ("anthropic-version", "2023-06-01")],
                r#"{"model":"anthropic/claude-sonnet-4-5","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}"#,
            )
            .await,
        )
        .await;
        assert_eq!(s, 502, "{head}");
        let v = json(&b);
        assert_eq!(v["type"], "error", "{v}");
        assert_eq!(v["error"]["type"], "api_error", "{v}");
    }
    // The mock's own status fault, sent by a real HTTP server.
    let h = start().await;
    let (s, _, b) = h
        .chat(r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"mock":{"status":600}}"#)
        .await;
    assert_eq!(s, 502, "{}", String::from_utf8_lossy(&b));
}
