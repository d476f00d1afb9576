//! Vertex AI: Gemini and Claude models behind every inbound API, with OAuth access tokens from a
//! service account (a signed JWT exchanged at the mock's token endpoint), cached and refreshed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::*;
use switchyard_mock::MockOptions;

const SA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/vertex-service-account.json"
);

fn yaml(token_url: &str) -> String {
    format!(
        "server:\n  discover_env: false\nproviders:\n  - name: vertex\n    type: vertex\n    base_url: ${{MOCK_ROOT}}\n    project: proj-1\n    location: us-east5\n    credentials_file: {SA}\n    token_url: {token_url}\n    timeouts: {{ idle_ms: 800 }}\nclient_keys:\n  - name: test\n    key: client-key-123\n"
    )
}

async fn start_vertex(lifetime: Option<u64>) -> Harness {
    let pem: Value = serde_json::from_str(&std::fs::read_to_string(SA).unwrap()).unwrap();
    let opts = MockOptions {
        record: true,
        google_key_pem: pem["private_key"].as_str().map(str::to_owned),
        token_lifetime_secs: lifetime,
        ..Default::default()
    };
    start_with_mock(&yaml("${MOCK_ROOT}/token"), axum::Router::new(), opts).await
}

fn recorded(h: &Harness) -> Vec<switchyard_mock::Recorded> {
    h.mock
        .requests()
        .into_iter()
        .filter(|r| r.path != "/token")
        .collect()
}

const PREFIX: &str = "/v1/projects/proj-1/locations/us-east5/publishers";

