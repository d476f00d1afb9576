//! OpenAI `/v1/embeddings` → Vertex `predict` on a Google embedding model, and the answer back.

use crate::embeddings::{input_texts, openai_list, wants_base64, EmbedEcho};
use crate::translate::TranslateError;
use serde_json::{json, Value};

/// Builds the predict body: one instance per text, `dimensions` → `outputDimensionality`.
pub fn from_openai(req: &Value, model: &str) -> Result<(Value, EmbedEcho), TranslateError> {
    let obj = req
        .as_object()
        .ok_or_else(|| TranslateError::field("", "request body must be a JSON object"))?;
    let mut parameters = serde_json::Map::new();
    let mut base64 = false;
    for (k, v) in obj {
        match k.as_str() {
            "model" | "input" | "user" => {}
            "dimensions" => {
                parameters.insert("outputDimensionality".into(), v.clone());
            }
            "encoding_format" => base64 = wants_base64(v)?,
            other => {
                return Err(TranslateError::field(
                    other,
                    format!("'{other}' cannot be sent to a Vertex embedding model"),
                ))
            }
        }
    }
    let instances: Vec<Value> = input_texts(req, "Vertex")?
        .iter()
        .map(|t| json!({"content": t}))
        .collect();
    let mut body = json!({ "instances": instances });
    if !parameters.is_empty() {
        body["parameters"] = Value::Object(parameters);
    }
    Ok((
        body,
        EmbedEcho {
            base64,
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
