//! The limits stage (`switchyard_limits::gate`): the request's worst case reserved against
//! every limit it meets, OpenAI's `x-ratelimit-*` headers on the answer, and the settlement of
//! what it used when it ends (called from `observe::finish`, on every exit).

pub mod alerts;

use crate::context::RequestCtx;
use crate::error::GatewayError;
use crate::route::Plan;
use crate::state::AppState;
use http::{HeaderMap, HeaderName, HeaderValue};
use std::sync::Arc;
use switchyard_limits::gate::{Admitted, Estimate, Refusal, Request, Used};
use switchyard_limits::ledger::LineState;
use switchyard_limits::model::{Dimension, Window};
use switchyard_providers::usage::Usage;
use switchyard_providers::Operation;
use switchyard_wire::peek::Peek;

/// Prompt bytes per token assumed for the worst case: fewer than the usual four characters a
/// token, so that JSON syntax, non-English text and tool definitions are covered.
const BYTES_PER_TOKEN: usize = 3;

/// Micro-seconds since the epoch.
pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// The provider index and model the request goes to first.
fn first_target(plan: &Plan<'_>) -> Option<(usize, String)> {
    match plan {
        Plan::Direct { provider, model } => Some((*provider, (*model).to_owned())),
        Plan::Tree { tree, .. } => tree
            .targets()
            .first()
            .map(|t| (t.provider, t.model.clone())),
    }
}

/// The request's worst case: its prompt from the body's size, its answer from `max_tokens`
/// (or the model's maximum, or the configured default), at the catalog's price.
fn estimate(
    state: &AppState,
    op: Operation,
    peeked: &Peek,
    body_len: usize,
    target: Option<&(usize, String)>,
) -> Estimate {
    let input_tokens = body_len.div_ceil(BYTES_PER_TOKEN) as u64;
    let entry = target.and_then(|(p, m)| {
        let ns = state.cfg.providers.get(*p)?.catalog_namespace();
        state.cfg.catalog.lookup(ns, m).map(|(_, e)| e)
    });
    let model_max = entry.and_then(|e| e.max_output);
    let output_tokens = if op == Operation::Embeddings {
        0
    } else {
        match (peeked.max_output, model_max) {
            (Some(asked), Some(max)) => asked.min(max),
            (Some(asked), None) => asked,
            (None, Some(max)) => max,
            (None, None) => state.cfg.limit_rules.default_max_output_tokens,
        }
    };
    let cost_micros = target.and_then(|(p, m)| {
        let usage = Usage {
            input: input_tokens,
            output: output_tokens,
            ..Usage::default()
        };
        state
            .cost(*p, m, &usage)
            .map(|usd| (usd * switchyard_limits::model::MICROS).ceil() as u64)
    });
    Estimate {
        input_tokens,
        output_tokens,
        cost_micros,
    }
}

