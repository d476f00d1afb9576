//! The pass-through path: byte fidelity, model resolution, headers, stage order.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::*;

#[tokio::test]
async fn only_the_model_changes_on_the_way_upstream() {
    let h = start().await;
    let body = "{ \"model\" : \"openai/gpt-4o-mini\",\n \"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,iVBORw0KGgo=\"}}]}],\n \"metadata\": {\"keep\": \"1.50\", \"order\": \"3,1,2\"}, \"logprobs\": true }";
    let (status, headers, resp) = h.chat(body).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
    assert_eq!(headers["x-switchyard-provider"], "openai");
    let rec = h.mock.requests();
    assert_eq!(rec.len(), 1);
    assert_eq!(
        rec[0].body,
        body.replace("\"openai/gpt-4o-mini\"", "\"gpt-4o-mini\"")
    );
    assert_eq!(rec[0].path, "/v1/chat/completions");
    assert_eq!(
        rec[0].target, "/v1/chat/completions",
        "origin-form request line"
    );
    assert_eq!(
        rec[0].header("host"),
        Some(h.mock.addr.to_string().as_str())
    );
    assert_eq!(rec[0].header("authorization"), Some("Bearer sk-upstream"));
    assert_eq!(
        json(&resp)["choices"][0]["logprobs"]["content"][0]["token"],
        "Hello! "
    );
    // A field the host does not know goes as it is too; the host's refusal comes back whole.
    let vendor = "{\"model\":\"openai/gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"vendor_x\":{\"keep\":1.50}}";
    let (status, _, resp) = h.chat(vendor).await;
    assert_eq!(status, 400);
    assert_eq!(
        json(&resp)["error"]["message"],
        "Unrecognized request argument supplied: vendor_x"
    );
    assert_eq!(
        h.mock.requests()[1].body,
        vendor.replace("openai/gpt-4o-mini", "gpt-4o-mini")
    );
}

#[tokio::test]
async fn unchanged_model_is_forwarded_identically() {
    let h = start().await;
    let body = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"temperature":0.20000000000000001}"#;
    let (status, _, _) = h.chat(body).await;
    assert_eq!(status, 200);
    assert_eq!(h.mock.requests()[0].body, body);
}

