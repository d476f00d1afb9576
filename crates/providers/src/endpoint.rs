//! Where and how to reach a provider, and the request every adapter's call starts from.

use crate::AuthStyle;
use bytes::Bytes;
use http::{header, HeaderName, HeaderValue, Method, Request};

/// Where and how to reach one provider.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Base URL without a trailing slash, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    pub auth: AuthStyle,
    /// The header value carrying the key, prepared once at start-up.
    pub auth_value: Option<HeaderValue>,
    /// Extra headers sent on every request (from config).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Set for Azure OpenAI: requests go to deployment URLs with this `api-version`.
    pub azure_api_version: Option<String>,
    /// Set for Vertex AI: the project and region in every path.
    pub vertex: Option<crate::vertex::Location>,
    /// The provider serves OpenAI's Responses API itself: `/v1/responses` passes through.
    pub native_responses: bool,
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

/// The header a provider's key goes in; `None` when it takes none.
pub fn auth_name(auth: &AuthStyle) -> Option<HeaderName> {
    match auth {
        AuthStyle::Bearer => Some(header::AUTHORIZATION),
        AuthStyle::Header(name) => HeaderName::from_bytes(name.as_bytes()).ok(),
        AuthStyle::None => None,
    }
}

impl Endpoint {
    /// A JSON POST to `path` under the base URL, with credentials and extra headers.
    pub fn post(
        &self,
        path: &str,
        body: Bytes,
        stream: bool,
    ) -> Result<Request<Bytes>, http::Error> {
        // Names and values set straight into the map: the builder's `header` would parse and
        // copy each one again on every request.
        const JSON: HeaderValue = HeaderValue::from_static("application/json");
        const EVENT_STREAM: HeaderValue = HeaderValue::from_static("text/event-stream");
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(format!("{}{}", self.base_url, path))
            .body(body)?;
        let h = req.headers_mut();
        h.insert(header::CONTENT_TYPE, JSON);
        h.insert(header::ACCEPT, if stream { EVENT_STREAM } else { JSON });
        if let (Some(name), Some(value)) = (auth_name(&self.auth), &self.auth_value) {
            h.append(name, value.clone());
        }
        for (k, v) in &self.headers {
            h.append(k.clone(), v.clone());
        }
        Ok(req)
    }
}

/// Why an upstream request could not be built.
#[derive(Debug)]
pub enum BuildError {
    /// The provider's wire format has no such operation.
    Unsupported(crate::Operation),
    /// The model name cannot be used where the provider puts it (an Azure deployment in a URL).
    BadModel(String),
    Http(http::Error),
}

impl From<http::Error> for BuildError {
    fn from(e: http::Error) -> Self {
        BuildError::Http(e)
    }
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::Unsupported(op) => write!(f, "this provider does not serve {}", op.name()),
            BuildError::BadModel(m) => write!(f, "'{m}' is not a valid deployment name"),
            BuildError::Http(e) => write!(f, "{e}"),
        }
    }
}
