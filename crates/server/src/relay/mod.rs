//! Relays an upstream response to the caller: SSE streams event by event as they arrive, other
//! bodies whole, error bodies normalised to OpenAI's shape. After the first byte has gone to the
//! caller, a failure ends the stream with an error event, never a silent truncation.
//!
//! Whatever the upstream does, the attempt's total deadline holds (for streams even while the
//! caller is not reading: see `stream`), one event is at most `server.limits.max_event_bytes`
//! and a whole body at most `server.limits.max_upstream_body_bytes`.

mod framing;
mod stream;
mod translate;

use framing::Framing;
use stream::{sse_body, SseRelay};

use crate::adapt::Reply;
use crate::error::{GatewayError, UpstreamReply};
use crate::observe::meter::Meter;
use crate::upstream::UpstreamBody;
use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use http_body::Frame;
use http_body_util::BodyExt;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use switchyard_providers::usage::{Shape, UsageTap};
use switchyard_wire::Dialect;
use tokio::time::Instant;

/// Error bodies larger than this are cut; they are read only to relay a message.
const MAX_ERROR_BODY: usize = 1024 * 1024;

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
    /// The attempt's total deadline (`total_ms` from when it started), for every kind of body.
    pub deadline: Instant,
    /// For streams: the first event must arrive this soon after the headers, or the attempt
    /// fails before anything reaches the caller (so a route can try its next target).
    pub first_token: Option<Duration>,
    /// Largest stream event (`server.limits.max_event_bytes`).
    pub max_event: usize,
    /// Largest whole body (`server.limits.max_upstream_body_bytes`).
    pub max_body: usize,
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
    /// Output guardrails on a stream, when policies run on answers.
    pub guard: Option<Box<StreamGuarded>>,
}

/// A stream's output guardrails and the request's policies they run.
pub struct StreamGuarded {
    pub stream: switchyard_guardrails::stream::StreamGuard,
    pub guarded: switchyard_guardrails::Guarded,
    /// Answer 446-style errors (Portkey's status codes) in the error event.
    pub portkey: bool,
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
    let status = parts.status.as_u16();
    if !(200..=599).contains(&status) {
        // hyper hands over a 101 (the connection then belongs to whatever protocol follows)
        // and any three-digit status up to 999: none is an answer to relay. The body is not
        // read, and the connection is closed with it.
        metering.meter.upstream_end();
        return Err(GatewayError::UpstreamProtocol {
            provider: provider.to_owned(),
            detail: format!("status {status} is not a final HTTP status"),
        });
    }
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
        .and_then(|ct| Framing::for_content_type(ct, limits.max_event));
    let mut out = if let Some(framing) = framing {
        let translator = translate::stream_translator(&reply);
        // A translated stream's usage is read from its chat chunks, in the translator.
        let tap = match &translator {
            None => metering.shape.map(UsageTap::new),
            Some(_) => None,
        };
        let mut relay = SseRelay::new(
            provider,
            body,
            framing,
            limits,
            stream::Caller {
                meter: metering.meter,
                tap,
                strip_usage: metering.strip_usage,
                stop,
                dialect,
                translator,
                guard: metering.guard,
            },
        );
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
        let bytes = read_body(provider, body, limits, limits.max_body, false).await;
        metering.meter.upstream_end();
        let bytes = translate::whole_body(&reply, provider, bytes?)?;
        metering.meter.complete();
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

/// Reads a whole body within the idle and total limits, holding at most `max` bytes: a larger
/// body is refused as soon as it is known to be larger (by its length, or by the bytes that
/// would pass the limit) without buffering more, or with `truncate` cut to its first `max` bytes
/// (for error bodies, which are only read for their message).
async fn read_body<B>(
    provider: &str,
    mut body: B,
    limits: BodyLimits,
    max: usize,
    truncate: bool,
) -> Result<Bytes, GatewayError>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let too_large = || GatewayError::UpstreamTooLarge {
        provider: provider.to_owned(),
        what: "a response body",
        limit: max,
    };
    if !truncate && body.size_hint().lower() > max as u64 {
        return Err(too_large());
    }
    let mut buf: Vec<u8> = Vec::new();
    let mut first: Option<Bytes> = None;
    loop {
        let now = Instant::now();
        // Checked on every frame: an upstream that never pauses never lets the timer fire.
        if now >= limits.deadline {
            return Err(GatewayError::UpstreamTimeout {
                provider: provider.to_owned(),
                phase: "total time limit reached reading the response body",
            });
        }
        let next = tokio::time::timeout_at(limits.deadline.min(now + limits.idle), body.frame())
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
                let held = buf.len() + first.as_ref().map_or(0, Bytes::len);
                if held + data.len() > max {
                    if !truncate {
                        return Err(too_large());
                    }
                    if let Some(f) = first.take() {
                        buf.extend_from_slice(&f);
                    }
                    buf.extend_from_slice(&data[..max - held]);
                    break;
                }
                // Most bodies arrive in one frame: keep it without copying.
                if first.is_none() && buf.is_empty() {
                    first = Some(data);
                    continue;
                }
                if let Some(f) = first.take() {
                    buf.extend_from_slice(&f);
                }
                buf.extend_from_slice(&data);
            }
        }
    }
    Ok(match first {
        Some(f) => f,
        None => Bytes::from(buf),
    })
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

#[cfg(test)]
mod tests;
