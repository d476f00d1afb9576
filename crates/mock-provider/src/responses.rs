//! OpenAI's Responses API (`POST /v1/responses`, and Azure's `/openai/v1/responses`), as OpenAI's
//! API reference documents the Response object and its stream events: a message with output
//! text, or a call of the first tool offered (`function_call`, or `custom_tool_call` for a
//! freeform tool), usage, and the events `response.created` ... `response.completed`, each with
//! its `event:` line and a `sequence_number`.

use crate::faults::Fault;
use crate::openai::{error, prepare, DEFAULT_TEXT};
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

const CREATED: u64 = 1_700_000_000;

/// The request body's fields in OpenAI's reference; anything else is refused, as the API does.
const FIELDS: &[&str] = &[
    "model",
    "input",
    "instructions",
    "stream",
    "stream_options",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "max_tool_calls",
    "reasoning",
    "text",
    "max_output_tokens",
    "temperature",
    "top_p",
    "top_logprobs",
    "store",
    "metadata",
    "include",
    "truncation",
    "previous_response_id",
    "conversation",
    "prompt",
    "prompt_cache_key",
    "prompt_cache_retention",
    "safety_identifier",
    "service_tier",
    "user",
    "background",
    "client_metadata",
    "mock",
];

/// What the answer is: text, or a call of the first tool offered.
enum Answer {
    Text(String),
    Function { name: String, arguments: String },
    Custom { name: String, input: String },
}

