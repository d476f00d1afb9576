//! Anthropic Messages SSE events → OpenAI chat completion chunks, one event at a time.

use super::finish_reason;
use super::response::usage;
use crate::translate::JSON_TOOL;
use serde_json::{json, Value};
use std::collections::HashMap;

/// What one upstream event turns into.
#[derive(Debug, PartialEq)]
pub enum Out {
    /// `data:` payloads to send, in order (JSON chunks, or `[DONE]`).
    Data(Vec<String>),
    /// The upstream reported an error mid-stream: (error type, message).
    Error(String, String),
}

/// Per-stream state: ids, tool-call numbering and usage seen so far.
#[derive(Debug, Default)]
pub struct ChunkTranslator {
    id: String,
    model: String,
    created: u64,
    include_usage: bool,
    /// Anthropic content-block index → OpenAI tool_calls index.
    tools: HashMap<u64, usize>,
    /// Content-block index of the JSON-mode tool, whose input is the answer's text.
    json_block: Option<u64>,
    input_usage: Value,
    output_tokens: u64,
}

impl ChunkTranslator {
    pub fn new(created: u64, include_usage: bool) -> Self {
        Self {
            created,
            include_usage,
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

    /// Translates one event (`event` name and parsed `data`).
    pub fn translate(&mut self, event: &str, data: &Value) -> Out {
        let mut out = Vec::new();
        match event {
            "message_start" => {
                let m = data.get("message").unwrap_or(&Value::Null);
                self.id = m.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
                self.model = m
                    .get("model")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                self.input_usage = m.get("usage").cloned().unwrap_or(Value::Null);
                out.push(self.chunk(json!({"role": "assistant", "content": ""}), Value::Null));
            }
            "content_block_start" => {
                let block = data.get("content_block").unwrap_or(&Value::Null);
                let index = data.get("index").and_then(Value::as_u64).unwrap_or(0);
                let is_json = block.get("name").and_then(Value::as_str) == Some(JSON_TOOL);
                if block.get("type").and_then(Value::as_str) == Some("tool_use") && is_json {
                    self.json_block = Some(index);
                } else if block.get("type").and_then(Value::as_str) == Some("tool_use") {
                    let n = self.tools.len();
                    self.tools.insert(index, n);
                    out.push(self.chunk(
                        json!({"tool_calls": [{"index": n, "id": block.get("id"), "type": "function",
                            "function": {"name": block.get("name"), "arguments": ""}}]}),
                        Value::Null,
                    ));
                }
            }
            "content_block_delta" => {
                let d = data.get("delta").unwrap_or(&Value::Null);
                match d.get("type").and_then(Value::as_str) {
                    Some("text_delta") => {
                        out.push(self.chunk(json!({"content": d.get("text")}), Value::Null));
                    }
                    Some("thinking_delta") => {
                        out.push(
                            self.chunk(
                                json!({"reasoning_content": d.get("thinking")}),
                                Value::Null,
                            ),
                        );
                    }
                    Some("input_json_delta")
                        if self.json_block == data.get("index").and_then(Value::as_u64) =>
                    {
                        out.push(
                            self.chunk(json!({"content": d.get("partial_json")}), Value::Null),
                        );
                    }
                    Some("input_json_delta") => {
                        let index = data.get("index").and_then(Value::as_u64).unwrap_or(0);
                        let n = self.tools.get(&index).copied().unwrap_or(0);
                        out.push(self.chunk(
                            json!({"tool_calls": [{"index": n, "function": {"arguments": d.get("partial_json")}}]}),
                            Value::Null,
                        ));
                    }
                    _ => {}
                }
            }
            "message_delta" => {
                if let Some(n) = data.pointer("/usage/output_tokens").and_then(Value::as_u64) {
                    self.output_tokens = n;
                }
                let reason = match self.json_block {
                    Some(_) if self.tools.is_empty() => "stop",
                    _ => finish_reason(data.pointer("/delta/stop_reason").and_then(Value::as_str)),
                };
                out.push(self.chunk(json!({}), json!(reason)));
            }
            "message_stop" => {
                if self.include_usage {
                    let mut u = self.input_usage.clone();
                    if let Some(m) = u.as_object_mut() {
                        m.insert("output_tokens".into(), json!(self.output_tokens));
                    }
                    out.push(
                        json!({"id": self.id, "object": "chat.completion.chunk",
                            "created": self.created, "model": self.model,
                            "choices": [], "usage": usage(&u)})
                        .to_string(),
                    );
                }
                out.push("[DONE]".to_owned());
            }
            "error" => {
                let e = data.get("error").unwrap_or(&Value::Null);
                let kind = e.get("type").and_then(Value::as_str).unwrap_or("api_error");
                let msg = e
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("upstream error");
                return Out::Error(kind.to_owned(), msg.to_owned());
            }
            // ping, content_block_stop and future event types carry nothing for OpenAI callers.
            _ => {}
        }
        Out::Data(out)
    }
}
