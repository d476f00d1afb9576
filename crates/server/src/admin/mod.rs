//! Admin endpoints, behind admin keys (separate from client keys): route targets' health as JSON
//! (`GET /admin/health`), Prometheus metrics (`GET /metrics`), and the request log (`logs`).

pub mod cache;
pub mod datasets;
pub mod experiments;
pub mod guardrails;
pub mod limits;
pub mod logs;
mod params;
pub mod playground;
pub mod prompts;
pub mod tenants;

use crate::auth::authenticate;
use crate::error::GatewayError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::header;
use serde_json::Value;
use std::fmt::Write;
use std::sync::Arc;

/// Who an admin caller is and may be: a bootstrap admin key from the config (the organisation's
/// owner), an admin key made through the API (its user's roles), or a JWT from the identity
/// provider (the roles its claims name). Without a bootstrap key or JWT admins configured,
/// admin endpoints are off.
pub(crate) async fn access(
    state: &AppState,
    headers: &http::HeaderMap,
) -> Result<switchyard_tenants::access::Access, GatewayError> {
    let jwt = state.jwt.as_ref().filter(|j| j.admins);
    if state.cfg.admin_keys.is_empty() && jwt.is_none() {
        return Err(GatewayError::Unauthorized {
            message:
                "Admin endpoints are off: configure server.admin_keys or SWITCHYARD_ADMIN_KEYS."
                    .into(),
        });
    }
    let presented = crate::auth::presented_str(headers);
    if let (Some(j), Some(token)) = (jwt, presented) {
        if switchyard_tenants::jwt::looks_like_jwt(token) {
            let verified = j.verify(token).await?;
            return Ok(switchyard_tenants::jwt::access(&verified.claims, &j.names));
        }
    }
    if let (Some(t), Some(key)) = (state.tenants.get(), presented) {
        match t.authenticate_admin(key) {
            Some(Ok(a)) => return Ok(a),
            Some(Err(_)) => {
                return Err(GatewayError::Unauthorized {
                    message: "Invalid API key.".into(),
                })
            }
            None => {}
        }
    }
    let name = authenticate(&state.cfg.admin_keys, headers)?.unwrap_or_default();
    Ok(switchyard_tenants::access::Access::owner(format!(
        "admin-key:{name}"
    )))
}

/// The request log, health and metrics: organisation admins and owners only (records are not
/// yet kept per workspace).
pub(crate) async fn admit(state: &AppState, headers: &http::HeaderMap) -> Result<(), GatewayError> {
    let a = access(state, headers).await?;
    if !a.org_admin() {
        return Err(GatewayError::Forbidden {
            message: "This needs an organisation admin.".into(),
            param: None,
        });
    }
    Ok(())
}

