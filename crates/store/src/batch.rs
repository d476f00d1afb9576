//! How records are kept: a batch of records is one row, its records one JSON array, with the
//! smallest and largest record id beside it. One row per batch rather than per record is what
//! keeps the log's cost per request small (a row costs the same to write whatever it holds).
//! Ids that came from callers get a key row each, so lookups by them read only their batches;
//! ids the gateway made begin with their time and are found through the batches' id ranges.
//!
//! Each record is itself a JSON array, its fields in `FIELDS` order (attempts too: provider,
//! model, status, outcome, latency, and the fields left out when there were any): without the field names a record is half the bytes, and
//! bytes are what both the encoding and the store's writes cost. The `requests` view names them.

use crate::query::{Dialect, Lookup, Param, Sql};
use crate::record::{Attempt, Record};
use crate::StoreError;
use serde::Deserialize;
use serde_json::{Map, Value};

/// A stored record's fields, in order (`Record`'s fields less the own-id flags).
pub const FIELDS: [&str; 39] = [
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
    "workspace",
    "key_id",
    "end_user",
    "unpriced",
    "guardrails",
    "cache_similarity",
    "cache_saved_usd",
    "prompt",
];

/// Whether `b` holds a byte JSON must escape: a control character, `"` or `\\`. Eight bytes at a
/// time, since nearly every string checked needs nothing.
fn needs_escape(b: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte of `v` is zero (or, for `less`, below n <= 128) where the result has its high bit.
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let less = |v: u64, n: u64| v.wrapping_sub(ONES * n) & !v & HIGH;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let v = u64::from_le_bytes(w);
        if less(v, 0x20) | zero(v ^ (ONES * u64::from(b'"'))) | zero(v ^ (ONES * u64::from(b'\\')))
            != 0
        {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&c| c < 0x20 || c == b'"' || c == b'\\')
}

/// JSON written by hand: the fields are known, so no names, no serializer state, and strings
/// that need no escaping (nearly all) copied whole. Every value writer puts the comma before
/// itself, except as an array's first value.
struct Out(Vec<u8>);

impl Out {
    fn raw(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }

    fn sep(&mut self) {
        if !matches!(self.0.last(), None | Some(b'[')) {
            self.0.push(b',');
        }
    }

    fn open(&mut self) {
        self.sep();
        self.0.push(b'[');
    }

    fn close(&mut self) {
        self.0.push(b']');
    }

    fn null(&mut self) {
        self.sep();
        self.raw(b"null");
    }

    fn str(&mut self, s: &str) {
        self.sep();
        if !needs_escape(s.as_bytes()) {
            self.0.push(b'"');
            self.raw(s.as_bytes());
            self.0.push(b'"');
        } else {
            // Writing a str into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut self.0, s);
        }
    }

    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.str(s),
            None => self.null(),
        }
    }

    fn int(&mut self, v: i64) {
        self.sep();
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        let mut n = v.unsigned_abs();
        loop {
            i -= 1;
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        if v < 0 {
            self.0.push(b'-');
        }
        self.raw(&buf[i..]);
    }

    fn opt_int(&mut self, v: Option<i64>) {
        match v {
            Some(v) => self.int(v),
            None => self.null(),
        }
    }

    /// A float that reads back as the same value; one that is not finite as 0.
    fn float(&mut self, v: f64) {
        self.sep();
        let v = if v.is_finite() { v } else { 0.0 };
        let _ = serde_json::to_writer(&mut self.0, &v);
    }

    fn opt_float(&mut self, v: Option<f64>) {
        match v {
            Some(v) => self.float(v),
            None => self.null(),
        }
    }

    fn record(&mut self, r: &Record) {
        self.open();
        for s in [&r.id, &r.request_id, &r.trace_id, &r.span_id] {
            self.str(s);
        }
        self.opt_str(r.parent_span_id.as_deref());
        self.int(r.ts_ms);
        self.int(r.end_ms);
        self.str(&r.operation);
        for s in [
            &r.caller,
            &r.route,
            &r.requested_model,
            &r.provider,
            &r.model,
        ] {
            self.opt_str(s.as_deref());
        }
        self.sep();
        self.raw(if r.stream { b"true" } else { b"false" });
        self.int(i64::from(r.status));
        self.str(&r.outcome);
        for v in [
            r.input_tokens,
            r.output_tokens,
            r.cached_tokens,
            r.cache_write_tokens,
            r.reasoning_tokens,
        ] {
            self.opt_int(v);
        }
        for v in [r.cost_usd, Some(r.latency_ms), r.ttft_ms, r.upstream_ms] {
            self.opt_float(v);
        }
        self.opt_str(r.cache.as_deref());
        self.sep();
        if r.metadata.is_empty() {
            self.raw(b"{}");
        } else {
            let _ = serde_json::to_writer(&mut self.0, &r.metadata);
        }
        self.open();
        for a in &r.attempts {
            self.open();
            self.str(&a.provider);
            self.str(&a.model);
            self.opt_int(a.status.map(i64::from));
            self.str(&a.outcome);
            self.float(a.latency_ms);
            if !a.dropped.is_empty() {
                // Written only when some were: older records end with the latency.
                self.open();
                for d in &a.dropped {
                    self.str(d);
                }
                self.close();
            }
            self.close();
        }
        self.close();
        for s in [
            &r.error,
            &r.request_body,
            &r.response_body,
            &r.workspace,
            &r.key_id,
            &r.end_user,
        ] {
            self.opt_str(s.as_deref());
        }
        self.sep();
        self.raw(if r.unpriced { b"true" } else { b"false" });
        // The trailing fields are written up to the last one present (absent ones before it
        // as null): the view reads an absent one as NULL, and most records end here.
        let tail = if r.prompt.is_some() {
            4
        } else if r.cache_similarity.is_some() || r.cache_saved_usd.is_some() {
            3
        } else {
            usize::from(r.guardrails.is_some())
        };
        if tail >= 1 {
            match &r.guardrails {
                Some(v) => {
                    self.sep();
                    let _ = serde_json::to_writer(&mut self.0, v);
                }
                None => self.null(),
            }
        }
        if tail >= 3 {
            self.opt_float(r.cache_similarity);
            self.opt_float(r.cache_saved_usd);
        }
        if let (4, Some(p)) = (tail, &r.prompt) {
            self.sep();
            let _ = serde_json::to_writer(&mut self.0, p);
        }
        self.close();
    }
}

