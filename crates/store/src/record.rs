//! What is stored: one record per request, and feedback attached to requests or traces.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One request through the gateway.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Unique id of the record (the gateway's own; `request_id` may repeat a caller's).
    pub id: String,
    /// The `x-request-id` the caller sent or the gateway chose.
    pub request_id: String,
    /// W3C trace id (32 hex digits) and this request's span id (16 hex digits).
    pub trace_id: String,
    pub span_id: String,
    /// The caller's span, when it sent a `traceparent`.
    pub parent_span_id: Option<String>,
    /// When the request arrived and when its answer ended, Unix milliseconds.
    pub ts_ms: i64,
    pub end_ms: i64,
    /// The API called: `chat.completions`, `messages`, `responses`, `embeddings`, ...
    pub operation: String,
    /// Name of the client key that authenticated (never the key itself).
    pub caller: Option<String>,
    /// The route that ran, when the model named one (or `x-switchyard-config` was sent).
    pub route: Option<String>,
    /// The model the caller asked for.
    pub requested_model: Option<String>,
    /// Provider and upstream model of the attempt that answered (or the last one tried).
    pub provider: Option<String>,
    pub model: Option<String>,
    pub stream: bool,
    /// HTTP status sent to the caller.
    pub status: u16,
    /// `ok`, `error`, or `client_closed` (the caller went away before the answer ended).
    pub outcome: String,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cached_tokens: Option<i64>,
    pub cache_write_tokens: Option<i64>,
    pub reasoning_tokens: Option<i64>,
    /// From the model catalog's prices; `None` when the model has no price.
    pub cost_usd: Option<f64>,
    /// Arrival to the answer's last byte.
    pub latency_ms: f64,
    /// Arrival to the first streamed event relayed (streams only).
    pub ttft_ms: Option<f64>,
    /// Time spent waiting on providers, over all attempts.
    pub upstream_ms: Option<f64>,
    /// Response cache status (`hit`, `semantic-hit`, `miss`, `bypass`); `None` while no cache is
    /// configured.
    pub cache: Option<String>,
    /// The caller's `x-switchyard-metadata` object.
    pub metadata: Map<String, Value>,
    /// Every attempt in order.
    pub attempts: Vec<Attempt>,
    /// The error's message when the request failed.
    pub error: Option<String>,
    /// Bodies, when `server.log.bodies` is on (cut at `body_max_bytes`).
    pub request_body: Option<String>,
    pub response_body: Option<String>,
    /// The caller's workspace, virtual key (public id) and end user, when known.
    pub workspace: Option<String>,
    pub key_id: Option<String>,
    pub end_user: Option<String>,
    /// The answer's usage was read but its model has no price in the catalog (so `cost_usd` is
    /// `None` although tokens are set; cost limits count it as `limits.unpriced` says).
    pub unpriced: bool,
    /// Guardrail verdicts (`[{policy, check, stage, fired, action, score, spans, labels,
    /// latency_us}]`), when policies ran.
    pub guardrails: Option<Value>,
    /// A semantic cache hit's cosine similarity between the prompt and the cached one.
    pub cache_similarity: Option<f64>,
    /// What a cache hit's answer cost when it was made: what serving it from the cache saved.
    pub cache_saved_usd: Option<f64>,
    /// The prompt a request used: `{id, version, label?, experiment?, variant?}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<Value>,
    /// The gateway made `request_id` / `trace_id` with `query::record_id`'s layout at the
    /// request's start (rather than taking them from the caller): lookups find them through the
    /// primary key, so they are left out of the id indexes.
    #[serde(skip)]
    pub own_request_id: bool,
    #[serde(skip)]
    pub own_trace_id: bool,
}

/// One try of one target.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub provider: String,
    pub model: String,
    /// Upstream status, when one answered.
    pub status: Option<u16>,
    /// `ok`, or what went wrong: `status 503`, `timed out ...`, `unreachable`, ...
    pub outcome: String,
    pub latency_ms: f64,
    /// Request fields left out because the provider could not take them (its field policy).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<String>,
}

/// A score and metadata attached to a request or a trace.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    pub id: String,
    pub ts_ms: i64,
    pub request_id: Option<String>,
    pub trace_id: Option<String>,
    pub score: Option<f64>,
    pub metadata: Map<String, Value>,
    pub caller: Option<String>,
}
