//! The guardrails stage: which policies apply to a request (attached in the config to the
//! organisation, its workspace, its key and its route, plus those the caller adds by header),
//! and running the input ones. A deny refuses the request before any provider is called; a
//! redaction rewrites the body sent upstream; every verdict goes to the request's record.

use crate::context::RequestCtx;
use crate::error::GatewayError;
use crate::state::AppState;
use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use std::sync::Arc;
use switchyard_guardrails::apply::{refusal_answer, scan_answer, scan_request, Scanned};
use switchyard_guardrails::policy::Stage;
use switchyard_guardrails::{Action, Policy, PolicySet};
use switchyard_wire::peek::{peek, Peek, Required};

/// Callers add policies by id with this header (comma-separated).
pub const HEADER: &str = "x-switchyard-guardrails";

/// The policies for this request, admin-attached first; a caller can add, never remove.
pub fn applicable(
    state: &AppState,
    ctx: &RequestCtx,
    headers: &HeaderMap,
) -> Result<PolicySet, GatewayError> {
    let g = &state.cfg.guardrails;
    let mut out: Vec<Arc<Policy>> = Vec::new();
    let mut add = |ps: &[Arc<Policy>]| {
        for p in ps {
            if !out.iter().any(|have| have.id == p.id) {
                out.push(Arc::clone(p));
            }
        }
    };
    add(&g.org);
    if let Some(p) = &ctx.principal {
        if let Some(ps) = g.workspaces.get(&p.workspace) {
            add(ps);
        }
        if let Some(ps) = g.keys.get(&p.key_name) {
            add(ps);
        }
        if let Some(ps) = p.key_id.as_ref().and_then(|id| g.keys.get(id)) {
            add(ps);
        }
    }
    if let Some(ps) = ctx.route.as_ref().and_then(|r| g.routes.get(r)) {
        add(ps);
    }
    if let Some(v) = headers.get(HEADER) {
        let asked = v.to_str().map_err(|_| bad_header("is not text"))?;
        if !g.request_policies {
            return Err(bad_header(
                "is not accepted by this gateway (guardrails.request_policies is off)",
            ));
        }
        for id in asked.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match g.policies.get(id) {
                Some(p) => add(std::slice::from_ref(p)),
                None => return Err(bad_header(&format!("names no policy \"{id}\""))),
            }
        }
    }
    Ok(PolicySet { policies: out })
}

fn bad_header(why: &str) -> GatewayError {
    GatewayError::BadRequest {
        message: format!("the {HEADER} header {why}"),
        param: None,
    }
}

/// Runs the input policies. Returns the body and its peek to send instead of the caller's
/// when a redaction rewrote it.
pub fn input(
    state: &AppState,
    ctx: &mut RequestCtx,
    headers: &HeaderMap,
    body: &Bytes,
    required: Required,
) -> Result<Option<(Bytes, Peek)>, GatewayError> {
    if state.cfg.guardrails.is_empty() {
        return Ok(None);
    }
    ctx.guarded.set = applicable(state, ctx, headers)?;
    if !ctx.guarded.set.any_at(Stage::Input) {
        return Ok(None);
    }
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| GatewayError::BadRequest {
            message: format!("request body is not valid JSON: {e}"),
            param: None,
        })?;
    let model = ctx.requested_model.clone().unwrap_or_default();
    let Scanned { report, rewritten } = scan_request(
        &mut ctx.guarded,
        ctx.op.name(),
        &model,
        &ctx.metadata,
        &value,
    );
    state.guard_metrics.record(&report.verdicts);
    if report.action == Some(Action::Deny) {
        let (policy, check, label) = report.decided_by.unwrap_or_default();
        return Err(GatewayError::GuardrailDenied {
            message: format!(
                "The request was refused by guardrail policy '{policy}': check {check} found {label}."
            ),
            portkey: state.cfg.guardrails.portkey_codes,
        });
    }
    let Some(v) = rewritten else {
        return Ok(None);
    };
    let body = Bytes::from(serde_json::to_vec(&v).unwrap_or_default());
    let peeked = peek(&body, required).map_err(|e| GatewayError::BadRequest {
        message: e.message,
        param: e.param,
    })?;
    Ok(Some((body, peeked)))
}

