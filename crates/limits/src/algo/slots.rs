//! Expiring slots for concurrency: a request holds a slot from admission until it settles; a
//! slot whose holder never settles (its replica died) frees itself at its expiry.

use std::collections::BTreeMap;

/// The slots taken, by reservation id, with their expiry (µs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Slots {
    pub held: BTreeMap<String, i64>,
}

impl Slots {
    /// Drops slots past their expiry.
    pub fn purge(&mut self, now_us: i64) {
        self.held.retain(|_, until| *until > now_us);
    }

    /// Takes a slot for `id` when fewer than `amount` are held (after purging expired ones).
    pub fn take(&mut self, id: &str, amount: u64, until_us: i64, now_us: i64) -> bool {
        self.purge(now_us);
        if self.held.len() as u64 >= amount {
            return false;
        }
        self.held.insert(id.to_owned(), until_us);
        true
    }

    /// Takes a slot whatever the count (shadow limits).
    pub fn force(&mut self, id: &str, until_us: i64) {
        self.held.insert(id.to_owned(), until_us);
    }

    pub fn free(&mut self, id: &str) {
        self.held.remove(id);
    }

    /// The earliest expiry among held slots: when one frees itself at the latest.
    pub fn next_free_us(&self) -> Option<i64> {
        self.held.values().min().copied()
    }

    pub fn remaining(&self, amount: u64) -> i64 {
        i64::try_from(amount).unwrap_or(i64::MAX) - self.held.len() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_held_until_freed_or_expired() {
        let mut s = Slots::default();
        assert!(s.take("a", 2, 100, 0));
        assert!(s.take("b", 2, 200, 0));
        assert!(!s.take("c", 2, 300, 50));
        assert_eq!(s.next_free_us(), Some(100));
        s.free("b");
        assert!(s.take("c", 2, 300, 60));
        // `a` expires at 100: its slot is free again.
        assert!(s.take("d", 2, 400, 100));
        assert_eq!(s.remaining(2), 0);
    }
}
