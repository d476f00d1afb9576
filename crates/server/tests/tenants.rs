//! Workspaces and virtual keys through the admin API (`/admin/v1`) and the request path, on the
//! real SQLite store: keys shown once, model allow-lists, disable, expiry, rotation with grace,
//! deletion, metadata merged into the record, and an audit event for every change.

mod support;

use serde_json::{json, Value};
use support::*;

const ADMIN: &str = "admin-key-tenants-1";

fn yaml() -> String {
    format!(
        "server:\n  discover_env: false\n  admin_keys:\n    - name: root\n      key: {ADMIN}\nproviders:\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\nclient_keys:\n  - name: static\n    key: {KEY}\n"
    )
}

async fn call(h: &Harness, method: &str, path: &str, body: Value) -> (u16, Value) {
    h.json_as(ADMIN, method, path, body).await
}

async fn chat(h: &Harness, key: &str, model: &str) -> (u16, Value) {
    h.chat_as(key, model).await
}

#[tokio::test]
async fn a_virtual_key_works_within_its_limits_and_every_change_is_audited() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    let (s, ws) = call(
        &h,
        "POST",
        "/admin/v1/workspaces",
        json!({"name": "team-a"}),
    )
    .await;
    assert_eq!(s, 201, "{ws}");
    let ws_id = ws["id"].as_str().unwrap().to_owned();
    let (s, created) = call(
        &h,
        "POST",
        &format!("/admin/v1/workspaces/{ws_id}/keys"),
        json!({"name": "ci", "models": ["openai/*"], "metadata": {"team": "a"}}),
    )
    .await;
    assert_eq!(s, 201, "{created}");
    let key = created["key"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(key.starts_with("sk-sy-") && key.contains(&id));
    assert!(created.get("hash").is_none());
    // Shown once: reads never carry it.
    let (_, one) = call(&h, "GET", &format!("/admin/v1/keys/{id}"), Value::Null).await;
    assert!(
        one.get("key").is_none() && !one.to_string().contains(&key),
        "{one}"
    );

    // The key serves the models it may use; another model is a 403 in OpenAI's shape.
    let (s, body) = chat(&h, &key, "openai/gpt-4o-mini").await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = chat(&h, &key, "groq/llama").await;
    assert_eq!(s, 403, "{body}");
    assert_eq!(body["error"]["param"], "model");
    assert_eq!(body["error"]["code"], "permission_denied");
    // The static key keeps working; a made-up virtual key is a 401.
    assert_eq!(chat(&h, KEY, "openai/gpt-4o-mini").await.0, 200);
    let fake = format!(
        "{}{}",
        &key[..key.len() - 1],
        if key.ends_with('a') { "b" } else { "a" }
    );
    assert_eq!(chat(&h, &fake, "openai/gpt-4o-mini").await.0, 401);

    // Disabled: 403; enabled again: 200; expired: 403.
    let (s, _) = call(
        &h,
        "PATCH",
        &format!("/admin/v1/keys/{id}"),
        json!({"disabled": true}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, body) = chat(&h, &key, "openai/gpt-4o-mini").await;
    assert_eq!(
        (s, body["error"]["message"].as_str()),
        (403, Some("This API key is disabled."))
    );
    call(
        &h,
        "PATCH",
        &format!("/admin/v1/keys/{id}"),
        json!({"disabled": false}),
    )
    .await;
    assert_eq!(chat(&h, &key, "openai/gpt-4o-mini").await.0, 200);
    call(
        &h,
        "PATCH",
        &format!("/admin/v1/keys/{id}"),
        json!({"expires_ms": 1}),
    )
    .await;
    assert_eq!(chat(&h, &key, "openai/gpt-4o-mini").await.0, 403);
    call(
        &h,
        "PATCH",
        &format!("/admin/v1/keys/{id}"),
        json!({"expires_ms": null}),
    )
    .await;

    // Rotation: both secrets work during the grace; without grace only the new one.
    let (s, rotated) = call(
        &h,
        "POST",
        &format!("/admin/v1/keys/{id}/rotate"),
        json!({"grace_ms": 60000}),
    )
    .await;
    assert_eq!(s, 200, "{rotated}");
    let new = rotated["key"].as_str().unwrap().to_owned();
    assert_eq!(chat(&h, &key, "openai/gpt-4o-mini").await.0, 200);
    assert_eq!(chat(&h, &new, "openai/gpt-4o-mini").await.0, 200);
    let (_, rotated) = call(
        &h,
        "POST",
        &format!("/admin/v1/keys/{id}/rotate"),
        json!({"grace_ms": 0}),
    )
    .await;
    let newest = rotated["key"].as_str().unwrap().to_owned();
    assert_eq!(chat(&h, &new, "openai/gpt-4o-mini").await.0, 401);
    assert_eq!(chat(&h, &newest, "openai/gpt-4o-mini").await.0, 200);

    // The workspace cannot go while it has keys; deleting the key refuses it at once.
    let (s, _) = call(
        &h,
        "DELETE",
        &format!("/admin/v1/workspaces/{ws_id}"),
        Value::Null,
    )
    .await;
    assert_eq!(s, 409);
    let (s, _) = call(&h, "DELETE", &format!("/admin/v1/keys/{id}"), Value::Null).await;
    assert_eq!(s, 200);
    assert_eq!(chat(&h, &newest, "openai/gpt-4o-mini").await.0, 401);

    // Every mutation is in the audit log, newest first, without secrets.
    let (s, audit) = call(&h, "GET", "/admin/v1/audit?limit=50", Value::Null).await;
    assert_eq!(s, 200);
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "key.delete",
            "key.rotate",
            "key.rotate",
            "key.update",
            "key.update",
            "key.enable",
            "key.disable",
            "key.create",
            "workspace.create",
            "workspace.create"
        ]
    );
    let text = audit.to_string();
    for secret in [&key, &new, &newest] {
        assert!(!text.contains(secret.as_str()));
    }
    assert_eq!(audit["data"][0]["actor"], "admin-key:root");
    assert!(audit["data"][0]["request_id"].is_string());
    assert_eq!(audit["data"][0]["source_ip"], "127.0.0.1");
}

