//! Limits on the request path (`limits:` in the config, the in-memory store): request rates
//! with exact Retry-After, token budgets reserved at admission and settled with what the
//! provider reported, concurrency, refusals in each caller's shape, and OpenAI's
//! `x-ratelimit-*` headers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::*;

fn yaml(rules: &str) -> String {
    format!(
        "server:\n  discover_env: false\nproviders:\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\nclient_keys:\n  - name: test\n    key: {KEY}\nlimits:\n  rules:\n{rules}"
    )
}

async fn chat(h: &Harness, body: &Value) -> (u16, http::HeaderMap, Value) {
    let auth = format!("Bearer {KEY}");
    let (s, headers, b) = h
        .request(
            "POST",
            "/v1/chat/completions",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body.to_string(),
        )
        .await;
    (
        s,
        headers,
        serde_json::from_slice(&b).unwrap_or(Value::Null),
    )
}

fn hi(max_tokens: u64) -> Value {
    json!({"model": "openai/gpt-4o-mini", "max_tokens": max_tokens,
        "messages": [{"role": "user", "content": "hello there"}]})
}

fn header(h: &http::HeaderMap, name: &str) -> String {
    h.get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_request_rate_refuses_past_its_limit_with_an_exact_retry_after() {
    let h = start_with(
        &yaml("    - {id: key-rpm, scope: \"key:test\", dimension: requests, amount: 2, window: minute}\n"),
        axum::Router::new(),
    )
    .await;
    let (s, headers, _) = chat(&h, &hi(8)).await;
    assert_eq!(s, 200);
    assert_eq!(header(&headers, "x-ratelimit-limit-requests"), "2");
    assert_eq!(header(&headers, "x-ratelimit-remaining-requests"), "1");
    assert_eq!(header(&headers, "x-ratelimit-reset-requests"), "30s");
    assert_eq!(chat(&h, &hi(8)).await.0, 200);
    let (s, headers, body) = chat(&h, &hi(8)).await;
    assert_eq!(s, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    assert_eq!(body["error"]["type"], "requests");
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("Rate limit 'key-rpm' reached: 2 requests per minute for key test."),
        "{msg}"
    );
    // The next request fits in 30 s less the time since the first: within a second of it.
    let secs: u64 = header(&headers, "retry-after").parse().unwrap();
    let ms: u64 = header(&headers, "retry-after-ms").parse().unwrap();
    assert!(secs == 30 || secs == 29, "{secs}");
    assert!((29_000..=30_000).contains(&ms), "{ms}");
    assert_eq!(header(&headers, "x-ratelimit-remaining-requests"), "0");
    // Requests the limit refused never reached the provider.
    let served = h
        .mock
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .count();
    assert_eq!(served, 2);
}

#[tokio::test]
async fn a_token_budget_charges_what_the_provider_reported_and_refuses_in_each_shape() {
    let h = start_with(
        &yaml("    - {id: monthly-tokens, scope: org, dimension: total_tokens, amount: 400, window: month}\n"),
        axum::Router::new(),
    )
    .await;
    let body = hi(20);
    let est = body.to_string().len().div_ceil(3) as i64 + 20;
    let (s, headers, first) = chat(&h, &body).await;
    assert_eq!(s, 200);
    assert_eq!(
        header(&headers, "x-ratelimit-remaining-tokens"),
        (400 - est).to_string()
    );
    let used = first["usage"]["total_tokens"].as_i64().unwrap();
    // The settlement lands off the request path; the next admission sees it.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let (_, headers, _) = chat(&h, &body).await;
    assert_eq!(
        header(&headers, "x-ratelimit-remaining-tokens"),
        (400 - used - est).to_string()
    );
    // Spend until the budget cannot hold another worst case: a 402 naming it.
    let mut refused = None;
    for _ in 0..20 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let (s, headers, b) = chat(&h, &body).await;
        if s != 200 {
            refused = Some((s, headers, b));
            break;
        }
    }
    let (s, headers, b) = refused.expect("the budget ran out");
    assert_eq!(s, 402, "{b}");
    assert_eq!(b["error"]["code"], "insufficient_quota");
    assert_eq!(b["error"]["type"], "insufficient_quota");
    let msg = b["error"]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("Budget 'monthly-tokens' is used up: 400 tokens per month for the organisation. It resets in "),
        "{msg}"
    );
    assert!(headers.get("retry-after").is_none());
    // Anthropic's callers get Anthropic's shape.
    let (s, _, b) = h
        .request(
            "POST",
            "/v1/messages",
            &[
                ("x-api-key", KEY),
                ("content-type", "application/json"),
                ("anthropic-version", "2023-06-01"),
            ],
            r#"{"model":"openai/gpt-4o-mini","max_tokens":20,"messages":[{"role":"user","content":"hello there"}]}"#,
        )
        .await;
    let b: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(s, 402, "{b}");
    assert_eq!(b["type"], "error");
    assert_eq!(b["error"]["type"], "billing_error");
}

