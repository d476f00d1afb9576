//! The end of a request: its record is completed when the answer's last byte has gone out, or
//! when the caller goes away first (`client_closed`), by a thin wrapper around the response
//! body. The record then goes through the finishers (`finishers`): limits' settlement, metrics,
//! traces and the log queue.

use super::bodies;
use super::finishers::{Ended, FINISHERS};
use crate::context::{AttemptLog, RequestCtx};
use crate::state::AppState;
use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use switchyard_store::{Attempt, Record};

/// A request whose answer is on its way.
pub struct Pending {
    state: Arc<AppState>,
    ctx: RequestCtx,
    status: u16,
    error: Option<String>,
    /// The response body so far, when bodies are logged.
    captured: Option<Vec<u8>>,
}

/// How the answer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The last byte went out.
    Complete,
    /// The caller went away first.
    ClientClosed,
}

/// Wraps `resp`'s body so the request is recorded when it ends. `error` is the failure's
/// message when the answer is an error.
pub fn track(
    state: &Arc<AppState>,
    ctx: RequestCtx,
    resp: Response,
    error: Option<String>,
) -> Response {
    let (parts, body) = resp.into_parts();
    let captured = state.keeps_bodies().then(Vec::new);
    let pending = Pending {
        state: state.clone(),
        ctx,
        status: parts.status.as_u16(),
        error,
        captured,
    };
    Response::from_parts(
        parts,
        Body::new(Finishing {
            inner: body,
            pending: Some(Box::new(pending)),
        }),
    )
}

/// A request that has no answer yet. Dropped before `answered` (the caller went away while
/// the gateway was still waiting on a provider), it records the request as `client_closed` with
/// status 499, as proxies log it; dropped by a panic, as an `error` with status 500.
pub struct Unfinished {
    state: Arc<AppState>,
    ctx: RequestCtx,
    armed: bool,
}

impl Unfinished {
    pub fn new(state: &Arc<AppState>, ctx: RequestCtx) -> Self {
        // Until `Pending::finish` hands the record over.
        state
            .log
            .open
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        state
            .log
            .started
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Unfinished {
            state: state.clone(),
            ctx,
            armed: true,
        }
    }

    pub fn ctx(&mut self) -> &mut RequestCtx {
        &mut self.ctx
    }

    /// The answer is ready: the context goes on to `track`.
    pub fn answered(mut self) -> RequestCtx {
        self.armed = false;
        let op = self.ctx.op;
        std::mem::replace(&mut self.ctx, RequestCtx::placeholder(op))
    }
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let op = self.ctx.op;
        let ctx = std::mem::replace(&mut self.ctx, RequestCtx::placeholder(op));
        // Dropped while unwinding: the handler panicked, and the caller gets a 500
        // (`http::panic_response`), not a closed connection.
        let (status, error, how) = if std::thread::panicking() {
            let e = "the gateway failed while handling the request (a panic; see its log)";
            (500, e, End::Complete)
        } else {
            let e = "the caller closed the connection before the answer started";
            (499, e, End::ClientClosed)
        };
        let pending = Pending {
            state: self.state.clone(),
            ctx,
            status,
            error: Some(error.into()),
            captured: None,
        };
        pending.finish(how);
    }
}

struct Finishing {
    inner: Body,
    pending: Option<Box<Pending>>,
}

impl Finishing {
    fn end(&mut self, how: End) {
        if let Some(p) = self.pending.take() {
            p.finish(how);
        }
    }
}

