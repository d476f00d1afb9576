//! The Redis store on the local Redis (127.0.0.1:6379): the same answers as the in-memory store
//! for the same traffic, exact under concurrency from several connections (replicas), expiry on
//! Redis's clock, idempotent settlement. Each test uses a key prefix of its own.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use switchyard_limits::algo::rate::RateLimit;
use switchyard_limits::ledger::{Algo, Line};
use switchyard_limits::store::memory::MemoryStore;
use switchyard_limits::store::redis::RedisStore;
use switchyard_limits::store::LimitStore;

const URL: &str = "redis://127.0.0.1:6379/";
const SEC: i64 = 1_000_000;
/// Far in the future: budgets that never reset during a test.
const END: i64 = 4_000_000_000_000_000;

async fn store() -> (RedisStore, String) {
    let prefix = format!("sy-test-{:016x}:", fastrand::u64(..));
    (
        RedisStore::open(URL, &prefix)
            .await
            .expect("the local Redis"),
        prefix,
    )
}

fn budget(counter: &str, amount: u64, reserve: u64) -> Line {
    Line {
        counter: counter.into(),
        algo: Algo::Calendar {
            amount,
            end_us: END,
        },
        reserve,
        enforce: true,
        settles: true,
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

#[tokio::test]
async fn reservations_are_all_or_nothing_and_settle_once() {
    let (s, _) = store().await;
    let lines = [budget("b", 100, 60), slots("c", 5)];
    let first = s.reserve("a", &lines, 10 * SEC, 0).await.unwrap().unwrap();
    assert_eq!((first[0].remaining, first[1].remaining), (40, 4));
    let refused = s
        .reserve("b", &lines, 10 * SEC, 0)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!((refused.line, refused.retry_after_us), (0, None));
    assert!(refused.reset_us > 0);
    // Nothing was taken for the refused one: still one slot held.
    assert_eq!(s.look(&lines, 0).await.unwrap()[1].remaining, 4);
    s.settle("a", &[25, 1], 0).await.unwrap();
    s.settle("a", &[25, 1], 0).await.unwrap();
    let now = s.look(&lines, 0).await.unwrap();
    assert_eq!((now[0].remaining, now[1].remaining), (75, 5));
    assert!(
        s.reserve("a", &lines, 10 * SEC, 0).await.is_err(),
        "ids are never reused"
    );
}

#[tokio::test]
async fn an_unsettled_reservation_expires_on_redis_time_and_a_late_settlement_still_charges() {
    let (s, _) = store().await;
    let lines = [budget("b", 100, 80), slots("c", 1)];
    s.reserve("a", &lines, 200_000, 0).await.unwrap().unwrap();
    assert!(s.reserve("b", &lines, 200_000, 0).await.unwrap().is_err());
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    assert_eq!(s.sweep(0).await.unwrap(), 1);
    assert!(s.reserve("c", &lines, 10 * SEC, 0).await.unwrap().is_ok());
    s.settle("a", &[30, 1], 0).await.unwrap();
    s.settle("a", &[30, 1], 0).await.unwrap();
    // c holds 80; a's late 30 is charged once.
    assert_eq!(s.look(&lines, 0).await.unwrap()[0].remaining, 100 - 80 - 30);
}

#[tokio::test]
async fn an_unreachable_redis_is_a_store_error_at_once_then_retried() {
    let s = RedisStore::new("redis://127.0.0.1:1/", "x:").unwrap();
    let lines = [budget("b", 10, 1)];
    let started = std::time::Instant::now();
    assert!(s.reserve("a", &lines, SEC, 0).await.is_err());
    // The next call within a second fails without trying again.
    assert!(s.reserve("b", &lines, SEC, 0).await.is_err());
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[tokio::test]
async fn a_rate_refuses_with_the_wait_until_it_fits() {
    let (s, _) = store().await;
    let rpm = [Line {
        counter: "r".into(),
        algo: Algo::Rate(RateLimit {
            capacity: 2,
            window_us: 60 * SEC,
        }),
        reserve: 1,
        enforce: true,
        settles: false,
    }];
    s.reserve("1", &rpm, SEC, 0).await.unwrap().unwrap();
    let second = s.reserve("2", &rpm, SEC, 0).await.unwrap().unwrap();
    assert_eq!(second[0].remaining, 0);
    let d = s.reserve("3", &rpm, SEC, 0).await.unwrap().unwrap_err();
    // 30 s from the first request, less the few ms since.
    let wait = d.retry_after_us.unwrap();
    assert!((29 * SEC..=30 * SEC).contains(&wait), "{wait}");
}

/// Two connections (two replicas) and 128 concurrent requests against a daily budget of 100
/// requests: exactly 100 are admitted.
#[tokio::test]
async fn replicas_admit_exactly_the_budget_under_concurrency() {
    let (a, prefix) = store().await;
    let b = RedisStore::open(URL, &prefix).await.unwrap();
    let replicas: [Arc<dyn LimitStore>; 2] = [Arc::new(a), Arc::new(b)];
    let mut tasks = Vec::new();
    for i in 0..128 {
        let s = Arc::clone(&replicas[i % 2]);
        tasks.push(tokio::spawn(async move {
            let mut per_day = budget("day", 100, 1);
            per_day.settles = false;
            let lines = [per_day];
            s.reserve(&format!("q{i}"), &lines, 10 * SEC, 0)
                .await
                .unwrap()
                .is_ok()
        }));
    }
    let mut admitted = 0;
    for t in tasks {
        admitted += usize::from(t.await.unwrap());
    }
    assert_eq!(admitted, 100);
}

/// Property: the same random traffic (reservations, settlements below, at and over the
/// reservation, some twice) gives the same answers and counters from Redis as from the
/// in-memory store, which is itself checked against a reference ledger.
#[tokio::test]
async fn redis_answers_as_the_memory_store_does() {
    let (r, _) = store().await;
    let m = MemoryStore::new();
    let mut rng = fastrand::Rng::with_seed(5);
    let mut open: Vec<(String, [u64; 2])> = Vec::new();
    for step in 0..300 {
        if rng.bool() || open.is_empty() {
            let id = format!("s{step}");
            let want = [rng.u64(1..40), rng.u64(1..40)];
            let lines = [
                budget("b0", 300, want[0]),
                budget("b1", 250, want[1]),
                slots("c", 4),
            ];
            let got_r = r.reserve(&id, &lines, 60 * SEC, 0).await.unwrap();
            let got_m = m.reserve(&id, &lines, 60 * SEC, 0).await.unwrap();
            assert_eq!(got_r.is_ok(), got_m.is_ok(), "step {step}");
            if let (Ok(a), Ok(b)) = (&got_r, &got_m) {
                let rem = |v: &Vec<switchyard_limits::ledger::LineState>| {
                    v.iter().map(|s| s.remaining).collect::<Vec<_>>()
                };
                assert_eq!(rem(a), rem(b), "step {step}");
                open.push((id, want));
            }
            if let (Err(a), Err(b)) = (&got_r, &got_m) {
                assert_eq!(a.line, b.line, "step {step}");
            }
        } else {
            let (id, want) = open.swap_remove(rng.usize(..open.len()));
            let used = [rng.u64(0..want[0] * 2), rng.u64(0..want[1] * 2), 1];
            r.settle(&id, &used, 0).await.unwrap();
            m.settle(&id, &used, 0).await.unwrap();
        }
    }
}
