//! Shapes from Amazon Bedrock's Converse / ConverseStream API reference and tool-use guide
//! (examples transcribed 2026-11-30) and OpenAI's chat completions reference.

use super::request::from_openai;
use super::response::to_openai;
use super::stream::ChunkTranslator;
use super::*;
use serde_json::{json, Value};

#[test]
fn request_with_system_history_images_tools_and_caching() {
    let req = json!({
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": "Be terse.", "cache_control": {"type": "ephemeral"}}]},
            {"role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}}
            ]},
            {"role": "assistant", "content": "Checking.", "tool_calls": [
                {"id": "tooluse_1", "type": "function", "function": {"name": "top_song", "arguments": "{\"sign\":\"WZPZ\"}"}}
            ]},
            {"role": "tool", "tool_call_id": "tooluse_1", "content": "Elemental Hotel"}
        ],
        "tools": [{"type": "function", "function": {"name": "top_song", "description": "Most popular song",
            "parameters": {"type": "object", "properties": {"sign": {"type": "string"}}, "required": ["sign"]}}}],
        "tool_choice": "required",
        "max_tokens": 512, "temperature": 0.5, "top_p": 0.9, "stop": ["END"],
        "stream": true, "stream_options": {"include_usage": true}, "parallel_tool_calls": true
    });
    let out = from_openai(
        &req,
        "amazon.nova-pro-v1:0",
        &mut crate::translate::Fields::default(),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({
            "system": [{"text": "Be terse."}, {"cachePoint": {"type": "default"}}],
            "messages": [
                {"role": "user", "content": [
                    {"text": "What is this?"},
                    {"image": {"format": "jpeg", "source": {"bytes": "/9j/4AAQ"}}}
                ]},
                {"role": "assistant", "content": [
                    {"text": "Checking."},
                    {"toolUse": {"toolUseId": "tooluse_1", "name": "top_song", "input": {"sign": "WZPZ"}}}
                ]},
                {"role": "user", "content": [
                    {"toolResult": {"toolUseId": "tooluse_1", "content": [{"text": "Elemental Hotel"}], "status": "success"}}
                ]}
            ],
            "toolConfig": {
                "tools": [{"toolSpec": {"name": "top_song", "description": "Most popular song",
                    "inputSchema": {"json": {"type": "object", "properties": {"sign": {"type": "string"}}, "required": ["sign"]}}}}],
                "toolChoice": {"any": {}}
            },
            "inferenceConfig": {"maxTokens": 512, "temperature": 0.5, "topP": 0.9, "stopSequences": ["END"]}
        })
    );
}

#[test]
fn tool_choice_none_thinking_and_refusals() {
    let tools = json!([{"type": "function", "function": {"name": "f"}}]);
    // No tool history: "none" means the tools are not offered at all.
    let out = from_openai(
        &json!({"messages": [{"role": "user", "content": "hi"}], "tools": tools, "tool_choice": "none"}),
        "meta.llama3-3-70b-instruct-v1:0", &mut crate::translate::Fields::default())
    .unwrap();
    assert!(out.get("toolConfig").is_none());
    let out = from_openai(
        &json!({"messages": [{"role": "user", "content": "hi"}], "reasoning_effort": "medium", "top_k": 5}),
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0", &mut crate::translate::Fields::default())
    .unwrap();
    assert_eq!(
        out["additionalModelRequestFields"],
        json!({"thinking": {"type": "enabled", "budget_tokens": 8192}, "top_k": 5})
    );
    assert_eq!(out["inferenceConfig"]["maxTokens"], 8192 + 4096);
    for (req, param) in [
        (json!({"messages": [], "n": 2}), "n"),
        (
            json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]}),
            "messages[0].content[0]",
        ),
    ] {
        let e = from_openai(
            &req,
            "mistral.mistral-large-2407-v1:0",
            &mut crate::translate::Fields::default(),
        )
        .unwrap_err();
        assert_eq!(e.param.as_deref(), Some(param), "{req}");
    }
    // Hints a model cannot take are left out and named.
    let mut fields = crate::translate::Fields::default();
    let req = json!({"messages": [], "reasoning_effort": "low", "seed": 3});
    let out = from_openai(&req, "mistral.mistral-large-2407-v1:0", &mut fields).unwrap();
    assert_eq!(fields.dropped, ["reasoning_effort", "seed"]);
    assert!(out.get("additionalModelRequestFields").is_none());
}

