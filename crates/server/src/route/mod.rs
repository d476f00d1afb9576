//! The `call` stage: runs the plan for a request. A model name that is a route stands for a tree
//! of targets; every node's strategy picks among its children (`fallback` tries them in order
//! until one answers, `loadbalance` draws by weight, `conditional` matches the request, the
//! `least-*` and `lowest-cost` strategies read the targets' health and prices); a target is tried,
//! and retried as its `retry` allows within the retry budget. Nothing is tried again once the
//! answer has started to reach the caller: an attempt succeeds when the response headers (and,
//! under a first-token timeout, the first stream event) have arrived, and from then on the
//! answer is the caller's. If the caller goes away, the request's future is dropped and no
//! further attempt is made.

pub mod attempt;
mod budget;
pub mod health;

pub use budget::Budget;
pub use health::Health;

use health::{Admission, Outcome};

use crate::context::RequestCtx;
use crate::error::GatewayError;
use crate::state::AppState;
use attempt::{attempt, Incoming};
use axum::response::Response;
use http::{HeaderMap, HeaderValue};
use serde_json::{Map, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use switchyard_config::raw::RawNode;
use switchyard_config::InlineConfig;
use switchyard_routing::condition::{Field, Lookup, Source};
use switchyard_routing::tree::{Kind, Node, Retry, Strategy, Target, TimeoutOverrides};
use switchyard_routing::ResolveError;

/// Header carrying a route tree for this request (same schema as `routes:` entries).
pub const CONFIG_HEADER: &str = "x-switchyard-config";
/// Header carrying a JSON object of metadata that conditions and sticky keys read.
pub const METADATA_HEADER: &str = "x-switchyard-metadata";

/// What a request will do.
pub enum Plan<'m> {
    /// A plain model name: one attempt at one provider.
    Direct { provider: usize, model: &'m str },
    /// A route: a tree of targets; `inline` when the caller sent it in `x-switchyard-config`
    /// (its timeouts may then only tighten the providers').
    Tree { tree: Arc<Node>, inline: bool },
}

fn bad(message: String) -> GatewayError {
    GatewayError::BadRequest {
        message,
        param: None,
    }
}

/// Chooses the plan: the request's own route header, else a named route, else the model.
pub fn plan<'m>(
    state: &'m AppState,
    headers: &HeaderMap,
    model: &'m str,
    principal: Option<&switchyard_tenants::Principal>,
) -> Result<Plan<'m>, GatewayError> {
    if let Some(raw) = headers
        .get(CONFIG_HEADER)
        .filter(|v| !crate::cache::only_cache_config(v))
    {
        if state.cfg.limits.inline_config == InlineConfig::Off {
            return Err(bad(format!(
                "{CONFIG_HEADER} is turned off on this gateway (server.limits.inline_config)"
            )));
        }
        let text = raw
            .to_str()
            .map_err(|_| bad(format!("{CONFIG_HEADER} must be JSON text")))?;
        let mut value: Value = serde_json::from_str(text)
            .map_err(|e| bad(format!("{CONFIG_HEADER} is not valid JSON: {e}")))?;
        // Portkey-style `cache` settings ride along; the cache stage reads them.
        if let Some(o) = value.as_object_mut() {
            o.remove("cache");
        }
        // In the route schema's words, not serde's (which would read a list as a node's fields).
        if let Some(e) = switchyard_config::route_shape(&value, CONFIG_HEADER) {
            return Err(bad(format!("{CONFIG_HEADER} is not a valid route: {e}")));
        }
        let node: RawNode = serde_path_to_error::deserialize(&value).map_err(|e| {
            bad(format!(
                "{CONFIG_HEADER} is not a valid route: {} at {}",
                switchyard_config::reword(&e.inner().to_string()),
                e.path()
            ))
        })?;
        if state.cfg.limits.inline_config == InlineConfig::Routes {
            only_routes(&node, "")?;
        }
        // A key limited to some models may not reach others through its own tree.
        if let Some(p) = principal.filter(|p| !p.models.is_empty()) {
            if let Some(name) = first_refused(&node, &|m| p.allows(m)) {
                return Err(GatewayError::Forbidden {
                    message: format!("This API key may not use model '{name}'."),
                    param: Some(CONFIG_HEADER.into()),
                });
            }
        }
        // Its model names become health entries and `x-switchyard-target` values.
        crate::pipeline::check_model_name(
            longest_model(&node),
            state.cfg.limits.max_model_name_bytes,
            CONFIG_HEADER,
        )?;
        let built = state
            .router
            .compile(&node, CONFIG_HEADER)
            .map_err(|errors| {
                let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
                bad(format!(
                    "{CONFIG_HEADER} is not a valid route: {}",
                    list.join("; ")
                ))
            })?;
        return Ok(Plan::Tree {
            tree: Arc::new(built),
            inline: true,
        });
    }
    if let Some(tree) = state.router.route(model) {
        return Ok(Plan::Tree {
            tree: tree.clone(),
            inline: false,
        });
    }
    let r = state.router.index.resolve(model).map_err(|e| match e {
        ResolveError::NoProviders => GatewayError::NoProviders,
        ResolveError::UnknownModel => GatewayError::UnknownModel {
            model: model.to_owned(),
        },
        ResolveError::AliasLoop => GatewayError::Internal {
            detail: format!("alias loop for {model}"),
        },
    })?;
    Ok(Plan::Direct {
        provider: r.provider,
        model: r.model,
    })
}

