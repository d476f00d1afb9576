//! The OpenAI-compatible format as a [`Format`]: chat, completions and embeddings pass through;
//! answers are already chat.

use super::build_request;
use crate::endpoint::{BuildError, Endpoint};
use crate::format::{Answers, ChunkStream, Format, StreamError, Wire};
use crate::translate::{Fields, TranslateError};
use crate::Operation;
use bytes::Bytes;
use http::{HeaderName, Request};
use serde_json::{json, Value};

pub struct OpenAiCompatible;

static FORWARD: [HeaderName; 2] = [
    HeaderName::from_static("tracestate"),
    HeaderName::from_static("openai-beta"),
];

impl Format for OpenAiCompatible {
    fn name(&self) -> &'static str {
        "openai"
    }

    fn otel_name(&self) -> &'static str {
        "openai"
    }

    fn answers(&self, _model: &str) -> Wire {
        Wire::OpenAi
    }

    fn passes_through(&self, ep: &Endpoint, op: Operation) -> bool {
        match op {
            Operation::ChatCompletions | Operation::Completions | Operation::Embeddings => true,
            Operation::Responses => ep.native_responses,
            Operation::Messages | Operation::CountTokens => false,
        }
    }

    fn native_request(
        &self,
        ep: &Endpoint,
        op: Operation,
        model: &str,
        body: Bytes,
        stream: bool,
    ) -> Result<Request<Bytes>, BuildError> {
        build_request(ep, op, model, body, stream)
    }

    /// A chat request translated from another API (Messages, Responses), for an
    /// OpenAI-compatible host: the pivot's own extensions that OpenAI's API does not take
    /// (`top_k`) are left out and named; signed thinking sent back (`thinking_blocks`, which only
    /// Anthropic-family models can use) is left out, as the caller's own API allows.
    fn chat_body(
        &self,
        chat: &Value,
        model: &str,
        fields: &mut Fields,
    ) -> Result<(Operation, Value), TranslateError> {
        let mut chat = chat.clone();
        chat["model"] = json!(model);
        if let Some(obj) = chat.as_object_mut() {
            if obj.remove("top_k").is_some_and(|v| !v.is_null()) {
                fields.advisory(
                    "top_k",
                    "'top_k' cannot be sent to an OpenAI-compatible model",
                )?;
            }
            if let Some(messages) = obj.get_mut("messages").and_then(Value::as_array_mut) {
                for m in messages.iter_mut() {
                    if let Some(m) = m.as_object_mut() {
                        m.remove("thinking_blocks");
                    }
                }
                // A reasoning item alone (no text, no calls) leaves nothing to send.
                messages.retain(|m| {
                    m["role"] != "assistant"
                        || !m["content"].is_null()
                        || m.get("tool_calls").is_some()
                });
            }
        }
        Ok((Operation::ChatCompletions, chat))
    }

    fn forwarded_headers(&self) -> &'static [HeaderName] {
        &FORWARD
    }
}

impl Answers for OpenAiCompatible {
    fn chat_response(&self, body: Value, _model: &str, _created: u64) -> Value {
        body
    }

    fn chat_stream(
        &self,
        _created: u64,
        _include_usage: bool,
        _model: &str,
    ) -> Box<dyn ChunkStream> {
        Box::new(Chunks)
    }
}

/// Chat chunks relayed as they come.
#[derive(Debug)]
struct Chunks;

impl ChunkStream for Chunks {
    fn on_event(&mut self, _event: Option<&str>, data: &str) -> Result<Vec<String>, StreamError> {
        Ok(vec![data.to_owned()])
    }
}
