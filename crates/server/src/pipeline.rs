//! The LLM request path, one stage per line, in the order they run.
//!
//! | stage        | reads                          | writes                        |
//! |--------------|--------------------------------|-------------------------------|
//! | authenticate | Authorization / x-api-key,     | ctx.principal, ctx.caller     |
//! |              | the tenants' snapshot          |                               |
//! | read_body    | body, server.max_body_bytes    | the body bytes                |
//! | prompts      | a prompt reference, the        | the body with the prompt's    |
//! |              | tenants' snapshot (prompts)    | messages merged, ctx.prompt   |
//! | parse        | body, limits (model name), the | model, stream flag            |
//! |              | key's model allow-list         |                               |
//! | resolve      | model, aliases, providers      | ctx.provider, upstream model  |
//! | call         | provider kind, endpoint,       | upstream response headers     |
//! |              | timeouts (translates if needed)|                               |
//! | relay        | upstream response              | the caller's response         |
//!
//! Later stages (limits, guardrails, cache, logging) slot in between these lines; the order is
//! also drawn in docs/request-lifecycle.md and checked by a test through `ctx.stages`.

use crate::auth::{caller, check_end_user, check_model, end_user};
use crate::context::RequestCtx;
use crate::error::GatewayError;
use crate::route;
use crate::state::AppState;
use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{header, Request};
use http_body_util::{BodyExt, Limited};
use std::future::Future;
use std::task::Poll;
use switchyard_providers::Operation;
use switchyard_wire::peek::{peek, Required};

/// The documented stage order; `ctx.stages` of a successful request equals this.
pub const STAGES: &[&str] = &[
    "authenticate",
    "read_body",
    "prompts",
    "parse",
    "resolve",
    "limits",
    "guardrails",
    "cache",
    "call",
    "relay",
];

/// A caller the server authenticated itself (the console's playground, for an admin): the
/// authenticate stage takes it as is.
#[derive(Clone)]
pub struct Preauthorized(pub std::sync::Arc<switchyard_tenants::Principal>);

