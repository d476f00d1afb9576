//! Experiments through the real gateway: a prompt label's traffic split between versions,
//! sticky per end user, judged by feedback from `/v1/feedback`; an adaptive experiment where
//! variant B succeeds 60% of the time against A's 40% moves traffic to B and declares it; the
//! winner is promoted to the label in one audited call.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::*;

const ADMIN: &str = "admin-key-experiments";

fn yaml() -> String {
    format!(
        "server:\n  discover_env: false\n  admin_keys: [{{name: ops, key: {ADMIN}}}]\n  log: {{flush_interval_ms: 20}}\nproviders:\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\nclient_keys:\n  - name: test\n    key: {KEY}\n"
    )
}

async fn admin(h: &Harness, method: &str, path: &str, body: Value) -> (u16, Value) {
    h.json_as(ADMIN, method, path, body).await
}

async fn setup(h: &Harness) {
    let v = |text: &str| json!({"messages": [{"role": "user", "content": text}], "model": "openai/gpt-4o-mini"});
    let (s, _) = admin(
        h,
        "POST",
        "/admin/v1/prompts",
        json!({"id": "greet", "version": v("Say hi."), "labels": ["production"]}),
    )
    .await;
    assert_eq!(s, 201);
    let (s, _) = admin(
        h,
        "POST",
        "/admin/v1/prompts/greet/versions",
        v("Say hello warmly."),
    )
    .await;
    assert_eq!(s, 201);
}

