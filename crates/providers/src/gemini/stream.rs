//! Gemini `streamGenerateContent?alt=sse` events → OpenAI chat completion chunks.
//!
//! Every event is a whole GenerateContentResponse holding the next piece of each candidate;
//! function calls arrive whole. There is no end marker: the last event carries `finishReason`,
//! and the stream closes. The usage chunk and `[DONE]` are sent at that close (`finish`).

use super::response::completion_id;
use super::{finish_reason, tool_call_id, usage};
use crate::chunks::{parse_event, truncated, Chunks};
use crate::format::StreamError;
use serde_json::{json, Value};

/// Per-stream state.
#[derive(Debug)]
pub struct ChunkTranslator {
    chunks: Chunks,
    short_id: String,
    /// Candidates that have had their role chunk.
    started: Vec<u64>,
    /// Function calls made so far, across candidates (for their ids).
    total_calls: u64,
    usage: Value,
    /// Candidates that have had their finishReason.
    done: Vec<u64>,
    /// Set once every candidate started has finished.
    finished: bool,
}

impl ChunkTranslator {
    pub fn new(created: u64, include_usage: bool) -> Self {
        let mut chunks = Chunks::new(created, include_usage);
        chunks.model = Value::Null;
        Self {
            chunks,
            short_id: String::new(),
            started: Vec::new(),
            total_calls: 0,
            usage: Value::Null,
            done: Vec::new(),
            finished: false,
        }
    }

    /// Translates one event's `data`.
    pub fn on_data(&mut self, data: &str) -> Result<Vec<String>, StreamError> {
        let resp = parse_event(data)?;
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
        if self.chunks.id.is_empty() {
            self.chunks.id = completion_id(&resp);
            self.short_id = resp
                .get("responseId")
                .and_then(Value::as_str)
                .unwrap_or("0")
                .to_owned();
        }
        if let Some(m) = resp.get("modelVersion") {
            self.chunks.model = m.clone();
        }
        if let Some(u) = resp.get("usageMetadata") {
            self.usage = u.clone();
        }
        let mut out = Vec::new();
        let candidates = resp.get("candidates").and_then(Value::as_array);
        if candidates.is_none_or(|c| c.is_empty()) {
            if resp.pointer("/promptFeedback/blockReason").is_some() {
                self.start(0, &mut out);
                out.push(self.chunks.finish(0, "content_filter"));
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
                    // Calls arrive whole, one per part.
                    let base = format!("call_{}_{}", self.short_id, self.total_calls);
                    let sig = part.get("thoughtSignature").and_then(Value::as_str);
                    let args = call
                        .get("args")
                        .map_or_else(|| "{}".to_owned(), Value::to_string);
                    let id = json!(tool_call_id(&base, sig));
                    let name = call.get("name").unwrap_or(&Value::Null);
                    out.extend(self.chunks.call_start(
                        index,
                        self.total_calls,
                        &id,
                        name,
                        &json!(args),
                    ));
                    self.total_calls += 1;
                } else if let Some(t) = part.get("text").and_then(Value::as_str) {
                    if t.is_empty() {
                        continue;
                    }
                    if part.get("thought").and_then(Value::as_bool) == Some(true) {
                        out.push(self.chunks.reasoning(index, t));
                    } else {
                        out.push(self.chunks.text(index, t));
                    }
                }
            }
            if let Some(reason) = c.get("finishReason").and_then(Value::as_str) {
                let called = self.chunks.called(index);
                out.push(
                    self.chunks
                        .finish(index, finish_reason(Some(reason), called)),
                );
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
            out.push(self.chunks.role(index));
        }
    }

    /// Called when the upstream closes the stream cleanly: the usage chunk (when asked for) and
    /// `[DONE]`, or an error when no event had finished the answer (a truncated stream).
    pub fn end(&mut self) -> Result<Vec<String>, StreamError> {
        if !self.finished {
            return Err(truncated());
        }
        let mut out = Vec::new();
        self.chunks.end(usage(&self.usage), &mut out);
        Ok(out)
    }
}
