//! Guardrail checks that call out to a provider's service: Bedrock Guardrails' ApplyGuardrail,
//! Azure AI Content Safety, an LLM judge and embedding similarity through the gateway's own
//! routes. The real gateway and our mock provider (speaking each service's documented wire
//! format) on loopback; policies are named per request with `x-switchyard-guardrails`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::*;
use switchyard_mock::{Fault, MockOptions};

const ADMIN: &str = "admin-key-123";
const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// A gateway with `openai`, `anthropic` and `bedrock` (SigV4) providers at the mock, the judges'
/// routes, and `policies`.
async fn gateway(policies: &str) -> Harness {
    let cfg = format!(
        "server:\n  discover_env: false\n  admin_keys: [{{name: ops, key: {ADMIN}}}]\nproviders:\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\n  - name: anthropic\n    base_url: ${{MOCK_ROOT}}\n    api_key: sk-ant\n  - name: bedrock\n    type: bedrock\n    base_url: ${{MOCK_ROOT}}\n    region: eu-west-1\n    aws_access_key_id: {AKID}\n    aws_secret_access_key: {SECRET}\nclient_keys:\n  - name: test\n    key: {KEY}\n{JUDGES}guardrails:\n  policies:\n{policies}"
    );
    let opts = MockOptions {
        record: true,
        aws_credentials: Some((AKID.into(), SECRET.into())),
        ..Default::default()
    };
    start_with_mock(&cfg, axum::Router::new(), opts).await
}

/// Routes whose model judges as the mock is told to answer.
const JUDGES: &str = r#"routes:
  judge-yes:
    strategy: fallback
    targets: [{model: openai/gpt-4o-mini, params: {mock: {content: '{"pass": true, "score": 0.9, "reason": "polite enough"}'}}}]
  judge-no:
    strategy: fallback
    targets: [{model: openai/gpt-4o-mini, params: {mock: {content: '```json\n{"pass": false, "score": 0.1, "reason": "it is rude"}\n```'}}}]
  judge-babble:
    strategy: fallback
    targets: [{model: openai/gpt-4o-mini, params: {mock: {content: "I think it is fine."}}}]
  judge-slow:
    strategy: fallback
    targets: [{model: openai/gpt-4o-mini, params: {mock: {content: '{"pass": true}', latency_ms: 1000}}}]
"#;

/// A chat request under `policies` (the header's list) whose answer's text is `answer`; its
/// status, answer and request id.
async fn chat(h: &Harness, policies: &str, content: &str, answer: &str) -> (u16, Value, String) {
    let auth = format!("Bearer {KEY}");
    let id = format!("req-{:016x}", fastrand::u64(..));
    let body = json!({"model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": content}], "mock": {"content": answer}});
    let (s, _, b) = h
        .request(
            "POST",
            "/v1/chat/completions",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
                ("x-switchyard-guardrails", policies),
                ("x-request-id", &id),
            ],
            body.to_string(),
        )
        .await;
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null), id)
}

fn message(b: &Value) -> &str {
    b["error"]["message"].as_str().unwrap_or_default()
}

/// Requests the mock got on `path_start`.
fn calls(h: &Harness, path_start: &str) -> Vec<switchyard_mock::Recorded> {
    h.mock
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with(path_start))
        .collect()
}

