//! Route trees: the validated form of `routes:` (and of the per-request `x-switchyard-config`
//! header). Leaves are resolved to a provider and upstream model when the tree is built, `route:`
//! references are inlined (a cycle is an error), conditions are compiled.

use crate::condition::{Condition, Field};
use crate::resolve::ModelIndex;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use switchyard_config::raw::{RawFieldPolicy, RawNode, RawRetry, RawRouteTimeouts, RawStrategy};
use switchyard_config::ConfigError;
use switchyard_providers::catalog::Catalog;

/// The statuses that move a fallback on, and that are retried, unless configured otherwise.
pub const DEFAULT_STATUSES: &[u16] = &[429, 500, 502, 503, 504];
/// How deep trees (and route references) may nest.
const MAX_DEPTH: usize = 16;

/// A provider and the model name sent to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// Index into the config's providers.
    pub provider: usize,
    pub model: String,
    /// `provider/model`, as reported in `x-switchyard-target` and health.
    pub key: String,
}

/// How a node picks among its children.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    Fallback,
    LoadBalance,
    LeastLatency,
    LeastBusy,
    LowestCost,
}

/// Timeouts a node sets for its subtree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeoutOverrides {
    pub connect: Option<Duration>,
    pub first_byte: Option<Duration>,
    pub first_token: Option<Duration>,
    pub idle: Option<Duration>,
    pub total: Option<Duration>,
}

impl TimeoutOverrides {
    /// `inner`'s values where set, else these.
    pub fn under(self, inner: TimeoutOverrides) -> Self {
        Self {
            connect: inner.connect.or(self.connect),
            first_byte: inner.first_byte.or(self.first_byte),
            first_token: inner.first_token.or(self.first_token),
            idle: inner.idle.or(self.idle),
            total: inner.total.or(self.total),
        }
    }
}

/// Retries of one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    pub attempts: u32,
    pub on_status: Vec<u16>,
    pub backoff: Duration,
    pub max_backoff: Duration,
    pub retry_after_cap: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            attempts: 0,
            on_status: DEFAULT_STATUSES.to_vec(),
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            retry_after_cap: Duration::from_secs(30),
        }
    }
}

/// Prices per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub input: f64,
    pub output: f64,
}

#[derive(Debug)]
pub enum Kind {
    Target(Target),
    Pick {
        strategy: Strategy,
        children: Vec<Node>,
    },
    Conditional {
        branches: Vec<(Condition, Node)>,
        default: Option<Box<Node>>,
    },
}

/// One node of a built tree.
#[derive(Debug)]
pub struct Node {
    pub kind: Kind,
    pub weight: f64,
    /// Request fields set for this subtree.
    pub params: Option<Map<String, Value>>,
    pub timeouts: TimeoutOverrides,
    /// Statuses on which a `fallback` node moves to its next child.
    pub on_status: Vec<u16>,
    /// Retries for targets in this subtree, when set here.
    pub retry: Option<Retry>,
    /// The field policy for targets in this subtree, when set here.
    pub field_policy: Option<switchyard_providers::translate::Policy>,
    pub sticky: Option<Field>,
    pub price: Option<Price>,
}

impl Node {
    /// Every target in the subtree (for health listings and cheapest-price lookups).
    pub fn targets(&self) -> Vec<&Target> {
        match &self.kind {
            Kind::Target(t) => vec![t],
            Kind::Pick { children, .. } => children.iter().flat_map(Node::targets).collect(),
            Kind::Conditional { branches, default } => branches
                .iter()
                .map(|(_, n)| n)
                .chain(default.as_deref())
                .flat_map(Node::targets)
                .collect(),
        }
    }
}

fn ms(v: Option<u64>, at: &str, errors: &mut Vec<ConfigError>) -> Option<Duration> {
    match v {
        Some(0) => {
            errors.push(ConfigError::new(at, "must be greater than 0"));
            None
        }
        other => other.map(Duration::from_millis),
    }
}

fn timeouts(t: &RawRouteTimeouts, at: &str, errors: &mut Vec<ConfigError>) -> TimeoutOverrides {
    TimeoutOverrides {
        connect: ms(t.connect_ms, &format!("{at}.connect_ms"), errors),
        first_byte: ms(t.first_byte_ms, &format!("{at}.first_byte_ms"), errors),
        first_token: ms(t.first_token_ms, &format!("{at}.first_token_ms"), errors),
        idle: ms(t.idle_ms, &format!("{at}.idle_ms"), errors),
        total: ms(t.total_ms, &format!("{at}.total_ms"), errors),
    }
}

fn statuses(list: &[u16], at: &str, errors: &mut Vec<ConfigError>) -> Vec<u16> {
    for s in list {
        if !(100..=599).contains(s) {
            errors.push(ConfigError::new(at, format!("{s} is not an HTTP status")));
        }
    }
    list.to_vec()
}

