use super::*;
use crate::algo::rate::RateLimit;

const SEC: i64 = 1_000_000;

fn budget(counter: &str, amount: u64, reserve: u64) -> Line {
    Line {
        counter: counter.into(),
        algo: Algo::Calendar {
            amount,
            end_us: 1_000 * SEC,
        },
        reserve,
        enforce: true,
        settles: true,
    }
}

fn rpm(counter: &str, capacity: u64) -> Line {
    Line {
        counter: counter.into(),
        algo: Algo::Rate(RateLimit {
            capacity,
            window_us: 60 * SEC,
        }),
        reserve: 1,
        enforce: true,
        settles: false,
    }
}

fn slots(counter: &str, amount: u64) -> Line {
    Line {
        counter: counter.into(),
        algo: Algo::Slots { amount },
        reserve: 1,
        enforce: true,
        settles: true,
    }
}

#[test]
fn all_or_nothing_a_refused_reservation_takes_nothing() {
    let s = MemoryStore::new();
    let lines = [budget("b", 100, 60), rpm("r", 10), slots("c", 5)];
    assert!(s.reserve_now("a", &lines, 10 * SEC, 0).unwrap().is_ok());
    // The budget refuses the second: the rate and the slots are untouched.
    let refused = s
        .reserve_now("b", &lines, 10 * SEC, 0)
        .unwrap()
        .unwrap_err();
    assert_eq!(refused.line, 0);
    assert_eq!(refused.retry_after_us, None);
    assert_eq!(refused.reset_us, 1_000 * SEC);
    let looked = s.look_now(&lines, 0);
    assert_eq!(looked[1].remaining, 9);
    assert_eq!(looked[2].remaining, 4);
    assert_eq!(
        s.counter("b"),
        Some(Counter {
            used: 0,
            reserved: 60
        })
    );
}

#[test]
fn settlement_charges_use_releases_the_rest_and_happens_once() {
    let s = MemoryStore::new();
    let lines = [budget("b", 100, 60), slots("c", 1)];
    s.reserve_now("a", &lines, 10 * SEC, 0).unwrap().unwrap();
    s.settle_now("a", &[25, 1], SEC);
    s.settle_now("a", &[25, 1], SEC);
    assert_eq!(
        s.counter("b"),
        Some(Counter {
            used: 25,
            reserved: 0
        })
    );
    assert_eq!(s.open_count(), 0);
    // The slot is free again.
    assert!(s
        .reserve_now("b", &[slots("c", 1)], 10 * SEC, SEC)
        .unwrap()
        .is_ok());
    // An id is never reused.
    assert!(matches!(
        s.reserve_now("a", &lines, 10 * SEC, SEC),
        Err(StoreError::Duplicate(_))
    ));
}

#[test]
fn an_unsettled_reservation_expires_and_a_late_settlement_still_charges() {
    let s = MemoryStore::new();
    let lines = [budget("b", 100, 80), slots("c", 1)];
    s.reserve_now("a", &lines, 10 * SEC, 0).unwrap().unwrap();
    assert!(s
        .reserve_now("b", &lines, 10 * SEC, 9 * SEC)
        .unwrap()
        .is_err());
    // Expired at 10 s: released, so another fits.
    assert!(s
        .reserve_now("c", &lines, 10 * SEC, 10 * SEC)
        .unwrap()
        .is_ok());
    assert_eq!(
        s.counter("b"),
        Some(Counter {
            used: 0,
            reserved: 80
        })
    );
    // The first request's answer finally ends: its use is charged, nothing released twice.
    s.settle_now("a", &[30, 1], 11 * SEC);
    assert_eq!(
        s.counter("b"),
        Some(Counter {
            used: 30,
            reserved: 80
        })
    );
    s.settle_now("a", &[30, 1], 11 * SEC);
    assert_eq!(
        s.counter("b"),
        Some(Counter {
            used: 30,
            reserved: 80
        })
    );
}

#[test]
fn shadow_lines_count_but_never_refuse() {
    let s = MemoryStore::new();
    let mut shadow = budget("b", 10, 8);
    shadow.enforce = false;
    let first = s
        .reserve_now("a", &[shadow.clone()], SEC, 0)
        .unwrap()
        .unwrap();
    assert!(!first[0].over);
    let second = s
        .reserve_now("b", &[shadow.clone()], SEC, 0)
        .unwrap()
        .unwrap();
    assert!(second[0].over);
    assert_eq!(second[0].remaining, -6);
}

