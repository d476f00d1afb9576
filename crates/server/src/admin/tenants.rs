//! `/admin/v1`: workspaces, virtual keys, credentials, users, admin keys and the audit log.
//!
//! | method and path                               | does                                     |
//! |-----------------------------------------------|------------------------------------------|
//! | `GET  /admin/v1/workspaces`                   | list                                     |
//! | `POST /admin/v1/workspaces`                   | create `{name, metadata?}`               |
//! | `GET/PATCH/DELETE /admin/v1/workspaces/{id}`  | one; update; delete (409 with keys)      |
//! | `GET  /admin/v1/workspaces/{id}/keys`         | the workspace's keys                     |
//! | `POST /admin/v1/workspaces/{id}/keys`         | create; the key is in the answer, once   |
//! | `GET  /admin/v1/keys`                         | every key the caller may see             |
//! | `GET/PATCH/DELETE /admin/v1/keys/{id}`        | one; update (also disable); delete       |
//! | `POST /admin/v1/keys/{id}/rotate`             | new secret, old one kept `grace_ms`      |
//! | `GET/POST /admin/v1/credentials`              | provider credentials (never the secret)  |
//! | `GET/PATCH/DELETE /admin/v1/credentials/{id}` | one; rename or replace the secret; delete|
//! | `GET/POST /admin/v1/users`                    | users with their roles                   |
//! | `GET/PATCH/DELETE /admin/v1/users/{id}`       | one; change roles; delete (and its keys) |
//! | `GET/POST /admin/v1/users/{id}/admin-keys`    | admin keys acting as the user            |
//! | `DELETE /admin/v1/admin-keys/{id}`            | revoke one                               |
//! | `GET /admin/v1/workspaces/{id}/end-users`     | end users seen, most recent first        |
//! | `PATCH .../end-users/{user}`                  | `{blocked}`: a blocked one gets 403s     |
//! | `GET  /admin/v1/audit`                        | audit events, newest first, cursor pages |
//!
//! Every answer follows the caller's roles (`switchyard_tenants::access`): a workspace-scoped
//! caller sees and changes only its workspaces; another workspace's resources are a 404.

