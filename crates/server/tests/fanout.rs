//! Bounds on what one request can make the gateway do upstream: attempts per request, what a
//! caller's own route (`x-switchyard-config`) may contain, and timeouts it may only tighten.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::Router;
use std::time::{Duration, Instant};
use support::*;
use switchyard_mock::Fault;

const HI: &str = r#""messages":[{"role":"user","content":"Hi"}]"#;

fn yaml(limits: &str, routes: &str) -> String {
    format!(
        "server:\n  discover_env: false\n  limits:\n{limits}providers:\n  - {{name: a, base_url: '${{MOCK}}', api_key: ka, timeouts: {{first_byte_ms: 400}}}}\nclient_keys:\n  - {{name: test, key: {KEY}}}\nroutes:\n{routes}"
    )
}

fn failures(n: usize) -> Vec<Fault> {
    (0..n)
        .map(|_| Fault {
            status: Some(500),
            ..Fault::default()
        })
        .collect()
}

async fn with_config(h: &Harness, cfg: &str) -> (http::StatusCode, http::HeaderMap, bytes::Bytes) {
    let body = format!(r#"{{"model":"x",{HI}}}"#);
    h.post_with(
        "/v1/chat/completions",
        &body,
        &[("x-switchyard-config", cfg)],
    )
    .await
}

#[tokio::test]
async fn attempts_per_request_are_bounded_across_fallbacks_and_retries() {
    let h = start_with(
        &yaml(
            "    max_attempts_per_request: 4\n",
            "  retrying:\n    model: a/gpt-r\n    retry: {attempts: 10, backoff_ms: 1}\n",
        ),
        Router::new(),
    )
    .await;
    // A caller's tree of 200 distinct fallback targets, every one failing.
    let targets: Vec<String> = (0..200)
        .map(|i| format!(r#"{{"model":"a/gpt-{i}"}}"#))
        .collect();
    let cfg = format!(
        r#"{{"strategy":"fallback","targets":[{}]}}"#,
        targets.join(",")
    );
    h.mock.push_faults(failures(300));
    let (s, _, body) = with_config(&h, &cfg).await;
    assert_eq!(s, 500, "{}", String::from_utf8_lossy(&body));
    assert_eq!(h.mock.requests().len(), 4, "fallbacks past the bound");
    let msg = json(&body)["error"]["message"].as_str().unwrap().to_owned();
    assert!(msg.contains("a/gpt-3"), "{msg}");
    assert!(!msg.contains("a/gpt-4"), "{msg}");

    // Retries count the same way, in a configured route too.
    let before = h.mock.requests().len();
    let (s, _, _) = h.chat(&format!(r#"{{"model":"retrying",{HI}}}"#)).await;
    assert_eq!(s, 500);
    assert_eq!(
        h.mock.requests().len() - before,
        4,
        "retries past the bound"
    );
}

#[tokio::test]
async fn a_callers_route_may_tighten_timeouts_but_never_raise_them() {
    let h = start_with(&yaml("    max_series: 100\n", "  {}\n"), Router::new()).await;
    // The provider allows 400 ms to the first byte; the caller asks for 100,000,000 s.
    h.mock.push_faults([Fault {
        latency_ms: Some(1500),
        ..Fault::default()
    }]);
    let start = Instant::now();
    let (s, _, body) = with_config(
        &h,
        r#"{"model":"a/gpt-a","timeouts":{"first_byte_ms":99999999999,"total_ms":18446744073709551615}}"#,
    )
    .await;
    assert_eq!(s, 504, "{}", String::from_utf8_lossy(&body));
    assert!(start.elapsed() < Duration::from_millis(1400));
    // Tighter than the provider's: honoured.
    h.mock.push_faults([Fault {
        latency_ms: Some(300),
        ..Fault::default()
    }]);
    let (s, _, _) = with_config(
        &h,
        r#"{"model":"a/gpt-a","timeouts":{"first_byte_ms":100}}"#,
    )
    .await;
    assert_eq!(s, 504);
}

#[tokio::test]
async fn an_operator_can_turn_callers_routes_off_or_limit_them_to_named_routes() {
    let off = start_with(&yaml("    inline_config: off\n", "  {}\n"), Router::new()).await;
    let (s, _, body) = with_config(&off, r#"{"model":"a/gpt-a"}"#).await;
    assert_eq!(s, 400);
    let msg = json(&body)["error"]["message"].as_str().unwrap().to_owned();
    assert!(msg.contains("server.limits.inline_config"), "{msg}");
    assert!(off.mock.requests().is_empty());

    let routes = start_with(
        &yaml(
            "    inline_config: routes\n",
            "  named:\n    model: a/gpt-named\n",
        ),
        Router::new(),
    )
    .await;
    let (s, headers, _) = with_config(&routes, r#"{"targets":[{"route":"named"}]}"#).await;
    assert_eq!(s, 200);
    assert_eq!(headers["x-switchyard-target"], "a/gpt-named");
    let (s, _, body) = with_config(
        &routes,
        r#"{"targets":[{"route":"named"},{"model":"a/gpt-other"}]}"#,
    )
    .await;
    assert_eq!(s, 400);
    let msg = json(&body)["error"]["message"].as_str().unwrap().to_owned();
    assert!(msg.contains("targets[1]"), "{msg}");
    assert_eq!(routes.mock.requests().len(), 1);
}
