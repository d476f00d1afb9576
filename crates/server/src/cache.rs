//! The response cache on the request path: the lookup after the guardrails (a hit answers at
//! once, whole or re-streamed in the caller's shape, and never reaches a provider), and the
//! store after a successful answer that passed its output checks: a whole one at once, a
//! streamed one gathered as it passes (`stream.rs`) and stored at its clean end.

mod semantic;
mod stream;

pub use semantic::index_of;

use crate::context::RequestCtx;
use crate::route::Plan;
use crate::state::AppState;
use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use http_body_util::BodyExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use switchyard_cache::{CacheStore, Entry, Key, KeyParts};
use switchyard_guardrails::policy::Stage;

/// On every response when a cache is configured: `hit`, `miss` or `bypass`.
pub const HEADER: &str = "x-switchyard-cache";
/// The key of the entry that answered or will hold the answer (64 hex digits).
pub const KEY_HEADER: &str = "x-switchyard-cache-key";
/// A namespace within the caller's workspace (entries are shared only within it).
pub const NAMESPACE_HEADER: &str = "x-switchyard-cache-namespace";
/// Portkey's force-refresh header, honoured for users coming from it.
const PORTKEY_REFRESH: &str = "x-portkey-cache-force-refresh";
/// Portkey's config header: only its `cache` object is read.
const PORTKEY_CONFIG: &str = "x-portkey-config";

/// The store the config asks for: `previous` kept across a reload (the settings that make a
/// store only change with a restart); memory, or Redis with memory in front.
pub fn store_of(
    cfg: &switchyard_config::CacheSettings,
    previous: Option<&Arc<dyn CacheStore>>,
) -> Result<Option<Arc<dyn CacheStore>>, switchyard_config::ConfigError> {
    if !cfg.in_use() {
        return Ok(None);
    }
    if let Some(p) = previous {
        return Ok(Some(Arc::clone(p)));
    }
    Ok(Some(match &cfg.redis_url {
        Some(url) => switchyard_cache::redis::RedisStore::open(
            url.expose(),
            &cfg.redis_prefix,
            cfg.max_bytes,
        )
        .map_err(|e| switchyard_config::ConfigError::new("cache.redis_url", e.0))?,
        None => Arc::new(switchyard_cache::MemoryStore::new(cfg.max_bytes)),
    }))
}

/// Stores `entry` for `pending` (without holding up the answer: a shared store is written
/// in the background), indexes its prompt for the semantic cache, and counts it.
fn keep(
    store: Arc<dyn CacheStore>,
    index: Option<&Arc<switchyard_cache::semantic::SemanticIndex>>,
    metrics: &CacheMetrics,
    pending: Pending,
    entry: Entry,
) {
    metrics.stored.fetch_add(1, Ordering::Relaxed);
    if let (Some(near), Some(index)) = (pending.near, index) {
        semantic::index(&store, index, near, pending.key, entry.expires_ms);
    }
    let put = store.put(pending.key, entry);
    // The memory store has stored it by now; Redis's write finishes on its own.
    tokio::spawn(async move {
        if let Err(e) = put.await {
            tracing::warn!(error = %e, "storing an answer in the cache failed");
        }
    });
}

/// The cache's counters for `/metrics`.
#[derive(Default)]
pub struct CacheMetrics {
    hits: AtomicU64,
    semantic_hits: AtomicU64,
    misses: AtomicU64,
    bypassed: AtomicU64,
    stored: AtomicU64,
    /// Lookups the store could not answer (Redis down): served as bypasses.
    errors: AtomicU64,
    /// What the hits' answers cost when they were made: what the cache saved.
    saved_nanos: AtomicU64,
}

impl CacheMetrics {
    fn note_error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters since start, for the admin API's stats.
    pub fn json(&self) -> serde_json::Value {
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let (hit, semantic, miss) = (n(&self.hits), n(&self.semantic_hits), n(&self.misses));
        let looked = hit + semantic + miss;
        serde_json::json!({
            "requests": {"hit": hit, "semantic_hit": semantic, "miss": miss,
                "bypass": n(&self.bypassed)},
            "hit_rate": (looked > 0).then(|| (hit + semantic) as f64 / looked as f64),
            "stored": n(&self.stored),
            "errors": n(&self.errors),
            "saved_usd": n(&self.saved_nanos) as f64 / 1e9,
        })
    }