#[tokio::test]
async fn concurrency_is_held_until_the_answer_ends() {
    let h = start_with(
        &yaml("    - {id: one-at-a-time, scope: \"key:*\", dimension: concurrent, amount: 1}\n"),
        axum::Router::new(),
    )
    .await;
    let slow = json!({"model": "openai/gpt-4o-mini", "stream": true,
        "messages": [{"role": "user", "content": "hi"}],
        "mock": {"chunks": 5, "chunk_delay_ms": 100}});
    let auth = format!("Bearer {KEY}");
    let resp = h
        .send(
            "POST",
            "/v1/chat/completions",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            slow.to_string(),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let (s, _, b) = chat(&h, &hi(8)).await;
    assert_eq!(s, 429, "{b}");
    assert!(b["error"]["message"]
        .as_str()
        .unwrap()
        .contains("requests at once"));
    let _ = collect(resp).await;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(chat(&h, &hi(8)).await.0, 200);
}

#[tokio::test]
async fn shadow_limits_count_and_never_refuse() {
    let h = start_with(
        &yaml("    - {id: shadow-rpm, scope: org, dimension: requests, amount: 1, window: minute, mode: shadow}\n"),
        axum::Router::new(),
    )
    .await;
    for _ in 0..3 {
        let (s, headers, _) = chat(&h, &hi(8)).await;
        assert_eq!(s, 200);
        assert_eq!(header(&headers, "x-ratelimit-limit-requests"), "1");
    }
}

fn redis_yaml(prefix: &str, rules: &str, url: &str) -> String {
    format!(
        "{}  redis_url: {url}\n  redis_prefix: \"{prefix}\"\n",
        yaml(rules)
    )
}

/// Two gateways counting in the same Redis: a key's 5 requests a minute hold across both.
#[tokio::test]
async fn two_gateways_sharing_redis_hold_one_limit_between_them() {
    let prefix = format!("sy-gw-{:016x}:", fastrand::u64(..));
    let rules =
        "    - {id: rpm, scope: \"key:test\", dimension: requests, amount: 5, window: minute}\n";
    let cfg = redis_yaml(&prefix, rules, "redis://127.0.0.1:6379/");
    let a = start_with(&cfg, axum::Router::new()).await;
    let b = start_with(&cfg, axum::Router::new()).await;
    let mut admitted = 0;
    for i in 0..12 {
        let h = if i % 2 == 0 { &a } else { &b };
        let (s, headers, body) = chat(h, &hi(8)).await;
        match s {
            200 => admitted += 1,
            429 => assert!(
                header(&headers, "retry-after").parse::<u64>().unwrap() >= 1,
                "{body}"
            ),
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(admitted, 5);
}

/// Redis down: a cost or token limit refuses (503, fails closed), a request rate lets requests
/// through, and the failures are counted.
#[tokio::test]
async fn with_redis_down_spend_limits_fail_closed_and_rates_open() {
    let tokens =
        "    - {id: tokens, scope: org, dimension: total_tokens, amount: 100000, window: month}\n";
    let h = start_with(
        &redis_yaml("x:", tokens, "redis://127.0.0.1:1/"),
        axum::Router::new(),
    )
    .await;
    let (s, headers, body) = chat(&h, &hi(8)).await;
    assert_eq!(s, 503, "{body}");
    assert_eq!(body["error"]["code"], "limits_unavailable");
    assert_eq!(header(&headers, "retry-after"), "1");
    let rpm = "    - {id: rpm, scope: org, dimension: requests, amount: 1, window: minute}\n";
    let h = start_with(
        &redis_yaml("x:", rpm, "redis://127.0.0.1:1/"),
        axum::Router::new(),
    )
    .await;
    for _ in 0..3 {
        assert_eq!(chat(&h, &hi(8)).await.0, 200);
    }
    assert!(
        h.server
            .state()
            .limit_store_errors
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 1
    );
}

const ADMIN: &str = "admin-key-limits-1";

fn admin_yaml() -> String {
    format!(
        "server:\n  discover_env: false\n  admin_keys:\n    - name: root\n      key: {ADMIN}\nproviders:\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\nclient_keys:\n  - name: test\n    key: {KEY}\nlimits:\n  rules:\n    - {{id: from-config, scope: org, dimension: requests, amount: 1000, window: minute}}\n"
    )
}

/// Limits set through the admin API apply to requests at once, report their state, change and
/// go away; each change is audited; the config's limits are listed and cannot be changed here.
#[tokio::test]
async fn limits_set_through_the_admin_api_apply_and_report_their_state() {
    let h = start_with(&admin_yaml(), axum::Router::new()).await;
    let (s, made) = h
        .json_as(
            ADMIN,
            "POST",
            "/admin/v1/limits",
            json!({"id": "key-day", "scope": "key:test", "dimension": "total_tokens",
                "amount": 10000, "window": "calendar_day"}),
        )
        .await;
    assert_eq!(s, 201, "{made}");
    assert_eq!(
        (made["source"].as_str(), made["object"].as_str()),
        (Some("api"), Some("limit"))
    );
    let (_, _, answer) = chat(&h, &hi(16)).await;
    let first = answer["usage"]["total_tokens"].as_i64().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let (s, one) = h
        .json_as(ADMIN, "GET", "/admin/v1/limits/key-day", Value::Null)
        .await;
    assert_eq!(s, 200, "{one}");
    assert_eq!(one["state"]["used"].as_i64(), Some(first));
    assert_eq!(one["state"]["reserved"].as_i64(), Some(0));
    assert_eq!(one["state"]["remaining"].as_i64(), Some(10000 - first));
    assert!(one["state"]["resets_in_ms"].as_i64().unwrap() > 0);
    // Lowered below what was used: the next request is refused with a 402 naming it.
    let (s, changed) = h
        .json_as(
            ADMIN,
            "PATCH",
            "/admin/v1/limits/key-day",
            json!({"amount": 10}),
        )
        .await;
    assert_eq!(s, 200, "{changed}");
    let (s, _, b) = chat(&h, &hi(16)).await;
    assert_eq!(s, 402, "{b}");
    assert!(b["error"]["message"]
        .as_str()
        .unwrap()
        .contains("'key-day'"));
    let (s, list) = h
        .json_as(ADMIN, "GET", "/admin/v1/limits", Value::Null)
        .await;
    assert_eq!(s, 200);
    let ids: Vec<(&str, &str)> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["id"].as_str().unwrap(), l["source"].as_str().unwrap()))
        .collect();
    assert_eq!(ids, [("from-config", "config"), ("key-day", "api")]);
    let (s, _) = h
        .json_as(
            ADMIN,
            "PATCH",
            "/admin/v1/limits/from-config",
            json!({"amount": 1}),
        )
        .await;
    assert_eq!(s, 409);
    // Bad specs name the field.
    let (s, e) = h
        .json_as(
            ADMIN,
            "POST",
            "/admin/v1/limits",
            json!({"id": "x", "scope": "team:ml", "dimension": "requests", "amount": 1}),
        )
        .await;
    assert_eq!((s, e["error"]["param"].as_str()), (400, Some("scope")));
    let (s, _) = h
        .json_as(ADMIN, "DELETE", "/admin/v1/limits/key-day", Value::Null)
        .await;
    assert_eq!(s, 200);
    assert_eq!(chat(&h, &hi(16)).await.0, 200);
    let (_, audit) = h
        .json_as(ADMIN, "GET", "/admin/v1/audit?limit=10", Value::Null)
        .await;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        &actions[..3],
        ["limit.delete", "limit.update", "limit.create"]
    );
}

