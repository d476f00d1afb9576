//! The shared store: PostgreSQL, for gateways running as several replicas. Two connections, one
//! for writes (batches in transactions) and one for reads; either is reopened when it has closed.

use crate::analytics::Row;
use crate::query::{self, Dialect, Param, Sql};
use crate::record::{Feedback, Record};
use crate::StoreError;
use tokio::sync::Mutex;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls};

/// Numbered migrations, run in order inside one transaction each.
const MIGRATIONS: &[&str] = &[include_str!("../migrations/postgres/0001_init.sql")];

/// Any fixed number: replicas starting together take this lock to migrate one at a time.
const MIGRATION_LOCK: i64 = 0x5377_6974_6368;

pub struct PostgresStore {
    url: String,
    write: Mutex<Client>,
    read: Mutex<Client>,
}

fn err(e: tokio_postgres::Error) -> StoreError {
    StoreError(format!("postgres: {e}"))
}

async fn connect(url: &str) -> Result<Client, StoreError> {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await.map_err(err)?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::warn!(error = %e, "postgres connection closed");
        }
    });
    Ok(client)
}

type Boxed = Box<dyn ToSql + Sync + Send>;

/// PostgreSQL refuses NUL in text and `\u0000` in jsonb, and one such value would fail its whole
/// batch: a caller's stray NUL becomes U+FFFD instead.
fn without_nul(s: String) -> String {
    if s.contains('\0') {
        s.replace('\0', "\u{fffd}")
    } else {
        s
    }
}

fn bind(p: Param) -> Boxed {
    match p {
        Param::Int(v) => Box::new(v),
        Param::Real(v) => Box::new(v),
        Param::Text(v) => Box::new(v.map(without_nul)),
        Param::Bool(b) => Box::new(b),
        Param::Json(s) => Box::new(if s.contains("\\u0000") {
            s.replace("\\u0000", "\\ufffd")
        } else {
            s
        }),
    }
}

fn params(sql: Sql) -> (String, Vec<Boxed>) {
    (sql.text, sql.params.into_iter().map(bind).collect())
}

