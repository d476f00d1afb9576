//! What a translating adapter reports when a request cannot be expressed upstream, and the
//! request readers the translating adapters share.

use serde_json::{json, Map, Value};

/// A request field the upstream cannot represent; becomes a 400 naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslateError {
    pub message: String,
    pub param: Option<String>,
}

impl TranslateError {
    pub fn field(param: &str, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            param: Some(param.to_owned()),
        }
    }
}

/// What a translation may leave out of a request the target cannot fully take.
/// Ordered from the strictest: `Strict < Default < Lenient`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Policy {
    /// Nothing is left out: every field the target cannot take is a 400 naming it.
    Strict,
    /// Advisory fields (hints, metadata, caching and context-management directives, client
    /// bookkeeping, and fields the gateway does not know) are left out and named; contract
    /// fields (whose loss would change what the answer must contain) are a 400.
    #[default]
    Default,
    /// Contract fields are left out too (and named).
    Lenient,
}

impl Policy {
    pub fn name(self) -> &'static str {
        match self {
            Policy::Strict => "strict",
            Policy::Default => "default",
            Policy::Lenient => "lenient",
        }
    }
}

/// The fields a translation left out, by their path in the caller's request (`tools[3]`,
/// `context_management`), under the policy that allowed it.
#[derive(Debug, Default)]
pub struct Fields {
    pub policy: Policy,
    pub dropped: Vec<String>,
}

impl Fields {
    pub fn new(policy: Policy) -> Self {
        Self {
            policy,
            dropped: Vec::new(),
        }
    }

    /// Renames the fields left out since the `first`th with `caller_name`: a field left out
    /// from the chat request a Messages or Responses body became is named as the caller sent it.
    pub fn rename_since(&mut self, first: usize, caller_name: fn(&str) -> Option<&'static str>) {
        for name in self.dropped.iter_mut().skip(first) {
            if let Some(n) = caller_name(name) {
                *name = n.to_owned();
            }
        }
    }

    fn drop(&mut self, path: &str) {
        if !self.dropped.iter().any(|d| d == path) {
            self.dropped.push(path.to_owned());
        }
    }

    /// A field the target cannot take whose loss does not change what the answer must contain:
    /// left out and named, or a 400 under the strict policy.
    pub fn advisory(&mut self, path: &str, why: impl Into<String>) -> Result<(), TranslateError> {
        if self.policy == Policy::Strict {
            return Err(TranslateError::field(path, why));
        }
        self.drop(path);
        Ok(())
    }

    /// A field the target cannot take whose loss would change what the answer must contain: a
    /// 400 naming it, or left out and named under the lenient policy.
    pub fn contract(&mut self, path: &str, why: impl Into<String>) -> Result<(), TranslateError> {
        if self.policy == Policy::Lenient {
            self.drop(path);
            return Ok(());
        }
        Err(TranslateError::field(path, why))
    }

    /// A chat-completions field the target (`target`, e.g. "an Anthropic model") does not
    /// carry, classed by what it asks of the answer ([`chat_field_is_contract`]).
    pub fn uncarried_chat(
        &mut self,
        field: &str,
        value: &Value,
        target: &str,
    ) -> Result<(), TranslateError> {
        if chat_field_asks_nothing(field, value) {
            return Ok(()); // nothing to carry, nothing to name
        }
        let why = format!("'{field}' cannot be sent to {target}");
        if chat_field_is_contract(field, value) {
            self.contract(field, why)
        } else {
            self.advisory(field, why)
        }
    }
}

/// Whether a chat-completions field's value says nothing: null, or the API's own default
/// (`n: 1`, `logprobs: false`, penalties of 0, parallel tool calls allowed).
pub fn chat_field_asks_nothing(field: &str, value: &Value) -> bool {
    value.is_null()
        || match field {
            "n" => value.as_u64() == Some(1),
            "logprobs" => value.as_bool() == Some(false),
            "frequency_penalty" | "presence_penalty" => value.as_f64() == Some(0.0),
            "parallel_tool_calls" => value.as_bool() == Some(true),
            _ => false,
        }
}

