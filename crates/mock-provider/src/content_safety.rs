//! Azure AI Content Safety's text analysis (`POST /contentsafety/text:analyze?api-version=
//! 2024-09-01`, the key in `Ocp-Apim-Subscription-Key`), as its REST reference documents it:
//! `{text, categories?, blocklistNames?, haltOnBlocklistHit?, outputType?}` →
//! `{blocklistsMatch, categoriesAnalysis: [{category, severity}]}`.
//!
//! Severities are deterministic, from words (whole words, case-insensitive; the highest found
//! counts; `FourSeverityLevels` rounds down to 0, 2, 4, 6):
//! - Violence: "fight" 2, "attack" and "kill" 4, "massacre" 6;
//! - Hate: "vermin" 6; SelfHarm: "hurt myself" 4; Sexual: "explicit" 2.
//!
//! One blocklist exists, `rivals` (items "acme" and "globex"); others are not found (404).
//! Texts over 10,000 code points are refused as the service refuses them. With
//! `MockOptions::expect_key` set, the key must be that one; otherwise any key is accepted.

use crate::moderation::has_word;
use crate::openai::{prepare_with, Dialect};
use crate::State;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::Arc;

const CATEGORIES: &[&str] = &["Hate", "SelfHarm", "Sexual", "Violence"];

/// (category, word, severity on the eight-level scale).
const WORDS: &[(&str, &str, u64)] = &[
    ("Violence", "fight", 2),
    ("Violence", "attack", 4),
    ("Violence", "kill", 4),
    ("Violence", "massacre", 6),
    ("Hate", "vermin", 6),
    ("SelfHarm", "hurt myself", 4),
    ("Sexual", "explicit", 2),
];

const BLOCKLISTS: &[(&str, &[&str])] = &[("rivals", &["acme", "globex"])];

const FIELDS: &[&str] = &[
    "text",
    "categories",
    "blocklistNames",
    "haltOnBlocklistHit",
    "outputType",
];

/// Azure's error body.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

/// Why a request is refused: status, code, message.
type Refusal = (StatusCode, &'static str, String);

/// The analysis of a valid request, or the service's refusal.
fn analyze(req: &Value) -> Result<Value, Refusal> {
    let bad = |m: &str| (StatusCode::BAD_REQUEST, "InvalidRequestBody", m.to_owned());
    let obj = req
        .as_object()
        .ok_or_else(|| bad("The request body is not an object."))?;
    if let Some(k) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(bad(&format!("The field '{k}' is not recognized.")));
    }
    let text = obj
        .get("text")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("The 'text' field is required."))?;
    if text.chars().count() > 10_000 {
        return Err(bad(
            "The text is too long: at most 10000 characters are supported.",
        ));
    }
    let eight = match obj.get("outputType").and_then(Value::as_str) {
        None | Some("FourSeverityLevels") => false,
        Some("EightSeverityLevels") => true,
        Some(other) => return Err(bad(&format!("The outputType '{other}' is not supported."))),
    };
    let asked: Vec<&str> = match obj.get("categories").and_then(Value::as_array) {
        None => CATEGORIES.to_vec(),
        Some(list) => {
            let mut out = Vec::new();
            for c in list {
                match c.as_str().filter(|c| CATEGORIES.contains(c)) {
                    Some(c) => out.push(c),
                    None => return Err(bad(&format!("The category {c} is not supported."))),
                }
            }
            out
        }
    };
    let mut matches = Vec::new();
    for name in obj
        .get("blocklistNames")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = name.as_str().unwrap_or_default();
        let Some((_, items)) = BLOCKLISTS.iter().find(|(n, _)| *n == name) else {
            return Err((
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("The blocklist '{name}' is not found."),
            ));
        };
        for (i, item) in items.iter().enumerate() {
            if has_word(text, item) {
                matches.push(json!({"blocklistName": name,
                    "blocklistItemId": format!("{name}-{i}"), "blocklistItemText": item}));
            }
        }
    }
    let halt = obj
        .get("haltOnBlocklistHit")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let analysis: Vec<Value> = if halt && !matches.is_empty() {
        Vec::new()
    } else {
        asked
            .iter()
            .map(|cat| {
                let most = WORDS
                    .iter()
                    .filter(|(c, w, _)| c == cat && has_word(text, w))
                    .map(|(_, _, s)| *s)
                    .max()
                    .unwrap_or(0);
                let severity = if eight { most } else { most / 2 * 2 };
                json!({"category": cat, "severity": severity})
            })
            .collect()
    };
    Ok(json!({"blocklistsMatch": matches, "categoriesAnalysis": analysis}))
}

/// `POST /contentsafety/text:analyze`.
pub(crate) async fn text_analyze(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let (req, _fault) =
        match prepare_with(Dialect::OpenAi, &state, &headers, &uri, &body, false).await {
            Ok(v) => v,
            Err(r) => return r,
        };
    let key = headers
        .get("ocp-apim-subscription-key")
        .and_then(|v| v.to_str().ok());
    let key_ok = match (&state.opts.expect_key, key) {
        (_, None) => false,
        (Some(want), Some(got)) => want == got,
        (None, Some(got)) => !got.is_empty(),
    };
    if !key_ok {
        return error(
            StatusCode::UNAUTHORIZED,
            "401",
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
        );
    }
    let version = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .find_map(|kv| kv.strip_prefix("api-version="));
    if !matches!(version, Some("2024-09-01" | "2023-10-01")) {
        return error(
            StatusCode::NOT_FOUND,
            "404",
            "Resource not found: the api-version is missing or not supported.",
        );
    }
    match analyze(&req) {
        Ok(v) => axum::Json(v).into_response(),
        Err((status, code, message)) => error(status, code, &message),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn severity(v: &Value, cat: &str) -> u64 {
        v["categoriesAnalysis"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["category"] == cat)
            .unwrap()["severity"]
            .as_u64()
            .unwrap()
    }

    #[test]
    fn words_set_severities_and_blocklists_match() {
        let v = analyze(
            &json!({"text": "They attack; a massacre.", "outputType": "FourSeverityLevels"}),
        )
        .unwrap();
        assert_eq!(severity(&v, "Violence"), 6);
        assert_eq!(severity(&v, "Hate"), 0);
        let v = analyze(&json!({"text": "we will attack", "categories": ["Violence"]})).unwrap();
        assert_eq!(v["categoriesAnalysis"].as_array().unwrap().len(), 1);
        assert_eq!(severity(&v, "Violence"), 4);
        let v = analyze(
            &json!({"text": "buy from Acme", "blocklistNames": ["rivals"],
            "haltOnBlocklistHit": true}),
        )
        .unwrap();
        assert_eq!(v["blocklistsMatch"][0]["blocklistItemText"], "acme");
        assert_eq!(v["categoriesAnalysis"], json!([]));
    }

    #[test]
    fn bad_requests_are_refused_as_the_service_does() {
        assert!(analyze(&json!({"text": "x".repeat(10_001)})).is_err());
        assert!(analyze(&json!({"text": "x", "categories": ["Gore"]})).is_err());
        assert!(analyze(&json!({"text": "x", "blocklistNames": ["nope"]})).is_err());
        assert!(analyze(&json!({"text": "x", "extra": 1})).is_err());
        assert!(analyze(&json!({"categories": []})).is_err());
    }
}
