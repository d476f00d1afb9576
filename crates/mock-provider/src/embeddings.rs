//! OpenAI embeddings: deterministic vectors derived from the input text, as floats or base64.

use crate::openai::{error, prepare};
use crate::State;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::Arc;

/// A deterministic embedding of `text` with `dims` dimensions: its words and their character
/// trigrams hashed into signed buckets (a word counts twice a trigram), scaled to unit length.
/// Texts that share words (or parts of words: "invest", "investing") point the same way, so
/// paraphrases are close by cosine and unrelated texts near orthogonal (with enough dimensions;
/// at 8 buckets words collide). A text without words gets a vector from its bytes' hash.
pub(crate) fn vector(text: &str, dims: usize) -> Vec<f32> {
    let dims = dims.max(1);
    let mut v = vec![0f32; dims];
    let mut add = |feature: &str, weight: f32| {
        let h = fnv(feature.as_bytes());
        let bucket = (h % dims as u64) as usize;
        let sign = if (h >> 63) == 1 { -1.0 } else { 1.0 };
        v[bucket] += sign * weight;
    };
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    for w in &words {
        add(w, 2.0);
        let marked: Vec<char> = format!("^{w}$").chars().collect();
        for t in marked.windows(3) {
            add(&t.iter().collect::<String>(), 1.0);
        }
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm == 0.0 {
        // No words: spread the bytes' hash over the dimensions instead.
        let mut h = fnv(text.as_bytes());
        for (i, x) in v.iter_mut().enumerate() {
            h = h
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407 + i as u64);
            *x = ((h >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0;
        }
        return v;
    }
    v.iter().map(|x| x / norm).collect()
}

/// FNV-1a, 64 bits.
fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Standard base64 (RFC 4648) with padding.
pub fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for (i, shift) in [18, 12, 6, 0].iter().enumerate() {
            if i <= c.len() {
                out.push(T[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub(crate) async fn embeddings(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let (req, _fault) = match prepare(&state, &headers, &uri, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let inputs: Vec<String> = match req.get("input") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect(),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "'input' is a required property",
                "invalid_request_error",
                None,
            )
        }
    };
    let dims = req.get("dimensions").and_then(Value::as_u64).unwrap_or(8) as usize;
    let b64 = req.get("encoding_format").and_then(Value::as_str) == Some("base64");
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let v = vector(text, dims);
            let embedding = if b64 {
                let bytes: Vec<u8> = v.iter().flat_map(|f| f.to_le_bytes()).collect();
                Value::String(base64(&bytes))
            } else {
                json!(v)
            };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    let tokens: usize = inputs.iter().map(|t| t.len().div_ceil(4)).sum();
    let model = req.get("model").cloned().unwrap_or(Value::Null);
    axum::Json(json!({"object": "list", "data": data, "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}))
    .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc4648_vectors() {
        assert_eq!(super::base64(b""), "");
        assert_eq!(super::base64(b"f"), "Zg==");
        assert_eq!(super::base64(b"fo"), "Zm8=");
        assert_eq!(super::base64(b"foo"), "Zm9v");
        assert_eq!(super::base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn vectors_are_deterministic_and_in_range() {
        let a = super::vector("hello", 16);
        assert_eq!(a, super::vector("hello", 16));
        assert_ne!(a, super::vector("hellp", 16));
        assert!(a.iter().all(|x| (-1.0..=1.0).contains(x)));
        assert_eq!(super::vector("", 8).len(), 8);
        assert_ne!(super::vector("", 8), super::vector("?!", 8));
    }

    fn cosine(a: &str, b: &str) -> f32 {
        let (x, y) = (super::vector(a, 256), super::vector(b, 256));
        x.iter().zip(&y).map(|(p, q)| p * q).sum()
    }

    #[test]
    fn paraphrases_are_close_and_unrelated_texts_are_not() {
        let near = cosine(
            "How should I invest my savings?",
            "how do I invest my savings",
        );
        let also = cosine(
            "Which stocks should I buy?",
            "which stock should I be buying",
        );
        let far = cosine(
            "How should I invest my savings?",
            "What is the weather in Paris today?",
        );
        assert!(near > 0.7, "{near}");
        assert!(also > 0.5, "{also}");
        assert!(far.abs() < 0.3, "{far}");
        assert!((cosine("Same words here", "same WORDS here") - 1.0).abs() < 1e-5);
    }
}
