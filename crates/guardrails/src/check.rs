//! What a check is: it reads a text (a request's, an answer's, a tool call's arguments or a
//! tool's result) or the request itself, and reports findings. A check only finds; the policy
//! it is in decides what a finding does.

use crate::text::Normalized;
use serde::Serialize;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::ops::Range;

/// Where a text comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The caller's messages (system, user, assistant turns it sent).
    Input,
    /// The answer's text: content and reasoning.
    Output,
    /// A tool call's arguments, in an answer or in the history the caller sent.
    ToolCall,
    /// A tool's result the caller sent back (where indirect injection arrives).
    ToolResult,
}

/// Input and tool results: what a request carries.
pub const IN: &[Source] = &[Source::Input, Source::ToolResult];
/// Answers and their tool calls.
pub const OUT: &[Source] = &[Source::Output, Source::ToolCall];
/// Everywhere.
pub const ALL: &[Source] = &[
    Source::Input,
    Source::Output,
    Source::ToolCall,
    Source::ToolResult,
];

/// The longest stretch of text one finding covers: a stream is read in windows that overlap
/// by at least this much, so a finding split across two deltas is still found. A check that
/// reads text around a match to decide it (a word's edges, a negation before it) counts that
/// text too: cut off from it at a window's start, the match may read differently, and only
/// findings that end more than a span after the window's start are decided there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// At most this many bytes.
    Bytes(usize),
    /// The check needs the whole text (a count, a format): run at the end.
    Whole,
}

/// A text as a check reads it.
pub struct Subject<'a> {
    pub raw: &'a str,
    pub norm: &'a Normalized,
    pub source: Source,
    /// The tool, for a tool call's arguments or a tool's result.
    pub tool: Option<&'a str>,
}

impl Subject<'_> {
    /// The original bytes of a range of the normalized copy.
    pub fn raw_range(&self, r: Range<usize>) -> Range<usize> {
        self.norm.to_raw(r, self.raw)
    }
}

/// What a request-level check reads: the request, not its text.
pub struct RequestView<'a> {
    /// `chat.completions`, `messages`, `responses`, `embeddings`, ...
    pub operation: &'a str,
    /// The model the caller asked for, and the upstream model once resolved.
    pub model: &'a str,
    /// The request's metadata (`x-switchyard-metadata`, with the key's).
    pub metadata: &'a Map<String, Value>,
    /// The request body as sent.
    pub body: &'a Value,
}

/// What a request says that an answer's checks may compare the answer with: its system prompt
/// (system and developer messages, Anthropic's `system`, Responses' `instructions`) and its
/// last user message (`extract::prompt`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prompt {
    pub system: String,
    pub user: String,
}

/// One thing a check found.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Where, in the original text's bytes; `None` when the finding is about the whole (a
    /// count, a format, the request).
    pub span: Option<Range<usize>>,
    /// What was found (`email`, `aws_access_key`, `too many words`): names a redaction too.
    pub label: Cow<'static, str>,
    /// How sure, 0 to 1 (1 for an exact rule).
    pub score: f32,
}

impl Finding {
    pub fn at(span: Range<usize>, label: impl Into<Cow<'static, str>>) -> Finding {
        Finding {
            span: Some(span),
            label: label.into(),
            score: 1.0,
        }
    }

    pub fn whole(label: impl Into<Cow<'static, str>>) -> Finding {
        Finding {
            span: None,
            label: label.into(),
            score: 1.0,
        }
    }
}

/// A configured check.
pub trait Check: Send + Sync {
    /// Its id in the catalogue (`email`, `regex_match`).
    fn id(&self) -> &'static str;

    /// The texts it reads unless its policy says otherwise.
    fn sources(&self) -> &'static [Source] {
        ALL
    }

    /// How long a finding can be (for stream windows).
    fn span(&self) -> Span;

    /// Findings in a text; spans in `s.raw`'s bytes.
    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let _ = (s, out);
    }

    /// Findings about the request itself (model, metadata, parameters, tools offered).
    fn request(&self, r: &RequestView<'_>, out: &mut Vec<Finding>) {
        let _ = (r, out);
    }

    /// Whether it reads the request rather than texts.
    fn is_request_check(&self) -> bool {
        false
    }

    /// Whether its findings have spans that can be masked.
    fn redacts(&self) -> bool {
        false
    }

    /// Whether it compares answers with the request's prompt (a parameter left to the
    /// request: the prompt's language, the system prompt); see `with_prompt`.
    fn takes_prompt(&self) -> bool {
        false
    }

    /// This check for one request, given what it takes from the prompt; `None` when it takes
    /// nothing (its parameters say it all) or the prompt has nothing for it.
    fn with_prompt(&self, prompt: &Prompt) -> Option<Box<dyn Check>> {
        let _ = prompt;
        None
    }

    /// A check that asks a service (the server makes the call; `text` and `request` find
    /// nothing for it).
    fn call_out(&self) -> Option<&CallOut> {
        None
    }
}

