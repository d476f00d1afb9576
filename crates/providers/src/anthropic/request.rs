//! OpenAI chat completion request → Anthropic Messages request.

use super::DEFAULT_MAX_TOKENS;
use crate::translate::{
    anthropic_effort, data_url, function_tools, json_tool_schema, push_turn, stop_list,
    thinking_budget, thinks_adaptively, tool_choice, Fields, ToolChoice, TranslateError, JSON_TOOL,
    THINKING_NEEDS_ITS_BLOCKS,
};
use crate::walk::{self, Content, Part, PartKind, Turn};
use serde_json::{json, Map, Value};

/// Builds the Messages body for `model` from an OpenAI chat request.
pub fn from_openai(req: &Value, model: &str, fields: &mut Fields) -> Result<Value, TranslateError> {
    let obj = req
        .as_object()
        .ok_or_else(|| TranslateError::field("", "request body must be a JSON object"))?;
    let mut out = Map::new();
    out.insert("model".into(), Value::String(model.to_owned()));
    let mut system: Vec<Value> = Vec::new();
    let mut messages: Vec<Value> = Vec::new();
    let mut json_schema = None;
    for (k, v) in obj {
        match k.as_str() {
            "model" | "messages" | "stream_options" => {}
            "stream" => {
                if v.as_bool() == Some(true) {
                    out.insert("stream".into(), Value::Bool(true));
                }
            }
            "max_tokens" | "max_completion_tokens" => {
                if !v.is_null() {
                    out.insert("max_tokens".into(), v.clone());
                }
            }
            "temperature" => {
                if let Some(t) = v.as_f64() {
                    if t > 1.0 {
                        return Err(TranslateError::field(
                            k,
                            format!("temperature {t} is above Anthropic's maximum of 1"),
                        ));
                    }
                    out.insert(k.clone(), v.clone());
                }
            }
            "top_p" => {
                if !v.is_null() {
                    out.insert(k.clone(), v.clone());
                }
            }
            "stop" => {
                if !v.is_null() {
                    out.insert("stop_sequences".into(), stop_list(v)?);
                }
            }
            "tools" => {
                if let Some(tools) = tools(v)? {
                    out.insert("tools".into(), tools);
                }
            }
            "tool_choice" => {
                if let Some(tc) = anthropic_tool_choice(v)? {
                    out.insert("tool_choice".into(), tc);
                }
            }
            "parallel_tool_calls" => {}
            "reasoning_effort" if thinks_adaptively(model) => {
                let effort = v.as_str().unwrap_or_default();
                match anthropic_effort(effort, model) {
                    Some(None) => {}
                    Some(Some(level)) => {
                        out.insert("thinking".into(), json!({"type": "adaptive"}));
                        out.insert("output_config".into(), json!({"effort": level}));
                    }
                    None => {
                        return Err(TranslateError::field(
                            k,
                            format!("unknown reasoning_effort \"{effort}\""),
                        ))
                    }
                }
            }
            "reasoning_effort" => {
                let effort = v.as_str().unwrap_or_default();
                match thinking_budget(effort) {
                    Some(0) => {}
                    Some(budget) => {
                        out.insert(
                            "thinking".into(),
                            json!({"type": "enabled", "budget_tokens": budget}),
                        );
                    }
                    None => {
                        return Err(TranslateError::field(
                            k,
                            format!("unknown reasoning_effort \"{effort}\""),
                        ))
                    }
                }
            }
            "user" => {
                if let Some(u) = v.as_str() {
                    out.insert("metadata".into(), json!({"user_id": u}));
                }
            }
            "response_format" => json_schema = json_tool_schema(v)?,
            other => fields.uncarried_chat(other, v, "an Anthropic model")?,
        }
    }
    if let Some(schema) = json_schema {
        // Anthropic has no JSON mode: a forced tool whose input is the answer.
        if out.contains_key("tools") {
            return Err(TranslateError::field(
                "response_format",
                "a JSON response_format cannot be combined with tools for Anthropic models",
            ));
        }
        out.insert(
            "tools".into(),
            json!([{"name": JSON_TOOL, "description": "Give the answer as this tool's input.",
                "input_schema": schema}]),
        );
        out.insert(
            "tool_choice".into(),
            json!({"type": "tool", "name": JSON_TOOL}),
        );
    }
    if obj.get("parallel_tool_calls") == Some(&Value::Bool(false)) {
        let tc = out
            .entry("tool_choice")
            .or_insert_with(|| json!({"type": "auto"}));
        if let Some(m) = tc.as_object_mut() {
            m.insert("disable_parallel_tool_use".into(), Value::Bool(true));
        }
    }
    for m in walk::messages(obj)? {
        convert_message(m.turn, &mut system, &mut messages)?;
    }
    if !system.is_empty() {
        out.insert("system".into(), Value::Array(system));
    }
    out.insert("messages".into(), Value::Array(messages));
    thinking_needs_its_blocks(&mut out, fields)?;
    fit_thinking(&mut out)?;
    Ok(Value::Object(out))
}

