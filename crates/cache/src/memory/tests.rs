#![allow(clippy::unwrap_used)]

use super::*;
use crate::key::KeyParts;
use bytes::Bytes;
use serde_json::json;

fn key(i: u64) -> Key {
    Key::new(&KeyParts {
        scope: "ws",
        operation: "chat.completions",
        target: "t",
        policies: &[],
        body: &json!({"n": i}),
    })
}

fn entry(ns: &str, body_len: usize, created: i64, ttl: i64) -> Entry {
    Entry {
        body: Bytes::from(vec![b'x'; body_len]),
        namespace: ns.to_owned(),
        stored_by: "key-1".into(),
        provider: "openai".into(),
        model: "gpt-4o-mini".into(),
        prompt_tokens: 10,
        completion_tokens: 5,
        cost_nanos: 42,
        created_ms: created,
        expires_ms: created + ttl,
    }
}

#[test]
fn entries_are_served_within_their_ttl_and_max_age_only() {
    let s = MemoryStore::new(1 << 20);
    s.put(key(1), entry("ws", 100, 1_000, 500));
    assert!(s.get(&key(1), 1_200, None).is_some());
    // Older than the request accepts: not served, but kept.
    assert!(s.get(&key(1), 1_200, Some(100)).is_none());
    assert!(s.get(&key(1), 1_200, Some(300)).is_some());
    // Past its TTL: dropped.
    assert!(s.get(&key(1), 1_500, None).is_none());
    assert_eq!(s.stats().entries, 0);
    assert_eq!(s.expired(), 1);
    assert!(s.get(&key(2), 1_000, None).is_none());
}

#[test]
fn distinct_entries_never_hold_more_than_the_bound() {
    let bound = 256 * 1024;
    let s = MemoryStore::new(bound);
    for i in 0..20_000 {
        s.put(key(i), entry("ws", 500 + (i as usize % 7) * 300, 0, 60_000));
        let st = s.stats();
        assert!(
            st.bytes <= bound,
            "{} bytes held after {i} entries",
            st.bytes
        );
    }
    let st = s.stats();
    // Full, not emptied: the bound is used.
    assert!(st.bytes > bound / 2, "{st:?}");
    assert!(st.entries > 50, "{st:?}");
}

#[test]
fn answers_asked_for_again_outlive_a_scan_of_one_offs() {
    let s = MemoryStore::new(200 * 1024);
    for i in 0..20 {
        s.put(key(i), entry("ws", 1_000, 0, 60_000));
    }
    // The hot ones are asked for; then many one-offs pass through.
    for _ in 0..3 {
        for i in 0..20 {
            assert!(s.get(&key(i), 1, None).is_some());
        }
    }
    for i in 1_000..3_000 {
        s.put(key(i), entry("ws", 1_000, 0, 60_000));
    }
    let kept = (0..20)
        .filter(|i| s.get(&key(*i), 1, None).is_some())
        .count();
    assert!(kept >= 15, "{kept} of 20 hot entries kept");
}

#[test]
fn purges_select_by_namespace_and_age() {
    let s = MemoryStore::new(1 << 20);
    s.put(key(1), entry("a", 10, 1_000, 60_000));
    s.put(key(2), entry("a", 10, 5_000, 60_000));
    s.put(key(3), entry("b", 10, 1_000, 60_000));
    assert_eq!(
        s.purge_where(|_, e| e.namespace == "a" && e.created_ms < 2_000),
        1
    );
    assert!(s.get(&key(1), 6_000, None).is_none());
    assert!(s.get(&key(2), 6_000, None).is_some());
    assert_eq!(s.purge_where(|_, e| e.namespace == "b"), 1);
    assert_eq!(s.stats().entries, 1);
    assert!(s.remove(&key(2)));
    assert!(!s.remove(&key(2)));
}
