//! The AWS event stream binary framing (`application/vnd.amazon.eventstream`), as Bedrock's
//! ConverseStream sends it: each message is
//!
//! ```text
//! total length (u32 BE) | headers length (u32 BE) | prelude CRC32 (of the 8 bytes before)
//! headers | payload | message CRC32 (of everything before it)
//! ```
//!
//! and each header is `name length (u8) | name | value type (u8) | value`. The decoder checks both
//! CRCs and yields whole messages as they complete; the encoder is for the mock provider.

use bytes::{Buf, Bytes, BytesMut};

/// Messages larger than this are refused unless the decoder is given another limit (AWS's own
/// limit is 16 MiB plus framing).
pub const MAX_MESSAGE: usize = 16 * 1024 * 1024 + 1024;

/// A header value; Bedrock uses strings, the other types are decoded so nothing is misread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderValue {
    Bool(bool),
    Byte(i8),
    Short(i16),
    Int(i32),
    Long(i64),
    Bytes(Bytes),
    String(String),
    Timestamp(i64),
    Uuid([u8; 16]),
}

/// One decoded message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub headers: Vec<(String, HeaderValue)>,
    pub payload: Bytes,
}

impl Message {
    /// A string header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|(k, v)| match v {
            HeaderValue::String(s) if k == name => Some(s.as_str()),
            _ => None,
        })
    }
}

/// Why the byte stream cannot be decoded; the stream is unusable after one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// A message's prelude announced more bytes than the limit; nothing more of it was read.
    TooLarge { length: usize, limit: usize },
    /// The stream ended in the middle of a message.
    Truncated { dropped: usize },
    /// A checksum, length or header that cannot be right.
    Corrupt(String),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::TooLarge { length, limit } => {
                write!(f, "a message of {length} bytes, over the limit of {limit}")
            }
            FrameError::Truncated { dropped } => write!(
                f,
                "the stream ended in the middle of a message ({dropped} bytes dropped)"
            ),
            FrameError::Corrupt(detail) => f.write_str(detail),
        }
    }
}

fn corrupt(detail: &str) -> FrameError {
    FrameError::Corrupt(detail.to_owned())
}

/// Accumulates bytes and yields whole messages.
#[derive(Debug)]
pub struct Decoder {
    buf: BytesMut,
    max_message: usize,
    /// No more bytes will come: leftovers are a truncation.
    closed: bool,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::with_limit(MAX_MESSAGE)
    }
}

fn take<'a>(b: &mut &'a [u8], n: usize) -> Result<&'a [u8], FrameError> {
    if b.len() < n {
        return Err(corrupt("header runs past the headers section"));
    }
    let (head, rest) = b.split_at(n);
    *b = rest;
    Ok(head)
}