/// Runs one OpenAI-style request through every stage.
pub async fn handle(
    state: &AppState,
    ctx: &mut RequestCtx,
    req: Request<Body>,
) -> Result<Response, GatewayError> {
    let (parts, body) = req.into_parts();
    ctx.enter("authenticate");
    // The console's playground has authenticated its admin and chosen the workspace already
    // (an extension: it cannot come from the wire).
    ctx.principal = match parts.extensions.get::<Preauthorized>() {
        Some(p) => Some(p.0.clone()),
        None => caller(state, &parts.headers).await?,
    };
    ctx.caller = ctx.principal.as_ref().map(|p| p.key_name.clone());
    ctx.enter("read_body");
    let body = read_body(
        body,
        &parts.headers,
        state.cfg.max_body_bytes,
        state.cfg.limits.body_read_timeout,
    )
    .await?;
    ctx.enter("prompts");
    let body = crate::prompts::apply(state, ctx, &parts.headers, body)?;
    ctx.enter("parse");
    let peeked = peek(&body, required(ctx.op)).map_err(|e| GatewayError::BadRequest {
        message: e.message,
        param: e.param,
    })?;
    check_model_name(
        &peeked.model,
        state.cfg.limits.max_model_name_bytes,
        "model",
    )?;
    check_model(ctx.principal.as_deref(), &peeked.model)?;
    // An experiment on the route named swaps in its variant's model (checked like the caller's).
    let (body, peeked) =
        match crate::experiments::route(state, ctx, &parts.headers, &body, &peeked.model)? {
            Some(b) => {
                let p = peek(&b, required(ctx.op)).map_err(|e| GatewayError::BadRequest {
                    message: e.message,
                    param: e.param,
                })?;
                check_model(ctx.principal.as_deref(), &p.model)?;
                (b, p)
            }
            None => (body, peeked),
        };
    if state.tenants.get().is_some() {
        // Recorded even when refused, so the record names who was blocked.
        ctx.end_user = end_user(&parts.headers, peeked.end_user.as_deref());
        if let Some(id) = &ctx.end_user {
            check_end_user(state, ctx.principal.as_deref(), id)?;
        }
    }
    ctx.requested_model = Some(peeked.model.clone());
    ctx.stream = peeked.stream;
    if state.keeps_bodies() {
        ctx.body = Some(body.clone());
    }
    ctx.metadata = route::metadata_map(&parts.headers)?;
    if let Some(p) = &ctx.principal {
        // The key's metadata and tags go under the request's own (which win).
        for (k, v) in p.metadata.iter() {
            ctx.metadata.entry(k.clone()).or_insert_with(|| v.clone());
        }
        if !p.tags.is_empty() {
            ctx.metadata
                .entry("tags")
                .or_insert_with(|| serde_json::json!(p.tags.as_ref()));
        }
    }
    ctx.enter("resolve");
    let plan = route::plan(
        state,
        &parts.headers,
        &peeked.model,
        ctx.principal.as_deref(),
    )?;
    if let route::Plan::Tree { inline, .. } = plan {
        ctx.route = Some(if inline {
            route::CONFIG_HEADER.to_owned()
        } else {
            peeked.model.clone()
        });
    }
    ctx.enter("limits");
    crate::limits::admit(state, ctx, &peeked, body.len(), &plan).await?;
    ctx.enter("guardrails");
    let redacted = crate::guard::input(state, ctx, &parts.headers, &body, required(ctx.op)).await?;
    let (body, peeked) = match &redacted {
        Some((b, p)) => (b, p),
        None => (&body, &peeked),
    };
    ctx.enter("cache");
    let cached = crate::cache::lookup(state, ctx, &parts.headers, body, &plan).await;
    let cached = match cached {
        crate::cache::Lookup::Hit(resp) => return Ok(resp),
        other => other,
    };
    ctx.enter("call");
    let incoming = route::attempt::Incoming {
        headers: &parts.headers,
        body,
        peeked,
        required: required(ctx.op),
    };
    let mut resp = route::run(state, ctx, incoming, plan).await?;
    // A whole answer's usage is known before its first byte goes out: settle it now, so a
    // replica that dies after answering has nothing left unsettled. Streams settle at their end.
    if !ctx.stream {
        crate::limits::settle_before_answer(state, ctx).await;
    }
    if let crate::cache::Lookup::Miss(pending) = cached {
        resp = if ctx.stream {
            crate::cache::store_stream(state, ctx, pending, resp)
        } else {
            crate::cache::store(state, ctx, pending, resp).await
        };
    }
    Ok(resp)
}

/// Refuses a model name longer than `server.limits.max_model_name_bytes`, before it can reach a
/// log record, a metric label, a health entry or a response header. The name is not echoed.
pub(crate) fn check_model_name(name: &str, limit: usize, param: &str) -> Result<(), GatewayError> {
    if name.len() <= limit {
        return Ok(());
    }
    Err(GatewayError::BadRequest {
        message: format!(
            "the model name in `{param}` is {} bytes long; this gateway accepts at most \
             {limit} bytes (server.limits.max_model_name_bytes)",
            name.len()
        ),
        param: Some(param.to_owned()),
    })
}

fn required(op: Operation) -> Required {
    match op {
        Operation::ChatCompletions => Required::Messages,
        Operation::Completions => Required::Prompt,
        Operation::Embeddings | Operation::Responses => Required::Input,
        Operation::Messages | Operation::CountTokens => Required::Messages,
    }
}

/// Reads the request body up to `limit` bytes (a declared or actual larger body is a 413)
/// within `after` (`server.limits.body_read_timeout`; else a 408).
pub async fn read_body(
    body: Body,
    headers: &http::HeaderMap,
    limit: usize,
    after: std::time::Duration,
) -> Result<Bytes, GatewayError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(GatewayError::PayloadTooLarge { limit });
    }
    let mut collect = std::pin::pin!(Limited::new(body, limit).collect());
    // Most bodies arrive with their headers: only a body still on its way gets a timer.
    let first = std::future::poll_fn(|cx| Poll::Ready(collect.as_mut().poll(cx))).await;
    let collected = match first {
        Poll::Ready(r) => r,
        Poll::Pending => tokio::time::timeout(after, collect)
            .await
            .map_err(|_| GatewayError::BodyReadTimeout { after })?,
    };
    match collected {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(GatewayError::PayloadTooLarge { limit })
        }
        Err(e) => Err(GatewayError::BadRequest {
            message: format!("could not read the request body: {e}"),
            param: None,
        }),
    }
}