    pub fn write(&self, store: Option<&dyn CacheStore>, out: &mut String) {
        use std::fmt::Write;
        let Some(store) = store else {
            return;
        };
        let _ = writeln!(
            out,
            "# HELP switchyard_cache_requests_total Requests the response cache saw, by status\n# TYPE switchyard_cache_requests_total counter"
        );
        for (status, n) in [
            ("hit", &self.hits),
            ("semantic-hit", &self.semantic_hits),
            ("miss", &self.misses),
            ("bypass", &self.bypassed),
        ] {
            let _ = writeln!(
                out,
                "switchyard_cache_requests_total{{status=\"{status}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
        let st = store.memory().stats();
        for (name, kind, help, v) in [
            (
                "switchyard_cache_errors_total",
                "counter",
                "Cache lookups the store could not answer (the request went on uncached)",
                self.errors.load(Ordering::Relaxed) as f64,
            ),
            (
                "switchyard_cache_stored_total",
                "counter",
                "Answers stored in the response cache",
                self.stored.load(Ordering::Relaxed) as f64,
            ),
            (
                "switchyard_cache_saved_usd_total",
                "counter",
                "What the answers served from the cache cost when they were made",
                self.saved_nanos.load(Ordering::Relaxed) as f64 / 1e9,
            ),
            (
                "switchyard_cache_entries",
                "gauge",
                "Answers the in-memory cache (Redis's memory tier) holds",
                st.entries as f64,
            ),
            (
                "switchyard_cache_bytes",
                "gauge",
                "Bytes the in-memory cache holds (answers and keys)",
                st.bytes as f64,
            ),
            (
                "switchyard_cache_max_bytes",
                "gauge",
                "The in-memory cache's bound (cache.max_bytes)",
                st.max_bytes as f64,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
            );
        }
    }
}

/// What the lookup decided.
pub enum Lookup {
    /// No cache configured: nothing is said.
    Off,
    /// Not looked up, not stored (a stream, `no-store`, caching off for this route or key).
    Bypass,
    /// Answered from the cache.
    Hit(Response),
    /// Not there (or refreshed): the answer is stored if it qualifies.
    Miss(Pending),
}

/// A miss, to be stored once answered.
pub struct Pending {
    key: Key,
    namespace: String,
    stored_by: String,
    ttl: Duration,
    /// The prompt's place for the semantic cache, when it is on for this request.
    near: Option<semantic::Near>,
    clock: Arc<Clock>,
}

impl Pending {
    /// The entry for `body`, made by `provider`'s `model` with `usage`, at `cost_nanos`; it
    /// expires after the TTL the lookup found.
    fn entry(
        &self,
        body: Bytes,
        provider: String,
        model: String,
        usage: Option<&switchyard_providers::usage::Usage>,
        cost_nanos: u64,
    ) -> Entry {
        let now = self.clock.now_ms();
        Entry {
            body,
            namespace: self.namespace.clone(),
            stored_by: self.stored_by.clone(),
            provider,
            model,
            prompt_tokens: usage.map_or(0, |u| u.input),
            completion_tokens: usage.map_or(0, |u| u.output),
            cost_nanos,
            created_ms: now,
            expires_ms: now + self.ttl.as_millis() as i64,
        }
    }
}

/// Whether an output guardrail acted on the answer (anything but a flag): such an answer is
/// not stored.
fn acted_on(verdicts: &[switchyard_guardrails::Verdict]) -> bool {
    verdicts.iter().any(|v| {
        v.fired
            && v.action
                .is_some_and(|a| a != switchyard_guardrails::Action::Flag)
    })
}

fn provider_name(state: &AppState, i: usize) -> String {
    state
        .cfg
        .providers
        .get(i)
        .map(|p| p.name.clone())
        .unwrap_or_default()
}

/// What the caller asked of the cache.
#[derive(Default)]
struct Controls {
    no_store: bool,
    refresh: bool,
    max_age: Option<Duration>,
    /// Portkey-style `cache.mode`: `Some(true)` semantic, `Some(false)` simple (exact only).
    semantic: Option<bool>,
}

/// The `cache` object of a Portkey-style config header (`x-switchyard-config` or
/// `x-portkey-config`): `{"mode": "simple"|"semantic", "max_age": seconds, "force_refresh":
/// bool}`.
fn config_cache(headers: &HeaderMap) -> Option<serde_json::Value> {
    [crate::route::CONFIG_HEADER, PORTKEY_CONFIG]
        .iter()
        .filter_map(|h| headers.get(*h)?.to_str().ok())
        .filter_map(|t| serde_json::from_str::<serde_json::Value>(t).ok())
        .find_map(|mut v| v.get_mut("cache").map(serde_json::Value::take))
}

/// Whether a config header holds nothing but cache settings (so it names no route).
pub fn only_cache_config(v: &HeaderValue) -> bool {
    v.to_str()
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
        .and_then(|v| {
            v.as_object()
                .map(|o| o.len() == 1 && o.contains_key("cache"))
        })
        .unwrap_or(false)
}

fn controls(headers: &HeaderMap) -> Controls {
    let mut c = Controls::default();
    let values = headers
        .get_all(http::header::CACHE_CONTROL)
        .iter()
        .chain(headers.get_all(HEADER).iter())
        .filter_map(|v| v.to_str().ok());
    for v in values {
        for d in v.split(',').map(|d| d.trim().to_ascii_lowercase()) {
            match d.as_str() {
                "no-store" => c.no_store = true,
                "no-cache" | "force-refresh" => c.refresh = true,
                _ => {
                    if let Some(secs) = d.strip_prefix("max-age=") {
                        c.max_age = secs.parse::<u64>().ok().map(Duration::from_secs);
                    }
                }
            }
        }
    }
    if headers
        .get(PORTKEY_REFRESH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        c.refresh = true;
    }
    if let Some(cfg) = config_cache(headers) {
        match cfg.get("mode").and_then(serde_json::Value::as_str) {
            Some("semantic") => c.semantic = Some(true),
            Some("simple") => c.semantic = Some(false),
            _ => {}
        }
        if let Some(secs) = cfg.get("max_age").and_then(serde_json::Value::as_u64) {
            c.max_age = Some(Duration::from_secs(secs));
        }
        if cfg
            .get("force_refresh")
            .and_then(serde_json::Value::as_bool)
            == Some(true)
        {
            c.refresh = true;
        }
    }
    c
}

/// The cache's clock: the wall clock, unless a test paused it (entries' ages and TTLs are then
/// read from the time it set).
#[derive(Debug)]
pub struct Clock {
    /// Unix ms the clock stands at while paused; `i64::MIN` while it runs.
    paused_at: std::sync::atomic::AtomicI64,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            paused_at: std::sync::atomic::AtomicI64::new(i64::MIN),
        }
    }
}

