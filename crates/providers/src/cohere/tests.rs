//! Round trips against shapes from Cohere's v2 API reference (chat, chat streaming guide, tool
//! use guide, embed; examples transcribed 2026-11-30) and OpenAI's chat completions reference.

use super::request::from_openai;
use super::response::to_openai;
use super::stream::ChunkTranslator;
use super::*;
use serde_json::{json, Value};

#[test]
fn request_with_system_history_images_tools_and_params() {
    let req = json!({
        "model": "cohere/command-a-03-2025",
        "messages": [
            {"role": "developer", "content": "You are terse."},
            {"role": "user", "content": [
                {"type": "text", "text": "What is in this image?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
            ]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "18C"}
        ],
        "tools": [
            {"type": "function", "function": {"name": "get_weather", "description": "Weather by city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
            {"type": "function", "function": {"name": "get_time"}}
        ],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "parallel_tool_calls": false,
        "stop": "END",
        "temperature": 0.5,
        "top_p": 0.9,
        "max_completion_tokens": 300,
        "seed": 7,
        "reasoning_effort": "high",
        "response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"}}},
        "stream": true,
        "stream_options": {"include_usage": true}
    });
    let out = from_openai(
        &req,
        "command-a-03-2025",
        &mut crate::translate::Fields::default(),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({
            "model": "command-a-03-2025",
            "stream": true,
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": [
                    {"type": "text", "text": "What is in this image?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
                ]},
                {"role": "assistant", "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}
                ]},
                {"role": "tool", "tool_call_id": "call_1", "content": "18C"}
            ],
            // A named tool_choice keeps only that tool and requires a call.
            "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather by city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
            "tool_choice": "REQUIRED",
            "stop_sequences": ["END"],
            "temperature": 0.5,
            "p": 0.9,
            "max_tokens": 300,
            "seed": 7,
            "thinking": {"type": "enabled", "token_budget": 24576},
            "response_format": {"type": "json_object", "json_schema": {"type": "object"}}
        })
    );
    for (bad, param) in [
        (json!({"messages": [], "n": 2}), "n"),
        (json!({"messages": [], "logprobs": true}), "logprobs"),
        (
            json!({"messages": [], "tools": [{"type": "web_search"}]}),
            "tools[0]",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"type": "input_audio"}]}]}),
            "messages[0].content[0]",
        ),
    ] {
        assert_eq!(
            from_openai(&bad, "m", &mut crate::translate::Fields::default())
                .unwrap_err()
                .param
                .as_deref(),
            Some(param)
        );
    }
}

/// The non-streamed tool-use example of the tool use guide, and a text answer with usage.
#[test]
fn responses_with_tool_calls_thinking_and_usage() {
    let resp = json!({
        "id": "5e1b8e2a-0000-4000-8000-000000000001",
        "finish_reason": "TOOL_CALL",
        "message": {
            "role": "assistant",
            "tool_plan": "I will look up the weather in Toronto.",
            "tool_calls": [{"id": "get_weather_1byjy32y4hvq", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"location\":\"Toronto\"}"}}]
        },
        "usage": {"billed_units": {"input_tokens": 37, "output_tokens": 28},
                  "tokens": {"input_tokens": 913, "output_tokens": 81}, "cached_tokens": 100}
    });
    let out = to_openai(&resp, "command-a-03-2025", 9);
    assert_eq!(
        out,
        json!({
            "id": "5e1b8e2a-0000-4000-8000-000000000001", "object": "chat.completion", "created": 9,
            "model": "command-a-03-2025",
            "choices": [{"index": 0, "logprobs": null, "finish_reason": "tool_calls",
                "message": {"role": "assistant", "content": null, "refusal": null,
                    "reasoning_content": "I will look up the weather in Toronto.",
                    "tool_calls": [{"id": "get_weather_1byjy32y4hvq", "type": "function",
                        "function": {"name": "get_weather", "arguments": "{\"location\":\"Toronto\"}"}}]}}],
            "usage": {"prompt_tokens": 913, "completion_tokens": 81, "total_tokens": 994,
                "prompt_tokens_details": {"cached_tokens": 100}}
        })
    );
    let text = json!({"id": "x", "finish_reason": "MAX_TOKENS", "message": {"role": "assistant",
        "content": [{"type": "thinking", "thinking": "Hmm."}, {"type": "text", "text": "Hi"}]},
        "usage": {"billed_units": {"input_tokens": 3, "output_tokens": 1}}});
    let out = to_openai(&text, "m", 0);
    assert_eq!(out["choices"][0]["message"]["content"], "Hi");
    assert_eq!(out["choices"][0]["message"]["reasoning_content"], "Hmm.");
    assert_eq!(out["choices"][0]["finish_reason"], "length");
    assert_eq!(out["usage"]["prompt_tokens"], 3);
}

