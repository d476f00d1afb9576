//! OpenTelemetry traces: a small OTLP/HTTP receiver decodes what the gateway exports, per the
//! OTLP JSON mapping (hex ids, integer enums, 64-bit integers as decimal strings).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::routing::post;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use support::*;
use switchyard_mock::Fault;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Export {
    resource_spans: Vec<ResourceSpans>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ResourceSpans {
    resource: Resource,
    scope_spans: Vec<ScopeSpans>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Resource {
    attributes: Vec<KeyValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeSpans {
    scope: Value,
    spans: Vec<Span>,
}

#[derive(Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Span {
    trace_id: String,
    span_id: String,
    parent_span_id: Option<String>,
    name: String,
    kind: u8,
    start_time_unix_nano: String,
    end_time_unix_nano: String,
    attributes: Vec<KeyValue>,
    status: Status,
}

#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
struct Status {
    code: u8,
    message: Option<String>,
}

#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
struct KeyValue {
    key: String,
    value: AnyValue,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(clippy::enum_variant_names)] // the protocol's own names
enum AnyValue {
    StringValue(String),
    /// int64 in the JSON mapping: a decimal string.
    IntValue(String),
    DoubleValue(f64),
    BoolValue(bool),
}

impl Span {
    fn attrs(&self) -> HashMap<String, AnyValue> {
        self.attributes
            .iter()
            .map(|kv| (kv.key.clone(), kv.value.clone()))
            .collect()
    }

    fn text(&self, key: &str) -> Option<String> {
        match self.attrs().get(key) {
            Some(AnyValue::StringValue(s)) => Some(s.clone()),
            _ => None,
        }
    }

    fn int(&self, key: &str) -> Option<i64> {
        match self.attrs().get(key) {
            Some(AnyValue::IntValue(s)) => Some(s.parse().unwrap()),
            _ => None,
        }
    }
}

fn hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit()) && s.bytes().any(|b| b != b'0')
}

