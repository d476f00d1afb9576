#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::apply::{scan_answer, Guarded};
use crate::policy::{Policy, PolicySet};
use std::sync::Arc;

fn guarded(policies: Value) -> Guarded {
    let policies = policies
        .as_array()
        .unwrap()
        .iter()
        .map(|p| Arc::new(Policy::build(serde_json::from_value(p.clone()).unwrap()).unwrap()))
        .collect();
    Guarded {
        set: PolicySet { policies },
        ..Guarded::default()
    }
}

fn chat_stream(pieces: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    let head = json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m"});
    let mut role = head.clone();
    role["choices"] =
        json!([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]);
    out.extend(frame(None, &role));
    for p in pieces {
        let mut v = head.clone();
        v["choices"] = json!([{"index": 0, "delta": {"content": p}, "finish_reason": null}]);
        out.extend(frame(None, &v));
    }
    let mut fin = head.clone();
    fin["choices"] = json!([{"index": 0, "delta": {}, "finish_reason": "stop"}]);
    out.extend(frame(None, &fin));
    out.extend_from_slice(b"data: [DONE]\n\n");
    out
}

/// The text a chat stream carries, and its finish reason.
fn read_chat(bytes: &[u8]) -> (String, Option<String>, bool) {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let mut content = String::new();
    let mut finish = None;
    let mut done = false;
    for ev in text.split("\n\n").filter(|e| !e.is_empty()) {
        let data = ev.strip_prefix("data: ").unwrap();
        if data == "[DONE]" {
            done = true;
            continue;
        }
        let v: Value = serde_json::from_str(data).unwrap();
        let c = &v["choices"][0];
        if let Some(t) = c["delta"]["content"].as_str() {
            content.push_str(t);
        }
        if let Some(f) = c["finish_reason"].as_str() {
            finish = Some(f.to_owned());
        }
    }
    (content, finish, done)
}

/// Feeds `bytes` to a guard in chunks cut at `cuts`.
fn run(g: &mut Guarded, hold: HoldBack, bytes: &[u8], cuts: &[usize]) -> (Vec<u8>, Option<Denied>) {
    let mut guard = StreamGuard::new(g, Shape::Chat, hold).unwrap();
    let mut out = Vec::new();
    let mut at = 0;
    let mut denied = None;
    for &c in cuts.iter().chain(std::iter::once(&bytes.len())) {
        let c = c.clamp(at, bytes.len());
        let fed = guard.feed(g, &bytes[at..c]);
        out.extend(fed.bytes);
        denied = denied.or(fed.denied);
        at = c;
    }
    let fed = guard.finish(g);
    out.extend(fed.bytes);
    (out, denied.or(fed.denied))
}

const POLICIES: &str = r#"[
  {"id": "mask", "action": "redact", "stages": ["output"],
   "checks": [{"check": "regex_redact", "patterns": [{"label": "account", "pattern": "ACC-\\d{4}"}], "max_match": 16}]},
  {"id": "stop", "action": "deny", "stages": ["output"], "refusal": "Withheld.",
   "checks": [{"check": "contains", "words": ["launch code"]}]}
]"#;

#[test]
fn a_redaction_split_across_deltas_is_masked_before_it_is_sent() {
    let mut g = guarded(serde_json::from_str(POLICIES).unwrap());
    let bytes = chat_stream(&["Your acc", "ount is AC", "C-12", "34 and ", "ACC-5678."]);
    let (out, denied) = run(&mut g, HoldBack::Window, &bytes, &[]);
    assert!(denied.is_none());
    let (text, finish, done) = read_chat(&out);
    assert_eq!(text, "Your account is [ACCOUNT] and [ACCOUNT].");
    assert_eq!((finish.as_deref(), done), (Some("stop"), true));
    assert!(!String::from_utf8_lossy(&out).contains("ACC-"));
    // The verdicts are the whole answer's.
    let fired: Vec<&str> = g
        .verdicts
        .iter()
        .filter(|v| v.fired)
        .map(|v| v.policy.as_str())
        .collect();
    assert_eq!(fired, vec!["mask"]);
}

