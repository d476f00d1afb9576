//! Responses ⇄ chat, with shapes from OpenAI's Responses and chat completions references.

use super::request::to_chat;
use super::response::to_response;
use super::stream::ResponsesTranslator;
use super::Echo;
use serde_json::{json, Value};

/// Responses stream frames as (event name, data).
fn parse_frames(frames: &[String]) -> Vec<(String, Value)> {
    frames
        .iter()
        .map(|f| {
            let (ev, data) = f.trim_end().split_once('\n').unwrap();
            (
                ev.trim_start_matches("event: ").to_owned(),
                serde_json::from_str(data.trim_start_matches("data: ")).unwrap(),
            )
        })
        .collect()
}

#[test]
fn codex_style_request_becomes_chat() {
    let req = json!({
        "model": "gpt-5", "instructions": "You are Codex.", "store": false, "stream": true,
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Fix the bug"}]},
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Looking."}]},
            {"type": "function_call", "call_id": "call_1", "name": "shell", "arguments": "{\"cmd\":\"ls\"}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "main.rs"}
        ],
        "tools": [{"type": "function", "name": "shell", "description": "Run", "parameters": {"type": "object"}, "strict": false}],
        "tool_choice": "auto", "parallel_tool_calls": false,
        "reasoning": {"effort": "high", "summary": "auto"},
        "max_output_tokens": 500,
        "include": ["reasoning.encrypted_content"],
        "text": {"format": {"type": "json_schema", "name": "out", "schema": {"type": "object"}, "strict": true}}
    });
    let mut fields = crate::translate::Fields::default();
    let out = to_chat(&req, "gpt-5", &mut fields).unwrap();
    // The encrypted reasoning it includes is carried (reasoning items' encrypted_content).
    assert_eq!(fields.dropped, ["reasoning.summary"]);
    assert_eq!(
        out,
        json!({
            "model": "gpt-5", "stream": true, "stream_options": {"include_usage": true}, "store": false,
            "tools": [{"type": "function", "function": {"name": "shell", "description": "Run", "parameters": {"type": "object"}, "strict": false}}],
            "tool_choice": "auto", "parallel_tool_calls": false, "reasoning_effort": "high", "max_tokens": 500,
            "response_format": {"type": "json_schema", "json_schema": {"name": "out", "schema": {"type": "object"}, "strict": true}},
            "messages": [
                {"role": "system", "content": "You are Codex."},
                {"role": "user", "content": "Fix the bug"},
                {"role": "assistant", "content": "Looking.", "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "shell", "arguments": "{\"cmd\":\"ls\"}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "main.rs"}
            ]
        })
    );
}

#[test]
fn stateful_features_are_refused_and_hosted_tools_left_out() {
    use crate::translate::{Fields, Policy};
    for field in ["previous_response_id", "conversation", "prompt"] {
        let mut req = json!({"model": "m", "input": "hi"});
        req[field] = json!("x_1");
        let e = to_chat(&req, "m", &mut Fields::default()).unwrap_err();
        assert_eq!(e.param.as_deref(), Some(field));
    }
    let e = to_chat(
        &json!({"model": "m", "input": "hi", "background": true}),
        "m",
        &mut Fields::default(),
    )
    .unwrap_err();
    assert_eq!(e.param.as_deref(), Some("background"));
    // Hosted tools cannot run through chat: left out and named, unless forced.
    let req = json!({"model": "m", "input": "hi", "tools": [
        {"type": "web_search", "external_web_access": false},
        {"type": "tool_search", "execution": "client"},
        {"type": "function", "name": "f", "parameters": {"type": "object"}}]});
    let mut fields = Fields::default();
    let out = to_chat(&req, "m", &mut fields).unwrap();
    assert_eq!(fields.dropped, ["tools[0]", "tools[1]"]);
    assert_eq!(out["tools"].as_array().map(Vec::len), Some(1));
    let mut forced = req.clone();
    forced["tool_choice"] = json!({"type": "web_search"});
    let e = to_chat(&forced, "m", &mut Fields::default()).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("tools[0]"));
    let e = to_chat(&req, "m", &mut Fields::new(Policy::Strict)).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("tools[0]"));
    assert!(to_chat(
        &json!({"model": "m", "input": "hi", "previous_response_id": null}),
        "m",
        &mut Fields::default()
    )
    .is_ok());
}