/// Whether a chat-completions field, with this value, asks for something in the answer that a
/// target without it could not give: several choices, log probabilities, token biases, audio.
/// Every other field (sampling hints, penalties, seeds, metadata, storage and caching hints,
/// client bookkeeping, fields unknown to the gateway) is advisory.
pub fn chat_field_is_contract(field: &str, value: &Value) -> bool {
    match field {
        "n" => value.as_u64().is_some_and(|n| n > 1),
        "logprobs" => value.as_bool() == Some(true),
        "top_logprobs" => value.as_u64().is_some_and(|n| n > 0),
        "logit_bias" => value.as_object().is_some_and(|m| !m.is_empty()),
        "audio" => !value.is_null(),
        "modalities" => value
            .as_array()
            .is_some_and(|m| m.iter().any(|x| x.as_str() == Some("audio"))),
        _ => false,
    }
}

/// The thinking budget (tokens) for an OpenAI `reasoning_effort`, shared by the formats that
/// take a budget (Anthropic, Gemini, Cohere): none/minimal turn thinking off; low is Anthropic's
/// minimum budget; high is Gemini 2.5 Flash's maximum, so `xhigh` (GPT-5's level above high,
/// sent by Codex) and Anthropic's `max` get it too: a larger budget would be refused there.
pub fn thinking_budget(effort: &str) -> Option<u64> {
    Some(match effort {
        "none" | "minimal" => 0,
        "low" => 1024,
        "medium" => 8192,
        "high" | "xhigh" | "max" => 24576,
        _ => return None,
    })
}

/// A Claude model's family and version from any id that holds `claude-<family>-<major>[-<minor>]`
/// (Anthropic's, Vertex's `@date` ids, Bedrock's `us.anthropic.` ids); None for other models
/// and for older names that put the version first (`claude-3-5-sonnet`).
fn claude_version(model: &str) -> Option<(&str, u64, u64)> {
    let at = model.find("claude-")?;
    let mut parts = model[at + "claude-".len()..].split(['-', '@', ':', '.']);
    let family = parts.next()?;
    let number = |p: Option<&str>| p.and_then(|p| p.parse::<u64>().ok());
    match family {
        // Families that began after 4.6: every one of their models is new.
        "mythos" | "fable" => Some((family, u64::MAX, 0)),
        "opus" | "sonnet" | "haiku" => {
            let major = number(parts.next())?;
            // A date (`-20250929`) is not a minor version.
            let minor = number(parts.next()).filter(|m| *m < 100).unwrap_or(0);
            Some((family, major, minor))
        }
        _ => None,
    }
}

/// Why thinking is left out of a request whose last tool-use turn came back without its signed
/// thinking blocks (Claude refuses such a turn while thinking is on).
pub const THINKING_NEEDS_ITS_BLOCKS: &str = "Anthropic models think during a tool-use turn only when the assistant message's signed thinking blocks (thinking_blocks) are sent back";

/// Whether a Claude model thinks adaptively (`thinking: {type: adaptive}` with
/// `output_config.effort`), as Anthropic's documentation says of Claude 4.6 and later and of the
/// Mythos and Fable families; budget thinking is deprecated on 4.6 and refused from Opus 4.7 on.
pub fn thinks_adaptively(model: &str) -> bool {
    claude_version(model).is_some_and(|(_, major, minor)| (major, minor) >= (4, 6))
}

/// Anthropic's effort level for an OpenAI reasoning effort, on a model that thinks adaptively:
/// `xhigh` is Anthropic's `xhigh` from 4.7 on and its `max` on 4.6. `Some(None)`: no thinking;
/// None: an unknown effort.
pub fn anthropic_effort(effort: &str, model: &str) -> Option<Option<&'static str>> {
    let has_xhigh = claude_version(model).is_some_and(|(_, major, minor)| (major, minor) >= (4, 7));
    Some(match effort {
        "none" | "minimal" => None,
        "low" => Some("low"),
        "medium" => Some("medium"),
        "high" => Some("high"),
        "xhigh" if has_xhigh => Some("xhigh"),
        "xhigh" | "max" => Some("max"),
        _ => return None,
    })
}

/// The tool that carries JSON-mode answers for formats without a JSON mode (Anthropic, Bedrock):
/// the request offers only it and forces it, and its input comes back as the message content.
pub const JSON_TOOL: &str = "switchyard_json_response";

