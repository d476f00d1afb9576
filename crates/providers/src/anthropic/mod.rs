//! Anthropic's Messages API (`POST /v1/messages`) behind OpenAI's chat completions.
//!
//! `request` turns an OpenAI chat request into a Messages request, `response` turns a Message
//! into a chat completion, `stream` turns Messages SSE events into chat completion chunks.
//! Shapes follow Anthropic's Messages API reference (anthropic-version 2023-06-01).

pub mod format;
pub mod request;
pub mod response;
pub mod stream;

/// The API version every request declares.
pub const VERSION: &str = "2023-06-01";

/// Path appended to the base URL (which, as for Anthropic's SDKs, has no `/v1`).
pub const MESSAGES_PATH: &str = "/v1/messages";

/// Output token budget when the caller gives none: Anthropic requires `max_tokens`.
pub const DEFAULT_MAX_TOKENS: u64 = 4096;

/// Path of `POST /v1/messages/count_tokens`.
pub const COUNT_TOKENS_PATH: &str = "/v1/messages/count_tokens";

/// The path an operation takes on an Anthropic provider: chat completions are translated to
/// Messages; Anthropic's own operations pass through.
pub fn path(op: crate::Operation) -> Option<&'static str> {
    use crate::Operation as O;
    match op {
        O::ChatCompletions | O::Messages => Some(MESSAGES_PATH),
        O::CountTokens => Some(COUNT_TOKENS_PATH),
        O::Completions | O::Embeddings | O::Responses => None,
    }
}

/// Builds the upstream request for a Messages-shaped body.
pub fn build_request(
    ep: &crate::endpoint::Endpoint,
    op: crate::Operation,
    body: bytes::Bytes,
    stream: bool,
) -> Result<http::Request<bytes::Bytes>, crate::endpoint::BuildError> {
    let path = path(op).ok_or(crate::endpoint::BuildError::Unsupported(op))?;
    Ok(ep.post(path, body, stream)?)
}

/// OpenAI finish_reason for an Anthropic stop_reason.
pub fn finish_reason(stop_reason: Option<&str>) -> &'static str {
    match stop_reason {
        Some("max_tokens") => "length",
        Some("tool_use") => "tool_calls",
        Some("refusal") => "content_filter",
        // end_turn, stop_sequence, pause_turn and anything new end the turn normally.
        _ => "stop",
    }
}

#[cfg(test)]
mod tests;
