//! Guardrails on the request path: input policies deny before any provider is called (in the
//! caller's shape, or with Portkey's 446), flag with a header, and redact the body sent
//! upstream; policies attach to the organisation, keys and routes, and callers can add
//! (never remove) policies by header.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::*;

const POLICIES: &str = r#"guardrails:
  policies:
    - id: no-falcon
      action: deny
      checks:
        - check: regex_match
          patterns: ["(?i)project\\s+falcon"]
    - id: watch-refunds
      checks:
        - check: contains
          words: [refund]
    - id: mask-accounts
      action: redact
      checks:
        - check: regex_redact
          patterns: [{label: account, pattern: "ACC-\\d{4}"}]
    - id: only-mini
      action: deny
      checks:
        - check: model_allowlist
          allow: ["openai/gpt-4o-mini", "anthropic/*"]
  attach:
    org: [no-falcon, watch-refunds]
    keys: {test: [mask-accounts]}
"#;

const ADMIN: &str = "admin-key-123";

/// The newest record in the request log, once the log holds one.
async fn newest_record(h: &Harness) -> Value {
    for _ in 0..100 {
        let (_, _, b) = h
            .request(
                "GET",
                "/admin/v1/logs",
                &[("authorization", &format!("Bearer {ADMIN}"))],
                "",
            )
            .await;
        let v: Value = serde_json::from_slice(&b).unwrap();
        if let Some(r) = v["data"].as_array().and_then(|d| d.first()) {
            return r.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the request log stayed empty");
}

fn yaml(extra: &str) -> String {
    format!(
        "server:\n  discover_env: false\n  admin_keys: [{{name: ops, key: {ADMIN}}}]\nproviders:\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\n  - name: anthropic\n    base_url: ${{MOCK_ROOT}}\n    api_key: sk-ant\nclient_keys:\n  - name: test\n    key: {KEY}\n  - name: other\n    key: other-key-123\n{POLICIES}{extra}"
    )
}

async fn chat(
    h: &Harness,
    key: &str,
    content: &str,
    extra: &[(&str, &str)],
) -> (u16, http::HeaderMap, Value) {
    let auth = format!("Bearer {key}");
    let mut headers = vec![
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    headers.extend_from_slice(extra);
    let body =
        json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": content}]});
    let (s, h, b) = h
        .request("POST", "/v1/chat/completions", &headers, body.to_string())
        .await;
    (s, h, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

fn upstream_calls(h: &Harness) -> usize {
    h.mock
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/chat/completions") || r.path.ends_with("/messages"))
        .count()
}

#[tokio::test]
async fn an_input_deny_never_calls_the_provider_and_answers_in_the_callers_shape() {
    let h = start_with(&yaml(""), axum::Router::new()).await;
    let (s, _, b) = chat(&h, KEY, "What is the status of Project Falcon?", &[]).await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["error"]["code"], "content_policy_violation");
    assert_eq!(b["error"]["type"], "invalid_request_error");
    assert_eq!(
        b["error"]["message"],
        "The request was refused by guardrail policy 'no-falcon': check regex_match found pattern 0."
    );
    assert_eq!(upstream_calls(&h), 0);
    let (s, _, b) = h
        .request(
            "POST",
            "/v1/messages",
            &[
                ("x-api-key", KEY),
                ("content-type", "application/json"),
                ("anthropic-version", "2023-06-01"),
            ],
            json!({"model": "anthropic/claude-3-5-haiku-latest", "max_tokens": 10,
                "system": "Project Falcon is secret",
                "messages": [{"role": "user", "content": "hi"}]})
            .to_string(),
        )
        .await;
    let b: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(s, 400, "{b}");
    assert_eq!(
        (b["type"].as_str(), b["error"]["type"].as_str()),
        (Some("error"), Some("invalid_request_error"))
    );
    assert_eq!(upstream_calls(&h), 0);
    // A benign request goes through.
    let (s, headers, _) = chat(&h, "other-key-123", "hello", &[]).await;
    assert_eq!(s, 200);
    assert!(headers.get("x-switchyard-guardrails").is_none());
    assert_eq!(upstream_calls(&h), 1);
}

#[tokio::test]
async fn portkey_status_codes_answer_446() {
    let h = start_with(&yaml("  status_codes: portkey\n"), axum::Router::new()).await;
    let (s, _, b) = chat(&h, KEY, "project falcon", &[]).await;
    assert_eq!(s, 446, "{b}");
    assert_eq!(b["error"]["code"], "content_policy_violation");
}

#[tokio::test]
async fn a_flag_is_named_in_a_header_and_a_redaction_rewrites_what_the_provider_gets() {
    let h = start_with(&yaml(""), axum::Router::new()).await;
    let (s, headers, _) = chat(&h, KEY, "refund ACC-1234 please", &[]).await;
    assert_eq!(s, 200);
    assert_eq!(
        headers.get("x-switchyard-guardrails").unwrap(),
        "flag=watch-refunds, redact=mask-accounts"
    );
    let sent: Value = serde_json::from_str(&h.mock.requests().last().unwrap().body).unwrap();
    assert_eq!(sent["messages"][0]["content"], "refund [ACCOUNT] please");
    assert_eq!(sent["model"], "gpt-4o-mini");
    // Every verdict is in the request's record: policy, check, stage, spans, labels, latency.
    let record = newest_record(&h).await;
    // Three input verdicts, and three output ones (these policies run on both stages).
    let all = record["guardrails"].as_array().unwrap();
    assert_eq!(all.len(), 6, "{record}");
    let verdicts: Vec<&Value> = all.iter().filter(|v| v["stage"] == "input").collect();
    assert_eq!(verdicts.len(), 3, "{record}");
    let mask = verdicts
        .iter()
        .find(|v| v["policy"] == "mask-accounts")
        .unwrap();
    assert_eq!(
        (
            mask["check"].as_str(),
            mask["stage"].as_str(),
            mask["fired"].as_bool(),
            mask["action"].as_str()
        ),
        (
            Some("regex_redact"),
            Some("input"),
            Some(true),
            Some("redact")
        )
    );
    assert_eq!(mask["spans"], json!([[0, 7, 15]]));
    assert_eq!(mask["labels"], json!(["account"]));
    assert!(mask["latency_us"].is_u64());
    let falcon = verdicts
        .iter()
        .find(|v| v["policy"] == "no-falcon")
        .unwrap();
    assert_eq!(falcon["fired"], false);
    // And counted per check.
    let (_, _, m) = h
        .request(
            "GET",
            "/metrics",
            &[("authorization", &format!("Bearer {ADMIN}"))],
            "",
        )
        .await;
    let m = String::from_utf8_lossy(&m);
    assert!(m.contains("switchyard_guardrail_checks_total{policy=\"mask-accounts\",check=\"regex_redact\",stage=\"input\",result=\"fire\"} 1"), "{m}");
    assert!(m.contains("switchyard_guardrail_checks_total{policy=\"no-falcon\",check=\"regex_match\",stage=\"input\",result=\"pass\"} 1"), "{m}");
    // The policy is attached to key `test` only.
    let (_, headers, _) = chat(&h, "other-key-123", "refund ACC-1234 please", &[]).await;
    assert_eq!(
        headers.get("x-switchyard-guardrails").unwrap(),
        "flag=watch-refunds"
    );
    let sent: Value = serde_json::from_str(&h.mock.requests().last().unwrap().body).unwrap();
    assert_eq!(sent["messages"][0]["content"], "refund ACC-1234 please");
}

#[tokio::test]
async fn callers_add_policies_by_header_and_cannot_name_unknown_ones() {
    let h = start_with(&yaml(""), axum::Router::new()).await;
    let body = json!({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}]});
    let auth = format!("Bearer {KEY}");
    let send = |extra: Option<&'static str>| {
        let mut headers = vec![
            ("authorization", auth.clone()),
            ("content-type", "application/json".into()),
        ];
        if let Some(v) = extra {
            headers.push(("x-switchyard-guardrails", v.into()));
        }
        let body = body.to_string();
        let h = &h;
        async move {
            let hs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (s, _, b) = h.request("POST", "/v1/chat/completions", &hs, body).await;
            (
                s,
                serde_json::from_slice::<Value>(&b).unwrap_or(Value::Null),
            )
        }
    };
    assert_eq!(send(None).await.0, 200);
    let (s, b) = send(Some("only-mini")).await;
    assert_eq!(s, 400, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'only-mini'"),
        "{b}"
    );
    let (s, b) = send(Some("only-mini, nope")).await;
    assert_eq!(s, 400);
    assert_eq!(
        b["error"]["message"],
        "the x-switchyard-guardrails header names no policy \"nope\""
    );
    // Naming fewer policies removes none of those attached: the deny still holds.
    let (s, _, _) = chat(
        &h,
        KEY,
        "project falcon",
        &[("x-switchyard-guardrails", "watch-refunds")],
    )
    .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn request_policies_can_be_turned_off() {
    let h = start_with(&yaml("  request_policies: false\n"), axum::Router::new()).await;
    let (s, _, b) = chat(&h, KEY, "hi", &[("x-switchyard-guardrails", "only-mini")]).await;
    assert_eq!(s, 400);
    assert!(b["error"]["message"]
        .as_str()
        .unwrap()
        .contains("guardrails.request_policies is off"));
}

const OUTPUT: &str = r#"guardrails:
  policies:
    - id: refuse-falcon
      action: deny
      stages: [output]
      refusal: "I can't discuss that project."
      checks:
        - check: regex_match
          patterns: ["(?i)project\\s+falcon"]
    - id: withhold-codes
      action: deny
      stages: [output]
      checks:
        - check: regex_match
          patterns: ["LAUNCH-CODE-\\d+"]
    - id: mask-accounts
      action: redact
      reversible: true
      checks:
        - check: regex_redact
          patterns: [{label: account, pattern: "ACC-\\d{4}"}]
    - id: retry-apology
      action: retry
      stages: [output]
      max_retries: 2
      checks:
        - check: contains
          words: [sorry]
    - id: next-on-draft
      action: fallback
      stages: [output]
      checks:
        - check: contains
          words: [DRAFT]
          case_sensitive: true
  attach:
    org: [refuse-falcon, withhold-codes, mask-accounts, retry-apology]
    routes: {careful: [next-on-draft]}
routes:
  careful:
    strategy: fallback
    targets:
      - {model: openai/gpt-4o-mini, params: {mock: {content: "DRAFT answer"}}}
      - {model: openai/gpt-4.1-nano, params: {mock: {content: "final answer"}}}
"#;

fn output_yaml() -> String {
    format!(
        "server:\n  discover_env: false\n  admin_keys: [{{name: ops, key: {ADMIN}}}]\nproviders:\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\n  - name: anthropic\n    base_url: ${{MOCK_ROOT}}\n    api_key: sk-ant\nclient_keys:\n  - name: test\n    key: {KEY}\n{OUTPUT}"
    )
}

async fn ask(h: &Harness, path: &str, body: Value) -> (u16, http::HeaderMap, Value) {
    let auth = format!("Bearer {KEY}");
    let (s, headers, b) = h
        .request(
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
    (
        s,
        headers,
        serde_json::from_slice(&b).unwrap_or(Value::Null),
    )
}

fn says(content: &str) -> Value {
    json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "tell me"}],
        "mock": {"content": content}})
}

