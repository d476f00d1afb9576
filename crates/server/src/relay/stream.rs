//! A started stream: upstream events relayed to the caller one by one, passed through (each
//! checked to be SSE whose data is JSON) or translated, until the upstream ends, fails, breaks
//! a limit or runs out of time; then an error event in the caller's shape ends it.
//!
//! The total deadline is checked before every read of the upstream, because an upstream that
//! always has data ready never lets a read's timer fire. A caller that stops reading stops the
//! relay too (the server polls the body only when the socket takes more), so a watchdog task
//! drops the upstream body at the deadline: the upstream connection closes on time, and the
//! caller gets the timeout's error event when it reads again.

use super::framing::Framing;
use super::translate::{translate_close, translate_event, Translated, Translator};
use super::{error_frame, usage_only_chunk, BodyLimits, StopSignal};
use crate::error::GatewayError;
use crate::observe::meter::Meter;
use crate::upstream::UpstreamBody;
use axum::body::Body;
use bytes::Bytes;
use http_body::Frame;
use http_body_util::StreamBody;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;
use switchyard_providers::usage::UsageTap;
use switchyard_wire::sse::SseEvent;
use switchyard_wire::Dialect;
use tokio::time::Instant;

/// What the relay does for the caller: measure, strip, stop, speak its shape.
pub(super) struct Caller {
    pub meter: Arc<Meter>,
    pub tap: Option<UsageTap>,
    pub strip_usage: bool,
    pub stop: StopSignal,
    pub dialect: Dialect,
    pub translator: Option<Translator>,
    pub guard: Option<Box<super::StreamGuarded>>,
}

type Slot = Arc<Mutex<Option<UpstreamBody>>>;

/// A frame of the upstream body: `None` once the watchdog has taken the body, then the body's
/// own end (`None`), failure or data.
type Polled = Option<Option<Result<Frame<Bytes>, hyper::Error>>>;

/// The upstream body, shared with the watchdog that drops it at the deadline.
struct Upstream {
    body: Slot,
    watchdog: tokio::task::AbortHandle,
}

impl Upstream {
    fn new(body: UpstreamBody, deadline: Instant, meter: Arc<Meter>) -> Self {
        let body = Arc::new(Mutex::new(Some(body)));
        let held = Arc::downgrade(&body);
        let watchdog = tokio::spawn(async move {
            tokio::time::sleep_until(deadline).await;
            let Some(slot) = held.upgrade() else {
                return;
            };
            let taken = lock(&slot).take();
            if taken.is_some() {
                meter.upstream_end();
            }
            // Dropped outside the lock: this closes the upstream connection.
            drop(taken);
        })
        .abort_handle();
        Self { body, watchdog }
    }

    /// Polls for the next frame of the body; `None` once the watchdog has taken it.
    fn poll_frame(&self, cx: &mut std::task::Context<'_>) -> Poll<Polled> {
        match lock(&self.body).as_mut() {
            None => Poll::Ready(None),
            Some(b) => http_body::Body::poll_frame(Pin::new(b), cx).map(Some),
        }
    }

