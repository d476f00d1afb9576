//! Shared state built once at start-up from the validated config.

use crate::upstream::Upstream;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use switchyard_config::{Config, ConfigError};
use switchyard_routing::Router;
use tokio::sync::watch;

/// Everything a request reads, built from one config. A request keeps the `Arc` it started
/// with; a reload (`Gateway::install`) swaps in a new one built from the new config, sharing
/// the parts that outlive configs (queues, counters, the tenants, circuit state).
pub struct AppState {
    pub cfg: Config,
    /// Model resolution and the named routes.
    pub router: Router,
    /// Route targets' recent behaviour.
    pub health: Arc<crate::route::Health>,
    /// The share of traffic retries may take.
    pub budget: Arc<crate::route::Budget>,
    /// Seeds each request's random draws.
    rng: std::sync::Mutex<fastrand::Rng>,
    /// One per `cfg.providers` entry, same order.
    pub upstreams: Vec<Upstream>,
    /// Downloads images for providers that take them only inline.
    pub images: crate::images::ImageFetcher,
    /// GET /v1/models bodies, serialised once.
    pub models: crate::models::Listing,
    /// Set when shutdown begins; /readyz then answers 503.
    pub draining: Arc<AtomicBool>,
    /// Set when the drain deadline passes: requests still running end with a `shutting_down`
    /// error in the caller's shape (streams with an error event) instead of being cut.
    pub hard_stop: Arc<watch::Sender<bool>>,
    /// The request log's queue and store.
    pub log: Arc<crate::observe::queue::RequestLog>,
    /// Request counters and histograms for /metrics.
    pub metrics: Arc<crate::observe::metrics::Metrics>,
    /// Trace export, when an OTLP endpoint is configured.
    pub otel: Option<Arc<crate::observe::otlp::Otel>>,
    /// Client connections: open, accepted, closed by timeouts, cap reached.
    pub conns: Arc<crate::listen::ConnMetrics>,
    /// Workspaces and virtual keys, once opened at start-up (`startup::open_tenants`); unset
    /// when `server.tenants.enabled` is false.
    pub tenants: Arc<std::sync::OnceLock<Arc<switchyard_tenants::Tenants>>>,
    /// JWT bearer auth, when `server.tenants.jwt` is configured (its key set is fetched by
    /// `startup::open_tenants`, and by `reload` when the settings change).
    pub jwt: Option<Arc<crate::jwt::JwtAuth>>,
    /// Config reloads done and refused.
    pub reloads: Arc<Reloads>,
    /// Requests the catalog could not price.
    pub unpriced: Arc<Unpriced>,
    /// Budget alerts raised.
    pub alerts: Arc<crate::limits::alerts::AlertCounts>,
    /// Guardrail checks run, by policy, check, stage and result.
    pub guard_metrics: Arc<crate::observe::guardrails::GuardMetrics>,
    /// The response cache's counters (kept across reloads).
    pub cache_metrics: Arc<crate::cache::CacheMetrics>,
    /// Adaptive experiments' current allocations, by `workspace/id` (kept across reloads).
    pub experiment_alloc: Arc<crate::experiments::Allocations>,
    /// Dataset runs in progress on this replica (kept across reloads).
    pub runs: Arc<crate::runs::Runs>,
    /// The cache's clock (kept across reloads; tests pause it).
    pub cache_clock: Arc<crate::cache::Clock>,
    /// Static keys' principals for one tenants' snapshot version (`auth::caller`).
    pub static_principals: StaticPrincipals,
    /// Where limits are counted; outlives reloads (the rules change, the counts stay).
    pub limit_store: Arc<dyn switchyard_limits::store::LimitStore>,
    /// Calls to the limits' store that failed (a metric).
    pub limit_store_errors: Arc<std::sync::atomic::AtomicU64>,
    /// The same store when it is the in-memory one, whose budgets are saved to the embedded
    /// database (`startup::open_limits`, `persist_limits`).
    pub limit_memory: Option<Arc<switchyard_limits::store::memory::MemoryStore>>,
    /// The config's limits (those set through the admin API come from the tenants' snapshot).
    pub limits: Arc<switchyard_limits::gate::Gate>,
    /// The admin API's limits, resolved, for one tenants' snapshot version.
    pub api_limits: ApiLimits,
    /// The admin API's guardrail policies, built, for one tenants' snapshot version (and this
    /// state's config: a reload starts afresh).
    pub api_guardrails: ApiGuardrails,
    /// The prompts, compiled, for one tenants' snapshot version.
    pub api_prompts: arc_swap::ArcSwapOption<crate::prompts::ApiPrompts>,
    /// The response cache's store, when the config caches anything (`cache:`).
    pub cache: Option<Arc<dyn switchyard_cache::CacheStore>>,
    /// The semantic cache's index of prompt embeddings, when any request may use it.
    pub semantic: Option<Arc<switchyard_cache::semantic::SemanticIndex>>,
}

