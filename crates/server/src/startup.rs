//! Start-up and drain: the exposure check, the listener, and graceful shutdown with a deadline.

use crate::state::{AppState, Gateway};
use axum::Router;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use switchyard_config::Config;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long requests ended at the drain deadline get to write their error before the sockets close.
const HARD_STOP_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

/// Refuses a public listener without client keys unless the operator said so explicitly.
pub fn check_exposure(cfg: &Config, virtual_keys: usize) -> Result<(), String> {
    let ip = cfg.listen.ip();
    if ip.is_loopback()
        || !cfg.client_keys.is_empty()
        || cfg.tenants.jwt.as_ref().is_some_and(|j| j.callers)
        || virtual_keys > 0
        || cfg.allow_insecure_public
    {
        return Ok(());
    }
    Err(format!(
        "refusing to listen on {} without client keys: anyone who can reach it could spend your \
         provider credits. Add client_keys to the config or set SWITCHYARD_API_KEYS, create a \
         virtual key (switchyard admin create-key), listen on 127.0.0.1, or pass \
         --allow-insecure-public if you really mean it.",
        cfg.listen
    ))
}

/// One line saying what was found and how to add more.
pub fn summary(state: &AppState, addr: SocketAddr) -> String {
    let virtual_keys = state.tenants.get().map_or(0, |t| t.snapshot().key_count());
    let jwt = state.jwt.as_ref().is_some_and(|j| j.callers);
    let auth = match (state.cfg.client_keys.len(), virtual_keys) {
        (0, 0) if jwt => "client auth on (JWT)".to_owned(),
        (0, 0) => "client auth off (no client keys)".to_owned(),
        (n, 0) => format!("client auth on ({n} keys)"),
        (n, v) => format!("client auth on ({n} static keys, {v} virtual keys)"),
    };
    let log = match (&state.cfg.log.store, state.log.enabled()) {
        (_, false) => "request log off".to_owned(),
        (switchyard_config::LogStore::Sqlite(p), true) => format!("request log {}", p.display()),
        (switchyard_config::LogStore::Postgres(_), true) => "request log in PostgreSQL".to_owned(),
    };
    let auth = format!("{auth}; {log}");
    if state.cfg.providers.is_empty() {
        return format!(
            "switchyard listening on http://{addr}; {auth}; no providers found: set a provider key \
             such as OPENAI_API_KEY (see docs/providers.md for all 27 presets) or pass --config FILE; \
             requests will get a clear error until then"
        );
    }
    let names: Vec<String> = state
        .cfg
        .providers
        .iter()
        .map(|p| format!("{} ({})", p.name, redacted(&p.base_url)))
        .collect();
    format!(
        "switchyard listening on http://{addr}; {auth}; providers: {}",
        names.join(", ")
    )
}

/// Query parameter names (lowercased) that suggest a credential.
const SECRET_WORDS: &[&str] = &[
    "key",
    "token",
    "secret",
    "pass",
    "sig",
    "auth",
    "credential",
];

