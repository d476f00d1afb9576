//! Dataset runs through the real gateway: 200 rows over two prompt versions (each answering
//! through the mock as its variant's parameters say), every row scored by exact match,
//! similarity and a guardrail check, the summary's figures checked against a computation here;
//! a cost estimate before starting; cancelling a run stops its upstream calls.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::*;

const ADMIN: &str = "admin-key-runs";

fn yaml() -> String {
    format!(
        "server:\n  discover_env: false\n  admin_keys: [{{name: ops, key: {ADMIN}}}]\n  log: {{flush_interval_ms: 20, bodies: true}}\nproviders:\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\nclient_keys:\n  - name: test\n    key: {KEY}\n"
    )
}

async fn admin(h: &Harness, method: &str, path: &str, body: Value) -> (u16, Value) {
    h.json_as(ADMIN, method, path, body).await
}

async fn setup(h: &Harness, rows: usize) {
    let v = |text: &str| json!({"messages": [{"role": "user", "content": text}], "model": "openai/gpt-4o-mini"});
    let (s, _) = admin(
        h,
        "POST",
        "/admin/v1/prompts",
        json!({"id": "qa", "version": v("Answer yes or no: {{question}}")}),
    )
    .await;
    assert_eq!(s, 201);
    let (s, _) = admin(
        h,
        "POST",
        "/admin/v1/prompts/qa/versions",
        v("Think, then answer yes or no: {{question}}"),
    )
    .await;
    assert_eq!(s, 201);
    let jsonl: String = (0..rows)
        .map(|i| json!({"variables": {"question": format!("q{i}")}, "expected": if i % 3 == 0 { "yes" } else { "no" }}).to_string() + "\n")
        .collect();
    let (s, d) = admin(
        h,
        "POST",
        "/admin/v1/datasets",
        json!({"id": "yes-no", "jsonl": jsonl}),
    )
    .await;
    assert_eq!((s, d["rows"].as_u64()), (201, Some(rows as u64)), "{d}");
}

fn wilson(s: f64, n: f64) -> (f64, f64) {
    let z: f64 = 1.959_963_984_540_054;
    let p = s / n;
    let z2 = z * z;
    let c = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let h = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    (c - h, c + h)
}