#[tokio::test]
async fn an_output_deny_answers_the_refusal_as_each_api_ends_a_filtered_answer() {
    let h = start_with(&output_yaml(), axum::Router::new()).await;
    let (s, headers, b) = ask(
        &h,
        "/v1/chat/completions",
        says("Project Falcon ships in May"),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["choices"][0]["message"]["content"],
        "I can't discuss that project."
    );
    assert_eq!(b["choices"][0]["finish_reason"], "content_filter");
    assert!(b["usage"]["total_tokens"].as_u64().unwrap() > 0);
    assert_eq!(
        headers.get("x-switchyard-guardrails").unwrap(),
        "deny=refuse-falcon"
    );
    let (s, _, b) = ask(
        &h,
        "/v1/messages",
        json!({"model": "anthropic/claude-3-5-haiku-latest", "max_tokens": 50,
            "messages": [{"role": "user", "content": "tell me"}], "mock": {"content": "About project falcon: ..."}}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["stop_reason"], "refusal");
    assert_eq!(b["content"][0]["text"], "I can't discuss that project.");
    let (s, _, b) = ask(
        &h,
        "/v1/responses",
        json!({"model": "openai/gpt-4o-mini", "input": "tell me", "mock": {"content": "project falcon!"}}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["status"], "incomplete");
    assert_eq!(b["incomplete_details"]["reason"], "content_filter");
    assert_eq!(
        b["output"][0]["content"][0]["text"],
        "I can't discuss that project."
    );
    // Without a refusal, the answer is withheld with an error.
    let (s, _, b) = ask(
        &h,
        "/v1/chat/completions",
        says("the code is LAUNCH-CODE-7"),
    )
    .await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["error"]["code"], "content_policy_violation");
    assert!(b["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("The answer was withheld by guardrail policy 'withhold-codes'"));
}

#[tokio::test]
async fn redactions_mask_answers_and_reversible_tokens_come_back() {
    let h = start_with(&output_yaml(), axum::Router::new()).await;
    // The request's account is masked on the way in; the model answers with its token, which
    // the caller gets back as the original; a new account in the answer is masked (with the
    // plain label: a numbered token means nothing to the caller).
    let body = json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "move ACC-1234"}],
        "mock": {"content": "Moved [ACCOUNT_1]; also saw ACC-5555."}});
    let (s, _, b) = ask(&h, "/v1/chat/completions", body).await;
    assert_eq!(s, 200, "{b}");
    let sent: Value = serde_json::from_str(&h.mock.requests().last().unwrap().body).unwrap();
    assert_eq!(sent["messages"][0]["content"], "move [ACCOUNT_1]");
    assert_eq!(
        b["choices"][0]["message"]["content"],
        "Moved ACC-1234; also saw [ACCOUNT]."
    );
}