#[tokio::test]
async fn key_metadata_lands_in_the_request_record_under_the_callers_own() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    let (_, created) = call(
        &h,
        "POST",
        "/admin/v1/workspaces/default/keys",
        json!({"name": "svc", "metadata": {"team": "a", "env": "prod"}, "tags": ["batch"]}),
    )
    .await;
    let key = created["key"].as_str().unwrap();
    let auth = format!("Bearer {key}");
    let body = json!({"model": "openai/gpt-4o-mini", "user": "u-42", "messages": [{"role": "user", "content": "hi"}]});
    let (s, headers, _) = h
        .request(
            "POST",
            "/v1/chat/completions",
            &[
                ("authorization", &auth),
                ("x-switchyard-metadata", r#"{"env": "dev"}"#),
            ],
            body.to_string(),
        )
        .await;
    assert_eq!(s, 200);
    let rid = headers["x-request-id"].to_str().unwrap().to_owned();
    let admin = format!("Bearer {ADMIN}");
    let mut record = Value::Null;
    for _ in 0..100 {
        let (_, _, b) = h
            .request(
                "GET",
                &format!("/admin/logs?request_id={rid}"),
                &[("authorization", &admin)],
                "",
            )
            .await;
        let v: Value = serde_json::from_slice(&b).unwrap();
        if let Some(r) = v["data"].get(0) {
            record = r.clone();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        record["metadata"],
        json!({"env": "dev", "team": "a", "tags": ["batch"]})
    );
    assert_eq!(record["caller"], "svc");
    // The record names the workspace, the key's public id and the end user; filters find it.
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        (record["workspace"].as_str(), record["key_id"].as_str()),
        (Some("default"), Some(id))
    );
    assert_eq!(record["end_user"], "u-42");
    for q in [
        format!("workspace=default&key_id={id}"),
        "end_user=u-42".into(),
    ] {
        let (_, _, b) = h
            .request(
                "GET",
                &format!("/admin/v1/logs?{q}"),
                &[("authorization", &admin)],
                "",
            )
            .await;
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["data"].as_array().map(Vec::len), Some(1), "{q}: {v}");
    }
    let (_, _, b) = h
        .request(
            "GET",
            "/admin/v1/logs?workspace=ws-other",
            &[("authorization", &admin)],
            "",
        )
        .await;
    assert_eq!(
        serde_json::from_slice::<Value>(&b).unwrap()["data"],
        json!([])
    );
}

#[tokio::test]
async fn the_admin_api_refuses_bad_input_and_unknown_callers() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    let (s, body) = call(&h, "POST", "/admin/v1/workspaces", json!({"name": ""})).await;
    assert_eq!((s, body["error"]["param"].as_str()), (400, Some("name")));
    let (s, _) = call(
        &h,
        "POST",
        "/admin/v1/workspaces",
        json!({"name": "x", "colour": "red"}),
    )
    .await;
    assert_eq!(s, 400);
    let (s, _) = call(
        &h,
        "POST",
        "/admin/v1/workspaces",
        json!({"name": "default"}),
    )
    .await;
    assert_eq!(s, 409);
    let (s, _) = call(&h, "GET", "/admin/v1/keys/nope", Value::Null).await;
    assert_eq!(s, 404);
    let (s, _) = call(
        &h,
        "POST",
        "/admin/v1/workspaces/ws-nope/keys",
        json!({"name": "k"}),
    )
    .await;
    assert_eq!(s, 404);
    // A client key is not an admin key.
    let auth = format!("Bearer {KEY}");
    let (s, _, _) = h
        .request(
            "GET",
            "/admin/v1/workspaces",
            &[("authorization", &auth)],
            "",
        )
        .await;
    assert_eq!(s, 401);
}

