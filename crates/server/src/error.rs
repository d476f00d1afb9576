//! The gateway's errors and the one place that decides their status, type and blame.
//!
//! `classify` has no catch-all arm: a new variant does not compile until someone decides how it
//! reaches the caller. Replies are always in OpenAI's error shape; internal detail stays in logs.

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use switchyard_wire::error_body::{
    anthropic_body, anthropic_sse_event, anthropic_type_for_status, normalize_upstream_error,
    normalize_upstream_error_anthropic, OpenAiError,
};
use switchyard_wire::Dialect;

/// An upstream error reply, relayed with its status and selected headers; the body is the
/// provider's own, reshaped for the caller's dialect when rendered.
#[derive(Debug)]
pub struct UpstreamReply {
    pub status: StatusCode,
    pub body: Bytes,
    pub headers: HeaderMap,
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("{message}")]
    Unauthorized {
        message: std::borrow::Cow<'static, str>,
    },
    /// A known caller not allowed this: a disabled or expired key, a model it may not use.
    #[error("{message}")]
    Forbidden {
        message: String,
        param: Option<String>,
    },
    #[error("{message}")]
    BadRequest {
        message: String,
        param: Option<String>,
    },
    #[error("request body exceeds the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("the request body did not arrive within {}s", after.as_secs_f64())]
    BodyReadTimeout { after: std::time::Duration },
    #[error("this gateway tries at most {limit} upstream attempts per request")]
    AttemptLimit { limit: u32 },
    #[error("model '{model}' is not served by any configured provider")]
    UnknownModel { model: String },
    #[error("no provider is configured")]
    NoProviders,
    #[error("no route for {method} {path}")]
    RouteNotFound { method: String, path: String },
    #[error("method {method} is not allowed on {path}")]
    MethodNotAllowed { method: String, path: String },
    #[error("provider '{provider}' is unreachable: {detail}")]
    UpstreamUnreachable { provider: String, detail: String },
    #[error("provider '{provider}' could not get an access token: {detail}")]
    UpstreamCredentials { provider: String, detail: String },
    #[error("target {target} is out of rotation after recent failures (circuit open)")]
    TargetEjected { target: String },
    #[error("provider '{provider}' timed out ({phase})")]
    UpstreamTimeout {
        provider: String,
        phase: &'static str,
    },
    #[error("provider '{provider}' sent an unusable response: {detail}")]
    UpstreamProtocol { provider: String, detail: String },
    /// An upstream event or whole body over `server.limits`; what was read of it is dropped.
    #[error("provider '{provider}' sent {what} larger than the gateway's limit of {limit} bytes")]
    UpstreamTooLarge {
        provider: String,
        /// "an event", "a response body"
        what: &'static str,
        limit: usize,
    },
    /// An error status from the provider, body already in OpenAI's shape.
    #[error("provider returned status {}", .0.status)]
    UpstreamStatus(Box<UpstreamReply>),
    #[error("the gateway is shutting down")]
    ShuttingDown,
    /// Every attempt of a route failed: what each got, and the last error (which decides the
    /// status and shape of the reply).
    #[error("all {} attempts failed: {}; last: {last}", attempts.len(), attempts.join("; "))]
    Exhausted {
        attempts: Vec<String>,
        last: Box<GatewayError>,
    },
    #[error("internal error: {detail}")]
    Internal { detail: String },
    /// The request log's store could not answer (admin queries, feedback).
    #[error("the request log is unavailable: {detail}")]
    StoreUnavailable { detail: String },
    #[error("no {what} with id '{id}'")]
    NotFound { what: &'static str, id: String },
    /// An admin resource that does not exist, in the admin API's words.
    #[error("{message}")]
    Missing { message: String },
    /// An admin change that conflicts with what exists (a name taken, a workspace not empty).
    #[error("{message}")]
    Conflict { message: String },
    /// A limit refused the request: a rate (429, retry after `retry_after`) or a budget (402,
    /// `insufficient_quota`, until it resets).
    #[error("{message}")]
    LimitExceeded {
        message: String,
        budget: bool,
        /// OpenAI's error type for a rate: `requests` or `tokens`.
        kind: &'static str,
        retry_after: Option<std::time::Duration>,
    },
    /// A guardrail policy with action `deny` fired.
    #[error("{message}")]
    GuardrailDenied {
        message: String,
        /// Answer 446, as Portkey's gateway does (`guardrails.status_codes: portkey`).
        portkey: bool,
    },
    /// An output guardrail policy with action `retry` or `fallback` fired on an attempt's
    /// answer: the same target is tried again (`retries` times), or the route's next target.
    #[error("{message}")]
    GuardrailRejected {
        message: String,
        /// For a retry: how many times the same target may be tried again.
        retries: Option<u32>,
        portkey: bool,
    },
    /// The limits' store failed and a cost or token limit fails closed.
    #[error("the limits store is unavailable, so requests under cost and token limits are refused until it is back")]
    LimitsUnavailable,
}

