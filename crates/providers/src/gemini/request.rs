//! OpenAI chat completion request → Gemini GenerateContentRequest.

use super::schema::to_gemini;
use super::signature_from_id;
use crate::translate::{
    data_url, function_tools, push_turn, request_messages, stop_list, thinking_budget, tool_call,
    tool_call_id, tool_choice, tool_result_text, ToolChoice, TranslateError,
};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// OpenAI fields with no Gemini equivalent that are harmless to leave out. `parallel_tool_calls`
/// is here because Gemini has no switch for it: it may always call several functions at once.
const IGNORED: &[&str] = &[
    "store",
    "service_tier",
    "prompt_cache_key",
    "safety_identifier",
    "user",
    "metadata",
    "parallel_tool_calls",
];

/// Builds the GenerateContentRequest from an OpenAI chat request.
pub fn from_openai(req: &Value) -> Result<Value, TranslateError> {
    let obj = req
        .as_object()
        .ok_or_else(|| TranslateError::field("", "request body must be a JSON object"))?;
    let mut out = Map::new();
    let mut config = Map::new();
    for (k, v) in obj {
        if v.is_null() {
            continue;
        }
        match k.as_str() {
            "model" | "messages" | "stream" | "stream_options" => {}
            "max_tokens" | "max_completion_tokens" => {
                config.insert("maxOutputTokens".into(), v.clone());
            }
            "temperature" => {
                config.insert("temperature".into(), v.clone());
            }
            "top_p" => {
                config.insert("topP".into(), v.clone());
            }
            "top_k" => {
                config.insert("topK".into(), v.clone());
            }
            "n" => {
                config.insert("candidateCount".into(), v.clone());
            }
            "seed" => {
                config.insert("seed".into(), v.clone());
            }
            "presence_penalty" => {
                config.insert("presencePenalty".into(), v.clone());
            }
            "frequency_penalty" => {
                config.insert("frequencyPenalty".into(), v.clone());
            }
            "logprobs" => {
                config.insert("responseLogprobs".into(), v.clone());
            }
            "top_logprobs" => {
                config.insert("logprobs".into(), v.clone());
            }
            "stop" => {
                config.insert("stopSequences".into(), stop_list(v)?);
            }
            "response_format" => response_format(v, &mut config)?,
            "reasoning_effort" => {
                let effort = v.as_str().unwrap_or_default();
                let budget = thinking_budget(effort).ok_or_else(|| {
                    TranslateError::field(k, format!("unknown reasoning_effort \"{effort}\""))
                })?;
                config.insert(
                    "thinkingConfig".into(),
                    json!({"thinkingBudget": budget, "includeThoughts": budget > 0}),
                );
            }
            "tools" => {
                if let Some(t) = tools(v)? {
                    out.insert("tools".into(), t);
                }
            }
            "tool_choice" => {
                if let Some(c) = tool_choice(v)? {
                    out.insert("toolConfig".into(), tool_config(c));
                }
            }
            other if IGNORED.contains(&other) => {}
            other => {
                return Err(TranslateError::field(
                    other,
                    format!("'{other}' cannot be sent to a Gemini model"),
                ))
            }
        }
    }
    let input = request_messages(obj)?;
    let (system, contents) = contents(input)?;
    if !system.is_empty() {
        out.insert("systemInstruction".into(), json!({"parts": system}));
    }
    out.insert("contents".into(), Value::Array(contents));
    if !config.is_empty() {
        out.insert("generationConfig".into(), Value::Object(config));
    }
    Ok(Value::Object(out))
}

fn response_format(v: &Value, config: &mut Map<String, Value>) -> Result<(), TranslateError> {
    match v.get("type").and_then(Value::as_str) {
        Some("text") => {}
        Some("json_object") => {
            config.insert("responseMimeType".into(), json!("application/json"));
        }
        Some("json_schema") => {
            config.insert("responseMimeType".into(), json!("application/json"));
            if let Some(schema) = v.pointer("/json_schema/schema") {
                config.insert(
                    "responseSchema".into(),
                    to_gemini(schema, "response_format.json_schema.schema")?,
                );
            }
        }
        _ => {
            return Err(TranslateError::field(
                "response_format",
                "response_format.type must be text, json_object or json_schema",
            ))
        }
    }
    Ok(())
}

fn tools(v: &Value) -> Result<Option<Value>, TranslateError> {
    let list = function_tools(v, "Gemini")?;
    if list.is_empty() {
        return Ok(None);
    }
    let mut decls = Vec::with_capacity(list.len());
    for t in list {
        let mut d = Map::new();
        d.insert("name".into(), json!(t.name));
        if let Some(desc) = t.description {
            d.insert("description".into(), desc.clone());
        }
        if let Some(p) = t.parameters {
            let schema = to_gemini(p, &format!("tools[{}].function.parameters", t.index))?;
            // Gemini refuses an OBJECT without properties; a function without parameters says
            // so by leaving them out.
            if schema.get("properties").is_some() || schema.get("type") != Some(&json!("OBJECT")) {
                d.insert("parameters".into(), schema);
            }
        }
        decls.push(Value::Object(d));
    }
    Ok(Some(json!([{"functionDeclarations": decls}])))
}

