//! `/admin/v1/limits`: budgets and rate limits set through the admin API (kept in the tenants'
//! store, so every replica has them within a second), beside the config file's (read-only
//! here), with each one's current state.
//!
//! Organisation admins manage every limit. A workspace admin manages limits scoped to its
//! workspace (`workspace:<id>`) or to one of its keys (`key:<id>`); its members and viewers
//! read them.

use super::tenants::{admin_error, answer, body, list, with, Ctx};
use crate::error::GatewayError;
use crate::state::AppState;
use axum::extract::{Path, Request, State};
use axum::response::Response;
use http::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use switchyard_limits::gate::{Estimate, Met};
use switchyard_limits::model::{Limit, RawLimit, ScopeKind};
use switchyard_tenants::model::{LimitRecord, WsRole};

fn bad(field: &str, message: String) -> GatewayError {
    GatewayError::BadRequest {
        message: format!("{field}: {message}"),
        param: Some(field.to_owned()),
    }
}

/// Checks a spec; the resolved limit.
fn resolve(spec: &Value) -> Result<(RawLimit, Limit), GatewayError> {
    let raw: RawLimit =
        serde_json::from_value(spec.clone()).map_err(|e| GatewayError::BadRequest {
            message: format!("request body: {e}"),
            param: None,
        })?;
    let limit = raw.resolve().map_err(|(field, m)| bad(&field, m))?;
    Ok((raw, limit))
}

/// The workspace whose admins manage a limit with this scope; `None`: organisation admins.
fn owning_workspace(c: &Ctx, l: &Limit) -> Option<String> {
    match (&l.scope.kind, &l.scope.value) {
        (ScopeKind::Workspace, Some(w)) => Some(w.clone()),
        // A static key's name, or a key not made yet: the organisation's to limit.
        (ScopeKind::Key, Some(k)) => c.t.snapshot().key(k).map(|key| key.workspace.clone()),
        _ => None,
    }
}

/// May the caller change a limit owned by `workspace`?
fn may_manage(c: &Ctx, workspace: Option<&str>) -> Result<(), GatewayError> {
    match workspace {
        Some(w) if !c.access.org_admin() => {
            c.need(w, WsRole::Admin, "managing this workspace's limits")
        }
        _ => c.need_org_admin("managing organisation-wide limits"),
    }
}

fn visible(c: &Ctx, workspace: Option<&str>) -> bool {
    c.access.org_admin() || workspace.is_some_and(|w| c.sees(w))
}

fn config_json(l: &Limit) -> Value {
    json!({
        "object": "limit", "source": "config", "id": l.id, "scope": l.scope.to_string(),
        "dimension": l.dimension, "amount": shown_amount(l), "window": l.window.to_string(),
        "time_zone": l.time_zone.iana_name().unwrap_or("UTC"), "mode": l.mode,
        "workspace": null,
    })
}

fn shown_amount(l: &Limit) -> Value {
    if l.dimension == switchyard_limits::model::Dimension::CostUsd {
        json!(l.amount as f64 / switchyard_limits::model::MICROS)
    } else {
        json!(l.amount)
    }
}

/// The limit's counter for `scope_value` now: used, reserved, remaining, when it resets.
async fn state_of(s: &AppState, l: &Arc<Limit>, scope_value: &str) -> Result<Value, GatewayError> {
    let met = Met {
        limit: Arc::clone(l),
        scope_value: scope_value.to_owned(),
    };
    let now = crate::limits::now_us();
    let est = Estimate {
        input_tokens: 0,
        output_tokens: 0,
        cost_micros: Some(0),
    };
    let line = s
        .limits
        .line(&met, &est, now)
        .map_err(|e| GatewayError::Internal { detail: e })?
        .ok_or_else(|| GatewayError::Internal {
            detail: "no counter for this limit".into(),
        })?;
    let st = s
        .limit_store
        .look(std::slice::from_ref(&line), now)
        .await
        .map_err(|_| GatewayError::LimitsUnavailable)?;
    let st = st.first().copied().ok_or(GatewayError::LimitsUnavailable)?;
    let amount = i64::try_from(st.amount).unwrap_or(i64::MAX);
    let in_units = |v: i64| -> Value {
        if l.dimension == switchyard_limits::model::Dimension::CostUsd {
            json!(v as f64 / switchyard_limits::model::MICROS)
        } else {
            json!(v)
        }
    };
    Ok(json!({
        "scope_value": scope_value,
        "used": in_units(amount - st.remaining - st.reserved),
        "reserved": in_units(st.reserved),
        "remaining": in_units(st.remaining),
        "resets_in_ms": st.reset_us / 1000,
        "resets_at_ms": (now + st.reset_us) / 1000,
    }))
}

