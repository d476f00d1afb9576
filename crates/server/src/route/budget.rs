//! The retry budget: retries may be at most a share of recent requests (plus a small floor), so
//! that an outage cannot turn every request into several and make it worse. Counts live in ten
//! one-second buckets of atomics; nothing is locked on the request path.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use switchyard_config::RetryBudget;

const BUCKETS: usize = 10;

#[derive(Default)]
struct Bucket {
    /// Second (since the budget started) this bucket counts; stale buckets are reset on use.
    second: AtomicU64,
    requests: AtomicU64,
    retries: AtomicU64,
}

pub struct Budget {
    cfg: RetryBudget,
    start: Instant,
    buckets: [Bucket; BUCKETS],
}

impl Budget {
    pub fn new(cfg: RetryBudget) -> Self {
        Self {
            cfg,
            start: Instant::now(),
            buckets: Default::default(),
        }
    }

    fn now(&self) -> u64 {
        self.start.elapsed().as_secs()
    }

    fn bucket(&self, second: u64) -> &Bucket {
        let b = &self.buckets[(second % BUCKETS as u64) as usize];
        let seen = b.second.load(Ordering::Relaxed);
        if seen != second
            && b.second
                .compare_exchange(seen, second, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            b.requests.store(0, Ordering::Relaxed);
            b.retries.store(0, Ordering::Relaxed);
        }
        b
    }

    /// Counts a request routed through a tree.
    pub fn request(&self) {
        self.bucket(self.now())
            .requests
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Whether one more retry fits the budget; when it does, it is counted.
    pub fn try_retry(&self) -> bool {
        let now = self.now();
        let (mut requests, mut retries) = (0u64, 0u64);
        for b in &self.buckets {
            let s = b.second.load(Ordering::Relaxed);
            if now.saturating_sub(s) < BUCKETS as u64 {
                requests += b.requests.load(Ordering::Relaxed);
                retries += b.retries.load(Ordering::Relaxed);
            }
        }
        let allowed = (requests as f64 * self.cfg.ratio) as u64
            + u64::from(self.cfg.min_per_sec) * BUCKETS as u64;
        if retries >= allowed {
            return false;
        }
        self.bucket(now).retries.fetch_add(1, Ordering::Relaxed);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_are_a_share_of_requests_plus_a_floor() {
        let b = Budget::new(RetryBudget {
            ratio: 0.1,
            min_per_sec: 0,
        });
        for _ in 0..100 {
            b.request();
        }
        let granted = (0..50).filter(|_| b.try_retry()).count();
        assert_eq!(granted, 10);
        let floor = Budget::new(RetryBudget {
            ratio: 0.0,
            min_per_sec: 2,
        });
        assert_eq!((0..100).filter(|_| floor.try_retry()).count(), 20);
    }
}
