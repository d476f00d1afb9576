//! The one place that lists what each wire format does. Every format reaches the others through
//! OpenAI chat completions: a caller's request becomes a chat request, the chat request becomes
//! the provider's, and the provider's answer comes back as chat (whole or as chunks) before it
//! takes the caller's shape. Adding a format means a folder and one arm in each match here.

use crate::embeddings::EmbedEcho;
use crate::endpoint::{BuildError, Endpoint};
use crate::translate::TranslateError;
use crate::vertex::Publisher;
use crate::{anthropic, bedrock, cohere, gemini, openai_compat, vertex, Operation, ProviderKind};
use bytes::Bytes;
use http::{HeaderName, Request};
use serde_json::{json, Value};

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

/// The shape of a provider's answers for one model: what the reply translation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    OpenAi,
    Anthropic,
    Gemini,
    Cohere,
    Bedrock,
}

/// The answer format of `model` on a provider of `kind`.
pub fn wire(kind: ProviderKind, model: &str) -> Wire {
    match kind {
        ProviderKind::OpenAiCompatible => Wire::OpenAi,
        ProviderKind::Anthropic => Wire::Anthropic,
        ProviderKind::Gemini => Wire::Gemini,
        ProviderKind::Cohere => Wire::Cohere,
        ProviderKind::Bedrock => Wire::Bedrock,
        ProviderKind::Vertex => match Publisher::of(model) {
            Publisher::Google => Wire::Gemini,
            Publisher::Anthropic => Wire::Anthropic,
        },
    }
}

/// Whether the provider takes images only inline, so http(s) image URLs must be fetched first.
pub fn needs_inline_images(kind: ProviderKind, model: &str) -> bool {
    match wire(kind, model) {
        Wire::Gemini | Wire::Bedrock => true,
        Wire::OpenAi | Wire::Anthropic | Wire::Cohere => false,
    }
}

/// Whether `op` reaches a provider of `kind` untranslated (only the model name rewritten).
pub fn passes_through(kind: ProviderKind, op: Operation) -> bool {
    match kind {
        ProviderKind::OpenAiCompatible => matches!(
            op,
            Operation::ChatCompletions | Operation::Completions | Operation::Embeddings
        ),
        ProviderKind::Anthropic => matches!(op, Operation::Messages | Operation::CountTokens),
        ProviderKind::Gemini
        | ProviderKind::Cohere
        | ProviderKind::Vertex
        | ProviderKind::Bedrock => false,
    }
}

/// The request for a body already in the provider's own format.
pub fn native_request(
    kind: ProviderKind,
    ep: &Endpoint,
    op: Operation,
    model: &str,
    body: Bytes,
    stream: bool,
) -> Result<Request<Bytes>, BuildError> {
    match kind {
        ProviderKind::OpenAiCompatible => openai_compat::build_request(ep, op, model, body, stream),
        ProviderKind::Anthropic => anthropic::build_request(ep, op, body, stream),
        ProviderKind::Gemini => gemini::build_request(ep, op, model, body, stream),
        ProviderKind::Cohere => cohere::build_request(ep, op, body, stream),
        ProviderKind::Vertex => vertex::build_request(ep, op, model, body, stream),
        ProviderKind::Bedrock => bedrock::build_request(ep, op, model, body, stream),
    }
}

/// An Anthropic Messages request that a provider other than Anthropic's own API takes in
/// Messages form (Claude on Vertex), so the caller's body survives but for the edits the host
/// requires; `None` when the Messages request must be translated.
pub fn messages_request(
    kind: ProviderKind,
    ep: &Endpoint,
    body: &Value,
    model: &str,
    stream: bool,
) -> Option<Result<Request<Bytes>, BuildError>> {
    match kind {
        ProviderKind::Vertex if Publisher::of(model) == Publisher::Anthropic => {
            Some(vertex::messages_request(ep, body.clone(), model, stream))
        }
        _ => None,
    }
}

fn to_bytes(v: &Value) -> Bytes {
    // Serialising a serde_json::Value cannot fail.
    Bytes::from(serde_json::to_vec(v).unwrap_or_default())
}

