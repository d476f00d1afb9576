//! Gemini `streamGenerateContent?alt=sse` events → OpenAI chat completion chunks.
//!
//! Every event is a whole GenerateContentResponse holding the next piece of each candidate;
//! function calls arrive whole. There is no end marker: the last event carries `finishReason`,
//! and the stream closes. The usage chunk and `[DONE]` are sent at that close (`finish`).

use super::response::completion_id;
use super::{finish_reason, tool_call_id, usage};
use crate::format::StreamError;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Per-stream state.
#[derive(Debug, Default)]
pub struct ChunkTranslator {
    created: u64,
    include_usage: bool,
    id: String,
    short_id: String,
    model: Value,
    /// Candidate index → function calls it has made so far (its next tool_calls index).
    calls: HashMap<u64, usize>,
    /// Candidates that have had their role chunk.
    started: Vec<u64>,
    total_calls: usize,
    usage: Value,
    /// Candidates that have had their finishReason.
    done: Vec<u64>,
    /// Set once every candidate started has finished.
    finished: bool,
}

impl ChunkTranslator {
    pub fn new(created: u64, include_usage: bool) -> Self {
        Self {
            created,
            include_usage,
            ..Self::default()
        }
    }

    fn chunk(&self, index: u64, delta: Value, finish: Value) -> String {
        json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model,
            "choices": [{"index": index, "delta": delta, "logprobs": null, "finish_reason": finish}],
        })
        .to_string()
    }

    /// Translates one event's `data`.
    pub fn on_data(&mut self, data: &str) -> Result<Vec<String>, StreamError> {
        let resp: Value = serde_json::from_str(data).map_err(|e| {
            (
                "api_error".to_owned(),
                format!("upstream sent a malformed event: {e}"),
            )
        })?;
        if let Some(err) = resp.get("error") {
            let kind = match err.get("status").and_then(Value::as_str) {
                Some("RESOURCE_EXHAUSTED") => "rate_limit_error",
                Some("UNAVAILABLE") => "overloaded_error",
                Some("INVALID_ARGUMENT" | "FAILED_PRECONDITION") => "invalid_request_error",
                _ => "api_error",
            };
            let msg = err
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("upstream error");
            return Err((kind.to_owned(), msg.to_owned()));
        }
        if self.id.is_empty() {
            self.id = completion_id(&resp);
            self.short_id = resp
                .get("responseId")
                .and_then(Value::as_str)
                .unwrap_or("0")
                .to_owned();
        }
        if let Some(m) = resp.get("modelVersion") {
            self.model = m.clone();
        }
        if let Some(u) = resp.get("usageMetadata") {
            self.usage = u.clone();
        }
        let mut out = Vec::new();
        let candidates = resp.get("candidates").and_then(Value::as_array);
        if candidates.is_none_or(|c| c.is_empty()) {
            if resp.pointer("/promptFeedback/blockReason").is_some() {
                self.start(0, &mut out);
                out.push(self.chunk(0, json!({}), json!("content_filter")));
                self.finished = true;
            }
            return Ok(out);
        }
        for (i, c) in candidates.into_iter().flatten().enumerate() {
            let index = c.get("index").and_then(Value::as_u64).unwrap_or(i as u64);
            self.start(index, &mut out);
            for part in c
                .pointer("/content/parts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(call) = part.get("functionCall") {
                    let n = self.calls.entry(index).or_insert(0);
                    let k = *n;
                    *n += 1;
                    let base = format!("call_{}_{}", self.short_id, self.total_calls);
                    self.total_calls += 1;
                    let sig = part.get("thoughtSignature").and_then(Value::as_str);
                    let args = call
                        .get("args")
                        .map_or_else(|| "{}".to_owned(), Value::to_string);
                    out.push(self.chunk(
                        index,
                        json!({"tool_calls": [{"index": k, "id": tool_call_id(&base, sig),
                            "type": "function",
                            "function": {"name": call.get("name"), "arguments": args}}]}),
                        Value::Null,
                    ));
                } else if let Some(t) = part.get("text").and_then(Value::as_str) {
                    if t.is_empty() {
                        continue;
                    }
                    let delta = if part.get("thought").and_then(Value::as_bool) == Some(true) {
                        json!({"reasoning_content": t})
                    } else {
                        json!({"content": t})
                    };
                    out.push(self.chunk(index, delta, Value::Null));
                }
            }
            if let Some(reason) = c.get("finishReason").and_then(Value::as_str) {
                let called = self.calls.get(&index).is_some_and(|n| *n > 0);
                out.push(self.chunk(index, json!({}), json!(finish_reason(Some(reason), called))));
                if !self.done.contains(&index) {
                    self.done.push(index);
                }
            }
        }
        self.finished = self.started.iter().all(|i| self.done.contains(i));
        Ok(out)
    }

    fn start(&mut self, index: u64, out: &mut Vec<String>) {
        if !self.started.contains(&index) {
            self.started.push(index);
            out.push(self.chunk(
                index,
                json!({"role": "assistant", "content": ""}),
                Value::Null,
            ));
        }
    }

    /// Called when the upstream closes the stream cleanly: the usage chunk (when asked for) and
    /// `[DONE]`, or an error when no event had finished the answer (a truncated stream).
    pub fn end(&mut self) -> Result<Vec<String>, StreamError> {
        if !self.finished {
            return Err((
                "api_error".to_owned(),
                "the upstream stream closed before its final event".to_owned(),
            ));
        }
        let mut out = Vec::new();
        if self.include_usage {
            out.push(
                json!({"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                    "model": self.model, "choices": [], "usage": usage(&self.usage)})
                .to_string(),
            );
        }
        out.push("[DONE]".to_owned());
        Ok(out)
    }
}
