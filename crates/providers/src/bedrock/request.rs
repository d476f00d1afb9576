//! OpenAI chat completion request → Bedrock Converse request.

use super::is_anthropic;
use crate::translate::{
    anthropic_effort, data_url, function_tools, json_tool_schema, push_turn, stop_list,
    thinking_budget, thinks_adaptively, tool_choice, Fields, ToolChoice, TranslateError, JSON_TOOL,
    THINKING_NEEDS_ITS_BLOCKS,
};
use crate::walk::{self, Content, PartKind, Turn};
use serde_json::{json, Map, Value};

/// Fields the translation expresses otherwise: streaming is the endpoint (ConverseStream), and
/// usage always ends its streams.
const CARRIED_ELSEWHERE: &[&str] = &["stream_options", "stream"];

/// Output tokens when the caller gives none and thinking needs a ceiling above its budget.
const DEFAULT_MAX_TOKENS: u64 = 4096;

/// Builds the Converse body for `model` from an OpenAI chat request.
pub fn from_openai(req: &Value, model: &str, fields: &mut Fields) -> Result<Value, TranslateError> {
    let obj = req
        .as_object()
        .ok_or_else(|| TranslateError::field("", "request body must be a JSON object"))?;
    let mut inference = Map::new();
    let mut extra = Map::new();
    // Converse's `outputConfig` (the effort of adaptive thinking).
    let mut out_config = Map::new();
    let mut choice: Option<Value> = None;
    let mut no_tools = false;
    let mut json_schema = None;
    for (k, v) in obj {
        if v.is_null() {
            continue;
        }
        match k.as_str() {
            "model" | "messages" | "tools" => {}
            "max_tokens" | "max_completion_tokens" => {
                inference.insert("maxTokens".into(), v.clone());
            }
            "temperature" => {
                inference.insert("temperature".into(), v.clone());
            }
            "top_p" => {
                inference.insert("topP".into(), v.clone());
            }
            "stop" => {
                inference.insert("stopSequences".into(), stop_list(v)?);
            }
            "response_format" => json_schema = json_tool_schema(v)?,
            "top_k" if is_anthropic(model) => {
                extra.insert("top_k".into(), v.clone());
            }
            "reasoning_effort" if is_anthropic(model) && thinks_adaptively(model) => {
                let effort = v.as_str().unwrap_or_default();
                match anthropic_effort(effort, model) {
                    Some(None) => {}
                    Some(Some(level)) => {
                        extra.insert("thinking".into(), json!({"type": "adaptive"}));
                        out_config.insert("effort".into(), json!(level));
                    }
                    None => {
                        return Err(TranslateError::field(
                            k,
                            format!("unknown reasoning_effort \"{effort}\""),
                        ))
                    }
                }
            }
            "reasoning_effort" if is_anthropic(model) => {
                let effort = v.as_str().unwrap_or_default();
                let budget = thinking_budget(effort).ok_or_else(|| {
                    TranslateError::field(k, format!("unknown reasoning_effort \"{effort}\""))
                })?;
                if budget > 0 {
                    extra.insert(
                        "thinking".into(),
                        json!({"type": "enabled", "budget_tokens": budget}),
                    );
                }
            }
            "tool_choice" => match tool_choice(v)? {
                None => {}
                Some(ToolChoice::Auto) => choice = Some(json!({"auto": {}})),
                Some(ToolChoice::Required) => choice = Some(json!({"any": {}})),
                Some(ToolChoice::None) => no_tools = true,
                Some(ToolChoice::Function(name)) => choice = Some(json!({"tool": {"name": name}})),
            },
            other if CARRIED_ELSEWHERE.contains(&other) => {}
            other => fields.uncarried_chat(other, v, "this Bedrock model through Converse")?,
        }
    }
    let (system, messages) = conversation(obj)?;
    let mut out = Map::new();
    out.insert("messages".into(), Value::Array(messages));
    if !system.is_empty() {
        out.insert("system".into(), Value::Array(system));
    }
    let mut tools = tools(obj.get("tools"))?;
    if let Some(schema) = json_schema {
        // Converse has no JSON mode: a forced tool whose input is the answer.
        if tools.is_some() {
            return Err(TranslateError::field(
                "response_format",
                "a JSON response_format cannot be combined with tools on Bedrock",
            ));
        }
        tools = Some(vec![json!({"toolSpec": {"name": JSON_TOOL,
            "description": "Give the answer as this tool's input.",
            "inputSchema": {"json": schema}}})]);
        choice = Some(json!({"tool": {"name": JSON_TOOL}}));
        no_tools = false;
    }
    let history_uses_tools = out["messages"].to_string().contains("\"toolUse\"");
    if let Some(tools) = tools {
        // Converse has no "none": without tool history the tools are simply not offered; with it
        // they must stay declared, and the model is left to answer.
        if !no_tools || history_uses_tools {
            let mut config = json!({ "tools": tools });
            if let Some(c) = choice.filter(|_| !no_tools) {
                config["toolChoice"] = c;
            }
            out.insert("toolConfig".into(), config);
        }
    }
    if extra.contains_key("thinking") && !tool_turn_keeps_its_thinking(&out) {
        out_config.remove("effort");
        // As for Anthropic: the model would refuse the tool-use turn without its signed
        // reasoning; callers that do not keep `thinking_blocks` get the answer without thinking.
        fields.advisory("reasoning_effort", THINKING_NEEDS_ITS_BLOCKS)?;
        extra.remove("thinking");
    }
    let forced = out
        .get("toolConfig")
        .and_then(|c| c.get("toolChoice"))
        .is_some_and(|c| c.get("any").is_some() || c.get("tool").is_some());
    if forced && extra.contains_key("thinking") {
        return Err(TranslateError::field(
            "reasoning_effort",
            "Anthropic models cannot think while a tool call is forced (tool_choice required, a named tool, or a JSON response_format)",
        ));
    }
    if extra.get("thinking").and_then(|t| t.get("type")) == Some(&json!("adaptive")) {
        // No budget to fit: room for the highest one when the caller sets no maximum.
        inference
            .entry("maxTokens")
            .or_insert_with(|| json!(24576 + DEFAULT_MAX_TOKENS));
    }
    if let Some(budget) = extra
        .get("thinking")
        .and_then(|t| t.get("budget_tokens"))
        .and_then(Value::as_u64)
    {
        let max = inference.get("maxTokens").and_then(Value::as_u64);
        match max {
            None => {
                inference.insert("maxTokens".into(), json!(budget + DEFAULT_MAX_TOKENS));
            }
            Some(m) if m <= budget => {
                if m <= 1024 {
                    return Err(TranslateError::field(
                        "reasoning_effort",
                        format!(
                            "max_tokens {m} leaves no room for the minimum thinking budget of 1024"
                        ),
                    ));
                }
                extra.insert(
                    "thinking".into(),
                    json!({"type": "enabled", "budget_tokens": m - 1}),
                );
            }
            Some(_) => {}
        }
    }
    if !inference.is_empty() {
        out.insert("inferenceConfig".into(), Value::Object(inference));
    }
    if !extra.is_empty() {
        out.insert("additionalModelRequestFields".into(), Value::Object(extra));
    }
    if !out_config.is_empty() {
        out.insert("outputConfig".into(), Value::Object(out_config));
    }
    Ok(Value::Object(out))
}

