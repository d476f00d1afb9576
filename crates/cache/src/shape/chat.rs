//! OpenAI chat completions: a whole answer re-streamed as chunks, and chunks gathered back
//! into the whole answer, so an answer cached from either kind of call serves both.

use serde_json::{json, Map, Value};

/// The chunks (`data:` events, then `data: [DONE]`) a streamed call gets for `whole`. With
/// `include_usage`, the usage chunk (no choices) comes before `[DONE]`, as OpenAI sends it.
pub fn to_events(whole: &Value, include_usage: bool) -> Vec<u8> {
    let mut head = Map::new();
    head.insert("id".into(), whole["id"].clone());
    head.insert("object".into(), json!("chat.completion.chunk"));
    head.insert("created".into(), whole["created"].clone());
    head.insert("model".into(), whole["model"].clone());
    for k in ["system_fingerprint", "service_tier"] {
        if let Some(v) = whole.get(k).filter(|v| !v.is_null()) {
            head.insert(k.into(), v.clone());
        }
    }
    let mut out = Vec::new();
    let mut emit = |choices: Value, usage: Option<&Value>| {
        let mut c = head.clone();
        c.insert("choices".into(), choices);
        if let Some(u) = usage {
            c.insert("usage".into(), u.clone());
        }
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(&serde_json::to_vec(&Value::Object(c)).unwrap_or_default());
        out.extend_from_slice(b"\n\n");
    };
    let choice = |index: &Value, delta: Value, finish: &Value| json!([{"index": index, "delta": delta, "logprobs": null, "finish_reason": finish}]);
    for ch in whole["choices"].as_array().into_iter().flatten() {
        let index = &ch["index"];
        let m = &ch["message"];
        let role = m["role"].as_str().unwrap_or("assistant");
        emit(
            choice(index, json!({"role": role, "content": ""}), &Value::Null),
            None,
        );
        for field in ["reasoning_content", "content", "refusal"] {
            if let Some(t) = m[field].as_str().filter(|t| !t.is_empty()) {
                emit(choice(index, json!({ field: t }), &Value::Null), None);
            }
        }
        for (i, tc) in m["tool_calls"].as_array().into_iter().flatten().enumerate() {
            let start = json!({"tool_calls": [{"index": i, "id": tc["id"], "type": "function",
                "function": {"name": tc["function"]["name"], "arguments": ""}}]});
            emit(choice(index, start, &Value::Null), None);
            if let Some(a) = tc["function"]["arguments"]
                .as_str()
                .filter(|a| !a.is_empty())
            {
                let args = json!({"tool_calls": [{"index": i, "function": {"arguments": a}}]});
                emit(choice(index, args, &Value::Null), None);
            }
        }
        emit(choice(index, json!({}), &ch["finish_reason"]), None);
    }
    if include_usage {
        if let Some(u) = whole.get("usage").filter(|u| u.is_object()) {
            emit(json!([]), Some(u));
        }
    }
    out.extend_from_slice(b"data: [DONE]\n\n");
    out
}

/// One choice as its chunks build it.
#[derive(Default)]
struct Choice {
    role: Option<String>,
    content: Option<String>,
    reasoning: Option<String>,
    refusal: Option<String>,
    /// By the chunks' tool-call index: id, name, arguments.
    calls: Vec<(u64, Value, Value, String)>,
    finish: Value,
}

/// Gathers a chat stream's chunks into the whole answer.
#[derive(Default)]
pub struct Gather {
    head: Option<Value>,
    choices: Vec<(u64, Choice)>,
    usage: Option<Value>,
    done: bool,
}

