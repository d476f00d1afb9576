//! Budget alerts: when a budget (a limit over a calendar window) reaches a configured share of
//! its amount (`limits.alerts.thresholds`, default 50, 80 and 100 percent), a warning in the log,
//! `switchyard_budget_alerts_total`, and a JSON POST to `limits.alerts.webhook_url` when set;
//! once per budget, period and threshold, across replicas sharing Redis (`LimitStore::once`).

use crate::state::AppState;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use switchyard_limits::model::{Limit, Window, MICROS};

/// Alerts raised and webhook deliveries that failed (metrics).
#[derive(Debug, Default)]
pub struct AlertCounts {
    pub raised: AtomicU64,
    pub webhook_failures: AtomicU64,
}

/// What an alert says.
struct Alert {
    limit: Arc<Limit>,
    scope_value: String,
    counter: String,
    threshold: u8,
    /// Taken (used and reserved) and the amount, in the limit's unit.
    taken: i64,
    reset_us: i64,
}

/// Checks a budget's share after an admission (`taken` counts this request's reservation) or a
/// refusal (`taken` = the amount), and raises the thresholds reached, off the request path.
pub fn check(
    state: &AppState,
    limit: &Arc<Limit>,
    scope_value: &str,
    counter: &str,
    taken: i64,
    reset_us: i64,
) {
    if !matches!(limit.window, Window::Calendar(_)) || limit.amount == 0 {
        return;
    }
    let amount = i128::from(limit.amount);
    for &t in &state.cfg.limit_rules.alert_thresholds {
        if i128::from(taken) * 100 < amount * i128::from(t) {
            break;
        }
        let alert = Alert {
            limit: Arc::clone(limit),
            scope_value: scope_value.to_owned(),
            counter: counter.to_owned(),
            threshold: t,
            taken,
            reset_us,
        };
        let to = Raiser {
            store: Arc::clone(&state.limit_store),
            counts: Arc::clone(&state.alerts),
            webhook: state.cfg.limit_rules.alert_webhook.clone(),
        };
        tokio::spawn(async move { to.raise(alert).await });
    }
}

fn units(l: &Limit, v: i64) -> serde_json::Value {
    if l.dimension == switchyard_limits::model::Dimension::CostUsd {
        serde_json::json!(v as f64 / MICROS)
    } else {
        serde_json::json!(v)
    }
}

/// What raising an alert needs, apart from the request's state.
struct Raiser {
    store: Arc<dyn switchyard_limits::store::LimitStore>,
    counts: Arc<AlertCounts>,
    webhook: Option<String>,
}

impl Raiser {
    async fn raise(self, a: Alert) {
        let key = format!("alert|{}|{}", a.counter, a.threshold);
        // Kept until the period ends (and a little after), so a period alerts once per threshold.
        match self.store.once(&key, a.reset_us + 3_600_000_000).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::debug!(error = %e, "limits: alert dedup failed; alert not raised");
                return;
            }
        }
        self.counts.raised.fetch_add(1, Ordering::Relaxed);
        let l = &a.limit;
        let now_ms = crate::limits::now_us() / 1000;
        tracing::warn!(
            limit = %l.id,
            scope = %l.scope_for(&a.scope_value),
            threshold_percent = a.threshold,
            "budget alert: {}% of {} {} per {} reached",
            a.threshold,
            units(l, i64::try_from(l.amount).unwrap_or(i64::MAX)),
            l.dimension.name(),
            l.window
        );
        let Some(url) = self.webhook.clone() else {
            return;
        };
        let body = serde_json::json!({
            "type": "budget.threshold",
            "limit": l.id,
            "scope": l.scope.to_string(),
            "scope_value": a.scope_value,
            "dimension": l.dimension,
            "window": l.window.to_string(),
            "threshold_percent": a.threshold,
            "taken": units(l, a.taken),
            "amount": units(l, i64::try_from(l.amount).unwrap_or(i64::MAX)),
            "resets_at_ms": now_ms + a.reset_us / 1000,
            "at_ms": now_ms,
        });
        if let Err(e) = post(&url, body.to_string()).await {
            self.counts.webhook_failures.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = %e, "budget alert: the webhook failed");
        }
    }
}

async fn post(url: &str, body: String) -> Result<(), String> {
    let url = url::Url::parse(url).map_err(|e| e.to_string())?;
    let (addr, host) = crate::fetch::resolve(&url).await?;
    let tls = crate::upstream::tls_config()?;
    let send = crate::fetch::post_json_at(addr, &url, &host, &tls, body.into());
    let resp = tokio::time::timeout(std::time::Duration::from_secs(5), send)
        .await
        .map_err(|_| "timed out".to_owned())??;
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(format!("the webhook answered {}", resp.status()))
    }
}
