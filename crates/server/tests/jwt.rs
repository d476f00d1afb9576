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

/// A GET to any URL, redirects not followed: status and headers.
async fn get_url(h: &Harness, url: &str, cookie: Option<&str>) -> (u16, http::HeaderMap) {
    let mut b = http::Request::builder().uri(url);
    if let Some(c) = cookie {
        b = b.header("cookie", c);
    }
    let req = b
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let resp = h.client.request(req).await.unwrap();
    (resp.status().as_u16(), resp.headers().clone())
}

fn location(hd: &http::HeaderMap) -> String {
    hd["location"].to_str().unwrap().to_owned()
}

/// The console's cookie from a Set-Cookie header: `name=value`.
fn cookie_of(hd: &http::HeaderMap) -> String {
    let set = hd["set-cookie"].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

#[tokio::test]
async fn the_console_signs_in_through_the_provider_with_pkce_state_and_nonce() {
    let oidc = "      oidc:\n        authorization_url: ${MOCK_ROOT}/_mock/idp/authorize\n        token_url: ${MOCK_ROOT}/_mock/idp/oauth/token\n        client_id: switchyard\n        client_secret: console-secret\n";
    // The mock signs its ID tokens with its own address as `iss`: no issuer rule here.
    let h = start_with(
        &yaml(oidc).replace("      issuer: https://idp.test\n", ""),
        axum::Router::new(),
    )
    .await;
    let (s, _, b) = h.request("GET", "/ui/oidc/config", &[], "").await;
    assert_eq!((s, json(&b)["enabled"].as_bool()), (200, Some(true)));
    h.mock
        .set_idp_user(json!({"sub": "ana@example.com", "switchyard_role": "admin"}));

    // The login sends the browser to the provider with a challenge, and keeps the verifier,
    // state and nonce in an HttpOnly cookie.
    let (s, hd, _) = h
        .request("GET", "/ui/oidc/login", &[("host", "console.test")], "")
        .await;
    assert_eq!(s, 303);
    let to = location(&hd);
    let q = query_of(&to);
    assert!(
        to.starts_with(&format!("http://{}/_mock/idp/authorize?", h.mock.addr)),
        "{to}"
    );
    assert_eq!(q["redirect_uri"], "http://console.test/ui/oidc/callback");
    assert_eq!(
        (q["code_challenge_method"].as_str(), q["client_id"].as_str()),
        ("S256", "switchyard")
    );
    let set = hd["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/ui/oidc"),
        "{set}"
    );
    let cookie = cookie_of(&hd);
    assert!(
        !cookie.contains(&q["code_challenge"]),
        "the cookie holds the verifier, not the challenge"
    );

    // The provider signs in and sends the browser back with a code and the state.
    let (s, hd) = get_url(&h, &to, None).await;
    assert_eq!(s, 302);
    let back = query_of(&location(&hd));
    let callback = format!(
        "/ui/oidc/callback?code={}&state={}",
        back["code"], back["state"]
    );

    // Without the cookie (another browser), or with another state, the code is not exchanged.
    let (s, hd, _) = h
        .request("GET", &callback, &[("host", "console.test")], "")
        .await;
    assert_eq!(s, 303);
    assert!(
        location(&hd).starts_with("/ui/#signin_error="),
        "{}",
        location(&hd)
    );
    let forged = format!("/ui/oidc/callback?code={}&state=forged", back["code"]);
    let (_, hd, _) = h
        .request(
            "GET",
            &forged,
            &[("host", "console.test"), ("cookie", &cookie)],
            "",
        )
        .await;
    assert!(location(&hd).contains("state"), "{}", location(&hd));
    assert!(h.mock.idp_token_forms().is_empty());

    // With both, the gateway exchanges the code with the verifier and the client secret, and
    // hands the console a token that the admin API accepts as the provider's user.
    let (s, hd, _) = h
        .request(
            "GET",
            &callback,
            &[("host", "console.test"), ("cookie", &cookie)],
            "",
        )
        .await;
    assert_eq!(s, 303);
    let dest = location(&hd);
    let token = dest
        .strip_prefix("/ui/#token=")
        .unwrap_or_else(|| panic!("{dest}"));
    assert!(hd["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(hd["cache-control"], "no-store");
    let forms = h.mock.idp_token_forms();
    assert_eq!(forms.len(), 1);
    assert_eq!(forms[0]["client_secret"], "console-secret");
    assert_eq!(
        super_challenge(&forms[0]["code_verifier"]),
        q["code_challenge"]
    );
    let (s, me) = send(&h, "GET", "/admin/v1/me", token, Value::Null).await;
    assert_eq!(s, 200, "{me}");
    assert_eq!(me["actor"], "jwt:ana@example.com");
    assert_eq!(me["org_admin"], true);

    // A code is good once: the same callback again fails at the provider.
    let (_, hd, _) = h
        .request(
            "GET",
            &callback,
            &[("host", "console.test"), ("cookie", &cookie)],
            "",
        )
        .await;
    assert!(location(&hd).contains("invalid_grant"), "{}", location(&hd));

    // A provider that refuses the sign-in says so on the sign-in page.
    let refused = format!(
        "/ui/oidc/callback?error=access_denied&error_description=no+console+for+you&state={}",
        back["state"]
    );
    let (_, hd, _) = h.request("GET", &refused, &[("cookie", &cookie)], "").await;
    let err = location(&hd);
    assert!(
        err.contains("access_denied") && err.contains("no+console"),
        "{err}"
    );

    // An ID token minted for another sign-in's nonce is refused, though its code exchanged.
    let (_, first, _) = h.request("GET", "/ui/oidc/login", &[], "").await;
    let (_, second, _) = h.request("GET", "/ui/oidc/login", &[], "").await;
    let nonce_a = query_of(&location(&first))["nonce"].clone();
    let (_, back) = get_url(&h, &location(&second), None).await;
    let back = query_of(&location(&back));
    let c = cookie_of(&second);
    let (state_b, verifier_b) = {
        let v = c.split_once('=').unwrap().1;
        let p: Vec<&str> = v.split('.').collect();
        (p[0].to_owned(), p[1].to_owned())
    };
    let mixed = format!("switchyard_oidc={state_b}.{verifier_b}.{nonce_a}");
    let cb = format!(
        "/ui/oidc/callback?code={}&state={}",
        back["code"], back["state"]
    );
    let (_, hd, _) = h.request("GET", &cb, &[("cookie", &mixed)], "").await;
    let err = location(&hd);
    assert!(
        err.starts_with("/ui/#signin_error=") && err.contains("nonce"),
        "{err}"
    );
    assert_eq!(h.mock.idp_token_forms().len(), 3);
}

#[tokio::test]
async fn a_token_for_another_audience_does_not_sign_in_and_sign_in_is_off_unless_configured() {
    // The provider's ID token is for the client id `switchyard`; a gateway expecting another
    // audience refuses it after the exchange.
    let oidc = "      oidc:\n        authorization_url: ${MOCK_ROOT}/_mock/idp/authorize\n        token_url: ${MOCK_ROOT}/_mock/idp/oauth/token\n        client_id: console-app\n";
    let h = start_with(
        &yaml(oidc).replace("      issuer: https://idp.test\n", ""),
        axum::Router::new(),
    )
    .await;
    let (_, hd, _) = h.request("GET", "/ui/oidc/login", &[], "").await;
    let cookie = cookie_of(&hd);
    let (_, back) = get_url(&h, &location(&hd), None).await;
    let back = query_of(&location(&back));
    let callback = format!(
        "/ui/oidc/callback?code={}&state={}",
        back["code"], back["state"]
    );
    let (_, hd, _) = h
        .request("GET", &callback, &[("cookie", &cookie)], "")
        .await;
    let err = location(&hd);
    assert!(
        err.starts_with("/ui/#signin_error=") && err.contains("audience"),
        "{err}"
    );

    // Not configured: no offer, and the login is a 404.
    let h = start_with(&yaml(""), axum::Router::new()).await;
    let (_, _, b) = h.request("GET", "/ui/oidc/config", &[], "").await;
    assert_eq!(json(&b)["enabled"], false);
    let (s, _, _) = h.request("GET", "/ui/oidc/login", &[], "").await;
    assert_eq!(s, 404);
}

/// RFC 7636's S256 challenge of a verifier.
fn super_challenge(verifier: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()))
}
