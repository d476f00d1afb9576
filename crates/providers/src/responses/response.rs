//! Chat completion → Response object.

use super::{custom_input, seal_thinking, usage, Echo};
use serde_json::{json, Value};

/// Output items for a finished chat message: reasoning, the message, then function calls.
pub fn output_items(id: &str, message: &Value, echo: &Echo) -> Vec<Value> {
    let mut out = Vec::new();
    let text = message
        .get("reasoning_content")
        .and_then(Value::as_str)
        .unwrap_or("");
    let thinking = message
        .get("thinking_blocks")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    if !text.is_empty() || !thinking.is_empty() {
        out.push(reasoning_item(id, text, thinking, echo));
    }
    if let Some(t) = message
        .get("content")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        out.push(json!({"type": "message", "id": format!("msg_{id}"), "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": t, "annotations": []}]}));
    }
    for (i, call) in message
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let name = call.pointer("/function/name").unwrap_or(&Value::Null);
        let arguments = call
            .pointer("/function/arguments")
            .and_then(Value::as_str)
            .unwrap_or("{}");
        out.push(if echo.is_custom(name) {
            json!({"type": "custom_tool_call", "id": format!("ctc_{id}_{i}"), "status": "completed",
                "call_id": call.get("id"), "name": name, "input": custom_input(arguments)})
        } else {
            json!({"type": "function_call", "id": format!("fc_{id}_{i}"), "status": "completed",
                "call_id": call.get("id"), "name": name, "arguments": arguments})
        });
    }
    out
}

/// A reasoning item: the reasoning text as its summary and, when the caller asked for it, the
/// signed thinking as `encrypted_content`.
pub fn reasoning_item(id: &str, text: &str, thinking: &[Value], echo: &Echo) -> Value {
    let summary: Vec<Value> = if text.is_empty() {
        Vec::new()
    } else {
        vec![json!({"type": "summary_text", "text": text})]
    };
    let mut item = json!({"type": "reasoning", "id": format!("rs_{id}"), "summary": summary});
    if echo.encrypted_reasoning && !thinking.is_empty() {
        item["encrypted_content"] = json!(seal_thinking(thinking));
    }
    item
}

/// `status` and `incomplete_details` for a finish reason.
pub fn status(finish: Option<&str>) -> (&'static str, Value) {
    match finish {
        Some("length") => ("incomplete", json!({"reason": "max_output_tokens"})),
        Some("content_filter") => ("incomplete", json!({"reason": "content_filter"})),
        _ => ("completed", Value::Null),
    }
}

pub fn to_response(chat: &Value, echo: &Echo, created_at: u64) -> Value {
    let id = chat.get("id").and_then(Value::as_str).unwrap_or("");
    let choice = chat.pointer("/choices/0").unwrap_or(&Value::Null);
    let (st, incomplete) = status(choice.get("finish_reason").and_then(Value::as_str));
    let mut r = echo.response(
        &format!("resp_{id}"),
        chat.get("model").unwrap_or(&Value::Null),
        created_at,
        st,
    );
    r["output"] = Value::Array(output_items(
        id,
        choice.get("message").unwrap_or(&Value::Null),
        echo,
    ));
    r["incomplete_details"] = incomplete;
    r["usage"] = usage(chat.get("usage").unwrap_or(&Value::Null));
    r
}