/// Who caused an error; decides log level and, later, retries and circuit breaking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blame {
    Client,
    Upstream,
    Gateway,
}

/// How an error reaches the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Class {
    pub status: StatusCode,
    pub kind: &'static str,
    pub code: Option<&'static str>,
    pub blame: Blame,
    /// Whether another attempt (or another provider) could succeed.
    pub retryable: bool,
}

const fn class(
    status: StatusCode,
    kind: &'static str,
    code: Option<&'static str>,
    blame: Blame,
    retryable: bool,
) -> Class {
    Class {
        status,
        kind,
        code,
        blame,
        retryable,
    }
}

impl GatewayError {
    /// The provider's status, when the error is an error reply.
    pub fn upstream_status(&self) -> Option<u16> {
        match self {
            GatewayError::UpstreamStatus(r) => Some(r.status.as_u16()),
            _ => None,
        }
    }

    pub fn classify(&self) -> Class {
        use GatewayError as E;
        use StatusCode as S;
        match self {
            // OpenAI answers a bad key with type invalid_request_error, code invalid_api_key.
            E::Unauthorized { .. } => class(
                S::UNAUTHORIZED,
                "invalid_request_error",
                Some("invalid_api_key"),
                Blame::Client,
                false,
            ),
            E::Forbidden { .. } => class(
                S::FORBIDDEN,
                "invalid_request_error",
                Some("permission_denied"),
                Blame::Client,
                false,
            ),
            E::BadRequest { .. } => class(
                S::BAD_REQUEST,
                "invalid_request_error",
                None,
                Blame::Client,
                false,
            ),
            E::PayloadTooLarge { .. } => class(
                S::PAYLOAD_TOO_LARGE,
                "invalid_request_error",
                Some("request_too_large"),
                Blame::Client,
                false,
            ),
            E::BodyReadTimeout { .. } => class(
                S::REQUEST_TIMEOUT,
                "invalid_request_error",
                Some("request_timeout"),
                Blame::Client,
                false,
            ),
            E::AttemptLimit { .. } => class(
                S::BAD_GATEWAY,
                "api_error",
                Some("attempt_limit"),
                Blame::Gateway,
                false,
            ),
            E::UnknownModel { .. } | E::NoProviders => class(
                S::NOT_FOUND,
                "invalid_request_error",
                Some("model_not_found"),
                Blame::Client,
                false,
            ),
            E::RouteNotFound { .. } => class(
                S::NOT_FOUND,
                "invalid_request_error",
                Some("unknown_url"),
                Blame::Client,
                false,
            ),
            E::MethodNotAllowed { .. } => class(
                S::METHOD_NOT_ALLOWED,
                "invalid_request_error",
                Some("method_not_allowed"),
                Blame::Client,
                false,
            ),
            E::UpstreamUnreachable { .. } => class(
                S::BAD_GATEWAY,
                "api_error",
                Some("upstream_unreachable"),
                Blame::Upstream,
                true,
            ),
            E::UpstreamCredentials { .. } => class(
                S::BAD_GATEWAY,
                "api_error",
                Some("upstream_credentials"),
                Blame::Gateway,
                true,
            ),
            E::TargetEjected { .. } => class(
                S::SERVICE_UNAVAILABLE,
                "api_error",
                Some("target_ejected"),
                Blame::Upstream,
                true,
            ),
            E::UpstreamTimeout { .. } => class(
                S::GATEWAY_TIMEOUT,
                "api_error",
                Some("upstream_timeout"),
                Blame::Upstream,
                true,
            ),
            E::UpstreamProtocol { .. } => class(
                S::BAD_GATEWAY,
                "api_error",
                Some("upstream_bad_response"),
                Blame::Upstream,
                true,
            ),
            // Another target may answer within the limit; the caller cannot fix this.
            E::UpstreamTooLarge { .. } => class(
                S::BAD_GATEWAY,
                "api_error",
                Some("upstream_response_too_large"),
                Blame::Upstream,
                true,
            ),
            E::UpstreamStatus(reply) => class(
                reply.status,
                "api_error",
                None,
                Blame::Upstream,
                matches!(
                    reply.status.as_u16(),
                    408 | 429 | 500 | 502 | 503 | 504 | 529
                ),
            ),
            E::Exhausted { last, .. } => last.classify(),
            E::ShuttingDown => class(
                S::SERVICE_UNAVAILABLE,
                "api_error",
                Some("shutting_down"),
                Blame::Gateway,
                true,
            ),
            E::Internal { .. } => class(
                S::INTERNAL_SERVER_ERROR,
                "api_error",
                Some("internal_error"),
                Blame::Gateway,
                false,
            ),
            E::StoreUnavailable { .. } => class(
                S::SERVICE_UNAVAILABLE,
                "api_error",
                Some("log_store_unavailable"),
                Blame::Gateway,
                true,
            ),
            E::NotFound { .. } | E::Missing { .. } => class(
                S::NOT_FOUND,
                "invalid_request_error",
                Some("not_found"),
                Blame::Client,
                false,
            ),
            E::Conflict { .. } => class(
                S::CONFLICT,
                "invalid_request_error",
                Some("conflict"),
                Blame::Client,
                false,
            ),
            E::LimitExceeded { budget: true, .. } => class(
                S::PAYMENT_REQUIRED,
                "insufficient_quota",
                Some("insufficient_quota"),
                Blame::Client,
                false,
            ),
            E::LimitExceeded { kind, .. } => class(
                S::TOO_MANY_REQUESTS,
                kind,
                Some("rate_limit_exceeded"),
                Blame::Client,
                false,
            ),
            E::GuardrailDenied { portkey, .. } | E::GuardrailRejected { portkey, .. } => class(
                if *portkey {
                    S::from_u16(446).unwrap_or(S::BAD_REQUEST)
                } else {
                    S::BAD_REQUEST
                },
                "invalid_request_error",
                Some("content_policy_violation"),
                Blame::Client,
                false,
            ),
            E::LimitsUnavailable => class(
                S::SERVICE_UNAVAILABLE,
                "api_error",
                Some("limits_unavailable"),
                Blame::Gateway,
                false,
            ),
        }
    }

