//! The limits stage's interface: which limits a request meets, what it reserves against each
//! (its worst case), and what it is charged when it ends.
//!
//! The pipeline calls [`Gate::admit`] once, after authentication and routing's resolution, and
//! [`Gate::settle`] once when the request ends, whatever the way it ends.

use crate::algo::calendar::period;
use crate::algo::rate::RateLimit;
use crate::ledger::{Algo, Denied, Line, LineState};
use crate::model::{Dimension, Limit, Mode, ScopeKind, Window};
use crate::store::{LimitStore, StoreError};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Who and what a request is, as limits' scopes see it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Request<'a> {
    pub workspace: Option<&'a str>,
    /// The virtual key's id, or a static key's name.
    pub key: Option<&'a str>,
    pub user: Option<&'a str>,
    pub end_user: Option<&'a str>,
    pub tags: &'a [String],
    pub metadata: Option<&'a Map<String, Value>>,
    /// The model the caller asked for (a route's name for a route).
    pub model: &'a str,
    /// Where it goes first, as `provider/model`, when known at admission.
    pub target: Option<&'a str>,
    /// The provider the request goes to, when one is known at admission.
    pub provider: Option<&'a str>,
}

/// A request's worst case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Estimate {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Micro-dollars; `None` when the model has no price.
    pub cost_micros: Option<u64>,
}

/// What a request used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Used {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Micro-dollars; `None` when the model has no price (charged as 0).
    pub cost_micros: Option<u64>,
}

/// What to do with a cost limit when the model has no price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnpricedPolicy {
    Deny,
    #[default]
    TokensOnly,
}

/// One limit a request met.
#[derive(Debug, Clone)]
pub struct Met {
    pub limit: Arc<Limit>,
    /// The scope's value this request counts under (`org` for the organisation).
    pub scope_value: String,
}

/// An admitted request: its reservation and the limits it met with their states.
#[derive(Debug, Clone)]
pub struct Admitted {
    pub id: String,
    pub met: Vec<Met>,
    pub states: Vec<LineState>,
    /// The counters, in `met`'s order.
    pub lines: Vec<Line>,
    /// What was reserved.
    pub estimate: Estimate,
}

impl Used {
    /// Everything reserved: what an answer cut before its usage came may have used at most.
    pub fn whole(a: &Admitted) -> Used {
        Used {
            input_tokens: a.estimate.input_tokens,
            output_tokens: a.estimate.output_tokens,
            cost_micros: a.estimate.cost_micros,
        }
    }

    /// Each dimension at least `floor`'s: a partial reading never charges less than the floor.
    pub fn at_least(self, floor: &Used) -> Used {
        Used {
            input_tokens: self.input_tokens.max(floor.input_tokens),
            output_tokens: self.output_tokens.max(floor.output_tokens),
            cost_micros: match (self.cost_micros, floor.cost_micros) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            },
        }
    }
}

/// Why a request is refused.
#[derive(Debug, Clone)]
pub enum Refusal {
    /// A limit is exhausted (a rate: retry later; a budget: after it resets).
    Limited {
        met: Met,
        /// The counter that refused (the budget's period included).
        counter: String,
        denied: Denied,
    },
    /// A cost limit applies and the model has no price (`unpriced: deny`).
    Unpriced { met: Met },
    /// The store failed and the limit fails closed.
    Store { met: Met, error: StoreError },
}

/// The limits in force and the store that counts them.
pub struct Gate {
    store: Arc<dyn LimitStore>,
    rules: Vec<Arc<Limit>>,
    ttl_us: i64,
    unpriced: UnpricedPolicy,
    /// Every limit lets requests through when the store fails (else spend limits refuse).
    fail_open: bool,
    /// Calls the store failed (a metric).
    pub store_errors: Arc<std::sync::atomic::AtomicU64>,
}

