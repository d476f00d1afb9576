//! Cohere v2 chat stream events → OpenAI chat completion chunks.

use super::{finish_reason, usage};
use crate::format::StreamError;
use serde_json::{json, Value};

/// Per-stream state.
#[derive(Debug, Default)]
pub struct ChunkTranslator {
    created: u64,
    include_usage: bool,
    model: String,
    id: String,
    /// Tool calls started so far (the next OpenAI tool_calls index is this minus one).
    calls: usize,
}

impl ChunkTranslator {
    pub fn new(created: u64, include_usage: bool, model: &str) -> Self {
        Self {
            created,
            include_usage,
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

    /// Translates one event's `data` (events name their `type` inside it too).
    pub fn on_data(&mut self, data: &str) -> Result<Vec<String>, StreamError> {
        let ev: Value = serde_json::from_str(data).map_err(|e| {
            (
                "api_error".to_owned(),
                format!("upstream sent a malformed event: {e}"),
            )
        })?;
        let msg = ev.pointer("/delta/message").unwrap_or(&Value::Null);
        let mut out = Vec::new();
        match ev.get("type").and_then(Value::as_str) {
            Some("message-start") => {
                self.id = ev
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                out.push(self.chunk(json!({"role": "assistant", "content": ""}), Value::Null));
            }
            Some("content-delta") => {
                let c = msg.get("content").unwrap_or(&Value::Null);
                if let Some(t) = c.get("text").and_then(Value::as_str) {
                    out.push(self.chunk(json!({"content": t}), Value::Null));
                } else if let Some(t) = c.get("thinking").and_then(Value::as_str) {
                    out.push(self.chunk(json!({"reasoning_content": t}), Value::Null));
                }
            }
            Some("tool-plan-delta") => {
                if let Some(t) = msg.get("tool_plan").and_then(Value::as_str) {
                    out.push(self.chunk(json!({"reasoning_content": t}), Value::Null));
                }
            }
            Some("tool-call-start") => {
                let call = msg.get("tool_calls").unwrap_or(&Value::Null);
                let index = self.calls;
                self.calls += 1;
                out.push(self.chunk(
                    json!({"tool_calls": [{"index": index, "id": call.get("id"), "type": "function",
                        "function": {"name": call.pointer("/function/name"),
                            "arguments": call.pointer("/function/arguments").cloned().unwrap_or(json!(""))}}]}),
                    Value::Null,
                ));
            }
            Some("tool-call-delta") => {
                let args = msg.pointer("/tool_calls/function/arguments");
                if let Some(a) = args.and_then(Value::as_str) {
                    let index = self.calls.saturating_sub(1);
                    out.push(self.chunk(
                        json!({"tool_calls": [{"index": index, "function": {"arguments": a}}]}),
                        Value::Null,
                    ));
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
                out.push(self.chunk(json!({}), json!(finish_reason(reason))));
                if self.include_usage {
                    out.push(
                        json!({"id": self.id, "object": "chat.completion.chunk",
                            "created": self.created, "model": self.model, "choices": [],
                            "usage": usage(d.get("usage").unwrap_or(&Value::Null))})
                        .to_string(),
                    );
                }
                out.push("[DONE]".to_owned());
            }
            // content-start/end, tool-call-end, citation events and debug carry nothing new.
            _ => {}
        }
        Ok(out)
    }
}