#[tokio::test]
async fn a_run_of_200_rows_over_two_versions_is_scored_and_summarised() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    setup(&h, 200).await;
    let run = json!({
        "id": "r1", "dataset": "yes-no", "prompt": "qa", "concurrency": 4,
        "variants": [
            {"name": "a", "version": 1, "params": {"mock": {"content": "yes"}}},
            {"name": "b", "version": 2, "params": {"mock": {"content": "no"}}}
        ],
        "evaluators": [
            {"type": "exact"}, {"type": "similarity"},
            {"type": "check", "name": "says-yes", "check": {"check": "contains", "words": ["yes"]}, "expect": "fire"},
            {"type": "judge", "model": "openai/gpt-4o-mini", "params": {"mock": {"content": "7 out of 10: fair"}}}
        ]
    });
    // The estimate first: 400 requests, nothing sent.
    let mut dry = run.clone();
    dry["dry_run"] = json!(true);
    let (s, e) = admin(&h, "POST", "/admin/v1/runs", dry).await;
    assert_eq!(
        (s, e["estimate"]["requests"].as_u64()),
        (200, Some(400)),
        "{e}"
    );
    assert!(e["estimate"]["input_tokens"].as_u64().unwrap() > 400);
    assert!(h.mock.requests().is_empty());
    let (s, r) = admin(&h, "POST", "/admin/v1/runs", run).await;
    assert_eq!(
        (s, r["status"].as_str(), r["total"].as_u64()),
        (201, Some("running"), Some(400)),
        "{r}"
    );
    let mut done = Value::Null;
    for _ in 0..600 {
        let (_, r) = admin(&h, "GET", "/admin/v1/runs/r1", Value::Null).await;
        if r["status"] == "done" {
            done = r;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(done["done"], 400, "{done}");
    // 400 answers and 400 judgements; the judge saw the answer and the expected output.
    assert_eq!(h.mock.requests().len(), 800);
    let all: Vec<Value> = h
        .mock
        .requests()
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    let is_judge = |b: &Value| {
        b["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("Rate the answer from 0 to 10")
    };
    let judged: Vec<&Value> = all.iter().filter(|b| is_judge(b)).collect();
    assert_eq!(judged.len(), 400);
    assert!(judged[0]["messages"][0]["content"]
        .as_str()
        .unwrap()
        .contains("A good answer would be close to:"));
    // Each version's prompt reached the upstream.
    let sent: Vec<Value> = all.into_iter().filter(|b| !is_judge(b)).collect();
    assert_eq!(
        sent.iter()
            .filter(|b| b["messages"][0]["content"]
                .as_str()
                .unwrap()
                .starts_with("Think"))
            .count(),
        200
    );
    // The summary against a computation here: a always says yes (right on the 67 rows whose
    // answer is yes), b always no (right on the other 133).
    let yes_rows = (0..200).filter(|i| i % 3 == 0).count() as f64;
    let summary = &done["summary"]["variants"];
    for (i, right, says_yes) in [(0, yes_rows, 1.0), (1, 200.0 - yes_rows, 0.0)] {
        let v = &summary[i];
        assert_eq!(
            (v["requests"].as_u64(), v["errors"].as_u64()),
            (Some(200), Some(0))
        );
        let exact = &v["evaluators"]["exact"];
        assert_eq!(exact["n"], 200);
        assert!(
            (exact["mean"].as_f64().unwrap() - right / 200.0).abs() < 1e-12,
            "{v}"
        );
        let (lo, hi) = wilson(right, 200.0);
        assert!(
            (exact["interval"][0].as_f64().unwrap() - lo).abs() < 1e-3,
            "{v}"
        );
        assert!(
            (exact["interval"][1].as_f64().unwrap() - hi).abs() < 1e-3,
            "{v}"
        );
        assert!(
            (v["evaluators"]["similarity"]["mean"].as_f64().unwrap() - right / 200.0).abs() < 1e-12
        );
        assert_eq!(v["evaluators"]["says-yes"]["mean"].as_f64(), Some(says_yes));
        let judge = &v["evaluators"]["judge"];
        assert_eq!(judge["n"], 200);
        assert!(
            (judge["mean"].as_f64().unwrap() - 0.7).abs() < 1e-9,
            "{judge}"
        );
        assert!(v["output_tokens"].as_u64().unwrap() >= 200);
        assert!(v["latency_ms"]["p50"].as_f64().unwrap() > 0.0);
    }
    // Rows side by side.
    let (s, res) = admin(
        &h,
        "GET",
        "/admin/v1/runs/r1/results?limit=200",
        Value::Null,
    )
    .await;
    assert_eq!(s, 200);
    let data = res["data"].as_array().unwrap();
    assert_eq!(data.len(), 200);
    assert_eq!(data[3]["outputs"]["a"]["output"], "yes");
    assert_eq!(data[3]["outputs"]["b"]["scores"]["exact"], 0.0);
    assert_eq!(data[3]["outputs"]["a"]["scores"]["exact"], 1.0);
    // Logged requests become a dataset: the last user message and the answer given.
    let (s, d) = admin(
        &h,
        "POST",
        "/admin/v1/datasets",
        json!({"id": "from-logs", "from_logs": {"filter": {"key": "run:r1"}, "limit": 10}}),
    )
    .await;
    assert_eq!((s, d["rows"].as_u64()), (201, Some(10)), "{d}");
    let (_, d) = admin(&h, "GET", "/admin/v1/datasets/from-logs", Value::Null).await;
    for row in d["data"].as_array().unwrap() {
        let input = row["variables"]["input"].as_str().unwrap();
        assert!(input.contains("yes or no: q"), "{row}");
        let want = if input.starts_with("Think") {
            "no"
        } else {
            "yes"
        };
        assert_eq!(row["expected"], want, "{row}");
    }
    // Uploads and runs are audited.
    let (_, audit) = admin(&h, "GET", "/admin/v1/audit", Value::Null).await;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"dataset.create") && actions.contains(&"run.create"),
        "{actions:?}"
    );
    // The summary's cost is the rows' costs added up.
    let cost_a: f64 = data
        .iter()
        .map(|r| r["outputs"]["a"]["cost_usd"].as_f64().unwrap())
        .sum();
    assert!((summary[0]["cost_usd"].as_f64().unwrap() - cost_a).abs() < 1e-9);
}

