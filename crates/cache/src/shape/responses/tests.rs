#![allow(clippy::unwrap_used)]

use super::*;

/// The events of an SSE body as (event name, data); every event has both lines.
fn events_of(sse: &[u8]) -> Vec<(String, Value)> {
    String::from_utf8(sse.to_vec())
        .unwrap()
        .split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| {
            let (name, data) = e.split_once('\n').unwrap();
            let name = name.strip_prefix("event: ").unwrap();
            let data = data.strip_prefix("data: ").unwrap();
            assert!(!data.contains('\n'), "{data}");
            (name.to_owned(), serde_json::from_str(data).unwrap())
        })
        .collect()
}

fn gather(events: &[(String, Value)]) -> Option<Value> {
    let mut g = Gather::default();
    for (_, data) in events {
        assert!(g.push(&data.to_string()), "{data}");
    }
    g.finish()
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

fn text_of(r: &mut fastrand::Rng, most: usize) -> String {
    (0..r.usize(0..most))
        .map(|_| TEXTS[r.usize(..TEXTS.len())])
        .collect()
}

/// A random whole response as the API returns it.
fn whole(r: &mut fastrand::Rng) -> Value {
    let incomplete = r.usize(..4) == 0;
    let mut output = Vec::new();
    if r.bool() {
        let summary: Vec<Value> = (0..r.usize(0..3))
            .map(|_| json!({"type": "summary_text", "text": text_of(r, 4)}))
            .collect();
        let mut item = json!({"id": "rs_67ccd2bf", "type": "reasoning", "summary": summary});
        if r.bool() {
            item["encrypted_content"] = json!("gAAAAABoISQ24O");
        }
        output.push(item);
    }
    for i in 0..r.usize(0..4) {
        match r.usize(..5) {
            0..=2 => {
                let mut content = Vec::new();
                for _ in 0..r.usize(1..3) {
                    let annotations: Vec<Value> = (0..r.usize(0..3))
                        .map(|k| {
                            json!({"type": "url_citation", "start_index": k, "end_index": k + 4,
                            "url": format!("https://example.com/{k}"), "title": "Köln \"news\""})
                        })
                        .collect();
                    content.push(json!({"type": "output_text", "text": text_of(r, 5),
                        "annotations": annotations, "logprobs": []}));
                }
                if r.usize(..4) == 0 {
                    content.push(json!({"type": "refusal", "refusal": text_of(r, 3)}));
                }
                let status = if incomplete {
                    "incomplete"
                } else {
                    "completed"
                };
                output.push(json!({"id": format!("msg_{i}"), "type": "message",
                    "status": status, "role": "assistant", "content": content}));
            }
            3 => output.push(json!({"id": format!("fc_{i}"), "type": "function_call",
                "status": "completed", "call_id": format!("call_{i}"),
                "name": format!("tool_{i}"),
                "arguments": json!({"city": text_of(r, 3), "days": i}).to_string()})),
            _ => output.push(json!({"id": format!("ws_{i}"), "type": "web_search_call",
                "status": "completed",
                "action": {"type": "search", "query": "wetter köln"}})),
        }
    }
    let (input, out) = (r.u64(1..4000), r.u64(0..900));
    json!({"id": "resp_67ccd2bed1ec8190", "object": "response", "created_at": 1_741_476_542,
        "status": if incomplete { "incomplete" } else { "completed" }, "background": false,
        "error": null,
        "incomplete_details": if incomplete { json!({"reason": "max_output_tokens"}) } else { Value::Null },
        "instructions": null, "max_output_tokens": null, "model": "gpt-4.1-2025-04-14",
        "output": output, "parallel_tool_calls": true, "previous_response_id": null,
        "reasoning": {"effort": null, "summary": null}, "store": true, "temperature": 1.0,
        "text": {"format": {"type": "text"}}, "tool_choice": "auto", "tools": [], "top_p": 1.0,
        "truncation": "disabled",
        "usage": {"input_tokens": input, "input_tokens_details": {"cached_tokens": input / 2},
            "output_tokens": out, "output_tokens_details": {"reasoning_tokens": out / 3},
            "total_tokens": input + out},
        "user": null, "metadata": {}})
}

#[test]
fn property_whole_to_stream_to_whole_is_the_same_answer() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..400 {
        let mut r = fastrand::Rng::with_seed(seed);
        let w = whole(&mut r);
        seen.insert(w["status"].as_str().unwrap().to_owned());
        for item in w["output"].as_array().unwrap() {
            seen.insert(item["type"].as_str().unwrap().to_owned());
            let parts = item.get("content").or(item.get("summary"));
            for part in parts.into_iter().flat_map(|p| p.as_array().unwrap()) {
                seen.insert(part["type"].as_str().unwrap().to_owned());
                if part["annotations"]
                    .as_array()
                    .is_some_and(|a| !a.is_empty())
                {
                    seen.insert("annotations".into());
                }
            }
        }
        let events = events_of(&to_events(&w));
        assert_eq!(gather(&events).as_ref(), Some(&w), "seed {seed}");
        // The final response is carried whole by the event its status names.
        let (last, data) = events.last().unwrap();
        let expect = if w["status"] == "incomplete" {
            "response.incomplete"
        } else {
            "response.completed"
        };
        assert_eq!(last, expect);
        assert_eq!(data["response"], w);
        // The output emptied, the done items make it again.
        let mut bare = events.clone();
        bare.last_mut().unwrap().1["response"]["output"] = json!([]);
        assert_eq!(gather(&bare).as_ref(), Some(&w), "seed {seed}");
    }
    // The answers drawn hold every kind of item and part, finished and cut short.
    for kind in [
        "completed",
        "incomplete",
        "reasoning",
        "summary_text",
        "message",
        "output_text",
        "annotations",
        "refusal",
        "function_call",
        "web_search_call",
    ] {
        assert!(seen.contains(kind), "{kind}");
    }
}