#[test]
fn a_deny_ends_the_stream_with_the_refusal_before_the_text_goes_out() {
    let mut g = guarded(serde_json::from_str(POLICIES).unwrap());
    let bytes = chat_stream(&["The launch", " code is 0000", " and more"]);
    let (out, denied) = run(&mut g, HoldBack::Window, &bytes, &[]);
    assert_eq!(denied.as_ref().map(|d| d.policy.as_str()), Some("stop"));
    let (text, finish, done) = read_chat(&out);
    assert!(!text.contains("launch code"), "{text}");
    assert!(text.ends_with("Withheld."), "{text}");
    assert_eq!((finish.as_deref(), done), (Some("content_filter"), true));
}

/// Providers may end SSE lines in CRLF (or CR); a passed-through stream is read event by event
/// all the same: the deny comes before the text, and a call-out reads the whole answer.
#[test]
fn streams_whose_lines_end_in_crlf_or_cr_are_checked_too() {
    let lf = chat_stream(&["The launch", " code is 0000", " and more"]);
    for eol in ["\r\n", "\r"] {
        let text = String::from_utf8(lf.clone()).unwrap().replace('\n', eol);
        let bytes = text.into_bytes();
        // Split inside a CRLF too.
        let cut = bytes
            .windows(2)
            .position(|w| w == b"\r\n")
            .map_or(0, |i| i + 1);
        let mut g = guarded(serde_json::from_str(POLICIES).unwrap());
        let (out, denied) = run(&mut g, HoldBack::Window, &bytes, &[cut]);
        assert_eq!(
            denied.as_ref().map(|d| d.policy.as_str()),
            Some("stop"),
            "{eol:?}"
        );
        let out = String::from_utf8(out).unwrap();
        assert!(!out.contains("launch code"), "{eol:?}: {out}");
        assert_eq!(
            rebuild(Shape::Chat, &bytes)["choices"][0]["message"]["content"],
            "The launch code is 0000 and more",
            "{eol:?}"
        );
    }
}

#[test]
fn whole_hold_back_sends_nothing_until_checked_and_none_sends_at_once() {
    let mut g = guarded(serde_json::from_str(POLICIES).unwrap());
    let bytes = chat_stream(&["ok ", "ACC-1111"]);
    let mut guard = StreamGuard::new(&g, Shape::Chat, HoldBack::Whole).unwrap();
    let cut = bytes.len() - 40;
    let first = guard.feed(&mut g, &bytes[..cut]);
    assert!(first.bytes.is_empty());
    let rest = guard.feed(&mut g, &bytes[cut..]);
    let (text, finish, done) = read_chat(&rest.bytes);
    assert_eq!(
        (text.as_str(), finish.as_deref(), done),
        ("ok [ACCOUNT]", Some("stop"), true)
    );
    let mut g = guarded(serde_json::from_str(POLICIES).unwrap());
    let (out, _) = run(&mut g, HoldBack::None, &bytes, &[]);
    assert_eq!(read_chat(&out).0, "ok ACC-1111");
}

/// For random texts with findings, split at random points and fed in random chunks, the
/// streamed text equals the unstreamed answer's redacted text, and the stream is denied
/// exactly when the whole answer is.
#[test]
fn streams_split_anywhere_get_the_whole_answers_verdict_and_text() {
    let words = [
        "ACC-1234",
        "ACC-99",
        "account",
        "é",
        "日本",
        "launch",
        "code",
        "launch code",
        " ",
        "\n",
        "ok",
        "AC",
        "C-",
        "5678",
    ];
    split_anywhere(POLICIES, &words, 30, 15, 400);
}

/// Word lists and topics read the words around a finding (a word's edges, a name, a negation,
/// the sentence): cut anywhere, a stream still gets the whole answer's verdict and text.
#[test]
fn word_lists_and_topics_streamed_get_the_whole_answers_verdict_and_text() {
    let policies = r#"[
      {"id": "mask", "action": "redact", "stages": ["output"],
       "checks": [{"check": "profanity"}]},
      {"id": "stop", "action": "deny", "stages": ["output"], "refusal": "Withheld.",
       "checks": [{"check": "banned_topics", "window": 12, "topics": [{"name": "dosing",
         "terms": ["warfarin"],
         "phrases": [{"text": "what dose", "weight": 0.5}, {"text": "should I take", "weight": 0.5}]}]}]}
    ]"#;
    let words = [
        "shit",
        "mi",
        "s.h.i.t",
        "s",
        "Dick",
        "Smith",
        "Moby",
        "sh1t",
        "!",
        "ass",
        "assess",
        "what dose",
        "of",
        "warfarin",
        "should I take",
        "never",
        "study",
        "I",
        ".",
        ",",
        "\"",
        "in 1954",
        "\n",
        " ",
        "x",
        "é",
    ];
    split_anywhere(policies, &words, 200, 16, 200);
}

