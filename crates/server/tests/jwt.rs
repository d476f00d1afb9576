//! JWT bearer auth against a local identity provider (the mock's JWKS): callers of `/v1` whose
//! token names a workspace and allowed models, admin callers whose claims carry roles, every
//! refusal with its reason in the caller's shape, and a key rolled at the provider picked up
//! with one fetch.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::*;

const ADMIN: &str = "admin-key-jwt-1";

fn yaml(extra: &str) -> String {
    format!(
        "server:\n  discover_env: false\n  admin_keys:\n    - name: root\n      key: {ADMIN}\n  tenants:\n    jwt:\n      jwks_url: ${{MOCK_ROOT}}/.well-known/jwks.json\n      issuer: https://idp.test\n      audience: switchyard\n{extra}providers:\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\nclient_keys:\n  - name: static\n    key: {KEY}\n"
    )
}

fn token(h: &Harness, alg: &str, claims: Value) -> String {
    let mut c = json!({"iss": "https://idp.test", "aud": "switchyard"});
    if let (Some(base), Some(extra)) = (c.as_object_mut(), claims.as_object()) {
        base.extend(extra.clone());
    }
    h.mock.mint(alg, &c).expect("a minted token")
}

async fn send(h: &Harness, method: &str, path: &str, bearer: &str, body: Value) -> (u16, Value) {
    h.json_as(bearer, method, path, body).await
}

async fn chat(h: &Harness, bearer: &str, model: &str) -> (u16, Value) {
    h.chat_as(bearer, model).await
}