/// A signed thinking block the caller sent back (`thinking_blocks` of an assistant message), as
/// Anthropic takes it; unsigned ones cannot be sent.
fn thinking_block(b: &Value) -> Option<Value> {
    let s = |k: &str| b.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    match s("type")? {
        "thinking" => Some(
            json!({"type": "thinking", "thinking": s("thinking").unwrap_or(""),
            "signature": s("signature")?}),
        ),
        "redacted_thinking" => Some(json!({"type": "redacted_thinking", "data": s("data")?})),
        _ => None,
    }
}

/// With thinking on, Anthropic refuses a tool-use turn sent back without its signed thinking
/// block first ("a final assistant message must start with a thinking block"). Callers that do
/// not keep `thinking_blocks` (most chat clients) then get the answer without thinking: the
/// setting is left out and named, as an advisory field.
fn thinking_needs_its_blocks(
    out: &mut Map<String, Value>,
    fields: &mut Fields,
) -> Result<(), TranslateError> {
    if !out.contains_key("thinking") {
        return Ok(());
    }
    let last_call = out
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("assistant"))
        .and_then(|m| m.get("content").and_then(Value::as_array))
        .filter(|c| {
            c.iter()
                .any(|b| b.get("type").and_then(Value::as_str) == Some("tool_use"))
        });
    let Some(content) = last_call else {
        return Ok(());
    };
    let starts_signed = matches!(
        content
            .first()
            .and_then(|b| b.get("type"))
            .and_then(Value::as_str),
        Some("thinking" | "redacted_thinking")
    );
    if !starts_signed {
        fields.advisory("reasoning_effort", THINKING_NEEDS_ITS_BLOCKS)?;
        out.remove("thinking");
    }
    Ok(())
}

/// Room for adaptive thinking when the caller sets no `max_tokens`: as much as the highest
/// thinking budget.
const ADAPTIVE_ROOM: u64 = 24576;

/// Anthropic requires `max_tokens`, and a thinking budget below it: with no `max_tokens` the
/// answer gets the default on top of the budget; a `max_tokens` too small for the budget shrinks
/// the budget, down to Anthropic's minimum.
fn fit_thinking(out: &mut Map<String, Value>) -> Result<(), TranslateError> {
    let forced = matches!(
        out.get("tool_choice")
            .and_then(|c| c.get("type"))
            .and_then(Value::as_str),
        Some("any" | "tool")
    );
    if forced && out.contains_key("thinking") {
        return Err(TranslateError::field(
            "reasoning_effort",
            "Anthropic models cannot think while a tool call is forced (tool_choice required, a named tool, or a JSON response_format)",
        ));
    }
    let adaptive = out.get("thinking").and_then(|t| t.get("type")) == Some(&json!("adaptive"));
    let budget = out
        .get("thinking")
        .and_then(|t| t.get("budget_tokens"))
        .and_then(Value::as_u64)
        // Adaptive thinking has no budget: room for the highest one, when no max_tokens is given.
        .or(adaptive.then_some(ADAPTIVE_ROOM));
    let max = out.get("max_tokens").and_then(Value::as_u64);
    if adaptive {
        if max.is_none() {
            out.insert(
                "max_tokens".into(),
                json!(ADAPTIVE_ROOM + DEFAULT_MAX_TOKENS),
            );
        }
        return Ok(());
    }
    match (budget, max) {
        (None, None) => {
            out.insert("max_tokens".into(), json!(DEFAULT_MAX_TOKENS));
        }
        (Some(b), None) => {
            out.insert("max_tokens".into(), json!(b + DEFAULT_MAX_TOKENS));
        }
        (Some(b), Some(m)) if b >= m => {
            if m <= 1024 {
                return Err(TranslateError::field(
                    "reasoning_effort",
                    format!("max_tokens {m} leaves no room for Anthropic's minimum thinking budget of 1024"),
                ));
            }
            out.insert(
                "thinking".into(),
                json!({"type": "enabled", "budget_tokens": (m - 1).min(b).max(1024)}),
            );
        }
        _ => {}
    }
    Ok(())
}