fn answer(state: &State, req: &Value, fault: &Fault) -> Answer {
    match crate::script::play(state, &seen(req)) {
        Some(Turn::Call {
            name,
            arguments,
            custom: true,
        }) => {
            return Answer::Custom {
                name,
                input: arguments,
            }
        }
        Some(Turn::Call {
            name, arguments, ..
        }) => return Answer::Function { name, arguments },
        Some(Turn::Text(t)) => return Answer::Text(t),
        None => {}
    }
    let args = fault
        .tool_arguments
        .clone()
        .unwrap_or_else(|| "{\"city\": \"Paris\", \"unit\": \"celsius\"}".into());
    let tool = req
        .get("tools")
        .and_then(|t| t.get(0))
        .filter(|_| req.get("tool_choice").and_then(Value::as_str) != Some("none"));
    let name = tool
        .and_then(|t| t.get("name"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    match (
        tool.and_then(|t| t.get("type")).and_then(Value::as_str),
        name,
    ) {
        (Some("function"), Some(name)) => Answer::Function {
            name,
            arguments: args,
        },
        (Some("custom"), Some(name)) => {
            // A freeform tool's input is plain text; `{"input": ...}` arguments give it.
            let input = serde_json::from_str::<Value>(&args)
                .ok()
                .and_then(|v| v.get("input").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or(args);
            Answer::Custom { name, input }
        }
        _ => {
            let json_out = matches!(
                req.pointer("/text/format/type").and_then(Value::as_str),
                Some("json_object" | "json_schema")
            );
            Answer::Text(match (&fault.content, json_out) {
                (Some(c), _) => c.clone(),
                (None, true) => "{\"answer\": \"mock\"}".into(),
                (None, false) => DEFAULT_TEXT.into(),
            })
        }
    }
}

/// What an agent script sees in a Responses request: an assistant turn is a run of output
/// items (calls, reasoning, assistant messages) in `input`.
fn seen(req: &Value) -> Seen<'_> {
    let items = req
        .get("input")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    fn kind(i: &Value) -> &str {
        i.get("type").and_then(Value::as_str).unwrap_or("message")
    }
    let is_output = |i: &Value| {
        matches!(kind(i), "function_call" | "custom_tool_call" | "reasoning")
            || i.get("role").and_then(Value::as_str) == Some("assistant")
    };
    let turns = items
        .iter()
        .enumerate()
        .filter(|(n, i)| is_output(i) && (*n == 0 || !is_output(&items[n - 1])))
        .count();
    Seen {
        tools: if req.get("tool_choice").and_then(Value::as_str) == Some("none") {
            Vec::new()
        } else {
            script::offered(req.get("tools"), "parameters")
        },
        assistant_turns: turns,
        last_result: items
            .iter()
            .rev()
            .find(|i| matches!(kind(i), "function_call_output" | "custom_tool_call_output"))
            .map(|i| script::text_of(i.get("output").unwrap_or(&Value::Null))),
    }
}

fn usage(req: &Value, output: usize, fault: &Fault) -> Value {
    let input = req
        .get("input")
        .map_or(1, |m| m.to_string().len().div_ceil(4));
    fault.usage_over(
        json!({"input_tokens": input, "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output, "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input + output}),
    )
}

/// The finished output item for the answer.
fn item(id: &str, a: &Answer) -> Value {
    match a {
        Answer::Text(t) => {
            json!({"type": "message", "id": format!("msg_{id}"), "status": "completed",
            "role": "assistant", "content": [{"type": "output_text", "text": t, "annotations": []}]})
        }
        Answer::Function { name, arguments } => {
            json!({"type": "function_call", "id": format!("fc_{id}"),
            "status": "completed", "call_id": format!("call_{id}"), "name": name, "arguments": arguments})
        }
        Answer::Custom { name, input } => {
            json!({"type": "custom_tool_call", "id": format!("ctc_{id}"),
            "status": "completed", "call_id": format!("call_{id}"), "name": name, "input": input})
        }
    }
}

fn response(req: &Value, id: &str, status: &str, output: Value, usage: Value) -> Value {
    let get = |k: &str| req.get(k).cloned().unwrap_or(Value::Null);
    json!({"id": format!("resp_{id}"), "object": "response", "created_at": CREATED, "status": status,
        "model": get("model"), "output": output, "error": null, "incomplete_details": null,
        "instructions": get("instructions"), "max_output_tokens": get("max_output_tokens"),
        "parallel_tool_calls": req.get("parallel_tool_calls").cloned().unwrap_or(json!(true)),
        "temperature": get("temperature"), "top_p": get("top_p"),
        "tool_choice": req.get("tool_choice").cloned().unwrap_or(json!("auto")),
        "tools": req.get("tools").cloned().unwrap_or(json!([])),
        "store": req.get("store").cloned().unwrap_or(json!(true)), "usage": usage, "metadata": {}})
}

pub(crate) async fn create(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let (req, fault) = match prepare(&state, &headers, &uri, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some(k) = req
        .as_object()
        .and_then(|o| o.keys().find(|k| !FIELDS.contains(&k.as_str())))
    {
        let msg = format!("Unknown parameter: '{k}'.");
        return error(StatusCode::BAD_REQUEST, &msg, "invalid_request_error", None);
    }
    if !matches!(req.get("input"), Some(Value::String(_) | Value::Array(_))) {
        let msg = "Missing required parameter: 'input'.";
        return error(StatusCode::BAD_REQUEST, msg, "invalid_request_error", None);
    }
    let id = format!("mock{}", state.ids.fetch_add(1, Ordering::Relaxed));
    let first = answer(&state, &req, &fault);
    // A parallel call: the same function again, with `second_call`'s arguments.
    let second = match (&first, &fault.second_call) {
        (Answer::Function { name, .. }, Some(arguments)) => Some(Answer::Function {
            name: name.clone(),
            arguments: arguments.clone(),
        }),
        _ => None,
    };
    let answers: Vec<Answer> = std::iter::once(first).chain(second).collect();
    let pieces: Vec<Vec<String>> = answers
        .iter()
        .map(|a| match a {
            Answer::Text(t) => crate::openai::words(t, fault.chunks),
            Answer::Function { arguments, .. } => crate::openai::words(arguments, fault.chunks),
            Answer::Custom { input, .. } => crate::openai::words(input, fault.chunks),
        })
        .collect();
    let output_tokens = pieces.iter().map(Vec::len).sum();
    let items: Vec<Value> = answers
        .iter()
        .enumerate()
        .map(|(k, a)| match k {
            0 => item(&id, a),
            k => item(&format!("{id}_{k}"), a),
        })
        .collect();
    if req.get("stream").and_then(Value::as_bool) != Some(true) {
        let u = usage(&req, output_tokens, &fault);
        return axum::Json(response(&req, &id, "completed", json!(items), u)).into_response();
    }
    let mut seq = 0u64;
    let mut frames = Vec::new();
    let mut emit = |kind: &str, mut data: Value| {
        data["type"] = json!(kind);
        data["sequence_number"] = json!(seq);
        seq += 1;
        frames.push(format!("event: {kind}\ndata: {data}\n\n"));
    };
    let pending = response(&req, &id, "in_progress", json!([]), Value::Null);
    emit("response.created", json!({"response": pending}));
    emit("response.in_progress", json!({"response": pending}));
    for (k, (a, done)) in answers.iter().zip(&items).enumerate() {
        let item_id = done["id"].clone();
        let mut started = done.clone();
        started["status"] = json!("in_progress");
        let at = |extra: Value| {
            let mut v = json!({"item_id": item_id, "output_index": k});
            if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
                o.extend(e);
            }
            v
        };
        match a {
            Answer::Text(t) => {
                started["content"] = json!([]);
                emit(
                    "response.output_item.added",
                    json!({"output_index": k, "item": started}),
                );
                let part = json!({"type": "output_text", "text": "", "annotations": []});
                emit(
                    "response.content_part.added",
                    at(json!({"content_index": 0, "part": part})),
                );
                for p in &pieces[k] {
                    emit(
                        "response.output_text.delta",
                        at(json!({"content_index": 0, "delta": p})),
                    );
                }
                emit(
                    "response.output_text.done",
                    at(json!({"content_index": 0, "text": t})),
                );
                let part = json!({"type": "output_text", "text": t, "annotations": []});
                emit(
                    "response.content_part.done",
                    at(json!({"content_index": 0, "part": part})),
                );
            }
            Answer::Function { arguments, .. } => {
                started["arguments"] = json!("");
                emit(
                    "response.output_item.added",
                    json!({"output_index": k, "item": started}),
                );
                for p in &pieces[k] {
                    emit(
                        "response.function_call_arguments.delta",
                        at(json!({"delta": p})),
                    );
                }
                emit(
                    "response.function_call_arguments.done",
                    at(json!({"arguments": arguments})),
                );
            }
            Answer::Custom { input, .. } => {
                started["input"] = json!("");
                emit(
                    "response.output_item.added",
                    json!({"output_index": k, "item": started}),
                );
                for p in &pieces[k] {
                    emit(
                        "response.custom_tool_call_input.delta",
                        at(json!({"delta": p})),
                    );
                }
                emit(
                    "response.custom_tool_call_input.done",
                    at(json!({"input": input})),
                );
            }
        }
        emit(
            "response.output_item.done",
            json!({"output_index": k, "item": done}),
        );
    }
    let u = usage(&req, output_tokens, &fault);
    let finished = response(&req, &id, "completed", json!(items), u);
    emit("response.completed", json!({"response": finished}));
    sse_frames(state, frames, fault)
}
