//! The OpenAI wire format: requests pass through byte-faithfully but for the model name.

pub mod format;
pub mod messages;

use crate::endpoint::{BuildError, Endpoint};
use crate::Operation;
use bytes::Bytes;
use http::Request;

/// The path appended to the base URL for an operation; `None` for Anthropic's operations.
pub fn path(op: Operation) -> Option<&'static str> {
    match op {
        Operation::ChatCompletions => Some("/chat/completions"),
        Operation::Completions => Some("/completions"),
        Operation::Embeddings => Some("/embeddings"),
        // Only for providers that serve the Responses API themselves (`Endpoint::native_responses`).
        Operation::Responses => Some("/responses"),
        Operation::Messages | Operation::CountTokens => None,
    }
}

/// Builds the upstream request. `body` already carries the upstream `model`, which Azure
/// endpoints also take as the deployment in the URL.
pub fn build_request(
    ep: &Endpoint,
    op: Operation,
    model: &str,
    body: Bytes,
    stream: bool,
) -> Result<Request<Bytes>, BuildError> {
    if let Some(version) = &ep.azure_api_version {
        if !crate::azure::valid_deployment(model) {
            return Err(BuildError::BadModel(model.to_owned()));
        }
        let path = crate::azure::path(op, model, version).ok_or(BuildError::Unsupported(op))?;
        return Ok(ep.post(&path, body, stream)?);
    }
    let path = path(op).ok_or(BuildError::Unsupported(op))?;
    Ok(ep.post(path, body, stream)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::auth_value;
    use crate::AuthStyle;
    use http::{HeaderName, HeaderValue};

    fn ep(auth: AuthStyle, key: &str) -> Endpoint {
        Endpoint {
            base_url: "http://127.0.0.1:9000/v1".into(),
            auth_value: auth_value(&auth, key),
            auth,
            headers: vec![(
                HeaderName::from_static("x-extra"),
                HeaderValue::from_static("1"),
            )],
            azure_api_version: None,
            vertex: None,
            native_responses: false,
        }
    }

    #[test]
    fn bearer_request() {
        let r = build_request(
            &ep(AuthStyle::Bearer, "sk-1"),
            Operation::ChatCompletions,
            "m",
            Bytes::from_static(b"{}"),
            true,
        )
        .unwrap();
        assert_eq!(r.uri(), "http://127.0.0.1:9000/v1/chat/completions");
        assert_eq!(r.headers()["authorization"], "Bearer sk-1");
        assert!(r.headers()["authorization"].is_sensitive());
        assert_eq!(r.headers()["accept"], "text/event-stream");
        assert_eq!(r.headers()["x-extra"], "1");
    }

    #[test]
    fn named_header_and_no_auth() {
        let r = build_request(
            &ep(AuthStyle::Header("api-key".into()), "k"),
            Operation::Embeddings,
            "m",
            Bytes::new(),
            false,
        )
        .unwrap();
        assert_eq!(r.uri(), "http://127.0.0.1:9000/v1/embeddings");
        assert_eq!(r.headers()["api-key"], "k");
        assert!(r.headers().get("authorization").is_none());
        let r = build_request(
            &ep(AuthStyle::None, "k"),
            Operation::Completions,
            "m",
            Bytes::new(),
            false,
        )
        .unwrap();
        assert!(r.headers().get("authorization").is_none());
        assert_eq!(r.uri(), "http://127.0.0.1:9000/v1/completions");
    }
}
