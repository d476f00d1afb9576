//! The single binary's store: every counter and open reservation in memory, behind one mutex
//! held for a few microseconds per call (no I/O under it).

use super::{LimitStore, Snapshot, StoreError};
use crate::algo::calendar::Counter;
use crate::algo::rate::{Rate, RateDenial};
use crate::algo::slots::Slots;
use crate::ledger::{worst, Admission, Algo, Denied, Line, LineState};
use futures_util::future::{ready, BoxFuture};
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

/// How long a settled or expired reservation's id is remembered (settling twice is a no-op;
/// settling after expiry charges what was used without releasing twice).
const REMEMBER_US: i64 = 3_600_000_000;

/// One reserved line: the counter, how it counts, what was reserved (0 for lines that do not
/// settle: their amount was final at admission).
type Held = (String, Algo, u64);

/// A reservation not yet settled.
#[derive(Debug, Clone)]
struct Open {
    lines: Vec<Held>,
    expires_us: i64,
}

/// A reservation that ended: settled, or expired and released (then a late settlement still
/// charges its use).
#[derive(Debug, Clone)]
enum Ended {
    Settled,
    Expired(Vec<Held>),
}

#[derive(Default)]
struct Inner {
    rates: HashMap<String, Rate>,
    calendars: HashMap<String, (Counter, i64)>,
    slots: HashMap<String, Slots>,
    open: HashMap<String, Open>,
    by_expiry: BTreeSet<(i64, String)>,
    ended: HashMap<String, (Ended, i64)>,
    /// `once` keys and when they lapse (µs since the epoch, by the wall clock).
    onces: HashMap<String, i64>,
    ended_order: BTreeSet<(i64, String)>,
}

#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What the store holds, for persistence: calendar counters (with their periods' ends).
    pub fn calendars(&self) -> Vec<(String, Counter, i64)> {
        self.lock()
            .calendars
            .iter()
            .map(|(k, (c, end))| (k.clone(), *c, *end))
            .collect()
    }

    /// Restores calendar counters' use (reservations are not persisted: a restart ends them).
    pub fn restore(&self, counters: Vec<(String, u64, i64)>) {
        let mut g = self.lock();
        for (key, used, end) in counters {
            g.calendars
                .insert(key, (Counter { used, reserved: 0 }, end));
        }
    }
}

impl Inner {
    /// A line's state after it was applied (or as it is, to look).
    fn state(&self, line: &Line, now_us: i64, over: bool) -> LineState {
        let amount = line.algo.amount();
        match line.algo {
            Algo::Rate(r) => {
                let s = self.rates.get(&line.counter).copied().unwrap_or_default();
                LineState {
                    amount,
                    reserved: 0,
                    remaining: r.remaining(s, now_us),
                    reset_us: r.reset_us(s, now_us),
                    over,
                }
            }
            Algo::Calendar { end_us, .. } => {
                let c = self
                    .calendars
                    .get(&line.counter)
                    .map(|(c, _)| *c)
                    .unwrap_or_default();
                LineState {
                    amount,
                    reserved: i64::try_from(c.reserved).unwrap_or(i64::MAX),
                    remaining: c.remaining(amount),
                    reset_us: (end_us - now_us).max(0),
                    over,
                }
            }
            Algo::Slots { .. } => {
                let s = self.slots.get(&line.counter);
                LineState {
                    amount,
                    reserved: 0,
                    remaining: s.map_or(i64::try_from(amount).unwrap_or(i64::MAX), |s| {
                        s.remaining(amount)
                    }),
                    reset_us: s
                        .and_then(Slots::next_free_us)
                        .map_or(0, |t| (t - now_us).max(0)),
                    over,
                }
            }
        }
    }

    /// Whether `line` fits now; the refusal when not.
    fn check(&mut self, i: usize, line: &Line, now_us: i64) -> Option<Denied> {
        match line.algo {
            Algo::Rate(r) => {
                let s = self.rates.get(&line.counter).copied().unwrap_or_default();
                match r.admit(s, line.reserve, now_us) {
                    Ok(_) => None,
                    Err(RateDenial::RetryAfter(w)) => Some(Denied {
                        line: i,
                        retry_after_us: Some(w),
                        reset_us: r.reset_us(s, now_us),
                        too_large: false,
                    }),
                    Err(RateDenial::TooLarge) => Some(Denied {
                        line: i,
                        retry_after_us: None,
                        reset_us: r.reset_us(s, now_us),
                        too_large: true,
                    }),
                }
            }
            Algo::Calendar { amount, end_us } => {
                let mut c = self
                    .calendars
                    .get(&line.counter)
                    .map(|(c, _)| *c)
                    .unwrap_or_default();
                (!c.reserve(line.reserve, amount)).then_some(Denied {
                    line: i,
                    retry_after_us: None,
                    reset_us: (end_us - now_us).max(0),
                    too_large: line.reserve > amount,
                })
            }
            Algo::Slots { amount } => {
                let s = self.slots.entry(line.counter.clone()).or_default();
                s.purge(now_us);
                (s.held.len() as u64 >= amount).then(|| Denied {
                    line: i,
                    retry_after_us: s.next_free_us().map(|t| (t - now_us).max(1)),
                    reset_us: s.next_free_us().map_or(0, |t| (t - now_us).max(0)),
                    too_large: amount == 0,
                })
            }
        }
    }

