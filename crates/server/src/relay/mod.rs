//! Relays an upstream response to the caller: SSE streams event by event as they arrive, other
//! bodies whole, error bodies normalised to OpenAI's shape. After the first byte has gone to the
//! caller, a failure ends the stream with an error event, never a silent truncation.

mod framing;
mod translate;

use framing::Framing;

use crate::adapt::Reply;
use crate::error::{GatewayError, UpstreamReply};
use crate::observe::meter::Meter;
use crate::upstream::UpstreamBody;
use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use switchyard_providers::usage::{Shape, UsageTap};
use switchyard_wire::Dialect;
use tokio::time::Instant;
use translate::{translate_close, translate_event, Translated, Translator};

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
    /// For streams: the first event must arrive this soon after the headers, or the attempt
    /// fails before anything reaches the caller (so a route can try its next target).
    pub first_token: Option<Duration>,
}

/// Fires when the drain deadline passes.
pub type StopSignal = tokio::sync::watch::Receiver<bool>;

/// What the relay measures, and for whom.
pub struct Metering {
    pub meter: Arc<Meter>,
    /// The caller's answer format, for reading its usage (`None`: nothing to read).
    pub shape: Option<Shape>,
    /// The gateway asked an OpenAI-compatible stream for its usage chunk (`stream_options`)
    /// although the caller did not: the chunk is read, not relayed.
    pub strip_usage: bool,
}

