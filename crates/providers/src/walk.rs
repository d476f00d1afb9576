//! One reading of an OpenAI chat request's `messages`, shared by every translator: roles
//! checked, content split into typed parts, tool calls parsed, and each tool result matched to
//! the call it answers. A translator maps the [`Turn`]s into its own format; what it cannot
//! carry it refuses by the part's path ([`Part::refuse`]).

use crate::translate::TranslateError;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// One message, with its path in the request (`messages[i]`) for errors.
#[derive(Debug)]
pub struct Message<'a> {
    pub path: String,
    pub turn: Turn<'a>,
}

/// What a message says, by role.
#[derive(Debug)]
pub enum Turn<'a> {
    /// A `system` or `developer` message.
    System(Content<'a>),
    User(Content<'a>),
    Assistant {
        content: Content<'a>,
        /// The reasoning an OpenAI-compatible host returned (`reasoning_content`), sent back.
        reasoning: Option<&'a str>,
        /// Signed thinking blocks (`thinking_blocks`: `{type: thinking, thinking, signature}` or
        /// `{type: redacted_thinking, data}`), as Anthropic models' answers carry them.
        thinking: &'a [Value],
        calls: Vec<Call<'a>>,
    },
    /// A `tool` message: the result of the call `call_id`, made by function `name` (known when
    /// an earlier assistant message made that call).
    Tool {
        call_id: &'a str,
        name: Option<&'a str>,
        content: Content<'a>,
    },
}

/// A message's `content`: a string, parts, or nothing.
#[derive(Debug, Clone, Copy)]
pub struct Content<'a> {
    pub raw: &'a Value,
    index: usize,
}

/// One content part, typed.
#[derive(Debug)]
pub struct Part<'a> {
    /// `messages[i].content[j]` (or `messages[i].content` for string content).
    pub path: String,
    /// The part as sent (for fields beside its content, such as `cache_control`).
    pub raw: &'a Value,
    pub kind: PartKind<'a>,
}

#[derive(Debug, PartialEq)]
pub enum PartKind<'a> {
    Text(&'a str),
    /// `image_url.url`: an http(s) or `data:` URL.
    Image(&'a str),
    /// `input_audio`: base64 data and its format (`wav`, `mp3`).
    Audio {
        data: &'a str,
        format: &'a str,
    },
    /// `file.file_data` (a `data:` URL), or `None` for an uploaded file's id.
    File(Option<&'a str>),
    /// A part type no translator takes (named in the refusal).
    Other(&'a str),
}

/// One call of an assistant message's `tool_calls`.
#[derive(Debug)]
pub struct Call<'a> {
    pub path: String,
    pub id: &'a str,
    pub name: &'a str,
    /// The arguments as sent (a JSON string; `{}` when missing).
    pub arguments: &'a str,
    /// The arguments parsed (`{}` for empty ones).
    pub input: Value,
}

impl Part<'_> {
    /// The part's prompt-caching mark, as OpenAI-shaped clients of Anthropic models set it.
    pub fn cache_control(&self) -> Option<&Value> {
        self.raw.get("cache_control")
    }

    /// The 400 for a part `target` cannot take.
    pub fn refuse(&self, target: &str) -> TranslateError {
        let what = match &self.kind {
            PartKind::Text(_) => "text",
            PartKind::Image(_) => "image_url",
            PartKind::Audio { .. } => "input_audio",
            PartKind::File(_) => "file",
            PartKind::Other(t) => t,
        };
        TranslateError::field(
            &self.path,
            format!("content part type '{what}' cannot be sent to {target}"),
        )
    }
}

impl<'a> Content<'a> {
    fn path(&self) -> String {
        format!("messages[{}].content", self.index)
    }

    /// No content at all (missing, null or an empty string).
    pub fn is_empty(&self) -> bool {
        match self.raw {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            _ => false,
        }
    }

    /// The text of the content: a string, or its text parts joined (for places that take only
    /// text, such as tool results in most formats).
    pub fn text(&self) -> String {
        match self.raw {
            Value::String(s) => s.clone(),
            Value::Array(items) => items
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(""),
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }

    /// The content as typed parts; a non-empty string is one text part.
    pub fn parts(&self) -> Result<Vec<Part<'a>>, TranslateError> {
        let path = self.path();
        match self.raw {
            Value::Null => Ok(Vec::new()),
            Value::String(s) if s.is_empty() => Ok(Vec::new()),
            Value::String(s) => Ok(vec![Part {
                path,
                raw: self.raw,
                kind: PartKind::Text(s),
            }]),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(j, p)| part(p, format!("{path}[{j}]")))
                .collect(),
            _ => Err(TranslateError::field(
                &path,
                "content must be a string or an array of parts",
            )),
        }
    }
}

