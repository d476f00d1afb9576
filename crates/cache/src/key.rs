//! The exact cache key: a SHA-256 over who asks (the tenant scope or a namespace), which API
//! and target answer, which output policies the answer passed, and the request's canonical
//! body. Two requests share an entry only when all of these are equal.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Top-level request fields that do not change the answer: how it is delivered (`stream`,
/// `stream_options`), who asks (`user`, `safety_identifier`, `metadata`), storage and
/// provider-side caching hints, and gateways' own cache controls.
pub const IGNORED_FIELDS: &[&str] = &[
    "stream",
    "stream_options",
    "user",
    "safety_identifier",
    "metadata",
    "store",
    "prompt_cache_key",
    "prompt_cache_retention",
    "service_tier",
    "cache",
    "caching",
    "ttl",
];

/// What a key is made of.
#[derive(Debug, Clone, Copy)]
pub struct KeyParts<'a> {
    /// The tenant's scope: its workspace, or the namespace the key or the caller set.
    pub scope: &'a str,
    /// The caller's API (`chat.completions`, `messages`, `responses`, ...): entries hold
    /// answers in that API's shape.
    pub operation: &'a str,
    /// The target the request resolves to (a route's name, or provider/model).
    pub target: &'a str,
    /// The output guardrail policies that apply (their ids and versions): an answer stored
    /// under one set is not served under another.
    pub policies: &'a [String],
    /// The request as sent upstream (after the input guardrails' rewrites).
    pub body: &'a Value,
}

/// A cache key: 32 bytes of SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(pub [u8; 32]);

impl Key {
    pub fn new(parts: &KeyParts<'_>) -> Key {
        let mut h = Sha256::new();
        // Each part is length-prefixed, so no two different part lists hash the same bytes.
        let mut field = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        field(b"switchyard-cache-v1");
        field(parts.scope.as_bytes());
        field(parts.operation.as_bytes());
        field(parts.target.as_bytes());
        let mut policies: Vec<&str> = parts.policies.iter().map(String::as_str).collect();
        policies.sort_unstable();
        policies.dedup();
        field(&(policies.len() as u64).to_le_bytes());
        for p in policies {
            field(p.as_bytes());
        }
        field(&canonical(parts.body));
        Key(h.finalize().into())
    }

    /// Lowercase hex, as keys are named in logs and the admin API.
    pub fn hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 15)]));
        }
        s
    }
}

/// The body's canonical bytes: object keys sorted (serde_json's map is ordered), no
/// whitespace, the ignored top-level fields left out.
pub fn canonical(body: &Value) -> Vec<u8> {
    match body {
        Value::Object(m) => {
            let kept: serde_json::Map<String, Value> = m
                .iter()
                .filter(|(k, _)| !IGNORED_FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            serde_json::to_vec(&kept).unwrap_or_default()
        }
        other => serde_json::to_vec(other).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests;