/// The provider request for an OpenAI chat request (the caller's, or one translated from it).
pub fn chat_request(
    kind: ProviderKind,
    ep: &Endpoint,
    chat: &Value,
    model: &str,
    stream: bool,
) -> Result<Request<Bytes>, AdaptError> {
    let (op, body) = match kind {
        ProviderKind::OpenAiCompatible => {
            let mut chat = chat.clone();
            chat["model"] = json!(model);
            (Operation::ChatCompletions, to_bytes(&chat))
        }
        ProviderKind::Anthropic => (
            Operation::Messages,
            to_bytes(&anthropic::request::from_openai(chat, model)?),
        ),
        ProviderKind::Gemini => (
            Operation::ChatCompletions,
            to_bytes(&gemini::request::from_openai(chat)?),
        ),
        ProviderKind::Cohere => (
            Operation::ChatCompletions,
            to_bytes(&cohere::request::from_openai(chat, model)?),
        ),
        ProviderKind::Vertex => return vertex::chat_request(ep, chat, model, stream),
        ProviderKind::Bedrock => (
            Operation::ChatCompletions,
            to_bytes(&bedrock::request::from_openai(chat, model)?),
        ),
    };
    Ok(native_request(kind, ep, op, model, body, stream)?)
}

/// A whole provider answer as an OpenAI chat completion; `model` is the upstream model, for
/// formats whose answers do not name it.
pub fn chat_response(wire: Wire, body: Value, model: &str, created: u64) -> Value {
    match wire {
        Wire::OpenAi => body,
        Wire::Anthropic => anthropic::response::to_openai(&body, created),
        Wire::Gemini => gemini::response::to_openai(&body, created),
        Wire::Cohere => cohere::response::to_openai(&body, model, created),
        Wire::Bedrock => bedrock::response::to_openai(&body, &completion_id(), model, created),
    }
}

/// An id for answers whose format names none (Bedrock's).
pub fn completion_id() -> String {
    format!("chatcmpl-{:016x}", fastrand::u64(..))
}

/// The embeddings request for a provider that does not take OpenAI's shape.
pub fn embeddings_request(
    kind: ProviderKind,
    ep: &Endpoint,
    req: &Value,
    model: &str,
) -> Result<(Request<Bytes>, EmbedEcho), AdaptError> {
    let (body, echo) = match kind {
        ProviderKind::Gemini => gemini::embed::from_openai(req, model)?,
        ProviderKind::Cohere => cohere::embed::from_openai(req, model)?,
        ProviderKind::Vertex => vertex::embed::from_openai(req, model)?,
        ProviderKind::Bedrock => bedrock::embed::from_openai(req, model)?,
        ProviderKind::OpenAiCompatible | ProviderKind::Anthropic => {
            return Err(AdaptError::Build(BuildError::Unsupported(
                Operation::Embeddings,
            )))
        }
    };
    let r = native_request(
        kind,
        ep,
        Operation::Embeddings,
        model,
        to_bytes(&body),
        false,
    )?;
    Ok((r, echo))
}

/// A translated embeddings answer as OpenAI's list.
pub fn embeddings_response(kind: ProviderKind, body: &Value, echo: &EmbedEcho) -> Value {
    match kind {
        ProviderKind::Cohere => cohere::embed::to_openai(body, echo),
        ProviderKind::Vertex => vertex::embed::to_openai(body, echo),
        ProviderKind::Bedrock => bedrock::embed::to_openai(body, echo),
        ProviderKind::Gemini | ProviderKind::OpenAiCompatible | ProviderKind::Anthropic => {
            gemini::embed::to_openai(body, echo)
        }
    }
}

/// Whether a model's provider can count tokens itself (else the gateway estimates).
pub fn counts_tokens(kind: ProviderKind, model: &str) -> bool {
    match kind {
        ProviderKind::Anthropic | ProviderKind::Gemini => true,
        ProviderKind::Vertex => Publisher::of(model) == Publisher::Google,
        ProviderKind::OpenAiCompatible | ProviderKind::Cohere | ProviderKind::Bedrock => false,
    }
}

/// The token-count request for a chat request (Anthropic's `count_tokens` on another format).
pub fn count_tokens_request(
    kind: ProviderKind,
    ep: &Endpoint,
    chat: &Value,
    model: &str,
) -> Result<Request<Bytes>, AdaptError> {
    match kind {
        ProviderKind::Gemini => {
            let id =
                gemini::model_id(model).ok_or_else(|| BuildError::BadModel(model.to_owned()))?;
            let mut inner = gemini::request::from_openai(chat)?;
            inner["model"] = json!(format!("models/{id}"));
            let body = json!({ "generateContentRequest": inner });
            Ok(native_request(
                kind,
                ep,
                Operation::CountTokens,
                model,
                to_bytes(&body),
                false,
            )?)
        }
        ProviderKind::Vertex => vertex::count_tokens_request(ep, chat, model),
        ProviderKind::OpenAiCompatible
        | ProviderKind::Anthropic
        | ProviderKind::Cohere
        | ProviderKind::Bedrock => Err(AdaptError::Build(BuildError::Unsupported(
            Operation::CountTokens,
        ))),
    }
}

