//! A Gemini provider behind every inbound API: OpenAI chat completions and embeddings, Anthropic
//! Messages and OpenAI Responses, translated on the way up and back, streamed and not, against
//! the mock's Gemini routes (which refuse unknown fields as the service does).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::*;
use switchyard_mock::Fault;

const YAML: &str = "server:\n  discover_env: false\nproviders:\n  - name: gemini\n    base_url: ${MOCK_ROOT}\n    api_key: gm-test-key\n    timeouts: { idle_ms: 800 }\nclient_keys:\n  - name: test\n    key: client-key-123\n";

async fn start_gemini() -> Harness {
    start_with(YAML, axum::Router::new()).await
}

fn sent(h: &Harness, i: usize) -> (String, Value) {
    let rec = &h.mock.requests()[i];
    (rec.target.clone(), serde_json::from_str(&rec.body).unwrap())
}

#[tokio::test]
async fn chat_is_translated_both_ways() {
    let h = start_gemini().await;
    let (s, headers, b) = h
        .chat(r#"{"model":"gemini/gemini-2.5-flash","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"temperature":0.3,"max_tokens":50}"#)
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    assert_eq!(headers["x-switchyard-provider"], "gemini");
    let v = json(&b);
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "gemini-2.5-flash");
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "Hello! This is the mock provider answering."
    );
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["usage"]["completion_tokens"], 7);
    let rec = &h.mock.requests()[0];
    assert_eq!(rec.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert_eq!(rec.header("x-goog-api-key"), Some("gm-test-key"));
    assert_eq!(rec.header("authorization"), None);
    assert_eq!(
        serde_json::from_str::<Value>(&rec.body).unwrap(),
        json!({"systemInstruction": {"parts": [{"text": "Be brief."}]},
            "contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
            "generationConfig": {"temperature": 0.3, "maxOutputTokens": 50}})
    );
}