/// Guardrail policies set through the admin API, built once per snapshot version.
pub type ApiGuardrails = arc_swap::ArcSwapOption<crate::guard::ApiPolicies>;

/// Limits set through the admin API, resolved once per snapshot version.
pub type ApiLimits = arc_swap::ArcSwapOption<(u64, Vec<Arc<switchyard_limits::model::Limit>>)>;

/// The limits stage for `cfg`'s rules over `store`.
fn gate_of(
    cfg: &Config,
    store: &Arc<dyn switchyard_limits::store::LimitStore>,
    errors: &Arc<std::sync::atomic::AtomicU64>,
) -> Arc<switchyard_limits::gate::Gate> {
    let r = &cfg.limit_rules;
    {
        Arc::new(
            switchyard_limits::gate::Gate::new(
                Arc::clone(store),
                r.rules.clone(),
                r.reservation_ttl,
                match r.unpriced {
                    switchyard_config::Unpriced::Deny => {
                        switchyard_limits::gate::UnpricedPolicy::Deny
                    }
                    switchyard_config::Unpriced::TokensOnly => {
                        switchyard_limits::gate::UnpricedPolicy::TokensOnly
                    }
                },
            )
            .with_failures(r.fail_open, Arc::clone(errors)),
        )
    }
}

/// The in-memory store, when it is the one.
type Memory = Option<Arc<switchyard_limits::store::memory::MemoryStore>>;

/// The limits' store: Redis when configured (connected on first use), else memory.
fn limit_store_of(
    cfg: &Config,
) -> Result<(Arc<dyn switchyard_limits::store::LimitStore>, Memory), Vec<ConfigError>> {
    Ok(match &cfg.limit_rules.redis_url {
        Some(url) => (
            Arc::new(
                switchyard_limits::store::redis::RedisStore::new(
                    url.expose(),
                    &cfg.limit_rules.redis_prefix,
                )
                .map_err(|e| vec![ConfigError::new("limits.redis_url", e.to_string())])?,
            ),
            None,
        ),
        None => {
            let m = Arc::new(switchyard_limits::store::memory::MemoryStore::new());
            (m.clone(), Some(m))
        }
    })
}

/// Static keys' principals, by key index, made for one snapshot version.
pub type StaticPrincipals = arc_swap::ArcSwapOption<(u64, Vec<Arc<switchyard_tenants::Principal>>)>;

/// Requests whose model has no price in the catalog: counted, and each model named in the log
/// once (at most `MAX_UNPRICED_NAMES` names remembered).
#[derive(Debug, Default)]
pub struct Unpriced {
    pub requests: AtomicU64,
    named: std::sync::Mutex<std::collections::HashSet<String>>,
}

const MAX_UNPRICED_NAMES: usize = 1000;

impl Unpriced {
    /// Counts a request for `provider/model`, which used tokens the catalog cannot price.
    pub fn note(&self, provider: &str, model: &str) {
        self.requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let key = format!("{provider}/{model}");
        let mut named = self
            .named
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if named.len() < MAX_UNPRICED_NAMES && named.insert(key) {
            tracing::warn!(provider, model, "the catalog has no price for this model: its requests are recorded with cost_usd null (add it under catalog: in the config, or run `switchyard catalog update`)");
        }
    }
}

/// Config reloads, for /metrics.
#[derive(Debug, Default)]
pub struct Reloads {
    pub applied: AtomicU64,
    pub refused: AtomicU64,
}