/// The fields Codex 0.169.0 sends (../shared/agent-clis.md), custom tool calls in its history.
#[test]
fn a_codex_request_is_carried_with_its_bookkeeping_named() {
    use crate::translate::Fields;
    let req = json!({
        "model": "up-openai/gpt-5.5", "stream": true, "store": false,
        "tool_choice": "auto", "parallel_tool_calls": true,
        "reasoning": {"effort": "medium"}, "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "thread-1", "text": {"verbosity": "low"},
        "client_metadata": {"turn": "1"},
        "input": [
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "rules"}]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "patch it"}]},
            {"type": "custom_tool_call", "id": "ctc_1", "call_id": "call_9", "name": "apply_patch", "input": "*** Begin Patch"},
            {"type": "custom_tool_call_output", "call_id": "call_9", "output": "Done"}
        ],
        "tools": [{"type": "function", "name": "exec_command", "parameters": {"type": "object"}}]
    });
    let mut fields = Fields::default();
    let out = to_chat(&req, "gpt-5.5", &mut fields).unwrap();
    assert_eq!(fields.dropped, ["client_metadata"]);
    assert_eq!(out["prompt_cache_key"], "thread-1");
    assert_eq!(out["verbosity"], "low");
    assert_eq!(out["reasoning_effort"], "medium");
    assert_eq!(
        out["messages"][2],
        json!({"role": "assistant", "content": null, "tool_calls": [{"id": "call_9", "type": "function",
            "function": {"name": "apply_patch", "arguments": "{\"input\":\"*** Begin Patch\"}"}}]})
    );
    assert_eq!(
        out["messages"][3],
        json!({"role": "tool", "tool_call_id": "call_9", "content": "Done"})
    );
}