fn tools(v: &Value) -> Result<Option<Value>, TranslateError> {
    if v.is_null() {
        return Ok(None);
    }
    let out = function_tools(v, "Anthropic")?
        .into_iter()
        .map(|t| {
            let mut tool = Map::new();
            tool.insert("name".into(), json!(t.name));
            if let Some(d) = t.description {
                tool.insert("description".into(), d.clone());
            }
            tool.insert("input_schema".into(), t.schema_or_empty());
            if let Some(cc) = t
                .entry
                .get("cache_control")
                .or_else(|| t.function.get("cache_control"))
            {
                tool.insert("cache_control".into(), cc.clone());
            }
            Value::Object(tool)
        })
        .collect();
    Ok(Some(Value::Array(out)))
}

fn anthropic_tool_choice(v: &Value) -> Result<Option<Value>, TranslateError> {
    Ok(tool_choice(v)?.map(|c| match c {
        ToolChoice::Auto => json!({"type": "auto"}),
        ToolChoice::None => json!({"type": "none"}),
        ToolChoice::Required => json!({"type": "any"}),
        ToolChoice::Function(name) => json!({"type": "tool", "name": name}),
    }))
}

/// An OpenAI content value as Anthropic content blocks.
fn blocks(content: &Content) -> Result<Vec<Value>, TranslateError> {
    content.parts()?.iter().map(block).collect()
}

/// One OpenAI content part → one Anthropic content block, with its prompt-caching mark.
fn block(p: &Part) -> Result<Value, TranslateError> {
    let mut block = match p.kind {
        PartKind::Text(text) => json!({"type": "text", "text": text}),
        PartKind::Image(url) => image_block(url, &p.path)?,
        _ => return Err(p.refuse("an Anthropic model")),
    };
    if let Some(cc) = p.cache_control() {
        block["cache_control"] = cc.clone();
    }
    Ok(block)
}

/// `data:` URLs become base64 sources; http(s) URLs are passed as URL sources, which Anthropic
/// fetches itself.
fn image_block(url: &str, path: &str) -> Result<Value, TranslateError> {
    if let Some((media_type, data)) = data_url(url, path)? {
        return Ok(
            json!({"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}),
        );
    }
    if url.starts_with("https://") || url.starts_with("http://") {
        return Ok(json!({"type": "image", "source": {"type": "url", "url": url}}));
    }
    Err(TranslateError::field(
        path,
        "image URLs must be http(s) or data: URLs",
    ))
}

fn convert_message(
    turn: Turn,
    system: &mut Vec<Value>,
    messages: &mut Vec<Value>,
) -> Result<(), TranslateError> {
    match turn {
        Turn::System(c) => system.extend(blocks(&c)?),
        Turn::User(c) => push_turn(messages, "user", "content", blocks(&c)?),
        Turn::Assistant {
            content,
            thinking,
            calls,
            ..
        } => {
            // Signed thinking first, as the model wrote it: a tool-use turn needs it back.
            let mut out: Vec<Value> = thinking.iter().filter_map(thinking_block).collect();
            out.extend(blocks(&content)?);
            for c in calls {
                out.push(json!({"type": "tool_use", "id": c.id, "name": c.name, "input": c.input}));
            }
            push_turn(messages, "assistant", "content", out);
        }
        Turn::Tool {
            call_id, content, ..
        } => {
            let result = match content.raw {
                Value::String(s) => json!(s),
                _ => Value::Array(blocks(&content)?),
            };
            push_turn(
                messages,
                "user",
                "content",
                vec![json!({"type": "tool_result", "tool_use_id": call_id, "content": result})],
            );
        }
    }
    Ok(())
}
