//! Entries in process, bounded by the bytes they hold (quick_cache's S3-FIFO eviction: a scan
//! of one-off requests does not push out the answers asked for again and again).

use crate::entry::Entry;
use crate::key::Key;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Clone)]
struct BySize;

impl quick_cache::Weighter<Key, Arc<Entry>> for BySize {
    fn weight(&self, _key: &Key, e: &Arc<Entry>) -> u64 {
        // Never zero: a zero-weight item would never be evicted.
        e.size().max(1) + 32
    }
}

/// The in-memory store.
pub struct MemoryStore {
    entries: quick_cache::sync::Cache<Key, Arc<Entry>, BySize>,
    max_bytes: u64,
    evicted_expired: AtomicU64,
}

/// What the store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub entries: u64,
    pub bytes: u64,
    pub max_bytes: u64,
}

impl MemoryStore {
    /// A store holding at most `max_bytes` (entries and their keys); an entry larger than a
    /// fraction of that is not kept at all.
    pub fn new(max_bytes: u64) -> MemoryStore {
        // quick_cache sizes its tables from an estimate of the item count.
        let estimate = usize::try_from((max_bytes / 2048).clamp(16, 1 << 20)).unwrap_or(1 << 20);
        MemoryStore {
            entries: quick_cache::sync::Cache::with_weighter(estimate, max_bytes.max(1), BySize),
            max_bytes,
            evicted_expired: AtomicU64::new(0),
        }
    }

    /// The entry under `key` if it may be served now (an expired one is dropped).
    pub fn get(&self, key: &Key, now_ms: i64, max_age_ms: Option<i64>) -> Option<Arc<Entry>> {
        let e = self.entries.get(key)?;
        if now_ms >= e.expires_ms {
            self.entries.remove(key);
            self.evicted_expired.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        e.servable(now_ms, max_age_ms).then_some(e)
    }

    pub fn put(&self, key: Key, entry: Entry) {
        self.entries.insert(key, Arc::new(entry));
    }

    pub fn remove(&self, key: &Key) -> bool {
        self.entries.remove(key).is_some()
    }

    /// Drops the entries `drop` selects; how many went.
    pub fn purge_where(&self, drop: impl Fn(&Key, &Entry) -> bool) -> u64 {
        let before = self.entries.len();
        self.entries.retain(|k, e| !drop(k, e));
        (before.saturating_sub(self.entries.len())) as u64
    }

    pub fn stats(&self) -> Stats {
        Stats {
            entries: self.entries.len() as u64,
            bytes: self.entries.weight(),
            max_bytes: self.max_bytes,
        }
    }

    /// Entries dropped because they had expired when asked for.
    pub fn expired(&self) -> u64 {
        self.evicted_expired.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests;