    /// Takes `line`'s reservation, whether it fits or not (checked before).
    fn apply(&mut self, id: &str, line: &Line, expires_us: i64, now_us: i64) {
        match line.algo {
            Algo::Rate(r) => {
                let s = self.rates.entry(line.counter.clone()).or_default();
                *s = match r.admit(*s, line.reserve, now_us) {
                    Ok(next) => next,
                    // A shadow line over its limit: counted all the same.
                    Err(_) => Rate {
                        tat: s.tat.max(i128::from(now_us) * i128::from(r.capacity))
                            + i128::from(line.reserve) * i128::from(r.window_us),
                    },
                };
            }
            Algo::Calendar { end_us, .. } => {
                let (c, _) = self
                    .calendars
                    .entry(line.counter.clone())
                    .or_insert((Counter::default(), end_us));
                if line.settles {
                    c.force(line.reserve);
                } else {
                    c.settle(0, line.reserve);
                }
            }
            Algo::Slots { .. } => {
                self.slots
                    .entry(line.counter.clone())
                    .or_default()
                    .force(id, expires_us);
            }
        }
    }

    /// Ends a reservation's lines: charges `used` (per line; `None`: nothing, as at expiry)
    /// and gives back the rest.
    fn end_lines(&mut self, id: &str, lines: &[Held], used: Option<&[u64]>, now_us: i64) {
        for (i, (counter, algo, reserved)) in lines.iter().enumerate() {
            let u = used.and_then(|u| u.get(i).copied()).unwrap_or(0);
            if *reserved == 0 && !matches!(algo, Algo::Slots { .. }) {
                // Final at admission.
                continue;
            }
            match algo {
                Algo::Rate(r) => {
                    if let Some(s) = self.rates.get_mut(counter) {
                        *s = r.settle(*s, *reserved, u, now_us);
                    }
                }
                Algo::Calendar { end_us, .. } => {
                    let (c, _) = self
                        .calendars
                        .entry(counter.clone())
                        .or_insert((Counter::default(), *end_us));
                    c.settle(*reserved, u);
                }
                Algo::Slots { .. } => {
                    if let Some(s) = self.slots.get_mut(counter) {
                        s.free(id);
                    }
                }
            }
        }
    }

    /// Charges a late settlement of an expired reservation (its reservation was released).
    fn charge_late(&mut self, lines: &[Held], used: &[u64], now_us: i64) {
        for (i, (counter, algo, reserved)) in lines.iter().enumerate() {
            let u = used.get(i).copied().unwrap_or(0);
            if *reserved == 0 {
                continue;
            }
            match algo {
                Algo::Rate(r) => {
                    let s = self.rates.entry(counter.clone()).or_default();
                    *s = r.settle(*s, 0, u, now_us);
                }
                Algo::Calendar { end_us, .. } => {
                    let (c, _) = self
                        .calendars
                        .entry(counter.clone())
                        .or_insert((Counter::default(), *end_us));
                    c.settle(0, u);
                }
                Algo::Slots { .. } => {}
            }
        }
    }

    fn remember(&mut self, id: &str, how: Ended, now_us: i64) {
        let until = now_us + REMEMBER_US;
        self.ended.insert(id.to_owned(), (how, until));
        self.ended_order.insert((until, id.to_owned()));
    }

    /// Releases reservations past their expiry, forgets old ended ids and idle counters.
    fn sweep(&mut self, now_us: i64) -> usize {
        let mut released = 0;
        while let Some((t, id)) = self.by_expiry.first().cloned() {
            if t > now_us {
                break;
            }
            self.by_expiry.pop_first();
            if let Some(open) = self.open.remove(&id) {
                self.end_lines(&id, &open.lines, None, now_us);
                self.remember(&id, Ended::Expired(open.lines), now_us);
                released += 1;
            }
        }
        while let Some((t, id)) = self.ended_order.first().cloned() {
            if t > now_us {
                break;
            }
            self.ended_order.pop_first();
            if self.ended.get(&id).is_some_and(|(_, until)| *until == t) {
                self.ended.remove(&id);
            }
        }
        released
    }
}