/// The Converse response example of the tool-use guide, plus cached-token usage.
#[test]
fn response_with_text_tool_use_and_reasoning() {
    let resp = json!({
        "output": {"message": {"role": "assistant", "content": [
            {"reasoningContent": {"reasoningText": {"text": "Need the tool.", "signature": "s"}}},
            {"text": "I'll look that up."},
            {"toolUse": {"toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "name": "top_song", "input": {"sign": "WZPZ"}}}
        ]}},
        "stopReason": "tool_use",
        "usage": {"inputTokens": 375, "outputTokens": 36, "totalTokens": 411, "cacheReadInputTokens": 100, "cacheWriteInputTokens": 5},
        "metrics": {"latencyMs": 2270}
    });
    let out = to_openai(&resp, "chatcmpl-x", "amazon.nova-pro-v1:0", 7);
    assert_eq!(out["id"], "chatcmpl-x");
    assert_eq!(out["model"], "amazon.nova-pro-v1:0");
    let m = &out["choices"][0]["message"];
    assert_eq!(m["content"], "I'll look that up.");
    assert_eq!(m["reasoning_content"], "Need the tool.");
    assert_eq!(
        m["tool_calls"][0],
        json!({"id": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "type": "function",
            "function": {"name": "top_song", "arguments": "{\"sign\":\"WZPZ\"}"}})
    );
    assert_eq!(out["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(
        out["usage"],
        // Cache writes are named too (billed above the input price), as for Anthropic.
        json!({"prompt_tokens": 480, "completion_tokens": 36, "total_tokens": 516,
            "prompt_tokens_details": {"cached_tokens": 100, "cache_write_tokens": 5}})
    );
}

fn run(t: &mut ChunkTranslator, events: &[(&str, Value)]) -> Vec<Value> {
    let mut out = Vec::new();
    for (name, data) in events {
        for c in t.translate(name, &data.to_string()).unwrap() {
            out.push(if c == "[DONE]" {
                json!("[DONE]")
            } else {
                serde_json::from_str(&c).unwrap()
            });
        }
    }
    out
}

/// The ConverseStream event sequence of the API reference: text, then a tool use.
#[test]
fn stream_events_become_chunks() {
    let mut t = ChunkTranslator::new(3, true, "chatcmpl-b", "m");
    let out = run(
        &mut t,
        &[
            ("messageStart", json!({"role": "assistant"})),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 0, "delta": {"text": "Let me"}}),
            ),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 0, "delta": {"text": " check."}}),
            ),
            ("contentBlockStop", json!({"contentBlockIndex": 0})),
            (
                "contentBlockStart",
                json!({"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "tu_1", "name": "top_song"}}}),
            ),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{\"sign\":"}}}),
            ),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "\"WZPZ\"}"}}}),
            ),
            ("contentBlockStop", json!({"contentBlockIndex": 1})),
            ("messageStop", json!({"stopReason": "tool_use"})),
            (
                "metadata",
                json!({"usage": {"inputTokens": 10, "outputTokens": 4, "totalTokens": 14}, "metrics": {"latencyMs": 5}}),
            ),
        ],
    );
    assert_eq!(out[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(out[1]["choices"][0]["delta"]["content"], "Let me");
    assert_eq!(
        out[3]["choices"][0]["delta"]["tool_calls"][0],
        json!({"index": 0, "id": "tu_1", "type": "function", "function": {"name": "top_song", "arguments": ""}})
    );
    let args: String = out[4..6]
        .iter()
        .map(|c| {
            c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(args, "{\"sign\":\"WZPZ\"}");
    assert_eq!(out[6]["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(out[7]["usage"]["prompt_tokens"], 10);
    assert_eq!(out[8], "[DONE]");
    assert_eq!(t.close().unwrap(), Vec::<String>::new(), "already done");

    let mut t = ChunkTranslator::new(3, false, "c", "m");
    t.translate("messageStart", "{}").unwrap();
    assert!(t.close().is_err(), "no messageStop: truncated");
    let e = t
        .translate(
            "exception:throttlingException",
            r#"{"message":"Too many requests, please wait before trying again."}"#,
        )
        .unwrap_err();
    assert_eq!(e.0, "rate_limit_error");
}

#[test]
fn paths_embeddings_and_model_ids() {
    assert_eq!(
        path(
            Operation::ChatCompletions,
            "anthropic.claude-3-5-haiku-20241022-v1:0",
            true
        )
        .as_deref(),
        Some("/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream")
    );
    assert_eq!(
        encode_model("arn:aws:bedrock:us-east-1:123:inference-profile/us.x"),
        "arn%3Aaws%3Abedrock%3Aus-east-1%3A123%3Ainference-profile%2Fus.x"
    );
    let (b, echo) = embed::from_openai(
        &json!({"input": "hello", "dimensions": 256}),
        "amazon.titan-embed-text-v2:0",
        &mut crate::translate::Fields::default(),
    )
    .unwrap();
    assert_eq!(
        b,
        json!({"inputText": "hello", "normalize": true, "dimensions": 256})
    );
    let out = embed::to_openai(
        &json!({"embedding": [0.5, 0.25], "inputTextTokenCount": 2}),
        &echo,
    );
    assert_eq!(out["data"][0]["embedding"], json!([0.5, 0.25]));
    assert_eq!(out["usage"]["prompt_tokens"], 2);
    assert!(embed::from_openai(
        &json!({"input": ["a", "b"]}),
        "amazon.titan-embed-text-v2:0",
        &mut crate::translate::Fields::default()
    )
    .is_err());
    let (b, _) = embed::from_openai(
        &json!({"input": ["a", "b"]}),
        "cohere.embed-english-v3",
        &mut crate::translate::Fields::default(),
    )
    .unwrap();
    assert_eq!(
        b,
        json!({"texts": ["a", "b"], "input_type": "search_document", "embedding_types": ["float"]})
    );
    let out = embed::to_openai(&json!({"embeddings": {"float": [[1.0], [2.0]]}}), &echo);
    assert_eq!(out["data"][1]["embedding"], json!([2.0]));
}

#[test]
fn json_mode_is_a_forced_tool_whose_input_is_the_answer() {
    use crate::translate::JSON_TOOL;
    let req = json!({"messages": [{"role": "user", "content": "n?"}], "response_format": {"type": "json_object"}});
    let out = from_openai(
        &req,
        "amazon.nova-pro-v1:0",
        &mut crate::translate::Fields::default(),
    )
    .unwrap();
    assert_eq!(
        out["toolConfig"]["toolChoice"],
        json!({"tool": {"name": JSON_TOOL}})
    );
    assert_eq!(
        out["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"],
        json!({"json": {"type": "object"}})
    );
    let resp = json!({"output": {"message": {"role": "assistant", "content": [
        {"toolUse": {"toolUseId": "t", "name": JSON_TOOL, "input": {"n": 3}}}]}},
        "stopReason": "tool_use", "usage": {}});
    let out = to_openai(&resp, "c", "m", 0);
    assert_eq!(out["choices"][0]["message"]["content"], "{\"n\":3}");
    assert_eq!(out["choices"][0]["finish_reason"], "stop");
    let mut t = ChunkTranslator::new(0, false, "c", "m");
    let out = run(
        &mut t,
        &[
            ("messageStart", json!({"role": "assistant"})),
            (
                "contentBlockStart",
                json!({"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "t", "name": JSON_TOOL}}}),
            ),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 0, "delta": {"toolUse": {"input": "{\"n\":3}"}}}),
            ),
            ("messageStop", json!({"stopReason": "tool_use"})),
            ("metadata", json!({"usage": {}})),
        ],
    );
    assert_eq!(
        out[1]["choices"][0]["delta"],
        json!({"content": "{\"n\":3}"})
    );
    assert_eq!(out[2]["choices"][0]["finish_reason"], "stop");
}

/// Claude's signed reasoning on Bedrock comes back as `thinking_blocks` (whole and streamed)
/// and goes out again as the first `reasoningContent` of the assistant turn; without it, a
/// tool-use turn is sent without thinking (left out and named).
#[test]
fn signed_reasoning_round_trips() {
    let resp = json!({"output": {"message": {"role": "assistant", "content": [
        {"reasoningContent": {"reasoningText": {"text": "plan", "signature": "sig-1"}}},
        {"reasoningContent": {"redactedContent": "b3BhcXVl"}},
        {"toolUse": {"toolUseId": "t1", "name": "f", "input": {}}}]}},
        "stopReason": "tool_use", "usage": {}});
    let m = &to_openai(&resp, "id", "m", 0)["choices"][0]["message"];
    assert_eq!(
        m["thinking_blocks"],
        json!([{"type": "thinking", "thinking": "plan", "signature": "sig-1"},
            {"type": "redacted_thinking", "data": "b3BhcXVl"}])
    );
    let mut t = ChunkTranslator::new(0, false, "id", "m");
    let chunks = run(
        &mut t,
        &[
            ("messageStart", json!({"role": "assistant"})),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "plan"}}}),
            ),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"signature": "sig-1"}}}),
            ),
            ("contentBlockStop", json!({"contentBlockIndex": 0})),
        ],
    );
    let blocks: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c.pointer("/choices/0/delta/thinking_blocks"))
        .collect();
    assert_eq!(
        blocks,
        [&json!([{"type": "thinking", "thinking": "plan", "signature": "sig-1"}])]
    );
    let turn = |thinking: Value| {
        json!({"model": "m", "reasoning_effort": "low", "max_tokens": 4000,
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
            "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": null, "thinking_blocks": thinking,
             "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "t1", "content": "ok"}]})
    };
    const CLAUDE: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
    let mut fields = crate::translate::Fields::default();
    let out = from_openai(
        &turn(json!([{"type": "thinking", "thinking": "plan", "signature": "sig-1"}])),
        CLAUDE,
        &mut fields,
    )
    .unwrap();
    assert_eq!(
        out["messages"][1]["content"][0],
        json!({"reasoningContent": {"reasoningText": {"text": "plan", "signature": "sig-1"}}})
    );
    assert_eq!(
        out["additionalModelRequestFields"]["thinking"]["type"],
        "enabled"
    );
    assert!(fields.dropped.is_empty());
    let mut fields = crate::translate::Fields::default();
    let out = from_openai(&turn(Value::Null), CLAUDE, &mut fields).unwrap();
    assert!(
        out.pointer("/additionalModelRequestFields/thinking")
            .is_none(),
        "{out}"
    );
    assert_eq!(fields.dropped, ["reasoning_effort"]);
}

/// On Bedrock, Claude 4.6 and later think adaptively: `thinking` in the model's fields, the
/// effort in Converse's `outputConfig`.
#[test]
fn reasoning_effort_is_adaptive_thinking_on_claude_4_6_and_later() {
    let req = json!({"model": "m", "reasoning_effort": "high", "messages": [{"role": "user", "content": "hi"}]});
    let out = from_openai(
        &req,
        "us.anthropic.claude-opus-4-7",
        &mut crate::translate::Fields::default(),
    )
    .unwrap();
    assert_eq!(
        out["additionalModelRequestFields"]["thinking"],
        json!({"type": "adaptive"})
    );
    assert_eq!(out["outputConfig"], json!({"effort": "high"}));
    let old = from_openai(
        &req,
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        &mut crate::translate::Fields::default(),
    )
    .unwrap();
    assert_eq!(
        old["additionalModelRequestFields"]["thinking"]["type"],
        "enabled"
    );
    assert!(old.get("outputConfig").is_none());
}