impl Gate {
    pub fn new(
        store: Arc<dyn LimitStore>,
        rules: Vec<Limit>,
        ttl: std::time::Duration,
        unpriced: UnpricedPolicy,
    ) -> Self {
        Self {
            store,
            rules: rules.into_iter().map(Arc::new).collect(),
            ttl_us: i64::try_from(ttl.as_micros()).unwrap_or(i64::MAX),
            unpriced,
            fail_open: false,
            store_errors: Arc::default(),
        }
    }

    /// Lets every request through when the store fails, and counts failures in `errors`
    /// (shared across gates built for new configs).
    pub fn with_failures(
        mut self,
        fail_open: bool,
        errors: Arc<std::sync::atomic::AtomicU64>,
    ) -> Self {
        self.fail_open = fail_open;
        self.store_errors = errors;
        self
    }

    pub fn store(&self) -> &Arc<dyn LimitStore> {
        &self.store
    }

    pub fn rules(&self) -> &[Arc<Limit>] {
        &self.rules
    }

    /// The limits `r` meets among the gate's and `extra` (limits set through the admin API),
    /// with the scope value each counts it under.
    pub fn applicable(&self, r: &Request<'_>, extra: &[Arc<Limit>]) -> Vec<Met> {
        let mut out = Vec::new();
        for limit in self.rules.iter().chain(extra) {
            let scope = &limit.scope;
            let values: Vec<String> = match &scope.kind {
                ScopeKind::Org => vec!["org".to_owned()],
                ScopeKind::Tag => r
                    .tags
                    .iter()
                    .filter(|t| scope.value.as_ref().is_none_or(|v| v == *t))
                    .cloned()
                    .collect(),
                kind => {
                    let have: Option<String> = match kind {
                        ScopeKind::Workspace => r.workspace.map(str::to_owned),
                        ScopeKind::Key => r.key.map(str::to_owned),
                        ScopeKind::User => r.user.map(str::to_owned),
                        ScopeKind::EndUser => r.end_user.map(str::to_owned),
                        // A named model matches what the caller sent or where it goes; each
                        // model counts where it goes.
                        ScopeKind::Model => match &scope.value {
                            Some(v) if v == r.model || Some(v.as_str()) == r.target => {
                                Some(v.clone())
                            }
                            Some(_) => None,
                            None => Some(r.target.unwrap_or(r.model).to_owned()),
                        },
                        ScopeKind::Provider => r.provider.map(str::to_owned),
                        ScopeKind::Metadata(field) => {
                            r.metadata.and_then(|m| match m.get(field)? {
                                Value::String(s) => Some(s.clone()),
                                v @ (Value::Number(_) | Value::Bool(_)) => Some(v.to_string()),
                                _ => None,
                            })
                        }
                        ScopeKind::Org | ScopeKind::Tag => None,
                    };
                    have.into_iter()
                        .filter(|h| scope.value.as_ref().is_none_or(|v| v == h))
                        .collect()
                }
            };
            for scope_value in values {
                out.push(Met {
                    limit: Arc::clone(limit),
                    scope_value,
                });
            }
        }
        out
    }

