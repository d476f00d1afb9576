//! OpenTelemetry traces over OTLP/HTTP with JSON encoding: a SERVER span per request and a
//! CLIENT span per attempt, with the GenAI semantic conventions' attributes. A caller's
//! `traceparent` is continued, and each attempt's span id is the parent id the provider gets.
//! Spans go through a bounded queue (shedding, counted, when the collector lags) to an exporter
//! task that posts them in batches.

use crate::context::RequestCtx;
use crate::state::AppState;
use crate::upstream::Upstream;
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use switchyard_config::{Origin, OtelSettings, Provider, Timeouts};
use switchyard_providers::{AuthStyle, Operation, ProviderKind};
use switchyard_store::Record;
use tokio::sync::{mpsc, watch};

/// Most spans in one export.
const BATCH: usize = 512;
/// Longest a span waits for its batch to fill.
const LINGER: Duration = Duration::from_millis(500);

pub struct Otel {
    pub settings: OtelSettings,
    tx: mpsc::Sender<Value>,
    rx: Mutex<Option<mpsc::Receiver<Value>>>,
    collector: Upstream,
    /// Path (and query) of the endpoint on the collector.
    path: String,
    /// Spans dropped because the queue was full.
    pub shed: AtomicU64,
    /// Spans the collector accepted.
    pub exported: AtomicU64,
    /// Spans lost to export failures.
    pub failed: AtomicU64,
}

/// `gen_ai.operation.name` for an API.
fn operation_name(op: Operation) -> &'static str {
    match op {
        Operation::ChatCompletions | Operation::Messages | Operation::Responses => "chat",
        Operation::Completions => "text_completion",
        Operation::Embeddings => "embeddings",
        Operation::CountTokens => "count_tokens",
    }
}

/// `gen_ai.provider.name`: the conventions' well-known values where one applies.
fn provider_name(p: &Provider) -> String {
    // The OpenAI-compatible hosts are named by their preset.
    match (p.kind, p.preset) {
        (ProviderKind::OpenAiCompatible, Some("azure")) => "azure.ai.openai".into(),
        (ProviderKind::OpenAiCompatible, Some("mistral")) => "mistral_ai".into(),
        (ProviderKind::OpenAiCompatible, Some("xai")) => "x_ai".into(),
        (ProviderKind::OpenAiCompatible, Some(other)) => other.into(),
        (kind, _) => switchyard_providers::registry::format(kind)
            .otel_name()
            .into(),
    }
}

fn s(key: &str, v: &str) -> Value {
    json!({"key": key, "value": {"stringValue": v}})
}

fn int(key: &str, v: i64) -> Value {
    json!({"key": key, "value": {"intValue": v.to_string()}})
}

fn double(key: &str, v: f64) -> Value {
    json!({"key": key, "value": {"doubleValue": v}})
}

fn nanos(t: SystemTime) -> String {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
        .to_string()
}

/// Longest captured content attribute: a batch of spans must stay far below collectors' request
/// limits (OTLP recommends accepting 20 MiB), or one long prompt would lose the whole batch.
const MAX_CONTENT: usize = 16 * 1024;

/// `text` cut to `MAX_CONTENT` bytes at a character boundary.
fn capped(text: &str) -> &str {
    if text.len() <= MAX_CONTENT {
        return text;
    }
    let mut at = MAX_CONTENT;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    &text[..at]
}

/// `gen_ai.input.messages` in the conventions' shape: role and text parts.
fn input_messages(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let mut out = Vec::new();
    if let Some(system) = v.get("system").and_then(Value::as_str) {
        out.push(json!({"role": "system", "parts": [{"type": "text", "content": system}]}));
    }
    let messages = v
        .get("messages")
        .or_else(|| v.get("input"))
        .and_then(Value::as_array)?;
    for m in messages {
        let parts: Vec<Value> = match m.get("content") {
            Some(Value::String(t)) => vec![json!({"type": "text", "content": t})],
            Some(Value::Array(items)) => items
                .iter()
                .map(|p| match p.get("text").and_then(Value::as_str) {
                    Some(t) => json!({"type": "text", "content": t}),
                    None => json!({"type": p.get("type").cloned().unwrap_or(Value::Null)}),
                })
                .collect(),
            _ => Vec::new(),
        };
        out.push(json!({"role": m.get("role").cloned().unwrap_or(Value::Null), "parts": parts}));
    }
    Some(Value::Array(out).to_string())
}

