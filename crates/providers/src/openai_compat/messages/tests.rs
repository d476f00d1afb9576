//! Anthropic Messages → OpenAI chat and back, with shapes from both providers' API references.

use super::request::from_messages;
use super::response::to_message;
use super::stream::EventTranslator;
use serde_json::{json, Value};

#[test]
fn claude_code_style_request_becomes_chat() {
    let req = json!({
        "model": "gpt-4o", "max_tokens": 1024,
        "system": [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": "List files"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "s"},
                {"type": "text", "text": "Running ls."},
                {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "a.txt"}]},
                {"type": "text", "text": "Now read it"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}
            ]}
        ],
        "tools": [{"name": "Bash", "description": "Run a command", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}}],
        "tool_choice": {"type": "auto", "disable_parallel_tool_use": true},
        "stop_sequences": ["</done>"], "temperature": 0.2, "stream": true,
        "metadata": {"user_id": "u1"},
        "thinking": {"type": "enabled", "budget_tokens": 8000}
    });
    let out = from_messages(&req, "gpt-4o", &mut crate::translate::Fields::default()).unwrap();
    assert_eq!(
        out,
        json!({
            "model": "gpt-4o", "max_tokens": 1024, "stop": ["</done>"], "temperature": 0.2,
            "stream": true, "stream_options": {"include_usage": true}, "user": "u1",
            "reasoning_effort": "medium",
            "tools": [{"type": "function", "function": {"name": "Bash", "description": "Run a command",
                "parameters": {"type": "object", "properties": {"command": {"type": "string"}}}}}],
            "tool_choice": "auto", "parallel_tool_calls": false,
            "messages": [
                {"role": "system", "content": "You are Claude Code."},
                {"role": "user", "content": "List files"},
                {"role": "assistant", "content": "Running ls.", "tool_calls": [
                    {"id": "toolu_1", "type": "function", "function": {"name": "Bash", "arguments": "{\"command\":\"ls\"}"}}],
                    "thinking_blocks": [{"type": "thinking", "thinking": "hmm", "signature": "s"}]},
                {"role": "tool", "tool_call_id": "toolu_1", "content": "a.txt"},
                {"role": "user", "content": [
                    {"type": "text", "text": "Now read it"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}
            ]
        })
    );
}

#[test]
fn server_tools_and_unknown_fields_are_left_out_and_named() {
    use crate::translate::{Fields, Policy};
    let req = json!({"model": "m", "max_tokens": 1, "messages": [], "container": "x",
        "tools": [{"type": "web_search_20250305", "name": "web_search"},
                  {"name": "f", "input_schema": {"type": "object"}}]});
    let mut fields = Fields::default();
    let out = from_messages(&req, "m", &mut fields).unwrap();
    assert_eq!(fields.dropped, ["container", "tools[0]"]);
    assert_eq!(out["tools"].as_array().map(Vec::len), Some(1));
    assert!(out.get("container").is_none());
    // Nothing is left out under the strict policy.
    let e = from_messages(&req, "m", &mut Fields::new(Policy::Strict)).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("container"));
    // A server tool that tool_choice forces is the answer's substance: a 400.
    let forced = json!({"model": "m", "max_tokens": 1, "messages": [],
        "tools": [{"type": "web_search_20250305", "name": "web_search"}],
        "tool_choice": {"type": "tool", "name": "web_search"}});
    let e = from_messages(&forced, "m", &mut Fields::default()).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("tools[0]"));
    let mut lenient = Fields::new(Policy::Lenient);
    assert!(from_messages(&forced, "m", &mut lenient).is_ok());
    assert_eq!(lenient.dropped, ["tools[0]"]);
    let mcp = json!({"model": "m", "max_tokens": 1, "messages": [],
        "mcp_servers": [{"type": "url", "url": "https://mcp.example", "name": "x"}]});
    let e = from_messages(&mcp, "m", &mut Fields::default()).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("mcp_servers"));
}

