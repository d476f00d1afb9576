//! Client authentication: `Authorization: Bearer <key>` or `x-api-key: <key>`, checked against
//! SHA-256 hashes in constant time. Keys are never logged.

use crate::error::GatewayError;
use http::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use switchyard_config::ClientKey;

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

/// Returns the matching key's name; `Ok(None)` when no keys are configured (loopback-only mode).
pub fn authenticate(
    keys: &[ClientKey],
    headers: &HeaderMap,
) -> Result<Option<String>, GatewayError> {
    if keys.is_empty() {
        return Ok(None);
    }
    let Some(key) = presented(headers).filter(|k| !k.is_empty()) else {
        return Err(GatewayError::Unauthorized {
            message:
                "Missing API key: send it as 'Authorization: Bearer <key>' or 'x-api-key: <key>'.",
        });
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
        Some(i) => Ok(Some(keys[i].name.clone())),
        None => Err(GatewayError::Unauthorized {
            message: "Invalid API key.",
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
