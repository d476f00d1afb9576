//! The console's sign-in through the identity provider (`server.tenants.jwt.oidc`): the OpenID
//! Connect authorization code flow with PKCE (RFC 7636), run by the gateway so that the client
//! secret, when there is one, never reaches the browser and the console's CSP can stay
//! `connect-src 'self'`.
//!
//! `GET /ui/oidc/login` sends the browser to the provider with a fresh `state`, `nonce` and
//! S256 code challenge, and keeps the three (the verifier, not the challenge) in a short-lived
//! HttpOnly cookie: nothing is stored server-side, so any replica can finish the sign-in.
//! `GET /ui/oidc/callback` checks `state` against the cookie, exchanges the code (with the
//! verifier) at the token endpoint, verifies the token as any admin JWT is verified (key set,
//! issuer, audience, expiry) plus the `nonce`, and hands it to the console in the URL fragment
//! (`/ui/#token=...`), which browsers do not send to servers. Failures come back to the sign-in
//! page as `#signin_error=...`.

use crate::state::AppState;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use http_body_util::{BodyExt, Limited};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use switchyard_config::OidcSettings;

/// The cookie that carries the flow's secrets from `login` to `callback`.
const COOKIE: &str = "switchyard_oidc";
/// How long a sign-in may take at the provider.
const FLOW_SECS: u64 = 600;
/// Longest the token endpoint may take.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest token response read.
const MAX_TOKEN_RESPONSE: usize = 64 * 1024;

fn settings(s: &AppState) -> Option<&OidcSettings> {
    s.cfg.tenants.jwt.as_ref().and_then(|j| j.oidc.as_ref())
}

/// `GET /ui/oidc/config`: whether the sign-in page offers the provider.
pub async fn config(State(s): State<Arc<AppState>>) -> Response {
    let enabled = settings(&s).is_some() && s.jwt.as_ref().is_some_and(|j| j.admins);
    Json(serde_json::json!({ "enabled": enabled })).into_response()
}

/// 32 random bytes, base64url: a `state`, `nonce` or PKCE verifier (43 characters, as RFC 7636
/// asks of a verifier).
fn random_token() -> Option<String> {
    let mut b = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).ok()?;
    Some(URL_SAFE_NO_PAD.encode(b))
}

/// The S256 challenge of a verifier.
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn redirect_url(o: &OidcSettings, headers: &HeaderMap) -> String {
    if let Some(u) = &o.redirect_url {
        return u.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}/ui/oidc/callback")
}

fn no_store(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}

fn see_other(location: &str, cookie: Option<String>) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        r.headers_mut().insert(header::SET_COOKIE, c);
    }
    no_store(r)
}

fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/ui/oidc; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// Back to the sign-in page with `message`.
fn failed(message: &str) -> Response {
    let m: String = url::form_urlencoded::byte_serialize(message.as_bytes()).collect();
    see_other(&format!("/ui/#signin_error={m}"), Some(clear_cookie()))
}

/// `GET /ui/oidc/login`: to the provider's authorization endpoint.
pub async fn login(State(s): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let Some(o) = settings(&s) else {
        return (
            StatusCode::NOT_FOUND,
            "Sign-in through an identity provider is not configured (server.tenants.jwt.oidc).",
        )
            .into_response();
    };
    let (Some(state), Some(verifier), Some(nonce)) =
        (random_token(), random_token(), random_token())
    else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "no randomness").into_response();
    };
    let Ok(mut to) = url::Url::parse(&o.authorization_url) else {
        return failed("The authorization URL does not parse.");
    };
    let redirect = redirect_url(o, &headers);
    to.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &o.client_id)
        .append_pair("redirect_uri", &redirect)
        .append_pair("scope", &o.scopes)
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge(&verifier))
        .append_pair("code_challenge_method", "S256");
    let secure = if redirect.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{COOKIE}={state}.{verifier}.{nonce}; Path=/ui/oidc; HttpOnly; SameSite=Lax; Max-Age={FLOW_SECS}{secure}"
    );
    see_other(to.as_str(), Some(cookie))
}

/// What the provider sends back to `callback`.
#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The flow's secrets from the cookie: `(state, verifier, nonce)`.
fn flow_cookie(headers: &HeaderMap) -> Option<(String, String, String)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            if k != COOKIE {
                return None;
            }
            let mut parts = v.split('.');
            let (a, b, c) = (parts.next()?, parts.next()?, parts.next()?);
            Some((a.to_owned(), b.to_owned(), c.to_owned()))
        })
}

