//! Responses request → chat completion request.

use crate::translate::TranslateError;
use serde_json::{json, Map, Value};

/// Fields that change nothing for a stateless gateway.
const IGNORED: &[&str] = &[
    "store",
    "include",
    "metadata",
    "truncation",
    "service_tier",
    "prompt_cache_key",
    "safety_identifier",
    "background",
    "stream_options",
];

pub fn to_chat(req: &Value, model: &str) -> Result<Value, TranslateError> {
    let obj = req
        .as_object()
        .ok_or_else(|| TranslateError::field("", "request body must be a JSON object"))?;
    let mut out = Map::new();
    out.insert("model".into(), json!(model));
    let mut messages = Vec::new();
    if let Some(i) = obj.get("instructions").and_then(Value::as_str) {
        messages.push(json!({"role": "system", "content": i}));
    }
    for (k, v) in obj {
        match k.as_str() {
            "model" | "input" | "instructions" => {}
            "stream" => {
                if v.as_bool() == Some(true) {
                    out.insert("stream".into(), json!(true));
                    out.insert("stream_options".into(), json!({"include_usage": true}));
                }
            }
            "max_output_tokens" => {
                out.insert("max_tokens".into(), v.clone());
            }
            "temperature" | "top_p" | "parallel_tool_calls" | "user" => {
                out.insert(k.clone(), v.clone());
            }
            "reasoning" => {
                if let Some(e) = v.get("effort").filter(|e| !e.is_null()) {
                    out.insert("reasoning_effort".into(), e.clone());
                }
            }
            "tools" => {
                out.insert("tools".into(), tools(v)?);
            }
            "tool_choice" => {
                out.insert("tool_choice".into(), tool_choice(v)?);
            }
            "text" => {
                if let Some(f) = text_format(v)? {
                    out.insert("response_format".into(), f);
                }
            }
            "previous_response_id" if !v.is_null() => {
                return Err(TranslateError::field(
                    k,
                    "this gateway does not store responses: send the whole conversation in 'input'",
                ))
            }
            "previous_response_id" => {}
            other if IGNORED.contains(&other) => {}
            other => {
                return Err(TranslateError::field(
                    other,
                    format!("'{other}' is not supported by this gateway's Responses API"),
                ))
            }
        }
    }
    match obj.get("input") {
        Some(Value::String(s)) => messages.push(json!({"role": "user", "content": s})),
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                item_to_messages(item, i, &mut messages)?;
            }
        }
        _ => {
            return Err(TranslateError::field(
                "input",
                "input must be a string or an array of items",
            ))
        }
    }
    out.insert("messages".into(), Value::Array(messages));
    Ok(Value::Object(out))
}

fn tools(v: &Value) -> Result<Value, TranslateError> {
    let list = v
        .as_array()
        .ok_or_else(|| TranslateError::field("tools", "tools must be an array"))?;
    let mut out = Vec::new();
    for (i, t) in list.iter().enumerate() {
        if t.get("type").and_then(Value::as_str) != Some("function") {
            return Err(TranslateError::field(
                &format!("tools[{i}]"),
                "only function tools are supported; built-in tools need OpenAI's own Responses API",
            ));
        }
        let mut f = Map::new();
        for key in ["name", "description", "parameters", "strict"] {
            if let Some(x) = t.get(key).filter(|x| !x.is_null()) {
                f.insert(key.into(), x.clone());
            }
        }
        out.push(json!({"type": "function", "function": f}));
    }
    Ok(Value::Array(out))
}

fn tool_choice(v: &Value) -> Result<Value, TranslateError> {
    match v {
        Value::String(_) => Ok(v.clone()),
        Value::Object(_) if v.get("type").and_then(Value::as_str) == Some("function") => {
            Ok(json!({"type": "function", "function": {"name": v.get("name")}}))
        }
        _ => Err(TranslateError::field(
            "tool_choice",
            "unsupported tool_choice",
        )),
    }
}