fn part(p: &Value, path: String) -> Result<Part<'_>, TranslateError> {
    let required = |field: &str| TranslateError::field(&path, format!("{field} is required"));
    let str_at = |ptr: &str| p.pointer(ptr).and_then(Value::as_str);
    let kind = match p.get("type").and_then(Value::as_str) {
        Some("text") => PartKind::Text(str_at("/text").unwrap_or("")),
        Some("image_url") => {
            PartKind::Image(str_at("/image_url/url").ok_or_else(|| required("image_url.url"))?)
        }
        Some("input_audio") => PartKind::Audio {
            data: str_at("/input_audio/data").ok_or_else(|| required("input_audio.data"))?,
            format: str_at("/input_audio/format").unwrap_or("wav"),
        },
        Some("file") => PartKind::File(str_at("/file/file_data")),
        Some(other) => PartKind::Other(other),
        None => return Err(TranslateError::field(&path, "content part needs a type")),
    };
    Ok(Part { path, raw: p, kind })
}

fn call(c: &Value, path: String) -> Result<Call<'_>, TranslateError> {
    let name = c
        .pointer("/function/name")
        .and_then(Value::as_str)
        .ok_or_else(|| TranslateError::field(&format!("{path}.function.name"), "required"))?;
    let arguments = c
        .pointer("/function/arguments")
        .and_then(Value::as_str)
        .unwrap_or("{}");
    let input = if arguments.trim().is_empty() {
        json!({})
    } else {
        serde_json::from_str(arguments).map_err(|e| {
            TranslateError::field(
                &format!("{path}.function.arguments"),
                format!("tool call arguments must be JSON: {e}"),
            )
        })?
    };
    let id = c.get("id").and_then(Value::as_str).unwrap_or_default();
    Ok(Call {
        path,
        id,
        name,
        arguments,
        input,
    })
}

