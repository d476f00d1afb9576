//! Chooses how a request reaches its provider: passed through when caller and provider speak the
//! same format, translated otherwise, and how the reply must be turned back into the caller's shape.

use crate::error::GatewayError;
use crate::upstream::Upstream;
use bytes::Bytes;
use http::Request;
use serde_json::Value;
use switchyard_providers::endpoint::BuildError;
use switchyard_providers::responses::{self, Echo};
use switchyard_providers::translate::TranslateError;
use switchyard_providers::{anthropic, openai_compat, Operation, ProviderKind};
use switchyard_wire::peek::{rewrite_model, Peek};
use switchyard_wire::Dialect;

/// How the upstream's reply becomes the caller's.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Already in the caller's shape: relayed as it comes.
    Passthrough,
    /// Anthropic Messages → OpenAI chat completion (chunks when streamed).
    AnthropicToChat { include_usage: bool },
    /// OpenAI chat completion → Anthropic Message (events when streamed).
    ChatToMessages,
    /// OpenAI chat completion → Response (Responses events when streamed).
    ChatToResponses(Box<Echo>),
    /// Anthropic Message → chat completion → Response.
    AnthropicToResponses(Box<Echo>),
}

fn bad(e: TranslateError) -> GatewayError {
    GatewayError::BadRequest {
        message: e.message,
        param: e.param,
    }
}

/// `/v1/responses`: to chat completions first, then on to the provider's own format.
fn responses(
    upstream: &Upstream,
    body: &Bytes,
    peek: &Peek,
    model: &str,
) -> Result<(Request<Bytes>, Reply), GatewayError> {
    let caller = parse_json(body)?;
    let echo = Box::new(Echo::from_request(&caller));
    let chat = responses::request::to_chat(&caller, model).map_err(bad)?;
    let (bytes, reply) = match upstream.kind {
        ProviderKind::OpenAiCompatible => (serde_json::to_vec(&chat), Reply::ChatToResponses(echo)),
        ProviderKind::Anthropic => {
            let messages = anthropic::request::from_openai(&chat, model).map_err(bad)?;
            (
                serde_json::to_vec(&messages),
                Reply::AnthropicToResponses(echo),
            )
        }
    };
    let bytes = Bytes::from(bytes.map_err(internal)?);
    let req = match upstream.kind {
        ProviderKind::OpenAiCompatible => openai_compat::build_request(
            &upstream.endpoint,
            Operation::ChatCompletions,
            model,
            bytes,
            peek.stream,
        ),
        ProviderKind::Anthropic => {
            anthropic::build_request(&upstream.endpoint, Operation::Messages, bytes, peek.stream)
        }
    }
    .map_err(|e| unsupported(upstream, Operation::Responses, e))?;
    Ok((req, reply))
}

/// Caller headers that travel upstream, by provider format: trace state, and the format's own
/// version and beta opt-ins. Nothing else of the caller's (key, cookies, org) is forwarded.
pub fn forwarded_headers(kind: ProviderKind) -> &'static [&'static str] {
    match kind {
        ProviderKind::OpenAiCompatible => &["tracestate", "openai-beta"],
        ProviderKind::Anthropic => &["tracestate", "anthropic-beta", "anthropic-version"],
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
                "'{m}' is not a valid deployment name for provider '{}'",
                upstream.name
            ),
            param: Some("model".into()),
        },
        BuildError::Http(e) => internal(e),
    }
}

fn parse_json(body: &Bytes) -> Result<Value, GatewayError> {
    serde_json::from_slice(body).map_err(|e| GatewayError::BadRequest {
        message: format!("request body is not valid JSON: {e}"),
        param: None,
    })
}

fn internal(e: impl std::fmt::Display) -> GatewayError {
    GatewayError::Internal {
        detail: format!("building upstream request: {e}"),
    }
}

/// Builds the upstream request for `model` from the caller's body.
pub fn request(
    upstream: &Upstream,
    op: Operation,
    body: &Bytes,
    peek: &Peek,
    model: &str,
) -> Result<(Request<Bytes>, Reply), GatewayError> {
    if op == Operation::Responses {
        return responses(upstream, body, peek, model);
    }
    match (upstream.kind, op.dialect()) {
        // Same format on both sides: the body passes through with only the model rewritten.
        (ProviderKind::OpenAiCompatible, Dialect::OpenAi)
        | (ProviderKind::Anthropic, Dialect::Anthropic) => {
            let body = rewrite_model(body, peek, model);
            let req = match upstream.kind {
                ProviderKind::OpenAiCompatible => {
                    openai_compat::build_request(&upstream.endpoint, op, model, body, peek.stream)
                }
                ProviderKind::Anthropic => {
                    anthropic::build_request(&upstream.endpoint, op, body, peek.stream)
                }
            }
            .map_err(|e| unsupported(upstream, op, e))?;
            Ok((req, Reply::Passthrough))
        }
        (ProviderKind::OpenAiCompatible, Dialect::Anthropic) => {
            if op != Operation::Messages {
                return Err(GatewayError::BadRequest {
                    message: format!(
                        "provider '{}' is OpenAI-compatible and cannot count Anthropic tokens",
                        upstream.name
                    ),
                    param: Some("model".into()),
                });
            }
            let caller = parse_json(body)?;
            let translated =
                openai_compat::messages::request::from_messages(&caller, model).map_err(bad)?;
            let bytes = Bytes::from(serde_json::to_vec(&translated).map_err(internal)?);
            let req = openai_compat::build_request(
                &upstream.endpoint,
                Operation::ChatCompletions,
                model,
                bytes,
                peek.stream,
            )
            .map_err(|e| unsupported(upstream, op, e))?;
            Ok((req, Reply::ChatToMessages))
        }
        (ProviderKind::Anthropic, Dialect::OpenAi) => {
            if op != Operation::ChatCompletions {
                return Err(unsupported(upstream, op, BuildError::Unsupported(op)));
            }
            let caller: Value =
                serde_json::from_slice(body).map_err(|e| GatewayError::BadRequest {
                    message: format!("request body is not valid JSON: {e}"),
                    param: None,
                })?;
            let include_usage = caller
                .pointer("/stream_options/include_usage")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let translated = anthropic::request::from_openai(&caller, model).map_err(bad)?;
            let bytes = Bytes::from(serde_json::to_vec(&translated).map_err(internal)?);
            let req = anthropic::build_request(&upstream.endpoint, op, bytes, peek.stream)
                .map_err(|e| unsupported(upstream, op, e))?;
            Ok((req, Reply::AnthropicToChat { include_usage }))
        }
    }
}
