//! Routes: trees of targets with fallback, load balancing, conditions, retries and timeouts,
//! against two mock providers that fail independently.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::*;
use switchyard_mock::{Fault, MockHandle};

const PROVIDERS: &str = "server:\n  discover_env: false\n  routing_seed: 7\nproviders:\n  - {name: a, base_url: '${MOCK}', api_key: ka, models: [gpt-a]}\n  - {name: b, base_url: '${MOCK2}', api_key: kb, models: [gpt-b]}\nclient_keys:\n  - {name: test, key: client-key-123}\n";

async fn start_routes(routes: &str) -> (Harness, MockHandle) {
    start_two(&format!("{PROVIDERS}routes:\n{routes}")).await
}

fn fault(status: u16) -> Fault {
    Fault {
        status: Some(status),
        ..Fault::default()
    }
}

const HI: &str = r#""messages":[{"role":"user","content":"Hi"}]"#;

fn chat_body(model: &str) -> String {
    format!(r#"{{"model":"{model}",{HI}}}"#)
}

#[tokio::test]
async fn fallback_moves_on_after_a_failure_and_says_where_it_landed() {
    let (h, b) = start_routes("  smart: {targets: [{model: a/gpt-a}, {model: b/gpt-b}]}\n").await;
    h.mock.push_faults([fault(503)]);
    let (s, headers, body) = h.chat(&chat_body("smart")).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["x-switchyard-target"], "b/gpt-b");
    assert_eq!(headers["x-switchyard-attempts"], "2");
    assert_eq!(headers["x-switchyard-provider"], "b");
    assert!(headers.contains_key("x-request-id"));
    assert_eq!(h.mock.requests().len(), 1);
    assert_eq!(b.requests().len(), 1);
    let sent: Value = serde_json::from_str(&b.requests()[0].body).unwrap();
    assert_eq!(sent["model"], "gpt-b");

    // A caller's mistake is not a reason to try elsewhere.
    h.mock.push_faults([fault(400)]);
    let (s, _, _) = h.chat(&chat_body("smart")).await;
    assert_eq!(s, 400);
    assert_eq!(b.requests().len(), 1, "no fallback on 400");

    // When every target fails, the reply says what each got; the last decides the status.
    h.mock.push_faults([fault(503)]);
    b.push_faults([fault(502)]);
    let (s, _, body) = h.chat(&chat_body("smart")).await;
    assert_eq!(s, 502);
    let msg = json(&body)["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        msg.starts_with("All 2 attempts failed (a/gpt-a: status 503; b/gpt-b: status 502). Last: "),
        "{msg}"
    );
}

#[tokio::test]
async fn loadbalance_follows_the_weights() {
    let (h, b) = start_routes(
        "  lb: {strategy: loadbalance, targets: [{model: a/gpt-a, weight: 3}, {model: b/gpt-b, weight: 1}]}\n",
    )
    .await;
    let n = 400;
    for _ in 0..n {
        assert_eq!(h.chat(&chat_body("lb")).await.0, 200);
    }
    let share = h.mock.requests().len() as f64 / n as f64;
    assert!((share - 0.75).abs() < 0.06, "share of a: {share}");
    assert_eq!(h.mock.requests().len() + b.requests().len(), n);
}

/// POST /v1/chat/completions with optional metadata and `x-team` headers.
async fn send_with(
    h: &Harness,
    meta: Option<&str>,
    team: Option<&str>,
    body: String,
) -> (http::StatusCode, http::HeaderMap, bytes::Bytes) {
    let mut headers = vec![
        ("authorization", "Bearer client-key-123"),
        ("content-type", "application/json"),
    ];
    if let Some(m) = meta {
        headers.push(("x-switchyard-metadata", m));
    }
    if let Some(t) = team {
        headers.push(("x-team", t));
    }
    collect(h.send("POST", "/v1/chat/completions", &headers, body).await).await
}

