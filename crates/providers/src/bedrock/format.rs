//! Amazon Bedrock (Converse, InvokeModel for embeddings) as a [`Format`]: everything is
//! translated through chat; streams arrive as AWS event-stream frames.

use super::{build_request, embed, request, response, stream};
use crate::embeddings::EmbedEcho;
use crate::endpoint::{BuildError, Endpoint};
use crate::format::{AdaptError, Answers, ChunkStream, Format, StreamError, Wire};
use crate::translate::{Fields, TranslateError};
use crate::Operation;
use bytes::Bytes;
use http::Request;
use serde_json::Value;

pub struct Bedrock;

/// An id for answers, since Bedrock's name none.
pub fn completion_id() -> String {
    format!("chatcmpl-{:016x}", fastrand::u64(..))
}

impl Format for Bedrock {
    fn name(&self) -> &'static str {
        "bedrock"
    }

    fn otel_name(&self) -> &'static str {
        "aws.bedrock"
    }

    fn answers(&self, _model: &str) -> Wire {
        Wire::Bedrock
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

impl Answers for Bedrock {
    fn chat_response(&self, body: Value, model: &str, created: u64) -> Value {
        response::to_openai(&body, &completion_id(), model, created)
    }

    fn chat_stream(&self, created: u64, include_usage: bool, model: &str) -> Box<dyn ChunkStream> {
        Box::new(stream::ChunkTranslator::new(
            created,
            include_usage,
            &completion_id(),
            model,
        ))
    }

    fn needs_inline_images(&self) -> bool {
        true
    }
}

impl ChunkStream for stream::ChunkTranslator {
    fn on_event(&mut self, event: Option<&str>, data: &str) -> Result<Vec<String>, StreamError> {
        self.translate(event.unwrap_or_default(), data)
    }

    fn finish(&mut self) -> Result<Vec<String>, StreamError> {
        self.close()
    }
}
