//! JSON Web Tokens from an OIDC identity provider: its published key set (JWKS), RS256 and
//! ES256 signatures checked with ring, the registered claims (`exp`, `nbf`, `iss`, `aud`)
//! validated, and the token's claims mapped to a caller's [`Principal`] or an admin's
//! [`Access`]. Fetching the key set is the server's job; this module never does I/O.
//!
//! Only asymmetric algorithms are accepted: a token that says `none` or `HS256` is refused
//! whatever key it names, so a public key can never be used as an HMAC secret.

use crate::access::Access;
use crate::directory::{Principal, Snapshot};
use crate::model::{OrgRole, WsRole};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A token's claims.
pub type Claims = Map<String, Value>;

/// Longest token looked at, in bytes (a JWT with a few claims is well under 4 KiB).
const MAX_TOKEN: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alg {
    Rs256,
    Es256,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PublicKey {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// An uncompressed P-256 point (`04 || x || y`).
    P256(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Jwk {
    kid: Option<String>,
    key: PublicKey,
}

/// The identity provider's verification keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySet {
    keys: Vec<Jwk>,
}

/// Why a token is refused (all 401s; the message is safe to show the caller).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("the token is malformed: {0}")]
    Malformed(&'static str),
    #[error("the token's algorithm '{0}' is not accepted (RS256 or ES256)")]
    Algorithm(String),
    #[error("the token's signing key is not in the identity provider's key set")]
    UnknownKey,
    #[error("the token's signature does not verify")]
    Signature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token has no expiry (exp)")]
    NoExpiry,
    #[error("the token's issuer is not accepted")]
    Issuer,
    #[error("the token's audience is not accepted")]
    Audience,
}

fn b64(part: &str) -> Result<Vec<u8>, JwtError> {
    URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| JwtError::Malformed("a part is not base64url"))
}

impl KeySet {
    /// Parses a JWKS document (`{"keys": [...]}`); keys of other types or for other uses
    /// (`use: enc`) are skipped. An error when none is usable.
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        let v: Value =
            serde_json::from_slice(body).map_err(|e| format!("the key set is not JSON: {e}"))?;
        let list = v
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("the key set has no `keys` array")?;
        let mut keys = Vec::new();
        for k in list {
            let s = |f: &str| k.get(f).and_then(Value::as_str);
            if s("use").is_some_and(|u| u != "sig") {
                continue;
            }
            let bytes = |f: &str| s(f).and_then(|x| b64(x).ok());
            let key = match (s("kty"), s("crv")) {
                (Some("RSA"), _) => match (bytes("n"), bytes("e")) {
                    (Some(n), Some(e)) => PublicKey::Rsa {
                        n: strip_zeros(n),
                        e: strip_zeros(e),
                    },
                    _ => continue,
                },
                (Some("EC"), Some("P-256")) => match (bytes("x"), bytes("y")) {
                    (Some(x), Some(y)) if x.len() == 32 && y.len() == 32 => {
                        let mut point = Vec::with_capacity(65);
                        point.push(4);
                        point.extend_from_slice(&x);
                        point.extend_from_slice(&y);
                        PublicKey::P256(point)
                    }
                    _ => continue,
                },
                _ => continue,
            };
            keys.push(Jwk {
                kid: s("kid").map(str::to_owned),
                key,
            });
        }
        if keys.is_empty() {
            return Err("the key set holds no RSA or P-256 signing key".into());
        }
        Ok(Self { keys })
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key a token names: by `kid`, or the only key of its type when it names none.
    fn find(&self, kid: Option<&str>, alg: Alg) -> Option<&PublicKey> {
        let fits = |k: &&Jwk| {
            matches!(
                (alg, &k.key),
                (Alg::Rs256, PublicKey::Rsa { .. }) | (Alg::Es256, PublicKey::P256(_))
            )
        };
        match kid {
            Some(id) => self
                .keys
                .iter()
                .filter(fits)
                .find(|k| k.kid.as_deref() == Some(id))
                .map(|k| &k.key),
            None => {
                let mut of_type = self.keys.iter().filter(fits);
                let first = of_type.next()?;
                of_type.next().is_none().then_some(&first.key)
            }
        }
    }
}

fn strip_zeros(mut v: Vec<u8>) -> Vec<u8> {
    let zeros = v.iter().take_while(|b| **b == 0).count();
    v.drain(..zeros);
    v
}

/// Whether a presented credential is shaped like a JWT (three base64url parts, a JSON header).
pub fn looks_like_jwt(presented: &str) -> bool {
    presented.starts_with("eyJ") && presented.bytes().filter(|b| *b == b'.').count() == 2
}

/// A token split and its header read; the signature not yet checked.
#[derive(Debug)]
pub struct Unverified<'a> {
    alg: Alg,
    kid: Option<String>,
    signing_input: &'a str,
    payload: &'a str,
    signature: Vec<u8>,
}