/// `GET /ui/oidc/callback`: the code exchanged, the token verified, the console signed in.
pub async fn callback(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(cb): Query<Callback>,
) -> Response {
    let (Some(o), Some(jwt)) = (settings(&s), s.jwt.as_ref().filter(|j| j.admins)) else {
        return failed("Sign-in through an identity provider is not configured.");
    };
    let Some((state, verifier, nonce)) = flow_cookie(&headers) else {
        return failed("The sign-in began elsewhere or took too long; sign in again.");
    };
    let given = cb.state.unwrap_or_default();
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        given.as_bytes(),
        state.as_bytes(),
    )) {
        return failed("The sign-in's state does not match; sign in again.");
    }
    // Only an answer to this browser's own sign-in gets its reason shown.
    if let Some(e) = cb.error {
        let more = cb
            .error_description
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        return failed(&format!(
            "The identity provider refused the sign-in ({e}{more})."
        ));
    }
    let Some(code) = cb.code.filter(|c| !c.is_empty()) else {
        return failed("The identity provider sent no code.");
    };
    let token = match exchange(o, &jwt.tls, &code, &verifier, &redirect_url(o, &headers)).await {
        Ok(t) => t,
        Err(e) => return failed(&e),
    };
    let verified = match jwt.verify(&token).await {
        Ok(v) => v,
        Err(e) => return failed(&format!("The provider's token was refused: {}", e)),
    };
    if !o.use_access_token
        && verified
            .claims
            .get("nonce")
            .and_then(serde_json::Value::as_str)
            != Some(nonce.as_str())
    {
        return failed("The ID token's nonce does not match this sign-in; sign in again.");
    }
    see_other(&format!("/ui/#token={token}"), Some(clear_cookie()))
}

/// The token endpoint's answer.
#[derive(Deserialize)]
struct TokenResponse {
    id_token: Option<String>,
    access_token: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Exchanges `code` at the token endpoint; the token the console signs in with.
async fn exchange(
    o: &OidcSettings,
    tls: &crate::upstream::TlsConfig,
    code: &str,
    verifier: &str,
    redirect: &str,
) -> Result<String, String> {
    let url = url::Url::parse(&o.token_url).map_err(|e| format!("token_url: {e}"))?;
    // Built in a block: the serializer is not `Send`, and must not live across an await.
    let body = {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", redirect)
            .append_pair("client_id", &o.client_id)
            .append_pair("code_verifier", verifier);
        if let Some(secret) = &o.client_secret {
            form.append_pair("client_secret", secret.expose());
        }
        bytes::Bytes::from(form.finish())
    };
    let call = async {
        let (addr, host) = crate::fetch::resolve(&url).await?;
        let resp = crate::fetch::post_form_at(addr, &url, &host, tls, body).await?;
        let status = resp.status();
        let bytes = Limited::new(resp.into_body(), MAX_TOKEN_RESPONSE)
            .collect()
            .await
            .map(http_body_util::Collected::to_bytes)
            .map_err(|_| "the token response is too large".to_owned())?;
        Ok::<_, String>((status, bytes))
    };
    let (status, bytes) = tokio::time::timeout(TOKEN_TIMEOUT, call)
        .await
        .map_err(|_| "The identity provider's token endpoint timed out.".to_owned())?
        .map_err(|e| format!("The identity provider's token endpoint failed: {e}."))?;
    let parsed: TokenResponse = serde_json::from_slice(&bytes).map_err(|_| {
        format!(
            "The identity provider's token endpoint answered {status} without a token response."
        )
    })?;
    if let Some(e) = parsed.error {
        let more = parsed
            .error_description
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        return Err(format!(
            "The identity provider refused the code ({e}{more})."
        ));
    }
    let (token, name) = if o.use_access_token {
        (parsed.access_token, "access_token")
    } else {
        (parsed.id_token, "id_token")
    };
    token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| format!("The identity provider's token response has no {name}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_s256_challenge_is_rfc_7636s() {
        // RFC 7636, appendix B.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn the_flow_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; switchyard_oidc=s.v.n"),
        );
        assert_eq!(flow_cookie(&h), Some(("s".into(), "v".into(), "n".into())));
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("switchyard_oidc=s.v"),
        );
        assert_eq!(flow_cookie(&h), None);
    }
}
