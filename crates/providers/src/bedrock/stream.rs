//! Bedrock ConverseStream events (decoded from the binary event stream: the `:event-type` header
//! names each, the payload is JSON) → OpenAI chat completion chunks.
//!
//! Order: messageStart, then per block contentBlockStart (tool uses) / contentBlockDelta /
//! contentBlockStop, then messageStop (the stop reason), then metadata (usage), the last event.

use super::{error_type, finish_reason, usage};
use crate::format::StreamError;
use crate::translate::JSON_TOOL;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Per-stream state.
#[derive(Debug, Default)]
pub struct ChunkTranslator {
    created: u64,
    include_usage: bool,
    id: String,
    model: String,
    /// contentBlockIndex → OpenAI tool_calls index.
    tools: HashMap<u64, usize>,
    /// contentBlockIndex of the JSON-mode tool, whose input is the answer's text.
    json_block: Option<u64>,
    stopped: bool,
    done: bool,
}

impl ChunkTranslator {
    pub fn new(created: u64, include_usage: bool, id: &str, model: &str) -> Self {
        Self {
            created,
            include_usage,
            id: id.to_owned(),
            model: model.to_owned(),
            ..Self::default()
        }
    }

    fn chunk(&self, delta: Value, finish: Value) -> String {
        json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        })
        .to_string()
    }

    fn end(&mut self, u: &Value, out: &mut Vec<String>) {
        if self.done {
            return;
        }
        self.done = true;
        if self.include_usage {
            out.push(
                json!({"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                    "model": self.model, "choices": [], "usage": usage(u)})
                .to_string(),
            );
        }
        out.push("[DONE]".to_owned());
    }

    /// Translates one event. Exceptions arrive as event `exception:<name>`.
    pub fn translate(&mut self, event: &str, data: &str) -> Result<Vec<String>, StreamError> {
        let v: Value = serde_json::from_str(data).map_err(|e| {
            (
                "api_error".to_owned(),
                format!("upstream sent a malformed event: {e}"),
            )
        })?;
        if let Some(name) = event
            .strip_prefix("exception:")
            .or_else(|| event.strip_prefix("error:"))
        {
            let msg = v
                .get("message")
                .or_else(|| v.get("Message"))
                .and_then(Value::as_str)
                .unwrap_or(name);
            return Err((error_type(name).to_owned(), msg.to_owned()));
        }
        let mut out = Vec::new();
        let index = v
            .get("contentBlockIndex")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        match event {
            "messageStart" => {
                out.push(self.chunk(json!({"role": "assistant", "content": ""}), Value::Null));
            }
            "contentBlockStart" => {
                let name = v.pointer("/start/toolUse/name").and_then(Value::as_str);
                if name == Some(JSON_TOOL) {
                    self.json_block = Some(index);
                } else if let Some(t) = v.pointer("/start/toolUse") {
                    let n = self.tools.len();
                    self.tools.insert(index, n);
                    out.push(self.chunk(
                        json!({"tool_calls": [{"index": n, "id": t.get("toolUseId"), "type": "function",
                            "function": {"name": t.get("name"), "arguments": ""}}]}),
                        Value::Null,
                    ));
                }
            }
            "contentBlockDelta" => {
                let d = v.get("delta").unwrap_or(&Value::Null);
                if let Some(t) = d.get("text").and_then(Value::as_str) {
                    out.push(self.chunk(json!({ "content": t }), Value::Null));
                } else if let (Some(a), true) = (
                    d.pointer("/toolUse/input").and_then(Value::as_str),
                    self.json_block == Some(index),
                ) {
                    out.push(self.chunk(json!({ "content": a }), Value::Null));
                } else if let Some(a) = d.pointer("/toolUse/input").and_then(Value::as_str) {
                    let n = self.tools.get(&index).copied().unwrap_or(0);
                    out.push(self.chunk(
                        json!({"tool_calls": [{"index": n, "function": {"arguments": a}}]}),
                        Value::Null,
                    ));
                } else if let Some(r) = d.pointer("/reasoningContent/text").and_then(Value::as_str)
                {
                    out.push(self.chunk(json!({ "reasoning_content": r }), Value::Null));
                }
            }
            "messageStop" => {
                self.stopped = true;
                let reason = match self.json_block {
                    Some(_) if self.tools.is_empty() => "stop",
                    _ => finish_reason(v.get("stopReason").and_then(Value::as_str)),
                };
                out.push(self.chunk(json!({}), json!(reason)));
            }
            "metadata" if self.stopped => {
                self.end(v.get("usage").unwrap_or(&Value::Null), &mut out);
            }
            // contentBlockStop and anything new carry nothing for OpenAI callers.
            _ => {}
        }
        Ok(out)
    }

    /// The upstream closed the stream: `[DONE]` if the answer had stopped (usage, if the
    /// metadata event never came, is zero), else the truncation is an error.
    pub fn close(&mut self) -> Result<Vec<String>, StreamError> {
        if !self.stopped {
            return Err((
                "api_error".to_owned(),
                "the upstream stream closed before its final event".to_owned(),
            ));
        }
        let mut out = Vec::new();
        self.end(&Value::Null, &mut out);
        Ok(out)
    }
}
