//! Cohere's v2 API as its reference documents it: `POST /v2/chat` (a chat response, or typed SSE
//! events `message-start` … `message-end` when streaming) and `POST /v2/embed`. Like the service
//! it requires `model`, refuses fields it does not know, and wants `input_type` for embeddings.

use crate::embeddings::vector;
use crate::openai::{error_in, prepare_in, words, Dialect, DEFAULT_TEXT};
use crate::stream::sse_frames;
use crate::State;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

const CHAT_FIELDS: &[&str] = &[
    "model",
    "messages",
    "tools",
    "strict_tools",
    "documents",
    "citation_options",
    "response_format",
    "safety_mode",
    "max_tokens",
    "stop_sequences",
    "temperature",
    "seed",
    "frequency_penalty",
    "presence_penalty",
    "k",
    "p",
    "logprobs",
    "tool_choice",
    "thinking",
    "stream",
];

fn bad(message: &str) -> Response {
    error_in(Dialect::Cohere, StatusCode::BAD_REQUEST, message, "", None)
}

fn validate(req: &Value) -> Result<(), String> {
    let obj = req
        .as_object()
        .ok_or("invalid request: body must be an object")?;
    for k in obj.keys() {
        if !CHAT_FIELDS.contains(&k.as_str()) {
            return Err(format!("invalid request: unknown field '{k}'"));
        }
    }
    if !obj.get("model").is_some_and(Value::is_string) {
        return Err("invalid request: model is required".into());
    }
    let messages = obj
        .get("messages")
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty())
        .ok_or("invalid request: messages must not be empty")?;
    for (i, m) in messages.iter().enumerate() {
        match m.get("role").and_then(Value::as_str) {
            Some("system" | "user" | "assistant") => {}
            Some("tool") if m.get("tool_call_id").is_some_and(Value::is_string) => {}
            Some("tool") => {
                return Err(format!(
                    "invalid request: messages[{i}].tool_call_id is required"
                ))
            }
            other => return Err(format!("invalid request: messages[{i}].role {other:?}")),
        }
    }
    if let Some(tc) = obj.get("tool_choice") {
        if tc != "REQUIRED" && tc != "NONE" {
            return Err(format!(
                "invalid request: tool_choice must be REQUIRED or NONE, got {tc}"
            ));
        }
    }
    Ok(())
}

fn frame(event: &str, data: &Value) -> String {
    format!("event: {event}\ndata: {data}\n\n")
}

/// `POST /v2/chat`.
pub(crate) async fn chat(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let (req, fault) = match prepare_in(Dialect::Cohere, &state, &headers, &uri, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Err(m) = validate(&req) {
        return bad(&m);
    }
    let id = format!("mock-cohere-{}", state.ids.fetch_add(1, Ordering::Relaxed));
    let json_mode = req.get("response_format").is_some();
    let text = fault.content.clone().unwrap_or_else(|| {
        if json_mode {
            "{\"answer\": \"mock\"}".into()
        } else {
            DEFAULT_TEXT.into()
        }
    });
    let tool = (req.get("tool_choice") != Some(&json!("NONE")))
        .then(|| {
            req.pointer("/tools/0/function/name")
                .and_then(Value::as_str)
        })
        .flatten()
        .map(str::to_owned);
    let args = fault
        .tool_arguments
        .clone()
        .unwrap_or_else(|| "{\"city\": \"Paris\", \"unit\": \"celsius\"}".into());
    let input = req
        .get("messages")
        .map_or(1, |m| m.to_string().len().div_ceil(4));
    let output = text.split(' ').count();
    let usage = fault.usage_over(
        json!({"billed_units": {"input_tokens": input, "output_tokens": output},
        "tokens": {"input_tokens": input + 10, "output_tokens": output}}),
    );
    let finish = if tool.is_some() {
        "TOOL_CALL"
    } else {
        "COMPLETE"
    };
    let plan = "I will call the tool.";
    let calls = fault.calls(tool.clone(), &args);
    let call_id = |k: usize| format!("get_weather_mock{}", k + 1);
    if req.get("stream").and_then(Value::as_bool) != Some(true) {
        let message = if calls.is_empty() {
            json!({"role": "assistant", "content": [{"type": "text", "text": text}]})
        } else {
            let list: Vec<Value> = calls
                .iter()
                .enumerate()
                .map(|(k, (name, a))| {
                    json!({"id": call_id(k), "type": "function",
                        "function": {"name": name, "arguments": a}})
                })
                .collect();
            json!({"role": "assistant", "tool_plan": plan, "tool_calls": list})
        };
        return axum::Json(
            json!({"id": id, "finish_reason": finish, "message": message,
            "usage": usage}),
        )
        .into_response();
    }
    let mut frames = vec![frame(
        "message-start",
        &json!({"type": "message-start", "id": id, "delta": {"message": {"role": "assistant",
            "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}}),
    )];
    match &tool {
        Some(_) => {
            frames.push(frame(
                "tool-plan-delta",
                &json!({"type": "tool-plan-delta",
                "delta": {"message": {"tool_plan": plan}}}),
            ));
            for (k, (name, a)) in calls.iter().enumerate() {
                frames.push(frame(
                    "tool-call-start",
                    &json!({"type": "tool-call-start", "index": k,
                    "delta": {"message": {"tool_calls": {"id": call_id(k), "type": "function",
                        "function": {"name": name, "arguments": ""}}}}}),
                ));
                for piece in words(a, fault.chunks) {
                    frames.push(frame(
                        "tool-call-delta",
                        &json!({"type": "tool-call-delta", "index": k,
                        "delta": {"message": {"tool_calls": {"function": {"arguments": piece}}}}}),
                    ));
                }
                frames.push(frame(
                    "tool-call-end",
                    &json!({"type": "tool-call-end", "index": k}),
                ));
            }
        }
        None => {
            frames.push(frame(
                "content-start",
                &json!({"type": "content-start", "index": 0,
                "delta": {"message": {"content": {"type": "text", "text": ""}}}}),
            ));
            for piece in words(&text, fault.chunks) {
                frames.push(frame(
                    "content-delta",
                    &json!({"type": "content-delta", "index": 0,
                    "delta": {"message": {"content": {"text": piece}}}}),
                ));
            }
            frames.push(frame(
                "content-end",
                &json!({"type": "content-end", "index": 0}),
            ));
        }
    }
    frames.push(frame(
        "message-end",
        &json!({"type": "message-end", "delta": {"finish_reason": finish, "usage": usage}}),
    ));
    sse_frames(state, frames, fault)
}

/// `POST /v2/embed`.
pub(crate) async fn embed(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let (req, _fault) = match prepare_in(Dialect::Cohere, &state, &headers, &uri, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if req.get("input_type").and_then(Value::as_str).is_none() {
        return bad("invalid request: input_type is required for embed-v3 and newer models");
    }
    let texts: Vec<&str> = req
        .get("texts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if texts.is_empty() {
        return bad("invalid request: texts must not be empty");
    }
    let dims = req
        .get("output_dimension")
        .and_then(Value::as_u64)
        .unwrap_or(8) as usize;
    let vectors: Vec<Vec<f32>> = texts.iter().map(|t| vector(t, dims)).collect();
    let tokens: usize = texts.iter().map(|t| t.split(' ').count()).sum();
    axum::Json(
        json!({"id": "mock-embed", "embeddings": {"float": vectors}, "texts": texts,
        "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": tokens}}}),
    )
    .into_response()
}