fn retry(r: &RawRetry, at: &str, errors: &mut Vec<ConfigError>) -> Retry {
    let d = Retry::default();
    if r.attempts.is_some_and(|a| a > 10) {
        errors.push(ConfigError::new(
            format!("{at}.attempts"),
            "at most 10 retries",
        ));
    }
    Retry {
        attempts: r.attempts.unwrap_or(0).min(10),
        on_status: r.on_status.as_deref().map_or(d.on_status, |s| {
            statuses(s, &format!("{at}.on_status"), errors)
        }),
        backoff: ms(r.backoff_ms, &format!("{at}.backoff_ms"), errors).unwrap_or(d.backoff),
        max_backoff: ms(r.max_backoff_ms, &format!("{at}.max_backoff_ms"), errors)
            .unwrap_or(d.max_backoff),
        retry_after_cap: r
            .retry_after_cap_ms
            .map_or(d.retry_after_cap, Duration::from_millis),
    }
}

/// Builds trees against the model index and the named routes.
pub struct Builder<'a> {
    pub index: &'a ModelIndex,
    pub routes: &'a BTreeMap<String, RawNode>,
    pub provider_names: &'a [String],
    /// Catalog namespace of each provider, by index, and the catalog: prices for targets that
    /// give none.
    pub namespaces: &'a [&'static str],
    pub catalog: &'a Catalog,
}

