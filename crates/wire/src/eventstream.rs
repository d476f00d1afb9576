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

/// Messages larger than this are refused (AWS's limit is 16 MiB plus framing).
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
pub struct FrameError(pub String);

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Accumulates bytes and yields whole messages.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: BytesMut,
}

fn take<'a>(b: &mut &'a [u8], n: usize) -> Result<&'a [u8], FrameError> {
    if b.len() < n {
        return Err(FrameError("header runs past the headers section".into()));
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
            .map_err(|_| FrameError("header name is not UTF-8".into()))?;
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
                            .map_err(|_| FrameError("string header is not UTF-8".into()))?,
                    )
                }
            }
            8 => HeaderValue::Timestamp(take(&mut b, 8)?.get_i64()),
            9 => {
                let mut u = [0u8; 16];
                u.copy_from_slice(take(&mut b, 16)?);
                HeaderValue::Uuid(u)
            }
            other => return Err(FrameError(format!("unknown header value type {other}"))),
        };
        out.push((name, value));
    }
    Ok(out)
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes read from the transport.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// Bytes held that do not yet form a whole message.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// The next whole message, `Ok(None)` when more bytes are needed.
    pub fn next_message(&mut self) -> Result<Option<Message>, FrameError> {
        if self.buf.len() < 12 {
            return Ok(None);
        }
        let total =
            u32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]) as usize;
        let headers_len =
            u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]) as usize;
        let prelude_crc =
            u32::from_be_bytes([self.buf[8], self.buf[9], self.buf[10], self.buf[11]]);
        if crc32fast::hash(&self.buf[..8]) != prelude_crc {
            return Err(FrameError("prelude checksum mismatch".into()));
        }
        if total < 16 + headers_len || total > MAX_MESSAGE {
            return Err(FrameError(format!("impossible message length {total}")));
        }
        if self.buf.len() < total {
            return Ok(None);
        }
        let frame = self.buf.split_to(total).freeze();
        let message_crc = u32::from_be_bytes([
            frame[total - 4],
            frame[total - 3],
            frame[total - 2],
            frame[total - 1],
        ]);
        if crc32fast::hash(&frame[..total - 4]) != message_crc {
            return Err(FrameError("message checksum mismatch".into()));
        }
        let headers = parse_headers(&frame[12..12 + headers_len])?;
        let payload = frame.slice(12 + headers_len..total - 4);
        Ok(Some(Message { headers, payload }))
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
}
