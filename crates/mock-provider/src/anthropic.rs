//! Anthropic's Messages API (`POST /v1/messages`), as documented in its API reference and
//! streaming guide: message objects, and the message_start … message_stop event sequence.

use crate::faults::Fault;
use crate::openai::{error_in, prepare_in, words, Dialect, DEFAULT_TEXT};
use crate::script::{self, Seen, Turn};
use crate::stream::sse_frames;
use crate::State;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The thinking text the mock "thinks" when extended thinking is on.
const THOUGHT: &str = "Thinking about the question.";

fn frame(event: &str, data: &Value) -> String {
    format!("event: {event}\ndata: {data}\n\n")
}

pub(crate) async fn messages(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let (req, fault) = match prepare_in(Dialect::Anthropic, &state, &headers, &uri, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if headers.get("anthropic-version").is_none() {
        return error_in(
            Dialect::Anthropic,
            StatusCode::BAD_REQUEST,
            "anthropic-version: header is required",
            "invalid_request_error",
            None,
        );
    }
    let model = req
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("claude-mock")
        .to_owned();
    respond(state, req, fault, model)
}

/// The Message (or its event stream) for a validated request; Vertex's Claude routes share it.
pub(crate) fn respond(state: Arc<State>, req: Value, fault: Fault, model: String) -> Response {
    if let Some(p) = crate::messages_check::problem(&req) {
        return error_in(
            Dialect::Anthropic,
            StatusCode::BAD_REQUEST,
            &p,
            "invalid_request_error",
            None,
        );
    }
    if req.get("max_tokens").and_then(Value::as_u64).is_none() {
        return error_in(
            Dialect::Anthropic,
            StatusCode::BAD_REQUEST,
            "max_tokens: Field required",
            "invalid_request_error",
            None,
        );
    }
    let n = state.ids.fetch_add(1, Ordering::Relaxed);
    let id = format!("msg_mock_{n}");
    // Call ids are unique per answer, as agents match results to calls by them.
    let call_id = format!("toolu_mock_{n}");
    let mut text = fault.content.clone().unwrap_or_else(|| DEFAULT_TEXT.into());
    let wants_tool = req.pointer("/tool_choice/type").and_then(Value::as_str) != Some("none");
    let mut tool = req
        .pointer("/tools/0/name")
        .and_then(Value::as_str)
        .filter(|_| wants_tool)
        .map(str::to_owned);
    let mut args = fault
        .tool_arguments
        .clone()
        .unwrap_or_else(|| "{\"city\": \"Paris\", \"unit\": \"celsius\"}".into());
    match crate::script::play(&state, &seen(&req, wants_tool)) {
        Some(Turn::Call {
            name, arguments, ..
        }) => (tool, args) = (Some(name), arguments),
        Some(Turn::Text(t)) => (tool, text) = (None, t),
        None => {}
    }
    let input_tokens = req
        .get("messages")
        .map_or(1, |m| m.to_string().len().div_ceil(4));
    let output_tokens = text.split(' ').count();
    let stop_reason = if tool.is_some() {
        "tool_use"
    } else {
        "end_turn"
    };
    let usage = fault.usage_over(
        json!({"input_tokens": input_tokens, "output_tokens": output_tokens,
        "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}),
    );
    // Extended or adaptive thinking: a thinking block (with its signature) before the answer;
    // its text left out when the caller asked for `display: omitted`.
    let thinking = matches!(
        req.pointer("/thinking/type").and_then(Value::as_str),
        Some("enabled" | "adaptive")
    );
    let thought = if req.pointer("/thinking/display").and_then(Value::as_str) == Some("omitted") {
        ""
    } else {
        THOUGHT
    };
    let signature = crate::messages_check::signature_of(thought);
    if thinking
        && req
            .pointer("/thinking/budget_tokens")
            .and_then(Value::as_u64)
            >= req.get("max_tokens").and_then(Value::as_u64)
    {
        return error_in(
            Dialect::Anthropic,
            StatusCode::BAD_REQUEST,
            "`max_tokens` must be greater than `thinking.budget_tokens`",
            "invalid_request_error",
            None,
        );
    }
    let first = usize::from(thinking);
    let stream = req.get("stream").and_then(Value::as_bool) == Some(true);
    if !stream && fault.endless {
        return crate::stream::endless_body(state, fault);
    }
    let calls = fault.calls(tool.clone(), &args);
    let use_id = |k: usize| match k {
        0 => call_id.clone(),
        k => format!("{call_id}_{k}"),
    };
    if !stream {
        let mut content = if calls.is_empty() {
            json!([{"type": "text", "text": text}])
        } else {
            Value::Array(
                calls
                    .iter()
                    .enumerate()
                    .map(|(k, (name, a))| {
                        json!({"type": "tool_use", "id": use_id(k), "name": name,
                        "input": serde_json::from_str::<Value>(a).unwrap_or(json!({}))})
                    })
                    .collect(),
            )
        };
        if thinking {
            if let Some(list) = content.as_array_mut() {
                list.insert(
                    0,
                    json!({"type": "thinking", "thinking": thought, "signature": signature}),
                );
            }
        }
        return axum::Json(
            json!({"id": id, "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": stop_reason, "stop_sequence": null, "usage": usage}),
        )
        .into_response();
    }
    let mut frames = vec![
        frame(
            "message_start",
            &json!({"type": "message_start", "message": {"id": id, "type": "message",
            "role": "assistant", "model": model, "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": fault.usage_over(json!({"input_tokens": input_tokens, "output_tokens": 1,
                "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}))}}),
        ),
        frame("ping", &json!({"type": "ping"})),
    ];
    if thinking {
        frames.push(frame(
            "content_block_start",
            &json!({"type": "content_block_start", "index": 0,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        ));
        frames.push(frame(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "thinking_delta", "thinking": thought}}),
        ));
        frames.push(frame(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "signature_delta", "signature": signature}}),
        ));
        frames.push(frame(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": 0}),
        ));
    }
    let mut last = first;
    match &tool {
        Some(_) => {
            // Blocks stream one after another: Anthropic does not interleave them.
            for (k, (name, a)) in calls.iter().enumerate() {
                let index = first + k;
                if k > 0 {
                    frames.push(frame(
                        "content_block_stop",
                        &json!({"type": "content_block_stop", "index": index - 1}),
                    ));
                }
                frames.push(frame(
                    "content_block_start",
                    &json!({"type": "content_block_start", "index": index,
                    "content_block": {"type": "tool_use", "id": use_id(k), "name": name, "input": {}}}),
                ));
                for piece in words(a, fault.chunks) {
                    frames.push(frame(
                        "content_block_delta",
                        &json!({"type": "content_block_delta", "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": piece}}),
                    ));
                }
                last = index;
            }
        }
        None => {
            frames.push(frame(
                "content_block_start",
                &json!({"type": "content_block_start", "index": first,
                "content_block": {"type": "text", "text": ""}}),
            ));
            for piece in words(&text, fault.chunks) {
                frames.push(frame(
                    "content_block_delta",
                    &json!({"type": "content_block_delta", "index": first,
                    "delta": {"type": "text_delta", "text": piece}}),
                ));
            }
        }
    }
    frames.push(frame(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": last}),
    ));
    frames.push(frame(
        "message_delta",
        &json!({"type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": null},
        "usage": fault.usage_over(json!({"output_tokens": output_tokens}))}),
    ));
    frames.push(frame("message_stop", &json!({"type": "message_stop"})));
    sse_frames(state, frames, fault)
}

/// What an agent script sees in a Messages request.
fn seen(req: &Value, wants_tool: bool) -> Seen<'_> {
    let messages = req
        .get("messages")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let results = messages.iter().rev().filter_map(|m| {
        m.get("content")?
            .as_array()?
            .iter()
            .rev()
            .find(|b| b.get("type").and_then(Value::as_str) == Some("tool_result"))
    });
    Seen {
        tools: if wants_tool {
            script::offered(req.get("tools"), "input_schema")
        } else {
            Vec::new()
        },
        assistant_turns: messages
            .iter()
            .filter(|m| m.get("role").and_then(Value::as_str) == Some("assistant"))
            .count(),
        last_result: results
            .into_iter()
            .next()
            .map(|b| script::text_of(b.get("content").unwrap_or(&Value::Null))),
    }
}

/// `POST /v1/messages/count_tokens`: a rough count (a token per four bytes of the messages).
pub(crate) async fn count_tokens(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let (req, _fault) = match prepare_in(Dialect::Anthropic, &state, &headers, &uri, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let n = req
        .get("messages")
        .map_or(0, |m| m.to_string().len().div_ceil(4))
        + req
            .get("system")
            .map_or(0, |m| m.to_string().len().div_ceil(4));
    axum::Json(json!({"input_tokens": n})).into_response()
}
