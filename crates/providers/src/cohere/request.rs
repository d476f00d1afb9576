//! OpenAI chat completion request → Cohere v2 chat request.

use crate::translate::{
    function_tools, stop_list, thinking_budget, tool_choice, Fields, ToolChoice, TranslateError,
};
use crate::walk::{self, Content, PartKind, Turn};
use serde_json::{json, Map, Value};

/// Fields the translation expresses otherwise: usage always ends Cohere's streams.
const CARRIED_ELSEWHERE: &[&str] = &["stream_options"];

/// Cohere's `thinking` for an OpenAI reasoning effort (Command A Reasoning).
fn thinking(effort: &str) -> Option<Value> {
    Some(match thinking_budget(effort)? {
        0 => json!({"type": "disabled"}),
        budget => json!({"type": "enabled", "token_budget": budget}),
    })
}

/// Builds the Cohere chat body for `model` from an OpenAI chat request.
pub fn from_openai(req: &Value, model: &str, fields: &mut Fields) -> Result<Value, TranslateError> {
    let obj = req
        .as_object()
        .ok_or_else(|| TranslateError::field("", "request body must be a JSON object"))?;
    let mut out = Map::new();
    out.insert("model".into(), json!(model));
    let mut named_tool: Option<String> = None;
    for (k, v) in obj {
        if v.is_null() {
            continue;
        }
        match k.as_str() {
            "model" | "messages" | "tools" => {}
            "stream" => {
                if v.as_bool() == Some(true) {
                    out.insert("stream".into(), json!(true));
                }
            }
            "max_tokens" | "max_completion_tokens" => {
                out.insert("max_tokens".into(), v.clone());
            }
            "temperature" | "seed" | "frequency_penalty" | "presence_penalty" => {
                out.insert(k.clone(), v.clone());
            }
            "top_p" => {
                out.insert("p".into(), v.clone());
            }
            "top_k" => {
                out.insert("k".into(), v.clone());
            }
            "stop" => {
                out.insert("stop_sequences".into(), stop_list(v)?);
            }
            "response_format" => match v.get("type").and_then(Value::as_str) {
                Some("text") => {}
                Some("json_object") => {
                    out.insert("response_format".into(), json!({"type": "json_object"}));
                }
                Some("json_schema") => {
                    let mut rf = json!({"type": "json_object"});
                    if let Some(s) = v.pointer("/json_schema/schema") {
                        rf["json_schema"] = s.clone();
                    }
                    out.insert("response_format".into(), rf);
                }
                _ => {
                    return Err(TranslateError::field(
                        k,
                        "response_format.type must be text, json_object or json_schema",
                    ))
                }
            },
            "reasoning_effort" => {
                let effort = v.as_str().unwrap_or_default();
                let t = thinking(effort).ok_or_else(|| {
                    TranslateError::field(k, format!("unknown reasoning_effort \"{effort}\""))
                })?;
                out.insert("thinking".into(), t);
            }
            "tool_choice" => match tool_choice(v)? {
                None | Some(ToolChoice::Auto) => {}
                Some(ToolChoice::None) => {
                    out.insert("tool_choice".into(), json!("NONE"));
                }
                Some(ToolChoice::Required) => {
                    out.insert("tool_choice".into(), json!("REQUIRED"));
                }
                Some(ToolChoice::Function(name)) => {
                    // Cohere cannot name a tool: offering only that one and requiring a call
                    // means the same.
                    named_tool = Some(name.to_owned());
                    out.insert("tool_choice".into(), json!("REQUIRED"));
                }
            },
            other if CARRIED_ELSEWHERE.contains(&other) => {}
            other => fields.uncarried_chat(other, v, "a Cohere model")?,
        }
    }
    if let Some(t) = obj.get("tools") {
        let mut tools = Vec::new();
        for tool in function_tools(t, "Cohere")? {
            if named_tool.as_deref().is_some_and(|n| n != tool.name) {
                continue;
            }
            let mut func = Map::new();
            func.insert("name".into(), json!(tool.name));
            if let Some(d) = tool.description {
                func.insert("description".into(), d.clone());
            }
            if let Some(p) = tool.parameters {
                func.insert("parameters".into(), p.clone());
            }
            tools.push(json!({"type": "function", "function": func}));
        }
        if let Some(name) = &named_tool {
            if tools.is_empty() {
                return Err(TranslateError::field(
                    "tool_choice",
                    format!("tool_choice names '{name}', which is not among the tools"),
                ));
            }
        }
        if !tools.is_empty() {
            out.insert("tools".into(), Value::Array(tools));
        }
    }
    let messages = walk::messages(obj)?
        .into_iter()
        .map(|m| message(m.turn))
        .collect::<Result<Vec<_>, _>>()?;
    out.insert("messages".into(), Value::Array(messages));
    Ok(Value::Object(out))
}

/// OpenAI content → Cohere content: strings stay strings; text and image parts keep their shape.
fn content(c: &Content) -> Result<Value, TranslateError> {
    match c.raw {
        Value::Null => return Ok(json!("")),
        Value::String(_) => return Ok(c.raw.clone()),
        _ => {}
    }
    let parts = c
        .parts()?
        .iter()
        .map(|p| match p.kind {
            PartKind::Text(text) => Ok(json!({"type": "text", "text": text})),
            PartKind::Image(url) => Ok(json!({"type": "image_url", "image_url": {"url": url}})),
            _ => Err(p.refuse("a Cohere model")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Value::Array(parts))
}

fn message(turn: Turn) -> Result<Value, TranslateError> {
    Ok(match turn {
        Turn::System(c) => json!({"role": "system", "content": content(&c)?}),
        Turn::User(c) => json!({"role": "user", "content": content(&c)?}),
        Turn::Assistant {
            content: c, calls, ..
        } => {
            let mut out = json!({"role": "assistant"});
            if !c.is_empty() {
                out["content"] = content(&c)?;
            }
            if !calls.is_empty() {
                let calls: Vec<Value> = calls
                    .iter()
                    .map(|c| {
                        json!({"id": c.id, "type": "function",
                            "function": {"name": c.name, "arguments": c.arguments}})
                    })
                    .collect();
                out["tool_calls"] = Value::Array(calls);
            }
            out
        }
        Turn::Tool {
            call_id,
            content: c,
            ..
        } => json!({"role": "tool", "tool_call_id": call_id, "content": content(&c)?}),
    })
}