/// Refuses a node that names a model where the operator allows only configured routes.
fn only_routes(node: &RawNode, at: &str) -> Result<(), GatewayError> {
    if node.model.is_some() {
        let at = if at.is_empty() { "the top" } else { at };
        return Err(bad(format!(
            "{CONFIG_HEADER} may name only configured routes (`route`), not `model` (at {at}); \
             server.limits.inline_config is `routes`"
        )));
    }
    for (i, t) in node.targets.iter().enumerate() {
        only_routes(t, &format!("{at}targets[{i}]."))?;
    }
    for (i, c) in node.conditions.iter().enumerate() {
        only_routes(&c.then, &format!("{at}conditions[{i}].then."))?;
    }
    if let Some(d) = &node.default {
        only_routes(d, &format!("{at}default."))?;
    }
    Ok(())
}

/// The first model or route name in a tree that `allowed` refuses.
fn first_refused<'n>(node: &'n RawNode, allowed: &dyn Fn(&str) -> bool) -> Option<&'n str> {
    let own = [node.model.as_deref(), node.route.as_deref()];
    if let Some(name) = own.into_iter().flatten().find(|m| !allowed(m)) {
        return Some(name);
    }
    node.targets
        .iter()
        .chain(node.conditions.iter().map(|c| &c.then))
        .chain(node.default.as_deref())
        .find_map(|child| first_refused(child, allowed))
}

/// The longest model name written anywhere in a route tree (serde_json bounds its depth).
fn longest_model(node: &RawNode) -> &str {
    let children = node
        .targets
        .iter()
        .chain(node.conditions.iter().map(|c| &c.then))
        .chain(node.default.as_deref());
    children
        .map(longest_model)
        .chain(node.model.as_deref())
        .max_by_key(|m| m.len())
        .unwrap_or("")
}

/// What nodes on the way down set for their subtree.
#[derive(Clone, Default)]
pub struct Overrides<'a> {
    /// Request fields to set, outermost first (inner ones win).
    pub params: Vec<&'a Map<String, Value>>,
    pub timeouts: TimeoutOverrides,
    pub retry: Option<&'a Retry>,
    /// The field policy set by the innermost node that sets one.
    pub field_policy: Option<switchyard_providers::translate::Policy>,
    /// Set for a caller's own tree: its timeouts only tighten the provider's, and its field
    /// policy can only be stricter.
    pub inline: bool,
}

impl<'a> Overrides<'a> {
    fn under(&self, node: &'a Node) -> Self {
        let mut next = self.clone();
        if let Some(p) = &node.params {
            next.params.push(p);
        }
        next.timeouts = self.timeouts.under(node.timeouts);
        if node.retry.is_some() {
            next.retry = node.retry.as_ref();
        }
        if node.field_policy.is_some() {
            next.field_policy = node.field_policy;
        }
        next
    }
}

/// The request facts conditions and sticky keys read: metadata, body fields, headers.
struct Facts<'a> {
    metadata: Value,
    body: &'a [u8],
    params: OnceLock<Value>,
    headers: &'a HeaderMap,
}