#[tokio::test]
async fn retry_tries_the_same_target_again_and_fallback_the_next() {
    let h = start_with(&output_yaml(), axum::Router::new()).await;
    h.mock.push_faults([
        switchyard_mock::Fault {
            content: Some("Sorry, I can't.".into()),
            ..Default::default()
        },
        switchyard_mock::Fault {
            content: Some("Here you go.".into()),
            ..Default::default()
        },
    ]);
    let (s, headers, b) = ask(
        &h,
        "/v1/chat/completions",
        json!({"model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": "please"}]}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["choices"][0]["message"]["content"], "Here you go.");
    assert_eq!(headers.get("x-switchyard-attempts").unwrap(), "2");
    assert_eq!(upstream_calls(&h), 2);
    // Always sorry: one try and max_retries (2) more, then the rejection is the answer.
    h.mock.push_faults((0..3).map(|_| switchyard_mock::Fault {
        content: Some("sorry".into()),
        ..Default::default()
    }));
    let (s, _, b) = ask(
        &h,
        "/v1/chat/completions",
        json!({"model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": "please"}]}),
    )
    .await;
    assert_eq!(s, 400, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'retry-apology'"),
        "{b}"
    );
    assert_eq!(upstream_calls(&h), 5);
    // The route's first target drafts; the policy attached to the route falls back to the next.
    let (s, headers, b) = ask(
        &h,
        "/v1/chat/completions",
        json!({"model": "careful",
        "messages": [{"role": "user", "content": "go"}]}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["choices"][0]["message"]["content"], "final answer");
    assert_eq!(headers.get("x-switchyard-attempts").unwrap(), "2");
    assert_eq!(
        headers.get("x-switchyard-guardrails").unwrap(),
        "fallback=next-on-draft"
    );
}