    /// The next frame of the body; `None` once the watchdog has taken it.
    fn frame(&self) -> impl Future<Output = Polled> + '_ {
        std::future::poll_fn(|cx| self.poll_frame(cx))
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.watchdog.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(super) struct SseRelay {
    pub(super) meter: Arc<Meter>,
    /// Reads the usage of a stream relayed as it comes.
    tap: Option<UsageTap>,
    strip_usage: bool,
    /// The caller's API shape, for the error event that ends a failed stream.
    dialect: Dialect,
    /// Set when the upstream speaks another format: events are translated, not forwarded.
    pub(super) translator: Option<Translator>,
    /// A translated stream must reach its end event; a clean close before it is a truncation.
    pub(super) saw_end: bool,
    pub(super) provider: String,
    upstream: Upstream,
    pub(super) parser: Framing,
    limits: BodyLimits,
    pub(super) done: bool,
    /// An event read ahead (the first token, under a first-token timeout), sent first.
    first: Option<SseEvent>,
    /// Output guardrails over the caller's events (`None`: events go as they are).
    guard: Option<Box<super::StreamGuarded>>,
    /// A guardrail ended the stream: nothing more is sent.
    stopped: bool,
    /// The first event's time is noted (once: the meter takes a lock).
    first_noted: bool,
    /// Ready once the server stops (or its signal is gone); made once per stream.
    stopping: Pin<Box<dyn Future<Output = ()> + Send>>,
    /// The idle timer, moved only when it fires before `limit` (see `wait`).
    timer: Pin<Box<tokio::time::Sleep>>,
    /// When the current wait for upstream data times out.
    limit: Instant,
}

impl Drop for SseRelay {
    fn drop(&mut self) {
        if let Some(g) = self.guard.take() {
            self.meter.guardrails(g.guarded.verdicts);
        }
        // However the stream ended (its end event, a failure, the caller leaving), the upstream
        // part of it is over now; an earlier reading stands.
        self.meter.upstream_end();
        // A caller that stopped reading and left after the deadline never saw the timeout's
        // event, but the request's record says what ended it.
        if !self.done && !self.saw_end && Instant::now() >= self.limits.deadline {
            self.meter.failed(self.total_timeout().to_string());
        }
    }
}

impl SseRelay {
    pub(super) fn new(
        provider: &str,
        body: UpstreamBody,
        parser: Framing,
        limits: BodyLimits,
        caller: Caller,
    ) -> Self {
        Self {
            upstream: Upstream::new(body, limits.deadline, caller.meter.clone()),
            meter: caller.meter,
            tap: caller.tap,
            strip_usage: caller.strip_usage,
            stopping: {
                let mut stop = caller.stop;
                Box::pin(futures_util::FutureExt::fuse(async move {
                    let _ = stop.wait_for(|stop| *stop).await;
                }))
            },
            timer: Box::pin(tokio::time::sleep_until(limits.deadline)),
            limit: limits.deadline,
            dialect: caller.dialect,
            translator: caller.translator,
            saw_end: false,
            provider: provider.to_owned(),
            parser,
            limits,
            done: false,
            first: None,
            guard: caller.guard,
            stopped: false,
            first_noted: false,
        }
    }

    /// Ends the stream with `e`: the event that says so, noted for the request's record.
    fn end_with(&mut self, e: &GatewayError) -> Result<Frame<Bytes>, Infallible> {
        self.done = true;
        self.saw_end = true;
        self.parser.clear();
        self.meter.failed(e.to_string());
        error_frame(e, self.dialect)
    }

    fn protocol(&self, detail: &str) -> GatewayError {
        GatewayError::UpstreamProtocol {
            provider: self.provider.clone(),
            detail: detail.to_owned(),
        }
    }

    /// Notes the first event relayed, once.
    fn first_event(&mut self) {
        if !self.first_noted {
            self.first_noted = true;
            self.meter.first_event();
        }
    }

    /// What the caller gets of `bytes` (its events, whole or in part) once the output
    /// guardrails have seen them; `None` when they hold it all back for now. A deny ends the
    /// stream here: with the policy's refusal, or an error event.
    fn filtered(&mut self, bytes: Bytes) -> Option<Bytes> {
        let Some(g) = self.guard.as_mut() else {
            return Some(bytes);
        };
        let fed = g.stream.feed(&mut g.guarded, &bytes);
        self.after_guard(fed)
    }

    /// The upstream ended: what the guardrails still hold, checked whole (once).
    fn guard_finish(&mut self) -> Option<Bytes> {
        let g = self.guard.as_mut()?;
        let fed = g.stream.finish(&mut g.guarded);
        self.after_guard(fed)
    }

    fn after_guard(&mut self, fed: switchyard_guardrails::stream::Fed) -> Option<Bytes> {
        let mut out = fed.bytes;
        if let Some(d) = fed.denied {
            self.stopped = true;
            self.done = true;
            self.saw_end = true;
            self.parser.clear();
            if d.refusal.is_none() {
                let e = GatewayError::GuardrailDenied {
                    message: format!(
                        "The answer was withheld by guardrail policy '{}': check {} found {}.",
                        d.policy, d.check, d.label
                    ),
                    portkey: self.guard.as_ref().is_some_and(|g| g.portkey),
                };
                self.meter.failed(e.to_string());
                out.extend_from_slice(&e.sse_event(self.dialect));
            }
        }
        (!out.is_empty()).then(|| Bytes::from(out))
    }

    /// The stream ended cleanly, every event relayed: the usage read is the answer's final one.
    fn complete<T>(&self) -> Option<T> {
        self.meter.complete();
        None
    }

    fn total_timeout(&self) -> GatewayError {
        GatewayError::UpstreamTimeout {
            provider: self.provider.clone(),
            phase: "total time limit reached mid-stream",
        }
    }

