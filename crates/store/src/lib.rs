//! The request log's storage: an embedded SQLite file by default, PostgreSQL when configured,
//! with the same schema (records kept in batches, see `batch`), queries and analytics. Nothing here runs on a request's path: the
//! gateway writes through a bounded queue and reads only for the admin API.

pub mod analytics;
pub mod batch;
pub mod fields;
mod postgres;
pub mod query;
pub mod record;
pub mod scan;
mod sqlite;

pub use analytics::{Bucket, Percentiles};
pub use query::{record_id, Cursor, Filter, GroupBy, Page, StatusFilter};
pub use record::{Attempt, Feedback, Record};

use batch::BatchQuery;
use fields::{Fields, Light};
use query::Lookup;
use scan::{Measures, Newest, Visit};
use std::path::Path;

/// A store operation failed; the message says which store and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

/// Where records go.
pub enum Store {
    Sqlite(sqlite::SqliteStore),
    Postgres(Box<postgres::PostgresStore>),
}

/// Most rows one analytics call reads; a larger range gets `truncated: true`.
pub const ANALYTICS_ROW_CAP: usize = 2_000_000;

/// An analytics answer.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Analytics {
    pub data: Vec<Bucket>,
    /// The whole range in one bucket, each record once (asked for with `totals`).
    pub totals: Option<Bucket>,
    /// The whole range per group, when both grouping and bucketing (asked for with `totals`).
    pub groups: Option<Vec<Bucket>>,
    /// More rows matched than `ANALYTICS_ROW_CAP`: the figures cover the oldest of them only.
    pub truncated: bool,
}

impl Store {
    /// The SQLite file at `path`, created and migrated as needed.
    pub async fn sqlite(path: &Path) -> Result<Store, StoreError> {
        sqlite::SqliteStore::open(path).await.map(Store::Sqlite)
    }

    /// The PostgreSQL database at `url` (`postgres://user@host:port/db`), migrated as needed.
    pub async fn postgres(url: &str) -> Result<Store, StoreError> {
        postgres::PostgresStore::open(url)
            .await
            .map(|s| Store::Postgres(Box::new(s)))
    }

    /// Runs `v` over the batches `q` selects and hands it back.
    async fn scan<V: Visit>(&self, q: BatchQuery, v: V) -> Result<V, StoreError> {
        match self {
            Store::Sqlite(s) => s.scan(q, v).await,
            Store::Postgres(s) => s.scan(q, v).await,
        }
    }

    /// Which store this is, for logs and errors.
    pub fn kind(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Writes a batch of records in one transaction.
    pub async fn insert(&self, records: std::sync::Arc<Vec<Record>>) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        match self {
            Store::Sqlite(s) => s.insert(records).await,
            Store::Postgres(s) => s.insert(records).await,
        }
    }

    /// Up to `limit` records matching `filter`, newest first, after `cursor`.
    pub async fn list(
        &self,
        filter: &Filter,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let (lo, mut hi) = filter.id_range();
        let before = cursor.map(|c| c.id.clone());
        if let Some(b) = &before {
            hi = Some(hi.map_or(b.clone(), |h| h.min(b.clone())));
        }
        let q = BatchQuery {
            lo,
            hi,
            lookup: filter.lookup(),
            newest_first: true,
        };
        // One more than asked tells whether another page follows.
        let pick = scan::page_pick(filter, before);
        let mut data = self.scan(q, Newest::new(pick, limit + 1)).await?.found;
        let more = data.len() > limit;
        data.truncate(limit);
        let next_cursor = more
            .then(|| data.last())
            .flatten()
            .map(|r| Cursor { id: r.id.clone() })
            .map(|c| c.encode());
        Ok(Page { data, next_cursor })
    }

