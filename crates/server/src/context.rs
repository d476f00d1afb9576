//! The per-request context: everything a request's stages read and write, in one typed struct.

use crate::ids::TraceContext;
use http::HeaderValue;
use std::time::Instant;
use switchyard_providers::Operation;

/// Carried through the pipeline's stages.
#[derive(Debug)]
pub struct RequestCtx {
    pub request_id: HeaderValue,
    pub trace: TraceContext,
    pub op: Operation,
    pub started: Instant,
    /// Name of the client key that authenticated, when keys are configured.
    pub caller: Option<String>,
    /// Who is calling (workspace, key, allowed models), when keys are configured.
    pub principal: Option<std::sync::Arc<switchyard_tenants::Principal>>,
    /// The caller's own user (header, `user`, `metadata.user_id`), when it names one.
    pub end_user: Option<String>,
    /// The model the caller asked for.
    pub requested_model: Option<String>,
    /// Index of the provider chosen by routing.
    pub provider: Option<usize>,
    /// Stages run so far, in order; tests assert the sequence matches the documented one.
    pub stages: Vec<&'static str>,
    /// Every attempt made, in order.
    pub attempts: Vec<AttemptLog>,
    /// The route that ran: its name, or the route header's.
    pub route: Option<String>,
    /// Time spent waiting between retries.
    pub backoff: std::time::Duration,
    /// The request body, kept for the record when bodies are logged.
    pub body: Option<bytes::Bytes>,
    /// Whether the caller asked for a stream.
    pub stream: bool,
    /// This request's span id (the parent of its attempts' spans).
    pub span_id: u64,
    /// The caller's `x-switchyard-metadata` object.
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// The gateway made `request_id` (`ids::time_ordered`) rather than taking the caller's.
    pub own_request_id: bool,
    /// The limits' reservation, settled when the request ends.
    pub admitted: Option<switchyard_limits::gate::Admitted>,
    /// OpenAI's `x-ratelimit-*` headers for the answer.
    pub limit_headers: Vec<(http::HeaderName, http::HeaderValue)>,
    /// The guardrail policies that apply, their verdicts, and reversible redactions' tokens.
    pub guarded: switchyard_guardrails::Guarded,
    /// The cache's part in the answer (`hit`, `semantic-hit`, `miss`, `bypass`), for its header
    /// and record.
    pub cache: Option<&'static str>,
    /// What a hit served, for the record.
    pub cache_hit: Option<CacheHit>,
    /// The exact key of the request's cache entry (for `x-switchyard-cache-key`).
    pub cache_key: Option<switchyard_cache::Key>,
    /// The prompt the request used (`prompts` stage): for the answer's header and the record.
    pub prompt: Option<PromptUse>,
    /// An experiment on the route the request named, and the variant it got.
    pub route_experiment: Option<(String, String)>,
}

/// The prompt version a request used.
#[derive(Debug, Clone)]
pub struct PromptUse {
    pub id: String,
    pub version: u32,
    /// The label that chose the version, when one did.
    pub label: Option<String>,
    /// The experiment on that label and the variant this request got.
    pub experiment: Option<(String, String)>,
}

impl PromptUse {
    /// As the request record keeps it.
    pub fn record(&self) -> serde_json::Value {
        let mut v = serde_json::json!({"id": self.id, "version": self.version});
        if let Some(l) = &self.label {
            v["label"] = serde_json::Value::String(l.clone());
        }
        if let Some((e, variant)) = &self.experiment {
            v["experiment"] = serde_json::Value::String(e.clone());
            v["variant"] = serde_json::Value::String(variant.clone());
        }
        v
    }
}

/// The answer a cache hit served: who made it, what it cost then, how close its prompt was.
#[derive(Debug, Clone)]
pub struct CacheHit {
    pub provider: String,
    pub model: String,
    /// What the answer cost when it was made (billionths of a dollar): what the hit saved.
    pub saved_nanos: u64,
    /// A semantic hit's cosine similarity.
    pub similarity: Option<f64>,
}

/// One attempt, as the record needs it.
#[derive(Debug)]
pub struct AttemptLog {
    /// Index into the providers.
    pub provider: usize,
    pub model: String,
    pub started: Instant,
    /// When the attempt returned: headers relayed, or failed.
    pub ended: Instant,
    pub status: Option<u16>,
    /// `ok`, or a short account of the failure.
    pub outcome: String,
    pub meter: std::sync::Arc<crate::observe::meter::Meter>,
    /// The attempt's span id, sent to the provider as the `traceparent` parent.
    pub span_id: u64,
    /// Request fields left out because the provider could not take them.
    pub dropped: Vec<String>,
}

impl RequestCtx {
    pub fn new(request_id: HeaderValue, trace: TraceContext, op: Operation) -> Self {
        Self {
            request_id,
            trace,
            op,
            started: Instant::now(),
            caller: None,
            principal: None,
            end_user: None,
            requested_model: None,
            provider: None,
            stages: Vec::with_capacity(8),
            attempts: Vec::new(),
            route: None,
            backoff: std::time::Duration::ZERO,
            body: None,
            stream: false,
            span_id: fastrand::u64(1..),
            metadata: serde_json::Map::new(),
            own_request_id: false,
            admitted: None,
            limit_headers: Vec::new(),
            guarded: Default::default(),
            cache: None,
            cache_hit: None,
            cache_key: None,
            prompt: None,
            route_experiment: None,
        }
    }

    /// A context that holds nothing yet (allocates nothing), to stand in for one moved out.
    pub fn placeholder(op: Operation) -> Self {
        Self {
            request_id: HeaderValue::from_static(""),
            trace: TraceContext {
                trace_id: 0,
                parent_id: None,
                flags: 0,
            },
            op,
            started: Instant::now(),
            caller: None,
            principal: None,
            end_user: None,
            requested_model: None,
            provider: None,
            stages: Vec::new(),
            attempts: Vec::new(),
            route: None,
            backoff: std::time::Duration::ZERO,
            body: None,
            stream: false,
            span_id: 0,
            metadata: serde_json::Map::new(),
            own_request_id: false,
            admitted: None,
            limit_headers: Vec::new(),
            guarded: Default::default(),
            cache: None,
            cache_hit: None,
            cache_key: None,
            prompt: None,
            route_experiment: None,
        }
    }

    /// Notes that a stage ran.
    pub fn enter(&mut self, stage: &'static str) {
        self.stages.push(stage);
    }
}
