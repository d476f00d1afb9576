//! The HTTP surface: routes, and the generic layers every request passes through.

use crate::context::RequestCtx;
use crate::error::GatewayError;
use crate::ids::{accept_request_id, new_request_id, TraceContext};
use crate::observe;
use crate::observe::finish::Unfinished;
use crate::pipeline;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use http::{header, HeaderValue, StatusCode};
use std::any::Any;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use switchyard_providers::Operation;
use switchyard_wire::Dialect;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;

/// The request id chosen by the outermost layer, for handlers to read, and whether the gateway
/// made it (rather than taking the caller's).
#[derive(Clone)]
struct RequestId(HeaderValue, bool);

/// The request's id (the caller's `x-request-id` or the gateway's), from its extensions.
pub(crate) fn request_id_of(ext: &http::Extensions) -> Option<String> {
    ext.get::<RequestId>()
        .and_then(|r| r.0.to_str().ok())
        .map(str::to_owned)
}

/// Every `/admin/v1` path and its methods, as docs/openapi.json documents them; a test checks
/// the router answers each and the document lists exactly these.
pub const ADMIN_API: &[(&str, &[&str])] = &[
    ("/admin/v1/openapi.json", &["get"]),
    ("/admin/v1/me", &["get"]),
    ("/admin/v1/models", &["get"]),
    ("/admin/v1/playground/chat", &["post"]),
    ("/admin/v1/workspaces", &["get", "post"]),
    ("/admin/v1/workspaces/{id}", &["get", "patch", "delete"]),
    ("/admin/v1/workspaces/{id}/keys", &["get", "post"]),
    ("/admin/v1/keys", &["get"]),
    ("/admin/v1/keys/{id}", &["get", "patch", "delete"]),
    ("/admin/v1/keys/{id}/rotate", &["post"]),
    ("/admin/v1/credentials", &["get", "post"]),
    ("/admin/v1/credentials/{id}", &["get", "patch", "delete"]),
    ("/admin/v1/audit", &["get"]),
    ("/admin/v1/users", &["get", "post"]),
    ("/admin/v1/users/{id}", &["get", "patch", "delete"]),
    ("/admin/v1/users/{id}/admin-keys", &["get", "post"]),
    ("/admin/v1/admin-keys/{id}", &["delete"]),
    ("/admin/v1/workspaces/{id}/end-users", &["get", "post"]),
    (
        "/admin/v1/workspaces/{id}/end-users/{user}",
        &["get", "patch", "delete"],
    ),
    ("/admin/v1/guardrails/checks", &["get"]),
    ("/admin/v1/guardrails/policies", &["get", "post"]),
    (
        "/admin/v1/guardrails/policies/{id}",
        &["get", "patch", "delete"],
    ),
    ("/admin/v1/guardrails/test", &["post"]),
    ("/admin/v1/limits", &["get", "post"]),
    ("/admin/v1/limits/{id}", &["get", "patch", "delete"]),
    ("/admin/v1/prompts", &["get", "post"]),
    ("/admin/v1/prompts/{id}", &["get", "patch", "delete"]),
    ("/admin/v1/prompts/{id}/versions", &["get", "post"]),
    ("/admin/v1/prompts/{id}/versions/{version}", &["get"]),
    ("/admin/v1/prompts/{id}/diff", &["get"]),
    ("/admin/v1/prompts/{id}/labels/{label}", &["put", "delete"]),
    ("/admin/v1/prompts/{id}/render", &["post"]),
    ("/admin/v1/partials", &["get", "post"]),
    ("/admin/v1/partials/{name}", &["get", "delete"]),
    ("/admin/v1/experiments", &["get", "post"]),
    ("/admin/v1/experiments/{id}", &["get", "delete"]),
    ("/admin/v1/experiments/{id}/results", &["get"]),
    ("/admin/v1/experiments/{id}/stop", &["post"]),
    ("/admin/v1/experiments/{id}/promote", &["post"]),
    ("/admin/v1/datasets", &["get", "post"]),
    ("/admin/v1/datasets/{id}", &["get", "delete"]),
    ("/admin/v1/runs", &["get", "post"]),
    ("/admin/v1/runs/{id}", &["get", "delete"]),
    ("/admin/v1/runs/{id}/results", &["get"]),
    ("/admin/v1/runs/{id}/cancel", &["post"]),
    ("/admin/v1/cache/stats", &["get"]),
    ("/admin/v1/cache/purge", &["post"]),
    ("/admin/v1/logs", &["get"]),
    ("/admin/v1/logs/export", &["get"]),
    ("/admin/v1/logs/{id}", &["get"]),
    ("/admin/v1/analytics", &["get"]),
    ("/admin/v1/health", &["get"]),
];