fn tool_config(choice: ToolChoice) -> Value {
    let config = match choice {
        ToolChoice::Auto => json!({"mode": "AUTO"}),
        ToolChoice::None => json!({"mode": "NONE"}),
        ToolChoice::Required => json!({"mode": "ANY"}),
        ToolChoice::Function(name) => json!({"mode": "ANY", "allowedFunctionNames": [name]}),
    };
    json!({"functionCallingConfig": config})
}

/// A `data:` URL → Gemini `inlineData`.
fn inline_data(url: &str, path: &str) -> Result<Value, TranslateError> {
    let (mime, data) = data_url(url, path)?.ok_or_else(|| {
        TranslateError::field(
            path,
            "Gemini cannot fetch image URLs itself: send the image as a data: URL (base64)",
        )
    })?;
    Ok(json!({"inlineData": {"mimeType": mime, "data": data}}))
}

/// OpenAI content (string or parts) → Gemini parts.
fn parts(content: &Value, path: &str) -> Result<Vec<Value>, TranslateError> {
    match content {
        Value::Null => Ok(Vec::new()),
        Value::String(s) if s.is_empty() => Ok(Vec::new()),
        Value::String(s) => Ok(vec![json!({"text": s})]),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (j, p) in items.iter().enumerate() {
                let pp = format!("{path}[{j}]");
                match p.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        let text = p.get("text").and_then(Value::as_str).unwrap_or("");
                        out.push(json!({"text": text}));
                    }
                    Some("image_url") => {
                        let url = p
                            .pointer("/image_url/url")
                            .and_then(Value::as_str)
                            .ok_or_else(|| {
                                TranslateError::field(&pp, "image_url.url is required")
                            })?;
                        out.push(inline_data(url, &pp)?);
                    }
                    Some("input_audio") => {
                        let data = p
                            .pointer("/input_audio/data")
                            .and_then(Value::as_str)
                            .ok_or_else(|| {
                                TranslateError::field(&pp, "input_audio.data is required")
                            })?;
                        let format = p
                            .pointer("/input_audio/format")
                            .and_then(Value::as_str)
                            .unwrap_or("wav");
                        out.push(json!({"inlineData": {"mimeType": format!("audio/{format}"), "data": data}}));
                    }
                    Some("file") => {
                        let data = p
                            .pointer("/file/file_data")
                            .and_then(Value::as_str)
                            .ok_or_else(|| {
                                TranslateError::field(
                                    &pp,
                                    "file parts need file.file_data (uploaded file ids are OpenAI's own)",
                                )
                            })?;
                        out.push(inline_data(data, &pp)?);
                    }
                    Some(other) => {
                        return Err(TranslateError::field(
                            &pp,
                            format!("content part type '{other}' cannot be sent to a Gemini model"),
                        ))
                    }
                    None => return Err(TranslateError::field(&pp, "content part needs a type")),
                }
            }
            Ok(out)
        }
        _ => Err(TranslateError::field(
            path,
            "content must be a string or an array of parts",
        )),
    }
}

/// The system parts and the conversation.
fn contents(input: &[Value]) -> Result<(Vec<Value>, Vec<Value>), TranslateError> {
    let mut system = Vec::new();
    let mut contents = Vec::new();
    // Gemini's functionResponse names the function; OpenAI's tool message names the call id.
    let mut names: HashMap<String, String> = HashMap::new();
    for (i, m) in input.iter().enumerate() {
        let path = format!("messages[{i}]");
        let role = m
            .get("role")
            .and_then(Value::as_str)
            .ok_or_else(|| TranslateError::field(&format!("{path}.role"), "role is required"))?;
        let content = m.get("content").unwrap_or(&Value::Null);
        let cpath = format!("{path}.content");
        match role {
            "system" | "developer" => system.extend(parts(content, &cpath)?),
            "user" => push_turn(&mut contents, "user", "parts", parts(content, &cpath)?),
            "assistant" => {
                let mut p = parts(content, &cpath)?;
                for (j, c) in m
                    .get("tool_calls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let (id, name, args) = tool_call(c, &format!("{path}.tool_calls[{j}]"))?;
                    names.insert(id.to_owned(), name.to_owned());
                    let mut part = json!({"functionCall": {"name": name, "args": args}});
                    if let Some(sig) = signature_from_id(id) {
                        part["thoughtSignature"] = json!(sig);
                    }
                    p.push(part);
                }
                push_turn(&mut contents, "model", "parts", p);
            }
            "tool" => {
                let id = tool_call_id(m, &path)?;
                let name = names.get(id).ok_or_else(|| {
                    TranslateError::field(
                        &format!("{path}.tool_call_id"),
                        format!("no earlier assistant tool call has id '{id}'"),
                    )
                })?;
                let text = tool_result_text(content);
                // A JSON object result goes as it is; anything else is wrapped, as Google's SDKs do.
                let response = match serde_json::from_str::<Value>(&text) {
                    Ok(v @ Value::Object(_)) => v,
                    _ => json!({"result": text}),
                };
                push_turn(
                    &mut contents,
                    "user",
                    "parts",
                    vec![json!({"functionResponse": {"name": name, "response": response}})],
                );
            }
            other => {
                return Err(TranslateError::field(
                    &format!("{path}.role"),
                    format!("unknown role '{other}'"),
                ))
            }
        }
    }
    Ok((system, contents))
}
