//! Upstream calls: a keep-alive connection pool per provider with TCP_NODELAY, TLS by rustls,
//! and the connect and first-byte timeouts. See `conn` for why connections are driven inline.

mod aws_sign;
pub mod body;
mod conn;
mod google_auth;
pub(crate) mod pool;
mod vault;

pub use body::UpstreamBody;
pub use google_auth::{assertion, parse_key, GoogleAuth};

use crate::error::GatewayError;
use bytes::Bytes;
use conn::{Conn, Target};
use http::{HeaderName, HeaderValue, Request, Response};
use http_body_util::Full;
use pool::Pool;
use std::future::poll_fn;
use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use switchyard_config::{Provider, Timeouts};
use switchyard_providers::endpoint::{auth_value, Endpoint};
use switchyard_providers::{anthropic, AuthStyle, ProviderKind};

/// Everything needed to call one provider.
pub struct Upstream {
    pub name: String,
    /// The wire format it speaks, which decides whether requests pass through or translate.
    pub kind: ProviderKind,
    /// The name as a header value, for `x-switchyard-provider`.
    pub name_header: HeaderValue,
    pub endpoint: Endpoint,
    pub timeouts: Timeouts,
    /// Leave out request fields the provider's format cannot take instead of refusing them.
    /// What a translated request may leave out when the format cannot take a field.
    pub field_policy: switchyard_providers::translate::Policy,
    target: Target,
    /// `Host` header value: the host, with the port when it is not the scheme's default.
    host_header: HeaderValue,
    pool: Arc<Pool>,
    /// Credentials applied to each request: OAuth tokens (Vertex) or request signing (Bedrock).
    credentials: Option<Credentials>,
    /// The provider's settings, for preparing workspaces' own credentials (`vault`).
    provider: Provider,
    tls: TlsConfig,
    /// Workspaces' own credentials for this provider, prepared once each.
    vault: vault::VaultCache,
}

/// Credentials that are not a fixed header.
enum Credentials {
    /// Access tokens obtained from a service account (Vertex AI).
    Google(Box<GoogleAuth>),
    /// SigV4 signing with AWS keys (Bedrock).
    Aws(aws_sign::AwsSigner),
}

/// TLS client settings, built once and shared by every provider.
pub type TlsConfig = Arc<rustls::ClientConfig>;

/// The shared settings: system roots (or Mozilla's).
pub fn tls_config() -> Result<TlsConfig, String> {
    conn::tls_config(conn::default_roots())
}

