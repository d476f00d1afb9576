//! Bedrock Converse response → OpenAI chat completion.

use super::{finish_reason, usage};
use crate::translate::JSON_TOOL;
use serde_json::{json, Value};

/// Converts a Converse response; Converse names neither the answer nor the model, so `id` and
/// `model` come from the gateway.
pub fn to_openai(resp: &Value, id: &str, model: &str, created: u64) -> Value {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut thinking = Vec::new();
    let mut calls = Vec::new();
    let mut json_answer = false;
    for b in resp
        .pointer("/output/message/content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(t) = b.get("text").and_then(Value::as_str) {
            text.push_str(t);
        } else if let Some(u) = b
            .get("toolUse")
            .filter(|u| u.get("name").and_then(Value::as_str) == Some(JSON_TOOL))
        {
            json_answer = true;
            text.push_str(
                &u.get("input")
                    .map_or_else(|| "{}".to_owned(), Value::to_string),
            );
        } else if let Some(u) = b.get("toolUse") {
            calls.push(json!({
                "id": u.get("toolUseId"),
                "type": "function",
                "function": {
                    "name": u.get("name"),
                    "arguments": u.get("input").map_or_else(|| "{}".to_owned(), Value::to_string),
                },
            }));
        } else if let Some(r) = b.get("reasoningContent") {
            let text = r.pointer("/reasoningText/text").and_then(Value::as_str);
            reasoning.push_str(text.unwrap_or(""));
            if let Some(sig) = r
                .pointer("/reasoningText/signature")
                .and_then(Value::as_str)
            {
                thinking.push(
                    json!({"type": "thinking", "thinking": text.unwrap_or(""), "signature": sig}),
                );
            } else if let Some(data) = r.get("redactedContent").and_then(Value::as_str) {
                thinking.push(json!({"type": "redacted_thinking", "data": data}));
            }
        }
    }
    let finish = if json_answer && calls.is_empty() {
        "stop"
    } else {
        finish_reason(resp.get("stopReason").and_then(Value::as_str))
    };
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
    if !thinking.is_empty() {
        // Signed, for the caller to send back (`thinking_blocks`, as for Anthropic).
        message["thinking_blocks"] = Value::Array(thinking);
    }
    json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish,
        }],
        "usage": usage(resp.get("usage").unwrap_or(&Value::Null)),
    })
}
