//! `/admin/v1/guardrails`: the checks the gateway has, the policies (the config file's, read
//! only here, with where each is attached; and those set through this API, kept in the
//! tenants' store so every replica has them within a second), and a dry run of a text against
//! policies, the way the request path would run them. A dry run sends nothing anywhere.
//!
//! Anyone with an admin role reads the config file's policies and the organisation's; a
//! workspace's are seen by those with a role in it. Organisation admins manage every policy set
//! here; a workspace admin manages its workspace's (which apply to that workspace's requests
//! only).

use super::tenants::{admin_error, answer, body, list, with, Ctx};
use crate::error::GatewayError;
use crate::guard::ApiPolicies;
use crate::state::AppState;
use axum::extract::{Path, Request, State};
use axum::response::Response;
use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use switchyard_guardrails::policy::{RawPolicy, Stage, Text};
use switchyard_guardrails::{redact, Policy, PolicySet, Source};
use switchyard_tenants::model::{GuardrailAttach, GuardrailPolicyRecord, WsRole};

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

/// A policy set through the admin API as the API shows it, with its stages resolved.
fn api_json(r: &GuardrailPolicyRecord, api: Option<&ApiPolicies>) -> Value {
    let mut v = r.public();
    if let Some((_, p)) = api.and_then(|a| a.by_id.get(&r.id)) {
        v["stages"] = json!(p.stages);
    }
    v
}

fn bad(field: &str, message: impl std::fmt::Display) -> GatewayError {
    GatewayError::BadRequest {
        message: format!("{field}: {message}"),
        param: Some(field.to_owned()),
    }
}

/// Most keys or routes one policy attaches to.
const MAX_ATTACH: usize = 64;
const MAX_NAME: usize = 128;

/// `attach` as given: each field present replaces the one it had.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttachInput {
    org: Option<bool>,
    keys: Option<Vec<String>>,
    routes: Option<Vec<String>>,
}

fn merge_attach(into: &mut GuardrailAttach, v: Value) -> Result<(), GatewayError> {
    if v.is_null() {
        *into = GuardrailAttach::default();
        return Ok(());
    }
    let a: AttachInput = serde_json::from_value(v).map_err(|e| bad("attach", e))?;
    if let Some(org) = a.org {
        into.org = org;
    }
    if let Some(keys) = a.keys {
        into.keys = keys;
    }
    if let Some(routes) = a.routes {
        into.routes = routes;
    }
    Ok(())
}

fn workspace_field(v: Value) -> Result<Option<String>, GatewayError> {
    match v {
        Value::Null => Ok(None),
        Value::String(w) if !w.is_empty() => Ok(Some(w)),
        _ => Err(bad(
            "workspace",
            "a workspace id, or null for the organisation's",
        )),
    }
}

/// Builds a definition; the stored form (normalised) and the policy. Errors name the field.
fn build(doc: Value) -> Result<(Value, Policy), GatewayError> {
    let raw: RawPolicy = serde_json::from_value(doc).map_err(|e| GatewayError::BadRequest {
        message: format!("request body: {e}"),
        param: None,
    })?;
    if raw.id.is_empty()
        || raw.id.len() > 64
        || !raw
            .id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(bad("id", "1 to 64 letters, digits, '-', '_' or '.'"));
    }
    let policy = Policy::build(raw).map_err(|e| {
        if e.path.is_empty() {
            GatewayError::BadRequest {
                message: e.message,
                param: None,
            }
        } else {
            bad(&e.path, e.message)
        }
    })?;
    let doc = serde_json::to_value(&policy.raw).map_err(|e| GatewayError::Internal {
        detail: format!("a guardrail policy as JSON: {e}"),
    })?;
    Ok((doc, policy))
}

/// Checks where a policy attaches: `org` only for the organisation's, known routes, bounded
/// lists.
fn check_attach(
    s: &AppState,
    workspace: Option<&str>,
    a: &GuardrailAttach,
) -> Result<(), GatewayError> {
    if a.org && workspace.is_some() {
        return Err(bad(
            "attach.org",
            "only an organisation's policy (no `workspace`) applies to every request; a \
             workspace's applies to its own requests",
        ));
    }
    for (field, list) in [("keys", &a.keys), ("routes", &a.routes)] {
        if list.len() > MAX_ATTACH {
            return Err(bad(
                &format!("attach.{field}"),
                format!("at most {MAX_ATTACH}"),
            ));
        }
        for (i, name) in list.iter().enumerate() {
            if name.is_empty() || name.len() > MAX_NAME {
                return Err(bad(
                    &format!("attach.{field}[{i}]"),
                    format!("1 to {MAX_NAME} bytes"),
                ));
            }
        }
    }
    for (i, r) in a.routes.iter().enumerate() {
        if !s.cfg.routes.contains_key(r) {
            return Err(bad(
                &format!("attach.routes[{i}]"),
                format!("no route \"{r}\" in the config"),
            ));
        }
    }
    Ok(())
}

/// May the caller change a policy owned by `workspace`?
fn may_manage(c: &Ctx, workspace: Option<&str>) -> Result<(), GatewayError> {
    match workspace {
        Some(w) if !c.access.org_admin() => c.need(
            w,
            WsRole::Admin,
            "managing this workspace's guardrail policies",
        ),
        _ => c.need_org_admin("managing the organisation's guardrail policies"),
    }?;
    if let Some(w) = workspace {
        if c.t.snapshot().workspace(w).is_none() {
            return Err(GatewayError::Missing {
                message: format!("no workspace '{w}'"),
            });
        }
    }
    Ok(())
}