/// Reads the request's `messages`.
pub fn messages(req: &Map<String, Value>) -> Result<Vec<Message<'_>>, TranslateError> {
    let list = req
        .get("messages")
        .and_then(Value::as_array)
        .ok_or_else(|| TranslateError::field("messages", "messages must be an array"))?;
    // Tool results name the call; some formats need the function's name.
    let mut names: HashMap<&str, &str> = HashMap::new();
    let mut out = Vec::with_capacity(list.len());
    for (i, m) in list.iter().enumerate() {
        let path = format!("messages[{i}]");
        let role = m
            .get("role")
            .and_then(Value::as_str)
            .ok_or_else(|| TranslateError::field(&format!("{path}.role"), "role is required"))?;
        let content = Content {
            raw: m.get("content").unwrap_or(&Value::Null),
            index: i,
        };
        let turn = match role {
            "system" | "developer" => Turn::System(content),
            "user" => Turn::User(content),
            "assistant" => {
                let mut calls = Vec::new();
                let list = m.get("tool_calls").and_then(Value::as_array);
                for (j, c) in list.into_iter().flatten().enumerate() {
                    let c = call(c, format!("{path}.tool_calls[{j}]"))?;
                    names.insert(c.id, c.name);
                    calls.push(c);
                }
                Turn::Assistant {
                    content,
                    reasoning: m.get("reasoning_content").and_then(Value::as_str),
                    thinking: m
                        .get("thinking_blocks")
                        .and_then(Value::as_array)
                        .map_or(&[], Vec::as_slice),
                    calls,
                }
            }
            "tool" => {
                let call_id = m
                    .get("tool_call_id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        TranslateError::field(
                            &format!("{path}.tool_call_id"),
                            "tool messages need tool_call_id",
                        )
                    })?;
                Turn::Tool {
                    call_id,
                    name: names.get(call_id).copied(),
                    content,
                }
            }
            other => {
                return Err(TranslateError::field(
                    &format!("{path}.role"),
                    format!("unknown role '{other}'"),
                ))
            }
        };
        out.push(Message { path, turn });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn reads_every_role_part_and_call() {
        let req = obj(json!({"messages": [
            {"role": "developer", "content": "be brief"},
            {"role": "user", "content": [
                {"type": "text", "text": "what is this?", "cache_control": {"type": "ephemeral"}},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
                {"type": "input_audio", "input_audio": {"data": "UklG"}},
                {"type": "file", "file": {"file_id": "file-1"}},
                {"type": "refusal", "refusal": "no"}
            ]},
            {"role": "assistant", "content": null, "reasoning_content": "hm",
             "thinking_blocks": [{"type": "thinking", "thinking": "hm", "signature": "s1"}],
             "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}},
                            {"id": "c2", "type": "function", "function": {"name": "g", "arguments": ""}}]},
            {"role": "tool", "tool_call_id": "c2", "content": [{"type": "text", "text": "o"}, {"type": "text", "text": "k"}]},
            {"role": "tool", "tool_call_id": "zz", "content": "?"}
        ]}));
        let m = messages(&req).unwrap();
        assert_eq!(m.len(), 5);
        let Turn::System(c) = &m[0].turn else {
            panic!("{:?}", m[0])
        };
        assert_eq!(c.parts().unwrap()[0].kind, PartKind::Text("be brief"));
        let Turn::User(c) = &m[1].turn else {
            panic!("{:?}", m[1])
        };
        let parts = c.parts().unwrap();
        let kinds: Vec<&PartKind> = parts.iter().map(|p| &p.kind).collect();
        assert_eq!(
            kinds,
            [
                &PartKind::Text("what is this?"),
                &PartKind::Image("data:image/png;base64,AA=="),
                &PartKind::Audio {
                    data: "UklG",
                    format: "wav"
                },
                &PartKind::File(None),
                &PartKind::Other("refusal"),
            ]
        );
        assert!(parts[0].cache_control().is_some());
        let e = parts[4].refuse("a Gemini model");
        assert_eq!(e.param.as_deref(), Some("messages[1].content[4]"));
        assert!(e.message.contains("'refusal'"), "{}", e.message);
        let Turn::Assistant {
            content,
            reasoning,
            thinking,
            calls,
        } = &m[2].turn
        else {
            panic!("{:?}", m[2])
        };
        assert!(content.is_empty());
        assert_eq!(*reasoning, Some("hm"));
        assert_eq!(thinking[0]["signature"], "s1");
        assert_eq!(calls[0].input, json!({"a": 1}));
        assert_eq!((calls[1].name, &calls[1].input), ("g", &json!({})));
        assert_eq!(calls[1].path, "messages[2].tool_calls[1]");
        let Turn::Tool { name, content, .. } = &m[3].turn else {
            panic!("{:?}", m[3])
        };
        assert_eq!((*name, content.text().as_str()), (Some("g"), "ok"));
        let Turn::Tool { name, .. } = &m[4].turn else {
            panic!("{:?}", m[4])
        };
        assert_eq!(*name, None, "no earlier call has that id");
    }

    #[test]
    fn bad_messages_are_refused_by_path() {
        let cases = [
            (json!({}), "messages"),
            (json!({"messages": [{"content": "x"}]}), "messages[0].role"),
            (
                json!({"messages": [{"role": "robot", "content": "x"}]}),
                "messages[0].role",
            ),
            (
                json!({"messages": [{"role": "tool"}]}),
                "messages[0].tool_call_id",
            ),
            (
                json!({"messages": [{"role": "assistant", "tool_calls": [{"function": {"arguments": "{}"}}]}]}),
                "messages[0].tool_calls[0].function.name",
            ),
            (
                json!({"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{oops"}}]}]}),
                "messages[0].tool_calls[0].function.arguments",
            ),
        ];
        for (req, path) in cases {
            let e = messages(&obj(req.clone())).err().unwrap();
            assert_eq!(e.param.as_deref(), Some(path), "{req}");
        }
        let bad_parts = [
            (
                json!({"messages": [{"role": "user", "content": 3}]}),
                "messages[0].content",
            ),
            (
                json!({"messages": [{"role": "user", "content": [{"text": "x"}]}]}),
                "messages[0].content[0]",
            ),
            (
                json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]}),
                "messages[0].content[0]",
            ),
        ];
        for (req, path) in bad_parts {
            let m = obj(req.clone());
            let walked = messages(&m).unwrap();
            let Turn::User(c) = &walked[0].turn else {
                panic!("{req}")
            };
            let e = c.parts().err().unwrap();
            assert_eq!(e.param.as_deref(), Some(path), "{req}");
        }
    }
}
