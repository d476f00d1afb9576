//! Answers shared by replicas through Redis, with the in-memory store in front so a hot entry
//! costs no round trip.
//!
//! Layout, under the configured prefix (default `switchyard:cache:`):
//! - `e:<key hex>`: a hash, `m` the entry's metadata (JSON) and `b` the answer's bytes, expiring
//!   with the entry (`PEXPIREAT`).
//! - `v:<key hex>`: a semantic vector (`bucket`, `key`, expiry, then f32 little-endian values),
//!   expiring with its entry, so a replica starting later loads the live ones.
//! - `events`: a channel. `k` + key: an entry was stored (fronts drop their copy, so a refresh
//!   on one replica is seen on all); `v` + vector: a semantic vector to index; `p` + JSON: a
//!   purge (fronts drop what it selects).

use crate::entry::Entry;
use crate::key::Key;
use crate::memory::MemoryStore;
use crate::store::{BoxFuture, CacheError, CacheStore, Purge, SharedVector, StoreStats};
use bytes::Bytes;
use futures_util::StreamExt;
use redis::aio::ConnectionManager;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

/// Longest a front copy is served without asking Redis, should an event have been missed
/// while the channel was down.
const FRONT_TTL_MS: i64 = 60_000;
/// Keys per `SCAN` step.
const SCAN_COUNT: usize = 500;

type OnVector = Arc<dyn Fn(SharedVector) + Send + Sync>;

pub struct RedisStore {
    client: redis::Client,
    conn: tokio::sync::OnceCell<ConnectionManager>,
    prefix: String,
    front: MemoryStore,
    on_vector: OnceLock<OnVector>,
    following: AtomicBool,
    /// Whether the follower runs (it starts within a runtime: at the first call or watch).
    started: AtomicBool,
    me: Weak<RedisStore>,
}

fn backend(e: impl std::fmt::Display) -> CacheError {
    CacheError(format!("redis: {e}"))
}

fn hex_key(s: &str) -> Option<Key> {
    if s.len() != 64 {
        return None;
    }
    let mut k = [0u8; 32];
    for (i, b) in k.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(Key(k))
}

/// An entry's metadata as stored beside its bytes.
fn meta(e: &Entry) -> String {
    json!({
        "ns": e.namespace, "by": e.stored_by, "p": e.provider, "m": e.model,
        "pt": e.prompt_tokens, "ct": e.completion_tokens, "c": e.cost_nanos,
        "cr": e.created_ms, "ex": e.expires_ms,
    })
    .to_string()
}

fn entry_of(meta: &[u8], body: Vec<u8>) -> Option<Entry> {
    let m: Value = serde_json::from_slice(meta).ok()?;
    let s = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_owned);
    let n = |k: &str| m.get(k).and_then(Value::as_u64);
    let i = |k: &str| m.get(k).and_then(Value::as_i64);
    Some(Entry {
        body: Bytes::from(body),
        namespace: s("ns")?,
        stored_by: s("by").unwrap_or_default(),
        provider: s("p")?,
        model: s("m")?,
        prompt_tokens: n("pt")?,
        completion_tokens: n("ct")?,
        cost_nanos: n("c")?,
        created_ms: i("cr")?,
        expires_ms: i("ex")?,
    })
}

fn purge_json(p: &Purge) -> String {
    json!({
        "ns": p.namespace, "by": p.stored_by, "key": p.key.map(|k| k.hex()),
        "before": p.created_before_ms,
    })
    .to_string()
}

fn purge_of(b: &[u8]) -> Option<Purge> {
    let v: Value = serde_json::from_slice(b).ok()?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    Some(Purge {
        namespace: s("ns"),
        stored_by: s("by"),
        key: match s("key") {
            Some(h) => Some(hex_key(&h)?),
            None => None,
        },
        created_before_ms: v.get("before").and_then(Value::as_i64),
    })
}

