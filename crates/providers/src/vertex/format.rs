//! Google Cloud Vertex AI as a [`Format`]: Gemini models in Gemini's format, Claude models in
//! Anthropic's (Messages requests keep their body, with the model in the URL).

use super::{build_request, claude_body, embed, Publisher};
use crate::embeddings::EmbedEcho;
use crate::endpoint::{BuildError, Endpoint};
use crate::format::{to_bytes, AdaptError, Format, Wire};
use crate::translate::{Fields, TranslateError};
use crate::{anthropic, gemini, Operation};
use bytes::Bytes;
use http::{HeaderName, Request};
use serde_json::Value;

pub struct Vertex;

static FORWARD: [HeaderName; 2] = [
    HeaderName::from_static("tracestate"),
    HeaderName::from_static("anthropic-beta"),
];

impl Format for Vertex {
    fn name(&self) -> &'static str {
        "vertex"
    }

    fn otel_name(&self) -> &'static str {
        "gcp.vertex_ai"
    }

    fn answers(&self, model: &str) -> Wire {
        match Publisher::of(model) {
            Publisher::Google => Wire::Gemini,
            Publisher::Anthropic => Wire::Anthropic,
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

    fn chat_body(
        &self,
        chat: &Value,
        model: &str,
        fields: &mut Fields,
    ) -> Result<(Operation, Value), TranslateError> {
        let body = match Publisher::of(model) {
            Publisher::Google => gemini::request::from_openai(chat, fields)?,
            Publisher::Anthropic => {
                claude_body(anthropic::request::from_openai(chat, model, fields)?)
            }
        };
        Ok((Operation::ChatCompletions, body))
    }

    fn messages_request(
        &self,
        ep: &Endpoint,
        body: &Value,
        model: &str,
        stream: bool,
    ) -> Option<Result<Request<Bytes>, BuildError>> {
        (Publisher::of(model) == Publisher::Anthropic).then(|| {
            let body = to_bytes(&claude_body(body.clone()));
            build_request(ep, Operation::Messages, model, body, stream)
        })
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

    fn counts_tokens(&self, model: &str) -> bool {
        Publisher::of(model) == Publisher::Google
    }

    /// Vertex's countTokens takes the generateContent fields at its top level.
    fn count_tokens_request(
        &self,
        ep: &Endpoint,
        chat: &Value,
        model: &str,
        fields: &mut Fields,
    ) -> Result<Request<Bytes>, AdaptError> {
        if Publisher::of(model) != Publisher::Google {
            return Err(AdaptError::Build(BuildError::Unsupported(
                Operation::CountTokens,
            )));
        }
        let mut body = gemini::request::from_openai(chat, fields)?;
        if let Some(m) = body.as_object_mut() {
            // countTokens takes contents, systemInstruction and tools, not generation settings.
            m.remove("generationConfig");
            m.remove("toolConfig");
        }
        Ok(build_request(
            ep,
            Operation::CountTokens,
            model,
            to_bytes(&body),
            false,
        )?)
    }

    fn forwarded_headers(&self) -> &'static [HeaderName] {
        &FORWARD
    }
}
