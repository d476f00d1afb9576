//! `llm_judge`: a model the gateway serves (a model or a route, called through the gateway's
//! own routing: `internal`) judges the texts against the check's criteria and answers
//! `{"pass", "score", "reason"}`; an answer that is not that is an error.

use super::{Reply, Subject};
use crate::internal::{self, Caller};
use crate::state::AppState;
use serde_json::Value;
use switchyard_guardrails::checks::callout::{judge_request, judge_verdict};
use switchyard_guardrails::policy::Stage;
use switchyard_providers::Operation;

pub(super) struct Settings<'a> {
    pub model: &'a str,
    pub criteria: &'a str,
    pub threshold: Option<f64>,
    pub max_tokens: u32,
}

pub(super) async fn call(
    state: &AppState,
    who: &Caller,
    c: &Settings<'_>,
    s: &Subject<'_>,
    tag: &str,
) -> Result<Reply, String> {
    if s.texts.is_empty() {
        return Ok(Reply::default());
    }
    let texts: Vec<&str> = s.texts.iter().map(|t| t.text).collect();
    let body = judge_request(
        c.model,
        c.criteria,
        s.stage == Stage::Output,
        &texts,
        c.max_tokens,
    );
    let answer = internal::call(
        state,
        who,
        Operation::ChatCompletions,
        c.model,
        &body,
        ("guardrail", tag),
    )
    .await?;
    let text = answer
        .body
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .ok_or("the judge's answer has no text")?;
    let j = judge_verdict(text, c.threshold)?;
    let mut detail = answer.usage;
    if let (Some(obj), Some(score)) = (detail.as_object_mut(), j.score) {
        obj.insert("score".into(), score.into());
    }
    Ok(Reply {
        fired: j.fired,
        reason: Some(j.reason),
        rewritten: None,
        detail: Some(detail).filter(|d| !d.is_null()),
    })
}