/// Rebuilds the output from the added items, parts and deltas the way a streaming client does,
/// checking every `done` event against what was built.
fn rebuild(events: &[(String, Value)]) -> Vec<Value> {
    let mut items: Vec<Value> = Vec::new();
    for (kind, e) in events {
        let oi = e["output_index"].as_u64().unwrap_or(0) as usize;
        let ci = e["content_index"].as_u64().unwrap_or(0) as usize;
        let si = e["summary_index"].as_u64().unwrap_or(0) as usize;
        let push_str = |slot: &mut Value, piece: &Value| {
            let s = slot.as_str().unwrap().to_owned() + piece.as_str().unwrap();
            *slot = json!(s);
        };
        match kind.as_str() {
            "response.output_item.added" => {
                assert_eq!(oi, items.len());
                items.push(e["item"].clone());
            }
            "response.content_part.added" => {
                let content = items[oi]["content"].as_array_mut().unwrap();
                assert_eq!(ci, content.len());
                content.push(e["part"].clone());
            }
            "response.output_text.delta" => {
                let part = &mut items[oi]["content"][ci];
                push_str(&mut part["text"], &e["delta"]);
                if let Some(l) = part["logprobs"].as_array_mut() {
                    l.extend(e["logprobs"].as_array().unwrap().iter().cloned());
                }
            }
            "response.output_text.annotation.added" => {
                let notes = items[oi]["content"][ci]["annotations"]
                    .as_array_mut()
                    .unwrap();
                assert_eq!(e["annotation_index"], notes.len());
                notes.push(e["annotation"].clone());
            }
            "response.output_text.done" => {
                assert_eq!(e["text"], items[oi]["content"][ci]["text"]);
            }
            "response.refusal.delta" => {
                push_str(&mut items[oi]["content"][ci]["refusal"], &e["delta"]);
            }
            "response.refusal.done" => {
                assert_eq!(e["refusal"], items[oi]["content"][ci]["refusal"]);
            }
            "response.content_part.done" => assert_eq!(e["part"], items[oi]["content"][ci]),
            "response.function_call_arguments.delta" => {
                push_str(&mut items[oi]["arguments"], &e["delta"]);
            }
            "response.function_call_arguments.done" => {
                assert_eq!(e["arguments"], items[oi]["arguments"]);
                if let Some(name) = e.get("name") {
                    assert_eq!(name, &items[oi]["name"]);
                }
            }
            "response.reasoning_summary_part.added" => {
                let summary = items[oi]["summary"].as_array_mut().unwrap();
                assert_eq!(si, summary.len());
                summary.push(e["part"].clone());
            }
            "response.reasoning_summary_text.delta" => {
                push_str(&mut items[oi]["summary"][si]["text"], &e["delta"]);
            }
            "response.reasoning_summary_text.done" => {
                assert_eq!(e["text"], items[oi]["summary"][si]["text"]);
            }
            "response.reasoning_summary_part.done" => {
                assert_eq!(e["part"], items[oi]["summary"][si]);
            }
            "response.output_item.done" => {
                if let Some(s) = e["item"].get("status") {
                    items[oi]["status"] = s.clone();
                }
                assert_eq!(e["item"], items[oi]);
            }
            _ => {}
        }
    }
    items
}

