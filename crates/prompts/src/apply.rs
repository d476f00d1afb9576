//! A rendered version merged into the caller's request, in the caller's API: the template's
//! messages first and the caller's after, the caller's model and parameters winning over the
//! version's. OpenAI chat takes the rendered messages as they are; a Responses request gets
//! them as input items (`input_text`, `input_image`) with the parameters renamed
//! (`max_output_tokens`, `text.format`, flat function tools); an Anthropic Messages request
//! gets them through the same translation the gateway uses for Anthropic upstreams (system
//! blocks, image sources, tools with `input_schema`).

use crate::render::Rendered;
use serde_json::{json, Map, Value};
use switchyard_providers::translate::{Fields, Policy};

/// The inbound API of the request a prompt is merged into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Chat,
    Responses,
    Messages,
}

/// A request the prompt cannot be merged into, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApplyError {
    pub message: String,
    pub param: Option<String>,
}

fn err(param: &str, message: impl Into<String>) -> ApplyError {
    ApplyError {
        message: message.into(),
        param: Some(param.to_owned()),
    }
}

/// Merges `r` into `body`; the model comes from the caller, else the version.
pub fn apply(api: Api, body: &mut Map<String, Value>, r: &Rendered) -> Result<(), ApplyError> {
    let has_model = body
        .get("model")
        .and_then(Value::as_str)
        .is_some_and(|m| !m.is_empty());
    if !has_model {
        match &r.body.model {
            Some(m) => {
                body.insert("model".into(), Value::String(m.clone()));
            }
            None => {
                return Err(err(
                    "model",
                    "The request names no model and the prompt version sets none.",
                ))
            }
        }
    }
    match api {
        Api::Chat => chat(body, r),
        Api::Responses => responses(body, r),
        Api::Messages => messages(body, r),
    }
}

fn fill(body: &mut Map<String, Value>, key: &str, v: Option<&Value>) {
    if let Some(v) = v {
        body.entry(key.to_owned()).or_insert_with(|| v.clone());
    }
}

/// A content part as OpenAI chat takes it (a variable may hold a Responses-shaped part).
fn chat_part(p: &Value) -> Value {
    match p.get("type").and_then(Value::as_str) {
        Some("input_text" | "output_text") => {
            json!({"type": "text", "text": p.get("text").cloned().unwrap_or(Value::Null)})
        }
        Some("input_image") => {
            let mut image = json!({"url": p.get("image_url").cloned().unwrap_or(Value::Null)});
            if let Some(d) = p.get("detail") {
                image["detail"] = d.clone();
            }
            json!({"type": "image_url", "image_url": image})
        }
        Some("input_file") => {
            let mut file = Map::new();
            for k in ["file_data", "file_id", "filename"] {
                if let Some(v) = p.get(k) {
                    file.insert(k.into(), v.clone());
                }
            }
            json!({"type": "file", "file": file})
        }
        _ => p.clone(),
    }
}

/// The rendered messages with every part in chat shape.
fn chat_messages(r: &Rendered) -> Vec<Value> {
    r.messages
        .iter()
        .map(|m| match m.get("content") {
            Some(Value::Array(parts)) => {
                let mut m = m.clone();
                m["content"] = Value::Array(parts.iter().map(chat_part).collect());
                m
            }
            _ => m.clone(),
        })
        .collect()
}

fn chat(body: &mut Map<String, Value>, r: &Rendered) -> Result<(), ApplyError> {
    let mut messages = chat_messages(r);
    match body.remove("messages") {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) => messages.extend(a),
        Some(_) => return Err(err("messages", "messages must be an array")),
    }
    body.insert("messages".into(), Value::Array(messages));
    for (k, v) in &r.body.params {
        fill(body, k, Some(v));
    }
    fill(body, "tools", r.body.tools.as_ref());
    fill(body, "tool_choice", r.body.tool_choice.as_ref());
    fill(body, "response_format", r.body.response_format.as_ref());
    Ok(())
}

/// A chat content part as a Responses input part.
fn responses_part(p: &Value, assistant: bool) -> Value {
    match p.get("type").and_then(Value::as_str) {
        Some("text") => {
            let kind = if assistant {
                "output_text"
            } else {
                "input_text"
            };
            json!({"type": kind, "text": p.get("text").cloned().unwrap_or(Value::Null)})
        }
        Some("image_url") => {
            let (url, detail) = match p.get("image_url") {
                Some(Value::String(u)) => (Value::String(u.clone()), None),
                Some(o) => (
                    o.get("url").cloned().unwrap_or(Value::Null),
                    o.get("detail").cloned(),
                ),
                None => (Value::Null, None),
            };
            let mut out = json!({"type": "input_image", "image_url": url});
            if let Some(d) = detail {
                out["detail"] = d;
            }
            out
        }
        Some("file") => {
            let mut out = json!({"type": "input_file"});
            if let Some(Value::Object(f)) = p.get("file") {
                for (k, v) in f {
                    out[k.as_str()] = v.clone();
                }
            }
            out
        }
        _ => p.clone(),
    }
}

