//! The identity provider's sign-in, for tests of the console's OpenID Connect sign-in: the
//! authorization endpoint (`GET /_mock/idp/authorize`, which signs in at once as the user set by
//! `POST /_mock/idp/user`) and the token endpoint (`POST /_mock/idp/oauth/token`), which checks
//! what a real provider checks: the code is one it issued and unused, for the same client and
//! redirect URI, and the PKCE verifier hashes (S256) to the challenge the authorization request
//! carried. The ID token it returns is signed RS256 with the key `/.well-known/jwks.json`
//! publishes, its `aud` the client id and its `nonce` the authorization request's.

use crate::{lock, State};
use axum::extract::{Query, State as AxState};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// An issued code, waiting for its exchange.
pub(crate) struct Grant {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
    claims: Value,
}

/// Sign-in state: the next user's claims (or the error the provider answers with) and the
/// codes issued.
pub(crate) struct Logins {
    pub user: Value,
    pub refuse: Option<String>,
    pub codes: HashMap<String, Grant>,
    /// Token requests' forms, oldest first.
    pub token_forms: Vec<HashMap<String, String>>,
}

impl Default for Logins {
    fn default() -> Self {
        Self {
            user: json!({"sub": "oidc-user", "switchyard_role": "admin"}),
            refuse: None,
            codes: HashMap::new(),
            token_forms: Vec::new(),
        }
    }
}

/// `POST /_mock/idp/user`: `{"claims": {...}}` sets who signs in next; `{"refuse": "access_denied"}`
/// makes the authorization endpoint answer with that error instead.
pub(crate) async fn user(AxState(state): AxState<Arc<State>>, Json(body): Json<Value>) -> Response {
    let mut l = lock(&state.logins);
    if let Some(c) = body.get("claims") {
        l.user = c.clone();
    }
    l.refuse = body
        .get("refuse")
        .and_then(Value::as_str)
        .map(str::to_owned);
    StatusCode::NO_CONTENT.into_response()
}

fn bad(msg: &str) -> Response {
    (StatusCode::BAD_REQUEST, msg.to_owned()).into_response()
}

/// `GET /_mock/idp/authorize`: signs in at once and sends the browser back with a code.
pub(crate) async fn authorize(
    AxState(state): AxState<Arc<State>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).filter(|v| !v.is_empty()).cloned();
    if q.get("response_type").map(String::as_str) != Some("code") {
        return bad("response_type must be code");
    }
    if q.get("code_challenge_method").map(String::as_str) != Some("S256") {
        return bad("code_challenge_method must be S256");
    }
    let (Some(client_id), Some(redirect_uri), Some(challenge)) =
        (get("client_id"), get("redirect_uri"), get("code_challenge"))
    else {
        return bad("client_id, redirect_uri and code_challenge are required");
    };
    if !q
        .get("scope")
        .is_some_and(|s| s.split(' ').any(|s| s == "openid"))
    {
        return bad("scope must include openid");
    }
    let Ok(mut back) = url::Url::parse(&redirect_uri) else {
        return bad("redirect_uri is not a URL");
    };
    let mut l = lock(&state.logins);
    if let Some(e) = l.refuse.clone() {
        back.query_pairs_mut().append_pair("error", &e);
    } else {
        let code = format!("code-{}", state.ids.fetch_add(1, Ordering::Relaxed));
        let grant = Grant {
            client_id,
            redirect_uri,
            challenge,
            nonce: get("nonce"),
            claims: l.user.clone(),
        };
        l.codes.insert(code.clone(), grant);
        back.query_pairs_mut().append_pair("code", &code);
    }
    if let Some(s) = q.get("state") {
        back.query_pairs_mut().append_pair("state", s);
    }
    (StatusCode::FOUND, [(header::LOCATION, back.to_string())]).into_response()
}

fn oauth_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// `POST /_mock/idp/oauth/token` (a form): the code exchanged for an ID token.
pub(crate) async fn token(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let grant = {
        let mut l = lock(&state.logins);
        l.token_forms.push(form.clone());
        l.codes.remove(&get("code"))
    };
    if get("grant_type") != "authorization_code" {
        return oauth_error(
            "unsupported_grant_type",
            "grant_type must be authorization_code",
        );
    }
    let Some(g) = grant else {
        return oauth_error("invalid_grant", "unknown or used code");
    };
    if g.client_id != get("client_id") || g.redirect_uri != get("redirect_uri") {
        return oauth_error("invalid_grant", "client_id or redirect_uri differs");
    }
    let hashed = ring::digest::digest(&ring::digest::SHA256, get("code_verifier").as_bytes());
    if URL_SAFE_NO_PAD.encode(hashed.as_ref()) != g.challenge {
        return oauth_error(
            "invalid_grant",
            "code_verifier does not match the challenge",
        );
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("idp");
    let mut claims = g.claims;
    if let Some(m) = claims.as_object_mut() {
        m.entry("iss").or_insert(json!(format!("http://{host}")));
        m.insert("aud".into(), json!(g.client_id));
        if let Some(n) = g.nonce {
            m.insert("nonce".into(), json!(n));
        }
    }
    let signed = lock(&state.idp)
        .as_ref()
        .and_then(|idp| idp.mint("RS256", None, &claims));
    let Some(id_token) = signed else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    Json(json!({
        "access_token": format!("opaque-{}", state.ids.fetch_add(1, Ordering::Relaxed)),
        "token_type": "Bearer",
        "expires_in": 3600,
        "id_token": id_token,
    }))
    .into_response()
}