/// The verdict of `policy` in request `id`'s record.
async fn verdict(h: &Harness, id: &str, policy: &str) -> Value {
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
        let mine = v["data"].as_array().into_iter().flatten();
        let found = mine.filter(|r| r["request_id"] == id).find_map(|r| {
            r["guardrails"]
                .as_array()
                .and_then(|a| a.iter().find(|v| v["policy"] == policy))
                .cloned()
        });
        if let Some(v) = found {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no verdict of {policy} in the record of {id}");
}

const BEDROCK: &str = r#"    - id: bedrock-in
      action: deny
      stages: [input]
      checks: [{check: bedrock_guardrail, provider: bedrock, guardrail_id: gr0mock, version: "1"}]
    - id: bedrock-out
      action: deny
      stages: [output]
      refusal: "Withheld by the guardrail."
      checks: [{check: bedrock_guardrail, provider: bedrock, guardrail_id: "arn:aws:bedrock:eu-west-1:123456789012:guardrail/gr0mock"}]
    - id: bedrock-open
      action: deny
      stages: [input]
      on_error: open
      checks: [{check: bedrock_guardrail, provider: bedrock, guardrail_id: gr0mock, timeout_ms: 100}]
    - id: bedrock-closed
      action: deny
      stages: [input]
      checks: [{check: bedrock_guardrail, provider: bedrock, guardrail_id: gr0mock, timeout_ms: 100}]
    - id: bedrock-missing
      action: deny
      stages: [input]
      checks: [{check: bedrock_guardrail, provider: bedrock, guardrail_id: missing}]
"#;

#[tokio::test]
async fn a_bedrock_guardrail_blocks_in_the_callers_shape_and_is_signed() {
    let h = gateway(BEDROCK).await;
    let (s, b, id) = chat(&h, "bedrock-in", "Any stock tips for me?", "fine").await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["error"]["code"], "content_policy_violation");
    assert!(
        message(&b).contains("'bedrock-in': check bedrock_guardrail found topic:Investments"),
        "{b}"
    );
    assert!(calls(&h, "/v1/chat").is_empty(), "the provider was called");
    let sent = calls(&h, "/guardrail/").pop().unwrap();
    assert_eq!(sent.target, "/guardrail/gr0mock/version/1/apply");
    let auth = sent.header("authorization").unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
            && auth.contains("/eu-west-1/bedrock/aws4_request"),
        "{auth}"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&sent.body).unwrap(),
        json!({"source": "INPUT", "content": [{"text": {"text": "Any stock tips for me?"}}]})
    );
    let v = verdict(&h, &id, "bedrock-in").await;
    assert_eq!(
        (
            v["check"].as_str(),
            v["stage"].as_str(),
            v["fired"].as_bool(),
            v["action"].as_str()
        ),
        (
            Some("bedrock_guardrail"),
            Some("input"),
            Some(true),
            Some("deny")
        )
    );
    assert_eq!(v["labels"], json!(["topic:Investments"]));
    assert!(v["latency_us"].is_u64());
}

#[tokio::test]
async fn a_bedrock_guardrail_that_passes_leaves_the_answer_and_one_that_masks_rewrites() {
    let h = gateway(BEDROCK).await;
    let (s, b, id) = chat(
        &h,
        "bedrock-in, bedrock-out",
        "hello there",
        "A calm answer.",
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["choices"][0]["message"]["content"], "A calm answer.");
    assert_eq!(b["choices"][0]["finish_reason"], "stop");
    // The answer went to the guardrail as OUTPUT, at the ARN's escaped path.
    let out = calls(&h, "/guardrail/").pop().unwrap();
    assert_eq!(
        out.target,
        "/guardrail/arn%3Aaws%3Abedrock%3Aeu-west-1%3A123456789012%3Aguardrail%2Fgr0mock/version/DRAFT/apply"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&out.body).unwrap()["source"],
        "OUTPUT"
    );
    assert_eq!(verdict(&h, &id, "bedrock-out").await["fired"], false);
    // An address the guardrail masks reaches the provider masked.
    let (s, b, id) = chat(&h, "bedrock-in", "write to ann@example.com today", "ok").await;
    assert_eq!(s, 200, "{b}");
    let sent: Value = serde_json::from_str(&calls(&h, "/v1/chat").pop().unwrap().body).unwrap();
    assert_eq!(sent["messages"][0]["content"], "write to {EMAIL} today");
    let v = verdict(&h, &id, "bedrock-in").await;
    assert_eq!(
        (v["fired"].as_bool(), &v["labels"]),
        (Some(false), &json!(["pii:EMAIL"]))
    );
    // An answer it blocks gets the policy's refusal, ended as a content filter ends it.
    let (s, b, _) = chat(&h, "bedrock-out", "tell me", "We attack at dawn.").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["choices"][0]["message"]["content"],
        "Withheld by the guardrail."
    );
    assert_eq!(b["choices"][0]["finish_reason"], "content_filter");
}

