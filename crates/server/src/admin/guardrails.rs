//! `/admin/v1/guardrails`: the checks the gateway has, the policies the config defines (with
//! where each is attached), and a dry run of a text against policies, the way the request
//! path would run them. Anyone with an admin role reads; a dry run sends nothing anywhere.

use super::tenants::{answer, body, list, with};
use crate::error::GatewayError;
use crate::state::AppState;
use axum::extract::{Path, Request, State};
use axum::response::Response;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use switchyard_guardrails::policy::{RawPolicy, Stage, Text};
use switchyard_guardrails::{redact, Policy, PolicySet, Source};

/// `GET /admin/v1/guardrails/checks`: every built-in check.
pub async fn checks(State(s): State<Arc<AppState>>, req: Request) -> Response {
    with(s, req, async move |_, _, _| {
        let data = switchyard_guardrails::catalogue::all()
            .map(|e| json!({"object": "guardrail_check", "id": e.id, "family": e.family, "summary": e.summary}))
            .collect();
        Ok(answer(StatusCode::OK, &list(data)))
    })
    .await
}

fn policy_json(s: &AppState, p: &Policy) -> Value {
    let g = &s.cfg.guardrails;
    let named = |m: &std::collections::BTreeMap<String, Vec<Arc<Policy>>>| -> Vec<String> {
        m.iter()
            .filter(|(_, ps)| ps.iter().any(|q| q.id == p.id))
            .map(|(k, _)| k.clone())
            .collect()
    };
    let mut v = serde_json::to_value(&p.raw).unwrap_or(Value::Null);
    v["object"] = json!("guardrail_policy");
    v["source"] = json!("config");
    v["stages"] = json!(p.stages);
    v["attached"] = json!({
        "org": g.org.iter().any(|q| q.id == p.id),
        "workspaces": named(&g.workspaces),
        "keys": named(&g.keys),
        "routes": named(&g.routes),
    });
    v
}

/// `GET /admin/v1/guardrails/policies`.
pub async fn policies(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let state = Arc::clone(&s);
    with(s, req, async move |_, _, _| {
        let data = state
            .cfg
            .guardrails
            .policies
            .values()
            .map(|p| policy_json(&state, p))
            .collect();
        Ok(answer(StatusCode::OK, &list(data)))
    })
    .await
}

/// `GET /admin/v1/guardrails/policies/{id}`.
pub async fn policy(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let state = Arc::clone(&s);
    with(s, req, async move |_, _, _| {
        let p = state
            .cfg
            .guardrails
            .policies
            .get(&id)
            .ok_or_else(|| GatewayError::Missing {
                message: format!("no guardrail policy '{id}'"),
            })?;
        Ok(answer(StatusCode::OK, &policy_json(&state, p)))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestRequest {
    /// The text to check.
    text: String,
    /// Policies by id.
    #[serde(default)]
    policies: Vec<String>,
    /// A policy not saved anywhere, to try before writing it into the config.
    policy: Option<RawPolicy>,
    /// `input` (default) or `output`.
    stage: Option<Stage>,
    /// Where the text comes from: `input`, `output`, `tool_call`, `tool_result`. Default: the
    /// stage's own (`input` or `output`).
    source: Option<Source2>,
    /// The tool, for a tool call's arguments or a tool's result.
    tool: Option<String>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Source2 {
    Input,
    Output,
    ToolCall,
    ToolResult,
}

/// `POST /admin/v1/guardrails/test`: a dry run of `text` against policies.
pub async fn test(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let state = Arc::clone(&s);
    with(s, req, async move |_, bytes, _| {
        let t: TestRequest = body(&bytes)?;
        let mut set = PolicySet::default();
        for id in &t.policies {
            let p = state.cfg.guardrails.policies.get(id).ok_or_else(|| GatewayError::BadRequest {
                message: format!("policies: no guardrail policy '{id}'"),
                param: Some("policies".into()),
            })?;
            set.policies.push(Arc::clone(p));
        }
        if let Some(raw) = t.policy {
            let p = Policy::build(raw).map_err(|e| GatewayError::BadRequest {
                message: format!("policy.{}: {}", e.path, e.message),
                param: Some(format!("policy.{}", e.path)),
            })?;
            set.policies.push(Arc::new(p));
        }
        if set.is_empty() {
            return Err(GatewayError::BadRequest {
                message: "name `policies` or give a `policy` to test".into(),
                param: Some("policies".into()),
            });
        }
        let stage = t.stage.unwrap_or(Stage::Input);
        let source = match (t.source, stage) {
            (Some(Source2::Input), _) | (None, Stage::Input) => Source::Input,
            (Some(Source2::Output), _) | (None, Stage::Output) => Source::Output,
            (Some(Source2::ToolCall), _) => Source::ToolCall,
            (Some(Source2::ToolResult), _) => Source::ToolResult,
        };
        let text = Text {
            raw: &t.text,
            source,
            tool: t.tool.as_deref(),
        };
        let report = set.scan(stage, std::slice::from_ref(&text), None);
        let redacted = report
            .masks
            .first()
            .filter(|m| !m.is_empty())
            .map(|m| redact::apply(&t.text, m, None));
        Ok(answer(
            StatusCode::OK,
            &json!({
                "object": "guardrail_test",
                "action": report.action,
                "decided_by": report.decided_by.as_ref().map(|(p, c, l)| json!({"policy": p, "check": c, "label": l})),
                "redacted": redacted,
                "verdicts": report.verdicts,
            }),
        ))
    })
    .await
}
