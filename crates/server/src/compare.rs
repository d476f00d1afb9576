//! `POST /v1/compare`: one chat request sent to several models at once, the answers returned
//! side by side with each one's latency and token usage, so models can be compared on the same
//! prompt. Each model goes through the same plan a chat request for it would (routes included).
//!
//! Body: a chat completion request with `models` (1 to 10 names) in place of `model`; `stream`
//! is refused. Answer: `{"object": "comparison", "results": [{"model", "status", "latency_ms",
//! "usage", "cost_usd", "response" | "error"}]}` (cost_usd from the model catalog, null when it
//! does not price the model) in the order the models were given; the status is 200 when
//! the comparison itself could be made, whatever each model answered.

use crate::auth::caller;
use crate::context::RequestCtx;
use crate::error::GatewayError;
use crate::ids::new_request_id;
use crate::route;
use crate::state::AppState;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{header, HeaderMap};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::time::Instant;
use switchyard_providers::Operation;
use switchyard_wire::peek::{peek, Required};

/// Most models one comparison may fan out to.
pub const MAX_MODELS: usize = 10;

fn bad(message: impl Into<String>, param: &str) -> GatewayError {
    GatewayError::BadRequest {
        message: message.into(),
        param: Some(param.to_owned()),
    }
}

/// The per-model requests: the caller's body with `models` replaced by each `model`.
fn requests(body: &Bytes, max_name: usize) -> Result<Vec<(String, Bytes)>, GatewayError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| GatewayError::BadRequest {
        message: format!("request body is not valid JSON: {e}"),
        param: None,
    })?;
    let mut obj = v
        .as_object()
        .cloned()
        .ok_or_else(|| bad("the body must be a JSON object", ""))?;
    if obj.get("stream").and_then(Value::as_bool) == Some(true) {
        return Err(bad(
            "a comparison cannot stream; leave out stream",
            "stream",
        ));
    }
    if obj.contains_key("model") {
        return Err(bad(
            "give the models to compare in models, not model",
            "model",
        ));
    }
    let models = obj
        .remove("models")
        .and_then(|m| m.as_array().cloned())
        .filter(|m| !m.is_empty() && m.len() <= MAX_MODELS && m.iter().all(Value::is_string))
        .ok_or_else(|| {
            bad(
                format!("models must be a list of 1 to {MAX_MODELS} model names"),
                "models",
            )
        })?;
    // Refused whole: each result would echo its model's name.
    for m in models.iter().filter_map(Value::as_str) {
        crate::pipeline::check_model_name(m, max_name, "models")?;
    }
    Ok(models
        .iter()
        .filter_map(Value::as_str)
        .map(|m| {
            let mut one = obj.clone();
            one.insert("model".into(), json!(m));
            (m.to_owned(), Bytes::from(Value::Object(one).to_string()))
        })
        .collect())
}

/// One model's run: its plan, the attempt(s), and the answer read whole.
async fn one(
    state: &AppState,
    headers: &HeaderMap,
    principal: Option<std::sync::Arc<switchyard_tenants::Principal>>,
    model: String,
    body: Bytes,
) -> Value {
    let started = Instant::now();
    let result = async {
        let peeked = peek(&body, Required::Messages).map_err(|e| GatewayError::BadRequest {
            message: e.message,
            param: e.param,
        })?;
        // Each model is compared as named: a route header would send them all the same way.
        let mut own = headers.clone();
        own.remove(route::CONFIG_HEADER);
        // The caller's key decides here as on every other path: its models, its workspace's
        // credentials and its end users.
        crate::auth::check_model(principal.as_deref(), &peeked.model)?;
        let plan = route::plan(state, &own, &peeked.model, principal.as_deref())?;
        let trace = crate::ids::TraceContext::from_header(headers.get("traceparent"));
        let mut ctx = RequestCtx::new(new_request_id(), trace, Operation::ChatCompletions);
        if state.tenants.get().is_some() {
            ctx.end_user = crate::auth::end_user(headers, peeked.end_user.as_deref());
            if let Some(id) = &ctx.end_user {
                crate::auth::check_end_user(state, principal.as_deref(), id)?;
            }
        }
        ctx.caller = principal.as_ref().map(|p| p.key_name.clone());
        ctx.principal = principal;
        ctx.metadata = route::metadata_map(headers)?;
        // Each model's run counts against the caller's limits like any request.
        crate::limits::admit(state, &mut ctx, &peeked, body.len(), &plan).await?;
        let inc = route::attempt::Incoming {
            headers,
            body: &body,
            peeked: &peeked,
            required: Required::Messages,
        };
        let resp = match route::run(state, &mut ctx, inc, plan).await {
            Ok(r) => r,
            Err(e) => {
                if let Some(a) = ctx.admitted.take() {
                    crate::limits::release(state, a);
                }
                return Err(e);
            }
        };
        let target = resp
            .headers()
            .get("x-switchyard-target")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map(|c| c.to_bytes())
            .map_err(|e| GatewayError::UpstreamProtocol {
                provider: model.clone(),
                detail: format!("answer broke off: {e}"),
            })?;
        // The whole answer is read: charge what it used (its reservation is released if not).
        crate::limits::settle_before_answer(state, &mut ctx).await;
        if let Some(a) = ctx.admitted.take() {
            crate::limits::release(state, a);
        }
        Ok::<_, GatewayError>((target, bytes))
    }
    .await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    match result {
        Ok((target, bytes)) => {
            let response: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let usage = response.get("usage").cloned().unwrap_or(Value::Null);
            let cost = target.as_deref().and_then(|t| cost_usd(state, t, &usage));
            json!({"model": model, "target": target, "status": 200, "latency_ms": latency_ms,
                "usage": usage, "cost_usd": cost, "response": response})
        }
        Err(e) => {
            let status = e.classify().status.as_u16();
            json!({"model": model, "status": status, "latency_ms": latency_ms,
                "usage": null, "error": e.to_openai()})
        }
    }
}

/// What `usage` cost on `target` (`provider/model`), when the model catalog prices it.
fn cost_usd(state: &AppState, target: &str, usage: &Value) -> Option<f64> {
    let r = state.router.index.resolve(target).ok()?;
    state.cost(
        r.provider,
        r.model,
        &switchyard_providers::usage::Usage::from_chat(usage),
    )
}

/// Runs the comparison.
pub async fn compare(
    state: &AppState,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, GatewayError> {
    let principal = caller(state, headers).await?;
    let runs = requests(&body, state.cfg.limits.max_model_name_bytes)?
        .into_iter()
        .map(|(model, body)| one(state, headers, principal.clone(), model, body));
    let results = futures_util::future::join_all(runs).await;
    let out = json!({"object": "comparison", "results": results});
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        out.to_string(),
    )
        .into_response())
}
