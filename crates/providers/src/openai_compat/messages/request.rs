//! Anthropic Messages request → OpenAI chat completion request.

use crate::translate::{request_messages, Fields, TranslateError};
use serde_json::{json, Map, Value};

/// Builds the chat completion body for `model` from a Messages request.
pub fn from_messages(
    req: &Value,
    model: &str,
    fields: &mut Fields,
) -> Result<Value, TranslateError> {
    let obj = req
        .as_object()
        .ok_or_else(|| TranslateError::field("", "request body must be a JSON object"))?;
    let mut out = Map::new();
    out.insert("model".into(), json!(model));
    let mut messages = Vec::new();
    if let Some(system) = obj.get("system") {
        let text = match system {
            Value::String(s) => s.clone(),
            Value::Array(blocks) => blocks
                .iter()
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n\n"),
            _ => {
                return Err(TranslateError::field(
                    "system",
                    "system must be a string or text blocks",
                ))
            }
        };
        if !text.is_empty() {
            messages.push(json!({"role": "system", "content": text}));
        }
        let mut blocks = system.as_array().into_iter().flatten();
        if blocks.any(|b| b.get("cache_control").is_some_and(|c| !c.is_null())) {
            fields.advisory(
                "system[].cache_control",
                "prompt caching marks cannot be sent to an OpenAI-compatible model",
            )?;
        }
    }
    for (k, v) in obj {
        match k.as_str() {
            "model" | "messages" | "system" => {}
            "max_tokens" => {
                out.insert("max_tokens".into(), v.clone());
            }
            "stop_sequences" => {
                out.insert("stop".into(), v.clone());
            }
            "temperature" | "top_p" | "top_k" => {
                out.insert(k.clone(), v.clone());
            }
            "stream" if v.as_bool() == Some(true) => {
                out.insert("stream".into(), json!(true));
                // Usage is needed for message_delta, which Anthropic callers always get.
                out.insert("stream_options".into(), json!({"include_usage": true}));
            }
            "stream" => {}
            "tools" => {
                let forced = obj
                    .get("tool_choice")
                    .filter(|c| c.get("type").and_then(Value::as_str) == Some("tool"))
                    .and_then(|c| c.get("name"))
                    .and_then(Value::as_str);
                out.insert("tools".into(), tools(v, forced, fields)?);
            }
            "tool_choice" => {
                let (choice, parallel) = tool_choice(v)?;
                out.insert("tool_choice".into(), choice);
                if parallel == Some(false) {
                    out.insert("parallel_tool_calls".into(), json!(false));
                }
            }
            "metadata" => {
                if let Some(u) = v.get("user_id").and_then(Value::as_str) {
                    out.insert("user".into(), json!(u));
                }
            }
            "thinking" => {
                let asked = req.pointer("/output_config/effort").and_then(Value::as_str);
                if let Some(effort) = effort(v, asked) {
                    out.insert("reasoning_effort".into(), json!(effort));
                }
            }
            "output_config" => output_config(v, obj.contains_key("thinking"), &mut out, fields)?,
            // Tools the provider runs itself (MCP servers) would change what the answer can do.
            "mcp_servers" if v.as_array().is_some_and(|a| !a.is_empty()) => fields.contract(
                k,
                "'mcp_servers' cannot be sent to an OpenAI-compatible model: it cannot call MCP servers",
            )?,
            // Hints, caching and context-management directives, client bookkeeping, and fields
            // this gateway does not know: left out when the model cannot take them.
            other if !v.is_null() => fields.advisory(
                other,
                format!("'{other}' cannot be sent to an OpenAI-compatible model"),
            )?,
            _ => {}
        }
    }
    let input = request_messages(obj)?;
    for (i, m) in input.iter().enumerate() {
        convert(m, i, &mut messages, fields)?;
    }
    out.insert("messages".into(), Value::Array(messages));
    Ok(Value::Object(out))
}

/// Anthropic's thinking → OpenAI's reasoning effort. A budget maps by size (budgets as in
/// Anthropic's guide: 1,024 minimum; a few thousand typical; 16k and up for hard problems);
/// adaptive thinking takes the effort the caller asked for in `output_config.effort` (Anthropic's
/// `max` is OpenAI's `xhigh`), medium when none; disabled thinking is none.
fn effort(thinking: &Value, asked: Option<&str>) -> Option<&'static str> {
    match thinking.get("type").and_then(Value::as_str) {
        Some("enabled") => {
            let budget = thinking
                .get("budget_tokens")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            Some(match budget {
                0..=4095 => "low",
                4096..=16383 => "medium",
                _ => "high",
            })
        }
        Some("adaptive") => Some(asked.map_or("medium", effort_name)),
        _ => None,
    }
}