#[test]
fn the_deltas_rebuild_every_item_as_a_streaming_client_sees_it() {
    for seed in 0..400 {
        let w = whole(&mut fastrand::Rng::with_seed(seed));
        let events = events_of(&to_events(&w));
        assert_eq!(json!(rebuild(&events)), w["output"], "seed {seed}");
        // Items open in progress and empty.
        for (kind, e) in &events {
            if kind == "response.output_item.added" {
                let item = &e["item"];
                if item.get("status").is_some() {
                    assert_eq!(item["status"], "in_progress");
                }
                for (field, empty) in [
                    ("content", json!([])),
                    ("arguments", json!("")),
                    ("summary", json!([])),
                ] {
                    if item.get(field).is_some() {
                        assert_eq!(item[field], empty, "{item}");
                    }
                }
            }
        }
    }
}

#[test]
fn every_event_has_its_type_sequence_number_and_indexes() {
    // The fields each event carries besides `type` and `sequence_number`, per the API reference.
    let at = ["item_id", "output_index", "content_index"];
    let summary_at = ["item_id", "output_index", "summary_index"];
    let required = |kind: &str| -> Vec<&str> {
        let mut f: Vec<&str> = match kind {
            "response.created"
            | "response.in_progress"
            | "response.completed"
            | "response.incomplete" => vec!["response"],
            "response.output_item.added" | "response.output_item.done" => {
                vec!["output_index", "item"]
            }
            "response.content_part.added" | "response.content_part.done" => {
                [&at[..], &["part"]].concat()
            }
            "response.output_text.delta" => [&at[..], &["delta", "logprobs"]].concat(),
            "response.output_text.done" => [&at[..], &["text", "logprobs"]].concat(),
            "response.output_text.annotation.added" => {
                [&at[..], &["annotation_index", "annotation"]].concat()
            }
            "response.refusal.delta" => [&at[..], &["delta"]].concat(),
            "response.refusal.done" => [&at[..], &["refusal"]].concat(),
            "response.function_call_arguments.delta" => vec!["item_id", "output_index", "delta"],
            "response.function_call_arguments.done" => {
                vec!["item_id", "output_index", "arguments", "name"]
            }
            "response.reasoning_summary_part.added" | "response.reasoning_summary_part.done" => {
                [&summary_at[..], &["part"]].concat()
            }
            "response.reasoning_summary_text.delta" => [&summary_at[..], &["delta"]].concat(),
            "response.reasoning_summary_text.done" => [&summary_at[..], &["text"]].concat(),
            other => unreachable!("{other}"),
        };
        f.extend(["type", "sequence_number"]);
        f
    };
    for seed in 0..200 {
        let w = whole(&mut fastrand::Rng::with_seed(seed));
        let events = events_of(&to_events(&w));
        for (n, (kind, e)) in events.iter().enumerate() {
            assert_eq!(e["type"], kind.as_str());
            assert_eq!(e["sequence_number"], n);
            let mut have: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
            let mut want = required(kind);
            have.sort_unstable();
            want.sort_unstable();
            assert_eq!(have, want, "{kind}");
            // Events of an item name it by its index and id.
            if let Some(oi) = e.get("output_index") {
                let item = &w["output"][oi.as_u64().unwrap() as usize];
                if let Some(id) = e.get("item_id") {
                    assert_eq!(id, &item["id"]);
                }
            }
        }
        let head = &events[0].1["response"];
        assert_eq!(events[0].0, "response.created");
        assert_eq!(events[1].0, "response.in_progress");
        assert_eq!(head["status"], "in_progress");
        assert_eq!(head["output"], json!([]));
        assert_eq!(head["usage"], Value::Null);
        assert_eq!(head["incomplete_details"], Value::Null);
        assert_eq!(head["id"], w["id"]);
        assert_eq!(head["model"], w["model"]);
        assert_eq!(events[1].1["response"], *head);
    }
}

