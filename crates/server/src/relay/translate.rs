//! Reply translation for callers and providers that speak different formats: whole bodies, and
//! stream events one at a time (several caller events from one upstream event go out together).

use super::SseRelay;
use crate::adapt::Reply;
use crate::error::GatewayError;
use bytes::Bytes;
use switchyard_providers::anthropic;
use switchyard_providers::anthropic::stream::{ChunkTranslator, Out};
use switchyard_providers::openai_compat::messages;
use switchyard_providers::openai_compat::messages::stream::EventTranslator;
use switchyard_providers::responses;
use switchyard_providers::responses::stream::ResponsesTranslator;
use switchyard_wire::error_body::{anthropic_sse_event, OpenAiError};
use switchyard_wire::sse::SseParser;

/// The stream translator a reply needs; `None` when events pass through.
pub(super) fn stream_translator(reply: &Reply) -> Option<Translator> {
    match reply {
        Reply::Passthrough => None,
        Reply::AnthropicToChat { include_usage } => Some(Translator::ToChat(ChunkTranslator::new(
            unix_now(),
            *include_usage,
        ))),
        Reply::ChatToMessages => Some(Translator::ToMessages(EventTranslator::new())),
        Reply::ChatToResponses(echo) => Some(Translator::ToResponses(ResponsesTranslator::new(
            *echo.clone(),
            unix_now(),
        ))),
        Reply::AnthropicToResponses(echo) => Some(Translator::AnthropicToResponses(
            ChunkTranslator::new(unix_now(), true),
            ResponsesTranslator::new(*echo.clone(), unix_now()),
        )),
    }
}

/// A whole (non-stream) upstream body in the caller's format.
pub(super) fn whole_body(
    reply: &Reply,
    provider: &str,
    bytes: Bytes,
) -> Result<Bytes, GatewayError> {
    if matches!(reply, Reply::Passthrough) {
        return Ok(bytes);
    }
    let upstream: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| GatewayError::UpstreamProtocol {
            provider: provider.to_owned(),
            detail: format!("response is not JSON: {e}"),
        })?;
    let caller = match reply {
        Reply::ChatToMessages => messages::response::to_message(&upstream),
        Reply::ChatToResponses(echo) => {
            responses::response::to_response(&upstream, echo, unix_now())
        }
        Reply::AnthropicToResponses(echo) => {
            let chat = anthropic::response::to_openai(&upstream, unix_now());
            responses::response::to_response(&chat, echo, unix_now())
        }
        Reply::AnthropicToChat { .. } | Reply::Passthrough => {
            anthropic::response::to_openai(&upstream, unix_now())
        }
    };
    Ok(Bytes::from(serde_json::to_vec(&caller).unwrap_or_default()))
}

pub(super) enum Translated {
    Nothing,
    Frame(Bytes),
    Fail(GatewayError),
}

/// Stream translators, by direction.
pub(super) enum Translator {
    /// Anthropic events → OpenAI chunks.
    ToChat(ChunkTranslator),
    /// OpenAI chunks → Anthropic events.
    ToMessages(EventTranslator),
    /// OpenAI chunks → Responses events.
    ToResponses(ResponsesTranslator),
    /// Anthropic events → OpenAI chunks → Responses events.
    AnthropicToResponses(ChunkTranslator, ResponsesTranslator),
}

/// Frames from the Responses translator; an upstream error ends the stream with an error event
/// in OpenAI's shape, which the OpenAI SDKs raise for Responses streams too.
fn responses_frames(
    r: &mut SseRelay,
    result: Result<Vec<String>, String>,
    ended: bool,
) -> Translated {
    match result {
        Ok(frames) => {
            r.saw_end = ended;
            if frames.is_empty() {
                Translated::Nothing
            } else {
                Translated::Frame(Bytes::from(frames.concat()))
            }
        }
        Err(message) => {
            r.saw_end = true;
            tracing::warn!(provider = %r.provider, "upstream error mid-stream");
            let e = OpenAiError::new(message, "api_error", None);
            Translated::Frame(e.to_sse_event()).into_final(r)
        }
    }
}