/// A URL fit for a log line: credentials in its userinfo (`https://user:pass@host`) and the
/// values of query parameters named like keys (`key=`, `api-key=`, `token=`...) become `***`.
/// Unchanged when it holds neither.
fn redacted(u: &str) -> String {
    let Ok(mut url) = url::Url::parse(u) else {
        // Config validation admits only URLs; whatever this is, it is not printed.
        return "(not a URL)".to_owned();
    };
    let mut changed = false;
    if !url.username().is_empty() || url.password().is_some() {
        let _ = url.set_password(None);
        let _ = url.set_username("***");
        changed = true;
    }
    if url.query().is_some() {
        let secret = |name: &str| {
            let name = name.to_ascii_lowercase();
            SECRET_WORDS.iter().any(|w| name.contains(w))
        };
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if secret(&k) {
                    changed = true;
                    "***".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    if changed {
        url.to_string()
    } else {
        u.to_owned()
    }
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    /// What requests read now; `reload` replaces it.
    pub gateway: Gateway,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    /// Set once no request can finish any more: the log writer and span exporter drain and stop.
    closing: watch::Sender<bool>,
    /// The log writer and span exporter.
    background: Vec<JoinHandle<()>>,
}

/// How long the request log and span queues get to drain at shutdown.
const FLUSH_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// Longest shutdown waits, after the server task has ended, for requests still running to hand
/// over their records.
const RECORDS_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// Opens the tenants' store (workspaces, virtual keys, audit), loads the first snapshot and
/// starts its refresher, when `server.tenants.enabled`. A store or secret that cannot be opened
/// is a start-up error.
pub async fn open_tenants(state: &AppState) -> Result<(), String> {
    if !state.cfg.tenants.enabled || state.tenants.get().is_some() {
        return Ok(());
    }
    let tenants = tenants_from(&state.cfg.tenants).await?;
    tenants.spawn_background(state.cfg.tenants.refresh);
    let _ = state.tenants.set(tenants);
    if let Some(j) = &state.jwt {
        j.start().await;
    }
    Ok(())
}

/// Reads the single binary's budgets back from the embedded database (the tenants' SQLite
/// file), so a restart does not reset a monthly budget. Nothing to do with Redis.
pub async fn open_limits(state: &AppState) -> Result<(), String> {
    let Some(m) = state.limit_memory.clone() else {
        return Ok(());
    };
    let path = state.cfg.tenants.sqlite_path.clone();
    let n = tokio::task::spawn_blocking(move || {
        switchyard_limits::store::persist::load(&m, &path, crate::limits::now_us())
    })
    .await
    .map_err(|e| e.to_string())??;
    if n > 0 {
        tracing::info!(
            counters = n,
            "limits: budgets read back from the embedded database"
        );
    }
    Ok(())
}

/// Saves the in-memory budgets every few seconds, and once more when the server closes.
async fn persist_limits(state: Arc<AppState>, mut closing: watch::Receiver<bool>) {
    let Some(m) = state.limit_memory.clone() else {
        return;
    };
    let path = state.cfg.tenants.sqlite_path.clone();
    drop(state);
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let last = tokio::select! {
            _ = tick.tick() => false,
            _ = closing.wait_for(|c| *c) => true,
        };
        let (m2, p2) = (m.clone(), path.clone());
        let saved = tokio::task::spawn_blocking(move || {
            switchyard_limits::store::persist::save(&m2, &p2, crate::limits::now_us())
        })
        .await;
        if let Ok(Err(e)) = saved {
            tracing::warn!(error = %e, "limits: saving budgets failed");
        }
        if last {
            return;
        }
    }
}

/// The tenants' store opened with the server secret and the KEK, its first snapshot loaded
/// (the `default` workspace made when missing). Also used by `switchyard vault`.
pub async fn tenants_from(
    t: &switchyard_config::TenantSettings,
) -> Result<Arc<switchyard_tenants::Tenants>, String> {
    let secret = switchyard_tenants::secret::load_or_create(
        t.secret_key.as_ref().map(switchyard_config::Secret::expose),
        "SWITCHYARD_SECRET_KEY",
        &t.secret_key_file,
    )?;
    let kek_bytes = switchyard_tenants::secret::load_or_create(
        t.kek.as_ref().map(switchyard_config::Secret::expose),
        "SWITCHYARD_KEK",
        &t.kek_file,
    )?;
    let kek = switchyard_tenants::vault::Kek::from_bytes(&kek_bytes)
        .map_err(|e| format!("the key-encryption key: {e}"))?;
    let store: Arc<dyn switchyard_tenants::store::TenantStore> = match &t.postgres_url {
        Some(url) => Arc::new(
            switchyard_tenants::store::postgres::PostgresStore::open(url.expose())
                .await
                .map_err(|e| e.to_string())?,
        ),
        None => Arc::new(
            switchyard_tenants::store::sqlite::SqliteStore::open(&t.sqlite_path)
                .map_err(|e| e.to_string())?,
        ),
    };
    let tenants = switchyard_tenants::Tenants::open(store, &secret, Some(kek))
        .await
        .map_err(|e| e.to_string())?;
    tenants
        .ensure_default_workspace()
        .await
        .map_err(|e| e.to_string())?;
    Ok(tenants)
}

/// Serves `state` on `listener` in a background task; a reload swaps what the returned
/// server's `gateway` holds.
pub fn serve(
    state: Arc<AppState>,
    listener: TcpListener,
    extra: Router<Gateway>,
) -> std::io::Result<Server> {
    let addr = listener.local_addr()?;
    let gateway = Gateway::new(state.clone());
    let app = crate::http::router(gateway.clone(), extra);
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(timer_anchor(stop.subscribe()));
    let (closing, _) = watch::channel(false);
    let background = vec![
        tokio::spawn(persist_limits(state.clone(), closing.subscribe())),
        tokio::spawn(crate::observe::queue::writer(
            state.log.clone(),
            closing.subscribe(),
        )),
        tokio::spawn(crate::observe::otlp::exporter(
            state.otel.clone(),
            closing.subscribe(),
        )),
    ];
    // Neither is housekeeping.
    tokio::spawn(housekeeping(gateway.clone(), closing.subscribe()));
    tokio::spawn(crate::experiments::allocator(
        gateway.clone(),
        closing.subscribe(),
    ));
    tokio::spawn(sweep_limits(state.limit_store.clone(), closing.subscribe()));
    // Retention is not waited for at shutdown.
    tokio::spawn(crate::observe::queue::retention(
        state.log.clone(),
        closing.subscribe(),
    ));
    let task = tokio::spawn(crate::listen::accept_loop(
        listener,
        app,
        state.cfg.limits,
        state.conns.clone(),
        stopped,
    ));
    Ok(Server {
        addr,
        gateway,
        stop,
        task,
        closing,
        background,
    })
}

impl Server {
    /// The state requests arriving now get.
    pub fn state(&self) -> Arc<AppState> {
        self.gateway.load()
    }

    /// Stops accepting, lets in-flight requests and streams finish within the drain deadline.
    /// Returns true when everything finished in time.
    pub async fn shutdown(self) -> bool {
        let state = self.gateway.load();
        state.draining.store(true, Ordering::Relaxed);
        let _ = self.stop.send(true);
        let deadline = state.cfg.drain_timeout;
        let mut task = self.task;
        let finished = tokio::time::timeout(deadline, &mut task).await.is_ok();
        if !finished {
            Self::hard_stop(&state, task).await;
        }
        // Connections outlive an aborted server task (a caller that stopped reading a long
        // answer): give their records a moment to arrive before the queue closes.
        let until = tokio::time::Instant::now() + RECORDS_GRACE;
        while state.log.open.load(Ordering::Acquire) > 0 && tokio::time::Instant::now() < until {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        // Every request has ended and handed over its record: write out what is queued.
        let _ = self.closing.send(true);
        let flush = futures_util::future::join_all(self.background);
        if tokio::time::timeout(FLUSH_DEADLINE, flush).await.is_err() {
            // The log's writer or the span exporter (or both) is still busy.
            tracing::warn!(
                queued_records = state.log.depth(),
                "request log and span export not finished within {FLUSH_DEADLINE:?}; \
                 what is still queued is lost"
            );
        }
        finished
    }

    async fn hard_stop(state: &AppState, mut task: JoinHandle<()>) {
        // Deadline passed: end what is still running with an error in the caller's shape, give
        // those last bytes a moment to be written, then close whatever remains.
        let _ = state.hard_stop.send(true);
        if tokio::time::timeout(HARD_STOP_GRACE, &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

/// Releases the limits' reservations that expired unsettled (their replica died, or a settlement
/// was lost), once a second; with Redis, any replica's sweep releases any replica's.
async fn sweep_limits(
    store: Arc<dyn switchyard_limits::store::LimitStore>,
    mut closing: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let closed = tokio::select! {
            _ = tick.tick() => false,
            _ = closing.wait_for(|c| *c) => true,
        };
        if closed {
            return;
        }
        match store.sweep(crate::limits::now_us()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(released = n, "limits: expired reservations released"),
            Err(e) => tracing::debug!(error = %e, "limits: sweep failed"),
        }
    }
}

/// Keeps a near timer in tokio's timer wheel while serving.
///
/// When a request registers a timeout earlier than every timer already pending, tokio wakes the
/// I/O driver through its eventfd so it can shorten its sleep: on an idle gateway that is every
/// request (no other timer exists), costing a write and an extra epoll_wait on the request path.
/// With this timer always due within 250 ms, request timeouts (seconds to minutes away) are never
/// the earliest, and no wake is needed.
async fn timer_anchor(mut stopped: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped.wait_for(|s| *s) => return,
        }
    }
}

/// Installs the SIGTERM and SIGINT handlers at once (so a signal sent as soon as the listening
/// line is printed is not lost) and resolves when one arrives. Must run inside the runtime.
pub fn termination_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, Signal, SignalKind};
        async fn arrival(s: Option<Signal>) {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            tokio::select! {
                _ = arrival(term) => {}
                _ = arrival(int) => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Every 10 s: pooled upstream connections too old to be reused are closed (after a burst, they
/// and their buffers go instead of waiting for a request that would discard them), then, when a
/// burst has ended and no request has started since the last tick, the memory it freed is
/// given back to the system. In that order, so that what a sweep frees goes back in the same
/// tick.
async fn housekeeping(gateway: Gateway, mut closing: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut trimmer = crate::observe::memory::Trimmer::default();
    let mut started = gateway.load().log.started.load(Ordering::Relaxed);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                // The current config's providers; a replaced config's go with their last request.
                let state = gateway.load();
                for u in &state.upstreams {
                    u.sweep_idle(crate::upstream::pool::MAX_IDLE_TIME);
                }
                let now = state.log.started.load(Ordering::Relaxed);
                trimmer.tick(now == started);
                started = now;
            }
            _ = closing.wait_for(|c| *c) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_up_line_leaves_out_credentials_in_provider_urls() {
        let yaml = "server:\n  discover_env: false\nproviders:\n  - name: a\n    base_url: \"https://user:hunter2@llm.example.com/v1?api-key=SECRET1&version=3&Key=SECRET2&access_token=SECRET3\"\n  - name: b\n    base_url: http://127.0.0.1:9999/v1\n";
        let cfg = switchyard_config::from_yaml(yaml, &std::collections::HashMap::new()).unwrap();
        let state = AppState::build(cfg).unwrap();
        let line = summary(&state, SocketAddr::from(([127, 0, 0, 1], 8080)));
        for secret in ["user", "hunter2", "SECRET1", "SECRET2", "SECRET3"] {
            assert!(!line.contains(secret), "{secret} in {line}");
        }
        assert!(
            line.contains(
                "a (https://***@llm.example.com/v1?api-key=***&version=3&Key=***&access_token=***)"
            ),
            "{line}"
        );
        assert!(line.contains("b (http://127.0.0.1:9999/v1)"), "{line}");
    }
}