/// Random texts of up to `most` of `words` against `policies` (a redact policy `mask` and a
/// deny policy `stop`), split at random points and fed in random chunks.
fn split_anywhere(policies: &str, words: &[&str], most: usize, seed: u64, rounds: usize) {
    let mut rng = fastrand::Rng::with_seed(seed);
    for round in 0..rounds {
        let n = rng.usize(1..most);
        let text: String = (0..n)
            .map(|_| words[rng.usize(..words.len())])
            .collect::<Vec<_>>()
            .join(if rng.bool() { " " } else { "" });
        // Deltas cut at random char boundaries.
        let bounds: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(text.len()))
            .collect();
        let mut pieces = Vec::new();
        let mut k = 0;
        while k + 1 < bounds.len() {
            let next = (k + rng.usize(1..=6)).min(bounds.len() - 1);
            pieces.push(text[bounds[k]..bounds[next]].to_owned());
            k = next;
        }
        let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
        let bytes = chat_stream(&refs);
        let cuts: Vec<usize> = {
            let mut c: Vec<usize> = (0..rng.usize(0..8))
                .map(|_| rng.usize(0..bytes.len()))
                .collect();
            c.sort_unstable();
            c
        };
        // The unstreamed answer.
        let mut whole_g = guarded(serde_json::from_str(policies).unwrap());
        let answer = json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]});
        let whole = scan_answer(&mut whole_g, "chat.completions", &answer);
        let whole_text = whole.rewritten.as_ref().map_or(text.clone(), |v| {
            v["choices"][0]["message"]["content"]
                .as_str()
                .unwrap()
                .to_owned()
        });
        for hold in [HoldBack::Window, HoldBack::Whole] {
            let mut g = guarded(serde_json::from_str(policies).unwrap());
            let (out, denied) = run(&mut g, hold, &bytes, &cuts);
            let (streamed, finish, _) = read_chat(&out);
            let whole_denied = whole.report.action == Some(Action::Deny);
            assert_eq!(
                denied.is_some(),
                whole_denied,
                "round {round} {hold:?}: {text:?} {pieces:?}"
            );
            if whole_denied {
                assert_eq!(finish.as_deref(), Some("content_filter"));
                // What went out before the refusal is the masked answer up to, never into, the
                // first finding that denies it.
                let prefix = streamed.strip_suffix("Withheld.").unwrap();
                let first = whole
                    .report
                    .verdicts
                    .iter()
                    .filter(|v| v.policy == "stop" && v.fired)
                    .flat_map(|v| v.spans.iter().map(|s| s[1]))
                    .min()
                    .unwrap();
                let masks: Vec<crate::redact::Mask> = whole.report.masks[0]
                    .iter()
                    .filter(|m| m.range.end <= first)
                    .cloned()
                    .collect();
                let allowed = crate::redact::apply(&text[..first], &masks, None);
                assert!(
                    allowed.starts_with(prefix),
                    "round {round} {hold:?}: {prefix:?} vs {allowed:?}"
                );
            } else {
                assert_eq!(
                    streamed, whole_text,
                    "round {round} {hold:?}: {text:?} {pieces:?}"
                );
                let fired = |v: &[crate::Verdict]| {
                    v.iter()
                        .filter(|v| v.fired)
                        .map(|v| v.policy.clone())
                        .collect::<Vec<_>>()
                };
                assert_eq!(fired(&g.verdicts), fired(&whole_g.verdicts));
            }
        }
    }
}

