//! The shared store: PostgreSQL, for gateways running as several replicas. Two connections, one
//! for writes (batches in transactions) and one for reads; either is reopened when it has closed.

use crate::batch::{self, BatchQuery};
use crate::query::{self, Dialect, Param, Sql};
use crate::record::{Feedback, Record};
use crate::scan::Visit;
use crate::StoreError;
use tokio::sync::Mutex;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, NoTls};

/// Numbered migrations, run in order inside one transaction each.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/postgres/0001_init.sql"),
    include_str!("../migrations/postgres/0002_batches.sql"),
    include_str!("../migrations/postgres/0003_tenants.sql"),
    include_str!("../migrations/postgres/0004_unpriced.sql"),
    include_str!("../migrations/postgres/0005_guardrails.sql"),
    include_str!("../migrations/postgres/0006_cache.sql"),
];

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

/// A jsonb (or json or text) column read as its JSON text, without a copy: binary jsonb is a
/// version byte (1) and the text.
struct JsonText<'a>(&'a str);

impl<'a> tokio_postgres::types::FromSql<'a> for JsonText<'a> {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let text = if *ty == Type::JSONB {
            raw.strip_prefix(&[1])
                .ok_or("jsonb in an unknown binary version")?
        } else {
            raw
        };
        Ok(JsonText(std::str::from_utf8(text)?))
    }

    fn accepts(ty: &Type) -> bool {
        [Type::JSONB, Type::JSON, Type::TEXT].contains(ty)
    }
}

/// PostgreSQL refuses NUL in text and `\u0000` in jsonb, and one such value would fail its whole
/// batch: a caller's stray NUL becomes U+FFFD instead.
fn without_nul(s: String) -> String {
    if s.contains('\0') {
        s.replace('\0', "\u{fffd}")
    } else {
        s
    }
}

/// `without_nul` for JSON text: each `\u0000` escape becomes `\ufffd` (an escaped backslash
/// followed by `u0000` is text, and stays).
fn json_without_nul(s: String) -> String {
    if !s.contains("\\u0000") {
        return s;
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let esc = &rest[i..];
        if let Some(after) = esc.strip_prefix("\\u0000") {
            out.push_str("\\ufffd");
            rest = after;
        } else {
            // The backslash and the character it escapes.
            let n = esc.char_indices().nth(2).map_or(esc.len(), |(i, _)| i);
            out.push_str(&esc[..n]);
            rest = &esc[n..];
        }
    }
    out.push_str(rest);
    out
}

fn bind(p: Param) -> Boxed {
    match p {
        Param::Int(v) => Box::new(v),
        Param::Real(v) => Box::new(v),
        Param::Text(v) => Box::new(v.map(without_nul)),
        Param::Json(s) => Box::new(json_without_nul(s)),
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
        let rows = records
            .chunks(batch::ROW_RECORDS)
            .map(batch::encode)
            .collect::<Result<Vec<_>, _>>()?;
        let mut c = self.client(&self.write).await?;
        let tx = c.transaction().await.map_err(err)?;
        for e in rows {
            let json = json_without_nul(e.json);
            let seq: i64 = tx
                .query_one(
                    "INSERT INTO request_batches (min_id, max_id, n, records) \
                     VALUES ($1, $2, $3, $4::text::json) RETURNING seq",
                    &[&e.min_id, &e.max_id, &(e.n as i32), &json],
                )
                .await
                .map_err(err)?
                .get(0);
            if !e.keys.is_empty() {
                let keys: Vec<String> = e.keys.into_iter().map(without_nul).collect();
                tx.execute(
                    "INSERT INTO request_keys (key, seq) SELECT unnest($1::text[]), $2",
                    &[&keys, &seq],
                )
                .await
                .map_err(err)?;
            }
        }
        tx.commit().await.map_err(err)
    }

    async fn rows(&self, sql: Sql) -> Result<Vec<tokio_postgres::Row>, StoreError> {
        let c = self.client(&self.read).await?;
        let (text, values) = params(sql);
        c.query(text.as_str(), &refs(&values)).await.map_err(err)
    }

    /// Runs `v` over the batches `q` selects, fetched a few at a time through a portal.
    pub async fn scan<V: Visit>(&self, q: BatchQuery, mut v: V) -> Result<V, StoreError> {
        let mut c = self.client(&self.read).await?;
        let tx = c.transaction().await.map_err(err)?;
        let (text, values) = params(q.sql(Dialect::Postgres));
        let portal = tx.bind(text.as_str(), &refs(&values)).await.map_err(err)?;
        // A page usually needs one or two batches: fetch few at first, more as the read goes on.
        let mut fetch = 2;
        loop {
            let rows = tx.query_portal(&portal, fetch).await.map_err(err)?;
            fetch = (fetch * 2).min(64);
            if rows.is_empty() {
                return Ok(v);
            }
            for row in rows {
                let max_id: &str = row.try_get(0).map_err(err)?;
                let records: JsonText<'_> = row.try_get(1).map_err(err)?;
                if !v.batch(max_id, records.0)? {
                    return Ok(v);
                }
            }
        }
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

    /// Deletes records and feedback older than `before_ms`; returns the records deleted.
    pub async fn delete_before(&self, before_ms: i64) -> Result<u64, StoreError> {
        // As in the SQLite store: whole batches by their largest id, and the few that straddle
        // the limit written again without their older records.
        let floor = query::record_id(before_ms, 0);
        let mut c = self.client(&self.write).await?;
        let tx = c.transaction().await.map_err(err)?;
        let whole: i64 = tx
            .query_one(
                "SELECT COALESCE(SUM(n), 0)::bigint FROM request_batches WHERE max_id < $1",
                &[&floor],
            )
            .await
            .map_err(err)?
            .get(0);
        tx.execute(
            "DELETE FROM request_keys WHERE seq IN \
             (SELECT seq FROM request_batches WHERE max_id < $1)",
            &[&floor],
        )
        .await
        .map_err(err)?;
        tx.execute("DELETE FROM request_batches WHERE max_id < $1", &[&floor])
            .await
            .map_err(err)?;
        let straddling = tx
            .query(
                "SELECT seq, records::text FROM request_batches WHERE max_id >= $1 AND min_id < $1",
                &[&floor],
            )
            .await
            .map_err(err)?;
        let mut partial = 0;
        for row in straddling {
            let seq: i64 = row.try_get(0).map_err(err)?;
            let t = batch::trim(row.try_get(1).map_err(err)?, &floor)?;
            partial += t.removed;
            tx.execute(
                "UPDATE request_batches SET min_id = $1, n = $2, records = $3::text::json \
                 WHERE seq = $4",
                &[&t.min_id, &(t.n as i32), &t.json, &seq],
            )
            .await
            .map_err(err)?;
        }
        tx.execute("DELETE FROM feedback WHERE ts_ms < $1", &[&before_ms])
            .await
            .map_err(err)?;
        tx.commit().await.map_err(err)?;
        Ok(whole as u64 + partial)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_nul_escapes_are_replaced_in_json() {
        let json = serde_json::to_string(&["a\0b", "c\\u0000d", "é\0"]).unwrap();
        let back: Vec<String> = serde_json::from_str(&json_without_nul(json)).unwrap();
        assert_eq!(back, vec!["a\u{fffd}b", "c\\u0000d", "é\u{fffd}"]);
    }
}
