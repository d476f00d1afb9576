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
    One(Box<Fault>),
    Many(Vec<Fault>),
}

pub(crate) async fn push_faults(
    AxState(state): AxState<Arc<State>>,
    Json(f): Json<OneOrMany>,
) -> StatusCode {
    let mut q = lock(&state.faults);
    match f {
        OneOrMany::One(f) => q.push_back(*f),
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

/// A 1×1 PNG, for tests of fetching images on a provider's behalf.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x60, 0x60, 0xf8,
    0x0f, 0x00, 0x01, 0x04, 0x01, 0x00, 0x5f, 0xe5, 0xc3, 0x4b, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// `GET /_mock/image.png`.
pub(crate) async fn image() -> Response {
    ([("content-type", "image/png")], PNG).into_response()
}

/// `GET /_mock/redirect-image`: a redirect to the image.
pub(crate) async fn redirect_image() -> Response {
    (
        axum::http::StatusCode::FOUND,
        [("location", "/_mock/image.png")],
    )
        .into_response()
}

/// `GET /_mock/not-an-image`.
pub(crate) async fn not_an_image() -> Response {
    ([("content-type", "text/html")], "<html></html>").into_response()
}

/// `GET /_mock/script`: whether a script is loaded, its length and the steps played.
pub(crate) async fn script(AxState(state): AxState<Arc<State>>) -> Response {
    Json(lock(&state.script).report()).into_response()
}

/// `POST /_mock/script`: loads a plan (see `script::Script`), replacing any other.
pub(crate) async fn load_script(
    AxState(state): AxState<Arc<State>>,
    Json(s): Json<crate::script::Script>,
) -> StatusCode {
    lock(&state.script).load(s);
    StatusCode::NO_CONTENT
}

pub(crate) async fn clear_script(AxState(state): AxState<Arc<State>>) -> StatusCode {
    lock(&state.script).clear();
    StatusCode::NO_CONTENT
}