impl Lookup for Facts<'_> {
    fn get(&self, f: &Field) -> Option<Value> {
        let root = match f.source {
            Source::Metadata => &self.metadata,
            Source::Params => self
                .params
                .get_or_init(|| serde_json::from_slice(self.body).unwrap_or(Value::Null)),
            Source::Headers => {
                let name = f.path.first()?;
                return self
                    .headers
                    .get(name.as_str())
                    .and_then(|v| v.to_str().ok())
                    .map(|v| Value::String(v.to_owned()));
            }
        };
        let mut v = root;
        for p in &f.path {
            v = v.get(p)?;
        }
        Some(v.clone())
    }
}

/// The metadata header's object for the request's record (empty when absent); a header that is
/// not a JSON object is a 400, whether or not a route reads it.
pub fn metadata_map(headers: &HeaderMap) -> Result<Map<String, Value>, GatewayError> {
    match metadata(headers)? {
        Value::Object(m) => Ok(m),
        _ => Ok(Map::new()),
    }
}

fn metadata(headers: &HeaderMap) -> Result<Value, GatewayError> {
    let Some(raw) = headers.get(METADATA_HEADER) else {
        return Ok(Value::Null);
    };
    let v: Value = raw
        .to_str()
        .ok()
        .and_then(|t| serde_json::from_str(t).ok())
        .ok_or_else(|| bad(format!("{METADATA_HEADER} must be a JSON object")))?;
    if !v.is_object() {
        return Err(bad(format!("{METADATA_HEADER} must be a JSON object")));
    }
    Ok(v)
}

/// Whether an error lets a route move on (statuses as configured; timeouts, broken or
/// unreachable connections and missing credentials always).
fn recoverable(e: &GatewayError, statuses: &[u16]) -> bool {
    match e {
        GatewayError::UpstreamStatus(r) => statuses.contains(&r.status.as_u16()),
        GatewayError::UpstreamTimeout { .. }
        | GatewayError::UpstreamUnreachable { .. }
        | GatewayError::UpstreamProtocol { .. }
        | GatewayError::UpstreamTooLarge { .. }
        | GatewayError::UpstreamCredentials { .. }
        | GatewayError::TargetEjected { .. }
        | GatewayError::GuardrailRejected { .. } => true,
        GatewayError::Exhausted { last, .. } => recoverable(last, statuses),
        GatewayError::Unauthorized { .. }
        | GatewayError::Forbidden { .. }
        | GatewayError::BadRequest { .. }
        | GatewayError::PayloadTooLarge { .. }
        | GatewayError::BodyReadTimeout { .. }
        | GatewayError::AttemptLimit { .. }
        | GatewayError::UnknownModel { .. }
        | GatewayError::NoProviders
        | GatewayError::RouteNotFound { .. }
        | GatewayError::MethodNotAllowed { .. }
        | GatewayError::ShuttingDown
        | GatewayError::Internal { .. }
        | GatewayError::StoreUnavailable { .. }
        | GatewayError::NotFound { .. }
        | GatewayError::Missing { .. }
        | GatewayError::Conflict { .. }
        | GatewayError::LimitExceeded { .. }
        | GatewayError::GuardrailDenied { .. }
        | GatewayError::LimitsUnavailable => false,
    }
}

/// How long the provider asked to wait (`retry-after` in seconds, or `retry-after-ms`).
fn retry_after(e: &GatewayError) -> Option<Duration> {
    let GatewayError::UpstreamStatus(r) = e else {
        return None;
    };
    let text = |name: &str| r.headers.get(name).and_then(|v| v.to_str().ok());
    // Non-finite or absurd values are ignored rather than trusted.
    let secs = |v: f64| {
        v.is_finite()
            .then(|| Duration::try_from_secs_f64(v.max(0.0)).ok())
            .flatten()
    };
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok()) {
        return secs(ms / 1000.0);
    }
    text("retry-after")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .and_then(secs)
}

/// Exponential backoff with full jitter: uniform in [0, min(max, base × 2^n)].
fn backoff(retry: &Retry, n: u32, rng: &mut fastrand::Rng) -> Duration {
    let ceiling = retry
        .backoff
        .saturating_mul(2u32.saturating_pow(n))
        .min(retry.max_backoff);
    Duration::from_nanos(rng.u64(0..=ceiling.as_nanos() as u64))
}

/// Words with which providers say a 429 is an exhausted quota, not a momentary rate limit.
const QUOTA_WORDS: &[&str] = &[
    "insufficient_quota",
    "quota exceeded",
    "exceeded your current quota",
];

