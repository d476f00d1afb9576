//! Config reloads: on SIGHUP, and when the config file changes (its modification time and size
//! are polled). The new file is read and validated in full and a new state built from it
//! before anything changes; then it is swapped in whole (`Gateway::install`). Requests already
//! running keep the state they started with, so a reload drops nothing; a file with an error
//! is refused, logged with every error, counted, and the running config stays.

use crate::state::Gateway;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use switchyard_config::{Config, ConfigErrors, ProcessEnv};
use tokio::sync::watch;

/// Where the config comes from, with the command line's overrides.
#[derive(Debug, Clone)]
pub struct Source {
    /// The config file; `None`: the environment alone.
    pub file: Option<PathBuf>,
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--allow-insecure-public`.
    pub allow_insecure_public: bool,
}

impl Source {
    /// Reads and validates the config, the overrides applied; every error as one text.
    pub fn load(&self) -> Result<Config, String> {
        // An empty file is a file being written (or emptied by mistake), not a wish to run
        // with no configuration.
        if let Some(f) = &self.file {
            if std::fs::metadata(f).is_ok_and(|m| m.len() == 0) {
                return Err(format!("{}: the file is empty", f.display()));
            }
        }
        let loaded = match &self.file {
            Some(f) => switchyard_config::from_file(f, &ProcessEnv),
            None => switchyard_config::from_env(&ProcessEnv),
        };
        let mut cfg = loaded.map_err(|e| e.to_string())?;
        if let Some(l) = self.listen {
            cfg.listen = l;
        }
        cfg.allow_insecure_public |= self.allow_insecure_public;
        Ok(cfg)
    }

    fn name(&self) -> String {
        self.file
            .as_ref()
            .map_or_else(|| "the environment".to_owned(), |f| f.display().to_string())
    }

    /// The file's modification time and length, to notice a change.
    fn stamp(&self) -> Option<(SystemTime, u64)> {
        let m = std::fs::metadata(self.file.as_ref()?).ok()?;
        Some((m.modified().ok()?, m.len()))
    }
}

/// Builds a state from `cfg` and makes it current. Refused (the running state kept) when the
/// config does not build or would leave the running listener public without client auth.
/// Returns the changed settings that need a restart (they keep their running values).
pub async fn apply(gateway: &Gateway, cfg: Config) -> Result<Vec<&'static str>, String> {
    let old = gateway.load();
    let (new, restart) = old
        .reconfigure(cfg)
        .map_err(|errs| ConfigErrors(errs).to_string())?;
    let virtual_keys = old.tenants.get().map_or(0, |t| t.snapshot().key_count());
    crate::startup::check_exposure(&new.cfg, virtual_keys)?;
    if let Some(j) = &new.jwt {
        if !old.jwt.as_ref().is_some_and(|o| Arc::ptr_eq(o, j)) && new.tenants.get().is_some() {
            j.start().await;
        }
    }
    gateway.install(new);
    Ok(restart)
}

/// Reads `source` and applies it, logging and counting the outcome.
pub async fn reload(gateway: &Gateway, source: &Source, why: &str) -> bool {
    let state = gateway.load();
    let outcome = match source.load() {
        Ok(cfg) => apply(gateway, cfg).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(restart) => {
            state.reloads.applied.fetch_add(1, Ordering::Relaxed);
            let now = gateway.load();
            tracing::info!(
                source = %source.name(),
                trigger = why,
                providers = now.cfg.providers.len(),
                routes = now.cfg.routes.len(),
                "config reloaded"
            );
            if !restart.is_empty() {
                tracing::warn!(
                    settings = %restart.join(", "),
                    "config reloaded; these changed settings apply at the next restart"
                );
            }
            true
        }
        Err(e) => {
            state.reloads.refused.fetch_add(1, Ordering::Relaxed);
            tracing::error!(
                source = %source.name(),
                trigger = why,
                errors = %e.replace('\n', "; "),
                "config reload refused; the running config stays"
            );
            false
        }
    }
}

/// Reloads on SIGHUP and, when the config is a file, on a change to it seen every `poll`;
/// runs until `stop` is set.
pub async fn watch(
    gateway: Gateway,
    source: Source,
    poll: Option<Duration>,
    mut hup: Hangups,
    mut stop: watch::Receiver<bool>,
) {
    let poll = poll.filter(|_| source.file.is_some());
    let mut seen = source.stamp();
    let mut pending = None;
    let mut tick = tokio::time::interval(poll.unwrap_or(Duration::from_secs(3600)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let hangup = tokio::select! {
            () = hup.recv() => true,
            _ = tick.tick(), if poll.is_some() => false,
            _ = stop.wait_for(|s| *s) => return,
        };
        if hangup {
            seen = source.stamp();
            pending = None;
            reload(&gateway, &source, "SIGHUP").await;
            continue;
        }
        // A change is applied once the file has stayed the same for a whole poll interval, so
        // a file caught half-written (truncated, then filled) is never read.
        let now = source.stamp();
        if now.is_some() && now != seen {
            if pending == now {
                seen = now;
                pending = None;
                reload(&gateway, &source, "file changed").await;
            } else {
                pending = now;
            }
        }
    }
}

/// SIGHUP arrivals (never, where there are no signals). Made before the server starts, so a
/// SIGHUP sent as soon as it listens reloads instead of ending the process.
pub struct Hangups {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

pub fn hangups() -> Hangups {
    Hangups {
        #[cfg(unix)]
        signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok(),
    }
}

impl Hangups {
    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(s) = &mut self.signal {
            s.recv().await;
            return;
        }
        std::future::pending::<()>().await;
    }
}
