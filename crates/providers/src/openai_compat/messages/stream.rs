//! OpenAI chat completion chunks → Anthropic Messages stream events (message_start,
//! content_block_start/delta/stop, message_delta, message_stop).

use super::{stop_reason, usage};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

/// A call held back while another call's block streams.
#[derive(Debug, Default)]
struct Held {
    id: Value,
    name: Value,
    arguments: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Block {
    Thinking,
    Text,
    Tool,
}

/// Per-stream state.
#[derive(Debug, Default)]
pub struct EventTranslator {
    started: bool,
    ended: bool,
    open: Option<(u64, Block)>,
    next_index: u64,
    /// OpenAI tool_calls index → Anthropic content block index.
    tools: HashMap<u64, u64>,
    /// Calls whose deltas arrived while another call's block was open (parallel calls with
    /// interleaved arguments): Anthropic's blocks cannot interleave, so these are held, by
    /// OpenAI index, and sent whole after the open one ends.
    held: BTreeMap<u64, Held>,
    finish: Option<String>,
    usage: Option<Value>,
}

fn frame(event: &str, data: &Value) -> String {
    format!("event: {event}\ndata: {data}\n\n")
}

impl EventTranslator {
    pub fn new() -> Self {
        Self::default()
    }

    /// True once message_stop has been produced.
    pub fn ended(&self) -> bool {
        self.ended
    }

