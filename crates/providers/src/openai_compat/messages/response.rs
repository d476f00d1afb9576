//! OpenAI chat completion → Anthropic Message.

use super::{stop_reason, usage};
use serde_json::{json, Value};

/// Converts a chat completion body into a Message.
pub fn to_message(c: &Value) -> Value {
    let choice = c.pointer("/choices/0").unwrap_or(&Value::Null);
    let m = choice.get("message").unwrap_or(&Value::Null);
    let mut content = Vec::new();
    let signed = m.get("thinking_blocks").and_then(Value::as_array);
    if let Some(blocks) = signed.filter(|b| !b.is_empty()) {
        // Signed thinking, as the model wrote it (an Anthropic-family model behind a chat step).
        content.extend(blocks.iter().cloned());
    } else if let Some(r) = m
        .get("reasoning_content")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
    {
        content.push(json!({"type": "thinking", "thinking": r, "signature": ""}));
    }
    if let Some(t) = m
        .get("content")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        content.push(json!({"type": "text", "text": t}));
    }
    for call in m
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let args = call
            .pointer("/function/arguments")
            .and_then(Value::as_str)
            .unwrap_or("{}");
        let input: Value = serde_json::from_str(args).unwrap_or_else(|_| json!({}));
        content.push(json!({"type": "tool_use", "id": call.get("id"), "name": call.pointer("/function/name"), "input": input}));
    }
    let id = c.get("id").and_then(Value::as_str).unwrap_or("");
    json!({
        "id": if id.starts_with("msg_") { id.to_owned() } else { format!("msg_{id}") },
        "type": "message",
        "role": "assistant",
        "model": c.get("model"),
        "content": content,
        "stop_reason": stop_reason(choice.get("finish_reason").and_then(Value::as_str)),
        "stop_sequence": null,
        "usage": usage(c.get("usage").unwrap_or(&Value::Null)),
    })
}
