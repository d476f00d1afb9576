//! The guardrails stage: which policies apply to a request (attached in the config, or through
//! the admin API, to the organisation, its workspace, its key and its route, plus those the
//! caller adds by header), and running the input ones. A deny refuses the request before any
//! provider is called; a redaction rewrites the body sent upstream; every verdict goes to the
//! request's record.

use crate::context::RequestCtx;
use crate::error::GatewayError;
use crate::state::AppState;
use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use switchyard_guardrails::apply::{refusal_answer, scan_answer, scan_request, Scanned};
use switchyard_guardrails::policy::{RawPolicy, Stage};
use switchyard_guardrails::{Action, Policy, PolicySet};
use switchyard_tenants::model::GuardrailPolicyRecord;
use switchyard_wire::peek::{peek, Peek, Required};

mod callouts;

/// Callers add policies by id with this header (comma-separated).
pub const HEADER: &str = "x-switchyard-guardrails";

/// Guardrail policies set through the admin API (`GuardrailPolicyRecord`), built once per
/// tenants' snapshot version and indexed by where they apply.
#[derive(Default)]
pub struct ApiPolicies {
    /// The snapshot version they were built from.
    pub version: u64,
    /// Every one that built, by id, with the workspace that owns it.
    pub by_id: BTreeMap<String, (Option<String>, Arc<Policy>)>,
    /// Organisation-owned: on every request; by key id or name; by route.
    org: Vec<Arc<Policy>>,
    keys: HashMap<String, Vec<Arc<Policy>>>,
    routes: HashMap<String, Vec<Arc<Policy>>>,
    /// Workspace-owned, by workspace.
    workspaces: HashMap<String, Vec<Scoped>>,
}

/// A workspace's policy: on all its requests when `keys` and `routes` are empty, else on those
/// of the keys and routes named.
struct Scoped {
    policy: Arc<Policy>,
    keys: Vec<String>,
    routes: Vec<String>,
}

impl Scoped {
    fn applies(&self, key_name: &str, key_id: Option<&str>, route: Option<&str>) -> bool {
        (self.keys.is_empty() && self.routes.is_empty())
            || self
                .keys
                .iter()
                .any(|k| k == key_name || Some(k.as_str()) == key_id)
            || route.is_some_and(|r| self.routes.iter().any(|x| x == r))
    }
}

