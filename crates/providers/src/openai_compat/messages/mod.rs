//! Anthropic Messages requests served by an OpenAI-compatible provider: the Messages body is
//! turned into a chat completion request, and the answer (streamed or not) back into a Message.
//! This is what lets Anthropic-speaking clients such as Claude Code run on any model.

pub mod request;
pub mod response;
pub mod stream;

/// Anthropic stop_reason for an OpenAI finish_reason.
pub fn stop_reason(finish: Option<&str>) -> &'static str {
    match finish {
        Some("length") => "max_tokens",
        Some("tool_calls" | "function_call") => "tool_use",
        Some("content_filter") => "refusal",
        _ => "end_turn",
    }
}

/// Anthropic usage from OpenAI's: cached prompt tokens count as cache reads.
pub fn usage(u: &serde_json::Value) -> serde_json::Value {
    let n = |p: &str| {
        u.pointer(p)
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0)
    };
    let cached = n("/prompt_tokens_details/cached_tokens");
    serde_json::json!({
        "input_tokens": n("/prompt_tokens").saturating_sub(cached),
        "output_tokens": n("/completion_tokens"),
        "cache_read_input_tokens": cached,
        "cache_creation_input_tokens": 0,
    })
}

#[cfg(test)]
mod tests;