fn refs(v: &[Boxed]) -> Vec<&(dyn ToSql + Sync)> {
    v.iter()
        .map(|b| b.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

async fn migrate(c: &mut Client) -> Result<(), StoreError> {
    let tx = c.transaction().await.map_err(err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(err)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
        .await
        .map_err(err)?;
    let have: i64 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
        .await
        .map_err(err)?
        .get(0);
    for (i, m) in MIGRATIONS.iter().enumerate() {
        let v = i as i64 + 1;
        if v <= have {
            continue;
        }
        tx.batch_execute(m).await.map_err(err)?;
        tx.execute("INSERT INTO schema_version (version) VALUES ($1)", &[&v])
            .await
            .map_err(err)?;
    }
    tx.commit().await.map_err(err)
}

fn json_map(s: Option<String>) -> serde_json::Map<String, serde_json::Value> {
    match s.and_then(|s| serde_json::from_str(&s).ok()) {
        Some(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    }
}

fn record(r: &tokio_postgres::Row) -> Result<Record, StoreError> {
    let g = |e: tokio_postgres::Error| err(e);
    Ok(Record {
        id: r.try_get(0).map_err(g)?,
        request_id: r.try_get(1).map_err(g)?,
        trace_id: r.try_get(2).map_err(g)?,
        span_id: r.try_get(3).map_err(g)?,
        parent_span_id: r.try_get(4).map_err(g)?,
        ts_ms: r.try_get(5).map_err(g)?,
        end_ms: r.try_get(6).map_err(g)?,
        operation: r.try_get(7).map_err(g)?,
        caller: r.try_get(8).map_err(g)?,
        route: r.try_get(9).map_err(g)?,
        requested_model: r.try_get(10).map_err(g)?,
        provider: r.try_get(11).map_err(g)?,
        model: r.try_get(12).map_err(g)?,
        stream: r.try_get(13).map_err(g)?,
        status: u16::try_from(r.try_get::<_, i64>(14).map_err(g)?).unwrap_or(0),
        outcome: r.try_get(15).map_err(g)?,
        input_tokens: r.try_get(16).map_err(g)?,
        output_tokens: r.try_get(17).map_err(g)?,
        cached_tokens: r.try_get(18).map_err(g)?,
        cache_write_tokens: r.try_get(19).map_err(g)?,
        reasoning_tokens: r.try_get(20).map_err(g)?,
        cost_usd: r.try_get(21).map_err(g)?,
        latency_ms: r.try_get(22).map_err(g)?,
        ttft_ms: r.try_get(23).map_err(g)?,
        upstream_ms: r.try_get(24).map_err(g)?,
        cache: r.try_get(25).map_err(g)?,
        metadata: json_map(r.try_get(26).map_err(g)?),
        attempts: r
            .try_get::<_, Option<String>>(27)
            .map_err(g)?
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default(),
        error: r.try_get(28).map_err(g)?,
        request_body: r.try_get(29).map_err(g)?,
        response_body: r.try_get(30).map_err(g)?,
        own_request_id: r.try_get(31).map_err(g)?,
        own_trace_id: r.try_get(32).map_err(g)?,
    })
}

impl PostgresStore {
    /// Connects and brings the schema up to date (safe with several replicas starting at once).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let mut write = connect(url).await?;
        migrate(&mut write).await?;
        let read = connect(url).await?;
        Ok(PostgresStore {
            url: url.to_owned(),
            write: Mutex::new(write),
            read: Mutex::new(read),
        })
    }

    /// The client behind `m`, reconnected first when its connection has closed.
    async fn client<'a>(
        &self,
        m: &'a Mutex<Client>,
    ) -> Result<tokio::sync::MutexGuard<'a, Client>, StoreError> {
        let mut c = m.lock().await;
        if c.is_closed() {
            *c = connect(&self.url).await?;
        }
        Ok(c)
    }

    pub async fn insert(&self, records: std::sync::Arc<Vec<Record>>) -> Result<(), StoreError> {
        let mut c = self.client(&self.write).await?;
        let tx = c.transaction().await.map_err(err)?;
        for chunk in records.chunks(query::INSERT_CHUNK) {
            let (text, values) = params(query::insert(Dialect::Postgres, chunk));
            tx.execute(text.as_str(), &refs(&values))
                .await
                .map_err(err)?;
        }
        tx.commit().await.map_err(err)
    }

    async fn rows(&self, sql: Sql) -> Result<Vec<tokio_postgres::Row>, StoreError> {
        let c = self.client(&self.read).await?;
        let (text, values) = params(sql);
        c.query(text.as_str(), &refs(&values)).await.map_err(err)
    }

    pub async fn page(&self, sql: Sql) -> Result<Vec<Record>, StoreError> {
        self.rows(sql).await?.iter().map(record).collect()
    }

    pub async fn analytics_rows(&self, sql: Sql) -> Result<Vec<Row>, StoreError> {
        self.rows(sql)
            .await?
            .iter()
            .map(|r| {
                let g = |e: tokio_postgres::Error| err(e);
                Ok(Row {
                    ts_ms: r.try_get(0).map_err(g)?,
                    key: r.try_get(1).map_err(g)?,
                    status: u16::try_from(r.try_get::<_, i64>(2).map_err(g)?).unwrap_or(0),
                    input_tokens: r.try_get::<_, Option<i64>>(3).map_err(g)?.unwrap_or(0),
                    output_tokens: r.try_get::<_, Option<i64>>(4).map_err(g)?.unwrap_or(0),
                    cached_tokens: r.try_get::<_, Option<i64>>(5).map_err(g)?.unwrap_or(0),
                    cost_usd: r.try_get::<_, Option<f64>>(6).map_err(g)?.unwrap_or(0.0),
                    latency_ms: r.try_get(7).map_err(g)?,
                    ttft_ms: r.try_get(8).map_err(g)?,
                    cache: r.try_get(9).map_err(g)?,
                })
            })
            .collect()
    }

    pub async fn insert_feedback(&self, f: Feedback) -> Result<(), StoreError> {
        let c = self.client(&self.write).await?;
        let (text, values) = params(query::insert_feedback(Dialect::Postgres, &f));
        c.execute(text.as_str(), &refs(&values))
            .await
            .map(|_| ())
            .map_err(err)
    }

    pub async fn feedback(&self, sql: Sql) -> Result<Vec<Feedback>, StoreError> {
        self.rows(sql)
            .await?
            .iter()
            .map(|r| {
                let g = |e: tokio_postgres::Error| err(e);
                Ok(Feedback {
                    id: r.try_get(0).map_err(g)?,
                    ts_ms: r.try_get(1).map_err(g)?,
                    request_id: r.try_get(2).map_err(g)?,
                    trace_id: r.try_get(3).map_err(g)?,
                    score: r.try_get(4).map_err(g)?,
                    metadata: json_map(r.try_get(5).map_err(g)?),
                    caller: r.try_get(6).map_err(g)?,
                })
            })
            .collect()
    }

    pub async fn delete_before(&self, before_ms: i64) -> Result<u64, StoreError> {
        let c = self.client(&self.write).await?;
        // By the primary key's range: ids begin with their record's time.
        let floor = query::record_id(before_ms, 0);
        let n = c
            .execute("DELETE FROM requests WHERE id < $1", &[&floor])
            .await
            .map_err(err)?;
        c.execute("DELETE FROM feedback WHERE ts_ms < $1", &[&before_ms])
            .await
            .map_err(err)?;
        Ok(n)
    }
}