/// Builds the router. `extra` lets tests mount routes inside the same layer stack.
pub fn router(state: crate::state::Gateway, extra: Router<crate::state::Gateway>) -> Router {
    let api = Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/prompts/{id}/completions", post(prompt_completions))
        .route("/v1/prompts/{id}/render", post(prompt_render))
        .route("/chat/completions", post(chat))
        .route("/v1/completions", post(completions))
        .route("/completions", post(completions))
        .route("/v1/responses", post(responses))
        .route("/responses", post(responses))
        .route("/v1/messages", post(messages))
        .route("/v1/messages/count_tokens", post(count_tokens))
        .route("/v1/compare", post(compare))
        .route("/v1/embeddings", post(embeddings))
        .route("/embeddings", post(embeddings))
        .route("/v1/models", get(models))
        .route("/models", get(models))
        .route("/v1/models/{*id}", get(model))
        .route("/models/{*id}", get(model))
        .route("/healthz", get(healthz))
        .route("/admin/health", get(crate::admin::health))
        .route("/metrics", get(crate::admin::metrics))
        .route("/admin/logs", get(crate::admin::logs::list))
        .route("/admin/logs/export", get(crate::admin::logs::export))
        .route("/admin/logs/{id}", get(crate::admin::logs::one))
        .route("/admin/analytics", get(crate::admin::logs::analytics))
        .route(
            "/admin/v1/workspaces",
            get(crate::admin::tenants::workspaces).post(crate::admin::tenants::workspaces),
        )
        .route(
            "/admin/v1/workspaces/{id}",
            get(crate::admin::tenants::workspace)
                .patch(crate::admin::tenants::workspace)
                .delete(crate::admin::tenants::workspace),
        )
        .route(
            "/admin/v1/workspaces/{id}/keys",
            get(crate::admin::tenants::workspace_keys).post(crate::admin::tenants::workspace_keys),
        )
        .route("/admin/v1/keys", get(crate::admin::tenants::keys))
        .route(
            "/admin/v1/keys/{id}",
            get(crate::admin::tenants::key)
                .patch(crate::admin::tenants::key)
                .delete(crate::admin::tenants::key),
        )
        .route(
            "/admin/v1/keys/{id}/rotate",
            post(crate::admin::tenants::rotate),
        )
        .route("/admin/v1/audit", get(crate::admin::tenants::audit))
        .route("/admin/v1/openapi.json", get(crate::admin::openapi))
        .route(
            "/admin/v1/users",
            get(crate::admin::tenants::users).post(crate::admin::tenants::users),
        )
        .route(
            "/admin/v1/users/{id}",
            get(crate::admin::tenants::user)
                .patch(crate::admin::tenants::user)
                .delete(crate::admin::tenants::user),
        )
        .route(
            "/admin/v1/users/{id}/admin-keys",
            get(crate::admin::tenants::user_admin_keys)
                .post(crate::admin::tenants::user_admin_keys),
        )
        .route(
            "/admin/v1/admin-keys/{id}",
            delete(crate::admin::tenants::admin_key),
        )
        .route(
            "/admin/v1/workspaces/{id}/end-users",
            get(crate::admin::tenants::end_users).post(crate::admin::tenants::end_users),
        )
        .route(
            "/admin/v1/workspaces/{id}/end-users/{user}",
            get(crate::admin::tenants::end_user)
                .patch(crate::admin::tenants::end_user)
                .delete(crate::admin::tenants::end_user),
        )
        .route(
            "/admin/v1/guardrails/checks",
            get(crate::admin::guardrails::checks),
        )
        .route(
            "/admin/v1/guardrails/policies",
            get(crate::admin::guardrails::policies).post(crate::admin::guardrails::policies),
        )
        .route(
            "/admin/v1/guardrails/policies/{id}",
            get(crate::admin::guardrails::policy)
                .patch(crate::admin::guardrails::policy)
                .delete(crate::admin::guardrails::policy),
        )
        .route(
            "/admin/v1/guardrails/test",
            axum::routing::post(crate::admin::guardrails::test),
        )
        .route(
            "/admin/v1/limits",
            get(crate::admin::limits::limits).post(crate::admin::limits::limits),
        )
        .route(
            "/admin/v1/limits/{id}",
            get(crate::admin::limits::limit)
                .patch(crate::admin::limits::limit)
                .delete(crate::admin::limits::limit),
        )
        .route("/admin/v1/me", get(crate::admin::me))
        .route("/admin/v1/models", get(crate::admin::models))
        .route(
            "/admin/v1/playground/chat",
            post(crate::admin::playground::chat),
        )
        .route(
            "/admin/v1/prompts",
            get(crate::admin::prompts::prompts).post(crate::admin::prompts::prompts),
        )
        .route(
            "/admin/v1/prompts/{id}",
            get(crate::admin::prompts::prompt)
                .patch(crate::admin::prompts::prompt)
                .delete(crate::admin::prompts::prompt),
        )
        .route(
            "/admin/v1/prompts/{id}/versions",
            get(crate::admin::prompts::versions).post(crate::admin::prompts::versions),
        )
        .route(
            "/admin/v1/prompts/{id}/versions/{version}",
            get(crate::admin::prompts::version),
        )
        .route(
            "/admin/v1/prompts/{id}/diff",
            get(crate::admin::prompts::diff),
        )
        .route(
            "/admin/v1/prompts/{id}/labels/{label}",
            axum::routing::put(crate::admin::prompts::label).delete(crate::admin::prompts::label),
        )
        .route(
            "/admin/v1/prompts/{id}/render",
            post(crate::admin::prompts::render),
        )
        .route(
            "/admin/v1/partials",
            get(crate::admin::prompts::partials).post(crate::admin::prompts::partials),
        )
        .route(
            "/admin/v1/partials/{name}",
            get(crate::admin::prompts::partial).delete(crate::admin::prompts::partial),
        )
        .route(
            "/admin/v1/experiments",
            get(crate::admin::experiments::experiments)
                .post(crate::admin::experiments::experiments),
        )
        .route(
            "/admin/v1/experiments/{id}",
            get(crate::admin::experiments::experiment)
                .delete(crate::admin::experiments::experiment),
        )
        .route(
            "/admin/v1/experiments/{id}/results",
            get(crate::admin::experiments::results),
        )
        .route(
            "/admin/v1/experiments/{id}/{action}",
            post(crate::admin::experiments::finish),
        )
        .route(
            "/admin/v1/datasets",
            get(crate::admin::datasets::datasets).post(crate::admin::datasets::datasets),
        )
        .route(
            "/admin/v1/datasets/{id}",
            get(crate::admin::datasets::dataset).delete(crate::admin::datasets::dataset),
        )
        .route(
            "/admin/v1/runs",
            get(crate::admin::datasets::runs).post(crate::admin::datasets::runs),
        )
        .route(
            "/admin/v1/runs/{id}",
            get(crate::admin::datasets::run).delete(crate::admin::datasets::run),
        )
        .route(
            "/admin/v1/runs/{id}/results",
            get(crate::admin::datasets::results),
        )
        .route(
            "/admin/v1/runs/{id}/cancel",
            post(crate::admin::datasets::cancel),
        )
        .route("/admin/v1/cache/stats", get(crate::admin::cache::stats))
        .route(
            "/admin/v1/cache/purge",
            axum::routing::post(crate::admin::cache::purge),
        )
        .route("/admin/v1/health", get(crate::admin::health))
        .route("/admin/v1/logs", get(crate::admin::logs::list))
        .route("/admin/v1/logs/export", get(crate::admin::logs::export))
        .route("/admin/v1/logs/{id}", get(crate::admin::logs::one))
        .route("/admin/v1/analytics", get(crate::admin::logs::analytics))
        .route(
            "/admin/v1/credentials",
            get(crate::admin::tenants::credentials).post(crate::admin::tenants::credentials),
        )
        .route(
            "/admin/v1/credentials/{id}",
            get(crate::admin::tenants::credential)
                .patch(crate::admin::tenants::credential)
                .delete(crate::admin::tenants::credential),
        )
        .route("/v1/feedback", post(feedback))
        .route("/feedback", post(feedback))
        .route("/readyz", get(readyz))
        .route("/ui/oidc/config", get(crate::ui::oidc::config))
        .route("/ui/oidc/login", get(crate::ui::oidc::login))
        .route("/ui/oidc/callback", get(crate::ui::oidc::callback))
        .route("/ui", get(crate::ui::serve))
        .route("/ui/", get(crate::ui::serve))
        .route("/ui/{*path}", get(crate::ui::serve))
        .merge(extra)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state);
    api.layer(
        ServiceBuilder::new()
            // Outermost: every response, even a panic's, carries the request id.
            .layer(middleware::from_fn(request_id))
            // Inside the id layer, so the 500 it builds still gets the id header.
            .layer(CatchPanicLayer::custom(panic_response)),
    )
}

