//! Relays an upstream response to the caller: SSE streams event by event as they arrive, other
//! bodies whole, error bodies normalised to OpenAI's shape. After the first byte has gone to the
//! caller, a failure ends the stream with an error event, never a silent truncation.

use crate::adapt::Reply;
use crate::error::{GatewayError, UpstreamReply};
use crate::upstream::UpstreamBody;
use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use std::convert::Infallible;
use std::time::Duration;
use switchyard_providers::anthropic;
use switchyard_providers::anthropic::stream::{ChunkTranslator, Out};
use switchyard_providers::openai_compat::messages;
use switchyard_providers::openai_compat::messages::stream::EventTranslator;
use switchyard_providers::responses;
use switchyard_providers::responses::stream::ResponsesTranslator;
use switchyard_wire::error_body::anthropic_sse_event;
use switchyard_wire::error_body::OpenAiError;
use switchyard_wire::sse::SseParser;
use switchyard_wire::Dialect;
use tokio::time::Instant;

/// Error bodies larger than this are cut; they are read only to relay a message.
const MAX_ERROR_BODY: usize = 1024 * 1024;
/// Non-stream bodies larger than this are refused rather than held in memory.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// Upstream response headers worth passing to the caller.
fn pass_header(name: &HeaderName) -> bool {
    let n = name.as_str();
    n == "retry-after"
        || n == "retry-after-ms"
        || n.starts_with("x-ratelimit-")
        || n == "openai-processing-ms"
        || n == "openai-version"
}

fn copied_headers(from: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (k, v) in from {
        if pass_header(k) {
            out.append(k.clone(), v.clone());
        }
    }
    if let Some(id) = from.get("x-request-id") {
        out.insert("x-upstream-request-id", id.clone());
    }
    out
}

/// Limits that apply while reading an upstream body.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub idle: Duration,
    pub deadline: Instant,
}

/// Fires when the drain deadline passes.
pub type StopSignal = tokio::sync::watch::Receiver<bool>;

/// Turns the upstream response into the caller's response.
pub async fn relay(
    provider: &str,
    resp: hyper::Response<UpstreamBody>,
    limits: BodyLimits,
    stop: StopSignal,
    reply: Reply,
    dialect: Dialect,
) -> Result<Response, GatewayError> {
    let (parts, body) = resp.into_parts();
    let headers = copied_headers(&parts.headers);
    if !parts.status.is_success() {
        let raw = read_body(provider, body, limits, MAX_ERROR_BODY, true).await?;
        return Err(GatewayError::UpstreamStatus(Box::new(UpstreamReply {
            status: parts.status,
            body: raw,
            headers,
        })));
    }
    let is_sse = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let mut out = if is_sse {
        let translator = match reply {
            Reply::Passthrough => None,
            Reply::AnthropicToChat { include_usage } => Some(Translator::ToChat(
                ChunkTranslator::new(unix_now(), include_usage),
            )),
            Reply::ChatToMessages => Some(Translator::ToMessages(EventTranslator::new())),
            Reply::ChatToResponses(echo) => Some(Translator::ToResponses(
                ResponsesTranslator::new(*echo.clone(), unix_now()),
            )),
            Reply::AnthropicToResponses(echo) => Some(Translator::AnthropicToResponses(
                ChunkTranslator::new(unix_now(), true),
                ResponsesTranslator::new(*echo.clone(), unix_now()),
            )),
        };
        let mut r = Response::new(sse_body(
            provider.to_owned(),
            body,
            limits,
            stop,
            translator,
            dialect,
        ));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        r
    } else {
        let bytes = read_body(provider, body, limits, MAX_BODY, false).await?;
        let bytes = match reply {
            Reply::Passthrough => bytes,
            Reply::AnthropicToChat { .. }
            | Reply::ChatToMessages
            | Reply::ChatToResponses(_)
            | Reply::AnthropicToResponses(_) => {
                let upstream: serde_json::Value =
                    serde_json::from_slice(&bytes).map_err(|e| GatewayError::UpstreamProtocol {
                        provider: provider.to_owned(),
                        detail: format!("response is not JSON: {e}"),
                    })?;
                let caller = match &reply {
                    Reply::ChatToMessages => messages::response::to_message(&upstream),
                    Reply::ChatToResponses(echo) => {
                        responses::response::to_response(&upstream, echo, unix_now())
                    }
                    Reply::AnthropicToResponses(echo) => {
                        let chat = anthropic::response::to_openai(&upstream, unix_now());
                        responses::response::to_response(&chat, echo, unix_now())
                    }
                    _ => anthropic::response::to_openai(&upstream, unix_now()),
                };
                Bytes::from(serde_json::to_vec(&caller).unwrap_or_default())
            }
        };
        let mut r = Response::new(Body::from(bytes));
        let ct = parts
            .headers
            .get(header::CONTENT_TYPE)
            .cloned()
            .unwrap_or(HeaderValue::from_static("application/json"));
        r.headers_mut().insert(header::CONTENT_TYPE, ct);
        r
    };
    *out.status_mut() = StatusCode::from_u16(parts.status.as_u16()).unwrap_or(StatusCode::OK);
    out.headers_mut().extend(headers);
    Ok(out)
}

