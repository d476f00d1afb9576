//! Anthropic's Messages API (`POST /v1/messages`) behind OpenAI's chat completions.
//!
//! `request` turns an OpenAI chat request into a Messages request, `response` turns a Message
//! into a chat completion, `stream` turns Messages SSE events into chat completion chunks.
//! Shapes follow Anthropic's Messages API reference (anthropic-version 2023-06-01).

pub mod request;
pub mod response;
pub mod stream;

/// The API version every request declares.
pub const VERSION: &str = "2023-06-01";

/// Path appended to the base URL (which, as for Anthropic's SDKs, has no `/v1`).
pub const MESSAGES_PATH: &str = "/v1/messages";

/// Output token budget when the caller gives none: Anthropic requires `max_tokens`.
pub const DEFAULT_MAX_TOKENS: u64 = 4096;

/// Builds the upstream request for a translated Messages body.
pub fn build_request(
    ep: &crate::endpoint::Endpoint,
    body: bytes::Bytes,
    stream: bool,
) -> Result<http::Request<bytes::Bytes>, http::Error> {
    ep.post(MESSAGES_PATH, body, stream)
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