async fn request_id(mut req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(crate::headers::X_REQUEST_ID)
        .filter(|v| accept_request_id(v))
        .cloned();
    let own = given.is_none();
    let id = given.unwrap_or_else(new_request_id);
    req.extensions_mut().insert(RequestId(id.clone(), own));
    let mut resp = next.run(req).await;
    resp.headers_mut().insert(crate::headers::X_REQUEST_ID, id);
    resp
}

fn panic_response(err: Box<dyn Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| err.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    tracing::error!(panic = %detail, "handler panicked");
    GatewayError::Internal { detail }.into_response()
}

async fn run(state: Arc<AppState>, op: Operation, req: Request) -> Response {
    let (id, own_id) = req
        .extensions()
        .get::<RequestId>()
        .map(|r| (r.0.clone(), r.1))
        .unwrap_or_else(|| (new_request_id(), true));
    let trace = TraceContext::from_header(req.headers().get(crate::headers::TRACEPARENT));
    let mut ctx = RequestCtx::new(id, trace, op);
    ctx.own_request_id = own_id;
    // Records the request even if the caller goes away before the answer starts.
    let mut guard = Unfinished::new(&state, ctx);
    let mut stop = state.hard_stop.subscribe();
    let outcome = tokio::select! {
        biased;
        r = pipeline::handle(&state, guard.ctx(), req) => r,
        // Past the drain deadline, answer rather than leave the caller with a cut connection.
        _ = stop.wait_for(|s| *s) => Err(GatewayError::ShuttingDown),
    };
    let (mut resp, error) = match outcome {
        Ok(resp) => (resp, None),
        Err(e) => {
            let c = e.classify();
            let ctx = guard.ctx();
            if c.status.is_server_error() {
                tracing::warn!(request_id = ?ctx.request_id, op = op.name(), status = c.status.as_u16(), error = %e, "request failed");
            } else {
                tracing::debug!(request_id = ?ctx.request_id, op = op.name(), status = c.status.as_u16(), error = %e, "request refused");
            }
            let message = e.to_string();
            (e.render(op.dialect()), Some(message))
        }
    };
    crate::limits::add_headers(guard.ctx(), resp.headers_mut());
    crate::guard::add_headers(&state, guard.ctx(), &mut resp);
    crate::cache::add_header(guard.ctx(), &mut resp);
    crate::prompts::add_header(guard.ctx(), &mut resp);
    observe::finish::track(&state, guard.answered(), resp, error)
}