/// Reads a whole body within the idle and total limits. `truncate` keeps the first `max` bytes
/// instead of failing (for error bodies, which are only read for their message).
async fn read_body(
    provider: &str,
    mut body: UpstreamBody,
    limits: BodyLimits,
    max: usize,
    truncate: bool,
) -> Result<Bytes, GatewayError> {
    let mut buf: Vec<u8> = Vec::new();
    let mut first: Option<Bytes> = None;
    loop {
        let next = tokio::time::timeout_at(
            limits.deadline.min(Instant::now() + limits.idle),
            body.frame(),
        )
        .await
        .map_err(|_| GatewayError::UpstreamTimeout {
            provider: provider.to_owned(),
            phase: "reading the response body",
        })?;
        match next {
            None => break,
            Some(Err(e)) => {
                return Err(GatewayError::UpstreamProtocol {
                    provider: provider.to_owned(),
                    detail: format!("response body broke off: {e}"),
                })
            }
            Some(Ok(frame)) => {
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                // Most bodies arrive in one frame: keep it without copying.
                if first.is_none() && buf.is_empty() {
                    first = Some(data);
                    continue;
                }
                if let Some(f) = first.take() {
                    buf.extend_from_slice(&f);
                }
                buf.extend_from_slice(&data);
                if buf.len() > max {
                    if truncate {
                        buf.truncate(max);
                        break;
                    }
                    return Err(GatewayError::UpstreamProtocol {
                        provider: provider.to_owned(),
                        detail: format!("response body larger than {max} bytes"),
                    });
                }
            }
        }
    }
    Ok(match first {
        Some(f) => f,
        None => Bytes::from(buf),
    })
}

struct SseRelay {
    stop: StopSignal,
    /// The caller's API shape, for the error event that ends a failed stream.
    dialect: Dialect,
    /// Set when the upstream speaks another format: events are translated, not forwarded.
    translator: Option<Translator>,
    /// A translated stream must reach its end event; a clean close before it is a truncation.
    saw_end: bool,
    provider: String,
    body: UpstreamBody,
    parser: SseParser,
    limits: BodyLimits,
    done: bool,
}

fn error_frame(e: &GatewayError, dialect: Dialect) -> Result<Frame<Bytes>, Infallible> {
    tracing::warn!(error = %e, "stream ended with an error after it had started");
    Ok(Frame::data(e.sse_event(dialect)))
}

