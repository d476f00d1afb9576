//! OpenAI moderations (`POST /v1/moderations`, the `omni-moderation-latest` result shape):
//! deterministic scores from word lists, so tests know which text is flagged and for what.
//! A category scores 0.9 when one of its words appears (whole words, case-insensitive), else
//! 0.01; `flagged` when any category reaches 0.5.

use crate::openai::{error, prepare};
use crate::State;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// The categories of OpenAI's moderation results, with the words that score them here.
const CATEGORIES: &[(&str, &[&str])] = &[
    ("harassment", &["idiot", "loser"]),
    ("harassment/threatening", &["i will find you"]),
    ("hate", &["vermin"]),
    ("hate/threatening", &[]),
    ("illicit", &["counterfeit", "launder"]),
    ("illicit/violent", &["build a bomb"]),
    ("self-harm", &["hurt myself"]),
    ("self-harm/intent", &["want to hurt myself"]),
    ("self-harm/instructions", &[]),
    ("sexual", &["explicit"]),
    ("sexual/minors", &[]),
    ("violence", &["kill", "attack", "stab"]),
    ("violence/graphic", &["gore"]),
];

/// Whether `word` (lowercase) is in `text` as a whole word, case aside (the mock's moderation,
/// content-safety and guardrail endpoints decide by word lists).
pub(crate) fn has_word(text: &str, word: &str) -> bool {
    let text = text.to_lowercase();
    let mut from = 0;
    while let Some(i) = text[from..].find(word) {
        let a = from + i;
        let b = a + word.len();
        let before = text[..a]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let after = text[b..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        if before && after {
            return true;
        }
        from = b;
    }
    false
}

fn result(text: &str) -> Value {
    let mut categories = Map::new();
    let mut scores = Map::new();
    let mut applied = Map::new();
    let mut flagged = false;
    for (name, words) in CATEGORIES {
        let score = if words.iter().any(|w| has_word(text, w)) {
            0.9
        } else {
            0.01
        };
        flagged |= score >= 0.5;
        categories.insert((*name).to_owned(), json!(score >= 0.5));
        scores.insert((*name).to_owned(), json!(score));
        applied.insert((*name).to_owned(), json!(["text"]));
    }
    json!({"flagged": flagged, "categories": categories, "category_scores": scores,
        "category_applied_input_types": applied})
}

pub(crate) async fn moderations(
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
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            })
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
    let model = req
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("omni-moderation-latest");
    let results: Vec<Value> = inputs.iter().map(|t| result(t)).collect();
    axum::Json(json!({"id": "modr-mock", "model": model, "results": results})).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_score_their_categories() {
        let r = result("I will kill the process");
        assert_eq!(r["flagged"], true);
        assert_eq!(r["category_scores"]["violence"], 0.9);
        assert_eq!(r["categories"]["harassment"], false);
        assert_eq!(result("skill and killer instincts")["flagged"], false);
    }
}