/// What a check that calls out asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum CallOut {
    /// POST the request or the answer to an administrator's service, which says pass or fail
    /// and may send back a rewritten body.
    Webhook {
        url: String,
        headers: Vec<(String, String)>,
        timeout: std::time::Duration,
    },
    /// Send the texts to a configured provider's moderation endpoint (OpenAI's
    /// `/moderations` shape): fires when the provider flags them, or when a category's score
    /// reaches its threshold.
    Moderation {
        provider: String,
        model: String,
        /// Category → score that fires; categories not listed use `default_threshold`, and
        /// without one the provider's own `flagged`.
        thresholds: Vec<(String, f64)>,
        default_threshold: Option<f64>,
        timeout: std::time::Duration,
    },
    /// Amazon Bedrock Guardrails' `ApplyGuardrail` on a configured Bedrock provider (its
    /// region and credentials): fires when the guardrail intervenes by blocking; a guardrail
    /// that only masks gives its masked texts back as a rewrite.
    BedrockGuardrail {
        provider: String,
        guardrail_id: String,
        version: String,
        timeout: std::time::Duration,
    },
    /// Azure AI Content Safety's `text:analyze`: fires when a category's severity reaches its
    /// threshold or a blocklist matches.
    AzureContentSafety {
        /// The resource (`https://<name>.cognitiveservices.azure.com`), or `None` with `provider`.
        endpoint: Option<String>,
        /// A provider of the config whose base URL's origin and key are used instead.
        provider: Option<String>,
        key: Option<SecretParam>,
        /// Category (`Hate`, `SelfHarm`, `Sexual`, `Violence`) → least severity that fires.
        thresholds: Vec<(String, u8)>,
        default_threshold: u8,
        /// Categories analysed (empty: the service's default, all four).
        categories: Vec<String>,
        blocklists: Vec<String>,
        halt_on_blocklist_hit: bool,
        timeout: std::time::Duration,
    },
    /// A model the gateway serves (a model or a route) judges the text against `criteria`,
    /// answering `{"pass", "score", "reason"}`.
    LlmJudge {
        model: String,
        criteria: String,
        /// Fires when the score is under this (else when `pass` is false).
        threshold: Option<f64>,
        max_tokens: u32,
        timeout: std::time::Duration,
    },
    /// Embeddings from a model the gateway serves: the text's cosine similarity to reference
    /// examples (embedded once, cached) against a threshold.
    EmbeddingSimilarity {
        model: String,
        examples: Vec<String>,
        threshold: f64,
        /// `true`: fires when similar to none (stay on topic); `false`: when similar to any.
        require: bool,
        /// Asked of the model (`dimensions`), when set.
        dimensions: Option<u32>,
        timeout: std::time::Duration,
    },
}

/// A secret among a check's parameters (an API key): never in debug output.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretParam(pub String);

impl std::fmt::Debug for SecretParam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretParam(***)")
    }
}

impl CallOut {
    /// How long the call may take.
    pub fn timeout(&self) -> std::time::Duration {
        match self {
            CallOut::Webhook { timeout, .. }
            | CallOut::Moderation { timeout, .. }
            | CallOut::BedrockGuardrail { timeout, .. }
            | CallOut::AzureContentSafety { timeout, .. }
            | CallOut::LlmJudge { timeout, .. }
            | CallOut::EmbeddingSimilarity { timeout, .. } => *timeout,
        }
    }

    /// What is asked, for messages (`the webhook`).
    pub fn service(&self) -> &'static str {
        match self {
            CallOut::Webhook { .. } => "the webhook",
            CallOut::Moderation { .. } => "the moderation endpoint",
            CallOut::BedrockGuardrail { .. } => "the Bedrock guardrail",
            CallOut::AzureContentSafety { .. } => "Azure AI Content Safety",
            CallOut::LlmJudge { .. } => "the judge",
            CallOut::EmbeddingSimilarity { .. } => "the embedding model",
        }
    }
}

/// A check's parameters could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ParamError {
    /// The parameter (`patterns[2]`), empty for the whole object.
    pub path: String,
    pub message: String,
}

impl ParamError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> ParamError {
        ParamError {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Reads a check's parameters into `T`, naming the bad field.
pub fn params<T: serde::de::DeserializeOwned>(v: &Value) -> Result<T, ParamError> {
    let v = if v.is_null() {
        Value::Object(Map::new())
    } else {
        v.clone()
    };
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        ParamError::new(
            if path == "." { String::new() } else { path },
            e.into_inner().to_string(),
        )
    })
}
