//! Experiments around the request path: which subject a request is assigned by, the adaptive
//! allocations (recomputed from the request log and feedback every 10 s on each replica, and
//! whenever results are read: every replica reads the same log, so they agree), the results,
//! and concluding an experiment once its winner is clear (one audited change).

use crate::context::RequestCtx;
use crate::error::GatewayError;
use crate::state::{AppState, Gateway};
use arc_swap::ArcSwap;
use http::HeaderMap;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use switchyard_prompts::experiment::stats::{analyse, Arm, Outcome, Rule};
use switchyard_prompts::experiment::{ExperimentDoc, Metric, Mode, Status, Unit};

/// Adaptive experiments' allocations, by `workspace/id`.
#[derive(Default)]
pub struct Allocations(ArcSwap<HashMap<String, Vec<f64>>>);

fn key(e: &ExperimentDoc) -> String {
    format!("{}/{}", e.workspace, e.id)
}

impl Allocations {
    /// The weights a request is assigned with: the winner's alone once concluded; an adaptive
    /// experiment's latest allocation; else the configured split.
    pub fn weights(&self, e: &ExperimentDoc) -> Vec<f64> {
        if e.status == Status::Concluded {
            if let Some(w) = &e.winner {
                return e
                    .variants
                    .iter()
                    .map(|v| f64::from(u8::from(&v.name == w)))
                    .collect();
            }
        }
        if e.mode == Mode::Adaptive {
            if let Some(w) = self
                .0
                .load()
                .get(&key(e))
                .filter(|w| w.len() == e.variants.len())
            {
                return w.clone();
            }
        }
        e.weights()
    }

    fn set(&self, e: &ExperimentDoc, w: Vec<f64>) {
        let k = key(e);
        self.0.rcu(|m| {
            let mut m = HashMap::clone(m);
            m.insert(k.clone(), w.clone());
            m
        });
    }
}

