//! Filters and pages over the request log, written once as SQL for both stores: the only
//! differences are the placeholder syntax and how a metadata field is read.

use crate::record::Record;
use serde::Serialize;

/// Which SQL the builder writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A bound parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
    Bool(bool),
    /// JSON text (a JSONB column in Postgres).
    Json(String),
}

/// A statement and its parameters.
#[derive(Debug, Default)]
pub struct Sql {
    pub text: String,
    pub params: Vec<Param>,
}

impl Sql {
    /// Adds a parameter and returns its placeholder.
    pub fn bind(&mut self, d: Dialect, p: Param) -> String {
        let json = matches!(p, Param::Json(_));
        self.params.push(p);
        let n = self.params.len();
        match (d, json) {
            (Dialect::Sqlite, _) => format!("?{n}"),
            (Dialect::Postgres, false) => format!("${n}"),
            (Dialect::Postgres, true) => format!("${n}::text::jsonb"),
        }
    }
}

/// Status filter: one code, or a class such as `5xx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Exact(u16),
    /// The hundreds digit: `4` for 4xx.
    Class(u16),
}

impl std::str::FromStr for StatusFilter {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad =
            || format!("status must be a code such as 429 or a class such as 5xx, not \"{s}\"");
        if let Some(d) = s.strip_suffix("xx").or_else(|| s.strip_suffix("XX")) {
            let d: u16 = d.parse().map_err(|_| bad())?;
            return if (1..=5).contains(&d) {
                Ok(StatusFilter::Class(d))
            } else {
                Err(bad())
            };
        }
        let n: u16 = s.parse().map_err(|_| bad())?;
        if (100..=599).contains(&n) {
            Ok(StatusFilter::Exact(n))
        } else {
            Err(bad())
        }
    }
}

/// Which records a query selects; every field narrows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// From this Unix millisecond, inclusive.
    pub from_ms: Option<i64>,
    /// Before this Unix millisecond.
    pub to_ms: Option<i64>,
    /// The upstream model, or the model the caller asked for.
    pub model: Option<String>,
    pub provider: Option<String>,
    pub status: Option<StatusFilter>,
    /// The client key's name.
    pub caller: Option<String>,
    pub trace_id: Option<String>,
    pub request_id: Option<String>,
    pub operation: Option<String>,
    /// `metadata.<key> = <value>` (values compared as text).
    pub metadata: Vec<(String, String)>,
}

/// How far from an own id's time prefix its record's id may start.
const OWN_ID_WINDOW_MS: i64 = 60_000;

/// `col = value`, written so that both indexes can answer: an id from a caller is in the
/// partial index over `col`; an id the gateway made begins with its request's time, so its
/// record is in the primary key's range around that time.
fn own_or_indexed(d: Dialect, sql: &mut Sql, col: &str, own: &str, value: &str) -> String {
    let no = match d {
        Dialect::Sqlite => "0",
        Dialect::Postgres => "FALSE",
    };
    let a = sql.bind(d, Param::Text(Some(value.to_owned())));
    let indexed = format!("({own} = {no} AND {col} = {a})");
    let Some(t) = time_prefix(value) else {
        return indexed;
    };
    let lo = sql.bind(d, Param::Text(Some(id_floor(t - OWN_ID_WINDOW_MS))));
    let hi = sql.bind(d, Param::Text(Some(id_floor(t + OWN_ID_WINDOW_MS))));
    let b = sql.bind(d, Param::Text(Some(value.to_owned())));
    format!("({indexed} OR (id >= {lo} AND id < {hi} AND {col} = {b}))")
}

/// The time in an id laid out as `record_id` lays them out (32 lowercase hex digits).
fn time_prefix(id: &str) -> Option<i64> {
    if id.len() != 32
        || !id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    i64::from_str_radix(&id[..12], 16).ok()
}

/// The SQL expression reading metadata field `key` as text.
pub fn metadata_field(d: Dialect, sql: &mut Sql, key: &str) -> String {
    match d {
        Dialect::Sqlite => {
            // A JSON path with the key quoted, so dots and spaces in it are literal.
            let path = format!("$.\"{}\"", key.replace('"', "\\\""));
            let p = sql.bind(d, Param::Text(Some(path)));
            // json_extract gives numbers and booleans as SQL values: compare them as text.
            format!("CAST(json_extract(metadata, {p}) AS TEXT)")
        }
        Dialect::Postgres => {
            let p = sql.bind(d, Param::Text(Some(key.to_owned())));
            format!("(metadata->>{p}::text)")
        }
    }
}

