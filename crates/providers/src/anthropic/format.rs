//! Anthropic's Messages API as a [`Format`]: Messages and count_tokens pass through; chat is
//! translated (`request`), answers are read back by `response` and `stream`.

use super::{build_request, request, response, stream};
use crate::endpoint::{BuildError, Endpoint};
use crate::format::{Answers, ChunkStream, Format, StreamError, Wire};
use crate::translate::{Fields, TranslateError};
use crate::Operation;
use bytes::Bytes;
use http::{HeaderName, Request};
use serde_json::Value;

pub struct Anthropic;

static FORWARD: [HeaderName; 3] = [
    HeaderName::from_static("tracestate"),
    HeaderName::from_static("anthropic-beta"),
    HeaderName::from_static("anthropic-version"),
];

impl Format for Anthropic {
    fn name(&self) -> &'static str {
        "anthropic"
    }

    fn otel_name(&self) -> &'static str {
        "anthropic"
    }

    fn answers(&self, _model: &str) -> Wire {
        Wire::Anthropic
    }

    fn passes_through(&self, _ep: &Endpoint, op: Operation) -> bool {
        matches!(op, Operation::Messages | Operation::CountTokens)
    }

    fn native_request(
        &self,
        ep: &Endpoint,
        op: Operation,
        _model: &str,
        body: Bytes,
        stream: bool,
    ) -> Result<Request<Bytes>, BuildError> {
        build_request(ep, op, body, stream)
    }

    fn chat_body(
        &self,
        chat: &Value,
        model: &str,
        fields: &mut Fields,
    ) -> Result<(Operation, Value), TranslateError> {
        Ok((
            Operation::Messages,
            request::from_openai(chat, model, fields)?,
        ))
    }

    fn counts_tokens(&self, _model: &str) -> bool {
        true
    }

    fn forwarded_headers(&self) -> &'static [HeaderName] {
        &FORWARD
    }
}

impl Answers for Anthropic {
    fn chat_response(&self, body: Value, _model: &str, created: u64) -> Value {
        response::to_openai(&body, created)
    }

    fn chat_stream(&self, created: u64, include_usage: bool, _model: &str) -> Box<dyn ChunkStream> {
        Box::new(stream::ChunkTranslator::new(created, include_usage))
    }
}

impl ChunkStream for stream::ChunkTranslator {
    fn on_event(&mut self, event: Option<&str>, data: &str) -> Result<Vec<String>, StreamError> {
        let parsed: Value = serde_json::from_str(data).map_err(|e| {
            (
                "api_error".to_owned(),
                format!("upstream sent a malformed event: {e}"),
            )
        })?;
        // The `event:` line names the event; its data's `type` says the same when it is missing.
        let name = event
            .or_else(|| parsed.get("type").and_then(Value::as_str))
            .unwrap_or_default()
            .to_owned();
        match self.translate(&name, &parsed) {
            stream::Out::Data(chunks) => Ok(chunks),
            stream::Out::Error(kind, msg) => Err((kind, msg)),
        }
    }
}
