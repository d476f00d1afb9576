//! Gemini GenerateContentResponse → OpenAI chat completion.

use super::{finish_reason, tool_call_id, usage};
use serde_json::{json, Value};

/// The chat completion id for a Gemini `responseId`.
pub fn completion_id(resp: &Value) -> String {
    format!(
        "chatcmpl-{}",
        resp.get("responseId")
            .and_then(Value::as_str)
            .unwrap_or("gemini")
    )
}

/// One candidate's message and whether it called a function.
fn message(candidate: &Value, id: &str, calls_so_far: &mut usize) -> (Value, bool) {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut tool_calls = Vec::new();
    for part in candidate
        .pointer("/content/parts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(call) = part.get("functionCall") {
            let base = format!("call_{id}_{}", *calls_so_far);
            *calls_so_far += 1;
            let sig = part.get("thoughtSignature").and_then(Value::as_str);
            tool_calls.push(json!({
                "id": tool_call_id(&base, sig),
                "type": "function",
                "function": {
                    "name": call.get("name").cloned().unwrap_or(Value::Null),
                    "arguments": call.get("args").map_or_else(|| "{}".to_owned(), Value::to_string),
                },
            }));
        } else if let Some(t) = part.get("text").and_then(Value::as_str) {
            if part.get("thought").and_then(Value::as_bool) == Some(true) {
                reasoning.push_str(t);
            } else {
                text.push_str(t);
            }
        }
    }
    let called = !tool_calls.is_empty();
    let mut m = json!({
        "role": "assistant",
        "content": if text.is_empty() && called { Value::Null } else { json!(text) },
        "refusal": null,
    });
    if called {
        m["tool_calls"] = Value::Array(tool_calls);
    }
    if !reasoning.is_empty() {
        m["reasoning_content"] = json!(reasoning);
    }
    (m, called)
}

/// Converts a response body; `created` is the Unix time to stamp it with.
pub fn to_openai(resp: &Value, created: u64) -> Value {
    let id = completion_id(resp);
    let short = resp
        .get("responseId")
        .and_then(Value::as_str)
        .unwrap_or("0");
    let mut calls = 0;
    let mut choices = Vec::new();
    for (i, c) in resp
        .get("candidates")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let (msg, called) = message(c, short, &mut calls);
        let index = c.get("index").and_then(Value::as_u64).unwrap_or(i as u64);
        choices.push(json!({
            "index": index,
            "message": msg,
            "logprobs": null,
            "finish_reason": finish_reason(c.get("finishReason").and_then(Value::as_str), called),
        }));
    }
    if choices.is_empty() {
        // The prompt itself was blocked (promptFeedback.blockReason): no candidates at all.
        choices.push(json!({
            "index": 0,
            "message": {"role": "assistant", "content": "", "refusal": null},
            "logprobs": null,
            "finish_reason": "content_filter",
        }));
    }
    json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": resp.get("modelVersion").cloned().unwrap_or(Value::Null),
        "choices": choices,
        "usage": usage(resp.get("usageMetadata").unwrap_or(&Value::Null)),
    })
}