    /// A limit's line for a request: its counter (the period's for a calendar window), how it
    /// counts, and what the request reserves against it; `None` for a cost limit on an unpriced
    /// model counted as tokens only.
    pub fn line(&self, m: &Met, est: &Estimate, now_us: i64) -> Result<Option<Line>, String> {
        let l = &m.limit;
        let reserve = match l.dimension {
            Dimension::Requests | Dimension::Concurrent => 1,
            Dimension::InputTokens => est.input_tokens,
            Dimension::OutputTokens => est.output_tokens,
            Dimension::TotalTokens => est.input_tokens.saturating_add(est.output_tokens),
            Dimension::CostUsd => match est.cost_micros {
                Some(c) => c,
                None => return Ok(None),
            },
        };
        let base = format!("{}|{}", l.id, m.scope_value);
        let (counter, algo) = match (l.dimension, l.window) {
            (Dimension::Concurrent, _) => (base, Algo::Slots { amount: l.amount }),
            (_, Window::Rolling(w)) => (
                base,
                Algo::Rate(RateLimit {
                    capacity: l.amount,
                    window_us: i64::try_from(w.as_micros()).unwrap_or(i64::MAX),
                }),
            ),
            (_, Window::Calendar(cal)) => {
                let (_, end_us, name) = period(cal, &l.time_zone, now_us)?;
                (
                    format!("{base}|{name}"),
                    Algo::Calendar {
                        amount: l.amount,
                        end_us,
                    },
                )
            }
        };
        Ok(Some(Line {
            counter,
            algo,
            reserve,
            enforce: l.mode == Mode::Enforce,
            settles: l.dimension != Dimension::Requests,
        }))
    }

    /// Reserves `est` against every limit `r` meets, all or nothing. `Ok(None)` when none
    /// applies.
    pub async fn admit(
        &self,
        r: &Request<'_>,
        extra: &[Arc<Limit>],
        est: &Estimate,
        now_us: i64,
    ) -> Result<Option<Admitted>, Refusal> {
        let applicable = self.applicable(r, extra);
        if applicable.is_empty() {
            return Ok(None);
        }
        let mut met = Vec::with_capacity(applicable.len());
        let mut lines = Vec::with_capacity(applicable.len());
        for m in applicable {
            match self.line(&m, est, now_us) {
                Ok(Some(line)) => {
                    lines.push(line);
                    met.push(m);
                }
                Ok(None)
                    if self.unpriced == UnpricedPolicy::Deny && m.limit.mode == Mode::Enforce =>
                {
                    return Err(Refusal::Unpriced { met: m });
                }
                Ok(None) => {}
                Err(e) => {
                    return Err(Refusal::Store {
                        met: m,
                        error: StoreError::Backend(e),
                    })
                }
            }
        }
        if lines.is_empty() {
            return Ok(None);
        }
        let id = format!("{:032x}", fastrand::u128(..));
        match self.store.reserve(&id, &lines, self.ttl_us, now_us).await {
            Ok(Ok(states)) => Ok(Some(Admitted {
                id,
                met,
                states,
                lines,
                estimate: *est,
            })),
            Ok(Err(denied)) => Err(Refusal::Limited {
                met: met[denied.line].clone(),
                counter: lines[denied.line].counter.clone(),
                denied,
            }),
            Err(error) => {
                self.store_errors
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                // Closed for spend (cost and tokens), open for request rates and concurrency,
                // unless every limit is to fail open.
                match met
                    .iter()
                    .find(|m| m.limit.dimension.is_spend() && m.limit.mode == Mode::Enforce)
                    .filter(|_| !self.fail_open)
                {
                    Some(m) => Err(Refusal::Store {
                        met: m.clone(),
                        error,
                    }),
                    None => {
                        tracing::warn!(%error, "limits store failed; this request goes through uncounted");
                        Ok(None)
                    }
                }
            }
        }
    }

    /// Charges what an admitted request used and gives back the rest of its reservation.
    pub async fn settle(&self, a: &Admitted, used: &Used, now_us: i64) -> Result<(), StoreError> {
        let amounts: Vec<u64> = a
            .met
            .iter()
            .map(|m| match m.limit.dimension {
                Dimension::Requests | Dimension::Concurrent => 1,
                Dimension::InputTokens => used.input_tokens,
                Dimension::OutputTokens => used.output_tokens,
                Dimension::TotalTokens => used.input_tokens.saturating_add(used.output_tokens),
                Dimension::CostUsd => used.cost_micros.unwrap_or(0),
            })
            .collect();
        let r = self.store.settle(&a.id, &amounts, now_us).await;
        if r.is_err() {
            self.store_errors
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        r
    }
}

#[cfg(test)]
mod tests;
