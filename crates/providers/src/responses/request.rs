//! Responses request → chat completion request.

use crate::translate::{Fields, TranslateError};
use serde_json::{json, Map, Value};

/// Responses fields that chat completions takes under the same name (the target then carries
/// them or leaves them out by its own policy).
const SAME_IN_CHAT: &[&str] = &[
    "temperature",
    "top_p",
    "parallel_tool_calls",
    "user",
    "store",
    "metadata",
    "service_tier",
    "prompt_cache_key",
    "safety_identifier",
];

pub fn to_chat(req: &Value, model: &str, fields: &mut Fields) -> Result<Value, TranslateError> {
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
            "stream" if v.as_bool() == Some(true) => {
                out.insert("stream".into(), json!(true));
                out.insert("stream_options".into(), json!({"include_usage": true}));
            }
            "stream" => {}
            "max_output_tokens" => {
                out.insert("max_tokens".into(), v.clone());
            }
            other if SAME_IN_CHAT.contains(&other) && !v.is_null() => {
                out.insert(k.clone(), v.clone());
            }
            other if SAME_IN_CHAT.contains(&other) => {}
            "reasoning" => reasoning(v, &mut out, fields)?,
            "tools" => {
                out.insert("tools".into(), tools(v, obj.get("tool_choice"), fields)?);
            }
            "tool_choice" => {
                if let Some(c) = tool_choice(v)? {
                    out.insert("tool_choice".into(), c);
                }
            }
            "text" => text(v, &mut out, fields)?,
            // State this gateway does not keep, or work it does not do in the background: the
            // answer would not be the one asked for.
            "previous_response_id" | "conversation" | "prompt" if !v.is_null() => {
                fields.contract(
                    k,
                    format!("this gateway does not store responses, conversations or prompts: '{k}' cannot be used; send the whole conversation in 'input'"),
                )?
            }
            "background" if v.as_bool() == Some(true) => fields.contract(
                k,
                "background responses are not supported by this gateway",
            )?,
            // The gateway reports usage on every stream.
            "stream_options" => {}
            // Signed thinking comes back in reasoning items' encrypted_content (Echo); other
            // additions (logprobs, search results, ...) cannot be had through chat.
            "include"
                if v
                    .as_array()
                    .is_some_and(|a| a.iter().all(|i| i == "reasoning.encrypted_content")) => {}
            // Hints, client bookkeeping (`include`, `truncation`, `client_metadata`, ...) and
            // fields this gateway does not know: left out when the target cannot take them.
            other if !v.is_null() => fields.advisory(
                other,
                format!("'{other}' is not supported by this gateway's Responses API"),
            )?,
            _ => {}
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

/// The Responses field a chat-completions field was made from, for naming what a later step
/// left out in the caller's terms.
pub fn caller_field(chat: &str) -> Option<&'static str> {
    Some(match chat {
        "max_tokens" => "max_output_tokens",
        "reasoning_effort" => "reasoning.effort",
        "response_format" => "text.format",
        "verbosity" => "text.verbosity",
        _ => return None,
    })
}

/// `reasoning`: the effort is carried; a summary cannot be asked of a chat model.
fn reasoning(
    v: &Value,
    out: &mut Map<String, Value>,
    fields: &mut Fields,
) -> Result<(), TranslateError> {
    for (k, x) in v.as_object().into_iter().flatten() {
        match k.as_str() {
            "effort" if !x.is_null() => {
                out.insert("reasoning_effort".into(), x.clone());
            }
            _ if x.is_null() => {}
            other => fields.advisory(
                &format!("reasoning.{other}"),
                format!("'reasoning.{other}' is not supported through chat completions"),
            )?,
        }
    }
    Ok(())
}

/// `text`: the format becomes `response_format`, the verbosity chat's `verbosity`.
fn text(
    v: &Value,
    out: &mut Map<String, Value>,
    fields: &mut Fields,
) -> Result<(), TranslateError> {
    if let Some(f) = text_format(v)? {
        out.insert("response_format".into(), f);
    }
    for (k, x) in v.as_object().into_iter().flatten() {
        match k.as_str() {
            "format" => {}
            "verbosity" => {
                if !x.is_null() {
                    out.insert("verbosity".into(), x.clone());
                }
            }
            _ if x.is_null() => {}
            other => fields.advisory(
                &format!("text.{other}"),
                format!("'text.{other}' is not supported through chat completions"),
            )?,
        }
    }
    Ok(())
}

/// The tool `tool_choice` forces, when it names one.
fn forced_tool(choice: Option<&Value>) -> Option<&str> {
    let c = choice?;
    c.get("name")
        .or_else(|| c.pointer("/function/name"))
        .and_then(Value::as_str)
        .or_else(|| {
            // `{"type": "web_search"}`: a hosted tool forced by its type.
            c.get("type")
                .and_then(Value::as_str)
                .filter(|t| !matches!(*t, "function" | "custom" | "allowed_tools"))
        })
}