/// Splits a token and reads its header.
pub fn decode(token: &str) -> Result<Unverified<'_>, JwtError> {
    if token.len() > MAX_TOKEN {
        return Err(JwtError::Malformed("it is too long"));
    }
    let (signing_input, sig) = token
        .rsplit_once('.')
        .ok_or(JwtError::Malformed("it does not have three parts"))?;
    let (header, payload) = signing_input
        .split_once('.')
        .ok_or(JwtError::Malformed("it does not have three parts"))?;
    let header: Value = serde_json::from_slice(&b64(header)?)
        .map_err(|_| JwtError::Malformed("the header is not JSON"))?;
    let alg = match header.get("alg").and_then(Value::as_str) {
        Some("RS256") => Alg::Rs256,
        Some("ES256") => Alg::Es256,
        Some(other) => return Err(JwtError::Algorithm(other.chars().take(16).collect())),
        None => return Err(JwtError::Malformed("the header has no alg")),
    };
    if header.get("crit").is_some() {
        return Err(JwtError::Malformed(
            "critical header parameters are not understood",
        ));
    }
    Ok(Unverified {
        alg,
        kid: header.get("kid").and_then(Value::as_str).map(str::to_owned),
        signing_input,
        payload,
        signature: b64(sig)?,
    })
}

/// What a token's registered claims must say.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub leeway_secs: i64,
}

impl Unverified<'_> {
    /// Whether `keys` holds the key this token names.
    pub fn key_known(&self, keys: &KeySet) -> bool {
        keys.find(self.kid.as_deref(), self.alg).is_some()
    }

    /// Checks the signature with `keys` and the registered claims at `now_secs`.
    pub fn verify(self, keys: &KeySet, rules: &Rules, now_secs: i64) -> Result<Claims, JwtError> {
        let key = keys
            .find(self.kid.as_deref(), self.alg)
            .ok_or(JwtError::UnknownKey)?;
        let msg = self.signing_input.as_bytes();
        let ok = match (self.alg, key) {
            (Alg::Rs256, PublicKey::Rsa { n, e }) => RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, msg, &self.signature)
                .is_ok(),
            (Alg::Es256, PublicKey::P256(point)) => {
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(msg, &self.signature)
                    .is_ok()
            }
            _ => false,
        };
        if !ok {
            return Err(JwtError::Signature);
        }
        let claims: Claims = serde_json::from_slice(&b64(self.payload)?)
            .map_err(|_| JwtError::Malformed("the claims are not a JSON object"))?;
        let time = |name: &str| claims.get(name).and_then(Value::as_f64);
        #[allow(clippy::cast_precision_loss)]
        let (now, leeway) = (now_secs as f64, rules.leeway_secs as f64);
        match time("exp") {
            None => return Err(JwtError::NoExpiry),
            Some(exp) if now >= exp + leeway => return Err(JwtError::Expired),
            Some(_) => {}
        }
        if time("nbf").is_some_and(|nbf| now + leeway < nbf) {
            return Err(JwtError::NotYetValid);
        }
        if let Some(iss) = &rules.issuer {
            if claims.get("iss").and_then(Value::as_str) != Some(iss.as_str()) {
                return Err(JwtError::Issuer);
            }
        }
        if let Some(aud) = &rules.audience {
            let has = match claims.get("aud") {
                Some(Value::String(s)) => s == aud,
                Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(aud.as_str())),
                _ => false,
            };
            if !has {
                return Err(JwtError::Audience);
            }
        }
        Ok(claims)
    }
}