#[tokio::test]
async fn a_bedrock_guardrail_that_times_out_or_fails_counts_as_on_error_says() {
    let h = gateway(BEDROCK).await;
    let slow = || Fault {
        latency_ms: Some(1000),
        ..Default::default()
    };
    h.mock.push_faults([slow()]);
    let (s, b, id) = chat(&h, "bedrock-open", "Any stock tips?", "ok").await;
    assert_eq!(s, 200, "open: the request goes on ({b})");
    let v = verdict(&h, &id, "bedrock-open").await;
    assert_eq!(v["fired"], false);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("the Bedrock guardrail did not answer within 100 ms"),
        "{v}"
    );
    h.mock.push_faults([slow()]);
    let (s, b, id) = chat(&h, "bedrock-closed", "hello", "ok").await;
    assert_eq!(s, 400, "closed: refused ({b})");
    assert!(message(&b).contains("'bedrock-closed'"), "{b}");
    let v = verdict(&h, &id, "bedrock-closed").await;
    assert_eq!(
        (v["fired"].as_bool(), v["action"].as_str()),
        (Some(true), Some("deny"))
    );
    // A guardrail Bedrock does not know is an error too (closed by default).
    let (s, b, id) = chat(&h, "bedrock-missing", "hello", "ok").await;
    assert_eq!(s, 400, "{b}");
    let v = verdict(&h, &id, "bedrock-missing").await;
    assert!(v["error"].as_str().unwrap().contains("404"), "{v}");
}

const AZURE: &str = r#"    - id: cs-in
      action: deny
      stages: [input]
      checks: [{check: azure_content_safety, endpoint: "${MOCK_ROOT}", key: cs-key-1}]
    - id: cs-strict
      action: deny
      stages: [input]
      checks: [{check: azure_content_safety, endpoint: "${MOCK_ROOT}/", key: cs-key-1,
                thresholds: {Violence: 6}, categories: [Violence, Hate], blocklists: [rivals]}]
    - id: cs-out
      action: deny
      stages: [output]
      refusal: "Not shown."
      checks: [{check: azure_content_safety, provider: openai}]
    - id: cs-open
      action: deny
      stages: [input]
      on_error: open
      checks: [{check: azure_content_safety, endpoint: "${MOCK_ROOT}", key: cs-key-1, timeout_ms: 100}]
    - id: cs-closed
      action: deny
      stages: [input]
      checks: [{check: azure_content_safety, endpoint: "${MOCK_ROOT}", key: cs-key-1, timeout_ms: 100}]
"#;

#[tokio::test]
async fn azure_content_safety_fires_on_severity_and_blocklists_in_the_callers_shape() {
    let h = gateway(AZURE).await;
    let (s, b, id) = chat(&h, "cs-in", "We will attack them", "ok").await;
    assert_eq!(s, 400, "{b}");
    assert!(
        message(&b).contains("'cs-in': check azure_content_safety found Violence"),
        "{b}"
    );
    assert!(calls(&h, "/v1/chat").is_empty(), "the provider was called");
    let sent = calls(&h, "/contentsafety/").pop().unwrap();
    assert_eq!(
        sent.target,
        "/contentsafety/text:analyze?api-version=2024-09-01"
    );
    assert_eq!(sent.header("ocp-apim-subscription-key"), Some("cs-key-1"));
    assert_eq!(
        serde_json::from_str::<Value>(&sent.body).unwrap(),
        json!({"text": "We will attack them", "outputType": "FourSeverityLevels"})
    );
    let v = verdict(&h, &id, "cs-in").await;
    assert_eq!(
        (v["fired"].as_bool(), &v["labels"]),
        (Some(true), &json!(["Violence"]))
    );
    // Thresholds per category: an attack (4) is under Violence's 6, a massacre (6) is not.
    let (s, b, _) = chat(&h, "cs-strict", "We will attack them", "ok").await;
    assert_eq!(s, 200, "{b}");
    let sent: Value =
        serde_json::from_str(&calls(&h, "/contentsafety/").pop().unwrap().body).unwrap();
    assert_eq!(
        sent,
        json!({"text": "We will attack them", "outputType": "FourSeverityLevels",
            "categories": ["Violence", "Hate"], "blocklistNames": ["rivals"], "haltOnBlocklistHit": false})
    );
    let (s, b, _) = chat(&h, "cs-strict", "a massacre", "ok").await;
    assert_eq!(s, 400, "{b}");
    // A blocklist's item fires whatever the severities.
    let (s, b, _) = chat(&h, "cs-strict", "Should I buy from Acme?", "ok").await;
    assert_eq!(s, 400, "{b}");
    assert!(message(&b).contains("found blocklist:rivals"), "{b}");
}