/// `records` as stored: a JSON array of records, each an array in `FIELDS` order.
pub fn to_json(records: &[Record]) -> Result<String, StoreError> {
    let mut out = Out(Vec::with_capacity(400 * records.len()));
    out.0.push(b'[');
    for r in records {
        out.record(r);
    }
    out.0.push(b']');
    String::from_utf8(out.0).map_err(|e| StoreError(format!("encoding records: {e}")))
}

/// A stored record as read back (the tuple's order is `FIELDS`).
#[derive(Deserialize)]
#[allow(clippy::type_complexity)]
struct Stored(
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    bool,
    u16,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<f64>,
    f64,
    Option<f64>,
    Option<f64>,
    Option<String>,
    Map<String, Value>,
    Vec<StoredAttempt>,
    Option<String>,
    Option<String>,
    Option<String>,
    // Added with the tenants: records written before them have 31 fields.
    #[serde(default)] Option<String>,
    #[serde(default)] Option<String>,
    #[serde(default)] Option<String>,
    // Added with the limits: records written before them read as priced.
    #[serde(default)] bool,
    // Added with the guardrails.
    #[serde(default)] Option<Value>,
    // Added with the response cache: written for hits only.
    #[serde(default)] Option<f64>,
    #[serde(default)] Option<f64>,
    // Added with the prompts: written when a request used one.
    #[serde(default)] Option<Value>,
);

#[derive(Deserialize)]
struct StoredAttempt(
    String,
    String,
    Option<u16>,
    String,
    f64,
    #[serde(default)] Vec<String>,
);

impl From<Stored> for Record {
    fn from(s: Stored) -> Record {
        Record {
            id: s.0,
            request_id: s.1,
            trace_id: s.2,
            span_id: s.3,
            parent_span_id: s.4,
            ts_ms: s.5,
            end_ms: s.6,
            operation: s.7,
            caller: s.8,
            route: s.9,
            requested_model: s.10,
            provider: s.11,
            model: s.12,
            stream: s.13,
            status: s.14,
            outcome: s.15,
            input_tokens: s.16,
            output_tokens: s.17,
            cached_tokens: s.18,
            cache_write_tokens: s.19,
            reasoning_tokens: s.20,
            cost_usd: s.21,
            latency_ms: s.22,
            ttft_ms: s.23,
            upstream_ms: s.24,
            cache: s.25,
            metadata: s.26,
            attempts: s
                .27
                .into_iter()
                .map(|a| Attempt {
                    provider: a.0,
                    model: a.1,
                    status: a.2,
                    outcome: a.3,
                    latency_ms: a.4,
                    dropped: a.5,
                })
                .collect(),
            error: s.28,
            request_body: s.29,
            response_body: s.30,
            workspace: s.31,
            key_id: s.32,
            end_user: s.33,
            unpriced: s.34,
            guardrails: s.35,
            cache_similarity: s.36,
            cache_saved_usd: s.37,
            prompt: s.38,
            own_request_id: false,
            own_trace_id: false,
        }
    }
}

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

