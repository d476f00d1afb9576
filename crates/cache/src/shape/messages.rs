//! Anthropic Messages: a whole message re-streamed as its events (`message_start`, each content
//! block's start, deltas and stop, `message_delta`, `message_stop`), and those events gathered
//! back into the whole message, so an answer cached from either kind of call serves both.

use serde_json::{json, Map, Value};

/// Block types whose `input` object streams as `input_json_delta` pieces of its JSON text.
const INPUT_BLOCKS: &[&str] = &["tool_use", "server_tool_use", "mcp_tool_use"];

/// One SSE event: its `event:` line and its `data:` line.
fn write_event(out: &mut Vec<u8>, name: &str, data: &Value) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\ndata: ");
    out.extend_from_slice(&serde_json::to_vec(data).unwrap_or_default());
    out.extend_from_slice(b"\n\n");
}

/// A block as `content_block_start` opens it, and the deltas that fill it in.
fn open_and_fill(block: &Map<String, Value>) -> (Map<String, Value>, Vec<Value>) {
    let mut start = block.clone();
    let mut deltas = Vec::new();
    let text_of = |field: &str| {
        block
            .get(field)
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
    };
    match block.get("type").and_then(Value::as_str).unwrap_or("") {
        "text" => {
            start.insert("text".into(), json!(""));
            if let Some(t) = text_of("text") {
                deltas.push(json!({"type": "text_delta", "text": t}));
            }
            if let Some(cites) = block.get("citations").and_then(Value::as_array) {
                start.insert("citations".into(), json!([]));
                for c in cites {
                    deltas.push(json!({"type": "citations_delta", "citation": c}));
                }
            }
        }
        "thinking" => {
            start.insert("thinking".into(), json!(""));
            start.insert("signature".into(), json!(""));
            if let Some(t) = text_of("thinking") {
                deltas.push(json!({"type": "thinking_delta", "thinking": t}));
            }
            if let Some(s) = text_of("signature") {
                deltas.push(json!({"type": "signature_delta", "signature": s}));
            }
        }
        kind if INPUT_BLOCKS.contains(&kind) => {
            start.insert("input".into(), json!({}));
            let input = block.get("input").cloned().unwrap_or_else(|| json!({}));
            let text = serde_json::to_string(&input).unwrap_or_default();
            deltas.push(json!({"type": "input_json_delta", "partial_json": text}));
        }
        // redacted_thinking, server tool results and blocks added later come whole in their start.
        _ => {}
    }
    (start, deltas)
}

/// The events (each with its `event:` and `data:` line) a streamed call gets for `whole`.
/// `message_start` carries the message with empty content, no stop reason yet and the usage
/// known at the start (input and cache tokens, output tokens at most 1); `message_delta`
/// carries the stop reason, stop sequence and the final output tokens.
pub fn to_events(whole: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let mut head = whole.as_object().cloned().unwrap_or_default();
    head.insert("content".into(), json!([]));
    head.insert("stop_reason".into(), Value::Null);
    head.insert("stop_sequence".into(), Value::Null);
    let usage = whole.get("usage").and_then(Value::as_object);
    if let Some(u) = usage {
        let mut at_start = u.clone();
        if let Some(n) = u.get("output_tokens").and_then(Value::as_u64) {
            at_start.insert("output_tokens".into(), json!(n.min(1)));
        }
        head.insert("usage".into(), Value::Object(at_start));
    }
    write_event(
        &mut out,
        "message_start",
        &json!({"type": "message_start", "message": head}),
    );
    let blocks = whole.get("content").and_then(Value::as_array);
    for (index, block) in blocks.into_iter().flatten().enumerate() {
        let Some(block) = block.as_object() else {
            continue;
        };
        let (start, deltas) = open_and_fill(block);
        write_event(
            &mut out,
            "content_block_start",
            &json!({"type": "content_block_start", "index": index, "content_block": start}),
        );
        for delta in deltas {
            write_event(
                &mut out,
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": index, "delta": delta}),
            );
        }
        write_event(
            &mut out,
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": index}),
        );
    }
    let mut end = json!({"type": "message_delta", "delta": {
        "stop_reason": whole.get("stop_reason").cloned().unwrap_or(Value::Null),
        "stop_sequence": whole.get("stop_sequence").cloned().unwrap_or(Value::Null)}});
    if let Some(u) = usage {
        let mut last = Map::new();
        last.insert(
            "output_tokens".into(),
            u.get("output_tokens").cloned().unwrap_or(json!(0)),
        );
        if let Some(s) = u.get("server_tool_use").filter(|s| !s.is_null()) {
            last.insert("server_tool_use".into(), s.clone());
        }
        end["usage"] = Value::Object(last);
    }
    write_event(&mut out, "message_delta", &end);
    write_event(&mut out, "message_stop", &json!({"type": "message_stop"}));
    out
}

/// One content block as its events build it.
struct Block {
    index: u64,
    block: Map<String, Value>,
    /// The `input_json_delta` pieces so far.
    json: String,
    stopped: bool,
}

/// Appends a delta's text to the block's text field (absent or null counts as empty).
fn append(block: &mut Map<String, Value>, field: &str, piece: Option<&Value>) -> bool {
    let Some(piece) = piece.and_then(Value::as_str) else {
        return false;
    };
    match block.get_mut(field) {
        Some(Value::String(s)) => s.push_str(piece),
        None | Some(Value::Null) => {
            block.insert(field.into(), json!(piece));
        }
        Some(_) => return false,
    }
    true
}