/// Input tokens from a token-count answer made by [`count_tokens_request`].
pub fn count_tokens_response(wire: Wire, body: &Value) -> u64 {
    match wire {
        Wire::Gemini => body.get("totalTokens").and_then(Value::as_u64).unwrap_or(0),
        Wire::OpenAi | Wire::Anthropic | Wire::Cohere | Wire::Bedrock => 0,
    }
}

const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
const OPENAI_BETA: HeaderName = HeaderName::from_static("openai-beta");
const ANTHROPIC_BETA: HeaderName = HeaderName::from_static("anthropic-beta");
const ANTHROPIC_VERSION: HeaderName = HeaderName::from_static("anthropic-version");
// Names made once: a `&str` key is parsed again on every lookup.
static FORWARD_OPENAI: [HeaderName; 2] = [TRACESTATE, OPENAI_BETA];
static FORWARD_ANTHROPIC: [HeaderName; 3] = [TRACESTATE, ANTHROPIC_BETA, ANTHROPIC_VERSION];
static FORWARD_VERTEX: [HeaderName; 2] = [TRACESTATE, ANTHROPIC_BETA];
static FORWARD_OTHER: [HeaderName; 1] = [TRACESTATE];

/// Caller headers that travel upstream, by format: trace state, and the format's own version and
/// beta opt-ins. Nothing else of the caller's (key, cookies, org) is forwarded.
pub fn forwarded_headers(kind: ProviderKind) -> &'static [HeaderName] {
    match kind {
        ProviderKind::OpenAiCompatible => &FORWARD_OPENAI,
        ProviderKind::Anthropic => &FORWARD_ANTHROPIC,
        ProviderKind::Vertex => &FORWARD_VERTEX,
        ProviderKind::Gemini | ProviderKind::Cohere | ProviderKind::Bedrock => &FORWARD_OTHER,
    }
}

/// An error a provider reported inside a stream: (error type, message).
pub type StreamError = (String, String);

/// A provider's stream events → OpenAI chat chunk payloads (`data:` contents, `[DONE]` last).
#[derive(Debug)]
pub enum ChatStream {
    /// Already chat chunks.
    OpenAi,
    Anthropic(anthropic::stream::ChunkTranslator),
    Gemini(gemini::stream::ChunkTranslator),
    Cohere(cohere::stream::ChunkTranslator),
    Bedrock(bedrock::stream::ChunkTranslator),
}

impl ChatStream {
    pub fn new(wire: Wire, created: u64, include_usage: bool, model: &str) -> Self {
        match wire {
            Wire::OpenAi => ChatStream::OpenAi,
            Wire::Anthropic => ChatStream::Anthropic(anthropic::stream::ChunkTranslator::new(
                created,
                include_usage,
            )),
            Wire::Gemini => {
                ChatStream::Gemini(gemini::stream::ChunkTranslator::new(created, include_usage))
            }
            Wire::Cohere => ChatStream::Cohere(cohere::stream::ChunkTranslator::new(
                created,
                include_usage,
                model,
            )),
            Wire::Bedrock => ChatStream::Bedrock(bedrock::stream::ChunkTranslator::new(
                created,
                include_usage,
                &completion_id(),
                model,
            )),
        }
    }

    /// Translates one event: its `event:` name, if any, and its data.
    pub fn on_event(
        &mut self,
        event: Option<&str>,
        data: &str,
    ) -> Result<Vec<String>, StreamError> {
        match self {
            ChatStream::OpenAi => Ok(vec![data.to_owned()]),
            ChatStream::Gemini(t) => t.on_data(data),
            ChatStream::Cohere(t) => t.on_data(data),
            ChatStream::Bedrock(t) => t.on_event(event.unwrap_or_default(), data),
            ChatStream::Anthropic(t) => {
                let parsed: Value = serde_json::from_str(data).map_err(|e| {
                    (
                        "api_error".to_owned(),
                        format!("upstream sent a malformed event: {e}"),
                    )
                })?;
                let name = event
                    .or_else(|| parsed.get("type").and_then(Value::as_str))
                    .unwrap_or_default()
                    .to_owned();
                match t.on_event(&name, &parsed) {
                    anthropic::stream::Out::Data(chunks) => Ok(chunks),
                    anthropic::stream::Out::Error(kind, msg) => Err((kind, msg)),
                }
            }
        }
    }

    /// The upstream closed the stream cleanly: anything still owed (formats without an end
    /// marker finish here).
    pub fn finish(&mut self) -> Result<Vec<String>, StreamError> {
        match self {
            ChatStream::OpenAi | ChatStream::Anthropic(_) | ChatStream::Cohere(_) => Ok(Vec::new()),
            ChatStream::Gemini(t) => t.finish(),
            ChatStream::Bedrock(t) => t.finish(),
        }
    }
}
