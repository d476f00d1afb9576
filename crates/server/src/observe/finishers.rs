//! What runs when a request ends, on every way it ends (answer sent, upstream error, timeout,
//! the caller gone mid-stream, a panic): `Pending::finish` makes the request's record and hands
//! it to each finisher in `FINISHERS`, in order. None of them makes the request wait: each
//! counts, queues or spawns.

use crate::context::RequestCtx;
use crate::state::AppState;
use std::time::Duration;
use switchyard_providers::usage::Usage;
use switchyard_store::Record;

/// A request that has ended, as the finishers see it.
pub struct Ended<'a> {
    pub state: &'a AppState,
    pub ctx: &'a mut RequestCtx,
    /// The request's record; the log, last in the list, takes it.
    pub record: Record,
    /// The last attempt's usage, when it was read.
    pub usage: Option<Usage>,
    /// An answer started (its first event was relayed, or a whole answer came).
    pub answered: bool,
    /// The answer came whole (`Readings::complete`): its usage is final.
    pub complete: bool,
    /// The gateway's own time: the request's less its time waiting on providers and retries.
    pub overhead: Duration,
    /// The answer's body as sent, when bodies are kept.
    pub response: Option<String>,
}

/// One step of a request's end.
pub trait Finisher: Sync {
    fn finish(&self, end: &mut Ended<'_>);
}

/// The steps, in order: settlement first (a limit frees up soonest), the log last (it takes the
/// record).
pub const FINISHERS: &[&dyn Finisher] = &[&Settle, &Metrics, &Traces, &Log];

/// Settles the request's limits: what it used, or at least its whole reservation for an answer
/// that was cut, or nothing when it got no answer (`limits::settle`). Nothing when
/// the answer was settled before it was sent.
pub struct Settle;

impl Finisher for Settle {
    fn finish(&self, end: &mut Ended<'_>) {
        crate::limits::settle(
            end.state,
            end.ctx.admitted.take(),
            end.usage,
            end.record.cost_usd,
            end.answered,
            end.complete,
        );
    }
}

/// The Prometheus metrics, and the unpriced-model counter with its log line (once per model).
pub struct Metrics;

impl Finisher for Metrics {
    fn finish(&self, end: &mut Ended<'_>) {
        let r = &end.record;
        if r.unpriced {
            end.state.unpriced.note(
                r.provider.as_deref().unwrap_or(""),
                r.model.as_deref().unwrap_or(""),
            );
        }
        end.state.metrics.observe(r, end.overhead);
    }
}

/// The OpenTelemetry spans, when an exporter is configured.
pub struct Traces;

impl Finisher for Traces {
    fn finish(&self, end: &mut Ended<'_>) {
        if let Some(otel) = &end.state.otel {
            otel.export(&end.record, end.ctx, end.state, end.response.as_deref());
        }
    }
}

/// The request log's queue (bounded; a full queue sheds, counted in a metric).
pub struct Log;

impl Finisher for Log {
    fn finish(&self, end: &mut Ended<'_>) {
        end.state.log.submit(std::mem::take(&mut end.record));
        end.state
            .log
            .open
            .fetch_sub(1, std::sync::atomic::Ordering::Release);
    }
}
