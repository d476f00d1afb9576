//! Google's Gemini API as its reference documents it: `models/{model}:generateContent`,
//! `:streamGenerateContent` (SSE with `alt=sse`, a JSON array without), `:batchEmbedContents` and
//! `:countTokens`, with the API key in `x-goog-api-key`.
//!
//! Like the real service it refuses fields it does not know (`Unknown name "x"`), including JSON
//! Schema keywords outside its Schema subset, so translation mistakes surface as 400s in tests.
//! Gemini 3 models require the `thoughtSignature` they issued on every function call sent back.

use crate::embeddings::vector;
use crate::faults::Fault;
use crate::openai::{error_in, prepare_in, words, Dialect, DEFAULT_TEXT};
use crate::script::{self, Offered, Seen, Turn};
use crate::stream::sse_response;
use crate::State;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The signature this mock attaches to function calls it makes for Gemini 3 models.
pub const SIGNATURE: &str = "bW9jay10aG91Z2h0LXNpZ25hdHVyZQ==";

const REQUEST_FIELDS: &[&str] = &[
    "contents",
    "systemInstruction",
    "tools",
    "toolConfig",
    "generationConfig",
    "safetySettings",
    "cachedContent",
];
const GENERATION_FIELDS: &[&str] = &[
    "stopSequences",
    "responseMimeType",
    "responseSchema",
    "candidateCount",
    "maxOutputTokens",
    "temperature",
    "topP",
    "topK",
    "seed",
    "presencePenalty",
    "frequencyPenalty",
    "responseLogprobs",
    "logprobs",
    "thinkingConfig",
];
const PART_FIELDS: &[&str] = &[
    "text",
    "inlineData",
    "fileData",
    "functionCall",
    "functionResponse",
    "thought",
    "thoughtSignature",
];
const SCHEMA_FIELDS: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];
const TYPES: &[&str] = &[
    "STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL",
];

fn unknown(name: &str, at: &str) -> String {
    format!("Invalid JSON payload received. Unknown name \"{name}\" at '{at}': Cannot find field.")
}

fn check_fields(v: &Value, allowed: &[&str], at: &str) -> Result<(), String> {
    if let Some(obj) = v.as_object() {
        for k in obj.keys() {
            if !allowed.contains(&k.as_str()) {
                return Err(unknown(k, at));
            }
        }
    }
    Ok(())
}

fn check_schema(s: &Value, at: &str) -> Result<(), String> {
    check_fields(s, SCHEMA_FIELDS, at)?;
    if let Some(t) = s.get("type") {
        let ok = t
            .as_str()
            .is_some_and(|t| TYPES.contains(&t.to_ascii_uppercase().as_str()));
        if !ok {
            return Err(format!("Invalid value at '{at}.type': {t}"));
        }
    }
    if let Some(props) = s.get("properties").and_then(Value::as_object) {
        if props.is_empty() {
            return Err(format!(
                "{at}.properties: should be non-empty for OBJECT type"
            ));
        }
        for (k, p) in props {
            check_schema(p, &format!("{at}.properties[{k}].value"))?;
        }
    }
    if let Some(items) = s.get("items") {
        check_schema(items, &format!("{at}.items"))?;
    }
    for (i, a) in s
        .get("anyOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        check_schema(a, &format!("{at}.any_of[{i}]"))?;
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        if e.iter().any(|v| !v.is_string()) {
            return Err(format!(
                "Invalid value at '{at}.enum': enum values must be strings"
            ));
        }
    }
    Ok(())
}

/// Checks a GenerateContentRequest the way the service does.
pub(crate) fn validate(req: &Value, model: &str) -> Result<(), String> {
    check_fields(req, REQUEST_FIELDS, "")?;
    let contents = req
        .get("contents")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
        .ok_or("* GenerateContentRequest.contents: contents is not specified")?;
    let needs_signature = model.starts_with("gemini-3");
    for (i, c) in contents.iter().enumerate() {
        let role = c.get("role").and_then(Value::as_str).unwrap_or("user");
        if role != "user" && role != "model" {
            return Err(format!(
                "Please use a valid role: user, model. (contents[{i}].role = {role})"
            ));
        }
        let parts = c
            .get("parts")
            .and_then(Value::as_array)
            .filter(|p| !p.is_empty())
            .ok_or_else(|| format!("* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty."))?;
        for (j, p) in parts.iter().enumerate() {
            check_fields(p, PART_FIELDS, &format!("contents[{i}].parts[{j}]"))?;
            if needs_signature
                && role == "model"
                && p.get("functionCall").is_some()
                && p.get("thoughtSignature").and_then(Value::as_str) != Some(SIGNATURE)
            {
                return Err(format!(
                    "Function call is missing a thought_signature in functionCall parts. (contents[{i}].parts[{j}])"
                ));
            }
        }
    }
    if let Some(g) = req.get("generationConfig") {
        check_fields(g, GENERATION_FIELDS, "generation_config")?;
        if let Some(s) = g.get("responseSchema") {
            check_schema(s, "generation_config.response_schema")?;
        }
    }
    for (i, t) in req
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        for (j, d) in t
            .get("functionDeclarations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = format!("tools[{i}].function_declarations[{j}]");
            check_fields(d, &["name", "description", "parameters"], &at)?;
            if let Some(p) = d.get("parameters") {
                check_schema(p, &format!("{at}.parameters"))?;
            }
        }
    }
    Ok(())
}