async fn chat(State(s): State<Arc<AppState>>, req: Request) -> Response {
    run(s, Operation::ChatCompletions, req).await
}

/// A chat completion through the whole request path (the console's playground).
pub(crate) async fn chat_request(s: Arc<AppState>, req: Request) -> Response {
    run(s, Operation::ChatCompletions, req).await
}

async fn completions(State(s): State<Arc<AppState>>, req: Request) -> Response {
    run(s, Operation::Completions, req).await
}

async fn responses(State(s): State<Arc<AppState>>, req: Request) -> Response {
    run(s, Operation::Responses, req).await
}

async fn messages(State(s): State<Arc<AppState>>, req: Request) -> Response {
    run(s, Operation::Messages, req).await
}

async fn count_tokens(State(s): State<Arc<AppState>>, req: Request) -> Response {
    run(s, Operation::CountTokens, req).await
}

/// The request's headers and whole body (at most `limit` bytes, within the body-read timeout).
async fn whole(
    s: &AppState,
    limit: usize,
    req: Request,
) -> Result<(http::request::Parts, bytes::Bytes), Response> {
    let (parts, body) = req.into_parts();
    match pipeline::read_body(body, &parts.headers, limit, s.cfg.limits.body_read_timeout).await {
        Ok(b) => Ok((parts, b)),
        Err(e) => Err(e.into_response()),
    }
}