#[tokio::test]
async fn conditions_read_metadata_params_and_headers() {
    let (h, b) = start_routes(
        "  cond:\n    strategy: conditional\n    conditions:\n      - when: {metadata.tier: {$in: [pro, team]}}\n        then: {model: a/gpt-a}\n      - when: {$and: [{params.max_tokens: {$gte: 1000}}, {headers.x-team: blue}]}\n        then: {model: a/gpt-a, params: {max_tokens: 900}}\n    default: {model: b/gpt-b}\n",
    )
    .await;
    let (s, hd, _) = send_with(&h, Some(r#"{"tier":"pro"}"#), None, chat_body("cond")).await;
    assert_eq!(
        (s.as_u16(), hd["x-switchyard-target"].to_str().unwrap()),
        (200, "a/gpt-a")
    );
    let (_, hd, _) = send_with(&h, Some(r#"{"tier":"free"}"#), None, chat_body("cond")).await;
    assert_eq!(hd["x-switchyard-target"], "b/gpt-b");
    let big = format!(r#"{{"model":"cond","max_tokens":2000,{HI}}}"#);
    let (_, hd, _) = send_with(&h, None, Some("blue"), big.clone()).await;
    assert_eq!(hd["x-switchyard-target"], "a/gpt-a");
    // The branch's params override the caller's.
    let sent: Value = serde_json::from_str(&h.mock.requests().last().unwrap().body).unwrap();
    assert_eq!(sent["max_tokens"], 900);
    assert_eq!(sent["model"], "gpt-a");
    let (_, hd, _) = send_with(&h, None, Some("red"), big).await;
    assert_eq!(hd["x-switchyard-target"], "b/gpt-b");
    let (s, _, body) = send_with(&h, Some("[1]"), None, chat_body("cond")).await;
    assert_eq!(s, 400);
    assert!(String::from_utf8_lossy(&body).contains("x-switchyard-metadata"));
    assert_eq!(b.requests().len(), 2);
}

#[tokio::test]
async fn retries_back_off_honour_retry_after_and_stop_at_the_cap() {
    let (h, b) = start_routes(
        "  r:\n    targets:\n      - model: a/gpt-a\n        retry: {attempts: 2, backoff_ms: 1, retry_after_cap_ms: 2000}\n      - model: b/gpt-b\n",
    )
    .await;
    h.mock.push_faults([fault(503), fault(429)]);
    let (s, headers, _) = h.chat(&chat_body("r")).await;
    assert_eq!(s, 200);
    assert_eq!(headers["x-switchyard-target"], "a/gpt-a");
    assert_eq!(headers["x-switchyard-attempts"], "3");
    assert_eq!(h.mock.requests().len(), 3);

    // Retry-After is waited for...
    h.mock.push_faults([Fault {
        status: Some(429),
        retry_after: Some("1".into()),
        ..Fault::default()
    }]);
    let started = std::time::Instant::now();
    let (s, headers, _) = h.chat(&chat_body("r")).await;
    assert_eq!(
        (
            s.as_u16(),
            headers["x-switchyard-attempts"].to_str().unwrap()
        ),
        (200, "2")
    );
    assert!(started.elapsed() >= Duration::from_millis(900));
    // ...unless it is longer than the cap: then the next target answers at once.
    h.mock.push_faults([Fault {
        status: Some(429),
        retry_after: Some("60".into()),
        ..Fault::default()
    }]);
    let (s, headers, _) = h.chat(&chat_body("r")).await;
    assert_eq!(s, 200);
    assert_eq!(headers["x-switchyard-target"], "b/gpt-b");
    assert_eq!(b.requests().len(), 1);
}

#[tokio::test]
async fn an_empty_retry_budget_stops_retries() {
    let yaml = PROVIDERS.replace(
        "  routing_seed: 7\n",
        "  routing_seed: 7\n  retry_budget: {ratio: 0, min_per_sec: 0}\n",
    );
    let (h, _b) = start_two(&format!(
        "{yaml}routes:\n  r: {{model: a/gpt-a, retry: {{attempts: 3, backoff_ms: 1}}}}\n"
    ))
    .await;
    h.mock.push_faults([fault(503)]);
    let (s, _, _) = h.chat(&chat_body("r")).await;
    assert_eq!(s, 503);
    assert_eq!(h.mock.requests().len(), 1, "no retry without budget");
}

#[tokio::test]
async fn slow_first_byte_and_first_token_fail_over() {
    let (h, b) = start_routes(
        "  t:\n    targets:\n      - model: a/gpt-a\n        timeouts: {first_byte_ms: 150, first_token_ms: 150}\n      - model: b/gpt-b\n",
    )
    .await;
    h.mock.push_faults([Fault {
        latency_ms: Some(1000),
        ..Fault::default()
    }]);
    let (s, headers, _) = h.chat(&chat_body("t")).await;
    assert_eq!(s, 200);
    assert_eq!(headers["x-switchyard-target"], "b/gpt-b");
    // Headers come at once, the first event late: still nothing sent, so the next target serves.
    h.mock.push_faults([Fault {
        first_chunk_delay_ms: Some(1000),
        ..Fault::default()
    }]);
    let (s, headers, body) = h
        .chat(&format!(r#"{{"model":"t","stream":true,{HI}}}"#))
        .await;
    assert_eq!(s, 200);
    assert_eq!(headers["x-switchyard-target"], "b/gpt-b");
    let text: String = data_events(&body)
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello! This is the mock provider answering.");
    assert_eq!(b.requests().len(), 2);
    // A prompt first event passes the check and streams from the first target.
    let (_, headers, body) = h
        .chat(&format!(r#"{{"model":"t","stream":true,{HI}}}"#))
        .await;
    assert_eq!(headers["x-switchyard-target"], "a/gpt-a");
    assert_eq!(data_events(&body).last(), Some(&json!("[DONE]")));
}

#[tokio::test]
async fn no_attempt_after_the_caller_has_gone() {
    let (h, b) = start_routes(
        "  t:\n    targets:\n      - model: a/gpt-a\n        timeouts: {first_byte_ms: 600}\n      - model: b/gpt-b\n",
    )
    .await;
    h.mock.push_faults([Fault {
        latency_ms: Some(5000),
        ..Fault::default()
    }]);
    let req = h.send(
        "POST",
        "/v1/chat/completions",
        &[
            ("authorization", "Bearer client-key-123"),
            ("content-type", "application/json"),
        ],
        chat_body("t"),
    );
    // The caller gives up before the first target's timeout.
    assert!(tokio::time::timeout(Duration::from_millis(200), req)
        .await
        .is_err());
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(
        b.requests().len(),
        0,
        "the fallback target was never called"
    );
    assert!(eventually(|| h.mock.stats().requests_abandoned == 1).await);
}

#[tokio::test]
async fn a_route_in_a_header_and_its_errors() {
    let (h, b) = start_routes("  unused: {model: a/gpt-a}\n").await;
    let cfg = r#"{"strategy":"fallback","targets":[{"model":"a/gpt-a","params":{"temperature":0.1}},{"model":"b/gpt-b"}]}"#;
    h.mock.push_faults([fault(500)]);
    let resp = h
        .send(
            "POST",
            "/v1/chat/completions",
            &[
                ("authorization", "Bearer client-key-123"),
                ("content-type", "application/json"),
                ("x-switchyard-config", cfg),
            ],
            chat_body("anything"),
        )
        .await;
    let (s, headers, _) = collect(resp).await;
    assert_eq!(s, 200);
    assert_eq!(headers["x-switchyard-target"], "b/gpt-b");
    let first: Value = serde_json::from_str(&h.mock.requests()[0].body).unwrap();
    assert_eq!(first["temperature"], 0.1);
    assert_eq!(b.requests().len(), 1);
    for (bad, says) in [
        (
            r#"{"targets":[{"model":"nobody/x"}]}"#,
            "x-switchyard-config.targets[0].model",
        ),
        (r#"{"targets":[{"modle":"a/gpt-a"}]}"#, "modle"),
        ("not json", "x-switchyard-config"),
        (
            r#"[{"model":"a/gpt-a"}]"#,
            "x-switchyard-config: expected a route object (with model, route, targets or conditions), found a list",
        ),
        (
            r#"{"targets":["a/gpt-a"]}"#,
            "x-switchyard-config.targets[0]: expected a route object",
        ),
        (
            r#"{"strategy":7,"model":"a/gpt-a"}"#,
            "expected a name at strategy",
        ),
    ] {
        let resp = h
            .send(
                "POST",
                "/v1/chat/completions",
                &[
                    ("authorization", "Bearer client-key-123"),
                    ("content-type", "application/json"),
                    ("x-switchyard-config", bad),
                ],
                chat_body("x"),
            )
            .await;
        let (s, _, body) = collect(resp).await;
        assert_eq!(s, 400, "{bad}");
        let msg = json(&body)["error"]["message"].as_str().unwrap().to_owned();
        assert!(msg.contains(says), "{bad}: {msg}");
        assert!(!msg.contains("Raw") && !msg.contains("elements"), "{msg}");
    }
}

#[tokio::test]
async fn lowest_cost_least_busy_least_latency_and_sticky() {
    let (h, b) = start_routes(
        "  cheap: {strategy: lowest-cost, targets: [{model: a/gpt-a, price: {input: 5, output: 15}}, {model: b/gpt-b, price: {input: 0.5, output: 1.5}}]}\n  fast: {strategy: least-latency, targets: [{model: a/gpt-a}, {model: b/gpt-b}]}\n  sticky: {strategy: loadbalance, sticky: {key: metadata.user}, targets: [{model: a/gpt-a}, {model: b/gpt-b}]}\n",
    )
    .await;
    for _ in 0..3 {
        let (_, hd, _) = h.chat(&chat_body("cheap")).await;
        assert_eq!(hd["x-switchyard-target"], "b/gpt-b");
    }
    // a answers slowly: least-latency soon prefers b.
    h.mock.push_faults((0..40).map(|_| Fault {
        latency_ms: Some(60),
        ..Fault::default()
    }));
    let mut to_b = 0;
    for i in 0..40 {
        let (_, hd, _) = h.chat(&chat_body("fast")).await;
        if i >= 10 && hd["x-switchyard-target"] == "b/gpt-b" {
            to_b += 1;
        }
    }
    assert!(
        to_b >= 24,
        "after warm-up, {to_b}/30 went to the faster target"
    );
    // The same user stays on one target; users spread over both.
    let mut seen = std::collections::HashMap::new();
    for user in ["u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"] {
        for _ in 0..3 {
            let meta = format!(r#"{{"user":"{user}"}}"#);
            let resp = h
                .send(
                    "POST",
                    "/v1/chat/completions",
                    &[
                        ("authorization", "Bearer client-key-123"),
                        ("content-type", "application/json"),
                        ("x-switchyard-metadata", &meta),
                    ],
                    chat_body("sticky"),
                )
                .await;
            let (_, hd, _) = collect(resp).await;
            let t = hd["x-switchyard-target"].to_str().unwrap().to_owned();
            assert_eq!(
                seen.entry(user).or_insert_with(|| t.clone()),
                &t,
                "{user} moved"
            );
        }
    }
    let targets: std::collections::HashSet<_> = seen.values().collect();
    assert_eq!(targets.len(), 2, "users spread over both targets: {seen:?}");
    drop(b);
}

#[tokio::test]
async fn failing_targets_are_ejected_probed_and_visible_to_admins() {
    let yaml = PROVIDERS.replace(
        "  routing_seed: 7\n",
        "  routing_seed: 7\n  admin_keys: [{name: ops, key: admin-key-123}]\n  circuit: {consecutive_failures: 2, base_ejection_ms: 1500, max_ejected_percent: 100}\n",
    );
    let (h, b) = start_two(&format!(
        "{yaml}routes:\n  r: {{targets: [{{model: a/gpt-a}}, {{model: b/gpt-b}}]}}\n"
    ))
    .await;
    h.mock.push_faults([fault(503), fault(503)]);
    let ejected = std::time::Instant::now();
    for _ in 0..2 {
        let (_, hd, _) = h.chat(&chat_body("r")).await;
        assert_eq!(hd["x-switchyard-target"], "b/gpt-b");
    }
    assert_eq!(h.mock.requests().len(), 2);
    // Ejected: requests go straight to b, a sees nothing.
    let (_, hd, _) = h.chat(&chat_body("r")).await;
    assert_eq!(hd["x-switchyard-target"], "b/gpt-b");
    assert_eq!(hd["x-switchyard-attempts"], "1");
    assert_eq!(h.mock.requests().len(), 2);

    let admin = |path: &'static str, key: &'static str| {
        let h = &h;
        async move {
            collect(
                h.send("GET", path, &[("authorization", key)], bytes::Bytes::new())
                    .await,
            )
            .await
        }
    };
    let (s, _, _) = admin("/admin/health", "Bearer client-key-123").await;
    assert_eq!(s, 401, "client keys are not admin keys");
    let (s, _, body) = admin("/admin/health", "Bearer admin-key-123").await;
    assert_eq!(s, 200);
    let v = json(&body);
    let a = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["target"] == "a/gpt-a")
        .unwrap()
        .clone();
    assert_eq!(a["state"], "open");
    assert_eq!(a["failures"], 2);
    let (s, _, metrics) = admin("/metrics", "Bearer admin-key-123").await;
    assert_eq!(s, 200);
    let text = String::from_utf8_lossy(&metrics);
    assert!(
        text.contains("switchyard_target_up{target=\"a/gpt-a\"} 0"),
        "{text}"
    );
    assert!(
        text.contains("switchyard_target_up{target=\"b/gpt-b\"} 1"),
        "{text}"
    );

    // After the ejection (not before) a probe goes to a; it succeeds and a is back.
    let probed = loop {
        let (_, hd, _) = h.chat(&chat_body("r")).await;
        if hd["x-switchyard-target"] == "a/gpt-a" {
            break ejected.elapsed();
        }
        assert!(ejected.elapsed() < Duration::from_secs(20), "never probed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(probed >= Duration::from_millis(1500), "{probed:?}");
    let (_, _, body) = admin("/admin/health", "Bearer admin-key-123").await;
    assert!(json(&body)["targets"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["state"] == "closed"));

    // A 429 with Retry-After cools a down for that long, without a failure streak (long enough
    // that a slow machine cannot see the cool-down end between the two requests).
    h.mock.push_faults([Fault {
        status: Some(429),
        retry_after: Some("5".into()),
        ..Fault::default()
    }]);
    let (_, hd, _) = h.chat(&chat_body("r")).await;
    assert_eq!(hd["x-switchyard-target"], "b/gpt-b");
    let before = h.mock.requests().len();
    let (_, hd, _) = h.chat(&chat_body("r")).await;
    assert_eq!(hd["x-switchyard-target"], "b/gpt-b");
    assert_eq!(h.mock.requests().len(), before, "cooling down");
    drop(b);
}

#[tokio::test]
async fn models_carry_catalog_prices_limits_and_capabilities() {
    let (h, _b) = start_routes(
        "  smart: {model: a/gpt-a}\ncatalog:\n  openai/gpt-a: {input: 0.5, output: 1.5, cached_input: 0.05, context_window: 1000, capabilities: [chat, tools]}\n",
    )
    .await;
    let resp = h
        .send("GET", "/v1/models", &[("x-api-key", "client-key-123")], "")
        .await;
    let (s, _, body) = collect(resp).await;
    assert_eq!(s, 200);
    let v = json(&body);
    let find = |id: &str| {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .cloned()
            .unwrap()
    };
    let a = find("a/gpt-a");
    assert_eq!(a["pricing"]["input"], 0.5);
    assert_eq!(a["pricing"]["output"], 1.5);
    assert_eq!(a["pricing"]["cached_input"], 0.05);
    assert_eq!(a["context_window"], 1000);
    assert_eq!(a["capabilities"], json!(["chat", "tools"]));
    assert_eq!(find("gpt-a")["pricing"]["input"], 0.5);
    // Unknown to the catalog: OpenAI's fields only.
    let b = find("b/gpt-b");
    assert!(
        b.get("pricing").is_none() && b.get("context_window").is_none(),
        "{b}"
    );
    assert!(find("smart").get("pricing").is_none());
    let (_, _, one) = collect(
        h.send(
            "GET",
            "/v1/models/a/gpt-a",
            &[("x-api-key", "client-key-123")],
            "",
        )
        .await,
    )
    .await;
    assert_eq!(json(&one)["pricing"]["output"], 1.5);
}

#[tokio::test]
async fn compare_fans_a_request_out_to_several_models() {
    let (h, b) = start_routes(
        "  smart: {targets: [{model: a/gpt-a}, {model: b/gpt-b}]}\ncatalog:\n  openai/gpt-b: {input: 1, output: 2}\n",
    )
    .await;
    // Both models take 1.5 s: one after the other would take 3 s.
    b.push_faults([Fault {
        latency_ms: Some(1500),
        ..Fault::default()
    }]);
    h.mock.push_faults([Fault {
        latency_ms: Some(1500),
        ..fault(500)
    }]);
    let started = std::time::Instant::now();
    let (s, _, body) = h
        .post(
            "/v1/compare",
            &format!(r#"{{"models":["a/gpt-a","b/gpt-b","nobody/x"],"max_tokens":5,{HI}}}"#),
        )
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
    let v = json(&body);
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 3);
    assert_eq!(
        (r[0]["model"].as_str(), r[0]["status"].as_u64()),
        (Some("a/gpt-a"), Some(500))
    );
    assert!(r[0]["error"]["message"].is_string());
    assert_eq!(r[1]["status"], 200);
    assert_eq!(r[1]["target"], "b/gpt-b");
    assert_eq!(
        r[1]["response"]["choices"][0]["message"]["content"],
        "Hello! This is the mock provider answering."
    );
    assert!(r[1]["usage"]["completion_tokens"].as_u64().unwrap() > 0);
    assert!(r[1]["latency_ms"].as_f64().unwrap() >= 1500.0);
    // Priced by the catalog entry from config: $1 and $2 per million tokens.
    let u = &r[1]["usage"];
    let expected = (u["prompt_tokens"].as_f64().unwrap()
        + 2.0 * u["completion_tokens"].as_f64().unwrap())
        / 1e6;
    assert!((r[1]["cost_usd"].as_f64().unwrap() - expected).abs() < 1e-15);
    assert!(r[0]["cost_usd"].is_null());
    assert_eq!(r[2]["status"], 404);
    // Concurrently: together they took about as long as one (sequentially at least 3 s; the
    // margin is the 1.5 s a loaded machine may add).
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_millis(2900),
        "{took:?}"
    );
    let sent: Value = serde_json::from_str(&b.requests()[0].body).unwrap();
    assert_eq!(
        (sent["model"].as_str(), sent["max_tokens"].as_u64()),
        (Some("gpt-b"), Some(5))
    );
    assert!(sent.get("models").is_none());

    for (bad, param) in [
        (format!(r#"{{"models":[],{HI}}}"#), "models"),
        (
            format!(r#"{{"models":["a/gpt-a"],"stream":true,{HI}}}"#),
            "stream",
        ),
        (format!(r#"{{"model":"a/gpt-a",{HI}}}"#), "model"),
    ] {
        let (s, _, body) = h.post("/v1/compare", &bad).await;
        assert_eq!(s, 400);
        assert_eq!(json(&body)["error"]["param"], param);
    }
    let resp = h
        .send(
            "POST",
            "/v1/compare",
            &[("content-type", "application/json")],
            format!(r#"{{"models":["a/gpt-a"],{HI}}}"#),
        )
        .await;
    assert_eq!(collect(resp).await.0, 401);
}

#[tokio::test]
async fn every_timeout_kind_and_nested_trees() {
    // A provider nobody listens on: connecting fails, and the nested tree moves on.
    let yaml = PROVIDERS.replace(
        "client_keys:",
        "  - {name: dead, base_url: 'http://127.0.0.1:9/v1', api_key: kd, models: [gpt-dead]}\nclient_keys:",
    );
    let (h, b) = start_two(&format!(
        "{yaml}routes:\n  nested:\n    targets:\n      - strategy: loadbalance\n        targets: [{{model: dead/gpt-dead, timeouts: {{connect_ms: 200}}}}]\n      - strategy: fallback\n        timeouts: {{total_ms: 150}}\n        targets: [{{model: a/gpt-a}}]\n      - {{model: b/gpt-b, timeouts: {{idle_ms: 150}}}}\n"
    ))
    .await;
    // dead: connection refused; a: past the 150 ms total; b answers.
    h.mock.push_faults([Fault {
        latency_ms: Some(1000),
        ..Fault::default()
    }]);
    let (s, headers, body) = h.chat(&chat_body("nested")).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["x-switchyard-target"], "b/gpt-b");
    assert_eq!(headers["x-switchyard-attempts"], "3");

    // Once a stream has started, an idle gap past idle_ms ends it with an error event: no
    // fallback, no silent truncation.
    h.mock.push_faults([Fault {
        status: Some(500),
        ..Fault::default()
    }]);
    b.push_faults([Fault {
        chunk_delay_ms: Some(600),
        ..Fault::default()
    }]);
    let (s, headers, body) = h
        .chat(&format!(r#"{{"model":"nested","stream":true,{HI}}}"#))
        .await;
    assert_eq!(s, 200);
    assert_eq!(headers["x-switchyard-target"], "b/gpt-b");
    let ev = data_events(&body);
    let last = ev.last().unwrap();
    assert!(
        last["error"]["message"]
            .as_str()
            .unwrap()
            .contains("idle timeout"),
        "{last}"
    );
    assert!(!ev.contains(&json!("[DONE]")));
}

#[tokio::test]
async fn an_exhausted_quota_takes_a_target_out_and_health_lists_targets_from_the_start() {
    let yaml = PROVIDERS.replace(
        "  routing_seed: 7\n",
        "  routing_seed: 7\n  admin_keys: [{name: ops, key: admin-key-123}]\n  circuit: {max_ejected_percent: 100}\n",
    );
    let (h, b) = start_two(&format!(
        "{yaml}routes:\n  r: {{targets: [{{model: a/gpt-a}}, {{model: b/gpt-b}}]}}\n"
    ))
    .await;
    let health = || async {
        let resp = h
            .send(
                "GET",
                "/admin/health",
                &[("authorization", "Bearer admin-key-123")],
                bytes::Bytes::new(),
            )
            .await;
        json(&collect(resp).await.2)
    };
    let v = health().await;
    let listed: Vec<&str> = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["target"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["a/gpt-a", "b/gpt-b"], "listed before any request");

    h.mock.push_faults([Fault {
        status: Some(429),
        body: Some(
            json!({"error": {"message": "You exceeded your current quota, please check your plan.",
            "type": "insufficient_quota", "code": "insufficient_quota"}}),
        ),
        ..Fault::default()
    }]);
    let (_, hd, _) = h.chat(&chat_body("r")).await;
    assert_eq!(hd["x-switchyard-target"], "b/gpt-b");
    for _ in 0..3 {
        let (_, hd, _) = h.chat(&chat_body("r")).await;
        assert_eq!(hd["x-switchyard-target"], "b/gpt-b");
    }
    assert_eq!(
        h.mock.requests().len(),
        1,
        "the quota-less target is left alone"
    );
    let v = health().await;
    let a = &v["targets"][0];
    assert_eq!(a["state"], "open");
    assert!(a["ejected_for_ms"].as_u64().unwrap() > 200_000);
    drop(b);
}

#[tokio::test]
async fn a_route_sets_the_field_policy_and_a_callers_tree_can_only_tighten_it() {
    let (h, _b) = start_routes(
        "  strict: {model: a/gpt-a, field_policy: strict}\n  loose: {model: a/gpt-a, field_policy: lenient}\n",
    )
    .await;
    // Responses through chat at provider a (an OpenAI-compatible host without a preset).
    let body = |model: &str, extra: &str| {
        format!(r#"{{"model":"{model}","input":"Hi","client_metadata":{{"t":"1"}}{extra}}}"#)
    };
    let post = |model: String, cfg: Option<&'static str>| {
        let h = &h;
        async move {
            let mut headers = vec![
                ("authorization", "Bearer client-key-123"),
                ("content-type", "application/json"),
            ];
            if let Some(c) = cfg {
                headers.push(("x-switchyard-config", c));
            }
            collect(h.send("POST", "/v1/responses", &headers, model).await).await
        }
    };
    // The provider's default: the advisory field is left out and named.
    let (s, hd, _) = post(body("a/gpt-a", ""), None).await;
    assert_eq!(s, 200);
    assert_eq!(hd["x-switchyard-dropped-params"], "client_metadata");
    // The route's strict policy refuses it.
    let (s, _, b) = post(body("strict", ""), None).await;
    assert_eq!(s, 400);
    assert_eq!(json(&b)["error"]["param"], "client_metadata");
    // The route's lenient policy also leaves out contract fields.
    let (s, hd, _) = post(body("loose", r#","background":true"#), None).await;
    assert_eq!(s, 200);
    assert_eq!(
        hd["x-switchyard-dropped-params"],
        "background,client_metadata"
    );
    // A caller's own tree can make it stricter, never looser.
    let strict = r#"{"model":"a/gpt-a","field_policy":"strict"}"#;
    let (s, _, _) = post(body("a/gpt-a", ""), Some(strict)).await;
    assert_eq!(s, 400);
    let lenient = r#"{"model":"a/gpt-a","field_policy":"lenient"}"#;
    let (s, _, b) = post(body("a/gpt-a", r#","background":true"#), Some(lenient)).await;
    assert_eq!(s, 400, "{}", String::from_utf8_lossy(&b));
    assert_eq!(json(&b)["error"]["param"], "background");
}