pub(crate) fn bad_request(message: &str) -> Response {
    error_in(Dialect::Gemini, StatusCode::BAD_REQUEST, message, "", None)
}

/// `POST /v1beta/models/{model}:{method}`.
pub(crate) async fn models_action(
    AxState(state): AxState<Arc<State>>,
    Path(action): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let Some((model, method)) = action.split_once(':') else {
        return error_in(
            Dialect::Gemini,
            StatusCode::NOT_FOUND,
            "Requested entity was not found.",
            "",
            None,
        );
    };
    let (req, fault) = match prepare_in(Dialect::Gemini, &state, &headers, &uri, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match method {
        "generateContent" => generate(&state, &req, model, fault, None),
        "streamGenerateContent" => {
            let sse = uri
                .query()
                .is_some_and(|q| q.split('&').any(|kv| kv == "alt=sse"));
            generate(&state, &req, model, fault, Some(sse))
        }
        "batchEmbedContents" => embed(&req, model),
        "countTokens" => count_tokens(&req, model),
        other => error_in(
            Dialect::Gemini,
            StatusCode::NOT_FOUND,
            &format!("Method '{other}' not found."),
            "",
            None,
        ),
    }
}

/// What an agent script sees in a generateContent request.
fn seen(req: &Value) -> Seen<'_> {
    let contents = req
        .get("contents")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let none = req
        .pointer("/toolConfig/functionCallingConfig/mode")
        .and_then(Value::as_str)
        == Some("NONE");
    let declarations = req
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("functionDeclarations").and_then(Value::as_array))
        .flatten();
    let tools = declarations
        .filter_map(|d| {
            Some(Offered {
                name: d.get("name")?.as_str()?,
                custom: false,
                schema: d
                    .get("parameters")
                    .or_else(|| d.get("parametersJsonSchema")),
            })
        })
        .filter(|_| !none)
        .collect();
    let last_result = contents
        .iter()
        .rev()
        .filter_map(|c| c.get("parts")?.as_array())
        .flat_map(|parts| parts.iter().rev())
        .find_map(|p| p.pointer("/functionResponse/response"))
        .map(|r| match r.get("result").or_else(|| r.get("content")) {
            Some(v) => script::text_of(v),
            None => r.to_string(),
        });
    Seen {
        tools,
        assistant_turns: contents
            .iter()
            .filter(|c| c.get("role").and_then(Value::as_str) == Some("model"))
            .count(),
        last_result,
    }
}

