//! Chooses how a request reaches its provider: passed through (OpenAI-compatible providers) or
//! translated (Anthropic), and how the reply must be turned back into the caller's shape.

use crate::error::GatewayError;
use crate::upstream::Upstream;
use bytes::Bytes;
use http::Request;
use serde_json::Value;
use switchyard_providers::translate::TranslateError;
use switchyard_providers::{anthropic, openai_compat, Operation, ProviderKind};
use switchyard_wire::peek::{rewrite_model, Peek};

/// How the upstream's reply becomes the caller's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// Already in the caller's shape: relayed as it comes.
    Passthrough,
    /// Anthropic Messages → OpenAI chat completion (chunks when streamed).
    AnthropicToChat { include_usage: bool },
}

fn bad(e: TranslateError) -> GatewayError {
    GatewayError::BadRequest {
        message: e.message,
        param: e.param,
    }
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
    match upstream.kind {
        ProviderKind::OpenAiCompatible => {
            let body = rewrite_model(body, peek, model);
            let req = openai_compat::build_request(&upstream.endpoint, op, body, peek.stream)
                .map_err(internal)?;
            Ok((req, Reply::Passthrough))
        }
        ProviderKind::Anthropic => {
            if op != Operation::ChatCompletions {
                return Err(GatewayError::BadRequest {
                    message: format!(
                        "provider '{}' (Anthropic) does not serve {}; use /v1/chat/completions",
                        upstream.name,
                        op.name()
                    ),
                    param: Some("model".into()),
                });
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
            let req = anthropic::build_request(&upstream.endpoint, bytes, peek.stream)
                .map_err(internal)?;
            Ok((req, Reply::AnthropicToChat { include_usage }))
        }
    }
}
