//! Shared state built once at start-up from the validated config.

use crate::upstream::Upstream;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use switchyard_config::{Config, ConfigError};
use switchyard_routing::Router;
use tokio::sync::watch;

pub struct AppState {
    pub cfg: Config,
    /// Model resolution and the named routes.
    pub router: Router,
    /// Route targets' recent behaviour.
    pub health: crate::route::Health,
    /// The share of traffic retries may take.
    pub budget: crate::route::Budget,
    /// Seeds each request's random draws.
    rng: std::sync::Mutex<fastrand::Rng>,
    /// One per `cfg.providers` entry, same order.
    pub upstreams: Vec<Upstream>,
    /// Downloads images for providers that take them only inline.
    pub images: crate::images::ImageFetcher,
    /// GET /v1/models bodies, serialised once.
    pub models: crate::models::Listing,
    /// Set when shutdown begins; /readyz then answers 503.
    pub draining: AtomicBool,
    /// Set when the drain deadline passes: requests still running end with a `shutting_down`
    /// error in the caller's shape (streams with an error event) instead of being cut.
    pub hard_stop: watch::Sender<bool>,
    /// The request log's queue and store.
    pub log: crate::observe::queue::RequestLog,
    /// Request counters and histograms for /metrics.
    pub metrics: crate::observe::metrics::Metrics,
    /// Trace export, when an OTLP endpoint is configured.
    pub otel: Option<crate::observe::otlp::Otel>,
    /// Client connections: open, accepted, closed by timeouts, cap reached.
    pub conns: crate::listen::ConnMetrics,
    /// Workspaces and virtual keys, once opened at start-up (`startup::open_tenants`); unset
    /// when `server.tenants.enabled` is false.
    pub tenants: std::sync::OnceLock<Arc<switchyard_tenants::Tenants>>,
    /// JWT bearer auth, when `server.tenants.jwt` is configured (its key set is fetched by
    /// `startup::open_tenants`).
    pub jwt: Option<Arc<crate::jwt::JwtAuth>>,
}

impl AppState {
    pub fn build(cfg: Config) -> Result<Arc<Self>, Vec<ConfigError>> {
        let router = Router::build(&cfg)?;
        let budget = crate::route::Budget::new(cfg.retry_budget);
        let health = crate::route::Health::new(cfg.circuit, cfg.limits.max_series);
        // Every configured route target is listed by /admin/health from the start.
        for name in router.route_names() {
            if let Some(tree) = router.route(name) {
                for t in tree.targets() {
                    health.configured(&t.key);
                }
            }
        }
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
        let models = crate::models::build(&router, &cfg);
        let otel = match cfg.otel.clone() {
            Some(o) => Some(
                crate::observe::otlp::Otel::new(o, &tls)
                    .map_err(|e| vec![ConfigError::new("server.otel", e)])?,
            ),
            None => None,
        };
        let log = crate::observe::queue::RequestLog::new(cfg.log.clone());
        let metrics = crate::observe::metrics::Metrics::new(
            crate::observe::metrics::Declared::build(&cfg, &router),
            cfg.limits.max_series,
        );
        let jwt = match &cfg.tenants.jwt {
            Some(j) => Some(Arc::new(
                crate::jwt::JwtAuth::new(j, tls.clone())
                    .map_err(|e| vec![ConfigError::new("server.tenants.jwt", e)])?,
            )),
            None => None,
        };
        let images = crate::images::ImageFetcher::new(tls, cfg.image_fetch);
        Ok(Arc::new(Self {
            images,
            cfg,
            health,
            budget,
            rng: std::sync::Mutex::new(rng),
            router,
            upstreams,
            models,
            draining: AtomicBool::new(false),
            hard_stop: watch::channel(false).0,
            log,
            metrics,
            otel,
            conns: crate::listen::ConnMetrics::default(),
            tenants: std::sync::OnceLock::new(),
            jwt,
        }))
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
