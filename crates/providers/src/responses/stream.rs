//! Chat completion chunks → Responses stream events.

use super::response::{reasoning_item, status};
use super::{custom_input, usage, Echo};
use serde_json::{json, Value};

#[derive(Debug)]
struct Call {
    item_id: String,
    call_id: Value,
    name: Value,
    arguments: String,
    output_index: usize,
    /// A custom tool's call: its input is sent whole when the call ends (the chat arguments
    /// wrap it in JSON, so the pieces are not the input's).
    custom: bool,
}

/// The reasoning item being streamed.
#[derive(Debug)]
struct Reasoning {
    output_index: usize,
    text: String,
    /// Signed thinking blocks (`thinking_blocks` deltas), for `encrypted_content`.
    blocks: Vec<Value>,
}

/// Per-stream state.
#[derive(Debug)]
pub struct ResponsesTranslator {
    echo: Echo,
    created_at: u64,
    seq: u64,
    id: String,
    model: Value,
    started: bool,
    ended: bool,
    /// Output items finished so far, in order.
    output: Vec<Value>,
    /// The message item being streamed: (output index, text so far).
    text: Option<(usize, String)>,
    reasoning: Option<Reasoning>,
    calls: Vec<Call>,
    finish: Option<String>,
    usage: Value,
}

impl ResponsesTranslator {
    pub fn new(echo: Echo, created_at: u64) -> Self {
        Self {
            echo,
            created_at,
            seq: 0,
            id: String::new(),
            model: Value::Null,
            started: false,
            ended: false,
            output: Vec::new(),
            text: None,
            reasoning: None,
            calls: Vec::new(),
            finish: None,
            usage: Value::Null,
        }
    }

    pub fn ended(&self) -> bool {
        self.ended
    }

    fn emit(&mut self, out: &mut Vec<String>, kind: &str, mut data: Value) {
        data["type"] = json!(kind);
        data["sequence_number"] = json!(self.seq);
        self.seq += 1;
        out.push(format!("event: {kind}\ndata: {data}\n\n"));
    }

    fn resp_id(&self) -> String {
        format!("resp_{}", self.id)
    }

    fn snapshot(&self, status: &str) -> Value {
        self.echo
            .response(&self.resp_id(), &self.model, self.created_at, status)
    }

    fn next_index(&self) -> usize {
        self.output.len()
            + usize::from(self.text.is_some())
            + usize::from(self.reasoning.is_some())
            + self.calls.len()
    }

    /// The reasoning item's id: `rs_<id>`, or with its output index after the first item (a
    /// model that thinks again between tool calls).
    fn reasoning_id(&self) -> String {
        match self.reasoning.as_ref().map_or(0, |r| r.output_index) {
            0 => format!("rs_{}", self.id),
            n => format!("rs_{}_{n}", self.id),
        }
    }

    /// Reasoning text or signed thinking arrived: the reasoning item opens (once), and its
    /// summary text streams.
    fn on_reasoning(&mut self, out: &mut Vec<String>, text: &str, blocks: &[Value]) {
        if self.reasoning.is_none() {
            let output_index = self.next_index();
            self.reasoning = Some(Reasoning {
                output_index,
                text: String::new(),
                blocks: Vec::new(),
            });
            let item = json!({"type": "reasoning", "id": self.reasoning_id(), "summary": []});
            self.emit(
                out,
                "response.output_item.added",
                json!({"output_index": output_index, "item": item}),
            );
        }
        let item_id = self.reasoning_id();
        let Some(r) = self.reasoning.as_mut() else {
            return;
        };
        r.blocks.extend_from_slice(blocks);
        if text.is_empty() {
            return;
        }
        let first = r.text.is_empty();
        r.text.push_str(text);
        let at = json!({"item_id": item_id, "output_index": r.output_index, "summary_index": 0});
        if first {
            let mut added = at.clone();
            added["part"] = json!({"type": "summary_text", "text": ""});
            self.emit(out, "response.reasoning_summary_part.added", added);
        }
        let mut delta = at;
        delta["delta"] = json!(text);
        self.emit(out, "response.reasoning_summary_text.delta", delta);
    }