fn run(t: &mut ChunkTranslator, events: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    for e in events {
        for c in t.on_data(&e.to_string()).unwrap() {
            out.push(if c == "[DONE]" {
                json!("[DONE]")
            } else {
                serde_json::from_str(&c).unwrap()
            });
        }
    }
    out
}

/// The event sequence of the streaming guide: text, then a tool call with its plan.
#[test]
fn stream_text_tools_usage_and_errors() {
    let mut t = ChunkTranslator::new(5, true, "command-a-03-2025");
    let out = run(
        &mut t,
        &[
            json!({"type": "message-start", "id": "m1", "delta": {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}}),
            json!({"type": "content-start", "index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}}),
            json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "Hel"}}}}),
            json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "lo"}}}}),
            json!({"type": "content-end", "index": 0}),
            json!({"type": "message-end", "delta": {"finish_reason": "COMPLETE", "usage": {"billed_units": {"input_tokens": 3, "output_tokens": 2}, "tokens": {"input_tokens": 70, "output_tokens": 2}}}}),
        ],
    );
    assert_eq!(
        out[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    assert_eq!(out[0]["id"], "m1");
    assert_eq!(out[0]["model"], "command-a-03-2025");
    let text: String = out
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello");
    assert_eq!(out[3]["choices"][0]["finish_reason"], "stop");
    assert_eq!(out[4]["usage"]["prompt_tokens"], 70);
    assert_eq!(out[5], "[DONE]");

    let mut t = ChunkTranslator::new(5, false, "m");
    let out = run(
        &mut t,
        &[
            json!({"type": "message-start", "id": "m2"}),
            json!({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": "I will"}}}),
            json!({"type": "tool-call-start", "index": 0, "delta": {"message": {"tool_calls": {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}}}}),
            json!({"type": "tool-call-delta", "index": 0, "delta": {"message": {"tool_calls": {"function": {"arguments": "{\"loc"}}}}}),
            json!({"type": "tool-call-delta", "index": 0, "delta": {"message": {"tool_calls": {"function": {"arguments": "\":\"x\"}"}}}}}),
            json!({"type": "tool-call-end", "index": 0}),
            json!({"type": "tool-call-start", "index": 1, "delta": {"message": {"tool_calls": {"id": "c2", "type": "function", "function": {"name": "b", "arguments": "{}"}}}}}),
            json!({"type": "message-end", "delta": {"finish_reason": "TOOL_CALL"}}),
        ],
    );
    assert_eq!(
        out[1]["choices"][0]["delta"],
        json!({"reasoning_content": "I will"})
    );
    assert_eq!(
        out[2]["choices"][0]["delta"]["tool_calls"][0],
        json!({"index": 0, "id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": ""}})
    );
    let args: String = out
        .iter()
        .filter(|c| c.pointer("/choices/0/delta/tool_calls/0/index") == Some(&json!(0)))
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].as_str())
        .collect();
    assert_eq!(args, "{\"loc\":\"x\"}");
    assert_eq!(out[5]["choices"][0]["delta"]["tool_calls"][0]["index"], 1);
    assert_eq!(out[6]["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(out.last(), Some(&json!("[DONE]")));

    let mut t = ChunkTranslator::new(5, false, "m");
    let e = t
        .on_data(r#"{"type":"message-end","delta":{"finish_reason":"ERROR","error":"internal failure"}}"#)
        .unwrap_err();
    assert_eq!(e.1, "internal failure");
}

#[test]
fn embeddings_round_trip() {
    let (body, echo) = embed::from_openai(
        &json!({"model": "embed-v4.0", "input": "hello", "dimensions": 256, "encoding_format": "float"}),
        "embed-v4.0", &mut crate::translate::Fields::default())
    .unwrap();
    assert_eq!(
        body,
        json!({"model": "embed-v4.0", "input_type": "search_document", "embedding_types": ["float"],
            "output_dimension": 256, "texts": ["hello"]})
    );
    let resp = json!({"id": "e1", "embeddings": {"float": [[0.5, -1.0]]}, "texts": ["hello"],
        "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": 2}}});
    let out = embed::to_openai(&resp, &echo);
    assert_eq!(out["data"][0]["embedding"], json!([0.5, -1.0]));
    assert_eq!(out["usage"]["prompt_tokens"], 2);
    assert_eq!(out["model"], "embed-v4.0");
}

#[test]
fn paths() {
    assert_eq!(path(Operation::ChatCompletions), Some("/v2/chat"));
    assert_eq!(path(Operation::Embeddings), Some("/v2/embed"));
    assert_eq!(path(Operation::Completions), None);
    assert_eq!(finish_reason(Some("STOP_SEQUENCE")), "stop");
}
