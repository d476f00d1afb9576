//! What the gateway knows of each route target's recent behaviour, and its circuit breaker.
//!
//! Per target (provider + model): requests in flight, a moving average of latency, success and
//! failure counts, and a circuit. A target is ejected after `consecutive_failures` failures in a
//! row, or when failures reach `failure_ratio` of at least `min_requests` attempts in the window;
//! the ejection lasts `base_ejection`, doubled for each ejection in a row (up to
//! `max_ejection`). When it ends, one request probes the target (half-open): success closes the
//! circuit, failure ejects it again for longer. A 429 with Retry-After cools the target down for
//! that long without counting as a failure streak. No more than `max_ejected_percent` of the
//! targets in use are ejected at once, so an outage of everything still sends traffic somewhere.
//! The counters are atomics; the circuit's state is a small mutex touched once per attempt.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use switchyard_config::Circuit;

/// Weight of the newest sample in the latency average.
const EWMA_ALPHA: f64 = 0.3;

/// How an attempt ended, for the circuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// The target failed (5xx, timeout, broken connection).
    Failure,
    /// The target said to come back later (429 with Retry-After, quota).
    CoolDown(Duration),
    /// Nothing said about the target (the caller's mistake, a translation refusal).
    Neutral,
}

#[derive(Debug, Default)]
struct Breaker {
    /// While set and in the future, the target is out of rotation.
    ejected_until: Option<Instant>,
    /// Ejections in a row (reset by a success).
    ejections: u32,
    /// A probe is in flight after an ejection ended.
    probing: bool,
    window_start: Option<Instant>,
    window_total: u64,
    window_failed: u64,
    consecutive: u32,
}

/// Whether a target takes a request now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Allowed,
    /// The first request after an ejection: its outcome decides.
    Probe,
    Ejected,
}

#[derive(Default)]
pub struct TargetHealth {
    /// Milliseconds since the table started until which the target is ejected (0: not), a
    /// lock-free mirror of the breaker's state for counting ejected targets.
    ejected_until_ms: AtomicU64,
    pub in_flight: AtomicU64,
    /// Moving average of successful attempts' latency, in microseconds (0: none yet).
    ewma_us: AtomicU64,
    pub successes: AtomicU64,
    pub failures: AtomicU64,
    breaker: Mutex<Breaker>,
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

    fn breaker(&self) -> std::sync::MutexGuard<'_, Breaker> {
        self.breaker
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Out of rotation now (ejected, or probing with the probe already taken).
    pub fn is_ejected(&self, now: Instant) -> bool {
        let b = self.breaker();
        b.ejected_until.is_some_and(|u| now < u) || b.probing
    }

    /// Whether the target stays out of rotation past `at`.
    pub fn ejected_past(&self, at: Instant) -> bool {
        self.breaker().ejected_until.is_some_and(|u| u > at)
    }

    /// A view for the admin endpoint.
    pub fn snapshot(&self, now: Instant) -> serde_json::Value {
        let b = self.breaker();
        let state = match (b.ejected_until, b.probing) {
            (_, true) => "half_open",
            (Some(u), _) if now < u => "open",
            _ => "closed",
        };
        serde_json::json!({
            "state": state,
            "ejected_for_ms": b.ejected_until.map_or(0, |u| u.saturating_duration_since(now).as_millis() as u64),
            "ejections_in_a_row": b.ejections,
            "consecutive_failures": b.consecutive,
            "in_flight": self.in_flight.load(Ordering::Relaxed),
            "latency_ms": self.latency().map(|d| d.as_secs_f64() * 1000.0),
            "successes": self.successes.load(Ordering::Relaxed),
            "failures": self.failures.load(Ordering::Relaxed),
        })
    }
}

/// Marks an attempt in flight until it is finished (or dropped, when the caller goes away).
pub struct InFlight<'a> {
    health: Arc<TargetHealth>,
    table: &'a Health,
    started: Instant,
    probe: bool,
    done: bool,
}

impl InFlight<'_> {
    pub fn finish(mut self, outcome: Outcome) {
        self.done = true;
        let h = &self.health;
        h.in_flight.fetch_sub(1, Ordering::Relaxed);
        match outcome {
            Outcome::Success => {
                h.successes.fetch_add(1, Ordering::Relaxed);
                h.record_latency(self.started.elapsed());
            }
            Outcome::Failure => {
                h.failures.fetch_add(1, Ordering::Relaxed);
                // A failure counts as slow (at least a second), so least-latency does not
                // mistake a target that fails fast for a fast one.
                h.record_latency(self.started.elapsed().max(Duration::from_secs(1)));
            }
            Outcome::CoolDown(_) | Outcome::Neutral => {}
        }
        self.table.record(h, outcome, self.probe);
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.health.in_flight.fetch_sub(1, Ordering::Relaxed);
            if self.probe {
                // The caller went away mid-probe: let the next request probe instead.
                self.health.breaker().probing = false;
            }
        }
    }
}

