//! Prompts through the real gateway: made through the admin API (versions, labels, partials,
//! diffs, roles), used by OpenAI chat, Responses and Anthropic Messages callers (the upstream
//! body asserted), filled through `/v1/prompts/{id}/completions` and `/render`, and named in
//! the answer's header and the request record.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::*;

const ADMIN: &str = "admin-key-prompts";

fn yaml() -> String {
    format!(
        "server:\n  discover_env: false\n  admin_keys: [{{name: ops, key: {ADMIN}}}]\n  log: {{flush_interval_ms: 20}}\nproviders:\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\n  - name: anthropic\n    base_url: ${{MOCK_ROOT}}\n    api_key: sk-ant\nclient_keys:\n  - name: test\n    key: {KEY}\n"
    )
}

async fn admin(h: &Harness, method: &str, path: &str, body: Value) -> (u16, Value) {
    h.json_as(ADMIN, method, path, body).await
}

fn support_version() -> Value {
    json!({
        "messages": [
            {"role": "system", "content": "You are the support agent of {{company}}. Be {{tone}}."},
            {"role": "user", "content": "My order {{order}}: {{question}}"}
        ],
        "model": "openai/gpt-4o-mini",
        "params": {"temperature": 0.1, "max_tokens": 120},
        "variables": [
            {"name": "company", "type": "string", "required": true},
            {"name": "tone", "type": "string", "default": "brief"},
            {"name": "order", "type": "integer", "required": true},
            {"name": "question", "type": "string", "required": true}
        ]
    })
}

/// The last upstream request's body.
fn upstream(h: &Harness) -> Value {
    let r = h.mock.requests();
    serde_json::from_str(&r.last().expect("an upstream request").body).unwrap()
}

async fn create(h: &Harness) {
    let (s, p) = admin(
        h,
        "POST",
        "/admin/v1/prompts",
        json!({
            "id": "support", "description": "Support answers",
            "version": support_version(), "labels": ["production"]
        }),
    )
    .await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(
        (p["latest"].as_u64(), p["labels"]["production"].as_u64()),
        (Some(1), Some(1))
    );
}