impl Filter {
    /// ` WHERE ...` (or nothing) for this filter, its parameters bound into `sql`.
    pub fn where_clause(&self, d: Dialect, sql: &mut Sql) -> String {
        let mut parts: Vec<String> = Vec::new();
        // Times are ranges of the record id, which begins with its time (`record_id`): the
        // primary key serves them, so no separate time index is kept up to date.
        if let Some(v) = self.from_ms {
            let p = sql.bind(d, Param::Text(Some(id_floor(v))));
            parts.push(format!("id >= {p}"));
        }
        if let Some(v) = self.to_ms {
            let p = sql.bind(d, Param::Text(Some(id_floor(v))));
            parts.push(format!("id < {p}"));
        }
        if let Some(v) = &self.model {
            let a = sql.bind(d, Param::Text(Some(v.clone())));
            let b = sql.bind(d, Param::Text(Some(v.clone())));
            parts.push(format!("(model = {a} OR requested_model = {b})"));
        }
        let text = |sql: &mut Sql, col: &str, v: &Option<String>, parts: &mut Vec<String>| {
            if let Some(v) = v {
                let p = sql.bind(d, Param::Text(Some(v.clone())));
                parts.push(format!("{col} = {p}"));
            }
        };
        text(sql, "provider", &self.provider, &mut parts);
        text(sql, "caller", &self.caller, &mut parts);
        if let Some(v) = &self.trace_id {
            parts.push(own_or_indexed(d, sql, "trace_id", "own_trace_id", v));
        }
        if let Some(v) = &self.request_id {
            parts.push(own_or_indexed(d, sql, "request_id", "own_request_id", v));
        }
        text(sql, "operation", &self.operation, &mut parts);
        match self.status {
            Some(StatusFilter::Exact(s)) => {
                let p = sql.bind(d, Param::Int(Some(i64::from(s))));
                parts.push(format!("status = {p}"));
            }
            Some(StatusFilter::Class(c)) => {
                let lo = sql.bind(d, Param::Int(Some(i64::from(c) * 100)));
                let hi = sql.bind(d, Param::Int(Some(i64::from(c) * 100 + 100)));
                parts.push(format!("status >= {lo} AND status < {hi}"));
            }
            None => {}
        }
        for (k, v) in &self.metadata {
            let field = metadata_field(d, sql, k);
            let p = sql.bind(d, Param::Text(Some(v.clone())));
            parts.push(format!("{field} = {p}"));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", parts.join(" AND "))
        }
    }
}

/// A record id: its time (Unix ms, 12 hex digits) then 80 bits of `random` (20 hex digits). Ids
/// sort as their records' times do, so the primary key doubles as the time index and grows at
/// its end. Every record must have an id made here.
pub fn record_id(ts_ms: i64, random: u128) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let ts = u128::from(u64::try_from(ts_ms).unwrap_or(0) & 0xffff_ffff_ffff);
    let v = (ts << 80) | (random & ((1u128 << 80) - 1));
    // By hand: the formatting machinery costs several times as much, once per request.
    (0..32)
        .rev()
        .map(|i| HEX[((v >> (i * 4)) & 0xf) as usize] as char)
        .collect()
}

/// The smallest id a record at `ts_ms` can have.
fn id_floor(ts_ms: i64) -> String {
    record_id(ts_ms.max(0), 0)
}

/// Where a page starts: after the record with this id (newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub id: String,
}

impl Cursor {
    /// The id itself: opaque to callers, who pass back `next_cursor` as it came.
    pub fn encode(&self) -> String {
        self.id.clone()
    }

    pub fn decode(s: &str) -> Option<Cursor> {
        if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(Cursor { id: s.to_owned() })
    }
}

/// One page of records, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    pub data: Vec<Record>,
    /// Pass as `cursor` for the next page; `None` on the last one.
    pub next_cursor: Option<String>,
}