#[tokio::test]
async fn azure_content_safety_passes_answers_unchanged_and_splits_long_texts() {
    let h = gateway(AZURE).await;
    // Through a provider of the config: its origin and key.
    let (s, b, id) = chat(&h, "cs-out", "hi", "A peaceful answer.").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["choices"][0]["message"]["content"], "A peaceful answer.");
    let sent = calls(&h, "/contentsafety/").pop().unwrap();
    assert_eq!(
        sent.header("ocp-apim-subscription-key"),
        Some("sk-upstream")
    );
    assert_eq!(verdict(&h, &id, "cs-out").await["fired"], false);
    let (s, b, _) = chat(&h, "cs-out", "hi", "They fight, then kill.").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["choices"][0]["message"]["content"], "Not shown.");
    // 25,000 characters go in three requests within the API's 10,000; the last piece decides.
    let before = calls(&h, "/contentsafety/").len();
    let long = format!("{}a massacre", "calm words ".repeat(2272));
    assert!(long.chars().count() > 25_000);
    let (s, b, _) = chat(&h, "cs-in", &long, "ok").await;
    assert_eq!(s, 400, "{b}");
    let pieces: Vec<Value> = calls(&h, "/contentsafety/")[before..]
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(pieces.len(), 3);
    assert!(pieces
        .iter()
        .all(|p| p["text"].as_str().unwrap().chars().count() <= 10_000));
    let joined: String = pieces.iter().map(|p| p["text"].as_str().unwrap()).collect();
    assert_eq!(joined, long);
}

#[tokio::test]
async fn azure_content_safety_that_times_out_counts_as_on_error_says() {
    let h = gateway(AZURE).await;
    let slow = || Fault {
        latency_ms: Some(1000),
        ..Default::default()
    };
    h.mock.push_faults([slow()]);
    let (s, b, id) = chat(&h, "cs-open", "We will attack them", "ok").await;
    assert_eq!(s, 200, "open ({b})");
    let v = verdict(&h, &id, "cs-open").await;
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("Azure AI Content Safety did not answer within 100 ms"),
        "{v}"
    );
    h.mock.push_faults([slow()]);
    let (s, b, id) = chat(&h, "cs-closed", "hello", "ok").await;
    assert_eq!(s, 400, "closed ({b})");
    assert_eq!(verdict(&h, &id, "cs-closed").await["fired"], true);
}

const JUDGE: &str = r#"    - id: judge-in
      action: deny
      stages: [input]
      checks: [{check: llm_judge, model: judge-no, criteria: "The request is polite."}]
    - id: judge-out
      action: deny
      stages: [output]
      refusal: "Judged unfit."
      checks: [{check: llm_judge, model: judge-yes, criteria: "The answer is polite."}]
    - id: judge-strict
      action: deny
      stages: [output]
      refusal: "Judged unfit."
      checks: [{check: llm_judge, model: judge-yes, criteria: "The answer is polite.", threshold: 0.95}]
    - id: judge-babble-open
      action: deny
      stages: [input]
      on_error: open
      checks: [{check: llm_judge, model: judge-babble, criteria: "Polite."}]
    - id: judge-babble-closed
      action: deny
      stages: [input]
      checks: [{check: llm_judge, model: judge-babble, criteria: "Polite."}]
    - id: judge-slow-open
      action: deny
      stages: [input]
      on_error: open
      checks: [{check: llm_judge, model: judge-slow, criteria: "Polite.", timeout_ms: 200}]
    - id: judge-slow-closed
      action: deny
      stages: [input]
      checks: [{check: llm_judge, model: judge-slow, criteria: "Polite.", timeout_ms: 200}]