impl MemoryStore {
    /// `reserve` without the future, for tests and the reference checks.
    pub fn reserve_now(
        &self,
        id: &str,
        lines: &[Line],
        ttl_us: i64,
        now_us: i64,
    ) -> Result<Admission, StoreError> {
        let mut g = self.lock();
        g.sweep(now_us);
        if g.open.contains_key(id) || g.ended.contains_key(id) {
            return Err(StoreError::Duplicate(id.to_owned()));
        }
        let mut denials = Vec::new();
        let mut over = vec![false; lines.len()];
        for (i, line) in lines.iter().enumerate() {
            if let Some(d) = g.check(i, line, now_us) {
                if line.enforce {
                    denials.push(d);
                } else {
                    over[i] = true;
                }
            }
        }
        if let Some(d) = worst(&denials, lines) {
            return Ok(Err(d));
        }
        let expires_us = now_us.saturating_add(ttl_us);
        for line in lines {
            g.apply(id, line, expires_us, now_us);
        }
        g.open.insert(
            id.to_owned(),
            Open {
                lines: lines
                    .iter()
                    .map(|l| {
                        let held = if l.settles { l.reserve } else { 0 };
                        (l.counter.clone(), l.algo, held)
                    })
                    .collect(),
                expires_us,
            },
        );
        g.by_expiry.insert((expires_us, id.to_owned()));
        Ok(Ok(lines
            .iter()
            .zip(over)
            .map(|(l, o)| g.state(l, now_us, o))
            .collect()))
    }

    /// `settle` without the future.
    pub fn settle_now(&self, id: &str, used: &[u64], now_us: i64) {
        let mut g = self.lock();
        if let Some(open) = g.open.remove(id) {
            g.by_expiry.remove(&(open.expires_us, id.to_owned()));
            g.end_lines(id, &open.lines, Some(used), now_us);
            g.remember(id, Ended::Settled, now_us);
            return;
        }
        if let Some((Ended::Expired(lines), _)) = g.ended.get(id).cloned() {
            g.charge_late(&lines, used, now_us);
            g.remember(id, Ended::Settled, now_us);
        }
        // Settled before, or never reserved: nothing to do.
    }

    /// `look` without the future.
    pub fn look_now(&self, lines: &[Line], now_us: i64) -> Vec<LineState> {
        let mut g = self.lock();
        g.sweep(now_us);
        lines.iter().map(|l| g.state(l, now_us, false)).collect()
    }

    /// Releases expired reservations now; how many.
    pub fn sweep_now(&self, now_us: i64) -> usize {
        self.lock().sweep(now_us)
    }

    /// What a calendar counter holds (used, reserved), for tests and the admin API.
    pub fn counter(&self, key: &str) -> Option<Counter> {
        self.lock().calendars.get(key).map(|(c, _)| *c)
    }

    /// Open reservations.
    pub fn open_count(&self) -> usize {
        self.lock().open.len()
    }
}

impl LimitStore for MemoryStore {
    fn reserve<'a>(
        &'a self,
        id: &'a str,
        lines: &'a [Line],
        ttl_us: i64,
        now_us: i64,
    ) -> BoxFuture<'a, Result<Admission, StoreError>> {
        Box::pin(ready(self.reserve_now(id, lines, ttl_us, now_us)))
    }

    fn settle<'a>(
        &'a self,
        id: &'a str,
        used: &'a [u64],
        now_us: i64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.settle_now(id, used, now_us);
        Box::pin(ready(Ok(())))
    }

    fn look<'a>(
        &'a self,
        lines: &'a [Line],
        now_us: i64,
    ) -> BoxFuture<'a, Result<Vec<LineState>, StoreError>> {
        Box::pin(ready(Ok(self.look_now(lines, now_us))))
    }

    fn sweep(&self, now_us: i64) -> BoxFuture<'_, Result<usize, StoreError>> {
        Box::pin(ready(Ok(self.sweep_now(now_us))))
    }

    fn once<'a>(&'a self, key: &'a str, ttl_us: i64) -> BoxFuture<'a, Result<bool, StoreError>> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
        let mut g = self.lock();
        g.onces.retain(|_, until| *until > now);
        let first = !g.onces.contains_key(key);
        if first {
            g.onces
                .insert(key.to_owned(), now.saturating_add(ttl_us.max(1)));
        }
        Box::pin(ready(Ok(first)))
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            open: self.open_count(),
        }
    }
}

#[cfg(test)]
mod tests;
