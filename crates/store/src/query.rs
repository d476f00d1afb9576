//! Filters, groups and pages over the request log, applied in Rust to the records both stores
//! hand back (so they cannot answer differently), and the little SQL both share.

use crate::fields::Fields;
use crate::record::Record;
use serde::Serialize;
use serde_json::Value;

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
    /// The caller's workspace, virtual key (public id) and end user.
    pub workspace: Option<String>,
    pub key_id: Option<String>,
    pub end_user: Option<String>,
    /// Only records whose usage was read for a model without a price (or only priced ones).
    pub unpriced: Option<bool>,
    /// The response cache status (`hit`, `semantic-hit`, `miss`, `bypass`).
    pub cache: Option<String>,
}

/// How far from an own id's time prefix its record's id may start. Both are read from the wall
/// clock at the request's start, one directly and one as the end less the elapsed time, so they
/// differ by the clock's slew over the request (at most 500 ppm: 0.3 s over a 10-minute stream).
/// A wider window would decode more batches per lookup.
const OWN_ID_WINDOW_MS: i64 = 1_000;

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

/// A metadata value as filters and groups compare it: strings as they are, numbers and
/// booleans as their JSON text (`2`, `true`), `null` as absent.
pub fn metadata_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Where the store looks for records with one id value (a request or trace id, or a record id):
/// the batches its key row points at (ids from callers), and the batches around the time an id
/// the gateway made begins with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub key: String,
    /// Record ids `[lo, hi)` around the id's own time, when it has the gateway's layout.
    pub window: Option<(String, String)>,
}

impl Lookup {
    pub fn new(value: &str) -> Lookup {
        Lookup {
            key: value.to_owned(),
            window: time_prefix(value).map(|t| {
                (
                    id_floor(t - OWN_ID_WINDOW_MS),
                    id_floor(t + OWN_ID_WINDOW_MS),
                )
            }),
        }
    }
}

impl Filter {
    /// Record ids `[lo, hi)` the time range covers (ids begin with their record's time).
    pub fn id_range(&self) -> (Option<String>, Option<String>) {
        (self.from_ms.map(id_floor), self.to_ms.map(id_floor))
    }

    /// The id lookup that narrows this filter to a few batches, when it names a trace or
    /// request id.
    pub fn lookup(&self) -> Option<Lookup> {
        self.trace_id
            .as_deref()
            .or(self.request_id.as_deref())
            .map(Lookup::new)
    }

    /// The filter ready to test records, its id range made once.
    pub fn matcher(&self) -> Matcher {
        let (lo, hi) = self.id_range();
        Matcher {
            filter: self.clone(),
            lo,
            hi,
        }
    }
}

/// A filter ready to test records (`Filter::matcher`).
#[derive(Debug, Clone)]
pub struct Matcher {
    filter: Filter,
    lo: Option<String>,
    hi: Option<String>,
}

impl Matcher {
    /// Whether `r` passes every field of the filter.
    pub fn matches<R: Fields>(&self, r: &R) -> bool {
        let f = &self.filter;
        let eq = |want: &Option<String>, have: Option<&str>| {
            want.as_deref().is_none_or(|w| have == Some(w))
        };
        let id = r.id();
        self.lo.as_deref().is_none_or(|lo| id >= lo)
            && self.hi.as_deref().is_none_or(|hi| id < hi)
            && f.model
                .as_deref()
                .is_none_or(|m| r.model() == Some(m) || r.requested_model() == Some(m))
            && eq(&f.provider, r.provider())
            && eq(&f.caller, r.caller())
            && eq(&f.workspace, r.workspace())
            && eq(&f.key_id, r.key_id())
            && eq(&f.end_user, r.end_user())
            && f.unpriced.is_none_or(|u| r.unpriced() == u)
            && eq(&f.cache, r.cache())
            && f.trace_id.as_deref().is_none_or(|t| r.trace_id() == t)
            && f.request_id.as_deref().is_none_or(|t| r.request_id() == t)
            && f.operation.as_deref().is_none_or(|o| r.operation() == o)
            && match f.status {
                Some(StatusFilter::Exact(s)) => r.status() == s,
                Some(StatusFilter::Class(c)) => r.status() / 100 == c,
                None => true,
            }
            && f.metadata
                .iter()
                .all(|(k, v)| r.metadata_text(k).as_ref() == Some(v))
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

/// What analytics group by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupBy {
    None,
    Model,
    Provider,
    Caller,
    Operation,
    Workspace,
    KeyId,
    EndUser,
    /// Each of the request's tags (`metadata.tags`): a request with two tags counts in both.
    Tag,
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
            "workspace" => GroupBy::Workspace,
            "key_id" => GroupBy::KeyId,
            "end_user" => GroupBy::EndUser,
            "tag" => GroupBy::Tag,
            other => match other.strip_prefix("metadata.") {
                Some(k) if !k.is_empty() => GroupBy::Metadata(k.to_owned()),
                _ => {
                    return Err(format!(
                        "group_by must be model, provider, key, operation, workspace, key_id, \
                         end_user, tag or metadata.<key>, not \"{other}\""
                    ))
                }
            },
        })
    }
}

impl GroupBy {
    /// The group `r` falls in.
    pub fn key<R: Fields>(&self, r: &R) -> Option<String> {
        match self {
            GroupBy::None => None,
            GroupBy::Model => r.model().or(r.requested_model()).map(str::to_owned),
            GroupBy::Provider => r.provider().map(str::to_owned),
            GroupBy::Caller => r.caller().map(str::to_owned),
            GroupBy::Operation => Some(r.operation().to_owned()),
            GroupBy::Workspace => r.workspace().map(str::to_owned),
            GroupBy::KeyId => r.key_id().map(str::to_owned),
            GroupBy::EndUser => r.end_user().map(str::to_owned),
            GroupBy::Tag => r.metadata_list("tags").into_iter().next(),
            GroupBy::Metadata(k) => r.metadata_text(k),
        }
    }
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

/// Feedback given from `from_ms` on (an experiment's outcomes), oldest first.
pub fn feedback_since(d: Dialect, from_ms: i64) -> Sql {
    let mut sql = Sql::default();
    let a = sql.bind(d, Param::Int(Some(from_ms)));
    let meta = match d {
        Dialect::Sqlite => "metadata",
        Dialect::Postgres => "metadata::text",
    };
    sql.text = format!(
        "SELECT id, ts_ms, request_id, trace_id, score, {meta}, caller FROM feedback \
         WHERE ts_ms >= {a} ORDER BY ts_ms, id"
    );
    sql
}

/// Inserts one feedback row.
pub fn insert_feedback(d: Dialect, f: &crate::record::Feedback) -> Sql {
    let mut sql = Sql::default();
    let vals = [
        Param::Text(Some(f.id.clone())),
        Param::Int(Some(f.ts_ms)),
        Param::Text(f.request_id.clone()),
        Param::Text(f.trace_id.clone()),
        Param::Real(f.score),
        Param::Json(serde_json::Value::Object(f.metadata.clone()).to_string()),
        Param::Text(f.caller.clone()),
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
