//! A Cohere (v2 API) provider behind every inbound API: OpenAI chat completions and embeddings,
//! Anthropic Messages and OpenAI Responses, against the mock's `/v2/chat` and `/v2/embed`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::*;
use switchyard_mock::Fault;

const YAML: &str = "server:\n  discover_env: false\nproviders:\n  - name: cohere\n    base_url: ${MOCK_ROOT}\n    api_key: co-test-key\n    timeouts: { idle_ms: 800 }\nclient_keys:\n  - name: test\n    key: client-key-123\n";

async fn start_cohere() -> Harness {
    start_with(YAML, axum::Router::new()).await
}

fn sent(h: &Harness, i: usize) -> Value {
    serde_json::from_str(&h.mock.requests()[i].body).unwrap()
}

#[tokio::test]
async fn chat_is_translated_both_ways() {
    let h = start_cohere().await;
    let (s, headers, b) = h
        .chat(r#"{"model":"command-a-03-2025","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"top_p":0.5,"max_tokens":40}"#)
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    assert_eq!(headers["x-switchyard-provider"], "cohere");
    let v = json(&b);
    assert_eq!(v["model"], "command-a-03-2025");
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "Hello! This is the mock provider answering."
    );
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["usage"]["completion_tokens"], 7);
    let rec = &h.mock.requests()[0];
    assert_eq!(rec.path, "/v2/chat");
    assert_eq!(rec.header("authorization"), Some("Bearer co-test-key"));
    assert_eq!(
        sent(&h, 0),
        json!({"model": "command-a-03-2025", "p": 0.5, "max_tokens": 40, "messages": [
            {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]})
    );
}

#[tokio::test]
async fn streams_text_and_tool_calls_with_usage() {
    let h = start_cohere().await;
    let (s, _, b) = h
        .chat(r#"{"model":"command-a-03-2025","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hi"}]}"#)
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let ev = data_events(&b);
    let text: String = ev
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello! This is the mock provider answering.");
    assert_eq!(ev.last(), Some(&json!("[DONE]")));
    assert_eq!(ev[ev.len() - 2]["usage"]["completion_tokens"], 7);

    h.mock.push_faults([Fault {
        chunks: Some(3),
        ..Fault::default()
    }]);
    let tools = r#"[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},{"type":"function","function":{"name":"other"}}]"#;
    let (s, _, b) = h
        .chat(&format!(r#"{{"model":"command-a-03-2025","stream":true,"tool_choice":{{"type":"function","function":{{"name":"get_weather"}}}},"messages":[{{"role":"user","content":"Weather?"}}],"tools":{tools}}}"#))
        .await;
    assert_eq!(s, 200);
    let body = sent(&h, 1);
    assert_eq!(body["tool_choice"], "REQUIRED");
    assert_eq!(body["tools"].as_array().unwrap().len(), 1);
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
        .any(|c| c["choices"][0]["delta"]["reasoning_content"] == "I will call the tool."));
    assert!(ev
        .iter()
        .any(|c| c.pointer("/choices/0/finish_reason") == Some(&json!("tool_calls"))));
}

#[tokio::test]
async fn errors_and_broken_streams() {
    let h = start_cohere().await;
    h.mock.push_faults([Fault {
        status: Some(429),
        retry_after: Some("2".into()),
        ..Fault::default()
    }]);
    let (s, headers, b) = h
        .chat(r#"{"model":"command-a-03-2025","messages":[{"role":"user","content":"Hi"}]}"#)
        .await;
    assert_eq!(s, 429);
    assert_eq!(headers["retry-after"], "2");
    assert_eq!(json(&b)["error"]["message"], "mock fault: status 429");
    assert_eq!(json(&b)["error"]["type"], "rate_limit_error");

    let (s, _, b) = h
        .chat(r#"{"model":"command-a-03-2025","n":3,"messages":[{"role":"user","content":"Hi"}]}"#)
        .await;
    assert_eq!(s, 400);
    assert_eq!(json(&b)["error"]["param"], "n");

    h.mock.push_faults([Fault {
        break_after: Some(3),
        ..Fault::default()
    }]);
    let (s, _, b) = h
        .chat(r#"{"model":"command-a-03-2025","stream":true,"messages":[{"role":"user","content":"Hi"}]}"#)
        .await;
    assert_eq!(s, 200);
    let ev = data_events(&b);
    assert!(ev.last().unwrap()["error"]["message"].is_string());
}

#[tokio::test]
async fn messages_and_responses_callers_use_cohere() {
    let h = start_cohere().await;
    let (s, _, b) = h
        .post(
            "/v1/messages",
            r#"{"model":"command-a-03-2025","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"Hi"}]}"#,
        )
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let ev = data_events(&b);
    assert_eq!(ev[0]["type"], "message_start");
    assert_eq!(ev.last().unwrap()["type"], "message_stop");
    let delta = ev.iter().find(|e| e["type"] == "message_delta").unwrap();
    assert_eq!(delta["usage"]["output_tokens"], 7);

    let (s, _, b) = h
        .post(
            "/v1/responses",
            r#"{"model":"command-a-03-2025","input":"Hi"}"#,
        )
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let v = json(&b);
    assert_eq!(
        v["output"][0]["content"][0]["text"],
        "Hello! This is the mock provider answering."
    );
    assert_eq!(v["usage"]["output_tokens"], 7);
}

#[tokio::test]
async fn embeddings_are_translated() {
    let h = start_cohere().await;
    let (s, _, b) = h
        .post(
            "/v1/embeddings",
            r#"{"model":"embed-v4.0","input":["a b","c"],"dimensions":3}"#,
        )
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let v = json(&b);
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    assert_eq!(v["data"][0]["embedding"].as_array().unwrap().len(), 3);
    assert_eq!(v["usage"]["prompt_tokens"], 3);
    let body = sent(&h, 0);
    assert_eq!(body["input_type"], "search_document");
    assert_eq!(body["texts"], json!(["a b", "c"]));
    assert_eq!(h.mock.requests()[0].path, "/v2/embed");
}