#[test]
fn chat_completion_becomes_response() {
    let chat = json!({"id": "c1", "model": "gpt-5", "choices": [{"index": 0, "finish_reason": "tool_calls",
        "message": {"role": "assistant", "content": "Running.", "tool_calls": [
            {"id": "call_7", "type": "function", "function": {"name": "shell", "arguments": "{}"}}]}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}});
    let echo = Echo::from_request(&json!({"tools": [], "instructions": "x"}));
    let r = to_response(&chat, &echo, 100);
    assert_eq!(r["id"], "resp_c1");
    assert_eq!(r["object"], "response");
    assert_eq!(r["status"], "completed");
    assert_eq!(r["instructions"], "x");
    assert_eq!(
        r["output"][0]["content"][0],
        json!({"type": "output_text", "text": "Running.", "annotations": []})
    );
    assert_eq!(r["output"][1]["type"], "function_call");
    assert_eq!(r["output"][1]["call_id"], "call_7");
    assert_eq!(r["usage"]["input_tokens"], 10);
    assert_eq!(r["usage"]["total_tokens"], 15);
    let cut = json!({"id": "c2", "choices": [{"finish_reason": "length", "message": {"content": "Partial"}}]});
    let r = to_response(&cut, &echo, 1);
    assert_eq!(
        (r["status"].as_str(), &r["incomplete_details"]),
        (Some("incomplete"), &json!({"reason": "max_output_tokens"}))
    );
}

#[test]
fn chunks_become_response_events() {
    let mut t = ResponsesTranslator::new(Echo::default(), 1);
    let ch = |delta: Value, finish: Value| {
        json!({"id": "c3", "model": "gpt-5", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}).to_string()
    };
    let mut frames = Vec::new();
    for d in [
        ch(json!({"role": "assistant", "content": ""}), Value::Null),
        ch(json!({"content": "Hel"}), Value::Null),
        ch(json!({"content": "lo"}), Value::Null),
        ch(
            json!({"tool_calls": [{"index": 0, "id": "call_1", "function": {"name": "shell", "arguments": ""}}]}),
            Value::Null,
        ),
        ch(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"a\":1}"}}]}),
            Value::Null,
        ),
        ch(json!({}), json!("tool_calls")),
        json!({"id": "c3", "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4}})
            .to_string(),
        "[DONE]".to_owned(),
    ] {
        frames.extend(t.on_data(&d).unwrap());
    }
    assert!(t.ended());
    let events = parse_frames(&frames);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    let seqs: Vec<u64> = events
        .iter()
        .map(|(_, d)| d["sequence_number"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (0..14).collect::<Vec<u64>>());
    let done = &events[13].1["response"];
    assert_eq!(done["status"], "completed");
    assert_eq!(done["output"][0]["content"][0]["text"], "Hello");
    assert_eq!(done["output"][1]["arguments"], "{\"a\":1}");
    assert_eq!(done["output"][1]["call_id"], "call_1");
    assert_eq!(done["usage"]["output_tokens"], 4);
    assert_eq!(events[10].1["output_index"], 1);
}

/// Codex's `apply_patch` is a custom (freeform) tool with a Lark grammar: chat models get a
/// function taking one string, and their call comes back as a `custom_tool_call`.
#[test]
fn custom_tools_round_trip_as_one_string_functions() {
    use crate::translate::Fields;
    let req = json!({"model": "m", "input": "patch it", "tool_choice": {"type": "custom", "name": "apply_patch"},
        "tools": [{"type": "custom", "name": "apply_patch", "description": "Edit files.",
            "format": {"type": "grammar", "syntax": "lark", "definition": "start: \"*** Begin Patch\""}},
            {"type": "function", "name": "shell", "parameters": {"type": "object"}}]});
    let mut fields = Fields::default();
    let chat = to_chat(&req, "m", &mut fields).unwrap();
    assert_eq!(fields.dropped, ["tools[].format"]);
    let f = &chat["tools"][0]["function"];
    assert_eq!(f["name"], "apply_patch");
    assert_eq!(
        f["parameters"]["required"],
        json!(["input"]),
        "one string argument"
    );
    let description = f["description"].as_str().unwrap();
    assert!(description.starts_with("Edit files."), "{description}");
    assert!(description.contains("lark grammar:\nstart: \"*** Begin Patch\""));
    assert_eq!(
        chat["tool_choice"],
        json!({"type": "function", "function": {"name": "apply_patch"}})
    );

    // The answer, whole: the custom tool's call is a custom_tool_call with its input.
    let echo = Echo::from_request(&req);
    let answer = json!({"id": "c9", "model": "m", "choices": [{"index": 0, "finish_reason": "tool_calls",
        "message": {"role": "assistant", "content": null, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "apply_patch", "arguments": "{\"input\":\"*** Begin Patch\\n*** End Patch\"}"}},
            {"id": "call_2", "type": "function", "function": {"name": "shell", "arguments": "{}"}}]}}]});
    let r = to_response(&answer, &echo, 1);
    assert_eq!(
        r["output"][0],
        json!({"type": "custom_tool_call", "id": "ctc_c9_0", "status": "completed",
            "call_id": "call_1", "name": "apply_patch", "input": "*** Begin Patch\n*** End Patch"})
    );
    assert_eq!(r["output"][1]["type"], "function_call");

    // Streamed: the input comes whole when the call ends (the argument pieces wrap it in JSON).
    let mut t = ResponsesTranslator::new(echo, 1);
    let ch = |delta: Value, finish: Value| {
        json!({"id": "c9", "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}).to_string()
    };
    let mut frames = Vec::new();
    for d in [
        ch(json!({"role": "assistant", "content": ""}), Value::Null),
        ch(
            json!({"tool_calls": [{"index": 0, "id": "call_1", "function": {"name": "apply_patch", "arguments": "{\"inp"}}]}),
            Value::Null,
        ),
        ch(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "ut\":\"*** Begin Patch\"}"}}]}),
            Value::Null,
        ),
        ch(json!({}), json!("tool_calls")),
        "[DONE]".to_owned(),
    ] {
        frames.extend(t.on_data(&d).unwrap());
    }
    let events = parse_frames(&frames);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.custom_tool_call_input.delta",
            "response.custom_tool_call_input.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    assert_eq!(events[2].1["item"]["type"], "custom_tool_call");
    assert_eq!(events[4].1["input"], "*** Begin Patch");
    let done = &events[6].1["response"]["output"][0];
    assert_eq!(
        (&done["type"], &done["input"], &done["call_id"]),
        (
            &json!("custom_tool_call"),
            &json!("*** Begin Patch"),
            &json!("call_1")
        )
    );
}

