//! OpenAI's Responses API as an inbound API, served through chat completions: requests become
//! chat requests (which every provider adapter already speaks), and chat answers, streamed or
//! not, become Response objects and Responses stream events. Stateless: `store` is not kept and
//! `previous_response_id` is refused.

pub mod request;
pub mod response;
pub mod stream;

use serde_json::{json, Value};

/// Responses `usage` from chat usage.
pub fn usage(u: &Value) -> Value {
    let n = |p: &str| u.pointer(p).and_then(Value::as_u64).unwrap_or(0);
    json!({
        "input_tokens": n("/prompt_tokens"),
        "input_tokens_details": {"cached_tokens": n("/prompt_tokens_details/cached_tokens")},
        "output_tokens": n("/completion_tokens"),
        "output_tokens_details": {"reasoning_tokens": n("/completion_tokens_details/reasoning_tokens")},
        "total_tokens": n("/prompt_tokens") + n("/completion_tokens"),
    })
}

/// What the request asked for that the Response object echoes back.
#[derive(Debug, Clone, Default)]
pub struct Echo {
    pub tools: Value,
    pub tool_choice: Value,
    pub parallel_tool_calls: bool,
    pub instructions: Value,
    pub temperature: Value,
    pub top_p: Value,
    pub max_output_tokens: Value,
    /// Names of the request's `custom` (freeform) tools: chat models call them as functions
    /// taking one string, and their calls go back to the caller as `custom_tool_call` items.
    pub custom_tools: Vec<String>,
    /// The caller asked for `reasoning.encrypted_content` (`include`): reasoning items carry the
    /// model's signed thinking, for the caller to send back on the next turn.
    pub encrypted_reasoning: bool,
}

/// What marks `encrypted_content` this gateway wrote: the signed thinking blocks of an
/// Anthropic-family model (`thinking_blocks`), as base64url JSON. It is an encoding, not
/// encryption: the blocks' signatures are the provider's own protection.
const THINKING_PREFIX: &str = "swy1.";

/// `encrypted_content` for a reasoning item holding these thinking blocks.
pub fn seal_thinking(blocks: &[Value]) -> String {
    use base64::Engine;
    let json = Value::Array(blocks.to_vec()).to_string();
    format!(
        "{THINKING_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    )
}

/// The thinking blocks of a reasoning item's `encrypted_content`, when this gateway wrote it.
pub fn open_thinking(encrypted: &str) -> Option<Vec<Value>> {
    use base64::Engine;
    let b64 = encrypted.strip_prefix(THINKING_PREFIX)?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(b64)
        .ok()?;
    match serde_json::from_slice(&json).ok()? {
        Value::Array(blocks) => Some(blocks),
        _ => None,
    }
}

/// A custom tool's call from its chat function call's arguments (`{"input": "..."}`); the
/// arguments as they are when a model sent something else.
pub fn custom_input(arguments: &str) -> String {
    match serde_json::from_str::<Value>(arguments) {
        Ok(Value::Object(m)) => match m.get("input") {
            Some(Value::String(s)) => s.clone(),
            _ => arguments.to_owned(),
        },
        _ => arguments.to_owned(),
    }
}

impl Echo {
    pub fn from_request(req: &Value) -> Self {
        let get = |k: &str| req.get(k).cloned().unwrap_or(Value::Null);
        Echo {
            tools: req.get("tools").cloned().unwrap_or_else(|| json!([])),
            tool_choice: req
                .get("tool_choice")
                .cloned()
                .unwrap_or_else(|| json!("auto")),
            parallel_tool_calls: req
                .get("parallel_tool_calls")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            instructions: get("instructions"),
            temperature: get("temperature"),
            top_p: get("top_p"),
            max_output_tokens: get("max_output_tokens"),
            custom_tools: req
                .get("tools")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|t| t.get("type").and_then(Value::as_str) == Some("custom"))
                .filter_map(|t| t.get("name").and_then(Value::as_str).map(str::to_owned))
                .collect(),
            encrypted_reasoning: req
                .get("include")
                .and_then(Value::as_array)
                .is_some_and(|i| i.iter().any(|v| v == "reasoning.encrypted_content")),
        }
    }

    /// Whether `name` is one of the request's custom tools.
    pub fn is_custom(&self, name: &Value) -> bool {
        name.as_str()
            .is_some_and(|n| self.custom_tools.iter().any(|c| c == n))
    }

    /// A Response object skeleton with these fields.
    pub fn response(&self, id: &str, model: &Value, created_at: u64, status: &str) -> Value {
        json!({
            "id": id, "object": "response", "created_at": created_at, "status": status,
            "model": model, "output": [], "error": null, "incomplete_details": null,
            "instructions": self.instructions, "max_output_tokens": self.max_output_tokens,
            "parallel_tool_calls": self.parallel_tool_calls, "temperature": self.temperature,
            "top_p": self.top_p, "tool_choice": self.tool_choice, "tools": self.tools,
            "store": false, "usage": null, "metadata": {},
        })
    }
}

#[cfg(test)]
mod tests;