/// A stream as the API sends it: text, arguments and summary in small deltas.
fn provider_stream(w: &Value) -> Vec<(String, Value)> {
    let mut seq = 0;
    let mut events = Vec::new();
    let mut ev = |kind: &str, mut data: Value| {
        data["type"] = json!(kind);
        data["sequence_number"] = json!(seq);
        seq += 1;
        events.push((kind.to_owned(), data));
    };
    let mut head = w.clone();
    head["status"] = json!("in_progress");
    head["output"] = json!([]);
    head["usage"] = Value::Null;
    ev("response.created", json!({ "response": head }));
    ev("response.in_progress", json!({ "response": head }));
    let (rs, msg, fc) = (&w["output"][0], &w["output"][1], &w["output"][2]);
    ev(
        "response.output_item.added",
        json!({"output_index": 0, "item": {"id": rs["id"], "type": "reasoning", "summary": []}}),
    );
    let s = json!({"item_id": rs["id"], "output_index": 0, "summary_index": 0});
    let mut part = s.clone();
    part["part"] = json!({"type": "summary_text", "text": ""});
    ev("response.reasoning_summary_part.added", part);
    for piece in ["**Weather**", "\n\nThe user", " wants Köln."] {
        let mut d = s.clone();
        d["delta"] = json!(piece);
        ev("response.reasoning_summary_text.delta", d);
    }
    let mut d = s.clone();
    d["text"] = rs["summary"][0]["text"].clone();
    ev("response.reasoning_summary_text.done", d);
    let mut d = s.clone();
    d["part"] = rs["summary"][0].clone();
    ev("response.reasoning_summary_part.done", d);
    ev(
        "response.output_item.done",
        json!({"output_index": 0, "item": rs}),
    );
    ev(
        "response.output_item.added",
        json!({"output_index": 1, "item": {"id": msg["id"], "type": "message",
            "status": "in_progress", "role": "assistant", "content": []}}),
    );
    let c = json!({"item_id": msg["id"], "output_index": 1, "content_index": 0});
    let mut d = c.clone();
    d["part"] = json!({"type": "output_text", "text": "", "annotations": [], "logprobs": []});
    ev("response.content_part.added", d);
    for piece in ["Let me", " look \"", "that\"", " up 🌦\n"] {
        let mut d = c.clone();
        d["delta"] = json!(piece);
        d["logprobs"] = json!([]);
        d["obfuscation"] = json!("x1y2");
        ev("response.output_text.delta", d);
    }
    let mut d = c.clone();
    d["text"] = msg["content"][0]["text"].clone();
    d["logprobs"] = json!([]);
    ev("response.output_text.done", d);
    let mut d = c.clone();
    d["part"] = msg["content"][0].clone();
    ev("response.content_part.done", d);
    ev(
        "response.output_item.done",
        json!({"output_index": 1, "item": msg}),
    );
    ev(
        "response.output_item.added",
        json!({"output_index": 2, "item": {"id": fc["id"], "type": "function_call",
            "status": "in_progress", "arguments": "", "call_id": fc["call_id"], "name": fc["name"]}}),
    );
    for piece in ["{\"", "city", "\":\"Kö", "ln\"}"] {
        ev(
            "response.function_call_arguments.delta",
            json!({"item_id": fc["id"], "output_index": 2, "delta": piece}),
        );
    }
    ev(
        "response.function_call_arguments.done",
        json!({"item_id": fc["id"], "output_index": 2, "arguments": fc["arguments"]}),
    );
    ev(
        "response.output_item.done",
        json!({"output_index": 2, "item": fc}),
    );
    ev("response.completed", json!({ "response": w }));
    events
}

