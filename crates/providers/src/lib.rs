//! Provider adapters: one folder per wire format, plus the OpenAI-compatible hosts as data.
//!
//! Adapters are pure translation: they build the upstream request and read its answer. The
//! server owns the HTTP client, timeouts and credentials.

pub mod anthropic;
pub mod azure;
pub mod bedrock;
pub mod catalog;
pub mod chunks;
pub mod cohere;
pub mod embeddings;
pub mod endpoint;
pub mod format;
pub mod gemini;
pub mod openai_compat;
pub mod presets;
pub mod registry;
pub mod responses;
pub mod tokens;
pub mod translate;
pub mod usage;
pub mod vertex;
pub mod walk;

/// The wire format a provider speaks. Each variant has its own folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// OpenAI's API and every host that copies it.
    OpenAiCompatible,
    /// Anthropic's Messages API.
    Anthropic,
    /// Google's Gemini API (generateContent).
    Gemini,
    /// Cohere's v2 API (chat, embed).
    Cohere,
    /// Google Cloud Vertex AI: Gemini models in Gemini's format, Claude models in Anthropic's.
    Vertex,
    /// Amazon Bedrock's Converse API (SigV4-signed or with a Bedrock API key).
    Bedrock,
}

/// The inbound operation being served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    ChatCompletions,
    Completions,
    Embeddings,
    /// Anthropic's `POST /v1/messages`.
    Messages,
    /// Anthropic's `POST /v1/messages/count_tokens`.
    CountTokens,
    /// OpenAI's `POST /v1/responses`, served through chat completions.
    Responses,
}

impl Operation {
    /// Name used in logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Operation::ChatCompletions => "chat.completions",
            Operation::Completions => "completions",
            Operation::Embeddings => "embeddings",
            Operation::Messages => "messages",
            Operation::CountTokens => "messages.count_tokens",
            Operation::Responses => "responses",
        }
    }

    /// The API shape the caller speaks, and so the shape of its replies and errors.
    pub fn dialect(self) -> switchyard_wire::Dialect {
        match self {
            Operation::ChatCompletions
            | Operation::Completions
            | Operation::Embeddings
            | Operation::Responses => switchyard_wire::Dialect::OpenAi,
            Operation::Messages | Operation::CountTokens => switchyard_wire::Dialect::Anthropic,
        }
    }
}

/// How a provider expects its API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthStyle {
    /// `Authorization: Bearer <key>`
    Bearer,
    /// The key alone in a named header, e.g. `api-key` or `x-api-key`.
    Header(String),
    /// No credentials are sent.
    None,
}
