//! Incremental Server-Sent Events framing: splits a byte stream into whole events as they arrive.
//!
//! The parser keeps each event's raw bytes so a pass-through relay can forward them untouched,
//! and also exposes the decoded `event:` name and joined `data:` lines for stages that read them.
//! It follows the WHATWG EventSource rules: lines end in LF, CRLF or a lone CR; a blank line ends
//! an event; lines starting with `:` are comments; multiple `data:` lines join with `\n`.
//!
//! Whatever the upstream sends, the work is linear in the bytes received: every byte is searched
//! for a line end once (a long line arriving in many reads is not searched again from its start),
//! and one event may hold at most `max_event` bytes, so a stream that never ends its event cannot
//! grow the buffer without bound.

use bytes::{Bytes, BytesMut};

/// Events larger than this are refused unless the parser is given another limit.
pub const DEFAULT_MAX_EVENT: usize = 16 * 1024 * 1024;

/// One complete SSE event as it appeared on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The event's bytes including its terminating blank line, exactly as received.
    pub raw: Bytes,
    /// The `event:` field, if any.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`; `None` when the block had no data line (e.g. only comments).
    pub data: Option<String>,
    /// A line was not UTF-8, or was neither a comment nor a field (`name: value`, the name a
    /// word): not the text an LLM provider sends (binary garbage, an HTML page).
    pub malformed: bool,
}

impl SseEvent {
    /// True when the block carried no data and no event name (keep-alive comments).
    pub fn is_comment_only(&self) -> bool {
        self.data.is_none() && self.event.is_none()
    }
}

/// Why the byte stream cannot be framed; the parser is empty afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseError {
    /// One event grew past the limit (bytes, its blank line included).
    TooLarge { limit: usize },
    /// The stream ended in the middle of an event; those bytes were dropped.
    Truncated { dropped: usize },
}

impl std::fmt::Display for SseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SseError::TooLarge { limit } => write!(f, "an event larger than {limit} bytes"),
            SseError::Truncated { dropped } => write!(
                f,
                "the stream ended in the middle of an event ({dropped} bytes dropped)"
            ),
        }
    }
}

/// Accumulates bytes and yields whole events.
#[derive(Debug)]
pub struct SseParser {
    /// The current event's bytes (its complete lines, then the line being received), followed
    /// by whatever later bytes arrived with them.
    buf: BytesMut,
    /// Where the current line starts: bytes before it are complete lines of the current event.
    line_start: usize,
    /// Bytes of `buf` already searched for the current line's end.
    searched: usize,
    event: Option<String>,
    data: Option<String>,
    malformed: bool,
    max_event: usize,
    /// No more bytes will come: a final CR ends its line, and leftovers are a truncation.
    closed: bool,
    /// Bytes searched for line ends, for the tests' check that the work stays linear.
    #[cfg(test)]
    work: usize,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::with_limit(DEFAULT_MAX_EVENT)
    }
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// A parser refusing events larger than `max_event` bytes.
    pub fn with_limit(max_event: usize) -> Self {
        Self {
            buf: BytesMut::new(),
            line_start: 0,
            searched: 0,
            event: None,
            data: None,
            malformed: false,
            max_event,
            closed: false,
            #[cfg(test)]
            work: 0,
        }
    }

    /// Adds bytes read from the transport.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// Bytes held that do not yet form a complete event.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Marks the end of the stream: the events already complete can still be taken, then an
    /// unfinished one is reported as `Truncated` (and dropped, as EventSource drops it).
    pub fn close(&mut self) {
        self.closed = true;
    }

    /// Drops everything held (after the stream has failed).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.line_start = 0;
        self.searched = 0;
        self.event = None;
        self.data = None;
        self.malformed = false;
    }

    /// Returns the next complete event, if the buffered bytes contain one. After an error the
    /// parser holds nothing.
    pub fn next_event(&mut self) -> Result<Option<SseEvent>, SseError> {
        loop {
            let Some((line_end, next)) = self.find_line_end() else {
                return self.incomplete();
            };
            if next > self.max_event {
                return self.fail(SseError::TooLarge {
                    limit: self.max_event,
                });
            }
            let line_start = self.line_start;
            self.line_start = next;
            self.searched = next;
            if line_end == line_start {
                let raw = self.buf.split_to(next).freeze();
                self.line_start = 0;
                self.searched = 0;
                return Ok(Some(SseEvent {
                    raw,
                    event: self.event.take(),
                    data: self.data.take(),
                    malformed: std::mem::take(&mut self.malformed),
                }));
            }
            let line = &self.buf[line_start..line_end];
            self.malformed |= !apply_line(&mut self.event, &mut self.data, line);
        }
    }

    /// No line ends in what is held: more bytes are needed, unless the event is already too
    /// large or the stream has ended.
    fn incomplete(&mut self) -> Result<Option<SseEvent>, SseError> {
        if self.buf.len() > self.max_event {
            return self.fail(SseError::TooLarge {
                limit: self.max_event,
            });
        }
        if self.closed && !self.buf.is_empty() {
            let dropped = self.buf.len();
            return self.fail(SseError::Truncated { dropped });
        }
        Ok(None)
    }

    fn fail(&mut self, e: SseError) -> Result<Option<SseEvent>, SseError> {
        self.clear();
        Err(e)
    }

    /// Finds where the current line ends: (end of its text, start of the next line). Searches
    /// only bytes not searched before. A CR at the very end may be the first half of a CRLF, so
    /// it waits for the next byte, unless the stream has ended.
    fn find_line_end(&mut self) -> Option<(usize, usize)> {
        let from = self.searched;
        let rest = &self.buf[from..];
        let found = memchr::memchr2(b'\n', b'\r', rest);
        #[cfg(test)]
        {
            self.work += found.map_or(rest.len(), |i| i + 1);
        }
        let Some(i) = found.map(|i| from + i) else {
            self.searched = self.buf.len();
            return None;
        };
        if self.buf[i] == b'\n' {
            return Some((i, i + 1));
        }
        match self.buf.get(i + 1) {
            Some(b'\n') => Some((i, i + 2)),
            Some(_) => Some((i, i + 1)),
            None if self.closed => Some((i, i + 1)),
            None => {
                // Search this CR again once its next byte is in.
                self.searched = i;
                None
            }
        }
    }
}

/// Applies one non-blank line to the event being built; false when the line is malformed.
fn apply_line(event: &mut Option<String>, data: &mut Option<String>, line: &[u8]) -> bool {
    let (text, utf8) = match std::str::from_utf8(line) {
        Ok(s) => (std::borrow::Cow::Borrowed(s), true),
        Err(_) => (String::from_utf8_lossy(line), false),
    };
    if text.starts_with(':') {
        return utf8;
    }
    let (field, value) = match text.split_once(':') {
        Some((field, v)) => (field, v.strip_prefix(' ').unwrap_or(v)),
        None => (&*text, ""),
    };
    match field {
        "data" => match data {
            Some(d) => {
                d.push('\n');
                d.push_str(value);
            }
            None => *data = Some(value.to_owned()),
        },
        "event" => *event = Some(value.to_owned()),
        // The other fields providers send, which the gateway has no use for.
        "id" | "retry" => {}
        // The standard says other fields are ignored; a line that is no field at all (no
        // colon, or a name that is not a word: HTML, binary noise) is not SSE.
        other => {
            return utf8
                && text.contains(':')
                && !other.is_empty()
                && other
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }
    }
    utf8
}

#[cfg(test)]
mod tests;
