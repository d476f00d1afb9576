//! Cohere v2 chat response → OpenAI chat completion.

use super::{finish_reason, usage};
use serde_json::{json, Value};

/// Converts a chat response body; `model` is the upstream model (Cohere does not echo it).
pub fn to_openai(resp: &Value, model: &str, created: u64) -> Value {
    let msg = resp.get("message").unwrap_or(&Value::Null);
    let mut text = String::new();
    let mut reasoning = String::new();
    if let Some(plan) = msg.get("tool_plan").and_then(Value::as_str) {
        reasoning.push_str(plan);
    }
    match msg.get("content") {
        Some(Value::String(s)) => text.push_str(s),
        Some(Value::Array(blocks)) => {
            for b in blocks {
                match b.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        text.push_str(b.get("text").and_then(Value::as_str).unwrap_or(""))
                    }
                    Some("thinking") => {
                        reasoning.push_str(b.get("thinking").and_then(Value::as_str).unwrap_or(""))
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    let calls: Vec<Value> = msg
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            json!({"id": c.get("id"), "type": "function", "function": {
                "name": c.pointer("/function/name"),
                "arguments": c.pointer("/function/arguments").cloned().unwrap_or(json!("{}")),
            }})
        })
        .collect();
    let mut message = json!({
        "role": "assistant",
        "content": if text.is_empty() && !calls.is_empty() { Value::Null } else { json!(text) },
        "refusal": null,
    });
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    if !reasoning.is_empty() {
        message["reasoning_content"] = json!(reasoning);
    }
    json!({
        "id": resp.get("id").cloned().unwrap_or(Value::Null),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason(resp.get("finish_reason").and_then(Value::as_str)),
        }],
        "usage": usage(resp.get("usage").unwrap_or(&Value::Null)),
    })
}