impl Gather {
    /// One event's `data` (a chunk, or `[DONE]`); false when it is not a chunk this can read
    /// (the answer is then not stored).
    pub fn push(&mut self, data: &str) -> bool {
        if data == "[DONE]" {
            self.done = true;
            return true;
        }
        let Ok(v) = serde_json::from_str::<Value>(data) else {
            return false;
        };
        if v.get("error").is_some() || v["object"] != "chat.completion.chunk" {
            return false;
        }
        if self.head.is_none() {
            self.head = Some(v.clone());
        }
        if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(u.clone());
        }
        for c in v["choices"].as_array().into_iter().flatten() {
            let index = c["index"].as_u64().unwrap_or(0);
            let at = match self.choices.iter().position(|(i, _)| *i == index) {
                Some(at) => at,
                None => {
                    self.choices.push((index, Choice::default()));
                    self.choices.len() - 1
                }
            };
            let ch = &mut self.choices[at].1;
            let d = &c["delta"];
            if let Some(r) = d["role"].as_str() {
                ch.role = Some(r.to_owned());
            }
            let append = |slot: &mut Option<String>, t: &Value| {
                if let Some(t) = t.as_str() {
                    slot.get_or_insert_with(String::new).push_str(t);
                }
            };
            append(&mut ch.content, &d["content"]);
            append(&mut ch.reasoning, &d["reasoning_content"]);
            append(&mut ch.refusal, &d["refusal"]);
            for tc in d["tool_calls"].as_array().into_iter().flatten() {
                let i = tc["index"].as_u64().unwrap_or(0);
                let at = match ch.calls.iter().position(|c| c.0 == i) {
                    Some(at) => at,
                    None => {
                        ch.calls.push((i, Value::Null, Value::Null, String::new()));
                        ch.calls.len() - 1
                    }
                };
                let call = &mut ch.calls[at];
                if !tc["id"].is_null() {
                    call.1 = tc["id"].clone();
                }
                if !tc["function"]["name"].is_null() {
                    call.2 = tc["function"]["name"].clone();
                }
                if let Some(a) = tc["function"]["arguments"].as_str() {
                    call.3.push_str(a);
                }
            }
            if !c["finish_reason"].is_null() {
                ch.finish = c["finish_reason"].clone();
            }
        }
        true
    }

    /// The whole answer, once the stream ended with `[DONE]` and every choice finished.
    pub fn finish(self) -> Option<Value> {
        let head = self.head?;
        if !self.done || self.choices.iter().any(|(_, c)| c.finish.is_null()) {
            return None;
        }
        let mut choices = self.choices;
        choices.sort_by_key(|(i, _)| *i);
        let choices: Vec<Value> = choices
            .into_iter()
            .map(|(index, c)| {
                let mut m = Map::new();
                m.insert(
                    "role".into(),
                    json!(c.role.unwrap_or_else(|| "assistant".into())),
                );
                let content = c.content.filter(|t| !t.is_empty());
                m.insert("content".into(), content.map_or(Value::Null, Value::String));
                if let Some(r) = c.reasoning {
                    m.insert("reasoning_content".into(), json!(r));
                }
                m.insert(
                    "refusal".into(),
                    c.refusal
                        .filter(|t| !t.is_empty())
                        .map_or(Value::Null, Value::String),
                );
                if !c.calls.is_empty() {
                    let mut calls = c.calls;
                    calls.sort_by_key(|c| c.0);
                    let calls: Vec<Value> = calls
                        .into_iter()
                        .map(|(_, id, name, args)| {
                            json!({"id": id, "type": "function",
                                "function": {"name": name, "arguments": args}})
                        })
                        .collect();
                    m.insert("tool_calls".into(), json!(calls));
                }
                json!({"index": index, "message": m, "logprobs": null, "finish_reason": c.finish})
            })
            .collect();
        let mut whole = Map::new();
        whole.insert("id".into(), head["id"].clone());
        whole.insert("object".into(), json!("chat.completion"));
        whole.insert("created".into(), head["created"].clone());
        whole.insert("model".into(), head["model"].clone());
        whole.insert("choices".into(), json!(choices));
        if let Some(u) = self.usage {
            whole.insert("usage".into(), u);
        }
        for k in ["system_fingerprint", "service_tier"] {
            if let Some(v) = head.get(k).filter(|v| !v.is_null()) {
                whole.insert(k.into(), v.clone());
            }
        }
        Some(Value::Object(whole))
    }
}

#[cfg(test)]
mod tests;
