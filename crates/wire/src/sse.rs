//! Incremental Server-Sent Events framing: splits a byte stream into whole events as they arrive.
//!
//! The parser keeps each event's raw bytes so a pass-through relay can forward them untouched,
//! and also exposes the decoded `event:` name and joined `data:` lines for stages that read them.
//! It follows the WHATWG EventSource rules: lines end in LF, CRLF or a lone CR; a blank line ends
//! an event; lines starting with `:` are comments; multiple `data:` lines join with `\n`.

use bytes::{Bytes, BytesMut};

/// One complete SSE event as it appeared on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The event's bytes including its terminating blank line, exactly as received.
    pub raw: Bytes,
    /// The `event:` field, if any.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`; `None` when the block had no data line (e.g. only comments).
    pub data: Option<String>,
}

impl SseEvent {
    /// True when the block carried no data and no event name (keep-alive comments).
    pub fn is_comment_only(&self) -> bool {
        self.data.is_none() && self.event.is_none()
    }
}

/// Accumulates bytes and yields whole events.
#[derive(Debug, Default)]
pub struct SseParser {
    buf: BytesMut,
    /// Bytes of `buf` already scanned into complete lines of the current event.
    scanned: usize,
    event: Option<String>,
    data: Option<String>,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes read from the transport.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// Bytes held that do not yet form a complete event.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Returns the next complete event, if the buffered bytes contain one.
    pub fn next_event(&mut self) -> Option<SseEvent> {
        loop {
            let rest = &self.buf[self.scanned..];
            let (line_len, term_len) = find_line_end(rest)?;
            let line_start = self.scanned;
            self.scanned += line_len + term_len;
            if line_len == 0 {
                let raw = self.buf.split_to(self.scanned).freeze();
                self.scanned = 0;
                return Some(SseEvent {
                    raw,
                    event: self.event.take(),
                    data: self.data.take(),
                });
            }
            let line = &self.buf[line_start..line_start + line_len];
            apply_line(&mut self.event, &mut self.data, line);
        }
    }
}

/// Applies one non-blank line to the event being built.
fn apply_line(event: &mut Option<String>, data: &mut Option<String>, line: &[u8]) {
    if line.first() == Some(&b':') {
        return;
    }
    let (field, value) = match line.iter().position(|&b| b == b':') {
        Some(i) => {
            let v = &line[i + 1..];
            (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
        }
        None => (line, &[][..]),
    };
    let value = String::from_utf8_lossy(value);
    match field {
        b"data" => match data {
            Some(d) => {
                d.push('\n');
                d.push_str(&value);
            }
            None => *data = Some(value.into_owned()),
        },
        b"event" => *event = Some(value.into_owned()),
        _ => {}
    }
}

/// Finds the end of the first line: (length without terminator, terminator length).
/// A CR at the very end is ambiguous (a CRLF may be split across reads), so it waits for more.
fn find_line_end(bytes: &[u8]) -> Option<(usize, usize)> {
    let i = bytes.iter().position(|&b| b == b'\n' || b == b'\r')?;
    if bytes[i] == b'\n' {
        return Some((i, 1));
    }
    match bytes.get(i + 1) {
        Some(b'\n') => Some((i, 2)),
        Some(_) => Some((i, 1)),
        None => None,
    }
}

#[cfg(test)]
mod tests;
