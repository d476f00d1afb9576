//! OpenAI `/v1/embeddings` → Cohere `POST /v2/embed`, and the answer back.

use crate::embeddings::{openai_list, parse, EmbedEcho};
use crate::translate::TranslateError;
use serde_json::{json, Value};

/// Builds the embed body. OpenAI has no input type; texts are embedded as documents
/// (`search_document`), which Cohere's v3+ models require one of.
pub fn from_openai(
    req: &Value,
    model: &str,
    fields: &mut crate::translate::Fields,
) -> Result<(Value, EmbedEcho), TranslateError> {
    let args = parse(req, "Cohere", fields)?;
    let mut out = json!({"model": model, "input_type": "search_document",
        "embedding_types": ["float"]});
    if let Some(d) = args.dimensions {
        out["output_dimension"] = d;
    }
    out["texts"] = json!(args.texts);
    Ok((
        out,
        EmbedEcho {
            base64: args.base64,
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