    fn close_reasoning(&mut self, out: &mut Vec<String>) {
        let item_id = self.reasoning_id();
        let Some(r) = self.reasoning.take() else {
            return;
        };
        let at = json!({"item_id": item_id, "output_index": r.output_index, "summary_index": 0});
        if !r.text.is_empty() {
            let mut done = at.clone();
            done["text"] = json!(r.text);
            self.emit(out, "response.reasoning_summary_text.done", done);
            let mut part = at;
            part["part"] = json!({"type": "summary_text", "text": r.text});
            self.emit(out, "response.reasoning_summary_part.done", part);
        }
        let mut item = reasoning_item(&self.id, &r.text, &r.blocks, &self.echo);
        item["id"] = json!(item_id);
        self.emit(
            out,
            "response.output_item.done",
            json!({"output_index": r.output_index, "item": item}),
        );
        self.output.push(item);
    }

    fn close_text(&mut self, out: &mut Vec<String>) {
        let Some((index, text)) = self.text.take() else {
            return;
        };
        let item_id = format!("msg_{}", self.id);
        let part = json!({"type": "output_text", "text": text, "annotations": []});
        self.emit(
            out,
            "response.output_text.done",
            json!({"item_id": item_id, "output_index": index, "content_index": 0, "text": text}),
        );
        self.emit(
            out,
            "response.content_part.done",
            json!({"item_id": item_id, "output_index": index, "content_index": 0, "part": part}),
        );
        let item = json!({"type": "message", "id": item_id, "status": "completed", "role": "assistant", "content": [part]});
        self.emit(
            out,
            "response.output_item.done",
            json!({"output_index": index, "item": item}),
        );
        self.output.push(item);
    }

