//! Google's Gemini API as a [`Format`]: everything is translated through chat.

use super::{build_request, embed, model_id, request, response, stream};
use crate::embeddings::EmbedEcho;
use crate::endpoint::{BuildError, Endpoint};
use crate::format::{to_bytes, AdaptError, Answers, ChunkStream, Format, StreamError, Wire};
use crate::translate::{Fields, TranslateError};
use crate::Operation;
use bytes::Bytes;
use http::Request;
use serde_json::{json, Value};

pub struct Gemini;

impl Format for Gemini {
    fn name(&self) -> &'static str {
        "gemini"
    }

    fn otel_name(&self) -> &'static str {
        "gcp.gemini"
    }

    fn answers(&self, _model: &str) -> Wire {
        Wire::Gemini
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

    fn chat_body(
        &self,
        chat: &Value,
        _model: &str,
        fields: &mut Fields,
    ) -> Result<(Operation, Value), TranslateError> {
        Ok((
            Operation::ChatCompletions,
            request::from_openai(chat, fields)?,
        ))
    }

    fn embeddings_body(
        &self,
        req: &Value,
        model: &str,
        fields: &mut Fields,
    ) -> Result<(Value, EmbedEcho), AdaptError> {
        Ok(embed::from_openai(req, model, fields)?)
    }

    fn embeddings_response(&self, body: &Value, echo: &EmbedEcho) -> Value {
        embed::to_openai(body, echo)
    }

    fn counts_tokens(&self, _model: &str) -> bool {
        true
    }

    fn count_tokens_request(
        &self,
        ep: &Endpoint,
        chat: &Value,
        model: &str,
        fields: &mut Fields,
    ) -> Result<Request<Bytes>, AdaptError> {
        let id = model_id(model).ok_or_else(|| BuildError::BadModel(model.to_owned()))?;
        let mut inner = request::from_openai(chat, fields)?;
        inner["model"] = json!(format!("models/{id}"));
        let body = json!({ "generateContentRequest": inner });
        Ok(build_request(
            ep,
            Operation::CountTokens,
            model,
            to_bytes(&body),
            false,
        )?)
    }
}

impl Answers for Gemini {
    fn chat_response(&self, body: Value, _model: &str, created: u64) -> Value {
        response::to_openai(&body, created)
    }

    fn chat_stream(&self, created: u64, include_usage: bool, _model: &str) -> Box<dyn ChunkStream> {
        Box::new(stream::ChunkTranslator::new(created, include_usage))
    }

    fn count_tokens_response(&self, body: &Value) -> u64 {
        body.get("totalTokens").and_then(Value::as_u64).unwrap_or(0)
    }

    fn needs_inline_images(&self) -> bool {
        true
    }
}

impl ChunkStream for stream::ChunkTranslator {
    fn on_event(&mut self, _event: Option<&str>, data: &str) -> Result<Vec<String>, StreamError> {
        self.on_data(data)
    }

    fn finish(&mut self) -> Result<Vec<String>, StreamError> {
        self.end()
    }
}
