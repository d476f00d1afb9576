//! Model names are the callers' to choose: a name past `server.limits.max_model_name_bytes` is
//! refused before it reaches the log, a header or a metric, and names that are not declared stay
//! out of the metric series and the health table (`server.limits.max_series`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::Value;
use std::time::Duration;
use support::*;

const ADMIN: &str = "Bearer admin-key-1";

fn yaml() -> String {
    format!(
        "server:\n  discover_env: false\n  admin_keys: [{{name: ops, key: admin-key-1}}]\n  limits: {{max_model_name_bytes: 64, max_series: 3}}\nproviders:\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\nclient_keys:\n  - name: test\n    key: {KEY}\nroutes:\n  r: {{model: openai/gpt-6-sol}}\n"
    )
}

async fn admin_get(h: &Harness, path: &str) -> (http::StatusCode, bytes::Bytes) {
    let resp = h.send("GET", path, &[("authorization", ADMIN)], "").await;
    let (s, _, b) = collect(resp).await;
    (s, b)
}

async fn send(
    h: &Harness,
    path: &str,
    extra: &[(&str, &str)],
    body: String,
) -> (http::StatusCode, http::HeaderMap, bytes::Bytes) {
    let auth = format!("Bearer {KEY}");
    let mut headers = vec![
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    headers.extend_from_slice(extra);
    collect(h.send("POST", path, &headers, body).await).await
}

fn chat(model: &str) -> String {
    format!(r#"{{"model":"{model}","messages":[{{"role":"user","content":"hi"}}]}}"#)
}

#[tokio::test]
async fn a_model_name_past_the_limit_is_a_400_in_the_callers_shape_and_is_not_echoed() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    let long = format!("openai/{}", "x".repeat(58));
    assert_eq!(long.len(), 65);
    let (s, headers, b) = send(&h, "/v1/chat/completions", &[], chat(&long)).await;
    assert_eq!(s, 400);
    let v = json(&b);
    assert_eq!(v["error"]["param"], "model", "{v}");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("65 bytes")
            && msg.contains("at most 64")
            && msg.contains("max_model_name_bytes"),
        "{msg}"
    );
    assert!(!String::from_utf8_lossy(&b).contains(&long[7..]));
    assert!(!headers.contains_key("x-switchyard-target"));
    assert!(h.mock.requests().is_empty(), "nothing went upstream");
    // At the limit it is served.
    let (s, headers, _) = send(&h, "/v1/chat/completions", &[], chat(&long[..64])).await;
    assert_eq!(s, 200);
    assert_eq!(headers["x-switchyard-target"], &long[..64]);

    // A Messages caller gets Anthropic's shape.
    let body = format!(
        r#"{{"model":"{long}","max_tokens":5,"messages":[{{"role":"user","content":"hi"}}]}}"#
    );
    let (s, _, b) = send(&h, "/v1/messages", &[], body).await;
    assert_eq!(s, 400);
    let v = json(&b);
    assert_eq!(
        (v["type"].as_str(), v["error"]["type"].as_str()),
        (Some("error"), Some("invalid_request_error")),
        "{v}"
    );
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("max_model_name_bytes"));

    // A comparison is refused whole rather than echo the name in its results.
    let body = format!(
        r#"{{"models":["openai/gpt-6-sol","{long}"],"messages":[{{"role":"user","content":"hi"}}]}}"#
    );
    let (s, _, b) = send(&h, "/v1/compare", &[], body).await;
    assert_eq!(s, 400);
    assert_eq!(json(&b)["error"]["param"], "models");
    assert!(!String::from_utf8_lossy(&b).contains(&long[7..]));

    // GET /v1/models/{id} says the same, without the id.
    let path = format!("/v1/models/{long}");
    let auth = format!("Bearer {KEY}");
    let (s, _, b) = collect(h.send("GET", &path, &[("authorization", &auth)], "").await).await;
    assert_eq!(s, 400);
    assert!(!String::from_utf8_lossy(&b).contains(&long[7..]));

    // A route header's targets are bounded the same way.
    let cfg = format!(r#"{{"targets":[{{"model":"{long}"}}]}}"#);
    let (s, _, b) = send(
        &h,
        "/v1/chat/completions",
        &[("x-switchyard-config", &cfg)],
        chat("anything"),
    )
    .await;
    assert_eq!(s, 400);
    let msg = json(&b)["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        msg.contains("x-switchyard-config") && msg.contains("at most 64"),
        "{msg}"
    );
    assert!(!msg.contains(&long[7..]));

    // The log keeps no refused name.
    let mut refused = Vec::new();
    for _ in 0..100 {
        let (_, b) = admin_get(&h, "/admin/logs?status=400&limit=100").await;
        refused = json(&b)["data"].as_array().cloned().unwrap_or_default();
        if refused.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(refused.len(), 3, "{refused:?}");
    for r in &refused {
        assert!(
            r["requested_model"].is_null() || r["requested_model"] == "anything",
            "{r}"
        );
        assert!(!r.to_string().contains(&long[7..]), "{r}");
    }
}

#[tokio::test]
async fn undeclared_names_share_one_metric_series_and_header_targets_fill_health_only_to_the_cap() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    let (s, _, _) = send(&h, "/v1/chat/completions", &[], chat("openai/gpt-6-sol")).await;
    assert_eq!(s, 200);
    for i in 0..6 {
        let name = format!("openai/made-up-{i}");
        let (s, headers, _) = send(&h, "/v1/chat/completions", &[], chat(&name)).await;
        assert_eq!(s, 200);
        assert_eq!(headers["x-switchyard-target"], name.as_str());
    }
    for i in 0..6 {
        let cfg = format!(r#"{{"targets":[{{"model":"openai/header-{i}"}}]}}"#);
        let (s, _, _) = send(
            &h,
            "/v1/chat/completions",
            &[("x-switchyard-config", &cfg)],
            chat("anything"),
        )
        .await;
        assert_eq!(s, 200);
    }
    // Records reach the metrics when their bodies end: wait for all 13.
    let mut text = String::new();
    for _ in 0..100 {
        let (s, b) = admin_get(&h, "/metrics").await;
        assert_eq!(s, 200);
        text = String::from_utf8_lossy(&b).into_owned();
        if text.contains("switchyard_metric_names_folded_total{reason=\"undeclared\"} 12\n") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        text.contains(
            "switchyard_requests_total{provider=\"openai\",model=\"gpt-6-sol\",status=\"200\"} 1\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "switchyard_requests_total{provider=\"openai\",model=\"other\",status=\"200\"} 12\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("switchyard_metric_names_folded_total{reason=\"undeclared\"} 12\n"),
        "{text}"
    );
    assert!(!text.contains("made-up"), "{text}");

    // The configured route's target and two header targets: three, the cap.
    let (_, b) = admin_get(&h, "/admin/health").await;
    let listed: Vec<String> = json(&b)["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t: &Value| t["target"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        listed,
        ["openai/gpt-6-sol", "openai/header-0", "openai/header-1"]
    );
    let targets = text
        .lines()
        .filter(|l| l.starts_with("switchyard_target_up{"))
        .count();
    assert_eq!(targets, 3, "{text}");
}
