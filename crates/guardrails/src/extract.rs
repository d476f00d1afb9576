//! Where the texts are in the three inbound APIs' requests and whole answers (OpenAI chat and
//! completions, embeddings, Anthropic Messages, OpenAI Responses): each string as a JSON
//! pointer with its source, so a check reads it and a redaction writes it back in place.
//! Structured tool arguments (Anthropic's `tool_use.input`) are read leaf by leaf.

use crate::check::{Prompt, Source};
use serde_json::Value;
use std::collections::HashMap;

/// One text in a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// JSON pointer to the string.
    pub pointer: String,
    pub source: Source,
    /// The tool, for a call's arguments or a tool's result.
    pub tool: Option<String>,
}

struct Out(Vec<Located>);

impl Out {
    fn add(&mut self, v: &Value, pointer: String, source: Source, tool: Option<&str>) {
        if v.is_string() {
            self.0.push(Located {
                pointer,
                source,
                tool: tool.map(str::to_owned),
            });
        }
    }

    /// Every string leaf under `v` (structured tool arguments).
    fn leaves(&mut self, v: &Value, pointer: String, source: Source, tool: Option<&str>) {
        match v {
            Value::String(_) => self.add(v, pointer, source, tool),
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    self.leaves(x, format!("{pointer}/{i}"), source, tool);
                }
            }
            Value::Object(o) => {
                for (k, x) in o {
                    self.leaves(x, format!("{pointer}/{}", escape(k)), source, tool);
                }
            }
            _ => {}
        }
    }

    /// A `content` that is a string or an array of parts with `text` (OpenAI's `text`,
    /// `input_text`, `output_text`; Anthropic's `text`).
    fn content(&mut self, v: &Value, pointer: String, source: Source, tool: Option<&str>) {
        match v {
            Value::String(_) => self.add(v, pointer, source, tool),
            Value::Array(parts) => {
                for (j, p) in parts.iter().enumerate() {
                    if let Some(t) = p.get("text") {
                        self.add(t, format!("{pointer}/{j}/text"), source, tool);
                    }
                }
            }
            _ => {}
        }
    }
}

/// A JSON pointer's escaping of a key.
fn escape(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}