/// The input schema of the JSON tool for an OpenAI `response_format`, or `None` for text.
pub fn json_tool_schema(
    response_format: &serde_json::Value,
) -> Result<Option<serde_json::Value>, TranslateError> {
    match response_format
        .get("type")
        .and_then(serde_json::Value::as_str)
    {
        None | Some("text") => Ok(None),
        Some("json_object") => Ok(Some(serde_json::json!({"type": "object"}))),
        Some("json_schema") => Ok(Some(
            response_format
                .pointer("/json_schema/schema")
                .cloned()
                .unwrap_or_else(|| serde_json::json!({"type": "object"})),
        )),
        Some(other) => Err(TranslateError::field(
            "response_format",
            format!("unknown response_format type \"{other}\""),
        )),
    }
}

/// OpenAI's `stop` (a string or a list) as a list.
pub fn stop_list(v: &serde_json::Value) -> Result<serde_json::Value, TranslateError> {
    match v {
        serde_json::Value::String(s) => Ok(serde_json::json!([s])),
        serde_json::Value::Array(_) => Ok(v.clone()),
        _ => Err(TranslateError::field(
            "stop",
            "stop must be a string or an array",
        )),
    }
}

/// The media type and base64 data of a `data:` URL (`None` when `url` is not one).
pub fn data_url<'a>(
    url: &'a str,
    path: &str,
) -> Result<Option<(&'a str, &'a str)>, TranslateError> {
    let Some(rest) = url.strip_prefix("data:") else {
        return Ok(None);
    };
    let (meta, data) = rest
        .split_once(',')
        .ok_or_else(|| TranslateError::field(path, "malformed data URL"))?;
    let mime = meta
        .strip_suffix(";base64")
        .ok_or_else(|| TranslateError::field(path, "data URLs must be base64-encoded"))?;
    Ok(Some((mime, data)))
}

/// Appends `new` items to a conversation turn of `role`, merging into the previous turn when the
/// role repeats (formats that require alternating roles, and parallel tool results that must
/// share one turn); `key` is where a turn keeps its items (`content`, or Gemini's `parts`).
pub fn push_turn(
    turns: &mut Vec<serde_json::Value>,
    role: &str,
    key: &str,
    new: Vec<serde_json::Value>,
) {
    if new.is_empty() {
        return;
    }
    if let Some(last) = turns.last_mut() {
        if last.get("role").and_then(serde_json::Value::as_str) == Some(role) {
            if let Some(serde_json::Value::Array(items)) = last.get_mut(key) {
                items.extend(new);
                return;
            }
        }
    }
    let mut turn = serde_json::Map::new();
    turn.insert("role".into(), serde_json::json!(role));
    turn.insert(key.into(), serde_json::Value::Array(new));
    turns.push(serde_json::Value::Object(turn));
}

/// One OpenAI function tool, checked, for the adapters that rewrite tools into their own shape.
pub struct FunctionTool<'a> {
    /// Position in `tools`, for error paths.
    pub index: usize,
    /// The whole `tools[i]` entry (for fields beside `function`, such as `cache_control`).
    pub entry: &'a Value,
    pub function: &'a Value,
    pub name: &'a str,
    /// `description`, when given and not null.
    pub description: Option<&'a Value>,
    /// `parameters`, when given and not null.
    pub parameters: Option<&'a Value>,
}

impl FunctionTool<'_> {
    /// The parameters schema, or an empty object schema for a function that takes none.
    pub fn schema_or_empty(&self) -> Value {
        self.parameters
            .cloned()
            .unwrap_or_else(|| json!({"type": "object", "properties": {}}))
    }
}

/// The caller's `tools` as function tools (none for null). Anything but a function tool, or a
/// function without a name, is a 400 naming the entry; `upstream` names who cannot take it.
pub fn function_tools<'a>(
    tools: &'a Value,
    upstream: &str,
) -> Result<Vec<FunctionTool<'a>>, TranslateError> {
    if tools.is_null() {
        return Ok(Vec::new());
    }
    let list = tools
        .as_array()
        .ok_or_else(|| TranslateError::field("tools", "tools must be an array"))?;
    list.iter()
        .enumerate()
        .map(|(index, entry)| {
            let function = entry.get("function").ok_or_else(|| {
                TranslateError::field(
                    &format!("tools[{index}]"),
                    format!("only function tools can be sent to {upstream}"),
                )
            })?;
            let name = function
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    TranslateError::field(
                        &format!("tools[{index}].function.name"),
                        "tool name is required",
                    )
                })?;
            let present = |k: &str| function.get(k).filter(|v| !v.is_null());
            Ok(FunctionTool {
                index,
                entry,
                function,
                name,
                description: present("description"),
                parameters: present("parameters"),
            })
        })
        .collect()
}