/// Reserves the request's worst case against every limit it meets; refuses it (429, 402,
/// 503) when one is exhausted. The reservation goes on the context for `settle`.
pub async fn admit(
    state: &AppState,
    ctx: &mut RequestCtx,
    peeked: &Peek,
    body_len: usize,
    plan: &Plan<'_>,
) -> Result<(), GatewayError> {
    let gate = &state.limits;
    let api = api_limits(state);
    let extra: &[Arc<switchyard_limits::model::Limit>] = api.as_ref().map_or(&[], |a| &a.1);
    if gate.rules().is_empty() && extra.is_empty() {
        return Ok(());
    }
    let target = first_target(plan);
    let provider = target
        .as_ref()
        .and_then(|(p, _)| state.upstreams.get(*p))
        .map(|u| u.name.as_str());
    let target_key = target
        .as_ref()
        .and_then(|(p, m)| Some(format!("{}/{m}", state.upstreams.get(*p)?.name)));
    let tags: Vec<String> = ctx
        .metadata
        .get("tags")
        .and_then(serde_json::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let p = ctx.principal.as_deref();
    let request = Request {
        workspace: p.map(|p| p.workspace.as_str()),
        key: p.map(|p| p.key_id.as_deref().unwrap_or(p.key_name.as_str())),
        user: None,
        end_user: ctx.end_user.as_deref(),
        tags: &tags,
        metadata: Some(&ctx.metadata),
        model: &peeked.model,
        target: target_key.as_deref(),
        provider,
    };
    let est = estimate(state, ctx.op, peeked, body_len, target.as_ref());
    match gate.admit(&request, extra, &est, now_us()).await {
        Ok(admitted) => {
            if let Some(a) = &admitted {
                ctx.limit_headers = headers(a);
                for ((m, st), line) in a.met.iter().zip(&a.states).zip(&a.lines) {
                    let taken = i64::try_from(st.amount).unwrap_or(i64::MAX) - st.remaining;
                    alerts::check(state, &m.limit, &m.scope_value, &line.counter, taken, st.reset_us);
                }
            }
            ctx.admitted = admitted;
            Ok(())
        }
        Err(Refusal::Limited {
            met,
            counter,
            denied,
        }) => {
            let l = &met.limit;
            // A budget that refuses is at (at least) all of its amount.
            let full = i64::try_from(l.amount).unwrap_or(i64::MAX);
            alerts::check(state, l, &met.scope_value, &counter, full, denied.reset_us);
            let budget = matches!(l.window, Window::Calendar(_)) && l.dimension != Dimension::Concurrent
                || denied.too_large && l.dimension.is_spend();
            let amount = shown(l.dimension, l.amount);
            let resets = duration_text(denied.reset_us);
            let message = if denied.too_large {
                format!(
                    "This request's worst case is more than limit '{}' allows at all ({amount} {} per {} for {}). Lower max_tokens or the prompt.",
                    l.id,
                    unit(l.dimension),
                    l.window,
                    l.scope_for(&met.scope_value)
                )
            } else if budget {
                format!(
                    "Budget '{}' is used up: {amount} {} per {} for {}. It resets in {resets}.",
                    l.id,
                    unit(l.dimension),
                    l.window,
                    l.scope_for(&met.scope_value)
                )
            } else {
                format!(
                    "Rate limit '{}' reached: {amount} {} per {} for {}. Try again in {}.",
                    l.id,
                    unit(l.dimension),
                    if l.dimension == Dimension::Concurrent { "moment".to_string() } else { l.window.to_string() },
                    l.scope_for(&met.scope_value),
                    duration_text(denied.retry_after_us.unwrap_or(denied.reset_us))
                )
            };
            ctx.limit_headers = refused_headers(l.dimension, l.amount, denied.reset_us);
            Err(GatewayError::LimitExceeded {
                message,
                budget,
                kind: if matches!(l.dimension, Dimension::Requests | Dimension::Concurrent) {
                    "requests"
                } else {
                    "tokens"
                },
                retry_after: denied
                    .retry_after_us
                    .or((!budget).then_some(denied.reset_us))
                    .map(|us| std::time::Duration::from_micros(u64::try_from(us).unwrap_or(0))),
            })
        }
        Err(Refusal::Unpriced { met }) => Err(GatewayError::LimitExceeded {
            message: format!(
                "Cost limit '{}' applies to this request and the model has no price in the catalog; the gateway is set to refuse such requests (limits.unpriced: deny).",
                met.limit.id
            ),
            budget: true,
            kind: "tokens",
            retry_after: None,
        }),
        Err(Refusal::Store { met, error }) => {
            tracing::warn!(limit = %met.limit.id, %error, "limits store unavailable; refusing a request under a cost or token limit");
            Err(GatewayError::LimitsUnavailable)
        }
    }
}

/// The limits set through the admin API, resolved (once per tenants' snapshot version). A
/// stored spec that no longer resolves is left out with a warning.
pub fn api_limits(
    state: &AppState,
) -> Option<Arc<(u64, Vec<Arc<switchyard_limits::model::Limit>>)>> {
    let t = state.tenants.get()?;
    let snap = t.snapshot();
    if let Some(c) = state.api_limits.load_full().filter(|c| c.0 == snap.version) {
        return Some(c);
    }
    let resolved: Vec<Arc<switchyard_limits::model::Limit>> = snap
        .limits()
        .filter_map(|r| {
            let raw: switchyard_limits::model::RawLimit =
                serde_json::from_value(r.spec.clone()).ok()?;
            match raw.resolve() {
                Ok(l) => Some(Arc::new(l)),
                Err((field, e)) => {
                    tracing::warn!(limit = %r.id, field, error = %e, "a stored limit does not resolve; left out");
                    None
                }
            }
        })
        .collect();
    let made = Arc::new((snap.version, resolved));
    state.api_limits.store(Some(Arc::clone(&made)));
    Some(made)
}

/// A limit's amount as people write it (dollars for cost).
fn shown(d: Dimension, amount: u64) -> String {
    if d == Dimension::CostUsd {
        format!("${:.2}", amount as f64 / switchyard_limits::model::MICROS)
    } else {
        amount.to_string()
    }
}

fn unit(d: Dimension) -> &'static str {
    match d {
        Dimension::Requests => "requests",
        Dimension::InputTokens => "input tokens",
        Dimension::OutputTokens => "output tokens",
        Dimension::TotalTokens => "tokens",
        Dimension::CostUsd => "USD",
        Dimension::Concurrent => "requests at once",
    }
}

