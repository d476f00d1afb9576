//! How records are kept: a batch of records is one row, its records one JSON array, with the
//! smallest and largest record id beside it. One row per batch rather than per record is what
//! keeps the log's cost per request small (a row costs the same to write whatever it holds).
//! Ids that came from callers get a key row each, so lookups by them read only their batches;
//! ids the gateway made begin with their time and are found through the batches' id ranges.

use crate::query::{Dialect, Lookup, Param, Sql};
use crate::record::Record;
use crate::StoreError;

/// Most records one row holds: a lookup decodes whole rows, so they stay small.
pub const ROW_RECORDS: usize = 256;

/// One row, ready to write.
pub struct Encoded {
    pub min_id: String,
    pub max_id: String,
    pub n: i64,
    /// The records as one JSON array.
    pub json: String,
    /// Request and trace ids from callers, each once.
    pub keys: Vec<String>,
}

pub fn encode(records: &[Record]) -> Result<Encoded, StoreError> {
    let json =
        serde_json::to_string(records).map_err(|e| StoreError(format!("encoding records: {e}")))?;
    let min_id = records
        .iter()
        .map(|r| &r.id)
        .min()
        .cloned()
        .unwrap_or_default();
    let max_id = records
        .iter()
        .map(|r| &r.id)
        .max()
        .cloned()
        .unwrap_or_default();
    let mut keys: Vec<String> = Vec::new();
    for r in records {
        if !r.own_request_id {
            keys.push(r.request_id.clone());
        }
        if !r.own_trace_id {
            keys.push(r.trace_id.clone());
        }
    }
    keys.sort_unstable();
    keys.dedup();
    Ok(Encoded {
        min_id,
        max_id,
        n: records.len() as i64,
        json,
        keys,
    })
}

pub fn decode(json: &str) -> Result<Vec<Record>, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError(format!("decoding stored records: {e}")))
}

/// A batch that straddles the retention limit, without its records from before it.
pub struct Trimmed {
    pub min_id: String,
    pub n: i64,
    pub json: String,
    pub removed: u64,
}

/// Drops the records with ids below `floor` (the batch keeps at least one, or it would have gone
/// whole). Its key rows stay: one that now points at no record only costs a read.
pub fn trim(json: &str, floor: &str) -> Result<Trimmed, StoreError> {
    let mut records = decode(json)?;
    let before = records.len();
    records.retain(|r| r.id.as_str() >= floor);
    let min_id = records
        .iter()
        .map(|r| &r.id)
        .min()
        .cloned()
        .unwrap_or_default();
    let json = serde_json::to_string(&records)
        .map_err(|e| StoreError(format!("encoding records: {e}")))?;
    Ok(Trimmed {
        min_id,
        n: records.len() as i64,
        json,
        removed: (before - records.len()) as u64,
    })
}

/// Which batches a read visits: those whose id range meets `[lo, hi)`, narrowed to the batches
/// an id lookup points at, in the order of their largest id.
#[derive(Debug, Clone, Default)]
pub struct BatchQuery {
    pub lo: Option<String>,
    pub hi: Option<String>,
    pub lookup: Option<Lookup>,
    pub newest_first: bool,
}

impl BatchQuery {
    /// `SELECT max_id, records FROM request_batches ...` (records as text).
    pub fn sql(&self, d: Dialect) -> Sql {
        let mut sql = Sql::default();
        let mut parts: Vec<String> = Vec::new();
        let text = |v: &str| Param::Text(Some(v.to_owned()));
        if let Some(lo) = &self.lo {
            parts.push(format!("max_id >= {}", sql.bind(d, text(lo))));
        }
        if let Some(hi) = &self.hi {
            parts.push(format!("min_id < {}", sql.bind(d, text(hi))));
        }
        if let Some(l) = &self.lookup {
            let k = sql.bind(d, text(&l.key));
            let by_key = format!("seq IN (SELECT seq FROM request_keys WHERE key = {k})");
            parts.push(match &l.window {
                Some((lo, hi)) => {
                    let lo = sql.bind(d, text(lo));
                    let hi = sql.bind(d, text(hi));
                    format!("({by_key} OR (max_id >= {lo} AND min_id < {hi}))")
                }
                None => by_key,
            });
        }
        let clause = if parts.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", parts.join(" AND "))
        };
        let records = match d {
            Dialect::Sqlite => "records",
            Dialect::Postgres => "records::text",
        };
        let order = if self.newest_first { "DESC" } else { "ASC" };
        sql.text = format!(
            "SELECT max_id, {records} FROM request_batches{clause} ORDER BY max_id {order}, seq {order}"
        );
        sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::record_id;

    #[test]
    fn a_batch_keeps_its_id_range_and_only_callers_ids_as_keys() {
        let mut a = Record {
            id: record_id(2_000, 1),
            request_id: "caller-req".into(),
            trace_id: record_id(2_000, 9),
            own_trace_id: true,
            ..Record::default()
        };
        a.metadata.insert("k".into(), serde_json::json!(1));
        let b = Record {
            id: record_id(1_000, 1),
            request_id: record_id(1_000, 5),
            trace_id: "caller-trace".into(),
            own_request_id: true,
            ..Record::default()
        };
        let e = encode(&[a.clone(), b.clone()]).unwrap();
        assert_eq!(
            (e.min_id.as_str(), e.max_id.as_str(), e.n),
            (b.id.as_str(), a.id.as_str(), 2)
        );
        assert_eq!(
            e.keys,
            vec!["caller-req".to_owned(), "caller-trace".to_owned()]
        );
        let back = decode(&e.json).unwrap();
        // The own-id flags are not stored: they only decide the keys.
        let strip = |mut r: Record| {
            r.own_request_id = false;
            r.own_trace_id = false;
            r
        };
        assert_eq!(back, vec![strip(a), strip(b)]);
    }

    #[test]
    fn a_lookup_reads_the_keyed_batches_and_the_own_ids_window() {
        let q = BatchQuery {
            lo: Some("a".into()),
            lookup: Some(Lookup::new(&record_id(50_000, 3))),
            newest_first: true,
            ..BatchQuery::default()
        };
        let sql = q.sql(Dialect::Postgres);
        assert_eq!(
            sql.text,
            "SELECT max_id, records::text FROM request_batches WHERE max_id >= $1 AND \
             (seq IN (SELECT seq FROM request_keys WHERE key = $2) OR (max_id >= $3 AND \
             min_id < $4)) ORDER BY max_id DESC, seq DESC"
        );
        assert_eq!(sql.params[2], Param::Text(Some(record_id(40_000, 0))));
        let caller = BatchQuery {
            lookup: Some(Lookup::new("req-1")),
            ..BatchQuery::default()
        };
        assert!(!caller.sql(Dialect::Sqlite).text.contains("min_id"));
    }
}