/// `GET`, `POST /admin/v1/limits`.
pub async fn limits(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let method = req.method().clone();
    let state = Arc::clone(&s);
    with(s, req, async move |c, bytes, _| {
        if method == Method::POST {
            let spec: Value = body(&bytes)?;
            let (raw, limit) = resolve(&spec)?;
            if state.limits.rules().iter().any(|l| l.id == raw.id) {
                return Err(GatewayError::Conflict {
                    message: format!("the config file has a limit '{}'", raw.id),
                });
            }
            let workspace = owning_workspace(&c, &limit);
            may_manage(&c, workspace.as_deref())?;
            let spec = serde_json::to_value(&raw).unwrap_or(spec);
            let rec =
                c.t.create_limit(&c.actor, &raw.id, workspace, spec)
                    .await
                    .map_err(admin_error)?;
            return Ok(answer(StatusCode::CREATED, &rec.public()));
        }
        let mut data: Vec<Value> = Vec::new();
        if c.access.org_admin() {
            data.extend(state.limits.rules().iter().map(|l| config_json(l)));
        }
        let snap = c.t.snapshot();
        data.extend(
            snap.limits()
                .filter(|r| visible(&c, r.workspace.as_deref()))
                .map(LimitRecord::public),
        );
        Ok(answer(StatusCode::OK, &list(data)))
    })
    .await
}

#[derive(serde::Deserialize)]
struct StateQuery {
    scope_value: Option<String>,
}

/// `GET`, `PATCH`, `DELETE /admin/v1/limits/{id}`; a GET carries the current state (for a
/// limit on each value of a kind, the value to read is `?scope_value=`).
pub async fn limit(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let method = req.method().clone();
    let state = Arc::clone(&s);
    with(s, req, async move |c, bytes, parts| {
        let from_config = state.limits.rules().iter().find(|l| l.id == id).cloned();
        let record = c.t.snapshot().limit(&id).cloned();
        let missing = || GatewayError::Missing {
            message: format!("no limit '{id}'"),
        };
        match method {
            Method::PATCH | Method::DELETE => {
                if from_config.is_some() {
                    return Err(GatewayError::Conflict {
                        message: format!(
                            "limit '{id}' comes from the config file; change it there"
                        ),
                    });
                }
                let rec = record
                    .filter(|r| visible(&c, r.workspace.as_deref()))
                    .ok_or_else(missing)?;
                may_manage(&c, rec.workspace.as_deref())?;
                if method == Method::DELETE {
                    c.t.delete_limit(&c.actor, &id).await.map_err(admin_error)?;
                    return Ok(answer(
                        StatusCode::OK,
                        &json!({"id": id, "object": "limit", "deleted": true}),
                    ));
                }
                let patch: Value = body(&bytes)?;
                let Value::Object(fields) = patch else {
                    return Err(bad("body", "must be a JSON object".into()));
                };
                let mut spec = rec.spec.clone();
                for (k, v) in fields {
                    if k == "id" && v.as_str() != Some(id.as_str()) {
                        return Err(bad("id", "a limit's id cannot change".into()));
                    }
                    if let Some(m) = spec.as_object_mut() {
                        if v.is_null() {
                            m.remove(&k);
                        } else {
                            m.insert(k, v);
                        }
                    }
                }
                let (raw, limit) = resolve(&spec)?;
                let workspace = owning_workspace(&c, &limit);
                may_manage(&c, workspace.as_deref())?;
                let spec = serde_json::to_value(&raw).unwrap_or(spec);
                let rec =
                    c.t.update_limit(&c.actor, &id, workspace, spec)
                        .await
                        .map_err(admin_error)?;
                Ok(answer(StatusCode::OK, &rec.public()))
            }
            _ => {
                let (mut v, limit) = match (from_config, record) {
                    (Some(l), _) if c.access.org_admin() => (config_json(&l), l),
                    (_, Some(r)) if visible(&c, r.workspace.as_deref()) => {
                        let (_, l) = resolve(&r.spec)?;
                        (r.public(), Arc::new(l))
                    }
                    _ => return Err(missing()),
                };
                let q: StateQuery = axum::extract::Query::try_from_uri(&parts.uri)
                    .map(|q| q.0)
                    .map_err(|e| bad("query", e.to_string()))?;
                let value = match (&limit.scope.kind, &limit.scope.value) {
                    (ScopeKind::Org, _) => Some("org".to_owned()),
                    (_, Some(v)) => Some(v.clone()),
                    (_, None) => q.scope_value,
                };
                v["state"] = match value {
                    Some(sv) => state_of(&state, &limit, &sv).await?,
                    None => Value::Null,
                };
                Ok(answer(StatusCode::OK, &v))
            }
        }
    })
    .await
}