/// Health of every target used so far, by `provider/model`.
///
/// Targets of configured routes are tracked from start-up, whatever their number. Targets named
/// only in `x-switchyard-config` headers are tracked while the table holds fewer than `cap`
/// (`server.limits.max_series`); past it they get health that is not kept (no circuit, not
/// listed), so callers cannot grow the table without bound, nor share a circuit another
/// caller's targets could open.
pub struct Health {
    cfg: Circuit,
    cap: usize,
    targets: RwLock<HashMap<String, Arc<TargetHealth>>>,
    /// Targets in the table (read without its lock).
    known: AtomicUsize,
    started: Instant,
}

impl Health {
    pub fn new(cfg: Circuit, cap: usize) -> Self {
        Self {
            cfg,
            cap,
            targets: RwLock::new(HashMap::new()),
            known: AtomicUsize::new(0),
            started: Instant::now(),
        }
    }

    fn ms(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.started).as_millis() as u64 + 1
    }

    /// Tracks a configured route's target, past the cap too.
    pub fn configured(&self, key: &str) {
        self.entry(key, true);
    }

    pub fn get(&self, key: &str) -> Arc<TargetHealth> {
        self.entry(key, false)
    }

    fn entry(&self, key: &str, configured: bool) -> Arc<TargetHealth> {
        if let Some(h) = self
            .targets
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
        {
            return h.clone();
        }
        let mut table = self
            .targets
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(h) = table.get(key) {
            return h.clone();
        }
        if !configured && table.len() >= self.cap {
            return Arc::default();
        }
        let h: Arc<TargetHealth> = Arc::default();
        table.insert(key.to_owned(), h.clone());
        self.known.store(table.len(), Ordering::Relaxed);
        h
    }

    /// Whether `key` takes a request now; a probe is handed out once per ended ejection.
    pub fn admit(&self, key: &str) -> Admission {
        let h = self.get(key);
        let now = Instant::now();
        let mut b = h.breaker();
        match b.ejected_until {
            Some(u) if now < u => Admission::Ejected,
            Some(_) if b.probing => Admission::Ejected,
            Some(_) => {
                b.probing = true;
                Admission::Probe
            }
            None => Admission::Allowed,
        }
    }

    /// Starts an attempt on `key`.
    pub fn begin(&self, key: &str, probe: bool) -> InFlight<'_> {
        let health = self.get(key);
        health.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight {
            health,
            table: self,
            started: Instant::now(),
            probe,
            done: false,
        }
    }

    /// Whether another ejection stays within the cap on ejected targets. Counted from the
    /// lock-free mirrors, with no breaker lock held (a breaker is locked after this).
    fn may_eject(&self, now: Instant) -> bool {
        let now_ms = self.ms(now);
        let ejected = self
            .targets
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .filter(|t| t.ejected_until_ms.load(Ordering::Relaxed) > now_ms)
            .count();
        let total = self.known.load(Ordering::Relaxed).max(1);
        (ejected + 1) * 100 <= total * usize::from(self.cfg.max_ejected_percent)
    }

    fn eject(&self, h: &TargetHealth, b: &mut Breaker, now: Instant, length: Duration) {
        b.ejected_until = Some(now + length);
        h.ejected_until_ms
            .store(self.ms(now + length), Ordering::Relaxed);
        b.probing = false;
        b.window_start = None;
        b.consecutive = 0;
    }

    fn close(&self, h: &TargetHealth, b: &mut Breaker) {
        b.ejected_until = None;
        h.ejected_until_ms.store(0, Ordering::Relaxed);
        b.probing = false;
        b.ejections = 0;
    }

    fn record(&self, h: &TargetHealth, outcome: Outcome, probe: bool) {
        let now = Instant::now();
        let c = &self.cfg;
        let may_eject = self.may_eject(now);
        let mut b = h.breaker();
        if b.window_start
            .is_none_or(|s| now.duration_since(s) > c.window)
        {
            b.window_start = Some(now);
            b.window_total = 0;
            b.window_failed = 0;
        }
        match outcome {
            Outcome::Success => {
                b.consecutive = 0;
                b.window_total += 1;
                if probe || b.ejected_until.is_some_and(|u| now >= u) {
                    self.close(h, &mut b);
                }
            }
            Outcome::CoolDown(d) => {
                if may_eject || b.ejected_until.is_some() {
                    self.eject(h, &mut b, now, d);
                }
            }
            Outcome::Failure => {
                b.consecutive += 1;
                b.window_total += 1;
                b.window_failed += 1;
                let streak = b.consecutive >= c.consecutive_failures;
                let ratio = b.window_total >= c.min_requests
                    && b.window_failed as f64 >= c.failure_ratio * b.window_total as f64;
                if probe || ((streak || ratio) && (may_eject || b.ejected_until.is_some())) {
                    let factor = 2u32.saturating_pow(b.ejections.min(16));
                    let length = c.base_ejection.saturating_mul(factor).min(c.max_ejection);
                    b.ejections += 1;
                    self.eject(h, &mut b, now, length);
                }
            }
            Outcome::Neutral => {
                if probe {
                    b.probing = false;
                }
            }
        }
    }

    /// Every target's state, for `GET /admin/health`.
    pub fn snapshot(&self) -> serde_json::Value {
        let now = Instant::now();
        // Copied out first: no breaker is locked while the table's lock is held.
        let mut entries: Vec<(String, Arc<TargetHealth>)> = self
            .targets
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let targets: Vec<serde_json::Value> = entries
            .into_iter()
            .map(|(k, h)| {
                let mut v = h.snapshot(now);
                v["target"] = serde_json::json!(k);
                v
            })
            .collect();
        serde_json::json!({ "targets": targets })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health(consecutive: u32) -> Health {
        Health::new(
            Circuit {
                consecutive_failures: consecutive,
                base_ejection: Duration::from_millis(40),
                max_ejection: Duration::from_millis(100),
                max_ejected_percent: 100,
                ..Circuit::default()
            },
            100,
        )
    }

    fn fail(h: &Health, key: &str) {
        let probe = h.admit(key) == Admission::Probe;
        h.begin(key, probe).finish(Outcome::Failure);
    }

    /// Admits `key` until it is let through as the probe; how long that took.
    fn wait_for_probe(h: &Health, key: &str) -> Duration {
        let start = std::time::Instant::now();
        loop {
            match h.admit(key) {
                Admission::Probe => return start.elapsed(),
                Admission::Ejected => std::thread::sleep(Duration::from_millis(2)),
                other => panic!("{other:?} while ejected"),
            }
            assert!(start.elapsed() < Duration::from_secs(10), "never probed");
        }
    }

    #[test]
    fn a_streak_ejects_then_a_probe_decides() {
        let h = health(2);
        fail(&h, "a");
        assert_eq!(h.admit("a"), Admission::Allowed);
        fail(&h, "a");
        let ejected = std::time::Instant::now();
        assert_eq!(h.admit("a"), Admission::Ejected);
        // Only lower bounds on time: a loaded machine can only make the waits longer.
        wait_for_probe(&h, "a");
        // (The ejection began a moment before `ejected` was read: a small allowance.)
        assert!(
            ejected.elapsed() >= Duration::from_millis(35),
            "{:?}",
            ejected.elapsed()
        );
        // One probe; others wait for it.
        assert_eq!(h.admit("a"), Admission::Ejected);
        h.begin("a", true).finish(Outcome::Failure);
        // Ejected again, for twice as long.
        let again = std::time::Instant::now();
        assert_eq!(h.admit("a"), Admission::Ejected);
        wait_for_probe(&h, "a");
        assert!(
            again.elapsed() >= Duration::from_millis(75),
            "{:?}",
            again.elapsed()
        );
        h.begin("a", true).finish(Outcome::Success);
        assert_eq!(h.admit("a"), Admission::Allowed);
        assert_eq!(h.snapshot()["targets"][0]["state"], "closed");
    }

    #[test]
    fn cool_downs_ratios_and_the_ejection_cap() {
        let h = health(100);
        h.begin("a", false)
            .finish(Outcome::CoolDown(Duration::from_millis(30)));
        assert_eq!(h.admit("a"), Admission::Ejected);
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(h.admit("a"), Admission::Probe);

        // A failure ratio over enough requests ejects without a streak.
        let h = Health::new(
            Circuit {
                consecutive_failures: 100,
                min_requests: 10,
                failure_ratio: 0.5,
                max_ejected_percent: 100,
                ..Circuit::default()
            },
            100,
        );
        for i in 0..10 {
            // Alternating, ending on the fifth failure of ten.
            let outcome = if i % 2 == 1 {
                Outcome::Failure
            } else {
                Outcome::Success
            };
            h.begin("b", false).finish(outcome);
        }
        assert_eq!(h.admit("b"), Admission::Ejected);

        // With a 50% cap and two targets, the second cannot be ejected while the first is.
        let h = Health::new(
            Circuit {
                consecutive_failures: 1,
                max_ejected_percent: 50,
                ..Circuit::default()
            },
            100,
        );
        h.get("x");
        fail(&h, "y");
        assert_eq!(h.admit("y"), Admission::Ejected);
        fail(&h, "x");
        assert_eq!(
            h.admit("x"),
            Admission::Allowed,
            "the cap keeps one target in"
        );
    }

    #[test]
    fn past_the_cap_header_targets_are_not_tracked_and_configured_ones_keep_their_circuit() {
        let h = Health::new(
            Circuit {
                consecutive_failures: 2,
                max_ejected_percent: 100,
                ..Circuit::default()
            },
            2,
        );
        h.configured("cfg/a");
        h.configured("cfg/b");
        h.configured("cfg/c");
        for i in 0..10 {
            fail(&h, &format!("header/m{i}"));
            fail(&h, &format!("header/m{i}"));
        }
        let listed: Vec<String> = h.snapshot()["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["target"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(listed, ["cfg/a", "cfg/b", "cfg/c"]);
        // An untracked target has no circuit to open: it is never ejected.
        assert_eq!(h.admit("header/m0"), Admission::Allowed);
        // Configured targets still are.
        fail(&h, "cfg/c");
        fail(&h, "cfg/c");
        assert_eq!(h.admit("cfg/c"), Admission::Ejected);
    }
}