/// The subject a request is assigned by: the experiment's unit, else the key, else the request.
pub fn subject(
    e: &ExperimentDoc,
    headers: &HeaderMap,
    body: &Map<String, Value>,
    ctx: &RequestCtx,
) -> String {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let meta = |field: &str| {
        header(crate::route::METADATA_HEADER)
            .and_then(|m| serde_json::from_str::<Value>(&m).ok())
            .and_then(|m| m.get(field).and_then(Value::as_str).map(str::to_owned))
    };
    let own = match e.unit {
        Unit::EndUser => header(crate::auth::END_USER_HEADER)
            .or_else(|| body.get("user").and_then(Value::as_str).map(str::to_owned))
            .or_else(|| {
                body.get("metadata")
                    .and_then(|m| m.get("user_id"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .map(|u| format!("user:{u}")),
        Unit::Session => header(SESSION_HEADER)
            .or_else(|| meta("session_id"))
            .or_else(|| {
                // A caller propagating one W3C trace through a session: the trace is the session.
                ctx.trace
                    .parent_id
                    .map(|_| format!("{:032x}", ctx.trace.trace_id))
            })
            .map(|s| format!("session:{s}")),
        Unit::Key => None,
    };
    own.or_else(|| {
        ctx.principal.as_ref().map(|p| {
            format!(
                "key:{}",
                p.key_id.clone().unwrap_or_else(|| p.key_name.clone())
            )
        })
    })
    .unwrap_or_else(|| format!("request:{}", ctx.request_id.to_str().unwrap_or_default()))
}

/// An experiment on the route (or model) a request names: the variant's model and parameters
/// replace the request's. `None` when no experiment runs on it (the body is unchanged); the
/// cost without route experiments is one lookup in an empty map.
pub fn route(
    state: &AppState,
    ctx: &mut RequestCtx,
    headers: &HeaderMap,
    body: &bytes::Bytes,
    model: &str,
) -> Result<Option<bytes::Bytes>, GatewayError> {
    let Some(p) = crate::prompts::catalog(state) else {
        return Ok(None);
    };
    let workspace = ctx
        .principal
        .as_ref()
        .map_or(switchyard_tenants::model::DEFAULT_WORKSPACE, |p| {
            p.workspace.as_str()
        });
    let Some(e) = p.catalog.route_experiment(workspace, model) else {
        return Ok(None);
    };
    let Ok(Value::Object(mut obj)) = serde_json::from_slice::<Value>(body) else {
        return Ok(None);
    };
    let subject = subject(e, headers, &obj, ctx);
    let weights = state.experiment_alloc.weights(e);
    let Some(v) = switchyard_prompts::experiment::assign(&e.id, &subject, &weights)
        .and_then(|i| e.variants.get(i))
    else {
        return Ok(None);
    };
    if let Some(m) = &v.model {
        obj.insert("model".into(), Value::String(m.clone()));
    }
    for (k, val) in &v.params {
        obj.insert(k.clone(), val.clone());
    }
    ctx.route_experiment = Some((e.id.clone(), v.name.clone()));
    serde_json::to_vec(&obj)
        .map(|b| Some(bytes::Bytes::from(b)))
        .map_err(|err| GatewayError::Internal {
            detail: err.to_string(),
        })
}

/// The header naming a session, for experiments whose unit is the session.
pub const SESSION_HEADER: &str = "x-switchyard-session-id";

fn seed_of(e: &ExperimentDoc, n: u64) -> u64 {
    let p = switchyard_prompts::experiment::point(&e.id, &n.to_string());
    (p * (u64::MAX as f64)) as u64
}

/// An experiment's results from the request log and feedback; adaptive allocations are updated
/// and a running experiment with a clear winner is concluded.
pub async fn results(state: &AppState, e: &ExperimentDoc) -> Result<Value, GatewayError> {
    let store = crate::admin::logs::store(state).await?;
    let unavailable =
        |err: switchyard_store::StoreError| GatewayError::StoreUnavailable { detail: err.0 };
    let rows = store
        .experiment_rows(&e.id, e.started_ms)
        .await
        .map_err(unavailable)?;
    let feedback = store
        .feedback_since(e.started_ms)
        .await
        .map_err(unavailable)?;
    // Which variant each request (or session) had.
    let by_session = e.unit == Unit::Session;
    let mut variant_of: HashMap<&str, &str> = HashMap::new();
    for r in &rows {
        let k = if by_session {
            r.trace_id.as_str()
        } else {
            r.request_id.as_str()
        };
        variant_of.insert(k, r.variant.as_str());
        if by_session {
            // Feedback on one request of the session counts for the session.
            variant_of.insert(r.request_id.as_str(), r.variant.as_str());
        }
    }
    let session_of: HashMap<&str, &str> = rows
        .iter()
        .map(|r| (r.request_id.as_str(), r.trace_id.as_str()))
        .collect();
    // One observation per request (or session): its latest score.
    let mut observed: HashMap<String, (String, f64)> = HashMap::new();
    for f in &feedback {
        let Some(score) = f.score else {
            continue;
        };
        let unit_key = match (by_session, f.request_id.as_deref(), f.trace_id.as_deref()) {
            (true, Some(r), _) => session_of.get(r).map(|s| (*s).to_owned()),
            (true, None, Some(t)) => Some(t.to_owned()),
            (false, Some(r), _) => Some(r.to_owned()),
            _ => None,
        };
        let Some(k) = unit_key else {
            continue;
        };
        let Some(v) = variant_of.get(k.as_str()) else {
            continue;
        };
        let x = match e.metric {
            Metric::Rate => f64::from(u8::from(score > 0.0)),
            Metric::Mean => score,
        };
        observed.insert(k, ((*v).to_owned(), x));
    }
    let mut arms: Vec<Arm> = e.variants.iter().map(|v| Arm::new(&v.name)).collect();
    for (v, x) in observed.values() {
        if let Some(a) = arms.iter_mut().find(|a| &a.name == v) {
            a.add(*x);
        }
    }
    let rule = Rule {
        outcome: match e.metric {
            Metric::Rate => Outcome::Rate,
            Metric::Mean => Outcome::Mean,
        },
        confidence: e.confidence,
        floor: e.floor,
        min_samples: e.min_samples,
    };
    let total: u64 = arms.iter().map(|a| a.n).sum();
    let r = analyse(&arms, &rule, seed_of(e, total));
    if e.mode == Mode::Adaptive && e.status == Status::Running {
        state
            .experiment_alloc
            .set(e, r.variants.iter().map(|v| v.allocation).collect());
    }
    if let (Some(w), Status::Running) = (&r.winner, e.status) {
        conclude(state, e, w).await;
    }
    let variants: Vec<Value> = r
        .variants
        .iter()
        .map(|v| {
            let mine: Vec<&switchyard_store::scan::ExperimentRow> =
                rows.iter().filter(|row| row.variant == v.name).collect();
            let mut lat: Vec<f64> = mine.iter().map(|row| row.latency_ms).collect();
            let p = switchyard_store::analytics::percentiles(&mut lat);
            let errors = mine.iter().filter(|row| row.status >= 400).count();
            let cost: f64 = mine.iter().map(|row| row.cost_usd).sum();
            let mut out = serde_json::to_value(v).unwrap_or(Value::Null);
            out["requests"] = json!(mine.len());
            out["error_rate"] = json!(if mine.is_empty() {
                0.0
            } else {
                errors as f64 / mine.len() as f64
            });
            out["cost_usd"] = json!(cost);
            out["latency_ms"] = json!({"p50": p.p50, "p95": p.p95});
            out
        })
        .collect();
    Ok(json!({
        "object": "experiment_results",
        "experiment": e.id,
        "workspace": e.workspace,
        "metric": e.metric,
        "mode": e.mode,
        "status": if r.winner.is_some() && e.status == Status::Running { Status::Concluded } else { e.status },
        "winner": r.winner.clone().or_else(|| e.winner.clone()),
        "confidence": e.confidence,
        "observations": total,
        "variants": variants,
        "weights": state.experiment_alloc.weights(e),
    }))
}

/// Records the winner (once; replicas that reach it at the same time write the same thing).
async fn conclude(state: &AppState, e: &ExperimentDoc, winner: &str) {
    let Some(t) = state.tenants.get() else {
        return;
    };
    let mut done = e.clone();
    done.status = Status::Concluded;
    done.winner = Some(winner.to_owned());
    done.updated_ms = switchyard_tenants::now_ms();
    let actor = switchyard_tenants::admin::Actor {
        name: "switchyard:experiments".into(),
        ..Default::default()
    };
    let rec = switchyard_tenants::model::ExperimentRecord {
        workspace: e.workspace.clone(),
        id: e.id.clone(),
        doc: serde_json::to_value(&done).unwrap_or(Value::Null),
    };
    if let Err(err) = t
        .change_prompts(
            &actor,
            "experiment.conclude",
            format!("experiment:{}/{}", e.workspace, e.id),
            &e.workspace,
            serde_json::to_value(e).ok(),
            serde_json::to_value(&done).ok(),
            vec![switchyard_tenants::store::Change::PutExperiment(rec)],
        )
        .await
    {
        tracing::warn!(experiment = %e.id, error = %err, "recording an experiment's winner failed");
    }
}

/// Every 10 s: the running adaptive experiments' results, which move their allocations and
/// conclude them when a winner is clear.
pub async fn allocator(gateway: Gateway, mut closing: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            changed = closing.changed() => {
                if changed.is_err() || *closing.borrow() {
                    return;
                }
                continue;
            }
        }
        let state = gateway.load();
        let Some(p) = crate::prompts::catalog(&state) else {
            continue;
        };
        let running: Vec<Arc<ExperimentDoc>> = p
            .catalog
            .experiments()
            .filter(|e| e.mode == Mode::Adaptive && e.status == Status::Running)
            .cloned()
            .collect();
        for e in running {
            if let Err(err) = results(&state, &e).await {
                tracing::debug!(experiment = %e.id, error = %err, "experiment results unavailable");
            }
        }
    }
}