    /// Reads a relayed event's usage, and says what the caller gets of it. When the gateway
    /// asked for usage on the caller's behalf, the caller gets the stream it would have got
    /// without asking: no usage chunk, and no `"usage":null` in the other chunks (OpenAI adds
    /// one to every chunk once usage is asked for).
    fn tap_event(&mut self, ev: &SseEvent) -> Relayed {
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
        if !switchyard_providers::usage::carries_usage(data.as_bytes()) {
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
    pub(super) async fn prefetch(
        &mut self,
        within: std::time::Duration,
    ) -> Result<(), GatewayError> {
        let until = self.limits.deadline.min(Instant::now() + within);
        let first_token_timeout = GatewayError::UpstreamTimeout {
            provider: self.provider.clone(),
            phase: "waiting for the first token",
        };
        loop {
            match self.parser.next_event() {
                // Nothing has reached the caller yet: a bad first event fails the attempt.
                Ok(Some(ev)) => match invalid(&ev, self.translator.is_none()) {
                    Some(detail) => return Err(self.protocol(detail)),
                    None if ev.is_comment_only() => continue,
                    None => {
                        self.first = Some(ev);
                        return Ok(());
                    }
                },
                Ok(None) if self.done => {
                    return Err(self.protocol("the stream ended before its first event"))
                }
                Ok(None) => {}
                Err(e) => return Err(e.into_gateway(&self.provider)),
            }
            // Comments without end must not hold the attempt past its deadline either.
            if Instant::now() >= until {
                return Err(first_token_timeout);
            }
            match tokio::time::timeout_at(until, self.upstream.frame()).await {
                Err(_) | Ok(None) => return Err(first_token_timeout),
                Ok(Some(None)) => {
                    // The whole events held still count; a half-received one is an error.
                    self.done = true;
                    self.parser.close();
                }
                Ok(Some(Some(Err(e)))) => {
                    return Err(self.protocol(&format!("stream broke off: {e}")))
                }
                Ok(Some(Some(Ok(frame)))) => {
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

/// Why an upstream event cannot be relayed: lines that are not SSE, or (passed through) data
/// that is neither JSON, `[DONE]` nor empty (an empty `data:` is relayed as sent). A translated event's data is read by its translator, which says so itself.
fn invalid(ev: &SseEvent, passed_through: bool) -> Option<&'static str> {
    if ev.malformed {
        return Some("the stream sent a line that is not Server-Sent Events text");
    }
    match ev.data.as_deref() {
        Some(data)
            if passed_through
                && !data.is_empty()
                && data != "[DONE]"
                && !switchyard_wire::json::is_json(data) =>
        {
            Some("the stream sent an event whose data is not JSON")
        }
        _ => None,
    }
}

/// What one wait on the upstream gave.
enum Waited {
    Frame(Polled),
    Stopping,
    TimedOut,
}

/// Every whole event held now, as one frame for the caller: what the guardrails let through,
/// and, when an event is bad or the upstream failed, the error event that ends the stream after
/// the good ones. Events that arrived together go out together (one write, one chunk of the
/// caller's response); none waits for a later one.
fn drain(r: &mut SseRelay) -> Option<Bytes> {
    let mut out = Batch::default();
    loop {
        let next = match r
            .first
            .take()
            .map_or_else(|| r.parser.next_event(), |ev| Ok(Some(ev)))
        {
            Ok(Some(ev)) => ev,
            Ok(None) => break,
            Err(e) => {
                let err = e.into_gateway(&r.provider);
                return r.flush_then_end(out, &err);
            }
        };
        if let Some(detail) = invalid(&next, r.translator.is_none()) {
            let err = r.protocol(detail);
            return r.flush_then_end(out, &err);
        }
        if r.translator.is_none() {
            // A keep-alive comment is not a token.
            if !next.is_comment_only() {
                r.first_event();
            }
            match r.tap_event(&next) {
                Relayed::Dropped => {}
                Relayed::AsIs => out.push(next.raw),
                Relayed::Rewritten(b) => out.push(b),
            }
            continue;
        }
        if let Translated::Frame(bytes) = translate_event(r, &next) {
            r.first_event();
            out.push(bytes);
            if r.done {
                // The translator ended the stream with an upstream error.
                break;
            }
        }
    }
    r.filtered(out.take()?)
}

/// Bytes for one frame: one piece as it is, several joined.
#[derive(Default)]
struct Batch {
    one: Option<Bytes>,
    many: Vec<u8>,
}

impl Batch {
    fn push(&mut self, b: Bytes) {
        if !self.many.is_empty() {
            self.many.extend_from_slice(&b);
            return;
        }
        match self.one.take() {
            None => self.one = Some(b),
            Some(first) => {
                self.many.reserve(first.len() + b.len() + 256);
                self.many.extend_from_slice(&first);
                self.many.extend_from_slice(&b);
            }
        }
    }

    fn take(self) -> Option<Bytes> {
        if self.many.is_empty() {
            self.one
        } else {
            Some(Bytes::from(self.many))
        }
    }
}

impl SseRelay {
    /// The events before a failure still go out (through the guardrails), then the error event
    /// that ends the stream, unless the guardrails ended it first.
    fn flush_then_end(&mut self, out: Batch, e: &GatewayError) -> Option<Bytes> {
        let good = out.take().and_then(|b| self.filtered(b));
        if self.stopped {
            return good;
        }
        let Ok(end) = self.end_with(e);
        let end = end.into_data().unwrap_or_default();
        Some(match good {
            None => end,
            Some(g) => {
                let mut joined = Vec::with_capacity(g.len() + end.len());
                joined.extend_from_slice(&g);
                joined.extend_from_slice(&end);
                Bytes::from(joined)
            }
        })
    }

    /// Waits for the upstream's next frame until `limit` (the idle timeout, or the deadline),
    /// or for the server to stop. The timer and the stop signal's future live as long as the
    /// stream: the timer is moved only when it fires early (data came since it was set), so a
    /// relayed chunk costs no timer registration.
    async fn wait(&mut self, limit: Instant) -> Waited {
        self.limit = limit;
        if self.timer.deadline() > limit {
            self.timer.as_mut().reset(limit);
        }
        std::future::poll_fn(|cx| {
            if let Poll::Ready(f) = self.upstream.poll_frame(cx) {
                return Poll::Ready(Waited::Frame(f));
            }
            if self.stopping.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Waited::Stopping);
            }
            loop {
                if self.timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                if Instant::now() >= self.limit {
                    return Poll::Ready(Waited::TimedOut);
                }
                let at = self.limit;
                self.timer.as_mut().reset(at);
            }
        })
        .await
    }
}

/// An SSE body that forwards the complete upstream events as soon as they are parsed.
pub(super) fn sse_body(relay: SseRelay) -> Body {
    let stream = futures_util::stream::unfold(relay, |mut r| async move {
        loop {
            if r.stopped {
                return None;
            }
            if let Some(bytes) = drain(&mut r) {
                return Some((Ok(Frame::data(bytes)), r));
            }
            if r.stopped {
                return None;
            }
            if r.done {
                if let Translated::Frame(bytes) = translate_close(&mut r) {
                    if let Some(bytes) = r.filtered(bytes) {
                        return Some((Ok(Frame::data(bytes)), r));
                    }
                }
                if let Some(bytes) = r.guard_finish() {
                    return Some((Ok(Frame::data(bytes)), r));
                }
                if r.stopped {
                    return None;
                }
                if r.translator.is_some() && !r.saw_end {
                    let err = r.protocol("stream closed before its final event");
                    return Some((r.end_with(&err), r));
                }
                return r.complete();
            }
            // A translated stream that has sent its end already owes the caller nothing more:
            // whatever happens to the upstream now must not add an error after the end.
            let ended = r.translator.is_some() && r.saw_end;
            let now = Instant::now();
            if now >= r.limits.deadline {
                if ended {
                    return r.complete();
                }
                let err = r.total_timeout();
                return Some((r.end_with(&err), r));
            }
            let limit = r.limits.deadline.min(now + r.limits.idle);
            let next = match r.wait(limit).await {
                Waited::Frame(f) => f,
                Waited::Stopping => {
                    if ended {
                        return r.complete();
                    }
                    return Some((r.end_with(&GatewayError::ShuttingDown), r));
                }
                Waited::TimedOut => {
                    if ended {
                        return r.complete();
                    }
                    let err = if Instant::now() >= r.limits.deadline {
                        r.total_timeout()
                    } else {
                        GatewayError::UpstreamTimeout {
                            provider: r.provider.clone(),
                            phase: "no stream data within the idle timeout",
                        }
                    };
                    return Some((r.end_with(&err), r));
                }
            };
            if ended && !matches!(next, Some(Some(Ok(_)))) {
                return r.complete();
            }
            match next {
                Some(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        r.parser.push(&data);
                    }
                }
                Some(None) => {
                    r.done = true;
                    r.meter.upstream_end();
                    // The whole events held are still relayed; a half-received one is an error.
                    r.parser.close();
                }
                Some(Some(Err(e))) => {
                    r.meter.upstream_end();
                    let err = r.protocol(&format!("stream broke off: {e}"));
                    return Some((r.end_with(&err), r));
                }
                // The watchdog took the body: the deadline has passed.
                None => {
                    let err = r.total_timeout();
                    return Some((r.end_with(&err), r));
                }
            }
        }
    });
    Body::new(StreamBody::new(stream))
}
