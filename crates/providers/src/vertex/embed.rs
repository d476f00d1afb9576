//! OpenAI `/v1/embeddings` → Vertex `predict` on a Google embedding model, and the answer back.

use crate::embeddings::{openai_list, parse, EmbedEcho};
use crate::translate::TranslateError;
use serde_json::{json, Value};

/// Builds the predict body: one instance per text, `dimensions` → `outputDimensionality`.
pub fn from_openai(
    req: &Value,
    model: &str,
    fields: &mut crate::translate::Fields,
) -> Result<(Value, EmbedEcho), TranslateError> {
    let args = parse(req, "Vertex", fields)?;
    let instances: Vec<Value> = args.texts.iter().map(|t| json!({"content": t})).collect();
    let mut body = json!({ "instances": instances });
    if let Some(d) = args.dimensions {
        body["parameters"] = json!({ "outputDimensionality": d });
    }
    Ok((
        body,
        EmbedEcho {
            base64: args.base64,
            model: model.to_owned(),
        },
    ))
}

/// Converts a predict answer; usage is the sum of the per-text token counts Vertex reports.
pub fn to_openai(resp: &Value, echo: &EmbedEcho) -> Value {
    let predictions: Vec<&Value> = resp
        .get("predictions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    let tokens: u64 = predictions
        .iter()
        .filter_map(|p| p.pointer("/embeddings/statistics/token_count"))
        .filter_map(Value::as_f64)
        .map(|n| n as u64)
        .sum();
    let vectors = predictions
        .iter()
        .map(|p| p.pointer("/embeddings/values").unwrap_or(&Value::Null));
    openai_list(vectors, echo, tokens)
}