#[tokio::test]
async fn cancelling_a_run_stops_its_upstream_calls() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    setup(&h, 50).await;
    let slow = json!({"mock": {"content": "yes", "latency_ms": 400}});
    let (s, r) = admin(&h, "POST", "/admin/v1/runs", json!({
        "id": "slow", "dataset": "yes-no", "prompt": "qa", "concurrency": 2,
        "variants": [{"name": "a", "version": 1, "params": slow}, {"name": "b", "version": 2, "params": slow}]
    }))
    .await;
    assert_eq!(s, 201, "{r}");
    tokio::time::sleep(std::time::Duration::from_millis(900)).await;
    let (s, c) = admin(&h, "POST", "/admin/v1/runs/slow/cancel", Value::Null).await;
    assert_eq!((s, c["status"].as_str()), (200, Some("cancelled")), "{c}");
    let at_cancel = h.mock.stats().requests;
    assert!(at_cancel < 20, "{at_cancel} calls before cancelling");
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    // No call after the cancel, and the two in flight were cut (the mock saw its caller go).
    assert_eq!(h.mock.stats().requests, at_cancel);
    assert!(
        h.mock.stats().requests_abandoned >= 1,
        "{:?}",
        h.mock.stats()
    );
    let (_, again) = admin(&h, "POST", "/admin/v1/runs/slow/cancel", Value::Null).await;
    assert_eq!(again["error"]["code"], "conflict");
}

#[tokio::test]
async fn another_replica_sees_a_runs_progress() {
    // Two gateways sharing one tenants' store (SQLite file): the run runs on the first.
    let db = std::env::temp_dir().join(format!("sy-runs-{:016x}.db", fastrand::u64(..)));
    let shared = yaml().replace(
        "  log: {",
        &format!(
            "  tenants: {{sqlite_path: \"{}\"}}\n  log: {{",
            db.display()
        ),
    );
    let a = start_with(&shared, axum::Router::new()).await;
    let b = start_with(&shared, axum::Router::new()).await;
    setup(&a, 50).await;
    let slow = json!({"mock": {"content": "yes", "latency_ms": 100}});
    let (s, r) = admin(&a, "POST", "/admin/v1/runs", json!({
        "id": "shared", "dataset": "yes-no", "prompt": "qa", "concurrency": 4,
        "variants": [{"name": "a", "version": 1, "params": slow}, {"name": "b", "version": 2, "params": slow}]
    }))
    .await;
    assert_eq!(s, 201, "{r}");
    let mut seen_midway = false;
    for _ in 0..200 {
        let (_, r) = admin(&b, "GET", "/admin/v1/runs/shared", Value::Null).await;
        let done = r["done"].as_u64().unwrap_or(0);
        if r["status"] == "running" && done > 0 {
            assert!(done < 100);
            seen_midway = true;
        }
        if r["status"] == "done" {
            assert_eq!(r["done"], 100);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        seen_midway,
        "the second replica never saw the run in progress"
    );
    let _ = std::fs::remove_file(&db);
}