#[tokio::test]
async fn a_chat_request_names_a_prompt_and_the_upstream_gets_it_filled() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    create(&h).await;
    let body = json!({
        "prompt": {"id": "support", "variables": {"company": "Acme <Ltd>", "order": 42, "question": "where is it?"}},
        "messages": [{"role": "user", "content": "Also, thanks."}],
        "temperature": 0.7
    });
    let (s, hd, b) = h.chat(&body.to_string()).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    assert_eq!(hd["x-switchyard-prompt"], "support@1");
    let up = upstream(&h);
    assert_eq!(up["model"], "gpt-4o-mini");
    assert_eq!(
        up["messages"],
        json!([
            {"role": "system", "content": "You are the support agent of Acme <Ltd>. Be brief."},
            {"role": "user", "content": "My order 42: where is it?"},
            {"role": "user", "content": "Also, thanks."}
        ])
    );
    // The caller's temperature wins; the version's max_tokens fills in; no prompt field leaks.
    assert_eq!(
        (up["temperature"].as_f64(), up["max_tokens"].as_u64()),
        (Some(0.7), Some(120))
    );
    assert!(up.get("prompt").is_none());
    // The record names the prompt, its version and the label that chose it.
    let recs = logs_when(&h, ADMIN, "", 1).await;
    assert_eq!(
        recs[0]["prompt"],
        json!({"id": "support", "version": 1, "label": "production"})
    );

    // A missing variable, a mistyped one and a misspelled one are 400s naming them.
    let bad = |vars: Value| json!({"prompt": {"id": "support", "variables": vars}}).to_string();
    let (s, _, b) = h.chat(&bad(json!({"company": "A", "order": 1}))).await;
    let e = json(&b);
    assert_eq!(
        (s.as_u16(), e["error"]["param"].as_str()),
        (400, Some("prompt.variables.question")),
        "{e}"
    );
    let (s, _, b) = h
        .chat(&bad(
            json!({"company": "A", "order": "one", "question": "q"}),
        ))
        .await;
    let e = json(&b);
    assert_eq!(s, 400);
    assert_eq!(
        e["error"]["message"],
        "Prompt variable \"order\" must be of type integer, not string."
    );
    let (_, _, b) = h
        .chat(&bad(json!({"company": "A", "order": 1, "qestion": "q"})))
        .await;
    let e = json(&b);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"qestion\" was given"),
        "{e}"
    );
    // An unknown prompt is a 404 in the caller's shape.
    let (s, _, b) = h.chat(&json!({"prompt": {"id": "nope"}}).to_string()).await;
    assert_eq!(
        (s.as_u16(), json(&b)["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
}

#[tokio::test]
async fn versions_labels_and_the_version_a_request_gets() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    create(&h).await;
    let mut v2 = support_version();
    v2["messages"][0]["content"] = json!("You answer for {{company}}, {{tone}}ly.");
    v2["labels"] = json!(["staging"]);
    v2["note"] = json!("shorter system prompt");
    let (s, v) = admin(&h, "POST", "/admin/v1/prompts/support/versions", v2).await;
    assert_eq!((s, v["version"].as_u64()), (201, Some(2)), "{v}");
    let vars = json!({"company": "Acme", "order": 7, "question": "q"});
    let system = |h: &Harness| {
        upstream(h)["messages"][0]["content"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // No version named: production (1). The label staging: 2. An explicit version: itself.
    for (prompt, want, header) in [
        (
            json!({"id": "support", "variables": vars}),
            "You are the support agent of Acme. Be brief.",
            "support@1",
        ),
        (
            json!({"id": "support", "version": "staging", "variables": vars}),
            "You answer for Acme, briefly.",
            "support@2",
        ),
        (
            json!({"id": "support", "version": "1", "variables": vars}),
            "You are the support agent of Acme. Be brief.",
            "support@1",
        ),
    ] {
        let (s, hd, b) = h.chat(&json!({"prompt": prompt}).to_string()).await;
        assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
        assert_eq!(
            (
                system(&h).as_str(),
                hd["x-switchyard-prompt"].to_str().unwrap()
            ),
            (want, header)
        );
    }
    // Moving production is one call; the next request gets version 2.
    let (s, p) = admin(
        &h,
        "PUT",
        "/admin/v1/prompts/support/labels/production",
        json!({"version": 2}),
    )
    .await;
    assert_eq!((s, p["labels"]["production"].as_u64()), (200, Some(2)));
    let (_, hd, _) = h
        .chat(&json!({"prompt": {"id": "support", "variables": vars}}).to_string())
        .await;
    assert_eq!(hd["x-switchyard-prompt"], "support@2");
    // LiteLLM's fields and the header choose the same way.
    let (_, hd, _) = h
        .chat(
            &json!({"prompt_id": "support", "prompt_version": 1, "prompt_variables": vars})
                .to_string(),
        )
        .await;
    assert_eq!(hd["x-switchyard-prompt"], "support@1");
    let (s, hd, _) = h
        .post_with(
            "/v1/chat/completions",
            "{}",
            &[
                ("x-switchyard-prompt", "support:staging"),
                ("x-switchyard-prompt-variables", &vars.to_string()),
            ],
        )
        .await;
    assert_eq!(
        (s.as_u16(), hd["x-switchyard-prompt"].to_str().unwrap()),
        (200, "support@2")
    );
    // The diff of 1 and 2: the system message changed, the note is a setting.
    let (s, d) = admin(
        &h,
        "GET",
        "/admin/v1/prompts/support/diff?from=1&to=2",
        Value::Null,
    )
    .await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["messages"][0]["changed"], true);
    assert_eq!(d["messages"][1]["changed"], false);
    assert_eq!(
        d["messages"][0]["lines"],
        json!([
            {"op": "+", "line": "You answer for {{company}}, {{tone}}ly."},
            {"op": "-", "line": "You are the support agent of {{company}}. Be {{tone}}."}
        ])
    );
    assert_eq!(d["settings"]["note"]["to"], "shorter system prompt");
    // Versions are immutable: the list holds both, each as made.
    let (_, list) = admin(&h, "GET", "/admin/v1/prompts/support/versions", Value::Null).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    // A bad template is refused where it is.
    let mut bad = support_version();
    bad["messages"][1]["content"] = json!("{{#open}} never closed");
    let (s, e) = admin(&h, "POST", "/admin/v1/prompts/support/versions", bad).await;
    assert_eq!(s, 400, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("messages[1]"),
        "{e}"
    );
}

#[tokio::test]
async fn responses_and_messages_callers_get_the_prompt_in_their_shape() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    create(&h).await;
    let vars = json!({"company": "Acme", "order": 3, "question": "status?"});
    let (s, hd, b) = h
        .post(
            "/v1/responses",
            &json!({"prompt": {"id": "support", "variables": vars}, "input": "thanks"}).to_string(),
        )
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    assert_eq!(hd["x-switchyard-prompt"], "support@1");
    let up = upstream(&h);
    // An OpenAI upstream gets the Responses request (or its chat form): either way the
    // template's messages come first and the caller's input after.
    let text = up.to_string();
    let first = text
        .find("support agent of Acme")
        .expect("system text upstream");
    let last = text.find("thanks").expect("caller input upstream");
    assert!(first < last, "{text}");
    assert!(up.get("prompt").is_none(), "{up}");

    // An Anthropic Messages caller names the prompt with the header.
    let body = json!({"model": "anthropic/claude-sonnet-4-5", "max_tokens": 64, "system": "Sign as Bo.",
        "messages": [{"role": "user", "content": "hi"}]});
    let (s, hd, b) = h
        .post_with(
            "/v1/messages",
            &body.to_string(),
            &[
                ("x-switchyard-prompt", "support"),
                ("x-switchyard-prompt-variables", &vars.to_string()),
            ],
        )
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    assert_eq!(hd["x-switchyard-prompt"], "support@1");
    let up = upstream(&h);
    assert_eq!(
        up["system"],
        json!([
            {"type": "text", "text": "You are the support agent of Acme. Be brief."},
            {"type": "text", "text": "Sign as Bo."}
        ])
    );
    assert!(
        up["messages"][0]
            .to_string()
            .contains("My order 3: status?"),
        "{up}"
    );
    let turns = up["messages"].as_array().unwrap();
    assert_eq!(turns.last().unwrap()["content"], "hi");
    assert_eq!(up["max_tokens"], 64);
    assert_eq!(up["temperature"], 0.1);
}

#[tokio::test]
async fn prompt_completions_and_render_for_client_keys() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    create(&h).await;
    let vars = json!({"company": "Acme", "order": 9, "question": "refund?"});
    let (s, hd, b) = h
        .post(
            "/v1/prompts/support/completions",
            &json!({"variables": vars, "max_tokens": 20}).to_string(),
        )
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    assert_eq!(json(&b)["object"], "chat.completion");
    assert_eq!(hd["x-switchyard-prompt"], "support@1");
    let up = upstream(&h);
    assert_eq!(
        (
            up["max_tokens"].as_u64(),
            up["messages"].as_array().unwrap().len()
        ),
        (Some(20), 2)
    );
    // Streamed too.
    let (s, _, b) = h
        .post(
            "/v1/prompts/support/completions",
            &json!({"variables": vars, "stream": true}).to_string(),
        )
        .await;
    assert_eq!(s, 200);
    assert!(!data_events(&b).is_empty());
    // Render fills and sends nothing.
    let before = h.mock.requests().len();
    let (s, hd, b) = h
        .post(
            "/v1/prompts/support/render",
            &json!({"variables": vars}).to_string(),
        )
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let r = json(&b);
    assert_eq!(hd["x-switchyard-prompt"], "support@1");
    assert_eq!(r["messages"][1]["content"], "My order 9: refund?");
    assert_eq!(
        (r["model"].as_str(), r["params"]["max_tokens"].as_u64()),
        (Some("openai/gpt-4o-mini"), Some(120))
    );
    assert_eq!(h.mock.requests().len(), before);
    let (s, _, b) = h
        .post(
            "/v1/prompts/support/render",
            &json!({"variables": {"company": "A"}}).to_string(),
        )
        .await;
    assert_eq!(
        (s.as_u16(), json(&b)["error"]["param"].as_str()),
        (400, Some("variables.order"))
    );
}

