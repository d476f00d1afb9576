//! OpenAI chat completions, legacy completions and model listing, as documented in OpenAI's API
//! reference (chat.completion and chat.completion.chunk objects).

use crate::faults::Fault;
use crate::script::{self, Seen, Turn};
use crate::stream::sse_response;
use crate::{lock, Recorded, State, RECORD_LIMIT};
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

const CREATED: u64 = 1_700_000_000;
pub(crate) const DEFAULT_TEXT: &str = "Hello! This is the mock provider answering.";

pub(crate) fn error(status: StatusCode, message: &str, kind: &str, code: Option<&str>) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    (status, axum::Json(body)).into_response()
}

/// Which API's error shape to answer in.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    OpenAi,
    Anthropic,
    /// Google's `{"error":{"code","message","status"}}`.
    Gemini,
    /// Cohere's `{"message": ...}`.
    Cohere,
    /// Bedrock's `{"message": ...}` (the exception name travels in a header).
    Bedrock,
}

/// Google's canonical status name for an HTTP status.
pub(crate) fn google_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    }
}

/// An error body in the dialect's shape.
pub(crate) fn error_in(
    dialect: Dialect,
    status: StatusCode,
    message: &str,
    kind: &str,
    code: Option<&str>,
) -> Response {
    match dialect {
        Dialect::OpenAi => error(status, message, kind, code),
        Dialect::Anthropic => (
            status,
            axum::Json(json!({"type": "error", "error": {"type": kind, "message": message}})),
        )
            .into_response(),
        Dialect::Gemini => (
            status,
            axum::Json(
                json!({"error": {"code": status.as_u16(), "message": message,
                "status": google_status(status)}}),
            ),
        )
            .into_response(),
        Dialect::Cohere | Dialect::Bedrock => {
            (status, axum::Json(json!({"message": message}))).into_response()
        }
    }
}

/// OpenAI calls a bad key an invalid request; Anthropic an authentication error.
fn auth_kind(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::OpenAi => "invalid_request_error",
        Dialect::Anthropic => "authentication_error",
        Dialect::Gemini => "UNAUTHENTICATED",
        Dialect::Cohere | Dialect::Bedrock => "",
    }
}

/// Records, authenticates, parses and applies the fault's status and latency.
pub(crate) async fn prepare(
    state: &State,
    headers: &HeaderMap,
    uri: &Uri,
    body: &Bytes,
) -> Result<(Value, Fault), Response> {
    prepare_in(Dialect::OpenAi, state, headers, uri, body).await
}

pub(crate) async fn prepare_in(
    dialect: Dialect,
    state: &State,
    headers: &HeaderMap,
    uri: &Uri,
    body: &Bytes,
) -> Result<(Value, Fault), Response> {
    prepare_with(dialect, state, headers, uri, body, true).await
}

