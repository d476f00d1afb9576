#![allow(clippy::unwrap_used)]

use super::*;

fn data_of(sse: &[u8]) -> Vec<String> {
    String::from_utf8(sse.to_vec())
        .unwrap()
        .split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| e.strip_prefix("data: ").unwrap().to_owned())
        .collect()
}

fn gather(events: &[String]) -> Option<Value> {
    let mut g = Gather::default();
    for e in events {
        assert!(g.push(e), "{e}");
    }
    g.finish()
}

const TEXTS: &[&str] = &[
    "Hello",
    " wörld",
    " \"quoted\"",
    "\nnew line",
    " 😀",
    " done.",
];

/// A random whole answer in the form the gatherer makes.
fn whole(r: &mut fastrand::Rng) -> Value {
    let n = r.usize(1..4);
    let choices: Vec<Value> = (0..n)
        .map(|i| {
            let text: String = (0..r.usize(0..5)).map(|_| TEXTS[r.usize(..TEXTS.len())]).collect();
            let calls: Vec<Value> = (0..r.usize(0..3))
                .map(|k| json!({"id": format!("call_{i}_{k}"), "type": "function",
                    "function": {"name": format!("tool_{k}"), "arguments": format!("{{\"city\":\"P{k}\"}}")}}))
                .collect();
            let mut m = json!({"role": "assistant",
                "content": if text.is_empty() { Value::Null } else { json!(text) },
                "refusal": null});
            if r.bool() {
                m["reasoning_content"] = json!("Thinking it over.");
            }
            if !calls.is_empty() {
                m["tool_calls"] = json!(calls);
            }
            let finish = if calls.is_empty() { ["stop", "length", "content_filter"][r.usize(..3)] } else { "tool_calls" };
            json!({"index": i, "message": m, "logprobs": null, "finish_reason": finish})
        })
        .collect();
    let mut w = json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1_700_000_000,
        "model": "gpt-4o-mini", "choices": choices,
        "usage": {"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21}});
    if r.bool() {
        w["system_fingerprint"] = json!("fp_1");
    }
    w
}

#[test]
fn property_whole_to_stream_to_whole_is_the_same_answer() {
    for seed in 0..300 {
        let mut r = fastrand::Rng::with_seed(seed);
        let w = whole(&mut r);
        let events = data_of(&to_events(&w, true));
        assert_eq!(events.last().unwrap(), "[DONE]");
        assert_eq!(gather(&events).as_ref(), Some(&w), "seed {seed}");
        // Every chunk is a proper chunk of this answer.
        for e in &events[..events.len() - 1] {
            let v: Value = serde_json::from_str(e).unwrap();
            assert_eq!(v["object"], "chat.completion.chunk");
            assert_eq!(v["id"], w["id"]);
        }
    }
}

#[test]
fn usage_is_sent_only_when_asked_for_and_last_before_done() {
    let w = whole(&mut fastrand::Rng::with_seed(7));
    let with = data_of(&to_events(&w, true));
    let usage: Value = serde_json::from_str(&with[with.len() - 2]).unwrap();
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"], w["usage"]);
    let without = data_of(&to_events(&w, false));
    assert!(
        without.iter().all(|e| !e.contains("\"usage\"")),
        "{without:?}"
    );
    // The answer gathered without usage lacks only that.
    let mut expect = w.clone();
    expect.as_object_mut().unwrap().remove("usage");
    assert_eq!(gather(&without), Some(expect));
}

#[test]
fn a_provider_stream_cut_into_small_deltas_gathers_whole() {
    let w = json!({"id": "c9", "object": "chat.completion", "created": 5, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi there, friend.",
            "refusal": null, "tool_calls": [{"id": "call_1", "type": "function",
            "function": {"name": "f", "arguments": "{\"a\":1}"}}]},
            "logprobs": null, "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}});
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "c9", "object": "chat.completion.chunk", "created": 5, "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        .to_string()
    };
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    for piece in ["Hi", " the", "re, fri", "end."] {
        events.push(chunk(json!({"content": piece}), Value::Null));
    }
    events.push(chunk(
        json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}}]}),
        Value::Null,
    ));
    for piece in ["{\"a\"", ":1}"] {
        events.push(chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}),
            Value::Null,
        ));
    }
    events.push(chunk(json!({}), json!("tool_calls")));
    events.push(
        json!({"id": "c9", "object": "chat.completion.chunk", "created": 5, "model": "m",
            "choices": [], "usage": w["usage"]})
        .to_string(),
    );
    events.push("[DONE]".into());
    assert_eq!(gather(&events), Some(w));
}

#[test]
fn unfinished_or_failed_streams_give_no_answer() {
    let w = whole(&mut fastrand::Rng::with_seed(3));
    let events = data_of(&to_events(&w, true));
    // No [DONE].
    assert_eq!(gather(&events[..events.len() - 1]), None);
    // A choice that never finished.
    let unfinished: Vec<String> = events
        .iter()
        .filter(|e| !e.contains("\"finish_reason\":\"") || e.contains("\"index\":1"))
        .cloned()
        .collect();
    assert_eq!(gather(&unfinished), None);
    // An error event, or something that is not a chunk.
    let mut g = Gather::default();
    assert!(!g.push(r#"{"error":{"message":"boom"}}"#));
    assert!(!g.push("not json"));
    assert_eq!(Gather::default().finish(), None);
}