impl Upstream {
    pub fn new(p: &Provider, tls: &TlsConfig) -> Result<Self, String> {
        let shared_tls = tls.clone();
        let google = match p.vertex.as_ref().and_then(|v| v.service_account.as_ref()) {
            Some(sa) => Some(Credentials::Google(Box::new(GoogleAuth::new(p, sa, tls)?))),
            None => None,
        };
        let credentials = google.or_else(|| {
            p.bedrock
                .as_ref()
                .and_then(|b| aws_sign::AwsSigner::new(&p.name, b))
                .map(Credentials::Aws)
        });
        let auth_value = match &p.api_key {
            Some(key) => {
                let v = auth_value(&p.auth, key.expose());
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
        if p.kind == ProviderKind::Anthropic
            && !headers
                .iter()
                .any(|(k, _)| k.as_str() == "anthropic-version")
        {
            headers.push((
                HeaderName::from_static("anthropic-version"),
                HeaderValue::from_static(anthropic::VERSION),
            ));
        }
        let url = url::Url::parse(&p.base_url)
            .map_err(|e| format!("provider '{}': base_url: {e}", p.name))?;
        let host = url
            .host_str()
            .ok_or_else(|| format!("provider '{}': base_url has no host", p.name))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let host_header = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
        let host_header = HeaderValue::from_str(&host_header)
            .map_err(|e| format!("provider '{}': host: {e}", p.name))?;
        let https = url.scheme() == "https";
        let port = url
            .port_or_known_default()
            .unwrap_or(if https { 443 } else { 80 });
        let tls = if https {
            let name = rustls::pki_types::ServerName::try_from(host.clone())
                .map_err(|e| format!("provider '{}': TLS server name: {e}", p.name))?;
            let cfg = match &p.extra_ca_pem {
                None => tls.clone(),
                Some(pem) => {
                    let mut roots = conn::default_roots();
                    conn::add_pem(&mut roots, pem)
                        .map_err(|e| format!("provider '{}': {e}", p.name))?;
                    conn::tls_config(roots)?
                }
            };
            Some((tokio_rustls::TlsConnector::from(cfg), name))
        } else {
            None
        };
        Ok(Self {
            provider: p.clone(),
            tls: shared_tls,
            vault: vault::VaultCache::default(),
            field_policy: p.field_policy,
            credentials,
            name_header: HeaderValue::from_str(&p.name)
                .map_err(|e| format!("provider '{}': name: {e}", p.name))?,
            name: p.name.clone(),
            kind: p.kind,
            endpoint: Endpoint {
                base_url: p.base_url.clone(),
                auth: p.auth.clone(),
                auth_value,
                headers,
                azure_api_version: p.azure_api_version.clone(),
                vertex: p.vertex.as_ref().map(|v| v.location.clone()),
                native_responses: p.native_responses,
            },
            timeouts: p.timeouts,
            target: Target { host, port, tls },
            host_header,
            pool: Arc::new(Pool::default()),
        })
    }

    /// Adds credentials made at request time (an OAuth access token, a SigV4 signature). With
    /// `own`, a workspace's credential from the vault, that one is used instead of the
    /// configured one.
    pub async fn authorize(
        &self,
        req: &mut Request<Bytes>,
        own: Option<&switchyard_tenants::directory::ProviderSecret>,
    ) -> Result<(), GatewayError> {
        if let Some(secret) = own {
            let auth = self.vault.get(&self.provider, &self.tls, secret)?;
            return match auth.as_ref() {
                vault::VaultAuth::Header(name, value) => {
                    req.headers_mut().insert(name.clone(), value.clone());
                    Ok(())
                }
                vault::VaultAuth::Google(g) => {
                    let value = g.authorization().await?;
                    req.headers_mut().insert(http::header::AUTHORIZATION, value);
                    Ok(())
                }
                vault::VaultAuth::Aws(signer) => {
                    req.headers_mut().remove(http::header::AUTHORIZATION);
                    req.headers_mut()
                        .insert(http::header::HOST, self.host_header.clone());
                    signer.sign(req, std::time::SystemTime::now())
                }
            };
        }
        match &self.credentials {
            Some(Credentials::Google(g)) => {
                let value = g.authorization().await?;
                req.headers_mut().insert(http::header::AUTHORIZATION, value);
            }
            Some(Credentials::Aws(signer)) => {
                // The signature covers Host, which `send` sets from the same authority.
                req.headers_mut()
                    .insert(http::header::HOST, self.host_header.clone());
                signer.sign(req, std::time::SystemTime::now())?;
            }
            None => {}
        }
        Ok(())
    }

    /// The host and port requests go to (`server.address` and `server.port` in traces).
    /// Closes pooled connections idle for `max_idle` or longer; returns how many.
    pub fn sweep_idle(&self, max_idle: std::time::Duration) -> usize {
        self.pool.sweep(max_idle)
    }

    pub fn address(&self) -> (&str, u16) {
        (&self.target.host, self.target.port)
    }

    /// Sends a request and waits for the response headers within the first-byte timeout
    /// (and the total deadline). A pooled connection found dead before the request was written
    /// is replaced once; nothing is resent after it reached the wire.
    pub async fn send(
        &self,
        req: Request<Bytes>,
        deadline: tokio::time::Instant,
    ) -> Result<Response<UpstreamBody>, GatewayError> {
        self.send_with(req, deadline, &self.timeouts).await
    }

    /// As `send`, with the connect and first-byte timeouts given (a route's overrides).
    pub async fn send_with(
        &self,
        req: Request<Bytes>,
        deadline: tokio::time::Instant,
        timeouts: &Timeouts,
    ) -> Result<Response<UpstreamBody>, GatewayError> {
        let limit = deadline.min(tokio::time::Instant::now() + timeouts.first_byte);
        let mut req = req.map(Full::new);
        // On a raw HTTP/1.1 connection the request line must be origin-form (`/v1/...`) and the
        // authority goes in `Host`; an absolute URI here would be sent as-is.
        let origin = req
            .uri()
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .parse::<http::Uri>()
            .map_err(|e| GatewayError::Internal {
                detail: format!("upstream URI: {e}"),
            })?;
        *req.uri_mut() = origin;
        req.headers_mut()
            .insert(http::header::HOST, self.host_header.clone());
        let exchange = async {
            let mut fresh_tried = false;
            loop {
                let (mut conn, pooled) = match self.pool.checkout() {
                    Some(c) => (c, true),
                    None => {
                        fresh_tried = true;
                        (self.connect(timeouts.connect).await?, false)
                    }
                };
                match exchange(&mut conn, req).await {
                    Ok(resp) => {
                        let pool = self.pool.clone();
                        return Ok(resp.map(|b| UpstreamBody::new(b, conn, pool)));
                    }
                    Err(mut e) => match e.take_message() {
                        Some(unsent) if pooled || !fresh_tried => req = unsent,
                        _ => return Err(self.failed(e.error())),
                    },
                }
            }
        };
        match tokio::time::timeout_at(limit, exchange).await {
            Ok(r) => r,
            Err(_) => Err(GatewayError::UpstreamTimeout {
                provider: self.name.clone(),
                phase: "waiting for response headers",
            }),
        }
    }

    async fn connect(&self, timeout: std::time::Duration) -> Result<Conn, GatewayError> {
        conn::connect(&self.target, timeout).await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::TimedOut {
                return GatewayError::UpstreamTimeout {
                    provider: self.name.clone(),
                    phase: "connecting",
                };
            }
            tracing::warn!(provider = %self.name, error = %e, "upstream connect failed");
            GatewayError::UpstreamUnreachable {
                provider: self.name.clone(),
                detail: "connection failed".into(),
            }
        })
    }

    fn failed(&self, e: &hyper::Error) -> GatewayError {
        tracing::warn!(provider = %self.name, error = %e, "upstream exchange failed");
        GatewayError::UpstreamUnreachable {
            provider: self.name.clone(),
            detail: "the connection closed before a response".into(),
        }
    }
}

type TrySend = hyper::client::conn::TrySendError<Request<Full<Bytes>>>;

/// Sends on `conn`, driving its I/O on this task until the response headers arrive.
async fn exchange(
    conn: &mut Conn,
    req: Request<Full<Bytes>>,
) -> Result<Response<hyper::body::Incoming>, TrySend> {
    let mut fut = std::pin::pin!(conn.tx.try_send_request(req));
    poll_fn(|cx| {
        if let Poll::Ready(r) = fut.as_mut().poll(cx) {
            return Poll::Ready(r);
        }
        conn.poll_driver(cx);
        fut.as_mut().poll(cx)
    })
    .await
}
