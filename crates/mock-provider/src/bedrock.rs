//! Amazon Bedrock's runtime API as its reference documents it: Converse
//! (`POST /model/{modelId}/converse`), ConverseStream (`/converse-stream`, answered in AWS's
//! binary event stream) and InvokeModel for Titan and Cohere embedding models (`/invoke`).
//!
//! Requests must be SigV4-signed with the configured keys (the signature is recomputed here,
//! independently of the gateway's signing library) or carry the configured Bedrock API key as
//! Bearer. Like the service, it refuses unknown fields and tool blocks without a `toolConfig`.

use crate::embeddings::vector;
use crate::faults::Fault;
use crate::messages_check::signature_of;
use crate::openai::{error_in, prepare_with, words, Dialect, DEFAULT_TEXT};
use crate::stream::frames_response;
use crate::State;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use ring::{digest, hmac};
use serde_json::{json, Value};
use std::sync::Arc;
use switchyard_wire::eventstream::encode;

const FIELDS: &[&str] = &[
    "messages",
    "system",
    "inferenceConfig",
    "toolConfig",
    "additionalModelRequestFields",
    "guardrailConfig",
    "additionalModelResponseFieldPaths",
    "promptVariables",
    "requestMetadata",
    "performanceConfig",
    "outputConfig",
];
const BLOCKS: &[&str] = &[
    "text",
    "image",
    "document",
    "toolUse",
    "toolResult",
    "cachePoint",
    "reasoningContent",
    "guardContent",
    "video",
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SigV4's URI encoding: everything but unreserved characters, `/` kept for paths.
fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Recomputes the request's SigV4 signature from the secret; `Err` says why it does not match.
fn verify_sigv4(
    headers: &HeaderMap,
    uri: &Uri,
    body: &[u8],
    access_key: &str,
    secret: &str,
) -> Result<(), String> {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or("missing Authorization")?;
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or("not an AWS4-HMAC-SHA256 signature")?;
    let mut credential = "";
    let mut signed_headers = "";
    let mut signature = "";
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = v;
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed_headers = v;
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = v;
        }
    }
    let scope: Vec<&str> = credential.split('/').collect();
    let [key_id, date, region, service, "aws4_request"] = scope.as_slice() else {
        return Err(format!("malformed credential scope {credential}"));
    };
    if *key_id != access_key {
        return Err("The security token included in the request is invalid.".into());
    }
    if *service != "bedrock" {
        return Err(format!("signed for service {service}, not bedrock"));
    }
    let amz_date = headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or("missing x-amz-date")?;
    if !amz_date.starts_with(date) {
        return Err("x-amz-date does not match the credential scope".into());
    }
    let mut canonical_headers = String::new();
    for name in signed_headers.split(';') {
        let value = headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| format!("signed header {name} is missing"))?;
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        canonical_headers.push_str(&format!("{name}:{value}\n"));
    }
    if !signed_headers.split(';').any(|h| h == "host") {
        return Err("host must be signed".into());
    }
    let mut query: Vec<(String, String)> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (uri_encode(k, false), uri_encode(v, false))
        })
        .collect();
    query.sort();
    let query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let payload_hash = hex(digest::digest(&digest::SHA256, body).as_ref());
    // Non-S3 services sign the path encoded once more than it travels.
    let canonical = format!(
        "POST\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{payload_hash}",
        uri_encode(uri.path(), true),
        query.join("&")
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{date}/{region}/{service}/aws4_request\n{}",
        hex(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
    );
    let mut key = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, format!("AWS4{secret}").as_bytes()),
        date.as_bytes(),
    );
    for part in [*region, *service, "aws4_request"] {
        key = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, key.as_ref()),
            part.as_bytes(),
        );
    }
    let expected = hex(hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, key.as_ref()),
        string_to_sign.as_bytes(),
    )
    .as_ref());
    if expected != signature {
        return Err(
            "The request signature we calculated does not match the signature you provided.".into(),
        );
    }
    Ok(())
}

/// Bedrock's error: `{"message"}` with the exception name in `x-amzn-ErrorType`.
pub(crate) fn exception(status: StatusCode, name: &str, message: &str) -> Response {
    let mut r = error_in(Dialect::Bedrock, status, message, "", None);
    if let Ok(v) = name.parse() {
        r.headers_mut().insert("x-amzn-errortype", v);
    }
    r
}

