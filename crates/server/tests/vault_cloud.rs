//! AWS and Google credentials from the vault on the request path: a workspace's (or the
//! organisation's) stored AWS keys sign its Bedrock calls and its stored service account gets
//! its Vertex access tokens (once per token lifetime), in place of the configured ones, which
//! the mock provider refuses here; a credential of the wrong kind for a provider is a 400.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::*;
use switchyard_mock::MockOptions;

const ADMIN: &str = "admin-key-vault-cloud";
/// The keys the mock accepts: only the vault holds them.
const VAULT_AKID: &str = "AKIDVAULTEXAMPLE";
const VAULT_SECRET: &str = "vault/K7MDENG+bPxRfiCYEXAMPLEKEYsecret";
const SA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/vertex-service-account.json"
);

fn yaml() -> String {
    format!(
        "server:\n  discover_env: false\n  admin_keys:\n    - name: root\n      key: {ADMIN}\nproviders:\n  - name: bedrock\n    type: bedrock\n    base_url: ${{MOCK_ROOT}}\n    region: eu-west-1\n    aws_access_key_id: AKIDCONFIGURED\n    aws_secret_access_key: configured-secret-not-accepted\n  - name: vertex\n    type: vertex\n    base_url: ${{MOCK_ROOT}}\n    project: proj-1\n    location: us-east5\n    api_key: a-static-token-the-mock-never-issued\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\nclient_keys:\n  - name: test\n    key: {KEY}\n"
    )
}

async fn call(h: &Harness, method: &str, path: &str, body: Value) -> (u16, Value) {
    h.json_as(ADMIN, method, path, body).await
}

async fn chat(h: &Harness, model: &str) -> (u16, Value) {
    h.chat_as(KEY, model).await
}

#[tokio::test]
async fn stored_aws_keys_and_service_accounts_authorize_bedrock_and_vertex_calls() {
    let sa: Value = serde_json::from_str(&std::fs::read_to_string(SA).unwrap()).unwrap();
    let opts = MockOptions {
        record: true,
        aws_credentials: Some((VAULT_AKID.into(), VAULT_SECRET.into())),
        google_key_pem: sa["private_key"].as_str().map(str::to_owned),
        ..Default::default()
    };
    let h = start_with_mock(&yaml(), axum::Router::new(), opts).await;
    let bedrock = "bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0";
    let vertex = "vertex/gemini-2.5-flash";
    // The configured credentials are refused upstream.
    assert_ne!(chat(&h, bedrock).await.0, 200);
    assert_ne!(chat(&h, vertex).await.0, 200);

    let (s, c) = call(
        &h,
        "POST",
        "/admin/v1/credentials",
        json!({"provider": "bedrock", "name": "aws",
            "aws": {"access_key_id": VAULT_AKID, "secret_access_key": VAULT_SECRET}}),
    )
    .await;
    assert_eq!(s, 201, "{c}");
    let mut account = sa.clone();
    account["token_uri"] = json!(format!("http://{}/token", h.mock.addr));
    let (s, c) = call(
        &h,
        "POST",
        "/admin/v1/credentials",
        json!({"provider": "vertex", "name": "gcp", "gcp_service_account": account}),
    )
    .await;
    assert_eq!(s, 201, "{c}");

    let (s, body) = chat(&h, bedrock).await;
    assert_eq!(s, 200, "{body}");
    let signed = h.mock.requests().last().cloned().unwrap();
    let auth = signed.header("authorization").unwrap_or_default();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256") && auth.contains(&format!("Credential={VAULT_AKID}/")),
        "{auth}"
    );
    for _ in 0..3 {
        let (s, body) = chat(&h, vertex).await;
        assert_eq!(s, 200, "{body}");
    }
    // One token for the three calls.
    assert_eq!(h.mock.stats().token_requests, 1);

    // An AWS credential for a provider that is not Bedrock: a 400 saying so.
    let (s, c) = call(
        &h,
        "POST",
        "/admin/v1/credentials",
        json!({"provider": "openai", "name": "wrong",
            "aws": {"access_key_id": VAULT_AKID, "secret_access_key": VAULT_SECRET}}),
    )
    .await;
    assert_eq!(s, 201, "{c}");
    let (s, body) = chat(&h, "openai/gpt-4o-mini").await;
    assert_eq!(s, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("is an AWS credential, and the provider is not Amazon Bedrock"),
        "{body}"
    );
}