/// A workspace's own credential for a provider replaces the configured key for its requests
/// (the organisation's shared one for workspaces without their own); the store holds no
/// plaintext of either, and no answer or audit event shows them.
#[tokio::test]
async fn workspace_credentials_from_the_vault_reach_the_provider_and_are_never_shown() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    let (_, ws) = call(
        &h,
        "POST",
        "/admin/v1/workspaces",
        json!({"name": "team-b"}),
    )
    .await;
    let ws_id = ws["id"].as_str().unwrap().to_owned();
    let (s, own) = call(
        &h,
        "POST",
        "/admin/v1/credentials",
        json!({"provider": "openai", "workspace": ws_id, "name": "team-b openai", "api_key": "sk-team-b-0001"}),
    )
    .await;
    assert_eq!(s, 201, "{own}");
    assert!(!own.to_string().contains("sk-team-b-0001"));
    let (s, _) = call(
        &h,
        "POST",
        "/admin/v1/credentials",
        json!({"provider": "openai", "name": "org", "api_key": "sk-org-0002"}),
    )
    .await;
    assert_eq!(s, 201);
    let (s, body) = call(
        &h,
        "POST",
        "/admin/v1/credentials",
        json!({"provider": "nope", "name": "x", "api_key": "k"}),
    )
    .await;
    assert_eq!(
        (s, body["error"]["param"].as_str()),
        (400, Some("provider"))
    );
    let (_, created) = call(
        &h,
        "POST",
        &format!("/admin/v1/workspaces/{ws_id}/keys"),
        json!({"name": "b"}),
    )
    .await;
    let key = created["key"].as_str().unwrap().to_owned();

    let sent_key = |h: &Harness| {
        let last = h.mock.requests().last().cloned().unwrap();
        last.header("authorization").unwrap_or_default().to_owned()
    };
    assert_eq!(chat(&h, &key, "openai/gpt-4o-mini").await.0, 200);
    assert_eq!(sent_key(&h), "Bearer sk-team-b-0001");
    // The static key's default workspace has none of its own: the organisation's.
    assert_eq!(chat(&h, KEY, "openai/gpt-4o-mini").await.0, 200);
    assert_eq!(sent_key(&h), "Bearer sk-org-0002");
    // Replacing the secret takes effect at once; deleting falls back to the organisation's.
    let cid = own["id"].as_str().unwrap().to_owned();
    call(
        &h,
        "PATCH",
        &format!("/admin/v1/credentials/{cid}"),
        json!({"api_key": "sk-team-b-0003"}),
    )
    .await;
    chat(&h, &key, "openai/gpt-4o-mini").await;
    assert_eq!(sent_key(&h), "Bearer sk-team-b-0003");
    call(
        &h,
        "DELETE",
        &format!("/admin/v1/credentials/{cid}"),
        Value::Null,
    )
    .await;
    chat(&h, &key, "openai/gpt-4o-mini").await;
    assert_eq!(sent_key(&h), "Bearer sk-org-0002");

    // Lists, reads and the audit never carry a secret; the database file holds none.
    let (_, listed) = call(&h, "GET", "/admin/v1/credentials", Value::Null).await;
    let (_, audit) = call(&h, "GET", "/admin/v1/audit?limit=100", Value::Null).await;
    let shown = format!("{listed}{audit}");
    let path = h.server.state().cfg.tenants.sqlite_path.clone();
    let mut stored = std::fs::read(&path).unwrap();
    stored.extend(std::fs::read(format!("{}-wal", path.display())).unwrap_or_default());
    let stored = String::from_utf8_lossy(&stored);
    for secret in ["sk-team-b-0001", "sk-org-0002", "sk-team-b-0003"] {
        assert!(!shown.contains(secret), "{secret} shown");
        assert!(!stored.contains(secret), "{secret} stored in the clear");
    }
    assert!(audit.to_string().contains("credential.create"));
}

/// docs/openapi.json documents exactly the `/admin/v1` paths and methods the gateway serves:
/// the document is the one served, lists what `ADMIN_API` lists, and the router answers every
/// listed method on every listed path (anything but 404-for-no-route and 405).
#[tokio::test]
async fn the_openapi_document_matches_the_admin_routes() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    let (s, served) = call(&h, "GET", "/admin/v1/openapi.json", Value::Null).await;
    assert_eq!(s, 200);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let checked_in: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(served, checked_in);
    let documented: std::collections::BTreeSet<(String, String)> = checked_in["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(p, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .filter(|m| *m != "parameters")
                .map(move |m| (p.clone(), m.clone()))
        })
        .collect();
    let served_routes: std::collections::BTreeSet<(String, String)> = switchyard::http::ADMIN_API
        .iter()
        .flat_map(|(p, ms)| ms.iter().map(move |m| (p.to_string(), m.to_string())))
        .collect();
    assert_eq!(
        documented, served_routes,
        "docs/openapi.json and ADMIN_API differ"
    );
    for (p, m) in &served_routes {
        let concrete = p.replace("{id}", "nope").replace("{user}", "nobody");
        let body = if m == "get" || m == "delete" {
            Value::Null
        } else {
            json!({})
        };
        let (s, answer) = call(&h, &m.to_uppercase(), &concrete, body).await;
        assert_ne!(s, 405, "{m} {p}: {answer}");
        if s == 404 {
            // A 404 must be the resource's ("no workspace 'nope'"), not "no route".
            assert_ne!(
                answer["error"]["code"], "unknown_url",
                "{m} {p} is not routed"
            );
        }
    }
}

