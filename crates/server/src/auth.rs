//! Client authentication: `Authorization: Bearer <key>` or `x-api-key: <key>`. A virtual key
//! (`sk-sy-...`) is resolved against the tenants' in-memory snapshot; any other key is checked
//! against the static keys' SHA-256 hashes in constant time; a JWT (when `server.tenants.jwt` is
//! configured) is verified against the identity provider's keys and its claims name the
//! workspace. Keys and tokens are never logged.

use crate::error::GatewayError;
use crate::state::AppState;
use http::HeaderMap;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use subtle::ConstantTimeEq;
use switchyard_config::ClientKey;
use switchyard_tenants::model::DEFAULT_WORKSPACE;
use switchyard_tenants::{Principal, Refusal};

/// The caller of a request: a virtual key's principal, a JWT's, or a static key's (in the
/// `default` workspace); `Ok(None)` when no keys exist at all on a loopback listener (the
/// zero-setup mode). A public listener never serves without a key, even after its last
/// virtual key is deleted.
pub async fn caller(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Arc<Principal>>, GatewayError> {
    let tenants = state.tenants.get();
    // One snapshot for the whole decision.
    let snapshot = tenants.map(|t| t.snapshot());
    let virtual_keys = snapshot.as_ref().is_some_and(|s| s.key_count() > 0);
    let jwt = state.jwt.as_ref().filter(|j| j.callers);
    let open_allowed = state.cfg.listen.ip().is_loopback() || state.cfg.allow_insecure_public;
    if state.cfg.client_keys.is_empty() && !virtual_keys && jwt.is_none() && open_allowed {
        return Ok(None);
    }
    let presented = presented(headers).filter(|k| !k.is_empty());
    let text = presented.and_then(|k| std::str::from_utf8(k).ok());
    if let (Some(j), Some(snap), Some(token)) = (jwt, &snapshot, text) {
        if switchyard_tenants::jwt::looks_like_jwt(token) {
            let verified = j.verify(token).await?;
            // Made once per token and snapshot version.
            if let Some(made) = verified
                .principal
                .load()
                .as_ref()
                .filter(|m| m.0 == snap.version)
            {
                return Ok(Some(Arc::clone(&made.1)));
            }
            let p = switchyard_tenants::jwt::principal(snap, &verified.claims, &j.names)
                .map(Arc::new)
                .map_err(|message| GatewayError::Forbidden {
                    message,
                    param: None,
                })?;
            verified
                .principal
                .store(Some(Arc::new((snap.version, Arc::clone(&p)))));
            return Ok(Some(p));
        }
    }
    if let (Some(t), Some(snap), Some(key)) = (tenants, &snapshot, text) {
        match t.authenticate_in(snap, key) {
            Some(Ok(p)) => return Ok(Some(p)),
            Some(Err(Refusal::Unknown)) => {
                return Err(GatewayError::Unauthorized {
                    message: "Invalid API key.".into(),
                })
            }
            Some(Err(Refusal::Disabled)) => {
                return Err(GatewayError::Forbidden {
                    message: "This API key is disabled.".into(),
                    param: None,
                })
            }
            Some(Err(Refusal::Expired)) => {
                return Err(GatewayError::Forbidden {
                    message: "This API key has expired.".into(),
                    param: None,
                })
            }
            // Not shaped like a virtual key: a static one, perhaps.
            None => {}
        }
    }
    if state.cfg.client_keys.is_empty() {
        // Not the open mode (that returned above): only virtual keys or tokens serve here.
        return Err(match presented {
            None => missing(),
            Some(_) => GatewayError::Unauthorized {
                message: "Invalid API key.".into(),
            },
        });
    }
    let Some(i) = matching(&state.cfg.client_keys, headers)? else {
        return Ok(None);
    };
    // Static keys' principals are made once per tenants' snapshot (they carry its credentials).
    let version = snapshot.as_ref().map_or(0, |s| s.version);
    if let Some(made) = state
        .static_principals
        .load()
        .as_ref()
        .filter(|m| m.0 == version)
    {
        return Ok(made.1.get(i).cloned());
    }
    let credentials = snapshot
        .as_ref()
        .map_or_else(Arc::default, |s| s.credentials_of(DEFAULT_WORKSPACE));
    let made: Vec<Arc<Principal>> = state
        .cfg
        .client_keys
        .iter()
        .map(|k| {
            Arc::new(Principal {
                credentials: Arc::clone(&credentials),
                workspace: DEFAULT_WORKSPACE.into(),
                workspace_name: DEFAULT_WORKSPACE.into(),
                key_id: None,
                key_name: k.name.clone(),
                models: Arc::from([]),
                metadata: Arc::default(),
                tags: Arc::from([]),
            })
        })
        .collect();
    let mine = made.get(i).cloned();
    state
        .static_principals
        .store(Some(Arc::new((version, made))));
    Ok(mine)
}

/// The header that names the caller's own user, when the body does not.
pub const END_USER_HEADER: &str = "x-switchyard-end-user";
/// Longest end-user id tracked.
const MAX_END_USER: usize = 256;

/// The caller's own user: the `x-switchyard-end-user` header, else the body's `user` (OpenAI)
/// or `metadata.user_id` (Anthropic), as the peek read them.
pub fn end_user(headers: &HeaderMap, from_body: Option<&str>) -> Option<String> {
    headers
        .get(END_USER_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .or(from_body)
        .filter(|v| !v.is_empty() && v.len() <= MAX_END_USER)
        .map(str::to_owned)
}

/// Refuses an end user its workspace blocked (403 naming the field), and records the sighting.
pub fn check_end_user(
    state: &AppState,
    principal: Option<&Principal>,
    id: &str,
) -> Result<(), GatewayError> {
    let Some(t) = state.tenants.get() else {
        return Ok(());
    };
    let workspace = principal.map_or(DEFAULT_WORKSPACE, |p| p.workspace.as_str());
    if t.end_user(workspace, id) {
        return Err(GatewayError::Forbidden {
            message: "This end user is blocked.".into(),
            param: Some("user".into()),
        });
    }
    Ok(())
}

/// Refuses a model the caller's key may not use (403 naming the field).
pub fn check_model(principal: Option<&Principal>, model: &str) -> Result<(), GatewayError> {
    match principal {
        Some(p) if !p.allows(model) => Err(GatewayError::Forbidden {
            message: format!("This API key may not use model '{model}'."),
            param: Some("model".into()),
        }),
        _ => Ok(()),
    }
}

/// The key a request presents, as text.
pub(crate) fn presented_str(headers: &HeaderMap) -> Option<&str> {
    presented(headers)
        .filter(|k| !k.is_empty())
        .and_then(|k| std::str::from_utf8(k).ok())
}

/// The key a request presents, if any.
fn presented(headers: &HeaderMap) -> Option<&[u8]> {
    if let Some(v) = headers.get(http::header::AUTHORIZATION) {
        // The scheme is case-insensitive (RFC 7235 section 2.1): `BEARER` is `Bearer`.
        let b = v.as_bytes();
        let (scheme, token) = b.split_at_checked(7)?;
        if !scheme.eq_ignore_ascii_case(b"bearer ") {
            return None;
        }
        return Some(token.trim_ascii());
    }
    headers.get("x-api-key").map(|v| v.as_bytes().trim_ascii())
}

fn missing() -> GatewayError {
    GatewayError::Unauthorized {
        message: "Missing API key: send it as 'Authorization: Bearer <key>' or 'x-api-key: <key>'."
            .into(),
    }
}

/// Returns the matching static key's name; `Ok(None)` when no keys are configured (the
/// loopback-only mode). Admin keys are checked with it too.
pub fn authenticate(
    keys: &[ClientKey],
    headers: &HeaderMap,
) -> Result<Option<String>, GatewayError> {
    Ok(matching(keys, headers)?.map(|i| keys[i].name.clone()))
}

/// As `authenticate`, the matching key's index.
fn matching(keys: &[ClientKey], headers: &HeaderMap) -> Result<Option<usize>, GatewayError> {
    if keys.is_empty() {
        return Ok(None);
    }
    let Some(key) = presented(headers).filter(|k| !k.is_empty()) else {
        return Err(missing());
    };
    let digest: [u8; 32] = Sha256::digest(key).into();
    // Compare against every key without stopping early, so timing says nothing about which matched.
    let mut found: Option<usize> = None;
    for (i, k) in keys.iter().enumerate() {
        if bool::from(k.sha256.ct_eq(&digest)) {
            found = found.or(Some(i));
        }
    }
    match found {
        Some(i) => Ok(Some(i)),
        None => Err(GatewayError::Unauthorized {
            message: "Invalid API key.".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn keys() -> Vec<ClientKey> {
        vec![
            ClientKey {
                name: "a".into(),
                sha256: Sha256::digest(b"key-aaaa").into(),
            },
            ClientKey {
                name: "b".into(),
                sha256: Sha256::digest(b"key-bbbb").into(),
            },
        ]
    }

    fn h(name: &'static str, v: &'static str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(name, HeaderValue::from_static(v));
        m
    }

    #[test]
    fn bearer_and_x_api_key() {
        assert_eq!(
            authenticate(&keys(), &h("authorization", "Bearer key-bbbb")).unwrap(),
            Some("b".into())
        );
        assert_eq!(
            authenticate(&keys(), &h("x-api-key", "key-aaaa")).unwrap(),
            Some("a".into())
        );
    }

    #[test]
    fn the_scheme_is_case_insensitive() {
        for v in ["BEARER key-aaaa", "bEaReR key-aaaa", "bearer  key-aaaa"] {
            let mut m = HeaderMap::new();
            m.insert("authorization", HeaderValue::from_str(v).unwrap());
            assert_eq!(authenticate(&keys(), &m).unwrap(), Some("a".into()), "{v}");
        }
        let e = authenticate(&keys(), &h("authorization", "Bearerkey-aaaa")).unwrap_err();
        assert!(e.to_string().starts_with("Missing API key"));
    }

    #[test]
    fn missing_wrong_and_malformed() {
        let e = authenticate(&keys(), &HeaderMap::new()).unwrap_err();
        assert!(e.to_string().starts_with("Missing API key"));
        let e = authenticate(&keys(), &h("authorization", "Bearer nope")).unwrap_err();
        assert_eq!(e.to_string(), "Invalid API key.");
        let e = authenticate(&keys(), &h("authorization", "Basic a2V5")).unwrap_err();
        assert!(e.to_string().starts_with("Missing API key"));
    }

    #[test]
    fn no_keys_means_open() {
        assert_eq!(authenticate(&[], &HeaderMap::new()).unwrap(), None);
    }
}
