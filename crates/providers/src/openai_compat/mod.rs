//! The OpenAI wire format: requests pass through byte-faithfully but for the model name.

use crate::{AuthStyle, Operation};
use bytes::Bytes;
use http::{header, HeaderName, HeaderValue, Method, Request};

/// Where and how to reach one OpenAI-compatible provider.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Base URL without a trailing slash, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    pub auth: AuthStyle,
    /// The header value carrying the key, prepared once at start-up.
    pub auth_value: Option<HeaderValue>,
    /// Extra headers sent on every request (from config).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// The path appended to the base URL for an operation.
pub fn path(op: Operation) -> &'static str {
    match op {
        Operation::ChatCompletions => "/chat/completions",
        Operation::Completions => "/completions",
        Operation::Embeddings => "/embeddings",
    }
}

/// Prepares the credential header value for a key, marked sensitive so it never prints.
pub fn auth_value(auth: &AuthStyle, key: &str) -> Option<HeaderValue> {
    let text = match auth {
        AuthStyle::Bearer => format!("Bearer {key}"),
        AuthStyle::Header(_) => key.to_owned(),
        AuthStyle::None => return None,
    };
    let mut v = HeaderValue::from_str(&text).ok()?;
    v.set_sensitive(true);
    Some(v)
}

fn auth_name(auth: &AuthStyle) -> Option<HeaderName> {
    match auth {
        AuthStyle::Bearer => Some(header::AUTHORIZATION),
        AuthStyle::Header(name) => HeaderName::from_bytes(name.as_bytes()).ok(),
        AuthStyle::None => None,
    }
}

/// Builds the upstream request. `body` already carries the upstream model name.
pub fn build_request(
    ep: &Endpoint,
    op: Operation,
    body: Bytes,
    stream: bool,
) -> Result<Request<Bytes>, http::Error> {
    let mut b = Request::builder()
        .method(Method::POST)
        .uri(format!("{}{}", ep.base_url, path(op)))
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            header::ACCEPT,
            if stream {
                "text/event-stream"
            } else {
                "application/json"
            },
        );
    if let (Some(name), Some(value)) = (auth_name(&ep.auth), &ep.auth_value) {
        b = b.header(name, value.clone());
    }
    for (k, v) in &ep.headers {
        b = b.header(k, v);
    }
    b.body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(auth: AuthStyle, key: &str) -> Endpoint {
        Endpoint {
            base_url: "http://127.0.0.1:9000/v1".into(),
            auth_value: auth_value(&auth, key),
            auth,
            headers: vec![(
                HeaderName::from_static("x-extra"),
                HeaderValue::from_static("1"),
            )],
        }
    }

    #[test]
    fn bearer_request() {
        let r = build_request(
            &ep(AuthStyle::Bearer, "sk-1"),
            Operation::ChatCompletions,
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
            Bytes::new(),
            false,
        )
        .unwrap();
        assert!(r.headers().get("authorization").is_none());
        assert_eq!(r.uri(), "http://127.0.0.1:9000/v1/completions");
    }
}