/// What an attempt says about its target's health: a 429 with Retry-After cools the target down
/// for that long; a 429 for an exhausted quota for the longest ejection (it will not come back
/// soon); other failures count towards ejection.
fn outcome(r: &Result<Response, GatewayError>, longest: Duration) -> Outcome {
    match r {
        Ok(_) => Outcome::Success,
        Err(e @ GatewayError::UpstreamStatus(reply)) if reply.status.as_u16() == 429 => {
            let body = String::from_utf8_lossy(&reply.body).to_ascii_lowercase();
            if QUOTA_WORDS.iter().any(|w| body.contains(w)) {
                return Outcome::CoolDown(longest);
            }
            retry_after(e).map_or(Outcome::Failure, Outcome::CoolDown)
        }
        Err(e) if recoverable(e, switchyard_routing::tree::DEFAULT_STATUSES) => Outcome::Failure,
        Err(_) => Outcome::Neutral,
    }
}

/// A short account of an attempt's failure, for the exhausted-route message.
pub(crate) fn summary(e: &GatewayError) -> String {
    match e {
        GatewayError::UpstreamStatus(r) => format!("status {}", r.status.as_u16()),
        GatewayError::UpstreamTimeout { phase, .. } => format!("timed out {phase}"),
        GatewayError::UpstreamUnreachable { .. } => "unreachable".into(),
        GatewayError::UpstreamProtocol { .. } => "broken answer".into(),
        GatewayError::UpstreamTooLarge { .. } => "answer too large".into(),
        GatewayError::UpstreamCredentials { .. } => "no credentials".into(),
        GatewayError::TargetEjected { .. } => "circuit open".into(),
        other => other.classify().status.as_u16().to_string(),
    }
}

type Boxed<'s> = Pin<Box<dyn Future<Output = Result<Response, GatewayError>> + Send + 's>>;

/// One request's run through its plan.
struct Exec<'a> {
    state: &'a AppState,
    inc: Incoming<'a>,
    facts: Facts<'a>,
    rng: fastrand::Rng,
    /// Each failed attempt: `provider/model: what it got`.
    log: Vec<String>,
    attempts: u32,
    /// Set when `server.limits.max_attempts_per_request` stopped the run: no fallback follows.
    capped: bool,
}

/// Runs `plan` for the request and returns the caller's response, with `x-switchyard-target`
/// and `x-switchyard-attempts` set.
pub async fn run(
    state: &AppState,
    ctx: &mut RequestCtx,
    inc: Incoming<'_>,
    plan: Plan<'_>,
) -> Result<Response, GatewayError> {
    match plan {
        Plan::Direct { provider, model } => {
            ctx.provider = Some(provider);
            ctx.enter("relay");
            let ov = Overrides::default();
            let mut tries: u32 = 1;
            let mut out = loop {
                match attempt(state, ctx, &inc, provider, model, &ov).await {
                    // An output guardrail's retry: the same target again, at once.
                    Err(GatewayError::GuardrailRejected {
                        retries: Some(n), ..
                    }) if tries <= n && tries < state.cfg.limits.max_attempts_per_request => {
                        tries += 1;
                    }
                    other => break other?,
                }
            };
            let name = &state.upstreams[provider].name;
            let mut key = Vec::with_capacity(name.len() + model.len() + 1);
            key.extend_from_slice(name.as_bytes());
            key.push(b'/');
            key.extend_from_slice(model.as_bytes());
            let h = out.headers_mut();
            if let Ok(v) = HeaderValue::from_maybe_shared(bytes::Bytes::from(key)) {
                h.insert(crate::headers::X_SWITCHYARD_TARGET, v);
            }
            h.insert(
                crate::headers::X_SWITCHYARD_ATTEMPTS,
                HeaderValue::from(tries),
            );
            Ok(out)
        }
        Plan::Tree { tree, inline } => {
            state.budget.request();
            let facts = Facts {
                metadata: metadata(inc.headers)?,
                body: inc.body,
                params: OnceLock::new(),
                headers: inc.headers,
            };
            let mut exec = Exec {
                state,
                inc,
                facts,
                rng: state.rng(),
                log: Vec::new(),
                attempts: 0,
                capped: false,
            };
            ctx.enter("relay");
            let top = Overrides {
                inline,
                ..Overrides::default()
            };
            let result = exec.node(ctx, &tree, top).await;
            match result {
                Ok(out) => Ok(out),
                Err(last) if exec.log.len() > 1 => Err(GatewayError::Exhausted {
                    attempts: exec.log,
                    last: Box::new(last),
                }),
                Err(last) => Err(last),
            }
        }
    }
}

