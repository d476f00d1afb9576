//! OpenAI `/v1/embeddings` → Gemini `batchEmbedContents`, and the answer back.

use crate::translate::TranslateError;
use base64::Engine;
use serde_json::{json, Value};

/// What the OpenAI-shaped answer needs from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedEcho {
    /// The caller asked for `encoding_format: "base64"` (the openai SDKs' default).
    pub base64: bool,
    /// The model name as the caller should see it.
    pub model: String,
}

/// Builds the batchEmbedContents body for `model` from an OpenAI embeddings request.
pub fn from_openai(req: &Value, model: &str) -> Result<(Value, EmbedEcho), TranslateError> {
    let obj = req
        .as_object()
        .ok_or_else(|| TranslateError::field("", "request body must be a JSON object"))?;
    let mut dims = None;
    let mut base64 = false;
    for (k, v) in obj {
        match k.as_str() {
            "model" | "input" | "user" => {}
            "dimensions" => dims = v.as_u64(),
            "encoding_format" => match v.as_str() {
                Some("base64") => base64 = true,
                Some("float") | None => {}
                Some(other) => {
                    return Err(TranslateError::field(
                        k,
                        format!("unknown encoding_format \"{other}\""),
                    ))
                }
            },
            other => {
                return Err(TranslateError::field(
                    other,
                    format!("'{other}' cannot be sent to a Gemini embedding model"),
                ))
            }
        }
    }
    let texts: Vec<&str> = match obj.get("input") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
            items.iter().filter_map(Value::as_str).collect()
        }
        _ => {
            return Err(TranslateError::field(
                "input",
                "Gemini embeddings take text: a string or an array of strings (not token ids)",
            ))
        }
    };
    let full = format!("models/{model}");
    let requests: Vec<Value> = texts
        .iter()
        .map(|t| {
            let mut r = json!({"model": full, "content": {"parts": [{"text": t}]}});
            if let Some(d) = dims {
                r["outputDimensionality"] = json!(d);
            }
            r
        })
        .collect();
    Ok((
        json!({ "requests": requests }),
        EmbedEcho {
            base64,
            model: model.to_owned(),
        },
    ))
}

/// Little-endian float32 bytes in base64, as OpenAI sends `encoding_format: "base64"`.
fn encode(values: &[Value]) -> String {
    let mut bytes = Vec::with_capacity(values.len() * 4);
    for v in values {
        let f = v.as_f64().unwrap_or(0.0) as f32;
        bytes.extend_from_slice(&f.to_le_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Converts a batchEmbedContents answer. Gemini reports no token counts for embeddings, so
/// usage is zero.
pub fn to_openai(resp: &Value, echo: &EmbedEcho) -> Value {
    let data: Vec<Value> = resp
        .get("embeddings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, e)| {
            let values = e.get("values").and_then(Value::as_array);
            let embedding = match (values, echo.base64) {
                (Some(v), true) => json!(encode(v)),
                (Some(v), false) => Value::Array(v.clone()),
                (None, _) => json!([]),
            };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    json!({
        "object": "list",
        "data": data,
        "model": echo.model,
        "usage": {"prompt_tokens": 0, "total_tokens": 0},
    })
}