/// Turns the upstream response into the caller's response.
pub async fn relay(
    provider: &str,
    resp: hyper::Response<UpstreamBody>,
    limits: BodyLimits,
    stop: StopSignal,
    reply: Reply,
    dialect: Dialect,
    metering: Metering,
) -> Result<Response, GatewayError> {
    let (parts, body) = resp.into_parts();
    let headers = copied_headers(&parts.headers);
    if !parts.status.is_success() {
        let raw = read_body(provider, body, limits, MAX_ERROR_BODY, true).await;
        metering.meter.upstream_end();
        let raw = raw?;
        let mut headers = headers;
        if !headers.contains_key(header::RETRY_AFTER) {
            // Google's APIs say when to retry in the body; callers' SDKs read the header.
            if let Some(secs) = switchyard_wire::error_body::retry_after_from_body(&raw) {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
        }
        return Err(GatewayError::UpstreamStatus(Box::new(UpstreamReply {
            status: parts.status,
            body: raw,
            headers,
        })));
    }
    let framing = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(Framing::for_content_type);
    let mut out = if let Some(framing) = framing {
        let translator = translate::stream_translator(&reply);
        // A translated stream's usage is read from its chat chunks, in the translator.
        let tap = match &translator {
            None => metering.shape.map(UsageTap::new),
            Some(_) => None,
        };
        let mut relay = SseRelay {
            meter: metering.meter,
            tap,
            strip_usage: metering.strip_usage,
            stop,
            dialect,
            translator,
            saw_end: false,
            provider: provider.to_owned(),
            body,
            parser: framing,
            limits,
            done: false,
            first: None,
        };
        if let Some(within) = limits.first_token {
            relay.prefetch(within).await?;
        }
        let mut r = Response::new(sse_body(relay));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        r
    } else {
        let bytes = read_body(provider, body, limits, MAX_BODY, false).await;
        metering.meter.upstream_end();
        let bytes = translate::whole_body(&reply, provider, bytes?)?;
        if let Some(shape) = metering.shape {
            let mut tap = UsageTap::new(shape);
            tap.body(&bytes);
            if let Some(u) = tap.usage() {
                metering.meter.usage(u);
            }
        }
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
    meter: Arc<Meter>,
    /// Reads the usage of a stream relayed as it comes.
    tap: Option<UsageTap>,
    strip_usage: bool,
    stop: StopSignal,
    /// The caller's API shape, for the error event that ends a failed stream.
    dialect: Dialect,
    /// Set when the upstream speaks another format: events are translated, not forwarded.
    translator: Option<Translator>,
    /// A translated stream must reach its end event; a clean close before it is a truncation.
    saw_end: bool,
    provider: String,
    body: UpstreamBody,
    parser: Framing,
    limits: BodyLimits,
    done: bool,
    /// An event read ahead (the first token, under a first-token timeout), sent first.
    first: Option<switchyard_wire::sse::SseEvent>,
}

impl Drop for SseRelay {
    fn drop(&mut self) {
        // However the stream ended (its end event, a failure, the caller leaving), the upstream
        // part of it is over now; an earlier reading stands.
        self.meter.upstream_end();
    }
}

impl SseRelay {
    /// The event that ends a started stream with `e`, noted for the request's record.
    fn error_frame(&self, e: &GatewayError) -> Result<Frame<Bytes>, Infallible> {
        self.meter.failed(e.to_string());
        error_frame(e, self.dialect)
    }

    /// Reads a relayed event's usage, and says what the caller gets of it. When the gateway
    /// asked for usage on the caller's behalf, the caller gets the stream it would have got
    /// without asking: no usage chunk, and no `"usage":null` in the other chunks (OpenAI adds
    /// one to every chunk once usage is asked for).
    fn tap_event(&mut self, ev: &switchyard_wire::sse::SseEvent) -> Relayed {
        let (Some(tap), Some(data)) = (self.tap.as_mut(), ev.data.as_deref()) else {
            return Relayed::AsIs;
        };
        if self.strip_usage {
            if let Some(at) = data.find(",\"usage\":null") {
                let mut out = Vec::with_capacity(ev.raw.len());
                out.extend_from_slice(b"data: ");
                out.extend_from_slice(&data.as_bytes()[..at]);
                out.extend_from_slice(&data.as_bytes()[at + ",\"usage\":null".len()..]);
                out.extend_from_slice(b"\n\n");
                return Relayed::Rewritten(Bytes::from(out));
            }
        }
        if !data.contains("\"usage\"") {
            return Relayed::AsIs;
        }
        tap.event(data.as_bytes());
        if let Some(u) = tap.usage() {
            self.meter.usage(u);
        }
        if self.strip_usage && usage_only_chunk(data) {
            Relayed::Dropped
        } else {
            Relayed::AsIs
        }
    }

    /// Reads until the first event (comments aside) within `within`; it is kept for the body.
    async fn prefetch(&mut self, within: Duration) -> Result<(), GatewayError> {
        let until = self.limits.deadline.min(Instant::now() + within);
        let protocol = |detail: String| GatewayError::UpstreamProtocol {
            provider: self.provider.clone(),
            detail,
        };
        loop {
            match self.parser.next_event() {
                Ok(Some(ev)) if ev.is_comment_only() => continue,
                Ok(Some(ev)) => {
                    self.first = Some(ev);
                    return Ok(());
                }
                Ok(None) => {}
                Err(detail) => return Err(protocol(format!("undecodable event stream: {detail}"))),
            }
            match tokio::time::timeout_at(until, self.body.frame()).await {
                Err(_) => {
                    return Err(GatewayError::UpstreamTimeout {
                        provider: self.provider.clone(),
                        phase: "waiting for the first token",
                    })
                }
                Ok(None) => {
                    // A last event without its blank line still counts.
                    self.parser.close();
                    return match self.parser.next_event() {
                        Ok(Some(ev)) if !ev.is_comment_only() => {
                            self.first = Some(ev);
                            self.done = true;
                            Ok(())
                        }
                        _ => Err(protocol("the stream ended before its first event".into())),
                    };
                }
                Ok(Some(Err(e))) => return Err(protocol(format!("stream broke off: {e}"))),
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        self.parser.push(&data);
                    }
                }
            }
        }
    }
}

/// What the caller gets of an upstream event.
enum Relayed {
    AsIs,
    Dropped,
    Rewritten(Bytes),
}

