//! The allocator's account of memory, and giving memory back after a burst.
//!
//! The `switchyard` binary allocates with jemalloc. Its statistics say what the program holds
//! (`allocated`), the pages those allocations sit in (`active`), what it keeps resident
//! (`resident`: active pages, its own bookkeeping and freed pages not yet returned) and its
//! bookkeeping (`metadata`). Freed pages go back to the system on a 10 s decay curve, but
//! jemalloc's background thread does not wake for fewer than about 4 MiB of them, so after a
//! burst a few MiB could stay resident for good. [`Trimmer`] notices a burst that has ended (the
//! active bytes fell to half their recent peak or less) and, once no request has started for a
//! whole tick, purges the freed pages: purging costs CPU time, which is never taken from traffic.
//!
//! In the test binaries jemalloc is linked but not the global allocator: its figures are then
//! its own small start-up state, and purging does nothing.

use std::sync::atomic::{AtomicU64, Ordering};
use tikv_jemalloc_ctl::{arenas, epoch, stats, Access, AsName};

/// A snapshot of the allocator's statistics, in bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Heap {
    pub allocated: u64,
    pub active: u64,
    pub resident: u64,
    pub metadata: u64,
    pub retained: u64,
}

/// Times the trimmer gave freed pages back after a burst.
pub static TRIMS: AtomicU64 = AtomicU64::new(0);

/// The statistics now (`None` when the allocator cannot report them).
pub fn read() -> Option<Heap> {
    // The statistics are a snapshot taken when the epoch advances.
    epoch::advance().ok()?;
    let n = |r: tikv_jemalloc_ctl::Result<usize>| r.ok().map(|v| v as u64);
    Some(Heap {
        allocated: n(stats::allocated::read())?,
        active: n(stats::active::read())?,
        resident: n(stats::resident::read())?,
        metadata: n(stats::metadata::read())?,
        retained: n(stats::retained::read())?,
    })
}

/// Freed-but-resident bytes below which trimming is not worth a system call per extent.
const WORTH_TRIMMING: u64 = 2 << 20;

/// Decides, from one snapshot every tick, when a burst has ended.
#[derive(Debug, Default)]
pub struct BurstEnd {
    /// The highest active bytes since the last trim.
    peak: u64,
}

impl BurstEnd {
    /// True when the pages freed by a burst should be returned now: active bytes are at most
    /// half their peak since the last trim, and enough freed pages are still resident. Steady
    /// load (active near its peak) never trims, so pages the allocator is about to reuse stay.
    pub fn due(&mut self, h: &Heap) -> bool {
        self.peak = self.peak.max(h.active);
        let freed = h.resident.saturating_sub(h.active + h.metadata);
        if h.active.saturating_mul(2) <= self.peak && freed >= WORTH_TRIMMING {
            self.peak = h.active;
            return true;
        }
        false
    }
}

/// Returns every arena's freed pages to the system now: setting an arena's decay time to zero
/// purges it at once, then the time is put back.
fn purge() {
    let Ok(n) = arenas::narenas::read() else {
        return;
    };
    for i in 0..n {
        let name = format!("arena.{i}.dirty_decay_ms\0");
        let key = name.as_bytes().name();
        let Ok(was) = Access::<isize>::read(key) else {
            continue; // not initialised: nothing in it
        };
        if was > 0 && key.write(0isize).is_ok() {
            let _ = key.write(was);
        }
    }
}

/// Gives back the memory a burst freed, checked on a regular tick (the server's housekeeping,
/// right after idle upstream connections are swept, so their buffers go back in the same tick).
#[derive(Debug, Default)]
pub struct Trimmer {
    burst: BurstEnd,
}

impl Trimmer {
    /// One tick; `idle` says no request has started since the last one.
    pub fn tick(&mut self, idle: bool) {
        if read().is_some_and(|h| self.decide(&h, idle)) {
            purge();
            TRIMS.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Whether to give freed pages back now: a burst has ended and the gateway is idle. Busy
    /// ticks only follow the peak, so the burst is still seen when the idle tick comes.
    fn decide(&mut self, h: &Heap, idle: bool) -> bool {
        if idle {
            self.burst.due(h)
        } else {
            self.burst.peak = self.burst.peak.max(h.active);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn heap(active: u64, resident: u64) -> Heap {
        Heap {
            allocated: active,
            active,
            resident,
            metadata: MIB,
            retained: 0,
        }
    }

    #[test]
    fn trims_once_when_a_burst_has_ended() {
        let mut b = BurstEnd::default();
        assert!(!b.due(&heap(4 * MIB, 6 * MIB)), "warm");
        assert!(!b.due(&heap(160 * MIB, 170 * MIB)), "during the burst");
        assert!(b.due(&heap(4 * MIB, 16 * MIB)), "after it");
        // The peak is now the quiet level: no trim again until another burst.
        assert!(!b.due(&heap(4 * MIB, 16 * MIB)));
        assert!(!b.due(&heap(5 * MIB, 9 * MIB)));
    }

    #[test]
    fn pages_go_back_only_when_idle() {
        let mut t = Trimmer::default();
        assert!(!t.decide(&heap(160 * MIB, 170 * MIB), false), "the burst");
        // The burst is over but requests still arrive: nothing yet.
        assert!(!t.decide(&heap(4 * MIB, 16 * MIB), false));
        assert!(!t.decide(&heap(4 * MIB, 16 * MIB), false));
        // The first idle tick gives the pages back, once.
        assert!(t.decide(&heap(4 * MIB, 16 * MIB), true));
        assert!(!t.decide(&heap(4 * MIB, 16 * MIB), true));
    }

    #[test]
    fn steady_load_and_small_remainders_are_left_alone() {
        let mut b = BurstEnd::default();
        for _ in 0..5 {
            assert!(!b.due(&heap(100 * MIB, 130 * MIB)), "steady load");
        }
        assert!(!b.due(&heap(70 * MIB, 100 * MIB)), "above half the peak");
        assert!(
            !b.due(&heap(10 * MIB, 12 * MIB)),
            "below half, but under 2 MiB freed"
        );
    }
}
