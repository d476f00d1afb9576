//! SSE bodies with per-chunk delays, abrupt breaks, and counting of streams the client abandoned.

use crate::faults::Fault;
use crate::State;
use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Counts a stream as aborted unless it is marked finished before being dropped.
struct Guard {
    state: Arc<State>,
    finished: bool,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let counter = if self.finished {
            &self.state.stats.streams_completed
        } else {
            &self.state.stats.streams_aborted
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

struct Cursor {
    guard: Guard,
    events: std::vec::IntoIter<Bytes>,
    sent: usize,
    /// The keep-alive comment went out.
    kept_alive: bool,
    fault: Fault,
}

/// Streams `events` as `data:` lines, applying the fault's timing and break.
pub(crate) fn sse_response(state: Arc<State>, events: Vec<String>, fault: Fault) -> Response {
    let frames = events
        .into_iter()
        .map(|e| format!("data: {e}\n\n"))
        .collect();
    sse_frames(state, frames, fault)
}

/// Streams complete SSE frames (`event:` and `data:` lines with their blank line).
pub(crate) fn sse_frames(state: Arc<State>, events: Vec<String>, fault: Fault) -> Response {
    let frames = events.into_iter().map(Bytes::from).collect();
    frames_response(state, frames, fault, "text/event-stream")
}

/// Streams pre-encoded frames of any framing (SSE text, AWS binary event stream) with the
/// fault's timing and break.
pub(crate) fn frames_response(
    state: Arc<State>,
    events: Vec<Bytes>,
    fault: Fault,
    content_type: &'static str,
) -> Response {
    state.stats.streams_started.fetch_add(1, Ordering::Relaxed);
    let cursor = Cursor {
        guard: Guard {
            state,
            finished: false,
        },
        events: events.into_iter(),
        sent: 0,
        kept_alive: false,
        fault,
    };
    let stream = futures_util::stream::unfold(cursor, |mut c| async move {
        if c.fault.break_after == Some(c.sent) {
            // Pause first so the events already yielded are flushed to the socket: a break is
            // meant to happen mid-stream, after the caller has seen data.
            tokio::time::sleep(Duration::from_millis(30)).await;
            return Some((Err(std::io::Error::other("mock: broken stream")), c));
        }
        if c.fault.keepalive && !c.kept_alive {
            c.kept_alive = true;
            return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), c));
        }
        let delay = if c.sent == 0 {
            c.fault.first_chunk_delay_ms
        } else {
            c.fault.chunk_delay_ms
        };
        if let Some(ms) = delay.filter(|ms| *ms > 0) {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        match c.events.next() {
            Some(ev) => {
                c.sent += 1;
                Some((Ok::<_, std::io::Error>(ev), c))
            }
            None => {
                c.guard.finished = true;
                drop(c);
                None
            }
        }
    });
    Response::builder()
        .header("content-type", content_type)
        .header("cache-control", "no-cache")
        .body(Body::from_stream(stream))
        .unwrap_or_default()
}