/// The columns of `requests`, in the order rows are written and read.
pub const COLUMNS: &[&str] = &[
    "id",
    "request_id",
    "trace_id",
    "span_id",
    "parent_span_id",
    "ts_ms",
    "end_ms",
    "operation",
    "caller",
    "route",
    "requested_model",
    "provider",
    "model",
    "stream",
    "status",
    "outcome",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "cost_usd",
    "latency_ms",
    "ttft_ms",
    "upstream_ms",
    "cache",
    "metadata",
    "attempts",
    "error",
    "request_body",
    "response_body",
    "own_request_id",
    "own_trace_id",
];

/// The columns as a select list (JSON columns read back as text).
pub fn select_list(d: Dialect) -> String {
    COLUMNS
        .iter()
        .map(|c| match (d, *c) {
            (Dialect::Postgres, "metadata" | "attempts") => format!("{c}::text"),
            _ => (*c).to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn text(s: &Option<String>) -> Param {
    Param::Text(s.clone())
}

/// A record's values in `COLUMNS` order.
pub fn values(r: &Record) -> Vec<Param> {
    let to_i = |v: Option<i64>| Param::Int(v);
    vec![
        Param::Text(Some(r.id.clone())),
        Param::Text(Some(r.request_id.clone())),
        Param::Text(Some(r.trace_id.clone())),
        Param::Text(Some(r.span_id.clone())),
        text(&r.parent_span_id),
        Param::Int(Some(r.ts_ms)),
        Param::Int(Some(r.end_ms)),
        Param::Text(Some(r.operation.clone())),
        text(&r.caller),
        text(&r.route),
        text(&r.requested_model),
        text(&r.provider),
        text(&r.model),
        Param::Bool(r.stream),
        Param::Int(Some(i64::from(r.status))),
        Param::Text(Some(r.outcome.clone())),
        to_i(r.input_tokens),
        to_i(r.output_tokens),
        to_i(r.cached_tokens),
        to_i(r.cache_write_tokens),
        to_i(r.reasoning_tokens),
        Param::Real(r.cost_usd),
        Param::Real(Some(r.latency_ms)),
        Param::Real(r.ttft_ms),
        Param::Real(r.upstream_ms),
        text(&r.cache),
        Param::Json(serde_json::to_string(&r.metadata).unwrap_or_else(|_| "{}".into())),
        Param::Json(serde_json::to_string(&r.attempts).unwrap_or_else(|_| "[]".into())),
        text(&r.error),
        text(&r.request_body),
        text(&r.response_body),
        Param::Bool(r.own_request_id),
        Param::Bool(r.own_trace_id),
    ]
}

/// One multi-row INSERT for `records` (callers keep batches under the parameter limit).
pub fn insert(d: Dialect, records: &[Record]) -> Sql {
    let mut sql = Sql::default();
    let mut rows = Vec::with_capacity(records.len());
    for r in records {
        let marks: Vec<String> = values(r).into_iter().map(|p| sql.bind(d, p)).collect();
        rows.push(format!("({})", marks.join(", ")));
    }
    sql.text = format!(
        "INSERT INTO requests ({}) VALUES {}",
        COLUMNS.join(", "),
        rows.join(", ")
    );
    sql
}

/// Rows per INSERT: well under both stores' parameter limits.
pub const INSERT_CHUNK: usize = 200;

/// A page of records matching `filter`, newest first, after `cursor`.
pub fn page(d: Dialect, filter: &Filter, cursor: Option<&Cursor>, limit: usize) -> Sql {
    let mut sql = Sql::default();
    let mut clause = filter.where_clause(d, &mut sql);
    if let Some(c) = cursor {
        let id = sql.bind(d, Param::Text(Some(c.id.clone())));
        let cond = format!("id < {id}");
        clause = if clause.is_empty() {
            format!(" WHERE {cond}")
        } else {
            format!("{clause} AND {cond}")
        };
    }
    let lim = sql.bind(d, Param::Int(Some(limit as i64)));
    sql.text = format!(
        "SELECT {} FROM requests{clause} ORDER BY id DESC LIMIT {lim}",
        select_list(d)
    );
    sql
}

/// The record with this id, else the newest with this request id.
pub fn by_id(d: Dialect, id: &str) -> Sql {
    let mut sql = Sql::default();
    let a = sql.bind(d, Param::Text(Some(id.to_owned())));
    let by_request = own_or_indexed(d, &mut sql, "request_id", "own_request_id", id);
    let c = sql.bind(d, Param::Text(Some(id.to_owned())));
    sql.text = format!(
        "SELECT {} FROM requests WHERE id = {a} OR {by_request} \
         ORDER BY CASE WHEN id = {c} THEN 0 ELSE 1 END, id DESC LIMIT 1",
        select_list(d)
    );
    sql
}

/// What analytics group by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupBy {
    None,
    Model,
    Provider,
    Caller,
    Operation,
    Metadata(String),
}

impl std::str::FromStr for GroupBy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "" | "none" => GroupBy::None,
            "model" => GroupBy::Model,
            "provider" => GroupBy::Provider,
            "key" | "caller" => GroupBy::Caller,
            "operation" => GroupBy::Operation,
            other => match other.strip_prefix("metadata.") {
                Some(k) if !k.is_empty() => GroupBy::Metadata(k.to_owned()),
                _ => {
                    return Err(format!(
                        "group_by must be model, provider, key, operation or metadata.<key>, \
                         not \"{other}\""
                    ))
                }
            },
        })
    }
}

