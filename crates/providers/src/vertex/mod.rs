//! Google Cloud Vertex AI: Gemini models (the Gemini API's bodies at Vertex URLs) and Anthropic's
//! Claude models (Messages bodies with `anthropic_version` and no `model`, at `rawPredict` /
//! `streamRawPredict`), both under
//! `{base}/v1/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:{method}`.
//! Requests carry an OAuth access token, which the server obtains from a service account.

pub mod embed;
pub mod format;

use crate::endpoint::{BuildError, Endpoint};

use crate::Operation;
use bytes::Bytes;
use http::Request;
use serde_json::{json, Value};

/// The `anthropic_version` Vertex requires in Claude request bodies.
pub const ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

/// The region used when none is configured.
pub const DEFAULT_LOCATION: &str = "us-central1";

/// Where on Vertex a provider's models live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub project: String,
    pub location: String,
}

/// The default API host for a region (`global` has no regional prefix).
pub fn default_base_url(location: &str) -> String {
    if location == "global" {
        "https://aiplatform.googleapis.com".to_owned()
    } else {
        format!("https://{location}-aiplatform.googleapis.com")
    }
}

/// Who publishes a model on Vertex, which decides its wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publisher {
    /// Gemini and Google's embedding models: the Gemini API's bodies.
    Google,
    /// Claude: Anthropic's Messages bodies.
    Anthropic,
}

impl Publisher {
    pub fn of(model: &str) -> Self {
        if model.starts_with("claude") {
            Publisher::Anthropic
        } else {
            Publisher::Google
        }
    }

    fn name(self) -> &'static str {
        match self {
            Publisher::Google => "google",
            Publisher::Anthropic => "anthropic",
        }
    }
}

/// Vertex model ids: letters, digits, `-`, `_`, `.` and `@` (Claude versions, `claude-x@date`).
pub fn valid_model(model: &str) -> bool {
    !model.is_empty()
        && model
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'))
}

fn method(publisher: Publisher, op: Operation, stream: bool) -> Option<&'static str> {
    Some(match (publisher, op) {
        (_, Operation::Completions) => return None,
        (Publisher::Google, Operation::Embeddings) => "predict",
        (Publisher::Google, Operation::CountTokens) => "countTokens",
        (Publisher::Google, _) if stream => "streamGenerateContent?alt=sse",
        (Publisher::Google, _) => "generateContent",
        (Publisher::Anthropic, Operation::Embeddings | Operation::CountTokens) => return None,
        (Publisher::Anthropic, _) if stream => "streamRawPredict",
        (Publisher::Anthropic, _) => "rawPredict",
    })
}

/// The request path for an operation on `model`.
pub fn path(loc: &Location, op: Operation, model: &str, stream: bool) -> Option<String> {
    let publisher = Publisher::of(model);
    let method = method(publisher, op, stream)?;
    Some(format!(
        "/v1/projects/{}/locations/{}/publishers/{}/models/{model}:{method}",
        loc.project,
        loc.location,
        publisher.name()
    ))
}

/// Builds the request for a body already in the model's format.
pub fn build_request(
    ep: &Endpoint,
    op: Operation,
    model: &str,
    body: Bytes,
    stream: bool,
) -> Result<Request<Bytes>, BuildError> {
    let loc = ep.vertex.as_ref().ok_or(BuildError::Unsupported(op))?;
    if !valid_model(model) {
        return Err(BuildError::BadModel(model.to_owned()));
    }
    let path = path(loc, op, model, stream).ok_or(BuildError::Unsupported(op))?;
    Ok(ep.post(&path, body, stream)?)
}

/// A Messages body as Vertex takes it: no `model` (it is in the URL), `anthropic_version` set.
pub fn claude_body(mut messages: Value) -> Value {
    if let Some(m) = messages.as_object_mut() {
        m.remove("model");
        m.insert("anthropic_version".into(), json!(ANTHROPIC_VERSION));
    }
    messages
}

#[cfg(test)]
mod tests;