/// The organisation's policies are seen by every admin caller (they apply to every
/// workspace's requests, as the config file's do); a workspace's, by those with a role there.
fn visible(c: &Ctx, workspace: Option<&str>) -> bool {
    workspace.is_none_or(|w| c.sees(w))
}

fn config_owned(id: &str) -> GatewayError {
    GatewayError::Conflict {
        message: format!("guardrail policy '{id}' comes from the config file; change it there"),
    }
}

/// `GET`, `POST /admin/v1/guardrails/policies`: the config file's policies and those set
/// through the API (that the caller may see); a new one (the config's fields, plus
/// `workspace` and `attach`).
pub async fn policies(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let method = req.method().clone();
    let state = Arc::clone(&s);
    with(s, req, async move |c, bytes, _| {
        if method == Method::POST {
            let Value::Object(mut fields) = body::<Value>(&bytes)? else {
                return Err(bad("body", "must be a JSON object"));
            };
            let workspace = workspace_field(fields.remove("workspace").unwrap_or(Value::Null))?;
            let mut attach = GuardrailAttach::default();
            merge_attach(&mut attach, fields.remove("attach").unwrap_or(Value::Null))?;
            let (doc, policy) = build(Value::Object(fields))?;
            if state.cfg.guardrails.policies.contains_key(&policy.id) {
                return Err(GatewayError::Conflict {
                    message: format!("the config file has a guardrail policy '{}'", policy.id),
                });
            }
            check_attach(&state, workspace.as_deref(), &attach)?;
            may_manage(&c, workspace.as_deref())?;
            let rec =
                c.t.create_guardrail_policy(&c.actor, &policy.id, workspace, doc, attach)
                    .await
                    .map_err(admin_error)?;
            let api = crate::guard::api_policies(&state);
            return Ok(answer(StatusCode::CREATED, &api_json(&rec, api.as_deref())));
        }
        let mut data: Vec<Value> = state
            .cfg
            .guardrails
            .policies
            .values()
            .map(|p| policy_json(&state, p))
            .collect();
        let api = crate::guard::api_policies(&state);
        let snap = c.t.snapshot();
        data.extend(
            snap.guardrail_policies()
                .filter(|r| visible(&c, r.workspace.as_deref()))
                .map(|r| api_json(r, api.as_deref())),
        );
        Ok(answer(StatusCode::OK, &list(data)))
    })
    .await
}

/// `GET`, `PATCH`, `DELETE /admin/v1/guardrails/policies/{id}`. A PATCH replaces the fields
/// it gives (`null` removes an optional one; within `attach`, each field given replaces its
/// own). The config file's policies are changed in the file.
pub async fn policy(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let method = req.method().clone();
    let state = Arc::clone(&s);
    with(s, req, async move |c, bytes, _| {
        let from_config = state.cfg.guardrails.policies.get(&id);
        let record =
            c.t.snapshot()
                .guardrail_policy(&id)
                .filter(|r| visible(&c, r.workspace.as_deref()))
                .cloned();
        let missing = || GatewayError::Missing {
            message: format!("no guardrail policy '{id}'"),
        };
        match method {
            Method::PATCH | Method::DELETE => {
                if from_config.is_some() {
                    return Err(config_owned(&id));
                }
                let rec = record.ok_or_else(missing)?;
                may_manage(&c, rec.workspace.as_deref())?;
                if method == Method::DELETE {
                    c.t.delete_guardrail_policy(&c.actor, &id)
                        .await
                        .map_err(admin_error)?;
                    return Ok(answer(
                        StatusCode::OK,
                        &json!({"id": id, "object": "guardrail_policy", "deleted": true}),
                    ));
                }
                let Value::Object(fields) = body::<Value>(&bytes)? else {
                    return Err(bad("body", "must be a JSON object"));
                };
                let mut doc = rec.doc.clone();
                let mut workspace = rec.workspace.clone();
                let mut attach = rec.attach.clone();
                for (k, v) in fields {
                    match k.as_str() {
                        "id" if v.as_str() != Some(id.as_str()) => {
                            return Err(bad("id", "a policy's id cannot change"));
                        }
                        "workspace" => workspace = workspace_field(v)?,
                        "attach" => merge_attach(&mut attach, v)?,
                        _ => {
                            if let Some(m) = doc.as_object_mut() {
                                if v.is_null() {
                                    m.remove(&k);
                                } else {
                                    m.insert(k, v);
                                }
                            }
                        }
                    }
                }
                let (doc, _) = build(doc)?;
                check_attach(&state, workspace.as_deref(), &attach)?;
                may_manage(&c, workspace.as_deref())?;
                let rec =
                    c.t.update_guardrail_policy(&c.actor, &id, workspace, doc, attach)
                        .await
                        .map_err(admin_error)?;
                let api = crate::guard::api_policies(&state);
                Ok(answer(StatusCode::OK, &api_json(&rec, api.as_deref())))
            }
            _ => {
                if let Some(p) = from_config {
                    return Ok(answer(StatusCode::OK, &policy_json(&state, p)));
                }
                let rec = record.ok_or_else(missing)?;
                let api = crate::guard::api_policies(&state);
                Ok(answer(StatusCode::OK, &api_json(&rec, api.as_deref())))
            }
        }
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
    with(s, req, async move |c, bytes, _| {
        let t: TestRequest = body(&bytes)?;
        let mut set = PolicySet::default();
        let api = crate::guard::api_policies(&state);
        for id in &t.policies {
            let from_api = api
                .as_ref()
                .and_then(|a| a.by_id.get(id))
                .filter(|(owner, _)| visible(&c, owner.as_deref()))
                .map(|(_, p)| p);
            let p = state
                .cfg
                .guardrails
                .policies
                .get(id)
                .or(from_api)
                .ok_or_else(|| GatewayError::BadRequest {
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