/// A cue before a window's start (the "study" that makes a sentence a report, the letters
/// before a word) must not be lost when a stream's window starts just after it: the verdict
/// stays the whole answer's.
#[test]
fn a_window_starting_after_a_cue_does_not_fire_where_the_whole_does_not() {
    let policies = r#"[
      {"id": "stop", "action": "deny", "stages": ["output"], "refusal": "Withheld.",
       "checks": [{"check": "banned_topics", "window": 12, "topics": [{"name": "dosing",
         "terms": ["warfarin"],
         "phrases": [{"text": "what dose", "weight": 0.5}]}]}]}
    ]"#;
    let cut_after_cue = (
        policies,
        "The study asked what dose of warfarin patients take.",
        "The study",
    );
    // The same for a word's start: "shit" in "mishit" is not a word.
    let cut_in_word = (
        r#"[{"id": "stop", "action": "deny", "stages": ["output"], "refusal": "Withheld.",
            "checks": [{"check": "profanity"}]}]"#,
        "A mishit ball.",
        "A mi",
    );
    for (policies, head, before) in [cut_after_cue, cut_in_word] {
        let g = guarded(serde_json::from_str(policies).unwrap());
        let guard = StreamGuard::new(&g, Shape::Chat, HoldBack::Window).unwrap();
        let w = guard.window.unwrap();
        let text = format!("{head}{}", " ok".repeat(2 * w));
        let whole = scan_answer(
            &mut guarded(serde_json::from_str(policies).unwrap()),
            "chat.completions",
            &json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]}),
        );
        assert_ne!(whole.report.action, Some(Action::Deny));
        // The first delta ends where the next scan's window starts right after `before`.
        let cut = before.len() + 2 * w;
        let mut g = guarded(serde_json::from_str(policies).unwrap());
        let (out, denied) = run(
            &mut g,
            HoldBack::Window,
            &chat_stream(&[&text[..cut], &text[cut..cut + 1], &text[cut + 1..]]),
            &[],
        );
        assert!(denied.is_none(), "{head}: {denied:?}");
        assert_eq!(read_chat(&out).0, text);
    }
}

#[test]
fn a_stream_is_rebuilt_whole_and_refused_after_the_fact() {
    let sse = chat_stream(&["Hel", "lo the", "re"]);
    let whole = rebuild(Shape::Chat, &sse);
    assert_eq!(whole["choices"][0]["message"]["content"], "Hello there");
    let located = crate::extract::answer_texts("chat.completions", &whole);
    assert_eq!(located.len(), 1);
    assert_eq!(located[0].pointer, "/choices/0/message/content");
    let out = String::from_utf8(refused(Shape::Chat, &sse, Some("No."))).unwrap();
    assert!(!out.contains("Hel"), "{out}");
    assert!(out.contains("\"role\":\"assistant\""), "{out}");
    assert!(
        out.contains("\"content\":\"No.\"") && out.contains("content_filter"),
        "{out}"
    );
    assert!(out.ends_with("data: [DONE]\n\n"), "{out}");
    // Without a refusal: only the head; the server adds its error event.
    let head = String::from_utf8(refused(Shape::Chat, &sse, None)).unwrap();
    assert!(
        head.contains("\"role\"") && !head.contains("[DONE]"),
        "{head}"
    );
    // Messages: the text block and the refusal's stop reason.
    let mut m = Vec::new();
    m.extend(frame(
        Some("message_start"),
        &json!({"type": "message_start", "message": {"id": "m1"}}),
    ));
    m.extend(frame(Some("content_block_start"), &json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})));
    for t in ["Good ", "day"] {
        m.extend(frame(Some("content_block_delta"), &json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}})));
    }
    m.extend(frame(
        Some("content_block_stop"),
        &json!({"type": "content_block_stop", "index": 0}),
    ));
    m.extend(frame(
        Some("message_delta"),
        &json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}}),
    ));
    assert_eq!(
        rebuild(Shape::Messages, &m)["content"][0]["text"],
        "Good day"
    );
    let out = String::from_utf8(refused(Shape::Messages, &m, Some("No."))).unwrap();
    assert!(
        out.starts_with("event: message_start") && !out.contains("Good"),
        "{out}"
    );
    assert!(out.contains("\"stop_reason\":\"refusal\""), "{out}");
}