async fn compare(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let (parts, body) = match whole(&s, s.cfg.max_body_bytes, req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    crate::compare::compare(&s, &parts.headers, body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// `POST /v1/prompts/{id}/completions` (Portkey's): `{variables, version?, label?, stream?,
/// ...parameters}` becomes a chat completion with `prompt` set, and runs the whole request
/// path (the prompts stage fills it in).
async fn prompt_completions(
    State(s): State<Arc<AppState>>,
    axum::extract::Path(id): axum::extract::Path<String>,
    req: Request,
) -> Response {
    let (mut parts, body) = match whole(&s, s.cfg.max_body_bytes, req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match crate::prompts::completions_body(&id, &body) {
        Ok(b) => {
            parts.headers.remove(http::header::CONTENT_LENGTH);
            let req = Request::from_parts(parts, axum::body::Body::from(b));
            run(s, Operation::ChatCompletions, req).await
        }
        Err(e) => e.render(Operation::ChatCompletions.dialect()),
    }
}

/// `POST /v1/prompts/{id}/render`: the filled request, not sent (client keys).
async fn prompt_render(
    State(s): State<Arc<AppState>>,
    axum::extract::Path(id): axum::extract::Path<String>,
    req: Request,
) -> Response {
    let (parts, body) = match whole(&s, s.cfg.max_body_bytes, req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    crate::prompts::render_for_caller(&s, &parts.headers, &id, &body)
        .await
        .unwrap_or_else(|e| e.render(Operation::ChatCompletions.dialect()))
}

async fn feedback(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let limit = crate::feedback::MAX_BODY_BYTES.min(s.cfg.max_body_bytes);
    let (parts, body) = match whole(&s, limit, req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    crate::feedback::feedback(&s, &parts.headers, body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn embeddings(State(s): State<Arc<AppState>>, req: Request) -> Response {
    run(s, Operation::Embeddings, req).await
}

async fn models(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let principal = match crate::auth::caller(&s, req.headers()).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    // A key limited to some models sees only those.
    let body = match principal.filter(|p| !p.models.is_empty()) {
        Some(p) => crate::models::only(&s.models.list, |id| p.allows(id)),
        None => s.models.list.clone(),
    };
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn model(
    State(s): State<Arc<AppState>>,
    id: Result<axum::extract::Path<String>, axum::extract::rejection::PathRejection>,
    req: Request,
) -> Response {
    let principal = match crate::auth::caller(&s, req.headers()).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    // axum's own rejection is plain text; the id is not echoed (it is not text).
    let Ok(axum::extract::Path(id)) = id else {
        return GatewayError::BadRequest {
            message: "the model id in the path is not valid UTF-8 once percent-decoded".into(),
            param: Some("model".into()),
        }
        .into_response();
    };
    if let Err(e) =
        crate::pipeline::check_model_name(&id, s.cfg.limits.max_model_name_bytes, "model")
    {
        return e.into_response();
    }
    // A model the key may not use is not there for it.
    let allowed = principal.as_deref().is_none_or(|p| p.allows(&id));
    match s.models.by_id.get(&id).filter(|_| allowed) {
        Some(body) => ([(header::CONTENT_TYPE, "application/json")], body.clone()).into_response(),
        None => GatewayError::UnknownModel { model: id }.into_response(),
    }
}

async fn healthz() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        "{\"status\":\"ok\"}",
    )
        .into_response()
}

async fn readyz(State(s): State<Arc<AppState>>) -> Response {
    let (status, body) = if s.draining.load(Ordering::Relaxed) {
        (StatusCode::SERVICE_UNAVAILABLE, "{\"status\":\"draining\"}")
    } else if s.upstreams.is_empty() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "{\"status\":\"no_providers\"}",
        )
    } else {
        (StatusCode::OK, "{\"status\":\"ready\"}")
    };
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The shape of an error for a request that matched no handler: Anthropic's under its
/// Messages API (where its SDKs are the callers), else OpenAI's.
fn dialect_for(path: &str) -> Dialect {
    let messages = path
        .strip_prefix("/v1/messages")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    if messages {
        Dialect::Anthropic
    } else {
        Dialect::OpenAi
    }
}

async fn not_found(req: Request<Body>) -> Response {
    let path = req.uri().path();
    GatewayError::RouteNotFound {
        method: req.method().to_string(),
        path: path.to_owned(),
    }
    .render(dialect_for(path))
}

async fn method_not_allowed(req: Request<Body>) -> Response {
    let path = req.uri().path();
    GatewayError::MethodNotAllowed {
        method: req.method().to_string(),
        path: path.to_owned(),
    }
    .render(dialect_for(path))
}
