//! Calls the gateway makes to itself (a guardrail judge's chat, embeddings for a similarity
//! check or the semantic cache): through the routing of the model or route named (its targets,
//! retries and fallbacks), on the caller's behalf (its key's limits and budgets count the call),
//! with no guardrails and no cache of their own (the call's context has no policies and never
//! reaches the cache stage, so nothing recurses) and no client key asked. Each is a request of
//! its own in the log, with the caller's request id, a span under the caller's, and a metadata
//! field naming what made it (`guardrail: policy/check`, `cache: semantic`).

use crate::context::RequestCtx;
use crate::error::GatewayError;
use crate::ids::TraceContext;
use crate::route::{self, attempt::Incoming, Plan};
use crate::state::AppState;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use switchyard_providers::Operation;
use switchyard_wire::peek::{peek, Required};

/// Who a call-out is made for.
pub(crate) struct Caller {
    pub request_id: HeaderValue,
    pub trace: TraceContext,
    pub span_id: u64,
    pub principal: Option<Arc<switchyard_tenants::Principal>>,
    pub key_name: Option<String>,
    pub end_user: Option<String>,
}

impl Caller {
    pub fn of(ctx: &RequestCtx) -> Caller {
        Caller {
            request_id: ctx.request_id.clone(),
            trace: ctx.trace,
            span_id: ctx.span_id,
            principal: ctx.principal.clone(),
            key_name: ctx.caller.clone(),
            end_user: ctx.end_user.clone(),
        }
    }
}

/// An internal call's answer (in OpenAI's shape for `op`), and what it used: model, tokens,
/// cost.
pub(crate) struct Answer {
    pub body: Value,
    pub usage: Value,
}

/// A boxed future: the route's attempts run output guardrails, which make call-outs like this
/// one, so the future's type would contain itself.
type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Sends `body` (an `op` request in OpenAI's shape) to `model` through the gateway's own
/// routing; `mark` (a metadata field and value, e.g. `("guardrail", "policy/check")`) marks
/// its record.
pub(crate) fn call<'a>(
    state: &'a AppState,
    who: &'a Caller,
    op: Operation,
    model: &'a str,
    body: &'a Value,
    mark: (&'a str, &'a str),
) -> Boxed<'a, Result<Answer, String>> {
    Box::pin(call_inner(state, who, op, model, body, mark))
}

async fn call_inner(
    state: &AppState,
    who: &Caller,
    op: Operation,
    model: &str,
    body: &Value,
    mark: (&str, &str),
) -> Result<Answer, String> {
    use http_body_util::BodyExt;
    let required = match op {
        Operation::Embeddings => Required::Input,
        _ => Required::Messages,
    };
    let bytes = Bytes::from(body.to_string());
    let peeked = peek(&bytes, required).map_err(|e| e.message)?;
    let trace = TraceContext {
        trace_id: who.trace.trace_id,
        parent_id: Some(who.span_id),
        flags: who.trace.flags,
    };
    let mut ctx = RequestCtx::new(who.request_id.clone(), trace, op);
    ctx.principal = who.principal.clone();
    ctx.caller = who.key_name.clone();
    ctx.end_user = who.end_user.clone();
    ctx.requested_model = Some(model.to_owned());
    ctx.metadata.insert(mark.0.into(), json!(mark.1));
    let headers = HeaderMap::new();
    let sent = async {
        let plan = route::plan(state, &headers, model, ctx.principal.as_deref())?;
        if matches!(plan, Plan::Tree { .. }) {
            ctx.route = Some(model.to_owned());
        }
        crate::limits::admit(state, &mut ctx, &peeked, bytes.len(), &plan).await?;
        let inc = Incoming {
            headers: &headers,
            body: &bytes,
            peeked: &peeked,
            required,
        };
        let resp = route::run(state, &mut ctx, inc, plan).await?;
        let status = resp.status();
        let read = http_body_util::Limited::new(resp.into_body(), 8 << 20)
            .collect()
            .await
            .map_err(|e| GatewayError::Internal {
                detail: format!("reading an internal answer: {e}"),
            })?
            .to_bytes();
        Ok::<_, GatewayError>((status, read))
    }
    .await;
    let (status, error, answer) = match sent {
        Ok((status, read)) => {
            let v = serde_json::from_slice::<Value>(&read)
                .map_err(|e| format!("{model}'s answer is not JSON: {e}"));
            (status.as_u16(), None, v)
        }
        Err(e) => {
            let m = e.to_string();
            (e.classify().status.as_u16(), Some(m.clone()), Err(m))
        }
    };
    let usage = used(state, &ctx);
    crate::observe::finish::record_internal(state, ctx, status, error);
    Ok(Answer {
        body: answer?,
        usage,
    })
}

/// The last attempt's model, tokens and cost.
fn used(state: &AppState, ctx: &RequestCtx) -> Value {
    let Some(a) = ctx.attempts.last() else {
        return Value::Null;
    };
    let model = state
        .upstreams
        .get(a.provider)
        .map(|u| format!("{}/{}", u.name, a.model))
        .unwrap_or_else(|| a.model.clone());
    match a.meter.read().usage {
        Some(u) => json!({"model": model, "input_tokens": u.input, "output_tokens": u.output,
            "cost_usd": state.cost(a.provider, &a.model, &u)}),
        None => json!({"model": model}),
    }
}

/// The `n` vectors of an embeddings answer (OpenAI's shape), in input order.
pub(crate) fn vectors(body: &Value, n: usize) -> Result<Vec<Vec<f32>>, String> {
    let data = body
        .get("data")
        .and_then(Value::as_array)
        .ok_or("the embeddings answer has no data")?;
    let mut out = vec![Vec::new(); n];
    for (k, d) in data.iter().enumerate() {
        let i = d
            .get("index")
            .and_then(Value::as_u64)
            .map_or(k, |i| i as usize);
        let v: Vec<f32> = d
            .get("embedding")
            .and_then(Value::as_array)
            .ok_or("an embedding is not a list of numbers")?
            .iter()
            .map(|x| x.as_f64().unwrap_or(0.0) as f32)
            .collect();
        match out.get_mut(i) {
            Some(slot) => *slot = v,
            None => {
                return Err(format!(
                    "the embeddings answer has an index {i} out of range"
                ))
            }
        }
    }
    if out.iter().any(Vec::is_empty) {
        return Err(format!(
            "the embeddings answer has fewer than the {n} vectors asked"
        ));
    }
    Ok(out)
}