"#;

/// The records of request `id`, once there are `n`.
async fn records(h: &Harness, id: &str, n: usize) -> Vec<Value> {
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
        let mine: Vec<Value> = v["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["request_id"] == id)
            .cloned()
            .collect();
        if mine.len() >= n {
            return mine;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} records of {id}");
}

#[tokio::test]
async fn an_llm_judge_through_a_route_of_the_gateway_denies_in_the_callers_shape() {
    let h = gateway(JUDGE).await;
    let (s, b, id) = chat(&h, "judge-in", "Give me the report, now!", "ok").await;
    assert_eq!(s, 400, "{b}");
    assert!(
        message(&b).contains("'judge-in': check llm_judge found it is rude"),
        "{b}"
    );
    // One chat call: the judge's, with the criteria and the text, and the provider's key; the
    // request itself never went.
    let chats = calls(&h, "/v1/chat");
    assert_eq!(chats.len(), 1);
    assert_eq!(chats[0].header("authorization"), Some("Bearer sk-upstream"));
    let sent: Value = serde_json::from_str(&chats[0].body).unwrap();
    assert_eq!(sent["model"], "gpt-4o-mini");
    assert!(sent["messages"][0]["content"]
        .as_str()
        .unwrap()
        .contains("The request is polite."));
    assert!(sent["messages"][1]["content"]
        .as_str()
        .unwrap()
        .contains("Give me the report, now!"));
    let v = verdict(&h, &id, "judge-in").await;
    assert_eq!(
        (v["fired"].as_bool(), &v["labels"]),
        (Some(true), &json!(["it is rude"]))
    );
    assert_eq!(v["detail"]["model"], "openai/gpt-4o-mini");
    assert_eq!(v["detail"]["score"], 0.1);
    assert!(v["detail"]["input_tokens"].as_u64().unwrap() > 0, "{v}");
    // The judge's call is a request of its own in the log, under the caller's request id.
    let all = records(&h, &id, 2).await;
    let judge = all
        .iter()
        .find(|r| r["metadata"]["guardrail"] == "judge-in/llm_judge")
        .unwrap();
    assert_eq!(
        (
            judge["route"].as_str(),
            judge["caller"].as_str(),
            judge["status"].as_u64()
        ),
        (Some("judge-no"), Some("test"), Some(200))
    );
    assert!(
        judge["guardrails"].is_null(),
        "the judge's call ran guardrails: {judge}"
    );
}

#[tokio::test]
async fn an_llm_judge_that_passes_leaves_the_answer_and_does_not_judge_itself() {
    let h = gateway(JUDGE).await;
    let (s, b, id) = chat(&h, "judge-out", "hi", "Good morning to you.").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["choices"][0]["message"]["content"],
        "Good morning to you."
    );
    let v = verdict(&h, &id, "judge-out").await;
    assert_eq!(
        (v["fired"].as_bool(), v["detail"]["score"].as_f64()),
        (Some(false), Some(0.9))
    );
    // The answer and the judge: two calls, two records; the judge's own answer is not judged.
    assert_eq!(calls(&h, "/v1/chat").len(), 2);
    let judged: Value = serde_json::from_str(&calls(&h, "/v1/chat").pop().unwrap().body).unwrap();
    assert!(judged["messages"][1]["content"]
        .as_str()
        .unwrap()
        .contains("Good morning to you."));
    assert_eq!(records(&h, &id, 2).await.len(), 2);
    // A threshold over the judge's score fires even when it says pass.
    let (s, b, _) = chat(&h, "judge-strict", "hi", "Good morning to you.").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["choices"][0]["message"]["content"], "Judged unfit.");
    assert_eq!(b["choices"][0]["finish_reason"], "content_filter");
}

