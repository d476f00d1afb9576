//! One plain HTTP/1.1 request to an address already chosen (the caller resolved and vetted it),
//! with TLS for https URLs: how the gateway fetches images for providers and an identity
//! provider's key set, and posts budget alerts and guardrail checks to webhooks. Not for upstream calls, which go
//! through `upstream` with its pooling and timeouts.

use crate::upstream::TlsConfig;
use bytes::Bytes;
use http::{header, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use tokio::net::TcpStream;

/// Where a URL goes: its first address, and its host (for TLS and messages).
pub async fn resolve(url: &url::Url) -> Result<(SocketAddr, String), String> {
    let host = url
        .host_str()
        .ok_or("the URL has no host")?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let addr = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| format!("{host} does not resolve: {e}"))?
        .next()
        .ok_or_else(|| format!("{host} does not resolve"))?;
    Ok((addr, host))
}

/// GETs `url` from `addr` (`host` is the URL's host, for TLS), accepting `accept`.
pub async fn get_at(
    addr: SocketAddr,
    url: &url::Url,
    host: &str,
    tls: &TlsConfig,
    accept: &str,
) -> Result<Response<Incoming>, String> {
    send_at(addr, url, host, tls, accept, None, &[]).await
}

/// POSTs a JSON `body` to `url` at `addr`.
pub async fn post_json_at(
    addr: SocketAddr,
    url: &url::Url,
    host: &str,
    tls: &TlsConfig,
    body: Bytes,
) -> Result<Response<Incoming>, String> {
    send_at(addr, url, host, tls, "application/json", Some(body), &[]).await
}

/// POSTs a form (`application/x-www-form-urlencoded`) `body` to `url` at `addr`, accepting JSON:
/// an OAuth token request.
pub async fn post_form_at(
    addr: SocketAddr,
    url: &url::Url,
    host: &str,
    tls: &TlsConfig,
    body: Bytes,
) -> Result<Response<Incoming>, String> {
    let ct = [(
        header::CONTENT_TYPE.as_str().to_owned(),
        "application/x-www-form-urlencoded".to_owned(),
    )];
    send_at(addr, url, host, tls, "application/json", Some(body), &ct).await
}

/// As `post_json_at`, with `headers` added (a guardrail webhook's own).
pub async fn post_json_with(
    addr: SocketAddr,
    url: &url::Url,
    host: &str,
    tls: &TlsConfig,
    body: Bytes,
    headers: &[(String, String)],
) -> Result<Response<Incoming>, String> {
    send_at(
        addr,
        url,
        host,
        tls,
        "application/json",
        Some(body),
        headers,
    )
    .await
}

/// Any method with a JSON body or none, and `headers` (an admin API call of the CLI).
pub async fn json_request_at(
    method: http::Method,
    addr: SocketAddr,
    url: &url::Url,
    host: &str,
    tls: &TlsConfig,
    body: Option<Bytes>,
    headers: &[(String, String)],
) -> Result<Response<Incoming>, String> {
    send(
        method,
        addr,
        url,
        host,
        tls,
        "application/json",
        body,
        headers,
    )
    .await
}

async fn send_at(
    addr: SocketAddr,
    url: &url::Url,
    host: &str,
    tls: &TlsConfig,
    accept: &str,
    body: Option<Bytes>,
    headers: &[(String, String)],
) -> Result<Response<Incoming>, String> {
    let method = if body.is_some() {
        http::Method::POST
    } else {
        http::Method::GET
    };
    send(method, addr, url, host, tls, accept, body, headers).await
}

#[allow(clippy::too_many_arguments)]
async fn send(
    method: http::Method,
    addr: SocketAddr,
    url: &url::Url,
    host: &str,
    tls: &TlsConfig,
    accept: &str,
    body: Option<Bytes>,
    headers: &[(String, String)],
) -> Result<Response<Incoming>, String> {
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connecting to {host}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let authority = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    };
    let mut req = Request::builder()
        .method(method)
        .uri(target)
        .header(header::HOST, authority)
        .header(header::USER_AGENT, "switchyard")
        .header(header::ACCEPT, accept);
    let typed = headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case(header::CONTENT_TYPE.as_str()));
    if body.is_some() && !typed {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let req = req
        .body(Full::new(body.unwrap_or_default()))
        .map_err(|e| e.to_string())?;
    let fail = |e: hyper::Error| e.to_string();
    if url.scheme() == "https" {
        let name =
            rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|e| e.to_string())?;
        let stream = tokio_rustls::TlsConnector::from(tls.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS with {host}: {e}"))?;
        let (mut tx, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(fail)?;
        tokio::spawn(conn);
        tx.send_request(req).await.map_err(fail)
    } else {
        let (mut tx, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(fail)?;
        tokio::spawn(conn);
        tx.send_request(req).await.map_err(fail)
    }
}
