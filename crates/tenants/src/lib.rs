//! The tenant model behind the gateway's authenticate stage: workspaces, virtual keys and the
//! audit log, kept in a [`store::TenantStore`] and served from an in-memory [`Snapshot`] (no
//! database on the request path).
//!
//! The server calls [`Tenants::authenticate`] once per request and the admin operations
//! ([`admin`]) from its admin API; everything else stays inside this crate.

pub mod access;
pub mod admin;
pub mod directory;
pub mod jwt;
pub mod key;
pub mod model;
pub mod secret;
pub mod store;
pub mod vault;

pub use directory::{Principal, Refusal, Snapshot};

use directory::Directory;
use key::Hasher;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use store::{StoreError, TenantStore};
use tokio::sync::mpsc;

/// Key uses waiting to be written as `last_used_ms`; past this they are dropped (and counted).
const USAGE_QUEUE: usize = 8192;
/// How often recorded key uses are written.
const USAGE_FLUSH: Duration = Duration::from_secs(2);

pub struct Tenants {
    store: Arc<dyn TenantStore>,
    directory: Directory,
    hasher: Hasher,
    /// Opens stored credentials; without it, storing one is refused.
    kek: Option<vault::Kek>,
    used: mpsc::Sender<(String, i64)>,
    used_rx: std::sync::Mutex<Option<mpsc::Receiver<(String, i64)>>>,
    seen: mpsc::Sender<(String, String, i64)>,
    seen_rx: std::sync::Mutex<Option<mpsc::Receiver<(String, String, i64)>>>,
    /// Key uses dropped because the queue was full (a metric).
    pub usage_shed: AtomicU64,
}