/// The rows analytics read: time, group key, and the measured columns.
pub fn analytics_rows(d: Dialect, filter: &Filter, group: &GroupBy, cap: usize) -> Sql {
    let mut sql = Sql::default();
    let key = match group {
        GroupBy::None => "CAST(NULL AS TEXT)".to_owned(),
        GroupBy::Model => "COALESCE(model, requested_model)".to_owned(),
        GroupBy::Provider => "provider".to_owned(),
        GroupBy::Caller => "caller".to_owned(),
        GroupBy::Operation => "operation".to_owned(),
        GroupBy::Metadata(k) => metadata_field(d, &mut sql, k),
    };
    let clause = filter.where_clause(d, &mut sql);
    let lim = sql.bind(d, Param::Int(Some(cap as i64)));
    sql.text = format!(
        "SELECT ts_ms, {key}, status, input_tokens, output_tokens, cached_tokens, cost_usd, \
         latency_ms, ttft_ms, cache FROM requests{clause} ORDER BY id LIMIT {lim}"
    );
    sql
}

/// Feedback for these request or trace ids.
pub fn feedback_for(d: Dialect, request_id: &str, trace_id: &str) -> Sql {
    let mut sql = Sql::default();
    let a = sql.bind(d, Param::Text(Some(request_id.to_owned())));
    let b = sql.bind(d, Param::Text(Some(trace_id.to_owned())));
    let meta = match d {
        Dialect::Sqlite => "metadata",
        Dialect::Postgres => "metadata::text",
    };
    sql.text = format!(
        "SELECT id, ts_ms, request_id, trace_id, score, {meta}, caller FROM feedback \
         WHERE request_id = {a} OR trace_id = {b} ORDER BY ts_ms, id"
    );
    sql
}

/// Inserts one feedback row.
pub fn insert_feedback(d: Dialect, f: &crate::record::Feedback) -> Sql {
    let mut sql = Sql::default();
    let vals = [
        Param::Text(Some(f.id.clone())),
        Param::Int(Some(f.ts_ms)),
        text(&f.request_id),
        text(&f.trace_id),
        Param::Real(f.score),
        Param::Json(serde_json::Value::Object(f.metadata.clone()).to_string()),
        text(&f.caller),
    ];
    let marks: Vec<String> = vals.into_iter().map(|p| sql.bind(d, p)).collect();
    sql.text = format!(
        "INSERT INTO feedback (id, ts_ms, request_id, trace_id, score, metadata, caller) \
         VALUES ({})",
        marks.join(", ")
    );
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ids_begin_with_their_time_and_sort_by_it() {
        let id = record_id(0x0123_4567_89ab, u128::MAX);
        assert_eq!(
            id,
            format!("{:012x}{:020x}", 0x0123_4567_89abu64, (1u128 << 80) - 1)
        );
        assert!(record_id(1_000, u128::MAX) < record_id(1_001, 0));
        assert!(id_floor(1_001) <= record_id(1_001, 0));
        assert_eq!(record_id(-5, 1), format!("{:032x}", 1));
        assert_eq!(Cursor::decode(&id).map(|c| c.encode()), Some(id));
        assert_eq!(Cursor::decode("1700000000000.abc"), None);
    }
}
