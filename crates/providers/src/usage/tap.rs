//! Reads the usage of an answer as it passes, without parsing every stream event: only events
//! whose text holds a `"usage"` key with a value other than `null` are parsed (OpenAI adds
//! `"usage":null` to every chunk once usage is asked for), so a long stream costs one parse,
//! not one per chunk.

use super::Usage;
use serde_json::Value;

/// The answer format the tap reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// OpenAI chat completions, completions and embeddings: `usage` at the top of the body or
    /// of the last stream chunk (`stream_options.include_usage`).
    Chat,
    /// OpenAI Responses: `usage` in the body, or in `response.completed`'s `response`.
    Responses,
    /// Anthropic Messages: `usage` in the body, or split over `message_start` (prompt) and
    /// `message_delta` (cumulative output).
    Anthropic,
}

/// Collects the usage of one answer.
#[derive(Debug, Clone)]
pub struct UsageTap {
    shape: Shape,
    usage: Option<Usage>,
}

impl UsageTap {
    pub fn new(shape: Shape) -> Self {
        UsageTap { shape, usage: None }
    }

    /// A whole JSON answer. Only the usage object is parsed: the last `"usage":` key that is not
    /// inside a string (top-level usage closes every format's body), so a large body (long
    /// completions, embeddings) is scanned, not parsed.
    pub fn body(&mut self, bytes: &[u8]) {
        let Some(u) = last_usage_object(bytes) else {
            return;
        };
        self.usage = Some(match self.shape {
            Shape::Chat => Usage::from_chat(&u),
            Shape::Responses => Usage::from_responses(&u),
            Shape::Anthropic => Usage::from_anthropic(&u),
        });
    }

    /// The `data:` payload of one stream event.
    pub fn event(&mut self, data: &[u8]) {
        if !carries_usage(data) {
            return;
        }
        let Ok(v) = serde_json::from_slice::<Value>(data) else {
            return;
        };
        match self.shape {
            Shape::Chat => {
                if v["usage"].is_object() {
                    self.usage = Some(Usage::from_chat(&v["usage"]));
                }
            }
            Shape::Responses => {
                let u = &v["response"]["usage"];
                if u.is_object() {
                    self.usage = Some(Usage::from_responses(u));
                }
            }
            Shape::Anthropic => match v["type"].as_str() {
                Some("message_start") if v["message"]["usage"].is_object() => {
                    self.usage = Some(Usage::from_anthropic(&v["message"]["usage"]));
                }
                Some("message_delta") if v["usage"].is_object() => {
                    let u = &v["usage"];
                    let mut now = self.usage.unwrap_or_default();
                    if let Some(out) = u["output_tokens"].as_u64() {
                        now.output = out;
                    }
                    // Newer streams repeat prompt counts here; each one given replaces its own.
                    let mut plain = now.input.saturating_sub(now.cached_input + now.cache_write);
                    if let Some(x) = u["input_tokens"].as_u64() {
                        plain = x;
                    }
                    if let Some(x) = u["cache_read_input_tokens"].as_u64() {
                        now.cached_input = x;
                    }
                    if let Some(x) = u["cache_creation_input_tokens"].as_u64() {
                        now.cache_write = x;
                    }
                    now.input = plain + now.cached_input + now.cache_write;
                    self.usage = Some(now);
                }
                _ => {}
            },
        }
    }

    /// What was read so far; `None` when the answer carried no usage.
    pub fn usage(&self) -> Option<Usage> {
        self.usage
    }
}

/// The object after the last `"usage":` key, skipping occurrences escaped inside strings.
fn last_usage_object(bytes: &[u8]) -> Option<Value> {
    const KEY: &[u8] = b"\"usage\"";
    let mut end = bytes.len();
    while let Some(at) = bytes[..end].windows(KEY.len()).rposition(|w| w == KEY) {
        end = at;
        if at > 0 && bytes[at - 1] == b'\\' {
            continue;
        }
        let rest = &bytes[at + KEY.len()..];
        let colon = rest.iter().position(|b| !b.is_ascii_whitespace())?;
        if rest[colon] != b':' {
            continue;
        }
        let mut values =
            serde_json::Deserializer::from_slice(&rest[colon + 1..]).into_iter::<Value>();
        if let Some(Ok(v)) = values.next() {
            if v.is_object() {
                return Some(v);
            }
        }
    }
    None
}

/// Whether `bytes` (JSON) may carry usage: a `"usage"` key whose value is not `null`. A
/// string that merely holds the word (escaped quotes) is let through: the parse decides.
pub fn carries_usage(bytes: &[u8]) -> bool {
    const KEY: &[u8] = b"\"usage\"";
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(KEY));
    for at in FINDER.find_iter(bytes) {
        let rest = &bytes[at + KEY.len()..];
        let mut i = 0;
        while rest.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if rest.get(i) != Some(&b':') {
            continue;
        }
        i += 1;
        while rest.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if !rest[i..].starts_with(b"null") {
            return true;
        }
    }
    false
}
