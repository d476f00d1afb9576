//! Google OAuth access tokens for Vertex AI from a service account: a JWT assertion signed with
//! the account's RSA key (RS256) is exchanged at the token endpoint for an access token, which is
//! cached and replaced before it expires.
//!
//! The request path only reads the cached token; one request refreshes it when it is due (others
//! keep using the current one while it is valid), so the token endpoint sees one call per
//! token lifetime, not one per request.

use super::Upstream;
use crate::error::GatewayError;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use bytes::Bytes;
use http::{header, HeaderValue, Method, Request};
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use serde_json::{json, Value};
use std::sync::RwLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use switchyard_config::{Provider, ServiceAccount, Timeouts};
use tokio::time::Instant;

/// The scope Vertex AI needs.
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// Lifetime asked for in the assertion (Google's maximum).
const ASSERTION_LIFETIME_SECS: u64 = 3600;
/// A token is replaced this long before it expires (or at half its life, if that is sooner).
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// A cached access token.
#[derive(Clone)]
struct Token {
    header: HeaderValue,
    refresh_after: Instant,
    expires_at: Instant,
}

/// Access tokens for one service account.
pub struct GoogleAuth {
    provider: String,
    email: String,
    key_id: Option<String>,
    key: RsaKeyPair,
    token_url: String,
    /// Path and query of the token endpoint, sent on `endpoint`'s connections.
    token_path: String,
    endpoint: Upstream,
    current: RwLock<Option<Token>>,
    refreshing: tokio::sync::Mutex<()>,
    /// The last failed fetch: when, and what went wrong. Requests in the next few seconds fail
    /// with it at once instead of queueing up to try again one after another.
    failed: RwLock<Option<(Instant, String)>>,
}

/// How long a failed token fetch is repeated to callers before the next attempt.
const FAILURE_HOLD: Duration = Duration::from_secs(5);

/// The DER body of the first PEM block labelled `label`.
fn pem_block(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem[start..].find(&end)?;
    let b64: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD.decode(b64).ok()
}

/// Parses a PKCS#8 (`PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`) PEM RSA key.
pub fn parse_key(pem: &str) -> Result<RsaKeyPair, String> {
    if let Some(der) = pem_block(pem, "PRIVATE KEY") {
        return RsaKeyPair::from_pkcs8(&der).map_err(|e| format!("private key: {e}"));
    }
    if let Some(der) = pem_block(pem, "RSA PRIVATE KEY") {
        return RsaKeyPair::from_der(&der).map_err(|e| format!("private key: {e}"));
    }
    Err("private_key holds no PEM RSA private key".into())
}

/// A signed RS256 JWT asserting `email` for `scope` at `audience`, issued at `iat`.
pub fn assertion(
    key: &RsaKeyPair,
    key_id: Option<&str>,
    email: &str,
    audience: &str,
    iat: u64,
) -> Result<String, String> {
    let mut header = json!({"alg": "RS256", "typ": "JWT"});
    if let Some(kid) = key_id {
        header["kid"] = json!(kid);
    }
    let claims = json!({"iss": email, "scope": SCOPE, "aud": audience, "iat": iat,
        "exp": iat + ASSERTION_LIFETIME_SECS});
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut sig = vec![0u8; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        signing_input.as_bytes(),
        &mut sig,
    )
    .map_err(|_| "signing the assertion failed".to_owned())?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}

/// When a token that lives `lifetime` from `now` should be replaced.
fn refresh_point(now: Instant, lifetime: Duration) -> Instant {
    now + lifetime.saturating_sub(REFRESH_MARGIN.min(lifetime / 2))
}

