#![allow(clippy::unwrap_used)]

use super::*;

/// The (event name, data) pairs of an SSE body; every event has both lines.
fn events_of(sse: &[u8]) -> Vec<(String, String)> {
    String::from_utf8(sse.to_vec())
        .unwrap()
        .split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| {
            let (name, data) = e.split_once('\n').unwrap();
            let name = name.strip_prefix("event: ").unwrap();
            let data = data.strip_prefix("data: ").unwrap();
            assert!(!data.contains('\n'), "{data}");
            (name.to_owned(), data.to_owned())
        })
        .collect()
}

fn gather(events: &[(String, String)]) -> Option<Value> {
    let mut g = Gather::default();
    for (name, data) in events {
        assert!(g.push(name, data), "{name}: {data}");
    }
    g.finish()
}

fn data(e: &(String, String)) -> Value {
    serde_json::from_str(&e.1).unwrap()
}

const TEXTS: &[&str] = &[
    "Hello",
    " wörld",
    " \"quoted\"",
    "\nnew line",
    " 😀",
    " back\\slash",
    " done.",
];

fn text(r: &mut fastrand::Rng, most: usize) -> String {
    (0..r.usize(0..most))
        .map(|_| TEXTS[r.usize(..TEXTS.len())])
        .collect()
}

/// A random tool input: nested objects, arrays, strings with unicode and quotes, numbers.
fn input(r: &mut fastrand::Rng) -> Value {
    let mut m = Map::new();
    for k in 0..r.usize(0..4) {
        let v = match r.usize(..5) {
            0 => json!(text(r, 3)),
            1 => json!(r.i64(-1000..1000)),
            2 => json!(r.bool()),
            3 => json!([text(r, 2), 2.5, null]),
            _ => json!({"deep": {"city": "Zürich \"Z\"", "n": k}}),
        };
        m.insert(format!("arg_{k}"), v);
    }
    Value::Object(m)
}

/// A random whole message in the form the gatherer makes.
fn whole(r: &mut fastrand::Rng) -> Value {
    let mut content = Vec::new();
    if r.bool() {
        content.push(json!({"type": "thinking", "thinking": text(r, 4),
            "signature": "EqQBCkYIARgCIkB=="}));
    }
    if r.usize(..5) == 0 {
        content.push(json!({"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/"}));
    }
    let mut calls = 0;
    for _ in 0..r.usize(0..4) {
        match r.usize(..6) {
            0..=2 => content.push(json!({"type": "text", "text": text(r, 5)})),
            3 => content.push(json!({"type": "text", "text": text(r, 3) + "x",
                "citations": [{"type": "char_location", "cited_text": "The sky is blue.",
                    "document_index": 0, "document_title": "Doc \"1\"",
                    "start_char_index": 0, "end_char_index": 16}]})),
            4 => {
                content.push(json!({"type": "server_tool_use", "id": "srvtoolu_1",
                    "name": "web_search", "input": {"query": "wetter in köln"}}));
                content.push(json!({"type": "web_search_tool_result",
                    "tool_use_id": "srvtoolu_1", "content": [{"type": "web_search_result",
                        "url": "https://example.com", "title": "Köln", "encrypted_content": "abc",
                        "page_age": null}]}));
            }
            _ => {
                calls += 1;
                content.push(json!({"type": "tool_use", "id": format!("toolu_{calls}"),
                    "name": format!("tool_{calls}"), "input": input(r)}));
            }
        }
    }
    let (stop, sequence) = if calls > 0 {
        ("tool_use", Value::Null)
    } else {
        match r.usize(..5) {
            0 => ("stop_sequence", json!("\n\nHuman:")),
            1 => ("max_tokens", Value::Null),
            2 => ("refusal", Value::Null),
            3 => ("pause_turn", Value::Null),
            _ => ("end_turn", Value::Null),
        }
    };
    let mut usage = json!({"input_tokens": r.u64(1..5000),
        "cache_creation_input_tokens": r.u64(0..100), "cache_read_input_tokens": r.u64(0..100),
        "output_tokens": r.u64(0..900)});
    if r.bool() {
        usage["service_tier"] = json!("standard");
        usage["cache_creation"] =
            json!({"ephemeral_5m_input_tokens": 3, "ephemeral_1h_input_tokens": 0});
    }
    if r.bool() {
        usage["server_tool_use"] = json!({"web_search_requests": r.u64(0..3)});
    }
    json!({"id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant",
        "model": "claude-sonnet-4-5", "content": content, "stop_reason": stop,
        "stop_sequence": sequence, "usage": usage})
}