/// Function tools become chat's; tools only OpenAI's own Responses API runs (web search, tool
/// search, file search, ...) and tool kinds chat has no place for are left out and named, or
/// a 400 when `tool_choice` forces one of them.
fn tools(v: &Value, choice: Option<&Value>, fields: &mut Fields) -> Result<Value, TranslateError> {
    let list = v
        .as_array()
        .ok_or_else(|| TranslateError::field("tools", "tools must be an array"))?;
    let forced = forced_tool(choice);
    let mut out = Vec::new();
    for (i, t) in list.iter().enumerate() {
        let kind = t.get("type").and_then(Value::as_str).unwrap_or("");
        if kind == "custom" {
            out.push(custom_tool(t, fields)?);
            continue;
        }
        if kind != "function" {
            let name = t.get("name").and_then(Value::as_str).unwrap_or(kind);
            let why = format!(
                "'{kind}' tools cannot run through chat completions; only function tools are carried"
            );
            if forced.is_some_and(|f| f == name || f == kind) {
                fields.contract(&format!("tools[{i}]"), why)?;
            } else {
                fields.advisory(&format!("tools[{i}]"), why)?;
            }
            continue;
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

/// A custom (freeform) tool as a function taking one string, `input`. Chat models cannot be held
/// to a grammar: its definition goes into the description, and `format` is named as left out.
fn custom_tool(t: &Value, fields: &mut Fields) -> Result<Value, TranslateError> {
    let name = t
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| TranslateError::field("tools[].name", "custom tools need a name"))?;
    let mut description = t
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let format = t.get("format").filter(|f| !f.is_null());
    if let Some(def) = format
        .filter(|f| f.get("type").and_then(Value::as_str) == Some("grammar"))
        .and_then(|f| f.get("definition"))
        .and_then(Value::as_str)
    {
        let syntax = format
            .and_then(|f| f.get("syntax"))
            .and_then(Value::as_str)
            .unwrap_or("lark");
        description.push_str(&format!(
            "\n\nThe input must follow this {syntax} grammar:\n{def}"
        ));
    }
    if format.is_some_and(|f| f.get("type").and_then(Value::as_str) != Some("text")) {
        fields.advisory(
            "tools[].format",
            "custom tool grammars cannot be enforced through chat completions",
        )?;
    }
    Ok(json!({"type": "function", "function": {
        "name": name,
        "description": description,
        "parameters": {
            "type": "object",
            "properties": {"input": {"type": "string", "description": "The tool's input, as free text."}},
            "required": ["input"],
            "additionalProperties": false,
        },
    }}))
}

/// `tool_choice` in chat's shape; `None` when it forces a tool chat cannot carry (that tool's
/// refusal or omission is decided with the tools).
fn tool_choice(v: &Value) -> Result<Option<Value>, TranslateError> {
    match v {
        Value::String(_) => Ok(Some(v.clone())),
        Value::Object(_)
            if matches!(
                v.get("type").and_then(Value::as_str),
                Some("function" | "custom")
            ) =>
        {
            Ok(Some(
                json!({"type": "function", "function": {"name": v.get("name")}}),
            ))
        }
        Value::Object(_) => Ok(None),
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

/// A tool call item, joined to the assistant message just before it (calls made in one turn).
/// An assistant message holding only the thinking of a reasoning item so far.
fn thinking_only(m: &Value) -> bool {
    m["role"] == "assistant" && m["content"].is_null() && m.get("tool_calls").is_none()
}

fn push_call(out: &mut Vec<Value>, item: &Value, arguments: Value) {
    let call = json!({"id": item.get("call_id"), "type": "function",
        "function": {"name": item.get("name"), "arguments": arguments}});
    if let Some(last) = out.last_mut().filter(|m| m["role"] == "assistant") {
        match last.get_mut("tool_calls").and_then(Value::as_array_mut) {
            Some(calls) => calls.push(call),
            None => last["tool_calls"] = json!([call]),
        }
    } else {
        out.push(json!({"role": "assistant", "content": null, "tool_calls": [call]}));
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
            match out.last_mut() {
                // The reasoning item before it opened this assistant turn.
                Some(last) if role == "assistant" && thinking_only(last) => last["content"] = c,
                _ => out.push(json!({"role": role, "content": c})),
            }
        }
        "function_call" => {
            let args = item.get("arguments").cloned().unwrap_or(json!("{}"));
            push_call(out, item, args);
        }
        // A freeform tool's call: to chat models the tool is a function taking one string.
        "custom_tool_call" => {
            let input = item.get("input").and_then(Value::as_str).unwrap_or("");
            push_call(out, item, json!(json!({ "input": input }).to_string()));
        }
        "function_call_output" | "custom_tool_call_output" => {
            let output = match item.get("output") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            out.push(
                json!({"role": "tool", "tool_call_id": item.get("call_id"), "content": output}),
            );
        }
        // Reasoning items carry the model's own state. Signed thinking this gateway returned
        // goes back on the assistant turn it came with; other models' state cannot be used.
        "reasoning" => {
            let blocks = item
                .get("encrypted_content")
                .and_then(Value::as_str)
                .and_then(super::open_thinking);
            if let Some(blocks) = blocks {
                out.push(json!({"role": "assistant", "content": null, "thinking_blocks": blocks}));
            }
        }
        other => {
            return Err(TranslateError::field(
                &format!("{path}.type"),
                format!("input item type '{other}' is not supported"),
            ))
        }
    }
    Ok(())
}