/// As `prepare_in`; `check_key: false` leaves authentication to the caller (Vertex's routes
/// check OAuth access tokens instead of a key).
pub(crate) async fn prepare_with(
    dialect: Dialect,
    state: &State,
    headers: &HeaderMap,
    uri: &Uri,
    body: &Bytes,
    check_key: bool,
) -> Result<(Value, Fault), Response> {
    state.stats.requests.fetch_add(1, Ordering::Relaxed);
    if state.opts.record {
        let mut rec = lock(&state.recorded);
        if rec.len() == RECORD_LIMIT {
            rec.pop_front();
        }
        rec.push_back(Recorded {
            method: "POST".into(),
            target: uri.to_string(),
            path: uri.path().to_owned(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                .collect(),
            body: String::from_utf8_lossy(body).into_owned(),
        });
    }
    let key = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| headers.get("api-key").and_then(|v| v.to_str().ok()))
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
        .or_else(|| headers.get("x-goog-api-key").and_then(|v| v.to_str().ok()));
    match (&state.opts.expect_key, key) {
        _ if !check_key => {}
        (_, None) => {
            return Err(error_in(
                dialect,
                StatusCode::UNAUTHORIZED,
                "You didn't provide an API key.",
                auth_kind(dialect),
                None,
            ))
        }
        (Some(want), Some(got)) if want != got => {
            return Err(error_in(
                dialect,
                StatusCode::UNAUTHORIZED,
                "Incorrect API key provided.",
                auth_kind(dialect),
                Some("invalid_api_key"),
            ))
        }
        _ => {}
    }
    let req: Value = serde_json::from_slice(body).map_err(|e| {
        error_in(
            dialect,
            StatusCode::BAD_REQUEST,
            &format!("We could not parse the JSON body of your request: {e}"),
            "invalid_request_error",
            None,
        )
    })?;
    let queued = lock(&state.faults).pop_front();
    let fault = queued
        .or_else(|| Fault::from_body(&req))
        .or_else(|| state.opts.chaos.and_then(chaos_fault))
        .unwrap_or_default();
    let mut waiting = Waiting { state, done: false };
    if fault.hang {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    if let Some(ms) = fault.latency_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    waiting.done = true;
    if let Some(status) = fault.status {
        return Err(fault_response(dialect, status, &fault));
    }
    Ok((req, fault))
}

/// A random fault drawn from the chaos settings, if one falls to this request.
fn chaos_fault(c: crate::Chaos) -> Option<Fault> {
    let x = fastrand::f64();
    if x < c.error_rate {
        Some(Fault {
            status: Some(c.error_status),
            ..Fault::default()
        })
    } else if x < c.error_rate + c.slow_rate {
        Some(Fault {
            latency_ms: Some(c.slow_ms),
            ..Fault::default()
        })
    } else {
        None
    }
}

/// Counts a request as abandoned when its handler is dropped during the fault's delay, which is
/// what happens when the caller (the gateway) closes the connection.
struct Waiting<'a> {
    state: &'a State,
    done: bool,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.state
                .stats
                .requests_abandoned
                .fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn fault_response(dialect: Dialect, status: u16, fault: &Fault) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = match &fault.body {
        Some(Value::String(text)) => (status, text.clone()).into_response(),
        Some(v) => (status, axum::Json(v.clone())).into_response(),
        None => error_in(
            dialect,
            status,
            &format!("mock fault: status {}", status.as_u16()),
            match (status.as_u16(), dialect) {
                (429, _) => "rate_limit_error",
                (529, Dialect::Anthropic) => "overloaded_error",
                (_, Dialect::Anthropic) => "api_error",
                (_, Dialect::OpenAi) => "server_error",
                (_, Dialect::Gemini | Dialect::Cohere | Dialect::Bedrock) => "",
            },
            None,
        ),
    };
    if let Some(ra) = fault.retry_after.as_deref() {
        if let Ok(v) = ra.parse() {
            resp.headers_mut().insert("retry-after", v);
        }
    }
    resp
}

pub(crate) fn words(text: &str, chunks: Option<usize>) -> Vec<String> {
    let parts: Vec<String> = text.split_inclusive(' ').map(str::to_owned).collect();
    let Some(n) = chunks.filter(|n| *n > 0) else {
        return parts;
    };
    let chars: Vec<char> = text.chars().collect();
    let per = chars.len().div_ceil(n).max(1);
    let mut out: Vec<String> = chars.chunks(per).map(|c| c.iter().collect()).collect();
    while out.len() < n {
        out.push(String::new());
    }
    out
}

fn usage(req: &Value, completion: usize) -> Value {
    let prompt = req
        .get("messages")
        .or(req.get("prompt"))
        .map_or(1, |m| m.to_string().len().div_ceil(4));
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion})
}

pub(crate) fn tool_name(req: &Value) -> Option<String> {
    if req.get("tool_choice").and_then(Value::as_str) == Some("none") {
        return None;
    }
    req.get("tools")?
        .as_array()?
        .first()?
        .pointer("/function/name")?
        .as_str()
        .map(str::to_owned)
}

