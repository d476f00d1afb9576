//! OpenAI Responses: a whole response re-streamed as its semantic events (`response.created`,
//! each output item added, filled in and done, then `response.completed`), and those events
//! gathered back into the whole response, so an answer cached from either kind of call serves
//! both.

use serde_json::{json, Map, Value};

/// Writes the events, numbering them with `sequence_number` from 0.
struct Writer {
    out: Vec<u8>,
    seq: u64,
}

impl Writer {
    /// One event of `kind`: its `event:` line, and its `data:` line (`fields` with `type` and
    /// `sequence_number`).
    fn emit(&mut self, kind: &str, fields: Value) {
        let mut data = match fields {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        data.insert("type".into(), json!(kind));
        data.insert("sequence_number".into(), json!(self.seq));
        self.seq += 1;
        self.out.extend_from_slice(b"event: ");
        self.out.extend_from_slice(kind.as_bytes());
        self.out.extend_from_slice(b"\ndata: ");
        self.out
            .extend_from_slice(&serde_json::to_vec(&Value::Object(data)).unwrap_or_default());
        self.out.extend_from_slice(b"\n\n");
    }
}

/// `value` with `field` set to `to`, when it is an object.
fn with(value: &Value, field: &str, to: Value) -> Value {
    let mut v = value.clone();
    if let Some(m) = v.as_object_mut() {
        m.insert(field.into(), to);
    }
    v
}

/// The text of `value[field]`, or "".
fn text<'a>(value: &'a Value, field: &str) -> &'a str {
    value.get(field).and_then(Value::as_str).unwrap_or("")
}

/// A message item's content parts: each added, its text (or refusal) as a delta, done.
fn message_parts(w: &mut Writer, item: &Value, output_index: usize) {
    let item_id = item.get("id").cloned().unwrap_or(Value::Null);
    let parts = item.get("content").and_then(Value::as_array);
    for (content_index, part) in parts.into_iter().flatten().enumerate() {
        let at = json!({"item_id": item_id, "output_index": output_index,
            "content_index": content_index});
        let with_at = |extra: Value| {
            let mut v = at.clone();
            if let (Some(m), Value::Object(x)) = (v.as_object_mut(), extra) {
                m.extend(x);
            }
            v
        };
        match part.get("type").and_then(Value::as_str).unwrap_or("") {
            "output_text" => {
                let mut empty = with(part, "text", json!(""));
                for list in ["annotations", "logprobs"] {
                    if part.get(list).is_some_and(Value::is_array) {
                        empty = with(&empty, list, json!([]));
                    }
                }
                w.emit(
                    "response.content_part.added",
                    with_at(json!({ "part": empty })),
                );
                let t = text(part, "text");
                let logprobs = part
                    .get("logprobs")
                    .filter(|l| l.is_array())
                    .cloned()
                    .unwrap_or_else(|| json!([]));
                if !t.is_empty() {
                    w.emit(
                        "response.output_text.delta",
                        with_at(json!({"delta": t, "logprobs": logprobs})),
                    );
                }
                let notes = part.get("annotations").and_then(Value::as_array);
                for (annotation_index, note) in notes.into_iter().flatten().enumerate() {
                    w.emit(
                        "response.output_text.annotation.added",
                        with_at(json!({"annotation_index": annotation_index, "annotation": note})),
                    );
                }
                w.emit(
                    "response.output_text.done",
                    with_at(json!({"text": t, "logprobs": logprobs})),
                );
            }
            "refusal" => {
                w.emit(
                    "response.content_part.added",
                    with_at(json!({"part": with(part, "refusal", json!(""))})),
                );
                let t = text(part, "refusal");
                if !t.is_empty() {
                    w.emit("response.refusal.delta", with_at(json!({ "delta": t })));
                }
                w.emit("response.refusal.done", with_at(json!({ "refusal": t })));
            }
            _ => w.emit(
                "response.content_part.added",
                with_at(json!({"part": part})),
            ),
        }
        w.emit("response.content_part.done", with_at(json!({"part": part})));
    }
}

/// A reasoning item's summary parts: each added, its text as a delta, done.
fn summary_parts(w: &mut Writer, item: &Value, output_index: usize) {
    let item_id = item.get("id").cloned().unwrap_or(Value::Null);
    let parts = item.get("summary").and_then(Value::as_array);
    for (summary_index, part) in parts.into_iter().flatten().enumerate() {
        let at = |extra: Value| {
            let mut v = json!({"item_id": item_id, "output_index": output_index,
                "summary_index": summary_index});
            if let (Some(m), Value::Object(x)) = (v.as_object_mut(), extra) {
                m.extend(x);
            }
            v
        };
        w.emit(
            "response.reasoning_summary_part.added",
            at(json!({"part": with(part, "text", json!(""))})),
        );
        let t = text(part, "text");
        if !t.is_empty() {
            w.emit(
                "response.reasoning_summary_text.delta",
                at(json!({ "delta": t })),
            );
        }
        w.emit(
            "response.reasoning_summary_text.done",
            at(json!({ "text": t })),
        );
        w.emit(
            "response.reasoning_summary_part.done",
            at(json!({ "part": part })),
        );
    }
}