fn responses(body: &mut Map<String, Value>, r: &Rendered) -> Result<(), ApplyError> {
    let mut input: Vec<Value> = r
        .messages
        .iter()
        .map(|m| {
            let role = m.get("role").cloned().unwrap_or(Value::Null);
            let assistant = role == "assistant";
            let content = match m.get("content") {
                Some(Value::Array(parts)) => {
                    Value::Array(parts.iter().map(|p| responses_part(p, assistant)).collect())
                }
                Some(other) => other.clone(),
                None => Value::Null,
            };
            json!({"role": role, "content": content})
        })
        .collect();
    match body.remove("input") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => input.push(json!({"role": "user", "content": s})),
        Some(Value::Array(a)) => input.extend(a),
        Some(_) => return Err(err("input", "input must be a string or an array")),
    }
    body.insert("input".into(), Value::Array(input));
    for (k, v) in &r.body.params {
        let name = match k.as_str() {
            "max_tokens" | "max_completion_tokens" => "max_output_tokens",
            other => other,
        };
        fill(body, name, Some(v));
    }
    if let Some(Value::Array(tools)) = &r.body.tools {
        let flat: Vec<Value> = tools
            .iter()
            .map(
                |t| match (t.get("type").and_then(Value::as_str), t.get("function")) {
                    (Some("function"), Some(Value::Object(f))) => {
                        let mut out = f.clone();
                        out.insert("type".into(), json!("function"));
                        Value::Object(out)
                    }
                    _ => t.clone(),
                },
            )
            .collect();
        fill(body, "tools", Some(&Value::Array(flat)));
    }
    if let Some(tc) = &r.body.tool_choice {
        let tc = match tc.get("function").and_then(|f| f.get("name")) {
            Some(name) => json!({"type": "function", "name": name}),
            None => tc.clone(),
        };
        fill(body, "tool_choice", Some(&tc));
    }
    if let Some(rf) = &r.body.response_format {
        let format = match (
            rf.get("type").and_then(Value::as_str),
            rf.get("json_schema"),
        ) {
            (Some("json_schema"), Some(Value::Object(s))) => {
                let mut out = s.clone();
                out.insert("type".into(), json!("json_schema"));
                Value::Object(out)
            }
            _ => rf.clone(),
        };
        if !body.contains_key("text") {
            body.insert("text".into(), json!({ "format": format }));
        }
    }
    Ok(())
}

/// `system` as blocks: a string becomes one text block.
fn system_blocks(v: Value) -> Vec<Value> {
    match v {
        Value::String(s) if s.is_empty() => Vec::new(),
        Value::String(s) => vec![json!({"type": "text", "text": s})],
        Value::Array(a) => a,
        _ => Vec::new(),
    }
}

fn messages(body: &mut Map<String, Value>, r: &Rendered) -> Result<(), ApplyError> {
    let mut chat = Map::new();
    chat.insert("messages".into(), Value::Array(chat_messages(r)));
    for (k, v) in &r.body.params {
        chat.insert(k.clone(), v.clone());
    }
    for (k, v) in [
        ("tools", &r.body.tools),
        ("tool_choice", &r.body.tool_choice),
        ("response_format", &r.body.response_format),
    ] {
        if let Some(v) = v {
            chat.insert(k.into(), v.clone());
        }
    }
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut fields = Fields::new(Policy::Strict);
    let translated = switchyard_providers::anthropic::request::from_openai(
        &Value::Object(chat),
        &model,
        &mut fields,
    )
    .map_err(|e| ApplyError {
        message: format!(
            "The prompt cannot be expressed as an Anthropic Messages request: {}",
            e.message
        ),
        param: e.param,
    })?;
    let Value::Object(mut t) = translated else {
        return Ok(());
    };
    let sets_max = r.body.params.contains_key("max_tokens")
        || r.body.params.contains_key("max_completion_tokens");
    // The template's system first, the caller's after.
    let mut system = system_blocks(t.remove("system").unwrap_or(Value::Null));
    if let Some(own) = body.remove("system") {
        if system.is_empty() {
            body.insert("system".into(), own);
        } else {
            system.extend(system_blocks(own));
        }
    }
    if !system.is_empty() {
        body.insert("system".into(), Value::Array(system));
    }
    let mut msgs = match t.remove("messages") {
        Some(Value::Array(a)) => a,
        _ => Vec::new(),
    };
    match body.remove("messages") {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) => msgs.extend(a),
        Some(_) => return Err(err("messages", "messages must be an array")),
    }
    body.insert("messages".into(), Value::Array(msgs));
    for (k, v) in t {
        if k == "model" || k == "stream" || (k == "max_tokens" && !sets_max) {
            continue;
        }
        body.entry(k).or_insert(v);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