/// A signed thinking block sent back (`thinking_blocks`) as Converse's `reasoningContent`;
/// unsigned ones cannot be sent.
fn reasoning_block(b: &Value) -> Option<Value> {
    let s = |k: &str| b.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    match s("type")? {
        "thinking" => Some(json!({"reasoningContent": {"reasoningText": {
            "text": s("thinking").unwrap_or(""), "signature": s("signature")?}}})),
        "redacted_thinking" => Some(json!({"reasoningContent": {"redactedContent": s("data")?}})),
        _ => None,
    }
}

/// Whether the last assistant turn, when it calls tools, opens with its reasoning.
fn tool_turn_keeps_its_thinking(out: &Map<String, Value>) -> bool {
    let last = out
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("assistant"))
        .and_then(|m| m.get("content").and_then(Value::as_array));
    match last {
        Some(c) if c.iter().any(|b| b.get("toolUse").is_some()) => c
            .first()
            .is_some_and(|b| b.get("reasoningContent").is_some()),
        _ => true,
    }
}

fn tools(v: Option<&Value>) -> Result<Option<Vec<Value>>, TranslateError> {
    let list = function_tools(v.unwrap_or(&Value::Null), "Bedrock")?;
    if list.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(list.len());
    for t in list {
        let mut spec = json!({"name": t.name, "inputSchema": {"json": t.schema_or_empty()}});
        if let Some(d) = t.description {
            spec["description"] = d.clone();
        }
        out.push(json!({ "toolSpec": spec }));
        if t.entry.get("cache_control").is_some() {
            out.push(json!({"cachePoint": {"type": "default"}}));
        }
    }
    Ok(Some(out))
}