/// The function this request lets the model call, if any.
fn callable(req: &Value) -> Option<String> {
    let config = req.pointer("/toolConfig/functionCallingConfig");
    if config.and_then(|c| c.get("mode")).and_then(Value::as_str) == Some("NONE") {
        return None;
    }
    if let Some(name) = config
        .and_then(|c| c.pointer("/allowedFunctionNames/0"))
        .and_then(Value::as_str)
    {
        return Some(name.to_owned());
    }
    req.pointer("/tools/0/functionDeclarations/0/name")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// `countTokens`: bare `contents` (Vertex's form) or a whole `generateContentRequest` (the
/// Gemini API's, which names its model).
pub(crate) fn count_tokens(req: &Value, model: &str) -> Response {
    let inner = match req.get("generateContentRequest") {
        Some(g) => {
            if g.get("model").and_then(Value::as_str) != Some(&format!("models/{model}")) {
                return bad_request("generateContentRequest.model must be models/{model}");
            }
            let mut g = g.clone();
            if let Some(m) = g.as_object_mut() {
                m.remove("model");
            }
            g
        }
        None => req.clone(),
    };
    if let Err(message) = validate(&inner, model) {
        return bad_request(&message);
    }
    let n = inner
        .get("contents")
        .map_or(0, |c| c.to_string().len().div_ceil(4));
    axum::Json(json!({"totalTokens": n})).into_response()
}

pub(crate) fn generate(
    state: &Arc<State>,
    req: &Value,
    model: &str,
    fault: Fault,
    stream: Option<bool>,
) -> Response {
    if let Err(message) = validate(req, model) {
        return bad_request(&message);
    }
    let id = format!("mockresp{}", state.ids.fetch_add(1, Ordering::Relaxed));
    let json_mode =
        req.pointer("/generationConfig/responseMimeType") == Some(&json!("application/json"));
    let text = fault.content.clone().unwrap_or_else(|| {
        if json_mode {
            "{\"answer\": \"mock\"}".into()
        } else {
            DEFAULT_TEXT.into()
        }
    });
    let thinking = req
        .pointer("/generationConfig/thinkingConfig/includeThoughts")
        .and_then(Value::as_bool)
        == Some(true);
    let mut text = text;
    let mut scripted_args = None;
    let named = match crate::script::play(state, &seen(req)) {
        Some(Turn::Call {
            name, arguments, ..
        }) => {
            scripted_args = serde_json::from_str::<Value>(&arguments).ok();
            Some(name)
        }
        Some(Turn::Text(t)) => {
            text = t;
            None
        }
        None => callable(req),
    };
    let call = named.map(|name| {
        let args: Value = scripted_args.take().unwrap_or_else(|| {
            fault
                .tool_arguments
                .as_deref()
                .and_then(|a| serde_json::from_str(a).ok())
                .unwrap_or_else(|| json!({"city": "Paris", "unit": "celsius"}))
        });
        let mut part = json!({"functionCall": {"name": name, "args": args}});
        if model.starts_with("gemini-3") {
            part["thoughtSignature"] = json!(SIGNATURE);
        }
        let mut parts = vec![part];
        // A parallel call: another functionCall part (the signature is only on the first).
        if let Some(second) = fault.second_call.as_deref() {
            let args: Value = serde_json::from_str(second).unwrap_or_else(|_| json!({}));
            parts.push(json!({"functionCall": {"name": name, "args": args}}));
        }
        parts
    });
    let prompt = req
        .get("contents")
        .map_or(1, |c| c.to_string().len().div_ceil(4));
    let output = text.split(' ').count();
    let thoughts = if thinking { 5 } else { 0 };
    let usage = fault.usage_over(
        json!({"promptTokenCount": prompt, "candidatesTokenCount": output,
        "totalTokenCount": prompt + output + thoughts, "thoughtsTokenCount": thoughts}),
    );
    let Some(sse) = stream else {
        let n = req
            .pointer("/generationConfig/candidateCount")
            .and_then(Value::as_u64)
            .unwrap_or(1);
        let candidates: Vec<Value> = (0..n)
            .map(|i| {
                let mut parts = Vec::new();
                if thinking {
                    parts.push(json!({"text": "Thinking about the question.", "thought": true}));
                }
                match &call {
                    Some(c) => parts.extend(c.iter().cloned()),
                    None => parts.push(json!({"text": text})),
                }
                json!({"content": {"role": "model", "parts": parts}, "finishReason": "STOP",
                    "index": i})
            })
            .collect();
        return axum::Json(json!({"candidates": candidates, "usageMetadata": usage,
            "modelVersion": model, "responseId": id}))
        .into_response();
    };
    let piece = |parts: Value, finish: Option<&str>, usage: &Value| {
        let mut c = json!({"content": {"role": "model", "parts": parts}, "index": 0});
        if let Some(f) = finish {
            c["finishReason"] = json!(f);
        }
        json!({"candidates": [c], "usageMetadata": usage, "modelVersion": model, "responseId": id})
            .to_string()
    };
    let partial = json!({"promptTokenCount": prompt});
    let mut events = Vec::new();
    if thinking {
        events.push(piece(
            json!([{"text": "Thinking about the question.", "thought": true}]),
            None,
            &partial,
        ));
    }
    match &call {
        Some(c) => events.push(piece(json!(c), Some("STOP"), &usage)),
        None => {
            let pieces = words(&text, fault.chunks);
            let last = pieces.len().saturating_sub(1);
            for (i, w) in pieces.into_iter().enumerate() {
                if i == last {
                    events.push(piece(json!([{"text": w}]), Some("STOP"), &usage));
                } else {
                    events.push(piece(json!([{"text": w}]), None, &partial));
                }
            }
        }
    }
    if !sse {
        // Without alt=sse the service answers one JSON array of the same objects.
        let array = format!("[{}]", events.join(",\n"));
        return ([("content-type", "application/json")], array).into_response();
    }
    sse_response(Arc::clone(state), events, fault)
}

fn embed(req: &Value, model: &str) -> Response {
    let mut out = Vec::new();
    for (i, r) in req
        .get("requests")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if r.get("model").and_then(Value::as_str) != Some(&format!("models/{model}")) {
            return bad_request(&format!(
                "* BatchEmbedContentsRequest.requests[{i}].model: the model must match models/{model}"
            ));
        }
        let text = r
            .pointer("/content/parts/0/text")
            .and_then(Value::as_str)
            .unwrap_or("");
        let dims = r
            .get("outputDimensionality")
            .and_then(Value::as_u64)
            .unwrap_or(8) as usize;
        out.push(json!({"values": vector(text, dims)}));
    }
    if out.is_empty() {
        return bad_request("* BatchEmbedContentsRequest.requests: requests must not be empty");
    }
    axum::Json(json!({"embeddings": out})).into_response()
}
