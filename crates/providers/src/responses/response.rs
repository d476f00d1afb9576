//! Chat completion → Response object.

use super::{custom_input, usage, Echo};
use serde_json::{json, Value};

/// Output items for a finished chat message: reasoning, the message, then function calls.
pub fn output_items(id: &str, message: &Value, echo: &Echo) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(r) = message
        .get("reasoning_content")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
    {
        out.push(json!({"type": "reasoning", "id": format!("rs_{id}"),
            "summary": [{"type": "summary_text", "text": r}]}));
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
