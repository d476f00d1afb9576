//! What a prompt is, as stored and as the admin API shows it: a prompt (a workspace's, with a
//! readable id) has immutable numbered versions and labels that point at them; a partial is a
//! named, versioned snippet that versions include (`{{> name}}`), pinned when the version is
//! made.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One message of a version: a role and its content, a template string or content parts
/// (`{"type": "text", "text": "..."}` with a template in `text`, or an image part whose URL
/// may be a template).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageTemplate {
    pub role: String,
    pub content: Value,
}

/// The types a variable may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum VarType {
    #[default]
    String,
    Number,
    Integer,
    Boolean,
    Object,
    Array,
    /// Content parts (an image, a file): an object part or an array of them, placed where the
    /// variable stands in a message.
    Content,
}

impl VarType {
    pub fn name(self) -> &'static str {
        match self {
            VarType::String => "string",
            VarType::Number => "number",
            VarType::Integer => "integer",
            VarType::Boolean => "boolean",
            VarType::Object => "object",
            VarType::Array => "array",
            VarType::Content => "content",
        }
    }
}

/// One declared variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VarSpec {
    pub name: String,
    #[serde(default, rename = "type")]
    pub kind: VarType,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// What a version holds besides its number and provenance: what `POST .../versions` takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct VersionBody {
    pub messages: Vec<MessageTemplate>,
    /// A model or route name; the caller's `model` wins when it sends one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Request parameters (`temperature`, `max_tokens`, ...); the caller's win.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub params: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<VarSpec>,
    /// Refuse variables the version does not declare (or, without declarations, does not use).
    #[serde(default)]
    pub strict: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An immutable version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Version {
    pub version: u32,
    #[serde(flatten)]
    pub body: VersionBody,
    /// The partial versions it includes, pinned when it was made.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub partials: BTreeMap<String, u32>,
    pub created_ms: i64,
    pub created_by: String,
}

/// A prompt: its id (unique in its workspace), what it is for, and where its labels point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptDoc {
    pub id: String,
    pub workspace: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Label → version number.
    #[serde(default)]
    pub labels: BTreeMap<String, u32>,
    /// The highest version number made.
    pub latest: u32,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// A partial: a named snippet with versions (text only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartialDoc {
    pub name: String,
    pub workspace: String,
    /// Version texts, the first being version 1.
    pub versions: Vec<PartialVersion>,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartialVersion {
    pub version: u32,
    pub template: String,
    pub created_ms: i64,
    pub created_by: String,
}

/// Ids and names: lowercase letters, digits, `-`, `_` and `.`, 1 to 64 of them, starting with
/// a letter or digit (readable in a URL and a file name).
pub fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
}

/// A version body that cannot be stored, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{param}: {message}")]
pub struct Invalid {
    pub param: String,
    pub message: String,
}

fn invalid(param: impl Into<String>, message: impl Into<String>) -> Invalid {
    Invalid {
        param: param.into(),
        message: message.into(),
    }
}

/// Roles a message may have.
pub const ROLES: [&str; 4] = ["system", "developer", "user", "assistant"];

/// Request fields a version sets through its own fields, not `params`.
const NOT_PARAMS: [&str; 9] = [
    "messages",
    "input",
    "model",
    "prompt",
    "stream",
    "tools",
    "tool_choice",
    "response_format",
    "system",
];

impl VersionBody {
    /// What a version must be before it is stored (its templates are checked by compiling).
    pub fn check(&self) -> Result<(), Invalid> {
        if self.messages.is_empty() {
            return Err(invalid("messages", "a version needs at least one message"));
        }
        for (i, m) in self.messages.iter().enumerate() {
            if !ROLES.contains(&m.role.as_str()) {
                return Err(invalid(
                    format!("messages[{i}].role"),
                    format!("must be one of {}", ROLES.join(", ")),
                ));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, v) in self.variables.iter().enumerate() {
            let ok = v
                .name
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                && v.name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && v.name.len() <= 64;
            if !ok {
                return Err(invalid(
                    format!("variables[{i}].name"),
                    "must be letters, digits and _, not starting with a digit (at most 64)",
                ));
            }
            if !seen.insert(v.name.as_str()) {
                return Err(invalid(
                    format!("variables[{i}].name"),
                    format!("\"{}\" is declared twice", v.name),
                ));
            }
            if let Some(d) = &v.default {
                let schema = crate::variables::Schema {
                    specs: vec![v.clone()],
                    used: Default::default(),
                    top: Default::default(),
                    strict: false,
                };
                let mut m = Map::new();
                m.insert(v.name.clone(), d.clone());
                if let Err(e) = schema.check(&m) {
                    return Err(invalid(format!("variables[{i}].default"), e.message));
                }
            }
        }
        for k in self.params.keys() {
            if NOT_PARAMS.contains(&k.as_str()) {
                return Err(invalid(
                    format!("params.{k}"),
                    "is not a parameter a version sets (messages, model, tools and response_format have fields of their own; stream is the caller's)",
                ));
            }
        }
        Ok(())
    }
}