/// The smallest and largest record id in `records` (empty for none).
fn id_range(records: &[Record]) -> (String, String) {
    let ids = || records.iter().map(|r| &r.id);
    (
        ids().min().cloned().unwrap_or_default(),
        ids().max().cloned().unwrap_or_default(),
    )
}

pub fn encode(records: &[Record]) -> Result<Encoded, StoreError> {
    let json = to_json(records)?;
    let (min_id, max_id) = id_range(records);
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

/// One stored record (an element of a batch's array).
pub fn decode_one(json: &str) -> Result<Record, StoreError> {
    serde_json::from_str::<Stored>(json)
        .map(Record::from)
        .map_err(|e| StoreError(format!("decoding a stored record: {e}")))
}

pub fn decode(json: &str) -> Result<Vec<Record>, StoreError> {
    let stored: Vec<Stored> = serde_json::from_str(json)
        .map_err(|e| StoreError(format!("decoding stored records: {e}")))?;
    Ok(stored.into_iter().map(Record::from).collect())
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
    let (min_id, _) = id_range(&records);
    let json = to_json(&records)?;
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
    /// `SELECT max_id, records FROM request_batches ...`. PostgreSQL sends `records` as jsonb,
    /// converted to text only for the rows read: a cast in the query would convert every row
    /// before a sort.
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
        let order = if self.newest_first { "DESC" } else { "ASC" };
        sql.text =
            format!("SELECT max_id, records FROM request_batches{clause} ORDER BY max_id {order}");
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
    fn escapes_are_found_in_any_position() {
        let plain = "abcdefghijklmnopqrstuvwxyz0123456789 ~é✓".to_owned();
        assert!(!needs_escape(plain.as_bytes()));
        for bad in ['"', '\\', '\n', '\u{0}', '\u{1f}'] {
            for at in 0..plain.len() {
                if !plain.is_char_boundary(at) {
                    continue;
                }
                let mut s = plain.clone();
                s.insert(at, bad);
                assert!(needs_escape(s.as_bytes()), "{s:?}");
            }
        }
        // Bytes at or above 0x80 (UTF-8) and DEL need no escape.
        assert!(!needs_escape("\u{7f}\u{80}ÿ\u{10ffff}".as_bytes()));
    }

    #[test]
    fn every_field_reads_back_as_written() {
        let mut meta = Map::new();
        meta.insert(
            "k\"ey".into(),
            serde_json::json!({"nested": [1, true, null]}),
        );
        let full = Record {
            id: record_id(1_700_000_000_123, 42),
            request_id: "quote\" back\\slash \u{1} é ✓".into(),
            trace_id: "t".into(),
            span_id: "s".into(),
            parent_span_id: Some("p".into()),
            ts_ms: 1_700_000_000_123,
            end_ms: -7,
            operation: "messages".into(),
            caller: Some("alice".into()),
            route: Some("r".into()),
            requested_model: Some("m".into()),
            provider: Some("anthropic".into()),
            model: Some("claude".into()),
            stream: true,
            status: 529,
            outcome: "error".into(),
            input_tokens: Some(i64::MAX),
            output_tokens: Some(i64::MIN + 1),
            cached_tokens: Some(0),
            cache_write_tokens: None,
            reasoning_tokens: Some(9),
            cost_usd: Some(0.000_123_456_789),
            latency_ms: 1.0 / 3.0,
            ttft_ms: Some(1e-9),
            upstream_ms: None,
            cache: Some("hit".into()),
            metadata: meta,
            attempts: vec![
                Attempt {
                    provider: "a".into(),
                    model: "b".into(),
                    status: None,
                    outcome: "timed out".into(),
                    latency_ms: 2.5,
                    dropped: vec!["seed".into(), "tools[0]".into()],
                },
                Attempt {
                    provider: "c".into(),
                    model: "d\n".into(),
                    status: Some(200),
                    outcome: "ok".into(),
                    latency_ms: 1e300,
                    dropped: Vec::new(),
                },
            ],
            error: Some("line\nbreak".into()),
            request_body: Some("{\"x\":1}".into()),
            response_body: None,
            workspace: Some("ws-1".into()),
            key_id: Some("k\"1".into()),
            end_user: Some("u".into()),
            unpriced: true,
            guardrails: Some(serde_json::json!([{"policy": "p", "check": "email", "fired": true}])),
            cache_similarity: Some(0.97),
            cache_saved_usd: Some(0.002),
            prompt: Some(serde_json::json!({"id": "greet", "version": 2, "label": "production"})),
            own_request_id: false,
            own_trace_id: false,
        };
        // A prompt without guardrails or cache fields: their places are held by null.
        let prompted = Record {
            prompt: Some(serde_json::json!({"id": "greet", "version": 1})),
            ..Record::default()
        };
        let prompted_json = to_json(std::slice::from_ref(&prompted)).unwrap();
        assert_eq!(decode(&prompted_json).unwrap(), vec![prompted]);
        let light: crate::fields::Light<'_> =
            serde_json::from_str(&prompted_json[1..prompted_json.len() - 1]).unwrap();
        assert_eq!(light.prompt(), Some(r#"{"id":"greet","version":1}"#));
        // A hit without guardrails: their place is held by null, the cache fields read back,
        // light too.
        let hit = Record {
            cache: Some("semantic-hit".into()),
            cache_similarity: Some(0.5),
            cache_saved_usd: Some(1.25),
            ..Record::default()
        };
        let hit_json = to_json(std::slice::from_ref(&hit)).unwrap();
        assert_eq!(decode(&hit_json).unwrap(), vec![hit]);
        let light: crate::fields::Light<'_> =
            serde_json::from_str(&hit_json[1..hit_json.len() - 1]).unwrap();
        assert_eq!(light.cache_saved_usd(), Some(1.25));
        assert_eq!(crate::fields::Fields::cache(&light), Some("semantic-hit"));
        let empty = Record::default();
        let json = to_json(&[full.clone(), empty.clone()]).unwrap();
        assert_eq!(decode(&json).unwrap(), vec![full.clone(), empty]);
        // A record written before the tenants' three fields reads with them absent, whole and
        // light.
        let v: serde_json::Value =
            serde_json::from_str(&to_json(std::slice::from_ref(&full)).unwrap()).unwrap();
        let old: Vec<serde_json::Value> = v[0].as_array().unwrap()[..31].to_vec();
        let old_json = serde_json::Value::Array(vec![serde_json::Value::Array(old)]).to_string();
        let back = decode(&old_json).unwrap();
        assert_eq!(
            (back[0].workspace.clone(), back[0].end_user.clone()),
            (None, None)
        );
        assert_eq!(back[0].request_id, full.request_id);
        let inner = &old_json[1..old_json.len() - 1];
        let light: crate::fields::Light<'_> = serde_json::from_str(inner).unwrap();
        assert_eq!(crate::fields::Fields::workspace(&light), None);
        // One written before the unpriced flag reads as priced; the flag reads back, light too.
        let old: Vec<serde_json::Value> = v[0].as_array().unwrap()[..34].to_vec();
        let old_json = serde_json::Value::Array(vec![serde_json::Value::Array(old)]).to_string();
        let back = decode(&old_json).unwrap();
        assert!(!back[0].unpriced);
        assert_eq!(back[0].end_user, full.end_user);
        let whole = to_json(std::slice::from_ref(&full)).unwrap();
        let light: crate::fields::Light<'_> =
            serde_json::from_str(&whole[1..whole.len() - 1]).unwrap();
        assert!(crate::fields::Fields::unpriced(&light));
        // A latency that is not a number is stored as 0 rather than failing its batch.
        let nan = Record {
            latency_ms: f64::NAN,
            ..Record::default()
        };
        assert_eq!(
            decode(&to_json(&[nan]).unwrap()).unwrap()[0].latency_ms,
            0.0
        );
        // Positional: one array per record, with `FIELDS.len()` fields.
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v[0].as_array().map(Vec::len), Some(FIELDS.len()));
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
            "SELECT max_id, records FROM request_batches WHERE max_id >= $1 AND \
             (seq IN (SELECT seq FROM request_keys WHERE key = $2) OR (max_id >= $3 AND \
             min_id < $4)) ORDER BY max_id DESC"
        );
        assert_eq!(sql.params[2], Param::Text(Some(record_id(49_000, 0))));
        let caller = BatchQuery {
            lookup: Some(Lookup::new("req-1")),
            ..BatchQuery::default()
        };
        assert!(!caller.sql(Dialect::Sqlite).text.contains("min_id"));
    }
}