    /// Translates one chat `data:` payload; an upstream error object comes back as Err(message).
    pub fn on_data(&mut self, data: &str) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        if data.trim() == "[DONE]" {
            self.finish_stream(&mut out);
            return Ok(out);
        }
        let chunk: Value =
            serde_json::from_str(data).map_err(|e| format!("malformed chunk: {e}"))?;
        if let Some(err) = chunk.get("error") {
            return Err(err
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("upstream error")
                .to_owned());
        }
        if !self.started {
            self.started = true;
            self.id = chunk
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            self.model = chunk.get("model").cloned().unwrap_or(Value::Null);
            let r = self.snapshot("in_progress");
            self.emit(&mut out, "response.created", json!({"response": r}));
            self.emit(&mut out, "response.in_progress", json!({"response": r}));
        }
        if let Some(u) = chunk.get("usage").filter(|u| !u.is_null()) {
            self.usage = u.clone();
        }
        let Some(choice) = chunk.pointer("/choices/0") else {
            return Ok(out);
        };
        let delta = choice.get("delta").unwrap_or(&Value::Null);
        let reasoning = delta
            .get("reasoning_content")
            .and_then(Value::as_str)
            .unwrap_or("");
        let blocks = delta
            .get("thinking_blocks")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        if !reasoning.is_empty() || !blocks.is_empty() {
            self.on_reasoning(&mut out, reasoning, blocks);
        }
        if let Some(t) = delta
            .get("content")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            if self.text.is_none() {
                self.close_reasoning(&mut out);
                let index = self.next_index();
                let item_id = format!("msg_{}", self.id);
                self.emit(&mut out, "response.output_item.added", json!({"output_index": index,
                    "item": {"type": "message", "id": item_id, "status": "in_progress", "role": "assistant", "content": []}}));
                self.emit(&mut out, "response.content_part.added", json!({"item_id": item_id, "output_index": index,
                    "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}));
                self.text = Some((index, String::new()));
            }
            let item_id = format!("msg_{}", self.id);
            let index = self.text.as_ref().map_or(0, |(i, _)| *i);
            if let Some((_, so_far)) = self.text.as_mut() {
                so_far.push_str(t);
            }
            self.emit(
                &mut out,
                "response.output_text.delta",
                json!({"item_id": item_id, "output_index": index, "content_index": 0, "delta": t}),
            );
        }
        for tc in delta
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let oi = tc.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
            if oi >= self.calls.len() {
                self.close_reasoning(&mut out);
                self.close_text(&mut out);
                let output_index = self.next_index();
                let name = tc.pointer("/function/name").cloned().unwrap_or(Value::Null);
                let custom = self.echo.is_custom(&name);
                let item_id = format!("{}_{}_{}", if custom { "ctc" } else { "fc" }, self.id, oi);
                let call = Call {
                    item_id: item_id.clone(),
                    call_id: tc.get("id").cloned().unwrap_or(Value::Null),
                    name,
                    arguments: String::new(),
                    output_index,
                    custom,
                };
                let item = if custom {
                    json!({"type": "custom_tool_call", "id": item_id, "status": "in_progress",
                        "call_id": call.call_id, "name": call.name, "input": ""})
                } else {
                    json!({"type": "function_call", "id": item_id, "status": "in_progress",
                        "call_id": call.call_id, "name": call.name, "arguments": ""})
                };
                self.emit(
                    &mut out,
                    "response.output_item.added",
                    json!({"output_index": output_index, "item": item}),
                );
                self.calls.push(call);
            }
            if let Some(a) = tc
                .pointer("/function/arguments")
                .and_then(Value::as_str)
                .filter(|a| !a.is_empty())
            {
                let (item_id, index) = match self.calls.get_mut(oi) {
                    Some(c) => {
                        c.arguments.push_str(a);
                        if c.custom {
                            continue;
                        }
                        (c.item_id.clone(), c.output_index)
                    }
                    None => continue,
                };
                self.emit(
                    &mut out,
                    "response.function_call_arguments.delta",
                    json!({"item_id": item_id, "output_index": index, "delta": a}),
                );
            }
        }
        if let Some(f) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish = Some(f.to_owned());
        }
        Ok(out)
    }

    fn finish_stream(&mut self, out: &mut Vec<String>) {
        if self.ended {
            return;
        }
        self.close_reasoning(out);
        self.close_text(out);
        for c in std::mem::take(&mut self.calls) {
            let item = if c.custom {
                let input = custom_input(&c.arguments);
                let at = json!({"item_id": c.item_id, "output_index": c.output_index});
                let mut delta = at.clone();
                delta["delta"] = json!(input);
                self.emit(out, "response.custom_tool_call_input.delta", delta);
                let mut done = at;
                done["input"] = json!(input);
                self.emit(out, "response.custom_tool_call_input.done", done);
                json!({"type": "custom_tool_call", "id": c.item_id, "status": "completed",
                    "call_id": c.call_id, "name": c.name, "input": input})
            } else {
                self.emit(out, "response.function_call_arguments.done", json!({"item_id": c.item_id, "output_index": c.output_index, "arguments": c.arguments}));
                json!({"type": "function_call", "id": c.item_id, "status": "completed",
                    "call_id": c.call_id, "name": c.name, "arguments": c.arguments})
            };
            self.emit(
                out,
                "response.output_item.done",
                json!({"output_index": c.output_index, "item": item}),
            );
            self.output.push(item);
        }
        let (st, incomplete) = status(self.finish.as_deref());
        let mut r = self.snapshot(st);
        r["output"] = Value::Array(self.output.clone());
        r["incomplete_details"] = incomplete;
        r["usage"] = usage(&self.usage);
        let kind = if st == "completed" {
            "response.completed"
        } else {
            "response.incomplete"
        };
        self.emit(out, kind, json!({"response": r}));
        self.ended = true;
    }
}