#[test]
fn a_request_count_stays_counted_when_its_reservation_expires() {
    let s = MemoryStore::new();
    let mut per_day = budget("d", 2, 1);
    per_day.settles = false;
    s.reserve_now("1", &[per_day.clone()], SEC, 0)
        .unwrap()
        .unwrap();
    assert_eq!(
        s.counter("d"),
        Some(Counter {
            used: 1,
            reserved: 0
        })
    );
    // Expired without settling: still one request used.
    s.sweep_now(5 * SEC);
    s.settle_now("1", &[1], 6 * SEC);
    assert_eq!(
        s.counter("d"),
        Some(Counter {
            used: 1,
            reserved: 0
        })
    );
}

#[test]
fn a_rate_refusal_says_exactly_when_to_retry() {
    let s = MemoryStore::new();
    let r = [rpm("r", 2)];
    s.reserve_now("1", &r, SEC, 0).unwrap().unwrap();
    s.reserve_now("2", &r, SEC, 0).unwrap().unwrap();
    let d = s.reserve_now("3", &r, SEC, 0).unwrap().unwrap_err();
    assert_eq!(d.retry_after_us, Some(30 * SEC));
    assert!(s.reserve_now("4", &r, SEC, 30 * SEC - 1).unwrap().is_err());
    assert!(s.reserve_now("5", &r, SEC, 30 * SEC).unwrap().is_ok());
}

/// What the store should hold, kept the obvious way: every reservation listed.
#[derive(Default)]
struct Reference {
    /// id → (reserved per budget line, expiry, settled?)
    open: HashMap<String, (Vec<u64>, i64)>,
    used: [u64; 2],
}

impl Reference {
    fn reserved(&self, line: usize, now: i64) -> u64 {
        self.open
            .values()
            .filter(|(_, exp)| *exp > now)
            .map(|(r, _)| r[line])
            .sum()
    }
}

/// Property: against random reservations, settlements (with use below, at and above the
/// reservation, some twice, some after expiry) and the passing of time, the budget counters
/// always equal the reference ledger, the slots held equal the open reservations, and a
/// reservation is admitted exactly when it fits.
#[test]
fn random_traffic_matches_the_reference_ledger() {
    let mut rng = fastrand::Rng::with_seed(42);
    for round in 0..50 {
        let s = MemoryStore::new();
        let mut r = Reference::default();
        let amounts = [rng.u64(50..500), rng.u64(50..500)];
        let cap = rng.u64(1..6);
        let ttl = rng.i64(SEC..20 * SEC);
        let mut now = 0;
        let mut next_id = 0;
        let mut expired: HashMap<String, Vec<u64>> = HashMap::new();
        for _ in 0..400 {
            now += rng.i64(0..SEC);
            // Reference expiry: what passed its deadline is released.
            let due: Vec<String> = r
                .open
                .iter()
                .filter(|(_, (_, exp))| *exp <= now)
                .map(|(k, _)| k.clone())
                .collect();
            for id in due {
                if let Some((res, _)) = r.open.remove(&id) {
                    expired.insert(id, res);
                }
            }
            if rng.bool() {
                next_id += 1;
                let id = format!("{round}-{next_id}");
                let want = [rng.u64(1..120), rng.u64(1..120)];
                let lines = [
                    budget("b0", amounts[0], want[0]),
                    budget("b1", amounts[1], want[1]),
                    slots("c", cap),
                ];
                let fits = (0..2).all(|i| r.used[i] + r.reserved(i, now) + want[i] <= amounts[i])
                    && (r.open.len() as u64) < cap;
                let got = s.reserve_now(&id, &lines, ttl, now).unwrap();
                assert_eq!(got.is_ok(), fits, "round {round} at {now}: {got:?}");
                if fits {
                    r.open.insert(id, (want.to_vec(), now + ttl));
                }
            } else if let Some(id) = r.open.keys().next().cloned().filter(|_| rng.bool()) {
                let (res, _) = r.open.remove(&id).unwrap_or_default();
                let used: Vec<u64> = res.iter().map(|x| rng.u64(0..x * 2 + 1)).collect();
                s.settle_now(&id, &[used[0], used[1], 1], now);
                if rng.bool() {
                    s.settle_now(&id, &[used[0], used[1], 1], now);
                }
                r.used[0] += used[0];
                r.used[1] += used[1];
            } else if let Some(id) = expired.keys().next().cloned() {
                let res = expired.remove(&id).unwrap_or_default();
                let used: Vec<u64> = res.iter().map(|x| rng.u64(0..x + 1)).collect();
                s.settle_now(&id, &[used[0], used[1], 1], now);
                r.used[0] += used[0];
                r.used[1] += used[1];
            }
            s.sweep_now(now);
            for (i, key) in ["b0", "b1"].iter().enumerate() {
                let c = s.counter(key).unwrap_or_default();
                assert_eq!(
                    (c.used, c.reserved),
                    (r.used[i], r.reserved(i, now)),
                    "round {round}, {key} at {now}"
                );
            }
            assert_eq!(s.open_count(), r.open.len());
        }
    }
}