/// `application/x-www-form-urlencoded` escaping of one value.
fn form_escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl GoogleAuth {
    /// Prepares token requests for `sa` on behalf of provider `p`.
    pub fn new(p: &Provider, sa: &ServiceAccount, tls: &super::TlsConfig) -> Result<Self, String> {
        let key = parse_key(sa.private_key_pem.expose())
            .map_err(|e| format!("provider '{}': credentials_file: {e}", p.name))?;
        let url = url::Url::parse(&sa.token_url)
            .map_err(|e| format!("provider '{}': token_url: {e}", p.name))?;
        let origin = url.origin().ascii_serialization();
        let token_path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let mut endpoint_cfg = p.clone();
        endpoint_cfg.name = format!("{}-oauth", p.name);
        endpoint_cfg.base_url = origin;
        endpoint_cfg.vertex = None;
        endpoint_cfg.api_key = None;
        endpoint_cfg.headers = Vec::new();
        endpoint_cfg.timeouts = Timeouts {
            first_byte: Duration::from_secs(30),
            total: Duration::from_secs(60),
            ..p.timeouts
        };
        Ok(Self {
            provider: p.name.clone(),
            email: sa.client_email.clone(),
            key_id: sa.private_key_id.clone(),
            key,
            token_url: sa.token_url.clone(),
            token_path,
            endpoint: Upstream::new(&endpoint_cfg, tls)?,
            current: RwLock::new(None),
            refreshing: tokio::sync::Mutex::new(()),
            failed: RwLock::new(None),
        })
    }

    fn cached(&self) -> Option<Token> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The `Authorization` value for the next request.
    pub async fn authorization(&self) -> Result<HeaderValue, GatewayError> {
        let now = Instant::now();
        let cached = self.cached();
        if let Some(t) = cached.as_ref().filter(|t| now < t.refresh_after) {
            return Ok(t.header.clone());
        }
        // Due for refresh: one request fetches; while a valid token exists, others use it.
        let guard = match (self.refreshing.try_lock(), &cached) {
            (Ok(g), _) => g,
            (Err(_), Some(t)) if now < t.expires_at => return Ok(t.header.clone()),
            (Err(_), _) => self.refreshing.lock().await,
        };
        if let Some(t) = self.cached().filter(|t| Instant::now() < t.refresh_after) {
            // Refreshed by the request we waited for.
            return Ok(t.header.clone());
        }
        let still_valid = cached.filter(|t| Instant::now() < t.expires_at);
        let recent = self
            .failed
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .filter(|(at, _)| at.elapsed() < FAILURE_HOLD);
        if let (Some((_, detail)), None) = (&recent, &still_valid) {
            return Err(self.fail(detail.clone()));
        }
        match self.fetch().await {
            Ok(t) => {
                let header = t.header.clone();
                // Stored before the lock is let go, so no waiter fetches again.
                *self
                    .current
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(t);
                drop(guard);
                Ok(header)
            }
            Err(e) => {
                let detail = match &e {
                    GatewayError::UpstreamCredentials { detail, .. } => detail.clone(),
                    other => other.to_string(),
                };
                *self
                    .failed
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) =
                    Some((Instant::now(), detail));
                drop(guard);
                match still_valid {
                    Some(t) => {
                        tracing::warn!(provider = %self.provider, error = %e, "token refresh failed; the current token is still valid");
                        Ok(t.header)
                    }
                    None => Err(e),
                }
            }
        }
    }

    fn fail(&self, detail: impl Into<String>) -> GatewayError {
        GatewayError::UpstreamCredentials {
            provider: self.provider.clone(),
            detail: detail.into(),
        }
    }

    async fn fetch(&self) -> Result<Token, GatewayError> {
        let iat = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let jwt = assertion(
            &self.key,
            self.key_id.as_deref(),
            &self.email,
            &self.token_url,
            iat,
        )
        .map_err(|e| self.fail(e))?;
        let body = format!(
            "grant_type={}&assertion={jwt}",
            form_escape("urn:ietf:params:oauth:grant-type:jwt-bearer")
        );
        let req = Request::builder()
            .method(Method::POST)
            .uri(&self.token_path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Bytes::from(body))
            .map_err(|e| self.fail(e.to_string()))?;
        let started = Instant::now();
        let deadline = started + Duration::from_secs(60);
        let resp = self.endpoint.send(req, deadline).await.map_err(|e| {
            tracing::warn!(provider = %self.provider, error = %e, "token endpoint unreachable");
            self.fail("the token endpoint could not be reached")
        })?;
        let status = resp.status();
        let bytes = super::body::read_all(resp.into_body(), 64 * 1024, deadline)
            .await
            .map_err(|e| self.fail(format!("reading the token endpoint's answer: {e}")))?;
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            let why = v
                .get("error_description")
                .or_else(|| v.get("error"))
                .and_then(Value::as_str)
                .unwrap_or("no reason given");
            return Err(self.fail(format!(
                "the token endpoint answered {}: {why}",
                status.as_u16()
            )));
        }
        let token = v
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| self.fail("the token endpoint's answer has no access_token"))?;
        let lifetime =
            Duration::from_secs(v.get("expires_in").and_then(Value::as_u64).unwrap_or(3600));
        let mut header = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| self.fail("the access token is not a valid header value"))?;
        header.set_sensitive(true);
        Ok(Token {
            header,
            refresh_after: refresh_point(started, lifetime),
            expires_at: started + lifetime,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_comes_before_expiry() {
        let now = Instant::now();
        assert_eq!(
            refresh_point(now, Duration::from_secs(3600)),
            now + Duration::from_secs(3300)
        );
        // Short-lived tokens are replaced at half their life.
        assert_eq!(
            refresh_point(now, Duration::from_secs(10)),
            now + Duration::from_secs(5)
        );
        assert_eq!(refresh_point(now, Duration::ZERO), now);
    }

    #[test]
    fn form_values_are_escaped() {
        assert_eq!(
            form_escape("urn:ietf:params:oauth:grant-type:jwt-bearer"),
            "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
        );
    }
}