fn arr<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = (usize, &'a Value)> {
    v.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

/// The texts of a request to `operation` (`chat.completions`, `completions`, `embeddings`,
/// `messages`, `responses`).
pub fn request_texts(operation: &str, body: &Value) -> Vec<Located> {
    let mut out = Out(Vec::new());
    match operation {
        "chat.completions" => chat_request(body, &mut out),
        "completions" => prompts(body, "prompt", &mut out),
        "embeddings" => prompts(body, "input", &mut out),
        "messages" | "count_tokens" => messages_request(body, &mut out),
        "responses" => responses_request(body, &mut out),
        _ => {}
    }
    out.0
}

fn prompts(body: &Value, key: &str, out: &mut Out) {
    match body.get(key) {
        Some(v @ Value::String(_)) => out.add(v, format!("/{key}"), Source::Input, None),
        Some(Value::Array(a)) => {
            for (i, v) in a.iter().enumerate() {
                out.add(v, format!("/{key}/{i}"), Source::Input, None);
            }
        }
        _ => {}
    }
}

fn chat_request(body: &Value, out: &mut Out) {
    // Tool results name their call; the call names the tool.
    let mut tools: HashMap<&str, &str> = HashMap::new();
    for (_, m) in arr(body, "messages") {
        for (_, c) in arr(m, "tool_calls") {
            if let (Some(id), Some(name)) = (
                c.get("id").and_then(Value::as_str),
                c.pointer("/function/name").and_then(Value::as_str),
            ) {
                tools.insert(id, name);
            }
        }
    }
    for (i, m) in arr(body, "messages") {
        let at = format!("/messages/{i}");
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        if let Some(c) = m.get("content") {
            if role == "tool" {
                let tool = m
                    .get("tool_call_id")
                    .and_then(Value::as_str)
                    .and_then(|id| tools.get(id).copied());
                out.content(c, format!("{at}/content"), Source::ToolResult, tool);
            } else {
                out.content(c, format!("{at}/content"), Source::Input, None);
            }
        }
        for (k, c) in arr(m, "tool_calls") {
            let name = c.pointer("/function/name").and_then(Value::as_str);
            if let Some(a) = c.pointer("/function/arguments") {
                out.add(
                    a,
                    format!("{at}/tool_calls/{k}/function/arguments"),
                    Source::ToolCall,
                    name,
                );
            }
        }
    }
}

fn messages_request(body: &Value, out: &mut Out) {
    if let Some(s) = body.get("system") {
        out.content(s, "/system".into(), Source::Input, None);
    }
    let mut tools: HashMap<&str, &str> = HashMap::new();
    for (_, m) in arr(body, "messages") {
        for (_, b) in arr(m, "content") {
            if b.get("type").and_then(Value::as_str) == Some("tool_use") {
                if let (Some(id), Some(name)) = (
                    b.get("id").and_then(Value::as_str),
                    b.get("name").and_then(Value::as_str),
                ) {
                    tools.insert(id, name);
                }
            }
        }
    }
    for (i, m) in arr(body, "messages") {
        let at = format!("/messages/{i}/content");
        match m.get("content") {
            Some(v @ Value::String(_)) => out.add(v, at, Source::Input, None),
            Some(Value::Array(blocks)) => {
                for (j, b) in blocks.iter().enumerate() {
                    let here = format!("{at}/{j}");
                    match b.get("type").and_then(Value::as_str) {
                        Some("text") => {
                            if let Some(t) = b.get("text") {
                                out.add(t, format!("{here}/text"), Source::Input, None);
                            }
                        }
                        Some("tool_use") => {
                            let name = b.get("name").and_then(Value::as_str);
                            if let Some(input) = b.get("input") {
                                out.leaves(input, format!("{here}/input"), Source::ToolCall, name);
                            }
                        }
                        Some("tool_result") => {
                            let tool = b
                                .get("tool_use_id")
                                .and_then(Value::as_str)
                                .and_then(|id| tools.get(id).copied());
                            if let Some(c) = b.get("content") {
                                out.content(c, format!("{here}/content"), Source::ToolResult, tool);
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
}

fn responses_request(body: &Value, out: &mut Out) {
    if let Some(s) = body.get("instructions") {
        out.add(s, "/instructions".into(), Source::Input, None);
    }
    let mut tools: HashMap<&str, &str> = HashMap::new();
    for (_, item) in arr(body, "input") {
        if item.get("type").and_then(Value::as_str) == Some("function_call") {
            if let (Some(id), Some(name)) = (
                item.get("call_id").and_then(Value::as_str),
                item.get("name").and_then(Value::as_str),
            ) {
                tools.insert(id, name);
            }
        }
    }
    match body.get("input") {
        Some(v @ Value::String(_)) => out.add(v, "/input".into(), Source::Input, None),
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let at = format!("/input/{i}");
                match item.get("type").and_then(Value::as_str) {
                    Some("function_call") => {
                        let name = item.get("name").and_then(Value::as_str);
                        if let Some(a) = item.get("arguments") {
                            out.add(a, format!("{at}/arguments"), Source::ToolCall, name);
                        }
                    }
                    Some("function_call_output") => {
                        let tool = item
                            .get("call_id")
                            .and_then(Value::as_str)
                            .and_then(|id| tools.get(id).copied());
                        if let Some(o) = item.get("output") {
                            out.content(o, format!("{at}/output"), Source::ToolResult, tool);
                        }
                    }
                    Some("message") | None => {
                        if let Some(c) = item.get("content") {
                            out.content(c, format!("{at}/content"), Source::Input, None);
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// The texts of a whole answer to `operation`, in the caller's shape.
pub fn answer_texts(operation: &str, body: &Value) -> Vec<Located> {
    let mut out = Out(Vec::new());
    match operation {
        "chat.completions" => {
            for (i, c) in arr(body, "choices") {
                let at = format!("/choices/{i}/message");
                let Some(m) = c.get("message") else { continue };
                for key in ["content", "refusal", "reasoning_content"] {
                    if let Some(v) = m.get(key) {
                        out.add(v, format!("{at}/{key}"), Source::Output, None);
                    }
                }
                for (k, t) in arr(m, "tool_calls") {
                    let name = t.pointer("/function/name").and_then(Value::as_str);
                    if let Some(a) = t.pointer("/function/arguments") {
                        out.add(
                            a,
                            format!("{at}/tool_calls/{k}/function/arguments"),
                            Source::ToolCall,
                            name,
                        );
                    }
                }
            }
        }
        "completions" => {
            for (i, c) in arr(body, "choices") {
                if let Some(t) = c.get("text") {
                    out.add(t, format!("/choices/{i}/text"), Source::Output, None);
                }
            }
        }
        "messages" => {
            for (j, b) in arr(body, "content") {
                let at = format!("/content/{j}");
                match b.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        if let Some(t) = b.get("text") {
                            out.add(t, format!("{at}/text"), Source::Output, None);
                        }
                    }
                    Some("thinking") => {
                        if let Some(t) = b.get("thinking") {
                            out.add(t, format!("{at}/thinking"), Source::Output, None);
                        }
                    }
                    Some("tool_use") => {
                        let name = b.get("name").and_then(Value::as_str);
                        if let Some(input) = b.get("input") {
                            out.leaves(input, format!("{at}/input"), Source::ToolCall, name);
                        }
                    }
                    _ => {}
                }
            }
        }
        "responses" => {
            for (i, item) in arr(body, "output") {
                let at = format!("/output/{i}");
                match item.get("type").and_then(Value::as_str) {
                    Some("message") => {
                        for (j, p) in arr(item, "content") {
                            for key in ["text", "refusal"] {
                                if let Some(t) = p.get(key) {
                                    out.add(
                                        t,
                                        format!("{at}/content/{j}/{key}"),
                                        Source::Output,
                                        None,
                                    );
                                }
                            }
                        }
                    }
                    Some("function_call") => {
                        let name = item.get("name").and_then(Value::as_str);
                        if let Some(a) = item.get("arguments") {
                            out.add(a, format!("{at}/arguments"), Source::ToolCall, name);
                        }
                    }
                    Some("reasoning") => {
                        for (j, p) in arr(item, "summary") {
                            if let Some(t) = p.get("text") {
                                out.add(t, format!("{at}/summary/{j}/text"), Source::Output, None);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    out.0
}

/// The text of a message's `content`: a string, or its text parts joined by newlines (tool
/// results, images and the like left out).
fn content_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter(|p| {
                matches!(
                    p.get("type").and_then(Value::as_str),
                    None | Some("text" | "input_text")
                )
            })
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// Messages with roles under `key`: system and developer ones make the system prompt; the last
/// user one with text is the user's.
fn roles(body: &Value, key: &str, system: &mut Vec<String>, user: &mut Option<String>) {
    for (_, m) in arr(body, key) {
        let text = || m.get("content").map(content_text).unwrap_or_default();
        match m.get("role").and_then(Value::as_str) {
            Some("system" | "developer") => system.push(text()),
            // A turn of tool results only is not what the user said.
            Some("user") => {
                let t = text();
                if !t.trim().is_empty() {
                    *user = Some(t);
                }
            }
            _ => {}
        }
    }
}

/// A request's system prompt and last user message, for the checks that compare an answer
/// with them (`Check::with_prompt`).
pub fn prompt(operation: &str, body: &Value) -> Prompt {
    let mut system: Vec<String> = Vec::new();
    let mut user = None;
    match operation {
        "chat.completions" => roles(body, "messages", &mut system, &mut user),
        "messages" | "count_tokens" => {
            if let Some(s) = body.get("system") {
                system.push(content_text(s));
            }
            roles(body, "messages", &mut system, &mut user);
        }
        "responses" => {
            if let Some(s) = body.get("instructions").and_then(Value::as_str) {
                system.push(s.to_owned());
            }
            match body.get("input") {
                Some(Value::String(s)) => user = Some(s.clone()),
                Some(_) => roles(body, "input", &mut system, &mut user),
                None => {}
            }
        }
        "completions" => {
            user = match body.get("prompt") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Array(a)) => a.iter().rev().find_map(Value::as_str).map(str::to_owned),
                _ => None,
            };
        }
        _ => {}
    }
    system.retain(|s| !s.trim().is_empty());
    Prompt {
        system: system.join("\n"),
        user: user.unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn seen(op: &str, body: &Value, answer: bool) -> Vec<(String, Source, Option<String>)> {
        let found = if answer {
            answer_texts(op, body)
        } else {
            request_texts(op, body)
        };
        found
            .into_iter()
            .map(|l| {
                let text = body
                    .pointer(&l.pointer)
                    .and_then(Value::as_str)
                    .unwrap()
                    .to_owned();
                (text, l.source, l.tool)
            })
            .collect()
    }

    #[test]
    fn the_prompt_is_the_system_prompt_and_the_last_user_message() {
        let chat = json!({"messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [{"type": "text", "text": "second"}, {"type": "image_url", "image_url": {"url": "x"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "result"}
        ]});
        assert_eq!(
            prompt("chat.completions", &chat),
            Prompt {
                system: "Be brief.\nAnswer in French.".into(),
                user: "second".into()
            }
        );
        let messages = json!({"system": [{"type": "text", "text": "You are Acme's assistant."}],
        "messages": [
            {"role": "user", "content": "where is my order?"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "orders", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "shipped"}]}
        ]});
        assert_eq!(
            prompt("messages", &messages),
            Prompt {
                system: "You are Acme's assistant.".into(),
                user: "where is my order?".into()
            }
        );
        let responses = json!({"instructions": "Be kind.", "input": [
            {"role": "system", "content": "No pricing."},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hola"}]},
            {"type": "function_call_output", "call_id": "c", "output": "x"}
        ]});
        assert_eq!(
            prompt("responses", &responses),
            Prompt {
                system: "Be kind.\nNo pricing.".into(),
                user: "hola".into()
            }
        );
        assert_eq!(
            prompt("responses", &json!({"input": "hi"})).user,
            "hi".to_owned()
        );
        assert_eq!(
            prompt("completions", &json!({"prompt": ["a", "b"]})).user,
            "b".to_owned()
        );
        assert_eq!(
            prompt("embeddings", &json!({"input": "x"})),
            Prompt::default()
        );
    }

    #[test]
    fn chat_requests_name_each_text_and_tool() {
        let body = json!({"messages": [
            {"role": "system", "content": "sys"},
            {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "x"}}]},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "search", "arguments": "{\"q\":\"a\"}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "result"}
        ]});
        assert_eq!(
            seen("chat.completions", &body, false),
            vec![
                ("sys".into(), Source::Input, None),
                ("hi".into(), Source::Input, None),
                (
                    "{\"q\":\"a\"}".into(),
                    Source::ToolCall,
                    Some("search".into())
                ),
                ("result".into(), Source::ToolResult, Some("search".into())),
            ]
        );
    }

    #[test]
    fn messages_requests_read_system_blocks_tool_inputs_and_results() {
        let body = json!({"system": [{"type": "text", "text": "sys"}], "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "read", "input": {"path": "a/b", "n": 2}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "data"}]}]}
        ]});
        assert_eq!(
            seen("messages", &body, false),
            vec![
                ("sys".into(), Source::Input, None),
                ("hi".into(), Source::Input, None),
                ("a/b".into(), Source::ToolCall, Some("read".into())),
                ("data".into(), Source::ToolResult, Some("read".into())),
            ]
        );
        // Keys with '/' are escaped in the pointer.
        let odd = json!({"messages": [{"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {"a/b": "v"}}]}]});
        assert_eq!(seen("messages", &odd, false)[0].0, "v");
    }

    #[test]
    fn responses_requests_and_answers() {
        let body = json!({"instructions": "be brief", "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "q"}]},
            {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c", "output": "out"}
        ]});
        assert_eq!(seen("responses", &body, false).len(), 4);
        assert_eq!(
            seen("responses", &json!({"input": "just this"}), false)[0].0,
            "just this"
        );
        let answer = json!({"output": [
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "think"}]},
            {"type": "message", "content": [{"type": "output_text", "text": "answer"}]},
            {"type": "function_call", "name": "g", "arguments": "{\"x\":1}"}
        ]});
        assert_eq!(
            seen("responses", &answer, true),
            vec![
                ("think".into(), Source::Output, None),
                ("answer".into(), Source::Output, None),
                ("{\"x\":1}".into(), Source::ToolCall, Some("g".into())),
            ]
        );
    }

    #[test]
    fn chat_and_messages_answers() {
        let chat = json!({"choices": [{"message": {"content": "hello", "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}]}}]});
        assert_eq!(seen("chat.completions", &chat, true).len(), 2);
        let msg = json!({"content": [{"type": "thinking", "thinking": "hm"}, {"type": "text", "text": "yo"}, {"type": "tool_use", "name": "f", "input": {"k": "v"}}]});
        assert_eq!(
            seen("messages", &msg, true),
            vec![
                ("hm".into(), Source::Output, None),
                ("yo".into(), Source::Output, None),
                ("v".into(), Source::ToolCall, Some("f".into())),
            ]
        );
    }
}
