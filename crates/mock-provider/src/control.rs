//! `/_mock/*`: read what was received, queue faults, read counters.

use crate::faults::Fault;
use crate::{lock, State};
use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use std::sync::Arc;

pub(crate) async fn requests(AxState(state): AxState<Arc<State>>) -> Response {
    let list: Vec<_> = lock(&state.recorded).iter().cloned().collect();
    Json(list).into_response()
}

pub(crate) async fn clear_requests(AxState(state): AxState<Arc<State>>) -> StatusCode {
    lock(&state.recorded).clear();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany {
    One(Fault),
    Many(Vec<Fault>),
}

pub(crate) async fn push_faults(
    AxState(state): AxState<Arc<State>>,
    Json(f): Json<OneOrMany>,
) -> StatusCode {
    let mut q = lock(&state.faults);
    match f {
        OneOrMany::One(f) => q.push_back(f),
        OneOrMany::Many(list) => q.extend(list),
    }
    StatusCode::NO_CONTENT
}

pub(crate) async fn clear_faults(AxState(state): AxState<Arc<State>>) -> StatusCode {
    lock(&state.faults).clear();
    StatusCode::NO_CONTENT
}

pub(crate) async fn stats(AxState(state): AxState<Arc<State>>) -> Response {
    Json(state.snapshot()).into_response()
}