/// Signed thinking (an Anthropic-family model behind the chat step) comes back as a reasoning
/// item whose `encrypted_content` holds it, streamed with its summary events, when the caller
/// includes `reasoning.encrypted_content`; sent back, it opens the assistant turn again.
#[test]
fn signed_thinking_round_trips_as_encrypted_reasoning() {
    let req = json!({"model": "m", "input": "go", "include": ["reasoning.encrypted_content"]});
    let echo = Echo::from_request(&req);
    let block = json!({"type": "thinking", "thinking": "plan", "signature": "sig-1"});
    let mut t = ResponsesTranslator::new(echo, 1);
    let ch = |delta: Value, finish: Value| {
        json!({"id": "c4", "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}).to_string()
    };
    let mut frames = Vec::new();
    for d in [
        ch(json!({"role": "assistant", "content": ""}), Value::Null),
        ch(json!({"reasoning_content": "pl"}), Value::Null),
        ch(json!({"reasoning_content": "an"}), Value::Null),
        ch(json!({"thinking_blocks": [block]}), Value::Null),
        ch(
            json!({"tool_calls": [{"index": 0, "id": "call_1", "function": {"name": "f", "arguments": "{}"}}]}),
            Value::Null,
        ),
        ch(json!({}), json!("tool_calls")),
        "[DONE]".to_owned(),
    ] {
        frames.extend(t.on_data(&d).unwrap());
    }
    let events = parse_frames(&frames);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names[2..9],
        [
            "response.output_item.added",
            "response.reasoning_summary_part.added",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.done",
            "response.reasoning_summary_part.done",
            "response.output_item.done",
        ]
    );
    let item = &events[8].1["item"];
    assert_eq!(item["summary"][0]["text"], "plan");
    let sealed = item["encrypted_content"].as_str().unwrap();
    let done = &events.last().unwrap().1["response"];
    assert_eq!(done["output"][0], *item);
    assert_eq!(done["output"][1]["type"], "function_call");
    assert_eq!(events[9].1["output_index"], 1);
    // The next turn sends the items back: the thinking opens the assistant turn of the call.
    let next = json!({"model": "m", "input": [
        {"type": "message", "role": "user", "content": "go"},
        {"type": "reasoning", "id": "rs_c4", "summary": [], "encrypted_content": sealed},
        {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "ok"},
        // Another model's reasoning cannot be used.
        {"type": "reasoning", "id": "rs_x", "summary": [], "encrypted_content": "gAAAAB-openai"}]});
    let chat = to_chat(&next, "m", &mut crate::translate::Fields::default()).unwrap();
    assert_eq!(
        chat["messages"][1],
        json!({"role": "assistant", "content": null, "thinking_blocks": [block],
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]})
    );
    assert_eq!(chat["messages"].as_array().unwrap().len(), 3);
    // Without `include`, the reasoning item has no encrypted_content.
    let plain = Echo::from_request(&json!({"model": "m", "input": "go"}));
    let chat_answer = json!({"id": "c5", "model": "m", "choices": [{"index": 0, "finish_reason": "stop",
        "message": {"role": "assistant", "content": "hi", "reasoning_content": "plan", "thinking_blocks": [block]}}]});
    let r = to_response(&chat_answer, &plain, 1);
    assert_eq!(r["output"][0]["summary"][0]["text"], "plan");
    assert!(r["output"][0].get("encrypted_content").is_none());
    let r = to_response(&chat_answer, &Echo::from_request(&req), 1);
    assert_eq!(r["output"][0]["encrypted_content"], sealed);
}
