//! Bedrock ConverseStream events (decoded from the binary event stream: the `:event-type` header
//! names each, the payload is JSON) → OpenAI chat completion chunks.
//!
//! Order: messageStart, then per block contentBlockStart (tool uses) / contentBlockDelta /
//! contentBlockStop, then messageStop (the stop reason), then metadata (usage), the last event.

use super::{error_type, finish_reason, usage};
use crate::chunks::{parse_event, truncated, Chunks};
use crate::format::StreamError;
use serde_json::{json, Value};

/// Per-stream state.
#[derive(Debug)]
pub struct ChunkTranslator {
    chunks: Chunks,
    stopped: bool,
    done: bool,
    /// The reasoning block being streamed: its text and signature so far.
    thinking: Option<(String, String)>,
}

impl ChunkTranslator {
    pub fn new(created: u64, include_usage: bool, id: &str, model: &str) -> Self {
        let mut chunks = Chunks::new(created, include_usage);
        chunks.id = id.to_owned();
        chunks.model = json!(model);
        Self {
            chunks,
            stopped: false,
            done: false,
            thinking: None,
        }
    }

    fn end(&mut self, u: &Value, out: &mut Vec<String>) {
        if !self.done {
            self.done = true;
            self.chunks.end(usage(u), out);
        }
    }

    /// Translates one event. Exceptions arrive as event `exception:<name>`.
    pub fn translate(&mut self, event: &str, data: &str) -> Result<Vec<String>, StreamError> {
        let v = parse_event(data)?;
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
        let c = &mut self.chunks;
        match event {
            "messageStart" => out.push(c.role(0)),
            "contentBlockStart" => {
                if let Some(t) = v.pointer("/start/toolUse") {
                    let (id, name) = (&t["toolUseId"], &t["name"]);
                    out.extend(c.call_start(0, index, id, name, &json!("")));
                }
            }
            "contentBlockDelta" => {
                let d = v.get("delta").unwrap_or(&Value::Null);
                let s = |p: &str| d.pointer(p).and_then(Value::as_str);
                if let Some(t) = s("/text") {
                    out.push(c.text(0, t));
                } else if let Some(a) = s("/toolUse/input") {
                    out.push(c.call_arguments(0, index, a));
                } else if let Some(r) = s("/reasoningContent/text") {
                    self.thinking.get_or_insert_default().0.push_str(r);
                    out.push(c.reasoning(0, r));
                } else if let Some(sig) = s("/reasoningContent/signature") {
                    self.thinking.get_or_insert_default().1.push_str(sig);
                } else if let Some(data) = s("/reasoningContent/redactedContent") {
                    let block = json!({"type": "redacted_thinking", "data": data});
                    out.push(c.thinking_block(0, block));
                }
            }
            "contentBlockStop" => {
                if let Some((text, signature)) = self.thinking.take() {
                    if !signature.is_empty() {
                        let block =
                            json!({"type": "thinking", "thinking": text, "signature": signature});
                        out.push(c.thinking_block(0, block));
                    }
                }
            }
            "messageStop" => {
                self.stopped = true;
                out.push(c.finish(
                    0,
                    finish_reason(v.get("stopReason").and_then(Value::as_str)),
                ));
            }
            "metadata" if self.stopped => {
                self.end(v.get("usage").unwrap_or(&Value::Null), &mut out);
            }
            // Anything new carries nothing for OpenAI callers.
            _ => {}
        }
        Ok(out)
    }

    /// The upstream closed the stream: `[DONE]` if the answer had stopped (usage, if the
    /// metadata event never came, is zero), else the truncation is an error.
    pub fn close(&mut self) -> Result<Vec<String>, StreamError> {
        if !self.stopped {
            return Err(truncated());
        }
        let mut out = Vec::new();
        self.end(&Value::Null, &mut out);
        Ok(out)
    }
}
