//! `/admin/v1`: workspaces, virtual keys and the audit log, behind admin keys.
//!
//! | method and path                               | does                                     |
//! |-----------------------------------------------|------------------------------------------|
//! | `GET  /admin/v1/workspaces`                   | list                                     |
//! | `POST /admin/v1/workspaces`                   | create `{name, metadata?}`               |
//! | `GET/PATCH/DELETE /admin/v1/workspaces/{id}`  | one; update; delete (409 with keys)      |
//! | `GET  /admin/v1/workspaces/{id}/keys`         | the workspace's keys                     |
//! | `POST /admin/v1/workspaces/{id}/keys`         | create; the key is in the answer, once   |
//! | `GET  /admin/v1/keys`                         | every key                                |
//! | `GET/PATCH/DELETE /admin/v1/keys/{id}`        | one; update (also disable); delete       |
//! | `POST /admin/v1/keys/{id}/rotate`             | new secret, old one kept `grace_ms`      |
//! | `GET  /admin/v1/credentials`                  | provider credentials (never their secret)|
//! | `POST /admin/v1/credentials`                  | store one, sealed by the vault           |
//! | `GET/PATCH/DELETE /admin/v1/credentials/{id}` | one; rename or replace the secret; delete|
//! | `GET  /admin/v1/audit`                        | audit events, newest first, cursor pages |

