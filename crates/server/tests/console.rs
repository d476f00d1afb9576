//! The web console at `/ui`: its files come from the binary with a strict CSP and an ETag a
//! browser revalidates; client-side pages get the index; `/admin/v1/me` tells a page who the
//! caller is. (The browser suite in tests/browser drives the pages themselves.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::*;

const ADMIN: &str = "admin-key-123";

fn yaml() -> String {
    format!(
        "server:\n  discover_env: false\n  admin_keys: [{{name: ops, key: {ADMIN}}}]\nproviders:\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\nclient_keys:\n  - name: test\n    key: {KEY}\n"
    )
}

#[tokio::test]
async fn the_console_is_served_from_the_binary() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    let (s, hd, b) = h.request("GET", "/ui", &[], "").await;
    assert_eq!(s, 200);
    assert!(hd["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let csp = hd["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(hd["x-frame-options"], "DENY");
    assert!(String::from_utf8_lossy(&b).contains("/ui/js/app.js"));
    // A page of the app is the index; a file is itself; a missing file is a 404.
    let (s, page_hd, _) = h.request("GET", "/ui/logs", &[], "").await;
    assert_eq!((s, &page_hd["etag"]), (200, &hd["etag"]));
    let (s, js_hd, js) = h.request("GET", "/ui/js/app.js", &[], "").await;
    assert_eq!(s, 200);
    assert!(js_hd["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(String::from_utf8_lossy(&js).contains("export function go"));
    let (s, _, _) = h.request("GET", "/ui/js/nope.js", &[], "").await;
    assert_eq!(s, 404);
    // Revalidation: the same ETag is a 304 with no body.
    let etag = js_hd["etag"].to_str().unwrap().to_owned();
    let (s, _, b) = h
        .request(
            "GET",
            "/ui/js/app.js",
            &[("if-none-match", etag.as_str())],
            "",
        )
        .await;
    assert_eq!((s, b.len()), (304, 0));
}

#[tokio::test]
async fn me_names_the_caller_and_its_roles() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    let auth = format!("Bearer {ADMIN}");
    let (s, _, b) = h
        .request(
            "GET",
            "/admin/v1/me",
            &[("authorization", auth.as_str())],
            "",
        )
        .await;
    assert_eq!(s, 200);
    let me = json(&b);
    assert_eq!(me["actor"], "admin-key:ops");
    assert_eq!(
        (&me["org_role"], &me["org_admin"]),
        (&serde_json::json!("owner"), &serde_json::json!(true))
    );
    let (s, _, _) = h
        .request(
            "GET",
            "/admin/v1/me",
            &[("authorization", "Bearer wrong-key-123")],
            "",
        )
        .await;
    assert_eq!(s, 401);
}

/// The playground runs a chat through the whole request path as the admin: the provider gets
/// its own key (never the admin's), the record names the admin and is marked; streamed too.
#[tokio::test]
async fn the_playground_runs_a_chat_as_the_admin() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    let auth = format!("Bearer {ADMIN}");
    let body = serde_json::json!({"model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": "Hi from the playground"}]});
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let (s, _, b) = h
        .request(
            "POST",
            "/admin/v1/playground/chat",
            &headers,
            body.to_string(),
        )
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    assert!(json(&b)["choices"][0]["message"]["content"].is_string());
    let sent = h.mock.requests().into_iter().last().unwrap();
    assert_eq!(sent.header("authorization"), Some("Bearer sk-upstream"));
    let mut streamed = body.clone();
    streamed["stream"] = serde_json::json!(true);
    let (s, hd, b) = h
        .request(
            "POST",
            "/admin/v1/playground/chat",
            &headers,
            streamed.to_string(),
        )
        .await;
    assert_eq!(s, 200);
    assert!(hd["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    assert!(!data_events(&b).is_empty());
    let recs = logs_when(&h, ADMIN, "key=admin-key%3Aops", 2).await;
    assert!(
        recs.iter().all(|r| r["metadata"]["playground"] == true),
        "{recs:?}"
    );
    // A client key is not an admin; a workspace that does not exist is a 404.
    let client = format!("Bearer {KEY}");
    let (s, _, _) = h
        .request(
            "POST",
            "/admin/v1/playground/chat",
            &[("authorization", client.as_str())],
            body.to_string(),
        )
        .await;
    assert_eq!(s, 401);
    let (s, _, _) = h
        .request(
            "POST",
            "/admin/v1/playground/chat?workspace=nope",
            &headers,
            body.to_string(),
        )
        .await;
    assert_eq!(s, 404);
}