#[tokio::test]
async fn an_llm_judge_that_babbles_or_times_out_counts_as_on_error_says() {
    let h = gateway(JUDGE).await;
    let (s, b, id) = chat(&h, "judge-babble-open", "hi", "ok").await;
    assert_eq!(s, 200, "{b}");
    let v = verdict(&h, &id, "judge-babble-open").await;
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("the judge's answer is not JSON"),
        "{v}"
    );
    let (s, b, _) = chat(&h, "judge-babble-closed", "hi", "ok").await;
    assert_eq!(s, 400, "{b}");
    let (s, b, id) = chat(&h, "judge-slow-open", "hi", "ok").await;
    assert_eq!(s, 200, "{b}");
    let v = verdict(&h, &id, "judge-slow-open").await;
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("the judge did not answer within 200 ms"),
        "{v}"
    );
    let (s, b, _) = chat(&h, "judge-slow-closed", "hi", "ok").await;
    assert_eq!(s, 400, "{b}");
}

const SIMILAR: &str = r#"    - id: no-investing
      action: deny
      stages: [input]
      checks: [{check: embedding_similarity, model: openai/text-embedding-3-small, dimensions: 256,
                threshold: 0.6, examples: ["How should I invest my savings?", "Which stocks should I buy?"]}]
    - id: stay-on-pasta
      action: deny
      stages: [output]
      refusal: "Off topic."
      checks: [{check: embedding_similarity, model: openai/text-embedding-3-small, dimensions: 256,
                mode: require, threshold: 0.3,
                examples: ["Boil the pasta in salted water", "Cook the sauce with tomatoes and garlic"]}]
    - id: sim-open
      action: deny
      stages: [input]
      on_error: open
      checks: [{check: embedding_similarity, model: openai/text-embedding-3-small, timeout_ms: 100,
                examples: ["open example"]}]
    - id: sim-closed
      action: deny
      stages: [input]
      checks: [{check: embedding_similarity, model: openai/text-embedding-3-small, timeout_ms: 100,
                examples: ["closed example"]}]
"#;

/// The `input` of each embeddings request the mock got.
fn embedded(h: &Harness) -> Vec<Value> {
    calls(h, "/v1/embeddings")
        .iter()
        .map(|r| serde_json::from_str::<Value>(&r.body).unwrap()["input"].clone())
        .collect()
}

#[tokio::test]
async fn embedding_similarity_denies_texts_like_an_example_and_caches_the_examples() {
    let h = gateway(SIMILAR).await;
    let (s, b, id) = chat(&h, "no-investing", "how do I invest my savings", "ok").await;
    assert_eq!(s, 400, "{b}");
    assert!(
        message(&b)
            .contains("'no-investing': check embedding_similarity found similar to example 0"),
        "{b}"
    );
    assert!(calls(&h, "/v1/chat").is_empty(), "the provider was called");
    // The examples went once, with the text, through the gateway's own embeddings route.
    assert_eq!(
        embedded(&h),
        vec![json!([
            "How should I invest my savings?",
            "Which stocks should I buy?",
            "how do I invest my savings"
        ])]
    );
    let sent: Value = serde_json::from_str(&calls(&h, "/v1/embeddings")[0].body).unwrap();
    assert_eq!(
        (sent["model"].as_str(), sent["dimensions"].as_u64()),
        (Some("text-embedding-3-small"), Some(256))
    );
    let v = verdict(&h, &id, "no-investing").await;
    assert_eq!(v["fired"], true);
    assert!(v["detail"]["similarity"].as_f64().unwrap() >= 0.6, "{v}");
    assert_eq!(v["detail"]["model"], "openai/text-embedding-3-small");
    let all = records(&h, &id, 2).await;
    assert!(all.iter().any(
        |r| r["metadata"]["guardrail"] == "no-investing/embedding_similarity"
            && r["operation"] == "embeddings"
    ));
    // Unrelated: passes, and only the text is embedded now.
    let (s, b, _) = chat(
        &h,
        "no-investing",
        "What is the weather in Paris today?",
        "Sunny.",
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["choices"][0]["message"]["content"], "Sunny.");
    assert_eq!(
        embedded(&h)[1],
        json!(["What is the weather in Paris today?"])
    );
}

