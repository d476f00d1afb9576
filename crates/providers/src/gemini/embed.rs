//! OpenAI `/v1/embeddings` → Gemini `batchEmbedContents`, and the answer back.

use crate::embeddings::{input_texts, openai_list, wants_base64, EmbedEcho};
use crate::translate::TranslateError;
use serde_json::{json, Value};

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
            "encoding_format" => base64 = wants_base64(v)?,
            other => {
                return Err(TranslateError::field(
                    other,
                    format!("'{other}' cannot be sent to a Gemini embedding model"),
                ))
            }
        }
    }
    let full = format!("models/{model}");
    let requests: Vec<Value> = input_texts(req, "Gemini")?
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

/// Converts a batchEmbedContents answer. Gemini reports no token counts for embeddings, so
/// usage is zero.
pub fn to_openai(resp: &Value, echo: &EmbedEcho) -> Value {
    let vectors = resp
        .get("embeddings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|e| e.get("values").unwrap_or(&Value::Null));
    openai_list(vectors, echo, 0)
}
