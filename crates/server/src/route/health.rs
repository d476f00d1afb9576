//! What the gateway knows of each route target's recent behaviour: requests in flight, a moving
//! average of latency, and recent failures. Strategies read it to pick (`least-busy`,
//! `least-latency`); circuit breaking (next) reads the failures. Entries are created on a
//! target's first use and updated with atomics.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Weight of the newest sample in the latency average.
const EWMA_ALPHA: f64 = 0.3;

#[derive(Default)]
pub struct TargetHealth {
    pub in_flight: AtomicU64,
    /// Moving average of successful attempts' latency, in microseconds (0: none yet).
    ewma_us: AtomicU64,
    pub successes: AtomicU64,
    pub failures: AtomicU64,
    pub consecutive_failures: AtomicU64,
}

impl TargetHealth {
    pub fn latency(&self) -> Option<Duration> {
        match self.ewma_us.load(Ordering::Relaxed) {
            0 => None,
            us => Some(Duration::from_micros(us)),
        }
    }

    fn record_latency(&self, took: Duration) {
        let sample = took.as_micros().max(1) as f64;
        let _ = self
            .ewma_us
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
                let next = if old == 0 {
                    sample
                } else {
                    EWMA_ALPHA * sample + (1.0 - EWMA_ALPHA) * old as f64
                };
                Some(next.max(1.0) as u64)
            });
    }
}

/// Marks an attempt in flight until it is finished (or dropped, when the caller goes away).
pub struct InFlight {
    health: Arc<TargetHealth>,
    started: std::time::Instant,
    done: bool,
}

impl InFlight {
    pub fn finish(mut self, ok: bool) {
        self.done = true;
        let h = &self.health;
        h.in_flight.fetch_sub(1, Ordering::Relaxed);
        if ok {
            h.successes.fetch_add(1, Ordering::Relaxed);
            h.consecutive_failures.store(0, Ordering::Relaxed);
            h.record_latency(self.started.elapsed());
        } else {
            h.failures.fetch_add(1, Ordering::Relaxed);
            h.consecutive_failures.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if !self.done {
            self.health.in_flight.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Health of every target used so far, by `provider/model`.
#[derive(Default)]
pub struct Health {
    targets: RwLock<HashMap<String, Arc<TargetHealth>>>,
}

impl Health {
    pub fn get(&self, key: &str) -> Arc<TargetHealth> {
        if let Some(h) = self
            .targets
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
        {
            return h.clone();
        }
        self.targets
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(key.to_owned())
            .or_default()
            .clone()
    }

    /// Starts an attempt on `key`.
    pub fn begin(&self, key: &str) -> InFlight {
        let health = self.get(key);
        health.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight {
            health,
            started: std::time::Instant::now(),
            done: false,
        }
    }
}