/// The refusal for a request that is neither validly signed nor carries the API key.
pub(crate) fn refusal(
    state: &State,
    headers: &HeaderMap,
    uri: &Uri,
    body: &[u8],
) -> Option<Response> {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer.is_some() && bearer == state.opts.expect_key.as_deref() {
        return None;
    }
    let Some((key, secret)) = &state.opts.aws_credentials else {
        return Some(exception(
            StatusCode::FORBIDDEN,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ));
    };
    verify_sigv4(headers, uri, body, key, secret)
        .err()
        .map(|why| exception(StatusCode::FORBIDDEN, "InvalidSignatureException", &why))
}

fn validate(req: &Value) -> Result<(), String> {
    let obj = req.as_object().ok_or("body must be an object")?;
    for k in obj.keys() {
        if !FIELDS.contains(&k.as_str()) {
            return Err(format!(
                "Malformed input request: extraneous key [{k}] is not permitted"
            ));
        }
    }
    let messages = obj
        .get("messages")
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty())
        .ok_or("A conversation must start with a user message.")?;
    let mut expected = "user";
    let mut uses_tools = false;
    for (i, m) in messages.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        if role != expected {
            return Err(format!(
                "A conversation must alternate between user and assistant roles (messages.{i})"
            ));
        }
        expected = if role == "user" { "assistant" } else { "user" };
        for b in m
            .get("content")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = b
                .as_object()
                .and_then(|o| o.keys().next().cloned())
                .unwrap_or_default();
            if !BLOCKS.contains(&key.as_str()) || b.as_object().is_some_and(|o| o.len() != 1) {
                return Err(format!("messages.{i}: invalid content block {b}"));
            }
            uses_tools |= key == "toolUse" || key == "toolResult";
            if let Some(r) = b.pointer("/reasoningContent/reasoningText") {
                let text = r.get("text").and_then(Value::as_str).unwrap_or("");
                if r.get("signature").and_then(Value::as_str) != Some(&signature_of(text)) {
                    return Err(format!(
                        "messages.{i}: the reasoning block's signature is invalid"
                    ));
                }
            }
        }
    }
    // As Anthropic's models on Bedrock: with thinking on, the last assistant turn that uses
    // tools must open with its reasoning.
    let thinking = req
        .pointer("/additionalModelRequestFields/thinking/type")
        .is_some_and(|t| t == "enabled" || t == "adaptive");
    let last = messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("assistant"))
        .and_then(|m| m.get("content").and_then(Value::as_array));
    if let Some(c) = last.filter(|_| thinking) {
        if c.iter().any(|b| b.get("toolUse").is_some())
            && c.first()
                .is_none_or(|b| b.get("reasoningContent").is_none())
        {
            return Err("Expected `thinking` or `redacted_thinking`, but found `tool_use`. When `thinking` is enabled, a final `assistant` message must start with a thinking block.".into());
        }
    }
    if uses_tools && obj.get("toolConfig").is_none() {
        return Err("The toolConfig field must be defined when using toolUse and toolResult content blocks.".into());
    }
    Ok(())
}

/// The thinking text of the mock's Claude models on Bedrock.
const THOUGHT: &str = "Thinking about the question.";