    fn start(&mut self, chunk: &Value, out: &mut Vec<String>) {
        if self.started {
            return;
        }
        self.started = true;
        let id = chunk.get("id").and_then(Value::as_str).unwrap_or("");
        out.push(frame(
            "message_start",
            &json!({"type": "message_start", "message": {
            "id": format!("msg_{id}"), "type": "message", "role": "assistant",
            "model": chunk.get("model").cloned().unwrap_or(Value::Null), "content": [],
            "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 0, "output_tokens": 0}}}),
        ));
        // As Anthropic does: a ping right after message_start.
        out.push(frame("ping", &json!({"type": "ping"})));
    }

    fn close(&mut self, out: &mut Vec<String>) {
        if let Some((index, _)) = self.open.take() {
            out.push(frame(
                "content_block_stop",
                &json!({"type": "content_block_stop", "index": index}),
            ));
        }
    }

    /// Makes sure a block of `kind` is open (opening text and thinking blocks on demand).
    fn ensure(&mut self, kind: Block, out: &mut Vec<String>) -> u64 {
        if let Some((index, k)) = self.open {
            if k == kind {
                return index;
            }
        }
        self.close(out);
        let index = self.next_index;
        self.next_index += 1;
        let block = match kind {
            Block::Thinking => json!({"type": "thinking", "thinking": "", "signature": ""}),
            _ => json!({"type": "text", "text": ""}),
        };
        out.push(frame(
            "content_block_start",
            &json!({"type": "content_block_start", "index": index, "content_block": block}),
        ));
        self.open = Some((index, kind));
        index
    }

    /// A complete signed thinking block (`thinking_blocks`): the signature of the thinking block
    /// whose text was streamed (opened now when there was none), or a redacted block whole.
    fn signed_block(&mut self, b: &Value, out: &mut Vec<String>) {
        match b.get("type").and_then(Value::as_str) {
            Some("thinking") => {
                let index = self.ensure(Block::Thinking, out);
                let signature = b.get("signature").cloned().unwrap_or(json!(""));
                out.push(frame(
                    "content_block_delta",
                    &json!({"type": "content_block_delta", "index": index,
                    "delta": {"type": "signature_delta", "signature": signature}}),
                ));
                self.close(out);
            }
            Some("redacted_thinking") => {
                self.close(out);
                let index = self.next_index;
                self.next_index += 1;
                out.push(frame(
                    "content_block_start",
                    &json!({"type": "content_block_start", "index": index, "content_block": b}),
                ));
                self.open = Some((index, Block::Thinking));
                self.close(out);
            }
            _ => {}
        }
    }

    /// Translates one `data:` payload. An upstream error object comes back as Err((type, message)).
    pub fn on_data(&mut self, data: &str) -> Result<Vec<String>, (String, String)> {
        let mut out = Vec::new();
        if data.trim() == "[DONE]" {
            self.finish_stream(&mut out);
            return Ok(out);
        }
        let chunk: Value = serde_json::from_str(data).map_err(|e| {
            (
                "api_error".to_owned(),
                format!("upstream sent a malformed chunk: {e}"),
            )
        })?;
        if let Some(err) = chunk.get("error") {
            let msg = err
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("upstream error");
            return Err(("api_error".to_owned(), msg.to_owned()));
        }
        self.start(&chunk, &mut out);
        if let Some(u) = chunk.get("usage").filter(|u| !u.is_null()) {
            self.usage = Some(u.clone());
        }
        let Some(choice) = chunk.pointer("/choices/0") else {
            return Ok(out);
        };
        let delta = choice.get("delta").unwrap_or(&Value::Null);
        if let Some(r) = delta
            .get("reasoning_content")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty())
        {
            let index = self.ensure(Block::Thinking, &mut out);
            out.push(frame(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": index,
                "delta": {"type": "thinking_delta", "thinking": r}}),
            ));
        }
        for b in delta
            .get("thinking_blocks")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.signed_block(b, &mut out);
        }
        if let Some(t) = delta
            .get("content")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            let index = self.ensure(Block::Text, &mut out);
            out.push(frame(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": index,
                "delta": {"type": "text_delta", "text": t}}),
            ));
        }
        for tc in delta
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let oi = tc.get("index").and_then(Value::as_u64).unwrap_or(0);
            let other_call_open = matches!(self.open, Some((_, Block::Tool)))
                && self
                    .tools
                    .get(&oi)
                    .is_none_or(|i| Some(*i) != self.open.map(|(b, _)| b));
            if other_call_open && !self.tools.contains_key(&oi) || self.held.contains_key(&oi) {
                let h = self.held.entry(oi).or_default();
                if let Some(id) = tc.get("id").filter(|v| !v.is_null()) {
                    h.id = id.clone();
                }
                if let Some(name) = tc.pointer("/function/name").filter(|v| !v.is_null()) {
                    h.name = name.clone();
                }
                if let Some(a) = tc.pointer("/function/arguments").and_then(Value::as_str) {
                    h.arguments.push_str(a);
                }
                continue;
            }
            let index = match self.tools.get(&oi) {
                Some(i) => *i,
                None => {
                    self.close(&mut out);
                    let index = self.next_index;
                    self.next_index += 1;
                    self.tools.insert(oi, index);
                    out.push(frame(
                        "content_block_start",
                        &json!({"type": "content_block_start", "index": index,
                        "content_block": {"type": "tool_use", "id": tc.get("id"),
                            "name": tc.pointer("/function/name"), "input": {}}}),
                    ));
                    self.open = Some((index, Block::Tool));
                    index
                }
            };
            if let Some(args) = tc
                .pointer("/function/arguments")
                .and_then(Value::as_str)
                .filter(|a| !a.is_empty())
            {
                out.push(frame(
                    "content_block_delta",
                    &json!({"type": "content_block_delta", "index": index,
                    "delta": {"type": "input_json_delta", "partial_json": args}}),
                ));
            }
        }
        if let Some(f) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish = Some(f.to_owned());
            self.close(&mut out);
            self.release_held(&mut out);
        }
        Ok(out)
    }

    /// The held calls, each as a whole block (start, its arguments in one delta, stop).
    fn release_held(&mut self, out: &mut Vec<String>) {
        for (_, h) in std::mem::take(&mut self.held) {
            self.close(out);
            let index = self.next_index;
            self.next_index += 1;
            out.push(frame(
                "content_block_start",
                &json!({"type": "content_block_start", "index": index,
                "content_block": {"type": "tool_use", "id": h.id, "name": h.name, "input": {}}}),
            ));
            if !h.arguments.is_empty() {
                out.push(frame(
                    "content_block_delta",
                    &json!({"type": "content_block_delta", "index": index,
                    "delta": {"type": "input_json_delta", "partial_json": h.arguments}}),
                ));
            }
            self.open = Some((index, Block::Tool));
            self.close(out);
        }
    }

    fn finish_stream(&mut self, out: &mut Vec<String>) {
        if self.ended {
            return;
        }
        self.start(&Value::Null, out);
        self.close(out);
        self.release_held(out);
        let u = usage(self.usage.as_ref().unwrap_or(&Value::Null));
        out.push(frame(
            "message_delta",
            &json!({"type": "message_delta",
            "delta": {"stop_reason": stop_reason(self.finish.as_deref()), "stop_sequence": null},
            "usage": u}),
        ));
        out.push(frame("message_stop", &json!({"type": "message_stop"})));
        self.ended = true;
    }
}
