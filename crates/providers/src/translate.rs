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