#[test]
fn property_whole_to_stream_to_whole_is_the_same_answer() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..400 {
        let mut r = fastrand::Rng::with_seed(seed);
        let w = whole(&mut r);
        seen.insert(w["stop_reason"].as_str().unwrap().to_owned());
        for b in w["content"].as_array().unwrap() {
            seen.insert(b["type"].as_str().unwrap().to_owned());
            if b.get("citations").is_some() {
                seen.insert("citations".into());
            }
        }
        let events = events_of(&to_events(&w));
        assert_eq!(gather(&events).as_ref(), Some(&w), "seed {seed}");
        // Each event's name is its data's type, in the order the API sends them.
        for e in &events {
            assert_eq!(data(e)["type"], e.0.as_str(), "seed {seed}");
        }
        let names: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(names[0], "message_start");
        assert_eq!(names[names.len() - 2..], ["message_delta", "message_stop"]);
        let start = data(&events[0]);
        assert_eq!(start["message"]["content"], json!([]));
        assert_eq!(start["message"]["stop_reason"], Value::Null);
        assert_eq!(start["message"]["id"], w["id"]);
        assert_eq!(
            start["message"]["usage"]["input_tokens"],
            w["usage"]["input_tokens"]
        );
        assert!(start["message"]["usage"]["output_tokens"].as_u64().unwrap() <= 1);
        let end = data(&events[events.len() - 2]);
        assert_eq!(end["delta"]["stop_reason"], w["stop_reason"]);
        assert_eq!(end["delta"]["stop_sequence"], w["stop_sequence"]);
        assert_eq!(end["usage"]["output_tokens"], w["usage"]["output_tokens"]);
        // Blocks open, fill and close in turn, numbered from 0 like the content.
        let mut open: Option<u64> = None;
        let mut next = 0;
        for e in &events[1..events.len() - 2] {
            let d = data(e);
            match e.0.as_str() {
                "content_block_start" => {
                    assert_eq!(open, None);
                    assert_eq!(d["index"], next);
                    open = Some(next);
                    next += 1;
                }
                "content_block_delta" => assert_eq!(d["index"].as_u64(), open),
                "content_block_stop" => {
                    assert_eq!(d["index"].as_u64(), open);
                    open = None;
                }
                other => unreachable!("{other}"),
            }
        }
        assert_eq!(next as usize, w["content"].as_array().unwrap().len());
    }
    // The answers drawn hold every kind of block and stop.
    for kind in [
        "text",
        "citations",
        "thinking",
        "redacted_thinking",
        "tool_use",
        "server_tool_use",
        "web_search_tool_result",
        "end_turn",
        "max_tokens",
        "stop_sequence",
        "tool_use",
        "refusal",
        "pause_turn",
    ] {
        assert!(seen.contains(kind), "{kind}");
    }
}

#[test]
fn deltas_carry_each_kind_of_block() {
    let w = json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
        "content": [{"type": "thinking", "thinking": "Let me see.", "signature": "sig=="},
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "text", "text": "Hi \"you\"\n"},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather",
                "input": {"city": "Köln"}}],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 10, "output_tokens": 20}});
    let events = events_of(&to_events(&w));
    let d: Vec<Value> = events.iter().map(data).collect();
    assert_eq!(
        d[1]["content_block"],
        json!({"type": "thinking", "thinking": "", "signature": ""})
    );
    assert_eq!(
        d[2]["delta"],
        json!({"type": "thinking_delta", "thinking": "Let me see."})
    );
    assert_eq!(
        d[3]["delta"],
        json!({"type": "signature_delta", "signature": "sig=="})
    );
    assert_eq!(
        d[5]["content_block"],
        json!({"type": "redacted_thinking", "data": "opaque"})
    );
    assert_eq!(d[6]["type"], "content_block_stop");
    assert_eq!(d[7]["content_block"], json!({"type": "text", "text": ""}));
    assert_eq!(
        d[8]["delta"],
        json!({"type": "text_delta", "text": "Hi \"you\"\n"})
    );
    assert_eq!(
        d[10]["content_block"],
        json!({"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}})
    );
    assert_eq!(d[11]["delta"]["type"], "input_json_delta");
    let partial = d[11]["delta"]["partial_json"].as_str().unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(partial).unwrap(),
        json!({"city": "Köln"})
    );
    assert_eq!(
        d[13],
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use",
        "stop_sequence": null}, "usage": {"output_tokens": 20}})
    );
    assert_eq!(d[14], json!({"type": "message_stop"}));
    assert_eq!(d.len(), 15);
}