/// `POST /model/{modelId}/{action}`.
pub(crate) async fn model_action(
    AxState(state): AxState<Arc<State>>,
    Path((model, action)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    if let Some(r) = refusal(&state, &headers, &uri, &body) {
        return r;
    }
    let (req, fault) =
        match prepare_with(Dialect::Bedrock, &state, &headers, &uri, &body, false).await {
            Ok(v) => v,
            Err(r) => return r,
        };
    match action.as_str() {
        "converse" | "converse-stream" => {
            if let Err(m) = validate(&req) {
                return exception(StatusCode::BAD_REQUEST, "ValidationException", &m);
            }
            converse(state, &req, &model, fault, action == "converse-stream")
        }
        "invoke" => invoke(&req, &model),
        other => exception(
            StatusCode::NOT_FOUND,
            "UnknownOperationException",
            &format!("unknown operation {other}"),
        ),
    }
}

fn converse(state: Arc<State>, req: &Value, model: &str, fault: Fault, stream: bool) -> Response {
    let text = fault.content.clone().unwrap_or_else(|| DEFAULT_TEXT.into());
    let last_has_result = req
        .pointer("/messages")
        .and_then(Value::as_array)
        .and_then(|m| m.last())
        .is_some_and(|m| m.to_string().contains("\"toolResult\""));
    let tool = req
        .pointer("/toolConfig/tools")
        .and_then(Value::as_array)
        .and_then(|t| t.iter().find_map(|t| t.pointer("/toolSpec/name")))
        .and_then(Value::as_str)
        .filter(|_| !last_has_result)
        .map(str::to_owned);
    let args = fault
        .tool_arguments
        .clone()
        .unwrap_or_else(|| "{\"city\": \"Paris\", \"unit\": \"celsius\"}".into());
    let thinking = matches!(
        req.pointer("/additionalModelRequestFields/thinking/type")
            .and_then(Value::as_str),
        Some("enabled" | "adaptive")
    );
    let input = req
        .get("messages")
        .map_or(1, |m| m.to_string().len().div_ceil(4));
    let output = text.split(' ').count();
    let usage = fault.usage_over(
        json!({"inputTokens": input, "outputTokens": output, "totalTokens": input + output}),
    );
    let stop = if tool.is_some() {
        "tool_use"
    } else {
        "end_turn"
    };
    let _ = model;
    let calls = fault.calls(tool.clone(), &args);
    if !stream {
        let mut content = Vec::new();
        if thinking {
            content.push(
                json!({"reasoningContent": {"reasoningText": {"text": THOUGHT,
                "signature": signature_of(THOUGHT)}}}),
            );
        }
        if calls.is_empty() {
            content.push(json!({ "text": text }));
        }
        for (k, (name, a)) in calls.iter().enumerate() {
            content.push(
                json!({"toolUse": {"toolUseId": format!("tooluse_mock{}", k + 1), "name": name,
                "input": serde_json::from_str::<Value>(a).unwrap_or(json!({}))}}),
            );
        }
        return axum::Json(
            json!({"output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop, "usage": usage, "metrics": {"latencyMs": 1}}),
        )
        .into_response();
    }
    let ev = |name: &str, payload: Value| -> Bytes {
        Bytes::from(encode(
            &[
                (":event-type", name),
                (":content-type", "application/json"),
                (":message-type", "event"),
            ],
            payload.to_string().as_bytes(),
        ))
    };
    let mut frames = vec![ev("messageStart", json!({"role": "assistant"}))];
    let mut index = 0;
    if thinking {
        frames.push(ev(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0,
            "delta": {"reasoningContent": {"text": THOUGHT}}}),
        ));
        frames.push(ev(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0,
            "delta": {"reasoningContent": {"signature": signature_of(THOUGHT)}}}),
        ));
        frames.push(ev("contentBlockStop", json!({"contentBlockIndex": 0})));
        index = 1;
    }
    match &tool {
        Some(_) => {
            for (k, (name, a)) in calls.iter().enumerate() {
                if k > 0 {
                    frames.push(ev("contentBlockStop", json!({"contentBlockIndex": index})));
                    index += 1;
                }
                frames.push(ev(
                    "contentBlockStart",
                    json!({"contentBlockIndex": index,
                    "start": {"toolUse": {"toolUseId": format!("tooluse_mock{}", k + 1), "name": name}}}),
                ));
                for piece in words(a, fault.chunks) {
                    frames.push(ev(
                        "contentBlockDelta",
                        json!({"contentBlockIndex": index,
                        "delta": {"toolUse": {"input": piece}}}),
                    ));
                }
            }
        }
        None => {
            for piece in words(&text, fault.chunks) {
                frames.push(ev(
                    "contentBlockDelta",
                    json!({"contentBlockIndex": index,
                    "delta": {"text": piece}}),
                ));
            }
        }
    }
    frames.push(ev("contentBlockStop", json!({"contentBlockIndex": index})));
    frames.push(ev("messageStop", json!({"stopReason": stop})));
    frames.push(ev(
        "metadata",
        json!({"usage": usage, "metrics": {"latencyMs": 1}}),
    ));
    frames_response(state, frames, fault, "application/vnd.amazon.eventstream")
}

fn invoke(req: &Value, model: &str) -> Response {
    if let Some(text) = req.get("inputText").and_then(Value::as_str) {
        let dims = req.get("dimensions").and_then(Value::as_u64).unwrap_or(8) as usize;
        return axum::Json(json!({"embedding": vector(text, dims),
            "inputTextTokenCount": text.split(' ').count()}))
        .into_response();
    }
    if let Some(texts) = req.get("texts").and_then(Value::as_array) {
        if req.get("input_type").is_none() {
            return exception(
                StatusCode::BAD_REQUEST,
                "ValidationException",
                "input_type is required",
            );
        }
        let vectors: Vec<Vec<f32>> = texts
            .iter()
            .map(|t| vector(t.as_str().unwrap_or(""), 8))
            .collect();
        return axum::Json(
            json!({"id": "mock", "texts": texts, "response_type": "embeddings_by_type",
            "embeddings": {"float": vectors}}),
        )
        .into_response();
    }
    exception(
        StatusCode::BAD_REQUEST,
        "ValidationException",
        &format!("Malformed input request for {model}"),
    )
}
