//! Budgets, rate limits and concurrency limits (`limits:`), validated: every rule resolved,
//! errors naming the rule's field (`limits.rules[2].scope`).

use crate::raw::{RawLimitRules, RawOnStoreError, RawUnpriced};
use crate::{ConfigError, EnvSource};
use std::time::Duration;
use switchyard_limits::model::Limit;

/// What a cost limit does with a model the catalog has no price for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unpriced {
    /// Refuse the request.
    Deny,
    /// Count its tokens; charge no cost.
    #[default]
    TokensOnly,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LimitRules {
    pub rules: Vec<Limit>,
    pub reservation_ttl: Duration,
    pub default_max_output_tokens: u64,
    pub unpriced: Unpriced,
    /// Counted in Redis (shared by replicas) instead of memory.
    pub redis_url: Option<crate::Secret>,
    pub redis_prefix: String,
    /// Every limit lets requests through when the store is down (else spend limits refuse).
    pub fail_open: bool,
    /// Budget shares (percent) that raise an alert, ascending.
    pub alert_thresholds: Vec<u8>,
    pub alert_webhook: Option<String>,
}

impl Default for LimitRules {
    fn default() -> Self {
        Self {
            rules: Vec::new(),
            reservation_ttl: Duration::from_secs(900),
            default_max_output_tokens: 4096,
            unpriced: Unpriced::TokensOnly,
            redis_url: None,
            redis_prefix: "switchyard:limits:".into(),
            fail_open: false,
            alert_thresholds: vec![50, 80, 100],
            alert_webhook: None,
        }
    }
}

pub(crate) fn limit_rules(
    raw: &RawLimitRules,
    env: &dyn EnvSource,
    errors: &mut Vec<ConfigError>,
) -> LimitRules {
    let d = LimitRules::default();
    let mut rules = Vec::with_capacity(raw.rules.len());
    let mut seen = std::collections::HashSet::new();
    for (i, r) in raw.rules.iter().enumerate() {
        match r.resolve() {
            Ok(l) => {
                if !seen.insert(l.id.clone()) {
                    errors.push(ConfigError::new(
                        format!("limits.rules[{i}].id"),
                        format!("\"{}\" is used by another rule", l.id),
                    ));
                }
                rules.push(l);
            }
            Err((field, msg)) => {
                errors.push(ConfigError::new(format!("limits.rules[{i}].{field}"), msg));
            }
        }
    }
    let reservation_ttl = match raw.reservation_ttl_secs {
        Some(0) => {
            errors.push(ConfigError::new(
                "limits.reservation_ttl_secs",
                "must be greater than 0",
            ));
            d.reservation_ttl
        }
        Some(s) => Duration::from_secs(s),
        None => d.reservation_ttl,
    };
    let redis_url = raw
        .redis_url
        .clone()
        .or_else(|| env.var("SWITCHYARD_LIMITS_REDIS_URL"))
        .filter(|u| !u.is_empty());
    if let Some(u) = &redis_url {
        if !u.starts_with("redis://") {
            errors.push(ConfigError::new(
                "limits.redis_url",
                "must start with redis:// (TLS to Redis is not built in)",
            ));
        }
    }
    let mut alert_thresholds = raw.alerts.thresholds.clone().unwrap_or(d.alert_thresholds);
    if alert_thresholds.iter().any(|t| *t == 0 || *t > 100) {
        errors.push(ConfigError::new(
            "limits.alerts.thresholds",
            "each is a percentage from 1 to 100",
        ));
    }
    alert_thresholds.sort_unstable();
    alert_thresholds.dedup();
    if let Some(u) = &raw.alerts.webhook_url {
        crate::validate::check_url(u, "limits.alerts.webhook_url", errors);
    }
    LimitRules {
        alert_thresholds,
        alert_webhook: raw.alerts.webhook_url.clone(),
        redis_url: redis_url.map(crate::Secret::new),
        redis_prefix: raw.redis_prefix.clone().unwrap_or(d.redis_prefix),
        fail_open: raw.on_store_error == Some(RawOnStoreError::Open),
        rules,
        reservation_ttl,
        default_max_output_tokens: raw
            .default_max_output_tokens
            .unwrap_or(d.default_max_output_tokens),
        unpriced: match raw.unpriced {
            Some(RawUnpriced::Deny) => Unpriced::Deny,
            Some(RawUnpriced::TokensOnly) | None => Unpriced::TokensOnly,
        },
    }
}