async fn workspace(h: &Harness, name: &str) -> String {
    let (s, ws) = send(
        h,
        "POST",
        "/admin/v1/workspaces",
        ADMIN,
        json!({"name": name}),
    )
    .await;
    assert_eq!(s, 201, "{ws}");
    ws["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_callers_token_names_its_workspace_and_models() {
    let h = start_with(&yaml(""), axum::Router::new()).await;
    let ws = workspace(&h, "search").await;
    for alg in ["RS256", "ES256"] {
        let t = token(
            &h,
            alg,
            json!({"sub": "svc-search", "switchyard_workspace": ws,
                "switchyard_models": ["openai/gpt-4o*"]}),
        );
        let (s, body) = chat(&h, &t, "openai/gpt-4o-mini").await;
        assert_eq!(s, 200, "{alg}: {body}");
        let (s, body) = chat(&h, &t, "openai/o3").await;
        assert_eq!(
            (s, body["error"]["param"].as_str()),
            (403, Some("model")),
            "{alg}"
        );
    }
    // The records name the workspace and the token's subject.
    let mut records = Vec::new();
    for _ in 0..100 {
        let (_, page) = send(
            &h,
            "GET",
            &format!("/admin/logs?workspace={ws}"),
            ADMIN,
            Value::Null,
        )
        .await;
        records = page["data"].as_array().cloned().unwrap_or_default();
        if records.len() >= 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(records.len(), 4, "{records:?}");
    assert!(
        records.iter().all(|r| r["caller"] == "jwt:svc-search"),
        "{records:?}"
    );

    // The static key keeps working beside it; nothing at all is a 401.
    assert_eq!(chat(&h, KEY, "openai/gpt-4o-mini").await.0, 200);
    let (s, _, _) = h
        .request(
            "POST",
            "/v1/chat/completions",
            &[("content-type", "application/json")],
            r#"{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#,
        )
        .await;
    assert_eq!(s, 401);

    // /v1/compare and /v1/feedback go through the same authentication.
    let t = token(
        &h,
        "RS256",
        json!({"sub": "svc", "switchyard_workspace": ws}),
    );
    let cmp =
        json!({"models": ["openai/gpt-4o-mini"], "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(
        send(&h, "POST", "/v1/compare", &t, cmp.clone()).await.0,
        200
    );
    let expired = token(
        &h,
        "RS256",
        json!({"sub": "svc", "switchyard_workspace": ws, "exp": 1_000_000_000}),
    );
    assert_eq!(send(&h, "POST", "/v1/compare", &expired, cmp).await.0, 401);
    let fb = json!({"request_id": "req-nope", "score": 1});
    assert_ne!(
        send(&h, "POST", "/v1/feedback", &t, fb.clone()).await.0,
        401
    );
    assert_eq!(send(&h, "POST", "/v1/feedback", &expired, fb).await.0, 401);
}

#[tokio::test]
async fn bad_tokens_are_refused_with_the_reason() {
    let h = start_with(&yaml(""), axum::Router::new()).await;
    let ws = workspace(&h, "ads").await;
    let ok = json!({"sub": "svc", "switchyard_workspace": ws});
    let cases = [
        (
            token(
                &h,
                "ES256",
                json!({"sub": "svc", "switchyard_workspace": ws, "exp": 1_000_000_000}),
            ),
            401,
            "Invalid token: the token has expired.",
        ),
        (
            h.mock
                .mint(
                    "RS256",
                    &json!({"iss": "https://evil.test", "aud": "switchyard",
                    "switchyard_workspace": ws}),
                )
                .unwrap(),
            401,
            "Invalid token: the token's issuer is not accepted.",
        ),
        (
            h.mock
                .mint(
                    "RS256",
                    &json!({"iss": "https://idp.test", "aud": "else",
                    "switchyard_workspace": ws}),
                )
                .unwrap(),
            401,
            "Invalid token: the token's audience is not accepted.",
        ),
        (
            token(
                &h,
                "RS256",
                json!({"sub": "svc", "switchyard_workspace": "ws-nope"}),
            ),
            403,
            "The token's workspace 'ws-nope' does not exist.",
        ),
        (
            token(&h, "RS256", json!({"sub": "svc"})),
            403,
            "The token names no workspace (claim 'switchyard_workspace').",
        ),
    ];
    for (t, status, message) in cases {
        let (s, body) = chat(&h, &t, "openai/gpt-4o-mini").await;
        assert_eq!(
            (s, body["error"]["message"].as_str()),
            (status, Some(message)),
            "{body}"
        );
    }
    // A valid token with its signature from another one: refused.
    let good = token(&h, "RS256", ok.clone());
    let other = token(
        &h,
        "RS256",
        json!({"sub": "root", "switchyard_workspace": ws}),
    );
    let parts: Vec<&str> = good.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        other.split('.').nth(1).unwrap(),
        parts[2]
    );
    let (s, body) = chat(&h, &forged, "openai/gpt-4o-mini").await;
    assert_eq!(s, 401, "{body}");
    assert_eq!(
        body["error"]["message"],
        "Invalid token: the token's signature does not verify."
    );
    // Anthropic callers get Anthropic's shape.
    let expired = token(
        &h,
        "ES256",
        json!({"switchyard_workspace": ws, "exp": 1_000_000_000}),
    );
    let (s, _, b) = h
        .request(
            "POST",
            "/v1/messages",
            &[
                ("x-api-key", &expired),
                ("content-type", "application/json"),
                ("anthropic-version", "2023-06-01"),
            ],
            r#"{"model":"openai/gpt-4o-mini","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#.to_owned(),
        )
        .await;
    let body: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(s, 401);
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "authentication_error");
}

#[tokio::test]
async fn a_key_rolled_at_the_provider_is_fetched_once() {
    let h = start_with(&yaml(""), axum::Router::new()).await;
    let ws = workspace(&h, "roll").await;
    let claims = json!({"sub": "svc", "switchyard_workspace": ws});
    assert_eq!(
        chat(
            &h,
            &token(&h, "ES256", claims.clone()),
            "openai/gpt-4o-mini"
        )
        .await
        .0,
        200
    );
    let fetched = h.mock.stats().jwks_requests;
    assert_eq!(fetched, 1, "fetched once at start");
    let kid = h.mock.rotate_idp_key().unwrap();
    assert_eq!(kid, "ec-2");
    // Signed with the new key: the set is fetched again and the token accepted.
    let (s, body) = chat(
        &h,
        &token(&h, "ES256", claims.clone()),
        "openai/gpt-4o-mini",
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(h.mock.stats().jwks_requests, 2);
    // Made-up key ids do not make the gateway fetch again within the cooldown.
    for i in 0..5 {
        let mut c = claims.clone();
        c["iss"] = json!("https://idp.test");
        c["aud"] = json!("switchyard");
        let t = h
            .mock
            .mint_with_kid("ES256", &format!("made-up-{i}"), &c)
            .unwrap();
        let (s, body) = chat(&h, &t, "openai/gpt-4o-mini").await;
        assert_eq!(s, 401, "{body}");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("key set"));
    }
    assert_eq!(h.mock.stats().jwks_requests, 2);
}

#[tokio::test]
async fn an_admins_token_carries_roles() {
    let h = start_with(&yaml(""), axum::Router::new()).await;
    let a = workspace(&h, "a").await;
    let b = workspace(&h, "b").await;
    let org_admin = token(
        &h,
        "RS256",
        json!({"sub": "ana", "switchyard_role": "admin"}),
    );
    let (s, list) = send(&h, "GET", "/admin/v1/workspaces", &org_admin, Value::Null).await;
    assert_eq!(s, 200, "{list}");
    assert!(list["data"].as_array().unwrap().len() >= 3);
    // Its changes are audited under the token's subject.
    let (s, ws) = send(
        &h,
        "POST",
        "/admin/v1/workspaces",
        &org_admin,
        json!({"name": "c"}),
    )
    .await;
    assert_eq!(s, 201, "{ws}");
    let (_, events) = send(&h, "GET", "/admin/v1/audit", ADMIN, Value::Null).await;
    let mine: Vec<&Value> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == "jwt:ana")
        .collect();
    assert_eq!(mine.len(), 1, "{events}");
    assert_eq!(mine[0]["action"], "workspace.create");

    // A viewer of `a` reads `a`, cannot make keys there, and does not see `b`.
    let viewer = token(
        &h,
        "ES256",
        json!({"sub": "bo", "switchyard_workspaces": {a.clone(): "viewer"}}),
    );
    assert_eq!(
        send(
            &h,
            "GET",
            &format!("/admin/v1/workspaces/{a}"),
            &viewer,
            Value::Null
        )
        .await
        .0,
        200
    );
    let (s, _) = send(
        &h,
        "POST",
        &format!("/admin/v1/workspaces/{a}/keys"),
        &viewer,
        json!({"name": "k"}),
    )
    .await;
    assert_eq!(s, 403);
    let (s, _) = send(
        &h,
        "GET",
        &format!("/admin/v1/workspaces/{b}"),
        &viewer,
        Value::Null,
    )
    .await;
    assert!(s == 403 || s == 404, "{s}");
    // A workspace admin of `b` (as a list claim) makes keys there.
    let ws_admin = token(
        &h,
        "RS256",
        json!({"sub": "cy", "switchyard_workspaces": [format!("{b}:admin")]}),
    );
    let (s, k) = send(
        &h,
        "POST",
        &format!("/admin/v1/workspaces/{b}/keys"),
        &ws_admin,
        json!({"name": "k"}),
    )
    .await;
    assert_eq!(s, 201, "{k}");
    // No roles: nothing there for it (a 404, as for another workspace); a bad token: 401.
    let nobody = token(&h, "RS256", json!({"sub": "dee"}));
    assert_eq!(
        send(
            &h,
            "GET",
            "/admin/v1/workspaces/default",
            &nobody,
            Value::Null
        )
        .await
        .0,
        404
    );
    let expired = token(
        &h,
        "RS256",
        json!({"sub": "ana", "switchyard_role": "owner", "exp": 1}),
    );
    assert_eq!(
        send(&h, "GET", "/admin/v1/workspaces", &expired, Value::Null)
            .await
            .0,
        401
    );
}