fn text_format(v: &Value) -> Result<Option<Value>, TranslateError> {
    let Some(f) = v.get("format") else {
        return Ok(None);
    };
    match f.get("type").and_then(Value::as_str) {
        Some("text") | None => Ok(None),
        Some("json_object") => Ok(Some(json!({"type": "json_object"}))),
        Some("json_schema") => {
            let mut schema = Map::new();
            for key in ["name", "schema", "strict", "description"] {
                if let Some(x) = f.get(key).filter(|x| !x.is_null()) {
                    schema.insert(key.into(), x.clone());
                }
            }
            Ok(Some(json!({"type": "json_schema", "json_schema": schema})))
        }
        Some(other) => Err(TranslateError::field(
            "text.format",
            format!("unknown format '{other}'"),
        )),
    }
}

fn part(p: &Value, path: &str) -> Result<Value, TranslateError> {
    match p.get("type").and_then(Value::as_str) {
        Some("input_text" | "output_text" | "text") => {
            Ok(json!({"type": "text", "text": p.get("text")}))
        }
        Some("input_image") => {
            let url = p.get("image_url").and_then(Value::as_str).ok_or_else(|| {
                TranslateError::field(
                    path,
                    "input_image needs image_url (file_id is not supported)",
                )
            })?;
            Ok(
                json!({"type": "image_url", "image_url": {"url": url, "detail": p.get("detail").cloned().unwrap_or(json!("auto"))}}),
            )
        }
        Some(other) => Err(TranslateError::field(
            path,
            format!("content type '{other}' is not supported"),
        )),
        None => Err(TranslateError::field(path, "content part needs a type")),
    }
}

fn content(c: &Value, path: &str) -> Result<Value, TranslateError> {
    match c {
        Value::String(_) => Ok(c.clone()),
        Value::Array(parts) => {
            let parts = parts
                .iter()
                .enumerate()
                .map(|(j, p)| part(p, &format!("{path}[{j}]")))
                .collect::<Result<Vec<_>, _>>()?;
            if parts.len() == 1 && parts[0]["type"] == "text" {
                return Ok(parts[0]["text"].clone());
            }
            Ok(Value::Array(parts))
        }
        _ => Err(TranslateError::field(
            path,
            "content must be a string or an array",
        )),
    }
}

fn item_to_messages(item: &Value, i: usize, out: &mut Vec<Value>) -> Result<(), TranslateError> {
    let path = format!("input[{i}]");
    let kind = item
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("message");
    match kind {
        "message" => {
            let role = match item.get("role").and_then(Value::as_str) {
                Some("developer") => "system",
                Some(r @ ("user" | "assistant" | "system")) => r,
                _ => {
                    return Err(TranslateError::field(
                        &format!("{path}.role"),
                        "unknown role",
                    ))
                }
            };
            let c = content(
                item.get("content").unwrap_or(&Value::Null),
                &format!("{path}.content"),
            )?;
            out.push(json!({"role": role, "content": c}));
        }
        "function_call" => {
            let call = json!({"id": item.get("call_id"), "type": "function",
                "function": {"name": item.get("name"), "arguments": item.get("arguments").cloned().unwrap_or(json!("{}"))}});
            // Calls made in one turn join the assistant message just before them.
            if let Some(last) = out.last_mut().filter(|m| m["role"] == "assistant") {
                match last.get_mut("tool_calls").and_then(Value::as_array_mut) {
                    Some(calls) => calls.push(call),
                    None => last["tool_calls"] = json!([call]),
                }
            } else {
                out.push(json!({"role": "assistant", "content": null, "tool_calls": [call]}));
            }
        }
        "function_call_output" => {
            let output = match item.get("output") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            out.push(
                json!({"role": "tool", "tool_call_id": item.get("call_id"), "content": output}),
            );
        }
        // Reasoning items carry the model's own state; other models cannot use them.
        "reasoning" => {}
        other => {
            return Err(TranslateError::field(
                &format!("{path}.type"),
                format!("input item type '{other}' is not supported"),
            ))
        }
    }
    Ok(())
}