impl http_body::Body for Finishing {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(data), Some(p)) = (frame.data_ref(), self.pending.as_mut()) {
                    let max = p.state.log.settings.body_max_bytes;
                    if let Some(buf) = p.captured.as_mut() {
                        let room = max.saturating_sub(buf.len());
                        buf.extend_from_slice(&data[..data.len().min(room)]);
                    }
                }
            }
            Poll::Ready(None) => self.end(End::Complete),
            Poll::Ready(Some(Err(_))) => self.end(End::ClientClosed),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Finishing {
    fn drop(&mut self) {
        // An empty body may never be polled to its end.
        let how = if http_body::Body::is_end_stream(&self.inner) {
            End::Complete
        } else {
            End::ClientClosed
        };
        // The answer's own end comes first, so the record reads what it noted on the way out
        // (a stream's relay notes when its upstream ended, and a deadline that passed).
        drop(std::mem::replace(&mut self.inner, Body::empty()));
        self.end(how);
    }
}

fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Time spent waiting on providers: each attempt from sending to its answer's end (or failure).
pub fn upstream_time(attempts: &[AttemptLog]) -> Duration {
    attempts
        .iter()
        .map(|a| {
            let r = a.meter.read();
            match r.sent {
                Some(sent) => r
                    .upstream_end
                    .unwrap_or(a.ended)
                    .saturating_duration_since(sent),
                None => Duration::ZERO,
            }
        })
        .sum()
}

/// Records a call the gateway made for itself (a guardrail judge's, through its own routes),
/// as a request of its own: in the log, the metrics and the traces, its limits settled.
pub fn record_internal(state: &AppState, ctx: RequestCtx, status: u16, error: Option<String>) {
    use std::sync::atomic::Ordering::Relaxed;
    // As `Unfinished::new` counts a request, for the log finisher to count it done.
    state.log.open.fetch_add(1, Relaxed);
    state.log.started.fetch_add(1, Relaxed);
    record(state, ctx, status, error, None, End::Complete);
}

impl Pending {
    fn finish(self, how: End) {
        let Pending {
            state,
            ctx,
            status,
            error,
            captured,
        } = self;
        record(&state, ctx, status, error, captured, how);
    }
}