/// Runs the output policies over an attempt's whole answer (in the caller's shape): a deny
/// withholds it (an error, or the policy's refusal ended as a content filter ends an answer),
/// a retry or fallback fails the attempt so the route tries again, a redaction (and the
/// restoring of a reversible one's tokens) rewrites it.
pub async fn output_whole(
    state: &AppState,
    ctx: &mut RequestCtx,
    out: Response,
) -> Result<Response, GatewayError> {
    use http_body_util::BodyExt;
    let (mut parts, body) = out.into_parts();
    let bytes = body
        .collect()
        .await
        .map_err(|e| GatewayError::Internal {
            detail: format!("reading an answer for the guardrails: {e}"),
        })?
        .to_bytes();
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Ok(Response::from_parts(parts, Body::from(bytes)));
    };
    let op = ctx.op.name();
    let Scanned { report, rewritten } = scan_answer(&mut ctx.guarded, op, &value);
    state.guard_metrics.record(&report.verdicts);
    let portkey = state.cfg.guardrails.portkey_codes;
    let (policy, check, label) = report.decided_by.clone().unwrap_or_default();
    let body = match report.action {
        Some(Action::Deny) => match &report.refusal {
            Some(text) => Some(refusal_answer(op, &value, text)),
            None => {
                return Err(GatewayError::GuardrailDenied {
                    message: format!(
                        "The answer was withheld by guardrail policy '{policy}': check {check} found {label}."
                    ),
                    portkey,
                })
            }
        },
        Some(a @ (Action::Retry | Action::Fallback)) => {
            return Err(GatewayError::GuardrailRejected {
                message: format!(
                    "The answer was rejected by guardrail policy '{policy}': check {check} found {label}."
                ),
                retries: (a == Action::Retry).then_some(report.max_retries),
                portkey,
            })
        }
        _ => rewritten,
    };
    let bytes = match body {
        Some(v) => {
            parts.headers.remove(http::header::CONTENT_LENGTH);
            Bytes::from(serde_json::to_vec(&v).unwrap_or_default())
        }
        None => bytes,
    };
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

/// The output guardrails for a streamed attempt, when policies run on answers: a guard of its
/// own over the request's policies (and the reversible tokens its input made).
pub fn stream_guard(
    state: &AppState,
    ctx: &RequestCtx,
) -> Option<Box<crate::relay::StreamGuarded>> {
    use switchyard_guardrails::stream::{Shape, StreamGuard};
    let shape = Shape::of(ctx.op.name())?;
    let g = &ctx.guarded;
    let stream = StreamGuard::new(g, shape, state.cfg.guardrails.hold_back)?;
    Some(Box::new(crate::relay::StreamGuarded {
        stream,
        guarded: switchyard_guardrails::Guarded {
            set: g.set.clone(),
            verdicts: Vec::new(),
            vault: g.vault.clone(),
        },
        portkey: state.cfg.guardrails.portkey_codes,
    }))
}

/// Names the policies that fired on the answer's head (`x-switchyard-guardrails: flag=p`);
/// with Portkey's status codes, a 200 whose checks fired without denying is a 246.
pub fn add_headers(state: &AppState, ctx: &RequestCtx, resp: &mut Response) {
    if let Some(v) = ctx.guarded.header() {
        if let Ok(v) = HeaderValue::from_str(&v) {
            resp.headers_mut()
                .insert(HeaderName::from_static(HEADER), v);
        }
        if state.cfg.guardrails.portkey_codes && resp.status() == http::StatusCode::OK {
            *resp.status_mut() = http::StatusCode::from_u16(246).unwrap_or(http::StatusCode::OK);
        }
    }
}
