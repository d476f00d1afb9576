//! Anthropic Messages SSE events → OpenAI chat completion chunks, one event at a time.

use super::finish_reason;
use super::response::usage;
use crate::chunks::Chunks;
use serde_json::{json, Value};

/// What one upstream event turns into.
#[derive(Debug, PartialEq)]
pub enum Out {
    /// `data:` payloads to send, in order (JSON chunks, or `[DONE]`).
    Data(Vec<String>),
    /// The upstream reported an error mid-stream: (error type, message).
    Error(String, String),
}

/// Per-stream state: the chunk writer and the usage seen so far.
#[derive(Debug)]
pub struct ChunkTranslator {
    chunks: Chunks,
    input_usage: Value,
    output_tokens: u64,
    /// The thinking block being streamed: its text and signature so far.
    thinking: Option<(String, String)>,
}

impl ChunkTranslator {
    pub fn new(created: u64, include_usage: bool) -> Self {
        Self {
            chunks: Chunks::new(created, include_usage),
            input_usage: Value::Null,
            output_tokens: 0,
            thinking: None,
        }
    }

    /// Translates one event (`event` name and parsed `data`).
    pub fn translate(&mut self, event: &str, data: &Value) -> Out {
        let mut out = Vec::new();
        let index = data.get("index").and_then(Value::as_u64).unwrap_or(0);
        let c = &mut self.chunks;
        match event {
            "message_start" => {
                let m = data.get("message").unwrap_or(&Value::Null);
                c.id = m.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
                c.model = json!(m.get("model").and_then(Value::as_str).unwrap_or(""));
                self.input_usage = m.get("usage").cloned().unwrap_or(Value::Null);
                out.push(c.role(0));
            }
            "content_block_start" => {
                let block = data.get("content_block").unwrap_or(&Value::Null);
                match block.get("type").and_then(Value::as_str) {
                    Some("tool_use") => {
                        let (id, name) = (&block["id"], &block["name"]);
                        out.extend(c.call_start(0, index, id, name, &json!("")));
                    }
                    Some("thinking") => self.thinking = Some((String::new(), String::new())),
                    Some("redacted_thinking") => out.push(c.thinking_block(0, block.clone())),
                    _ => {}
                }
            }
            "content_block_delta" => {
                let d = data.get("delta").unwrap_or(&Value::Null);
                let s = |k: &str| d.get(k).and_then(Value::as_str);
                match (
                    d.get("type").and_then(Value::as_str),
                    s("text"),
                    s("thinking"),
                    s("partial_json"),
                ) {
                    (Some("text_delta"), Some(t), _, _) => out.push(c.text(0, t)),
                    (Some("thinking_delta"), _, Some(t), _) => {
                        if let Some((text, _)) = &mut self.thinking {
                            text.push_str(t);
                        }
                        out.push(c.reasoning(0, t));
                    }
                    (Some("signature_delta"), ..) => {
                        if let (Some((_, sig)), Some(s)) = (&mut self.thinking, s("signature")) {
                            sig.push_str(s);
                        }
                    }
                    (Some("input_json_delta"), _, _, Some(p)) => {
                        out.push(c.call_arguments(0, index, p));
                    }
                    _ => {}
                }
            }
            "content_block_stop" => {
                if let Some((text, signature)) = self.thinking.take() {
                    let block =
                        json!({"type": "thinking", "thinking": text, "signature": signature});
                    out.push(c.thinking_block(0, block));
                }
            }
            "message_delta" => {
                if let Some(n) = data.pointer("/usage/output_tokens").and_then(Value::as_u64) {
                    self.output_tokens = n;
                }
                let reason =
                    finish_reason(data.pointer("/delta/stop_reason").and_then(Value::as_str));
                out.push(c.finish(0, reason));
            }
            "message_stop" => {
                let mut u = self.input_usage.clone();
                if let Some(m) = u.as_object_mut() {
                    m.insert("output_tokens".into(), json!(self.output_tokens));
                }
                c.end(usage(&u), &mut out);
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
            // ping and future event types carry nothing for OpenAI callers.
            _ => {}
        }
        Out::Data(out)
    }
}