#[tokio::test]
async fn gemini_on_vertex_with_one_token_for_many_requests() {
    let h = start_vertex(None).await;
    for _ in 0..3 {
        let (s, _, b) = h
            .chat(r#"{"model":"vertex/gemini-2.5-flash","messages":[{"role":"user","content":"Hi"}]}"#)
            .await;
        assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
        assert_eq!(
            json(&b)["choices"][0]["message"]["content"],
            "Hello! This is the mock provider answering."
        );
    }
    assert_eq!(h.mock.stats().token_requests, 1, "the token is cached");
    let reqs = recorded(&h);
    assert_eq!(
        reqs[0].path,
        format!("{PREFIX}/google/models/gemini-2.5-flash:generateContent")
    );
    let auth = reqs[0].header("authorization").unwrap();
    assert!(auth.starts_with("Bearer ya29.mock-"), "{auth}");
    assert!(reqs.iter().all(|r| r.header("authorization") == Some(auth)));

    let (s, _, b) = h
        .chat(r#"{"model":"vertex/gemini-2.5-flash","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hi"}]}"#)
        .await;
    assert_eq!(s, 200);
    let text = String::from_utf8_lossy(&b);
    assert!(text.contains("\"usage\""));
    assert!(text.trim_end().ends_with("data: [DONE]"));
}

#[tokio::test]
async fn tokens_are_refreshed_before_they_expire() {
    // A two-second token is replaced after one second.
    let h = start_vertex(Some(2)).await;
    let body = r#"{"model":"vertex/gemini-2.5-flash","messages":[{"role":"user","content":"Hi"}]}"#;
    assert_eq!(h.chat(body).await.0, 200);
    assert_eq!(h.chat(body).await.0, 200);
    assert_eq!(h.mock.stats().token_requests, 1);
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(h.chat(body).await.0, 200);
    assert_eq!(h.mock.stats().token_requests, 2);
    let reqs = recorded(&h);
    assert_ne!(
        reqs[0].header("authorization"),
        reqs[2].header("authorization"),
        "the refreshed token is used"
    );
}

#[tokio::test]
async fn claude_on_vertex_for_chat_and_messages_callers() {
    let h = start_vertex(None).await;
    let (s, _, b) = h
        .chat(r#"{"model":"vertex/claude-sonnet-4-5@20250929","messages":[{"role":"user","content":"Hi"}],"max_tokens":50}"#)
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    assert_eq!(
        json(&b)["choices"][0]["message"]["content"],
        "Hello! This is the mock provider answering."
    );
    let reqs = recorded(&h);
    assert_eq!(
        reqs[0].path,
        format!("{PREFIX}/anthropic/models/claude-sonnet-4-5@20250929:rawPredict")
    );
    let sent: Value = serde_json::from_str(&reqs[0].body).unwrap();
    assert_eq!(sent["anthropic_version"], "vertex-2023-10-16");
    assert!(sent.get("model").is_none());

    // A Messages caller's body reaches Vertex whole: cache_control and all.
    let (s, _, b) = h
        .post(
            "/v1/messages",
            r#"{"model":"vertex/claude-sonnet-4-5@20250929","max_tokens":64,"stream":true,"system":[{"type":"text","text":"Policy","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"Hi"}]}"#,
        )
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let text = String::from_utf8_lossy(&b);
    assert!(text.starts_with("event: message_start"));
    assert!(text.contains("event: message_stop"));
    let sent: Value = serde_json::from_str(&recorded(&h)[1].body).unwrap();
    assert_eq!(
        sent,
        json!({"max_tokens": 64, "stream": true, "anthropic_version": "vertex-2023-10-16",
            "system": [{"type": "text", "text": "Policy", "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "user", "content": "Hi"}]})
    );
    assert!(recorded(&h)[1].path.ends_with(":streamRawPredict"));
}

#[tokio::test]
async fn embeddings_and_count_tokens_on_vertex() {
    let h = start_vertex(None).await;
    let (s, _, b) = h
        .post(
            "/v1/embeddings",
            r#"{"model":"vertex/text-embedding-005","input":["one two","three"],"dimensions":3}"#,
        )
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let v = json(&b);
    assert_eq!(v["data"][1]["embedding"].as_array().unwrap().len(), 3);
    assert_eq!(v["usage"]["prompt_tokens"], 3);
    assert!(recorded(&h)[0]
        .path
        .ends_with("/google/models/text-embedding-005:predict"));
    let (s, _, b) = h
        .post(
            "/v1/messages/count_tokens",
            r#"{"model":"vertex/gemini-2.5-pro","messages":[{"role":"user","content":"Hello"}]}"#,
        )
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    assert!(json(&b)["input_tokens"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn a_refused_token_request_is_a_clear_502() {
    let pem: Value = serde_json::from_str(&std::fs::read_to_string(SA).unwrap()).unwrap();
    let opts = MockOptions {
        record: true,
        google_key_pem: pem["private_key"].as_str().map(str::to_owned),
        ..Default::default()
    };
    // The assertion's audience (this URL) is not the endpoint's own: the mock refuses it.
    let h = start_with_mock(
        &yaml("${MOCK_ROOT}/token?audience=elsewhere"),
        axum::Router::new(),
        opts,
    )
    .await;
    let (s, _, b) = h
        .chat(r#"{"model":"vertex/gemini-2.5-flash","messages":[{"role":"user","content":"Hi"}]}"#)
        .await;
    assert_eq!(s, 502);
    let e = json(&b);
    assert_eq!(e["error"]["code"], "upstream_credentials");
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(msg.contains("could not get an access token"), "{msg}");
    assert!(msg.contains("400"), "{msg}");
    assert!(
        recorded(&h).is_empty(),
        "nothing reaches Vertex without a token"
    );
}

#[tokio::test]
async fn the_token_endpoint_checks_the_assertion_signature() {
    let h = start_vertex(None).await;
    let sa: Value = serde_json::from_str(&std::fs::read_to_string(SA).unwrap()).unwrap();
    let key = switchyard::upstream::parse_key(sa["private_key"].as_str().unwrap()).unwrap();
    let aud = format!("http://{}/token", h.mock.addr);
    let iat = 1_700_000_000;
    let good = switchyard::upstream::assertion(&key, Some("kid"), "a@b", &aud, iat).unwrap();
    // Same claims, signature of other content: refused.
    let other = switchyard::upstream::assertion(&key, Some("kid"), "x@y", &aud, iat).unwrap();
    let forged = format!(
        "{}.{}",
        good.rsplit_once('.').unwrap().0,
        other.rsplit_once('.').unwrap().1
    );
    let grant = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer";
    let (s, b) = post_token(&h, format!("grant_type={grant}&assertion={good}")).await;
    assert_eq!(s, 200, "{b}");
    assert!(b.contains("ya29.mock-"));
    let (s, b) = post_token(&h, format!("grant_type={grant}&assertion={forged}")).await;
    assert_eq!(s, 400);
    assert!(b.contains("Invalid JWT Signature"), "{b}");
}

/// Posts a form body straight to the mock's token endpoint.
async fn post_token(h: &Harness, form: String) -> (u16, String) {
    let req = http::Request::post(format!("http://{}/token", h.mock.addr))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(http_body_util::Full::new(bytes::Bytes::from(form)))
        .unwrap();
    let resp = h.client.request(req).await.unwrap();
    let (s, _, b) = collect(resp).await;
    (s.as_u16(), String::from_utf8_lossy(&b).into_owned())
}

#[tokio::test]
async fn a_failed_token_fetch_is_not_repeated_by_every_request() {
    let pem: Value = serde_json::from_str(&std::fs::read_to_string(SA).unwrap()).unwrap();
    let opts = MockOptions {
        record: true,
        google_key_pem: pem["private_key"].as_str().map(str::to_owned),
        ..Default::default()
    };
    let h = start_with_mock(
        &yaml("${MOCK_ROOT}/token?audience=elsewhere"),
        axum::Router::new(),
        opts,
    )
    .await;
    let body = r#"{"model":"vertex/gemini-2.5-flash","messages":[{"role":"user","content":"Hi"}]}"#;
    for _ in 0..3 {
        let (s, _, b) = h.chat(body).await;
        assert_eq!(s, 502);
        assert!(String::from_utf8_lossy(&b).contains("token endpoint answered 400"));
    }
    assert_eq!(
        h.mock.stats().token_requests,
        1,
        "the failure is held briefly"
    );
}
