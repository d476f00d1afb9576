//! OpenAI `/v1/embeddings` → Cohere `POST /v2/embed`, and the answer back.

use crate::embeddings::{input_texts, openai_list, wants_base64, EmbedEcho};
use crate::translate::TranslateError;
use serde_json::{json, Value};

/// Builds the embed body. OpenAI has no input type; texts are embedded as documents
/// (`search_document`), which Cohere's v3+ models require one of.
pub fn from_openai(req: &Value, model: &str) -> Result<(Value, EmbedEcho), TranslateError> {
    let obj = req
        .as_object()
        .ok_or_else(|| TranslateError::field("", "request body must be a JSON object"))?;
    let mut out = json!({"model": model, "input_type": "search_document",
        "embedding_types": ["float"]});
    let mut base64 = false;
    for (k, v) in obj {
        match k.as_str() {
            "model" | "input" | "user" => {}
            "dimensions" => out["output_dimension"] = v.clone(),
            "encoding_format" => base64 = wants_base64(v)?,
            other => {
                return Err(TranslateError::field(
                    other,
                    format!("'{other}' cannot be sent to a Cohere embedding model"),
                ))
            }
        }
    }
    out["texts"] = json!(input_texts(req, "Cohere")?);
    Ok((
        out,
        EmbedEcho {
            base64,
            model: model.to_owned(),
        },
    ))
}

/// Converts an embed answer; usage is the billed input tokens.
pub fn to_openai(resp: &Value, echo: &EmbedEcho) -> Value {
    let tokens = resp
        .pointer("/meta/billed_units/input_tokens")
        .and_then(Value::as_f64)
        .unwrap_or(0.0) as u64;
    let vectors = resp
        .pointer("/embeddings/float")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    openai_list(vectors, echo, tokens)
}