/// One request as `user`: the variant it got and its request id.
async fn ask(h: &Harness, user: &str) -> (String, String) {
    let (s, hd, b) = h
        .post_with(
            "/v1/chat/completions",
            &json!({"prompt": {"id": "greet"}}).to_string(),
            &[("x-switchyard-end-user", user)],
        )
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let variant = hd["x-switchyard-experiment"]
        .to_str()
        .unwrap()
        .split('/')
        .nth(1)
        .unwrap()
        .to_owned();
    (variant, hd["x-request-id"].to_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_fixed_split_is_sticky_per_user_and_follows_the_weights() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    setup(&h).await;
    let (s, e) = admin(&h, "POST", "/admin/v1/experiments", json!({
        "id": "tone", "prompt": "greet",
        "variants": [{"name": "a", "version": 1, "weight": 3}, {"name": "b", "version": 2, "weight": 1}]
    }))
    .await;
    assert_eq!(s, 201, "{e}");
    let mut b = 0;
    let mut last = (String::new(), String::new());
    for u in 0..400 {
        let user = format!("user-{u}");
        let (v, rid) = ask(&h, &user).await;
        last = (v.clone(), rid);
        // The same user again: the same variant, and the upstream got that variant's version.
        let (again, _) = ask(&h, &user).await;
        assert_eq!(v, again, "{user}");
        let sent: Value = serde_json::from_str(&h.mock.requests().last().unwrap().body).unwrap();
        let want = if v == "a" {
            "Say hi."
        } else {
            "Say hello warmly."
        };
        assert_eq!(sent["messages"][0]["content"], want);
        b += usize::from(v == "b");
    }
    // 25% expected; 400 users put it within about ±6.5 points (three standard errors).
    assert!((75..=125).contains(&b), "{b} of 400 on b");
    // A request naming a version is outside the experiment.
    let (_, hd, _) = h
        .chat(&json!({"prompt": {"id": "greet", "version": "2"}}).to_string())
        .await;
    assert!(hd.get("x-switchyard-experiment").is_none());
    let outside = hd["x-request-id"].to_str().unwrap().to_owned();
    // The records name the experiment and variant (and not for the request outside it).
    let recs = logs_when(&h, ADMIN, &format!("request_id={}", last.1), 1).await;
    assert_eq!(recs[0]["prompt"]["experiment"], "tone");
    assert_eq!(recs[0]["prompt"]["variant"].as_str(), Some(last.0.as_str()));
    let recs = logs_when(&h, ADMIN, &format!("request_id={outside}"), 1).await;
    assert_eq!(recs[0]["prompt"], json!({"id": "greet", "version": 2}));
    // One experiment per label at a time.
    let (s, _) = admin(&h, "POST", "/admin/v1/experiments", json!({
        "id": "other", "prompt": "greet", "variants": [{"name": "x", "version": 1}, {"name": "y", "version": 2}]})).await;
    assert_eq!(s, 409);
}

#[tokio::test]
async fn an_adaptive_experiment_moves_traffic_to_the_better_variant_and_declares_it() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    setup(&h).await;
    let (s, e) = admin(
        &h,
        "POST",
        "/admin/v1/experiments",
        json!({
            "id": "warmth", "prompt": "greet", "mode": "adaptive", "min_samples": 30,
            "variants": [{"name": "a", "version": 1}, {"name": "b", "version": 2}]
        }),
    )
    .await;
    assert_eq!(s, 201, "{e}");
    // Simulated users: B's answers are liked 60% of the time, A's 40%.
    let mut rng = fastrand::Rng::with_seed(5);
    let mut served = [0u32; 2];
    let mut results = Value::Null;
    let mut user = 0;
    for _batch in 0..40 {
        let mut liked = Vec::with_capacity(100);
        for _ in 0..100 {
            user += 1;
            let (v, rid) = ask(&h, &format!("u{user}")).await;
            let i = usize::from(v == "b");
            served[i] += 1;
            liked.push((rid, rng.f64() < if i == 1 { 0.6 } else { 0.4 }));
        }
        // Feedback once the batch's records are written (the log flushes every 20 ms).
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        for (rid, yes) in liked {
            let (s, b) = h
                .json_as(
                    KEY,
                    "POST",
                    "/v1/feedback",
                    json!({"request_id": rid, "score": u8::from(yes)}),
                )
                .await;
            assert_eq!(s, 201, "{b}");
        }
        let (s, r) = admin(
            &h,
            "GET",
            "/admin/v1/experiments/warmth/results",
            Value::Null,
        )
        .await;
        assert_eq!(s, 200, "{r}");
        results = r;
        if results["status"] == "concluded" {
            break;
        }
    }
    assert_eq!(results["winner"], "b", "{results}");
    assert!(
        served[1] > served[0],
        "b served {} against a's {}",
        served[1],
        served[0]
    );
    let b = &results["variants"][1];
    assert!(b["p_best"].as_f64().unwrap() > 0.95, "{results}");
    let (lo, _) = (
        b["anytime"][0].as_f64().unwrap(),
        b["anytime"][1].as_f64().unwrap(),
    );
    assert!(lo > results["variants"][0]["anytime"][1].as_f64().unwrap());
    assert!(b["requests"].as_u64().unwrap() >= b["n"].as_u64().unwrap());
    // Concluded: every request now gets the winner.
    let (v, _) = ask(&h, "someone-new").await;
    assert_eq!(v, "b");
    // Promoting the winner moves the label and stops the experiment, in one audited change.
    let (s, e) = admin(
        &h,
        "POST",
        "/admin/v1/experiments/warmth/promote",
        json!({}),
    )
    .await;
    assert_eq!((s, e["status"].as_str()), (200, Some("stopped")), "{e}");
    let (_, p) = admin(&h, "GET", "/admin/v1/prompts/greet", Value::Null).await;
    assert_eq!(p["labels"]["production"], 2);
    let (_, hd, _) = h
        .chat(&json!({"prompt": {"id": "greet"}}).to_string())
        .await;
    assert_eq!(hd["x-switchyard-prompt"], "greet@2");
    assert!(hd.get("x-switchyard-experiment").is_none());
    let (_, audit) = admin(&h, "GET", "/admin/v1/audit", Value::Null).await;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"experiment.conclude") && actions.contains(&"experiment.promote"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn a_route_experiment_splits_a_models_traffic_between_models() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    let (s, e) = admin(
        &h,
        "POST",
        "/admin/v1/experiments",
        json!({
            "id": "cheaper", "route": "openai/gpt-4o", "unit": "end_user",
            "variants": [
                {"name": "big", "model": "openai/gpt-4o"},
                {"name": "mini", "model": "openai/gpt-4o-mini", "params": {"temperature": 0.2}}
            ]
        }),
    )
    .await;
    assert_eq!(s, 201, "{e}");
    let mut seen = std::collections::HashMap::new();
    for u in 0..60 {
        let user = format!("u{u}");
        let body =
            json!({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}]});
        let (s, hd, _) = h
            .post_with(
                "/v1/chat/completions",
                &body.to_string(),
                &[("x-switchyard-end-user", &user)],
            )
            .await;
        assert_eq!(s, 200);
        let variant = hd["x-switchyard-experiment"]
            .to_str()
            .unwrap()
            .split('/')
            .nth(1)
            .unwrap()
            .to_owned();
        let sent: Value = serde_json::from_str(&h.mock.requests().last().unwrap().body).unwrap();
        match variant.as_str() {
            "big" => assert_eq!(
                (sent["model"].as_str(), sent.get("temperature")),
                (Some("gpt-4o"), None)
            ),
            _ => assert_eq!(
                (sent["model"].as_str(), sent["temperature"].as_f64()),
                (Some("gpt-4o-mini"), Some(0.2))
            ),
        }
        // Sticky: the same user again gets the same variant.
        let (_, again, _) = h
            .post_with(
                "/v1/chat/completions",
                &body.to_string(),
                &[("x-switchyard-end-user", &user)],
            )
            .await;
        assert_eq!(
            again["x-switchyard-experiment"].to_str().unwrap(),
            format!("cheaper/{variant}")
        );
        *seen.entry(variant).or_insert(0) += 1;
    }
    assert!(
        seen.len() == 2 && seen.values().all(|n| *n >= 15),
        "{seen:?}"
    );
    // Requests for other models are outside it; its results count the requests.
    let (_, hd, _) = h
        .chat(
            &json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]})
                .to_string(),
        )
        .await;
    assert!(hd.get("x-switchyard-experiment").is_none());
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let (s, r) = admin(
        &h,
        "GET",
        "/admin/v1/experiments/cheaper/results",
        Value::Null,
    )
    .await;
    assert_eq!(s, 200, "{r}");
    let requests: u64 = r["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(requests, 120);
    // A route experiment has no label to promote to.
    let (s, _) = admin(
        &h,
        "POST",
        "/admin/v1/experiments/cheaper/promote",
        json!({}),
    )
    .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn outcomes_per_session_count_each_session_once() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    setup(&h).await;
    let (s, e) = admin(
        &h,
        "POST",
        "/admin/v1/experiments",
        json!({
            "id": "per-session", "prompt": "greet", "unit": "session",
            "variants": [{"name": "a", "version": 1}, {"name": "b", "version": 2}]
        }),
    )
    .await;
    assert_eq!(s, 201, "{e}");
    // 10 sessions of 3 requests, each session one W3C trace; feedback on the session's trace.
    let mut variants = Vec::new();
    for sess in 0..10u32 {
        let trace = format!("{:032x}", 0xabc000 + sess);
        let tp = format!("00-{trace}-00f067aa0ba902b7-01");
        let mut got = Vec::new();
        for _ in 0..3 {
            let (s, hd, _) = h
                .post_with(
                    "/v1/chat/completions",
                    &json!({"prompt": {"id": "greet"}}).to_string(),
                    &[("traceparent", &tp)],
                )
                .await;
            assert_eq!(s, 200);
            got.push(hd["x-switchyard-experiment"].to_str().unwrap().to_owned());
        }
        assert!(
            got.iter().all(|g| g == &got[0]),
            "a session keeps its variant: {got:?}"
        );
        variants.push(got[0].clone());
        tokio::time::sleep(std::time::Duration::from_millis(60)).await;
        let (s, b) = h
            .json_as(
                KEY,
                "POST",
                "/v1/feedback",
                json!({"trace_id": trace, "score": 1}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
    let (_, r) = admin(
        &h,
        "GET",
        "/admin/v1/experiments/per-session/results",
        Value::Null,
    )
    .await;
    let n: u64 = r["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["n"].as_u64().unwrap())
        .sum();
    let requests: u64 = r["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["requests"].as_u64().unwrap())
        .sum();
    assert_eq!((n, requests), (10, 30), "{r}");
    let b = variants.iter().filter(|v| v.ends_with("/b")).count() as u64;
    assert_eq!(r["variants"][1]["n"].as_u64(), Some(b), "{r}");
}
