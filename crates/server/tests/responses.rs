//! OpenAI's Responses API: passed through to providers that serve it (OpenAI's own API, Azure),
//! served through chat completions for the rest (OpenAI-compatible hosts, Anthropic).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::*;

const YAML: &str = "server:\n  discover_env: false\nproviders:\n  - name: openai\n    base_url: ${MOCK}\n    api_key: sk-oa\n  - name: host\n    type: openai-compatible\n    base_url: ${MOCK}\n    api_key: sk-host\n  - name: anthropic\n    base_url: ${MOCK_ROOT}\n    api_key: sk-ant\nclient_keys:\n  - name: test\n    key: client-key-123\n";

fn events(b: &bytes::Bytes) -> Vec<(String, Value)> {
    String::from_utf8_lossy(b)
        .trim_end()
        .split("\n\n")
        .map(|f| {
            let (ev, data) = f.split_once('\n').unwrap_or(("", f));
            (
                ev.trim_start_matches("event: ").to_owned(),
                serde_json::from_str(data.trim_start_matches("data: ")).unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn responses_pass_through_to_a_provider_that_serves_them() {
    let h = start_with(YAML, axum::Router::new()).await;
    let body = r#"{"model":"openai/gpt-5.5", "input":"Hi", "store":false, "client_metadata":{"t":"1"},
        "include":["reasoning.encrypted_content"], "previous_response_id":"resp_1",
        "tools":[{"type":"web_search"}], "tool_choice":"none"}"#;
    let (s, headers, b) = h.post("/v1/responses", body).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    assert!(headers.get("x-switchyard-dropped-params").is_none());
    let v = json(&b);
    assert_eq!(v["object"], "response");
    assert_eq!(
        v["output"][0]["content"][0]["text"],
        "Hello! This is the mock provider answering."
    );
    let rec = &h.mock.requests()[0];
    assert_eq!(rec.path, "/v1/responses");
    // Byte for byte, but for the model name.
    assert_eq!(rec.body, body.replace("openai/gpt-5.5", "gpt-5.5"));
}

#[tokio::test]
async fn a_response_from_an_openai_compatible_host_through_chat() {
    let h = start_with(YAML, axum::Router::new()).await;
    let (s, headers, b) = h
        .post(
            "/v1/responses",
            r#"{"model":"host/gpt-4o","instructions":"Be brief.","input":"Hi","store":false,"client_metadata":{"t":"1"}}"#,
        )
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    assert_eq!(headers["x-switchyard-dropped-params"], "client_metadata");
    let v = json(&b);
    assert_eq!(v["object"], "response");
    assert_eq!(v["status"], "completed");
    assert_eq!(v["output"][0]["type"], "message");
    assert_eq!(
        v["output"][0]["content"][0]["text"],
        "Hello! This is the mock provider answering."
    );
    assert_eq!(v["instructions"], "Be brief.");
    assert!(v["usage"]["output_tokens"].as_u64().unwrap() > 0);
    let rec = &h.mock.requests()[0];
    assert_eq!(rec.path, "/v1/chat/completions");
    let sent: Value = serde_json::from_str(&rec.body).unwrap();
    assert_eq!(
        sent,
        json!({"model": "gpt-4o", "store": false,
            "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]})
    );
}

#[tokio::test]
async fn streamed_function_call_from_each_provider_kind() {
    let h = start_with(YAML, axum::Router::new()).await;
    for model in [
        "openai/gpt-4o",
        "host/gpt-4o",
        "anthropic/claude-sonnet-4-6",
    ] {
        let body = format!(
            r#"{{"model":"{model}","stream":true,"input":[{{"role":"user","content":[{{"type":"input_text","text":"Weather?"}}]}}],"tools":[{{"type":"function","name":"get_weather","parameters":{{"type":"object"}}}}]}}"#
        );
        let (s, _, b) = h.post("/v1/responses", &body).await;
        assert_eq!(s, 200, "{model}: {}", String::from_utf8_lossy(&b));
        let ev = events(&b);
        assert_eq!(
            ev.first().map(|e| e.0.as_str()),
            Some("response.created"),
            "{model}"
        );
        let done = ev.last().unwrap();
        assert_eq!(done.0, "response.completed", "{model}: {ev:?}");
        let call = done.1["response"]["output"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["type"] == "function_call")
            .unwrap();
        assert_eq!(call["name"], "get_weather", "{model}");
        assert_eq!(
            serde_json::from_str::<Value>(call["arguments"].as_str().unwrap()).unwrap(),
            json!({"city": "Paris", "unit": "celsius"})
        );
        let deltas: String = ev
            .iter()
            .filter(|(n, _)| n == "response.function_call_arguments.delta")
            .filter_map(|(_, d)| d["delta"].as_str())
            .collect();
        assert_eq!(deltas, call["arguments"].as_str().unwrap(), "{model}");
        assert!(
            done.1["response"]["usage"]["output_tokens"]
                .as_u64()
                .unwrap()
                > 0,
            "{model}"
        );
    }
    let paths: Vec<String> = h.mock.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        ["/v1/responses", "/v1/chat/completions", "/v1/messages"]
    );
}

#[tokio::test]
async fn a_response_from_an_anthropic_provider() {
    let h = start_with(YAML, axum::Router::new()).await;
    let (s, _, b) = h
        .post(
            "/v1/responses",
            r#"{"model":"anthropic/claude-sonnet-4-6","input":"Hi","max_output_tokens":50}"#,
        )
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let v = json(&b);
    assert_eq!(
        v["output"][0]["content"][0]["text"],
        "Hello! This is the mock provider answering."
    );
    let sent: Value = serde_json::from_str(&h.mock.requests()[0].body).unwrap();
    assert_eq!(sent["max_tokens"], 50);
}

#[tokio::test]
async fn stored_conversation_state_is_refused_clearly() {
    let h = start_with(YAML, axum::Router::new()).await;
    let (s, _, b) = h
        .post(
            "/v1/responses",
            r#"{"model":"host/gpt-4o","input":"Hi","previous_response_id":"resp_1"}"#,
        )
        .await;
    assert_eq!(s, 400);
    let v = json(&b);
    assert_eq!(v["error"]["param"], "previous_response_id");
    assert!(h.mock.requests().is_empty());
}