    /// The record with this id, or else the newest with this request id.
    pub async fn get(&self, id: &str) -> Result<Option<Record>, StoreError> {
        // A record id is found first in the few batches whose id range holds it exactly
        // (`id + "0"` is the least string above every 32-digit id up to `id`).
        if query::Cursor::decode(id).is_some() {
            let q = BatchQuery {
                lo: Some(id.to_owned()),
                hi: Some(format!("{id}0")),
                newest_first: true,
                ..BatchQuery::default()
            };
            let want = id.to_owned();
            let found = self
                .scan(q, Newest::new(move |r: &Light| r.id() == want, 1))
                .await?
                .found;
            if let Some(r) = found.into_iter().next() {
                return Ok(Some(r));
            }
        }
        let q = BatchQuery {
            lookup: Some(Lookup::new(id)),
            newest_first: true,
            ..BatchQuery::default()
        };
        let want = id.to_owned();
        let pick = move |r: &Light| r.request_id() == want;
        Ok(self.scan(q, Newest::new(pick, 1)).await?.found.pop())
    }

    /// Aggregates over the records matching `filter`; with `totals`, also the whole range
    /// ungrouped and, when bucketing by a group, per group, from the same read (a dashboard's
    /// cards, charts and table for the cost of one).
    pub async fn analytics(
        &self,
        filter: &Filter,
        group: &GroupBy,
        bucket_ms: i64,
        totals: bool,
    ) -> Result<Analytics, StoreError> {
        let (lo, hi) = filter.id_range();
        let q = BatchQuery {
            lo,
            hi,
            lookup: filter.lookup(),
            newest_first: false,
        };
        let v = Measures::new(filter, group.clone(), ANALYTICS_ROW_CAP);
        let mut rows = self.scan(q, v).await?.rows;
        rows.sort_by_key(|r| r.ts_ms);
        let truncated = rows.len() > ANALYTICS_ROW_CAP;
        rows.truncate(ANALYTICS_ROW_CAP);
        let grouped = !matches!(group, GroupBy::None);
        Ok(Analytics {
            data: analytics::aggregate(&rows, bucket_ms),
            totals: totals.then(|| analytics::totals(&rows)),
            groups: (totals && grouped && bucket_ms > 0).then(|| analytics::aggregate(&rows, 0)),
            truncated,
        })
    }

    pub async fn add_feedback(&self, f: Feedback) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.insert_feedback(f).await,
            Store::Postgres(s) => s.insert_feedback(f).await,
        }
    }

    /// Feedback given for this request id or trace id.
    pub async fn feedback(
        &self,
        request_id: &str,
        trace_id: &str,
    ) -> Result<Vec<Feedback>, StoreError> {
        match self {
            Store::Sqlite(s) => {
                let sql = query::feedback_for(query::Dialect::Sqlite, request_id, trace_id);
                s.feedback(sql).await
            }
            Store::Postgres(s) => {
                let sql = query::feedback_for(query::Dialect::Postgres, request_id, trace_id);
                s.feedback(sql).await
            }
        }
    }

    /// Feedback given from `from_ms` on, oldest first.
    pub async fn feedback_since(&self, from_ms: i64) -> Result<Vec<Feedback>, StoreError> {
        match self {
            Store::Sqlite(s) => {
                s.feedback(query::feedback_since(query::Dialect::Sqlite, from_ms))
                    .await
            }
            Store::Postgres(s) => {
                s.feedback(query::feedback_since(query::Dialect::Postgres, from_ms))
                    .await
            }
        }
    }

    /// The requests an experiment served from `from_ms` on: each one's variant and measures.
    pub async fn experiment_rows(
        &self,
        experiment: &str,
        from_ms: i64,
    ) -> Result<Vec<scan::ExperimentRow>, StoreError> {
        let filter = Filter {
            from_ms: Some(from_ms),
            ..Filter::default()
        };
        let (lo, hi) = filter.id_range();
        let q = BatchQuery {
            lo,
            hi,
            lookup: None,
            newest_first: false,
        };
        Ok(self
            .scan(q, scan::ExperimentRows::new(experiment, from_ms))
            .await?
            .rows)
    }

    /// Deletes what is older than `before_ms` (Unix ms); returns how many records went.
    pub async fn delete_before(&self, before_ms: i64) -> Result<u64, StoreError> {
        match self {
            Store::Sqlite(s) => s.delete_before(before_ms).await,
            Store::Postgres(s) => s.delete_before(before_ms).await,
        }
    }
}