/// A vector as stored and sent: bucket, key, expiry, values.
fn vector_bytes(v: &SharedVector) -> Vec<u8> {
    let mut out = Vec::with_capacity(72 + v.vector.len() * 4);
    out.extend_from_slice(&v.bucket.0);
    out.extend_from_slice(&v.key.0);
    out.extend_from_slice(&v.expires_ms.to_le_bytes());
    for x in &v.vector {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

fn vector_of(b: &[u8]) -> Option<SharedVector> {
    let (bucket, rest) = b.split_first_chunk::<32>()?;
    let (key, rest) = rest.split_first_chunk::<32>()?;
    let (exp, rest) = rest.split_first_chunk::<8>()?;
    if rest.len() % 4 != 0 {
        return None;
    }
    let vector = rest
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Some(SharedVector {
        bucket: Key(*bucket),
        key: Key(*key),
        vector,
        expires_ms: i64::from_le_bytes(*exp),
    })
}

impl RedisStore {
    /// A store at `url` under `prefix`, with a front of `front_bytes` in memory. It follows the
    /// other replicas' events (reconnecting when the channel drops) from its first call, or now
    /// when made within a runtime. An error only when the URL is not one; Redis being down
    /// shows at each call.
    pub fn open(url: &str, prefix: &str, front_bytes: u64) -> Result<Arc<RedisStore>, CacheError> {
        let client = redis::Client::open(url).map_err(backend)?;
        let s = Arc::new_cyclic(|me| RedisStore {
            client,
            conn: tokio::sync::OnceCell::new(),
            prefix: prefix.to_owned(),
            front: MemoryStore::new(front_bytes),
            on_vector: OnceLock::new(),
            following: AtomicBool::new(false),
            started: AtomicBool::new(false),
            me: me.clone(),
        });
        s.start();
        Ok(s)
    }

    /// Starts the follower once, when there is a runtime to run it.
    fn start(&self) {
        if tokio::runtime::Handle::try_current().is_err()
            || self.started.swap(true, Ordering::AcqRel)
        {
            return;
        }
        tokio::spawn(follow(self.me.clone(), self.client.clone(), self.channel()));
    }

    /// Whether it is subscribed to the other replicas' events now.
    pub fn following(&self) -> bool {
        self.following.load(Ordering::Relaxed)
    }

    /// Hands the live semantic vectors in Redis to the watcher (at start and after the channel
    /// was down, so none stored meanwhile is missed).
    async fn hand_over_vectors(&self) {
        let Some(on) = self.on_vector.get() else {
            return;
        };
        match self.load_vectors().await {
            Ok(all) => all.into_iter().for_each(|v| on(v)),
            Err(e) => tracing::warn!(error = %e, "loading the semantic cache's vectors failed"),
        }
    }

    /// One event from another replica (or this one: following its own is harmless).
    fn on_event(&self, b: &[u8]) {
        match b.split_first() {
            Some((b'k', k)) => {
                if let Ok(k) = <[u8; 32]>::try_from(k) {
                    self.front.remove(&Key(k));
                }
            }
            Some((b'p', j)) => {
                if let Some(p) = purge_of(j) {
                    self.front.purge_where(|k, e| p.matches(k, e));
                }
            }
            Some((b'v', v)) => {
                if let (Some(v), Some(on)) = (vector_of(v), self.on_vector.get()) {
                    on(v);
                }
            }
            _ => {}
        }
    }

    async fn connection(&self) -> Result<ConnectionManager, CacheError> {
        self.start();
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1);
        let client = self.client.clone();
        self.conn
            .get_or_try_init(|| ConnectionManager::new_with_config(client, config))
            .await
            .cloned()
            .map_err(backend)
    }

    fn entry_key(&self, k: &Key) -> String {
        format!("{}e:{}", self.prefix, k.hex())
    }

    fn vector_key(&self, k: &Key) -> String {
        format!("{}v:{}", self.prefix, k.hex())
    }

    fn channel(&self) -> String {
        format!("{}events", self.prefix)
    }

    /// One `SCAN` step over the keys matching `pattern`: the next cursor (0 at the end) and the
    /// keys found.
    async fn scan_step(
        conn: &mut ConnectionManager,
        cursor: u64,
        pattern: &str,
    ) -> Result<(u64, Vec<String>), CacheError> {
        redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(SCAN_COUNT)
            .query_async(conn)
            .await
            .map_err(backend)
    }

    async fn fetch(
        &self,
        key: &Key,
        now_ms: i64,
        max_age_ms: Option<i64>,
    ) -> Result<Option<Arc<Entry>>, CacheError> {
        if let Some(e) = self.front.get(key, now_ms, max_age_ms) {
            return Ok(Some(e));
        }
        let mut conn = self.connection().await?;
        let (m, b): (Option<Vec<u8>>, Option<Vec<u8>>) = redis::cmd("HMGET")
            .arg(self.entry_key(key))
            .arg("m")
            .arg("b")
            .query_async(&mut conn)
            .await
            .map_err(backend)?;
        let (Some(m), Some(b)) = (m, b) else {
            return Ok(None);
        };
        let Some(e) = entry_of(&m, b) else {
            return Err(CacheError("an entry in Redis does not decode".into()));
        };
        if !e.servable(now_ms, max_age_ms) {
            return Ok(None);
        }
        let mut front = e.clone();
        front.expires_ms = front.expires_ms.min(now_ms + FRONT_TTL_MS);
        MemoryStore::put(&self.front, *key, front);
        Ok(Some(Arc::new(e)))
    }

    async fn store(&self, key: Key, e: Entry) -> Result<(), CacheError> {
        let mut conn = self.connection().await?;
        let k = self.entry_key(&key);
        let mut note = Vec::with_capacity(33);
        note.push(b'k');
        note.extend_from_slice(&key.0);
        redis::pipe()
            .atomic()
            .cmd("HSET")
            .arg(&k)
            .arg("m")
            .arg(meta(&e))
            .arg("b")
            .arg(&e.body[..])
            .ignore()
            .cmd("PEXPIREAT")
            .arg(&k)
            .arg(e.expires_ms)
            .ignore()
            .cmd("PUBLISH")
            .arg(self.channel())
            .arg(note)
            .ignore()
            .query_async::<()>(&mut conn)
            .await
            .map_err(backend)
    }

    async fn drop_selected(&self, p: &Purge) -> Result<u64, CacheError> {
        let mut dropped = 0u64;
        let pattern = match p.key {
            Some(k) => self.entry_key(&k),
            None => format!("{}e:*", self.prefix),
        };
        let at = self.prefix.len() + 2;
        let mut conn = self.connection().await?;
        let mut cursor = 0;
        loop {
            let (next, keys) = Self::scan_step(&mut conn, cursor, &pattern).await?;
            if keys.is_empty() && next == 0 {
                break;
            }
            let mut read = redis::pipe();
            for k in &keys {
                read.cmd("HGET").arg(k).arg("m");
            }
            let metas: Vec<Option<Vec<u8>>> = if keys.is_empty() {
                Vec::new()
            } else {
                read.query_async(&mut conn).await.map_err(backend)?
            };
            let mut del = redis::pipe();
            let mut n = 0u64;
            for (k, m) in keys.iter().zip(metas) {
                let Some(key) = k.get(at..).and_then(hex_key) else {
                    continue;
                };
                let Some(e) = m.and_then(|m| entry_of(&m, Vec::new())) else {
                    continue;
                };
                if p.matches(&key, &e) {
                    del.cmd("DEL").arg(k).arg(self.vector_key(&key)).ignore();
                    n += 1;
                }
            }
            if n > 0 {
                del.query_async::<()>(&mut conn).await.map_err(backend)?;
                dropped += n;
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
        let mut note = b"p".to_vec();
        note.extend_from_slice(purge_json(p).as_bytes());
        redis::cmd("PUBLISH")
            .arg(self.channel())
            .arg(note)
            .query_async::<()>(&mut conn)
            .await
            .map_err(backend)?;
        self.front.purge_where(|k, e| p.matches(k, e));
        Ok(dropped)
    }

    async fn count(&self) -> Result<StoreStats, CacheError> {
        let mut entries = 0u64;
        let pattern = format!("{}e:*", self.prefix);
        let mut conn = self.connection().await?;
        let mut cursor = 0;
        loop {
            let (next, keys) = Self::scan_step(&mut conn, cursor, &pattern).await?;
            entries += keys.len() as u64;
            if next == 0 {
                break;
            }
            cursor = next;
        }
        let front = self.front.stats();
        Ok(StoreStats {
            entries,
            bytes: front.bytes,
            max_bytes: front.max_bytes,
        })
    }

    async fn put_vector(&self, v: SharedVector) -> Result<(), CacheError> {
        let mut conn = self.connection().await?;
        let bytes = vector_bytes(&v);
        let mut note = Vec::with_capacity(bytes.len() + 1);
        note.push(b'v');
        note.extend_from_slice(&bytes);
        redis::pipe()
            .cmd("SET")
            .arg(self.vector_key(&v.key))
            .arg(bytes)
            .arg("PXAT")
            .arg(v.expires_ms)
            .ignore()
            .cmd("PUBLISH")
            .arg(self.channel())
            .arg(note)
            .ignore()
            .query_async::<()>(&mut conn)
            .await
            .map_err(backend)
    }

    async fn load_vectors(&self) -> Result<Vec<SharedVector>, CacheError> {
        let mut out = Vec::new();
        let pattern = format!("{}v:*", self.prefix);
        let mut conn = self.connection().await?;
        let mut cursor = 0;
        loop {
            let (next, keys) = Self::scan_step(&mut conn, cursor, &pattern).await?;
            if !keys.is_empty() {
                let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
                    .arg(&keys)
                    .query_async(&mut conn)
                    .await
                    .map_err(backend)?;
                out.extend(values.into_iter().flatten().filter_map(|b| vector_of(&b)));
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
        Ok(out)
    }
}

/// Follows the channel: drops front copies other replicas replaced or purged, and hands their
/// semantic vectors on. Reconnects a second after the channel drops; ends with the store.
async fn follow(me: Weak<RedisStore>, client: redis::Client, channel: String) {
    loop {
        match client.get_async_pubsub().await {
            Ok(mut ps) => {
                if ps.subscribe(&channel).await.is_ok() {
                    let Some(s) = me.upgrade() else {
                        return;
                    };
                    s.following.store(true, Ordering::Relaxed);
                    s.hand_over_vectors().await;
                    drop(s);
                    let mut messages = ps.on_message();
                    while let Some(msg) = messages.next().await {
                        let Some(s) = me.upgrade() else {
                            return;
                        };
                        s.on_event(msg.get_payload_bytes());
                    }
                }
            }
            Err(e) => tracing::debug!(error = %e, "the cache's Redis channel is unreachable"),
        }
        let Some(s) = me.upgrade() else {
            return;
        };
        s.following.store(false, Ordering::Relaxed);
        // Copies held while the channel was down may be stale: start afresh.
        s.front.purge_where(|_, _| true);
        drop(s);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

impl CacheStore for RedisStore {
    fn backend(&self) -> &'static str {
        "redis"
    }

    fn memory(&self) -> &MemoryStore {
        &self.front
    }

    fn get<'a>(
        &'a self,
        key: &'a Key,
        now_ms: i64,
        max_age_ms: Option<i64>,
    ) -> BoxFuture<'a, Result<Option<Arc<Entry>>, CacheError>> {
        Box::pin(self.fetch(key, now_ms, max_age_ms))
    }

    fn put(self: Arc<Self>, key: Key, entry: Entry) -> BoxFuture<'static, Result<(), CacheError>> {
        Box::pin(async move { self.store(key, entry).await })
    }

    fn purge<'a>(&'a self, p: &'a Purge) -> BoxFuture<'a, Result<u64, CacheError>> {
        Box::pin(self.drop_selected(p))
    }

    fn stats(&self) -> BoxFuture<'_, Result<StoreStats, CacheError>> {
        Box::pin(self.count())
    }

    fn share(&self, v: SharedVector) -> BoxFuture<'_, Result<(), CacheError>> {
        Box::pin(self.put_vector(v))
    }

    fn vectors(&self) -> BoxFuture<'_, Result<Vec<SharedVector>, CacheError>> {
        Box::pin(self.load_vectors())
    }

    fn watch(&self, on: Arc<dyn Fn(SharedVector) + Send + Sync>) {
        let _ = self.on_vector.set(on);
        if self.following() {
            // Subscribed before there was a watcher: hand over what is stored now.
            if let Some(me) = self.me.upgrade() {
                tokio::spawn(async move { me.hand_over_vectors().await });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn metadata_purges_and_vectors_round_trip() {
        let e = Entry {
            body: Bytes::from_static(b"{\"a\":1}"),
            namespace: "ws/team".into(),
            stored_by: "key-1".into(),
            provider: "openai".into(),
            model: "gpt".into(),
            prompt_tokens: 3,
            completion_tokens: 4,
            cost_nanos: 5,
            created_ms: 6,
            expires_ms: 7,
        };
        assert_eq!(
            entry_of(meta(&e).as_bytes(), b"{\"a\":1}".to_vec()),
            Some(e)
        );
        assert_eq!(entry_of(b"{}", Vec::new()), None);
        let p = Purge {
            namespace: Some("ws".into()),
            stored_by: None,
            key: Some(Key([7; 32])),
            created_before_ms: Some(9),
        };
        assert_eq!(purge_of(purge_json(&p).as_bytes()), Some(p));
        assert_eq!(purge_of(b"{\"key\": \"zz\"}"), None);
        let v = SharedVector {
            bucket: Key([1; 32]),
            key: Key([2; 32]),
            vector: vec![0.5, -1.25, 3.0],
            expires_ms: -4,
        };
        assert_eq!(vector_of(&vector_bytes(&v)), Some(v.clone()));
        assert_eq!(vector_of(&vector_bytes(&v)[..70]), None);
        assert_eq!(hex_key(&Key([0xab; 32]).hex()), Some(Key([0xab; 32])));
    }
}