#[tokio::test]
async fn embedding_similarity_requires_answers_on_topic() {
    let h = gateway(SIMILAR).await;
    let (s, b, id) = chat(
        &h,
        "stay-on-pasta",
        "how?",
        "Boil the pasta until it is soft.",
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["choices"][0]["message"]["content"],
        "Boil the pasta until it is soft."
    );
    assert_eq!(verdict(&h, &id, "stay-on-pasta").await["fired"], false);
    let (s, b, id) = chat(
        &h,
        "stay-on-pasta",
        "how?",
        "Markets fell sharply overnight.",
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["choices"][0]["message"]["content"], "Off topic.");
    let v = verdict(&h, &id, "stay-on-pasta").await;
    assert!(
        v["labels"][0]
            .as_str()
            .unwrap()
            .starts_with("unlike every example"),
        "{v}"
    );
}

#[tokio::test]
async fn embedding_similarity_that_times_out_counts_as_on_error_says() {
    let h = gateway(SIMILAR).await;
    let slow = || Fault {
        latency_ms: Some(1000),
        ..Default::default()
    };
    h.mock.push_faults([slow()]);
    let (s, b, id) = chat(&h, "sim-open", "hello", "ok").await;
    assert_eq!(s, 200, "{b}");
    let v = verdict(&h, &id, "sim-open").await;
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("the embedding model did not answer within 100 ms"),
        "{v}"
    );
    h.mock.push_faults([slow()]);
    let (s, b, _) = chat(&h, "sim-closed", "hello", "ok").await;
    assert_eq!(s, 400, "{b}");
}

/// A streamed request under `policies` to `path` whose answer is `answer` in `chunks`: status,
/// the events' data, and the request id.
async fn stream(
    h: &Harness,
    path: &str,
    policies: &str,
    answer: &str,
) -> (u16, Vec<Value>, String) {
    let auth = format!("Bearer {KEY}");
    let id = format!("req-{:016x}", fastrand::u64(..));
    let mock = json!({"content": answer, "chunks": 4});
    let body = if path.ends_with("/messages") {
        json!({"model": "anthropic/claude-3-5-haiku-latest", "stream": true, "max_tokens": 50,
            "messages": [{"role": "user", "content": "tell me"}], "mock": mock})
    } else {
        json!({"model": "openai/gpt-4o-mini", "stream": true,
            "messages": [{"role": "user", "content": "tell me"}], "mock": mock})
    };
    let (s, _, b) = h
        .request(
            "POST",
            path,
            &[
                ("authorization", &auth),
                ("x-api-key", KEY),
                ("anthropic-version", "2023-06-01"),
                ("content-type", "application/json"),
                ("x-switchyard-guardrails", policies),
                ("x-request-id", &id),
            ],
            body.to_string(),
        )
        .await;
    (s, data_events(&b), id)
}

fn streamed_text(evs: &[Value]) -> String {
    evs.iter()
        .filter_map(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .or(v["delta"]["text"].as_str())
        })
        .collect()
}

/// A verdict without what differs between two calls (latency, usage).
fn decided(v: &Value) -> Value {
    json!([
        v["check"],
        v["stage"],
        v["fired"],
        v["action"],
        v["labels"],
        v["error"]
    ])
}