/// A `data:` image URL → a Converse image block.
fn image(url: &str, path: &str) -> Result<Value, TranslateError> {
    let (mime, data) = data_url(url, path)?.ok_or_else(|| {
        TranslateError::field(
            path,
            "Bedrock cannot fetch image URLs itself: send the image as a data: URL (base64)",
        )
    })?;
    let format = match mime {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpeg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        other => {
            return Err(TranslateError::field(
                path,
                format!("Bedrock takes png, jpeg, gif or webp images, not {other}"),
            ))
        }
    };
    Ok(json!({"image": {"format": format, "source": {"bytes": data}}}))
}

/// OpenAI content → Converse content blocks; a part's `cache_control` adds a cache point after it.
fn blocks(content: &Content) -> Result<Vec<Value>, TranslateError> {
    let parts = content.parts()?;
    let mut out = Vec::with_capacity(parts.len());
    for p in &parts {
        match p.kind {
            // Converse refuses blank text blocks.
            PartKind::Text(text) if text.trim().is_empty() => {}
            PartKind::Text(text) => out.push(json!({ "text": text })),
            PartKind::Image(url) => out.push(image(url, &p.path)?),
            _ => return Err(p.refuse("Bedrock")),
        }
        if p.cache_control().is_some() {
            out.push(json!({"cachePoint": {"type": "default"}}));
        }
    }
    Ok(out)
}

/// System blocks and the alternating conversation Converse requires.
fn conversation(req: &Map<String, Value>) -> Result<(Vec<Value>, Vec<Value>), TranslateError> {
    let mut system = Vec::new();
    let mut messages = Vec::new();
    for m in walk::messages(req)? {
        match m.turn {
            Turn::System(c) => {
                for b in blocks(&c)? {
                    if b.get("image").is_some() {
                        return Err(TranslateError::field(
                            &format!("{}.content", m.path),
                            "system prompts take text only",
                        ));
                    }
                    system.push(b);
                }
            }
            Turn::User(c) => push_turn(&mut messages, "user", "content", blocks(&c)?),
            Turn::Assistant {
                content,
                thinking,
                calls,
                ..
            } => {
                // Signed thinking first, as the model wrote it: a tool-use turn needs it back.
                let mut b: Vec<Value> = thinking.iter().filter_map(reasoning_block).collect();
                b.extend(blocks(&content)?);
                for c in calls {
                    b.push(
                        json!({"toolUse": {"toolUseId": c.id, "name": c.name, "input": c.input}}),
                    );
                }
                push_turn(&mut messages, "assistant", "content", b);
            }
            Turn::Tool {
                call_id, content, ..
            } => {
                let text = content.text();
                // Converse refuses a blank result; say it was empty.
                let text = if text.trim().is_empty() {
                    "(no output)".to_owned()
                } else {
                    text
                };
                push_turn(
                    &mut messages,
                    "user",
                    "content",
                    vec![
                        json!({"toolResult": {"toolUseId": call_id, "content": [{"text": text}],
                        "status": "success"}}),
                    ],
                );
            }
        }
    }
    Ok((system, messages))
}
