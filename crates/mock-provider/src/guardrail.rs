//! Amazon Bedrock Guardrails' `ApplyGuardrail` (`POST /guardrail/{guardrailIdentifier}/version/
//! {guardrailVersion}/apply`), as the Bedrock runtime API reference documents it, signed like
//! the other Bedrock routes (SigV4 recomputed here, or the Bedrock API key as Bearer).
//!
//! Every guardrail id answers with the same deterministic policies, so tests know what
//! intervenes (whole words, case-insensitive):
//! - denied topic `Investments`: "invest", "investing", "stock tips" (blocked);
//! - content filter `VIOLENCE` (HIGH): "attack", "kill" (blocked);
//! - custom word: "confidential" (blocked);
//! - PII `EMAIL`: anything shaped like an address (masked as `{EMAIL}`).
//!
//! The id `missing` is a guardrail that does not exist (404). Faults apply as to every route.

use crate::bedrock::{exception, refusal};
use crate::moderation::has_word;
use crate::openai::{prepare_with, Dialect};
use crate::State;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::Arc;

/// Bedrock's message for a blocked input or output, unless the guardrail sets its own.
const BLOCKED: &str = "Sorry, the model cannot answer this question.";

const TOPIC_WORDS: &[&str] = &["invest", "investing", "stock tips"];
const VIOLENT_WORDS: &[&str] = &["attack", "kill"];
const CUSTOM_WORDS: &[&str] = &["confidential"];