#[tokio::test]
async fn partials_are_pinned_by_the_versions_that_include_them() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    let (s, p) = admin(
        &h,
        "POST",
        "/admin/v1/partials",
        json!({"name": "sig", "template": "-- {{team}} team"}),
    )
    .await;
    assert_eq!(
        (s, p["versions"].as_array().map(Vec::len)),
        (201, Some(1)),
        "{p}"
    );
    let (s, _) = admin(&h, "POST", "/admin/v1/prompts", json!({"id": "mail", "version": {
        "messages": [{"role": "system", "content": "Write mail.\n{{> sig}}"}], "model": "openai/gpt-4o-mini"}})).await;
    assert_eq!(s, 201);
    let (s, v) = admin(&h, "GET", "/admin/v1/prompts/mail/versions/1", Value::Null).await;
    assert_eq!((s, v["partials"]["sig"].as_u64()), (200, Some(1)), "{v}");
    // A new partial version does not change version 1; a new prompt version pins it.
    let (s, _) = admin(
        &h,
        "POST",
        "/admin/v1/partials",
        json!({"name": "sig", "template": "Regards, {{team}}"}),
    )
    .await;
    assert_eq!(s, 200);
    let render = |n: u32| json!({"version": n, "variables": {"team": "Ops"}});
    let (_, r) = admin(&h, "POST", "/admin/v1/prompts/mail/render", render(1)).await;
    assert_eq!(r["messages"][0]["content"], "Write mail.\n-- Ops team");
    let (_, v2) = admin(&h, "POST", "/admin/v1/prompts/mail/versions", json!({
        "messages": [{"role": "system", "content": "Write mail.\n{{> sig}}"}], "model": "openai/gpt-4o-mini"})).await;
    assert_eq!(v2["partials"]["sig"], 2);
    let (_, r) = admin(&h, "POST", "/admin/v1/prompts/mail/render", render(2)).await;
    assert_eq!(r["messages"][0]["content"], "Write mail.\nRegards, Ops");
    // A partial in use is not deleted; an unknown one is refused when a version includes it.
    let (s, _) = admin(&h, "DELETE", "/admin/v1/partials/sig", Value::Null).await;
    assert_eq!(s, 409);
    let (s, e) = admin(
        &h,
        "POST",
        "/admin/v1/prompts/mail/versions",
        json!({
        "messages": [{"role": "system", "content": "{{> nope}}"}]}),
    )
    .await;
    assert_eq!(s, 400, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown partial \"nope\""),
        "{e}"
    );
}

