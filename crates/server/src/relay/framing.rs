//! How an upstream stream is cut into events: Server-Sent Events, or AWS's binary event stream
//! (Bedrock), whose messages are presented as events named by their `:event-type` header.

use bytes::Bytes;
use switchyard_wire::eventstream::{Decoder, Message};
use switchyard_wire::sse::{SseEvent, SseParser};

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
    }
}

impl Framing {
    /// The framing for a response's content type.
    pub(super) fn for_content_type(ct: &str) -> Option<Self> {
        if ct.starts_with("text/event-stream") {
            Some(Framing::Sse(SseParser::new()))
        } else if ct.starts_with(EVENT_STREAM) {
            Some(Framing::EventStream(Decoder::new()))
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

    /// The next whole event; an undecodable binary stream is an error.
    pub(super) fn next_event(&mut self) -> Result<Option<SseEvent>, String> {
        match self {
            Framing::Sse(p) => Ok(p.next_event()),
            Framing::EventStream(d) => d
                .next_message()
                .map(|m| m.map(|m| as_event(&m)))
                .map_err(|e| e.to_string()),
        }
    }

    /// The upstream closed: a half-received SSE event is completed so it can be read; a
    /// half-received binary message is dropped (the translator reports the truncation).
    pub(super) fn close(&mut self) {
        match self {
            Framing::Sse(p) if p.pending() > 0 => p.push(b"\n\n"),
            Framing::Sse(_) => {}
            Framing::EventStream(d) => *d = Decoder::new(),
        }
    }

    /// Drops whatever is buffered (after the stream has ended with an error).
    pub(super) fn clear(&mut self) {
        match self {
            Framing::Sse(p) => *p = SseParser::new(),
            Framing::EventStream(d) => *d = Decoder::new(),
        }
    }
}