impl ApiPolicies {
    /// Builds the stored policies. One that no longer builds (a check changed), or whose id the
    /// config file now uses, is left out with a warning.
    pub fn build<'a>(
        version: u64,
        config: &switchyard_config::GuardrailSettings,
        records: impl Iterator<Item = &'a GuardrailPolicyRecord>,
    ) -> Self {
        let mut out = ApiPolicies {
            version,
            ..ApiPolicies::default()
        };
        for r in records {
            if config.policies.contains_key(&r.id) {
                tracing::warn!(policy = %r.id, "a guardrail policy set through the admin API has the id of one in the config file; the config file's applies");
                continue;
            }
            let built = serde_json::from_value::<RawPolicy>(r.doc.clone())
                .map_err(|e| e.to_string())
                .and_then(|raw| Policy::build(raw).map_err(|e| e.to_string()));
            let policy = match built {
                Ok(p) => Arc::new(p),
                Err(e) => {
                    tracing::warn!(policy = %r.id, error = %e, "a stored guardrail policy does not build; left out");
                    continue;
                }
            };
            let a = &r.attach;
            match &r.workspace {
                Some(w) => out.workspaces.entry(w.clone()).or_default().push(Scoped {
                    policy: Arc::clone(&policy),
                    keys: a.keys.clone(),
                    routes: a.routes.clone(),
                }),
                None => {
                    if a.org {
                        out.org.push(Arc::clone(&policy));
                    }
                    for k in &a.keys {
                        out.keys
                            .entry(k.clone())
                            .or_default()
                            .push(Arc::clone(&policy));
                    }
                    for rt in &a.routes {
                        out.routes
                            .entry(rt.clone())
                            .or_default()
                            .push(Arc::clone(&policy));
                    }
                }
            }
            out.by_id
                .insert(r.id.clone(), (r.workspace.clone(), policy));
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// A policy a request in `workspace` may name in its header: the organisation's, or its
    /// own workspace's.
    fn nameable(&self, id: &str, workspace: Option<&str>) -> Option<&Arc<Policy>> {
        self.by_id
            .get(id)
            .filter(|(owner, _)| owner.is_none() || owner.as_deref() == workspace)
            .map(|(_, p)| p)
    }
}

/// The admin API's guardrail policies, built (once per tenants' snapshot version and state);
/// `None` without tenants.
pub fn api_policies(state: &AppState) -> Option<Arc<ApiPolicies>> {
    let t = state.tenants.get()?;
    let snap = t.snapshot();
    if let Some(c) = state
        .api_guardrails
        .load_full()
        .filter(|c| c.version == snap.version)
    {
        return Some(c);
    }
    let made = Arc::new(ApiPolicies::build(
        snap.version,
        &state.cfg.guardrails,
        snap.guardrail_policies(),
    ));
    state.api_guardrails.store(Some(Arc::clone(&made)));
    Some(made)
}

/// The policies for this request, admin-attached first (the config file's, then those set
/// through the admin API, for the organisation, the workspace, the key and the route); a
/// caller can add, never remove.
pub fn applicable(
    state: &AppState,
    api: Option<&ApiPolicies>,
    ctx: &RequestCtx,
    headers: &HeaderMap,
) -> Result<PolicySet, GatewayError> {
    let g = &state.cfg.guardrails;
    let none = ApiPolicies::default();
    let api = api.unwrap_or(&none);
    let mut out: Vec<Arc<Policy>> = Vec::new();
    let mut add = |ps: &[Arc<Policy>]| {
        for p in ps {
            if !out.iter().any(|have| have.id == p.id) {
                out.push(Arc::clone(p));
            }
        }
    };
    let route = ctx.route.as_deref();
    add(&g.org);
    add(&api.org);
    if let Some(p) = &ctx.principal {
        let key_id = p.key_id.as_deref();
        if let Some(ps) = g.workspaces.get(&p.workspace) {
            add(ps);
        }
        if let Some(ps) = api.workspaces.get(&p.workspace) {
            for s in ps.iter().filter(|s| s.applies(&p.key_name, key_id, route)) {
                add(std::slice::from_ref(&s.policy));
            }
        }
        for name in std::iter::once(p.key_name.as_str()).chain(key_id) {
            if let Some(ps) = g.keys.get(name) {
                add(ps);
            }
            if let Some(ps) = api.keys.get(name) {
                add(ps);
            }
        }
    }
    if let Some(r) = route {
        if let Some(ps) = g.routes.get(r) {
            add(ps);
        }
        if let Some(ps) = api.routes.get(r) {
            add(ps);
        }
    }
    if let Some(v) = headers.get(HEADER) {
        let asked = v.to_str().map_err(|_| bad_header("is not text"))?;
        if !g.request_policies {
            return Err(bad_header(
                "is not accepted by this gateway (guardrails.request_policies is off)",
            ));
        }
        let workspace = ctx.principal.as_ref().map(|p| p.workspace.as_str());
        for id in asked.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match g.policies.get(id).or_else(|| api.nameable(id, workspace)) {
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
pub async fn input(
    state: &AppState,
    ctx: &mut RequestCtx,
    headers: &HeaderMap,
    body: &Bytes,
    required: Required,
) -> Result<Option<(Bytes, Peek)>, GatewayError> {
    let api = api_policies(state);
    if state.cfg.guardrails.is_empty() && api.as_ref().is_none_or(|a| a.is_empty()) {
        return Ok(None);
    }
    ctx.guarded.set = applicable(state, api.as_deref(), ctx, headers)?;
    if !ctx.guarded.set.any_at(Stage::Input) {
        // Output checks that read the prompt (language_match, prompt_overlap) still get it.
        if ctx.guarded.set.takes_prompt(Stage::Output) {
            if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
                switchyard_guardrails::apply::bind_prompt(&mut ctx.guarded, ctx.op.name(), &value);
            }
        }
        return Ok(None);
    }
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| GatewayError::BadRequest {
            message: format!("request body is not valid JSON: {e}"),
            param: None,
        })?;
    let model = ctx.requested_model.clone().unwrap_or_default();
    let Scanned {
        mut report,
        mut rewritten,
    } = scan_request(
        &mut ctx.guarded,
        ctx.op.name(),
        &model,
        &ctx.metadata,
        &value,
    );
    if report.action != Some(Action::Deny) {
        let sent = rewritten.as_ref().unwrap_or(&value);
        if let Some(r) = callouts::run(state, ctx, Stage::Input, sent, &mut report).await {
            rewritten = Some(r.body);
        }
    }
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
    let Scanned {
        mut report,
        mut rewritten,
    } = scan_answer(&mut ctx.guarded, op, &value);
    if report.action != Some(Action::Deny) {
        let answer = rewritten.clone().unwrap_or_else(|| value.clone());
        if let Some(r) = callouts::run(state, ctx, Stage::Output, &answer, &mut report).await {
            rewritten = Some(r.body);
        }
    }
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
    let hold = if stream_held_whole(ctx) {
        switchyard_guardrails::stream::HoldBack::Whole
    } else {
        state.cfg.guardrails.hold_back
    };
    let stream = StreamGuard::new(g, shape, hold)?;
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

/// Whether a stream's output policies need it held whole: a retry or fallback policy (which can
/// only act while nothing has been sent), or a check that calls out (which reads the whole
/// answer before anything is sent).
pub fn stream_held_whole(ctx: &RequestCtx) -> bool {
    ctx.guarded
        .set
        .policies
        .iter()
        .any(|p| p.runs_at(Stage::Output) && matches!(p.action, Action::Retry | Action::Fallback))
        || !ctx.guarded.set.call_outs(Stage::Output).is_empty()
}

/// Reads a held stream to its end (its guard checks it whole as it goes): a retry or fallback
/// policy that fired fails the attempt, so the route tries again before anything is sent; then
/// the call-outs read the answer rebuilt from the stream, and one that fires acts as on an
/// unstreamed answer (a deny ends the stream with the refusal, or an error event, after the
/// answer's head; a retry or fallback fails the attempt). Otherwise the caller gets the stream
/// as the guard let it out. A call-out's rewrite (a webhook's, a Bedrock guardrail's masks)
/// cannot be applied to a stream: the answer is then withheld as by a deny (fail closed).
pub async fn stream_held(
    state: &AppState,
    ctx: &mut RequestCtx,
    out: Response,
    meter: &crate::observe::meter::Meter,
) -> Result<Response, GatewayError> {
    use http_body_util::BodyExt;
    let (parts, body) = out.into_parts();
    let bytes = body
        .collect()
        .await
        .map_err(|e| GatewayError::Internal {
            detail: format!("reading a stream for the guardrails: {e}"),
        })?
        .to_bytes();
    // The relay hands its verdicts to the meter when it is dropped, which `collect` did.
    let verdicts = meter.read().guardrails;
    let fired = |a: Action| verdicts.iter().find(|v| v.fired && v.action == Some(a));
    if fired(Action::Deny).is_some() {
        return Ok(Response::from_parts(parts, Body::from(bytes)));
    }
    let rejected = fired(Action::Fallback).or_else(|| fired(Action::Retry));
    if let Some(v) = rejected {
        let retries = (v.action == Some(Action::Retry)).then(|| {
            ctx.guarded
                .set
                .policies
                .iter()
                .find(|p| p.id == v.policy)
                .map_or(1, |p| p.max_retries)
        });
        return Err(GatewayError::GuardrailRejected {
            message: format!(
                "The answer was rejected by guardrail policy '{}': check {} found {}.",
                v.policy,
                v.check,
                v.labels.first().map_or("", String::as_str)
            ),
            retries,
            portkey: state.cfg.guardrails.portkey_codes,
        });
    }
    let shape = switchyard_guardrails::stream::Shape::of(ctx.op.name());
    let Some(shape) = shape.filter(|_| !ctx.guarded.set.call_outs(Stage::Output).is_empty()) else {
        return Ok(Response::from_parts(parts, Body::from(bytes)));
    };
    let answer = switchyard_guardrails::stream::rebuild(shape, &bytes);
    let mut report = switchyard_guardrails::Report::default();
    let rewrite = callouts::run(state, ctx, Stage::Output, &answer, &mut report).await;
    // A stream cannot take a rewritten answer: rather than let the text the service meant to
    // change reach the caller, the answer is withheld as by a deny (fail closed).
    if let Some(r) = rewrite.filter(|r| r.body != answer) {
        if report.action != Some(Action::Deny) {
            report.action = Some(Action::Deny);
            report.refusal = ctx
                .guarded
                .set
                .policies
                .iter()
                .find(|p| p.id == r.policy)
                .and_then(|p| p.refusal.clone());
            report.decided_by = Some((
                r.policy,
                r.check,
                "a rewrite of the answer, which a stream cannot take".to_owned(),
            ));
        }
    }
    state.guard_metrics.record(&report.verdicts);
    let portkey = state.cfg.guardrails.portkey_codes;
    let (policy, check, label) = report.decided_by.clone().unwrap_or_default();
    let bytes = match report.action {
        Some(Action::Deny) => {
            let mut out =
                switchyard_guardrails::stream::refused(shape, &bytes, report.refusal.as_deref());
            if report.refusal.is_none() {
                let e = GatewayError::GuardrailDenied {
                    message: format!(
                        "The answer was withheld by guardrail policy '{policy}': check {check} found {label}."
                    ),
                    portkey,
                };
                meter.failed(e.to_string());
                out.extend_from_slice(&e.sse_event(ctx.op.dialect()));
            }
            Bytes::from(out)
        }
        Some(a @ (Action::Retry | Action::Fallback)) => {
            return Err(GatewayError::GuardrailRejected {
                message: format!(
                    "The answer was rejected by guardrail policy '{policy}': check {check} found {label}."
                ),
                retries: (a == Action::Retry).then_some(report.max_retries),
                portkey,
            })
        }
        _ => bytes,
    };
    Ok(Response::from_parts(parts, Body::from(bytes)))
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