use crate::error::GatewayError;
use crate::state::AppState;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{header, Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use switchyard_tenants::access::Access;
use switchyard_tenants::admin::{
    Actor, AdminError, CredentialPatch, KeyPatch, NewCredential, NewKey, NewUser, NewWorkspace,
    UserPatch, WorkspacePatch,
};
use switchyard_tenants::model::{OrgRole, WsRole};
use switchyard_tenants::store::AuditQuery;
use switchyard_tenants::Tenants;

const DEFAULT_AUDIT_PAGE: usize = 100;
const MAX_AUDIT_PAGE: usize = 1000;

pub(super) fn admin_error(e: AdminError) -> GatewayError {
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

pub(super) fn answer(status: StatusCode, v: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

/// One admin request's caller: what it may do, as whom, and the tenants.
pub(super) struct Ctx {
    pub(super) actor: Actor,
    pub(super) access: Access,
    pub(super) t: Arc<Tenants>,
}

async fn admitted(state: &AppState, req: &http::request::Parts) -> Result<Ctx, GatewayError> {
    let access = super::access(state, &req.headers).await?;
    let t = state.tenants.get().cloned().ok_or(GatewayError::Missing {
        message: "workspaces and virtual keys are off (server.tenants.enabled: false)".into(),
    })?;
    let actor = Actor {
        name: access.actor.clone(),
        source_ip: req
            .extensions
            .get::<crate::listen::PeerAddr>()
            .map(|p| p.0.ip().to_string()),
        request_id: crate::http::request_id_of(&req.extensions),
    };
    Ok(Ctx { actor, access, t })
}

fn deny(what: &str) -> GatewayError {
    GatewayError::Forbidden {
        message: format!("Your role does not allow {what}."),
        param: None,
    }
}

impl Ctx {
    /// At least `role` in `workspace`; a workspace the caller has no role in is a 404.
    pub(super) fn need(
        &self,
        workspace: &str,
        role: WsRole,
        what: &str,
    ) -> Result<(), GatewayError> {
        match self.access.role_in(workspace) {
            Some(r) if r >= role => Ok(()),
            Some(_) => Err(deny(what)),
            None => Err(GatewayError::Missing {
                message: format!("no workspace '{workspace}'"),
            }),
        }
    }

    pub(super) fn need_org_admin(&self, what: &str) -> Result<(), GatewayError> {
        if self.access.org_admin() {
            Ok(())
        } else {
            Err(deny(what))
        }
    }

    pub(super) fn sees(&self, workspace: &str) -> bool {
        self.access.role_in(workspace).is_some()
    }
}

pub(super) fn body<T: serde::de::DeserializeOwned>(bytes: &Bytes) -> Result<T, GatewayError> {
    let bytes: &[u8] = if bytes.is_empty() { b"{}" } else { bytes };
    serde_json::from_slice(bytes).map_err(|e| GatewayError::BadRequest {
        message: format!("request body: {e}"),
        param: None,
    })
}

async fn split(req: Request, limit: usize) -> Result<(http::request::Parts, Bytes), GatewayError> {
    let (parts, b) = req.into_parts();
    let bytes =
        crate::pipeline::read_body(b, &parts.headers, limit, std::time::Duration::from_secs(30))
            .await?;
    Ok((parts, bytes))
}

pub(super) async fn with(
    s: Arc<AppState>,
    req: Request,
    f: impl AsyncFnOnce(Ctx, Bytes, http::request::Parts) -> Result<Response, GatewayError>,
) -> Response {
    with_limit(s, req, 64 * 1024, f).await
}

/// As `with`, reading a body of up to `limit` bytes (a dataset's rows).
pub(super) async fn with_limit(
    s: Arc<AppState>,
    req: Request,
    limit: usize,
    f: impl AsyncFnOnce(Ctx, Bytes, http::request::Parts) -> Result<Response, GatewayError>,
) -> Response {
    let run = async {
        let (parts, bytes) = split(req, limit).await?;
        let c = admitted(&s, &parts).await?;
        f(c, bytes, parts).await
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

pub(super) fn list(data: Vec<Value>) -> Value {
    json!({"object": "list", "data": data})
}

fn workspace_json(w: &switchyard_tenants::model::Workspace) -> Value {
    let mut v = serde_json::to_value(w).unwrap_or(Value::Null);
    v["object"] = json!("workspace");
    v
}

pub async fn workspaces(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let post = req.method() == Method::POST;
    with(s, req, async |c, bytes, _| {
        if post {
            c.need_org_admin("creating workspaces")?;
            let w =
                c.t.create_workspace(&c.actor, body::<NewWorkspace>(&bytes)?)
                    .await
                    .map_err(admin_error)?;
            return Ok(answer(StatusCode::CREATED, &workspace_json(&w)));
        }
        let snap = c.t.snapshot();
        let data = snap
            .workspaces()
            .into_iter()
            .filter(|w| c.sees(&w.id))
            .map(workspace_json)
            .collect();
        Ok(answer(StatusCode::OK, &list(data)))
    })
    .await
}

pub async fn workspace(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let method = req.method().clone();
    with(s, req, async move |c, bytes, _| match method {
        Method::PATCH => {
            c.need(&id, WsRole::Admin, "changing this workspace")?;
            let w =
                c.t.update_workspace(&c.actor, &id, body::<WorkspacePatch>(&bytes)?)
                    .await
                    .map_err(admin_error)?;
            Ok(answer(StatusCode::OK, &workspace_json(&w)))
        }
        Method::DELETE => {
            c.need(&id, WsRole::Viewer, "deleting workspaces")?;
            c.need_org_admin("deleting workspaces")?;
            c.t.delete_workspace(&c.actor, &id)
                .await
                .map_err(admin_error)?;
            Ok(answer(
                StatusCode::OK,
                &json!({"id": id, "object": "workspace", "deleted": true}),
            ))
        }
        _ => {
            c.need(&id, WsRole::Viewer, "reading this workspace")?;
            let snap = c.t.snapshot();
            let w = snap.workspace(&id).ok_or_else(|| GatewayError::Missing {
                message: format!("no workspace '{id}'"),
            })?;
            Ok(answer(StatusCode::OK, &workspace_json(w)))
        }
    })
    .await
}

async fn keys_json(c: &Ctx, workspace: Option<&str>) -> Result<Value, GatewayError> {
    let used = c.t.last_used().await.map_err(admin_error)?;
    let snap = c.t.snapshot();
    let data = snap
        .keys(workspace)
        .into_iter()
        .filter(|k| c.sees(&k.workspace))
        .map(|k| k.public(used.get(&k.id).copied()))
        .collect();
    Ok(list(data))
}

pub async fn workspace_keys(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let post = req.method() == Method::POST;
    with(s, req, async move |c, bytes, _| {
        if post {
            c.need(&id, WsRole::Member, "creating keys in this workspace")?;
            let (k, secret) =
                c.t.create_key(&c.actor, &id, body::<NewKey>(&bytes)?)
                    .await
                    .map_err(admin_error)?;
            let mut v = k.public(None);
            v["key"] = json!(secret);
            return Ok(answer(StatusCode::CREATED, &v));
        }
        c.need(&id, WsRole::Viewer, "reading this workspace")?;
        if c.t.snapshot().workspace(&id).is_none() {
            return Err(GatewayError::Missing {
                message: format!("no workspace '{id}'"),
            });
        }
        Ok(answer(StatusCode::OK, &keys_json(&c, Some(&id)).await?))
    })
    .await
}

pub async fn keys(State(s): State<Arc<AppState>>, req: Request) -> Response {
    with(s, req, async |c, _, _| {
        Ok(answer(StatusCode::OK, &keys_json(&c, None).await?))
    })
    .await
}

/// The key `id`, when the caller may see it (another workspace's key is a 404).
fn visible_key(c: &Ctx, id: &str) -> Result<switchyard_tenants::model::VirtualKey, GatewayError> {
    let k = c.t.key(id).map_err(admin_error)?;
    if !c.sees(&k.workspace) {
        return Err(admin_error(AdminError::NotFound(format!("no key '{id}'"))));
    }
    Ok(k)
}

pub async fn key(State(s): State<Arc<AppState>>, Path(id): Path<String>, req: Request) -> Response {
    let method = req.method().clone();
    with(s, req, async move |c, bytes, _| {
        let k = visible_key(&c, &id)?;
        match method {
            Method::PATCH => {
                c.need(&k.workspace, WsRole::Member, "changing keys")?;
                let k =
                    c.t.update_key(&c.actor, &id, body::<KeyPatch>(&bytes)?)
                        .await
                        .map_err(admin_error)?;
                Ok(answer(StatusCode::OK, &k.public(None)))
            }
            Method::DELETE => {
                c.need(&k.workspace, WsRole::Member, "deleting keys")?;
                c.t.delete_key(&c.actor, &id).await.map_err(admin_error)?;
                Ok(answer(
                    StatusCode::OK,
                    &json!({"id": id, "object": "virtual_key", "deleted": true}),
                ))
            }
            _ => {
                let used = c.t.last_used().await.map_err(admin_error)?;
                Ok(answer(StatusCode::OK, &k.public(used.get(&id).copied())))
            }
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
    with(s, req, async move |c, bytes, _| {
        let k = visible_key(&c, &id)?;
        c.need(&k.workspace, WsRole::Member, "rotating keys")?;
        let r: Rotate = body(&bytes)?;
        let (k, secret) =
            c.t.rotate_key(&c.actor, &id, r.grace_ms)
                .await
                .map_err(admin_error)?;
        let mut v = k.public(None);
        v["key"] = json!(secret);
        Ok(answer(StatusCode::OK, &v))
    })
    .await
}

/// Who may see and change a credential: the organisation's need an organisation admin; a
/// workspace's are seen by its viewers and changed by its admins.
fn credential_visible(c: &Ctx, workspace: Option<&str>) -> bool {
    match workspace {
        Some(w) => c.sees(w),
        None => c.access.org_admin(),
    }
}

fn may_change_credential(c: &Ctx, workspace: Option<&str>) -> Result<(), GatewayError> {
    match workspace {
        Some(w) => c.need(w, WsRole::Admin, "changing this workspace's credentials"),
        None => c.need_org_admin("changing the organisation's credentials"),
    }
}

pub async fn credentials(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let post = req.method() == Method::POST;
    let providers: Vec<String> = s.cfg.providers.iter().map(|p| p.name.clone()).collect();
    with(s, req, async move |c, bytes, _| {
        if post {
            let input: NewCredential = body(&bytes)?;
            may_change_credential(&c, input.workspace.as_deref())?;
            let known = |name: &str| providers.iter().any(|p| p == name);
            let cred =
                c.t.create_credential(&c.actor, input, &known)
                    .await
                    .map_err(admin_error)?;
            return Ok(answer(StatusCode::CREATED, &cred.public()));
        }
        let snap = c.t.snapshot();
        let data = snap
            .credential_list()
            .into_iter()
            .filter(|cr| credential_visible(&c, cr.workspace.as_deref()))
            .map(|cr| cr.public())
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
    with(s, req, async move |c, bytes, _| {
        let cred = c.t.credential(&id).map_err(admin_error)?;
        if !credential_visible(&c, cred.workspace.as_deref()) {
            return Err(admin_error(AdminError::NotFound(format!(
                "no credential '{id}'"
            ))));
        }
        match method {
            Method::PATCH => {
                may_change_credential(&c, cred.workspace.as_deref())?;
                let cred =
                    c.t.update_credential(&c.actor, &id, body::<CredentialPatch>(&bytes)?)
                        .await
                        .map_err(admin_error)?;
                Ok(answer(StatusCode::OK, &cred.public()))
            }
            Method::DELETE => {
                may_change_credential(&c, cred.workspace.as_deref())?;
                c.t.delete_credential(&c.actor, &id)
                    .await
                    .map_err(admin_error)?;
                Ok(answer(
                    StatusCode::OK,
                    &json!({"id": id, "object": "credential", "deleted": true}),
                ))
            }
            _ => Ok(answer(StatusCode::OK, &cred.public())),
        }
    })
    .await
}

fn user_json(u: &switchyard_tenants::model::User) -> Value {
    let mut v = serde_json::to_value(u).unwrap_or(Value::Null);
    v["object"] = json!("user");
    v
}

/// Making or changing an owner or an admin takes an owner; an admin may manage members.
fn may_grant(c: &Ctx, role: OrgRole) -> Result<(), GatewayError> {
    c.need_org_admin("managing users")?;
    if role >= OrgRole::Admin && c.access.org < OrgRole::Owner {
        return Err(deny("granting organisation admin or owner"));
    }
    Ok(())
}

pub async fn users(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let post = req.method() == Method::POST;
    with(s, req, async move |c, bytes, _| {
        if post {
            let input: NewUser = body(&bytes)?;
            may_grant(&c, input.role)?;
            let u =
                c.t.create_user(&c.actor, input)
                    .await
                    .map_err(admin_error)?;
            return Ok(answer(StatusCode::CREATED, &user_json(&u)));
        }
        c.need_org_admin("listing users")?;
        let snap = c.t.snapshot();
        Ok(answer(
            StatusCode::OK,
            &list(snap.users().into_iter().map(user_json).collect()),
        ))
    })
    .await
}

pub async fn user(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let method = req.method().clone();
    with(s, req, async move |c, bytes, _| {
        c.need_org_admin("managing users")?;
        let u = c.t.user(&id).map_err(admin_error)?;
        match method {
            Method::PATCH => {
                let patch: UserPatch = body(&bytes)?;
                may_grant(&c, u.role.max(patch.role.unwrap_or(u.role)))?;
                let u =
                    c.t.update_user(&c.actor, &id, patch)
                        .await
                        .map_err(admin_error)?;
                Ok(answer(StatusCode::OK, &user_json(&u)))
            }
            Method::DELETE => {
                may_grant(&c, u.role)?;
                c.t.delete_user(&c.actor, &id).await.map_err(admin_error)?;
                Ok(answer(
                    StatusCode::OK,
                    &json!({"id": id, "object": "user", "deleted": true}),
                ))
            }
            _ => Ok(answer(StatusCode::OK, &user_json(&u))),
        }
    })
    .await
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAdminKey {
    name: String,
}

pub async fn user_admin_keys(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let post = req.method() == Method::POST;
    with(s, req, async move |c, bytes, _| {
        let u = c.t.user(&id).map_err(admin_error)?;
        may_grant(&c, u.role)?;
        if post {
            let input: NewAdminKey = body(&bytes)?;
            let (k, secret) =
                c.t.create_admin_key(&c.actor, &id, &input.name)
                    .await
                    .map_err(admin_error)?;
            let mut v = k.public();
            v["key"] = json!(secret);
            return Ok(answer(StatusCode::CREATED, &v));
        }
        let snap = c.t.snapshot();
        let data = snap
            .admin_keys(Some(&id))
            .into_iter()
            .map(|k| k.public())
            .collect();
        Ok(answer(StatusCode::OK, &list(data)))
    })
    .await
}

pub async fn admin_key(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    with(s, req, async move |c, _, _| {
        let snap = c.t.snapshot();
        let k = snap
            .admin_key(&id)
            .cloned()
            .ok_or_else(|| admin_error(AdminError::NotFound(format!("no admin key '{id}'"))))?;
        let owner = c.t.user(&k.user).map_err(admin_error)?;
        may_grant(&c, owner.role)?;
        c.t.delete_admin_key(&c.actor, &id)
            .await
            .map_err(admin_error)?;
        Ok(answer(
            StatusCode::OK,
            &json!({"id": id, "object": "admin_key", "deleted": true}),
        ))
    })
    .await
}

pub async fn audit(State(s): State<Arc<AppState>>, req: Request) -> Response {
    with(s, req, async |c, _, parts| {
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
        let workspace = super::params::get(&pairs, "workspace").map(str::to_owned);
        // A workspace admin reads its own workspace's events, and must say which.
        match &workspace {
            Some(w) => c.need(w, WsRole::Admin, "reading this workspace's audit log")?,
            None => c.need_org_admin("reading the whole audit log (pass workspace=)")?,
        }
        let q = AuditQuery {
            workspace,
            before,
            limit: limit + 1,
        };
        let mut events = c.t.audit_events(q).await.map_err(admin_error)?;
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

pub async fn end_users(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let method = req.method().clone();
    with(s, req, async move |c, bytes, parts| {
        if method == Method::POST {
            c.need(&id, WsRole::Admin, "adding end users to this workspace")?;
            let new: NewEndUser = body(&bytes)?;
            let u =
                c.t.create_end_user(&c.actor, &id, &new.id, new.blocked)
                    .await
                    .map_err(admin_error)?;
            return Ok(answer(StatusCode::CREATED, &u.public()));
        }
        c.need(&id, WsRole::Viewer, "reading this workspace")?;
        let pairs = super::params::pairs(parts.uri.query());
        super::params::check_known(&pairs, &["limit"])?;
        let limit = match super::params::get(&pairs, "limit") {
            None => DEFAULT_AUDIT_PAGE,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_AUDIT_PAGE).contains(n))
                .ok_or_else(|| GatewayError::BadRequest {
                    message: format!("limit must be a number from 1 to {MAX_AUDIT_PAGE}"),
                    param: Some("limit".into()),
                })?,
        };
        let users = c.t.end_users(&id, limit).await.map_err(admin_error)?;
        Ok(answer(
            StatusCode::OK,
            &list(users.iter().map(|u| u.public()).collect()),
        ))
    })
    .await
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NewEndUser {
    id: String,
    #[serde(default)]
    blocked: bool,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EndUserPatch {
    blocked: bool,
}

pub async fn end_user(
    State(s): State<Arc<AppState>>,
    Path((id, user)): Path<(String, String)>,
    req: Request,
) -> Response {
    let method = req.method().clone();
    with(s, req, async move |c, bytes, _| match method {
        Method::PATCH => {
            c.need(&id, WsRole::Admin, "blocking this workspace's end users")?;
            let patch: EndUserPatch = body(&bytes)?;
            c.t.block_end_user(&c.actor, &id, &user, patch.blocked)
                .await
                .map_err(admin_error)?;
            let u = c.t.find_end_user(&id, &user).await.map_err(admin_error)?;
            Ok(answer(StatusCode::OK, &u.public()))
        }
        Method::DELETE => {
            c.need(&id, WsRole::Admin, "removing this workspace's end users")?;
            c.t.delete_end_user(&c.actor, &id, &user)
                .await
                .map_err(admin_error)?;
            Ok(answer(
                StatusCode::OK,
                &json!({"workspace": id, "id": user, "object": "end_user", "deleted": true}),
            ))
        }
        _ => {
            c.need(&id, WsRole::Viewer, "reading this workspace")?;
            let u = c.t.find_end_user(&id, &user).await.map_err(admin_error)?;
            Ok(answer(StatusCode::OK, &u.public()))
        }
    })
    .await
}