use crate::auth::authenticate;
use crate::error::GatewayError;
use crate::state::AppState;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{header, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use switchyard_tenants::admin::{
    Actor, AdminError, CredentialPatch, KeyPatch, NewCredential, NewKey, NewWorkspace,
    WorkspacePatch,
};
use switchyard_tenants::store::AuditQuery;
use switchyard_tenants::Tenants;

const DEFAULT_AUDIT_PAGE: usize = 100;
const MAX_AUDIT_PAGE: usize = 1000;

fn admin_error(e: AdminError) -> GatewayError {
    match e {
        AdminError::NotFound(m) => GatewayError::Missing { message: m },
        AdminError::Conflict(m) => GatewayError::Conflict { message: m },
        AdminError::Invalid { message, param } => GatewayError::BadRequest {
            message,
            param: Some(param),
        },
        AdminError::Store(detail) => GatewayError::StoreUnavailable { detail },
    }
}

fn answer(status: StatusCode, v: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

/// The admin key's name as the actor, and the tenants, or the refusal.
fn admitted(
    state: &AppState,
    req: &http::request::Parts,
) -> Result<(Actor, Arc<Tenants>), GatewayError> {
    super::admit(state, &req.headers)?;
    let name = authenticate(&state.cfg.admin_keys, &req.headers)?.unwrap_or_default();
    let tenants = state.tenants.get().cloned().ok_or(GatewayError::Missing {
        message: "workspaces and virtual keys are off (server.tenants.enabled: false)".into(),
    })?;
    let actor = Actor {
        name: format!("admin-key:{name}"),
        source_ip: None,
        request_id: crate::http::request_id_of(&req.extensions),
    };
    Ok((actor, tenants))
}

fn body<T: serde::de::DeserializeOwned>(bytes: &Bytes) -> Result<T, GatewayError> {
    let bytes: &[u8] = if bytes.is_empty() { b"{}" } else { bytes };
    serde_json::from_slice(bytes).map_err(|e| GatewayError::BadRequest {
        message: format!("request body: {e}"),
        param: None,
    })
}

async fn split(req: Request) -> Result<(http::request::Parts, Bytes), GatewayError> {
    let (parts, b) = req.into_parts();
    let bytes = crate::pipeline::read_body(
        b,
        &parts.headers,
        64 * 1024,
        std::time::Duration::from_secs(30),
    )
    .await?;
    Ok((parts, bytes))
}

async fn with(
    s: Arc<AppState>,
    req: Request,
    f: impl AsyncFnOnce(
        Actor,
        Arc<Tenants>,
        Bytes,
        http::request::Parts,
    ) -> Result<Response, GatewayError>,
) -> Response {
    let run = async {
        let (parts, bytes) = split(req).await?;
        let (actor, tenants) = admitted(&s, &parts)?;
        f(actor, tenants, bytes, parts).await
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

fn list(data: Vec<Value>) -> Value {
    json!({"object": "list", "data": data})
}

fn workspace_json(w: &switchyard_tenants::model::Workspace) -> Value {
    let mut v = serde_json::to_value(w).unwrap_or(Value::Null);
    v["object"] = json!("workspace");
    v
}

pub async fn workspaces(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let post = req.method() == http::Method::POST;
    with(s, req, async |actor, t, bytes, _| {
        if post {
            let w = t
                .create_workspace(&actor, body::<NewWorkspace>(&bytes)?)
                .await
                .map_err(admin_error)?;
            return Ok(answer(StatusCode::CREATED, &workspace_json(&w)));
        }
        let snap = t.snapshot();
        Ok(answer(
            StatusCode::OK,
            &list(snap.workspaces().into_iter().map(workspace_json).collect()),
        ))
    })
    .await
}

pub async fn workspace(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let method = req.method().clone();
    with(s, req, async move |actor, t, bytes, _| match method {
        http::Method::PATCH => {
            let w = t
                .update_workspace(&actor, &id, body::<WorkspacePatch>(&bytes)?)
                .await
                .map_err(admin_error)?;
            Ok(answer(StatusCode::OK, &workspace_json(&w)))
        }
        http::Method::DELETE => {
            t.delete_workspace(&actor, &id).await.map_err(admin_error)?;
            Ok(answer(
                StatusCode::OK,
                &json!({"id": id, "object": "workspace", "deleted": true}),
            ))
        }
        _ => {
            let snap = t.snapshot();
            let w = snap.workspace(&id).ok_or_else(|| GatewayError::Missing {
                message: format!("no workspace '{id}'"),
            })?;
            Ok(answer(StatusCode::OK, &workspace_json(w)))
        }
    })
    .await
}

async fn keys_json(t: &Tenants, workspace: Option<&str>) -> Result<Value, GatewayError> {
    let used = t.last_used().await.map_err(admin_error)?;
    let snap = t.snapshot();
    let data = snap
        .keys(workspace)
        .into_iter()
        .map(|k| k.public(used.get(&k.id).copied()))
        .collect();
    Ok(list(data))
}

pub async fn workspace_keys(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let post = req.method() == http::Method::POST;
    with(s, req, async move |actor, t, bytes, _| {
        if post {
            let (k, secret) = t
                .create_key(&actor, &id, body::<NewKey>(&bytes)?)
                .await
                .map_err(admin_error)?;
            let mut v = k.public(None);
            v["key"] = json!(secret);
            return Ok(answer(StatusCode::CREATED, &v));
        }
        if t.snapshot().workspace(&id).is_none() {
            return Err(GatewayError::Missing {
                message: format!("no workspace '{id}'"),
            });
        }
        Ok(answer(StatusCode::OK, &keys_json(&t, Some(&id)).await?))
    })
    .await
}

pub async fn keys(State(s): State<Arc<AppState>>, req: Request) -> Response {
    with(s, req, async |_, t, _, _| {
        Ok(answer(StatusCode::OK, &keys_json(&t, None).await?))
    })
    .await
}

pub async fn key(State(s): State<Arc<AppState>>, Path(id): Path<String>, req: Request) -> Response {
    let method = req.method().clone();
    with(s, req, async move |actor, t, bytes, _| match method {
        http::Method::PATCH => {
            let k = t
                .update_key(&actor, &id, body::<KeyPatch>(&bytes)?)
                .await
                .map_err(admin_error)?;
            Ok(answer(StatusCode::OK, &k.public(None)))
        }
        http::Method::DELETE => {
            t.delete_key(&actor, &id).await.map_err(admin_error)?;
            Ok(answer(
                StatusCode::OK,
                &json!({"id": id, "object": "virtual_key", "deleted": true}),
            ))
        }
        _ => {
            let k = t.key(&id).map_err(admin_error)?;
            let used = t.last_used().await.map_err(admin_error)?;
            Ok(answer(StatusCode::OK, &k.public(used.get(&id).copied())))
        }
    })
    .await
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Rotate {
    grace_ms: Option<i64>,
}

pub async fn rotate(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    with(s, req, async move |actor, t, bytes, _| {
        let r: Rotate = body(&bytes)?;
        let (k, secret) = t
            .rotate_key(&actor, &id, r.grace_ms)
            .await
            .map_err(admin_error)?;
        let mut v = k.public(None);
        v["key"] = json!(secret);
        Ok(answer(StatusCode::OK, &v))
    })
    .await
}

pub async fn audit(State(s): State<Arc<AppState>>, req: Request) -> Response {
    with(s, req, async |_, t, _, parts| {
        let pairs = super::params::pairs(parts.uri.query());
        super::params::check_known(&pairs, &["limit", "cursor", "workspace"])?;
        let number = |name: &str,
                      range: std::ops::RangeInclusive<i64>|
         -> Result<Option<i64>, GatewayError> {
            super::params::get(&pairs, name)
                .map(|v| {
                    v.parse::<i64>()
                        .ok()
                        .filter(|n| range.contains(n))
                        .ok_or_else(|| GatewayError::BadRequest {
                            message: format!(
                                "{name} must be a number from {} to {}",
                                range.start(),
                                range.end()
                            ),
                            param: Some(name.into()),
                        })
                })
                .transpose()
        };
        let limit =
            number("limit", 1..=MAX_AUDIT_PAGE as i64)?.map_or(DEFAULT_AUDIT_PAGE, |n| n as usize);
        let before = number("cursor", 1..=i64::MAX)?;
        let q = AuditQuery {
            workspace: super::params::get(&pairs, "workspace").map(str::to_owned),
            before,
            limit: limit + 1,
        };
        let mut events = t.audit_events(q).await.map_err(admin_error)?;
        let has_more = events.len() > limit;
        events.truncate(limit);
        let next = events
            .last()
            .filter(|_| has_more)
            .map(|e| e.seq.to_string());
        let data: Vec<Value> = events
            .into_iter()
            .map(|e| {
                let mut v = serde_json::to_value(&e.event).unwrap_or(Value::Null);
                v["id"] = json!(e.seq);
                v["object"] = json!("audit_event");
                v
            })
            .collect();
        Ok(answer(
            StatusCode::OK,
            &json!({"object": "list", "data": data, "has_more": has_more, "next_cursor": next}),
        ))
    })
    .await
}

pub async fn credentials(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let post = req.method() == http::Method::POST;
    let providers: Vec<String> = s.cfg.providers.iter().map(|p| p.name.clone()).collect();
    with(s, req, async move |actor, t, bytes, _| {
        if post {
            let known = |name: &str| providers.iter().any(|p| p == name);
            let c = t
                .create_credential(&actor, body::<NewCredential>(&bytes)?, &known)
                .await
                .map_err(admin_error)?;
            return Ok(answer(StatusCode::CREATED, &c.public()));
        }
        let snap = t.snapshot();
        let data = snap
            .credential_list()
            .into_iter()
            .map(|c| c.public())
            .collect();
        Ok(answer(StatusCode::OK, &list(data)))
    })
    .await
}

pub async fn credential(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let method = req.method().clone();
    with(s, req, async move |actor, t, bytes, _| match method {
        http::Method::PATCH => {
            let c = t
                .update_credential(&actor, &id, body::<CredentialPatch>(&bytes)?)
                .await
                .map_err(admin_error)?;
            Ok(answer(StatusCode::OK, &c.public()))
        }
        http::Method::DELETE => {
            t.delete_credential(&actor, &id)
                .await
                .map_err(admin_error)?;
            Ok(answer(
                StatusCode::OK,
                &json!({"id": id, "object": "credential", "deleted": true}),
            ))
        }
        _ => Ok(answer(
            StatusCode::OK,
            &t.credential(&id).map_err(admin_error)?.public(),
        )),
    })
    .await
}