/// What an agent script sees in a chat request.
fn seen(req: &Value) -> Seen<'_> {
    let messages = req
        .get("messages")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let role = |m: &Value, r: &str| m.get("role").and_then(Value::as_str) == Some(r);
    Seen {
        tools: if req.get("tool_choice").and_then(Value::as_str) == Some("none") {
            Vec::new()
        } else {
            script::offered(req.get("tools"), "parameters")
        },
        assistant_turns: messages.iter().filter(|m| role(m, "assistant")).count(),
        last_result: messages
            .iter()
            .rev()
            .find(|m| role(m, "tool"))
            .map(|m| script::text_of(m.get("content").unwrap_or(&Value::Null))),
    }
}

fn text_for(req: &Value, fault: &Fault) -> String {
    if let Some(c) = &fault.content {
        return c.clone();
    }
    let fmt = req.pointer("/response_format/type").and_then(Value::as_str);
    if matches!(fmt, Some("json_object" | "json_schema")) {
        return "{\"answer\": \"mock\"}".into();
    }
    DEFAULT_TEXT.into()
}

fn logprobs_for(text: &str) -> Value {
    let content: Vec<Value> = text
        .split_inclusive(' ')
        .map(|t| json!({"token": t, "logprob": -0.25, "bytes": t.as_bytes(), "top_logprobs": []}))
        .collect();
    json!({"content": content, "refusal": null})
}