/// Unix time in milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Tenants {
    /// Opens the model over `store` with the server secret keys are hashed with, and loads the
    /// first snapshot.
    pub async fn open(
        store: Arc<dyn TenantStore>,
        secret: &[u8],
        kek: Option<vault::Kek>,
    ) -> Result<Arc<Self>, StoreError> {
        let (used, used_rx) = mpsc::channel(USAGE_QUEUE);
        let (seen, seen_rx) = mpsc::channel(USAGE_QUEUE);
        let t = Arc::new(Self {
            store,
            directory: Directory::default(),
            hasher: Hasher::new(secret),
            kek,
            used,
            used_rx: std::sync::Mutex::new(Some(used_rx)),
            seen,
            seen_rx: std::sync::Mutex::new(Some(seen_rx)),
            usage_shed: AtomicU64::new(0),
        });
        t.reload().await?;
        Ok(t)
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.directory.load()
    }

    /// Resolves a presented key against the snapshot; `None` when it is not shaped like a
    /// virtual key (it may still be a static key). Records the use, off the request path.
    pub fn authenticate(&self, presented: &str) -> Option<Result<Arc<Principal>, Refusal>> {
        self.authenticate_in(&self.directory.load(), presented)
    }

    /// As [`Tenants::authenticate`], against a snapshot the caller already holds.
    pub fn authenticate_in(
        &self,
        snapshot: &Snapshot,
        presented: &str,
    ) -> Option<Result<Arc<Principal>, Refusal>> {
        let now = now_ms();
        let r = snapshot.authenticate(&self.hasher, presented, now)?;
        if let Ok(p) = &r {
            if let Some(id) = &p.key_id {
                if self.used.try_send((id.clone(), now)).is_err() {
                    self.usage_shed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        Some(r)
    }

    /// What an admin key made through the API may do; `None` when not shaped like one.
    pub fn authenticate_admin(&self, presented: &str) -> Option<Result<access::Access, Refusal>> {
        self.directory
            .load()
            .authenticate_admin(&self.hasher, presented)
    }

    /// Whether the workspace blocked this end user; records the sighting off the request path
    /// (the end user is created on first sight).
    pub fn end_user(&self, workspace: &str, id: &str) -> bool {
        if self
            .seen
            .try_send((workspace.to_owned(), id.to_owned(), now_ms()))
            .is_err()
        {
            self.usage_shed.fetch_add(1, Ordering::Relaxed);
        }
        self.directory.load().blocks(workspace, id)
    }

    /// Loads the store into a new snapshot when its version moved; says whether it did.
    pub async fn reload(&self) -> Result<bool, StoreError> {
        let loaded = self.store.load().await?;
        let snap = Snapshot::build(
            loaded.version,
            loaded.workspaces,
            loaded.keys,
            loaded.credentials,
            self.kek.as_ref(),
        )
        .map_err(|e| StoreError::Backend(e.to_string()))?
        .with_admins(loaded.users, loaded.admin_keys)
        .with_blocked(loaded.blocked)
        .with_limits(loaded.limits)
        .with_guardrail_policies(loaded.guardrail_policies)
        .with_prompts(
            loaded.prompts,
            loaded.prompt_versions,
            loaded.partials,
            loaded.experiments,
        );
        Ok(self.directory.install(snap))
    }

    /// Reloads when the store's version is ahead of the snapshot's.
    pub async fn refresh(&self) -> Result<bool, StoreError> {
        if self.store.version().await? > self.directory.load().version {
            return self.reload().await;
        }
        Ok(false)
    }

    /// Checks the store's version every `every` (how changes made by other replicas arrive
    /// when nothing notifies) and writes recorded key uses; runs until the process ends.
    pub fn spawn_background(self: &Arc<Self>, every: Duration) {
        if let Some(mut changed) = self.store.watch() {
            let me = Arc::clone(self);
            tokio::spawn(async move {
                while changed.recv().await.is_some() {
                    if let Err(e) = me.refresh().await {
                        tracing::warn!("tenant snapshot refresh failed: {e}");
                    }
                }
            });
        }
        let me = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = me.refresh().await {
                    tracing::warn!("tenant snapshot refresh failed: {e}");
                }
            }
        });
        let rx = self
            .used_rx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let seen_rx = self
            .seen_rx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(mut rx) = seen_rx {
            let store = Arc::clone(&self.store);
            tokio::spawn(async move {
                let mut pending: HashMap<(String, String), i64> = HashMap::new();
                let mut tick = tokio::time::interval(USAGE_FLUSH);
                loop {
                    tokio::select! {
                        got = rx.recv() => match got {
                            Some((w, id, ms)) => {
                                let slot = pending.entry((w, id)).or_insert(ms);
                                *slot = (*slot).max(ms);
                            }
                            None => break,
                        },
                        _ = tick.tick() => {
                            if !pending.is_empty() {
                                let batch = pending.drain().map(|((w, id), ms)| (w, id, ms)).collect();
                                if let Err(e) = store.saw_end_users(batch).await {
                                    tracing::warn!("recording end users failed: {e}");
                                }
                            }
                        }
                    }
                }
            });
        }
        if let Some(mut rx) = rx {
            let store = Arc::clone(&self.store);
            tokio::spawn(async move {
                let mut pending: HashMap<String, i64> = HashMap::new();
                let mut tick = tokio::time::interval(USAGE_FLUSH);
                loop {
                    tokio::select! {
                        got = rx.recv() => match got {
                            Some((id, ms)) => {
                                let slot = pending.entry(id).or_insert(ms);
                                *slot = (*slot).max(ms);
                            }
                            None => break,
                        },
                        _ = tick.tick() => {
                            if !pending.is_empty() {
                                let batch: Vec<(String, i64)> = pending.drain().collect();
                                if let Err(e) = store.touch(batch).await {
                                    tracing::warn!("recording key use failed: {e}");
                                }
                            }
                        }
                    }
                }
            });
        }
    }

    /// Documents kept outside the snapshot (datasets, runs): see `TenantStore::get_doc`.
    pub fn docs(&self) -> &dyn TenantStore {
        self.store.as_ref()
    }

    pub(crate) fn store(&self) -> &dyn TenantStore {
        self.store.as_ref()
    }

    pub(crate) fn hasher(&self) -> &Hasher {
        &self.hasher
    }

    pub(crate) fn kek(&self) -> Option<&vault::Kek> {
        self.kek.as_ref()
    }
}
