use super::*;

fn feed_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
    let mut p = SseParser::new();
    let mut out = Vec::new();
    for c in chunks {
        p.push(c);
        while let Some(e) = p.next_event() {
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
    assert!(p.next_event().is_none());
    assert_eq!(p.pending(), 13);
    p.push(b"\n");
    assert!(p.next_event().is_none());
    p.push(b"\n");
    assert_eq!(p.next_event().unwrap().data.as_deref(), Some("partial"));
    assert_eq!(p.pending(), 0);
}