#[test]
fn a_provider_stream_cut_into_small_deltas_gathers_whole() {
    let ev = |name: &str, data: Value| (name.to_owned(), data.to_string());
    let delta = |index: u64, d: Value| {
        ev(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": index, "delta": d}),
        )
    };
    let mut events = vec![
        ev(
            "message_start",
            json!({"type": "message_start", "message": {"id": "msg_9", "type": "message",
            "role": "assistant", "content": [], "model": "claude-opus-4-1", "stop_reason": null,
            "stop_sequence": null, "usage": {"input_tokens": 472, "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 128, "output_tokens": 2, "service_tier": "standard"}}}),
        ),
        ev(
            "content_block_start",
            json!({"type": "content_block_start", "index": 0,
            "content_block": {"type": "thinking", "thinking": ""}}),
        ),
        ev("ping", json!({"type": "ping"})),
    ];
    for piece in ["I need", " the weather ", "in Köln."] {
        events.push(delta(
            0,
            json!({"type": "thinking_delta", "thinking": piece}),
        ));
    }
    events.push(delta(
        0,
        json!({"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3h"}),
    ));
    events.push(ev(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    ));
    events.push(ev(
        "content_block_start",
        json!({"type": "content_block_start", "index": 1,
            "content_block": {"type": "text", "text": ""}}),
    ));
    for piece in ["Let me", " check \"", "that\"", "\nfor you 🌦"] {
        events.push(delta(1, json!({"type": "text_delta", "text": piece})));
    }
    events.push(ev(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 1}),
    ));
    events.push(ev(
        "content_block_start",
        json!({"type": "content_block_start", "index": 2,
            "content_block": {"type": "tool_use", "id": "toolu_01T1x", "name": "get_weather",
            "input": {}}}),
    ));
    for piece in [
        "",
        "{\"location\":",
        " \"Köln, D",
        "E\", \"unit\": \"cel",
        "sius\", \"days\": [1, 2]}",
    ] {
        events.push(delta(
            2,
            json!({"type": "input_json_delta", "partial_json": piece}),
        ));
    }
    events.push(ev(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 2}),
    ));
    events.push(ev(
        "message_delta",
        json!({"type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": null},
            "usage": {"input_tokens": 472, "cache_creation_input_tokens": null,
                "cache_read_input_tokens": 128, "output_tokens": 89}}),
    ));
    events.push(ev("message_stop", json!({"type": "message_stop"})));
    let expect = json!({"id": "msg_9", "type": "message", "role": "assistant",
        "model": "claude-opus-4-1",
        "content": [
            {"type": "thinking", "thinking": "I need the weather in Köln.",
                "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3h"},
            {"type": "text", "text": "Let me check \"that\"\nfor you 🌦"},
            {"type": "tool_use", "id": "toolu_01T1x", "name": "get_weather",
                "input": {"location": "Köln, DE", "unit": "celsius", "days": [1, 2]}}],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 472, "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 128, "output_tokens": 89, "service_tier": "standard"}});
    assert_eq!(gather(&events), Some(expect.clone()));
    // Streams without `event:` lines are read by their data's type alone.
    let unnamed: Vec<(String, String)> = events
        .iter()
        .map(|(_, d)| (String::new(), d.clone()))
        .collect();
    assert_eq!(gather(&unnamed), Some(expect));
}

#[test]
fn a_tool_without_input_and_an_empty_text_keep_their_start() {
    let w = json!({"id": "msg_2", "type": "message", "role": "assistant", "model": "m",
        "content": [{"type": "text", "text": ""},
            {"type": "tool_use", "id": "toolu_2", "name": "now", "input": {}}],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 3, "output_tokens": 0}});
    let events = events_of(&to_events(&w));
    assert!(events.iter().all(|e| !e.1.contains("text_delta")));
    assert_eq!(gather(&events), Some(w.clone()));
    // A provider that sends no input delta at all for an empty input.
    let without: Vec<(String, String)> = events
        .into_iter()
        .filter(|e| !e.1.contains("input_json_delta"))
        .collect();
    assert_eq!(gather(&without), Some(w));
}