fn parse_headers(mut b: &[u8]) -> Result<Vec<(String, HeaderValue)>, FrameError> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let name_len = take(&mut b, 1)?[0] as usize;
        let name = String::from_utf8(take(&mut b, name_len)?.to_vec())
            .map_err(|_| corrupt("header name is not UTF-8"))?;
        let kind = take(&mut b, 1)?[0];
        let value = match kind {
            0 => HeaderValue::Bool(true),
            1 => HeaderValue::Bool(false),
            2 => HeaderValue::Byte(take(&mut b, 1)?.get_i8()),
            3 => HeaderValue::Short(take(&mut b, 2)?.get_i16()),
            4 => HeaderValue::Int(take(&mut b, 4)?.get_i32()),
            5 => HeaderValue::Long(take(&mut b, 8)?.get_i64()),
            6 | 7 => {
                let len = take(&mut b, 2)?.get_u16() as usize;
                let raw = take(&mut b, len)?;
                if kind == 6 {
                    HeaderValue::Bytes(Bytes::copy_from_slice(raw))
                } else {
                    HeaderValue::String(
                        String::from_utf8(raw.to_vec())
                            .map_err(|_| corrupt("string header is not UTF-8"))?,
                    )
                }
            }
            8 => HeaderValue::Timestamp(take(&mut b, 8)?.get_i64()),
            9 => {
                let mut u = [0u8; 16];
                u.copy_from_slice(take(&mut b, 16)?);
                HeaderValue::Uuid(u)
            }
            other => {
                return Err(FrameError::Corrupt(format!(
                    "unknown header value type {other}"
                )))
            }
        };
        out.push((name, value));
    }
    Ok(out)
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A decoder refusing messages larger than `max_message` bytes (framing included).
    pub fn with_limit(max_message: usize) -> Self {
        Self {
            buf: BytesMut::new(),
            max_message,
            closed: false,
        }
    }

    /// Adds bytes read from the transport.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// Bytes held that do not yet form a whole message.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Marks the end of the stream: whole messages can still be taken, then a partial one is
    /// reported as `Truncated`.
    pub fn close(&mut self) {
        self.closed = true;
    }

    /// Drops everything held (after the stream has failed).
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// The next whole message, `Ok(None)` when more bytes are needed. After an error the
    /// decoder holds nothing.
    pub fn next_message(&mut self) -> Result<Option<Message>, FrameError> {
        let result = self.decode();
        if result.is_err() {
            self.clear();
        }
        result
    }

    fn decode(&mut self) -> Result<Option<Message>, FrameError> {
        if self.buf.len() < 12 {
            return self.wait();
        }
        let total =
            u32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]) as usize;
        let headers_len =
            u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]) as usize;
        let prelude_crc =
            u32::from_be_bytes([self.buf[8], self.buf[9], self.buf[10], self.buf[11]]);
        if crc32fast::hash(&self.buf[..8]) != prelude_crc {
            return Err(corrupt("prelude checksum mismatch"));
        }
        // Checked as soon as the prelude is in: a message over the limit is refused before
        // any more of it is buffered.
        if total > self.max_message {
            return Err(FrameError::TooLarge {
                length: total,
                limit: self.max_message,
            });
        }
        if total < headers_len.saturating_add(16) {
            return Err(FrameError::Corrupt(format!(
                "impossible message length {total}"
            )));
        }
        if self.buf.len() < total {
            return self.wait();
        }
        let frame = self.buf.split_to(total).freeze();
        let message_crc = u32::from_be_bytes([
            frame[total - 4],
            frame[total - 3],
            frame[total - 2],
            frame[total - 1],
        ]);
        if crc32fast::hash(&frame[..total - 4]) != message_crc {
            return Err(corrupt("message checksum mismatch"));
        }
        let headers = parse_headers(&frame[12..12 + headers_len])?;
        let payload = frame.slice(12 + headers_len..total - 4);
        Ok(Some(Message { headers, payload }))
    }

    /// More bytes are needed: none will come once the stream has ended.
    fn wait(&mut self) -> Result<Option<Message>, FrameError> {
        if self.closed && !self.buf.is_empty() {
            return Err(FrameError::Truncated {
                dropped: self.buf.len(),
            });
        }
        Ok(None)
    }
}

