//! Round trips against shapes from the Gemini API reference (generateContent, function calling,
//! structured output, thinking and embeddings guides; examples transcribed 2026-11-30) and
//! OpenAI's chat completions reference.

use super::embed;
use super::request::from_openai;
use super::response::to_openai;
use super::schema::to_gemini;
use super::stream::ChunkTranslator;
use super::*;
use serde_json::{json, Value};

#[test]
fn request_with_system_history_images_tools_and_config() {
    let req = json!({
        "model": "gemini/gemini-2.5-flash",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": [
                {"type": "text", "text": "What is in this image, and the weather in Paris?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
            ]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": ""}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\": 18}"},
            {"role": "tool", "tool_call_id": "call_2", "content": "14:00"}
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather by city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                "additionalProperties": false}}},
            {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "parallel_tool_calls": true,
        "stop": "END",
        "temperature": 0.5,
        "top_p": 0.9,
        "max_completion_tokens": 300,
        "n": 1,
        "seed": 7,
        "reasoning_effort": "low",
        "stream": true,
        "stream_options": {"include_usage": true},
        "user": "u-42"
    });
    let out = from_openai(&req, &mut crate::translate::Fields::default()).unwrap();
    assert_eq!(
        out,
        json!({
            "systemInstruction": {"parts": [{"text": "You are terse."}]},
            "contents": [
                {"role": "user", "parts": [
                    {"text": "What is in this image, and the weather in Paris?"},
                    {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
                ]},
                {"role": "model", "parts": [
                    {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
                    {"functionCall": {"name": "get_time", "args": {}}}
                ]},
                {"role": "user", "parts": [
                    {"functionResponse": {"name": "get_weather", "response": {"temp_c": 18}}},
                    {"functionResponse": {"name": "get_time", "response": {"result": "14:00"}}}
                ]}
            ],
            "tools": [{"functionDeclarations": [
                {"name": "get_weather", "description": "Weather by city",
                 "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]}},
                {"name": "get_time"}
            ]}],
            "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}},
            "generationConfig": {
                "stopSequences": ["END"], "temperature": 0.5, "topP": 0.9, "maxOutputTokens": 300,
                "candidateCount": 1, "seed": 7,
                "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": true}
            }
        })
    );
}

#[test]
fn json_modes_and_tool_choice_words() {
    let req = json!({"messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_object"}, "tool_choice": "required"});
    let out = from_openai(&req, &mut crate::translate::Fields::default()).unwrap();
    assert_eq!(
        out["generationConfig"],
        json!({"responseMimeType": "application/json"})
    );
    assert_eq!(
        out["toolConfig"],
        json!({"functionCallingConfig": {"mode": "ANY"}})
    );
    let req = json!({"messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "r", "strict": true,
            "schema": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"],
                "additionalProperties": false}}},
        "tool_choice": "none", "reasoning_effort": "none"});
    let out = from_openai(&req, &mut crate::translate::Fields::default()).unwrap();
    assert_eq!(
        out["generationConfig"],
        json!({"responseMimeType": "application/json",
            "responseSchema": {"type": "OBJECT", "properties": {"n": {"type": "INTEGER"}}, "required": ["n"]},
            "thinkingConfig": {"thinkingBudget": 0, "includeThoughts": false}})
    );
    assert_eq!(out["toolConfig"]["functionCallingConfig"]["mode"], "NONE");
}

#[test]
fn unrepresentable_fields_are_named() {
    let cases = [
        (
            json!({"messages": [], "modalities": ["audio"]}),
            "modalities",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]}),
            "messages[0].content[0]",
        ),
        (
            json!({"messages": [{"role": "tool", "tool_call_id": "nope", "content": "x"}]}),
            "messages[0].tool_call_id",
        ),
        (
            json!({"messages": [], "tools": [{"type": "web_search"}]}),
            "tools[0]",
        ),
        (
            json!({"messages": [], "reasoning_effort": "extreme"}),
            "reasoning_effort",
        ),
    ];
    for (req, param) in cases {
        let e = from_openai(&req, &mut crate::translate::Fields::default()).unwrap_err();
        assert_eq!(e.param.as_deref(), Some(param), "{req}");
    }
}

