//! Header names the request path sets or reads on every request, made once: a `&str` key makes
//! `HeaderMap` parse and validate the name on each call.

use http::HeaderName;

pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub const X_SWITCHYARD_PROVIDER: HeaderName = HeaderName::from_static("x-switchyard-provider");
pub const X_SWITCHYARD_TARGET: HeaderName = HeaderName::from_static("x-switchyard-target");
pub const X_SWITCHYARD_ATTEMPTS: HeaderName = HeaderName::from_static("x-switchyard-attempts");
pub const X_SWITCHYARD_DROPPED_PARAMS: HeaderName =
    HeaderName::from_static("x-switchyard-dropped-params");