/// `gen_ai.output.messages` from a whole chat or Messages answer.
fn output_messages(body: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    let out: Vec<Value> = if let Some(choices) = v.get("choices").and_then(Value::as_array) {
        choices
            .iter()
            .map(|c| {
                let text = c.pointer("/message/content").and_then(Value::as_str);
                json!({"role": "assistant",
                    "parts": text.map(|t| vec![json!({"type": "text", "content": t})]).unwrap_or_default(),
                    "finish_reason": c.get("finish_reason").cloned().unwrap_or(Value::Null)})
            })
            .collect()
    } else {
        let blocks = v.get("content").and_then(Value::as_array)?;
        let parts: Vec<Value> = blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .map(|t| json!({"type": "text", "content": t}))
            .collect();
        vec![json!({"role": "assistant", "parts": parts,
            "finish_reason": v.get("stop_reason").cloned().unwrap_or(Value::Null)})]
    };
    Some(Value::Array(out).to_string())
}

impl Otel {
    pub fn new(settings: OtelSettings, tls: &crate::upstream::TlsConfig) -> Result<Self, String> {
        let url = url::Url::parse(&settings.endpoint)
            .map_err(|e| format!("server.otel.endpoint: {e}"))?;
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let cfg = Provider {
            name: "otel-collector".into(),
            kind: ProviderKind::OpenAiCompatible,
            preset: None,
            base_url: url.origin().ascii_serialization(),
            auth: AuthStyle::None,
            api_key: None,
            headers: Vec::new(),
            azure_api_version: None,
            vertex: None,
            bedrock: None,
            extra_ca_pem: None,
            models: Vec::new(),
            models_configured: false,
            model_prefixes: Vec::new(),
            field_policy: switchyard_providers::translate::Policy::Default,
            native_responses: false,
            timeouts: Timeouts {
                connect: Duration::from_secs(5),
                first_byte: Duration::from_secs(10),
                idle: Duration::from_secs(10),
                total: Duration::from_secs(15),
            },
            origin: Origin::File,
        };
        let collector = Upstream::new(&cfg, tls)?;
        let (tx, rx) = mpsc::channel(settings.queue_capacity);
        Ok(Otel {
            settings,
            tx,
            rx: Mutex::new(Some(rx)),
            collector,
            path,
            shed: AtomicU64::new(0),
            exported: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        })
    }

