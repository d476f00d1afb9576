//! Chooses how a request reaches its provider: passed through when caller and provider speak the
//! same format, translated otherwise (through OpenAI chat, see `switchyard_providers::registry`),
//! and how the reply must be turned back into the caller's shape.

use crate::error::GatewayError;
use crate::images::ImageFetcher;
use crate::upstream::Upstream;
use bytes::Bytes;
use http::Request;
use serde_json::Value;
use switchyard_providers::embeddings::EmbedEcho;
use switchyard_providers::endpoint::BuildError;
use switchyard_providers::openai_compat::messages;
use switchyard_providers::registry::{self, AdaptError, Wire};
use switchyard_providers::responses::{self, Echo};
use switchyard_providers::translate::{Fields, Policy};
use switchyard_providers::{Operation, ProviderKind};
use switchyard_wire::peek::{rewrite_model_then, Peek};

/// The shape the caller expects its answer in, when the provider's differs.
#[derive(Debug, Clone)]
pub enum Caller {
    /// OpenAI chat completion (chunks when streamed); usage chunk only when asked for.
    Chat,
    /// Anthropic Message (events when streamed).
    Messages,
    /// OpenAI Response (Responses events when streamed).
    Responses(Box<Echo>),
    /// OpenAI embeddings list, from the named provider format's answer.
    Embeddings(EmbedEcho, ProviderKind),
    /// Anthropic's `{"input_tokens": n}`.
    CountTokens,
}

/// How the upstream's reply becomes the caller's.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Already in the caller's shape: relayed as it comes.
    Passthrough,
    /// From the provider's format through chat into the caller's.
    Translate {
        from: Wire,
        to: Caller,
        /// The chat request asked for a usage chunk at the end of the stream.
        include_usage: bool,
        /// The upstream model, for formats whose answers do not name it.
        model: String,
    },
}

fn adapt_error(upstream: &Upstream, op: Operation, e: AdaptError) -> GatewayError {
    match e {
        AdaptError::Translate(e) => GatewayError::BadRequest {
            message: e.message,
            param: e.param,
        },
        AdaptError::Build(e) => unsupported(upstream, op, e),
    }
}

