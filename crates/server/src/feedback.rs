//! `POST /v1/feedback`: a score and metadata attached to a request or a trace, by the caller
//! that made it (client key). `score` is any number (`value` is accepted too, as Portkey names
//! it); `metadata` an object.

use crate::auth::authenticate;
use crate::error::GatewayError;
use crate::state::AppState;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{header, HeaderMap, StatusCode};
use serde_json::{json, Value};
use switchyard_store::Feedback;

fn bad(message: &str, param: &str) -> GatewayError {
    GatewayError::BadRequest {
        message: message.to_owned(),
        param: Some(param.to_owned()),
    }
}

fn text(v: &Value, field: &str) -> Result<Option<String>, GatewayError> {
    match &v[field] {
        Value::Null => Ok(None),
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
    let caller = authenticate(&state.cfg.client_keys, headers)?;
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