#[test]
fn schema_dialect() {
    let schema = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": false,
        "$defs": {"Unit": {"type": "string", "enum": ["c", "f"], "description": "unit"}},
        "properties": {
            "city": {"type": "string", "format": "uri", "description": "where"},
            "when": {"type": "string", "format": "date-time"},
            "unit": {"$ref": "#/$defs/Unit"},
            "days": {"type": ["integer", "null"], "minimum": 1},
            "tags": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "null"}]}, "uniqueItems": true},
            "mode": {"const": "fast"},
            "level": {"enum": [1, 2, null]},
            "either": {"oneOf": [{"type": "string"}, {"type": "number"}]},
            "both": {"allOf": [{"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                               {"properties": {"b": {"type": "boolean"}}}]}
        },
        "required": ["city", "ghost"]
    });
    let out = to_gemini(&schema, "p").unwrap();
    assert_eq!(
        out,
        json!({
            "type": "OBJECT",
            "properties": {
                "city": {"type": "STRING", "description": "where (format: uri)"},
                "when": {"type": "STRING", "format": "date-time"},
                "unit": {"type": "STRING", "enum": ["c", "f"], "description": "unit"},
                "days": {"type": "INTEGER", "nullable": true, "minimum": 1},
                "tags": {"type": "ARRAY", "items": {"type": "STRING", "nullable": true}},
                "mode": {"type": "STRING", "enum": ["fast"]},
                "level": {"type": "STRING", "enum": ["1", "2"], "nullable": true},
                "either": {"anyOf": [{"type": "STRING"}, {"type": "NUMBER"}]},
                "both": {"type": "OBJECT", "properties": {"a": {"type": "STRING"}, "b": {"type": "BOOLEAN"}}, "required": ["a"]}
            },
            "required": ["city"]
        })
    );
    let recursive = json!({"$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}},
        "$ref": "#/$defs/Node"});
    assert!(to_gemini(&recursive, "p")
        .unwrap_err()
        .message
        .contains("recursive"));
    let remote = json!({"$ref": "https://example.com/s.json"});
    assert_eq!(
        to_gemini(&remote, "p").unwrap_err().param.as_deref(),
        Some("p")
    );
}

