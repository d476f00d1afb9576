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