/// Encodes a message with string headers (what Bedrock sends).
pub fn encode(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    for (name, value) in headers {
        h.push(name.len() as u8);
        h.extend_from_slice(name.as_bytes());
        h.push(7);
        h.extend_from_slice(&(value.len() as u16).to_be_bytes());
        h.extend_from_slice(value.as_bytes());
    }
    let total = 12 + h.len() + payload.len() + 4;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(h.len() as u32).to_be_bytes());
    let prelude_crc = crc32fast::hash(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The "all headers" test vector shape from the AWS event stream specification: one string
    /// header and a JSON payload, fed a byte at a time.
    #[test]
    fn round_trip_byte_by_byte() {
        let a = encode(
            &[
                (":event-type", "contentBlockDelta"),
                (":message-type", "event"),
            ],
            br#"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#,
        );
        let b = encode(&[(":message-type", "event")], b"{}");
        let mut d = Decoder::new();
        let mut got = Vec::new();
        for byte in a.iter().chain(b.iter()) {
            d.push(&[*byte]);
            while let Some(m) = d.next_message().unwrap() {
                got.push(m);
            }
        }
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].header(":event-type"), Some("contentBlockDelta"));
        assert_eq!(
            &got[0].payload[..],
            br#"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#
        );
        assert_eq!(got[1].header(":event-type"), None);
        assert_eq!(d.pending(), 0);
    }

    #[test]
    fn known_encoding_and_corruption() {
        // An empty message: 16 bytes, headers length 0, CRCs of AWS's "empty message" vector.
        let empty = encode(&[], b"");
        assert_eq!(
            empty,
            [0, 0, 0, 16, 0, 0, 0, 0, 0x05, 0xc2, 0x48, 0xeb, 0x7d, 0x98, 0xc8, 0xff]
        );
        let mut bad = encode(&[(":message-type", "event")], b"{}");
        let n = bad.len();
        bad[n - 6] ^= 1;
        let mut d = Decoder::new();
        d.push(&bad);
        assert!(d.next_message().is_err());
        let mut d = Decoder::new();
        d.push(&[0, 0, 0, 16, 0, 0, 0, 0, 1, 2, 3, 4]);
        assert!(d.next_message().is_err(), "prelude CRC is checked");
    }

    #[test]
    fn typed_headers_decode() {
        let mut h = vec![4u8];
        h.extend_from_slice(b"flag");
        h.push(1);
        h.push(3);
        h.extend_from_slice(b"num");
        h.push(4);
        h.extend_from_slice(&7i32.to_be_bytes());
        let parsed = parse_headers(&h).unwrap();
        assert_eq!(parsed[0], ("flag".into(), HeaderValue::Bool(false)));
        assert_eq!(parsed[1], ("num".into(), HeaderValue::Int(7)));
        assert!(parse_headers(&[3, b'a', b'b']).is_err());
    }

    #[test]
    fn the_length_is_checked_against_the_limit_from_the_prelude_alone() {
        let big = encode(&[(":message-type", "event")], &[b'x'; 100]);
        let mut d = Decoder::with_limit(64);
        d.push(&big[..12]);
        assert_eq!(
            d.next_message(),
            Err(FrameError::TooLarge {
                length: big.len(),
                limit: 64
            }),
            "refused before the rest of the message is buffered"
        );
        assert_eq!(d.pending(), 0);
        let mut d = Decoder::with_limit(big.len());
        d.push(&big);
        assert!(d.next_message().unwrap().is_some());
    }

    #[test]
    fn a_message_cut_short_by_the_end_of_the_stream_is_reported() {
        let m = encode(&[(":message-type", "event")], b"{}");
        let mut d = Decoder::new();
        d.push(&m);
        d.push(&m[..5]);
        d.close();
        assert!(d.next_message().unwrap().is_some());
        assert_eq!(d.next_message(), Err(FrameError::Truncated { dropped: 5 }));
        assert_eq!(d.next_message(), Ok(None));
    }

    #[test]
    fn property_any_bytes_in_any_reads_decode_like_one_read() {
        use crate::testgen::{rng, split, CASES};
        for case in 0..CASES {
            let mut r = rng(case);
            // Whole messages, sometimes with a byte changed or cut short.
            let mut input = Vec::new();
            for _ in 0..r.usize(0..5) {
                let payload: Vec<u8> = (0..r.usize(0..40)).map(|_| r.u8(..)).collect();
                input.extend(encode(&[(":event-type", "contentBlockDelta")], &payload));
            }
            match r.u8(0..4) {
                0 if !input.is_empty() => {
                    let at = r.usize(..input.len());
                    input[at] = r.u8(..);
                }
                1 => input.truncate(r.usize(..=input.len())),
                2 => input.extend((0..r.usize(0..30)).map(|_| r.u8(..))),
                _ => {}
            }
            let limit = if r.bool() {
                MAX_MESSAGE
            } else {
                r.usize(16..80)
            };
            let run = |reads: &[&[u8]]| {
                let mut d = Decoder::with_limit(limit);
                let mut out = Vec::new();
                let mut drain = |d: &mut Decoder| loop {
                    match d.next_message() {
                        Ok(Some(m)) => out.push(m),
                        Ok(None) => return None,
                        Err(e) => return Some(e),
                    }
                };
                for read in reads {
                    d.push(read);
                    if let Some(e) = drain(&mut d) {
                        return (out, Some(e));
                    }
                }
                d.close();
                let e = drain(&mut d);
                (out, e)
            };
            let reads = split(&mut r, &input);
            assert_eq!(run(&[&input]), run(&reads), "case {case}");
        }
    }
}
