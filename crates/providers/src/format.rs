//! What a wire format must provide. Each format implements these in its own folder
//! (`<format>/format.rs`); `registry` is the one table from a provider kind or an answer shape to
//! its implementation. Every format reaches the others through OpenAI chat completions: a
//! caller's request becomes a chat request, the chat request becomes the provider's
//! ([`Format`]), and the provider's answer comes back as chat, whole or as chunks ([`Answers`]),
//! before it takes the caller's shape.

use crate::embeddings::EmbedEcho;
use crate::endpoint::{BuildError, Endpoint};
use crate::translate::{Fields, TranslateError};
use crate::Operation;
use bytes::Bytes;
use http::{HeaderName, Request};
use serde_json::Value;

/// Why an upstream request could not be made.
#[derive(Debug)]
pub enum AdaptError {
    /// The caller's request cannot be expressed in the provider's format (a 400 naming the field).
    Translate(TranslateError),
    Build(BuildError),
}

impl From<TranslateError> for AdaptError {
    fn from(e: TranslateError) -> Self {
        AdaptError::Translate(e)
    }
}

impl From<BuildError> for AdaptError {
    fn from(e: BuildError) -> Self {
        AdaptError::Build(e)
    }
}

/// The shape of a provider's answers for one model: what the reply translation reads. A
/// provider kind usually answers in one shape; Vertex answers in Gemini's or Anthropic's,
/// depending on the model's publisher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    OpenAi,
    Anthropic,
    Gemini,
    Cohere,
    Bedrock,
}

/// An error a provider reported inside a stream: (error type, message).
pub type StreamError = (String, String);

/// The body of a request as bytes (serialising a `serde_json::Value` cannot fail).
pub fn to_bytes(v: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(v).unwrap_or_default())
}

const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// The caller headers every format forwards: W3C trace state.
pub static FORWARD_TRACE_ONLY: [HeaderName; 1] = [TRACESTATE];

/// How requests are made for a provider of one kind.
pub trait Format: Sync {
    /// The format's name in config (`type`), the request log and the model catalog.
    fn name(&self) -> &'static str;

    /// OpenTelemetry's `gen_ai.provider.name` for the format.
    fn otel_name(&self) -> &'static str;

    /// The shape `model`'s answers come in.
    fn answers(&self, model: &str) -> Wire;

    /// Whether `op` reaches the provider at `ep` untranslated (only the model name rewritten).
    fn passes_through(&self, _ep: &Endpoint, _op: Operation) -> bool {
        false
    }

    /// The request for a body already in the provider's own format.
    fn native_request(
        &self,
        ep: &Endpoint,
        op: Operation,
        model: &str,
        body: Bytes,
        stream: bool,
    ) -> Result<Request<Bytes>, BuildError>;

    /// The provider's body for an OpenAI chat request, and the operation it is sent as; what
    /// the provider cannot take is left out (and named in `fields`) or refused, by its class.
    fn chat_body(
        &self,
        chat: &Value,
        model: &str,
        fields: &mut Fields,
    ) -> Result<(Operation, Value), TranslateError>;

    /// The provider request for an OpenAI chat request (the caller's, or one translated from it).
    fn chat_request(
        &self,
        ep: &Endpoint,
        chat: &Value,
        model: &str,
        stream: bool,
        fields: &mut Fields,
    ) -> Result<Request<Bytes>, AdaptError> {
        let (op, body) = self.chat_body(chat, model, fields)?;
        Ok(self.native_request(ep, op, model, to_bytes(&body), stream)?)
    }

    /// An Anthropic Messages request that this provider takes in Messages form though it is not
    /// Anthropic's own API (Claude on Vertex), so the caller's body survives but for the edits
    /// the host requires; `None` when the Messages request must be translated.
    fn messages_request(
        &self,
        _ep: &Endpoint,
        _body: &Value,
        _model: &str,
        _stream: bool,
    ) -> Option<Result<Request<Bytes>, BuildError>> {
        None
    }

    /// The provider's embeddings body for an OpenAI embeddings request, when the format does
    /// not take OpenAI's shape, and what the answer must echo back.
    fn embeddings_body(
        &self,
        _req: &Value,
        _model: &str,
        _fields: &mut Fields,
    ) -> Result<(Value, EmbedEcho), AdaptError> {
        Err(AdaptError::Build(BuildError::Unsupported(
            Operation::Embeddings,
        )))
    }

    /// The embeddings request for an OpenAI embeddings request ([`Format::embeddings_body`]).
    fn embeddings_request(
        &self,
        ep: &Endpoint,
        req: &Value,
        model: &str,
        fields: &mut Fields,
    ) -> Result<(Request<Bytes>, EmbedEcho), AdaptError> {
        let (body, echo) = self.embeddings_body(req, model, fields)?;
        let r = self.native_request(ep, Operation::Embeddings, model, to_bytes(&body), false)?;
        Ok((r, echo))
    }

    /// A translated embeddings answer as OpenAI's list.
    fn embeddings_response(&self, body: &Value, _echo: &EmbedEcho) -> Value {
        body.clone()
    }

    /// Whether `model` can count tokens itself (else the gateway estimates).
    fn counts_tokens(&self, _model: &str) -> bool {
        false
    }

    /// The token-count request for a chat request (Anthropic's `count_tokens` on this format).
    fn count_tokens_request(
        &self,
        _ep: &Endpoint,
        _chat: &Value,
        _model: &str,
        _fields: &mut Fields,
    ) -> Result<Request<Bytes>, AdaptError> {
        Err(AdaptError::Build(BuildError::Unsupported(
            Operation::CountTokens,
        )))
    }

    /// Caller headers that travel upstream: trace state, and the format's own version and beta
    /// opt-ins. Nothing else of the caller's (key, cookies, org) is forwarded.
    fn forwarded_headers(&self) -> &'static [HeaderName] {
        &FORWARD_TRACE_ONLY
    }
}

/// How answers in one shape are read back as OpenAI chat.
pub trait Answers: Sync {
    /// A whole answer as a chat completion; `model` is the upstream model, for shapes whose
    /// answers do not name it.
    fn chat_response(&self, body: Value, model: &str, created: u64) -> Value;

    /// A translator for one streamed answer.
    fn chat_stream(&self, created: u64, include_usage: bool, model: &str) -> Box<dyn ChunkStream>;

    /// Input tokens from a token-count answer.
    fn count_tokens_response(&self, _body: &Value) -> u64 {
        0
    }

    /// Whether requests for such models take images only inline, so http(s) image URLs must
    /// be fetched first.
    fn needs_inline_images(&self) -> bool {
        false
    }
}

/// One streamed answer's events → OpenAI chat chunk payloads (`data:` contents, `[DONE]` last).
pub trait ChunkStream: Send + std::fmt::Debug {
    /// Translates one event: its `event:` name, if any, and its data.
    fn on_event(&mut self, event: Option<&str>, data: &str) -> Result<Vec<String>, StreamError>;

    /// The upstream closed the stream cleanly: anything still owed (formats without an end
    /// marker finish here).
    fn finish(&mut self) -> Result<Vec<String>, StreamError> {
        Ok(Vec::new())
    }
}