/// The Messages field a chat-completions field was made from, for naming what a later step
/// left out in the caller's terms.
pub fn caller_field(chat: &str) -> Option<&'static str> {
    Some(match chat {
        "stop" => "stop_sequences",
        "user" => "metadata.user_id",
        "reasoning_effort" => "thinking",
        "parallel_tool_calls" => "tool_choice.disable_parallel_tool_use",
        _ => return None,
    })
}

/// OpenAI's name for an Anthropic effort level.
fn effort_name(effort: &str) -> &'static str {
    match effort {
        "low" => "low",
        "high" => "high",
        "xhigh" | "max" => "xhigh",
        _ => "medium",
    }
}

/// `output_config`: the effort becomes the reasoning effort (when thinking did not already set
/// it); every other setting is left out and named.
fn output_config(
    v: &Value,
    thinking: bool,
    out: &mut Map<String, Value>,
    fields: &mut Fields,
) -> Result<(), TranslateError> {
    let Some(config) = v.as_object() else {
        return Ok(());
    };
    for (k, x) in config {
        match (k.as_str(), x.as_str()) {
            ("effort", Some(e)) => {
                if !thinking {
                    out.insert("reasoning_effort".into(), json!(effort_name(e)));
                }
            }
            _ if x.is_null() => {}
            _ => fields.advisory(
                &format!("output_config.{k}"),
                format!("'output_config.{k}' cannot be sent to an OpenAI-compatible model"),
            )?,
        }
    }
    Ok(())
}

/// Anthropic tools → function tools. Tools the provider runs itself (server tools: web search,
/// code execution, ...) cannot run elsewhere: left out and named, or a 400 when `tool_choice`
/// forces that tool. Settings only Anthropic's API reads (`cache_control`, `defer_loading`,
/// ...) are left out and named once for all tools.
fn tools(v: &Value, forced: Option<&str>, fields: &mut Fields) -> Result<Value, TranslateError> {
    let list = v
        .as_array()
        .ok_or_else(|| TranslateError::field("tools", "tools must be an array"))?;
    let mut out = Vec::new();
    for (i, t) in list.iter().enumerate() {
        let name = t.get("name").and_then(Value::as_str).ok_or_else(|| {
            TranslateError::field(&format!("tools[{i}].name"), "tool name is required")
        })?;
        let path = format!("tools[{i}]");
        if t.get("input_schema").is_none() {
            let why = format!("server tool '{name}' cannot run on an OpenAI-compatible model");
            if forced == Some(name) {
                fields.contract(&path, why)?;
            } else {
                fields.advisory(&path, why)?;
            }
            continue;
        }
        let mut f = Map::new();
        for (k, x) in t.as_object().into_iter().flatten() {
            match k.as_str() {
                "name" | "input_schema" | "type" => {}
                "description" | "strict" => {
                    f.insert(k.clone(), x.clone());
                }
                _ if x.is_null() => {}
                other => fields.advisory(
                    &format!("tools[].{other}"),
                    format!("tool setting '{other}' cannot be sent to an OpenAI-compatible model"),
                )?,
            }
        }
        f.insert("name".into(), json!(name));
        f.insert("parameters".into(), t["input_schema"].clone());
        out.push(json!({"type": "function", "function": f}));
    }
    Ok(Value::Array(out))
}

fn tool_choice(v: &Value) -> Result<(Value, Option<bool>), TranslateError> {
    let parallel = v
        .get("disable_parallel_tool_use")
        .and_then(Value::as_bool)
        .map(|d| !d);
    let choice = match v.get("type").and_then(Value::as_str) {
        Some("auto") => json!("auto"),
        Some("any") => json!("required"),
        Some("none") => json!("none"),
        Some("tool") => {
            let name = v.get("name").and_then(Value::as_str).ok_or_else(|| {
                TranslateError::field("tool_choice.name", "required for type tool")
            })?;
            json!({"type": "function", "function": {"name": name}})
        }
        _ => {
            return Err(TranslateError::field(
                "tool_choice",
                "unknown tool_choice type",
            ))
        }
    };
    Ok((choice, parallel))
}

fn image_url(block: &Value, path: &str) -> Result<Value, TranslateError> {
    let src = block.get("source").unwrap_or(&Value::Null);
    let url = match src.get("type").and_then(Value::as_str) {
        Some("base64") => format!(
            "data:{};base64,{}",
            src.get("media_type")
                .and_then(Value::as_str)
                .unwrap_or("image/png"),
            src.get("data").and_then(Value::as_str).unwrap_or("")
        ),
        Some("url") => src
            .get("url")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        _ => {
            return Err(TranslateError::field(
                path,
                "image source must be base64 or url",
            ))
        }
    };
    Ok(json!({"type": "image_url", "image_url": {"url": url}}))
}

