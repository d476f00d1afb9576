use super::*;

fn feed_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
    let mut p = SseParser::new();
    let mut out = Vec::new();
    for c in chunks {
        p.push(c);
        while let Some(e) = p.next_event().unwrap() {
            out.push(e);
        }
    }
    out
}

#[test]
fn single_event_lf() {
    let ev = feed_all(&[b"data: {\"a\":1}\n\n"]);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].data.as_deref(), Some("{\"a\":1}"));
    assert_eq!(&ev[0].raw[..], b"data: {\"a\":1}\n\n");
}

#[test]
fn split_across_reads_byte_by_byte() {
    let input = b"event: message_start\ndata: {\"x\":true}\n\ndata: [DONE]\n\n";
    let chunks: Vec<&[u8]> = input.chunks(1).collect();
    let ev = feed_all(&chunks);
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[0].event.as_deref(), Some("message_start"));
    assert_eq!(ev[0].data.as_deref(), Some("{\"x\":true}"));
    assert_eq!(ev[1].data.as_deref(), Some("[DONE]"));
    let joined: Vec<u8> = ev.iter().flat_map(|e| e.raw.to_vec()).collect();
    assert_eq!(joined, input.to_vec());
}

#[test]
fn crlf_and_lone_cr_line_endings() {
    let ev = feed_all(&[b"data: a\r\n\r\ndata: b\r\rdata: c\n\n"]);
    let data: Vec<_> = ev.iter().map(|e| e.data.clone().unwrap()).collect();
    assert_eq!(data, vec!["a", "b", "c"]);
}

#[test]
fn crlf_split_between_cr_and_lf() {
    let ev = feed_all(&[b"data: a\r", b"\n\r", b"\ndata: b\r\n\r\n"]);
    assert_eq!(ev.len(), 2);
    assert_eq!(&ev[0].raw[..], b"data: a\r\n\r\n");
    assert_eq!(ev[1].data.as_deref(), Some("b"));
}

#[test]
fn comments_are_kept_raw_but_not_data() {
    let ev = feed_all(&[b": keep-alive\n\ndata: x\n: inline comment\n\n"]);
    assert_eq!(ev.len(), 2);
    assert!(ev[0].is_comment_only());
    assert_eq!(&ev[0].raw[..], b": keep-alive\n\n");
    assert_eq!(ev[1].data.as_deref(), Some("x"));
}

#[test]
fn multi_line_data_joins_with_newline() {
    let ev = feed_all(&[b"data: first\ndata:second\ndata\n\n"]);
    assert_eq!(ev[0].data.as_deref(), Some("first\nsecond\n"));
}

#[test]
fn incomplete_event_is_held() {
    let mut p = SseParser::new();
    p.push(b"data: partial");
    assert!(p.next_event().unwrap().is_none());
    assert_eq!(p.pending(), 13);
    p.push(b"\n");
    assert!(p.next_event().unwrap().is_none());
    p.push(b"\n");
    assert_eq!(
        p.next_event().unwrap().unwrap().data.as_deref(),
        Some("partial")
    );
    assert_eq!(p.pending(), 0);
}

#[test]
fn events_over_the_limit_are_refused_whole_or_still_arriving() {
    // Whole: 18 bytes against a limit of 16.
    let mut p = SseParser::with_limit(16);
    p.push(b"data: 0123456789\n\ndata: x\n\n");
    assert_eq!(p.next_event(), Err(SseError::TooLarge { limit: 16 }));
    assert_eq!(p.pending(), 0, "nothing is kept after the error");
    // Still arriving, without a line end: refused as soon as it passes the limit.
    let mut p = SseParser::with_limit(16);
    p.push(b"data: 0123456789");
    assert_eq!(p.next_event(), Ok(None));
    p.push(b"0");
    assert_eq!(p.next_event(), Err(SseError::TooLarge { limit: 16 }));
    // Many short lines add up too.
    let mut p = SseParser::with_limit(16);
    p.push(b"data: a\ndata: b\ndata: c\n");
    assert_eq!(p.next_event(), Err(SseError::TooLarge { limit: 16 }));
    // At the limit exactly is fine.
    let mut p = SseParser::with_limit(16);
    p.push(b"data: 01234567\n\n");
    assert_eq!(p.next_event().unwrap().unwrap().raw.len(), 16);
}

#[test]
fn a_truncated_last_event_is_dropped_and_reported() {
    let mut p = SseParser::new();
    p.push(b"data: 1\n\ndata: 2\n");
    p.close();
    assert_eq!(p.next_event().unwrap().unwrap().data.as_deref(), Some("1"));
    assert_eq!(
        p.next_event(),
        Err(SseError::Truncated { dropped: 8 }),
        "never completed with an invented blank line"
    );
    assert_eq!(p.next_event(), Ok(None));
    // A clean end leaves nothing to report.
    let mut p = SseParser::new();
    p.push(b"data: 1\n\n");
    p.close();
    assert!(p.next_event().unwrap().is_some());
    assert_eq!(p.next_event(), Ok(None));
}

#[test]
fn a_final_cr_ends_its_line_once_the_stream_has_ended() {
    let mut p = SseParser::new();
    p.push(b"data: a\r\r");
    assert_eq!(
        p.next_event(),
        Ok(None),
        "the last CR may be half of a CRLF"
    );
    p.close();
    assert_eq!(&p.next_event().unwrap().unwrap().raw[..], b"data: a\r\r");
}

