//! Amazon Bedrock's Converse API (`POST /model/{modelId}/converse`, `/converse-stream`) behind
//! OpenAI's chat completions, and embeddings through InvokeModel (`/model/{modelId}/invoke`) for
//! Titan and Cohere embedding models. One request shape serves Anthropic, Llama, Mistral, Nova,
//! Cohere and the other models Bedrock hosts; the stream is AWS's binary event stream, decoded
//! by `switchyard_wire::eventstream`. The server signs requests (SigV4) or sends a Bedrock API key.

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

/// The default endpoint for a region.
pub fn default_base_url(region: &str) -> String {
    format!("https://bedrock-runtime.{region}.amazonaws.com")
}

/// A model id (or inference profile / ARN) as one URL path segment: everything but unreserved
/// characters percent-encoded, so `:` and `/` cannot change the path.
pub fn encode_model(model: &str) -> String {
    let mut out = String::with_capacity(model.len() + 8);
    for b in model.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The request path for an operation on `model`.
pub fn path(op: Operation, model: &str, stream: bool) -> Option<String> {
    let action = match op {
        Operation::ChatCompletions | Operation::Messages | Operation::Responses => {
            if stream {
                "converse-stream"
            } else {
                "converse"
            }
        }
        Operation::Embeddings => "invoke",
        Operation::Completions | Operation::CountTokens => return None,
    };
    Some(format!("/model/{}/{action}", encode_model(model)))
}

/// Builds the upstream request for a Bedrock-shaped body. ConverseStream answers in the binary
/// event stream, so that is what a streamed request accepts.
pub fn build_request(
    ep: &Endpoint,
    op: Operation,
    model: &str,
    body: Bytes,
    stream: bool,
) -> Result<Request<Bytes>, BuildError> {
    if model.is_empty() {
        return Err(BuildError::BadModel(model.to_owned()));
    }
    let path = path(op, model, stream).ok_or(BuildError::Unsupported(op))?;
    let mut req = ep.post(&path, body, false)?;
    if stream {
        req.headers_mut().insert(
            http::header::ACCEPT,
            http::HeaderValue::from_static("application/vnd.amazon.eventstream"),
        );
    }
    Ok(req)
}

/// Whether a Bedrock model id is one of Anthropic's (directly or through an inference profile).
pub fn is_anthropic(model: &str) -> bool {
    model.contains("anthropic.")
}

/// OpenAI finish_reason for a Converse stopReason.
pub fn finish_reason(reason: Option<&str>) -> &'static str {
    match reason {
        Some("max_tokens" | "model_context_window_exceeded") => "length",
        Some("tool_use") => "tool_calls",
        Some("guardrail_intervened" | "content_filtered") => "content_filter",
        _ => "stop",
    }
}

/// OpenAI `usage` from Converse's: cache reads and writes are prompt tokens too.
pub fn usage(u: &Value) -> Value {
    let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
    let cached = n("cacheReadInputTokens");
    let prompt = n("inputTokens") + cached + n("cacheWriteInputTokens");
    let completion = n("outputTokens");
    let written = n("cacheWriteInputTokens");
    let mut details = json!({"cached_tokens": cached});
    if written > 0 {
        // As for Anthropic: the cost of a cache write is told from it.
        details["cache_write_tokens"] = json!(written);
    }
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": details,
    })
}

/// The OpenAI error type for a Bedrock exception name (`throttlingException`, ...).
pub fn error_type(exception: &str) -> &'static str {
    let e = exception.to_ascii_lowercase();
    if e.starts_with("throttling") || e.starts_with("servicequotaexceeded") {
        "rate_limit_error"
    } else if e.starts_with("serviceunavailable") || e.starts_with("modelnotready") {
        "overloaded_error"
    } else if e.starts_with("validation") {
        "invalid_request_error"
    } else {
        "api_error"
    }
}

#[cfg(test)]
mod tests;