    /// The message the caller sees: helpful, and free of internal detail.
    fn public_message(&self) -> String {
        match self {
            GatewayError::UnknownModel { model } => format!(
                "The model '{model}' is not served by any configured provider. \
                 GET /v1/models lists the models this gateway routes; \
                 address a provider's model as 'provider/model' (e.g. 'openai/gpt-4o-mini')."
            ),
            GatewayError::NoProviders => "No provider is configured on this gateway. Set a \
                 provider's API key (e.g. OPENAI_API_KEY) before starting it, or pass --config \
                 with a providers section."
                .into(),
            GatewayError::Internal { .. } => {
                "The gateway hit an internal error; the request id identifies it in the logs."
                    .into()
            }
            GatewayError::Exhausted { attempts, last } => {
                format!("{}{}", exhausted_prefix(attempts), last.public_message())
            }
            other => other.to_string(),
        }
    }

    /// The OpenAI-shaped error object.
    pub fn to_openai(&self) -> OpenAiError {
        let c = self.classify();
        let mut e = OpenAiError::new(self.public_message(), c.kind, c.code);
        if let GatewayError::BadRequest { param: Some(p), .. }
        | GatewayError::Forbidden { param: Some(p), .. } = self
        {
            e = e.with_param(p.clone());
        }
        e
    }
}

impl GatewayError {
    /// The reply in the caller's API shape.
    pub fn render(self, dialect: Dialect) -> Response {
        let c = self.classify();
        let wait = match &self {
            GatewayError::LimitExceeded { retry_after, .. } => *retry_after,
            GatewayError::LimitsUnavailable => Some(std::time::Duration::from_secs(1)),
            _ => None,
        };
        let (mut body_and_extra, wait) = (self.body(dialect), wait);
        if let Some(w) = wait {
            // Whole seconds rounded up (RFC 9110), and the exact figure as the OpenAI SDKs read it.
            let secs = w.as_micros().div_ceil(1_000_000);
            let ms = w.as_micros().div_ceil(1_000);
            for (name, v) in [("retry-after", secs), ("retry-after-ms", ms)] {
                if let Ok(v) = HeaderValue::from_str(&v.to_string()) {
                    body_and_extra
                        .1
                        .insert(http::HeaderName::from_static(name), v);
                }
            }
        }
        let (body, extra) = body_and_extra;
        let mut resp = (c.status, body).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.extend(extra);
        resp
    }

