//! OpenAI `/v1/embeddings` → InvokeModel on Bedrock's embedding models: Amazon Titan Text
//! Embeddings (one text per request: `inputText`, `dimensions`) and Cohere Embed (`texts`,
//! `input_type`, `embedding_types`).

use crate::embeddings::{openai_list, parse, EmbedEcho};
use crate::translate::TranslateError;
use serde_json::{json, Value};

fn is_cohere(model: &str) -> bool {
    model.contains("cohere.")
}

/// Builds the InvokeModel body for an embedding model.
pub fn from_openai(
    req: &Value,
    model: &str,
    fields: &mut crate::translate::Fields,
) -> Result<(Value, EmbedEcho), TranslateError> {
    let args = parse(req, "Bedrock", fields)?;
    let (texts, dims, base64) = (args.texts, args.dimensions, args.base64);
    let body = if is_cohere(model) {
        if dims.is_some() {
            return Err(TranslateError::field(
                "dimensions",
                "Cohere embedding models on Bedrock have a fixed size",
            ));
        }
        json!({"texts": texts, "input_type": "search_document", "embedding_types": ["float"]})
    } else if model.contains("titan-embed") {
        let [text] = texts.as_slice() else {
            return Err(TranslateError::field(
                "input",
                "Titan embedding models take one text per request",
            ));
        };
        let mut b = json!({"inputText": text, "normalize": true});
        if let Some(d) = dims {
            b["dimensions"] = d;
        }
        b
    } else {
        return Err(TranslateError::field(
            "model",
            format!("'{model}' is not a Titan or Cohere embedding model on Bedrock"),
        ));
    };
    Ok((
        body,
        EmbedEcho {
            base64,
            model: model.to_owned(),
        },
    ))
}

/// Converts an InvokeModel answer of either family.
pub fn to_openai(resp: &Value, echo: &EmbedEcho) -> Value {
    if let Some(one) = resp.get("embedding") {
        let tokens = resp
            .get("inputTextTokenCount")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        return openai_list(std::iter::once(one), echo, tokens);
    }
    let vectors = resp
        .pointer("/embeddings/float")
        .or_else(|| resp.get("embeddings"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    openai_list(vectors, echo, 0)
}