/// Makes a request's record and runs the finishers over it.
fn record(
    state: &AppState,
    mut ctx: RequestCtx,
    status: u16,
    error: Option<String>,
    captured: Option<Vec<u8>>,
    how: End,
) {
    {
        let now = Instant::now();
        let latency = now.saturating_duration_since(ctx.started);
        let start_wall = SystemTime::now().checked_sub(latency).unwrap_or(UNIX_EPOCH);
        let readings = ctx
            .attempts
            .last()
            .map(|a| a.meter.read())
            .unwrap_or_default();
        if let (Some(msg), Some(a)) = (&readings.failed, ctx.attempts.last_mut()) {
            a.outcome = format!("failed mid-stream: {msg}");
        }
        let last = ctx.attempts.last();
        let upstream = upstream_time(&ctx.attempts);
        let hit = ctx.cache_hit.take();
        let (provider, model) = match (last, &hit) {
            (Some(a), _) => (
                state.upstreams.get(a.provider).map(|u| u.name.clone()),
                Some(a.model.clone()),
            ),
            // A cache hit names the provider and model that made the answer it served.
            (None, Some(h)) => (Some(h.provider.clone()), Some(h.model.clone())),
            (None, None) => (None, None),
        };
        let usage = readings.usage;
        let attempted = !ctx.attempts.is_empty();
        let cost = usage.and_then(|u| last.and_then(|a| state.cost(a.provider, &a.model, &u)));
        let settings = &state.log.settings;
        let response = captured.map(|b| String::from_utf8_lossy(&b).into_owned());
        let tokens = |f: fn(&switchyard_providers::usage::Usage) -> u64| {
            usage.map(|u| i64::try_from(f(&u)).unwrap_or(i64::MAX))
        };
        // A stream that started (status 200) and then failed is an error, with its message.
        let error = error.or_else(|| readings.failed.clone());
        let outcome = match how {
            End::ClientClosed => "client_closed",
            End::Complete if status >= 400 || readings.failed.is_some() => "error",
            End::Complete => "ok",
        };
        let record = Record {
            id: switchyard_store::record_id(unix_ms(start_wall), fastrand::u128(..)),
            request_id: ctx.request_id.to_str().unwrap_or_default().to_owned(),
            trace_id: crate::ids::hex128(ctx.trace.trace_id),
            span_id: crate::ids::hex64(ctx.span_id),
            parent_span_id: ctx.trace.parent_id.map(crate::ids::hex64),
            ts_ms: unix_ms(start_wall),
            end_ms: unix_ms(start_wall) + latency.as_millis() as i64,
            operation: ctx.op.name().to_owned(),
            caller: ctx.caller.take(),
            workspace: ctx.principal.as_ref().map(|p| p.workspace.clone()),
            key_id: ctx.principal.as_ref().and_then(|p| p.key_id.clone()),
            end_user: ctx.end_user.take(),
            unpriced: usage.is_some() && cost.is_none() && last.is_some(),
            guardrails: {
                // The request's and whole answers' verdicts, then a streamed answer's.
                let mut all = std::mem::take(&mut ctx.guarded.verdicts);
                all.extend(readings.guardrails.iter().cloned());
                (!all.is_empty()).then(|| serde_json::to_value(&all).unwrap_or_default())
            },
            route: ctx.route.take(),
            requested_model: ctx.requested_model.take(),
            provider,
            model,
            stream: ctx.stream,
            status,
            outcome: outcome.to_owned(),
            input_tokens: tokens(|u| u.input),
            output_tokens: tokens(|u| u.output),
            cached_tokens: tokens(|u| u.cached_input),
            cache_write_tokens: tokens(|u| u.cache_write),
            reasoning_tokens: tokens(|u| u.reasoning),
            // A hit costs no provider anything; what it saved is beside it.
            cost_usd: if hit.is_some() { Some(0.0) } else { cost },
            latency_ms: ms(latency),
            ttft_ms: readings
                .first_event
                .map(|t| ms(t.saturating_duration_since(ctx.started))),
            upstream_ms: attempted.then(|| ms(upstream)),
            cache: ctx.cache.map(str::to_owned),
            cache_similarity: hit.as_ref().and_then(|h| h.similarity),
            cache_saved_usd: hit.as_ref().map(|h| h.saved_nanos as f64 / 1e9),
            prompt: ctx
                .prompt
                .as_ref()
                .map(crate::context::PromptUse::record)
                .or_else(|| {
                    ctx.route_experiment
                        .as_ref()
                        .map(|(e, v)| serde_json::json!({"experiment": e, "variant": v}))
                }),
            metadata: std::mem::take(&mut ctx.metadata),
            attempts: ctx
                .attempts
                .iter()
                .map(|a| Attempt {
                    provider: state
                        .upstreams
                        .get(a.provider)
                        .map(|u| u.name.clone())
                        .unwrap_or_default(),
                    model: a.model.clone(),
                    status: a.status,
                    outcome: a.outcome.clone(),
                    latency_ms: ms(a.ended.saturating_duration_since(a.started)),
                    dropped: a.dropped.clone(),
                })
                .collect(),
            error,
            request_body: ctx
                .body
                .as_ref()
                .filter(|_| settings.bodies)
                .map(|b| bodies::stored(b, settings.body_max_bytes, settings.redact_bodies)),
            response_body: response.as_deref().filter(|_| settings.bodies).map(|b| {
                bodies::stored(
                    b.as_bytes(),
                    settings.body_max_bytes,
                    settings.redact_bodies,
                )
            }),
            own_request_id: ctx.own_request_id,
            // A trace the gateway started (no valid traceparent came) has a time-ordered id.
            own_trace_id: ctx.trace.parent_id.is_none(),
        };
        let mut end = Ended {
            state,
            // Gateway overhead: the time not spent waiting on providers or between retries.
            overhead: latency.saturating_sub(upstream + ctx.backoff),
            ctx: &mut ctx,
            record,
            usage,
            answered: readings.first_event.is_some() || (status < 400 && attempted),
            complete: readings.complete,
            response,
        };
        for f in FINISHERS {
            f.finish(&mut end);
        }
    }
}