/// The single binary keeps its budgets in the embedded database: a restart does not reset
/// what a month's budget has used.
#[tokio::test]
async fn a_restart_keeps_what_a_budget_used() {
    let db = temp_path("db");
    let cfg = yaml(
        "    - {id: monthly, scope: org, dimension: total_tokens, amount: 100000, window: month}\n",
    )
    .replace(
        "server:\n  discover_env: false\n",
        &format!(
            "server:\n  discover_env: false\n  tenants:\n    sqlite_path: \"{}\"\n",
            db.display()
        ),
    );
    let h = start_with(&cfg, axum::Router::new()).await;
    let (_, _, answer) = chat(&h, &hi(16)).await;
    let used = answer["usage"]["total_tokens"].as_i64().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert!(h.server.shutdown().await);
    let again = start_with(&cfg, axum::Router::new()).await;
    let body = hi(16);
    let est = body.to_string().len().div_ceil(3) as i64 + 16;
    let (s, headers, _) = chat(&again, &body).await;
    assert_eq!(s, 200);
    assert_eq!(
        header(&headers, "x-ratelimit-remaining-tokens"),
        (100_000 - used - est).to_string()
    );
}

/// A budget crossing its thresholds raises each alert once: to the webhook, and in the metric.
#[tokio::test]
async fn a_budget_alerts_once_per_threshold_through_the_webhook() {
    use std::sync::{Arc, Mutex};
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/alerts",
        axum::routing::post(move |axum::Json(v): axum::Json<Value>| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(v);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/alerts", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let cfg = format!(
        "{}  alerts:\n    thresholds: [5, 10]\n    webhook_url: {hook}\n",
        yaml("    - {id: monthly, scope: \"key:test\", dimension: total_tokens, amount: 1000, window: month}\n")
    );
    let h = start_with(&cfg, axum::Router::new()).await;
    for _ in 0..8 {
        assert_eq!(chat(&h, &hi(16)).await.0, 200);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let alerts = got.lock().unwrap().clone();
    let mut thresholds: Vec<u64> = alerts
        .iter()
        .map(|a| a["threshold_percent"].as_u64().unwrap())
        .collect();
    thresholds.sort_unstable();
    assert_eq!(thresholds, [5, 10], "{alerts:?}");
    let a = &alerts[0];
    assert_eq!(
        (a["type"].as_str(), a["limit"].as_str()),
        (Some("budget.threshold"), Some("monthly"))
    );
    assert_eq!(a["scope"], "key:test");
    assert_eq!(a["amount"], 1000);
    let auth = format!("Bearer {KEY}");
    let _ = auth;
    assert_eq!(
        h.server
            .state()
            .alerts
            .raised
            .load(std::sync::atomic::Ordering::Relaxed),
        2
    );
}

/// `/v1/compare` runs count against the caller's limits like any request.
#[tokio::test]
async fn comparisons_count_against_the_callers_limits() {
    let h = start_with(
        &yaml("    - {id: one, scope: \"key:test\", dimension: requests, amount: 1, window: minute}\n"),
        axum::Router::new(),
    )
    .await;
    let auth = format!("Bearer {KEY}");
    let (s, _, b) = h
        .request(
            "POST",
            "/v1/compare",
            &[("authorization", &auth), ("content-type", "application/json")],
            r#"{"models":["openai/gpt-4o-mini","openai/gpt-4.1-nano"],"messages":[{"role":"user","content":"hi"}]}"#,
        )
        .await;
    assert_eq!(s, 200);
    let v: Value = serde_json::from_slice(&b).unwrap();
    let mut statuses: Vec<u64> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 429], "{v}");
}

