//! Config reloads (`switchyard::reload`): a new config's routes, providers and keys apply to the
//! requests that arrive after it, a request in flight finishes on the config it started with,
//! and a config that does not build, or would expose a public listener without client auth, is
//! refused with the running one kept.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::atomic::Ordering;
use support::*;
use switchyard::reload;

const V1: &str = "server:\n  discover_env: false\nproviders:\n  - name: openai\n    base_url: ${MOCK}\n    api_key: sk-upstream\nclient_keys:\n  - name: first\n    key: client-key-first-1\n";

/// The second config: the provider renamed, a route added, the client key replaced.
const V2: &str = "server:\n  discover_env: false\nproviders:\n  - name: renamed\n    base_url: ${MOCK}\n    api_key: sk-upstream\nroutes:\n  fast: {model: renamed/gpt-4o-mini}\nclient_keys:\n  - name: second\n    key: client-key-second-2\n";

/// `yaml` for this harness's mock, with the running config's store paths (which only a
/// restart changes).
fn config_for(h: &Harness, yaml: &str) -> switchyard_config::Config {
    let yaml = yaml.replace("${MOCK}", &h.mock.base_url());
    let mut cfg = switchyard_config::from_yaml(&yaml, &env(&[])).unwrap();
    let running = h.server.state();
    cfg.log = running.cfg.log.clone();
    cfg.tenants = running.cfg.tenants.clone();
    cfg
}

fn last_upstream_model(h: &Harness) -> String {
    let r = h.mock.requests();
    let last = r
        .iter()
        .rev()
        .find(|r| r.path.ends_with("/chat/completions"))
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&last.body).unwrap();
    body["model"].as_str().unwrap().to_owned()
}

async fn chat_as(h: &Harness, key: &str, model: &str) -> u16 {
    let auth = format!("Bearer {key}");
    let body = format!(r#"{{"model":"{model}","messages":[{{"role":"user","content":"hi"}}]}}"#);
    h.request(
        "POST",
        "/v1/chat/completions",
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        body,
    )
    .await
    .0
}

#[tokio::test]
async fn new_routes_and_keys_apply_while_a_stream_in_flight_finishes_on_the_old_config() {
    let h = start_with(V1, axum::Router::new()).await;
    assert_eq!(
        chat_as(&h, "client-key-first-1", "openai/gpt-4o-mini").await,
        200
    );
    // No route `fast` yet: the name goes to the only provider as it is.
    assert_eq!(chat_as(&h, "client-key-first-1", "fast").await, 200);
    assert_eq!(last_upstream_model(&h), "fast");

    // A stream of 8 chunks 100 ms apart, started on the first config.
    let body = r#"{"model":"openai/gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}],"mock":{"chunks":8,"chunk_delay_ms":100}}"#;
    let resp = h
        .send(
            "POST",
            "/v1/chat/completions",
            &[("authorization", "Bearer client-key-first-1")],
            body,
        )
        .await;
    assert_eq!(resp.status(), 200);

    let restart = reload::apply(&h.server.gateway, config_for(&h, V2))
        .await
        .unwrap();
    assert!(restart.is_empty(), "{restart:?}");

    // The new config serves new requests: its route, its provider, its key.
    assert_eq!(chat_as(&h, "client-key-second-2", "fast").await, 200);
    assert_eq!(last_upstream_model(&h), "gpt-4o-mini");
    assert_eq!(
        chat_as(&h, "client-key-second-2", "renamed/gpt-4o-mini").await,
        200
    );
    assert_eq!(chat_as(&h, "client-key-first-1", "fast").await, 401);

    // The stream that began before the reload ends whole, on the provider it started with.
    let (_, _, streamed) = collect(resp).await;
    let text = String::from_utf8_lossy(&streamed);
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    assert!(
        text.matches("\"chat.completion.chunk\"").count() >= 8,
        "{text}"
    );

    // The new route's target is listed in health from the reload on.
    let state = h.server.state();
    assert!(state
        .health
        .snapshot()
        .to_string()
        .contains("renamed/gpt-4o-mini"));
}

#[tokio::test]
async fn a_broken_or_exposing_config_is_refused_and_the_running_one_stays() {
    let h = start_with(V1, axum::Router::new()).await;
    let file = temp_path("yaml");
    let source = reload::Source {
        file: Some(file.clone()),
        listen: None,
        allow_insecure_public: false,
    };
    // A file with mistakes: every one reported, nothing changed.
    std::fs::write(
        &file,
        "providers:\n  - name: x\n    base_url: not a url\nroutes:\n  r: {model: nope/x}\n",
    )
    .unwrap();
    assert!(!reload::reload(&h.server.gateway, &source, "test").await);
    let reloads = &h.server.state().reloads;
    assert_eq!(
        (
            reloads.applied.load(Ordering::Relaxed),
            reloads.refused.load(Ordering::Relaxed)
        ),
        (0, 1)
    );
    assert_eq!(
        chat_as(&h, "client-key-first-1", "openai/gpt-4o-mini").await,
        200
    );

    // A good file applies and is counted; settings that need a restart are named and keep
    // their running values.
    std::fs::write(
        &file,
        V2.replace("${MOCK}", &h.mock.base_url()).replace(
            "discover_env: false\n",
            "discover_env: false\n  drain_timeout_secs: 5\n",
        ),
    )
    .unwrap();
    let running = h.server.state().cfg.clone();
    assert!(reload::reload(&h.server.gateway, &source, "test").await);
    assert_eq!(h.server.state().reloads.applied.load(Ordering::Relaxed), 1);
    assert_eq!(chat_as(&h, "client-key-second-2", "fast").await, 200);
    let now = h.server.state();
    assert_eq!(now.cfg.drain_timeout, running.drain_timeout);
    assert_eq!(now.cfg.tenants, running.tenants);
    let mut moved = config_for(&h, V1);
    moved.drain_timeout = std::time::Duration::from_secs(5);
    assert_eq!(
        reload::apply(&h.server.gateway, moved).await.unwrap(),
        vec!["server.drain_timeout_secs"]
    );
}

#[tokio::test]
async fn a_reload_that_would_open_a_public_listener_is_refused() {
    // The harness listens on loopback; the config says where the binary would.
    let public = V1.replace(
        "discover_env: false\n",
        "discover_env: false\n  listen: 0.0.0.0:8080\n",
    );
    let h = start_with(&public, axum::Router::new()).await;
    let mut open = config_for(&h, V1);
    open.client_keys.clear();
    let e = reload::apply(&h.server.gateway, open).await.unwrap_err();
    assert!(e.contains("refusing to listen"), "{e}");
    assert_eq!(
        chat_as(&h, "client-key-first-1", "openai/gpt-4o-mini").await,
        200
    );
}
