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
    thinking_fits_the_model(obj)?;
    thinking_blocks_kept(obj, messages)?;
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

/// Claude models that take only adaptive thinking, and those that predate it (Anthropic's
/// adaptive-thinking guide).
const ADAPTIVE_ONLY: &[&str] = &[
    "claude-opus-4-7",
    "claude-opus-5",
    "claude-mythos",
    "claude-fable",
];
const BUDGET_ONLY: &[&str] = &[
    "claude-3",
    "claude-sonnet-4-5",
    "claude-opus-4-5",
    "claude-haiku-4-5",
    "claude-sonnet-4-2",
    "claude-opus-4-1",
    "claude-sonnet-4-0",
    "claude-opus-4-0",
];

/// A thinking type the model does not take is refused, as Anthropic refuses it.
fn thinking_fits_the_model(obj: &serde_json::Map<String, Value>) -> Result<(), String> {
    let model = obj.get("model").and_then(Value::as_str).unwrap_or("");
    let kind = obj
        .get("thinking")
        .and_then(|t| t.get("type"))
        .and_then(Value::as_str);
    let is = |list: &[&str]| list.iter().any(|m| model.contains(m));
    match kind {
        Some("enabled") if is(ADAPTIVE_ONLY) => Err(format!(
            "thinking.type.enabled is not supported for {model}: use thinking.type.adaptive with output_config.effort"
        )),
        Some("adaptive") if is(BUDGET_ONLY) => Err(format!(
            "thinking.type.adaptive is not supported for {model}: use thinking.type.enabled with budget_tokens"
        )),
        _ => Ok(()),
    }
}

/// The signature this mock gives a thinking block with this text (Anthropic's are opaque; this
/// one lets the mock check a block came back as it was sent).
pub(crate) fn signature_of(thinking: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in thinking.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("mock-sig-{h:016x}")
}

/// Thinking blocks sent back must carry the signature they were given, and with thinking on, the
/// last assistant turn that calls tools must start with its thinking block.
fn thinking_blocks_kept(
    obj: &serde_json::Map<String, Value>,
    messages: &[Value],
) -> Result<(), String> {
    for (i, m) in messages.iter().enumerate() {
        let blocks = m
            .get("content")
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        for (j, b) in blocks.enumerate() {
            if b.get("type").and_then(Value::as_str) != Some("thinking") {
                continue;
            }
            let text = b.get("thinking").and_then(Value::as_str).unwrap_or("");
            if b.get("signature").and_then(Value::as_str) != Some(&signature_of(text)) {
                return Err(format!(
                    "messages.{i}.content.{j}: Invalid `signature` in `thinking` block"
                ));
            }
        }
    }
    let thinking = matches!(
        obj.get("thinking")
            .and_then(|t| t.get("type"))
            .and_then(Value::as_str),
        Some("enabled" | "adaptive")
    );
    let last = messages
        .iter()
        .enumerate()
        .rev()
        .find(|(_, m)| m.get("role").and_then(Value::as_str) == Some("assistant"));
    let Some((i, m)) = last.filter(|_| thinking) else {
        return Ok(());
    };
    let blocks = m
        .get("content")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let kind = |b: &Value| {
        b.get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    if blocks.iter().any(|b| kind(b) == "tool_use")
        && !matches!(
            blocks.first().map(kind).as_deref(),
            Some("thinking" | "redacted_thinking")
        )
    {
        let found = blocks.first().map(kind).unwrap_or_default();
        return Err(format!(
            "messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{found}`. When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). To avoid this requirement, disable `thinking`."
        ));
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
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "t", "signature": signature_of("t")},
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
            (
                json!({"model": "m", "messages": [{"role": "assistant", "content": [
                {"type": "thinking", "thinking": "t", "signature": "forged"}]}]}),
                "Invalid `signature`",
            ),
            (
                json!({"model": "m", "thinking": {"type": "enabled", "budget_tokens": 1024},
                "messages": [{"role": "user", "content": "x"},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "r"}]}]}),
                "must start with a thinking block",
            ),
        ];
        for (req, needle) in cases {
            let p = problem(&req).unwrap_or_default();
            assert!(p.contains(needle), "{req}: {p}");
        }
    }
}