/// The events (each with its `event:` and `data:` line) a streamed call gets for `whole`:
/// `response.created` and `response.in_progress` (status `in_progress`, no output, no usage),
/// each output item added, its parts and deltas, done, and then `response.completed` (or
/// `response.incomplete`) carrying the whole response.
pub fn to_events(whole: &Value) -> Vec<u8> {
    let mut w = Writer {
        out: Vec::new(),
        seq: 0,
    };
    let mut head = whole.as_object().cloned().unwrap_or_default();
    head.insert("status".into(), json!("in_progress"));
    head.insert("output".into(), json!([]));
    for k in ["usage", "incomplete_details", "error", "completed_at"] {
        if head.contains_key(k) {
            head.insert(k.into(), Value::Null);
        }
    }
    w.emit("response.created", json!({ "response": head }));
    w.emit("response.in_progress", json!({ "response": head }));
    let items = whole.get("output").and_then(Value::as_array);
    for (output_index, item) in items.into_iter().flatten().enumerate() {
        let kind = text(item, "type");
        let mut added = item.clone();
        if item.get("status").is_some() {
            added = with(&added, "status", json!("in_progress"));
        }
        match kind {
            "message" => added = with(&added, "content", json!([])),
            "function_call" => added = with(&added, "arguments", json!("")),
            "reasoning" => added = with(&added, "summary", json!([])),
            _ => {}
        }
        w.emit(
            "response.output_item.added",
            json!({"output_index": output_index, "item": added}),
        );
        match kind {
            "message" => message_parts(&mut w, item, output_index),
            "reasoning" => summary_parts(&mut w, item, output_index),
            "function_call" => {
                let at = json!({"item_id": item.get("id"), "output_index": output_index});
                let args = text(item, "arguments");
                if !args.is_empty() {
                    w.emit(
                        "response.function_call_arguments.delta",
                        with(&at, "delta", json!(args)),
                    );
                }
                let done = with(&at, "arguments", json!(args));
                w.emit(
                    "response.function_call_arguments.done",
                    with(&done, "name", json!(text(item, "name"))),
                );
            }
            _ => {}
        }
        w.emit(
            "response.output_item.done",
            json!({"output_index": output_index, "item": item}),
        );
    }
    let end = match text(whole, "status") {
        "incomplete" => "response.incomplete",
        "failed" => "response.failed",
        _ => "response.completed",
    };
    w.emit(end, json!({ "response": whole }));
    w.out
}

/// Gathers a Responses stream's events into the whole response.
#[derive(Default)]
pub struct Gather {
    /// Output indexes of the items added.
    added: Vec<u64>,
    /// The items done, by output index.
    done: Vec<(u64, Value)>,
    /// The response of `response.completed` or `response.incomplete`.
    last: Option<Map<String, Value>>,
    failed: bool,
}

impl Gather {
    /// One event's `data`. False, and no answer from [`Gather::finish`], on `error`,
    /// `response.failed` or data this cannot read.
    pub fn push(&mut self, data: &str) -> bool {
        let ok = !self.failed && self.take(data);
        if !ok {
            self.failed = true;
        }
        ok
    }

    fn take(&mut self, data: &str) -> bool {
        let Ok(Value::Object(v)) = serde_json::from_str::<Value>(data) else {
            return false;
        };
        let index = v.get("output_index").and_then(Value::as_u64);
        match v.get("type").and_then(Value::as_str).unwrap_or("") {
            "response.output_item.added" => match index {
                Some(i) => self.added.push(i),
                None => return false,
            },
            "response.output_item.done" => match (index, v.get("item")) {
                (Some(i), Some(item @ Value::Object(_))) => {
                    self.done.retain(|(j, _)| *j != i);
                    self.done.push((i, item.clone()));
                }
                _ => return false,
            },
            kind @ ("response.completed" | "response.incomplete") => {
                let Some(Value::Object(r)) = v.get("response") else {
                    return false;
                };
                let status = r.get("status").and_then(Value::as_str).unwrap_or("");
                if Some(status) != kind.strip_prefix("response.") {
                    return false;
                }
                self.last = Some(r.clone());
            }
            "error" | "response.failed" | "" => return false,
            // created, in_progress, queued, and the parts and deltas: the done items and the
            // final response carry what they built.
            _ => {}
        }
        true
    }

    /// The whole response, once the stream ended with `response.completed` or
    /// `response.incomplete`. When that response carries no output, the items done in the
    /// stream make it (every item added must then be done).
    pub fn finish(self) -> Option<Value> {
        if self.failed {
            return None;
        }
        let mut whole = self.last?;
        let empty = whole
            .get("output")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty);
        if empty && !self.done.is_empty() {
            if self
                .added
                .iter()
                .any(|i| !self.done.iter().any(|(j, _)| j == i))
            {
                return None;
            }
            let mut done = self.done;
            done.sort_by_key(|(i, _)| *i);
            let items: Vec<Value> = done.into_iter().map(|(_, item)| item).collect();
            whole.insert("output".into(), Value::Array(items));
        }
        Some(Value::Object(whole))
    }
}

#[cfg(test)]
mod tests;