/// OpenAI's usage chunk: an empty `choices` array beside a usage object (however spaced).
pub(crate) fn usage_only_chunk(data: &str) -> bool {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(data) else {
        return false;
    };
    v["choices"].as_array().is_some_and(Vec::is_empty) && v["usage"].is_object()
}

fn error_frame(e: &GatewayError, dialect: Dialect) -> Result<Frame<Bytes>, Infallible> {
    tracing::warn!(error = %e, "stream ended with an error after it had started");
    Ok(Frame::data(e.sse_event(dialect)))
}

/// An SSE body that forwards each complete upstream event as soon as it is parsed.
fn sse_body(relay: SseRelay) -> Body {
    let stream = futures_util::stream::unfold(relay, |mut r| async move {
        loop {
            let next = match r
                .first
                .take()
                .map_or_else(|| r.parser.next_event(), |ev| Ok(Some(ev)))
            {
                Ok(ev) => ev,
                Err(detail) => {
                    r.done = true;
                    r.saw_end = true;
                    r.parser.clear();
                    let err = GatewayError::UpstreamProtocol {
                        provider: r.provider.clone(),
                        detail: format!("undecodable event stream: {detail}"),
                    };
                    return Some((r.error_frame(&err), r));
                }
            };
            if let Some(ev) = next {
                if r.translator.is_none() {
                    // A keep-alive comment is not a token.
                    if !ev.is_comment_only() {
                        r.meter.first_event();
                    }
                    let bytes = match r.tap_event(&ev) {
                        Relayed::Dropped => continue,
                        Relayed::AsIs => ev.raw,
                        Relayed::Rewritten(b) => b,
                    };
                    return Some((Ok(Frame::data(bytes)), r));
                }
                match translate_event(&mut r, &ev) {
                    Translated::Nothing => continue,
                    Translated::Frame(bytes) => {
                        r.meter.first_event();
                        return Some((Ok(Frame::data(bytes)), r));
                    }
                }
            }
            if r.done {
                if let Translated::Frame(bytes) = translate_close(&mut r) {
                    return Some((Ok(Frame::data(bytes)), r));
                }
                if r.translator.is_some() && !r.saw_end {
                    r.saw_end = true;
                    let err = GatewayError::UpstreamProtocol {
                        provider: r.provider.clone(),
                        detail: "stream closed before its final event".into(),
                    };
                    return Some((r.error_frame(&err), r));
                }
                return None;
            }
            let limit = r.limits.deadline.min(Instant::now() + r.limits.idle);
            // A translated stream that has sent its end already owes the caller nothing more:
            // whatever happens to the upstream now must not add an error after the end.
            let ended = r.translator.is_some() && r.saw_end;
            let next = tokio::select! {
                biased;
                next = tokio::time::timeout_at(limit, r.body.frame()) => Some(next),
                _ = r.stop.wait_for(|stop| *stop) => None,
            };
            let Some(next) = next else {
                if ended {
                    return None;
                }
                r.done = true;
                r.saw_end = true;
                return Some((r.error_frame(&GatewayError::ShuttingDown), r));
            };
            if ended && !matches!(next, Ok(Some(Ok(_)))) {
                return None;
            }
            match next {
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        r.parser.push(&data);
                    }
                }
                Ok(None) => {
                    r.done = true;
                    r.meter.upstream_end();
                    // The upstream ended mid-event: complete it so the caller can parse it.
                    r.parser.close();
                }
                Ok(Some(Err(e))) => {
                    r.done = true;
                    r.meter.upstream_end();
                    r.saw_end = true;
                    let err = GatewayError::UpstreamProtocol {
                        provider: r.provider.clone(),
                        detail: format!("stream broke off: {e}"),
                    };
                    return Some((r.error_frame(&err), r));
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
                    return Some((r.error_frame(&err), r));
                }
            }
        }
    });
    Body::new(StreamBody::new(stream))
}