/// The shape Claude Code 2.1.330 sends for a model it does not know (../shared/agent-clis.md).
#[test]
fn a_claude_code_request_is_carried_with_its_hints_named() {
    use crate::translate::Fields;
    let req = json!({
        "model": "up-openai/mock-model", "max_tokens": 32000, "stream": true,
        "metadata": {"user_id": "{\"device_id\":\"d\",\"session_id\":\"s\"}"},
        "thinking": {"type": "adaptive", "display": "omitted"},
        "output_config": {"effort": "high"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "system": [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}],
        "tools": [
            {"name": "Bash", "description": "Run", "input_schema": {"type": "object"}},
            {"name": "Later", "description": "Deferred", "input_schema": {"type": "object"}, "defer_loading": true},
            {"name": "Write", "description": "Write", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}}
        ],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "make a.txt", "cache_control": {"type": "ephemeral"}}]},
            {"role": "system", "content": "<env>cwd: /tmp/x</env>"}
        ]
    });
    let mut fields = Fields::default();
    let out = from_messages(&req, "mock-model", &mut fields).unwrap();
    assert_eq!(out["reasoning_effort"], "high");
    assert_eq!(out["user"], req["metadata"]["user_id"]);
    assert_eq!(out["max_tokens"], 32000);
    assert_eq!(
        out["messages"],
        json!([
            {"role": "system", "content": "You are Claude Code."},
            {"role": "user", "content": "make a.txt"},
            {"role": "system", "content": "<env>cwd: /tmp/x</env>"}
        ])
    );
    let names: Vec<&Value> = out["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["function"]["name"])
        .collect();
    assert_eq!(
        names,
        ["Bash", "Later", "Write"],
        "deferred tools are sent inline"
    );
    let mut dropped = fields.dropped.clone();
    dropped.sort();
    assert_eq!(
        dropped,
        [
            "context_management",
            "messages[].content[].cache_control",
            "system[].cache_control",
            "tools[].cache_control",
            "tools[].defer_loading"
        ]
    );
}

#[test]
fn completion_with_tool_call_becomes_message() {
    let c = json!({"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": "Checking.",
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120, "prompt_tokens_details": {"cached_tokens": 40}}});
    let m = to_message(&c);
    assert_eq!(m["id"], "msg_chatcmpl-1");
    assert_eq!(m["type"], "message");
    assert_eq!(
        m["content"],
        json!([
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}])
    );
    assert_eq!(m["stop_reason"], "tool_use");
    assert_eq!(
        m["usage"],
        json!({"input_tokens": 60, "output_tokens": 20, "cache_read_input_tokens": 40, "cache_creation_input_tokens": 0})
    );
}

fn run(chunks: &[Value]) -> Vec<(String, Value)> {
    let mut t = EventTranslator::new();
    let mut frames = Vec::new();
    for c in chunks {
        let data = if c == &json!("[DONE]") {
            "[DONE]".to_owned()
        } else {
            c.to_string()
        };
        frames.extend(t.on_data(&data).unwrap());
    }
    assert!(t.ended());
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

fn chunk(delta: Value, finish: Value) -> Value {
    json!({"id": "c1", "object": "chat.completion.chunk", "model": "gpt-4o",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

#[test]
fn streamed_text_and_tool_call_become_the_event_sequence() {
    let frames = run(&[
        chunk(json!({"role": "assistant", "content": ""}), Value::Null),
        chunk(json!({"content": "Let me "}), Value::Null),
        chunk(json!({"content": "check."}), Value::Null),
        chunk(
            json!({"tool_calls": [{"index": 0, "id": "call_9", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}),
            Value::Null,
        ),
        chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]}),
            Value::Null,
        ),
        chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "\"Paris\"}"}}]}),
            Value::Null,
        ),
        chunk(json!({}), json!("tool_calls")),
        json!({"id": "c1", "object": "chat.completion.chunk", "model": "gpt-4o", "choices": [],
            "usage": {"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21}}),
        json!("[DONE]"),
    ]);
    let names: Vec<&str> = frames.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "message_start",
            "ping",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    assert_eq!(frames[0].1["message"]["id"], "msg_c1");
    assert_eq!(
        frames[3].1["delta"],
        json!({"type": "text_delta", "text": "Let me "})
    );
    assert_eq!(
        frames[6].1["content_block"],
        json!({"type": "tool_use", "id": "call_9", "name": "get_weather", "input": {}})
    );
    assert_eq!(frames[6].1["index"], 1);
    let args: String = frames
        .iter()
        .filter_map(|(_, d)| d.pointer("/delta/partial_json").and_then(Value::as_str))
        .collect();
    assert_eq!(args, "{\"city\":\"Paris\"}");
    assert_eq!(frames[10].1["delta"]["stop_reason"], "tool_use");
    assert_eq!(frames[10].1["usage"]["output_tokens"], 9);
    assert_eq!(frames[10].1["usage"]["input_tokens"], 12);
}