    fn queue(&self, span: Value) {
        if self.tx.try_send(span).is_err() {
            self.shed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Queues the spans of a finished request.
    pub fn export(&self, r: &Record, ctx: &RequestCtx, state: &AppState, response: Option<&str>) {
        let op = operation_name(ctx.op);
        let now_wall = SystemTime::now();
        let now = Instant::now();
        let wall = |t: Instant| now_wall - now.saturating_duration_since(t);
        let trace_id = &r.trace_id;
        let requested = r.requested_model.as_deref().unwrap_or("");
        let mut attrs = vec![
            s("gen_ai.operation.name", op),
            s("gen_ai.request.model", requested),
            int("http.response.status_code", i64::from(r.status)),
            s("switchyard.request_id", &r.request_id),
            s("switchyard.outcome", &r.outcome),
        ];
        let last = ctx.attempts.last();
        if let Some(p) = last.and_then(|a| state.cfg.providers.get(a.provider)) {
            attrs.push(s("gen_ai.provider.name", &provider_name(p)));
        }
        if let Some(m) = &r.model {
            attrs.push(s("gen_ai.response.model", m));
        }
        let usage = [
            ("gen_ai.usage.input_tokens", r.input_tokens),
            ("gen_ai.usage.output_tokens", r.output_tokens),
            ("gen_ai.usage.cache_read.input_tokens", r.cached_tokens),
            (
                "gen_ai.usage.cache_creation.input_tokens",
                r.cache_write_tokens,
            ),
        ];
        for (k, v) in usage {
            if let Some(v) = v {
                attrs.push(int(k, v));
            }
        }
        if let Some(c) = r.cost_usd {
            attrs.push(double("switchyard.cost_usd", c));
        }
        if let Some(c) = &r.caller {
            attrs.push(s("switchyard.caller", c));
        }
        if let Some(route) = &r.route {
            attrs.push(s("switchyard.route", route));
        }
        if let Some(t) = r.ttft_ms {
            attrs.push(double("switchyard.time_to_first_token_ms", t));
        }
        if self.settings.capture_content {
            if let Some(m) = ctx.body.as_deref().and_then(input_messages) {
                attrs.push(s("gen_ai.input.messages", capped(&m)));
            }
            if let Some(m) = response.and_then(output_messages) {
                attrs.push(s("gen_ai.output.messages", capped(&m)));
            }
        }
        let failed = r.status >= 400 || r.outcome != "ok";
        let status = if failed {
            attrs.push(s("error.type", &r.status.to_string()));
            json!({"code": 2, "message": r.error.clone().unwrap_or_else(|| r.outcome.clone())})
        } else {
            json!({"code": 0})
        };
        let mut span = json!({
            "traceId": trace_id,
            "spanId": r.span_id,
            "name": format!("{op} {requested}"),
            "kind": 2,
            "startTimeUnixNano": nanos(wall(ctx.started)),
            "endTimeUnixNano": nanos(now_wall),
            "attributes": attrs,
            "status": status,
        });
        if let Some(p) = &r.parent_span_id {
            span["parentSpanId"] = json!(p);
        }
        self.queue(span);
        let count = ctx.attempts.len();
        for (i, a) in ctx.attempts.iter().enumerate() {
            let Some(p) = state.cfg.providers.get(a.provider) else {
                continue;
            };
            let mut attrs = vec![
                s("gen_ai.operation.name", op),
                s("gen_ai.provider.name", &provider_name(p)),
                s("gen_ai.request.model", &a.model),
                s("switchyard.provider", &p.name),
            ];
            if let Some(u) = state.upstreams.get(a.provider) {
                let (host, port) = u.address();
                attrs.push(s("server.address", host));
                attrs.push(int("server.port", i64::from(port)));
            }
            if let Some(st) = a.status {
                attrs.push(int("http.response.status_code", i64::from(st)));
            }
            let answered = i + 1 == count && a.outcome == "ok";
            if answered {
                for (k, v) in usage {
                    if let Some(v) = v {
                        attrs.push(int(k, v));
                    }
                }
            }
            let status = if a.outcome == "ok" {
                json!({"code": 0})
            } else {
                let kind = a
                    .status
                    .map_or_else(|| "_OTHER".to_owned(), |s| s.to_string());
                attrs.push(s("error.type", &kind));
                json!({"code": 2, "message": a.outcome})
            };
            // The answering attempt lasts until its stream ended.
            let end = if answered {
                a.meter.read().upstream_end.unwrap_or(a.ended).max(a.ended)
            } else {
                a.ended
            };
            self.queue(json!({
                "traceId": trace_id,
                "spanId": crate::ids::hex64(a.span_id),
                "parentSpanId": r.span_id,
                "name": format!("{op} {}", a.model),
                "kind": 3,
                "startTimeUnixNano": nanos(wall(a.started)),
                "endTimeUnixNano": nanos(wall(end)),
                "attributes": attrs,
                "status": status,
            }));
        }
    }

    fn body(&self, spans: Vec<Value>) -> Bytes {
        let doc = json!({"resourceSpans": [{
            "resource": {"attributes": [
                s("service.name", &self.settings.service_name),
                s("service.version", env!("CARGO_PKG_VERSION")),
            ]},
            "scopeSpans": [{
                "scope": {"name": "switchyard", "version": env!("CARGO_PKG_VERSION")},
                "spans": spans,
            }],
        }]});
        Bytes::from(doc.to_string())
    }

    /// Posts one batch; true when the collector took it.
    async fn post(&self, body: Bytes) -> bool {
        for attempt in 0..2 {
            let mut req = http::Request::post(self.path.as_str())
                .header(http::header::CONTENT_TYPE, "application/json");
            for (k, v) in &self.settings.headers {
                req = req.header(k.as_str(), v.as_str());
            }
            let Ok(req) = req.body(body.clone()) else {
                return false;
            };
            let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
            match self.collector.send(req, deadline).await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let _ = crate::upstream::body::read_all(resp.into_body(), 64 * 1024, deadline)
                        .await;
                    if (200..300).contains(&status) {
                        return true;
                    }
                    tracing::warn!(status, "OTLP collector refused a batch of spans");
                    // The protocol allows retrying only these.
                    if attempt > 0 || ![429, 502, 503, 504].contains(&status) {
                        return false;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "OTLP export failed");
                    if attempt > 0 {
                        return false;
                    }
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        false
    }
}

/// Exports queued spans in batches until `closing` is set, then exports what is left.
pub async fn exporter(otel: Option<Arc<Otel>>, closing: watch::Receiver<bool>) {
    let Some(otel) = otel.as_deref() else {
        return;
    };
    let Some(rx) = super::take_receiver(&otel.rx) else {
        return;
    };
    super::drain(rx, BATCH, LINGER, closing, |spans| async move {
        let count = spans.len() as u64;
        if otel.post(otel.body(spans)).await {
            otel.exported.fetch_add(count, Ordering::Relaxed);
        } else {
            otel.failed.fetch_add(count, Ordering::Relaxed);
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_content_is_capped_at_a_character_boundary() {
        let long = "é".repeat(MAX_CONTENT);
        let cut = capped(&long);
        assert!(cut.len() <= MAX_CONTENT && cut.len() > MAX_CONTENT - 2);
        assert!(cut.chars().all(|c| c == 'é'));
        assert_eq!(capped("short"), "short");
    }
}
