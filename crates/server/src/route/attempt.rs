//! One attempt: the caller's request sent to one target and its answer relayed — what a request
//! without a route does once, and what each try of a route does.

use super::Overrides;
use crate::adapt;
use crate::context::{AttemptLog, RequestCtx};
use crate::error::GatewayError;
use crate::observe::meter::Meter;
use crate::relay::{relay, BodyLimits, Metering};
use crate::state::AppState;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use switchyard_config::Timeouts;
use switchyard_providers::translate::Policy;
use switchyard_providers::usage::Shape;
use switchyard_providers::Operation;
use switchyard_wire::peek::{peek, Peek, Required};

/// The caller's request as the stages before `call` left it.
pub struct Incoming<'a> {
    pub headers: &'a HeaderMap,
    pub body: &'a Bytes,
    pub peeked: &'a Peek,
    pub required: Required,
}

/// The body with a node's `params` set over the caller's fields (never `model`: the target
/// decides that), and its peek.
fn with_params(
    inc: &Incoming<'_>,
    ov: &Overrides<'_>,
) -> Result<Option<(Bytes, Peek)>, GatewayError> {
    if ov.params.is_empty() {
        return Ok(None);
    }
    let mut v: Value = serde_json::from_slice(inc.body).map_err(|e| GatewayError::BadRequest {
        message: format!("request body is not valid JSON: {e}"),
        param: None,
    })?;
    let Some(obj) = v.as_object_mut() else {
        return Ok(None);
    };
    for params in &ov.params {
        for (k, val) in params.iter().filter(|(k, _)| k.as_str() != "model") {
            obj.insert(k.clone(), val.clone());
        }
    }
    let body = Bytes::from(serde_json::to_vec(&v).unwrap_or_default());
    let peeked = peek(&body, inc.required).map_err(|e| GatewayError::BadRequest {
        message: e.message,
        param: e.param,
    })?;
    Ok(Some((body, peeked)))
}

/// Sends the request to `model` at provider `provider` and relays the answer; the attempt is
/// noted in `ctx.attempts` for the request's record.
pub async fn attempt(
    state: &AppState,
    ctx: &mut RequestCtx,
    inc: &Incoming<'_>,
    provider: usize,
    model: &str,
    ov: &Overrides<'_>,
) -> Result<Response, GatewayError> {
    let meter = Arc::new(Meter::default());
    let started = std::time::Instant::now();
    let span_id = fastrand::u64(1..);
    let target = Target {
        provider,
        model,
        meter: meter.clone(),
        span_id,
    };
    let mut dropped = Vec::new();
    let result = send(state, ctx, inc, target, ov, &mut dropped).await;
    let (status, outcome) = match &result {
        Ok(r) => (Some(r.status().as_u16()), "ok".to_owned()),
        Err(e) => (e.upstream_status(), super::summary(e)),
    };
    ctx.attempts.push(AttemptLog {
        provider,
        model: model.to_owned(),
        started,
        ended: std::time::Instant::now(),
        status,
        outcome,
        meter,
        span_id,
        dropped,
    });
    result
}

/// The field policy for an attempt: the route's where it sets one, else the provider's. A
/// caller's own tree can only make it stricter.
fn field_policy(provider: Policy, ov: &Overrides<'_>) -> Policy {
    match ov.field_policy {
        Some(p) if ov.inline => p.min(provider),
        Some(p) => p,
        None => provider,
    }
}

/// Where one attempt goes, and how it is measured and traced.
struct Target<'m> {
    provider: usize,
    model: &'m str,
    meter: Arc<Meter>,
    span_id: u64,
}