#[tokio::test]
async fn admins_may_sign_in_with_tokens_alone_and_callers_can_be_left_out() {
    // No bootstrap admin key, callers' tokens off.
    let cfg = format!(
        "server:\n  discover_env: false\n  tenants:\n    jwt:\n      jwks_url: ${{MOCK_ROOT}}/.well-known/jwks.json\n      callers: false\n      claims:\n        org_role: realm_access.roles\nproviders:\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\nclient_keys:\n  - name: static\n    key: {KEY}\n"
    );
    let h = start_with(&cfg, axum::Router::new()).await;
    let owner = h
        .mock
        .mint(
            "RS256",
            &json!({"sub": "ana", "realm_access": {"roles": ["owner"]}}),
        )
        .unwrap();
    assert_eq!(
        send(&h, "GET", "/admin/v1/workspaces", &owner, Value::Null)
            .await
            .0,
        200
    );
    let caller = h
        .mock
        .mint(
            "RS256",
            &json!({"sub": "svc", "switchyard_workspace": "default"}),
        )
        .unwrap();
    assert_eq!(chat(&h, &caller, "openai/gpt-4o-mini").await.0, 401);
    assert_eq!(chat(&h, KEY, "openai/gpt-4o-mini").await.0, 200);
}

#[tokio::test]
async fn an_unreachable_identity_provider_refuses_tokens_and_says_so() {
    let cfg = format!(
        "server:\n  discover_env: false\n  admin_keys:\n    - name: root\n      key: {ADMIN}\n  tenants:\n    jwt:\n      jwks_url: http://127.0.0.1:1/.well-known/jwks.json\nproviders:\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\n"
    );
    let h = start_with(&cfg, axum::Router::new()).await;
    let t = h
        .mock
        .mint(
            "RS256",
            &json!({"sub": "svc", "switchyard_workspace": "default"}),
        )
        .unwrap();
    let (s, body) = chat(&h, &t, "openai/gpt-4o-mini").await;
    assert_eq!(s, 401, "{body}");
    // With JWT on, the loopback listener no longer serves callers without a credential.
    let (s, _, _) = h
        .request(
            "POST",
            "/v1/chat/completions",
            &[("content-type", "application/json")],
            r#"{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#,
        )
        .await;
    assert_eq!(s, 401);
    let auth = format!("Bearer {ADMIN}");
    let (_, _, m) = h
        .request("GET", "/metrics", &[("authorization", &auth)], "")
        .await;
    let text = String::from_utf8_lossy(&m);
    let failures: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("switchyard_jwt_key_set_fetch_failures_total "))
        .and_then(|v| v.trim().parse().ok())
        .expect("the failure counter");
    // The start-up fetch and the one the unknown key asked for.
    assert_eq!(failures, 2, "{text}");
}

#[tokio::test]
async fn a_remembered_token_still_expires() {
    let h = start_with(&yaml("      leeway_secs: 0\n"), axum::Router::new()).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let t = token(
        &h,
        "ES256",
        json!({"sub": "svc", "switchyard_workspace": "default", "exp": now + 2}),
    );
    // Verified once, then served from memory.
    for _ in 0..3 {
        assert_eq!(chat(&h, &t, "openai/gpt-4o-mini").await.0, 200);
    }
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (s, body) = chat(&h, &t, "openai/gpt-4o-mini").await;
    assert_eq!(s, 401, "{body}");
    assert_eq!(
        body["error"]["message"],
        "Invalid token: the token has expired."
    );
}
