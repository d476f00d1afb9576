//! What translated embeddings share: the caller's wishes carried to the answer, and OpenAI's list
//! shape (floats, or little-endian float32 in base64 as OpenAI sends `encoding_format: base64`).

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

/// Reads `encoding_format`.
pub fn wants_base64(v: &Value) -> Result<bool, crate::translate::TranslateError> {
    match v.as_str() {
        Some("base64") => Ok(true),
        Some("float") | None => Ok(false),
        Some(other) => Err(crate::translate::TranslateError::field(
            "encoding_format",
            format!("unknown encoding_format \"{other}\""),
        )),
    }
}

/// The texts of an OpenAI `input`: a string or strings (token-id input is OpenAI's own).
pub fn input_texts<'a>(
    req: &'a Value,
    provider: &str,
) -> Result<Vec<&'a str>, crate::translate::TranslateError> {
    match req.get("input") {
        Some(Value::String(s)) => Ok(vec![s.as_str()]),
        Some(Value::Array(items)) if !items.is_empty() && items.iter().all(Value::is_string) => {
            Ok(items.iter().filter_map(Value::as_str).collect())
        }
        _ => Err(crate::translate::TranslateError::field(
            "input",
            format!("{provider} embeddings take text: a string or a non-empty array of strings (not token ids)"),
        )),
    }
}

/// Little-endian float32 bytes in base64.
pub fn encode(values: &[Value]) -> String {
    let mut bytes = Vec::with_capacity(values.len() * 4);
    for v in values {
        let f = v.as_f64().unwrap_or(0.0) as f32;
        bytes.extend_from_slice(&f.to_le_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// OpenAI's embeddings list from vectors in input order.
pub fn openai_list<'a>(
    vectors: impl Iterator<Item = &'a Value>,
    echo: &EmbedEcho,
    prompt_tokens: u64,
) -> Value {
    let data: Vec<Value> = vectors
        .enumerate()
        .map(|(i, v)| {
            let values = v.as_array().map(Vec::as_slice).unwrap_or_default();
            let embedding = if echo.base64 {
                json!(encode(values))
            } else {
                Value::Array(values.to_vec())
            };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    json!({
        "object": "list",
        "data": data,
        "model": echo.model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    })
}

/// What a translated embeddings request carries: texts, an optional size, the encoding.
pub struct EmbedArgs<'a> {
    pub texts: Vec<&'a str>,
    pub dimensions: Option<Value>,
    pub base64: bool,
}

/// Reads an OpenAI embeddings request for `provider` (named in errors); fields other than
/// `model`, `input`, `user`, `dimensions` and `encoding_format` are advisory: left out and
/// named in `fields` (a 400 under the strict policy).
pub fn parse<'a>(
    req: &'a Value,
    provider: &str,
    fields: &mut crate::translate::Fields,
) -> Result<EmbedArgs<'a>, crate::translate::TranslateError> {
    let obj = req.as_object().ok_or_else(|| {
        crate::translate::TranslateError::field("", "request body must be a JSON object")
    })?;
    let mut dimensions = None;
    let mut base64 = false;
    for (k, v) in obj {
        match k.as_str() {
            "model" | "input" | "user" => {}
            "dimensions" => dimensions = Some(v.clone()).filter(|d| !d.is_null()),
            "encoding_format" => base64 = wants_base64(v)?,
            _ if v.is_null() => {}
            other => fields.advisory(
                other,
                format!("'{other}' cannot be sent to a {provider} embedding model"),
            )?,
        }
    }
    Ok(EmbedArgs {
        texts: input_texts(req, provider)?,
        dimensions,
        base64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::translate::{Fields, Policy};

    #[test]
    fn fields_an_embedding_model_cannot_take_follow_the_field_policy() {
        let req = json!({"model": "m", "input": "hi", "dimensions": 8, "user": "u",
            "encoding_format": "base64", "extra_hint": true, "nothing": null});
        let mut fields = Fields::default();
        let args = parse(&req, "Gemini", &mut fields).unwrap();
        assert_eq!(
            (args.texts, args.dimensions, args.base64),
            (vec!["hi"], Some(json!(8)), true)
        );
        assert_eq!(fields.dropped, ["extra_hint"]);
        let e = parse(&req, "Gemini", &mut Fields::new(Policy::Strict))
            .err()
            .unwrap();
        assert_eq!(e.param.as_deref(), Some("extra_hint"));
        assert!(
            e.message.contains("Gemini embedding model"),
            "{}",
            e.message
        );
    }
}