/// An Anthropic stream event's name (the `event:` line, else its `type`) and parsed data.
fn anthropic_event(
    ev: &switchyard_wire::sse::SseEvent,
    data: &str,
) -> Result<(String, serde_json::Value), serde_json::Error> {
    let parsed: serde_json::Value = serde_json::from_str(data)?;
    let name = ev
        .event
        .clone()
        .or_else(|| {
            parsed
                .get("type")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_default();
    Ok((name, parsed))
}

fn not_json(r: &SseRelay, e: &serde_json::Error) -> Translated {
    Translated::Fail(GatewayError::UpstreamProtocol {
        provider: r.provider.clone(),
        detail: format!("stream event is not JSON: {e}"),
    })
}

/// Runs one upstream event through the translator; several caller events go out as one frame.
pub(super) fn translate_event(r: &mut SseRelay, ev: &switchyard_wire::sse::SseEvent) -> Translated {
    let Some(data) = ev.data.as_deref() else {
        return Translated::Nothing;
    };
    match r.translator.as_mut() {
        None => Translated::Nothing,
        Some(Translator::ToResponses(tr)) => {
            let result = tr.on_data(data);
            let ended = tr.ended();
            responses_frames(r, result, ended)
        }
        Some(Translator::AnthropicToResponses(to_chat, tr)) => {
            let (name, parsed) = match anthropic_event(ev, data) {
                Ok(v) => v,
                Err(e) => return not_json(r, &e),
            };
            let name = name.as_str();
            let result = match to_chat.on_event(name, &parsed) {
                Out::Data(chunks) => {
                    let mut frames = Vec::new();
                    let mut failed = None;
                    for c in chunks {
                        match tr.on_data(&c) {
                            Ok(f) => frames.extend(f),
                            Err(e) => {
                                failed = Some(e);
                                break;
                            }
                        }
                    }
                    failed.map_or(Ok(frames), Err)
                }
                Out::Error(_, message) => Err(message),
            };
            let ended = tr.ended();
            responses_frames(r, result, ended)
        }
        Some(Translator::ToMessages(tr)) => match tr.on_data(data) {
            Ok(frames) => {
                r.saw_end = tr.ended();
                if frames.is_empty() {
                    return Translated::Nothing;
                }
                Translated::Frame(Bytes::from(frames.concat()))
            }
            Err((kind, message)) => {
                r.saw_end = true;
                tracing::warn!(provider = %r.provider, "upstream error chunk mid-stream");
                Translated::Frame(anthropic_sse_event(&kind, &message)).into_final(r)
            }
        },
        Some(Translator::ToChat(tr)) => {
            let (name, parsed) = match anthropic_event(ev, data) {
                Ok(v) => v,
                Err(e) => return not_json(r, &e),
            };
            let name = name.as_str();
            match tr.on_event(name, &parsed) {
                Out::Data(items) if items.is_empty() => Translated::Nothing,
                Out::Data(items) => {
                    let mut buf = Vec::with_capacity(items.iter().map(|i| i.len() + 8).sum());
                    for item in items {
                        if item == "[DONE]" {
                            r.saw_end = true;
                        }
                        buf.extend_from_slice(b"data: ");
                        buf.extend_from_slice(item.as_bytes());
                        buf.extend_from_slice(b"\n\n");
                    }
                    Translated::Frame(Bytes::from(buf))
                }
                Out::Error(kind, message) => {
                    r.saw_end = true;
                    // Sent as the provider said it, in OpenAI's shape; a mid-stream error has no status.
                    let e = OpenAiError::new(message, &kind, None);
                    tracing::warn!(provider = %r.provider, kind, "upstream error event mid-stream");
                    Translated::Frame(e.to_sse_event()).into_final(r)
                }
            }
        }
    }
}

impl Translated {
    /// Marks the stream finished after this frame.
    fn into_final(self, r: &mut SseRelay) -> Self {
        r.done = true;
        r.parser = SseParser::new();
        self
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