#[tokio::test]
async fn bare_gemini_names_route_by_prefix_and_stream_with_usage() {
    let h = start_gemini().await;
    let (s, headers, b) = h
        .chat(r#"{"model":"gemini-2.5-pro","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hi"}]}"#)
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    assert_eq!(headers["content-type"], "text/event-stream");
    let (target, _) = sent(&h, 0);
    assert_eq!(
        target,
        "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
    );
    let ev = data_events(&b);
    assert_eq!(ev.last(), Some(&json!("[DONE]")));
    assert_eq!(ev[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = ev
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello! This is the mock provider answering.");
    let finishes: Vec<&Value> = ev
        .iter()
        .filter(|c| !c["choices"][0]["finish_reason"].is_null() && c.get("choices").is_some())
        .filter_map(|c| c.pointer("/choices/0/finish_reason"))
        .collect();
    assert_eq!(finishes, vec![&json!("stop")]);
    let usage = &ev[ev.len() - 2];
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["completion_tokens"], 7);
    assert!(usage["usage"]["prompt_tokens"].as_u64().unwrap() > 0);

    // Without include_usage there is no usage chunk.
    let (_, _, b) = h
        .chat(r#"{"model":"gemini-2.5-pro","stream":true,"messages":[{"role":"user","content":"Hi"}]}"#)
        .await;
    let ev = data_events(&b);
    assert!(ev.iter().all(|c| c.get("usage").is_none()));
}

#[tokio::test]
async fn tools_with_strict_schemas_round_trip_streamed_and_not() {
    let h = start_gemini().await;
    // additionalProperties and $schema would be refused by Gemini: the schema is rewritten.
    let tools = r#"[{"type":"function","function":{"name":"get_weather","strict":true,"parameters":{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","additionalProperties":false,"properties":{"city":{"type":"string"},"unit":{"type":["string","null"],"enum":["c","f",null]}},"required":["city","unit"]}}}]"#;
    let (s, _, b) = h
        .chat(&format!(r#"{{"model":"gemini-2.5-flash","messages":[{{"role":"user","content":"Weather?"}}],"tools":{tools}}}"#))
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let v = json(&b);
    let call = &v["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "get_weather");
    let args: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args, json!({"city": "Paris", "unit": "celsius"}));
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
    let (_, body) = sent(&h, 0);
    assert_eq!(
        body["tools"][0]["functionDeclarations"][0]["parameters"],
        json!({"type": "OBJECT", "properties": {"city": {"type": "STRING"},
            "unit": {"type": "STRING", "nullable": true, "enum": ["c", "f"]}},
            "required": ["city", "unit"]})
    );

    // The tool result goes back as a functionResponse named after the call.
    let id = call["id"].as_str().unwrap();
    let follow = json!({"model": "gemini-2.5-flash", "tool_choice": "none", "tools": serde_json::from_str::<Value>(tools).unwrap(),
        "messages": [{"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": null, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": id, "content": "18C"}]});
    let (s, _, b) = h.chat(&follow.to_string()).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let (_, body) = sent(&h, 1);
    assert_eq!(
        body["contents"][2],
        json!({"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"result": "18C"}}}]})
    );
    assert_eq!(
        body["toolConfig"],
        json!({"functionCallingConfig": {"mode": "NONE"}})
    );

    let (s, _, b) = h
        .chat(&format!(r#"{{"model":"gemini-2.5-flash","stream":true,"messages":[{{"role":"user","content":"Weather?"}}],"tools":{tools}}}"#))
        .await;
    assert_eq!(s, 200);
    let ev = data_events(&b);
    let delta = ev
        .iter()
        .find_map(|c| c.pointer("/choices/0/delta/tool_calls/0"))
        .unwrap();
    assert_eq!(delta["function"]["name"], "get_weather");
    assert_eq!(delta["index"], 0);
    assert!(delta["id"].as_str().unwrap().starts_with("call_"));
    assert!(ev
        .iter()
        .any(|c| c.pointer("/choices/0/finish_reason") == Some(&json!("tool_calls"))));
}

#[tokio::test]
async fn gemini_3_thought_signatures_survive_an_openai_round_trip() {
    let h = start_gemini().await;
    let tools = r#"[{"type":"function","function":{"name":"lookup","parameters":{"type":"object","properties":{"q":{"type":"string"}}}}}]"#;
    let (s, _, b) = h
        .chat(&format!(r#"{{"model":"gemini-3-pro-preview","messages":[{{"role":"user","content":"Find it"}}],"tools":{tools}}}"#))
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let call = json(&b)["choices"][0]["message"]["tool_calls"][0].clone();
    let follow = json!({"model": "gemini-3-pro-preview", "messages": [
        {"role": "user", "content": "Find it"},
        {"role": "assistant", "content": null, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "{\"found\": true}"}]});
    // The mock refuses a Gemini 3 function call sent back without its signature.
    let (s, _, b) = h.chat(&follow.to_string()).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let (_, body) = sent(&h, 1);
    assert!(body["contents"][1]["parts"][0]["thoughtSignature"].is_string());
    assert_eq!(
        body["contents"][2]["parts"][0]["functionResponse"]["response"],
        json!({"found": true})
    );
}

#[tokio::test]
async fn reasoning_effort_and_json_schema_output() {
    let h = start_gemini().await;
    let (s, _, b) = h
        .chat(r#"{"model":"gemini-2.5-flash","reasoning_effort":"medium","response_format":{"type":"json_schema","json_schema":{"name":"a","strict":true,"schema":{"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"],"additionalProperties":false}}},"messages":[{"role":"user","content":"Hi"}]}"#)
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let v = json(&b);
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "{\"answer\": \"mock\"}"
    );
    assert_eq!(
        v["choices"][0]["message"]["reasoning_content"],
        "Thinking about the question."
    );
    assert_eq!(
        v["usage"]["completion_tokens_details"]["reasoning_tokens"],
        5
    );
    let (_, body) = sent(&h, 0);
    assert_eq!(
        body["generationConfig"],
        json!({"thinkingConfig": {"thinkingBudget": 8192, "includeThoughts": true},
            "responseMimeType": "application/json",
            "responseSchema": {"type": "OBJECT", "properties": {"answer": {"type": "STRING"}}, "required": ["answer"]}})
    );
}

#[tokio::test]
async fn errors_reach_the_caller_in_its_shape() {
    let h = start_gemini().await;
    // A field Gemini cannot take is a 400 naming it, before anything is sent.
    let (s, _, b) = h
        .chat(r#"{"model":"gemini-2.5-flash","modalities":["audio"],"messages":[{"role":"user","content":"Hi"}]}"#)
        .await;
    assert_eq!(s, 400);
    assert_eq!(json(&b)["error"]["param"], "modalities");
    assert!(h.mock.requests().is_empty());

    // Gemini's own error body and status come back in OpenAI's shape.
    h.mock.push_faults([Fault {
        status: Some(429),
        retry_after: Some("7".into()),
        ..Fault::default()
    }]);
    let (s, headers, b) = h
        .chat(r#"{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Hi"}]}"#)
        .await;
    assert_eq!(s, 429);
    assert_eq!(headers["retry-after"], "7");
    let e = json(&b);
    assert_eq!(e["error"]["type"], "rate_limit_error");
    assert_eq!(e["error"]["message"], "mock fault: status 429");

    // Messages callers get Anthropic's shape.
    h.mock.push_faults([Fault {
        status: Some(503),
        ..Fault::default()
    }]);
    let (s, _, b) = h
        .post(
            "/v1/messages",
            r#"{"model":"gemini-2.5-flash","max_tokens":10,"messages":[{"role":"user","content":"Hi"}]}"#,
        )
        .await;
    assert_eq!(s, 503);
    let e = json(&b);
    assert_eq!(e["type"], "error");
    assert_eq!(e["error"]["type"], "overloaded_error");
}

#[tokio::test]
async fn a_stream_that_breaks_ends_with_an_error_event() {
    let h = start_gemini().await;
    h.mock.push_faults([Fault {
        break_after: Some(2),
        ..Fault::default()
    }]);
    let (s, _, b) = h
        .chat(r#"{"model":"gemini-2.5-flash","stream":true,"messages":[{"role":"user","content":"Hi"}]}"#)
        .await;
    assert_eq!(s, 200);
    let ev = data_events(&b);
    assert!(ev
        .iter()
        .any(|c| c["choices"][0]["delta"]["content"].is_string()));
    let last = ev.last().unwrap();
    assert!(last["error"]["message"].is_string(), "{last}");
    assert!(!ev.contains(&json!("[DONE]")));
}

#[tokio::test]
async fn messages_callers_use_gemini() {
    let h = start_gemini().await;
    let (s, _, b) = h
        .post(
            "/v1/messages",
            r#"{"model":"gemini-2.5-flash","max_tokens":100,"system":"Be brief.","messages":[{"role":"user","content":"Hi"}]}"#,
        )
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let v = json(&b);
    assert_eq!(v["type"], "message");
    assert_eq!(
        v["content"][0]["text"],
        "Hello! This is the mock provider answering."
    );
    assert_eq!(v["stop_reason"], "end_turn");
    assert_eq!(v["usage"]["output_tokens"], 7);

    let (s, _, b) = h
        .post(
            "/v1/messages",
            r#"{"model":"gemini-2.5-flash","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"Hi"}]}"#,
        )
        .await;
    assert_eq!(s, 200);
    let text = String::from_utf8_lossy(&b);
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(names.last(), Some(&"message_stop"));
    assert!(names.contains(&"message_delta"));
    let delta = data_events(&b)
        .into_iter()
        .find(|e| e["type"] == "message_delta")
        .unwrap();
    assert_eq!(delta["usage"]["output_tokens"], 7);
}

#[tokio::test]
async fn responses_callers_use_gemini() {
    let h = start_gemini().await;
    let (s, _, b) = h
        .post(
            "/v1/responses",
            r#"{"model":"gemini-2.5-flash","input":"Hi","instructions":"Be brief."}"#,
        )
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let v = json(&b);
    assert_eq!(v["object"], "response");
    assert_eq!(v["status"], "completed");
    assert_eq!(
        v["output"][0]["content"][0]["text"],
        "Hello! This is the mock provider answering."
    );
    let (s, _, b) = h
        .post(
            "/v1/responses",
            r#"{"model":"gemini-2.5-flash","input":"Hi","stream":true}"#,
        )
        .await;
    assert_eq!(s, 200);
    let ev = data_events(&b);
    let last = ev.last().unwrap();
    assert_eq!(last["type"], "response.completed");
    assert!(last["response"]["usage"]["output_tokens"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn embeddings_are_translated_with_base64() {
    let h = start_gemini().await;
    let (s, _, b) = h
        .post(
            "/v1/embeddings",
            r#"{"model":"gemini-embedding-001","input":["one","two"],"dimensions":4}"#,
        )
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let v = json(&b);
    assert_eq!(v["object"], "list");
    assert_eq!(v["model"], "gemini-embedding-001");
    assert_eq!(v["data"][1]["index"], 1);
    let floats = v["data"][0]["embedding"].as_array().unwrap().clone();
    assert_eq!(floats.len(), 4);
    let (target, body) = sent(&h, 0);
    assert_eq!(
        target,
        "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    );
    assert_eq!(body["requests"][1]["content"]["parts"][0]["text"], "two");

    let (s, _, b) = h
        .post(
            "/v1/embeddings",
            r#"{"model":"gemini-embedding-001","input":"one","dimensions":4,"encoding_format":"base64"}"#,
        )
        .await;
    assert_eq!(s, 200);
    let encoded = json(&b)["data"][0]["embedding"]
        .as_str()
        .unwrap()
        .to_owned();
    // 4 float32s, base64: 16 bytes → 24 characters; the same numbers as the float answer.
    assert_eq!(encoded.len(), 24);
    let first = floats[0].as_f64().unwrap() as f32;
    assert!(encoded.starts_with(&first_b64_prefix(first)));
}

/// The first five base64 characters encode the first three bytes of the first float.
fn first_b64_prefix(f: f32) -> String {
    use base64::Engine;
    let b = f.to_le_bytes();
    base64::engine::general_purpose::STANDARD.encode(&b[..3])
}

#[tokio::test]
async fn count_tokens_uses_gemini_count_tokens() {
    let h = start_gemini().await;
    let (s, _, b) = h
        .post(
            "/v1/messages/count_tokens",
            r#"{"model":"gemini-2.5-flash","system":"Be brief.","messages":[{"role":"user","content":"Hello there"}]}"#,
        )
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let (target, body) = sent(&h, 0);
    assert_eq!(target, "/v1beta/models/gemini-2.5-flash:countTokens");
    let inner = &body["generateContentRequest"];
    assert_eq!(inner["model"], "models/gemini-2.5-flash");
    assert_eq!(
        inner["systemInstruction"],
        json!({"parts": [{"text": "Be brief."}]})
    );
    let expected = inner["contents"].to_string().len().div_ceil(4);
    assert_eq!(json(&b), json!({"input_tokens": expected}));
}

fn image_yaml(extra: &str) -> String {
    YAML.replace(
        "server:\n  discover_env: false\n",
        &format!("server:\n  discover_env: false\n  image_fetch: {{ {extra} }}\n"),
    )
}

fn image_chat(h: &Harness, path: &str) -> String {
    format!(
        r#"{{"model":"gemini-2.5-flash","messages":[{{"role":"user","content":[{{"type":"text","text":"What is it?"}},{{"type":"image_url","image_url":{{"url":"http://{}{path}"}}}}]}}]}}"#,
        h.mock.addr
    )
}

#[tokio::test]
async fn image_urls_are_fetched_and_inlined_for_gemini() {
    use base64::Engine;
    let h = start_with(
        &image_yaml("allow_private_addresses: true"),
        axum::Router::new(),
    )
    .await;
    for path in ["/_mock/image.png", "/_mock/redirect-image"] {
        let (s, _, b) = h.chat(&image_chat(&h, path)).await;
        assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    }
    let gen: Vec<_> = h
        .mock
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/v1beta"))
        .collect();
    assert_eq!(gen.len(), 2);
    for r in gen {
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(
            body["contents"][0]["parts"][1],
            json!({"inlineData": {"mimeType": "image/png",
                "data": base64::engine::general_purpose::STANDARD.encode(switchyard_mock::PNG)}})
        );
    }
    let (s, _, b) = h.chat(&image_chat(&h, "/_mock/not-an-image")).await;
    assert_eq!(s, 400);
    assert_eq!(json(&b)["error"]["param"], "messages[0].content[1]");
    assert!(json(&b)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not an image"));
}

#[tokio::test]
async fn image_fetching_refuses_private_addresses_and_big_images() {
    // By default a loopback URL is refused: callers cannot make the gateway reach its network.
    let h = start_gemini().await;
    let (s, _, b) = h.chat(&image_chat(&h, "/_mock/image.png")).await;
    assert_eq!(s, 400, "{}", String::from_utf8_lossy(&b));
    let e = json(&b);
    assert_eq!(e["error"]["param"], "messages[0].content[1]");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("private or reserved address"));
    assert!(h.mock.requests().is_empty(), "nothing was fetched or sent");

    let h = start_with(
        &image_yaml("allow_private_addresses: true, max_bytes: 20"),
        axum::Router::new(),
    )
    .await;
    let (s, _, b) = h.chat(&image_chat(&h, "/_mock/image.png")).await;
    assert_eq!(s, 400);
    assert!(json(&b)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("larger than 20 bytes"));
}

#[tokio::test]
async fn field_policies_leave_out_what_gemini_cannot_take_and_say_so() {
    let yaml = YAML.replace(
        "    api_key: gm-test-key\n",
        "    api_key: gm-test-key\n    drop_params: true\n",
    );
    let h = start_with(&yaml, axum::Router::new()).await;
    let (s, headers, b) = h
        .chat(r#"{"model":"gemini-2.5-flash","modalities":["text"],"prediction":{"type":"content","content":"x"},"temperature":0.2,"messages":[{"role":"user","content":"Hi"}]}"#)
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let dropped = headers["x-switchyard-dropped-params"].to_str().unwrap();
    let mut names: Vec<&str> = dropped.split(',').collect();
    names.sort_unstable();
    assert_eq!(names, ["modalities", "prediction"]);
    let (_, body) = sent(&h, 0);
    assert_eq!(body["generationConfig"], json!({"temperature": 0.2}));
    // Content is never dropped: a bad part is still a 400.
    let (s, _, b) = h
        .chat(r#"{"model":"gemini-2.5-flash","messages":[{"role":"user","content":[{"type":"video","video":{}}]}]}"#)
        .await;
    assert_eq!(s, 400);
    assert_eq!(json(&b)["error"]["param"], "messages[0].content[0]");
    // The lenient policy (drop_params: true) leaves out contract fields too.
    let (s, headers, _) = h
        .chat(r#"{"model":"gemini-2.5-flash","modalities":["text","audio"],"messages":[{"role":"user","content":"Hi"}]}"#)
        .await;
    assert_eq!(s, 200);
    assert_eq!(headers["x-switchyard-dropped-params"], "modalities");
    // By default advisory fields are left out and named, and contract ones refused.
    let h = start_gemini().await;
    let (s, headers, _) = h
        .chat(r#"{"model":"gemini-2.5-flash","modalities":["text"],"messages":[{"role":"user","content":"Hi"}]}"#)
        .await;
    assert_eq!(s, 200);
    assert_eq!(headers["x-switchyard-dropped-params"], "modalities");
    let (s, _, b) = h
        .chat(r#"{"model":"gemini-2.5-flash","modalities":["text","audio"],"messages":[{"role":"user","content":"Hi"}]}"#)
        .await;
    assert_eq!(s, 400);
    assert_eq!(json(&b)["error"]["param"], "modalities");
    // Under the strict policy nothing is left out.
    let yaml = YAML.replace(
        "    api_key: gm-test-key\n",
        "    api_key: gm-test-key\n    field_policy: strict\n",
    );
    let h = start_with(&yaml, axum::Router::new()).await;
    let (s, _, b) = h
        .chat(r#"{"model":"gemini-2.5-flash","modalities":["text"],"messages":[{"role":"user","content":"Hi"}]}"#)
        .await;
    assert_eq!(s, 400);
    assert_eq!(json(&b)["error"]["param"], "modalities");
}

#[tokio::test]
async fn google_retry_info_becomes_retry_after() {
    let h = start_gemini().await;
    h.mock.push_faults([Fault {
        status: Some(429),
        body: Some(json!({"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).",
            "status": "RESOURCE_EXHAUSTED", "details": [
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "17s"}]}})),
        ..Fault::default()
    }]);
    let (s, headers, b) = h
        .chat(r#"{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Hi"}]}"#)
        .await;
    assert_eq!(s, 429);
    assert_eq!(headers["retry-after"], "17");
    assert_eq!(
        json(&b)["error"]["message"],
        "Resource has been exhausted (e.g. check quota)."
    );
    assert_eq!(json(&b)["error"]["type"], "rate_limit_error");
}

#[tokio::test]
async fn image_fetching_has_a_per_request_count_limit() {
    let h = start_with(
        &image_yaml("allow_private_addresses: true, max_images: 2"),
        axum::Router::new(),
    )
    .await;
    let url = format!("http://{}/_mock/image.png", h.mock.addr);
    let part = format!(r#"{{"type":"image_url","image_url":{{"url":"{url}"}}}}"#);
    let body = format!(
        r#"{{"model":"gemini-2.5-flash","messages":[{{"role":"user","content":[{part},{part},{part}]}}]}}"#
    );
    let (s, _, b) = h.chat(&body).await;
    assert_eq!(s, 400);
    let e = json(&b);
    assert_eq!(e["error"]["param"], "messages[0].content[2]");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("at most 2 image URLs"));
    assert!(h
        .mock
        .requests()
        .iter()
        .all(|r| !r.path.starts_with("/v1beta")));
}
