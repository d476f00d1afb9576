//! The request log, metrics and analytics through the real gateway: records for plain, streamed,
//! failed, retried and translated requests, cost for each token kind, every filter, group-by and
//! export, feedback, shedding under a stalled store, flush at shutdown, and the Postgres store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::*;
use switchyard_mock::Fault;

const ADMIN: &str = "Bearer admin-key-1";

/// OpenAI at the mock (preset prices apply), Anthropic at the same mock, a retrying route.
fn yaml(extra_server: &str) -> String {
    format!(
        "server:\n  discover_env: false\n  admin_keys: [{{name: ops, key: admin-key-1}}]\n{extra_server}providers:\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\n    timeouts: {{ idle_ms: 2000 }}\n  - name: anthropic\n    base_url: ${{MOCK_ROOT}}\n    api_key: sk-ant\nclient_keys:\n  - name: alice\n    key: {KEY}\n  - name: bob\n    key: bob-key-123\nroutes:\n  retried:\n    model: openai/gpt-6-sol\n    retry: {{attempts: 2, backoff_ms: 1}}\n"
    )
}

async fn admin_get(h: &Harness, path: &str) -> (http::StatusCode, bytes::Bytes) {
    let resp = h.send("GET", path, &[("authorization", ADMIN)], "").await;
    let (s, _, b) = collect(resp).await;
    (s, b)
}