/// An SSE body that forwards each complete upstream event as soon as it is parsed.
fn sse_body(
    provider: String,
    body: UpstreamBody,
    limits: BodyLimits,
    stop: StopSignal,
    translator: Option<Translator>,
    dialect: Dialect,
) -> Body {
    let relay = SseRelay {
        stop,
        dialect,
        translator,
        saw_end: false,
        provider,
        body,
        parser: SseParser::new(),
        limits,
        done: false,
    };
    let stream = futures_util::stream::unfold(relay, |mut r| async move {
        loop {
            if let Some(ev) = r.parser.next_event() {
                if r.translator.is_none() {
                    return Some((Ok(Frame::data(ev.raw)), r));
                }
                match translate_event(&mut r, &ev) {
                    Translated::Nothing => continue,
                    Translated::Frame(bytes) => return Some((Ok(Frame::data(bytes)), r)),
                    Translated::Fail(e) => {
                        r.done = true;
                        r.saw_end = true;
                        r.parser = SseParser::new();
                        return Some((error_frame(&e, r.dialect), r));
                    }
                }
            }
            if r.done {
                if r.translator.is_some() && !r.saw_end {
                    r.saw_end = true;
                    let err = GatewayError::UpstreamProtocol {
                        provider: r.provider.clone(),
                        detail: "stream closed before its final event".into(),
                    };
                    return Some((error_frame(&err, r.dialect), r));
                }
                return None;
            }
            let limit = r.limits.deadline.min(Instant::now() + r.limits.idle);
            let next = tokio::select! {
                biased;
                next = tokio::time::timeout_at(limit, r.body.frame()) => Some(next),
                _ = r.stop.wait_for(|stop| *stop) => None,
            };
            let Some(next) = next else {
                r.done = true;
                r.saw_end = true;
                return Some((error_frame(&GatewayError::ShuttingDown, r.dialect), r));
            };
            match next {
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        r.parser.push(&data);
                    }
                }
                Ok(None) => {
                    r.done = true;
                    if r.parser.pending() > 0 {
                        // The upstream ended mid-event: complete it so the caller can parse it.
                        r.parser.push(b"\n\n");
                    }
                }
                Ok(Some(Err(e))) => {
                    r.done = true;
                    r.saw_end = true;
                    let err = GatewayError::UpstreamProtocol {
                        provider: r.provider.clone(),
                        detail: format!("stream broke off: {e}"),
                    };
                    return Some((error_frame(&err, r.dialect), r));
                }
                Err(_) => {
                    r.done = true;
                    r.saw_end = true;
                    let phase = if Instant::now() >= r.limits.deadline {
                        "total time limit reached mid-stream"
                    } else {
                        "no stream data within the idle timeout"
                    };
                    let err = GatewayError::UpstreamTimeout {
                        provider: r.provider.clone(),
                        phase,
                    };
                    return Some((error_frame(&err, r.dialect), r));
                }
            }
        }
    });
    Body::new(StreamBody::new(stream))
}

enum Translated {
    Nothing,
    Frame(Bytes),
    Fail(GatewayError),
}

/// Stream translators, by direction.
enum Translator {
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

fn not_json(r: &SseRelay, e: &serde_json::Error) -> Translated {
    Translated::Fail(GatewayError::UpstreamProtocol {
        provider: r.provider.clone(),
        detail: format!("stream event is not JSON: {e}"),
    })
}

/// Runs one upstream event through the translator; several caller events go out as one frame.
fn translate_event(r: &mut SseRelay, ev: &switchyard_wire::sse::SseEvent) -> Translated {
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
            let parsed: serde_json::Value = match serde_json::from_str(data) {
                Ok(v) => v,
                Err(e) => return not_json(r, &e),
            };
            let name = ev
                .event
                .as_deref()
                .or_else(|| parsed.get("type").and_then(serde_json::Value::as_str))
                .unwrap_or("");
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
            let parsed: serde_json::Value = match serde_json::from_str(data) {
                Ok(v) => v,
                Err(e) => return not_json(r, &e),
            };
            let name = ev
                .event
                .as_deref()
                .or_else(|| parsed.get("type").and_then(serde_json::Value::as_str))
                .unwrap_or("");
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
