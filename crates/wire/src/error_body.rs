//! OpenAI's error body shape `{"error":{"message","type","param","code"}}` and normalisation of
//! upstream error bodies into it.

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;

/// The inner object of an OpenAI error body.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OpenAiError {
    pub message: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub param: Option<String>,
    pub code: Option<Value>,
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: &'a OpenAiError,
}

impl OpenAiError {
    pub fn new(message: impl Into<String>, kind: &str, code: Option<&str>) -> Self {
        Self {
            message: message.into(),
            kind: kind.to_owned(),
            param: None,
            code: code.map(|c| Value::String(c.to_owned())),
        }
    }

    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    /// The full JSON body.
    pub fn to_body(&self) -> Bytes {
        // Serialising a struct of strings and JSON values cannot fail.
        Bytes::from(serde_json::to_vec(&Envelope { error: self }).unwrap_or_default())
    }

    /// The body framed as one SSE `data:` event, for errors after a stream has started.
    pub fn to_sse_event(&self) -> Bytes {
        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(&self.to_body());
        out.extend_from_slice(b"\n\n");
        Bytes::from(out)
    }
}

/// OpenAI's error `type` for a status, used when an upstream body does not name one.
pub fn default_type_for_status(status: u16) -> &'static str {
    match status {
        400 | 404 | 405 | 409 | 413 | 415 | 422 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        429 => "rate_limit_error",
        503 | 529 => "overloaded_error",
        _ if status >= 500 => "api_error",
        _ => "invalid_request_error",
    }
}

/// Rewrites an upstream error body into OpenAI's shape, keeping what it says.
///
/// Bodies already in the shape keep every field and gain any of the four that are missing;
/// other JSON bodies (`{"message":..}`, `{"detail":..}`, `{"error":"text"}`) and plain text
/// become the message.
pub fn normalize_upstream_error(status: u16, body: &[u8]) -> Bytes {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    if let Some(Value::Object(mut top)) = parsed {
        if let Some(Value::Object(inner)) = top.get_mut("error") {
            let has_message = inner.get("message").is_some_and(Value::is_string);
            if !has_message {
                let text = inner
                    .get("message")
                    .map(Value::to_string)
                    .unwrap_or_else(|| format!("upstream returned status {status}"));
                inner.insert("message".into(), Value::String(text));
            }
            if !inner.get("type").is_some_and(Value::is_string) {
                inner.insert(
                    "type".into(),
                    Value::String(default_type_for_status(status).into()),
                );
            }
            inner.entry("param").or_insert(Value::Null);
            inner.entry("code").or_insert(Value::Null);
            return Bytes::from(serde_json::to_vec(&top).unwrap_or_default());
        }
        let message = ["error", "message", "detail", "error_message", "msg"]
            .iter()
            .find_map(|k| top.get(*k).map(text_of))
            .unwrap_or_else(|| Value::Object(top.clone()).to_string());
        return OpenAiError::new(message, default_type_for_status(status), None).to_body();
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let message = if text.is_empty() {
        format!("upstream returned status {status} with an empty body")
    } else {
        text.chars().take(2000).collect()
    };
    OpenAiError::new(message, default_type_for_status(status), None).to_body()
}

/// Anthropic's error `type` for a status (its documented HTTP error table).
pub fn anthropic_type_for_status(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        // An unavailable upstream (Gemini's and Bedrock's "model overloaded" is a 503) is what
        // Anthropic calls overloaded; its clients back off from both the same way.
        503 | 529 => "overloaded_error",
        s if s >= 500 => "api_error",
        _ => "invalid_request_error",
    }
}

/// Anthropic's error body `{"type":"error","error":{"type","message"}}`.
pub fn anthropic_body(kind: &str, message: &str) -> Bytes {
    let v = serde_json::json!({"type": "error", "error": {"type": kind, "message": message}});
    Bytes::from(v.to_string())
}