/// Role-based access: every role against every kind of endpoint, on its own workspace and on
/// another one. A workspace-scoped caller never reads or changes another workspace (a 404, as
/// if it did not exist), and a role below the one needed is a 403.
#[tokio::test]
async fn every_role_against_every_endpoint_and_the_other_workspace() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    let (_, a) = call(&h, "POST", "/admin/v1/workspaces", json!({"name": "a"})).await;
    let (_, b) = call(&h, "POST", "/admin/v1/workspaces", json!({"name": "b"})).await;
    let (a, b) = (
        a["id"].as_str().unwrap().to_owned(),
        b["id"].as_str().unwrap().to_owned(),
    );
    let (_, ka) = call(
        &h,
        "POST",
        &format!("/admin/v1/workspaces/{a}/keys"),
        json!({"name": "ka"}),
    )
    .await;
    let (_, kb) = call(
        &h,
        "POST",
        &format!("/admin/v1/workspaces/{b}/keys"),
        json!({"name": "kb"}),
    )
    .await;
    let ka_secret = ka["key"].as_str().unwrap().to_owned();
    let (ka, kb) = (
        ka["id"].as_str().unwrap().to_owned(),
        kb["id"].as_str().unwrap().to_owned(),
    );
    // One user per role, each with an admin key of its own.
    let roles = [
        ("org_admin", json!({"role": "admin"})),
        ("ws_admin", json!({"workspaces": {&a: "admin"}})),
        ("ws_member", json!({"workspaces": {&a: "member"}})),
        ("ws_viewer", json!({"workspaces": {&a: "viewer"}})),
        ("no_workspace", json!({})),
    ];
    let mut keys = vec![("owner", ADMIN.to_owned())];
    for (name, grant) in &roles {
        let mut u = grant.clone();
        u["email"] = json!(format!("{name}@example.com"));
        let (s, user) = call(&h, "POST", "/admin/v1/users", u).await;
        assert_eq!(s, 201, "{user}");
        let uid = user["id"].as_str().unwrap();
        let (s, k) = call(
            &h,
            "POST",
            &format!("/admin/v1/users/{uid}/admin-keys"),
            json!({"name": "k"}),
        )
        .await;
        assert_eq!(s, 201, "{k}");
        assert!(k["key"].as_str().unwrap().starts_with("sk-sya-"));
        keys.push((name, k["key"].as_str().unwrap().to_owned()));
    }
    let as_role = |key: &str, method: &str, path: &str, body: Value| {
        let auth = format!("Bearer {key}");
        let path = path.to_owned();
        let method = method.to_owned();
        let h = &h;
        async move {
            let (s, _, b) = h
                .request(
                    &method,
                    &path,
                    &[
                        ("authorization", &auth),
                        ("content-type", "application/json"),
                    ],
                    body.to_string(),
                )
                .await;
            (
                s,
                serde_json::from_slice::<Value>(&b).unwrap_or(Value::Null),
            )
        }
    };
    // (method, path, body, expected status per role: owner, org_admin, ws_admin, ws_member, ws_viewer, no_workspace)
    let cases: Vec<(&str, String, Value, [u16; 6])> = vec![
        (
            "GET",
            format!("/admin/v1/workspaces/{a}"),
            Value::Null,
            [200, 200, 200, 200, 200, 404],
        ),
        (
            "GET",
            format!("/admin/v1/workspaces/{b}"),
            Value::Null,
            [200, 200, 404, 404, 404, 404],
        ),
        (
            "PATCH",
            format!("/admin/v1/workspaces/{a}"),
            json!({"metadata": {"x": 1}}),
            [200, 200, 200, 403, 403, 404],
        ),
        (
            "PATCH",
            format!("/admin/v1/workspaces/{b}"),
            json!({"metadata": {"x": 1}}),
            [200, 200, 404, 404, 404, 404],
        ),
        (
            "DELETE",
            format!("/admin/v1/workspaces/{a}"),
            Value::Null,
            [409, 409, 403, 403, 403, 404],
        ),
        (
            "GET",
            format!("/admin/v1/workspaces/{a}/keys"),
            Value::Null,
            [200, 200, 200, 200, 200, 404],
        ),
        (
            "POST",
            format!("/admin/v1/workspaces/{a}/keys"),
            json!({"name": "n"}),
            [201, 201, 201, 201, 403, 404],
        ),
        (
            "POST",
            format!("/admin/v1/workspaces/{b}/keys"),
            json!({"name": "n"}),
            [201, 201, 404, 404, 404, 404],
        ),
        (
            "GET",
            format!("/admin/v1/keys/{ka}"),
            Value::Null,
            [200, 200, 200, 200, 200, 404],
        ),
        (
            "GET",
            format!("/admin/v1/keys/{kb}"),
            Value::Null,
            [200, 200, 404, 404, 404, 404],
        ),
        (
            "PATCH",
            format!("/admin/v1/keys/{ka}"),
            json!({"disabled": false}),
            [200, 200, 200, 200, 403, 404],
        ),
        (
            "PATCH",
            format!("/admin/v1/keys/{kb}"),
            json!({"disabled": false}),
            [200, 200, 404, 404, 404, 404],
        ),
        (
            "POST",
            format!("/admin/v1/keys/{kb}/rotate"),
            json!({"grace_ms": 0}),
            [200, 200, 404, 404, 404, 404],
        ),
        (
            "POST",
            "/admin/v1/workspaces".into(),
            json!({"name": "n"}),
            [201, 409, 403, 403, 403, 403],
        ),
        (
            "GET",
            "/admin/v1/audit".into(),
            Value::Null,
            [200, 200, 403, 403, 403, 403],
        ),
        (
            "GET",
            format!("/admin/v1/audit?workspace={a}"),
            Value::Null,
            [200, 200, 200, 403, 403, 404],
        ),
        (
            "GET",
            format!("/admin/v1/audit?workspace={b}"),
            Value::Null,
            [200, 200, 404, 404, 404, 404],
        ),
        (
            "GET",
            "/admin/v1/users".into(),
            Value::Null,
            [200, 200, 403, 403, 403, 403],
        ),
        (
            "POST",
            "/admin/v1/users".into(),
            json!({"email": "x@example.com", "role": "admin"}),
            [201, 403, 403, 403, 403, 403],
        ),
        (
            "GET",
            "/admin/v1/logs".into(),
            Value::Null,
            // A workspace-scoped caller reads its only workspace's records.
            [200, 200, 200, 200, 200, 403],
        ),
        (
            "GET",
            format!("/admin/v1/logs?workspace={b}"),
            Value::Null,
            [200, 200, 404, 404, 404, 404],
        ),
        (
            "GET",
            format!("/admin/v1/analytics?workspace={a}"),
            Value::Null,
            [200, 200, 200, 200, 200, 404],
        ),
        (
            "GET",
            "/admin/v1/health".into(),
            Value::Null,
            [200, 200, 403, 403, 403, 403],
        ),
        (
            "GET",
            "/admin/v1/openapi.json".into(),
            Value::Null,
            [200, 200, 200, 200, 200, 200],
        ),
        // End users: read by its viewers, created, blocked and removed by its admins.
        (
            "POST",
            format!("/admin/v1/workspaces/{a}/end-users"),
            json!({"id": "eu-1"}),
            [201, 409, 409, 403, 403, 404],
        ),
        (
            "POST",
            format!("/admin/v1/workspaces/{b}/end-users"),
            json!({"id": "eu-1"}),
            [201, 409, 404, 404, 404, 404],
        ),
        (
            "GET",
            format!("/admin/v1/workspaces/{a}/end-users"),
            Value::Null,
            [200, 200, 200, 200, 200, 404],
        ),
        (
            "GET",
            format!("/admin/v1/workspaces/{b}/end-users"),
            Value::Null,
            [200, 200, 404, 404, 404, 404],
        ),
        (
            "GET",
            format!("/admin/v1/workspaces/{a}/end-users/eu-1"),
            Value::Null,
            [200, 200, 200, 200, 200, 404],
        ),
        (
            "PATCH",
            format!("/admin/v1/workspaces/{a}/end-users/eu-1"),
            json!({"blocked": true}),
            [200, 200, 200, 403, 403, 404],
        ),
        (
            "PATCH",
            format!("/admin/v1/workspaces/{b}/end-users/eu-1"),
            json!({"blocked": true}),
            [200, 200, 404, 404, 404, 404],
        ),
        (
            "DELETE",
            format!("/admin/v1/workspaces/{b}/end-users/eu-1"),
            Value::Null,
            [200, 404, 404, 404, 404, 404],
        ),
        // Credentials: a workspace's admins store its own; the organisation's need an org admin.
        (
            "POST",
            "/admin/v1/credentials".into(),
            json!({"provider": "openai", "workspace": a, "name": "c", "api_key": "sk-rbac"}),
            [201, 409, 409, 403, 403, 404],
        ),
        (
            "POST",
            "/admin/v1/credentials".into(),
            json!({"provider": "openai", "workspace": b, "name": "c", "api_key": "sk-rbac"}),
            [201, 409, 404, 404, 404, 404],
        ),
        (
            "POST",
            "/admin/v1/credentials".into(),
            json!({"provider": "openai", "name": "org", "api_key": "sk-rbac"}),
            [201, 409, 403, 403, 403, 403],
        ),
        (
            "GET",
            "/admin/v1/credentials".into(),
            Value::Null,
            [200, 200, 200, 200, 200, 200],
        ),
        (
            "GET",
            format!("/admin/v1/logs/export?workspace={b}"),
            Value::Null,
            [200, 200, 404, 404, 404, 404],
        ),
        // Limits: a workspace's admins manage its own; organisation-wide ones need an org admin.
        (
            "POST",
            "/admin/v1/limits".into(),
            json!({"id": "a-rpm", "scope": format!("workspace:{a}"), "dimension": "requests", "amount": 10}),
            [201, 409, 409, 403, 403, 404],
        ),
        (
            "POST",
            "/admin/v1/limits".into(),
            json!({"id": "b-rpm", "scope": format!("workspace:{b}"), "dimension": "requests", "amount": 10}),
            [201, 409, 404, 404, 404, 404],
        ),
        (
            "POST",
            "/admin/v1/limits".into(),
            json!({"id": "org-rpm", "scope": "org", "dimension": "requests", "amount": 10000}),
            [201, 409, 403, 403, 403, 403],
        ),
        // The cache is off here: whoever passes the roles learns so (404).
        (
            "GET",
            "/admin/v1/cache/stats".into(),
            Value::Null,
            [404, 404, 403, 403, 403, 403],
        ),
        (
            "POST",
            "/admin/v1/cache/purge".into(),
            json!({"workspace": a}),
            [404, 404, 404, 403, 403, 404],
        ),
        (
            "POST",
            "/admin/v1/cache/purge".into(),
            json!({"workspace": b}),
            [404, 404, 404, 404, 404, 404],
        ),
        (
            "POST",
            "/admin/v1/cache/purge".into(),
            json!({"all": true}),
            [404, 404, 403, 403, 403, 403],
        ),
        (
            "GET",
            "/admin/v1/limits/a-rpm".into(),
            Value::Null,
            [200, 200, 200, 200, 200, 404],
        ),
        (
            "GET",
            "/admin/v1/limits/org-rpm".into(),
            Value::Null,
            [200, 200, 404, 404, 404, 404],
        ),
        (
            "PATCH",
            "/admin/v1/limits/a-rpm".into(),
            json!({"amount": 20}),
            [200, 200, 200, 403, 403, 404],
        ),
        (
            "DELETE",
            "/admin/v1/limits/b-rpm".into(),
            Value::Null,
            [200, 404, 404, 404, 404, 404],
        ),
        (
            "GET",
            "/admin/v1/limits".into(),
            Value::Null,
            [200, 200, 200, 200, 200, 200],
        ),
        // Guardrail policies: a workspace's admins manage its own; the organisation's need an
        // org admin; everyone reads the organisation's.
        (
            "POST",
            "/admin/v1/guardrails/policies".into(),
            json!({"id": "a-policy", "workspace": a, "checks": [{"check": "contains", "words": ["x"]}]}),
            [201, 409, 409, 403, 403, 404],
        ),
        (
            "POST",
            "/admin/v1/guardrails/policies".into(),
            json!({"id": "b-policy", "workspace": b, "checks": [{"check": "contains", "words": ["x"]}]}),
            [201, 409, 404, 404, 404, 404],
        ),
        (
            "POST",
            "/admin/v1/guardrails/policies".into(),
            json!({"id": "org-policy", "checks": [{"check": "contains", "words": ["x"]}]}),
            [201, 409, 403, 403, 403, 403],
        ),
        (
            "GET",
            "/admin/v1/guardrails/policies/a-policy".into(),
            Value::Null,
            [200, 200, 200, 200, 200, 404],
        ),
        (
            "GET",
            "/admin/v1/guardrails/policies/b-policy".into(),
            Value::Null,
            [200, 200, 404, 404, 404, 404],
        ),
        (
            "GET",
            "/admin/v1/guardrails/policies/org-policy".into(),
            Value::Null,
            [200, 200, 200, 200, 200, 200],
        ),
        (
            "PATCH",
            "/admin/v1/guardrails/policies/a-policy".into(),
            json!({"description": "d"}),
            [200, 200, 200, 403, 403, 404],
        ),
        (
            "PATCH",
            "/admin/v1/guardrails/policies/org-policy".into(),
            json!({"description": "d"}),
            [200, 200, 403, 403, 403, 403],
        ),
        (
            "DELETE",
            "/admin/v1/guardrails/policies/b-policy".into(),
            Value::Null,
            [200, 404, 404, 404, 404, 404],
        ),
        (
            "GET",
            "/admin/v1/guardrails/policies".into(),
            Value::Null,
            [200, 200, 200, 200, 200, 200],
        ),
    ];
    for (method, path, body, want) in &cases {
        for (i, (role, key)) in keys.iter().enumerate() {
            let (s, answer) = as_role(key, method, path, body.clone()).await;
            assert_eq!(s, want[i], "{role} {method} {path}: {answer}");
        }
    }
    // Lists are filtered to what the caller may see.
    for (role, key) in &keys {
        let (_, ws) = as_role(key, "GET", "/admin/v1/workspaces", Value::Null).await;
        let names: Vec<&str> = ws["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["name"].as_str().unwrap())
            .collect();
        let (_, ks) = as_role(key, "GET", "/admin/v1/keys", Value::Null).await;
        let in_b = ks["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["workspace"] == b.as_str());
        match *role {
            "owner" | "org_admin" => assert!(names.contains(&"b") && in_b, "{role}"),
            "no_workspace" => assert!(
                names.is_empty() && ks["data"].as_array().unwrap().is_empty(),
                "{role}"
            ),
            _ => assert!(names == ["a"] && !in_b, "{role}: {names:?}"),
        }
    }
    // Records: a workspace-scoped caller reads only its workspace's, and another's one by id
    // is not there.
    assert_eq!(chat(&h, &ka_secret, "openai/gpt-4o-mini").await.0, 200);
    assert_eq!(chat(&h, KEY, "openai/gpt-4o-mini").await.0, 200);
    let admin_auth = format!("Bearer {ADMIN}");
    let mut all = Value::Null;
    for _ in 0..100 {
        let (_, _, body) = h
            .request(
                "GET",
                "/admin/v1/logs",
                &[("authorization", &admin_auth)],
                "",
            )
            .await;
        all = serde_json::from_slice(&body).unwrap();
        if all["data"].as_array().map_or(0, Vec::len) >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (_, mine) = as_role(&keys[2].1, "GET", "/admin/v1/logs", Value::Null).await;
    let spaces: Vec<&str> = mine["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["workspace"].as_str().unwrap())
        .collect();
    assert_eq!(spaces, [a.as_str()]);
    let other = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["workspace"] == "default")
        .unwrap();
    let (s, _) = as_role(
        &keys[2].1,
        "GET",
        &format!("/admin/v1/logs/{}", other["id"].as_str().unwrap()),
        Value::Null,
    )
    .await;
    assert_eq!(s, 404);
    // A deleted admin key is refused at once.
    let (_, users) = call(&h, "GET", "/admin/v1/users", Value::Null).await;
    let viewer = users["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "ws_viewer@example.com")
        .unwrap();
    let (_, vkeys) = call(
        &h,
        "GET",
        &format!(
            "/admin/v1/users/{}/admin-keys",
            viewer["id"].as_str().unwrap()
        ),
        Value::Null,
    )
    .await;
    let vk = vkeys["data"][0]["id"].as_str().unwrap();
    assert_eq!(
        call(
            &h,
            "DELETE",
            &format!("/admin/v1/admin-keys/{vk}"),
            Value::Null
        )
        .await
        .0,
        200
    );
    let (s, _) = as_role(
        &keys[4].1,
        "GET",
        &format!("/admin/v1/workspaces/{a}"),
        Value::Null,
    )
    .await;
    assert_eq!(s, 401);
}

/// End users (the caller's own users): seen in the body's `user`, Anthropic's
/// `metadata.user_id` or the `x-switchyard-end-user` header, recorded on first sight off the
/// request path, and refused with a 403 once their workspace blocks them.
#[tokio::test]
async fn end_users_are_recorded_on_first_sight_and_blocked_per_workspace() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    let send = |body: Value, extra: Option<(&'static str, &'static str)>| {
        let h = &h;
        async move {
            let auth = format!("Bearer {KEY}");
            let mut headers = vec![
                ("authorization", auth.as_str()),
                ("content-type", "application/json"),
            ];
            if let Some(x) = extra {
                headers.push(x);
            }
            let (s, _, b) = h
                .request("POST", "/v1/chat/completions", &headers, body.to_string())
                .await;
            (
                s,
                serde_json::from_slice::<Value>(&b).unwrap_or(Value::Null),
            )
        }
    };
    let chat = |user: &str| json!({"model": "openai/gpt-4o-mini", "user": user, "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(send(chat("alice"), None).await.0, 200);
    assert_eq!(send(chat("bob"), None).await.0, 200);
    // Recorded within the flush interval, most recent first.
    let mut seen = Vec::new();
    for _ in 0..100 {
        let (_, list) = call(
            &h,
            "GET",
            "/admin/v1/workspaces/default/end-users",
            Value::Null,
        )
        .await;
        seen = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_owned())
            .collect();
        if seen.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    seen.sort();
    assert_eq!(seen, ["alice", "bob"]);
    let (s, _) = call(
        &h,
        "PATCH",
        "/admin/v1/workspaces/default/end-users/alice",
        json!({"blocked": true}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, body) = send(chat("alice"), None).await;
    assert_eq!(
        (s, body["error"]["param"].as_str()),
        (403, Some("user")),
        "{body}"
    );
    assert_eq!(send(chat("bob"), None).await.0, 200);
    // The header names the end user too, and wins over the body.
    let plain =
        json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(
        send(plain.clone(), Some(("x-switchyard-end-user", "alice")))
            .await
            .0,
        403
    );
    assert_eq!(
        send(chat("alice"), Some(("x-switchyard-end-user", "bob")))
            .await
            .0,
        200
    );
    // Anthropic's metadata.user_id, through /v1/messages.
    let auth = format!("Bearer {KEY}");
    let m = json!({"model": "openai/gpt-4o-mini", "max_tokens": 10, "metadata": {"user_id": "alice"},
        "messages": [{"role": "user", "content": "hi"}]});
    let (s, _, _) = h
        .request(
            "POST",
            "/v1/messages",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            m.to_string(),
        )
        .await;
    assert_eq!(s, 403);
    // Unblocked: served again; the audit has both changes.
    call(
        &h,
        "PATCH",
        "/admin/v1/workspaces/default/end-users/alice",
        json!({"blocked": false}),
    )
    .await;
    assert_eq!(send(chat("alice"), None).await.0, 200);
    let (_, audit) = call(&h, "GET", "/admin/v1/audit?limit=2", Value::Null).await;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["end_user.unblock", "end_user.block"]);
}

#[tokio::test]
async fn with_only_virtual_keys_a_request_without_one_is_refused() {
    let cfg = format!(
        "server:\n  discover_env: false\n  admin_keys:\n    - name: root\n      key: {ADMIN}\nproviders:\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\n"
    );
    let h = start_with(&cfg, axum::Router::new()).await;
    let body = r#"{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    let plain = [("content-type", "application/json")];
    // No keys at all on loopback: open (the zero-setup mode).
    assert_eq!(
        h.request("POST", "/v1/chat/completions", &plain, body)
            .await
            .0,
        200
    );
    let (s, created) = call(
        &h,
        "POST",
        "/admin/v1/workspaces/default/keys",
        json!({"name": "k"}),
    )
    .await;
    assert_eq!(s, 201, "{created}");
    let key = created["key"].as_str().unwrap();
    assert_eq!(chat(&h, key, "openai/gpt-4o-mini").await.0, 200);
    // From the first virtual key on, a credential is needed.
    let (s, _, b) = h
        .request("POST", "/v1/chat/completions", &plain, body)
        .await;
    assert_eq!(s, 401, "{}", String::from_utf8_lossy(&b));
    assert_eq!(chat(&h, "not-a-key", "openai/gpt-4o-mini").await.0, 401);
}

/// A key's model allow-list holds on every path: a tree of its own in `x-switchyard-config`,
/// the model listing, one model by id, and `/v1/compare`.
#[tokio::test]
async fn a_keys_models_hold_on_every_path() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    let (s, created) = call(
        &h,
        "POST",
        "/admin/v1/workspaces/default/keys",
        json!({"name": "narrow", "models": ["openai/gpt-4o*"]}),
    )
    .await;
    assert_eq!(s, 201, "{created}");
    let key = created["key"].as_str().unwrap().to_owned();
    let auth = format!("Bearer {key}");
    let body = r#"{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    let with_tree = |tree: &'static str| {
        let auth = auth.clone();
        let h = &h;
        async move {
            let (s, _, b) = h
                .request(
                    "POST",
                    "/v1/chat/completions",
                    &[
                        ("authorization", &auth),
                        ("content-type", "application/json"),
                        ("x-switchyard-config", tree),
                    ],
                    body,
                )
                .await;
            (
                s,
                serde_json::from_slice::<Value>(&b).unwrap_or(Value::Null),
            )
        }
    };
    let (s, b) =
        with_tree(r#"{"targets":[{"model":"openai/gpt-4o-mini"},{"model":"openai/o3"}]}"#).await;
    assert_eq!(s, 403, "{b}");
    assert_eq!(b["error"]["param"], "x-switchyard-config");
    assert_eq!(
        b["error"]["message"],
        "This API key may not use model 'openai/o3'."
    );
    let (s, b) = with_tree(r#"{"model":"openai/gpt-4o"}"#).await;
    assert_eq!(s, 200, "{b}");

    // The listing shows only what the key may use; another model by id is not there.
    let list = |k: String| {
        let h = &h;
        async move {
            let (_, _, b) = h
                .request(
                    "GET",
                    "/v1/models",
                    &[("authorization", &format!("Bearer {k}"))],
                    "",
                )
                .await;
            let v: Value = serde_json::from_slice(&b).unwrap();
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_owned())
                .collect::<Vec<String>>()
        }
    };
    let everything = list(KEY.to_owned()).await;
    let mine = list(key.clone()).await;
    assert!(
        !mine.is_empty() && mine.len() < everything.len(),
        "{mine:?} / {everything:?}"
    );
    assert!(
        mine.iter().all(|m| m.starts_with("openai/gpt-4o")),
        "{mine:?}"
    );
    let other = everything
        .iter()
        .find(|m| !m.starts_with("openai/gpt-4o"))
        .unwrap();
    let (s, _, _) = h
        .request(
            "GET",
            &format!("/v1/models/{other}"),
            &[("authorization", &auth)],
            "",
        )
        .await;
    assert_eq!(s, 404);
    let (s, _, _) = h
        .request(
            "GET",
            &format!("/v1/models/{other}"),
            &[("authorization", &format!("Bearer {KEY}"))],
            "",
        )
        .await;
    assert_eq!(s, 200);

    // A comparison runs the allowed model and refuses the other.
    let (s, _, b) = h
        .request(
            "POST",
            "/v1/compare",
            &[("authorization", &auth), ("content-type", "application/json")],
            r#"{"models":["openai/gpt-4o-mini","openai/o3"],"messages":[{"role":"user","content":"hi"}]}"#,
        )
        .await;
    assert_eq!(s, 200);
    let v: Value = serde_json::from_slice(&b).unwrap();
    let statuses: Vec<u64> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 403], "{v}");
}