/// Waits until the log holds `n` records matching `query`, and returns them (newest first).
async fn records(h: &Harness, query: &str, n: usize) -> Vec<Value> {
    let mut last = Vec::new();
    for _ in 0..100 {
        let (s, b) = admin_get(h, &format!("/admin/logs?limit=1000&{query}")).await;
        assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
        last = json(&b)["data"].as_array().cloned().unwrap_or_default();
        if last.len() >= n {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "expected {n} records for {query:?}, have {}: {last:?}",
        last.len()
    );
}

async fn post_as(
    h: &Harness,
    key: &str,
    path: &str,
    body: &str,
) -> (http::StatusCode, bytes::Bytes) {
    let resp = h
        .send(
            "POST",
            path,
            &[
                ("authorization", &format!("Bearer {key}")),
                ("content-type", "application/json"),
            ],
            body.to_owned(),
        )
        .await;
    let (s, _, b) = collect(resp).await;
    (s, b)
}

#[tokio::test]
async fn plain_request_is_recorded_with_tokens_and_cost() {
    let h = start_with(&yaml(""), axum::Router::new()).await;
    h.mock.push_faults([Fault {
        usage: Some(json!({"prompt_tokens": 1000, "completion_tokens": 200,
            "prompt_tokens_details": {"cached_tokens": 400},
            "completion_tokens_details": {"reasoning_tokens": 50}})),
        ..Fault::default()
    }]);
    let resp = h
        .send(
            "POST",
            "/v1/chat/completions",
            &[
                ("authorization", &format!("Bearer {KEY}")),
                ("content-type", "application/json"),
                ("x-request-id", "req-plain-1"),
                ("x-switchyard-metadata", r#"{"team":"search","tier":2}"#),
                (
                    "traceparent",
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                ),
            ],
            r#"{"model":"openai/gpt-6-sol","messages":[{"role":"user","content":"hi"}]}"#,
        )
        .await;
    let (s, _, _) = collect(resp).await;
    assert_eq!(s, 200);
    let r = &records(&h, "request_id=req-plain-1", 1).await[0];
    assert_eq!(r["operation"], "chat.completions");
    assert_eq!(r["caller"], "alice");
    assert_eq!(
        (r["provider"].as_str(), r["model"].as_str()),
        (Some("openai"), Some("gpt-6-sol"))
    );
    assert_eq!(
        (r["status"].as_u64(), r["outcome"].as_str()),
        (Some(200), Some("ok"))
    );
    assert_eq!(r["stream"], false);
    assert_eq!(r["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(r["parent_span_id"], "00f067aa0ba902b7");
    assert_eq!(r["metadata"], json!({"team": "search", "tier": 2}));
    assert_eq!(
        (
            &r["input_tokens"],
            &r["output_tokens"],
            &r["cached_tokens"],
            &r["reasoning_tokens"]
        ),
        (&json!(1000), &json!(200), &json!(400), &json!(50))
    );
    // gpt-6-sol: $2 input, $0.20 cached input, $10 output per million tokens (reasoning
    // tokens are output tokens).
    let expected = (600.0 * 2.0 + 400.0 * 0.2 + 200.0 * 10.0) / 1e6;
    let cost = r["cost_usd"].as_f64().unwrap();
    assert!((cost - expected).abs() < 1e-12, "{cost} vs {expected}");
    assert!(r["ttft_ms"].is_null(), "no first token for a whole answer");
    let latency = r["latency_ms"].as_f64().unwrap();
    let upstream = r["upstream_ms"].as_f64().unwrap();
    assert!(
        upstream > 0.0 && upstream <= latency,
        "{upstream} of {latency}"
    );
    assert_eq!(r["attempts"].as_array().unwrap().len(), 1);
    assert!(r["request_body"].is_null(), "bodies are off by default");
    // By record id too, with its (empty) feedback.
    let (s, b) = admin_get(&h, &format!("/admin/logs/{}", r["id"].as_str().unwrap())).await;
    assert_eq!(s, 200);
    assert_eq!(json(&b)["request_id"], "req-plain-1");
    assert_eq!(json(&b)["feedback"], json!([]));
}

#[tokio::test]
async fn streams_get_usage_ttft_and_the_caller_only_gets_what_it_asked_for() {
    let h = start_with(&yaml(""), axum::Router::new()).await;
    // Without stream_options: the gateway asks for usage, reads it, and does not relay it.
    let (s, _, b) = h
        .chat(r#"{"model":"openai/gpt-6-sol","stream":true,"messages":[{"role":"user","content":"hi"}]}"#)
        .await;
    assert_eq!(s, 200);
    let events = data_events(&b);
    // Not even the `"usage":null` OpenAI adds to every chunk once usage is asked for.
    assert!(
        events.iter().all(|e| e.get("usage").is_none()),
        "{events:?}"
    );
    assert!(events.len() > 2);
    assert_eq!(events.last().unwrap(), "[DONE]");
    let sent = h.mock.requests();
    let up: Value = serde_json::from_str(&sent.last().unwrap().body).unwrap();
    assert_eq!(up["stream_options"], json!({"include_usage": true}));
    // With it: relayed as asked.
    let (_, _, b2) = h
        .chat(r#"{"model":"openai/gpt-6-sol","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#)
        .await;
    assert!(data_events(&b2).iter().any(|e| e["usage"].is_object()));
    let rs = records(&h, "", 2).await;
    for r in &rs {
        assert_eq!(r["stream"], true);
        assert!(r["output_tokens"].as_i64().unwrap() > 0, "{r}");
        assert!(r["cost_usd"].as_f64().unwrap() > 0.0, "{r}");
        let ttft = r["ttft_ms"].as_f64().unwrap();
        assert!(
            ttft > 0.0 && ttft <= r["latency_ms"].as_f64().unwrap(),
            "{r}"
        );
    }
}

/// A keep-alive comment before the first chunk is relayed but is not the first token: the time
/// to first token waits for the first event with data.
#[tokio::test]
async fn a_keep_alive_comment_is_not_the_first_token() {
    let h = start_with(&yaml(""), axum::Router::new()).await;
    let (s, _, b) = h
        .chat(r#"{"model":"openai/gpt-6-sol","stream":true,"messages":[{"role":"user","content":"hi"}],"mock":{"keepalive":true,"first_chunk_delay_ms":300}}"#)
        .await;
    assert_eq!(s, 200);
    assert!(
        String::from_utf8_lossy(&b).starts_with(": keep-alive\n\n"),
        "{}",
        String::from_utf8_lossy(&b)
    );
    let r = &records(&h, "", 1).await[0];
    let ttft = r["ttft_ms"].as_f64().unwrap();
    assert!(
        ttft >= 300.0,
        "the comment came at once, the first token after 300 ms: {r}"
    );
}

#[tokio::test]
async fn translated_requests_count_cache_reads_and_writes() {
    let h = start_with(&yaml(""), axum::Router::new()).await;
    let usage = json!({"input_tokens": 100, "cache_read_input_tokens": 2000,
        "cache_creation_input_tokens": 1000, "output_tokens": 50});
    h.mock.push_faults([
        Fault {
            usage: Some(usage.clone()),
            ..Fault::default()
        },
        Fault {
            usage: Some(usage.clone()),
            ..Fault::default()
        },
    ]);
    let body =
        r#"{"model":"anthropic/claude-opus-5-5","messages":[{"role":"user","content":"hi"}]}"#;
    let (s, _, b) = h.chat(body).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let streamed = body.replace("\"messages\"", "\"stream\":true,\"messages\"");
    let (s, _, b) = h.chat(&streamed).await;
    assert_eq!(s, 200);
    assert!(
        data_events(&b)
            .iter()
            .all(|e| e.get("usage").is_none_or(Value::is_null)),
        "the caller did not ask for the usage chunk"
    );
    // claude-opus-5-5: $4 input, $0.20 cache read, $5 cache write, $20 output.
    let expected = (100.0 * 4.0 + 2000.0 * 0.2 + 1000.0 * 5.0 + 50.0 * 20.0) / 1e6;
    let rs = records(&h, "provider=anthropic", 2).await;
    for r in &rs {
        assert_eq!(r["input_tokens"], 3100, "{r}");
        assert_eq!(
            (&r["cached_tokens"], &r["cache_write_tokens"]),
            (&json!(2000), &json!(1000))
        );
        assert_eq!(r["output_tokens"], 50);
        let cost = r["cost_usd"].as_f64().unwrap();
        assert!((cost - expected).abs() < 1e-12, "{cost} vs {expected}");
    }
    assert_eq!(
        (rs[0]["stream"].as_bool(), rs[1]["stream"].as_bool()),
        (Some(true), Some(false))
    );
}

#[tokio::test]
async fn fields_left_out_are_named_in_the_header_and_the_record() {
    let h = start_with(&yaml(""), axum::Router::new()).await;
    let body = r#"{"model":"anthropic/claude-opus-5-5","seed":7,"store":false,"messages":[{"role":"user","content":"hi"}]}"#;
    let (s, headers, b) = h.chat(body).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    assert_eq!(headers["x-switchyard-dropped-params"], "seed,store");
    let rs = records(&h, "provider=anthropic", 1).await;
    assert_eq!(rs[0]["attempts"][0]["dropped"], json!(["seed", "store"]));
    // Nothing left out, nothing named.
    let (s, headers, _) = h
        .chat(
            r#"{"model":"openai/gpt-6-sol","seed":7,"messages":[{"role":"user","content":"hi"}]}"#,
        )
        .await;
    assert_eq!(s, 200);
    assert!(headers.get("x-switchyard-dropped-params").is_none());
    let rs = records(&h, "provider=openai", 1).await;
    assert!(rs[0]["attempts"][0].get("dropped").is_none(), "{}", rs[0]);
}

#[tokio::test]
async fn failed_and_retried_requests_list_their_attempts() {
    let h = start_with(&yaml(""), axum::Router::new()).await;
    h.mock.push_faults([Fault {
        status: Some(503),
        ..Fault::default()
    }]);
    let (s, _) = post_as(
        &h,
        KEY,
        "/v1/chat/completions",
        r#"{"model":"retried","messages":[{"role":"user","content":"hi"}]}"#,
    )
    .await;
    assert_eq!(s, 200);
    h.mock.push_faults([Fault {
        status: Some(400),
        body: Some(json!({"error": {"message": "bad thing", "type": "invalid_request_error"}})),
        ..Fault::default()
    }]);
    let (s, _) = post_as(
        &h,
        "bob-key-123",
        "/v1/chat/completions",
        r#"{"model":"openai/gpt-6-sol","messages":[{"role":"user","content":"hi"}]}"#,
    )
    .await;
    assert_eq!(s, 400);
    // Refused before any attempt: still recorded, without a caller.
    let (s, _) = post_as(&h, "wrong-key", "/v1/chat/completions", "{}").await;
    assert_eq!(s, 401);

    let retried = &records(&h, "model=retried", 1).await[0];
    assert_eq!(retried["route"], "retried");
    let attempts = retried["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{retried}");
    assert_eq!(
        (
            attempts[0]["status"].as_u64(),
            attempts[0]["outcome"].as_str()
        ),
        (Some(503), Some("status 503"))
    );
    assert_eq!(attempts[1]["outcome"], "ok");
    let failed = &records(&h, "status=400", 1).await[0];
    assert_eq!(
        (failed["outcome"].as_str(), failed["caller"].as_str()),
        (Some("error"), Some("bob"))
    );
    assert!(
        failed["error"].as_str().unwrap().contains("400"),
        "{failed}"
    );
    let refused = &records(&h, "status=401", 1).await[0];
    assert!(refused["caller"].is_null() && refused["attempts"] == json!([]));
    assert_eq!(records(&h, "status=4xx", 2).await.len(), 2);
}

#[tokio::test]
async fn a_caller_that_stops_reading_and_leaves_after_the_deadline_gets_a_timeout_record() {
    let yaml = yaml("").replace("{ idle_ms: 2000 }", "{ idle_ms: 2000, total_ms: 1500 }");
    let h = start_with(&yaml, axum::Router::new()).await;
    let body = r#"{"model":"openai/gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}],"mock":{"endless":true}}"#;
    let tcp = raw_chat_post(h.server.addr, body).await;
    // Nothing is read; the deadline closes the upstream, then the caller goes away.
    assert!(
        eventually(|| h.mock.stats().streams_aborted == 1).await,
        "{:?}",
        h.mock.stats()
    );
    drop(tcp);
    let r = &records(&h, "", 1).await[0];
    assert_eq!(r["outcome"].as_str(), Some("client_closed"), "{r}");
    assert!(
        r["error"].as_str().unwrap().contains("total time limit"),
        "{r}"
    );
    assert!(r["attempts"][0]["outcome"]
        .as_str()
        .unwrap()
        .starts_with("failed mid-stream"));
}

#[tokio::test]
async fn a_stream_that_fails_after_it_started_is_recorded_as_an_error() {
    let h = start_with(&yaml(""), axum::Router::new()).await;
    h.mock.push_faults([Fault {
        break_after: Some(2),
        chunks: Some(10),
        ..Fault::default()
    }]);
    let (s, _, b) = h
        .chat(r#"{"model":"openai/gpt-6-sol","stream":true,"messages":[{"role":"user","content":"hi"}]}"#)
        .await;
    assert_eq!(s, 200);
    assert!(String::from_utf8_lossy(&b).contains("error"));
    let r = &records(&h, "", 1).await[0];
    assert_eq!(
        (r["status"].as_u64(), r["outcome"].as_str()),
        (Some(200), Some("error"))
    );
    assert!(r["error"].as_str().unwrap().contains("broke off"), "{r}");
    assert!(r["attempts"][0]["outcome"]
        .as_str()
        .unwrap()
        .starts_with("failed mid-stream"));
    // The stream's upstream time runs to the failure, not just to the headers.
    assert!(r["upstream_ms"].as_f64().unwrap() > 0.0);
}

#[tokio::test]
async fn a_caller_that_goes_away_mid_stream_is_recorded_as_client_closed() {
    let h = start_with(&yaml(""), axum::Router::new()).await;
    h.mock.push_faults([Fault {
        chunk_delay_ms: Some(200),
        chunks: Some(20),
        ..Fault::default()
    }]);
    let resp = h
        .send(
            "POST",
            "/v1/chat/completions",
            &[("authorization", &format!("Bearer {KEY}")), ("content-type", "application/json")],
            r#"{"model":"openai/gpt-6-sol","stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let mut body = resp.into_body();
    // One frame, then hang up.
    let _ = http_body_util::BodyExt::frame(&mut body).await;
    drop(body);
    let r = &records(&h, "", 1).await[0];
    assert_eq!(
        (r["status"].as_u64(), r["outcome"].as_str()),
        (Some(200), Some("client_closed"))
    );
}

#[tokio::test]
async fn filters_pages_exports_and_analytics() {
    let h = start_with(&yaml(""), axum::Router::new()).await;
    for i in 0..6 {
        let team = if i % 2 == 0 { "search" } else { "chat" };
        let key = if i < 4 { KEY } else { "bob-key-123" };
        let model = if i < 3 {
            "openai/gpt-6-sol"
        } else {
            "anthropic/claude-opus-5-5"
        };
        let resp = h
            .send(
                "POST",
                "/v1/chat/completions",
                &[
                    ("authorization", &format!("Bearer {key}")),
                    ("content-type", "application/json"),
                    ("x-switchyard-metadata", &format!(r#"{{"team":"{team}"}}"#)),
                ],
                format!(r#"{{"model":"{model}","messages":[{{"role":"user","content":"hi"}}]}}"#),
            )
            .await;
        assert_eq!(collect(resp).await.0, 200);
    }
    let all = records(&h, "", 6).await;
    assert_eq!(all.len(), 6);
    let count = |q: &'static str| {
        let h = &h;
        async move {
            let (s, b) = admin_get(h, &format!("/admin/logs?{q}")).await;
            assert_eq!(s, 200, "{q}: {}", String::from_utf8_lossy(&b));
            json(&b)["data"].as_array().unwrap().len()
        }
    };
    assert_eq!(count("model=gpt-6-sol").await, 3);
    assert_eq!(count("provider=anthropic").await, 3);
    assert_eq!(count("key=bob").await, 2);
    assert_eq!(count("metadata.team=search").await, 3);
    assert_eq!(count("metadata.team=search&key=alice").await, 2);
    assert_eq!(count("status=200").await, 6);
    assert_eq!(count("status=5xx").await, 0);
    let trace = all[2]["trace_id"].as_str().unwrap().to_owned();
    let (_, b) = admin_get(&h, &format!("/admin/logs?trace_id={trace}")).await;
    assert_eq!(json(&b)["data"][0]["id"], all[2]["id"]);
    let newest = all[0]["ts_ms"].as_i64().unwrap();
    let (_, b) = admin_get(&h, &format!("/admin/logs?from={}", newest + 1)).await;
    assert_eq!(json(&b)["data"], json!([]));
    let (_, b) = admin_get(&h, &format!("/admin/logs?to={}", newest + 1)).await;
    assert_eq!(json(&b)["data"].as_array().unwrap().len(), 6);

    // Cursor pages of 4 then 2.
    let (_, b) = admin_get(&h, "/admin/logs?limit=4").await;
    let first = json(&b);
    assert_eq!(
        (
            first["data"].as_array().unwrap().len(),
            first["has_more"].as_bool()
        ),
        (4, Some(true))
    );
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, b) = admin_get(&h, &format!("/admin/logs?limit=4&cursor={cursor}")).await;
    let second = json(&b);
    assert_eq!(
        (
            second["data"].as_array().unwrap().len(),
            second["has_more"].as_bool()
        ),
        (2, Some(false))
    );
    let ids: Vec<&Value> = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["data"].as_array().unwrap())
        .map(|r| &r["id"])
        .collect();
    let expected: Vec<&Value> = all.iter().map(|r| &r["id"]).collect();
    assert_eq!(ids, expected);

    // Bad parameters name themselves.
    for (q, param) in [
        ("limit=0", "limit"),
        ("status=teapot", "status"),
        ("modle=x", "modle"),
        ("from=yesterday", "from"),
        ("cursor=zz", "cursor"),
    ] {
        let (s, b) = admin_get(&h, &format!("/admin/logs?{q}")).await;
        assert_eq!(s, 400, "{q}");
        assert_eq!(json(&b)["error"]["param"], param, "{q}");
    }

    // Exports.
    let (s, b) = admin_get(&h, "/admin/logs/export?format=jsonl&provider=openai").await;
    assert_eq!(s, 200);
    let lines: Vec<Value> = String::from_utf8_lossy(&b)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| l["provider"] == "openai"));
    let resp = h
        .send(
            "GET",
            "/admin/logs/export?format=csv",
            &[("authorization", ADMIN)],
            "",
        )
        .await;
    let (s, headers, b) = collect(resp).await;
    assert_eq!(s, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = String::from_utf8_lossy(&b).into_owned();
    let rows: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), 7);
    assert!(rows[0].starts_with("id,request_id,trace_id"));
    // The metadata column is JSON, quoted with its quotes doubled.
    assert!(rows[1].contains(r#""{""team"":"#), "{}", rows[1]);

    // Analytics by model, by metadata, and in buckets.
    let (s, b) = admin_get(&h, "/admin/analytics?group_by=model").await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let a = json(&b);
    let data = a["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    let by_key = |k: &str| data.iter().find(|d| d["key"] == k).unwrap().clone();
    let mini = by_key("gpt-6-sol");
    assert_eq!(
        (mini["requests"].as_u64(), mini["errors"].as_u64()),
        (Some(3), Some(0))
    );
    assert!(mini["latency_ms"]["p50"].as_f64().unwrap() > 0.0);
    assert!(
        mini["latency_ms"]["p99"].as_f64().unwrap() >= mini["latency_ms"]["p50"].as_f64().unwrap()
    );
    let cost_sum: f64 = all
        .iter()
        .filter(|r| r["model"] == "gpt-6-sol")
        .map(|r| r["cost_usd"].as_f64().unwrap())
        .sum();
    assert!((mini["cost_usd"].as_f64().unwrap() - cost_sum).abs() < 1e-12);
    let (_, b) = admin_get(&h, "/admin/analytics?group_by=metadata.team&bucket=1h").await;
    let teams = json(&b);
    let counts: u64 = teams["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(counts, 6);
    assert!(teams["data"][0]["start_ms"].as_i64().unwrap() % 3_600_000 == 0);
    let (_, b) = admin_get(&h, "/admin/analytics?group_by=key&provider=anthropic").await;
    let keys: Vec<(String, u64)> = json(&b)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["key"].as_str().unwrap().to_owned(),
                d["requests"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(keys, vec![("alice".to_owned(), 1), ("bob".to_owned(), 2)]);
    let (s, b) = admin_get(&h, "/admin/analytics?group_by=colour").await;
    assert_eq!(
        (s.as_u16(), json(&b)["error"]["param"].as_str()),
        (400, Some("group_by"))
    );

    // Admin endpoints want the admin key, not a client key.
    let resp = h
        .send(
            "GET",
            "/admin/logs",
            &[("authorization", &format!("Bearer {KEY}"))],
            "",
        )
        .await;
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn feedback_is_attached_to_the_request() {
    let h = start_with(&yaml(""), axum::Router::new()).await;
    let (s, headers, _) = h
        .chat(r#"{"model":"openai/gpt-6-sol","messages":[{"role":"user","content":"hi"}]}"#)
        .await;
    assert_eq!(s, 200);
    let request_id = headers["x-request-id"].to_str().unwrap().to_owned();
    let (s, b) = post_as(
        &h,
        KEY,
        "/v1/feedback",
        &format!(r#"{{"request_id":"{request_id}","score":0.8,"metadata":{{"label":"good"}}}}"#),
    )
    .await;
    assert_eq!(s, 201, "{}", String::from_utf8_lossy(&b));
    assert_eq!(json(&b)["object"], "feedback");
    let r = &records(&h, &format!("request_id={request_id}"), 1).await[0];
    let trace = r["trace_id"].as_str().unwrap();
    let (s, _) = post_as(
        &h,
        KEY,
        "/v1/feedback",
        &format!(r#"{{"trace_id":"{trace}","value":-1}}"#),
    )
    .await;
    assert_eq!(s, 201);
    let (_, b) = admin_get(&h, &format!("/admin/logs/{request_id}")).await;
    let fb = json(&b)["feedback"].clone();
    assert_eq!(fb.as_array().unwrap().len(), 2, "{fb}");
    assert_eq!(
        (fb[0]["score"].as_f64(), fb[0]["caller"].as_str()),
        (Some(0.8), Some("alice"))
    );
    assert_eq!(fb[0]["metadata"], json!({"label": "good"}));
    assert_eq!(fb[1]["score"].as_f64(), Some(-1.0));
    for (body, param) in [
        (r#"{"score":1}"#, "request_id"),
        (r#"{"request_id":"x","score":"high"}"#, "score"),
        (r#"{"request_id":"x","metadata":[1]}"#, "metadata"),
    ] {
        let (s, b) = post_as(&h, KEY, "/v1/feedback", body).await;
        assert_eq!(s, 400, "{body}");
        assert_eq!(json(&b)["error"]["param"], param, "{body}");
    }
    let (s, _) = post_as(&h, "nope", "/v1/feedback", r#"{"request_id":"x"}"#).await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn feedback_is_bounded_and_only_for_the_callers_own_requests() {
    let h = start_with(&yaml(""), axum::Router::new()).await;
    let (s, headers, _) = h
        .chat(r#"{"model":"openai/gpt-6-sol","messages":[{"role":"user","content":"hi"}]}"#)
        .await;
    assert_eq!(s, 200);
    let alices = headers["x-request-id"].to_str().unwrap().to_owned();
    let r = &records(&h, &format!("request_id={alices}"), 1).await[0];
    let trace = r["trace_id"].as_str().unwrap().to_owned();
    // Bob may not score Alice's request or trace, nor an id nobody used; all look alike.
    for body in [
        format!(r#"{{"request_id":"{alices}","score":0}}"#),
        format!(r#"{{"trace_id":"{trace}","score":0}}"#),
        r#"{"request_id":"never-used-1","score":0}"#.to_owned(),
    ] {
        let (s, b) = post_as(&h, "bob-key-123", "/v1/feedback", &body).await;
        assert_eq!(s, 404, "{body}: {}", String::from_utf8_lossy(&b));
        assert_eq!(json(&b)["error"]["code"], "not_found");
    }
    // Alice may, with metadata up to 16 KiB as JSON.
    let within = "m".repeat(16 * 1024 - 20);
    let body = format!(r#"{{"request_id":"{alices}","metadata":{{"note":"{within}"}}}}"#);
    let (s, b) = post_as(&h, KEY, "/v1/feedback", &body).await;
    assert_eq!(s, 201, "{}", String::from_utf8_lossy(&b));
    let over = "m".repeat(16 * 1024);
    let body = format!(r#"{{"request_id":"{alices}","metadata":{{"note":"{over}"}}}}"#);
    let (s, b) = post_as(&h, KEY, "/v1/feedback", &body).await;
    assert_eq!(s, 400);
    assert_eq!(json(&b)["error"]["param"], "metadata");
    assert!(String::from_utf8_lossy(&b).contains("16384"));
    // The body is bounded at 64 KiB, below server.max_body_bytes.
    let huge = "m".repeat(65 * 1024);
    let body = format!(r#"{{"request_id":"{alices}","metadata":{{"note":"{huge}"}}}}"#);
    let (s, b) = post_as(&h, KEY, "/v1/feedback", &body).await;
    assert_eq!(s, 413);
    assert_eq!(json(&b)["error"]["code"], "request_too_large");
    let long_id = "i".repeat(129);
    let (s, b) = post_as(
        &h,
        KEY,
        "/v1/feedback",
        &format!(r#"{{"request_id":"{long_id}"}}"#),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(json(&b)["error"]["param"], "request_id");
    let (_, b) = admin_get(&h, &format!("/admin/logs/{alices}")).await;
    assert_eq!(json(&b)["feedback"].as_array().unwrap().len(), 1);

    // Without client keys there is no caller to match: any id, as before.
    let open = yaml("").replace(
        "client_keys:\n  - name: alice\n    key: client-key-123\n  - name: bob\n    key: bob-key-123\n",
        "",
    );
    assert!(!open.contains("client_keys"), "{open}");
    let h = start_with(&open, axum::Router::new()).await;
    let (s, b) = post_as(
        &h,
        "anything",
        "/v1/feedback",
        r#"{"request_id":"never-used-2","score":1}"#,
    )
    .await;
    assert_eq!(s, 201, "{}", String::from_utf8_lossy(&b));
}

#[tokio::test]
async fn bodies_are_kept_when_asked_and_redacted_when_asked() {
    let h = start_with(
        &yaml("  log: {bodies: true, redact_bodies: true, body_max_bytes: 100000}\n"),
        axum::Router::new(),
    )
    .await;
    let (s, _, _) = h
        .chat(r#"{"model":"openai/gpt-6-sol","temperature":0.5,"messages":[{"role":"user","content":"my password is hunter2"}]}"#)
        .await;
    assert_eq!(s, 200);
    let r = &records(&h, "", 1).await[0];
    let req: Value = serde_json::from_str(r["request_body"].as_str().unwrap()).unwrap();
    assert_eq!(req["temperature"], 0.5);
    assert_eq!(req["messages"][0]["content"], "[redacted]");
    let resp: Value = serde_json::from_str(r["response_body"].as_str().unwrap()).unwrap();
    assert_eq!(resp["choices"][0]["message"]["content"], "[redacted]");
    assert_eq!(resp["usage"]["completion_tokens"], r["output_tokens"]);
}

#[tokio::test]
async fn metrics_count_requests_tokens_cost_and_overhead() {
    let h = start_with(&yaml(""), axum::Router::new()).await;
    for _ in 0..3 {
        let (s, _, _) = h
            .chat(r#"{"model":"openai/gpt-6-sol","stream":true,"messages":[{"role":"user","content":"hi"}]}"#)
            .await;
        assert_eq!(s, 200);
    }
    // A model no provider serves gets no series of its own.
    let (s, _, _) = h
        .chat(r#"{"model":"nowhere/made-up-model-7","messages":[{"role":"user","content":"hi"}]}"#)
        .await;
    assert_eq!(s, 404);
    records(&h, "", 4).await;
    let (s, b) = admin_get(&h, "/metrics").await;
    assert_eq!(s, 200);
    let text = String::from_utf8_lossy(&b).into_owned();
    let labels = r#"provider="openai",model="gpt-6-sol",status="200""#;
    assert!(
        text.contains(&format!("switchyard_requests_total{{{labels}}} 3\n")),
        "{text}"
    );
    assert!(text.contains(&format!(
        "switchyard_request_duration_seconds_count{{{labels}}} 3\n"
    )));
    assert!(text.contains(&format!(
        "switchyard_time_to_first_token_seconds_count{{{labels}}} 3\n"
    )));
    assert!(
        text.contains("switchyard_gateway_overhead_seconds_count{} 3\n"),
        "{text}"
    );
    assert!(
        text.contains("switchyard_log_written_records_total 4\n"),
        "{text}"
    );
    assert!(text.contains("switchyard_log_shed_records_total 0\n"));
    assert!(!text.contains("made-up-model-7"), "{text}");
    let output_line = text
        .lines()
        .find(|l| {
            l.starts_with(&format!(
                "switchyard_tokens_total{{{labels},type=\"output\"}}"
            ))
        })
        .unwrap();
    assert_ne!(output_line.rsplit(' ').next(), Some("0"), "{output_line}");
    let cost: f64 = text
        .lines()
        .find(|l| l.starts_with(&format!("switchyard_cost_usd_total{{{labels}}}")))
        .and_then(|l| l.rsplit(' ').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(cost > 0.0);
}

#[tokio::test]
async fn a_stalled_store_sheds_records_without_slowing_requests_and_catches_up() {
    let path = temp_path("db");
    let h = start_with(
        &yaml(&format!(
            "  log: {{sqlite_path: \"{}\", queue_capacity: 4, batch_size: 2}}\n",
            path.display()
        )),
        axum::Router::new(),
    )
    .await;
    let (s, _, _) = h
        .chat(r#"{"model":"openai/gpt-6-sol","messages":[{"role":"user","content":"hi"}]}"#)
        .await;
    assert_eq!(s, 200);
    records(&h, "", 1).await;
    // Another writer holds the file's write lock: the gateway's writer waits on it.
    let blocker = rusqlite::Connection::open(&path).unwrap();
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let started = std::time::Instant::now();
    for _ in 0..30 {
        let (s, _, _) = h
            .chat(r#"{"model":"openai/gpt-6-sol","messages":[{"role":"user","content":"hi"}]}"#)
            .await;
        assert_eq!(s, 200);
    }
    // Nothing waited on the store: its busy timeout alone is five seconds, so 30 requests that
    // waited would take minutes; a loaded machine takes seconds at most.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let shed = h
        .server
        .state()
        .log
        .shed
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        shed >= 24,
        "queue of 4 plus one batch of 2 in the writer's hands: {shed} shed"
    );
    blocker.execute_batch("ROLLBACK").unwrap();
    drop(blocker);
    let kept = 31 - shed as usize;
    let rs = records(&h, "", kept).await;
    assert_eq!(rs.len(), kept);
    let (_, b) = admin_get(&h, "/metrics").await;
    assert!(String::from_utf8_lossy(&b)
        .contains(&format!("switchyard_log_shed_records_total {shed}\n")));
}

#[tokio::test]
async fn shutdown_flushes_the_queue() {
    let path = temp_path("db");
    let h = start_with(
        &yaml(&format!("  log: {{sqlite_path: \"{}\"}}\n", path.display())),
        axum::Router::new(),
    )
    .await;
    // Hold the write lock so records queue up, then shut down with them queued.
    let blocker = rusqlite::Connection::open(&path).unwrap();
    // The gateway's writer creates the schema first.
    for _ in 0..100 {
        if blocker
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name='requests'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .unwrap()
            == 1
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    for _ in 0..5 {
        let (s, _, _) = h
            .chat(r#"{"model":"openai/gpt-6-sol","messages":[{"role":"user","content":"hi"}]}"#)
            .await;
        assert_eq!(s, 200);
    }
    assert_eq!(
        h.server
            .state()
            .log
            .written
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        blocker.execute_batch("ROLLBACK").unwrap();
    });
    assert!(h.server.shutdown().await);
    release.await.unwrap();
    let check = rusqlite::Connection::open(&path).unwrap();
    let n: i64 = check
        .query_row("SELECT COUNT(*) FROM requests", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 5);
}

#[tokio::test]
async fn records_go_to_postgres_when_configured() {
    let schema = format!("sy_gw_{:016x}", fastrand::u64(..));
    let (client, conn) =
        tokio_postgres::connect("postgres://root@127.0.0.1:5432/test", tokio_postgres::NoTls)
            .await
            .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let url = format!("postgres://root@127.0.0.1:5432/test?options=-csearch_path%3D{schema}");
    let h = start_with(
        &yaml(&format!("  log: {{postgres_url: \"{url}\"}}\n")),
        axum::Router::new(),
    )
    .await;
    let (s, _, _) = h
        .chat(r#"{"model":"openai/gpt-6-sol","stream":true,"messages":[{"role":"user","content":"hi"}]}"#)
        .await;
    assert_eq!(s, 200);
    let r = &records(&h, "provider=openai", 1).await[0];
    assert_eq!(r["stream"], true);
    // Once the record is there, a filter it does not match finds nothing.
    let (st, b) = admin_get(&h, "/admin/logs?metadata.none=x&status=2xx").await;
    assert_eq!(st, 200);
    assert_eq!(json(&b)["data"], json!([]));
    let (_, b) = admin_get(&h, "/admin/logs?status=2xx").await;
    assert_eq!(
        json(&b)["data"].as_array().map(Vec::len),
        Some(1),
        "the filter itself works"
    );
    let rows = client
        .query(
            &format!("SELECT model, output_tokens FROM {schema}.requests"),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].get::<_, Option<String>>(0).as_deref(),
        Some("gpt-6-sol")
    );
    assert!(rows[0].get::<_, Option<i64>>(1).unwrap() > 0);
    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}

#[tokio::test]
async fn retention_deletes_old_records_at_start() {
    let path = temp_path("db");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    {
        let store = switchyard_store::Store::sqlite(&path).await.unwrap();
        let old = |id: &str, days: i64| switchyard_store::Record {
            id: switchyard_store::record_id(now_ms - days * 86_400_000, 7),
            request_id: id.into(),
            trace_id: "1".repeat(32),
            span_id: "2".repeat(16),
            ts_ms: now_ms - days * 86_400_000,
            end_ms: now_ms - days * 86_400_000,
            operation: "chat.completions".into(),
            status: 200,
            outcome: "ok".into(),
            ..Default::default()
        };
        store
            .insert(std::sync::Arc::new(vec![old("aaaa", 10), old("bbbb", 3)]))
            .await
            .unwrap();
    }
    let h = start_with(
        &yaml(&format!(
            "  log: {{sqlite_path: \"{}\", retention_days: 7}}\n",
            path.display()
        )),
        axum::Router::new(),
    )
    .await;
    let mut left = Vec::new();
    for _ in 0..100 {
        let (_, b) = admin_get(&h, "/admin/logs").await;
        left = json(&b)["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["request_id"].as_str().unwrap().to_owned())
            .collect();
        if left.len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        left,
        vec!["bbbb"],
        "the 10-day-old record goes, the 3-day-old one stays"
    );
}

/// A handler that panics while its request is unanswered is recorded as the 500 the caller gets,
/// not as a caller who went away.
#[tokio::test]
async fn a_panic_is_recorded_as_a_500_not_a_closed_connection() {
    use axum::extract::State;
    use std::sync::Arc;
    use switchyard::context::RequestCtx;
    use switchyard::observe::finish::Unfinished;
    use switchyard::state::AppState;
    async fn panics(State(state): State<Arc<AppState>>) -> &'static str {
        let ctx = RequestCtx::new(
            axum::http::HeaderValue::from_static("panicking-request"),
            switchyard::ids::TraceContext::from_header(None),
            switchyard_providers::Operation::ChatCompletions,
        );
        let _guard = Unfinished::new(&state, ctx);
        panic!("a bug in a handler");
    }
    let extra = axum::Router::new().route("/v1/test-panic", axum::routing::post(panics));
    let h = start_with(&yaml(""), extra).await;
    let (s, _, _) = h.post("/v1/test-panic", "{}").await;
    assert_eq!(s, 500);
    let r = &records(&h, "request_id=panicking-request", 1).await[0];
    assert_eq!(r["status"], 500, "{r}");
    assert_eq!(r["outcome"], "error", "{r}");
    assert!(r["error"].as_str().unwrap().contains("panic"), "{r}");
}

/// A request still running after the hard stop (here a caller that stopped reading a long
/// stream) hands over its record when it ends: shutdown waits for it before closing the log.
#[tokio::test]
async fn a_request_outliving_the_hard_stop_is_still_recorded() {
    use tokio::io::AsyncWriteExt;
    let path = temp_path("db");
    let h = start_with(
        &yaml(&format!(
            "  drain_timeout_secs: 1\n  log: {{sqlite_path: \"{}\"}}\n",
            path.display()
        )),
        axum::Router::new(),
    )
    .await;
    // About 15 MB of stream events: far more than the sockets hold.
    let content = "a ".repeat(100_000);
    let body = format!(
        r#"{{"model":"openai/gpt-6-sol","stream":true,"messages":[{{"role":"user","content":"hi"}}],"mock":{{"content":"{content}"}}}}"#
    );
    let mut sock = tokio::net::TcpStream::connect(h.server.addr).await.unwrap();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {KEY}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    sock.write_all(body.as_bytes()).await.unwrap();
    // The request is in flight (the relay fills the sockets and blocks; nothing is read).
    assert!(eventually(|| h.mock.requests().len() == 1).await);
    let state = h.server.state();
    let mut hard_stop = state.hard_stop.subscribe();
    let shutdown = tokio::spawn(h.server.shutdown());
    // The drain deadline (1 s) passes with the request still running: the hard stop begins.
    // After its grace (0.5 s) the server task is aborted; only then does the caller go away.
    hard_stop.wait_for(|s| *s).await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    drop(sock);
    assert!(!shutdown.await.unwrap(), "the drain deadline was reached");
    assert_eq!(state.log.shed.load(std::sync::atomic::Ordering::Relaxed), 0);
    let db = rusqlite::Connection::open(&path).unwrap();
    let outcome: String = db
        .query_row("SELECT outcome FROM requests", [], |r| r.get(0))
        .unwrap();
    assert_eq!(outcome, "client_closed");
}

/// Spend by tag: a request counts under each of its tags (`x-switchyard-metadata: {"tags":
/// [...]}`), one without tags under none.
#[tokio::test]
async fn analytics_report_spend_by_tag() {
    let h = start_with(&yaml(""), axum::Router::new()).await;
    for tags in [
        r#"{"tags":["batch","nightly"]}"#,
        r#"{"tags":["batch"]}"#,
        "{}",
    ] {
        let (s, _, _) = h
            .post_with(
                "/v1/chat/completions",
                r#"{"model":"openai/gpt-6-sol","messages":[{"role":"user","content":"hi"}]}"#,
                &[("x-switchyard-metadata", tags)],
            )
            .await;
        assert_eq!(s, 200);
    }
    records(&h, "", 3).await;
    let (s, b) = admin_get(&h, "/admin/analytics?group_by=tag").await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let mut got: Vec<(Value, u64, bool)> = json(&b)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["key"].clone(),
                d["requests"].as_u64().unwrap(),
                d["cost_usd"].as_f64().unwrap() > 0.0,
            )
        })
        .collect();
    got.sort_by_key(|(k, _, _)| k.to_string());
    assert_eq!(
        got,
        vec![
            (json!("batch"), 2, true),
            (json!("nightly"), 1, true),
            (Value::Null, 1, true)
        ]
    );

    // With totals, one read also gives the whole range (each record once, though the first
    // carries two tags) and, when bucketing, the range per group, equal to asking apart.
    let (s, b) = admin_get(&h, "/admin/v1/analytics?group_by=tag&bucket=1h&totals=true").await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let one = json(&b);
    let (_, b) = admin_get(&h, "/admin/v1/analytics").await;
    let whole = json(&b)["data"][0].clone();
    assert_eq!(one["totals"]["requests"], 3);
    assert_eq!(one["totals"], whole);
    let (_, b) = admin_get(&h, "/admin/v1/analytics?group_by=tag").await;
    assert_eq!(one["groups"], json(&b)["data"]);
    let buckets: u64 = one["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(buckets, 4, "a row per tag in the buckets");
    let (_, b) = admin_get(&h, "/admin/v1/analytics?group_by=tag").await;
    assert!(json(&b).get("totals").is_none(), "only when asked");
    let (s, b) = admin_get(&h, "/admin/v1/analytics?totals=yes").await;
    assert_eq!(
        (s.as_u16(), json(&b)["error"]["param"].as_str()),
        (400, Some("totals"))
    );
}
