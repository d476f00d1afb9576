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
        }
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