/// A model the catalog does not price is visible: flagged in its record (and found by the
/// `unpriced` filter), counted in a metric; a cost limit counts its tokens only by default and
/// refuses it when set to `deny`.
#[tokio::test]
async fn an_unpriced_model_is_flagged_in_its_record_and_treated_as_configured() {
    let rules = "    - {id: spend, scope: org, dimension: cost_usd, amount: 10, window: month}\n";
    let with_admin = |extra: &str| {
        admin_yaml().replace(
            "limits:\n  rules:\n    - {id: from-config, scope: org, dimension: requests, amount: 1000, window: minute}\n",
            &format!("limits:\n{extra}  rules:\n{rules}"),
        )
    };
    let h = start_with(&with_admin(""), axum::Router::new()).await;
    let mut house = hi(16);
    house["model"] = json!("openai/house-model-7");
    let (s, _, b) = chat(&h, &house).await;
    assert_eq!(s, 200, "{b}");
    let (s, _, _) = chat(&h, &hi(16)).await;
    assert_eq!(s, 200);
    let flagged = logs_when(&h, ADMIN, "unpriced=true", 1).await;
    assert_eq!(flagged.len(), 1, "{flagged:?}");
    let r = &flagged[0];
    assert_eq!(r["model"], "house-model-7");
    assert_eq!(r["unpriced"], true);
    assert_eq!(r["cost_usd"], Value::Null);
    assert!(r["input_tokens"].as_i64().unwrap() > 0);
    let priced = logs_when(&h, ADMIN, "unpriced=false", 1).await;
    assert_eq!(priced[0]["model"], "gpt-4o-mini");
    assert!(priced[0]["cost_usd"].as_f64().unwrap() > 0.0);
    let (_, _, m) = h
        .request(
            "GET",
            "/metrics",
            &[("authorization", &format!("Bearer {ADMIN}"))],
            "",
        )
        .await;
    let m = String::from_utf8_lossy(&m);
    assert!(
        m.lines()
            .any(|l| l.starts_with("switchyard_unpriced_requests_total") && l.ends_with(" 1")),
        "{m}"
    );
    // A bad filter value is a 400 naming it.
    let (s, _, b) = h
        .request(
            "GET",
            "/admin/v1/logs?unpriced=maybe",
            &[("authorization", &format!("Bearer {ADMIN}"))],
            "",
        )
        .await;
    assert_eq!(s, 400);
    assert!(String::from_utf8_lossy(&b).contains("unpriced must be true or false"));

    let deny = start_with(&with_admin("  unpriced: deny\n"), axum::Router::new()).await;
    let (s, _, b) = chat(&deny, &house).await;
    assert_eq!(s, 402, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("has no price in the catalog"),
        "{b}"
    );
    let (s, _, _) = chat(&deny, &hi(16)).await;
    assert_eq!(s, 200);
}

