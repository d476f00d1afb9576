//! Upstream connections: one pooled keep-alive HTTP client per provider, TCP_NODELAY on,
//! TLS by rustls with the system's roots (Mozilla's when the system has none).

use crate::error::GatewayError;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;
use switchyard_config::{Provider, Timeouts};
use switchyard_providers::openai_compat::{self, Endpoint};
use switchyard_providers::AuthStyle;

pub type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Everything needed to call one provider.
pub struct Upstream {
    pub name: String,
    pub endpoint: Endpoint,
    pub timeouts: Timeouts,
    pub client: HttpClient,
}

impl Upstream {
    pub fn new(p: &Provider) -> Result<Self, String> {
        let auth_value = match &p.api_key {
            Some(key) => {
                let v = openai_compat::auth_value(&p.auth, key.expose());
                if v.is_none() && p.auth != AuthStyle::None {
                    return Err(format!(
                        "provider '{}': the API key contains characters not allowed in a header",
                        p.name
                    ));
                }
                v
            }
            None => None,
        };
        let mut headers = Vec::new();
        for (k, v) in &p.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|e| format!("provider '{}': header {k}: {e}", p.name))?;
            let value = HeaderValue::from_str(v)
                .map_err(|e| format!("provider '{}': header {k}: {e}", p.name))?;
            headers.push((name, value));
        }
        Ok(Self {
            name: p.name.clone(),
            endpoint: Endpoint {
                base_url: p.base_url.clone(),
                auth: p.auth.clone(),
                auth_value,
                headers,
            },
            timeouts: p.timeouts,
            client: client(p.timeouts.connect),
        })
    }

    /// Sends a request and waits for the response headers within the first-byte timeout.
    pub async fn send(
        &self,
        req: Request<Bytes>,
        deadline: tokio::time::Instant,
    ) -> Result<Response<Incoming>, GatewayError> {
        let req = req.map(Full::new);
        let limit = deadline.min(tokio::time::Instant::now() + self.timeouts.first_byte);
        match tokio::time::timeout_at(limit, self.client.request(req)).await {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(e)) => Err(classify_client_error(&self.name, &e)),
            Err(_) => Err(GatewayError::UpstreamTimeout {
                provider: self.name.clone(),
                phase: "waiting for response headers",
            }),
        }
    }
}

fn classify_client_error(provider: &str, e: &hyper_util::client::legacy::Error) -> GatewayError {
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail = format!("{detail}: {s}");
        source = s.source();
    }
    if detail.contains("timed out") || detail.contains("timeout") {
        return GatewayError::UpstreamTimeout {
            provider: provider.to_owned(),
            phase: "connecting",
        };
    }
    tracing::warn!(provider, error = %detail, "upstream request failed");
    let short = if e.is_connect() {
        "connection failed".to_owned()
    } else {
        "the connection closed before a response".to_owned()
    };
    GatewayError::UpstreamUnreachable {
        provider: provider.to_owned(),
        detail: short,
    }
}

fn client(connect_timeout: Duration) -> HttpClient {
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    http.enforce_http(false);
    http.set_connect_timeout(Some(connect_timeout));
    http.set_keepalive(Some(Duration::from_secs(60)));
    let builder = HttpsConnectorBuilder::new();
    let https = match builder.with_native_roots() {
        Ok(b) => b,
        Err(_) => HttpsConnectorBuilder::new().with_webpki_roots(),
    }
    .https_or_http()
    .enable_http1()
    .wrap_connector(http);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(256)
        .build(https)
}