impl Builder<'_> {
    /// Builds `raw`, found at `at` (`routes.NAME...` or `x-switchyard-config...`); every problem
    /// is collected with its path.
    pub fn build(&self, raw: &RawNode, at: &str) -> Result<Node, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut stack = Vec::new();
        let node = self.node(raw, at, &mut stack, &mut errors);
        match node {
            Some(n) if errors.is_empty() => Ok(n),
            _ => Err(errors),
        }
    }

    fn node(
        &self,
        raw: &RawNode,
        at: &str,
        stack: &mut Vec<String>,
        errors: &mut Vec<ConfigError>,
    ) -> Option<Node> {
        if stack.len() > MAX_DEPTH || at.matches(".targets[").count() > MAX_DEPTH {
            errors.push(ConfigError::new(
                at,
                format!("routes nest deeper than {MAX_DEPTH}"),
            ));
            return None;
        }
        let weight = raw.weight.unwrap_or(1.0);
        if !weight.is_finite() || weight < 0.0 {
            errors.push(ConfigError::new(
                format!("{at}.weight"),
                "must be a number of at least 0",
            ));
        }
        if let Some(p) = &raw.price {
            if !(p.input >= 0.0 && p.output >= 0.0 && p.input.is_finite() && p.output.is_finite()) {
                errors.push(ConfigError::new(
                    format!("{at}.price"),
                    "prices must be numbers of at least 0",
                ));
            }
        }
        let sticky = raw.sticky.as_ref().and_then(|s| {
            Field::parse(&s.key)
                .map_err(|e| errors.push(ConfigError::new(format!("{at}.sticky.key"), e)))
                .ok()
        });
        let kind = self.kind(raw, at, stack, errors)?;
        if sticky.is_some()
            && !matches!(
                kind,
                Kind::Pick {
                    strategy: Strategy::LoadBalance | Strategy::LeastLatency | Strategy::LeastBusy,
                    ..
                }
            )
        {
            errors.push(ConfigError::new(
                format!("{at}.sticky"),
                "sticky applies to loadbalance, least-latency and least-busy",
            ));
        }
        if let Kind::Pick {
            strategy: Strategy::LowestCost,
            children,
        } = &kind
        {
            for (i, c) in children.iter().enumerate() {
                if c.price.is_none() {
                    errors.push(ConfigError::new(
                        format!("{at}.targets[{i}].price"),
                        "lowest-cost needs a price for every target: this one's model is not in \
                         the model catalog, so give `price` or add a `catalog:` entry",
                    ));
                }
            }
        }
        Some(Node {
            weight,
            params: raw.params.clone(),
            timeouts: raw
                .timeouts
                .as_ref()
                .map(|t| timeouts(t, &format!("{at}.timeouts"), errors))
                .unwrap_or_default(),
            on_status: raw.on_status.as_deref().map_or_else(
                || DEFAULT_STATUSES.to_vec(),
                |s| statuses(s, &format!("{at}.on_status"), errors),
            ),
            retry: raw
                .retry
                .as_ref()
                .map(|r| retry(r, &format!("{at}.retry"), errors)),
            field_policy: raw.field_policy.map(RawFieldPolicy::policy),
            sticky,
            price: raw
                .price
                .as_ref()
                .map(|p| Price {
                    input: p.input,
                    output: p.output,
                })
                .or_else(|| self.catalog_price(&kind)),
            kind,
        })
    }

    /// The catalog's price of a target's model, when the node is a target the catalog knows.
    fn catalog_price(&self, kind: &Kind) -> Option<Price> {
        let Kind::Target(t) = kind else { return None };
        let namespace = self.namespaces.get(t.provider)?;
        let pricing = self.catalog.lookup(namespace, &t.model)?.1.pricing()?;
        Some(Price {
            input: pricing.input,
            output: pricing.output,
        })
    }

    fn kind(
        &self,
        raw: &RawNode,
        at: &str,
        stack: &mut Vec<String>,
        errors: &mut Vec<ConfigError>,
    ) -> Option<Kind> {
        let leafy = raw.model.is_some() as u8 + raw.route.is_some() as u8;
        let has_children = !raw.targets.is_empty();
        let has_branches = !raw.conditions.is_empty() || raw.default.is_some();
        if leafy > 1 || (leafy == 1 && (has_children || has_branches)) {
            errors.push(ConfigError::new(
                at,
                "a node has one of: model, route, targets, or conditions (with default)",
            ));
            return None;
        }
        let strategy = raw.strategy;
        if leafy == 1 && !matches!(strategy, None | Some(RawStrategy::Single)) {
            errors.push(ConfigError::new(
                format!("{at}.strategy"),
                "a model or route node has no strategy to choose with; put it in targets",
            ));
            return None;
        }
        if let Some(m) = &raw.model {
            return self
                .target(m, &format!("{at}.model"), errors)
                .map(Kind::Target);
        }
        if let Some(name) = &raw.route {
            let Some(inner) = self.routes.get(name) else {
                errors.push(ConfigError::new(
                    format!("{at}.route"),
                    format!("no route is named \"{name}\""),
                ));
                return None;
            };
            if stack.contains(name) {
                errors.push(ConfigError::new(
                    format!("{at}.route"),
                    format!(
                        "route \"{name}\" refers back to itself ({})",
                        stack.join(" → ")
                    ),
                ));
                return None;
            }
            stack.push(name.clone());
            let built = self.node(inner, &format!("routes.{name}"), stack, errors);
            stack.pop();
            return built.map(|n| {
                // The referring node's knobs wrap the referenced tree.
                Kind::Pick {
                    strategy: Strategy::Fallback,
                    children: vec![n],
                }
            });
        }
        if strategy == Some(RawStrategy::Conditional) || has_branches {
            if has_children || strategy.is_some_and(|s| s != RawStrategy::Conditional) {
                errors.push(ConfigError::new(
                    at,
                    "conditions and default belong to strategy: conditional, without targets",
                ));
                return None;
            }
            if raw.conditions.is_empty() {
                errors.push(ConfigError::new(
                    format!("{at}.conditions"),
                    "a conditional node needs at least one condition",
                ));
            }
            let mut branches = Vec::new();
            for (i, c) in raw.conditions.iter().enumerate() {
                let cat = format!("{at}.conditions[{i}]");
                let cond = Condition::compile(&c.when, &format!("{cat}.when"))
                    .map_err(|e| errors.push(ConfigError::new(format!("{cat}.when"), e)))
                    .ok();
                let then = self.node(&c.then, &format!("{cat}.then"), stack, errors);
                if let (Some(cond), Some(then)) = (cond, then) {
                    branches.push((cond, then));
                }
            }
            let default = match &raw.default {
                Some(d) => Some(Box::new(self.node(
                    d,
                    &format!("{at}.default"),
                    stack,
                    errors,
                )?)),
                None => None,
            };
            return Some(Kind::Conditional { branches, default });
        }
        if !has_children {
            errors.push(ConfigError::new(
                at,
                "a node needs a model, a route, targets, or conditions",
            ));
            return None;
        }
        let strategy = match strategy.unwrap_or(RawStrategy::Fallback) {
            RawStrategy::Single => {
                if raw.targets.len() != 1 {
                    errors.push(ConfigError::new(
                        format!("{at}.targets"),
                        "strategy single takes exactly one target",
                    ));
                }
                Strategy::Fallback
            }
            RawStrategy::Fallback => Strategy::Fallback,
            RawStrategy::Loadbalance => Strategy::LoadBalance,
            RawStrategy::LeastLatency => Strategy::LeastLatency,
            RawStrategy::LeastBusy => Strategy::LeastBusy,
            RawStrategy::LowestCost => Strategy::LowestCost,
            RawStrategy::Conditional => unreachable_conditional(),
        };
        let children: Vec<Node> = raw
            .targets
            .iter()
            .enumerate()
            .filter_map(|(i, t)| self.node(t, &format!("{at}.targets[{i}]"), stack, errors))
            .collect();
        if strategy == Strategy::LoadBalance && children.iter().all(|c| c.weight == 0.0) {
            errors.push(ConfigError::new(
                format!("{at}.targets"),
                "loadbalance needs a target with a weight above 0",
            ));
        }
        Some(Kind::Pick { strategy, children })
    }

    fn target(&self, model: &str, at: &str, errors: &mut Vec<ConfigError>) -> Option<Target> {
        match self.index.resolve(model) {
            Ok(r) => {
                let provider = self
                    .provider_names
                    .get(r.provider)
                    .cloned()
                    .unwrap_or_default();
                Some(Target {
                    provider: r.provider,
                    model: r.model.to_owned(),
                    key: format!("{provider}/{}", r.model),
                })
            }
            Err(_) => {
                errors.push(ConfigError::new(
                    at,
                    format!(
                        "\"{model}\" matches no configured provider; write it as provider/model"
                    ),
                ));
                None
            }
        }
    }
}

/// `conditional` is handled before the strategy match; this arm cannot be reached.
fn unreachable_conditional() -> Strategy {
    Strategy::Fallback
}

#[cfg(test)]
mod tests;