/// `GET /admin/v1/me`: who the caller is and the roles it holds (the console shows what they
/// reach; the API refuses the rest anyway).
pub async fn me(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let a = match access(&s, req.headers()).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let body = serde_json::json!({
        "object": "me",
        "actor": a.actor,
        "org_role": a.org,
        "org_admin": a.org_admin(),
        "workspaces": a.workspaces,
    });
    (
        [(http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// The admin API's OpenAPI document (docs/openapi.json, built in).
const OPENAPI: &str = include_str!("../../../../docs/openapi.json");

/// `GET /admin/v1/openapi.json`: any admin caller.
pub async fn openapi(State(s): State<Arc<AppState>>, req: Request) -> Response {
    if let Err(e) = access(&s, req.headers()).await {
        return e.into_response();
    }
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// `GET /admin/health`: every route target's circuit, load and latency.
pub async fn health(State(s): State<Arc<AppState>>, req: Request) -> Response {
    if let Err(e) = admit(&s, req.headers()).await {
        return e.into_response();
    }
    (
        [(header::CONTENT_TYPE, "application/json")],
        s.health.snapshot().to_string(),
    )
        .into_response()
}

/// `GET /admin/v1/models`: every model and route the gateway can send to, with the catalog's
/// prices, context windows and capabilities (`/v1/models`' listing, for admins).
pub async fn models(State(s): State<Arc<AppState>>, req: Request) -> Response {
    if let Err(e) = admit(&s, req.headers()).await {
        return e.into_response();
    }
    (
        [(header::CONTENT_TYPE, "application/json")],
        s.models.list.clone(),
    )
        .into_response()
}

/// A metric: name, type, help, and its value read from a target's snapshot.
type Series = (&'static str, &'static str, &'static str, fn(&Value) -> f64);

fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `GET /metrics`: the same in Prometheus' text format.
pub async fn metrics(State(s): State<Arc<AppState>>, req: Request) -> Response {
    if let Err(e) = admit(&s, req.headers()).await {
        return e.into_response();
    }
    let snapshot = s.health.snapshot();
    let targets = snapshot["targets"].as_array().cloned().unwrap_or_default();
    let mut out = String::new();
    let series: [Series; 5] = [
        (
            "switchyard_target_up",
            "gauge",
            "1 while a route target is in rotation, 0 while its circuit is open or half-open",
            |t| f64::from(u8::from(t["state"] == "closed")),
        ),
        (
            "switchyard_target_in_flight",
            "gauge",
            "Requests a route target is serving now",
            |t| t["in_flight"].as_f64().unwrap_or(0.0),
        ),
        (
            "switchyard_target_latency_seconds",
            "gauge",
            "Moving average of a route target's successful attempts",
            |t| t["latency_ms"].as_f64().unwrap_or(0.0) / 1000.0,
        ),
        (
            "switchyard_target_attempts_total",
            "counter",
            "Attempts on a route target that succeeded",
            |t| t["successes"].as_f64().unwrap_or(0.0),
        ),
        (
            "switchyard_target_failures_total",
            "counter",
            "Attempts on a route target that failed",
            |t| t["failures"].as_f64().unwrap_or(0.0),
        ),
    ];
    for (name, kind, help, value) in series {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for t in &targets {
            let target = label(t["target"].as_str().unwrap_or(""));
            let _ = writeln!(out, "{name}{{target=\"{target}\"}} {}", value(t));
        }
    }
    s.metrics.write(&mut out);
    queues(&s, &mut out);
    connections(&s, &mut out);
    memory(&mut out);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

/// Client connections.
fn connections(s: &AppState, out: &mut String) {
    use std::sync::atomic::Ordering::Relaxed;
    let c = &s.conns;
    let series: [(&str, &str, &str, u64); 6] = [
        (
            "switchyard_connections_open",
            "gauge",
            "Client connections open now",
            c.open.load(Relaxed),
        ),
        (
            "switchyard_connections_accepted_total",
            "counter",
            "Client connections accepted",
            c.accepted.load(Relaxed),
        ),
        (
            "switchyard_connections_cap_reached_total",
            "counter",
            "Times every client connection slot was taken (server.limits.max_connections)",
            c.cap_reached.load(Relaxed),
        ),
        (
            "switchyard_connections_header_timeout_total",
            "counter",
            "Client connections closed for not sending a request head in time",
            c.header_timeouts.load(Relaxed),
        ),
        (
            "switchyard_connections_idle_closed_total",
            "counter",
            "Keep-alive client connections closed after sitting idle",
            c.idle_closed.load(Relaxed),
        ),
        (
            "switchyard_connections_evicted_total",
            "counter",
            "Client connections with no request in progress closed to make room at the cap",
            c.evicted.load(Relaxed),
        ),
    ];
    unlabelled(out, &series);
}

/// The allocator's own account of memory (`observe::memory`). RSS above `resident` is code,
/// stacks and the kernel's view; `resident` well above `active` is freed memory not yet given
/// back. Only the trim counter is written when the statistics cannot be read.
fn memory(out: &mut String) {
    use crate::observe::memory;
    let h = memory::read();
    let trims = memory::TRIMS.load(std::sync::atomic::Ordering::Relaxed);
    let series: [(&str, &str, &str, Option<u64>); 6] = [
        (
            "switchyard_memory_allocated_bytes",
            "gauge",
            "Bytes the gateway holds in allocations now",
            h.map(|h| h.allocated),
        ),
        (
            "switchyard_memory_active_bytes",
            "gauge",
            "Bytes in the allocator's pages that hold allocations",
            h.map(|h| h.active),
        ),
        (
            "switchyard_memory_resident_bytes",
            "gauge",
            "Bytes the allocator keeps resident (allocations, its bookkeeping, freed pages not yet returned)",
            h.map(|h| h.resident),
        ),
        (
            "switchyard_memory_metadata_bytes",
            "gauge",
            "Bytes of the allocator's own bookkeeping",
            h.map(|h| h.metadata),
        ),
        (
            "switchyard_memory_retained_bytes",
            "gauge",
            "Address space the allocator keeps mapped but returned to the system (not resident)",
            h.map(|h| h.retained),
        ),
        (
            "switchyard_memory_trims_total",
            "counter",
            "Times freed memory was given back to the system after a burst",
            Some(trims),
        ),
    ];
    let present: Vec<(&str, &str, &str, u64)> = series
        .iter()
        .filter_map(|(n, k, h, v)| v.map(|v| (*n, *k, *h, v)))
        .collect();
    unlabelled(out, &present);
}

/// Writes series that have no labels: name, type, help, value.
fn unlabelled(out: &mut String, series: &[(&str, &str, &str, u64)]) {
    for (name, kind, help, v) in series {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
        );
    }
}

/// The request log's and the span exporter's queues.
fn queues(s: &AppState, out: &mut String) {
    use std::sync::atomic::Ordering::Relaxed;
    let log = &s.log;
    let gauges: [(&str, &str, &str, u64); 4] = [
        (
            "switchyard_log_queue_depth",
            "gauge",
            "Request records waiting to be written",
            log.depth() as u64,
        ),
        (
            "switchyard_log_shed_records_total",
            "counter",
            "Request records dropped because the log queue was full",
            log.shed.load(Relaxed),
        ),
        (
            "switchyard_log_written_records_total",
            "counter",
            "Request records written to the store",
            log.written.load(Relaxed),
        ),
        (
            "switchyard_log_failed_records_total",
            "counter",
            "Request records lost to store errors",
            log.failed.load(Relaxed),
        ),
    ];
    unlabelled(out, &gauges);
    if let Some(o) = &s.otel {
        let spans: [(&str, &str, &str, u64); 3] = [
            (
                "switchyard_trace_spans_exported_total",
                "counter",
                "Spans the OTLP collector accepted",
                o.exported.load(Relaxed),
            ),
            (
                "switchyard_trace_spans_shed_total",
                "counter",
                "Spans dropped because the export queue was full",
                o.shed.load(Relaxed),
            ),
            (
                "switchyard_trace_spans_failed_total",
                "counter",
                "Spans lost to export failures",
                o.failed.load(Relaxed),
            ),
        ];
        unlabelled(out, &spans);
    }
    let _ = writeln!(
        out,
        "# HELP switchyard_config_reloads_total Config reloads (SIGHUP or a changed file), applied or refused\n# TYPE switchyard_config_reloads_total counter\nswitchyard_config_reloads_total{{result=\"applied\"}} {}\nswitchyard_config_reloads_total{{result=\"refused\"}} {}",
        s.reloads.applied.load(Relaxed),
        s.reloads.refused.load(Relaxed)
    );
    if let Some(t) = s.tenants.get() {
        unlabelled(
            out,
            &[(
                "switchyard_tenant_usage_shed_total",
                "counter",
                "Key uses and end-user sightings not recorded because their queue was full",
                t.usage_shed.load(Relaxed),
            )],
        );
    }
    unlabelled(
        out,
        &[
            (
                "switchyard_budget_alerts_total",
                "counter",
                "Budget alerts raised (a budget reached a configured share of its amount)",
                s.alerts.raised.load(Relaxed),
            ),
            (
                "switchyard_budget_alert_webhook_failures_total",
                "counter",
                "Budget alerts the webhook did not accept",
                s.alerts.webhook_failures.load(Relaxed),
            ),
        ],
    );
    s.guard_metrics.write(out);
    s.cache_metrics.write(s.cache.as_deref(), out);
    unlabelled(
        out,
        &[(
            "switchyard_unpriced_requests_total",
            "counter",
            "Requests that used tokens of a model the catalog has no price for (cost_usd null)",
            s.unpriced.requests.load(Relaxed),
        )],
    );
    unlabelled(
        out,
        &[(
            "switchyard_limits_store_errors_total",
            "counter",
            "Calls to the limits' store (memory or Redis) that failed",
            s.limit_store_errors.load(Relaxed),
        )],
    );
    if let Some(j) = &s.jwt {
        unlabelled(
            out,
            &[(
                "switchyard_jwt_key_set_fetch_failures_total",
                "counter",
                "Fetches of the identity provider's JWT key set that failed",
                j.fetch_failures.load(Relaxed),
            )],
        );
    }
}
