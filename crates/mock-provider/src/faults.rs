//! Fault directives: what the mock should do wrong for one request.

use serde::Deserialize;
use serde_json::Value;

/// One request's behaviour. Every field is optional; the default is a fast, correct answer.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Answer with this status and an error body instead.
    pub status: Option<u16>,
    /// Error body to send with `status` (JSON value, or a string sent as plain text).
    pub body: Option<Value>,
    /// Retry-After header value to send with `status`.
    pub retry_after: Option<String>,
    /// Delay before the response headers.
    pub latency_ms: Option<u64>,
    /// Delay before the first stream chunk (after headers).
    pub first_chunk_delay_ms: Option<u64>,
    /// Send an SSE comment (`: keep-alive`) before the first chunk's delay, as providers and
    /// proxies do while a model thinks.
    #[serde(default)]
    pub keepalive: bool,
    /// Delay between stream chunks.
    pub chunk_delay_ms: Option<u64>,
    /// Number of content chunks in a stream (the text is split to fit). Default: one per word.
    pub chunks: Option<usize>,
    /// Write each stream chunk to the socket on its own (the task yields between chunks, so
    /// they are not coalesced into one write), as real providers' token-by-token streams
    /// arrive.
    #[serde(default)]
    pub flush_each: bool,
    /// Close the connection abruptly after this many stream events.
    pub break_after: Option<usize>,
    /// Never answer (until the client gives up).
    #[serde(default)]
    pub hang: bool,
    /// Close the connection after this response (`Connection: close`).
    #[serde(default)]
    pub close_connection: bool,
    /// The assistant's text.
    pub content: Option<String>,
    /// Arguments JSON text for a tool call, when the request offers tools.
    pub tool_arguments: Option<String>,
    /// Arguments JSON text of a second, parallel call of the same tool: the answer makes two
    /// calls (in OpenAI chat streams, their argument deltas interleaved).
    pub second_call: Option<String>,
    /// Fields set over the usage objects the answer reports, in the format's own shape (OpenAI
    /// chat, Responses, Anthropic Messages, Gemini `usageMetadata`, Cohere, Bedrock), e.g. cached
    /// or reasoning token details.
    pub usage: Option<Value>,
    /// The answer never ends: a stream repeats its middle event (a content delta in every
    /// format) forever after reaching it; a whole body (OpenAI chat, Anthropic Messages) is
    /// JSON whitespace without end. `chunk_delay_ms` paces it.
    #[serde(default)]
    pub endless: bool,
    /// SSE streams: after the first event, one `data:` event this many bytes long (a JSON
    /// string, sent in 64 KiB pieces), then the rest of the stream.
    pub oversized_event: Option<usize>,
    /// Streams: after the first event, this many pseudo-random bytes (the same every time).
    pub garbage: Option<usize>,
    /// Streams: after the first event, this text as it is (e.g. an event whose data is not JSON).
    pub inject: Option<String>,
    /// Streams: the last event is cut in half and the body then ends cleanly.
    #[serde(default)]
    pub truncate: bool,
}

impl Fault {
    /// The calls an answer makes of `tool` (None: no call): `(name, arguments)`, one or, with
    /// `second_call`, two.
    pub fn calls(&self, tool: Option<String>, arguments: &str) -> Vec<(String, String)> {
        let Some(name) = tool else {
            return Vec::new();
        };
        let mut out = vec![(name.clone(), arguments.to_owned())];
        if let Some(second) = &self.second_call {
            out.push((name, second.clone()));
        }
        out
    }

    /// `base` usage with this fault's `usage` fields set over it (objects merged one level deep).
    pub fn usage_over(&self, mut base: Value) -> Value {
        if let (Some(Value::Object(extra)), Some(obj)) = (&self.usage, base.as_object_mut()) {
            for (k, v) in extra {
                match (obj.get_mut(k), v) {
                    (Some(Value::Object(have)), Value::Object(more)) => {
                        have.extend(more.clone());
                    }
                    _ => {
                        obj.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        base
    }

    /// Reads a `mock` object from a request body, ignoring bodies without one.
    pub fn from_body(body: &Value) -> Option<Fault> {
        body.get("mock")
            .and_then(|m| serde_json::from_value(m.clone()).ok())
    }
}
