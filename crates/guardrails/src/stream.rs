//! Output policies on a stream, in the caller's shape (chat chunks, Anthropic Messages events,
//! Responses events): text deltas are gathered per channel (a choice's or block's content,
//! reasoning, or a tool call's arguments) and scanned as they come.
//!
//! Hold-back decides what the caller sees before a verdict:
//! - `window` (default): a channel's text is sent once the text after it covers the policies'
//!   longest finding, so a redaction masks it before it goes out and a deny stops the stream
//!   before the offending text is sent. Events other than text deltas (a block's end, the
//!   finish, usage) release everything before them first, in order.
//! - `none`: every event is sent as it comes; a deny still ends the stream, and a redaction
//!   masks what has not been sent.
//! - `whole`: nothing is sent until the answer has ended and been checked whole.
//!
//! At the end, every policy runs once more over each channel's whole text: the verdicts
//! recorded are those the same answer gets unstreamed.

use crate::apply::Guarded;
use crate::check::Source;
use crate::policy::{Action, Report, Stage, Text};
use crate::redact::{self, Mask};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// How much a stream's text is held back before it is sent.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum HoldBack {
    None,
    #[default]
    Window,
    Whole,
}

/// The caller's stream format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Chat,
    Messages,
    Responses,
}

impl Shape {
    pub fn of(operation: &str) -> Option<Shape> {
        match operation {
            "chat.completions" => Some(Shape::Chat),
            "messages" => Some(Shape::Messages),
            "responses" => Some(Shape::Responses),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Content,
    Reasoning,
    /// A tool call's arguments (the call's index within its choice for chat).
    Args(u64),
}

/// One stream of text: its key, what has come, what has been sent.
struct Channel {
    index: u64,
    kind: Kind,
    tool: Option<String>,
    text: String,
    /// Bytes of `text` already sent.
    sent: usize,
    /// Bytes of `text` already scanned.
    scanned: usize,
    /// Findings ending at or before this byte of `text` have been decided by a scan: a later
    /// scan, which starts later, reads less before them (`PolicySet::scan_partial`).
    judged: usize,
    /// The last delta event of this channel: ids and indexes for the deltas built from it.
    template: Value,
    event: Option<String>,
}

/// How a stream ends when a deny fires.
#[derive(Debug, Clone, PartialEq)]
pub struct Denied {
    pub policy: String,
    pub check: &'static str,
    pub label: String,
    /// The policy's refusal: sent as the answer's last text, ended as a content filter ends
    /// an answer. Without one the stream ends with an error event.
    pub refusal: Option<String>,
}

/// What feeding the guard gave: bytes to send, and a deny when the stream must end.
#[derive(Debug, Default)]
pub struct Fed {
    pub bytes: Vec<u8>,
    pub denied: Option<Denied>,
}

/// What `whole` holds back.
enum Held {
    Raw(Vec<u8>),
    /// Where a channel's (whole, checked) text goes.
    Channel(usize),
}

/// A stream's output guardrails.
pub struct StreamGuard {
    shape: Shape,
    hold: HoldBack,
    /// The policies' longest span over output text: how far behind the newest text sending
    /// stays (`None`: a check needs the whole text, so `window` holds everything back).
    window: Option<usize>,
    channels: Vec<Channel>,
    /// Events waiting for the end (`whole`), in order, with the place of each channel's text.
    held: Vec<Held>,
    /// Partial SSE text between frames.
    pending: Vec<u8>,
    /// The first event's ids (chat chunk fields; Messages message; Responses response).
    head: Option<Value>,
    /// Responses: the next `sequence_number`.
    seq: u64,
    /// The final checks have run: the rest goes as it comes.
    checked: bool,
    /// Nothing more is sent (a deny, or the stream's last event).
    done: bool,
    /// Text deltas came in since the last scan: the events that arrived together (one `feed`)
    /// are scanned once, after the last of them.
    unscanned: bool,
    /// Anthropic: the index of a content block that is open.
    open_block: Option<u64>,
}

impl StreamGuard {
    /// A guard for `g`'s output policies on a stream of `shape`; `None` when none runs there.
    pub fn new(g: &Guarded, shape: Shape, hold: HoldBack) -> Option<StreamGuard> {
        if !g.set.any_at(Stage::Output) {
            return None;
        }
        let mut window = Some(0usize);
        for p in g.set.policies.iter().filter(|p| p.runs_at(Stage::Output)) {
            for s in [Source::Output, Source::ToolCall] {
                window = match (window, p.window(s)) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
        }
        Some(StreamGuard {
            shape,
            hold,
            window,
            channels: Vec::new(),
            held: Vec::new(),
            pending: Vec::new(),
            head: None,
            seq: 0,
            checked: false,
            done: false,
            unscanned: false,
            open_block: None,
        })
    }

    /// Takes bytes of the caller's stream (whole SSE events, or parts of them) and returns
    /// what to send now.
    pub fn feed(&mut self, g: &mut Guarded, bytes: &[u8]) -> Fed {
        let mut fed = Fed::default();
        if self.done {
            return fed;
        }
        self.pending.extend_from_slice(bytes);
        while let Some(end) = event_end(&self.pending) {
            let ev: Vec<u8> = self.pending.drain(..end).collect();
            self.event(g, &ev, &mut fed);
            if self.done {
                self.pending.clear();
                break;
            }
        }
        if self.unscanned && !self.done {
            self.scan(g, false, &mut fed);
        }
        fed
    }

    /// The upstream ended: whatever is still held, checked whole.
    pub fn finish(&mut self, g: &mut Guarded) -> Fed {
        let mut fed = Fed::default();
        if self.done {
            return fed;
        }
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.passthrough(&rest, &mut fed);
        }
        self.end(g, &mut fed);
        fed
    }

    fn event(&mut self, g: &mut Guarded, raw: &[u8], fed: &mut Fed) {
        let (name, data) = parse_event(raw);
        let Some(data) = data else {
            // Text that came before goes first.
            if self.unscanned {
                self.scan(g, false, fed);
            }
            self.passthrough(raw, fed);
            return;
        };
        if data == "[DONE]" {
            self.end(g, fed);
            if !self.done {
                self.push_out(raw, fed);
                self.done = true;
            }
            return;
        }
        let Ok(v) = serde_json::from_str::<Value>(&data) else {
            if self.unscanned {
                self.scan(g, false, fed);
            }
            self.passthrough(raw, fed);
            return;
        };
        if self.head.is_none() {
            self.head = Some(v.clone());
        }
        let deltas = self.deltas(name.as_deref(), &v);
        if !self.checked && !deltas.is_empty() && deltas.len() == count_deltas(self.shape, &v) {
            for (index, kind, tool, text) in deltas {
                let known = self.channels.len();
                let at = self.channel(index, kind, tool, &v, name.as_deref());
                if at == known && self.hold == HoldBack::Whole {
                    self.held.push(Held::Channel(at));
                }
                self.channels[at].text.push_str(&text);
            }
            if self.hold == HoldBack::None {
                self.push_out(raw, fed);
                self.mark_sent_all();
            }
            // Scanned once the events that came with this one are in (end of `feed`).
            self.unscanned = true;
            return;
        }
        // Any other event: everything before it goes first (checked to its end when the event
        // closes the answer).
        let last = !self.checked && is_final(self.shape, name.as_deref(), &v);
        if last {
            self.end(g, fed);
        } else if !self.checked {
            self.scan(g, true, fed);
        }
        if self.done {
            return;
        }
        if let Some(b) = block_start(self.shape, name.as_deref(), &v) {
            self.open_block = Some(b);
        }
        if block_stop(self.shape, name.as_deref()) {
            self.open_block = None;
        }
        let out = self.renumber(raw, &v, name.as_deref());
        self.push_out(&out, fed);
    }

    /// Text deltas in an event: (index, kind, tool, text).
    fn deltas(&self, name: Option<&str>, v: &Value) -> Vec<(u64, Kind, Option<String>, String)> {
        let mut out = Vec::new();
        let s = |x: &Value| x.as_str().map(str::to_owned);
        match self.shape {
            Shape::Chat => {
                for c in v["choices"].as_array().into_iter().flatten() {
                    let i = c["index"].as_u64().unwrap_or(0);
                    let d = &c["delta"];
                    if let Some(t) = s(&d["content"]) {
                        out.push((i, Kind::Content, None, t));
                    }
                    if let Some(t) = s(&d["reasoning_content"]) {
                        out.push((i, Kind::Reasoning, None, t));
                    }
                    for tc in d["tool_calls"].as_array().into_iter().flatten() {
                        let k = tc["index"].as_u64().unwrap_or(0);
                        if let Some(t) = s(&tc["function"]["arguments"]) {
                            let name = tc["function"]["name"].as_str().map(str::to_owned);
                            out.push((i, Kind::Args(k), name, t));
                        }
                    }
                }
            }
            Shape::Messages => {
                if name == Some("content_block_delta") {
                    let i = v["index"].as_u64().unwrap_or(0);
                    let d = &v["delta"];
                    match d["type"].as_str() {
                        Some("text_delta") => {
                            out.extend(s(&d["text"]).map(|t| (i, Kind::Content, None, t)))
                        }
                        Some("thinking_delta") => {
                            out.extend(s(&d["thinking"]).map(|t| (i, Kind::Reasoning, None, t)))
                        }
                        Some("input_json_delta") => {
                            out.extend(s(&d["partial_json"]).map(|t| (i, Kind::Args(i), None, t)))
                        }
                        _ => {}
                    }
                }
            }
            Shape::Responses => {
                let i = v["output_index"].as_u64().unwrap_or(0);
                match name.or(v["type"].as_str()) {
                    Some("response.output_text.delta") => {
                        out.extend(s(&v["delta"]).map(|t| (i, Kind::Content, None, t)))
                    }
                    Some("response.reasoning_summary_text.delta") => {
                        out.extend(s(&v["delta"]).map(|t| (i, Kind::Reasoning, None, t)));
                    }
                    Some("response.function_call_arguments.delta") => {
                        out.extend(s(&v["delta"]).map(|t| (i, Kind::Args(i), None, t)));
                    }
                    _ => {}
                }
            }
        }
        out
    }

    fn channel(
        &mut self,
        index: u64,
        kind: Kind,
        tool: Option<String>,
        v: &Value,
        name: Option<&str>,
    ) -> usize {
        if let Some(at) = self
            .channels
            .iter()
            .position(|c| c.index == index && c.kind == kind)
        {
            let c = &mut self.channels[at];
            c.template = v.clone();
            if c.tool.is_none() {
                c.tool = tool;
            }
            return at;
        }
        self.channels.push(Channel {
            index,
            kind,
            tool,
            text: String::new(),
            sent: 0,
            scanned: 0,
            judged: 0,
            template: v.clone(),
            event: name.map(str::to_owned),
        });
        self.channels.len() - 1
    }

    fn mark_sent_all(&mut self) {
        for c in &mut self.channels {
            c.sent = c.text.len();
        }
    }

    /// Scans every channel's new text (with the window before it) and sends what the hold
    /// lets go; `all`: the channels are complete up to here, send everything.
    fn scan(&mut self, g: &mut Guarded, all: bool, fed: &mut Fed) {
        self.unscanned = false;
        if self.hold == HoldBack::Whole || self.checked {
            return;
        }
        let window = self.window;
        for i in 0..self.channels.len() {
            let c = &self.channels[i];
            if c.scanned == c.text.len() && c.sent == c.text.len() {
                continue;
            }
            // How much to send now: everything when complete; else all but the window's worth
            // (with a check that needs the whole text, nothing until the end).
            let Some(w) = window.or(all.then_some(0)) else {
                // A check needs the whole text: everything waits for the end.
                continue;
            };
            let upto = if all {
                c.text.len()
            } else {
                floor(&c.text, c.text.len().saturating_sub(w))
            };
            let from = floor(&c.text, c.sent.min(c.scanned).saturating_sub(w));
            let piece = &c.text[from..];
            let source = if matches!(c.kind, Kind::Args(_)) {
                Source::ToolCall
            } else {
                Source::Output
            };
            let text = Text {
                raw: piece,
                source,
                tool: c.tool.as_deref(),
            };
            // Until the channel is complete, a finding within a window of the newest text may
            // still change (a word boundary, a longer match): it is left for later.
            let judged = c.judged.saturating_sub(from);
            let stable = if all {
                piece.len()
            } else {
                piece.len().saturating_sub(w)
            };
            let report = g.set.scan_partial(Stage::Output, text, judged, stable);
            let c = &mut self.channels[i];
            c.scanned = c.text.len();
            c.judged = c.judged.max(from + stable);
            if let Some(d) = denial(&report) {
                self.deny(d, fed);
                return;
            }
            let c = &self.channels[i];
            // Nothing sent past a finding that may still change.
            let upto = report
                .unstable_from
                .map_or(upto, |u| upto.min(floor(&c.text, u + from)));
            if self.hold == HoldBack::None || upto <= c.sent {
                continue;
            }
            // Masks that start in what is sent now (offsets moved from `piece` to the text).
            let masks: Vec<Mask> = report
                .masks
                .first()
                .into_iter()
                .flatten()
                .map(|m| (m.range.start + from, m.range.end + from, &m.label))
                .filter(|(a, _, _)| *a >= c.sent && *a < upto)
                .map(|(a, b, label)| Mask {
                    range: a - c.sent..b.min(c.text.len()) - c.sent,
                    label: label.clone(),
                })
                .collect();
            // A mask running past `upto` takes the send point with it.
            let upto = masks
                .iter()
                .map(|m| m.range.end + c.sent)
                .fold(upto, usize::max);
            let out = redact::apply(&c.text[c.sent..upto], &masks, None);
            let out = match g.vault.as_ref().filter(|v| !v.is_empty()) {
                Some(v) => v.restore(&out),
                None => out,
            };
            let ev = self.delta_event(i, &out);
            self.channels[i].sent = upto;
            self.push_out(&ev, fed);
        }
    }

    /// The answer ended: every policy over every channel's whole text, the verdicts recorded;
    /// then what is still held goes.
    fn end(&mut self, g: &mut Guarded, fed: &mut Fed) {
        if self.done || self.checked {
            return;
        }
        let texts: Vec<Text<'_>> = self
            .channels
            .iter()
            .map(|c| Text {
                raw: &c.text,
                source: if matches!(c.kind, Kind::Args(_)) {
                    Source::ToolCall
                } else {
                    Source::Output
                },
                tool: c.tool.as_deref(),
            })
            .collect();
        let report = g.set.scan(Stage::Output, &texts, None);
        g.verdicts.extend(report.verdicts.iter().cloned());
        if let Some(d) = denial(&report) {
            self.deny(d, fed);
            return;
        }
        if self.hold == HoldBack::Whole {
            self.checked = true;
            for item in std::mem::take(&mut self.held) {
                match item {
                    Held::Raw(b) => fed.bytes.extend_from_slice(&b),
                    Held::Channel(i) => {
                        let masks = report.masks.get(i).cloned().unwrap_or_default();
                        let out = redact::apply(&self.channels[i].text, &masks, None);
                        let out = match g.vault.as_ref().filter(|v| !v.is_empty()) {
                            Some(v) => v.restore(&out),
                            None => out,
                        };
                        let ev = self.delta_event(i, &out);
                        self.channels[i].sent = self.channels[i].text.len();
                        fed.bytes.extend_from_slice(&ev);
                    }
                }
            }
        } else {
            self.scan(g, true, fed);
            self.checked = true;
        }
    }

    fn passthrough(&mut self, raw: &[u8], fed: &mut Fed) {
        self.push_out(raw, fed);
    }

    fn push_out(&mut self, raw: &[u8], fed: &mut Fed) {
        if self.hold == HoldBack::Whole && !self.checked {
            self.held.push(Held::Raw(raw.to_vec()));
        } else {
            fed.bytes.extend_from_slice(raw);
        }
    }

    /// Ends the stream for a deny: the refusal in the caller's shape, or nothing more (the
    /// server sends the error event).
    fn deny(&mut self, d: Denied, fed: &mut Fed) {
        self.done = true;
        // Held back whole: the events before any text (the answer's start) still go first.
        for item in std::mem::take(&mut self.held) {
            match item {
                Held::Raw(b) => fed.bytes.extend_from_slice(&b),
                Held::Channel(_) => break,
            }
        }
        if let Some(text) = d.refusal.clone() {
            let frames = self.refusal_frames(&text);
            fed.bytes.extend_from_slice(&frames);
        }
        fed.denied = Some(d);
    }

    /// A delta event carrying `text` for channel `i`, built from its last event.
    fn delta_event(&mut self, i: usize, text: &str) -> Vec<u8> {
        let c = &self.channels[i];
        let mut v = c.template.clone();
        match self.shape {
            Shape::Chat => {
                let delta = match c.kind {
                    Kind::Content => json!({"content": text}),
                    Kind::Reasoning => json!({"reasoning_content": text}),
                    Kind::Args(k) => {
                        json!({"tool_calls": [{"index": k, "function": {"arguments": text}}]})
                    }
                };
                v["choices"] = json!([{"index": c.index, "delta": delta, "logprobs": null, "finish_reason": null}]);
                if v.get("usage").is_some() {
                    v["usage"] = Value::Null;
                }
                frame(None, &v)
            }
            Shape::Messages => {
                let delta = match c.kind {
                    Kind::Content => json!({"type": "text_delta", "text": text}),
                    Kind::Reasoning => json!({"type": "thinking_delta", "thinking": text}),
                    Kind::Args(_) => json!({"type": "input_json_delta", "partial_json": text}),
                };
                v["delta"] = delta;
                frame(Some("content_block_delta"), &v)
            }
            Shape::Responses => {
                v["delta"] = Value::String(text.to_owned());
                v["sequence_number"] = json!(self.seq);
                self.seq += 1;
                let name = c.event.clone();
                frame(name.as_deref().or(v["type"].as_str()), &v)
            }
        }
    }

    /// Responses events carry a running `sequence_number`: renumbered as sent, since deltas
    /// may be merged.
    fn renumber(&mut self, raw: &[u8], v: &Value, name: Option<&str>) -> Vec<u8> {
        if self.shape != Shape::Responses || v.get("sequence_number").is_none() {
            return raw.to_vec();
        }
        let mut v = v.clone();
        v["sequence_number"] = json!(self.seq);
        self.seq += 1;
        frame(name.or(v["type"].as_str()), &v)
    }

    /// The refusal, ended as the caller's API ends a filtered answer.
    fn refusal_frames(&mut self, text: &str) -> Vec<u8> {
        let head = self.head.clone().unwrap_or(Value::Null);
        let mut out = Vec::new();
        match self.shape {
            Shape::Chat => {
                let mut v = json!({"object": "chat.completion.chunk"});
                for k in ["id", "created", "model", "system_fingerprint"] {
                    if let Some(x) = head.get(k) {
                        v[k] = x.clone();
                    }
                }
                v["choices"] = json!([{"index": 0, "delta": {"content": text}, "logprobs": null, "finish_reason": "content_filter"}]);
                out.extend(frame(None, &v));
                out.extend_from_slice(b"data: [DONE]\n\n");
            }
            Shape::Messages => {
                let next = self.channels.iter().map(|c| c.index + 1).max().unwrap_or(0);
                if let Some(b) = self.open_block.take() {
                    out.extend(frame(
                        Some("content_block_stop"),
                        &json!({"type": "content_block_stop", "index": b}),
                    ));
                }
                let i = next.max(self.open_block.map_or(0, |b| b + 1));
                out.extend(frame(Some("content_block_start"), &json!({"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}})));
                out.extend(frame(Some("content_block_delta"), &json!({"type": "content_block_delta", "index": i, "delta": {"type": "text_delta", "text": text}})));
                out.extend(frame(
                    Some("content_block_stop"),
                    &json!({"type": "content_block_stop", "index": i}),
                ));
                out.extend(frame(Some("message_delta"), &json!({"type": "message_delta", "delta": {"stop_reason": "refusal", "stop_sequence": null}, "usage": {"output_tokens": 0}})));
                out.extend(frame(
                    Some("message_stop"),
                    &json!({"type": "message_stop"}),
                ));
            }
            Shape::Responses => {
                let mut response = head.get("response").cloned().unwrap_or_else(|| json!({}));
                response["status"] = json!("incomplete");
                response["incomplete_details"] = json!({"reason": "content_filter"});
                response["output"] = json!([{"type": "message", "id": "msg_refusal", "status": "incomplete", "role": "assistant",
                    "content": [{"type": "output_text", "text": text, "annotations": []}]}]);
                let seq = self.seq;
                self.seq += 1;
                out.extend(frame(Some("response.incomplete"), &json!({"type": "response.incomplete", "response": response, "sequence_number": seq})));
            }
        }
        out
    }
}

impl StreamGuard {
    /// A guard that only gathers a stream's channels and holds its events (no policies).
    fn gathering(shape: Shape) -> StreamGuard {
        StreamGuard {
            shape,
            hold: HoldBack::Whole,
            window: None,
            channels: Vec::new(),
            held: Vec::new(),
            pending: Vec::new(),
            head: None,
            seq: 0,
            checked: false,
            done: false,
            unscanned: false,
            open_block: None,
        }
    }

    /// Feeds the events of `sse` before the answer's end (its finish, or `[DONE]`).
    fn gather(&mut self, sse: &[u8]) {
        let mut g = Guarded::default();
        let mut fed = Fed::default();
        let mut rest = sse;
        while let Some(end) = event_end(rest) {
            let raw = &rest[..end];
            rest = &rest[end..];
            let (name, data) = parse_event(raw);
            let last = match data.as_deref() {
                Some("[DONE]") => true,
                Some(d) => serde_json::from_str::<Value>(d)
                    .is_ok_and(|v| is_final(self.shape, name.as_deref(), &v)),
                None => false,
            };
            if last {
                break;
            }
            self.event(&mut g, raw, &mut fed);
        }
    }
}

/// The whole answer a stream in the caller's shape carried, as the API answers unstreamed
/// (its text per choice or block: content, reasoning, tool calls' arguments), for checks that
/// read whole answers (call-outs).
pub fn rebuild(shape: Shape, sse: &[u8]) -> Value {
    let mut g = StreamGuard::gathering(shape);
    g.gather(sse);
    let text = |k: Kind, i: u64| {
        g.channels
            .iter()
            .find(|c| c.index == i && c.kind == k)
            .map(|c| c.text.clone())
    };
    let mut indexes: Vec<u64> = g.channels.iter().map(|c| c.index).collect();
    indexes.sort_unstable();
    indexes.dedup();
    match shape {
        Shape::Chat => {
            let choices: Vec<Value> = indexes
                .iter()
                .map(|&i| {
                    let mut m = json!({"role": "assistant", "content": text(Kind::Content, i)});
                    if let Some(r) = text(Kind::Reasoning, i) {
                        m["reasoning_content"] = json!(r);
                    }
                    let calls: Vec<Value> = g
                        .channels
                        .iter()
                        .filter(|c| c.index == i && matches!(c.kind, Kind::Args(_)))
                        .map(|c| json!({"type": "function", "function": {"name": c.tool, "arguments": c.text}}))
                        .collect();
                    if !calls.is_empty() {
                        m["tool_calls"] = json!(calls);
                    }
                    json!({"index": i, "message": m, "finish_reason": null})
                })
                .collect();
            json!({"object": "chat.completion", "choices": choices})
        }
        Shape::Messages => {
            let content: Vec<Value> = g
                .channels
                .iter()
                .map(|c| match c.kind {
                    Kind::Content => json!({"type": "text", "text": c.text}),
                    Kind::Reasoning => json!({"type": "thinking", "thinking": c.text}),
                    Kind::Args(_) => json!({"type": "tool_use", "name": c.tool,
                        "input": serde_json::from_str::<Value>(&c.text).unwrap_or_else(|_| json!({}))}),
                })
                .collect();
            json!({"type": "message", "role": "assistant", "content": content})
        }
        Shape::Responses => {
            let output: Vec<Value> = g
                .channels
                .iter()
                .map(|c| match c.kind {
                    Kind::Content => json!({"type": "message", "role": "assistant",
                        "content": [{"type": "output_text", "text": c.text}]}),
                    Kind::Reasoning => json!({"type": "reasoning",
                        "summary": [{"type": "summary_text", "text": c.text}]}),
                    Kind::Args(_) => {
                        json!({"type": "function_call", "name": c.tool, "arguments": c.text})
                    }
                })
                .collect();
            json!({"object": "response", "output": output})
        }
    }
}

/// A held stream that a check outside the guard (a call-out) refused: the events before its
/// first text, then `refusal` ended as the caller's API ends a filtered answer, as a deny in
/// the stream ends it; without a refusal only the events before the text (the caller appends
/// its error event).
pub fn refused(shape: Shape, sse: &[u8], refusal: Option<&str>) -> Vec<u8> {
    let mut g = StreamGuard::gathering(shape);
    g.gather(sse);
    let mut fed = Fed::default();
    g.deny(
        Denied {
            policy: String::new(),
            check: "",
            label: String::new(),
            refusal: refusal.map(str::to_owned),
        },
        &mut fed,
    );
    fed.bytes
}

fn denial(report: &Report) -> Option<Denied> {
    if report.action != Some(Action::Deny) {
        return None;
    }
    let (policy, check, label) = report.decided_by.clone().unwrap_or_default();
    Some(Denied {
        policy,
        check,
        label,
        refusal: report.refusal.clone(),
    })
}

/// How many text deltas the event's shape says it carries (an event with other content too is
/// not a pure delta).
fn count_deltas(shape: Shape, v: &Value) -> usize {
    match shape {
        Shape::Chat => {
            let choices = v["choices"].as_array().map_or(&[][..], Vec::as_slice);
            let mut n = 0;
            for c in choices {
                if !c["finish_reason"].is_null() {
                    return usize::MAX;
                }
                let d = &c["delta"];
                if d.get("role").is_some_and(|r| !r.is_null()) {
                    return usize::MAX;
                }
                n += usize::from(d["content"].is_string())
                    + usize::from(d["reasoning_content"].is_string());
                for tc in d["tool_calls"].as_array().into_iter().flatten() {
                    if tc.get("id").is_some_and(|x| !x.is_null()) {
                        // A call's first chunk (id and name): not held, it names the tool.
                        return usize::MAX;
                    }
                    n += usize::from(tc["function"]["arguments"].is_string());
                }
            }
            if v.get("usage").is_some_and(|u| !u.is_null()) {
                return usize::MAX;
            }
            n
        }
        Shape::Messages | Shape::Responses => 1,
    }
}

fn is_final(shape: Shape, name: Option<&str>, v: &Value) -> bool {
    match shape {
        Shape::Chat => v["choices"]
            .as_array()
            .is_some_and(|cs| cs.iter().any(|c| !c["finish_reason"].is_null())),
        Shape::Messages => name == Some("message_delta"),
        Shape::Responses => matches!(
            name.or(v["type"].as_str()),
            Some("response.completed" | "response.incomplete" | "response.failed")
        ),
    }
}

fn block_start(shape: Shape, name: Option<&str>, v: &Value) -> Option<u64> {
    (shape == Shape::Messages && name == Some("content_block_start"))
        .then(|| v["index"].as_u64().unwrap_or(0))
}

fn block_stop(shape: Shape, name: Option<&str>) -> bool {
    shape == Shape::Messages && name == Some("content_block_stop")
}

/// The largest char boundary at or below `i`.
fn floor(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Where the first whole event in `b` ends (just past its blank line); lines end in LF, CRLF
/// or a lone CR, as SSE allows, so a passed-through stream whose provider ends lines in CRLF
/// is read event by event too. A CR at the very end may be half of a CRLF: more is awaited.
fn event_end(b: &[u8]) -> Option<usize> {
    let mut line_start = 0;
    let mut i = 0;
    while let Some(at) = memchr::memchr2(b'\n', b'\r', &b[i..]) {
        let at = i + at;
        let next = match (b[at], b.get(at + 1)) {
            (b'\r', Some(b'\n')) => at + 2,
            (b'\r', None) => return None,
            _ => at + 1,
        };
        if at == line_start {
            return Some(next);
        }
        line_start = next;
        i = next;
    }
    None
}

/// An SSE event's name and data (data lines joined).
fn parse_event(raw: &[u8]) -> (Option<String>, Option<String>) {
    let text = String::from_utf8_lossy(raw);
    let mut name = None;
    let mut data: Option<String> = None;
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some(v) = line.strip_prefix("event:") {
            name = Some(v.trim_start().to_owned());
        } else if let Some(v) = line.strip_prefix("data:") {
            let v = v.strip_prefix(' ').unwrap_or(v);
            match &mut data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(v);
                }
                None => data = Some(v.to_owned()),
            }
        }
    }
    (name, data)
}

fn frame(name: Option<&str>, v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    if let Some(n) = name {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(n.as_bytes());
        out.push(b'\n');
    }
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(v.to_string().as_bytes());
    out.extend_from_slice(b"\n\n");
    out
}

#[cfg(test)]
mod tests;
