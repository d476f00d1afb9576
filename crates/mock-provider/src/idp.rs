//! An OIDC identity provider's two public faces, for tests of JWT auth: the key set
//! (`GET /.well-known/jwks.json`, RFC 7517) and tokens minted on request
//! (`POST /_mock/idp/token` with `{"claims": {...}, "alg": "RS256"|"ES256", "kid"?}`).
//!
//! It signs RS256 with the test RSA key in tests/fixtures/idp-rsa.pem (made for the tests with
//! `openssl genpkey`) and ES256 with P-256 keys generated at start. `POST /_mock/idp/rotate`
//! makes a new P-256 key, publishes it and signs ES256 with it from then on, as a provider
//! rolling its keys does; the old key stays published.

use crate::{lock, State};
use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, KeyPair, RsaKeyPair, RsaPublicKeyComponents as PublicKeyComponents,
    ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256,
};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

const RSA_PEM: &str = include_str!("../../../tests/fixtures/idp-rsa.pem");
/// The `kid` of the RSA key.
pub const RSA_KID: &str = "rsa-1";

/// The signing keys.
pub struct Idp {
    rsa: RsaKeyPair,
    /// P-256 keys, oldest first; the last one signs.
    ec: Vec<(String, EcdsaKeyPair)>,
}

/// The DER of a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`).
pub(crate) fn pkcs8_der(pem: &str) -> Option<Vec<u8>> {
    let begin = "-----BEGIN PRIVATE KEY-----";
    let start = pem.find(begin)? + begin.len();
    let stop = start + pem[start..].find("-----END PRIVATE KEY-----")?;
    let b64: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD.decode(b64).ok()
}

fn new_ec() -> Option<EcdsaKeyPair> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).ok()?;
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).ok()
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Idp {
    /// The fixture's RSA key and one fresh P-256 key (`ec-1`).
    pub fn new() -> Option<Self> {
        let rsa = RsaKeyPair::from_pkcs8(&pkcs8_der(RSA_PEM)?).ok()?;
        Some(Self {
            rsa,
            ec: vec![("ec-1".into(), new_ec()?)],
        })
    }

    /// The key set as the provider publishes it.
    pub fn jwks(&self) -> Value {
        let c: PublicKeyComponents<Vec<u8>> = PublicKeyComponents::from(self.rsa.public());
        let mut keys = vec![json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": RSA_KID,
            "n": URL_SAFE_NO_PAD.encode(&c.n), "e": URL_SAFE_NO_PAD.encode(&c.e),
        })];
        for (kid, k) in &self.ec {
            let point = k.public_key().as_ref();
            keys.push(json!({
                "kty": "EC", "use": "sig", "alg": "ES256", "crv": "P-256", "kid": kid,
                "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
            }));
        }
        json!({ "keys": keys })
    }

    /// Adds a P-256 key that signs from now on; returns its `kid`.
    pub fn rotate(&mut self) -> Option<String> {
        let kid = format!("ec-{}", self.ec.len() + 1);
        self.ec.push((kid.clone(), new_ec()?));
        Some(kid)
    }

    /// A signed token. `iat` and `exp` (an hour on) are filled in when absent; `kid` overrides
    /// the signing key's id in the header (`Some("")` leaves it out).
    pub fn mint(&self, alg: &str, kid: Option<&str>, claims: &Value) -> Option<String> {
        let mut claims = claims.clone();
        let now = now_secs();
        if let Some(m) = claims.as_object_mut() {
            m.entry("iat").or_insert(json!(now));
            m.entry("exp").or_insert(json!(now + 3600));
        }
        let own_kid = match alg {
            "RS256" => RSA_KID,
            "ES256" => self.ec.last()?.0.as_str(),
            _ => return None,
        };
        let mut header = json!({"alg": alg, "typ": "JWT"});
        match kid {
            Some("") => {}
            Some(k) => header["kid"] = json!(k),
            None => header["kid"] = json!(own_kid),
        }
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let rng = SystemRandom::new();
        let sig = if alg == "RS256" {
            let mut sig = vec![0u8; self.rsa.public().modulus_len()];
            self.rsa
                .sign(&RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut sig)
                .ok()?;
            sig
        } else {
            let (_, key) = self.ec.last()?;
            key.sign(&rng, input.as_bytes()).ok()?.as_ref().to_vec()
        };
        Some(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }
}

/// `GET /.well-known/jwks.json`.
pub(crate) async fn jwks(AxState(state): AxState<Arc<State>>) -> Response {
    state.stats.jwks_requests.fetch_add(1, Ordering::Relaxed);
    match lock(&state.idp).as_ref() {
        Some(idp) => Json(idp.jwks()).into_response(),
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// `POST /_mock/idp/token`: `{"claims", "alg"?: "RS256", "kid"?}` → `{"token"}`.
pub(crate) async fn token(
    AxState(state): AxState<Arc<State>>,
    Json(body): Json<Value>,
) -> Response {
    let alg = body.get("alg").and_then(Value::as_str).unwrap_or("RS256");
    let kid = body.get("kid").and_then(Value::as_str);
    let claims = body.get("claims").cloned().unwrap_or_else(|| json!({}));
    match lock(&state.idp)
        .as_ref()
        .and_then(|idp| idp.mint(alg, kid, &claims))
    {
        Some(token) => Json(json!({ "token": token })).into_response(),
        None => (StatusCode::BAD_REQUEST, "alg must be RS256 or ES256").into_response(),
    }
}

/// `POST /_mock/idp/rotate` → `{"kid"}` of the new signing key.
pub(crate) async fn rotate(AxState(state): AxState<Arc<State>>) -> Response {
    match lock(&state.idp).as_mut().and_then(Idp::rotate) {
        Some(kid) => Json(json!({ "kid": kid })).into_response(),
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}
