//! How an upstream stream is cut into events: Server-Sent Events, or AWS's binary event stream
//! (Bedrock), whose messages are presented as events named by their `:event-type` header. One
//! event or message may hold at most `server.limits.max_event_bytes`.

use crate::error::GatewayError;
use bytes::Bytes;
use switchyard_wire::eventstream::{Decoder, FrameError, Message};
use switchyard_wire::sse::{SseError, SseEvent, SseParser};

/// The media type of AWS's binary event stream.
pub const EVENT_STREAM: &str = "application/vnd.amazon.eventstream";

pub(super) enum Framing {
    Sse(SseParser),
    EventStream(Decoder),
}

/// An event-stream message as an event: `:event-type` for events, `exception:<name>` for
/// exceptions and `error:<code>` for errors, with the payload as data.
fn as_event(m: &Message) -> SseEvent {
    let name = match m.header(":message-type") {
        Some("exception") => format!(
            "exception:{}",
            m.header(":exception-type").unwrap_or("unknownException")
        ),
        Some("error") => format!("error:{}", m.header(":error-code").unwrap_or("unknown")),
        _ => m.header(":event-type").unwrap_or_default().to_owned(),
    };
    let data = match m.header(":message-type") {
        Some("error") => serde_json::json!({
            "message": m.header(":error-message").unwrap_or("upstream stream error")
        })
        .to_string(),
        _ => String::from_utf8_lossy(&m.payload).into_owned(),
    };
    SseEvent {
        raw: Bytes::new(),
        event: Some(name),
        data: Some(data),
        malformed: false,
    }
}

/// Why an upstream stream could not be cut into events.
#[derive(Debug)]
pub(super) enum FramingError {
    Sse(SseError),
    EventStream(FrameError),
}

impl FramingError {
    /// The error that ends the caller's stream.
    pub(super) fn into_gateway(self, provider: &str) -> GatewayError {
        let provider = provider.to_owned();
        match self {
            FramingError::Sse(SseError::TooLarge { limit })
            | FramingError::EventStream(FrameError::TooLarge { limit, .. }) => {
                GatewayError::UpstreamTooLarge {
                    provider,
                    what: "an event",
                    limit,
                }
            }
            FramingError::Sse(e @ SseError::Truncated { .. }) => GatewayError::UpstreamProtocol {
                provider,
                detail: e.to_string(),
            },
            FramingError::EventStream(e) => GatewayError::UpstreamProtocol {
                provider,
                detail: format!("undecodable event stream: {e}"),
            },
        }
    }
}

impl Framing {
    /// The framing for a response's content type, refusing events over `max_event` bytes.
    pub(super) fn for_content_type(ct: &str, max_event: usize) -> Option<Self> {
        if ct.starts_with("text/event-stream") {
            Some(Framing::Sse(SseParser::with_limit(max_event)))
        } else if ct.starts_with(EVENT_STREAM) {
            Some(Framing::EventStream(Decoder::with_limit(max_event)))
        } else {
            None
        }
    }

    pub(super) fn push(&mut self, bytes: &[u8]) {
        match self {
            Framing::Sse(p) => p.push(bytes),
            Framing::EventStream(d) => d.push(bytes),
        }
    }

    /// The next whole event. An event over the limit, an undecodable binary stream and
    /// (after `close`) a half-received event are errors.
    pub(super) fn next_event(&mut self) -> Result<Option<SseEvent>, FramingError> {
        match self {
            Framing::Sse(p) => p.next_event().map_err(FramingError::Sse),
            Framing::EventStream(d) => d
                .next_message()
                .map(|m| m.map(|m| as_event(&m)))
                .map_err(FramingError::EventStream),
        }
    }

    /// The upstream closed: the whole events held can still be taken, then a half-received
    /// one is an error (never completed, which would hand the caller a cut event as whole).
    pub(super) fn close(&mut self) {
        match self {
            Framing::Sse(p) => p.close(),
            Framing::EventStream(d) => d.close(),
        }
    }

    /// Drops whatever is buffered (after the stream has ended with an error).
    pub(super) fn clear(&mut self) {
        match self {
            Framing::Sse(p) => p.clear(),
            Framing::EventStream(d) => d.clear(),
        }
    }
}
