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
