//! The response cache on the request path: a repeated whole answer comes from the cache
//! without calling the provider, in the caller's shape, scoped by namespace; what the caller
//! asks (no-store, refresh, max-age) is honoured; errors and withheld answers are never
//! stored; streams bypass it for now.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::*;

const ADMIN: &str = "admin-key-123";

fn yaml(cache: &str) -> String {
    format!(
        "server:\n  discover_env: false\n  admin_keys: [{{name: ops, key: {ADMIN}}}]\nproviders:\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\n  - name: anthropic\n    base_url: ${{MOCK_ROOT}}\n    api_key: sk-ant\nclient_keys:\n  - name: test\n    key: {KEY}\n  - name: nocache\n    key: nocache-key-123\n{cache}"
    )
}

const ON: &str = "cache:\n  enabled: true\n  ttl_secs: 60\n  keys:\n    nocache: {enabled: false}\nguardrails:\n  policies:\n    - id: withhold\n      action: deny\n      stages: [output]\n      refusal: Withheld.\n      checks: [{check: contains, words: [forbidden]}]\n  attach:\n    org: [withhold]\n";

async fn ask(h: &Harness, path: &str, body: Value, extra: &[(&str, &str)]) -> (u16, String, Value) {
    let auth = format!("Bearer {KEY}");
    let mut headers = vec![
        ("authorization", auth.as_str()),
        ("x-api-key", KEY),
        ("anthropic-version", "2023-06-01"),
        ("content-type", "application/json"),
    ];
    headers.extend_from_slice(extra);
    let (s, hd, b) = h.request("POST", path, &headers, body.to_string()).await;
    let status = hd
        .get("x-switchyard-cache")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (s, status, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

fn upstream_calls(h: &Harness) -> usize {
    h.mock
        .requests()
        .iter()
        .filter(|r| {
            r.path.ends_with("/chat/completions")
                || r.path.ends_with("/messages")
                || r.path.ends_with("/responses")
        })
        .count()
}

fn chat(content: &str) -> Value {
    json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": content}],
        "mock": {"content": format!("Answer to {content}")}})
}