#[tokio::test]
async fn roles_viewers_read_members_edit_admins_move_production() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    create(&h).await;
    let mut keys = std::collections::HashMap::new();
    for role in ["viewer", "member", "admin"] {
        let (s, u) = admin(
            &h,
            "POST",
            "/admin/v1/users",
            json!({"email": format!("{role}@x.test"), "workspaces": {"default": role}}),
        )
        .await;
        assert_eq!(s, 201, "{u}");
        let (_, k) = admin(
            &h,
            "POST",
            &format!("/admin/v1/users/{}/admin-keys", u["id"].as_str().unwrap()),
            json!({"name": role}),
        )
        .await;
        keys.insert(role, k["key"].as_str().unwrap().to_owned());
    }
    let as_ = |role: &str, method: &'static str, path: &'static str, body: Value| {
        let key = keys[role].clone();
        let h = &h;
        async move { h.json_as(&key, method, path, body).await.0 }
    };
    assert_eq!(
        as_("viewer", "GET", "/admin/v1/prompts/support", Value::Null).await,
        200
    );
    assert_eq!(
        as_(
            "viewer",
            "POST",
            "/admin/v1/prompts/support/versions",
            support_version()
        )
        .await,
        403
    );
    assert_eq!(
        as_(
            "member",
            "POST",
            "/admin/v1/prompts/support/versions",
            support_version()
        )
        .await,
        201
    );
    assert_eq!(
        as_(
            "member",
            "PUT",
            "/admin/v1/prompts/support/labels/staging",
            json!({"version": 2})
        )
        .await,
        200
    );
    assert_eq!(
        as_(
            "member",
            "PUT",
            "/admin/v1/prompts/support/labels/production",
            json!({"version": 2})
        )
        .await,
        403
    );
    assert_eq!(
        as_(
            "admin",
            "PUT",
            "/admin/v1/prompts/support/labels/production",
            json!({"version": 2})
        )
        .await,
        200
    );
    assert_eq!(
        as_("member", "DELETE", "/admin/v1/prompts/support", Value::Null).await,
        403
    );
    // Every change is audited.
    let (_, audit) = admin(&h, "GET", "/admin/v1/audit", Value::Null).await;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for a in ["prompt.create", "prompt.version.create", "prompt.label.set"] {
        assert!(actions.contains(&a), "{a}: {actions:?}");
    }
    assert_eq!(
        as_("admin", "DELETE", "/admin/v1/prompts/support", Value::Null).await,
        200
    );
    let (s, _, _) = h
        .chat(&json!({"prompt": {"id": "support"}}).to_string())
        .await;
    assert_eq!(s, 404);
}

