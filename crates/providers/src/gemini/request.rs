//! OpenAI chat completion request → Gemini GenerateContentRequest.

use super::schema::to_gemini;
use super::signature_from_id;
use crate::translate::{
    data_url, function_tools, push_turn, stop_list, thinking_budget, tool_choice, Fields,
    ToolChoice, TranslateError,
};
use crate::walk::{self, Content, PartKind, Turn};
use serde_json::{json, Map, Value};

/// Builds the GenerateContentRequest from an OpenAI chat request.
pub fn from_openai(req: &Value, fields: &mut Fields) -> Result<Value, TranslateError> {
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
            other => fields.uncarried_chat(other, v, "a Gemini model")?,
        }
    }
    let (system, contents) = contents(obj)?;
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
fn parts(content: &Content) -> Result<Vec<Value>, TranslateError> {
    content
        .parts()?
        .iter()
        .map(|p| match p.kind {
            PartKind::Text(text) => Ok(json!({ "text": text })),
            PartKind::Image(url) => inline_data(url, &p.path),
            PartKind::Audio { data, format } => {
                Ok(json!({"inlineData": {"mimeType": format!("audio/{format}"), "data": data}}))
            }
            PartKind::File(Some(data)) => inline_data(data, &p.path),
            PartKind::File(None) => Err(TranslateError::field(
                &p.path,
                "file parts need file.file_data (uploaded file ids are OpenAI's own)",
            )),
            PartKind::Other(_) => Err(p.refuse("a Gemini model")),
        })
        .collect()
}

/// The system parts and the conversation.
fn contents(req: &Map<String, Value>) -> Result<(Vec<Value>, Vec<Value>), TranslateError> {
    let mut system = Vec::new();
    let mut contents = Vec::new();
    for m in walk::messages(req)? {
        match m.turn {
            Turn::System(c) => system.extend(parts(&c)?),
            Turn::User(c) => push_turn(&mut contents, "user", "parts", parts(&c)?),
            Turn::Assistant { content, calls, .. } => {
                let mut p = parts(&content)?;
                for c in calls {
                    let mut part = json!({"functionCall": {"name": c.name, "args": c.input}});
                    if let Some(sig) = signature_from_id(c.id) {
                        part["thoughtSignature"] = json!(sig);
                    }
                    p.push(part);
                }
                push_turn(&mut contents, "model", "parts", p);
            }
            Turn::Tool {
                call_id,
                name,
                content,
            } => {
                // Gemini's functionResponse names the function; OpenAI's tool message names the
                // call id.
                let name = name.ok_or_else(|| {
                    TranslateError::field(
                        &format!("{}.tool_call_id", m.path),
                        format!("no earlier assistant tool call has id '{call_id}'"),
                    )
                })?;
                let text = content.text();
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
        }
    }
    Ok((system, contents))
}