#[test]
fn unfinished_or_failed_streams_give_no_answer() {
    let mut r = fastrand::Rng::with_seed(11);
    let mut w = whole(&mut r);
    while w["content"].as_array().unwrap().len() < 2 {
        w = whole(&mut r);
    }
    let events = events_of(&to_events(&w));
    let n = events.len();
    assert!(gather(&events).is_some());
    // No message_stop: cut off at the end.
    assert_eq!(gather(&events[..n - 1]), None);
    // Cut off in the middle of the content.
    assert_eq!(gather(&events[..n / 2]), None);
    // A block that never closed.
    let mut open = events.clone();
    let at = open
        .iter()
        .position(|e| e.0 == "content_block_stop")
        .unwrap();
    open.remove(at);
    assert_eq!(gather(&open), None);
    // No message_delta: no stop reason.
    let no_delta: Vec<(String, String)> = events
        .iter()
        .filter(|e| e.0 != "message_delta")
        .cloned()
        .collect();
    assert_eq!(gather(&no_delta), None);
    // An error event in the stream (overloaded), with or without its event line.
    let error =
        r#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#;
    for name in ["error", ""] {
        let mut g = Gather::default();
        for (e, d) in &events[..n - 2] {
            assert!(g.push(e, d));
        }
        assert!(!g.push(name, error));
        // Nothing after the error makes the answer whole again.
        assert!(!g.push(&events[n - 2].0, &events[n - 2].1));
        assert!(!g.push(&events[n - 1].0, &events[n - 1].1));
        assert_eq!(g.finish(), None);
    }
    // Data that cannot be read, a name that does not match the data, a second message or
    // block 0 again (two streams run together), a delta of an unknown block or of an unknown
    // kind.
    for (name, bad) in [
        ("message_start", events[0].1.clone()),
        ("content_block_start", events[1].1.clone()),
        ("content_block_delta", "not json".to_owned()),
        ("", r#"{"error": {"message": "upstream gone"}}"#.to_owned()),
        (
            "error",
            r#"{"type": "overloaded_error", "message": "Overloaded"}"#.to_owned(),
        ),
        ("message_delta", r#"{"type": "message_stop"}"#.to_owned()),
        (
            "content_block_delta",
            r#"{"type": "content_block_delta", "index": 99, "delta": {"type": "text_delta", "text": "x"}}"#.to_owned(),
        ),
        (
            "content_block_delta",
            r#"{"type": "content_block_delta", "index": 0, "delta": {"type": "mystery_delta"}}"#.to_owned(),
        ),
    ] {
        let mut g = Gather::default();
        assert!(g.push(&events[0].0, &events[0].1));
        assert!(g.push(&events[1].0, &events[1].1));
        assert!(!g.push(name, &bad), "{bad}");
        for (e, d) in &events[2..] {
            g.push(e, d);
        }
        assert_eq!(g.finish(), None, "{bad}");
    }
    // A tool input that is not whole JSON when its block stops.
    let broken = [
        (
            "message_start",
            json!({"type": "message_start", "message": {"id": "m", "type": "message",
            "role": "assistant", "model": "m", "content": [], "stop_reason": null,
            "stop_sequence": null, "usage": {"input_tokens": 1, "output_tokens": 1}}}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 0,
            "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {}}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": "{\"a\": "}}),
        ),
    ];
    let mut g = Gather::default();
    for (e, d) in &broken {
        assert!(g.push(e, &d.to_string()));
    }
    assert!(!g.push(
        "content_block_stop",
        r#"{"type": "content_block_stop", "index": 0}"#
    ));
    assert_eq!(g.finish(), None);
    assert_eq!(Gather::default().finish(), None);
}