impl Clock {
    pub fn now_ms(&self) -> i64 {
        match self.paused_at.load(Ordering::Relaxed) {
            i64::MIN => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
            t => t,
        }
    }

    /// Stops the clock where it is.
    pub fn pause(&self) {
        let now = self.now_ms();
        self.paused_at.store(now, Ordering::Relaxed);
    }

    /// Moves a paused clock on by `d`.
    pub fn advance(&self, d: Duration) {
        self.paused_at
            .fetch_add(d.as_millis() as i64, Ordering::Relaxed);
    }
}

/// Looks the request up. `body` is what goes upstream (after the input guardrails).
pub async fn lookup(
    state: &AppState,
    ctx: &mut RequestCtx,
    headers: &HeaderMap,
    body: &Bytes,
    plan: &Plan<'_>,
) -> Lookup {
    let decided = decide(state, ctx, headers, body, plan).await;
    if matches!(decided, Lookup::Bypass) {
        state.cache_metrics.bypassed.fetch_add(1, Ordering::Relaxed);
    }
    decided
}

async fn decide(
    state: &AppState,
    ctx: &mut RequestCtx,
    headers: &HeaderMap,
    body: &Bytes,
    plan: &Plan<'_>,
) -> Lookup {
    let Some(store) = state.cache.as_ref() else {
        return Lookup::Off;
    };
    ctx.cache = Some("bypass");
    let key_name = ctx
        .principal
        .as_ref()
        .map(|p| p.key_id.clone().unwrap_or_else(|| p.key_name.clone()));
    let Some(cache_plan) = state
        .cfg
        .cache
        .for_request(ctx.route.as_deref(), key_name.as_deref())
    else {
        return Lookup::Bypass;
    };
    let ttl = cache_plan.ttl;
    let c = controls(headers);
    // Streamed requests of the APIs whose answers stream (chat, Messages, Responses).
    let shape = switchyard_cache::shape::Shape::of(ctx.op.name());
    if c.no_store || (ctx.stream && shape.is_none()) {
        return Lookup::Bypass;
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Lookup::Bypass;
    };
    let workspace = ctx
        .principal
        .as_ref()
        .map_or("default", |p| p.workspace.as_str());
    let namespace = match headers.get(NAMESPACE_HEADER).and_then(|v| v.to_str().ok()) {
        Some(n) if !n.is_empty() => format!("{workspace}/{n}"),
        _ => workspace.to_owned(),
    };
    let target = match plan {
        Plan::Direct { provider, model } => state
            .cfg
            .providers
            .get(*provider)
            .map_or_else(|| (*model).to_owned(), |p| format!("{}/{model}", p.name)),
        Plan::Tree { .. } => ctx.route.clone().unwrap_or_default(),
    };
    let policies: Vec<String> = ctx
        .guarded
        .set
        .policies
        .iter()
        .filter(|p| p.runs_at(Stage::Output))
        .map(|p| p.id.clone())
        .collect();
    let key = Key::new(&KeyParts {
        scope: &namespace,
        operation: ctx.op.name(),
        target: &target,
        policies: &policies,
        body: &value,
    });
    ctx.cache_key = Some(key);
    // The prompt's embedding, when this request may be matched by meaning: looked up after
    // the exact key misses, and stored with the answer.
    // The caller may ask for the exact cache only, or for the semantic one where the config
    // has an index and did not turn it off for the route or key.
    let semantic = match c.semantic {
        Some(false) => false,
        Some(true) => {
            state.semantic.is_some()
                && !state
                    .cfg
                    .cache
                    .semantic_refused(ctx.route.as_deref(), key_name.as_deref())
        }
        None => cache_plan.semantic,
    };
    let near = if semantic {
        semantic::embed(state, ctx, &namespace, &target, &policies, &value).await
    } else {
        None
    };
    if !c.refresh {
        let max_age = c.max_age.map(|d| d.as_millis() as i64);
        let mut found = match store.get(&key, state.cache_clock.now_ms(), max_age).await {
            Ok(found) => found.map(|e| (e, None)),
            Err(e) => {
                tracing::warn!(error = %e, "the cache could not be read; answering uncached");
                state.cache_metrics.errors.fetch_add(1, Ordering::Relaxed);
                return Lookup::Bypass;
            }
        };
        if found.is_none() {
            if let Some(n) = &near {
                found = semantic::nearest(state, store.as_ref(), n, max_age).await;
            }
        }
        if let Some((e, similarity)) = found {
            return serve(state, ctx, &value, shape, &e, similarity);
        }
    }
    ctx.cache = Some("miss");
    state.cache_metrics.misses.fetch_add(1, Ordering::Relaxed);
    Lookup::Miss(Pending {
        key,
        namespace,
        stored_by: key_name.unwrap_or_default(),
        ttl,
        near,
        clock: Arc::clone(&state.cache_clock),
    })
}