fn unsupported(upstream: &Upstream, op: Operation, e: BuildError) -> GatewayError {
    match e {
        BuildError::Unsupported(_) => GatewayError::BadRequest {
            message: format!(
                "provider '{}' does not serve {}; choose a model from another provider",
                upstream.name,
                op.name()
            ),
            param: Some("model".into()),
        },
        BuildError::BadModel(m) => GatewayError::BadRequest {
            message: format!(
                "'{m}' is not a valid model name for provider '{}'",
                upstream.name
            ),
            param: Some("model".into()),
        },
        BuildError::Http(e) => GatewayError::Internal {
            detail: format!("building upstream request: {e}"),
        },
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn parse_json(body: &Bytes) -> Result<Value, GatewayError> {
    serde_json::from_slice(body).map_err(|e| GatewayError::BadRequest {
        message: format!("request body is not valid JSON: {e}"),
        param: None,
    })
}

/// The upstream request, how to read its answer, and the request fields left out because the
/// provider cannot take them and the provider is configured with `drop_params`.
pub struct Adapted {
    pub req: Request<Bytes>,
    pub reply: Reply,
    pub dropped: Vec<String>,
    /// `stream_options.include_usage` was added for the record: the usage chunk is not the
    /// caller's.
    pub usage_injected: bool,
}

/// Anthropic's count_tokens for a provider that cannot count: the gateway's estimate
/// (`switchyard_providers::tokens`), answered without calling the provider and marked as such.
pub fn estimate_tokens(
    upstream: &Upstream,
    op: Operation,
    body: &Bytes,
    model: &str,
) -> Result<Option<http::Response<axum::body::Body>>, GatewayError> {
    if op != Operation::CountTokens || registry::format(upstream.kind).counts_tokens(model) {
        return Ok(None);
    }
    let req = parse_json(body)?;
    let n = switchyard_providers::tokens::estimate_messages(&req);
    let body = serde_json::json!({ "input_tokens": n }).to_string();
    let resp = http::Response::builder()
        .header(http::header::CONTENT_TYPE, "application/json")
        .header("x-switchyard-token-count", "estimate")
        .header("x-switchyard-provider", upstream.name_header.clone())
        .body(axum::body::Body::from(body))
        .map_err(|e| GatewayError::Internal {
            detail: e.to_string(),
        })?;
    Ok(Some(resp))
}

/// Settings of one adaptation beyond the request itself.
#[derive(Debug, Clone, Copy)]
pub struct How {
    /// Ask OpenAI-compatible streams for their usage chunk (for the request's record).
    pub stream_usage: bool,
    /// What may be left out where the provider cannot take a field.
    pub policy: Policy,
}

/// Builds the upstream request for `model` from the caller's body; images are fetched with
/// `images` for providers that take them only inline.
pub async fn request(
    upstream: &Upstream,
    images: &ImageFetcher,
    op: Operation,
    body: &Bytes,
    peek: &Peek,
    model: &str,
    how: How,
) -> Result<Adapted, GatewayError> {
    let How {
        stream_usage,
        policy,
    } = how;
    let kind = upstream.kind;
    let format = registry::format(kind);
    let ep = &upstream.endpoint;
    let done = |req, reply, dropped| Adapted {
        req,
        reply,
        dropped,
        usage_injected: false,
    };
    if format.passes_through(ep, op) {
        // Same format on both sides: the body passes through with only the model rewritten.
        // OpenAI-compatible streams report usage only when asked: ask, for the request's record.
        let inject = stream_usage
            && peek.stream
            && kind == ProviderKind::OpenAiCompatible
            && matches!(op, Operation::ChatCompletions | Operation::Completions)
            && !contains(body, b"stream_options");
        let after: &[u8] = if inject {
            br#","stream_options":{"include_usage":true}"#
        } else {
            b""
        };
        let body = rewrite_model_then(body, peek, model, after);
        let req = format
            .native_request(ep, op, model, body, peek.stream)
            .map_err(|e| unsupported(upstream, op, e))?;
        return Ok(Adapted {
            usage_injected: inject,
            ..done(req, Reply::Passthrough, Vec::new())
        });
    }
    let caller = parse_json(body)?;
    if op == Operation::Messages {
        if let Some(req) = format.messages_request(ep, &caller, model, peek.stream) {
            let req = req.map_err(|e| unsupported(upstream, op, e))?;
            return Ok(done(req, Reply::Passthrough, Vec::new()));
        }
    }
    let fail = |e| adapt_error(upstream, op, e);
    // What the caller's fields become where the target cannot take them (docs/compatibility.md).
    let mut fields = Fields::new(policy);
    let translated = |to: Caller| Reply::Translate {
        from: format.answers(model),
        to,
        include_usage: false,
        model: model.to_owned(),
    };
    let (mut chat, to) = match op {
        Operation::ChatCompletions => (caller, Caller::Chat),
        Operation::Messages => {
            let chat = messages::request::from_messages(&caller, model, &mut fields)
                .map_err(|e| fail(e.into()))?;
            (chat, Caller::Messages)
        }
        Operation::Responses => {
            let echo = Box::new(Echo::from_request(&caller));
            let chat = responses::request::to_chat(&caller, model, &mut fields)
                .map_err(|e| fail(e.into()))?;
            (chat, Caller::Responses(echo))
        }
        Operation::Embeddings => {
            let (req, echo) = format
                .embeddings_request(ep, &caller, model, &mut fields)
                .map_err(fail)?;
            return Ok(done(
                req,
                translated(Caller::Embeddings(echo, kind)),
                fields.dropped,
            ));
        }
        Operation::CountTokens => {
            let chat = messages::request::from_messages(&caller, model, &mut fields)
                .map_err(|e| fail(e.into()))?;
            let req = format
                .count_tokens_request(ep, &chat, model, &mut fields)
                .map_err(fail)?;
            return Ok(done(req, translated(Caller::CountTokens), fields.dropped));
        }
        Operation::Completions => {
            return Err(unsupported(upstream, op, BuildError::Unsupported(op)))
        }
    };
    if registry::answers(format.answers(model)).needs_inline_images() {
        images.inline_chat_images(&mut chat).await?;
    }
    let include_usage = chat
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let first = fields.dropped.len();
    let req = format
        .chat_request(ep, &chat, model, peek.stream, &mut fields)
        .map_err(fail)?;
    // What the target could not take of the chat request is named as the caller sent it.
    match &to {
        Caller::Messages => fields.rename_since(first, messages::request::caller_field),
        Caller::Responses(_) => fields.rename_since(first, responses::request::caller_field),
        _ => {}
    }
    let reply = Reply::Translate {
        from: format.answers(model),
        to,
        include_usage,
        model: model.to_owned(),
    };
    Ok(done(req, reply, fields.dropped))
}
