//! Reads the few top-level fields the gateway needs from a JSON request body without copying it,
//! and rewrites the `model` value in place so every other byte reaches the upstream unchanged.

use bytes::{Bytes, BytesMut};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::ops::Range;

/// What the gateway reads from an OpenAI-style request body.
#[derive(Debug)]
pub struct Peek {
    /// The `model` string as sent.
    pub model: String,
    /// Byte range of the `model` JSON value (quotes included) within the body.
    pub model_span: Range<usize>,
    pub stream: bool,
    /// The caller's own user: the body's `user` string (OpenAI), else `metadata.user_id`
    /// (Anthropic), read in the same pass.
    pub end_user: Option<String>,
    /// The answer's length cap the caller set: `max_tokens`, `max_completion_tokens` or
    /// `max_output_tokens` (the first that is a whole number), for limits' worst case.
    pub max_output: Option<u64>,
}

/// Why a body was refused; the message names the offending field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeekError {
    pub message: String,
    /// The field at fault, when there is one.
    pub param: Option<String>,
}

#[derive(Deserialize)]
struct Fields<'a> {
    #[serde(borrow)]
    model: Option<&'a RawValue>,
    stream: Option<bool>,
    #[serde(borrow)]
    messages: Option<&'a RawValue>,
    #[serde(borrow)]
    prompt: Option<&'a RawValue>,
    #[serde(borrow)]
    input: Option<&'a RawValue>,
    #[serde(borrow)]
    user: Option<&'a RawValue>,
    #[serde(borrow)]
    metadata: Option<&'a RawValue>,
    #[serde(borrow)]
    max_tokens: Option<&'a RawValue>,
    #[serde(borrow)]
    max_completion_tokens: Option<&'a RawValue>,
    #[serde(borrow)]
    max_output_tokens: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Metadata {
    user_id: Option<String>,
}

/// The fields an endpoint requires besides `model`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Required {
    /// chat completions: `messages`, an array
    Messages,
    /// legacy completions: `prompt`
    Prompt,
    /// embeddings: `input`
    Input,
}

impl Required {
    fn name(self) -> &'static str {
        match self {
            Required::Messages => "messages",
            Required::Prompt => "prompt",
            Required::Input => "input",
        }
    }
}

/// Parses `body` enough to route it. The whole document is validated as JSON.
pub fn peek(body: &[u8], required: Required) -> Result<Peek, PeekError> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => {
            return Err(PeekError {
                message: "request body is empty; expected a JSON object".into(),
                param: None,
            })
        }
        Some(b'{') => {}
        Some(_) => {
            return Err(PeekError {
                message: "request body must be a JSON object".into(),
                param: None,
            })
        }
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let fields: Fields<'_> = match serde_path_to_error::deserialize(&mut de) {
        Ok(f) => match de.end() {
            Ok(()) => f,
            Err(e) => {
                return Err(PeekError {
                    message: format!("request body is not valid JSON: {e}"),
                    param: None,
                })
            }
        },
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let param = (path != ".").then_some(path);
            let message = match (&param, inner.classify()) {
                (_, serde_json::error::Category::Syntax | serde_json::error::Category::Eof) => {
                    format!("request body is not valid JSON: {inner}")
                }
                (Some(p), _) => format!("invalid value for '{p}': {inner}"),
                (None, _) => format!("request body must be a JSON object: {inner}"),
            };
            return Err(PeekError { message, param });
        }
    };
    let model_raw = fields.model.ok_or_else(|| missing("model"))?;
    let model: String = serde_json::from_str(model_raw.get()).map_err(|_| PeekError {
        message: "'model' must be a string".into(),
        param: Some("model".into()),
    })?;
    if model.is_empty() {
        return Err(PeekError {
            message: "'model' must not be empty".into(),
            param: Some("model".into()),
        });
    }
    let present = match required {
        Required::Messages => fields.messages,
        Required::Prompt => fields.prompt,
        Required::Input => fields.input,
    };
    let present = present.ok_or_else(|| missing(required.name()))?;
    if required == Required::Messages && !present.get().starts_with('[') {
        return Err(PeekError {
            message: "'messages' must be an array of message objects".into(),
            param: Some("messages".into()),
        });
    }
    let end_user = fields
        .user
        .and_then(|u| serde_json::from_str::<String>(u.get()).ok())
        .or_else(|| {
            let m = fields.metadata?;
            serde_json::from_str::<Metadata>(m.get()).ok()?.user_id
        });
    let max_output = [
        fields.max_tokens,
        fields.max_completion_tokens,
        fields.max_output_tokens,
    ]
    .into_iter()
    .flatten()
    .find_map(|v| v.get().parse::<u64>().ok());
    Ok(Peek {
        model,
        model_span: span_of(body, model_raw),
        stream: fields.stream.unwrap_or(false),
        end_user,
        max_output,
    })
}

fn missing(field: &str) -> PeekError {
    PeekError {
        message: format!("missing required field '{field}'"),
        param: Some(field.into()),
    }
}

/// Where a borrowed raw value sits inside the buffer it was parsed from.
fn span_of(body: &[u8], raw: &RawValue) -> Range<usize> {
    let start = raw.get().as_ptr() as usize - body.as_ptr() as usize;
    start..start + raw.get().len()
}

/// Returns the body with the `model` value replaced by `new_model`; the same bytes when equal.
pub fn rewrite_model(body: &Bytes, peek: &Peek, new_model: &str) -> Bytes {
    rewrite_model_then(body, peek, new_model, b"")
}

/// As `rewrite_model`, with `after` (e.g. `,"field":value`) written right after the model's
/// value, in the same single copy of the body.
pub fn rewrite_model_then(body: &Bytes, peek: &Peek, new_model: &str, after: &[u8]) -> Bytes {
    if peek.model == new_model && after.is_empty() {
        return body.clone();
    }
    let span = &peek.model_span;
    let quoted;
    let model: &[u8] = if peek.model == new_model {
        &body[span.clone()]
    } else {
        quoted = serde_json::Value::String(new_model.to_owned()).to_string();
        quoted.as_bytes()
    };
    let mut out = BytesMut::with_capacity(body.len() + model.len() + after.len());
    out.extend_from_slice(&body[..span.start]);
    out.extend_from_slice(model);
    out.extend_from_slice(after);
    out.extend_from_slice(&body[span.end..]);
    out.freeze()
}

#[cfg(test)]
mod tests;