#[tokio::test]
async fn output_call_outs_hold_a_stream_and_decide_as_on_a_whole_answer() {
    let policies = format!(
        "{BEDROCK}{JUDGE}    - id: judge-withhold\n      action: deny\n      stages: [output]\n      checks: [{{check: llm_judge, model: judge-no, criteria: \"Polite.\"}}]\n"
    );
    let h = gateway(&policies).await;
    // A blocked answer: the stream carries the refusal only, ended as a content filter ends it.
    let (s, evs, streamed_id) = stream(
        &h,
        "/v1/chat/completions",
        "bedrock-out",
        "We attack at dawn.",
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(streamed_text(&evs), "Withheld by the guardrail.");
    assert!(
        !evs.iter().any(|v| v.to_string().contains("attack")),
        "{evs:?}"
    );
    let finishes: Vec<&str> = evs
        .iter()
        .filter_map(|v| v["choices"][0]["finish_reason"].as_str())
        .collect();
    assert_eq!(finishes, vec!["content_filter"]);
    assert_eq!(evs.last().unwrap(), &json!("[DONE]"));
    // The same verdict as the same answer unstreamed.
    let (_, b, whole_id) = chat(&h, "bedrock-out", "tell me", "We attack at dawn.").await;
    assert_eq!(
        b["choices"][0]["message"]["content"],
        "Withheld by the guardrail."
    );
    assert_eq!(
        decided(&verdict(&h, &streamed_id, "bedrock-out").await),
        decided(&verdict(&h, &whole_id, "bedrock-out").await)
    );
    // The guardrail saw the whole answer, as unstreamed.
    let bodies: Vec<Value> = calls(&h, "/guardrail/")
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(bodies[0], bodies[1]);
    // A passing answer streams as it came.
    let (s, evs, id) = stream(
        &h,
        "/v1/chat/completions",
        "bedrock-out, judge-out",
        "A calm answer.",
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(streamed_text(&evs), "A calm answer.");
    assert_eq!(verdict(&h, &id, "judge-out").await["fired"], false);
    // Without a refusal, an error event after the answer's head; no answer text.
    let (_, evs, id) = stream(
        &h,
        "/v1/chat/completions",
        "judge-withhold",
        "Some answer here.",
    )
    .await;
    assert_eq!(streamed_text(&evs), "");
    assert_eq!(
        evs.last().unwrap()["error"]["code"],
        "content_policy_violation",
        "{evs:?}"
    );
    let streamed = decided(&verdict(&h, &id, "judge-withhold").await);
    let (s, _, id) = chat(&h, "judge-withhold", "tell me", "Some answer here.").await;
    assert_eq!(s, 400);
    assert_eq!(streamed, decided(&verdict(&h, &id, "judge-withhold").await));
    // Anthropic's Messages: the refusal's stop reason.
    let (s, evs, _) = stream(&h, "/v1/messages", "bedrock-out", "Then we attack.").await;
    assert_eq!(s, 200);
    assert_eq!(streamed_text(&evs), "Withheld by the guardrail.");
    assert!(
        evs.iter().any(|v| v["delta"]["stop_reason"] == "refusal"),
        "{evs:?}"
    );
}

/// A stream cannot take a call-out's rewrite (a Bedrock guardrail's masks): the text it meant to
/// change never reaches the caller; the answer is withheld as by a deny. Unstreamed, the masks
/// are applied.
#[tokio::test]
async fn a_rewrite_a_stream_cannot_take_withholds_the_streamed_answer() {
    let h = gateway(BEDROCK).await;
    let answer = "Write to ann@example.com today.";
    let (s, b, _) = chat(&h, "bedrock-out", "tell me", answer).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["choices"][0]["message"]["content"],
        "Write to {EMAIL} today."
    );
    let (s, evs, id) = stream(&h, "/v1/chat/completions", "bedrock-out", answer).await;
    assert_eq!(s, 200);
    assert!(
        !evs.iter().any(|v| v.to_string().contains("ann@example")),
        "{evs:?}"
    );
    assert_eq!(streamed_text(&evs), "Withheld by the guardrail.");
    let v = verdict(&h, &id, "bedrock-out").await;
    assert_eq!(v["fired"], false, "{v}");
}