#[test]
fn lines_that_are_not_sse_mark_the_event_malformed() {
    let ev = feed_all(&[
        b"data: {}\nid: 7\nretry: 10\n: note\nevent: x\ndata\n\n",
        b"\x01\x02garbage\n\n",
        b"data: \xff\xfe\n\n",
        b": \xff\n\n",
        b"<html><body>Bad gateway</body></html>\n\n",
        b"x-vendor-field: 1\ndata: {}\n\n",
        b"no colon at all\n\n",
    ]);
    let flags: Vec<bool> = ev.iter().map(|e| e.malformed).collect();
    assert_eq!(flags, [false, true, true, true, true, false, true]);
    assert_eq!(ev[1].data, None);
    assert_eq!(
        ev[5].data.as_deref(),
        Some("{}"),
        "unknown fields are ignored"
    );
    assert_eq!(ev[2].data.as_deref(), Some("\u{fffd}\u{fffd}"));
}

#[test]
fn one_huge_event_in_small_reads_is_searched_once() {
    let mut p = SseParser::with_limit(usize::MAX);
    let body = vec![b'x'; 1 << 20];
    p.push(b"data: ");
    for piece in body.chunks(100) {
        p.push(piece);
        assert_eq!(p.next_event(), Ok(None));
    }
    p.push(b"\n\n");
    let ev = p.next_event().unwrap().unwrap();
    assert_eq!(ev.raw.len(), (1 << 20) + 8);
    // Rescanning from the line's start on every read would be about 5 * 10^9 bytes here.
    assert!(p.work <= (1 << 20) + 8, "{} bytes searched", p.work);
}

/// Pieces of SSE that matter to the parser: line ends in every form, fields, comments, JSON,
/// `[DONE]`, bytes that are not UTF-8.
const FRAGMENTS: &[&[u8]] = &[
    b"data: ",
    b"data:",
    b"data",
    b"event: message_start",
    b"event:",
    b"id: 3",
    b"retry: 100",
    b": keep-alive",
    b":",
    b"\n",
    b"\n",
    b"\r",
    b"\r\n",
    b"\n\n",
    b"\r\r",
    b"{\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}",
    b"[DONE]",
    b"\"x\"",
    b" ",
    b"\xff",
    b"\xe2\x82",
    b"\xc3\xa9",
];

/// Every event of `reads` fed one after the other, then the error that ended them (after the
/// stream's close), as the relay consumes a parser: stop at the first error.
fn frame(reads: &[&[u8]], limit: usize) -> (Vec<SseEvent>, Option<SseError>, usize) {
    let mut p = SseParser::with_limit(limit);
    let mut out = Vec::new();
    let mut drain = |p: &mut SseParser| loop {
        match p.next_event() {
            Ok(Some(e)) => out.push(e),
            Ok(None) => return None,
            Err(e) => return Some(e),
        }
    };
    for r in reads {
        p.push(r);
        if let Some(e) = drain(&mut p) {
            return (out, Some(e), p.work);
        }
    }
    p.close();
    let err = drain(&mut p);
    (out, err, p.work)
}

#[test]
fn property_any_split_frames_like_one_read_and_never_panics() {
    use crate::testgen::{from_fragments, rng, split, CASES};
    for case in 0..CASES {
        let mut r = rng(case);
        let input = from_fragments(&mut r, FRAGMENTS, 60);
        let limit = if r.bool() {
            usize::MAX
        } else {
            r.usize(1..200)
        };
        let whole = frame(&[&input], limit);
        let reads = split(&mut r, &input);
        let pieces = frame(&reads, limit);
        assert_eq!(whole.0, pieces.0, "case {case}: {input:?} in {reads:?}");
        assert_eq!(whole.1, pieces.1, "case {case}: {input:?} in {reads:?}");
        // Each byte is searched once; a CR at the end of a read once more.
        assert!(
            pieces.2 <= input.len() + reads.len(),
            "case {case}: {} bytes searched for {} in {} reads",
            pieces.2,
            input.len(),
            reads.len()
        );
        // Nothing is lost or invented: the events' bytes are the input's, in order, up to the
        // end of the last event.
        if whole.1.is_none() {
            let joined: Vec<u8> = whole.0.iter().flat_map(|e| e.raw.to_vec()).collect();
            assert_eq!(joined, input, "case {case}");
        }
    }
}

#[test]
fn property_work_is_linear_for_adversarial_streams() {
    // Inputs that defeat a parser that rescans: one endless line, a CR at the end of every read,
    // many tiny events, a long event of many lines.
    let shapes: [(&[u8], usize); 4] =
        [(b"x", 64), (b"data: x\r", 9), (b"\n", 1), (b"data: y\n", 3)];
    for (unit, read) in shapes {
        let work = |n: usize| {
            let input = unit.repeat(n);
            let reads: Vec<&[u8]> = input.chunks(read).collect();
            frame(&reads, usize::MAX).2
        };
        let (small, large) = (work(1 << 14), work(1 << 17));
        assert!(
            large <= small * 8 + 64,
            "{unit:?}: {small} then {large} bytes searched for 8x the input"
        );
    }
}