#[tokio::test]
async fn a_repeated_request_is_answered_from_the_cache_without_the_provider() {
    let h = start_with(&yaml(ON), axum::Router::new()).await;
    let (s, st, first) = ask(&h, "/v1/chat/completions", chat("hello"), &[]).await;
    assert_eq!((s, st.as_str()), (200, "miss"), "{first}");
    // The same request, its fields in another order and with delivery fields that do not
    // change the answer: from the cache, the same answer, no provider call.
    let reordered = json!({"messages": [{"content": "hello", "role": "user"}],
        "mock": {"content": "Answer to hello"}, "model": "openai/gpt-4o-mini", "user": "u-9"});
    let (s, st, again) = ask(&h, "/v1/chat/completions", reordered, &[]).await;
    assert_eq!((s, st.as_str()), (200, "hit"));
    assert_eq!(again, first);
    assert_eq!(upstream_calls(&h), 1);
    // A different question, or a parameter that changes the answer: a miss.
    let (_, st, _) = ask(&h, "/v1/chat/completions", chat("hello!"), &[]).await;
    assert_eq!(st, "miss");
    let mut warmer = chat("hello");
    warmer["temperature"] = json!(1.5);
    let (_, st, _) = ask(&h, "/v1/chat/completions", warmer, &[]).await;
    assert_eq!(st, "miss");
    assert_eq!(upstream_calls(&h), 3);
    // Anthropic's Messages: its own entries, in its own shape.
    let m = json!({"model": "anthropic/claude-3-5-haiku-latest", "max_tokens": 50,
        "messages": [{"role": "user", "content": "hello"}], "mock": {"content": "Hi."}});
    let (_, st, first) = ask(&h, "/v1/messages", m.clone(), &[]).await;
    assert_eq!(st, "miss");
    let (_, st, again) = ask(&h, "/v1/messages", m, &[]).await;
    assert_eq!(st, "hit");
    assert_eq!(again, first);
    assert_eq!(again["type"], "message");
    assert_eq!(upstream_calls(&h), 4);
    // Counted: 2 hits, 4 misses, 4 stored, and the store's size.
    let (_, _, m) = h
        .request(
            "GET",
            "/metrics",
            &[("authorization", &format!("Bearer {ADMIN}"))],
            "",
        )
        .await;
    let m = String::from_utf8_lossy(&m);
    // The log: a hit names the provider and model that made its answer, costs nothing and
    // says what it saved (what the miss before it cost); analytics count hits and savings.
    let hits = logs_when(&h, ADMIN, "cache=hit", 2).await;
    let misses = logs_when(&h, ADMIN, "cache=miss", 4).await;
    let chat_hit = hits
        .iter()
        .find(|r| r["operation"] == "chat.completions")
        .unwrap();
    let chat_miss = misses
        .iter()
        .rev()
        .find(|r| r["operation"] == "chat.completions")
        .unwrap();
    assert_eq!(
        (
            &chat_hit["provider"],
            &chat_hit["model"],
            &chat_hit["cost_usd"]
        ),
        (&json!("openai"), &json!("gpt-4o-mini"), &json!(0.0)),
        "{chat_hit}"
    );
    assert!(chat_hit["attempts"].as_array().unwrap().is_empty());
    let saved = chat_hit["cache_saved_usd"].as_f64().unwrap();
    assert!(saved > 0.0, "{chat_hit}");
    assert!((saved - chat_miss["cost_usd"].as_f64().unwrap()).abs() < 1e-9);
    assert!(chat_miss["cache_saved_usd"].is_null());
    let (_, _, a) = h
        .request(
            "GET",
            "/admin/v1/analytics?group_by=operation",
            &[("authorization", &format!("Bearer {ADMIN}"))],
            "",
        )
        .await;
    let a: Value = serde_json::from_slice(&a).unwrap();
    let chat_group = a["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == "chat.completions")
        .unwrap();
    assert_eq!(chat_group["cache_hits"], 1, "{a}");
    assert_eq!(chat_group["cache_hit_rate"], 0.25, "{a}");
    assert!((chat_group["cache_saved_usd"].as_f64().unwrap() - saved).abs() < 1e-9);
    for line in [
        "switchyard_cache_requests_total{status=\"hit\"} 2",
        "switchyard_cache_requests_total{status=\"miss\"} 4",
        "switchyard_cache_requests_total{status=\"bypass\"} 0",
        "switchyard_cache_stored_total 4",
        "switchyard_cache_entries 4",
        "switchyard_cache_max_bytes 268435456",
    ] {
        assert!(m.lines().any(|l| l == line), "{line} in\n{m}");
    }
}

#[tokio::test]
async fn namespaces_keys_and_callers_controls_decide_what_is_shared() {
    let h = start_with(&yaml(ON), axum::Router::new()).await;
    ask(&h, "/v1/chat/completions", chat("q"), &[]).await;
    // Another namespace shares nothing with the default one.
    let ns = [("x-switchyard-cache-namespace", "team-b")];
    let (_, st, _) = ask(&h, "/v1/chat/completions", chat("q"), &ns).await;
    assert_eq!(st, "miss");
    let (_, st, _) = ask(&h, "/v1/chat/completions", chat("q"), &ns).await;
    assert_eq!(st, "hit");
    assert_eq!(upstream_calls(&h), 2);
    // no-store: not looked up, not stored.
    let (_, st, _) = ask(
        &h,
        "/v1/chat/completions",
        chat("fresh"),
        &[("cache-control", "no-store")],
    )
    .await;
    assert_eq!(st, "bypass");
    let (_, st, _) = ask(&h, "/v1/chat/completions", chat("fresh"), &[]).await;
    assert_eq!(st, "miss");
    // no-cache (and Portkey's header): the provider is asked again and the entry replaced.
    let before = upstream_calls(&h);
    for refresh in [
        ("cache-control", "no-cache"),
        ("x-portkey-cache-force-refresh", "true"),
    ] {
        let (_, st, _) = ask(&h, "/v1/chat/completions", chat("q"), &[refresh]).await;
        assert_eq!(st, "miss");
    }
    assert_eq!(upstream_calls(&h), before + 2);
    // Portkey-style config: force_refresh in `x-portkey-config`, and a config header holding
    // only cache settings names no route.
    let (s, st, _) = ask(
        &h,
        "/v1/chat/completions",
        chat("q"),
        &[("x-portkey-config", r#"{"cache": {"force_refresh": true}}"#)],
    )
    .await;
    assert_eq!((s, st.as_str()), (200, "miss"));
    let (s, st, _) = ask(
        &h,
        "/v1/chat/completions",
        chat("q"),
        &[("x-switchyard-config", r#"{"cache": {"mode": "simple"}}"#)],
    )
    .await;
    assert_eq!((s, st.as_str()), (200, "hit"));
    assert_eq!(upstream_calls(&h), before + 3);
    // max-age=0 accepts no stored answer that has aged at all.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let (_, st, _) = ask(
        &h,
        "/v1/chat/completions",
        chat("q"),
        &[("x-switchyard-cache", "max-age=0")],
    )
    .await;
    assert_eq!(st, "miss");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let (_, st, _) = ask(
        &h,
        "/v1/chat/completions",
        chat("q"),
        &[("x-switchyard-config", r#"{"cache": {"max_age": 0}}"#)],
    )
    .await;
    assert_eq!(st, "miss");
    // A key with caching off, and streamed requests: bypass.
    let (s, hd, _) = h
        .request(
            "POST",
            "/v1/chat/completions",
            &[
                ("authorization", "Bearer nocache-key-123"),
                ("content-type", "application/json"),
            ],
            chat("q").to_string(),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(hd["x-switchyard-cache"], "bypass");
    // A streamed request of an API whose answers stream is cached too.
    let m = json!({"model": "anthropic/claude-3-5-haiku-latest", "max_tokens": 50, "stream": true,
        "messages": [{"role": "user", "content": "q"}]});
    let (s, st, _) = ask(&h, "/v1/messages", m, &[]).await;
    assert_eq!((s, st.as_str()), (200, "miss"));
}

#[tokio::test]
async fn errors_and_withheld_answers_are_never_stored_and_entries_expire() {
    let h = start_with(&yaml(ON), axum::Router::new()).await;
    // A provider error: not stored, the next request goes upstream again.
    let mut failing = chat("e");
    failing["mock"] = json!({"status": 500});
    for _ in 0..2 {
        let (s, st, _) = ask(&h, "/v1/chat/completions", failing.clone(), &[]).await;
        assert!(s >= 500, "{s}");
        assert_eq!(st, "miss");
    }
    // An answer the output guardrail withheld: not stored.
    let mut denied = chat("d");
    denied["mock"] = json!({"content": "this is forbidden text"});
    for _ in 0..2 {
        let (s, st, b) = ask(&h, "/v1/chat/completions", denied.clone(), &[]).await;
        assert_eq!(s, 200);
        assert_eq!(b["choices"][0]["message"]["content"], "Withheld.");
        assert_eq!(st, "miss");
    }
    assert_eq!(upstream_calls(&h), 4);
    // Streamed: an answer the guardrail withheld, and one the provider broke off, are not
    // stored either.
    let auth = format!("Bearer {KEY}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let mut withheld = denied.clone();
    withheld["stream"] = json!(true);
    let mut broken = chat("b");
    broken["stream"] = json!(true);
    broken["mock"] =
        json!({"content": "one two three four five six", "chunks": 6, "break_after": 2});
    for body in [withheld, broken] {
        for _ in 0..2 {
            let (s, hd, b) = h
                .request("POST", "/v1/chat/completions", &headers, body.to_string())
                .await;
            assert_eq!(s, 200);
            assert_eq!(
                hd["x-switchyard-cache"],
                "miss",
                "{}",
                String::from_utf8_lossy(&b)
            );
        }
    }
    assert_eq!(upstream_calls(&h), 8);
    // With the cache's clock paused: a stored answer is served until its TTL (60 s) passes,
    // to the millisecond, and a request's max-age counts from when it was stored.
    let clock = h.server.state().cache_clock.clone();
    clock.pause();
    ask(&h, "/v1/chat/completions", chat("t"), &[]).await;
    clock.advance(std::time::Duration::from_millis(59_999));
    let (_, st, _) = ask(&h, "/v1/chat/completions", chat("t"), &[]).await;
    assert_eq!(st, "hit");
    let (_, st, _) = ask(
        &h,
        "/v1/chat/completions",
        chat("t"),
        &[("cache-control", "max-age=59")],
    )
    .await;
    assert_eq!(st, "miss", "older than the caller accepts");
    // The max-age miss stored a fresh answer, which lives 60 s from then.
    clock.advance(std::time::Duration::from_millis(59_999));
    let (_, st, _) = ask(&h, "/v1/chat/completions", chat("t"), &[]).await;
    assert_eq!(st, "hit");
    clock.advance(std::time::Duration::from_millis(1));
    let (_, st, _) = ask(&h, "/v1/chat/completions", chat("t"), &[]).await;
    assert_eq!(st, "miss", "expired");
}

/// Two workspaces sending identical bodies never share an entry; each shares with itself.
#[tokio::test]
async fn workspaces_never_share_entries() {
    let h = start_with(&yaml(ON), axum::Router::new()).await;
    let mut keys = Vec::new();
    for name in ["team-a", "team-b"] {
        let (s, w) = h
            .json_as(ADMIN, "POST", "/admin/v1/workspaces", json!({"name": name}))
            .await;
        assert_eq!(s, 201, "{w}");
        let ws = w["id"].as_str().unwrap().to_owned();
        let (s, k) = h
            .json_as(
                ADMIN,
                "POST",
                &format!("/admin/v1/workspaces/{ws}/keys"),
                json!({"name": format!("{name}-key")}),
            )
            .await;
        assert_eq!(s, 201, "{k}");
        keys.push(k["key"].as_str().unwrap().to_owned());
    }
    let send = |key: String| {
        let h = &h;
        async move {
            let auth = format!("Bearer {key}");
            let (s, hd, _) = h
                .request(
                    "POST",
                    "/v1/chat/completions",
                    &[
                        ("authorization", &auth),
                        ("content-type", "application/json"),
                    ],
                    chat("shared question").to_string(),
                )
                .await;
            assert_eq!(s, 200);
            hd["x-switchyard-cache"].to_str().unwrap().to_owned()
        }
    };
    assert_eq!(send(keys[0].clone()).await, "miss");
    assert_eq!(send(keys[1].clone()).await, "miss");
    assert_eq!(send(keys[0].clone()).await, "hit");
    assert_eq!(send(keys[1].clone()).await, "hit");
    // The default workspace (a static key) is a third scope.
    let (_, st, _) = ask(&h, "/v1/chat/completions", chat("shared question"), &[]).await;
    assert_eq!(st, "miss");
    assert_eq!(upstream_calls(&h), 3);
}

/// An answer stored whole serves a streamed request as proper chunks, with the usage chunk
/// when asked; a streamed request that misses goes upstream and is not stored (yet).
#[tokio::test]
async fn a_whole_answer_serves_a_streamed_request_re_streamed() {
    let h = start_with(&yaml(ON), axum::Router::new()).await;
    let (_, st, whole) = ask(&h, "/v1/chat/completions", chat("s"), &[]).await;
    assert_eq!(st, "miss");
    let mut streamed = chat("s");
    streamed["stream"] = json!(true);
    streamed["stream_options"] = json!({"include_usage": true});
    let auth = format!("Bearer {KEY}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let (s, hd, b) = h
        .request(
            "POST",
            "/v1/chat/completions",
            &headers,
            streamed.to_string(),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(hd["x-switchyard-cache"], "hit");
    assert!(hd["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let events: Vec<String> = String::from_utf8(b.to_vec())
        .unwrap()
        .split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| e.strip_prefix("data: ").unwrap().to_owned())
        .collect();
    assert_eq!(events.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(
        text,
        whole["choices"][0]["message"]["content"].as_str().unwrap()
    );
    assert_eq!(chunks.last().unwrap()["usage"], whole["usage"]);
    assert!(chunks
        .iter()
        .all(|c| c["object"] == "chat.completion.chunk" && c["id"] == whole["id"]));
    assert_eq!(upstream_calls(&h), 1);
    // A streamed miss is answered by the provider, gathered as it passes and stored: the same
    // request whole, or streamed again, comes from the cache.
    let mut other = chat("t");
    other["stream"] = json!(true);
    let (s, hd, b) = h
        .request("POST", "/v1/chat/completions", &headers, other.to_string())
        .await;
    assert_eq!(
        (s, hd["x-switchyard-cache"].to_str().unwrap()),
        (200, "miss")
    );
    let (_, st, whole) = ask(&h, "/v1/chat/completions", chat("t"), &[]).await;
    assert_eq!(st, "hit");
    assert_eq!(whole["choices"][0]["message"]["content"], "Answer to t");
    assert_eq!(whole["choices"][0]["finish_reason"], "stop");
    let (_, hd, again) = h
        .request("POST", "/v1/chat/completions", &headers, other.to_string())
        .await;
    assert_eq!(hd["x-switchyard-cache"], "hit");
    let text = |b: &[u8]| -> String {
        String::from_utf8(b.to_vec())
            .unwrap()
            .split("\n\n")
            .filter_map(|e| e.strip_prefix("data: "))
            .filter(|d| *d != "[DONE]")
            .filter_map(|d| serde_json::from_str::<Value>(d).ok())
            .filter_map(|c| {
                c["choices"][0]["delta"]["content"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect()
    };
    assert_eq!(text(&again), text(&b));
    assert_eq!(upstream_calls(&h), 2);
}

/// Messages and Responses: an answer stored from a stream serves the whole request and the
/// streamed one, each in its API's shape.
#[tokio::test]
async fn messages_and_responses_are_cached_across_stream_modes() {
    let h = start_with(&yaml(ON), axum::Router::new()).await;
    let m = json!({"model": "anthropic/claude-3-5-haiku-latest", "max_tokens": 50, "stream": true,
        "messages": [{"role": "user", "content": "m"}], "mock": {"content": "Messages answer."}});
    let (s, st, _) = ask(&h, "/v1/messages", m.clone(), &[]).await;
    assert_eq!((s, st.as_str()), (200, "miss"));
    let mut whole = m.clone();
    whole.as_object_mut().unwrap().remove("stream");
    let (_, st, b) = ask(&h, "/v1/messages", whole, &[]).await;
    assert_eq!(st, "hit");
    assert_eq!(b["type"], "message");
    assert_eq!(b["content"][0]["text"], "Messages answer.");
    let auth = format!("Bearer {KEY}");
    let headers = [
        ("authorization", auth.as_str()),
        ("x-api-key", KEY),
        ("anthropic-version", "2023-06-01"),
        ("content-type", "application/json"),
    ];
    let (_, hd, sse) = h
        .request("POST", "/v1/messages", &headers, m.to_string())
        .await;
    assert_eq!(hd["x-switchyard-cache"], "hit");
    let sse = String::from_utf8(sse.to_vec()).unwrap();
    assert!(sse.starts_with("event: message_start"), "{sse}");
    assert!(sse.contains("Messages answer."), "{sse}");
    assert!(
        sse.trim_end().ends_with(r#"data: {"type":"message_stop"}"#),
        "{sse}"
    );
    // Responses: stored whole, served streamed.
    let r = json!({"model": "openai/gpt-4o-mini", "input": "r", "mock": {"content": "Responses answer."}});
    let (s, st, whole) = ask(&h, "/v1/responses", r.clone(), &[]).await;
    assert_eq!((s, st.as_str()), (200, "miss"), "{whole}");
    let mut streamed = r;
    streamed["stream"] = json!(true);
    let (_, hd, sse) = h
        .request("POST", "/v1/responses", &headers, streamed.to_string())
        .await;
    assert_eq!(hd["x-switchyard-cache"], "hit");
    let sse = String::from_utf8(sse.to_vec()).unwrap();
    assert!(sse.contains("response.output_text.delta"), "{sse}");
    let completed = sse
        .split("\n\n")
        .filter_map(|e| e.lines().find_map(|l| l.strip_prefix("data: ")))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .find(|v| v["type"] == "response.completed")
        .unwrap();
    assert_eq!(completed["response"], whole);
    assert_eq!(upstream_calls(&h), 2);
}

const SEMANTIC: &str = "cache:\n  enabled: true\n  keys:\n    nocache: {semantic: false}\n  semantic:\n    enabled: true\n    embedding_model: openai/text-embedding-3-small\n    dimensions: 256\n";

/// A chat request whose only free part is its question.
fn question(q: &str) -> Value {
    json!({"model": "openai/gpt-4o-mini", "messages": [
        {"role": "system", "content": "Answer in one word."},
        {"role": "user", "content": q}],
        "mock": {"content": "Paris."}})
}

fn embedding_calls(h: &Harness) -> usize {
    h.mock
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/embeddings"))
        .count()
}

/// Paraphrases are answered from the cache by meaning (the mock's embeddings put them at cosine
/// 0.97 and 0.95),
/// a different question or any other field changed is not; the hit says how similar it was.
#[tokio::test]
async fn paraphrases_are_semantic_hits_and_every_other_field_must_match() {
    let h = start_with(&yaml(SEMANTIC), axum::Router::new()).await;
    let path = "/v1/chat/completions";
    let (s, st, first) = ask(&h, path, question("What is the capital of France?"), &[]).await;
    assert_eq!((s, st.as_str()), (200, "miss"), "{first}");
    assert_eq!((upstream_calls(&h), embedding_calls(&h)), (1, 1));
    // Exact repeats need no embedding.
    let (_, st, _) = ask(&h, path, question("What is the capital of France?"), &[]).await;
    assert_eq!(st, "hit");
    for q in [
        "What is the capital city of France?",
        "what's the capital of France",
    ] {
        let (s, st, again) = ask(&h, path, question(q), &[]).await;
        assert_eq!((s, st.as_str()), (200, "semantic-hit"), "{q}");
        assert_eq!(again, first);
    }
    assert_eq!(upstream_calls(&h), 1);
    // Close in wording, not in meaning (cosine 0.92 with the mock's embeddings, under the
    // default threshold of 0.95): a miss.
    let (_, st, _) = ask(&h, path, question("What is the capital of Spain?"), &[]).await;
    assert_eq!(st, "miss");
    // Every other field must match: a temperature, another system prompt, another model.
    let mut warm = question("What is the capital city of France?");
    warm["temperature"] = json!(0.2);
    let mut other_system = question("What is the capital city of France?");
    other_system["messages"][0]["content"] = json!("Answer in French.");
    let mut other_model = question("What is the capital city of France?");
    other_model["model"] = json!("openai/gpt-4o");
    for body in [warm, other_system, other_model] {
        let (_, st, _) = ask(&h, path, body.clone(), &[]).await;
        assert_eq!(st, "miss", "{body}");
    }
    // A Portkey-style config asking for the semantic cache (as the config already does): a
    // hit; asking for the exact cache only: a miss.
    for (mode, q, want) in [
        ("semantic", "what is the capital of france", "semantic-hit"),
        ("simple", "WHAT is the capital of FRANCE?", "miss"),
    ] {
        let cfg = format!("{{\"cache\": {{\"mode\": \"{mode}\"}}}}");
        let (_, st, _) = ask(&h, path, question(q), &[("x-portkey-config", cfg.as_str())]).await;
        assert_eq!(st, want, "{mode}");
    }
    // A key with the semantic cache off matches exactly only, even when its caller asks.
    let (_, hd, _) = h
        .request(
            "POST",
            path,
            &[
                ("authorization", "Bearer nocache-key-123"),
                ("content-type", "application/json"),
            ],
            question("what's the capital of France").to_string(),
        )
        .await;
    assert_eq!(hd["x-switchyard-cache"], "miss");
    let (_, hd, _) = h
        .request(
            "POST",
            path,
            &[
                ("authorization", "Bearer nocache-key-123"),
                ("content-type", "application/json"),
                ("x-switchyard-config", r#"{"cache": {"mode": "semantic"}}"#),
            ],
            question("what is the capital city of france").to_string(),
        )
        .await;
    assert_eq!(hd["x-switchyard-cache"], "miss");
    // Streamed: served re-streamed from the answer found by meaning.
    let mut streamed = question("What is the capital city of France?");
    streamed["stream"] = json!(true);
    let auth = format!("Bearer {KEY}");
    let (s, hd, b) = h
        .request(
            "POST",
            path,
            &[
                ("authorization", auth.as_str()),
                ("content-type", "application/json"),
            ],
            streamed.to_string(),
        )
        .await;
    let text: String = data_events(&b)
        .iter()
        .filter_map(|e| {
            e["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!((s, text.as_str()), (200, "Paris."));
    assert_eq!(hd["x-switchyard-cache"], "semantic-hit");
    // The record: status, similarity at or above the threshold, the cost saved; the
    // embeddings calls are records of their own, marked as the cache's.
    let hits = logs_when(&h, ADMIN, "cache=semantic-hit", 2).await;
    for r in &hits {
        let sim = r["cache_similarity"].as_f64().unwrap();
        assert!((0.95..=1.0).contains(&sim), "{r}");
        assert!(r["cache_saved_usd"].as_f64().unwrap() > 0.0, "{r}");
        assert_eq!(r["provider"], "openai");
    }
    let embeds = logs_when(&h, ADMIN, "metadata.cache=semantic", 3).await;
    assert!(embeds.iter().all(|r| r["operation"] == "embeddings"));
    // Counted by status in the metrics.
    let (_, _, m) = h
        .request(
            "GET",
            "/metrics",
            &[("authorization", &format!("Bearer {ADMIN}"))],
            "",
        )
        .await;
    let m = String::from_utf8_lossy(&m);
    let line = "switchyard_cache_requests_total{status=\"semantic-hit\"} 4";
    assert!(m.lines().any(|l| l == line), "{line} in\n{m}");
}

/// Embeddings are cached like any whole answer.
#[tokio::test]
async fn embeddings_are_cached() {
    let h = start_with(&yaml(ON), axum::Router::new()).await;
    let body = json!({"model": "openai/text-embedding-3-small", "input": ["cache my vector"],
        "dimensions": 16});
    let (s, st, first) = ask(&h, "/v1/embeddings", body.clone(), &[]).await;
    assert_eq!((s, st.as_str()), (200, "miss"), "{first}");
    let (s, st, again) = ask(&h, "/v1/embeddings", body.clone(), &[]).await;
    assert_eq!((s, st.as_str()), (200, "hit"));
    assert_eq!(again, first);
    assert_eq!(again["data"][0]["embedding"].as_array().unwrap().len(), 16);
    let mut other = body;
    other["dimensions"] = json!(8);
    let (_, st, _) = ask(&h, "/v1/embeddings", other, &[]).await;
    assert_eq!(st, "miss");
    assert_eq!(embedding_calls(&h), 2);
}

/// The admin API: stats count what happened; purges select by workspace and namespace, by the
/// client key that stored, by entry key and by age, and each is audited.
#[tokio::test]
async fn the_admin_api_reports_stats_and_purges_what_it_is_asked() {
    let h = start_with(&yaml(ON), axum::Router::new()).await;
    let auth = format!("Bearer {ADMIN}");
    let admin = |method: &'static str, path: &'static str, body: Value| {
        let auth = auth.clone();
        let h = &h;
        async move {
            let (s, _, b) = h
                .request(
                    method,
                    path,
                    &[
                        ("authorization", auth.as_str()),
                        ("content-type", "application/json"),
                    ],
                    if body.is_null() {
                        String::new()
                    } else {
                        body.to_string()
                    },
                )
                .await;
            (
                s,
                serde_json::from_slice::<Value>(&b).unwrap_or(Value::Null),
            )
        }
    };
    let team = [("x-switchyard-cache-namespace", "team")];
    ask(&h, "/v1/chat/completions", chat("a"), &[]).await;
    ask(&h, "/v1/chat/completions", chat("b"), &team).await;
    let (_, hd, _) = h
        .request(
            "POST",
            "/v1/chat/completions",
            &[
                ("authorization", "Bearer client-key-123"),
                ("content-type", "application/json"),
            ],
            chat("c").to_string(),
        )
        .await;
    let key_c = hd["x-switchyard-cache-key"].to_str().unwrap().to_owned();
    assert_eq!(key_c.len(), 64);
    ask(&h, "/v1/chat/completions", chat("a"), &[]).await;
    let (s, st) = admin("GET", "/admin/v1/cache/stats", Value::Null).await;
    assert_eq!(s, 200, "{st}");
    assert_eq!(
        (
            &st["backend"],
            &st["entries"],
            &st["requests"]["hit"],
            &st["requests"]["miss"]
        ),
        (&json!("memory"), &json!(3), &json!(1), &json!(3)),
        "{st}"
    );
    assert_eq!(st["hit_rate"], 0.25);
    assert!(st["saved_usd"].as_f64().unwrap() > 0.0);
    // By entry key: only that one.
    let (s, p) = admin("POST", "/admin/v1/cache/purge", json!({"cache_key": key_c})).await;
    assert_eq!((s, &p["purged"]), (200, &json!(1)), "{p}");
    let (_, st, _) = ask(&h, "/v1/chat/completions", chat("c"), &[]).await;
    assert_eq!(st, "miss");
    // A namespace within the workspace: only its entries.
    let (_, p) = admin(
        "POST",
        "/admin/v1/cache/purge",
        json!({"workspace": "default", "namespace": "team"}),
    )
    .await;
    assert_eq!(p["purged"], 1, "{p}");
    let (_, st, _) = ask(&h, "/v1/chat/completions", chat("a"), &[]).await;
    assert_eq!(st, "hit");
    // By age: nothing is an hour old yet.
    let (_, p) = admin(
        "POST",
        "/admin/v1/cache/purge",
        json!({"older_than_secs": 3600}),
    )
    .await;
    assert_eq!(p["purged"], 0, "{p}");
    // By the key that stored them (the static key's name): the rest.
    let (_, p) = admin("POST", "/admin/v1/cache/purge", json!({"key_id": "test"})).await;
    assert_eq!(p["purged"], 2, "{p}");
    let (_, st, _) = ask(&h, "/v1/chat/completions", chat("a"), &[]).await;
    assert_eq!(st, "miss");
    // Nothing named: refused, nothing purged.
    let (s, e) = admin("POST", "/admin/v1/cache/purge", json!({})).await;
    assert_eq!((s, &e["error"]["param"]), (400, &json!("all")), "{e}");
    // Audited.
    let (_, audit) = admin("GET", "/admin/v1/audit", Value::Null).await;
    let purges: Vec<&Value> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "cache.purge")
        .collect();
    assert_eq!(purges.len(), 4, "{audit}");
    assert!(purges.iter().any(|e| e["after"]["namespace"] == "team"));
}

/// Limits count a hit as a request with no provider cost: a request-rate limit counts hits, a
/// spend budget holds only what the miss cost, and a completions answer is cached too.
#[tokio::test]
async fn limits_count_hits_as_requests_at_no_provider_cost() {
    let rules = "limits:\n  rules:\n    - {id: rpm, scope: org, dimension: requests, amount: 4, window: minute}\n    - {id: spend, scope: org, dimension: cost_usd, amount: 10, window: month}\n";
    let h = start_with(&yaml(&format!("{ON}{rules}")), axum::Router::new()).await;
    let auth = format!("Bearer {ADMIN}");
    let used = |id: &'static str| {
        let auth = auth.clone();
        let h = &h;
        async move {
            let (_, _, b) = h
                .request(
                    "GET",
                    &format!("/admin/v1/limits/{id}"),
                    &[("authorization", auth.as_str())],
                    "",
                )
                .await;
            let v: Value = serde_json::from_slice(&b).unwrap();
            v["state"]["used"].as_f64().unwrap()
        }
    };
    let body = json!({"model": "openai/gpt-4o-mini", "prompt": "Say hi.",
        "mock": {"content": "Hi there."}});
    let (s, st, first) = ask(&h, "/v1/completions", body.clone(), &[]).await;
    assert_eq!((s, st.as_str()), (200, "miss"), "{first}");
    let spent = used("spend").await;
    assert!(spent > 0.0);
    for _ in 0..3 {
        let (s, st, again) = ask(&h, "/v1/completions", body.clone(), &[]).await;
        assert_eq!((s, st.as_str()), (200, "hit"));
        assert_eq!(again, first);
    }
    assert_eq!(used("rpm").await, 4.0);
    assert_eq!(used("spend").await, spent);
    // The fifth request is over the request rate, hit or not.
    let (s, _, _) = ask(&h, "/v1/completions", body, &[]).await;
    assert_eq!(s, 429);
    assert_eq!(upstream_calls_any(&h), 1);
}

fn upstream_calls_any(h: &Harness) -> usize {
    h.mock
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/completions"))
        .count()
}