/// What a config builds on its own.
struct Derived {
    router: Router,
    upstreams: Vec<Upstream>,
    models: crate::models::Listing,
    images: crate::images::ImageFetcher,
    rng: fastrand::Rng,
    tls: crate::upstream::TlsConfig,
}

fn derive(cfg: &Config) -> Result<Derived, Vec<ConfigError>> {
    let router = Router::build(cfg)?;
    let rng = cfg
        .routing_seed
        .map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed);
    let mut upstreams = Vec::with_capacity(cfg.providers.len());
    let mut errors = Vec::new();
    let tls = crate::upstream::tls_config().map_err(|e| vec![ConfigError::new("", e)])?;
    for (i, p) in cfg.providers.iter().enumerate() {
        match Upstream::new(p, &tls) {
            Ok(u) => upstreams.push(u),
            Err(e) => errors.push(ConfigError::new(format!("providers[{i}]"), e)),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let models = crate::models::build(&router, cfg);
    let images = crate::images::ImageFetcher::new(tls.clone(), cfg.image_fetch);
    Ok(Derived {
        router,
        upstreams,
        models,
        images,
        rng,
        tls,
    })
}

fn jwt_of(
    cfg: &Config,
    tls: &crate::upstream::TlsConfig,
) -> Result<Option<Arc<crate::jwt::JwtAuth>>, Vec<ConfigError>> {
    match &cfg.tenants.jwt {
        Some(j) => Ok(Some(Arc::new(
            crate::jwt::JwtAuth::new(j, tls.clone())
                .map_err(|e| vec![ConfigError::new("server.tenants.jwt", e)])?,
        ))),
        None => Ok(None),
    }
}

/// Lists every configured route target in the health table (so `/admin/health` shows them
/// before any traffic).
fn list_targets(router: &Router, health: &crate::route::Health) {
    for name in router.route_names() {
        if let Some(tree) = router.route(name) {
            for t in tree.targets() {
                health.configured(&t.key);
            }
        }
    }
}

impl AppState {
    pub fn build(cfg: Config) -> Result<Arc<Self>, Vec<ConfigError>> {
        let d = derive(&cfg)?;
        let budget = crate::route::Budget::new(cfg.retry_budget);
        let health = crate::route::Health::new(cfg.circuit, cfg.limits.max_series);
        list_targets(&d.router, &health);
        let otel = match cfg.otel.clone() {
            Some(o) => Some(Arc::new(
                crate::observe::otlp::Otel::new(o, &d.tls)
                    .map_err(|e| vec![ConfigError::new("server.otel", e)])?,
            )),
            None => None,
        };
        let log = crate::observe::queue::RequestLog::new(cfg.log.clone());
        let metrics = crate::observe::metrics::Metrics::new(
            crate::observe::metrics::Declared::build(&cfg, &d.router),
            cfg.limits.max_series,
        );
        let jwt = jwt_of(&cfg, &d.tls)?;
        let (limit_store, limit_memory) = limit_store_of(&cfg)?;
        let limit_store_errors = Arc::default();
        let limits = gate_of(&cfg, &limit_store, &limit_store_errors);
        let cache = crate::cache::store_of(&cfg.cache, None).map_err(|e| vec![e])?;
        let semantic = crate::cache::index_of(&cfg.cache, cache.as_ref(), None);
        Ok(Arc::new(Self {
            limit_store,
            limit_memory,
            limit_store_errors,
            limits,
            api_limits: ApiLimits::empty(),
            api_guardrails: ApiGuardrails::empty(),
            api_prompts: arc_swap::ArcSwapOption::empty(),
            cache,
            semantic,
            images: d.images,
            cfg,
            health: Arc::new(health),
            budget: Arc::new(budget),
            rng: std::sync::Mutex::new(d.rng),
            router: d.router,
            upstreams: d.upstreams,
            models: d.models,
            draining: Arc::new(AtomicBool::new(false)),
            hard_stop: Arc::new(watch::channel(false).0),
            log: Arc::new(log),
            metrics: Arc::new(metrics),
            otel,
            conns: Arc::new(crate::listen::ConnMetrics::default()),
            tenants: Arc::new(std::sync::OnceLock::new()),
            jwt,
            reloads: Arc::new(Reloads::default()),
            unpriced: Arc::default(),
            alerts: Arc::default(),
            guard_metrics: Arc::default(),
            cache_metrics: Arc::default(),
            experiment_alloc: Arc::default(),
            runs: Arc::default(),
            cache_clock: Arc::default(),
            static_principals: StaticPrincipals::empty(),
        }))
    }

    /// The state for a new config: routes, providers, aliases, keys, the catalog, image
    /// fetching, request limits and JWT settings from `cfg`; queues, counters, circuit state,
    /// the tenants and the retry budget carried over. Settings that only a restart changes keep
    /// their running values (so `cfg` always says what is in effect) and are returned by name
    /// when the new config changed them. The JWT verifier is kept when its settings did not
    /// change.
    pub fn reconfigure(
        &self,
        mut cfg: Config,
    ) -> Result<(Arc<Self>, Vec<&'static str>), Vec<ConfigError>> {
        let restart = self.restart_only(&cfg);
        let old = &self.cfg;
        cfg.listen = old.listen;
        cfg.log = old.log.clone();
        cfg.otel = old.otel.clone();
        cfg.tenants = switchyard_config::TenantSettings {
            jwt: cfg.tenants.jwt.take(),
            ..old.tenants.clone()
        };
        cfg.circuit = old.circuit;
        cfg.retry_budget = old.retry_budget;
        cfg.drain_timeout = old.drain_timeout;
        cfg.limits.max_connections = old.limits.max_connections;
        cfg.limits.header_read_timeout = old.limits.header_read_timeout;
        cfg.limits.idle_timeout = old.limits.idle_timeout;
        cfg.limit_rules
            .redis_url
            .clone_from(&old.limit_rules.redis_url);
        cfg.limit_rules
            .redis_prefix
            .clone_from(&old.limit_rules.redis_prefix);
        cfg.cache.redis_url.clone_from(&old.cache.redis_url);
        cfg.cache.redis_prefix.clone_from(&old.cache.redis_prefix);
        cfg.cache.max_bytes = old.cache.max_bytes;
        cfg.cache.semantic.max_entries = old.cache.semantic.max_entries;
        let d = derive(&cfg)?;
        list_targets(&d.router, &self.health);
        self.metrics
            .declare(crate::observe::metrics::Declared::build(&cfg, &d.router));
        let jwt = if cfg.tenants.jwt == self.cfg.tenants.jwt {
            self.jwt.clone()
        } else {
            jwt_of(&cfg, &d.tls)?
        };
        let limits = gate_of(&cfg, &self.limit_store, &self.limit_store_errors);
        let cache = crate::cache::store_of(&cfg.cache, self.cache.as_ref()).map_err(|e| vec![e])?;
        let semantic = crate::cache::index_of(&cfg.cache, cache.as_ref(), self.semantic.as_ref());
        let state = Arc::new(Self {
            limit_store: Arc::clone(&self.limit_store),
            limit_store_errors: Arc::clone(&self.limit_store_errors),
            limit_memory: self.limit_memory.clone(),
            api_limits: ApiLimits::empty(),
            api_guardrails: ApiGuardrails::empty(),
            api_prompts: arc_swap::ArcSwapOption::empty(),
            cache,
            semantic,
            limits,
            images: d.images,
            cfg,
            health: self.health.clone(),
            budget: self.budget.clone(),
            rng: std::sync::Mutex::new(d.rng),
            router: d.router,
            upstreams: d.upstreams,
            models: d.models,
            draining: self.draining.clone(),
            hard_stop: self.hard_stop.clone(),
            log: self.log.clone(),
            metrics: self.metrics.clone(),
            otel: self.otel.clone(),
            conns: self.conns.clone(),
            tenants: self.tenants.clone(),
            jwt,
            reloads: self.reloads.clone(),
            unpriced: self.unpriced.clone(),
            alerts: self.alerts.clone(),
            guard_metrics: self.guard_metrics.clone(),
            cache_metrics: self.cache_metrics.clone(),
            experiment_alloc: self.experiment_alloc.clone(),
            runs: self.runs.clone(),
            cache_clock: self.cache_clock.clone(),
            static_principals: StaticPrincipals::empty(),
        });
        Ok((state, restart))
    }

    /// Settings in `new` that differ from this state's and only apply at a restart.
    fn restart_only(&self, new: &Config) -> Vec<&'static str> {
        let old = &self.cfg;
        let mut out = Vec::new();
        let checks: [(&'static str, bool); 10] = [
            (
                "cache.redis_url / redis_prefix / max_bytes / semantic.max_entries",
                old.cache.redis_url != new.cache.redis_url
                    || old.cache.redis_prefix != new.cache.redis_prefix
                    || old.cache.max_bytes != new.cache.max_bytes
                    || old.cache.semantic.max_entries != new.cache.semantic.max_entries,
            ),
            (
                "limits.redis_url / redis_prefix",
                old.limit_rules.redis_url != new.limit_rules.redis_url
                    || old.limit_rules.redis_prefix != new.limit_rules.redis_prefix,
            ),
            ("server.listen", old.listen != new.listen),
            ("server.log", old.log != new.log),
            ("server.otel", old.otel != new.otel),
            (
                "server.tenants (except jwt)",
                tenants_but_jwt(&old.tenants) != tenants_but_jwt(&new.tenants),
            ),
            ("server.circuit", old.circuit != new.circuit),
            ("server.retry_budget", old.retry_budget != new.retry_budget),
            (
                "server.limits (connections and timeouts)",
                old.limits.max_connections != new.limits.max_connections
                    || old.limits.header_read_timeout != new.limits.header_read_timeout
                    || old.limits.idle_timeout != new.limits.idle_timeout,
            ),
            (
                "server.drain_timeout_secs",
                old.drain_timeout != new.drain_timeout,
            ),
        ];
        for (name, changed) in checks {
            if changed {
                out.push(name);
            }
        }
        out
    }
}

/// The tenants' settings without the JWT part (which reloads).
fn tenants_but_jwt(t: &switchyard_config::TenantSettings) -> switchyard_config::TenantSettings {
    switchyard_config::TenantSettings {
        jwt: None,
        ..t.clone()
    }
}

/// The current state, swapped whole by a config reload. Handlers extract `State<Arc<AppState>>`
/// from it (`FromRef`), so each request reads the state current when it arrived until it ends.
#[derive(Clone)]
pub struct Gateway {
    current: Arc<arc_swap::ArcSwap<AppState>>,
}

impl Gateway {
    pub fn new(state: Arc<AppState>) -> Self {
        Self {
            current: Arc::new(arc_swap::ArcSwap::new(state)),
        }
    }

    /// The current state.
    pub fn load(&self) -> Arc<AppState> {
        self.current.load_full()
    }

    /// Makes `state` current for requests that arrive from now on.
    pub fn install(&self, state: Arc<AppState>) {
        self.current.store(state);
    }
}

impl axum::extract::FromRef<Gateway> for Arc<AppState> {
    fn from_ref(g: &Gateway) -> Self {
        g.load()
    }
}

impl AppState {
    /// A generator for one request's draws, from the shared seeded one (so a seeded gateway
    /// makes the same choices for the same sequence of requests).
    pub fn rng(&self) -> fastrand::Rng {
        let mut shared = self
            .rng
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        fastrand::Rng::with_seed(shared.u64(..))
    }
}

impl AppState {
    /// What `model` at provider `provider` (an index into the providers) costs for `usage`, from
    /// the model catalog; `None` when the catalog has no price for it.
    pub fn cost(
        &self,
        provider: usize,
        model: &str,
        usage: &switchyard_providers::usage::Usage,
    ) -> Option<f64> {
        let ns = self.cfg.providers.get(provider)?.catalog_namespace();
        let pricing = self.cfg.catalog.lookup(ns, model)?.1.pricing()?;
        Some(switchyard_providers::catalog::cost(&pricing, usage))
    }

    /// Whether request bodies are kept for the record (the log's bodies, or trace content).
    pub fn keeps_bodies(&self) -> bool {
        (self.log.enabled() && self.log.settings.bodies)
            || self
                .otel
                .as_ref()
                .is_some_and(|o| o.settings.capture_content)
    }
}
