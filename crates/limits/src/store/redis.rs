//! Limits shared by replicas through Redis: one Lua script (`redis.lua`) does each call in one
//! round trip, atomically, on Redis's own clock. Admission is one `EVALSHA`, settlement another;
//! expired reservations are released by a periodic sweep (and a few at each admission).

use super::{LimitStore, Snapshot, StoreError};
use crate::ledger::{Admission, Algo, Denied, Line, LineState};
use futures_util::future::BoxFuture;
use redis::aio::ConnectionManager;
use redis::Value;

const SCRIPT: &str = include_str!("redis.lua");

/// Base of the script's clock (µs since the epoch); see `redis.lua`.
const BASE_US: i64 = 1_700_000_000_000_000;

pub struct RedisStore {
    client: redis::Client,
    /// Made on first use, so the gateway starts (and fails closed) while Redis is down.
    conn: tokio::sync::OnceCell<ConnectionManager>,
    /// When connecting last failed: calls within a second fail at once rather than each
    /// waiting for a connection that will not come.
    failed_at: std::sync::Mutex<Option<std::time::Instant>>,
    script: redis::Script,
    prefix: String,
}

/// How long a failed connection is remembered.
const RECONNECT_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl RedisStore {
    /// A store at `url` (`redis://host:port/db`), keys under `prefix`; it connects on first
    /// use. An error only when the URL is not one.
    pub fn new(url: &str, prefix: &str) -> Result<Self, StoreError> {
        Ok(Self {
            client: redis::Client::open(url).map_err(backend)?,
            conn: tokio::sync::OnceCell::new(),
            failed_at: std::sync::Mutex::new(None),
            script: redis::Script::new(SCRIPT),
            prefix: prefix.to_owned(),
        })
    }

    /// As `new`, connected now.
    pub async fn open(url: &str, prefix: &str) -> Result<Self, StoreError> {
        let s = Self::new(url, prefix)?;
        s.connection().await?;
        Ok(s)
    }

    async fn connection(&self) -> Result<ConnectionManager, StoreError> {
        if let Some(c) = self.conn.get() {
            return Ok(c.clone());
        }
        let recent = self
            .failed_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some_and(|t| t.elapsed() < RECONNECT_AFTER);
        if recent {
            return Err(StoreError::Backend("Redis is unreachable".into()));
        }
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(std::time::Duration::from_secs(1)))
            .set_response_timeout(Some(std::time::Duration::from_secs(2)))
            .set_number_of_retries(1);
        let client = self.client.clone();
        match self
            .conn
            .get_or_try_init(|| ConnectionManager::new_with_config(client, config))
            .await
        {
            Ok(c) => Ok(c.clone()),
            Err(e) => {
                *self
                    .failed_at
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) =
                    Some(std::time::Instant::now());
                Err(backend(e))
            }
        }
    }

    fn push_lines(inv: &mut redis::ScriptInvocation<'_>, lines: &[Line]) {
        inv.arg(lines.len());
        for l in lines {
            let (kind, amount, w) = match l.algo {
                Algo::Rate(r) => ("r", r.capacity, r.window_us),
                Algo::Calendar { amount, end_us } => ("c", amount, end_us),
                Algo::Slots { amount } => ("s", amount, 0),
            };
            inv.arg(&l.counter)
                .arg(kind)
                .arg(amount)
                .arg(w)
                .arg(l.reserve)
                .arg(u8::from(l.enforce))
                .arg(u8::from(l.settles));
        }
    }

    async fn run(&self, inv: &redis::ScriptInvocation<'_>) -> Result<Value, StoreError> {
        let mut conn = self.connection().await?;
        inv.invoke_async(&mut conn).await.map_err(backend)
    }
}

fn int(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::Int(i)) => *i,
        _ => 0,
    }
}