#[tokio::test]
async fn provider_prefix_picks_the_provider_and_its_key() {
    let h = start().await;
    let (status, headers, _) = h
        .chat(r#"{"model":"groq/llama-3.3-70b-versatile","messages":[{"role":"user","content":"hi"}]}"#)
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-switchyard-provider"], "groq");
    let rec = &h.mock.requests()[0];
    assert_eq!(rec.header("authorization"), Some("Bearer sk-groq"));
    assert!(rec.body.contains("\"llama-3.3-70b-versatile\""));
}

#[tokio::test]
async fn completions_and_embeddings_pass_through() {
    let h = start().await;
    let (s, _, b) = h
        .post(
            "/v1/completions",
            r#"{"model":"gpt-3.5-turbo-instruct","prompt":"Say hi"}"#,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(json(&b)["object"], "text_completion");
    let (s, _, b) = h
        .post(
            "/v1/embeddings",
            r#"{"model":"text-embedding-3-small","input":["a","b"],"dimensions":4}"#,
        )
        .await;
    assert_eq!(s, 200);
    let v = json(&b);
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    assert_eq!(v["data"][1]["embedding"].as_array().unwrap().len(), 4);
    let paths: Vec<String> = h.mock.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, vec!["/v1/completions", "/v1/embeddings"]);
}

#[tokio::test]
async fn request_id_is_echoed_or_generated_and_sent_upstream() {
    let h = start().await;
    let resp = h
        .send(
            "POST",
            "/v1/chat/completions",
            &[
                ("authorization", &format!("Bearer {KEY}")),
                ("x-request-id", "my-req-42"),
            ],
            r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#,
        )
        .await;
    assert_eq!(resp.headers()["x-request-id"], "my-req-42");
    assert_eq!(
        h.mock.requests()[0].header("x-request-id"),
        Some("my-req-42")
    );
    let (_, headers, _) = h
        .chat(r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#)
        .await;
    let generated = headers["x-request-id"].to_str().unwrap();
    assert_eq!(generated.len(), 32);
    let (_, headers, _) = h.post("/v1/nothing-here", "{}").await;
    assert!(headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn traceparent_continues_the_callers_trace() {
    let h = start().await;
    let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    h.send(
        "POST",
        "/v1/chat/completions",
        &[
            ("authorization", &format!("Bearer {KEY}")),
            ("traceparent", tp),
        ],
        r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#,
    )
    .await;
    let up = h.mock.requests()[0]
        .header("traceparent")
        .unwrap()
        .to_owned();
    let parts: Vec<&str> = up.split('-').collect();
    assert_eq!(parts[0], "00");
    assert_eq!(parts[1], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_ne!(parts[2], "00f067aa0ba902b7");
    assert_eq!(parts[3], "01");
    // Without one, a new trace starts.
    h.chat(r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#)
        .await;
    let fresh = h.mock.requests()[1]
        .header("traceparent")
        .unwrap()
        .to_owned();
    assert!(
        switchyard::ids::parse_traceparent(&fresh).is_some(),
        "{fresh}"
    );
}

#[tokio::test]
async fn models_lists_routable_models_behind_auth() {
    let h = start().await;
    let resp = h.send("GET", "/v1/models", &[], "").await;
    assert_eq!(resp.status(), 401);
    let resp = h.send("GET", "/v1/models", &[("x-api-key", KEY)], "").await;
    let (s, _, b) = collect(resp).await;
    assert_eq!(s, 200);
    let v = json(&b);
    assert_eq!(v["object"], "list");
    let ids: Vec<(&str, &str)> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_str().unwrap(), m["owned_by"].as_str().unwrap()))
        .collect();
    assert!(ids.contains(&("gpt-4o-mini", "openai")), "{ids:?}");
    assert!(ids.contains(&("openai/gpt-4o-mini", "openai")));
    assert!(ids.contains(&("groq/llama-3.3-70b-versatile", "groq")));
    assert!(ids.contains(&("llama-3.3-70b-versatile", "groq")));
}

#[tokio::test]
async fn health_and_readiness_need_no_key() {
    let h = start().await;
    let (s, _, b) = collect(h.send("GET", "/healthz", &[], "").await).await;
    assert_eq!((s.as_u16(), &b[..]), (200, &b"{\"status\":\"ok\"}"[..]));
    let (s, _, _) = collect(h.send("GET", "/readyz", &[], "").await).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn stages_run_in_the_documented_order() {
    use switchyard::context::RequestCtx;
    use switchyard::ids::{new_request_id, TraceContext};
    let h = start().await;
    let req = http::Request::post("/v1/chat/completions")
        .header("authorization", format!("Bearer {KEY}"))
        .body(axum::body::Body::from(
            r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#,
        ))
        .unwrap();
    let mut ctx = RequestCtx::new(
        new_request_id(),
        TraceContext::from_header(None),
        switchyard_providers::Operation::ChatCompletions,
    );
    let resp = switchyard::pipeline::handle(&h.server.state(), &mut ctx, req)
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // The stages in the order docs/request-lifecycle.md draws them, each run once.
    assert_eq!(
        ctx.stages,
        [
            "authenticate",
            "read_body",
            "prompts",
            "parse",
            "resolve",
            "limits",
            "guardrails",
            "cache",
            "call",
            "relay"
        ]
    );
    assert_eq!(ctx.caller.as_deref(), Some("test"));
}

#[tokio::test]
async fn upstream_connections_are_kept_alive_and_reused() {
    let h = start().await;
    for _ in 0..5 {
        let (s, _, _) = h
            .chat(r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#)
            .await;
        assert_eq!(s, 200);
    }
    let (s, _, b) = h
        .chat(
            r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":true}"#,
        )
        .await;
    assert_eq!(s, 200);
    assert!(b.ends_with(b"data: [DONE]\n\n"));
    let (s, _, _) = h
        .post("/v1/embeddings", r#"{"model":"gpt-4o-mini","input":"x"}"#)
        .await;
    assert_eq!(s, 200);
    let stats = h.mock.stats();
    assert_eq!(stats.requests, 7);
    assert_eq!(
        stats.connections, 1,
        "one pooled connection served every request"
    );
    // An error reply also leaves the connection reusable.
    h.chat(r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"mock":{"status":500}}"#)
        .await;
    h.chat(r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#)
        .await;
    assert_eq!(h.mock.stats().connections, 1);
}

#[tokio::test]
async fn a_connection_the_upstream_closed_is_not_reused() {
    let h = start().await;
    let (s, _, _) = h
        .chat(r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"mock":{"close_connection":true}}"#)
        .await;
    assert_eq!(s, 200);
    for _ in 0..3 {
        let (s, _, _) = h
            .chat(r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#)
            .await;
        assert_eq!(s, 200);
    }
    assert_eq!(h.mock.stats().connections, 2);
}

#[tokio::test]
async fn a_single_model_can_be_retrieved() {
    let h = start().await;
    let (s, _, b) = collect(
        h.send(
            "GET",
            "/v1/models/openai/gpt-4o-mini",
            &[("x-api-key", KEY)],
            "",
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);
    let v = json(&b);
    assert_eq!(
        (v["id"].as_str(), v["owned_by"].as_str()),
        (Some("openai/gpt-4o-mini"), Some("openai"))
    );
    let (s, _, b) = collect(
        h.send("GET", "/v1/models/nope", &[("x-api-key", KEY)], "")
            .await,
    )
    .await;
    assert_eq!(s, 404);
    assert_eq!(json(&b)["error"]["code"], "model_not_found");
}

#[tokio::test]
async fn only_chosen_caller_headers_go_upstream() {
    let h = start().await;
    h.send(
        "POST",
        "/v1/chat/completions",
        &[
            ("authorization", &format!("Bearer {KEY}")),
            ("openai-beta", "assistants=v2"),
            ("tracestate", "vendor=1"),
            ("cookie", "secret=1"),
            ("openai-organization", "org-caller"),
        ],
        r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#,
    )
    .await;
    let rec = &h.mock.requests()[0];
    assert_eq!(rec.header("openai-beta"), Some("assistants=v2"));
    assert_eq!(rec.header("tracestate"), Some("vendor=1"));
    assert_eq!(rec.header("cookie"), None);
    assert_eq!(rec.header("openai-organization"), None);
    assert_eq!(rec.header("authorization"), Some("Bearer sk-upstream"));
}

#[tokio::test]
async fn a_caller_that_hangs_up_cancels_the_upstream_request() {
    let h = start().await;
    let pending = h.chat(r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"mock":{"latency_ms":1200}}"#);
    let gave_up = tokio::time::timeout(std::time::Duration::from_millis(200), pending).await;
    assert!(gave_up.is_err(), "the caller stopped waiting");
    assert!(
        eventually(|| h.mock.stats().requests_abandoned == 1).await,
        "{:?}",
        h.mock.stats()
    );
    assert_eq!(h.mock.stats().requests, 1);
}
