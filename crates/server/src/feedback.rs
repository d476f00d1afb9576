//! `POST /v1/feedback`: a score and metadata attached to a request or a trace, by the caller
//! that made it (client key). `score` is any number (`value` is accepted too, as Portkey names
//! it); `metadata` an object.
//!
//! Bounded: the body at `MAX_BODY_BYTES`, the metadata at `MAX_METADATA_BYTES` serialised, ids
//! at `MAX_ID_BYTES`. With client auth on, each id given must be one of the caller's own
//! requests (a record made with the same key); anyone else's, or an unknown one, is a 404.

use crate::auth::caller;
use crate::error::GatewayError;
use crate::state::AppState;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{header, HeaderMap, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;
use switchyard_store::{Feedback, Filter, Store};

/// Largest feedback body (a score, two ids and some metadata need far less).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest `metadata`, as compact JSON.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;
/// Longest id: request ids are at most 128 bytes, trace ids 32.
const MAX_ID_BYTES: usize = 128;
/// How often, and how long past the log's flush interval, a record not yet written is looked
/// for: feedback may follow its answer before the record has left the log queue.
const LOOK_EVERY: Duration = Duration::from_millis(50);
const LOOK_GRACE: Duration = Duration::from_secs(1);

fn bad(message: &str, param: &str) -> GatewayError {
    GatewayError::BadRequest {
        message: message.to_owned(),
        param: Some(param.to_owned()),
    }
}

fn text(v: &Value, field: &str) -> Result<Option<String>, GatewayError> {
    match &v[field] {
        Value::Null => Ok(None),
        Value::String(s) if s.len() > MAX_ID_BYTES => Err(bad(
            &format!("{field} is longer than {MAX_ID_BYTES} bytes"),
            field,
        )),
        Value::String(s) if !s.is_empty() => Ok(Some(s.clone())),
        _ => Err(bad(&format!("{field} must be a non-empty string"), field)),
    }
}

/// Reads and stores the feedback.
pub async fn feedback(
    state: &AppState,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, GatewayError> {
    let caller = caller(state, headers).await?.map(|p| p.key_name.clone());
    let v: Value = serde_json::from_slice(&body).map_err(|e| GatewayError::BadRequest {
        message: format!("request body is not valid JSON: {e}"),
        param: None,
    })?;
    if !v.is_object() {
        return Err(bad("the body must be a JSON object", "body"));
    }
    let request_id = text(&v, "request_id")?;
    let trace_id = text(&v, "trace_id")?;
    if request_id.is_none() && trace_id.is_none() {
        return Err(bad(
            "give request_id (the x-request-id of the answer) or trace_id",
            "request_id",
        ));
    }
    let score = match (&v["score"], &v["value"]) {
        (Value::Null, Value::Null) => None,
        (Value::Number(n), Value::Null) | (Value::Null, Value::Number(n)) => n.as_f64(),
        (Value::Null, _) => return Err(bad("value must be a number", "value")),
        _ => return Err(bad("score must be a number", "score")),
    };
    let metadata = match &v["metadata"] {
        Value::Null => serde_json::Map::new(),
        Value::Object(m) => m.clone(),
        _ => return Err(bad("metadata must be an object", "metadata")),
    };
    let size = serde_json::to_vec(&metadata).map_or(usize::MAX, |b| b.len());
    if size > MAX_METADATA_BYTES {
        return Err(bad(
            &format!("metadata is {size} bytes as JSON; at most {MAX_METADATA_BYTES} are accepted"),
            "metadata",
        ));
    }
    let id = format!("fb_{:032x}", crate::ids::time_ordered());
    let f = Feedback {
        id: id.clone(),
        ts_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
        request_id: request_id.clone(),
        trace_id: trace_id.clone(),
        score,
        metadata,
        caller,
    };
    let store = state
        .log
        .store()
        .await
        .map_err(|e| GatewayError::StoreUnavailable { detail: e.0 })?;
    if let Some(key) = &f.caller {
        let wait = state.log.settings.flush_interval + LOOK_GRACE;
        if let Some(id) = &f.request_id {
            let filter = Filter {
                request_id: Some(id.clone()),
                caller: Some(key.clone()),
                ..Filter::default()
            };
            owned(store, &filter, wait, "request of yours", id).await?;
        }
        if let Some(id) = &f.trace_id {
            let filter = Filter {
                trace_id: Some(id.clone()),
                caller: Some(key.clone()),
                ..Filter::default()
            };
            owned(store, &filter, wait, "trace of yours", id).await?;
        }
    }
    store
        .add_feedback(f)
        .await
        .map_err(|e| GatewayError::StoreUnavailable { detail: e.0 })?;
    let out = json!({"object": "feedback", "id": id, "request_id": request_id,
        "trace_id": trace_id, "score": score});
    Ok((
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        out.to_string(),
    )
        .into_response())
}

/// Whether a record the filter selects (one made with the caller's key) exists, looking again
/// for up to `wait` while it may still be on its way to the store.
async fn owned(
    store: &Store,
    filter: &Filter,
    wait: Duration,
    what: &'static str,
    id: &str,
) -> Result<(), GatewayError> {
    let until = tokio::time::Instant::now() + wait;
    loop {
        let page = store
            .list(filter, None, 1)
            .await
            .map_err(|e| GatewayError::StoreUnavailable { detail: e.0 })?;
        if !page.data.is_empty() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= until {
            // The same answer whether the id is unknown or another caller's.
            return Err(GatewayError::NotFound {
                what,
                id: id.to_owned(),
            });
        }
        tokio::time::sleep(LOOK_EVERY).await;
    }
}