/// An OpenAI `tool_choice`, read once for the adapters that rewrite it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolChoice<'a> {
    Auto,
    None,
    Required,
    /// `{"type": "function", "function": {"name": ...}}`: this function must be called.
    Function(&'a str),
}

/// The caller's `tool_choice`; `None` for null. Unknown strings and objects without a function
/// name are a 400 on `tool_choice`.
pub fn tool_choice(v: &Value) -> Result<Option<ToolChoice<'_>>, TranslateError> {
    let bad = |m: String| TranslateError::field("tool_choice", m);
    Ok(Some(match v {
        Value::Null => return Ok(None),
        Value::String(s) => match s.as_str() {
            "auto" => ToolChoice::Auto,
            "none" => ToolChoice::None,
            "required" => ToolChoice::Required,
            other => return Err(bad(format!("unknown tool_choice \"{other}\""))),
        },
        Value::Object(_) => ToolChoice::Function(
            v.pointer("/function/name")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("tool_choice object needs function.name".into()))?,
        ),
        _ => return Err(bad("invalid tool_choice".into())),
    }))
}

/// The request's `messages` array.
pub fn request_messages(obj: &Map<String, Value>) -> Result<&Vec<Value>, TranslateError> {
    obj.get("messages")
        .and_then(Value::as_array)
        .ok_or_else(|| TranslateError::field("messages", "messages must be an array"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_tools_are_read_and_checked() {
        let v = json!([
            {"type": "function", "cache_control": {"type": "ephemeral"},
             "function": {"name": "a", "description": "d", "parameters": null}},
            {"type": "function", "function": {"name": "b", "parameters": {"type": "object"}}}
        ]);
        let tools = function_tools(&v, "X").unwrap();
        assert_eq!(tools.len(), 2);
        assert_eq!(
            (tools[0].name, tools[0].description),
            ("a", Some(&json!("d")))
        );
        assert_eq!(
            tools[0].schema_or_empty(),
            json!({"type": "object", "properties": {}})
        );
        assert!(tools[0].entry.get("cache_control").is_some());
        assert_eq!(
            (tools[1].index, tools[1].parameters),
            (1, Some(&json!({"type": "object"})))
        );
        assert!(function_tools(&Value::Null, "X").unwrap().is_empty());
    }

    #[test]
    fn every_openai_effort_has_a_budget() {
        let budgets: Vec<Option<u64>> = ["none", "minimal", "low", "medium", "high", "xhigh"]
            .iter()
            .map(|e| thinking_budget(e))
            .collect();
        assert_eq!(
            budgets,
            [
                Some(0),
                Some(0),
                Some(1024),
                Some(8192),
                Some(24576),
                Some(24576)
            ]
        );
        assert_eq!(thinking_budget("extreme"), None);
    }

    #[test]
    fn messages_are_required() {
        let e = request_messages(&Map::new()).err().unwrap();
        assert_eq!(e.param.as_deref(), Some("messages"));
    }

    #[test]
    fn tool_choice_reads_every_form() {
        assert_eq!(tool_choice(&Value::Null).unwrap(), None);
        assert_eq!(
            tool_choice(&json!("required")).unwrap(),
            Some(ToolChoice::Required)
        );
        let named = json!({"type": "function", "function": {"name": "f"}});
        assert_eq!(
            tool_choice(&named).unwrap(),
            Some(ToolChoice::Function("f"))
        );
        for bad in [json!("sometimes"), json!({"type": "function"}), json!(3)] {
            let e = tool_choice(&bad).err().unwrap();
            assert_eq!(e.param.as_deref(), Some("tool_choice"), "{bad}");
        }
    }

    #[test]
    fn other_tools_and_nameless_functions_are_refused_by_path() {
        let e = function_tools(&json!([{"type": "web_search"}]), "Gemini")
            .err()
            .unwrap();
        assert_eq!(e.param.as_deref(), Some("tools[0]"));
        assert!(e.message.contains("Gemini"), "{}", e.message);
        let e = function_tools(&json!([{"function": {}}]), "X")
            .err()
            .unwrap();
        assert_eq!(e.param.as_deref(), Some("tools[0].function.name"));
        let e = function_tools(&json!({"a": 1}), "X").err().unwrap();
        assert_eq!(e.param.as_deref(), Some("tools"));
    }
}