pub(crate) async fn chat(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let (req, fault) = match prepare(&state, &headers, &uri, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some(p) = crate::chat_check::problem(&req) {
        return error(StatusCode::BAD_REQUEST, &p, "invalid_request_error", None);
    }
    let close = fault.close_connection;
    let mut resp = chat_reply(&state, req, fault);
    if close {
        resp.headers_mut()
            .insert("connection", axum::http::HeaderValue::from_static("close"));
    }
    resp
}

fn chat_reply(state: &Arc<State>, req: Value, fault: Fault) -> Response {
    let seq = state.ids.fetch_add(1, Ordering::Relaxed);
    let id = format!("chatcmpl-mock-{seq}");
    let model = req
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("mock")
        .to_owned();
    let n = req.get("n").and_then(Value::as_u64).unwrap_or(1).max(1) as usize;
    let mut text = text_for(&req, &fault);
    let mut tool = tool_name(&req);
    let mut args = fault
        .tool_arguments
        .clone()
        .unwrap_or_else(|| "{\"city\": \"Paris\", \"unit\": \"celsius\"}".into());
    match crate::script::play(state, &seen(&req)) {
        Some(Turn::Call {
            name, arguments, ..
        }) => (tool, args) = (Some(name), arguments),
        Some(Turn::Text(t)) => (tool, text) = (None, t),
        None => {}
    }
    let want_logprobs = req.get("logprobs").and_then(Value::as_bool) == Some(true);
    let stream = req.get("stream").and_then(Value::as_bool) == Some(true);
    let completion_tokens = text.split(' ').count();
    if !stream && fault.endless {
        return crate::stream::endless_body(state.clone(), fault);
    }
    let calls = fault.calls(tool.clone(), &args);
    let call_id = |i: usize, k: usize| match k {
        0 => format!("call_mock_{seq}_{i}"),
        k => format!("call_mock_{seq}_{i}_{k}"),
    };
    if !stream {
        let choices: Vec<Value> = (0..n)
            .map(|i| {
                let message = if calls.is_empty() {
                    json!({"role": "assistant", "content": text, "refusal": null})
                } else {
                    let list: Vec<Value> = calls.iter().enumerate().map(|(k, (name, a))| {
                        json!({"id": call_id(i, k), "type": "function",
                            "function": {"name": name, "arguments": a}})
                    }).collect();
                    json!({"role": "assistant", "content": null, "refusal": null, "tool_calls": list})
                };
                json!({"index": i, "message": message,
                    "logprobs": if want_logprobs { logprobs_for(&text) } else { Value::Null },
                    "finish_reason": if tool.is_some() { "tool_calls" } else { "stop" }})
            })
            .collect();
        let body = json!({"id": id, "object": "chat.completion", "created": CREATED, "model": model,
            "choices": choices, "usage": fault.usage_over(usage(&req, completion_tokens)),
            "system_fingerprint": "fp_mock"});
        return axum::Json(body).into_response();
    }
    // With include_usage, OpenAI adds `"usage":null` to every chunk before the usage chunk.
    let null_usage = req
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        == Some(true);
    let chunk = |delta: Value, finish: Value, index: usize| {
        let mut c = json!({"id": id, "object": "chat.completion.chunk", "created": CREATED, "model": model,
            "system_fingerprint": "fp_mock",
            "choices": [{"index": index, "delta": delta, "logprobs": null, "finish_reason": finish}]});
        if null_usage {
            c["usage"] = Value::Null;
        }
        c.to_string()
    };
    let mut events = Vec::new();
    for i in 0..n {
        events.push(chunk(
            json!({"role": "assistant", "content": ""}),
            Value::Null,
            i,
        ));
        match &tool {
            Some(_) => {
                for (k, (name, _)) in calls.iter().enumerate() {
                    events.push(chunk(
                        json!({"tool_calls": [{"index": k, "id": call_id(i, k), "type": "function",
                            "function": {"name": name, "arguments": ""}}]}),
                        Value::Null,
                        i,
                    ));
                }
                // Parallel calls' argument pieces interleave, one of each in turn.
                let pieces: Vec<Vec<String>> =
                    calls.iter().map(|(_, a)| words(a, fault.chunks)).collect();
                let longest = pieces.iter().map(Vec::len).max().unwrap_or(0);
                for p in 0..longest {
                    for (k, list) in pieces.iter().enumerate() {
                        if let Some(piece) = list.get(p) {
                            events.push(chunk(
                                json!({"tool_calls": [{"index": k, "function": {"arguments": piece}}]}),
                                Value::Null,
                                i,
                            ));
                        }
                    }
                }
                events.push(chunk(json!({}), json!("tool_calls"), i));
            }
            None => {
                for piece in words(&text, fault.chunks) {
                    events.push(chunk(json!({"content": piece}), Value::Null, i));
                }
                events.push(chunk(json!({}), json!("stop"), i));
            }
        }
    }
    if req
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        == Some(true)
    {
        events.push(
            json!({"id": id, "object": "chat.completion.chunk", "created": CREATED, "model": model,
                "choices": [], "usage": fault.usage_over(usage(&req, completion_tokens * n))})
            .to_string(),
        );
    }
    events.push("[DONE]".into());
    sse_response(state.clone(), events, fault)
}

pub(crate) async fn completions(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let (req, fault) = match prepare(&state, &headers, &uri, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let id = format!("cmpl-mock-{}", state.ids.fetch_add(1, Ordering::Relaxed));
    let model = req
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("mock")
        .to_owned();
    let text = fault.content.clone().unwrap_or_else(|| DEFAULT_TEXT.into());
    let tokens = text.split(' ').count();
    if req.get("stream").and_then(Value::as_bool) != Some(true) {
        let body = json!({"id": id, "object": "text_completion", "created": CREATED, "model": model,
            "choices": [{"text": text, "index": 0, "logprobs": null, "finish_reason": "stop"}],
            "usage": usage(&req, tokens)});
        return axum::Json(body).into_response();
    }
    let mut events: Vec<String> = words(&text, fault.chunks)
        .into_iter()
        .map(|piece| {
            json!({"id": id, "object": "text_completion", "created": CREATED, "model": model,
                "choices": [{"text": piece, "index": 0, "logprobs": null, "finish_reason": null}]})
            .to_string()
        })
        .collect();
    events.push(
        json!({"id": id, "object": "text_completion", "created": CREATED, "model": model,
            "choices": [{"text": "", "index": 0, "logprobs": null, "finish_reason": "stop"}]})
        .to_string(),
    );
    events.push("[DONE]".into());
    sse_response(state, events, fault)
}

pub(crate) async fn models() -> Response {
    let data: Vec<Value> = ["gpt-4o-mini", "gpt-4o", "text-embedding-3-small"]
        .iter()
        .map(|m| json!({"id": m, "object": "model", "created": CREATED, "owned_by": "mock"}))
        .collect();
    axum::Json(json!({"object": "list", "data": data})).into_response()
}
