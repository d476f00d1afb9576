//! Anthropic Message → OpenAI chat completion.

use super::finish_reason;
use crate::translate::JSON_TOOL;
use serde_json::{json, Value};

/// OpenAI `usage` from Anthropic's, counting cached input as prompt tokens (as OpenAI does).
pub fn usage(u: &Value) -> Value {
    let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
    let cached = n("cache_read_input_tokens");
    let prompt = n("input_tokens") + cached + n("cache_creation_input_tokens");
    let completion = n("output_tokens");
    let written = n("cache_creation_input_tokens");
    let mut details = json!({"cached_tokens": cached});
    if written > 0 {
        // OpenAI has no field for it; without it the cost of a cache write (billed above the
        // input price) could not be told from the usage.
        details["cache_write_tokens"] = json!(written);
    }
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": details,
    })
}

/// Converts a Message body; `created` is the Unix time to stamp it with.
pub fn to_openai(msg: &Value, created: u64) -> Value {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut thinking = Vec::new();
    let mut tool_calls = Vec::new();
    for block in msg
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => text.push_str(block.get("text").and_then(Value::as_str).unwrap_or("")),
            Some("thinking") => {
                reasoning.push_str(block.get("thinking").and_then(Value::as_str).unwrap_or(""));
                thinking.push(block.clone());
            }
            Some("redacted_thinking") => thinking.push(block.clone()),
            Some("tool_use") if block.get("name").and_then(Value::as_str) == Some(JSON_TOOL) => {
                text.push_str(&block.get("input").map_or_else(|| "{}".to_owned(), Value::to_string));
            }
            Some("tool_use") => tool_calls.push(json!({
                "id": block.get("id").cloned().unwrap_or(Value::Null),
                "type": "function",
                "function": {
                    "name": block.get("name").cloned().unwrap_or(Value::Null),
                    "arguments": block.get("input").map_or_else(|| "{}".to_owned(), Value::to_string),
                },
            })),
            _ => {}
        }
    }
    let json_answer = tool_calls.is_empty()
        && msg
            .get("content")
            .and_then(Value::as_array)
            .is_some_and(|c| {
                c.iter()
                    .any(|b| b.get("name").and_then(Value::as_str) == Some(JSON_TOOL))
            });
    let mut message = json!({
        "role": "assistant",
        "content": if text.is_empty() && !tool_calls.is_empty() { Value::Null } else { json!(text) },
        "refusal": null,
    });
    if !tool_calls.is_empty() {
        message["tool_calls"] = Value::Array(tool_calls);
    }
    if !reasoning.is_empty() {
        message["reasoning_content"] = json!(reasoning);
    }
    if !thinking.is_empty() {
        // Signed, for the caller to send back: a tool-use turn with thinking on needs them.
        message["thinking_blocks"] = Value::Array(thinking);
    }
    json!({
        "id": msg.get("id").cloned().unwrap_or(Value::Null),
        "object": "chat.completion",
        "created": created,
        "model": msg.get("model").cloned().unwrap_or(Value::Null),
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": if json_answer { "stop" } else { finish_reason(msg.get("stop_reason").and_then(Value::as_str)) },
        }],
        "usage": usage(msg.get("usage").unwrap_or(&Value::Null)),
    })
}