    /// The reply body in the caller's shape, and headers from the provider to pass on.
    fn body(self, dialect: Dialect) -> (Bytes, HeaderMap) {
        let status = self.classify().status.as_u16();
        match (self, dialect) {
            (GatewayError::Exhausted { attempts, last }, _) => {
                // The last error's reply, its message saying what every attempt got.
                let (body, extra) = last.body(dialect);
                (prefix_message(&body, &exhausted_prefix(&attempts)), extra)
            }
            (GatewayError::UpstreamStatus(reply), Dialect::OpenAi) => {
                (normalize_upstream_error(status, &reply.body), reply.headers)
            }
            (GatewayError::UpstreamStatus(reply), Dialect::Anthropic) => (
                normalize_upstream_error_anthropic(status, &reply.body),
                reply.headers,
            ),
            (other, Dialect::OpenAi) => (other.to_openai().to_body(), HeaderMap::new()),
            (other, Dialect::Anthropic) => (
                anthropic_body(anthropic_type_for_status(status), &other.public_message()),
                HeaderMap::new(),
            ),
        }
    }

    /// The error as the last event of a stream that has already started.
    pub fn sse_event(&self, dialect: Dialect) -> Bytes {
        match dialect {
            Dialect::OpenAi => self.to_openai().to_sse_event(),
            Dialect::Anthropic => anthropic_sse_event(
                anthropic_type_for_status(self.classify().status.as_u16()),
                &self.public_message(),
            ),
        }
    }
}

/// `All 3 attempts failed (a/m1: 503; b/m2: timed out). Last: `
fn exhausted_prefix(attempts: &[String]) -> String {
    format!(
        "All {} attempts failed ({}). Last: ",
        attempts.len(),
        attempts.join("; ")
    )
}

/// An error body with `prefix` put before its `error.message` (both API shapes keep it there).
fn prefix_message(body: &Bytes, prefix: &str) -> Bytes {
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return body.clone();
    };
    let Some(msg) = v.pointer_mut("/error/message") else {
        return body.clone();
    };
    let text = msg.as_str().unwrap_or_default();
    *msg = serde_json::Value::String(format!("{prefix}{text}"));
    Bytes::from(serde_json::to_vec(&v).unwrap_or_default())
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        self.render(Dialect::OpenAi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_documented_table() {
        let cases: Vec<(GatewayError, u16)> = vec![
            (
                GatewayError::Unauthorized {
                    message: "x".into(),
                },
                401,
            ),
            (
                GatewayError::Forbidden {
                    message: "x".into(),
                    param: None,
                },
                403,
            ),
            (
                GatewayError::BadRequest {
                    message: "x".into(),
                    param: None,
                },
                400,
            ),
            (GatewayError::PayloadTooLarge { limit: 1 }, 413),
            (
                GatewayError::BodyReadTimeout {
                    after: std::time::Duration::from_secs(1),
                },
                408,
            ),
            (GatewayError::AttemptLimit { limit: 1 }, 502),
            (GatewayError::UnknownModel { model: "m".into() }, 404),
            (GatewayError::NoProviders, 404),
            (
                GatewayError::UpstreamUnreachable {
                    provider: "p".into(),
                    detail: "d".into(),
                },
                502,
            ),
            (
                GatewayError::UpstreamTimeout {
                    provider: "p".into(),
                    phase: "first byte",
                },
                504,
            ),
            (
                GatewayError::UpstreamTooLarge {
                    provider: "p".into(),
                    what: "an event",
                    limit: 1,
                },
                502,
            ),
            (GatewayError::ShuttingDown, 503),
            (
                GatewayError::Internal {
                    detail: "secret detail".into(),
                },
                500,
            ),
        ];
        for (e, status) in cases {
            assert_eq!(e.classify().status.as_u16(), status, "{e:?}");
        }
    }

    #[test]
    fn internal_detail_stays_out_of_the_body() {
        let e = GatewayError::Internal {
            detail: "secret detail".into(),
        };
        let body = e.to_openai().to_body();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("\"type\":\"api_error\""));
    }
}
