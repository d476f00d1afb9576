//! What a translating adapter reports when a request cannot be expressed upstream.

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

/// The thinking budget (tokens) for an OpenAI `reasoning_effort`, shared by the formats that
/// take a budget (Anthropic, Gemini, Cohere): none/minimal turn thinking off; low is Anthropic's
/// minimum budget; high is Gemini 2.5 Flash's maximum.
pub fn thinking_budget(effort: &str) -> Option<u64> {
    Some(match effort {
        "none" | "minimal" => 0,
        "low" => 1024,
        "medium" => 8192,
        "high" => 24576,
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
