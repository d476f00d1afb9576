//! Cohere's v2 API as a [`Format`]: everything is translated through chat.

use super::{build_request, embed, request, response, stream};
use crate::embeddings::EmbedEcho;
use crate::endpoint::{BuildError, Endpoint};
use crate::format::{AdaptError, Answers, ChunkStream, Format, StreamError, Wire};
use crate::translate::{Fields, TranslateError};
use crate::Operation;
use bytes::Bytes;
use http::Request;
use serde_json::Value;

pub struct Cohere;

impl Format for Cohere {
    fn name(&self) -> &'static str {
        "cohere"
    }

    fn otel_name(&self) -> &'static str {
        "cohere"
    }

    fn answers(&self, _model: &str) -> Wire {
        Wire::Cohere
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
            Operation::ChatCompletions,
            request::from_openai(chat, model, fields)?,
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
}

impl Answers for Cohere {
    fn chat_response(&self, body: Value, model: &str, created: u64) -> Value {
        response::to_openai(&body, model, created)
    }

    fn chat_stream(&self, created: u64, include_usage: bool, model: &str) -> Box<dyn ChunkStream> {
        Box::new(stream::ChunkTranslator::new(created, include_usage, model))
    }
}

impl ChunkStream for stream::ChunkTranslator {
    fn on_event(&mut self, _event: Option<&str>, data: &str) -> Result<Vec<String>, StreamError> {
        self.on_data(data)
    }
}