/// Answers from `e` (found by the exact key, or by meaning with `similarity`), whole or
/// re-streamed as the request asks.
fn serve(
    state: &AppState,
    ctx: &mut RequestCtx,
    request: &serde_json::Value,
    shape: Option<switchyard_cache::shape::Shape>,
    e: &Entry,
    similarity: Option<f32>,
) -> Lookup {
    let resp = if let (true, Some(shape)) = (ctx.stream, shape) {
        let Ok(whole) = serde_json::from_slice::<serde_json::Value>(&e.body) else {
            return Lookup::Bypass;
        };
        let usage = request
            .pointer("/stream_options/include_usage")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        let sse = shape.to_events(&whole, usage);
        let mut r = Response::new(Body::from(sse));
        r.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        r
    } else {
        let mut r = Response::new(Body::from(e.body.clone()));
        r.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    };
    if let Some(a) = ctx.admitted.take() {
        // A hit costs no provider anything: the request counts, its tokens do not.
        crate::limits::release(state, a);
    }
    ctx.cache = Some(if similarity.is_some() {
        "semantic-hit"
    } else {
        "hit"
    });
    ctx.cache_hit = Some(crate::context::CacheHit {
        provider: e.provider.clone(),
        model: e.model.clone(),
        saved_nanos: e.cost_nanos,
        similarity: similarity.map(|s| f64::from((s * 10_000.0).round() / 10_000.0)),
    });
    let m = &state.cache_metrics;
    if similarity.is_some() {
        m.semantic_hits.fetch_add(1, Ordering::Relaxed);
    } else {
        m.hits.fetch_add(1, Ordering::Relaxed);
    }
    m.saved_nanos.fetch_add(e.cost_nanos, Ordering::Relaxed);
    Lookup::Hit(resp)
}