/// Sends `body` as a stream to `path`, reads its first frame and goes away.
async fn cut_after_first_frame(h: &Harness, path: &str, body: &Value) {
    use http_body_util::BodyExt;
    let auth = format!("Bearer {KEY}");
    let resp = h
        .send(
            "POST",
            path,
            &[
                ("authorization", &auth),
                ("x-api-key", KEY),
                ("anthropic-version", "2023-06-01"),
                ("content-type", "application/json"),
            ],
            body.to_string(),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let mut b = resp.into_body();
    let first = b.frame().await.unwrap().unwrap();
    assert!(first.is_data());
    drop(b);
}

/// A stream its caller leaves is charged what it may have used at most: its whole reservation
/// when no usage came (OpenAI's usage comes last), and no less than that when a partial reading
/// came (Anthropic's `message_start` counts the input and one output token); the input that
/// reading reports is charged where it is more than the estimate.
#[tokio::test]
async fn a_stream_its_caller_leaves_is_charged_at_least_its_reservation() {
    let rules =
        "    - {id: tokens, scope: org, dimension: total_tokens, amount: 1000000, window: month}\n";
    let yaml = format!(
        "server:\n  discover_env: false\nproviders:\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\n  - name: anthropic\n    base_url: ${{MOCK_ROOT}}\n    api_key: sk-ant\nclient_keys:\n  - name: test\n    key: {KEY}\nlimits:\n  rules:\n{rules}"
    );
    let h = start_with(&yaml, axum::Router::new()).await;
    let remaining = |headers: &http::HeaderMap| -> i64 {
        header(headers, "x-ratelimit-remaining-tokens")
            .parse()
            .unwrap()
    };
    let probe = hi(10);
    let probe_est = probe.to_string().len().div_ceil(3) as i64 + 10;
    let (_, headers, _) = chat(&h, &probe).await;
    let mut before = remaining(&headers) + probe_est;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let (_, headers, answer) = chat(&h, &probe).await;
    assert_eq!(
        remaining(&headers) + probe_est,
        before - answer["usage"]["total_tokens"].as_i64().unwrap()
    );
    before = remaining(&headers) + probe_est - answer["usage"]["total_tokens"].as_i64().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;

    // OpenAI's stream, left after its first chunk: no usage came, the reservation is charged.
    let openai = json!({"model": "openai/gpt-4o-mini", "stream": true, "max_tokens": 300,
        "messages": [{"role": "user", "content": "tell me a long story"}],
        "mock": {"chunks": 30, "chunk_delay_ms": 50}});
    let reserved = openai.to_string().len().div_ceil(3) as i64 + 300;
    cut_after_first_frame(&h, "/v1/chat/completions", &openai).await;
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let (_, headers, answer) = chat(&h, &probe).await;
    assert_eq!(remaining(&headers) + probe_est, before - reserved);
    before -= reserved + answer["usage"]["total_tokens"].as_i64().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;

    // Anthropic's stream, left after `message_start` (input 5000, output 1): the input read and
    // the output reserved are charged.
    let anthropic = json!({"model": "anthropic/claude-3-5-haiku-latest", "stream": true,
        "max_tokens": 200, "messages": [{"role": "user", "content": "tell me a long story"}],
        "mock": {"chunks": 30, "chunk_delay_ms": 50, "usage": {"input_tokens": 5000}}});
    let est_in = anthropic.to_string().len().div_ceil(3) as i64;
    assert!(est_in < 5000);
    cut_after_first_frame(&h, "/v1/messages", &anthropic).await;
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let (_, headers, _) = chat(&h, &probe).await;
    assert_eq!(remaining(&headers) + probe_est, before - (5000 + 200));
}
