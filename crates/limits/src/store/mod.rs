//! Where counters and open reservations live: one trait, in memory for the single binary
//! (`memory`) or in Redis when replicas share them.

pub mod memory;
pub mod persist;
pub mod redis;

use crate::ledger::{Admission, Line, LineState};
use futures_util::future::BoxFuture;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached or failed.
    #[error("limits store: {0}")]
    Backend(String),
    /// A reservation id used twice.
    #[error("reservation id {0} was used before")]
    Duplicate(String),
}

/// Counts for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Reservations not yet settled or expired.
    pub open: usize,
}

/// Counters and reservations. Every call is one atomic step.
pub trait LimitStore: Send + Sync {
    /// Reserves every line, all or nothing: refused (and nothing taken) when an enforced line
    /// does not fit. The reservation expires, and is released, `ttl_us` after `now_us` unless
    /// settled first.
    fn reserve<'a>(
        &'a self,
        id: &'a str,
        lines: &'a [Line],
        ttl_us: i64,
        now_us: i64,
    ) -> BoxFuture<'a, Result<Admission, StoreError>>;

    /// Ends reservation `id`, charging `used` (one amount per line, in the order reserved) and
    /// giving back the rest. Idempotent; after expiry it charges `used` without releasing again.
    fn settle<'a>(
        &'a self,
        id: &'a str,
        used: &'a [u64],
        now_us: i64,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// The counters' states, reserving nothing.
    fn look<'a>(
        &'a self,
        lines: &'a [Line],
        now_us: i64,
    ) -> BoxFuture<'a, Result<Vec<LineState>, StoreError>>;

    /// True the first time `key` is asked for within `ttl_us` (across replicas sharing the
    /// store): how an alert fires once per budget, period and threshold.
    fn once<'a>(&'a self, key: &'a str, ttl_us: i64) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Releases reservations past their expiry; how many.
    fn sweep(&self, now_us: i64) -> BoxFuture<'_, Result<usize, StoreError>>;

    fn snapshot(&self) -> Snapshot;
}