async fn send(
    state: &AppState,
    ctx: &mut RequestCtx,
    inc: &Incoming<'_>,
    target: Target<'_>,
    ov: &Overrides<'_>,
    dropped_out: &mut Vec<String>,
) -> Result<Response, GatewayError> {
    let Target {
        provider,
        model,
        meter,
        span_id,
    } = target;
    let upstream = &state.upstreams[provider];
    let changed = with_params(inc, ov)?;
    let (body, peeked) = match &changed {
        Some((b, p)) => (b, p),
        None => (inc.body, inc.peeked),
    };
    if let Some(answer) = adapt::estimate_tokens(upstream, ctx.op, body, model)? {
        // count_tokens for a provider without a counting API: answered here, nothing sent.
        return Ok(answer);
    }
    let adapt::Adapted {
        req: mut up_req,
        reply,
        dropped,
        usage_injected,
    } = adapt::request(
        upstream,
        &state.images,
        ctx.op,
        body,
        peeked,
        model,
        adapt::How {
            stream_usage: state.cfg.log.stream_usage,
            policy: field_policy(upstream.field_policy, ov),
        },
    )
    .await?;
    let h = up_req.headers_mut();
    h.insert(crate::headers::TRACEPARENT, ctx.trace.child_header(span_id));
    for name in switchyard_providers::registry::format(upstream.kind).forwarded_headers() {
        if let Some(v) = inc.headers.get(name) {
            h.insert(name.clone(), v.clone());
        }
    }
    h.insert(crate::headers::X_REQUEST_ID, ctx.request_id.clone());
    let own = vault_credential(state, ctx, &upstream.name);
    upstream.authorize(&mut up_req, own.as_deref()).await?;
    let t = &ov.timeouts;
    // A route's timeouts replace the provider's; a caller's own tree may only tighten them.
    let pick = |route: Option<Duration>, provider: Duration| match route {
        Some(r) if ov.inline => r.min(provider),
        Some(r) => r,
        None => provider,
    };
    let timeouts = Timeouts {
        connect: pick(t.connect, upstream.timeouts.connect),
        first_byte: pick(t.first_byte, upstream.timeouts.first_byte),
        idle: pick(t.idle, upstream.timeouts.idle),
        total: pick(t.total, upstream.timeouts.total),
    };
    // Each attempt has its whole `total`: a fallback after a slow failure is not born late.
    // (A total too far away to represent is no deadline at all, not a panic.)
    let now = tokio::time::Instant::now();
    let deadline = now
        .checked_add(timeouts.total)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600));
    meter.sent();
    let resp = upstream.send_with(up_req, deadline, &timeouts).await?;
    let limits = BodyLimits {
        idle: timeouts.idle,
        deadline,
        first_token: t.first_token,
        max_event: state.cfg.limits.max_event_bytes,
        max_body: state.cfg.limits.max_upstream_body_bytes,
    };
    let stop = state.hard_stop.subscribe();
    let guard = if ctx.stream {
        crate::guard::stream_guard(state, ctx)
    } else {
        None
    };
    // Retry and fallback can only act while nothing has been sent, and call-outs read whole
    // answers: such policies hold a stream whole, and the attempt reads it to its end (and
    // makes the call-outs) before answering.
    let held_whole = guard.is_some() && crate::guard::stream_held_whole(ctx);
    let guard_meter = held_whole.then(|| Arc::clone(&meter));
    let metering = Metering {
        meter,
        shape: usage_shape(ctx.op),
        strip_usage: usage_injected,
        guard,
    };
    let mut out = relay(
        &upstream.name,
        resp,
        limits,
        stop,
        reply,
        ctx.op.dialect(),
        metering,
    )
    .await?;
    out.headers_mut().insert(
        crate::headers::X_SWITCHYARD_PROVIDER,
        upstream.name_header.clone(),
    );
    if !dropped.is_empty() {
        // Dropping is configured, never silent: the caller can see what the provider did not get.
        if let Ok(v) = HeaderValue::from_str(&dropped.join(",")) {
            out.headers_mut()
                .insert(crate::headers::X_SWITCHYARD_DROPPED_PARAMS, v);
        }
        tracing::debug!(provider = %upstream.name, dropped = ?dropped, "request fields dropped");
    }
    *dropped_out = dropped;
    if !ctx.stream
        && ctx
            .guarded
            .set
            .any_at(switchyard_guardrails::policy::Stage::Output)
    {
        out = crate::guard::output_whole(state, ctx, out).await?;
    }
    if let Some(m) = guard_meter {
        out = crate::guard::stream_held(state, ctx, out, &m).await?;
    }
    Ok(out)
}

/// The format of the caller's answer, for reading its usage.
fn usage_shape(op: Operation) -> Option<Shape> {
    match op {
        Operation::ChatCompletions | Operation::Completions | Operation::Embeddings => {
            Some(Shape::Chat)
        }
        Operation::Responses => Some(Shape::Responses),
        Operation::Messages => Some(Shape::Anthropic),
        Operation::CountTokens => None,
    }
}

/// The caller's workspace's own credential for `provider` (from the vault; the organisation's
/// when the workspace has none), which the upstream call uses instead of the configured one.
fn vault_credential(
    state: &AppState,
    ctx: &RequestCtx,
    provider: &str,
) -> Option<std::sync::Arc<switchyard_tenants::directory::ProviderSecret>> {
    let creds = match (&ctx.principal, state.tenants.get()) {
        (Some(p), _) => std::sync::Arc::clone(&p.credentials),
        (None, Some(t)) => t
            .snapshot()
            .credentials_of(switchyard_tenants::model::DEFAULT_WORKSPACE),
        (None, None) => return None,
    };
    creds.get(provider).cloned()
}