/// Names the cache's part in the answer (`x-switchyard-cache`), errors included, and the
/// entry's key (`x-switchyard-cache-key`, to purge it by) when there is one.
pub fn add_header(ctx: &RequestCtx, resp: &mut Response) {
    if let Some(status) = ctx.cache {
        resp.headers_mut().insert(
            HeaderName::from_static(HEADER),
            HeaderValue::from_static(status),
        );
    }
    if let Some(k) = &ctx.cache_key {
        if let Ok(v) = HeaderValue::from_str(&k.hex()) {
            resp.headers_mut()
                .insert(HeaderName::from_static(KEY_HEADER), v);
        }
    }
}

/// Gathers a streamed answer as it goes to the caller, to store it at its clean end.
pub fn store_stream(
    state: &AppState,
    ctx: &RequestCtx,
    pending: Pending,
    resp: Response,
) -> Response {
    let (Some(store), Some(last), Some(shape)) = (
        state.cache.as_ref(),
        ctx.attempts.last(),
        switchyard_cache::shape::Shape::of(ctx.op.name()),
    ) else {
        return resp;
    };
    if resp.status() != http::StatusCode::OK {
        return resp;
    }
    let pricing = state.cfg.providers.get(last.provider).and_then(|p| {
        state
            .cfg
            .catalog
            .lookup(p.catalog_namespace(), &last.model)
            .and_then(|(_, e)| e.pricing())
    });
    let storing = stream::Storing {
        store: Arc::clone(store),
        index: state.semantic.clone(),
        metrics: state.cache_metrics.clone(),
        pending,
        meter: last.meter.clone(),
        provider: provider_name(state, last.provider),
        model: last.model.clone(),
        pricing,
    };
    let (parts, body) = resp.into_parts();
    Response::from_parts(
        parts,
        Body::new(stream::Gathering::new(body, shape, storing)),
    )
}

/// Stores a whole answer that succeeded and passed its output checks (a deny, retry or
/// fallback that fired, a redaction, or any error leaves it out).
pub async fn store(
    state: &AppState,
    ctx: &RequestCtx,
    pending: Pending,
    resp: Response,
) -> Response {
    let (parts, body) = resp.into_parts();
    let clean = parts.status == http::StatusCode::OK && !acted_on(&ctx.guarded.verdicts);
    let bytes = match body.collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) => {
            tracing::warn!(error = %e, "reading an answer to cache it failed");
            return Response::from_parts(parts, Body::empty());
        }
    };
    if let (true, Some(store), Some(last)) = (clean, state.cache.as_ref(), ctx.attempts.last()) {
        let usage = last.meter.read().usage;
        let cost = usage
            .as_ref()
            .and_then(|u| state.cost(last.provider, &last.model, u))
            .map_or(0, |c| (c * 1e9).round() as u64);
        let entry = pending.entry(
            bytes.clone(),
            provider_name(state, last.provider),
            last.model.clone(),
            usage.as_ref(),
            cost,
        );
        keep(
            Arc::clone(store),
            state.semantic.as_ref(),
            &state.cache_metrics,
            pending,
            entry,
        );
    }
    Response::from_parts(parts, Body::from(bytes))
}
