//! Google's Gemini API (`generateContent`, `streamGenerateContent?alt=sse`, `batchEmbedContents`)
//! behind OpenAI's chat completions and embeddings.
//!
//! `request` turns an OpenAI chat request into a GenerateContentRequest (with `schema` rewriting
//! JSON Schema into Gemini's OpenAPI-subset dialect), `response` turns a GenerateContentResponse
//! into a chat completion, `stream` turns streamed responses into chat chunks, `embed` handles
//! embeddings. Shapes follow the Gemini API reference (v1beta).

pub mod embed;
pub mod format;
pub mod request;
pub mod response;
pub mod schema;
pub mod stream;

use crate::endpoint::{BuildError, Endpoint};
use crate::Operation;
use bytes::Bytes;
use http::Request;
use serde_json::{json, Value};

/// The API version in every path; the base URL is the host alone, as in Google's SDKs.
pub const API_VERSION: &str = "v1beta";

/// Model names go into the URL path: letters, digits, `-`, `_` and `.` only. A `models/` prefix,
/// as Google's own SDKs write names, is accepted and removed.
pub fn model_id(model: &str) -> Option<&str> {
    let m = model.strip_prefix("models/").unwrap_or(model);
    (!m.is_empty()
        && m.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')))
    .then_some(m)
}

/// The request path for an operation on `model`.
pub fn path(op: Operation, model: &str, stream: bool) -> Option<String> {
    let method = match op {
        Operation::ChatCompletions | Operation::Messages | Operation::Responses => {
            if stream {
                "streamGenerateContent?alt=sse"
            } else {
                "generateContent"
            }
        }
        Operation::Embeddings => "batchEmbedContents",
        Operation::CountTokens => "countTokens",
        Operation::Completions => return None,
    };
    Some(format!("/{API_VERSION}/models/{model}:{method}"))
}

/// Builds the upstream request for a Gemini-shaped body.
pub fn build_request(
    ep: &Endpoint,
    op: Operation,
    model: &str,
    body: Bytes,
    stream: bool,
) -> Result<Request<Bytes>, BuildError> {
    let id = model_id(model).ok_or_else(|| BuildError::BadModel(model.to_owned()))?;
    let path = path(op, id, stream).ok_or(BuildError::Unsupported(op))?;
    Ok(ep.post(&path, body, stream)?)
}

/// OpenAI finish_reason for a Gemini finishReason; `called` says the candidate called a function.
pub fn finish_reason(reason: Option<&str>, called: bool) -> &'static str {
    match reason {
        Some("MAX_TOKENS") => "length",
        Some(
            "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY",
        ) => "content_filter",
        _ if called => "tool_calls",
        // STOP, OTHER, LANGUAGE, MALFORMED_FUNCTION_CALL and anything new end the turn.
        _ => "stop",
    }
}

/// OpenAI `usage` from Gemini's `usageMetadata`: thinking tokens count as completion tokens (as
/// OpenAI counts reasoning), cached content as cached prompt tokens.
pub fn usage(u: &Value) -> Value {
    let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
    let prompt = n("promptTokenCount") + n("toolUsePromptTokenCount");
    let thoughts = n("thoughtsTokenCount");
    let completion = n("candidatesTokenCount") + thoughts;
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": n("cachedContentTokenCount")},
        "completion_tokens_details": {"reasoning_tokens": thoughts},
    })
}

/// Marker between a tool call's own id and the Gemini thought signature carried inside it.
const SIGNATURE_MARK: &str = "__thought__";

/// The OpenAI tool-call id for a Gemini function call. Gemini 3 models require the call's
/// `thoughtSignature` back on the next turn, and OpenAI-shaped callers only echo the id, so the
/// signature travels inside it (base64url, which stays within `[A-Za-z0-9_-]`).
pub fn tool_call_id(base: &str, signature: Option<&str>) -> String {
    match signature {
        Some(sig) if !sig.is_empty() => {
            let url: String = sig
                .chars()
                .filter(|c| *c != '=')
                .map(|c| match c {
                    '+' => '-',
                    '/' => '_',
                    c => c,
                })
                .collect();
            format!("{base}{SIGNATURE_MARK}{url}")
        }
        _ => base.to_owned(),
    }
}

/// The thought signature carried in a tool-call id made by [`tool_call_id`], in standard base64.
pub fn signature_from_id(id: &str) -> Option<String> {
    let (_, url) = id.split_once(SIGNATURE_MARK)?;
    if url.is_empty() {
        return None;
    }
    let mut sig: String = url
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    while !sig.len().is_multiple_of(4) {
        sig.push('=');
    }
    Some(sig)
}

#[cfg(test)]
mod tests;
