//! Amazon Bedrock behind every inbound API: Converse and ConverseStream (AWS's binary event
//! stream) with SigV4-signed requests that the mock verifies independently, Bedrock API keys,
//! and embeddings through InvokeModel.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::*;
use switchyard_mock::{Fault, MockOptions};

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn yaml(secret: &str) -> String {
    format!(
        "server:\n  discover_env: false\nproviders:\n  - name: bedrock\n    type: bedrock\n    base_url: ${{MOCK_ROOT}}\n    region: eu-west-1\n    aws_access_key_id: {AKID}\n    aws_secret_access_key: {secret}\n    aws_session_token: session-token-1\n    timeouts: {{ idle_ms: 800 }}\nclient_keys:\n  - name: test\n    key: client-key-123\n"
    )
}

fn mock_opts() -> MockOptions {
    MockOptions {
        record: true,
        aws_credentials: Some((AKID.into(), SECRET.into())),
        expect_key: Some("bedrock-api-key-1".into()),
        ..Default::default()
    }
}

async fn start_bedrock() -> Harness {
    start_with_mock(&yaml(SECRET), axum::Router::new(), mock_opts()).await
}

const MODEL: &str = "bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0";

#[tokio::test]
async fn converse_is_signed_and_translated_both_ways() {
    let h = start_bedrock().await;
    let (s, headers, b) = h
        .chat(&format!(r#"{{"model":"{MODEL}","messages":[{{"role":"system","content":"Be brief."}},{{"role":"user","content":"Hi"}}],"max_tokens":64}}"#))
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    assert_eq!(headers["x-switchyard-provider"], "bedrock");
    let v = json(&b);
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "Hello! This is the mock provider answering."
    );
    assert_eq!(v["model"], "us.anthropic.claude-sonnet-4-5-20250929-v1:0");
    assert!(v["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(v["usage"]["completion_tokens"], 7);
    let rec = &h.mock.requests()[0];
    assert_eq!(
        rec.target,
        "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse"
    );
    let auth = rec.header("authorization").unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
            && auth.contains("/eu-west-1/bedrock/aws4_request"),
        "{auth}"
    );
    assert_eq!(rec.header("x-amz-security-token"), Some("session-token-1"));
    assert_eq!(
        serde_json::from_str::<Value>(&rec.body).unwrap(),
        json!({"system": [{"text": "Be brief."}],
            "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
            "inferenceConfig": {"maxTokens": 64}})
    );
}

#[tokio::test]
async fn a_wrong_secret_is_refused_by_the_signature_check() {
    let h = start_with_mock(&yaml("not-the-secret"), axum::Router::new(), mock_opts()).await;
    let (s, _, b) = h
        .chat(&format!(
            r#"{{"model":"{MODEL}","messages":[{{"role":"user","content":"Hi"}}]}}"#
        ))
        .await;
    assert_eq!(s, 403, "{}", String::from_utf8_lossy(&b));
    assert!(json(&b)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("signature"));
}

#[tokio::test]
async fn converse_stream_decodes_the_binary_event_stream() {
    let h = start_bedrock().await;
    let (s, headers, b) = h
        .chat(&format!(r#"{{"model":"{MODEL}","stream":true,"stream_options":{{"include_usage":true}},"messages":[{{"role":"user","content":"Hi"}}]}}"#))
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    assert_eq!(headers["content-type"], "text/event-stream");
    assert!(h.mock.requests()[0].target.ends_with("/converse-stream"));
    assert_eq!(
        h.mock.requests()[0].header("accept"),
        Some("application/vnd.amazon.eventstream")
    );
    let ev = data_events(&b);
    let text: String = ev
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello! This is the mock provider answering.");
    assert_eq!(ev.last(), Some(&json!("[DONE]")));
    assert_eq!(ev[ev.len() - 2]["usage"]["completion_tokens"], 7);

    // Tool calls, streamed: arguments arrive in pieces.
    h.mock.push_faults([Fault {
        chunks: Some(4),
        ..Fault::default()
    }]);
    let tools = r#"[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]"#;
    let (s, _, b) = h
        .chat(&format!(r#"{{"model":"{MODEL}","stream":true,"tools":{tools},"messages":[{{"role":"user","content":"Weather?"}}]}}"#))
        .await;
    assert_eq!(s, 200);
    let ev = data_events(&b);
    let args: String = ev
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].as_str())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&args).unwrap(),
        json!({"city": "Paris", "unit": "celsius"})
    );
    assert!(ev
        .iter()
        .any(|c| c.pointer("/choices/0/finish_reason") == Some(&json!("tool_calls"))));
}

#[tokio::test]
async fn a_broken_event_stream_ends_with_an_error_event() {
    let h = start_bedrock().await;
    h.mock.push_faults([Fault {
        break_after: Some(3),
        ..Fault::default()
    }]);
    let (s, _, b) = h
        .chat(&format!(
            r#"{{"model":"{MODEL}","stream":true,"messages":[{{"role":"user","content":"Hi"}}]}}"#
        ))
        .await;
    assert_eq!(s, 200);
    let ev = data_events(&b);
    assert!(ev.last().unwrap()["error"]["message"].is_string(), "{ev:?}");
    assert!(!ev.contains(&json!("[DONE]")));
}

#[tokio::test]
async fn errors_messages_callers_and_api_keys() {
    let h = start_bedrock().await;
    h.mock.push_faults([Fault {
        status: Some(429),
        retry_after: Some("4".into()),
        ..Fault::default()
    }]);
    let (s, headers, b) = h
        .chat(&format!(
            r#"{{"model":"{MODEL}","messages":[{{"role":"user","content":"Hi"}}]}}"#
        ))
        .await;
    assert_eq!(s, 429);
    assert_eq!(headers["retry-after"], "4");
    assert_eq!(json(&b)["error"]["type"], "rate_limit_error");

    let (s, _, b) = h
        .post(
            "/v1/messages",
            &format!(r#"{{"model":"{MODEL}","max_tokens":50,"stream":true,"messages":[{{"role":"user","content":"Hi"}}]}}"#),
        )
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let text = String::from_utf8_lossy(&b);
    assert!(text.starts_with("event: message_start"));
    assert!(text.contains("event: message_stop"));

    // A Bedrock API key goes as Bearer, unsigned.
    let yaml = "server:\n  discover_env: false\nproviders:\n  - name: bedrock\n    type: bedrock\n    base_url: ${MOCK_ROOT}\n    api_key: bedrock-api-key-1\n";
    let h = start_with_mock(yaml, axum::Router::new(), mock_opts()).await;
    let resp = h
        .send(
            "POST",
            "/v1/chat/completions",
            &[("content-type", "application/json")],
            format!(r#"{{"model":"{MODEL}","messages":[{{"role":"user","content":"Hi"}}]}}"#),
        )
        .await;
    let (s, _, b) = collect(resp).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    assert_eq!(
        h.mock.requests()[0].header("authorization"),
        Some("Bearer bedrock-api-key-1")
    );
}

#[tokio::test]
async fn embeddings_through_invoke_model() {
    let h = start_bedrock().await;
    let (s, _, b) = h
        .post(
            "/v1/embeddings",
            r#"{"model":"bedrock/amazon.titan-embed-text-v2:0","input":"hello there","dimensions":4}"#,
        )
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let v = json(&b);
    assert_eq!(v["data"][0]["embedding"].as_array().unwrap().len(), 4);
    assert_eq!(v["usage"]["prompt_tokens"], 2);
    assert_eq!(
        h.mock.requests()[0].target,
        "/model/amazon.titan-embed-text-v2%3A0/invoke"
    );
    let (s, _, b) = h
        .post(
            "/v1/embeddings",
            r#"{"model":"bedrock/cohere.embed-english-v3","input":["a","b"]}"#,
        )
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    assert_eq!(json(&b)["data"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_event_stream_is_cut_at_the_total_timeout() {
    let yaml = yaml(SECRET).replace("{ idle_ms: 800 }", "{ idle_ms: 800, total_ms: 1500 }");
    let h = start_with_mock(&yaml, axum::Router::new(), mock_opts()).await;
    h.mock.push_faults([Fault {
        endless: true,
        ..Fault::default()
    }]);
    let started = std::time::Instant::now();
    let (s, _, b) = h
        .chat(&format!(
            r#"{{"model":"{MODEL}","stream":true,"messages":[{{"role":"user","content":"Hi"}}]}}"#
        ))
        .await;
    assert_eq!(s, 200);
    assert!(started.elapsed() < std::time::Duration::from_secs(6));
    let ev = data_events(&b);
    assert!(ev.len() > 3, "content came first");
    assert_eq!(
        ev.last().unwrap()["error"]["code"],
        "upstream_timeout",
        "{:?}",
        ev.last()
    );
}
