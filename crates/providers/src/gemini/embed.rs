//! OpenAI `/v1/embeddings` → Gemini `batchEmbedContents`, and the answer back.

use crate::embeddings::{openai_list, parse, EmbedEcho};
use crate::translate::TranslateError;
use serde_json::{json, Value};

/// Builds the batchEmbedContents body for `model` from an OpenAI embeddings request.
pub fn from_openai(
    req: &Value,
    model: &str,
    fields: &mut crate::translate::Fields,
) -> Result<(Value, EmbedEcho), TranslateError> {
    let args = parse(req, "Gemini", fields)?;
    let full = format!("models/{model}");
    let requests: Vec<Value> = args
        .texts
        .iter()
        .map(|t| {
            let mut r = json!({"model": full, "content": {"parts": [{"text": t}]}});
            if let Some(d) = &args.dimensions {
                r["outputDimensionality"] = d.clone();
            }
            r
        })
        .collect();
    Ok((
        json!({ "requests": requests }),
        EmbedEcho {
            base64: args.base64,
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
