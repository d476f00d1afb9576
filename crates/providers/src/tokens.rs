//! An estimate of a Messages request's input tokens, for Anthropic's `count_tokens` on providers
//! that have no counting API. About four characters a token (the usual figure for English text
//! under BPE tokenizers), plus a few tokens a message for the chat template; text in system,
//! messages (text, tool inputs and results) and tool definitions counts. Callers are told it is an
//! estimate (`x-switchyard-token-count: estimate`).

use serde_json::Value;

/// Characters per token assumed.
const CHARS_PER_TOKEN: usize = 4;
/// Template tokens per message (role markers and separators).
const PER_MESSAGE: u64 = 3;

fn chars(v: &Value) -> usize {
    match v {
        Value::String(s) => s.chars().count(),
        Value::Array(items) => items.iter().map(chars).sum(),
        Value::Object(map) => map
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "type" | "cache_control" | "id" | "tool_use_id"))
            .map(|(_, v)| chars(v))
            .sum(),
        Value::Number(n) => n.to_string().len(),
        Value::Bool(_) | Value::Null => 0,
    }
}

/// Estimated input tokens of a Messages (or count_tokens) request body.
pub fn estimate_messages(req: &Value) -> u64 {
    let messages = req.get("messages").and_then(Value::as_array);
    let n = messages.map_or(0, Vec::len) as u64;
    let text = ["system", "messages", "tools"]
        .iter()
        .filter_map(|k| req.get(*k))
        .map(chars)
        .sum::<usize>();
    text.div_ceil(CHARS_PER_TOKEN) as u64 + n * PER_MESSAGE
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_text_everywhere_but_markers() {
        let req = json!({"model": "m", "system": "Be brief.",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello there!", "cache_control": {"type": "ephemeral"}}]},
                         {"role": "assistant", "content": "Hi"}],
            "tools": [{"name": "f", "input_schema": {"type": "object"}}]});
        // "Be brief." 9 + "user" 4 + "Hello there!" 12 + "assistant" 9 + "Hi" 2 + "f" 1; `type`
        // and `cache_control` values are markers, not text.
        assert_eq!(estimate_messages(&req), 37_usize.div_ceil(4) as u64 + 2 * 3);
        assert_eq!(estimate_messages(&json!({"messages": []})), 0);
    }
}
