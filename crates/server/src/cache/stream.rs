//! Storing a streamed answer: the caller's events are gathered into the whole answer as they
//! pass (nothing is held back), and stored when the stream ended complete, with no failure and
//! no guardrail that withheld, retried, fell back from or redacted anything.

use super::Pending;
use crate::observe::meter::Meter;
use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use switchyard_cache::shape::{Gather, Shape};
use switchyard_providers::catalog::Pricing;
use switchyard_wire::sse::SseParser;

/// What the stored entry needs once the stream has ended.
pub(super) struct Storing {
    pub store: Arc<dyn switchyard_cache::CacheStore>,
    pub index: Option<Arc<switchyard_cache::semantic::SemanticIndex>>,
    pub metrics: Arc<super::CacheMetrics>,
    pub pending: Pending,
    pub meter: Arc<Meter>,
    pub provider: String,
    pub model: String,
    pub pricing: Option<Pricing>,
}

/// The response body, gathered on its way out.
pub(super) struct Gathering {
    inner: Body,
    parser: SseParser,
    /// `None` once something could not be part of a stored answer.
    gather: Option<Gather>,
    storing: Option<Storing>,
}

impl Gathering {
    pub(super) fn new(inner: Body, shape: Shape, storing: Storing) -> Self {
        Gathering {
            inner,
            parser: SseParser::new(),
            gather: Some(Gather::new(shape)),
            storing: Some(storing),
        }
    }

    fn take(&mut self, data: &[u8]) {
        let Some(g) = self.gather.as_mut() else {
            return;
        };
        self.parser.push(data);
        loop {
            match self.parser.next_event() {
                Ok(Some(ev)) => {
                    let Some(d) = ev.data.as_deref() else {
                        continue;
                    };
                    if !g.push(ev.event.as_deref(), d) {
                        self.gather = None;
                        return;
                    }
                }
                Ok(None) => return,
                Err(_) => {
                    self.gather = None;
                    return;
                }
            }
        }
    }

    /// The stream ended: stores its answer if it qualifies.
    fn end(&mut self) {
        let (Some(g), Some(s)) = (self.gather.take(), self.storing.take()) else {
            return;
        };
        let read = s.meter.read();
        if read.failed.is_some() || super::acted_on(&read.guardrails) || !read.complete {
            return;
        }
        let Some(whole) = g.finish() else {
            return;
        };
        let Ok(body) = serde_json::to_vec(&whole) else {
            return;
        };
        let cost = match (&s.pricing, &read.usage) {
            (Some(p), Some(u)) => (switchyard_providers::catalog::cost(p, u) * 1e9).round() as u64,
            _ => 0,
        };
        let entry = s.pending.entry(
            Bytes::from(body),
            s.provider,
            s.model,
            read.usage.as_ref(),
            cost,
        );
        super::keep(s.store, s.index.as_ref(), &s.metrics, s.pending, entry);
    }
}

impl http_body::Body for Gathering {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(d) = frame.data_ref() {
                    let d = d.clone();
                    self.take(&d);
                }
            }
            Poll::Ready(None) => self.end(),
            // A broken body: nothing is stored.
            Poll::Ready(Some(Err(_))) => self.gather = None,
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
