//! The one interface the server uses for cached answers, whatever keeps them: in memory
//! (`MemoryStore`, the single binary's default) or Redis shared by replicas (`RedisStore`, with
//! a memory tier in front).

use crate::entry::Entry;
use crate::key::Key;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A backend that could not answer (Redis down, a value that does not decode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheError(pub String);

impl std::fmt::Display for CacheError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which entries a purge drops: those meeting every condition given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purge {
    /// Entries in this namespace or under it: `ws-1` drops `ws-1` and `ws-1/team-a`.
    pub namespace: Option<String>,
    /// Entries stored by requests with this client key (virtual key id or static key name).
    pub stored_by: Option<String>,
    /// The one entry under this key.
    pub key: Option<Key>,
    /// Entries made before this Unix millisecond.
    pub created_before_ms: Option<i64>,
}

impl Purge {
    pub fn matches(&self, key: &Key, e: &Entry) -> bool {
        self.namespace.as_deref().is_none_or(|ns| {
            e.namespace == ns
                || e.namespace
                    .strip_prefix(ns)
                    .is_some_and(|rest| rest.starts_with('/'))
        }) && self.stored_by.as_deref().is_none_or(|k| e.stored_by == k)
            && self.key.is_none_or(|k| k == *key)
            && self.created_before_ms.is_none_or(|t| e.created_ms < t)
    }
}

/// What a backend holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreStats {
    /// Answers held (the shared store's, counted by a scan; the memory tier's otherwise).
    pub entries: u64,
    /// Bytes the memory tier holds, and its bound.
    pub bytes: u64,
    pub max_bytes: u64,
}

/// A semantic cache vector, shared with every replica.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedVector {
    pub bucket: Key,
    pub key: Key,
    pub vector: Vec<f32>,
    pub expires_ms: i64,
}

pub trait CacheStore: Send + Sync {
    /// `memory` or `redis`.
    fn backend(&self) -> &'static str;

    /// The in-process store (Redis's memory tier), whose size is read without a round trip.
    fn memory(&self) -> &crate::memory::MemoryStore;

    /// The entry under `key` if it may be served at `now_ms` to a request accepting answers up
    /// to `max_age_ms` old.
    fn get<'a>(
        &'a self,
        key: &'a Key,
        now_ms: i64,
        max_age_ms: Option<i64>,
    ) -> BoxFuture<'a, Result<Option<Arc<Entry>>, CacheError>>;

    /// Stores `entry`. The memory store has it when this returns; a shared store when the
    /// future ends (which owns what it needs, so it may be spawned).
    fn put(self: Arc<Self>, key: Key, entry: Entry) -> BoxFuture<'static, Result<(), CacheError>>;

    /// Drops what `p` selects (on every replica); how many entries went.
    fn purge<'a>(&'a self, p: &'a Purge) -> BoxFuture<'a, Result<u64, CacheError>>;

    fn stats(&self) -> BoxFuture<'_, Result<StoreStats, CacheError>>;

    /// Makes a semantic vector known to every replica (nothing to do in memory).
    fn share(&self, _v: SharedVector) -> BoxFuture<'_, Result<(), CacheError>> {
        Box::pin(std::future::ready(Ok(())))
    }

    /// The semantic vectors other replicas stored that have not expired, to load at start.
    fn vectors(&self) -> BoxFuture<'_, Result<Vec<SharedVector>, CacheError>> {
        Box::pin(std::future::ready(Ok(Vec::new())))
    }

    /// Hands on the semantic vectors other replicas store from now on (none in memory).
    fn watch(&self, _on: Arc<dyn Fn(SharedVector) + Send + Sync>) {}
}

impl CacheStore for crate::memory::MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    fn memory(&self) -> &crate::memory::MemoryStore {
        self
    }

    fn get<'a>(
        &'a self,
        key: &'a Key,
        now_ms: i64,
        max_age_ms: Option<i64>,
    ) -> BoxFuture<'a, Result<Option<Arc<Entry>>, CacheError>> {
        Box::pin(std::future::ready(Ok(crate::memory::MemoryStore::get(
            self, key, now_ms, max_age_ms,
        ))))
    }

    fn put(self: Arc<Self>, key: Key, entry: Entry) -> BoxFuture<'static, Result<(), CacheError>> {
        crate::memory::MemoryStore::put(&self, key, entry);
        Box::pin(std::future::ready(Ok(())))
    }

    fn purge<'a>(&'a self, p: &'a Purge) -> BoxFuture<'a, Result<u64, CacheError>> {
        Box::pin(std::future::ready(Ok(
            self.purge_where(|k, e| p.matches(k, e))
        )))
    }

    fn stats(&self) -> BoxFuture<'_, Result<StoreStats, CacheError>> {
        let s = crate::memory::MemoryStore::stats(self);
        Box::pin(std::future::ready(Ok(StoreStats {
            entries: s.entries,
            bytes: s.bytes,
            max_bytes: s.max_bytes,
        })))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use bytes::Bytes;

    fn entry(ns: &str, by: &str, created: i64) -> Entry {
        Entry {
            body: Bytes::from_static(b"{}"),
            namespace: ns.into(),
            stored_by: by.into(),
            provider: "p".into(),
            model: "m".into(),
            prompt_tokens: 1,
            completion_tokens: 1,
            cost_nanos: 1,
            created_ms: created,
            expires_ms: created + 1000,
        }
    }

    #[test]
    fn a_purge_selects_by_every_condition_given() {
        let k = Key([1; 32]);
        let other = Key([2; 32]);
        let e = entry("ws-1/team", "key-a", 100);
        assert!(Purge::default().matches(&k, &e));
        let ns = |n: &str| Purge {
            namespace: Some(n.into()),
            ..Purge::default()
        };
        assert!(ns("ws-1").matches(&k, &e));
        assert!(ns("ws-1/team").matches(&k, &e));
        assert!(!ns("ws-").matches(&k, &e));
        assert!(!ns("ws-1/te").matches(&k, &e));
        assert!(!ns("ws-2").matches(&k, &e));
        let p = Purge {
            namespace: Some("ws-1".into()),
            stored_by: Some("key-a".into()),
            key: Some(k),
            created_before_ms: Some(101),
        };
        assert!(p.matches(&k, &e));
        assert!(!p.matches(&other, &e));
        assert!(!Purge {
            created_before_ms: Some(100),
            ..p.clone()
        }
        .matches(&k, &e));
        assert!(!Purge {
            stored_by: Some("key-b".into()),
            ..p
        }
        .matches(&k, &e));
    }
}