fn items(v: &Value) -> &[Value] {
    match v {
        Value::Array(a) => a,
        _ => &[],
    }
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::BulkString(b)) => String::from_utf8_lossy(b).into_owned(),
        Some(Value::SimpleString(s)) => s.clone(),
        _ => String::new(),
    }
}

impl LimitStore for RedisStore {
    fn reserve<'a>(
        &'a self,
        id: &'a str,
        lines: &'a [Line],
        ttl_us: i64,
        _now_us: i64,
    ) -> BoxFuture<'a, Result<Admission, StoreError>> {
        Box::pin(async move {
            let mut inv = self.script.prepare_invoke();
            inv.arg("reserve").arg(&self.prefix).arg(id).arg(ttl_us);
            Self::push_lines(&mut inv, lines);
            let v = self.run(&inv).await?;
            let a = items(&v);
            match text(a.first()).as_str() {
                "ok" => Ok(Ok(lines
                    .iter()
                    .enumerate()
                    .map(|(i, l)| LineState {
                        amount: l.algo.amount(),
                        remaining: int(a.get(1 + i * 4)),
                        reset_us: int(a.get(2 + i * 4)),
                        over: int(a.get(3 + i * 4)) == 1,
                        reserved: int(a.get(4 + i * 4)),
                    })
                    .collect())),
                "denied" => {
                    let retry = int(a.get(2));
                    Ok(Err(Denied {
                        line: usize::try_from(int(a.get(1))).unwrap_or(0),
                        retry_after_us: (retry >= 0).then_some(retry),
                        reset_us: int(a.get(3)),
                        too_large: int(a.get(4)) == 1,
                    }))
                }
                "dup" => Err(StoreError::Duplicate(id.to_owned())),
                other => Err(StoreError::Backend(format!(
                    "unexpected answer from the limits script: {other:?}"
                ))),
            }
        })
    }

    fn settle<'a>(
        &'a self,
        id: &'a str,
        used: &'a [u64],
        _now_us: i64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut inv = self.script.prepare_invoke();
            let used = serde_json::to_string(used).map_err(backend)?;
            inv.arg("settle").arg(&self.prefix).arg(id).arg(used);
            self.run(&inv).await.map(|_| ())
        })
    }

    fn look<'a>(
        &'a self,
        lines: &'a [Line],
        _now_us: i64,
    ) -> BoxFuture<'a, Result<Vec<LineState>, StoreError>> {
        Box::pin(async move {
            let mut inv = self.script.prepare_invoke();
            inv.arg("look").arg(&self.prefix);
            Self::push_lines(&mut inv, lines);
            let v = self.run(&inv).await?;
            let a = items(&v);
            Ok(lines
                .iter()
                .enumerate()
                .map(|(i, l)| LineState {
                    amount: l.algo.amount(),
                    remaining: int(a.get(i * 3)),
                    reset_us: int(a.get(1 + i * 3)),
                    reserved: int(a.get(2 + i * 3)),
                    over: false,
                })
                .collect())
        })
    }

    fn sweep(&self, _now_us: i64) -> BoxFuture<'_, Result<usize, StoreError>> {
        Box::pin(async move {
            let mut inv = self.script.prepare_invoke();
            inv.arg("sweep").arg(&self.prefix).arg(1000);
            let v = self.run(&inv).await?;
            Ok(usize::try_from(int(Some(&v))).unwrap_or(0))
        })
    }

    fn once<'a>(&'a self, key: &'a str, ttl_us: i64) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut conn = self.connection().await?;
            let ms = (ttl_us / 1000).max(1);
            let set: Option<String> = redis::cmd("SET")
                .arg(format!("{}o:{key}", self.prefix))
                .arg(1)
                .arg("NX")
                .arg("PX")
                .arg(ms)
                .query_async(&mut conn)
                .await
                .map_err(backend)?;
            Ok(set.is_some())
        })
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot::default()
    }
}

/// Redis's clock base, for tests that compare with it.
pub const CLOCK_BASE_US: i64 = BASE_US;
