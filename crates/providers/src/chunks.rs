//! The OpenAI chat-completion chunks every stream translator writes: one builder, so each
//! translator says *what* happened (a role, text, reasoning, a tool call starting or growing,
//! the finish, the usage) and the chunk's shape is written in one place.

use crate::format::StreamError;
use crate::translate::JSON_TOOL;
use serde_json::{json, Value};
use std::collections::HashMap;

/// One streamed answer's chunk writer: the answer's id, model and creation time, whether the
/// caller gets a usage chunk, and the numbering of tool calls.
#[derive(Debug, Default)]
pub struct Chunks {
    pub id: String,
    /// The model as the upstream names it (a string, or null until known).
    pub model: Value,
    created: u64,
    include_usage: bool,
    /// Upstream content block (or call) key → OpenAI `tool_calls` index, per choice.
    calls: HashMap<(u64, u64), usize>,
    /// Tool calls started, per choice.
    started: HashMap<u64, usize>,
    /// The block carrying the JSON-mode tool's input, which is the answer's text.
    json_block: Option<u64>,
}

impl Chunks {
    pub fn new(created: u64, include_usage: bool) -> Self {
        Self {
            created,
            include_usage,
            model: Value::String(String::new()),
            ..Self::default()
        }
    }

    fn chunk(&self, choice: u64, delta: Value, finish: Value) -> String {
        json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model,
            "choices": [{"index": choice, "delta": delta, "logprobs": null, "finish_reason": finish}],
        })
        .to_string()
    }

    /// The first chunk of a choice.
    pub fn role(&self, choice: u64) -> String {
        self.chunk(
            choice,
            json!({"role": "assistant", "content": ""}),
            Value::Null,
        )
    }

    pub fn text(&self, choice: u64, text: &str) -> String {
        self.chunk(choice, json!({ "content": text }), Value::Null)
    }

    /// Reasoning text (OpenAI-compatible hosts' `reasoning_content`).
    pub fn reasoning(&self, choice: u64, text: &str) -> String {
        self.chunk(choice, json!({ "reasoning_content": text }), Value::Null)
    }

    /// A whole thinking block with its signature (or a redacted one), once it is complete, for
    /// the caller to send back on the assistant message (`thinking_blocks`, as LiteLLM does).
    pub fn thinking_block(&self, choice: u64, block: Value) -> String {
        self.chunk(choice, json!({ "thinking_blocks": [block] }), Value::Null)
    }

    /// A tool call starts in upstream block `block`: its id, name and the first arguments.
    /// The JSON-mode tool is not a call: its input becomes the answer's text (`None` here).
    pub fn call_start(
        &mut self,
        choice: u64,
        block: u64,
        id: &Value,
        name: &Value,
        arguments: &Value,
    ) -> Option<String> {
        if name.as_str() == Some(JSON_TOOL) {
            self.json_block = Some(block);
            return None;
        }
        let started = self.started.entry(choice).or_insert(0);
        let n = *started;
        *started += 1;
        self.calls.insert((choice, block), n);
        Some(self.chunk(
            choice,
            json!({"tool_calls": [{"index": n, "id": id, "type": "function",
                "function": {"name": name, "arguments": arguments}}]}),
            Value::Null,
        ))
    }

    /// More arguments for the call started in `block` (or more answer text, for the JSON-mode
    /// tool's block).
    pub fn call_arguments(&self, choice: u64, block: u64, arguments: &str) -> String {
        if self.json_block == Some(block) {
            return self.text(choice, arguments);
        }
        let n = self.calls.get(&(choice, block)).copied().unwrap_or(0);
        self.chunk(
            choice,
            json!({"tool_calls": [{"index": n, "function": {"arguments": arguments}}]}),
            Value::Null,
        )
    }

    /// Whether a choice has made tool calls.
    pub fn called(&self, choice: u64) -> bool {
        self.started.get(&choice).is_some_and(|n| *n > 0)
    }

    /// The last chunk of a choice. An answer given through the JSON-mode tool alone stopped,
    /// whatever the upstream said (it stopped to "call" that tool).
    pub fn finish(&self, choice: u64, reason: &str) -> String {
        let reason = if self.json_block.is_some() && !self.called(choice) {
            "stop"
        } else {
            reason
        };
        self.chunk(choice, json!({}), json!(reason))
    }

    /// The usage chunk (already in OpenAI's shape), when the caller asked for one, then
    /// `[DONE]`.
    pub fn end(&self, usage: Value, out: &mut Vec<String>) {
        if self.include_usage {
            out.push(
                json!({"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                    "model": self.model, "choices": [], "usage": usage})
                .to_string(),
            );
        }
        out.push("[DONE]".to_owned());
    }
}

/// An event's data as JSON, or the stream error for a malformed one.
pub fn parse_event(data: &str) -> Result<Value, StreamError> {
    serde_json::from_str(data).map_err(|e| {
        (
            "api_error".to_owned(),
            format!("upstream sent a malformed event: {e}"),
        )
    })
}

/// The stream error for an upstream that closed before its final event.
pub fn truncated() -> StreamError {
    (
        "api_error".to_owned(),
        "the upstream stream closed before its final event".to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Value {
        serde_json::from_str(s).unwrap_or(Value::Null)
    }

    #[test]
    fn numbers_calls_per_choice_and_keeps_their_blocks() {
        let mut c = Chunks::new(7, true);
        c.id = "x".into();
        let a = c
            .call_start(0, 3, &json!("c1"), &json!("f"), &json!(""))
            .unwrap_or_default();
        let b = c
            .call_start(0, 5, &json!("c2"), &json!("g"), &json!("{"))
            .unwrap_or_default();
        let other = c
            .call_start(1, 3, &json!("c3"), &json!("h"), &json!(""))
            .unwrap_or_default();
        assert_eq!(
            parse(&a)["choices"][0]["delta"]["tool_calls"][0]["index"],
            0
        );
        assert_eq!(
            parse(&b)["choices"][0]["delta"]["tool_calls"][0]["index"],
            1
        );
        assert_eq!(parse(&other)["choices"][0]["index"], 1);
        assert_eq!(
            parse(&other)["choices"][0]["delta"]["tool_calls"][0]["index"],
            0
        );
        // Interleaved argument deltas land on their own calls.
        let d = parse(&c.call_arguments(0, 5, "\"a\":1}"));
        assert_eq!(d["choices"][0]["delta"]["tool_calls"][0]["index"], 1);
        let d = parse(&c.call_arguments(0, 3, "{}"));
        assert_eq!(d["choices"][0]["delta"]["tool_calls"][0]["index"], 0);
        assert_eq!(
            parse(&c.finish(0, "tool_calls"))["choices"][0]["finish_reason"],
            "tool_calls"
        );
    }

    #[test]
    fn the_json_mode_tool_is_the_answer_text() {
        let mut c = Chunks::new(7, false);
        assert!(c
            .call_start(0, 0, &json!("t"), &json!(JSON_TOOL), &json!(""))
            .is_none());
        let d = parse(&c.call_arguments(0, 0, "{\"a\""));
        assert_eq!(d["choices"][0]["delta"], json!({"content": "{\"a\""}));
        assert_eq!(
            parse(&c.finish(0, "tool_calls"))["choices"][0]["finish_reason"],
            "stop"
        );
        let mut out = Vec::new();
        c.end(json!({"total_tokens": 1}), &mut out);
        assert_eq!(out, ["[DONE]"], "no usage chunk unless asked for");
    }
}
