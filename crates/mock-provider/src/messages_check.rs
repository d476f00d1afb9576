//! What Anthropic's Messages API refuses, as its reference describes the request: parameters it
//! does not have, an empty or malformed `messages`, unknown roles and content block types, a
//! `tool_result` that answers no `tool_use` of the turn before, a `tool_use` left unanswered,
//! and tools without a name. The first problem found is the 400's message.

use serde_json::Value;

/// The request body's parameters: the reference's, the beta ones agents send
/// (`context_management`, `mcp_servers`, ...), `anthropic_version` (where Vertex and Bedrock
/// carry the version in the body), and `mock`, this mock's own.
const FIELDS: &[&str] = &[
    "model",
    "anthropic_version",
    "messages",
    "max_tokens",
    "cache_control",
    "container",
    "context_management",
    "inference_geo",
    "mcp_servers",
    "metadata",
    "output_config",
    "output_format",
    "service_tier",
    "speed",
    "stop_sequences",
    "stream",
    "system",
    "temperature",
    "thinking",
    "tool_choice",
    "tools",
    "top_k",
    "top_p",
    "mock",
];

/// Content block types a message may hold.
const BLOCKS: &[&str] = &[
    "text",
    "image",
    "document",
    "search_result",
    "tool_use",
    "tool_result",
    "thinking",
    "redacted_thinking",
    "server_tool_use",
    "web_search_tool_result",
    "web_fetch_tool_result",
    "code_execution_tool_result",
    "bash_code_execution_tool_result",
    "text_editor_code_execution_tool_result",
    "tool_search_tool_result",
    "mcp_tool_use",
    "mcp_tool_result",
    "container_upload",
];

/// The first thing Anthropic would refuse in a Messages request (count_tokens: `counting`,
/// which has no `max_tokens`), if any.
pub(crate) fn problem(req: &Value) -> Option<String> {
    check(req).err()
}

fn check(req: &Value) -> Result<(), String> {
    let obj = req
        .as_object()
        .ok_or("The request body must be a JSON object.")?;
    if let Some(k) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(format!("{k}: Extra inputs are not permitted"));
    }
    let messages = match obj.get("messages") {
        Some(Value::Array(m)) if m.is_empty() => {
            return Err("messages: at least one message is required".into())
        }
        Some(Value::Array(m)) => m,
        _ => return Err("messages: Field required".into()),
    };
    for (i, t) in obj
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if t.get("name").and_then(Value::as_str).is_none() {
            return Err(format!("tools.{i}.name: Field required"));
        }
    }
    // The tool_use ids of the assistant turn just before, which the next user turn must answer.
    let mut asked: Vec<&str> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        if !matches!(role, "user" | "assistant" | "system") {
            return Err(format!(
                "messages.{i}.role: Input should be 'user', 'assistant' or 'system'"
            ));
        }
        let blocks: Vec<&Value> = match m.get("content") {
            Some(Value::String(_)) => Vec::new(),
            Some(Value::Array(b)) => b.iter().collect(),
            _ => return Err(format!("messages.{i}.content: Field required")),
        };
        let mut answered: Vec<&str> = Vec::new();
        let mut calls: Vec<&str> = Vec::new();
        for (j, b) in blocks.iter().enumerate() {
            let t = b.get("type").and_then(Value::as_str).unwrap_or("");
            if !BLOCKS.contains(&t) {
                return Err(format!(
                    "messages.{i}.content.{j}.type: Input tag '{t}' found using 'type' does not match any of the expected tags"
                ));
            }
            match t {
                "tool_use" => {
                    if role != "assistant" {
                        return Err(format!("messages.{i}.content.{j}: tool_use blocks are only allowed in assistant messages"));
                    }
                    calls.push(b.get("id").and_then(Value::as_str).unwrap_or(""));
                }
                "tool_result" => {
                    let id = b.get("tool_use_id").and_then(Value::as_str).unwrap_or("");
                    if role != "user" || !asked.contains(&id) {
                        return Err(format!("messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: {id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."));
                    }
                    answered.push(id);
                }
                _ => {}
            }
        }
        if role == "user" {
            if let Some(missing) = asked.iter().find(|id| !answered.contains(id)) {
                return Err(format!("messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: {missing}. Each `tool_use` block must have a corresponding `tool_result` block in the next message."));
            }
        }
        if role != "system" {
            asked = calls;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refuses_what_anthropic_refuses() {
        let ok = json!({"model": "m", "max_tokens": 5, "context_management": {"edits": []},
            "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "t", "signature": "s"},
                {"type": "tool_use", "id": "t1", "name": "f", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "r"}]},
            {"role": "system", "content": "env"}]});
        assert_eq!(problem(&ok), None);
        let cases = [
            (json!({"model": "m", "messages": []}), "at least one"),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 2}),
                "n: Extra",
            ),
            (
                json!({"model": "m", "messages": [{"role": "tool", "content": "x"}]}),
                "messages.0.role",
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}),
                "'image_url'",
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "x", "content": "r"}]}]}),
                "corresponding `tool_use`",
            ),
            (
                json!({"model": "m", "messages": [
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}]},
                {"role": "user", "content": "never mind"}]}),
                "t1",
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": [{"input_schema": {}}]}),
                "tools.0.name",
            ),
        ];
        for (req, needle) in cases {
            let p = problem(&req).unwrap_or_default();
            assert!(p.contains(needle), "{req}: {p}");
        }
    }
}
