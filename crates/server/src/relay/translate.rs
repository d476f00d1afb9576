//! Reply translation for callers and providers that speak different formats: whole bodies, and
//! stream events one at a time. Both go through OpenAI chat: the provider's events become chat
//! chunks (`ChunkStream`), and the chunks become the caller's events (`Sink`); several caller
//! events from one upstream event go out together.

use super::stream::SseRelay;
use crate::adapt::{Caller, Reply};
use crate::error::GatewayError;
use bytes::Bytes;
use switchyard_providers::openai_compat::messages;
use switchyard_providers::openai_compat::messages::stream::EventTranslator;
use switchyard_providers::registry::{self, ChunkStream, StreamError};
use switchyard_providers::responses;
use switchyard_providers::responses::stream::ResponsesTranslator;
use switchyard_providers::usage::{Shape, UsageTap};
use switchyard_wire::error_body::{anthropic_sse_event, OpenAiError};
use switchyard_wire::sse::SseEvent;

/// The stream translator a reply needs; `None` when events pass through.
pub(super) fn stream_translator(reply: &Reply) -> Option<Translator> {
    let Reply::Translate {
        from,
        to,
        include_usage,
        model,
    } = reply
    else {
        return None;
    };
    let sink = match to {
        Caller::Chat | Caller::Embeddings(..) | Caller::CountTokens => Sink::Chat {
            include_usage: *include_usage,
        },
        Caller::Messages => Sink::Messages(EventTranslator::new()),
        Caller::Responses(echo) => Sink::Responses(Box::new(ResponsesTranslator::new(
            *echo.clone(),
            unix_now(),
        ))),
    };
    // The usage chunk is always asked of the source, for the request's record; a chat caller
    // that did not ask for it does not get it.
    Some(Translator {
        source: registry::chat_stream(*from, unix_now(), true, model),
        sink,
        finished: false,
        tap: UsageTap::new(Shape::Chat),
    })
}

/// A whole (non-stream) upstream body in the caller's format.
pub(super) fn whole_body(
    reply: &Reply,
    provider: &str,
    bytes: Bytes,
) -> Result<Bytes, GatewayError> {
    let Reply::Translate {
        from, to, model, ..
    } = reply
    else {
        return Ok(bytes);
    };
    let upstream: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| GatewayError::UpstreamProtocol {
            provider: provider.to_owned(),
            detail: format!("response is not JSON: {e}"),
        })?;
    let answers = registry::answers(*from);
    let caller = match to {
        Caller::Embeddings(echo, kind) => {
            registry::format(*kind).embeddings_response(&upstream, echo)
        }
        Caller::CountTokens => {
            serde_json::json!({"input_tokens": answers.count_tokens_response(&upstream)})
        }
        Caller::Chat => answers.chat_response(upstream, model, unix_now()),
        Caller::Messages => {
            messages::response::to_message(&answers.chat_response(upstream, model, unix_now()))
        }
        Caller::Responses(echo) => responses::response::to_response(
            &answers.chat_response(upstream, model, unix_now()),
            echo,
            unix_now(),
        ),
    };
    Ok(Bytes::from(serde_json::to_vec(&caller).unwrap_or_default()))
}

pub(super) enum Translated {
    Nothing,
    Frame(Bytes),
}

/// Chat chunks → the caller's stream events.
enum Sink {
    /// Chat chunks framed as `data:` lines; the usage chunk only when the caller asked for it.
    Chat { include_usage: bool },
    /// Anthropic Messages events.
    Messages(EventTranslator),
    /// Responses events.
    Responses(Box<ResponsesTranslator>),
}

/// A provider-to-caller stream translation.
pub(super) struct Translator {
    source: Box<dyn ChunkStream>,
    sink: Sink,
    /// `finish` has run.
    finished: bool,
    /// Reads the usage from the chat chunks.
    tap: UsageTap,
}

impl Sink {
    /// Frames for the caller from chat chunks, and whether the caller's stream has ended.
    fn push(&mut self, chunks: Vec<String>) -> Result<(Vec<u8>, bool), StreamError> {
        let mut buf = Vec::new();
        let mut ended = false;
        for c in chunks {
            match self {
                Sink::Chat { include_usage } => {
                    ended |= c == "[DONE]";
                    if !*include_usage && c.contains("\"usage\"") && super::usage_only_chunk(&c) {
                        continue;
                    }
                    buf.extend_from_slice(b"data: ");
                    buf.extend_from_slice(c.as_bytes());
                    buf.extend_from_slice(b"\n\n");
                }
                Sink::Messages(t) => {
                    for f in t.on_data(&c)? {
                        buf.extend_from_slice(f.as_bytes());
                    }
                    ended = t.ended();
                }
                Sink::Responses(t) => {
                    for f in t.on_data(&c).map_err(|m| ("api_error".to_owned(), m))? {
                        buf.extend_from_slice(f.as_bytes());
                    }
                    ended = t.ended();
                }
            }
        }
        Ok((buf, ended))
    }

    /// The event that ends a stream with an upstream error, in the caller's shape. Responses
    /// streams take OpenAI's error event, which the OpenAI SDKs raise there too.
    fn error(&self, kind: &str, message: &str) -> Bytes {
        match self {
            Sink::Messages(_) => anthropic_sse_event(kind, message),
            Sink::Chat { .. } => OpenAiError::new(message, kind, None).to_sse_event(),
            Sink::Responses(_) => OpenAiError::new(message, "api_error", None).to_sse_event(),
        }
    }
}

fn deliver(r: &mut SseRelay, chunks: Result<Vec<String>, StreamError>) -> Translated {
    let Some(t) = r.translator.as_mut() else {
        return Translated::Nothing;
    };
    if let Ok(chunks) = &chunks {
        for c in chunks.iter().filter(|c| c.contains("\"usage\"")) {
            t.tap.event(c.as_bytes());
            if let Some(u) = t.tap.usage() {
                r.meter.usage(u);
            }
        }
    }
    let result = chunks.and_then(|c| t.sink.push(c));
    match result {
        Ok((buf, ended)) => {
            r.saw_end |= ended;
            if buf.is_empty() {
                Translated::Nothing
            } else {
                Translated::Frame(Bytes::from(buf))
            }
        }
        Err((kind, message)) => {
            tracing::warn!(provider = %r.provider, kind, "upstream error mid-stream");
            r.meter.failed(format!("{kind}: {message}"));
            let frame = t.sink.error(&kind, &message);
            r.saw_end = true;
            r.done = true;
            r.parser.clear();
            Translated::Frame(frame)
        }
    }
}

/// Runs one upstream event through the translator.
pub(super) fn translate_event(r: &mut SseRelay, ev: &SseEvent) -> Translated {
    let Some(data) = ev.data.as_deref() else {
        return Translated::Nothing;
    };
    let Some(t) = r.translator.as_mut() else {
        return Translated::Nothing;
    };
    let chunks = t.source.on_event(ev.event.as_deref(), data);
    deliver(r, chunks)
}

/// The upstream closed cleanly: whatever the source still owes (once). A source that had not
/// reached its end reports the truncation as an error event.
pub(super) fn translate_close(r: &mut SseRelay) -> Translated {
    let Some(t) = r.translator.as_mut() else {
        return Translated::Nothing;
    };
    if t.finished || r.saw_end {
        return Translated::Nothing;
    }
    t.finished = true;
    let chunks = t.source.finish();
    deliver(r, chunks)
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
