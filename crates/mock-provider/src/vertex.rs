//! Google Cloud's side of Vertex AI: the OAuth token endpoint (`POST /token`, a JWT-bearer
//! assertion exchanged for an access token, its RS256 signature checked against the test
//! service account's key) and the Vertex model routes
//! `/v1/projects/{p}/locations/{l}/publishers/{google|anthropic}/models/{model}:{method}`, which
//! accept only tokens this mock issued.

use crate::openai::{prepare_with, Dialect};
use crate::{anthropic, gemini, lock, State};
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use ring::signature::{RsaKeyPair, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The RSA public key (PKCS#1 DER) of a PEM private key, for checking assertions.
pub fn public_key_of(pem: &str) -> Option<Vec<u8>> {
    let der = crate::idp::pkcs8_der(pem)?;
    let key = RsaKeyPair::from_pkcs8(&der).ok()?;
    Some(key.public().as_ref().to_vec())
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

fn form_value<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    body.split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Checks a JWT-bearer assertion; returns why it is refused.
fn check_assertion(state: &State, jwt: &str, audience: &str) -> Result<(), String> {
    let mut parts = jwt.split('.');
    let (Some(h), Some(c), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("assertion is not a JWT".into());
    };
    let decode = |p: &str| -> Result<Value, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(p)
            .map_err(|e| format!("bad base64url: {e}"))?;
        serde_json::from_slice(&bytes).map_err(|e| format!("bad JSON: {e}"))
    };
    let header = decode(h)?;
    let claims = decode(c)?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err("alg must be RS256".into());
    }
    if claims.get("scope").and_then(Value::as_str)
        != Some("https://www.googleapis.com/auth/cloud-platform")
    {
        return Err("scope must be cloud-platform".into());
    }
    if claims.get("aud").and_then(Value::as_str) != Some(audience) {
        return Err(format!("aud must be {audience}"));
    }
    let iat = claims.get("iat").and_then(Value::as_u64).unwrap_or(0);
    let exp = claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
    if exp <= iat || exp - iat > 3600 || claims.get("iss").and_then(Value::as_str).is_none() {
        return Err("iss, iat and exp (at most an hour after iat) are required".into());
    }
    if let Some(public) = &state.google_public_key {
        let sig = URL_SAFE_NO_PAD
            .decode(sig)
            .map_err(|_| "bad signature encoding".to_owned())?;
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public)
            .verify(format!("{h}.{c}").as_bytes(), &sig)
            .map_err(|_| "Invalid JWT Signature.".to_owned())?;
    }
    Ok(())
}

/// `POST /token`.
pub(crate) async fn token(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    state.stats.token_requests.fetch_add(1, Ordering::Relaxed);
    let body = String::from_utf8_lossy(&body);
    if form_value(&body, "grant_type")
        != Some("urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer")
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Invalid grant_type",
        );
    }
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let audience = format!("http://{host}{}", uri.path());
    let Some(jwt) = form_value(&body, "assertion") else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "no assertion");
    };
    if let Err(why) = check_assertion(&state, jwt, &audience) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", &why);
    }
    let n = state.ids.fetch_add(1, Ordering::Relaxed);
    let token = format!("ya29.mock-{n}");
    lock(&state.tokens).push(token.clone());
    let lifetime = state.opts.token_lifetime_secs.unwrap_or(3599);
    axum::Json(json!({"access_token": token, "expires_in": lifetime, "token_type": "Bearer"}))
        .into_response()
}

fn unauthenticated() -> Response {
    crate::openai::error_in(
        Dialect::Gemini,
        StatusCode::UNAUTHORIZED,
        "Request had invalid authentication credentials. Expected OAuth 2 access token.",
        "",
        None,
    )
}

/// `POST /v1/projects/{project}/locations/{location}/publishers/{publisher}/models/{action}`.
pub(crate) async fn model_action(
    AxState(state): AxState<Arc<State>>,
    Path((_project, _location, publisher, action)): Path<(String, String, String, String)>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let issued = bearer.is_some_and(|b| lock(&state.tokens).iter().any(|t| t == b));
    let static_key = bearer.is_some() && bearer == state.opts.expect_key.as_deref();
    if !issued && !static_key {
        return unauthenticated();
    }
    let Some((model, method)) = action.split_once(':') else {
        return gemini::bad_request("model and method expected as {model}:{method}");
    };
    let dialect = if publisher == "anthropic" {
        Dialect::Anthropic
    } else {
        Dialect::Gemini
    };
    let (req, fault) = match prepare_with(dialect, &state, &headers, &uri, &body, false).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match (publisher.as_str(), method) {
        ("google", "generateContent") => gemini::generate(&state, &req, model, fault, None),
        ("google", "streamGenerateContent") => {
            let sse = uri
                .query()
                .is_some_and(|q| q.split('&').any(|kv| kv == "alt=sse"));
            gemini::generate(&state, &req, model, fault, Some(sse))
        }
        ("google", "countTokens") => gemini::count_tokens(&req, model),
        ("google", "predict") => predict(&req),
        ("anthropic", "rawPredict" | "streamRawPredict") => {
            if req.get("anthropic_version").and_then(Value::as_str) != Some("vertex-2023-10-16") {
                return anthropic_error("anthropic_version: must be vertex-2023-10-16");
            }
            if req.get("model").is_some() {
                return anthropic_error("model: Extra inputs are not permitted");
            }
            let streaming = req.get("stream").and_then(Value::as_bool) == Some(true);
            if streaming != (method == "streamRawPredict") {
                return anthropic_error("stream must be true exactly on streamRawPredict");
            }
            anthropic::respond(state, req, fault, model.to_owned())
        }
        _ => crate::openai::error_in(
            Dialect::Gemini,
            StatusCode::NOT_FOUND,
            &format!("Method {publisher}/{method} not found."),
            "",
            None,
        ),
    }
}

fn anthropic_error(message: &str) -> Response {
    crate::openai::error_in(
        Dialect::Anthropic,
        StatusCode::BAD_REQUEST,
        message,
        "invalid_request_error",
        None,
    )
}

/// `predict` on an embedding model: `instances[].content` → `predictions[].embeddings`.
fn predict(req: &Value) -> Response {
    let dims = req
        .pointer("/parameters/outputDimensionality")
        .and_then(Value::as_u64)
        .unwrap_or(8) as usize;
    let predictions: Vec<Value> = req
        .get("instances")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|i| {
            let text = i.get("content").and_then(Value::as_str).unwrap_or("");
            json!({"embeddings": {"values": crate::embeddings::vector(text, dims),
                "statistics": {"token_count": text.split(' ').count(), "truncated": false}}})
        })
        .collect();
    if predictions.is_empty() {
        return gemini::bad_request("instances must not be empty");
    }
    axum::Json(json!({ "predictions": predictions })).into_response()
}
