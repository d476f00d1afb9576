//! The Redis store on the local Redis (127.0.0.1:6379), as two replicas use it: what one
//! stores the other serves; a refresh or a purge on one is seen by the other's memory tier; a
//! semantic vector one shares reaches the other, and a replica started later loads it. Each
//! test uses a key prefix of its own.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bytes::Bytes;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchyard_cache::redis::RedisStore;
use switchyard_cache::{CacheStore, Entry, Key, Purge, SharedVector};

const URL: &str = "redis://127.0.0.1:6379/";

fn prefix() -> String {
    format!("sy-cache-test-{:016x}:", fastrand::u64(..))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn entry(body: &str, ns: &str, by: &str, created: i64) -> Entry {
    Entry {
        body: Bytes::from(body.to_owned()),
        namespace: ns.into(),
        stored_by: by.into(),
        provider: "openai".into(),
        model: "gpt-4o-mini".into(),
        prompt_tokens: 3,
        completion_tokens: 2,
        cost_nanos: 1_500,
        created_ms: created,
        expires_ms: created + 60_000,
    }
}

/// Two replicas on one prefix, both subscribed.
async fn pair(prefix: &str) -> (Arc<RedisStore>, Arc<RedisStore>) {
    let a = RedisStore::open(URL, prefix, 1 << 20).unwrap();
    let b = RedisStore::open(URL, prefix, 1 << 20).unwrap();
    until(|| a.following() && b.following()).await;
    (a, b)
}

async fn until(mut ok: impl FnMut() -> bool) {
    for _ in 0..200 {
        if ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("not within 2 s");
}

async fn body_at(s: &RedisStore, k: &Key) -> Option<String> {
    s.get(k, now(), None)
        .await
        .unwrap()
        .map(|e| String::from_utf8(e.body.to_vec()).unwrap())
}

#[tokio::test]
async fn replicas_share_entries_refreshes_and_purges() {
    let p = prefix();
    let (a, b) = pair(&p).await;
    let k1 = Key([1; 32]);
    let k2 = Key([2; 32]);
    let k3 = Key([3; 32]);
    let t = now();
    a.clone()
        .put(k1, entry("one", "ws-1", "key-a", t))
        .await
        .unwrap();
    a.clone()
        .put(k2, entry("two", "ws-1/team", "key-b", t))
        .await
        .unwrap();
    a.clone()
        .put(k3, entry("three", "ws-2", "key-a", t))
        .await
        .unwrap();
    // What A stored, B serves (and now holds in its memory tier).
    assert_eq!(body_at(&b, &k1).await.as_deref(), Some("one"));
    let e = b.get(&k1, now(), None).await.unwrap().unwrap();
    assert_eq!(
        (e.provider.as_str(), e.stored_by.as_str(), e.cost_nanos),
        ("openai", "key-a", 1_500)
    );
    assert_eq!(body_at(&b, &Key([9; 32])).await, None);
    // A refresh on A replaces B's copy too.
    a.clone()
        .put(k1, entry("one again", "ws-1", "key-a", t + 1))
        .await
        .unwrap();
    for _ in 0..200 {
        if body_at(&b, &k1).await.as_deref() == Some("one again") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(body_at(&b, &k1).await.as_deref(), Some("one again"));
    // Entries older than a request accepts are not served.
    assert!(b.get(&k1, t + 10_000, Some(1_000)).await.unwrap().is_none());
    assert_eq!(b.stats().await.unwrap().entries, 3);
    // A purge of ws-1 on B takes its namespaces with it, on A too; ws-2 stays.
    body_at(&a, &k2).await;
    let n = b
        .purge(&Purge {
            namespace: Some("ws-1".into()),
            ..Purge::default()
        })
        .await
        .unwrap();
    assert_eq!(n, 2);
    for _ in 0..200 {
        if body_at(&a, &k2).await.is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(body_at(&a, &k1).await, None);
    assert_eq!(body_at(&a, &k2).await, None);
    assert_eq!(body_at(&a, &k3).await.as_deref(), Some("three"));
    // By the key that stored it.
    let n = a
        .purge(&Purge {
            stored_by: Some("key-a".into()),
            ..Purge::default()
        })
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(a.stats().await.unwrap().entries, 0);
}

#[tokio::test]
async fn semantic_vectors_reach_every_replica_and_later_ones_load_them() {
    let p = prefix();
    let (a, b) = pair(&p).await;
    let got: Arc<Mutex<Vec<SharedVector>>> = Arc::default();
    let sink = Arc::clone(&got);
    b.watch(Arc::new(move |v| sink.lock().unwrap().push(v)));
    let v = SharedVector {
        bucket: Key([4; 32]),
        key: Key([5; 32]),
        vector: vec![0.25, -0.5, 1.0],
        expires_ms: now() + 60_000,
    };
    a.share(v.clone()).await.unwrap();
    until(|| !got.lock().unwrap().is_empty()).await;
    assert_eq!(got.lock().unwrap()[0], v);
    // A replica started afterwards finds it; an expired one is gone.
    a.share(SharedVector {
        key: Key([6; 32]),
        expires_ms: now() + 50,
        ..v.clone()
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(120)).await;
    let c = RedisStore::open(URL, &p, 1 << 20).unwrap();
    assert_eq!(c.vectors().await.unwrap(), vec![v]);
}
