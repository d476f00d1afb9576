//! Cohere's v2 API (`POST /v2/chat`, `POST /v2/embed`) behind OpenAI's chat completions and
//! embeddings. Cohere's chat messages are close to OpenAI's; the answer (`message.content` blocks,
//! `finish_reason` words, `usage.tokens`) and the typed stream events (`message-start`,
//! `content-delta`, `tool-call-start`, ..., `message-end`) are what need translating.

pub mod embed;
pub mod format;
pub mod request;
pub mod response;
pub mod stream;

use crate::endpoint::{BuildError, Endpoint};
use crate::Operation;
use bytes::Bytes;
use http::Request;
use serde_json::{json, Value};

/// The request path for an operation (the base URL is the host, as in Cohere's SDKs).
pub fn path(op: Operation) -> Option<&'static str> {
    match op {
        Operation::ChatCompletions | Operation::Messages | Operation::Responses => Some("/v2/chat"),
        Operation::Embeddings => Some("/v2/embed"),
        Operation::Completions | Operation::CountTokens => None,
    }
}

/// Builds the upstream request for a Cohere-shaped body.
pub fn build_request(
    ep: &Endpoint,
    op: Operation,
    body: Bytes,
    stream: bool,
) -> Result<Request<Bytes>, BuildError> {
    let path = path(op).ok_or(BuildError::Unsupported(op))?;
    Ok(ep.post(path, body, stream)?)
}

/// OpenAI finish_reason for Cohere's.
pub fn finish_reason(reason: Option<&str>) -> &'static str {
    match reason {
        Some("MAX_TOKENS") => "length",
        Some("TOOL_CALL") => "tool_calls",
        // COMPLETE, STOP_SEQUENCE; ERROR and TIMEOUT end a stream with an error event instead.
        _ => "stop",
    }
}

/// OpenAI `usage` from Cohere's (`tokens` counts what the model saw; `billed_units` is the
/// fallback).
pub fn usage(u: &Value) -> Value {
    let n = |k: &str| {
        u.pointer(&format!("/tokens/{k}"))
            .or_else(|| u.pointer(&format!("/billed_units/{k}")))
            .and_then(Value::as_f64)
            .unwrap_or(0.0) as u64
    };
    let prompt = n("input_tokens");
    let completion = n("output_tokens");
    let cached = u
        .get("cached_tokens")
        .and_then(Value::as_f64)
        .unwrap_or(0.0) as u64;
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
    })
}

#[cfg(test)]
mod tests;