fn set_headers(out: &mut Response, key: &str, attempts: u32) {
    let h = out.headers_mut();
    if let Ok(v) = HeaderValue::from_str(key) {
        h.insert(crate::headers::X_SWITCHYARD_TARGET, v);
    }
    h.insert(
        crate::headers::X_SWITCHYARD_ATTEMPTS,
        HeaderValue::from(attempts),
    );
}

impl<'a> Exec<'a> {
    fn node<'s>(
        &'s mut self,
        ctx: &'s mut RequestCtx,
        node: &'s Node,
        inherited: Overrides<'s>,
    ) -> Boxed<'s>
    where
        'a: 's,
    {
        Box::pin(async move {
            let ov = inherited.under(node);
            match &node.kind {
                Kind::Target(t) => self.target(ctx, t, &ov).await,
                Kind::Conditional { branches, default } => {
                    let chosen = branches
                        .iter()
                        .find(|(c, _)| c.matches(&self.facts))
                        .map(|(_, n)| n)
                        .or(default.as_deref());
                    match chosen {
                        Some(n) => self.node(ctx, n, ov).await,
                        None => Err(bad(
                            "no condition of the route matched this request, and it has no default"
                                .into(),
                        )),
                    }
                }
                Kind::Pick {
                    strategy: Strategy::Fallback,
                    children,
                } => {
                    let mut last = None;
                    for child in children {
                        match self.node(ctx, child, ov.clone()).await {
                            Ok(out) => return Ok(out),
                            Err(e) if self.capped => return Err(e),
                            Err(e) if recoverable(&e, &node.on_status) => last = Some(e),
                            Err(e) => return Err(e),
                        }
                    }
                    Err(last.unwrap_or_else(|| bad("the route has no targets".into())))
                }
                Kind::Pick { strategy, children } => {
                    let i = self.pick(*strategy, node, children);
                    match i.and_then(|i| children.get(i)) {
                        Some(child) => self.node(ctx, child, ov).await,
                        None => Err(bad("the route has no target to choose".into())),
                    }
                }
            }
        })
    }

    /// The child a strategy picks: among children with a target in rotation (all of them when
    /// none has), by weight, fewest in flight, lower moving latency of two, or lowest price.
    fn pick(&mut self, strategy: Strategy, node: &Node, children: &[Node]) -> Option<usize> {
        if children.is_empty() {
            return None;
        }
        let sticky_key = node.sticky.as_ref().and_then(|f| self.facts.get(f));
        let state = self.state;
        let health = &state.health;
        let now = std::time::Instant::now();
        let mut live: Vec<usize> = (0..children.len())
            .filter(|i| {
                children[*i]
                    .targets()
                    .iter()
                    .any(|t| !health.get(&t.key).is_ejected(now))
            })
            .collect();
        if live.is_empty() {
            live = (0..children.len()).collect();
        }
        if let Some(key) = sticky_key {
            return Some(live[sticky(&key, &live, children)]);
        }
        let first_target = |n: &Node| n.targets().first().map(|t| t.key.clone());
        Some(match strategy {
            Strategy::LoadBalance | Strategy::Fallback => {
                let total: f64 = live.iter().map(|i| children[*i].weight).sum();
                let mut x = self.rng.f64() * total;
                live.iter()
                    .copied()
                    .find(|i| {
                        x -= children[*i].weight;
                        x < 0.0 && children[*i].weight > 0.0
                    })
                    .unwrap_or(live[live.len() - 1])
            }
            Strategy::LeastBusy => live
                .iter()
                .copied()
                .min_by_key(|i| {
                    first_target(&children[*i]).map_or(0, |k| {
                        health
                            .get(&k)
                            .in_flight
                            .load(std::sync::atomic::Ordering::Relaxed)
                    })
                })
                .unwrap_or(live[0]),
            Strategy::LeastLatency => {
                // Power of two choices: two at random, the one with the lower moving average
                // (an untried target counts as fastest, so every target gets measured).
                let a = live[self.rng.usize(..live.len())];
                let b = live[self.rng.usize(..live.len())];
                let lat = |i: usize| {
                    first_target(&children[i])
                        .and_then(|k| health.get(&k).latency())
                        .unwrap_or(Duration::ZERO)
                };
                if lat(b) < lat(a) {
                    b
                } else {
                    a
                }
            }
            Strategy::LowestCost => live
                .iter()
                .copied()
                .min_by(|x, y| {
                    let cost =
                        |i: usize| children[i].price.map_or(f64::MAX, |p| p.input + p.output);
                    cost(*x).total_cmp(&cost(*y))
                })
                .unwrap_or(live[0]),
        })
    }

    async fn target(
        &mut self,
        ctx: &mut RequestCtx,
        t: &Target,
        ov: &Overrides<'_>,
    ) -> Result<Response, GatewayError> {
        let default = Retry::default();
        let retry = ov.retry.unwrap_or(&default);
        let mut n = 0;
        let cap = self.state.cfg.limits.max_attempts_per_request;
        loop {
            if self.attempts >= cap {
                self.capped = true;
                return Err(GatewayError::AttemptLimit { limit: cap });
            }
            let admission = self.state.health.admit(&t.key);
            if admission == Admission::Ejected {
                self.log.push(format!("{}: circuit open", t.key));
                return Err(GatewayError::TargetEjected {
                    target: t.key.clone(),
                });
            }
            ctx.provider = Some(t.provider);
            self.attempts += 1;
            let flight = self
                .state
                .health
                .begin(&t.key, admission == Admission::Probe);
            let result = attempt(self.state, ctx, &self.inc, t.provider, &t.model, ov).await;
            flight.finish(outcome(&result, self.state.cfg.circuit.max_ejection));
            let e = match result {
                Ok(mut out) => {
                    set_headers(&mut out, &t.key, self.attempts);
                    return Ok(out);
                }
                Err(e) => e,
            };
            tracing::info!(target_key = %t.key, error = %e, "route attempt failed");
            self.log.push(format!("{}: {}", t.key, summary(&e)));
            if self.attempts >= cap {
                // The per-request bound: this failure is the answer, with no fallback after it.
                tracing::info!(target_key = %t.key, limit = cap, "attempt limit reached");
                self.capped = true;
                return Err(e);
            }
            // An answer an output guardrail sent back is tried again as its policy says, at once.
            let (limit, guarded) = match &e {
                GatewayError::GuardrailRejected { retries, .. } => (retries.unwrap_or(0), true),
                _ => (retry.attempts, false),
            };
            if n >= limit || !recoverable(&e, &retry.on_status) {
                return Err(e);
            }
            let wait = match retry_after(&e) {
                _ if guarded => Duration::ZERO,
                // Asked to wait longer than we would: move on instead.
                Some(d) if d > retry.retry_after_cap => return Err(e),
                Some(d) => d,
                None => backoff(retry, n, &mut self.rng),
            };
            let resume = std::time::Instant::now() + wait;
            if self.state.health.get(&t.key).ejected_past(resume) {
                // This failure took the target out for longer than the wait: its error is the
                // answer (or the next fallback's turn), not a retry into an open circuit.
                return Err(e);
            }
            if !self.state.budget.try_retry() {
                tracing::warn!(target_key = %t.key, "retry budget spent; not retrying");
                return Err(e);
            }
            tokio::time::sleep(wait).await;
            ctx.backoff += wait;
            n += 1;
        }
    }
}