fn provider_whole() -> Value {
    json!({"id": "resp_9", "object": "response", "created_at": 1_750_000_000,
        "status": "completed", "error": null, "incomplete_details": null, "model": "o4-mini",
        "output": [
            {"id": "rs_9", "type": "reasoning",
                "summary": [{"type": "summary_text", "text": "**Weather**\n\nThe user wants Köln."}]},
            {"id": "msg_9", "type": "message", "status": "completed", "role": "assistant",
                "content": [{"type": "output_text", "text": "Let me look \"that\" up 🌦\n",
                    "annotations": [], "logprobs": []}]},
            {"id": "fc_9", "type": "function_call", "status": "completed", "call_id": "call_9",
                "name": "get_weather", "arguments": "{\"city\":\"Köln\"}"}],
        "usage": {"input_tokens": 81, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 220, "output_tokens_details": {"reasoning_tokens": 192},
            "total_tokens": 301}})
}

#[test]
fn a_provider_stream_cut_into_small_deltas_gathers_whole() {
    let w = provider_whole();
    let events = provider_stream(&w);
    // The deltas are this answer's: a client building from them sees it.
    assert_eq!(json!(rebuild(&events)), w["output"]);
    assert_eq!(gather(&events), Some(w.clone()));
    // A final response that leaves its output out: the done items make it.
    let mut bare = events.clone();
    bare.last_mut().unwrap().1["response"]["output"] = json!([]);
    assert_eq!(gather(&bare), Some(w.clone()));
    // An incomplete response is whole too.
    let mut cut = w.clone();
    cut["status"] = json!("incomplete");
    cut["incomplete_details"] = json!({"reason": "max_output_tokens"});
    let mut events = events;
    let last = events.last_mut().unwrap();
    last.1["type"] = json!("response.incomplete");
    last.1["response"] = cut.clone();
    assert_eq!(gather(&events), Some(cut));
}

#[test]
fn unfinished_or_failed_streams_give_no_answer() {
    let w = provider_whole();
    let events = provider_stream(&w);
    let n = events.len();
    // Cut off before the final response, or in the middle.
    assert_eq!(gather(&events[..n - 1]), None);
    assert_eq!(gather(&events[..n / 2]), None);
    // The final response without output, and an item added but never done.
    let mut bare = events.clone();
    bare.last_mut().unwrap().1["response"]["output"] = json!([]);
    let undone: Vec<(String, Value)> = bare
        .into_iter()
        .filter(|(k, e)| !(k == "response.output_item.done" && e["output_index"] == 2))
        .collect();
    assert_eq!(gather(&undone), None);
    // A failed response, or an error event.
    let mut failed = w.clone();
    failed["status"] = json!("failed");
    failed["error"] = json!({"code": "server_error", "message": "The model failed."});
    let failed = json!({"type": "response.failed", "sequence_number": n, "response": failed});
    let error = json!({"type": "error", "sequence_number": n, "code": "rate_limit_exceeded",
        "message": "Slow down.", "param": null});
    for bad in [
        failed.to_string(),
        error.to_string(),
        r#"{"error": {"message": "upstream gone"}}"#.to_owned(),
        "not json".to_owned(),
    ] {
        let mut g = Gather::default();
        for (_, e) in &events[..n - 1] {
            assert!(g.push(&e.to_string()));
        }
        assert!(!g.push(&bad), "{bad}");
        // Nothing after it makes the answer whole again.
        assert!(!g.push(&events[n - 1].1.to_string()));
        assert_eq!(g.finish(), None, "{bad}");
    }
    // A completed event whose response is not finished, or that carries none.
    let mut g = Gather::default();
    let mut r = w.clone();
    r["status"] = json!("in_progress");
    assert!(!g.push(&json!({"type": "response.completed", "response": r}).to_string()));
    assert_eq!(g.finish(), None);
    let mut g = Gather::default();
    assert!(!g.push(r#"{"type": "response.completed", "sequence_number": 3}"#));
    assert_eq!(g.finish(), None);
    assert_eq!(Gather::default().finish(), None);
}