/// Which claims hold what; dotted names reach into objects (`realm_access.roles`).
#[derive(Debug, Clone)]
pub struct ClaimNames {
    pub subject: String,
    pub workspace: String,
    pub models: String,
    pub org_role: String,
    pub workspace_roles: String,
}

/// The claim at a dotted path (an exact top-level name wins: `https://x.io/role` works too).
pub fn claim<'a>(claims: &'a Claims, path: &str) -> Option<&'a Value> {
    if let Some(v) = claims.get(path) {
        return Some(v);
    }
    let mut parts = path.split('.');
    let mut v = claims.get(parts.next()?)?;
    for p in parts {
        v = v.get(p)?;
    }
    Some(v)
}

/// The token's subject, for logs and the audit: `jwt:<subject>`.
pub fn actor(claims: &Claims, names: &ClaimNames) -> String {
    let sub = match claim(claims, &names.subject) {
        Some(Value::String(s)) => s.clone(),
        Some(v @ Value::Number(_)) => v.to_string(),
        _ => "unknown".into(),
    };
    format!("jwt:{sub}")
}

/// A caller's principal from a verified token: its workspace (which must exist) and the model
/// patterns it may use. The error says what is wrong (a 403).
pub fn principal(
    snapshot: &Snapshot,
    claims: &Claims,
    names: &ClaimNames,
) -> Result<Principal, String> {
    let workspace = claim(claims, &names.workspace)
        .and_then(Value::as_str)
        .ok_or_else(|| {
            format!(
                "The token names no workspace (claim '{}').",
                names.workspace
            )
        })?;
    let ws = snapshot
        .workspace(workspace)
        .ok_or_else(|| format!("The token's workspace '{workspace}' does not exist."))?;
    let models: Vec<String> = match claim(claims, &names.models) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|m| m.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| {
                format!(
                    "The token's claim '{}' is not a list of model names.",
                    names.models
                )
            })?,
        Some(_) => {
            return Err(format!(
                "The token's claim '{}' is not a list of model names.",
                names.models
            ))
        }
    };
    Ok(Principal {
        workspace: ws.id.clone(),
        workspace_name: ws.name.clone(),
        key_id: None,
        key_name: actor(claims, names),
        models: models.into(),
        metadata: Arc::default(),
        tags: Arc::from([]),
        credentials: snapshot.credentials_of(&ws.id),
    })
}

fn org_role(v: &str) -> Option<OrgRole> {
    match v {
        "owner" => Some(OrgRole::Owner),
        "admin" => Some(OrgRole::Admin),
        "member" => Some(OrgRole::Member),
        _ => None,
    }
}

fn ws_role(v: &str) -> Option<WsRole> {
    match v {
        "admin" => Some(WsRole::Admin),
        "member" => Some(WsRole::Member),
        "viewer" => Some(WsRole::Viewer),
        _ => None,
    }
}

/// An admin caller's access from a verified token: the highest organisation role named (a
/// member when none is), and workspace roles (`{"ws": "role"}` or `["ws:role", ...]`; the
/// highest counts when a workspace is named twice). Unknown role names are ignored.
pub fn access(claims: &Claims, names: &ClaimNames) -> Access {
    let org = match claim(claims, &names.org_role) {
        Some(Value::String(s)) => org_role(s),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .filter_map(org_role)
            .max(),
        _ => None,
    }
    .unwrap_or(OrgRole::Member);
    let mut workspaces: BTreeMap<String, WsRole> = BTreeMap::new();
    let mut grant = |ws: &str, role: Option<WsRole>| {
        if let (false, Some(r)) = (ws.is_empty(), role) {
            let slot = workspaces.entry(ws.to_owned()).or_insert(r);
            *slot = (*slot).max(r);
        }
    };
    match claim(claims, &names.workspace_roles) {
        Some(Value::Object(m)) => {
            for (ws, r) in m {
                grant(ws, r.as_str().and_then(ws_role));
            }
        }
        Some(Value::Array(a)) => {
            for item in a.iter().filter_map(Value::as_str) {
                if let Some((ws, r)) = item.rsplit_once(':') {
                    grant(ws, ws_role(r));
                }
            }
        }
        _ => {}
    }
    Access {
        actor: actor(claims, names),
        org,
        workspaces,
    }
}

#[cfg(test)]
mod tests;