/// A duration as OpenAI writes its resets: `20ms`, `1.5s`, `6m0s`, `2h3m0s`, `3d4h0m0s`.
pub fn duration_text(us: i64) -> String {
    let us = us.max(0);
    if us < 1_000_000 {
        return format!("{}ms", (us + 999) / 1000);
    }
    let total_ms = (us + 999) / 1000;
    let (days, rest) = (total_ms / 86_400_000, total_ms % 86_400_000);
    let (h, rest) = (rest / 3_600_000, rest % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let s = rest as f64 / 1000.0;
    let secs = if (s.fract()).abs() < f64::EPSILON {
        format!("{}s", s as u64)
    } else {
        let t = format!("{s:.3}");
        format!("{}s", t.trim_end_matches('0').trim_end_matches('.'))
    };
    match (days, h, m) {
        (0, 0, 0) => secs,
        (0, 0, m) => format!("{m}m{secs}"),
        (0, h, m) => format!("{h}h{m}m{secs}"),
        (d, h, m) => format!("{d}d{h}h{m}m{secs}"),
    }
}

/// OpenAI's headers for the tightest request limit and the tightest token limit met.
fn headers(a: &Admitted) -> Vec<(HeaderName, HeaderValue)> {
    let pick = |requests: bool| -> Option<(u64, &LineState)> {
        a.met
            .iter()
            .zip(&a.states)
            .filter(|(m, _)| {
                let d = m.limit.dimension;
                if requests {
                    d == Dimension::Requests
                } else {
                    matches!(
                        d,
                        Dimension::InputTokens | Dimension::OutputTokens | Dimension::TotalTokens
                    )
                }
            })
            .min_by_key(|(_, s)| s.remaining)
            .map(|(m, s)| (m.limit.amount, s))
    };
    let mut out = Vec::new();
    for (requests, suffix) in [(true, "requests"), (false, "tokens")] {
        if let Some((amount, s)) = pick(requests) {
            push(&mut out, suffix, amount, s.remaining, s.reset_us);
        }
    }
    out
}

fn refused_headers(d: Dimension, amount: u64, reset_us: i64) -> Vec<(HeaderName, HeaderValue)> {
    let mut out = Vec::new();
    let suffix = match d {
        Dimension::Requests => "requests",
        Dimension::InputTokens | Dimension::OutputTokens | Dimension::TotalTokens => "tokens",
        Dimension::CostUsd | Dimension::Concurrent => return out,
    };
    push(&mut out, suffix, amount, 0, reset_us);
    out
}

fn push(
    out: &mut Vec<(HeaderName, HeaderValue)>,
    suffix: &str,
    amount: u64,
    remaining: i64,
    reset_us: i64,
) {
    let values = [
        ("limit", amount.to_string()),
        ("remaining", remaining.max(0).to_string()),
        ("reset", duration_text(reset_us)),
    ];
    for (what, v) in values {
        let name = format!("x-ratelimit-{what}-{suffix}");
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            out.push((n, v));
        }
    }
}

/// Puts the limits' headers on an answer (before a stream's first byte: the head goes first).
pub fn add_headers(ctx: &RequestCtx, h: &mut HeaderMap) {
    for (n, v) in &ctx.limit_headers {
        h.insert(n.clone(), v.clone());
    }
}

/// Settles a whole (not streamed) answer before it is sent, awaiting the store: its usage is
/// in the last attempt's meter. `ctx.admitted` is taken, so the request's end settles nothing
/// more; without a usage reading it is left for the end.
pub async fn settle_before_answer(state: &AppState, ctx: &mut RequestCtx) {
    let Some(last) = ctx.attempts.last() else {
        return;
    };
    let Some(usage) = last.meter.read().usage else {
        return;
    };
    let Some(a) = ctx.admitted.take() else {
        return;
    };
    let cost = state.cost(last.provider, &last.model, &usage);
    let used = Used {
        input_tokens: usage.input,
        output_tokens: usage.output,
        cost_micros: cost.map(|c| (c * switchyard_limits::model::MICROS).ceil() as u64),
    };
    if let Err(e) = state.limits.settle(&a, &used, now_us()).await {
        tracing::warn!(error = %e, reservation = %a.id, "settling a request's limits failed; its reservation expires instead");
    }
}

/// Gives back a reservation whose request used nothing that can be read (off the request path).
pub fn release(state: &AppState, a: Admitted) {
    let gate = Arc::clone(&state.limits);
    tokio::spawn(async move {
        let _ = gate.settle(&a, &Used::default(), now_us()).await;
    });
}

/// Settles an admitted request: what it used (the last attempt's usage and cost) when its answer
/// came whole; for an answer that started and was cut (the caller left, the upstream broke),
/// what it may have used at most: its whole reservation, or the usage read so far where that is
/// more (a partial reading such as Anthropic's `message_start` counts the input only); nothing
/// for a request that got no answer. Off the request path.
pub fn settle(
    state: &AppState,
    admitted: Option<Admitted>,
    usage: Option<Usage>,
    cost: Option<f64>,
    answered: bool,
    complete: bool,
) {
    let Some(a) = admitted else {
        return;
    };
    let gate = Arc::clone(&state.limits);
    let used = match usage {
        Some(u) => {
            let read = Used {
                input_tokens: u.input,
                output_tokens: u.output,
                cost_micros: cost.map(|c| (c * switchyard_limits::model::MICROS).ceil() as u64),
            };
            if complete {
                read
            } else {
                read.at_least(&Used::whole(&a))
            }
        }
        None if answered => Used::whole(&a),
        None => Used::default(),
    };
    tokio::spawn(async move {
        if let Err(e) = gate.settle(&a, &used, now_us()).await {
            tracing::warn!(error = %e, reservation = %a.id, "settling a request's limits failed; its reservation expires instead");
        }
    });
}