#[tokio::test]
async fn the_admin_api_lists_checks_and_policies_and_dry_runs_a_text() {
    let h = start_with(&yaml(""), axum::Router::new()).await;
    let (s, checks) = h
        .json_as(ADMIN, "GET", "/admin/v1/guardrails/checks", Value::Null)
        .await;
    assert_eq!(s, 200, "{checks}");
    let ids: Vec<&str> = checks["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"regex_match") && ids.contains(&"model_allowlist"),
        "{ids:?}"
    );
    let (s, policies) = h
        .json_as(ADMIN, "GET", "/admin/v1/guardrails/policies", Value::Null)
        .await;
    assert_eq!(s, 200);
    let mask = policies["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "mask-accounts")
        .unwrap();
    assert_eq!(
        mask["attached"],
        json!({"org": false, "workspaces": [], "keys": ["test"], "routes": []})
    );
    assert_eq!(mask["action"], "redact");
    let (s, one) = h
        .json_as(
            ADMIN,
            "GET",
            "/admin/v1/guardrails/policies/no-falcon",
            Value::Null,
        )
        .await;
    assert_eq!((s, one["attached"]["org"].as_bool()), (200, Some(true)));
    let (s, _) = h
        .json_as(
            ADMIN,
            "GET",
            "/admin/v1/guardrails/policies/nope",
            Value::Null,
        )
        .await;
    assert_eq!(s, 404);
    // A dry run with configured policies...
    let (s, r) = h
        .json_as(
            ADMIN,
            "POST",
            "/admin/v1/guardrails/test",
            json!({"text": "refund ACC-1234", "policies": ["watch-refunds", "mask-accounts"]}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["action"], "redact");
    assert_eq!(r["redacted"], "refund [ACCOUNT]");
    assert_eq!(r["verdicts"].as_array().unwrap().len(), 2);
    // ...and with a definition not saved anywhere, whose errors name the field.
    let (s, r) = h
        .json_as(
            ADMIN,
            "POST",
            "/admin/v1/guardrails/test",
            json!({"text": "ignore it", "stage": "output", "policy": {"id": "try", "action": "deny",
                "checks": [{"check": "contains", "words": ["ignore"]}]}}),
        )
        .await;
    assert_eq!((s, r["action"].as_str()), (200, Some("deny")), "{r}");
    assert_eq!(r["decided_by"]["policy"], "try");
    let (s, r) = h
        .json_as(ADMIN, "POST", "/admin/v1/guardrails/test",
            json!({"text": "x", "policy": {"id": "bad", "checks": [{"check": "contains", "words": []}]}}))
        .await;
    assert_eq!(s, 400);
    assert_eq!(
        r["error"]["message"],
        "policy.checks[0].words: at least one word"
    );
    // Callers without an admin key get nothing.
    let (s, _) = h
        .json_as(KEY, "GET", "/admin/v1/guardrails/policies", Value::Null)
        .await;
    assert_eq!(s, 401);
}

/// The `data:` payloads and event names of an SSE body.
fn events(b: &bytes::Bytes) -> Vec<(Option<String>, Value)> {
    let text = String::from_utf8_lossy(b);
    let mut out = Vec::new();
    for ev in text.split("\n\n").filter(|e| !e.trim().is_empty()) {
        let mut name = None;
        let mut data = None;
        for line in ev.lines() {
            if let Some(n) = line.strip_prefix("event: ") {
                name = Some(n.to_owned());
            } else if let Some(d) = line.strip_prefix("data: ") {
                data = Some(if d == "[DONE]" {
                    json!("[DONE]")
                } else {
                    serde_json::from_str(d).unwrap()
                });
            }
        }
        if let Some(d) = data {
            out.push((name, d));
        }
    }
    out
}

async fn stream(h: &Harness, path: &str, body: Value) -> (u16, Vec<(Option<String>, Value)>) {
    let auth = format!("Bearer {KEY}");
    let (s, _, b) = h
        .request(
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
    (s, events(&b))
}

#[tokio::test]
async fn streamed_answers_are_redacted_and_refused_in_each_callers_shape() {
    let h = start_with(&output_yaml(), axum::Router::new()).await;
    // Chat: an account split over chunks is masked before it goes out.
    let (s, evs) = stream(
        &h,
        "/v1/chat/completions",
        json!({"model": "openai/gpt-4o-mini", "stream": true,
        "messages": [{"role": "user", "content": "hi"}],
        "mock": {"content": "Your account ACC-4321 is open and well", "chunks": 8}}),
    )
    .await;
    assert_eq!(s, 200);
    let text: String = evs
        .iter()
        .filter_map(|(_, v)| v["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Your account [ACCOUNT] is open and well");
    assert!(!evs.iter().any(|(_, v)| v.to_string().contains("ACC-4321")));
    assert_eq!(evs.last().unwrap().1, json!("[DONE]"));
    // Chat: a deny ends the stream with the refusal and content_filter.
    let (_, evs) = stream(&h, "/v1/chat/completions", json!({"model": "openai/gpt-4o-mini", "stream": true,
        "messages": [{"role": "user", "content": "hi"}],
        "mock": {"content": "Sure. Project Falcon launches in May and then more words follow", "chunks": 10}})).await;
    let text: String = evs
        .iter()
        .filter_map(|(_, v)| v["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert!(!text.contains("Falcon"), "{text}");
    assert!(text.ends_with("I can't discuss that project."), "{text}");
    let finishes: Vec<&str> = evs
        .iter()
        .filter_map(|(_, v)| v["choices"][0]["finish_reason"].as_str())
        .collect();
    assert_eq!(finishes, vec!["content_filter"]);
    // Messages: stop_reason refusal, the blocks well formed.
    let (_, evs) = stream(
        &h,
        "/v1/messages",
        json!({"model": "anthropic/claude-3-5-haiku-latest", "stream": true,
        "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}],
        "mock": {"content": "About project falcon, here is everything", "chunks": 6}}),
    )
    .await;
    let names: Vec<&str> = evs.iter().filter_map(|(n, _)| n.as_deref()).collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(names.last(), Some(&"message_stop"));
    let delta = evs
        .iter()
        .find(|(n, _)| n.as_deref() == Some("message_delta"))
        .unwrap();
    assert_eq!(delta.1["delta"]["stop_reason"], "refusal");
    let text: String = evs
        .iter()
        .filter_map(|(_, v)| v["delta"]["text"].as_str())
        .collect();
    assert!(!text.to_lowercase().contains("falcon"), "{text}");
    // Responses: ends incomplete for the content filter.
    let (_, evs) = stream(
        &h,
        "/v1/responses",
        json!({"model": "openai/gpt-4o-mini", "stream": true, "input": "hi",
        "mock": {"content": "project falcon is the secret", "chunks": 5}}),
    )
    .await;
    let last = &evs.last().unwrap().1;
    assert_eq!(last["type"], "response.incomplete", "{evs:?}");
    assert_eq!(
        last["response"]["incomplete_details"]["reason"],
        "content_filter"
    );
    // Without a refusal: an error event in the caller's shape.
    let (_, evs) = stream(&h, "/v1/chat/completions", json!({"model": "openai/gpt-4o-mini", "stream": true,
        "messages": [{"role": "user", "content": "hi"}], "mock": {"content": "code LAUNCH-CODE-7 ok then", "chunks": 4}})).await;
    let last = &evs.last().unwrap().1;
    assert_eq!(last["error"]["code"], "content_policy_violation", "{evs:?}");
    assert!(!evs
        .iter()
        .any(|(_, v)| v.to_string().contains("LAUNCH-CODE")));
}

#[tokio::test]
async fn a_streamed_answers_verdicts_are_recorded() {
    let h = start_with(&output_yaml(), axum::Router::new()).await;
    let (s, _) = stream(&h, "/v1/chat/completions", json!({"model": "openai/gpt-4o-mini", "stream": true,
        "messages": [{"role": "user", "content": "hi"}], "mock": {"content": "ACC-1111 here", "chunks": 3}})).await;
    assert_eq!(s, 200);
    let record = newest_record(&h).await;
    let out: Vec<&Value> = record["guardrails"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["stage"] == "output")
        .collect();
    let mask = out.iter().find(|v| v["policy"] == "mask-accounts").unwrap();
    assert_eq!(
        (mask["fired"].as_bool(), mask["action"].as_str()),
        (Some(true), Some("redact"))
    );
}

// Policies set through the admin API (kept in the tenants' store).

const POLICIES_PATH: &str = "/admin/v1/guardrails/policies";

/// A chat request to `model` as `key`, with extra headers.
async fn say(
    h: &Harness,
    key: &str,
    model: &str,
    content: &str,
    extra: &[(&str, &str)],
) -> (u16, http::HeaderMap, Value) {
    let auth = format!("Bearer {key}");
    let mut headers = vec![
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    headers.extend_from_slice(extra);
    let body = json!({"model": model, "messages": [{"role": "user", "content": content}]});
    let (s, h, b) = h
        .request("POST", "/v1/chat/completions", &headers, body.to_string())
        .await;
    (s, h, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

fn flagged(headers: &http::HeaderMap) -> String {
    headers
        .get("x-switchyard-guardrails")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn deny_words(id: &str, word: &str) -> Value {
    json!({"id": id, "action": "deny", "checks": [{"check": "contains", "words": [word]}]})
}

/// An admin key for a new user with these workspace roles.
async fn admin_key_for(h: &Harness, email: &str, workspaces: Value) -> String {
    let (s, user) = h
        .json_as(
            ADMIN,
            "POST",
            "/admin/v1/users",
            json!({"email": email, "workspaces": workspaces}),
        )
        .await;
    assert_eq!(s, 201, "{user}");
    let (s, k) = h
        .json_as(
            ADMIN,
            "POST",
            &format!(
                "/admin/v1/users/{}/admin-keys",
                user["id"].as_str().unwrap()
            ),
            json!({"name": "k"}),
        )
        .await;
    assert_eq!(s, 201, "{k}");
    k["key"].as_str().unwrap().to_owned()
}

async fn workspace(h: &Harness, name: &str) -> String {
    let (s, w) = h
        .json_as(ADMIN, "POST", "/admin/v1/workspaces", json!({"name": name}))
        .await;
    assert_eq!(s, 201, "{w}");
    w["id"].as_str().unwrap().to_owned()
}

/// A policy created through the admin API applies to the very next request, a change to it
/// too, and once deleted it stops applying; it is listed beside the config file's, and each
/// change is audited.
#[tokio::test]
async fn a_policy_set_through_the_admin_api_applies_at_once_changes_and_goes() {
    let h = start_with(&yaml(""), axum::Router::new()).await;
    assert_eq!(chat(&h, KEY, "tell me about osprey", &[]).await.0, 200);
    let mut def = deny_words("no-osprey", "osprey");
    def["attach"] = json!({"org": true});
    let (s, made) = h.json_as(ADMIN, "POST", POLICIES_PATH, def).await;
    assert_eq!(s, 201, "{made}");
    assert_eq!(
        (
            made["object"].as_str(),
            made["source"].as_str(),
            &made["workspace"]
        ),
        (Some("guardrail_policy"), Some("api"), &Value::Null)
    );
    assert_eq!(
        made["attach"],
        json!({"org": true, "keys": [], "routes": []})
    );
    assert_eq!(made["stages"], json!(["input", "output"]));
    let calls = upstream_calls(&h);
    let (s, _, b) = chat(&h, "other-key-123", "tell me about osprey", &[]).await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["error"]["code"], "content_policy_violation");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("guardrail policy 'no-osprey'"),
        "{b}"
    );
    assert_eq!(upstream_calls(&h), calls);
    // Turned into a flag: the next request goes through, the policy named in the header.
    let (s, changed) = h
        .json_as(
            ADMIN,
            "PATCH",
            &format!("{POLICIES_PATH}/no-osprey"),
            json!({"action": "flag"}),
        )
        .await;
    assert_eq!(s, 200, "{changed}");
    assert_eq!(
        (changed["action"].as_str(), &changed["created_ms"]),
        (Some("flag"), &made["created_ms"])
    );
    assert_eq!(changed["attach"]["org"], true);
    let (s, headers, _) = chat(&h, "other-key-123", "tell me about osprey", &[]).await;
    assert_eq!(s, 200);
    assert!(flagged(&headers).contains("flag=no-osprey"), "{headers:?}");
    // Listed beside the config file's.
    let (s, all) = h.json_as(ADMIN, "GET", POLICIES_PATH, Value::Null).await;
    assert_eq!(s, 200);
    let sources: Vec<(&str, &str)> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["source"].as_str().unwrap()))
        .collect();
    assert_eq!(
        sources,
        [
            ("mask-accounts", "config"),
            ("no-falcon", "config"),
            ("only-mini", "config"),
            ("watch-refunds", "config"),
            ("no-osprey", "api"),
        ]
    );
    let (s, one) = h
        .json_as(
            ADMIN,
            "GET",
            &format!("{POLICIES_PATH}/no-osprey"),
            Value::Null,
        )
        .await;
    assert_eq!((s, one["action"].as_str()), (200, Some("flag")), "{one}");
    // A dry run names it like a config file's.
    let (s, r) = h
        .json_as(
            ADMIN,
            "POST",
            "/admin/v1/guardrails/test",
            json!({"text": "an osprey", "policies": ["no-osprey"]}),
        )
        .await;
    assert_eq!((s, r["action"].as_str()), (200, Some("flag")), "{r}");
    // Deleted: it no longer applies.
    let (s, gone) = h
        .json_as(
            ADMIN,
            "DELETE",
            &format!("{POLICIES_PATH}/no-osprey"),
            Value::Null,
        )
        .await;
    assert_eq!((s, gone["deleted"].as_bool()), (200, Some(true)), "{gone}");
    let (s, headers, _) = chat(&h, "other-key-123", "tell me about osprey", &[]).await;
    assert_eq!(s, 200);
    assert!(headers.get("x-switchyard-guardrails").is_none());
    let (s, _) = h
        .json_as(
            ADMIN,
            "GET",
            &format!("{POLICIES_PATH}/no-osprey"),
            Value::Null,
        )
        .await;
    assert_eq!(s, 404);
    let (_, audit) = h
        .json_as(ADMIN, "GET", "/admin/v1/audit?limit=3", Value::Null)
        .await;
    let actions: Vec<(&str, &str)> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["target"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [
            ("guardrail_policy.delete", "guardrail_policy:no-osprey"),
            ("guardrail_policy.update", "guardrail_policy:no-osprey"),
            ("guardrail_policy.create", "guardrail_policy:no-osprey"),
        ]
    );
}

/// Where API policies apply: an organisation's by key (name or virtual key id) and by route,
/// or only when a request names it; a workspace's on that workspace's requests (narrowed to
/// the keys and routes it names, when it names some), never on another's, whose callers cannot
/// name it either.
#[tokio::test]
async fn api_policies_attach_to_keys_routes_and_workspaces_and_callers_name_them() {
    let routes = "routes:\n  support:\n    strategy: fallback\n    targets:\n      - {model: openai/gpt-4o-mini}\n";
    let h = start_with(&yaml(routes), axum::Router::new()).await;
    let post = |def: Value| h.json_as(ADMIN, "POST", POLICIES_PATH, def);
    // By a static key's name.
    let mut def =
        json!({"id": "flag-kestrel", "checks": [{"check": "contains", "words": ["kestrel"]}]});
    def["attach"] = json!({"keys": ["other"]});
    assert_eq!(post(def).await.0, 201);
    let (_, headers, _) = chat(&h, KEY, "a kestrel", &[]).await;
    assert!(!flagged(&headers).contains("flag-kestrel"), "{headers:?}");
    let (_, headers, _) = chat(&h, "other-key-123", "a kestrel", &[]).await;
    assert!(
        flagged(&headers).contains("flag=flag-kestrel"),
        "{headers:?}"
    );
    // By route.
    let mut def = deny_words("route-heron", "heron");
    def["attach"] = json!({"routes": ["support"]});
    let (s, made) = post(def).await;
    assert_eq!(s, 201, "{made}");
    assert_eq!(say(&h, KEY, "support", "a heron", &[]).await.0, 400);
    assert_eq!(
        say(&h, KEY, "openai/gpt-4o-mini", "a heron", &[]).await.0,
        200
    );
    // Attached nowhere: only when a request names it.
    assert_eq!(post(deny_words("on-request", "plover")).await.0, 201);
    assert_eq!(chat(&h, KEY, "a plover", &[]).await.0, 200);
    let named = [("x-switchyard-guardrails", "on-request")];
    let (s, _, b) = chat(&h, KEY, "a plover", &named).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["error"]["message"]
        .as_str()
        .unwrap()
        .contains("'on-request'"));
    // A workspace's: on its requests (a virtual key of it), not on the default workspace's.
    let team = workspace(&h, "team-a").await;
    let (s, vk) = h
        .json_as(
            ADMIN,
            "POST",
            &format!("/admin/v1/workspaces/{team}/keys"),
            json!({"name": "team-key"}),
        )
        .await;
    assert_eq!(s, 201, "{vk}");
    let (vk_id, vk) = (
        vk["id"].as_str().unwrap().to_owned(),
        vk["key"].as_str().unwrap().to_owned(),
    );
    let mut def = deny_words("team-grebe", "grebe");
    def["workspace"] = json!(team);
    let (s, made) = post(def).await;
    assert_eq!(s, 201, "{made}");
    assert_eq!(made["workspace"], team.as_str());
    assert_eq!(chat(&h, &vk, "a grebe", &[]).await.0, 400);
    assert_eq!(chat(&h, KEY, "a grebe", &[]).await.0, 200);
    // Another workspace's callers cannot name it.
    let named = [("x-switchyard-guardrails", "team-grebe")];
    let (s, _, b) = chat(&h, KEY, "hello", &named).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["error"]["message"]
        .as_str()
        .unwrap()
        .contains("names no policy \"team-grebe\""));
    // Narrowed to other keys of the workspace: not on this key's requests; by its id: again.
    let path = format!("{POLICIES_PATH}/team-grebe");
    let (s, changed) = h
        .json_as(
            ADMIN,
            "PATCH",
            &path,
            json!({"attach": {"keys": ["someone-else"]}}),
        )
        .await;
    assert_eq!(s, 200, "{changed}");
    assert_eq!(chat(&h, &vk, "a grebe", &[]).await.0, 200);
    let (s, _) = h
        .json_as(ADMIN, "PATCH", &path, json!({"attach": {"keys": [vk_id]}}))
        .await;
    assert_eq!(s, 200);
    assert_eq!(chat(&h, &vk, "a grebe", &[]).await.0, 400);
    // An organisation's attached by a virtual key's id.
    let mut def = deny_words("vk-wren", "wren");
    def["attach"] = json!({"keys": [vk_id]});
    assert_eq!(post(def).await.0, 201);
    assert_eq!(chat(&h, &vk, "a wren", &[]).await.0, 400);
    assert_eq!(chat(&h, KEY, "a wren", &[]).await.0, 200);
}

/// A workspace admin creates, changes and deletes its workspace's policies only: never the
/// organisation's (nor one applying to every request), never another workspace's (a 404, as
/// if it did not exist); its viewers read them.
#[tokio::test]
async fn a_workspace_admin_manages_only_its_workspaces_policies() {
    let h = start_with(&yaml(""), axum::Router::new()).await;
    let a = workspace(&h, "a").await;
    let b = workspace(&h, "b").await;
    let ws_admin = admin_key_for(&h, "admin@a.example", json!({&a: "admin"})).await;
    let viewer = admin_key_for(&h, "viewer@a.example", json!({&a: "viewer"})).await;
    let as_admin = |method: &'static str, path: String, body: Value| {
        let key = ws_admin.clone();
        let h = &h;
        async move { h.json_as(&key, method, &path, body).await }
    };
    // The organisation's: an org admin's to make.
    let mut def = deny_words("org-wide", "x");
    def["attach"] = json!({"org": true});
    let (s, e) = as_admin("POST", POLICIES_PATH.into(), def.clone()).await;
    assert_eq!(s, 403, "{e}");
    let (s, e) = as_admin("POST", POLICIES_PATH.into(), deny_words("org-any", "x")).await;
    assert_eq!(s, 403, "{e}");
    // A workspace's policy applies to its own requests, not to every request.
    def["workspace"] = json!(a);
    let (s, e) = as_admin("POST", POLICIES_PATH.into(), def).await;
    assert_eq!(
        (s, e["error"]["param"].as_str()),
        (400, Some("attach.org")),
        "{e}"
    );
    let mut mine = deny_words("a-policy", "x");
    mine["workspace"] = json!(a);
    let (s, made) = as_admin("POST", POLICIES_PATH.into(), mine).await;
    assert_eq!(s, 201, "{made}");
    let mut theirs = deny_words("b-policy", "x");
    theirs["workspace"] = json!(b);
    let (s, _) = as_admin("POST", POLICIES_PATH.into(), theirs.clone()).await;
    assert_eq!(s, 404);
    // An org admin makes the others.
    assert_eq!(h.json_as(ADMIN, "POST", POLICIES_PATH, theirs).await.0, 201);
    assert_eq!(
        h.json_as(ADMIN, "POST", POLICIES_PATH, deny_words("org-policy", "x"))
            .await
            .0,
        201
    );
    // It sees the organisation's and its own, not the other workspace's.
    let (s, all) = as_admin("GET", POLICIES_PATH.into(), Value::Null).await;
    assert_eq!(s, 200);
    let api: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["source"] == "api")
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(api, ["a-policy", "org-policy"]);
    let one = |p: &str| format!("{POLICIES_PATH}/{p}");
    assert_eq!(as_admin("GET", one("b-policy"), Value::Null).await.0, 404);
    assert_eq!(
        as_admin("DELETE", one("b-policy"), Value::Null).await.0,
        404
    );
    assert_eq!(
        as_admin("DELETE", one("org-policy"), Value::Null).await.0,
        403
    );
    assert_eq!(
        as_admin("PATCH", one("org-policy"), json!({"description": "mine"}))
            .await
            .0,
        403
    );
    // Nor can it hand its own to the organisation, or to another workspace.
    let (s, _) = as_admin("PATCH", one("a-policy"), json!({"workspace": null})).await;
    assert_eq!(s, 403);
    let (s, _) = as_admin("PATCH", one("a-policy"), json!({"workspace": b})).await;
    assert_eq!(s, 404);
    let (s, changed) = as_admin("PATCH", one("a-policy"), json!({"description": "ours"})).await;
    assert_eq!((s, changed["description"].as_str()), (200, Some("ours")));
    // Its viewers read, and change nothing.
    let (s, read) = h
        .json_as(&viewer, "GET", &one("a-policy"), Value::Null)
        .await;
    assert_eq!((s, read["workspace"].as_str()), (200, Some(a.as_str())));
    let (s, _) = h
        .json_as(
            &viewer,
            "PATCH",
            &one("a-policy"),
            json!({"description": "x"}),
        )
        .await;
    assert_eq!(s, 403);
    assert_eq!(
        as_admin("DELETE", one("a-policy"), Value::Null).await.0,
        200
    );
}

/// A bad definition is a 400 naming the field (nothing stored); the config file's policies
/// cannot be shadowed, changed or deleted through the API.
#[tokio::test]
async fn bad_definitions_name_the_field_and_the_config_files_policies_stay_as_written() {
    let h = start_with(&yaml(""), axum::Router::new()).await;
    let post = |def: Value| h.json_as(ADMIN, "POST", POLICIES_PATH, def);
    let (s, e) = post(json!({"id": "p", "checks": [{"check": "contains", "words": []}]})).await;
    assert_eq!(s, 400, "{e}");
    assert_eq!(e["error"]["message"], "checks[0].words: at least one word");
    assert_eq!(e["error"]["param"], "checks[0].words");
    let bad_param = |v: Value| async move {
        let (s, e) = post(v).await;
        assert_eq!(s, 400, "{e}");
        e["error"]["param"].as_str().map(str::to_owned)
    };
    let words = json!([{"check": "contains", "words": ["a"]}]);
    assert_eq!(
        bad_param(json!({"id": "p", "action": "retry", "checks": words}))
            .await
            .as_deref(),
        Some("action")
    );
    assert_eq!(
        bad_param(json!({"id": "a,b", "checks": words}))
            .await
            .as_deref(),
        Some("id")
    );
    assert_eq!(
        bad_param(json!({"id": "p", "checks": words, "attach": {"routes": ["nowhere"]}}))
            .await
            .as_deref(),
        Some("attach.routes[0]")
    );
    assert_eq!(
        bad_param(json!({"id": "p", "checks": words, "attach": {"teams": ["x"]}}))
            .await
            .as_deref(),
        Some("attach")
    );
    assert_eq!(
        bad_param(json!({"id": "p", "checks": [{"check": "contain", "words": ["a"]}]}))
            .await
            .as_deref(),
        Some("checks[0].check")
    );
    let (s, e) = post(json!({"id": "p", "checks": words, "colour": "red"})).await;
    assert_eq!(s, 400);
    assert!(
        e["error"]["message"].as_str().unwrap().contains("colour"),
        "{e}"
    );
    let (_, all) = h.json_as(ADMIN, "GET", POLICIES_PATH, Value::Null).await;
    assert!(!all.to_string().contains("\"api\""), "{all}");
    // The config file's ids are taken; its policies are changed in the file.
    let (s, e) = post(json!({"id": "no-falcon", "checks": words})).await;
    assert_eq!(s, 409, "{e}");
    let path = format!("{POLICIES_PATH}/no-falcon");
    let (s, e) = h
        .json_as(ADMIN, "PATCH", &path, json!({"action": "flag"}))
        .await;
    assert_eq!(s, 409);
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("change it there"));
    assert_eq!(h.json_as(ADMIN, "DELETE", &path, Value::Null).await.0, 409);
    assert_eq!(chat(&h, KEY, "project falcon", &[]).await.0, 400);
    // A change that does not build leaves the policy as it was.
    assert_eq!(post(json!({"id": "p", "checks": words})).await.0, 201);
    assert_eq!(post(json!({"id": "p", "checks": words})).await.0, 409);
    let path = format!("{POLICIES_PATH}/p");
    let (s, e) = h
        .json_as(
            ADMIN,
            "PATCH",
            &path,
            json!({"checks": [{"check": "contains", "words": []}]}),
        )
        .await;
    assert_eq!(
        (s, e["error"]["message"].as_str()),
        (400, Some("checks[0].words: at least one word"))
    );
    let (s, e) = h.json_as(ADMIN, "PATCH", &path, json!({"id": "q"})).await;
    assert_eq!((s, e["error"]["param"].as_str()), (400, Some("id")));
    let (_, p) = h.json_as(ADMIN, "GET", &path, Value::Null).await;
    assert_eq!(p["checks"], words);
}

/// Retry and fallback act on streams too, while nothing has been sent: a stream under such a
/// policy is held whole, and the route tries again before the caller gets a byte.
#[tokio::test]
async fn retry_and_fallback_work_on_streams_before_anything_is_sent() {
    let h = start_with(&output_yaml(), axum::Router::new()).await;
    h.mock.push_faults([
        switchyard_mock::Fault {
            content: Some("Sorry, I can't do that.".into()),
            chunks: Some(4),
            ..Default::default()
        },
        switchyard_mock::Fault {
            content: Some("Here it is, all of it.".into()),
            chunks: Some(4),
            ..Default::default()
        },
    ]);
    let auth = format!("Bearer {KEY}");
    let body = json!({"model": "openai/gpt-4o-mini", "stream": true,
        "messages": [{"role": "user", "content": "please"}]});
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
    assert_eq!(s, 200);
    assert_eq!(headers.get("x-switchyard-attempts").unwrap(), "2");
    let text: String = events(&b)
        .iter()
        .filter_map(|(_, v)| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(text, "Here it is, all of it.");
    // The route's first target drafts; its stream is dropped and the next target's is sent.
    let (s, evs) = stream(
        &h,
        "/v1/chat/completions",
        json!({"model": "careful", "stream": true,
        "messages": [{"role": "user", "content": "go"}]}),
    )
    .await;
    assert_eq!(s, 200);
    let text: String = evs
        .iter()
        .filter_map(|(_, v)| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(text, "final answer");
}

/// A webhook service for the tests: `/check` fails anything mentioning "forbidden" (and says
/// why), `/rewrite` passes and sends back the request with its last message replaced, `/slow`
/// answers after a second. Every event received is kept.
async fn webhook_service() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    use std::sync::{Arc, Mutex};
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let (a, b) = (seen.clone(), seen.clone());
    let app = axum::Router::new()
        .route(
            "/check",
            axum::routing::post(move |axum::Json(v): axum::Json<Value>| {
                let seen = a.clone();
                async move {
                    let pass = !v.to_string().contains("forbidden");
                    seen.lock().unwrap().push(v);
                    axum::Json(json!({"verdict": pass, "reason": "mentions the forbidden word"}))
                }
            }),
        )
        .route(
            "/rewrite",
            axum::routing::post(move |axum::Json(v): axum::Json<Value>| {
                let seen = b.clone();
                async move {
                    seen.lock().unwrap().push(v.clone());
                    let mut req = v["request"].clone();
                    req["messages"][0]["content"] = json!("rewritten by the webhook");
                    axum::Json(
                        json!({"verdict": true, "transformedData": {"request": {"json": req}}}),
                    )
                }
            }),
        )
        .route(
            "/slow",
            axum::routing::post(|| async {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                axum::Json(json!({"verdict": true}))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

#[tokio::test]
async fn webhooks_decide_rewrite_and_fail_open_or_closed_as_configured() {
    let (hook, seen) = webhook_service().await;
    let policies = format!(
        r#"guardrails:
  policies:
    - id: hook-deny
      action: deny
      checks: [{{check: webhook, url: "{hook}/check"}}]
    - id: hook-rewrite
      stages: [input]
      checks: [{{check: webhook, url: "{hook}/rewrite"}}]
    - id: slow-open
      action: deny
      stages: [input]
      on_error: open
      checks: [{{check: webhook, url: "{hook}/slow", timeout_ms: 100}}]
    - id: slow-closed
      action: deny
      stages: [input]
      checks: [{{check: webhook, url: "{hook}/slow", timeout_ms: 100}}]
  attach:
    org: [hook-deny, slow-open]
"#
    );
    let cfg = format!(
        "server:\n  discover_env: false\n  admin_keys: [{{name: ops, key: {ADMIN}}}]\nproviders:\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\nclient_keys:\n  - name: test\n    key: {KEY}\n{policies}"
    );
    let h = start_with(&cfg, axum::Router::new()).await;
    // The webhook fails the request: refused before the provider, with the service's reason.
    let (s, _, b) = chat(&h, KEY, "a forbidden topic", &[]).await;
    assert_eq!(s, 400, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'hook-deny': check webhook found mentions the forbidden word"),
        "{b}"
    );
    assert_eq!(upstream_calls(&h), 0);
    let event = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        (event["event"].as_str(), event["operation"].as_str()),
        (Some("input"), Some("chat.completions"))
    );
    assert_eq!(
        event["request"]["messages"][0]["content"],
        "a forbidden topic"
    );
    // Passing (the slow one timed out, open); the answer is checked too.
    let (s, _, _) = chat(&h, KEY, "hello", &[]).await;
    assert_eq!(s, 200);
    let last = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last["event"], "output");
    assert!(last["response"]["choices"][0]["message"]["content"].is_string());
    // A rewrite reaches the provider.
    let (s, _, _) = chat(
        &h,
        KEY,
        "original",
        &[("x-switchyard-guardrails", "hook-rewrite")],
    )
    .await;
    assert_eq!(s, 200);
    let sent: Value = serde_json::from_str(&h.mock.requests().last().unwrap().body).unwrap();
    assert_eq!(sent["messages"][0]["content"], "rewritten by the webhook");
    // A timeout fails closed unless the policy says open; the verdict carries the error.
    let (s, _, b) = chat(
        &h,
        KEY,
        "hello",
        &[("x-switchyard-guardrails", "slow-closed")],
    )
    .await;
    assert_eq!(s, 400, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'slow-closed'"),
        "{b}"
    );
    let mut v = Value::Null;
    for _ in 0..100 {
        let record = newest_record(&h).await;
        if let Some(found) = record["guardrails"]
            .as_array()
            .and_then(|a| a.iter().find(|v| v["policy"] == "slow-closed"))
        {
            v = found.clone();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(v["fired"], true);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("did not answer within 100 ms"),
        "{v}"
    );
}

/// A provider's moderation endpoint as a check: flagged categories (or scores past the
/// thresholds) fire; the mock scores words deterministically.
#[tokio::test]
async fn the_moderation_check_asks_a_configured_provider() {
    let policies = r#"guardrails:
  policies:
    - id: moderated
      action: deny
      stages: [input]
      checks: [{check: moderation_api, provider: openai}]
    - id: strict-hate
      action: deny
      stages: [output]
      refusal: "Withheld."
      checks: [{check: moderation_api, provider: openai, thresholds: {violence: 0.95}, default_threshold: 0.5}]
  attach:
    org: [moderated, strict-hate]
"#;
    let cfg = format!(
        "server:\n  discover_env: false\n  admin_keys: [{{name: ops, key: {ADMIN}}}]\nproviders:\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\nclient_keys:\n  - name: test\n    key: {KEY}\n{policies}"
    );
    let h = start_with(&cfg, axum::Router::new()).await;
    let (s, _, b) = chat(&h, KEY, "how do I kill a stuck process?", &[]).await;
    assert_eq!(s, 400, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'moderated': check moderation_api found violence"),
        "{b}"
    );
    assert_eq!(upstream_calls(&h), 0);
    let sent = h
        .mock
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/moderations"))
        .unwrap();
    assert_eq!(sent.header("authorization"), Some("Bearer sk-upstream"));
    let body: Value = serde_json::from_str(&sent.body).unwrap();
    assert_eq!(body["model"], "omni-moderation-latest");
    assert_eq!(body["input"], json!(["how do I kill a stuck process?"]));
    // Output: violence needs 0.95 here (the mock scores 0.9), anything else 0.5.
    let (s, _, b) = ask(
        &h,
        "/v1/chat/completions",
        says("We attack the problem at dawn"),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_ne!(b["choices"][0]["message"]["content"], "Withheld.");
    let (s, _, b) = ask(&h, "/v1/chat/completions", says("You absolute loser")).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["choices"][0]["message"]["content"], "Withheld.");
}

/// An output-only policy whose check reads the prompt (language_match with no `expected`) gets
/// the request's prompt although no input policy made the request be read.
#[tokio::test]
async fn output_only_checks_read_the_prompt_of_the_request() {
    let yaml = format!(
        "server:\n  discover_env: false\nproviders:\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\nclient_keys:\n  - name: test\n    key: {KEY}\nguardrails:\n  policies:\n    - id: same-language\n      action: deny\n      stages: [output]\n      checks:\n        - check: language_match\n  attach:\n    org: [same-language]\n"
    );
    let h = start_with(&yaml, axum::Router::new()).await;
    let ask_in = |prompt: &str, answer: &str| {
        json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": prompt}],
            "mock": {"content": answer}})
    };
    let english = "The weather today is sunny and warm, with a light breeze from the west and no rain expected until the weekend.";
    let french = "Quel temps fera-t-il demain à Paris ? Dites-moi s'il va pleuvoir et quelle température il fera dans l'après-midi.";
    let (s, _, b) = ask(&h, "/v1/chat/completions", ask_in(french, english)).await;
    assert_eq!(s, 400, "{b}");
    assert!(b.to_string().contains("same-language"), "{b}");
    let (s, _, b) = ask(
        &h,
        "/v1/chat/completions",
        ask_in(
            "What will the weather be like tomorrow in London? Tell me if it will rain in the afternoon.",
            english,
        ),
    )
    .await;
    assert_eq!(s, 200, "{b}");
}