/// Rendezvous hashing weighted by the children's weights, over the children in rotation: the
/// same key picks the same child while that child stays healthy. Returns a position in `live`.
fn sticky(key: &Value, live: &[usize], children: &[Node]) -> usize {
    use std::hash::{Hash, Hasher};
    let text = match key {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut best = (f64::MIN, 0);
    for (pos, &i) in live.iter().enumerate() {
        let c = &children[i];
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (&text, i).hash(&mut h);
        // Uniform in (0, 1), then the weighted score -w / ln(u).
        let u = ((h.finish() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        let score = -c.weight / u.ln();
        if score > best.0 {
            best = (score, pos);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::UpstreamReply;

    fn with_header(name: &'static str, value: &str) -> GatewayError {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_str(value).unwrap());
        GatewayError::UpstreamStatus(Box::new(UpstreamReply {
            status: http::StatusCode::TOO_MANY_REQUESTS,
            body: bytes::Bytes::new(),
            headers,
        }))
    }

    #[test]
    fn retry_after_is_read_and_absurd_values_are_ignored() {
        assert_eq!(
            retry_after(&with_header("retry-after", "3")),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_after(&with_header("retry-after-ms", "250")),
            Some(Duration::from_millis(250))
        );
        for bad in ["inf", "1e300", "NaN", "soon"] {
            assert_eq!(retry_after(&with_header("retry-after", bad)), None, "{bad}");
        }
    }
}
