//! Bodies as stored in the request log: cut at the configured size and, with redaction on, with
//! every piece of message text replaced by `[redacted]` while the structure, model and
//! parameters stay readable.

use serde_json::Value;

/// Keys whose string values are what people and models wrote.
const TEXT_KEYS: &[&str] = &[
    "content",
    "text",
    "input",
    "prompt",
    "arguments",
    "instructions",
    "system",
    "output",
    "partial_json",
    "thinking",
    "refusal",
    "query",
    "documents",
    "reasoning_content",
    "delta",
];

pub const REDACTED: &str = "[redacted]";

fn redact_value(v: &mut Value, text_context: bool) {
    match v {
        Value::String(s) if text_context => *s = REDACTED.to_owned(),
        Value::Array(items) => {
            for i in items {
                redact_value(i, text_context);
            }
        }
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                redact_value(val, TEXT_KEYS.contains(&k.as_str()));
            }
        }
        _ => {}
    }
}

/// A JSON text with message text redacted; `None` when it is not JSON.
fn redact_json(text: &str) -> Option<String> {
    let mut v: Value = serde_json::from_str(text).ok()?;
    redact_value(&mut v, false);
    Some(v.to_string())
}

/// A body (JSON, or an SSE stream of JSON events) as stored.
pub fn stored(bytes: &[u8], max: usize, redact: bool) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = if redact {
        redact_text(&text)
    } else {
        text.into_owned()
    };
    cut(text, max)
}

fn redact_text(text: &str) -> String {
    if let Some(r) = redact_json(text) {
        return r;
    }
    // A stream: redact each `data:` line that holds JSON; other lines stay as they are.
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\r', '\n']);
        match body.strip_prefix("data:") {
            Some(data) => {
                out.push_str("data: ");
                match redact_json(data.trim_start()) {
                    Some(r) => out.push_str(&r),
                    // `[DONE]` stays; anything else that is not JSON (such as an event cut at
                    // the size limit) could hold text.
                    None if data.trim() == "[DONE]" => out.push_str("[DONE]"),
                    None => out.push_str(REDACTED),
                }
                out.push_str(&line[body.len()..]);
            }
            None if !body.is_empty() && !body.starts_with("event:") && !body.starts_with(':') => {
                // Not JSON, not SSE framing: nothing to tell apart, so nothing kept.
                out.push_str(REDACTED);
                out.push_str(&line[body.len()..]);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// `text` cut to at most `max` bytes, at a character boundary.
fn cut(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut at = max;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text.truncate(at);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_structure_and_settings() {
        let body = r#"{"model":"gpt-4o","temperature":0.2,"messages":[{"role":"user","content":"my secret"},{"role":"user","content":[{"type":"text","text":"also secret"}]}],"tools":[{"type":"function","function":{"name":"lookup"}}]}"#;
        let out: Value = serde_json::from_str(&stored(body.as_bytes(), 10_000, true)).unwrap();
        assert_eq!(out["model"], "gpt-4o");
        assert_eq!(out["temperature"], 0.2);
        assert_eq!(out["messages"][0]["role"], "user");
        assert_eq!(out["messages"][0]["content"], REDACTED);
        assert_eq!(out["messages"][1]["content"][0]["type"], "text");
        assert_eq!(out["messages"][1]["content"][0]["text"], REDACTED);
        assert_eq!(out["tools"][0]["function"]["name"], "lookup");
        assert!(!out.to_string().contains("secret"));
    }

    #[test]
    fn streams_are_redacted_event_by_event() {
        let sse = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"hidden\"}}\n\ndata: [DONE]\n\n";
        let out = stored(sse.as_bytes(), 10_000, true);
        assert!(!out.contains("hidden"), "{out}");
        assert!(out.contains("\"type\":\"text_delta\""), "{out}");
        assert!(out.contains("event: content_block_delta\n"), "{out}");
        assert!(out.contains("data: [DONE]\n"), "{out}");
        // Responses deltas, reasoning, and an event cut at the size limit.
        let more = "data: {\"type\":\"response.output_text.delta\",\"delta\":\"hidden\"}\n\ndata: {\"choices\":[{\"delta\":{\"reasoning_content\":\"hidden\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"hid";
        let out = stored(more.as_bytes(), 10_000, true);
        assert!(!out.contains("hid"), "{out}");
        assert!(out.contains("response.output_text.delta"), "{out}");
    }

    #[test]
    fn bodies_are_cut_at_a_character_boundary() {
        assert_eq!(stored("héllo".as_bytes(), 2, false), "h");
        assert_eq!(stored(b"hello", 10, false), "hello");
        assert_eq!(stored(b"plain words", 100, true), REDACTED);
    }
}
