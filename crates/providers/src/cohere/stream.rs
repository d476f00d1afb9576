//! Cohere v2 chat stream events → OpenAI chat completion chunks.

use super::{finish_reason, usage};
use crate::chunks::{parse_event, Chunks};
use crate::format::StreamError;
use serde_json::{json, Value};

/// Per-stream state.
#[derive(Debug)]
pub struct ChunkTranslator {
    chunks: Chunks,
    /// Tool calls started so far; Cohere's deltas continue the latest one.
    calls: u64,
}

impl ChunkTranslator {
    pub fn new(created: u64, include_usage: bool, model: &str) -> Self {
        let mut chunks = Chunks::new(created, include_usage);
        chunks.model = json!(model);
        Self { chunks, calls: 0 }
    }

    /// Translates one event's `data` (events name their `type` inside it too).
    pub fn on_data(&mut self, data: &str) -> Result<Vec<String>, StreamError> {
        let ev = parse_event(data)?;
        let msg = ev.pointer("/delta/message").unwrap_or(&Value::Null);
        let mut out = Vec::new();
        let c = &mut self.chunks;
        match ev.get("type").and_then(Value::as_str) {
            Some("message-start") => {
                c.id = ev
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                out.push(c.role(0));
            }
            Some("content-delta") => {
                let content = msg.get("content").unwrap_or(&Value::Null);
                if let Some(t) = content.get("text").and_then(Value::as_str) {
                    out.push(c.text(0, t));
                } else if let Some(t) = content.get("thinking").and_then(Value::as_str) {
                    out.push(c.reasoning(0, t));
                }
            }
            Some("tool-plan-delta") => {
                if let Some(t) = msg.get("tool_plan").and_then(Value::as_str) {
                    out.push(c.reasoning(0, t));
                }
            }
            Some("tool-call-start") => {
                let call = msg.get("tool_calls").unwrap_or(&Value::Null);
                let args = call
                    .pointer("/function/arguments")
                    .cloned()
                    .unwrap_or(json!(""));
                let name = call.pointer("/function/name").unwrap_or(&Value::Null);
                out.extend(c.call_start(0, self.calls, &call["id"], name, &args));
                self.calls += 1;
            }
            Some("tool-call-delta") => {
                let args = msg.pointer("/tool_calls/function/arguments");
                if let Some(a) = args.and_then(Value::as_str) {
                    out.push(c.call_arguments(0, self.calls.saturating_sub(1), a));
                }
            }
            Some("message-end") => {
                let d = ev.get("delta").unwrap_or(&Value::Null);
                let reason = d.get("finish_reason").and_then(Value::as_str);
                if matches!(reason, Some("ERROR" | "TIMEOUT")) {
                    let msg = d
                        .get("error")
                        .and_then(Value::as_str)
                        .unwrap_or("the provider ended the answer with an error");
                    return Err(("api_error".to_owned(), msg.to_owned()));
                }
                out.push(c.finish(0, finish_reason(reason)));
                c.end(usage(d.get("usage").unwrap_or(&Value::Null)), &mut out);
            }
            // content-start/end, tool-call-end, citation events and debug carry nothing new.
            _ => {}
        }
        Ok(out)
    }
}