/// `switchyard prompts ...` against the test gateway; its exit status and output.
async fn cli(h: &Harness, args: &[&str]) -> (bool, String) {
    let mut all: Vec<String> = vec![
        "prompts".into(),
        "--url".into(),
        h.url(""),
        "--admin-key".into(),
        ADMIN.into(),
    ];
    all.extend(args.iter().map(|a| (*a).to_owned()));
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(&all)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompts_pull_and_push_round_trip_and_a_dry_run_changes_nothing() {
    let h = start_with(&yaml(), axum::Router::new()).await;
    create(&h).await;
    let (s, _) = admin(
        &h,
        "POST",
        "/admin/v1/partials",
        json!({"name": "sig", "template": "-- Support\n"}),
    )
    .await;
    assert_eq!(s, 201);
    let dir = std::env::temp_dir().join(format!("sy-prompts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().unwrap();
    let (ok, out) = cli(&h, &["pull", d]).await;
    assert!(ok, "{out}");
    let file = dir.join("default/support.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("production: latest"), "{text}");
    assert!(
        text.contains("You are the support agent of {{company}}"),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("default/partials/sig.mustache")).unwrap(),
        "-- Support\n"
    );
    // Pushing what was pulled changes nothing.
    let (ok, out) = cli(&h, &["push", d]).await;
    assert!(ok, "{out}");
    assert!(
        out.contains("unchanged prompt default/support")
            && out.contains("unchanged partial default/sig"),
        "{out}"
    );
    // An edited message and a new label: the dry run says so and changes nothing.
    let edited = text
        .replace("Be {{tone}}.", "Be {{tone}} and kind.")
        .replace("production: latest", "production: 1\n  staging: latest");
    std::fs::write(&file, edited).unwrap();
    std::fs::write(
        dir.join("default/partials/sig.mustache"),
        "-- The support team\n",
    )
    .unwrap();
    let (ok, out) = cli(&h, &["push", d, "--dry-run"]).await;
    assert!(ok, "{out}");
    assert!(
        out.contains("would make version default/support@2"),
        "{out}"
    );
    assert!(
        out.contains("would move label default/support:staging nothing -> 2"),
        "{out}"
    );
    assert!(out.contains("would update partial default/sig"), "{out}");
    let (_, p) = admin(&h, "GET", "/admin/v1/prompts/support", Value::Null).await;
    assert_eq!(
        (p["latest"].as_u64(), p["labels"].as_object().unwrap().len()),
        (Some(1), 1)
    );
    let (_, sig) = admin(&h, "GET", "/admin/v1/partials/sig", Value::Null).await;
    assert_eq!(sig["versions"].as_array().unwrap().len(), 1);
    // The push itself.
    let (ok, out) = cli(&h, &["push", d]).await;
    assert!(ok, "{out}");
    let (_, p) = admin(&h, "GET", "/admin/v1/prompts/support", Value::Null).await;
    assert_eq!(p["labels"], json!({"production": 1, "staging": 2}));
    let (_, v) = admin(
        &h,
        "GET",
        "/admin/v1/prompts/support/versions/2",
        Value::Null,
    )
    .await;
    assert_eq!(
        v["messages"][0]["content"],
        "You are the support agent of {{company}}. Be {{tone}} and kind."
    );
    let (_, sig) = admin(&h, "GET", "/admin/v1/partials/sig", Value::Null).await;
    assert_eq!(sig["versions"][1]["template"], "-- The support team\n");
    // Round trip: pulling again gives the files that were pushed, and pushing them is a no-op.
    let pushed = std::fs::read_to_string(&file).unwrap();
    let (ok, _) = cli(&h, &["pull", d]).await;
    assert!(ok);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), pushed);
    let (_, out) = cli(&h, &["push", d]).await;
    assert!(out.contains("unchanged prompt default/support"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