/// The text with every address-shaped word masked, and the addresses found.
fn mask_emails(text: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(text.len());
    let mut found = Vec::new();
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let core = word.trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
        let tail = &word[core.len()..];
        let email = core.split_once('@').is_some_and(|(user, domain)| {
            !user.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
        if email {
            found.push(core.to_owned());
            out.push_str("{EMAIL}");
            out.push_str(tail);
        } else {
            out.push_str(word);
        }
    }
    (out, found)
}

fn id_ok(id: &str) -> bool {
    let plain = |x: &str| {
        !x.is_empty()
            && x.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    plain(id)
        || (id.starts_with("arn:aws")
            && id.contains(":bedrock:")
            && id.rsplit_once(":guardrail/").is_some_and(|(_, g)| plain(g)))
}

fn version_ok(v: &str) -> bool {
    v == "DRAFT"
        || (!v.is_empty()
            && v.len() <= 8
            && !v.starts_with('0')
            && v.bytes().all(|b| b.is_ascii_digit()))
}

/// The texts of a request body, or why it is not one.
fn texts(req: &Value) -> Result<(&str, Vec<&str>), String> {
    let obj = req.as_object().ok_or("body must be an object")?;
    for k in obj.keys() {
        if !matches!(k.as_str(), "source" | "content" | "outputScope") {
            return Err(format!(
                "Malformed input request: extraneous key [{k}] is not permitted"
            ));
        }
    }
    let source = match obj.get("source").and_then(Value::as_str) {
        Some(s @ ("INPUT" | "OUTPUT")) => s,
        _ => return Err("source: must be one of INPUT, OUTPUT".into()),
    };
    let content = obj
        .get("content")
        .and_then(Value::as_array)
        .ok_or("content: required")?;
    let mut out = Vec::with_capacity(content.len());
    for (i, block) in content.iter().enumerate() {
        let text = block
            .pointer("/text/text")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("content.{i}: a text block is required"))?;
        out.push(text);
    }
    Ok((source, out))
}

/// The guardrail's answer for `texts`.
fn assess(texts: &[&str]) -> Value {
    let any = |words: &[&str]| texts.iter().any(|t| words.iter().any(|w| has_word(t, w)));
    let mut blocked = false;
    let mut assessment = serde_json::Map::new();
    if any(TOPIC_WORDS) {
        blocked = true;
        assessment.insert(
            "topicPolicy".into(),
            json!({"topics": [{"name": "Investments", "type": "DENY", "action": "BLOCKED", "detected": true}]}),
        );
    }
    if any(VIOLENT_WORDS) {
        blocked = true;
        assessment.insert(
            "contentPolicy".into(),
            json!({"filters": [{"type": "VIOLENCE", "confidence": "HIGH", "filterStrength": "HIGH",
                "action": "BLOCKED", "detected": true}]}),
        );
    }
    let words: Vec<&str> = CUSTOM_WORDS
        .iter()
        .copied()
        .filter(|w| texts.iter().any(|t| has_word(t, w)))
        .collect();
    if !words.is_empty() {
        blocked = true;
        let custom: Vec<Value> = words
            .iter()
            .map(|w| json!({"match": w, "action": "BLOCKED", "detected": true}))
            .collect();
        assessment.insert("wordPolicy".into(), json!({"customWords": custom}));
    }
    let masked: Vec<(String, Vec<String>)> = texts.iter().map(|t| mask_emails(t)).collect();
    let emails: Vec<Value> = masked
        .iter()
        .flat_map(|(_, found)| found.iter())
        .map(|m| json!({"match": m, "type": "EMAIL", "action": "ANONYMIZED", "detected": true}))
        .collect();
    let anonymized = !emails.is_empty();
    if anonymized {
        assessment.insert(
            "sensitiveInformationPolicy".into(),
            json!({"piiEntities": emails}),
        );
    }
    let chars: usize = texts.iter().map(|t| t.chars().count()).sum();
    let units = chars.div_ceil(1000).max(1);
    let (action, outputs) = if blocked {
        ("GUARDRAIL_INTERVENED", vec![json!({"text": BLOCKED})])
    } else if anonymized {
        (
            "GUARDRAIL_INTERVENED",
            masked.iter().map(|(m, _)| json!({"text": m})).collect(),
        )
    } else {
        ("NONE", Vec::new())
    };
    let mut reply = json!({
        "usage": {"topicPolicyUnits": units, "contentPolicyUnits": units, "wordPolicyUnits": units,
            "sensitiveInformationPolicyUnits": units, "sensitiveInformationPolicyFreeUnits": 0,
            "contextualGroundingPolicyUnits": 0},
        "action": action,
        "outputs": outputs,
        "assessments": [Value::Object(assessment)],
        "guardrailCoverage": {"textCharacters": {"guarded": chars, "total": chars}},
    });
    if action != "NONE" {
        reply["actionReason"] = json!("Guardrail blocked.");
    }
    reply
}

/// `POST /guardrail/{id}/version/{version}/apply`.
pub(crate) async fn apply(
    AxState(state): AxState<Arc<State>>,
    Path((id, version)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    if let Some(r) = refusal(&state, &headers, &uri, &body) {
        return r;
    }
    let (req, _fault) =
        match prepare_with(Dialect::Bedrock, &state, &headers, &uri, &body, false).await {
            Ok(v) => v,
            Err(r) => return r,
        };
    if !id_ok(&id) || !version_ok(&version) {
        return exception(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            "1 validation error detected: guardrailIdentifier or guardrailVersion failed to satisfy the constraint",
        );
    }
    if id == "missing" {
        return exception(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            "The guardrail identifier or version provided in the request does not exist.",
        );
    }
    match texts(&req) {
        Ok((_source, texts)) => axum::Json(assess(&texts)).into_response(),
        Err(m) => exception(StatusCode::BAD_REQUEST, "ValidationException", &m),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn topics_and_violence_block_and_addresses_are_masked() {
        let r = assess(&["Which stock tips do you have?"]);
        assert_eq!(r["action"], "GUARDRAIL_INTERVENED");
        assert_eq!(
            r["assessments"][0]["topicPolicy"]["topics"][0]["name"],
            "Investments"
        );
        assert_eq!(r["outputs"], json!([{"text": BLOCKED}]));
        let r = assess(&["mail me at ann@example.com, please", "thanks"]);
        assert_eq!(r["action"], "GUARDRAIL_INTERVENED");
        assert_eq!(
            r["outputs"],
            json!([{"text": "mail me at {EMAIL}, please"}, {"text": "thanks"}])
        );
        assert_eq!(
            r["assessments"][0]["sensitiveInformationPolicy"]["piiEntities"][0]["action"],
            "ANONYMIZED"
        );
        let r = assess(&["an investor's skills"]);
        assert_eq!(r["action"], "NONE");
        assert_eq!(r["outputs"], json!([]));
    }

    #[test]
    fn bodies_and_ids_are_validated() {
        assert!(texts(&json!({"source": "INPUT", "content": [{"text": {"text": "hi"}}]})).is_ok());
        assert!(texts(&json!({"source": "BOTH", "content": []})).is_err());
        assert!(texts(&json!({"source": "INPUT", "content": [{"image": {}}]})).is_err());
        assert!(texts(&json!({"source": "INPUT", "content": [], "extra": 1})).is_err());
        assert!(
            id_ok("gr0abc") && id_ok("arn:aws:bedrock:us-east-1:123456789012:guardrail/gr0abc")
        );
        assert!(!id_ok("Gr-0"));
        assert!(version_ok("DRAFT") && version_ok("12") && !version_ok("012") && !version_ok("v1"));
    }
}