#[test]
fn upstream_error_chunk_is_reported() {
    let mut t = EventTranslator::new();
    let e = t
        .on_data(r#"{"error":{"message":"boom","type":"server_error"}}"#)
        .unwrap_err();
    assert_eq!(e, ("api_error".to_owned(), "boom".to_owned()));
}

/// Signed thinking from an Anthropic-family model behind the chat step (`thinking_blocks`)
/// reaches a Messages caller as thinking blocks with their signatures, whole and streamed.
#[test]
fn signed_thinking_reaches_messages_callers() {
    let block = json!({"type": "thinking", "thinking": "plan", "signature": "sig-1"});
    let chat = json!({"id": "c1", "model": "m", "choices": [{"index": 0, "finish_reason": "stop",
        "message": {"role": "assistant", "content": "hi", "reasoning_content": "plan",
            "thinking_blocks": [block, {"type": "redacted_thinking", "data": "opaque"}]}}]});
    let m = to_message(&chat);
    assert_eq!(m["content"][0], block);
    assert_eq!(m["content"][1]["type"], "redacted_thinking");
    assert_eq!(m["content"][2], json!({"type": "text", "text": "hi"}));
    let mut t = EventTranslator::new();
    let ch = |delta: Value| {
        json!({"id": "c1", "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": null}]}).to_string()
    };
    let mut frames = Vec::new();
    for d in [
        ch(json!({"reasoning_content": "plan"})),
        ch(json!({"thinking_blocks": [block]})),
        ch(json!({"content": "hi"})),
    ] {
        frames.extend(t.on_data(&d).unwrap());
    }
    let deltas: Vec<Value> = frames
        .iter()
        .filter_map(|f| {
            f.split_once("data: ")
                .map(|(_, d)| serde_json::from_str::<Value>(d.trim()).unwrap())
        })
        .filter(|d| d["type"] == "content_block_delta" || d["type"] == "content_block_stop")
        .collect();
    assert_eq!(
        deltas[0]["delta"],
        json!({"type": "thinking_delta", "thinking": "plan"})
    );
    assert_eq!(
        deltas[1]["delta"],
        json!({"type": "signature_delta", "signature": "sig-1"})
    );
    assert_eq!(deltas[2], json!({"type": "content_block_stop", "index": 0}));
    assert_eq!(deltas[3]["index"], 1);
}

/// A tool result's image (Claude Code reading an image file) is not lost: a chat tool message
/// holds only text, so the image follows in the turn's user message, labelled with its call.
#[test]
fn tool_result_images_follow_in_the_user_turn() {
    let req = json!({"model": "m", "max_tokens": 10, "messages": [
        {"role": "user", "content": "look"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": [
            {"type": "text", "text": "a.png"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}]}]}]});
    let out = from_messages(&req, "m", &mut crate::translate::Fields::default()).unwrap();
    assert_eq!(
        out["messages"][2],
        json!({"role": "tool", "tool_call_id": "toolu_1", "content": "a.png"})
    );
    assert_eq!(
        out["messages"][3],
        json!({"role": "user", "content": [
            {"type": "text", "text": "(image from the result of tool call toolu_1)"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]})
    );
}

/// Parallel calls whose argument deltas interleave (as OpenAI-compatible hosts may send them)
/// reach a Messages caller as blocks one after another: the first streams, the others follow
/// whole; no block gets a delta after its stop.
#[test]
fn interleaved_parallel_calls_become_sequential_blocks() {
    let mut t = EventTranslator::new();
    let ch = |delta: Value, finish: Value| {
        json!({"id": "c1", "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}).to_string()
    };
    let call = |i: u64, id: &str| json!({"tool_calls": [{"index": i, "id": id, "type": "function", "function": {"name": "f", "arguments": ""}}]});
    let args =
        |i: u64, a: &str| json!({"tool_calls": [{"index": i, "function": {"arguments": a}}]});
    let mut frames = Vec::new();
    for d in [
        ch(call(0, "c_a"), Value::Null),
        ch(call(1, "c_b"), Value::Null),
        ch(args(0, "{\"x\":"), Value::Null),
        ch(args(1, "{\"x\":"), Value::Null),
        ch(args(0, "1}"), Value::Null),
        ch(args(1, "2}"), Value::Null),
        ch(json!({}), json!("tool_calls")),
        "[DONE]".to_owned(),
    ] {
        frames.extend(t.on_data(&d).unwrap());
    }
    let events: Vec<Value> = frames
        .iter()
        .filter_map(|f| {
            f.split_once("data: ")
                .map(|(_, d)| serde_json::from_str::<Value>(d.trim()).unwrap())
        })
        .collect();
    let mut open: Option<u64> = None;
    let mut inputs: Vec<(Value, String)> = Vec::new();
    for e in &events {
        let index = e["index"].as_u64();
        match e["type"].as_str().unwrap() {
            "content_block_start" => {
                assert_eq!(open, None, "a block opened inside another: {events:?}");
                open = index;
                inputs.push((e["content_block"]["id"].clone(), String::new()));
            }
            "content_block_delta" => {
                assert_eq!(open, index, "a delta outside its block: {events:?}");
                inputs.last_mut().unwrap().1 += e["delta"]["partial_json"].as_str().unwrap();
            }
            "content_block_stop" => {
                assert_eq!(open, index);
                open = None;
            }
            _ => {}
        }
    }
    assert_eq!(
        inputs,
        [
            (json!("c_a"), "{\"x\":1}".to_owned()),
            (json!("c_b"), "{\"x\":2}".to_owned())
        ]
    );
}
