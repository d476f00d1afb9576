//! The one table of wire formats: a provider kind's [`Format`] and an answer shape's
//! [`Answers`]. Adding a format means its folder (with its `format.rs`), a `ProviderKind` or
//! `Wire` variant, and a row here.

pub use crate::format::{AdaptError, Answers, ChunkStream, Format, StreamError, Wire};
use crate::{anthropic, bedrock, cohere, gemini, openai_compat, vertex, ProviderKind};

/// How requests are made for a provider of `kind`.
pub fn format(kind: ProviderKind) -> &'static dyn Format {
    match kind {
        ProviderKind::OpenAiCompatible => &openai_compat::format::OpenAiCompatible,
        ProviderKind::Anthropic => &anthropic::format::Anthropic,
        ProviderKind::Gemini => &gemini::format::Gemini,
        ProviderKind::Cohere => &cohere::format::Cohere,
        ProviderKind::Vertex => &vertex::format::Vertex,
        ProviderKind::Bedrock => &bedrock::format::Bedrock,
    }
}

/// How answers of shape `wire` are read back as chat.
pub fn answers(wire: Wire) -> &'static dyn Answers {
    match wire {
        Wire::OpenAi => &openai_compat::format::OpenAiCompatible,
        Wire::Anthropic => &anthropic::format::Anthropic,
        Wire::Gemini => &gemini::format::Gemini,
        Wire::Cohere => &cohere::format::Cohere,
        Wire::Bedrock => &bedrock::format::Bedrock,
    }
}

/// The answer shape of `model` on a provider of `kind`.
pub fn wire(kind: ProviderKind, model: &str) -> Wire {
    format(kind).answers(model)
}

/// A streamed answer's translator into chat chunks.
pub fn chat_stream(
    wire: Wire,
    created: u64,
    include_usage: bool,
    model: &str,
) -> Box<dyn ChunkStream> {
    answers(wire).chat_stream(created, include_usage, model)
}
