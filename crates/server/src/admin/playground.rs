//! `POST /admin/v1/playground/chat?workspace=ID`: the console's playground. A chat request
//! (OpenAI's shape, streamed or not) runs through every stage of the request path exactly as
//! a client's would (routing, limits, guardrails, cache, the log) on the signed-in admin's
//! behalf, in the workspace chosen (its credentials, limits and policies apply): the record
//! names the admin (`caller: admin-key:NAME` or `user:EMAIL`) and carries
//! `metadata.playground = true`. Organisation admins may use any workspace; others need to be
//! a member of it.

use crate::state::AppState;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use switchyard_tenants::model::WsRole;
use switchyard_tenants::Principal;

pub async fn chat(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let access = match super::access(&s, req.headers()).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let workspace = req
        .uri()
        .query()
        .and_then(|q| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix("workspace="))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| switchyard_tenants::model::DEFAULT_WORKSPACE.to_owned());
    if !access.can(&workspace, WsRole::Member) {
        return crate::error::GatewayError::Forbidden {
            message: format!(
                "The playground runs requests in a workspace you are a member of; \
                 '{workspace}' is not one."
            ),
            param: Some("workspace".into()),
        }
        .into_response();
    }
    let snapshot = s.tenants.get().map(|t| t.snapshot());
    let (name, credentials) = match &snapshot {
        Some(snap) => match snap.workspace(&workspace) {
            Some(w) => (w.name.clone(), snap.credentials_of(&w.id)),
            None => {
                return crate::error::GatewayError::Missing {
                    message: format!("no workspace '{workspace}'"),
                }
                .into_response()
            }
        },
        None => (workspace.clone(), Arc::default()),
    };
    let mut metadata = serde_json::Map::new();
    metadata.insert("playground".into(), serde_json::Value::Bool(true));
    let principal = Principal {
        workspace: workspace.clone(),
        workspace_name: name,
        key_id: None,
        key_name: access.actor.clone(),
        models: Arc::from([]),
        metadata: Arc::new(metadata),
        tags: Arc::from([]),
        credentials,
    };
    let (mut parts, body) = req.into_parts();
    // The admin's own key must not reach a provider or the client-key check.
    parts.headers.remove(http::header::AUTHORIZATION);
    parts.headers.remove("x-api-key");
    parts
        .extensions
        .insert(crate::pipeline::Preauthorized(Arc::new(principal)));
    crate::http::chat_request(s, Request::from_parts(parts, body)).await
}