/// Anthropic's mid-stream `error` event.
pub fn anthropic_sse_event(kind: &str, message: &str) -> Bytes {
    let mut out = b"event: error\ndata: ".to_vec();
    out.extend_from_slice(&anthropic_body(kind, message));
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

/// Rewrites an upstream error body into Anthropic's shape; one already in it is kept as is.
pub fn normalize_upstream_error_anthropic(status: u16, body: &[u8]) -> Bytes {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        let shaped = v.get("type").and_then(Value::as_str) == Some("error")
            && v.pointer("/error/type").is_some_and(Value::is_string)
            && v.pointer("/error/message").is_some_and(Value::is_string);
        if shaped {
            return Bytes::copy_from_slice(body);
        }
    }
    let openai: Value =
        serde_json::from_slice(&normalize_upstream_error(status, body)).unwrap_or_default();
    let message = openai
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("upstream error");
    anthropic_body(anthropic_type_for_status(status), message)
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(b: &Bytes) -> Value {
        serde_json::from_slice(b).unwrap()
    }

    #[test]
    fn openai_shaped_body_keeps_fields_and_fills_missing() {
        let b = normalize_upstream_error(
            429,
            br#"{"error":{"message":"slow down","code":"rate_limit_exceeded","extra":1}}"#,
        );
        let v = parse(&b);
        assert_eq!(v["error"]["message"], "slow down");
        assert_eq!(v["error"]["type"], "rate_limit_error");
        assert_eq!(v["error"]["code"], "rate_limit_exceeded");
        assert_eq!(v["error"]["extra"], 1);
        assert!(v["error"]["param"].is_null());
    }

    #[test]
    fn detail_body_becomes_message() {
        let v = parse(&normalize_upstream_error(500, br#"{"detail":"boom"}"#));
        assert_eq!(v["error"]["message"], "boom");
        assert_eq!(v["error"]["type"], "api_error");
    }

    #[test]
    fn string_error_becomes_message() {
        let v = parse(&normalize_upstream_error(503, br#"{"error":"overloaded"}"#));
        assert_eq!(v["error"]["message"], "overloaded");
        assert_eq!(v["error"]["type"], "overloaded_error");
    }

    #[test]
    fn plain_text_and_empty_bodies() {
        let v = parse(&normalize_upstream_error(502, b"Bad Gateway\n"));
        assert_eq!(v["error"]["message"], "Bad Gateway");
        let v = parse(&normalize_upstream_error(404, b""));
        assert_eq!(
            v["error"]["message"],
            "upstream returned status 404 with an empty body"
        );
        assert_eq!(v["error"]["type"], "invalid_request_error");
    }

    #[test]
    fn anthropic_shapes() {
        let kept =
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert_eq!(
            &normalize_upstream_error_anthropic(529, kept)[..],
            &kept[..]
        );
        let v = parse(&normalize_upstream_error_anthropic(
            429,
            br#"{"error":{"message":"slow"}}"#,
        ));
        assert_eq!(
            v,
            serde_json::json!({"type":"error","error":{"type":"rate_limit_error","message":"slow"}})
        );
        let ev = String::from_utf8(anthropic_sse_event("api_error", "cut").to_vec()).unwrap();
        assert_eq!(ev, "event: error\ndata: {\"error\":{\"message\":\"cut\",\"type\":\"api_error\"},\"type\":\"error\"}\n\n");
    }

    #[test]
    fn sse_event_framing() {
        let e = OpenAiError::new("cut", "api_error", Some("upstream_stream_broken"));
        let s = String::from_utf8(e.to_sse_event().to_vec()).unwrap();
        assert!(s.starts_with("data: {\"error\":{\"message\":\"cut\""));
        assert!(s.ends_with("}\n\n"));
    }
}

/// Seconds to wait, from an error body that says so in Google's `RetryInfo` detail
/// (`{"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"31s"}]}}`),
/// as Gemini and Vertex send it with a 429 instead of a Retry-After header.
pub fn retry_after_from_body(body: &[u8]) -> Option<u64> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let details = v.pointer("/error/details")?.as_array()?;
    details.iter().find_map(|d| {
        let kind = d.get("@type")?.as_str()?;
        if !kind.ends_with("google.rpc.RetryInfo") {
            return None;
        }
        let delay = d.get("retryDelay")?.as_str()?.strip_suffix('s')?;
        let secs: f64 = delay.parse().ok()?;
        (secs.is_finite() && secs >= 0.0).then(|| secs.ceil() as u64)
    })
}

#[cfg(test)]
mod retry_info_tests {
    use super::retry_after_from_body;

    #[test]
    fn google_retry_info_becomes_seconds() {
        let body = br#"{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure"},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"31.2s"}]}}"#;
        assert_eq!(retry_after_from_body(body), Some(32));
        assert_eq!(retry_after_from_body(br#"{"error":{"message":"x"}}"#), None);
        assert_eq!(retry_after_from_body(b"not json"), None);
    }
}
