//! Request ids and W3C trace context (`traceparent`).

use http::HeaderValue;

/// A fresh request id: 32 lowercase hex digits, time-ordered (see `time_ordered`).
pub fn new_request_id() -> HeaderValue {
    HeaderValue::from_str(&hex128(time_ordered()))
        .unwrap_or_else(|_| HeaderValue::from_static("unknown"))
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `v`'s low `digits` hex digits, zero-padded, into `out`. (`format!("{:032x}")` goes through
/// the formatting machinery, which cost several thousand instructions per request for ids.)
fn push_hex(out: &mut String, v: u128, digits: u32) {
    for i in (0..digits).rev() {
        out.push(HEX[((v >> (i * 4)) & 0xf) as usize] as char);
    }
}

/// 32 lowercase hex digits.
pub fn hex128(v: u128) -> String {
    let mut s = String::with_capacity(32);
    push_hex(&mut s, v, 32);
    s
}

/// 16 lowercase hex digits.
pub fn hex64(v: u64) -> String {
    let mut s = String::with_capacity(16);
    push_hex(&mut s, u128::from(v), 16);
    s
}

/// 128 bits: the Unix time in milliseconds in the top 48, randomness in the other 80 (as a
/// ULID). Ids made this way sort by creation time, so the request log's indexes on them grow at
/// their end instead of taking a random page per insert, which is what lets the log keep up.
pub fn time_ordered() -> u128 {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
        & ((1u128 << 48) - 1);
    (ms << 80) | (fastrand::u128(..) >> 48) | 1
}

/// Accepts a client-supplied id when it is short and printable, so logs stay clean.
pub fn accept_request_id(v: &HeaderValue) -> bool {
    let b = v.as_bytes();
    !b.is_empty() && b.len() <= 128 && b.iter().all(|c| c.is_ascii_graphic())
}

/// The parts of a `traceparent` header we carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: u128,
    /// The caller's span: our span's parent.
    pub parent_id: Option<u64>,
    pub flags: u8,
}

impl TraceContext {
    /// Continues the caller's trace, or starts a new sampled one.
    pub fn from_header(v: Option<&HeaderValue>) -> Self {
        v.and_then(|v| v.to_str().ok())
            .and_then(parse_traceparent)
            .unwrap_or_else(|| TraceContext {
                trace_id: time_ordered(),
                parent_id: None,
                flags: 1,
            })
    }

    /// The header to send upstream: same trace, `span_id` as the parent.
    pub fn child_header(&self, span_id: u64) -> HeaderValue {
        let mut s = String::with_capacity(55);
        s.push_str("00-");
        push_hex(&mut s, self.trace_id, 32);
        s.push('-');
        push_hex(&mut s, u128::from(span_id), 16);
        s.push('-');
        push_hex(&mut s, u128::from(self.flags), 2);
        HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

/// Parses version 00 of `traceparent`: `00-<32 hex>-<16 hex>-<2 hex>`; all-zero ids are invalid.
pub fn parse_traceparent(s: &str) -> Option<TraceContext> {
    let mut parts = s.trim().split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if version.len() != 2 || version == "ff" || trace.len() != 32 || parent.len() != 16 {
        return None;
    }
    if flags.len() != 2 || (version == "00" && parts.next().is_some()) {
        return None;
    }
    let lower_hex = |x: &str| {
        x.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    if ![version, trace, parent, flags].iter().all(|x| lower_hex(x)) {
        return None;
    }
    let trace_id = u128::from_str_radix(trace, 16).ok()?;
    let parent_id = u64::from_str_radix(parent, 16).ok()?;
    if trace_id == 0 || parent_id == 0 {
        return None;
    }
    Some(TraceContext {
        trace_id,
        parent_id: Some(parent_id),
        flags: u8::from_str_radix(flags, 16).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_continues_a_trace() {
        let t =
            parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
        assert_eq!(t.trace_id, 0x4bf92f3577b34da6a3ce929d0e0e4736);
        assert_eq!(t.parent_id, Some(0x00f067aa0ba902b7));
        assert_eq!(
            t.child_header(0xabc).to_str().unwrap(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000abc-01"
        );
    }

    #[test]
    fn rejects_malformed_headers() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            assert!(parse_traceparent(bad).is_none(), "{bad}");
        }
        let fresh = TraceContext::from_header(Some(&HeaderValue::from_static("junk")));
        assert_ne!(fresh.trace_id, 0);
        assert_eq!(fresh.parent_id, None);
    }

    #[test]
    fn time_ordered_ids_sort_by_time_and_differ() {
        let a = time_ordered();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = time_ordered();
        assert!(b > a && b >> 80 > a >> 80);
        assert_ne!(time_ordered(), time_ordered());
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis();
        assert!(now_ms - (b >> 80) < 1000);
    }

    #[test]
    fn hex_matches_the_formatter() {
        for v in [
            0u128,
            1,
            0xabc,
            u128::MAX,
            0x4bf92f3577b34da6a3ce929d0e0e4736,
        ] {
            assert_eq!(hex128(v), format!("{v:032x}"));
            assert_eq!(hex64(v as u64), format!("{:016x}", v as u64));
        }
    }

    #[test]
    fn request_ids() {
        let id = new_request_id();
        assert_eq!(id.len(), 32);
        assert_ne!(id, new_request_id());
        assert!(accept_request_id(&HeaderValue::from_static("req-123")));
        assert!(!accept_request_id(&HeaderValue::from_static("has space")));
    }
}
