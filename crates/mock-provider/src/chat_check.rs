//! What OpenAI's chat completions API refuses, as its reference describes the request and as the
//! API answers: unknown parameters, an empty or malformed `messages`, unknown roles and content
//! part types, fields a message of that role does not have, tool results that answer no call,
//! calls left unanswered, and malformed tools. The first problem found is the 400's message.

use serde_json::Value;

/// The request body's parameters (the reference's, plus `mock`, this mock's own).
const FIELDS: &[&str] = &[
    "model",
    "messages",
    "audio",
    "frequency_penalty",
    "function_call",
    "functions",
    "logit_bias",
    "logprobs",
    "max_completion_tokens",
    "max_tokens",
    "metadata",
    "modalities",
    "n",
    "parallel_tool_calls",
    "prediction",
    "presence_penalty",
    "prompt_cache_key",
    "prompt_cache_retention",
    "reasoning_effort",
    "response_format",
    "safety_identifier",
    "seed",
    "service_tier",
    "stop",
    "store",
    "stream",
    "stream_options",
    "temperature",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "user",
    "verbosity",
    "web_search_options",
    "mock",
];

/// A message's fields, by role.
fn message_fields(role: &str) -> Option<&'static [&'static str]> {
    Some(match role {
        "system" | "developer" => &["role", "content", "name"],
        "user" => &["role", "content", "name"],
        "assistant" => &[
            "role",
            "content",
            "name",
            "refusal",
            "tool_calls",
            "function_call",
            "audio",
        ],
        "tool" => &["role", "content", "tool_call_id"],
        "function" => &["role", "content", "name"],
        _ => return None,
    })
}

/// Content part types a message of this role may hold.
fn part_types(role: &str) -> &'static [&'static str] {
    match role {
        "user" => &["text", "image_url", "input_audio", "file"],
        "assistant" => &["text", "refusal"],
        _ => &["text"],
    }
}

fn check_content(role: &str, content: Option<&Value>, at: &str) -> Result<(), String> {
    match content {
        None | Some(Value::Null) if role == "assistant" => Ok(()),
        None | Some(Value::Null) => Err(format!("Missing required parameter: '{at}.content'.")),
        Some(Value::String(_)) => Ok(()),
        Some(Value::Array(parts)) => {
            for (j, p) in parts.iter().enumerate() {
                let t = p.get("type").and_then(Value::as_str).unwrap_or("");
                if !part_types(role).contains(&t) {
                    return Err(format!(
                        "Invalid value: '{t}'. Supported values are: {:?} ({at}.content[{j}].type).",
                        part_types(role)
                    ));
                }
            }
            Ok(())
        }
        Some(_) => Err(format!("Invalid type for '{at}.content'.")),
    }
}

fn check_tools(tools: &Value) -> Result<(), String> {
    let list = tools
        .as_array()
        .ok_or("Invalid type for 'tools': expected an array.")?;
    for (i, t) in list.iter().enumerate() {
        match t.get("type").and_then(Value::as_str) {
            Some("function") => {
                if t.pointer("/function/name").and_then(Value::as_str).is_none() {
                    return Err(format!(
                        "Missing required parameter: 'tools[{i}].function.name'."
                    ));
                }
            }
            Some("custom") => {
                if t.pointer("/custom/name").and_then(Value::as_str).is_none() {
                    return Err(format!("Missing required parameter: 'tools[{i}].custom.name'."));
                }
            }
            other => {
                return Err(format!(
                    "Invalid value: '{}'. Supported values are: 'function' and 'custom' (tools[{i}].type).",
                    other.unwrap_or("")
                ))
            }
        }
    }
    Ok(())
}

/// The first thing OpenAI would refuse in a chat completions request, if any.
pub(crate) fn problem(req: &Value) -> Option<String> {
    check(req).err()
}

