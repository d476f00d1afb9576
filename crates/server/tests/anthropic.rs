//! OpenAI chat completions served by an Anthropic (Messages API) provider: the request is
//! translated on the way up and the answer, streamed or not, on the way back.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::*;
use switchyard_mock::Fault;

const YAML: &str = "server:\n  discover_env: false\nproviders:\n  - name: anthropic\n    base_url: ${MOCK_ROOT}\n    api_key: sk-ant-test\n    timeouts: { idle_ms: 800 }\nclient_keys:\n  - name: test\n    key: client-key-123\n";

async fn start_anthropic() -> Harness {
    start_with(YAML, axum::Router::new()).await
}

fn events(body: &bytes::Bytes) -> Vec<Value> {
    String::from_utf8_lossy(body)
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .map(|d| {
            if d == "[DONE]" {
                json!("[DONE]")
            } else {
                serde_json::from_str(d).unwrap()
            }
        })
        .collect()
}

#[tokio::test]
async fn chat_is_translated_both_ways() {
    let h = start_anthropic().await;
    let (s, headers, b) = h
        .chat(r#"{"model":"anthropic/claude-sonnet-4-5","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"temperature":0.3}"#)
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    assert_eq!(headers["x-switchyard-provider"], "anthropic");
    let v = json(&b);
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "claude-sonnet-4-5");
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "Hello! This is the mock provider answering."
    );
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert!(v["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
    let rec = &h.mock.requests()[0];
    assert_eq!(rec.path, "/v1/messages");
    assert_eq!(rec.header("x-api-key"), Some("sk-ant-test"));
    assert_eq!(rec.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(rec.header("authorization"), None);
    let sent: Value = serde_json::from_str(&rec.body).unwrap();
    assert_eq!(
        sent,
        json!({"model": "claude-sonnet-4-5", "system": [{"type": "text", "text": "Be brief."}],
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
            "temperature": 0.3, "max_tokens": 4096})
    );
}

#[tokio::test]
async fn streamed_chat_becomes_openai_chunks_with_usage() {
    let h = start_anthropic().await;
    let (s, headers, b) = h
        .chat(r#"{"model":"claude-haiku-4-5","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hi"}]}"#)
        .await;
    assert_eq!(s, 200);
    assert_eq!(headers["content-type"], "text/event-stream");
    let ev = events(&b);
    assert_eq!(ev.last(), Some(&json!("[DONE]")));
    assert_eq!(ev[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = ev
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello! This is the mock provider answering.");
    let usage = &ev[ev.len() - 2];
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["completion_tokens"], 7);
    assert!(ev
        .iter()
        .all(|c| c == &json!("[DONE]") || c["object"] == "chat.completion.chunk"));
}

#[tokio::test]
async fn tool_calls_round_trip_streamed_and_not() {
    let h = start_anthropic().await;
    let tools = r#"[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]"#;
    let (s, _, b) = h
        .chat(&format!(r#"{{"model":"claude-sonnet-4-5","messages":[{{"role":"user","content":"Weather?"}}],"tools":{tools}}}"#))
        .await;
    assert_eq!(s, 200);
    let v = json(&b);
    let call = &v["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "get_weather");
    let args: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args, json!({"city": "Paris", "unit": "celsius"}));
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
    h.mock.push_faults([Fault {
        chunks: Some(4),
        ..Fault::default()
    }]);
    let (s, _, b) = h
        .chat(&format!(r#"{{"model":"claude-sonnet-4-5","stream":true,"messages":[{{"role":"user","content":"Weather?"}}],"tools":{tools}}}"#))
        .await;
    assert_eq!(s, 200);
    let ev = events(&b);
    let streamed: String = ev
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].as_str())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&streamed).unwrap(),
        json!({"city": "Paris", "unit": "celsius"})
    );
    let finish: Vec<&Value> = ev
        .iter()
        .map(|c| &c["choices"][0]["finish_reason"])
        .filter(|f| f.is_string())
        .collect();
    assert_eq!(finish, vec![&json!("tool_calls")]);
}

#[tokio::test]
async fn fields_anthropic_cannot_take_are_a_400_naming_them() {
    let h = start_anthropic().await;
    let (s, _, b) = h
        .chat(r#"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"Hi"}],"n":3}"#)
        .await;
    assert_eq!(s, 400);
    let v = json(&b);
    assert_eq!(v["error"]["param"], "n");
    assert!(h.mock.requests().is_empty());
    let (s, _, b) = h
        .post(
            "/v1/embeddings",
            r#"{"model":"claude-sonnet-4-5","input":"x"}"#,
        )
        .await;
    assert_eq!(s, 400);
    assert!(json(&b)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("does not serve embeddings"));
}

#[tokio::test]
async fn anthropic_errors_arrive_in_openai_shape() {
    let h = start_anthropic().await;
    // Faults are queued at the mock: a translated request carries no `mock` field upstream.
    h.mock.push_faults([
        Fault {
            status: Some(529),
            ..Fault::default()
        },
        Fault {
            status: Some(429),
            retry_after: Some("12".into()),
            ..Fault::default()
        },
    ]);
    let (s, _, b) = h
        .chat(r#"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"Hi"}]}"#)
        .await;
    assert_eq!(s.as_u16(), 529);
    let v = json(&b);
    assert_eq!(v["error"]["type"], "overloaded_error");
    assert!(v["error"]["message"].is_string() && v["error"].get("code").is_some());
    let (s, headers, _) = h
        .chat(r#"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"Hi"}]}"#)
        .await;
    assert_eq!(s, 429);
    assert_eq!(headers["retry-after"], "12");
}

#[tokio::test]
async fn a_broken_anthropic_stream_ends_with_an_error_event() {
    let h = start_anthropic().await;
    h.mock.push_faults([Fault {
        break_after: Some(4),
        ..Fault::default()
    }]);
    let (s, _, b) = h
        .chat(r#"{"model":"claude-sonnet-4-5","stream":true,"messages":[{"role":"user","content":"Hi"}]}"#)
        .await;
    assert_eq!(s, 200);
    let ev = events(&b);
    let last = ev.last().unwrap();
    assert_eq!(last["error"]["code"], "upstream_bad_response", "{ev:?}");
    assert!(!ev.contains(&json!("[DONE]")));
}

#[tokio::test]
async fn zero_config_env_routes_claude_models_to_anthropic() {
    let mock = switchyard_mock::start(switchyard_mock::MockOptions {
        record: true,
        expect_key: Some("sk-ant-env".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    let env = env(&[
        ("ANTHROPIC_API_KEY", "sk-ant-env"),
        ("ANTHROPIC_BASE_URL", &format!("http://{}", mock.addr)),
        ("OPENAI_API_KEY", "sk-openai"),
        ("OPENAI_BASE_URL", &mock.base_url()),
    ]);
    let mut cfg = switchyard_config::from_env(&env).unwrap();
    support::temp_log(&mut cfg);
    let state = switchyard::state::AppState::build(cfg).unwrap();
    for (model, provider) in [
        ("anthropic/claude-opus-4-1", "anthropic"),
        ("claude-3-5-haiku-latest", "anthropic"),
        ("gpt-4o-mini", "openai"),
    ] {
        let r = state.router.index.resolve(model).unwrap();
        assert_eq!(state.upstreams[r.provider].name, provider, "{model}");
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = switchyard::serve(state, listener, axum::Router::new()).unwrap();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let req = http::Request::post(format!("http://{}/v1/chat/completions", server.addr))
        .body(http_body_util::Full::new(bytes::Bytes::from_static(
            br#"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"Hi"}]}"#,
        )))
        .unwrap();
    let (s, _, b) = collect(client.request(req).await.unwrap()).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    assert_eq!(mock.requests()[0].path, "/v1/messages");
}

#[tokio::test]
async fn reasoning_effort_turns_on_thinking_and_thinking_comes_back() {
    let h = start_anthropic().await;
    let (s, _, b) = h
        .chat(r#"{"model":"claude-sonnet-4-5","reasoning_effort":"low","messages":[{"role":"user","content":"Hi"}]}"#)
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let v = json(&b);
    assert_eq!(
        v["choices"][0]["message"]["reasoning_content"],
        "Thinking about the question."
    );
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "Hello! This is the mock provider answering."
    );
    let sent: Value = serde_json::from_str(&h.mock.requests()[0].body).unwrap();
    assert_eq!(
        sent["thinking"],
        json!({"type": "enabled", "budget_tokens": 1024})
    );
    assert_eq!(sent["max_tokens"], 1024 + 4096);

    let (s, _, b) = h
        .chat(r#"{"model":"claude-sonnet-4-5","reasoning_effort":"high","max_tokens":3000,"stream":true,"messages":[{"role":"user","content":"Hi"}]}"#)
        .await;
    assert_eq!(s, 200);
    let ev = events(&b);
    let thought: String = ev
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["reasoning_content"].as_str())
        .collect();
    assert_eq!(thought, "Thinking about the question.");
    let text: String = ev
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello! This is the mock provider answering.");
    let sent: Value = serde_json::from_str(&h.mock.requests()[1].body).unwrap();
    assert_eq!(sent["thinking"]["budget_tokens"], 2999);
}

#[tokio::test]
async fn nothing_follows_the_end_of_a_translated_stream() {
    let h = start_anthropic().await;
    // The mock's stream has 13 events; the connection breaks right after the last one.
    h.mock.push_faults([Fault {
        break_after: Some(13),
        ..Fault::default()
    }]);
    let (s, _, b) = h
        .chat(r#"{"model":"claude-haiku-4-5","stream":true,"messages":[{"role":"user","content":"Hi"}]}"#)
        .await;
    assert_eq!(s, 200);
    let ev = events(&b);
    assert_eq!(ev.last(), Some(&json!("[DONE]")), "{ev:?}");
    assert!(ev.iter().all(|e| e.get("error").is_none()));
}
