//! SSE bodies with per-chunk delays, abrupt breaks, endless, oversized, garbled and truncated
//! streams, and counting of streams the client abandoned.

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
    events: Vec<Bytes>,
    /// Index of the next event in `events`.
    next: usize,
    /// Under `endless`, the event repeated once reached (its index in `events`).
    repeat: Option<usize>,
    sent: usize,
    /// The keep-alive comment went out.
    kept_alive: bool,
    fault: Fault,
}

/// The 64 KiB pieces of a `data:` event whose JSON string value makes it `len` bytes long.
fn oversized(len: usize) -> Vec<Bytes> {
    const PIECE: usize = 64 * 1024;
    let body = len.saturating_sub(b"data: \"\"\n\n".len());
    let mut out = vec![Bytes::from_static(b"data: \"")];
    let mut left = body;
    while left > 0 {
        let n = left.min(PIECE);
        out.push(Bytes::from(vec![b'x'; n]));
        left -= n;
    }
    out.push(Bytes::from_static(b"\"\n\n"));
    out
}

/// `len` bytes from a fixed seed: binary garbage that is the same in every run.
fn garbage(len: usize) -> Bytes {
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    Bytes::from((0..len).map(|_| rng.u8(..)).collect::<Vec<u8>>())
}

/// The fault's changes to a stream's events: what goes in after the first event, and a last
/// event cut in half. Returns the events and, under `endless`, the index of the one repeated.
fn apply_fault(mut events: Vec<Bytes>, fault: &Fault) -> (Vec<Bytes>, Option<usize>) {
    let mut extra = Vec::new();
    if let Some(len) = fault.oversized_event {
        extra.extend(oversized(len));
    }
    if let Some(len) = fault.garbage {
        extra.push(garbage(len));
    }
    if let Some(text) = &fault.inject {
        extra.push(Bytes::from(text.clone()));
    }
    if fault.truncate {
        if let Some(last) = events.pop() {
            events.push(last.slice(..last.len() / 2));
        }
    }
    let at = events.len().min(1);
    let middle = events.len() / 2;
    let repeat = fault.endless.then_some(if middle >= at {
        middle + extra.len()
    } else {
        middle
    });
    events.splice(at..at, extra);
    (events, repeat)
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
    let (events, repeat) = apply_fault(events, &fault);
    let cursor = Cursor {
        guard: Guard {
            state,
            finished: false,
        },
        events,
        next: 0,
        repeat,
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
        } else if c.fault.flush_each && c.sent > 0 {
            // Pending once: the server writes out what it holds before the next chunk.
            tokio::task::yield_now().await;
        }
        let index = match c.repeat {
            Some(r) if c.next >= r => r,
            _ => c.next,
        };
        match c.events.get(index) {
            Some(ev) => {
                c.next += 1;
                c.sent += 1;
                Some((Ok::<_, std::io::Error>(ev.clone()), c))
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

/// A JSON body that never ends: whitespace, 1 KiB at a time, every `chunk_delay_ms`.
pub(crate) fn endless_body(state: Arc<State>, fault: Fault) -> Response {
    state.stats.streams_started.fetch_add(1, Ordering::Relaxed);
    let guard = Guard {
        state,
        finished: false,
    };
    let delay = Duration::from_millis(fault.chunk_delay_ms.unwrap_or(0));
    let stream = futures_util::stream::unfold(guard, move |g| async move {
        if delay.is_zero() {
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(delay).await;
        }
        Some((
            Ok::<_, std::io::Error>(Bytes::from_static(&[b' '; 1024])),
            g,
        ))
    });
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from_stream(stream))
        .unwrap_or_default()
}