fn check(req: &Value) -> Result<(), String> {
    let obj = req
        .as_object()
        .ok_or("The request body must be a JSON object.")?;
    if let Some(k) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(format!("Unrecognized request argument supplied: {k}"));
    }
    let messages = match obj.get("messages") {
        Some(Value::Array(m)) if m.is_empty() => {
            return Err("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.".into())
        }
        Some(Value::Array(m)) => m,
        _ => return Err("Missing required parameter: 'messages'.".into()),
    };
    if let Some(t) = obj.get("tools") {
        check_tools(t)?;
    }
    // Calls made and not yet answered; a tool message must answer one of them.
    let mut open: Vec<&str> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let at = format!("messages[{i}]");
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        let fields = message_fields(role).ok_or_else(|| {
            format!("Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer' ({at}.role).")
        })?;
        if let Some(k) = m
            .as_object()
            .and_then(|o| o.keys().find(|k| !fields.contains(&k.as_str())))
        {
            return Err(format!(
                "Additional properties are not allowed ('{k}' was unexpected) - '{at}'"
            ));
        }
        if role != "tool" && !open.is_empty() {
            return Err(format!("An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: {}", open.join(", ")));
        }
        check_content(role, m.get("content"), &at)?;
        match role {
            "assistant" => {
                for c in m
                    .get("tool_calls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let id = c.get("id").and_then(Value::as_str).ok_or_else(|| {
                        format!("Missing required parameter: '{at}.tool_calls[].id'.")
                    })?;
                    let args = c.pointer("/function/arguments").and_then(Value::as_str);
                    if c.pointer("/function/name")
                        .and_then(Value::as_str)
                        .is_none()
                        || args.is_none()
                    {
                        return Err(format!(
                            "Missing required parameter: '{at}.tool_calls[].function'."
                        ));
                    }
                    open.push(id);
                }
            }
            "tool" => {
                let id = m.get("tool_call_id").and_then(Value::as_str).unwrap_or("");
                match open.iter().position(|o| *o == id) {
                    Some(p) => {
                        open.remove(p);
                    }
                    None => return Err("Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.".into()),
                }
            }
            _ => {}
        }
    }
    if !open.is_empty() {
        return Err(format!("An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: {}", open.join(", ")));
    }
    for (k, ok) in [
        (
            "temperature",
            obj.get("temperature")
                .is_none_or(|v| v.is_number() || v.is_null()),
        ),
        (
            "top_p",
            obj.get("top_p")
                .is_none_or(|v| v.is_number() || v.is_null()),
        ),
        (
            "max_tokens",
            obj.get("max_tokens")
                .is_none_or(|v| v.is_u64() || v.is_null()),
        ),
        (
            "stream",
            obj.get("stream")
                .is_none_or(|v| v.is_boolean() || v.is_null()),
        ),
        ("n", obj.get("n").is_none_or(|v| v.is_u64() || v.is_null())),
    ] {
        if !ok {
            return Err(format!("Invalid type for '{k}'."));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refuses_what_openai_refuses() {
        let ok = json!({"model": "m", "messages": [
            {"role": "system", "content": "s"},
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "r"}],
            "tools": [{"type": "function", "function": {"name": "f"}}]});
        assert_eq!(problem(&ok), None);
        let cases = [
            (json!({"model": "m", "messages": []}), "empty array"),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "top_k": 3}),
                "top_k",
            ),
            (
                json!({"model": "m", "messages": [{"role": "robot", "content": "x"}]}),
                "'robot'",
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": "x", "reasoning_content": "r"}]}),
                "'reasoning_content' was unexpected",
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "thinking"}]}]}),
                "'thinking'",
            ),
            (
                json!({"model": "m", "messages": [{"role": "tool", "tool_call_id": "x", "content": "r"}]}),
                "preceeding",
            ),
            (
                json!({"model": "m", "messages": [{"role": "assistant", "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                {"role": "user", "content": "next"}]}),
                "c1",
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": [{"type": "web_search"}]}),
                "'web_search'",
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}),
                "temperature",
            ),
        ];
        for (req, needle) in cases {
            let p = problem(&req).unwrap_or_default();
            assert!(p.contains(needle), "{req}: {p}");
        }
    }
}