/// Text of a tool_result's content (a string or text blocks).
fn result_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn convert(
    m: &Value,
    i: usize,
    out: &mut Vec<Value>,
    fields: &mut Fields,
) -> Result<(), TranslateError> {
    let path = format!("messages[{i}]");
    let role = m.get("role").and_then(Value::as_str).unwrap_or("");
    let blocks: Vec<Value> = match m.get("content") {
        Some(Value::String(s)) => vec![json!({"type": "text", "text": s})],
        Some(Value::Array(b)) => b.clone(),
        _ => {
            return Err(TranslateError::field(
                &format!("{path}.content"),
                "content is required",
            ))
        }
    };
    let mut parts = Vec::new();
    let mut tool_calls = Vec::new();
    let mut thinking = Vec::new();
    for (j, b) in blocks.iter().enumerate() {
        let bpath = format!("{path}.content[{j}]");
        if b.get("cache_control").is_some_and(|c| !c.is_null()) {
            fields.advisory(
                "messages[].content[].cache_control",
                "prompt caching marks cannot be sent to an OpenAI-compatible model",
            )?;
        }
        match b.get("type").and_then(Value::as_str) {
            Some("text") => parts.push(json!({"type": "text", "text": b.get("text").cloned().unwrap_or(json!(""))})),
            Some("image") => parts.push(image_url(b, &bpath)?),
            Some("tool_use") => tool_calls.push(json!({
                "id": b.get("id"), "type": "function",
                "function": {"name": b.get("name"), "arguments": b.get("input").map_or_else(|| "{}".to_owned(), Value::to_string)},
            })),
            Some("tool_result") => {
                // Tool results become tool messages, in order, before any text of this turn.
                let content = b.get("content").unwrap_or(&Value::Null);
                let mut text = result_text(content);
                if b.get("is_error").and_then(Value::as_bool) == Some(true) {
                    text = format!("Error: {text}");
                }
                out.push(json!({"role": "tool", "tool_call_id": b.get("tool_use_id"), "content": text}));
                // A chat tool message holds only text: a result's images (a screenshot, an
                // image file read) follow in this turn's user message, labelled with the call.
                let images = content.as_array().into_iter().flatten().enumerate();
                for (k, img) in images.filter(|(_, x)| x.get("type").and_then(Value::as_str) == Some("image")) {
                    let id = b.get("tool_use_id").and_then(Value::as_str).unwrap_or("");
                    parts.push(json!({"type": "text", "text": format!("(image from the result of tool call {id})")}));
                    parts.push(image_url(img, &format!("{bpath}.content[{k}]"))?);
                }
            }
            // Thinking from earlier turns is the model's own state: signed blocks ride along
            // (`thinking_blocks`) for Anthropic-family models behind the chat step; other
            // models do not get them.
            Some("thinking") => {
                if b.get("signature").and_then(Value::as_str).is_some_and(|s| !s.is_empty()) {
                    thinking.push(b.clone());
                }
            }
            Some("redacted_thinking") => thinking.push(b.clone()),
            Some(other) => {
                return Err(TranslateError::field(
                    &bpath,
                    format!("content block '{other}' cannot be sent to an OpenAI-compatible model"),
                ))
            }
            None => return Err(TranslateError::field(&bpath, "content block needs a type")),
        }
    }
    match role {
        // A system message inside the conversation (as Claude Code sends its environment) stays
        // a system message in place.
        "system" => {
            if !parts.is_empty() {
                out.push(json!({"role": "system", "content": simplify(parts)}));
            }
        }
        "user" => {
            if !parts.is_empty() {
                out.push(json!({"role": "user", "content": simplify(parts)}));
            }
        }
        "assistant" => {
            let mut msg = json!({"role": "assistant", "content": if parts.is_empty() { Value::Null } else { simplify(parts) }});
            if !tool_calls.is_empty() {
                msg["tool_calls"] = Value::Array(tool_calls);
            }
            if !thinking.is_empty() {
                msg["thinking_blocks"] = Value::Array(thinking);
            }
            out.push(msg);
        }
        other => {
            return Err(TranslateError::field(
                &format!("{path}.role"),
                format!("role must be user, assistant or system, not '{other}'"),
            ))
        }
    }
    Ok(())
}

/// A single text part becomes a plain string, which every OpenAI-compatible host accepts.
fn simplify(parts: Vec<Value>) -> Value {
    if parts.len() == 1 && parts[0].get("type").and_then(Value::as_str) == Some("text") {
        return parts[0]["text"].clone();
    }
    Value::Array(parts)
}