impl Block {
    fn apply(&mut self, delta: Option<&Value>) -> bool {
        let Some(d) = delta.and_then(Value::as_object) else {
            return false;
        };
        match d.get("type").and_then(Value::as_str).unwrap_or("") {
            "text_delta" => append(&mut self.block, "text", d.get("text")),
            "thinking_delta" => append(&mut self.block, "thinking", d.get("thinking")),
            "signature_delta" => append(&mut self.block, "signature", d.get("signature")),
            "input_json_delta" => match d.get("partial_json").and_then(Value::as_str) {
                Some(p) => {
                    self.json.push_str(p);
                    true
                }
                None => false,
            },
            "citations_delta" => {
                let Some(c) = d.get("citation") else {
                    return false;
                };
                let slot = self.block.entry("citations").or_insert_with(|| json!([]));
                if slot.is_null() {
                    *slot = json!([]);
                }
                match slot.as_array_mut() {
                    Some(list) => {
                        list.push(c.clone());
                        true
                    }
                    None => false,
                }
            }
            // A delta this cannot apply would leave the block wrong.
            _ => false,
        }
    }

    /// Closes the block; a streamed input must be a whole JSON value by now.
    fn stop(&mut self) -> bool {
        if !self.json.is_empty() {
            let Ok(input) = serde_json::from_str::<Value>(&self.json) else {
                return false;
            };
            self.block.insert("input".into(), input);
        }
        self.stopped = true;
        true
    }
}

/// Gathers a Messages stream's events into the whole message.
#[derive(Default)]
pub struct Gather {
    message: Option<Map<String, Value>>,
    blocks: Vec<Block>,
    stopped: bool,
    failed: bool,
}

impl Gather {
    /// One event: its `event:` name (empty when the stream sent none) and its `data`. False,
    /// and no answer from [`Gather::finish`], on an `error` event or data this cannot read.
    pub fn push(&mut self, event: &str, data: &str) -> bool {
        let ok = !self.failed && self.take(event, data);
        if !ok {
            self.failed = true;
        }
        ok
    }

    fn take(&mut self, event: &str, data: &str) -> bool {
        let Ok(Value::Object(v)) = serde_json::from_str::<Value>(data) else {
            return false;
        };
        let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
        // An `error` event (its data is of type `error`) is refused below, as is any event
        // whose name is not its data's type.
        if !event.is_empty() && event != kind {
            return false;
        }
        let index = v.get("index").and_then(Value::as_u64);
        match kind {
            "message_start" => {
                let Some(Value::Object(m)) = v.get("message") else {
                    return false;
                };
                if self.message.is_some() {
                    return false;
                }
                self.message = Some(m.clone());
            }
            "content_block_start" => {
                let (Some(index), Some(Value::Object(block))) = (index, v.get("content_block"))
                else {
                    return false;
                };
                if self.message.is_none() || self.blocks.iter().any(|b| b.index == index) {
                    return false;
                }
                self.blocks.push(Block {
                    index,
                    block: block.clone(),
                    json: String::new(),
                    stopped: false,
                });
            }
            "content_block_delta" | "content_block_stop" => {
                let Some(block) = self
                    .blocks
                    .iter_mut()
                    .find(|b| Some(b.index) == index && !b.stopped)
                else {
                    return false;
                };
                return if kind == "content_block_stop" {
                    block.stop()
                } else {
                    block.apply(v.get("delta"))
                };
            }
            "message_delta" => {
                let Some(m) = self.message.as_mut() else {
                    return false;
                };
                if let Some(Value::Object(d)) = v.get("delta") {
                    for (k, x) in d {
                        m.insert(k.clone(), x.clone());
                    }
                }
                if let Some(Value::Object(u)) = v.get("usage") {
                    let usage = m.entry("usage").or_insert_with(|| json!({}));
                    if !usage.is_object() {
                        *usage = json!({});
                    }
                    if let Some(usage) = usage.as_object_mut() {
                        // Counts here are cumulative: they replace those of message_start.
                        for (k, x) in u.iter().filter(|(_, x)| !x.is_null()) {
                            usage.insert(k.clone(), x.clone());
                        }
                    }
                }
            }
            "message_stop" => {
                if self.message.is_none() {
                    return false;
                }
                self.stopped = true;
            }
            "error" | "" => return false,
            // ping, and event types added later.
            _ => {}
        }
        true
    }

    /// The whole message, once the stream reached `message_stop` with every block closed and a
    /// stop reason given.
    pub fn finish(self) -> Option<Value> {
        if self.failed || !self.stopped || self.blocks.iter().any(|b| !b.stopped) {
            return None;
        }
        let mut m = self.message?;
        if m.get("stop_reason").is_none_or(Value::is_null) {
            return None;
        }
        let mut blocks = self.blocks;
        blocks.sort_by_key(|b| b.index);
        let content: Vec<Value> = blocks.into_iter().map(|b| Value::Object(b.block)).collect();
        m.insert("content".into(), Value::Array(content));
        Some(Value::Object(m))
    }
}

#[cfg(test)]
mod tests;