/// The generateContent example from the function-calling guide, with usage as documented.
#[test]
fn response_with_text_thoughts_and_function_calls() {
    let resp = json!({
        "candidates": [{
            "content": {"role": "model", "parts": [
                {"text": "Considering the weather tools.", "thought": true},
                {"text": "Checking."},
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "CiQB+/x="},
                {"functionCall": {"name": "get_time", "args": {}}}
            ]},
            "finishReason": "STOP",
            "index": 0
        }],
        "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 10, "totalTokenCount": 45,
            "thoughtsTokenCount": 15, "cachedContentTokenCount": 4},
        "modelVersion": "gemini-2.5-flash",
        "responseId": "abc"
    });
    let out = to_openai(&resp, 1_700_000_000);
    let sig_id = tool_call_id("call_abc_0", Some("CiQB+/x="));
    assert_eq!(
        out,
        json!({
            "id": "chatcmpl-abc", "object": "chat.completion", "created": 1_700_000_000u64,
            "model": "gemini-2.5-flash",
            "choices": [{"index": 0, "logprobs": null, "finish_reason": "tool_calls",
                "message": {"role": "assistant", "content": "Checking.", "refusal": null,
                    "reasoning_content": "Considering the weather tools.",
                    "tool_calls": [
                        {"id": sig_id, "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                        {"id": "call_abc_1", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}
                    ]}}],
            "usage": {"prompt_tokens": 20, "completion_tokens": 25, "total_tokens": 45,
                "prompt_tokens_details": {"cached_tokens": 4},
                "completion_tokens_details": {"reasoning_tokens": 15}}
        })
    );
    // The signature comes back on the next turn's functionCall part.
    let next = json!({"messages": [
        {"role": "assistant", "tool_calls": [{"id": sig_id, "type": "function",
            "function": {"name": "get_weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": sig_id, "content": "sunny"}]});
    let req = from_openai(&next, &mut crate::translate::Fields::default()).unwrap();
    assert_eq!(
        req["contents"][0]["parts"][0]["thoughtSignature"],
        "CiQB+/x="
    );
}

#[test]
fn finish_reasons_and_blocked_prompts() {
    let one = |reason: &str| {
        let r = json!({"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": reason}]});
        to_openai(&r, 0)["choices"][0]["finish_reason"].clone()
    };
    assert_eq!(one("STOP"), "stop");
    assert_eq!(one("MAX_TOKENS"), "length");
    assert_eq!(one("SAFETY"), "content_filter");
    assert_eq!(one("RECITATION"), "content_filter");
    assert_eq!(one("OTHER"), "stop");
    let blocked = json!({"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 3}});
    let out = to_openai(&blocked, 0);
    assert_eq!(out["choices"][0]["finish_reason"], "content_filter");
    assert_eq!(out["usage"]["prompt_tokens"], 3);
}

fn parse(chunks: &[String]) -> Vec<Value> {
    chunks
        .iter()
        .map(|c| {
            if c == "[DONE]" {
                json!("[DONE]")
            } else {
                serde_json::from_str(c).unwrap()
            }
        })
        .collect()
}

/// A streamed answer as `alt=sse` sends it: text pieces, then the last piece with finishReason.
#[test]
fn stream_text_then_usage_and_done() {
    let mut t = ChunkTranslator::new(5, true);
    let a = t
        .on_data(r#"{"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":9},"modelVersion":"gemini-2.5-flash","responseId":"r1"}"#)
        .unwrap();
    let a = parse(&a);
    assert_eq!(a.len(), 2);
    assert_eq!(
        a[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    assert_eq!(a[1]["choices"][0]["delta"], json!({"content": "Hel"}));
    assert_eq!(a[1]["id"], "chatcmpl-r1");
    assert_eq!(a[1]["model"], "gemini-2.5-flash");
    let b = t
        .on_data(r#"{"candidates":[{"content":{"parts":[{"text":"lo"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":2,"totalTokenCount":11},"responseId":"r1"}"#)
        .unwrap();
    let b = parse(&b);
    assert_eq!(b[0]["choices"][0]["delta"], json!({"content": "lo"}));
    assert_eq!(b[1]["choices"][0]["finish_reason"], "stop");
    let end = parse(&t.end().unwrap());
    assert_eq!(end[0]["choices"], json!([]));
    assert_eq!(end[0]["usage"]["prompt_tokens"], 9);
    assert_eq!(end[0]["usage"]["completion_tokens"], 2);
    assert_eq!(end[1], "[DONE]");
}

#[test]
fn stream_function_calls_errors_and_truncation() {
    let mut t = ChunkTranslator::new(5, false);
    let out = parse(
        &t.on_data(r#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"a","args":{"x":1}}},{"functionCall":{"name":"b","args":{}}}],"role":"model"},"finishReason":"STOP","index":0}],"responseId":"r2"}"#)
            .unwrap(),
    );
    assert_eq!(
        out[1]["choices"][0]["delta"]["tool_calls"][0],
        json!({"index": 0, "id": "call_r2_0", "type": "function", "function": {"name": "a", "arguments": "{\"x\":1}"}})
    );
    assert_eq!(out[2]["choices"][0]["delta"]["tool_calls"][0]["index"], 1);
    assert_eq!(out[3]["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(t.end().unwrap(), vec!["[DONE]".to_owned()]);

    let mut t = ChunkTranslator::new(5, false);
    t.on_data(r#"{"candidates":[{"content":{"parts":[{"text":"x"}]}}]}"#)
        .unwrap();
    assert!(
        t.end().is_err(),
        "a stream without finishReason is truncated"
    );
    let e = t
        .on_data(r#"{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED"}}"#)
        .unwrap_err();
    assert_eq!(
        e,
        (
            "rate_limit_error".into(),
            "Resource has been exhausted".into()
        )
    );
}

#[test]
fn embeddings_round_trip() {
    let (body, echo) = embed::from_openai(
        &json!({"model": "text-embedding-004", "input": ["a", "b"], "dimensions": 2, "encoding_format": "base64"}),
        "text-embedding-004", &mut crate::translate::Fields::default())
    .unwrap();
    assert_eq!(
        body,
        json!({"requests": [
            {"model": "models/text-embedding-004", "content": {"parts": [{"text": "a"}]}, "outputDimensionality": 2},
            {"model": "models/text-embedding-004", "content": {"parts": [{"text": "b"}]}, "outputDimensionality": 2}
        ]})
    );
    let resp = json!({"embeddings": [{"values": [1.0, -2.0]}, {"values": [0.5, 0.25]}]});
    let out = embed::to_openai(&resp, &echo);
    assert_eq!(out["data"][1]["index"], 1);
    // 1.0f32 = 00 00 80 3f, -2.0f32 = 00 00 00 c0
    assert_eq!(out["data"][0]["embedding"], "AACAPwAAAMA=");
    let plain = embed::to_openai(
        &resp,
        &crate::embeddings::EmbedEcho {
            base64: false,
            model: "m".into(),
        },
    );
    assert_eq!(plain["data"][0]["embedding"], json!([1.0, -2.0]));
    assert!(embed::from_openai(
        &json!({"input": [[1, 2]]}),
        "m",
        &mut crate::translate::Fields::default()
    )
    .is_err());
}

#[test]
fn paths_and_model_names() {
    assert_eq!(
        path(Operation::ChatCompletions, "gemini-2.5-flash", true).as_deref(),
        Some("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
    );
    assert_eq!(
        path(Operation::Embeddings, "text-embedding-004", false).as_deref(),
        Some("/v1beta/models/text-embedding-004:batchEmbedContents")
    );
    assert_eq!(model_id("models/gemini-2.5-pro"), Some("gemini-2.5-pro"));
    assert_eq!(model_id("a/b"), None);
    assert_eq!(model_id("x:generateContent"), None);
    let id = tool_call_id("call_1", Some("ab+/cd=="));
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
    assert_eq!(signature_from_id(&id).as_deref(), Some("ab+/cd=="));
    assert_eq!(signature_from_id("call_1"), None);
}

#[test]
fn schemas_that_fan_out_exponentially_are_refused() {
    // Each definition refers to the next twice: 30 levels would expand to 2^30 nodes.
    let mut defs = serde_json::Map::new();
    for i in 0..30 {
        defs.insert(
            format!("D{i}"),
            json!({"type": "object", "properties": {
                "l": {"$ref": format!("#/$defs/D{}", i + 1)},
                "r": {"$ref": format!("#/$defs/D{}", i + 1)}}}),
        );
    }
    defs.insert("D30".into(), json!({"type": "string"}));
    let schema = json!({"$defs": defs, "$ref": "#/$defs/D0"});
    let e = to_gemini(&schema, "tools[0].function.parameters").unwrap_err();
    assert_eq!(e.param.as_deref(), Some("tools[0].function.parameters"));
    assert!(e.message.contains("more than 10000 nodes"), "{}", e.message);
}