/// Starts the receiver; returns its base URL and what it has decoded.
async fn receiver() -> (String, Arc<Mutex<Vec<Span>>>, Arc<Mutex<Vec<String>>>) {
    let spans: Arc<Mutex<Vec<Span>>> = Arc::default();
    let services: Arc<Mutex<Vec<String>>> = Arc::default();
    let (s2, r2) = (spans.clone(), services.clone());
    let app = axum::Router::new().route(
        "/v1/traces",
        post(move |headers: http::HeaderMap, body: bytes::Bytes| {
            let (spans, services) = (s2.clone(), r2.clone());
            async move {
                assert_eq!(headers["content-type"], "application/json");
                assert_eq!(headers["x-collector-key"], "secret-1");
                let export: Export = serde_json::from_slice(&body).unwrap_or_else(|e| {
                    panic!("not OTLP JSON ({e}): {}", String::from_utf8_lossy(&body))
                });
                for rs in export.resource_spans {
                    for kv in rs.resource.attributes {
                        if kv.key == "service.name" {
                            if let AnyValue::StringValue(s) = kv.value {
                                services.lock().unwrap().push(s);
                            }
                        }
                    }
                    for ss in rs.scope_spans {
                        assert_eq!(ss.scope["name"], "switchyard");
                        spans.lock().unwrap().extend(ss.spans);
                    }
                }
                ([("content-type", "application/json")], "{}")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), spans, services)
}

#[tokio::test]
async fn a_request_and_its_attempts_become_genai_spans_in_the_callers_trace() {
    let (url, spans, services) = receiver().await;
    let yaml = format!(
        "server:\n  discover_env: false\n  otel: {{endpoint: \"{url}\", service_name: gw-test, capture_content: true, headers: {{x-collector-key: secret-1}}}}\nproviders:\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\nclient_keys:\n  - name: alice\n    key: {KEY}\nroutes:\n  retried:\n    model: openai/gpt-6-sol\n    retry: {{attempts: 1, backoff_ms: 1}}\n"
    );
    let h = start_with(&yaml, axum::Router::new()).await;
    h.mock.push_faults([
        Fault {
            status: Some(503),
            ..Fault::default()
        },
        Fault {
            usage: Some(json!({"prompt_tokens": 30, "completion_tokens": 7})),
            content: Some("Hello there".into()),
            ..Fault::default()
        },
    ]);
    let caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let resp = h
        .send(
            "POST",
            "/v1/chat/completions",
            &[
                ("authorization", &format!("Bearer {KEY}")),
                ("content-type", "application/json"),
                ("traceparent", &format!("00-{caller_trace}-{caller_span}-01")),
            ],
            r#"{"model":"retried","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Say hello"}]}"#,
        )
        .await;
    assert_eq!(collect(resp).await.0, 200);
    let sent_parents: Vec<String> = h
        .mock
        .requests()
        .iter()
        .map(|r| r.header("traceparent").unwrap().to_owned())
        .collect();
    // Shutting down exports what is queued.
    assert!(h.server.shutdown().await);
    let spans = spans.lock().unwrap().clone();
    assert_eq!(spans.len(), 3, "{spans:#?}");
    assert_eq!(
        services.lock().unwrap().first().map(String::as_str),
        Some("gw-test")
    );

    let server: Vec<&Span> = spans.iter().filter(|s| s.kind == 2).collect();
    let clients: Vec<&Span> = spans.iter().filter(|s| s.kind == 3).collect();
    assert_eq!((server.len(), clients.len()), (1, 2));
    let root = server[0];
    assert_eq!(root.trace_id, caller_trace);
    assert_eq!(root.parent_span_id.as_deref(), Some(caller_span));
    assert!(hex(&root.span_id, 16));
    assert_eq!(root.name, "chat retried");
    assert_eq!(root.text("gen_ai.operation.name").as_deref(), Some("chat"));
    assert_eq!(
        root.text("gen_ai.request.model").as_deref(),
        Some("retried")
    );
    assert_eq!(
        root.text("gen_ai.response.model").as_deref(),
        Some("gpt-6-sol")
    );
    assert_eq!(root.text("gen_ai.provider.name").as_deref(), Some("openai"));
    assert_eq!(root.int("gen_ai.usage.input_tokens"), Some(30));
    assert_eq!(root.int("gen_ai.usage.output_tokens"), Some(7));
    assert_eq!(root.int("http.response.status_code"), Some(200));
    assert_eq!(root.status.code, 0);
    let input: Value = serde_json::from_str(&root.text("gen_ai.input.messages").unwrap()).unwrap();
    assert_eq!(
        input,
        json!([{"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
               {"role": "user", "parts": [{"type": "text", "content": "Say hello"}]}])
    );
    let output: Value =
        serde_json::from_str(&root.text("gen_ai.output.messages").unwrap()).unwrap();
    assert_eq!(output[0]["parts"][0]["content"], "Hello there");
    assert_eq!(output[0]["finish_reason"], "stop");
    let start: u128 = root.start_time_unix_nano.parse().unwrap();
    let end: u128 = root.end_time_unix_nano.parse().unwrap();
    assert!(end >= start && start > 1_600_000_000_000_000_000);

    let mut clients = clients;
    clients.sort_by_key(|s| s.start_time_unix_nano.parse::<u128>().unwrap());
    for (c, parent_header) in clients.iter().zip(&sent_parents) {
        assert_eq!(c.trace_id, caller_trace);
        assert_eq!(c.parent_span_id.as_deref(), Some(root.span_id.as_str()));
        // The provider was told this attempt's span as its parent.
        assert_eq!(
            parent_header,
            &format!("00-{caller_trace}-{}-01", c.span_id)
        );
        assert_eq!(c.name, "chat gpt-6-sol");
        assert_eq!(c.text("gen_ai.request.model").as_deref(), Some("gpt-6-sol"));
        assert_eq!(c.text("server.address").as_deref(), Some("127.0.0.1"));
        assert_eq!(c.int("server.port"), Some(i64::from(h.mock.addr.port())));
        let c_start: u128 = c.start_time_unix_nano.parse().unwrap();
        assert!(c_start >= start);
    }
    assert_eq!(clients[0].status.code, 2);
    assert_eq!(clients[0].text("error.type").as_deref(), Some("503"));
    assert_eq!(clients[0].status.message.as_deref(), Some("status 503"));
    assert_eq!(clients[1].status.code, 0);
    assert_eq!(clients[1].int("gen_ai.usage.output_tokens"), Some(7));
    assert_eq!(clients[0].int("gen_ai.usage.output_tokens"), None);
}

#[tokio::test]
async fn without_content_capture_no_message_text_leaves_the_gateway() {
    let (url, spans, _) = receiver().await;
    let yaml = format!(
        "server:\n  discover_env: false\n  otel: {{endpoint: \"{url}/v1/traces\", headers: {{x-collector-key: secret-1}}}}\nproviders:\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\n"
    );
    let h = start_with(&yaml, axum::Router::new()).await;
    let resp = h
        .send(
            "POST",
            "/v1/chat/completions",
            &[("content-type", "application/json")],
            r#"{"model":"openai/gpt-6-sol","stream":true,"messages":[{"role":"user","content":"secret words"}]}"#,
        )
        .await;
    assert_eq!(collect(resp).await.0, 200);
    assert!(eventually(|| spans.lock().unwrap().len() == 2).await);
    let spans = spans.lock().unwrap().clone();
    for s in &spans {
        assert!(s.text("gen_ai.input.messages").is_none());
        assert!(s.text("gen_ai.output.messages").is_none());
    }
    // A fresh trace: the root has no parent.
    let root = spans.iter().find(|s| s.kind == 2).unwrap();
    assert!(root.parent_span_id.is_none());
    assert!(hex(&root.trace_id, 32));
    assert!(
        root.int("gen_ai.usage.output_tokens").unwrap() > 0,
        "stream usage is read"
    );
}
