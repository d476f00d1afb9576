//! Azure OpenAI's deployment routes: the OpenAI handlers behind
//! `/openai/deployments/{deployment}/...`, refusing requests without `api-version` as Azure does.

use crate::{embeddings, openai, State};
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::json;
use std::sync::Arc;

fn missing_version(uri: &Uri) -> Option<Response> {
    let has = uri.query().is_some_and(|q| {
        q.split('&')
            .any(|kv| kv.starts_with("api-version=") && kv.len() > 12)
    });
    (!has).then(|| {
        (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": {"code": "404", "message": "Resource not found"}})),
        )
            .into_response()
    })
}

pub(crate) async fn chat(
    state: AxState<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    if let Some(r) = missing_version(&uri) {
        return r;
    }
    openai::chat(state, headers, uri, body).await
}

pub(crate) async fn embed(
    state: AxState<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    if let Some(r) = missing_version(&uri) {
        return r;
    }
    embeddings::embeddings(state, headers, uri, body).await
}
