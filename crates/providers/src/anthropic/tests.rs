//! Round trips against shapes from Anthropic's Messages API reference and streaming guide
//! (examples transcribed 2026-11-24) and OpenAI's chat completions reference.

use super::request::from_openai;
use super::response::to_openai;
use super::stream::{ChunkTranslator, Out};
use crate::translate::Policy;
use serde_json::{json, Value};

#[test]
fn request_with_system_history_images_and_tools() {
    let req = json!({
        "model": "anthropic/claude-sonnet-4-5",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": [
                {"type": "text", "text": "What is in this image, and the weather in Paris?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
            ]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "toolu_01", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "toolu_02", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}
            ]},
            {"role": "tool", "tool_call_id": "toolu_01", "content": "18C, sunny"},
            {"role": "tool", "tool_call_id": "toolu_02", "content": "14:00"}
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather by city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
            {"type": "function", "function": {"name": "get_time"}}],
        "tool_choice": "required",
        "parallel_tool_calls": false,
        "stop": "END",
        "temperature": 0.5,
        "max_completion_tokens": 300,
        "stream": true,
        "stream_options": {"include_usage": true},
        "user": "u-42"
    });
    let out = from_openai(
        &req,
        "claude-sonnet-4-5",
        &mut crate::translate::Fields::default(),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({
            "model": "claude-sonnet-4-5",
            "system": [{"type": "text", "text": "You are terse."}],
            "messages": [
                {"role": "user", "content": [
                    {"type": "text", "text": "What is in this image, and the weather in Paris?"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
                ]},
                {"role": "assistant", "content": [
                    {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}},
                    {"type": "tool_use", "id": "toolu_02", "name": "get_time", "input": {}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_01", "content": "18C, sunny"},
                    {"type": "tool_result", "tool_use_id": "toolu_02", "content": "14:00"}
                ]}
            ],
            "tools": [
                {"name": "get_weather", "description": "Weather by city",
                 "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
                {"name": "get_time", "input_schema": {"type": "object", "properties": {}}}
            ],
            "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
            "stop_sequences": ["END"],
            "temperature": 0.5,
            "max_tokens": 300,
            "stream": true,
            "metadata": {"user_id": "u-42"}
        })
    );
}

#[test]
fn max_tokens_defaults_and_url_images_pass_as_url_sources() {
    let req = json!({"model": "m", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]});
    let out = from_openai(&req, "m", &mut crate::translate::Fields::default()).unwrap();
    assert_eq!(out["max_tokens"], 4096);
    assert_eq!(
        out["messages"][0]["content"][0]["source"],
        json!({"type": "url", "url": "https://example.com/cat.png"})
    );
    assert!(out.get("system").is_none());
}

#[test]
fn unrepresentable_fields_are_named() {
    let cases = [
        (json!({"n": 2}), "n"),
        (json!({"logprobs": true}), "logprobs"),
        (json!({"temperature": 1.5}), "temperature"),
        (
            json!({"response_format": {"type": "json_object"}, "tools": [{"type": "function", "function": {"name": "f"}}]}),
            "response_format",
        ),
    ];
    for (extra, field) in cases {
        let mut req = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        for (k, v) in extra.as_object().unwrap() {
            req[k] = v.clone();
        }
        let e = from_openai(&req, "m", &mut crate::translate::Fields::default()).unwrap_err();
        assert_eq!(e.param.as_deref(), Some(field), "{e:?}");
    }
    // Defaults that change nothing are accepted, and named as nothing.
    let req = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}],
        "n": 1, "logprobs": false, "frequency_penalty": 0, "seed": null, "response_format": {"type": "text"}});
    let mut fields = crate::translate::Fields::default();
    assert!(from_openai(&req, "m", &mut fields).is_ok());
    assert!(fields.dropped.is_empty(), "{:?}", fields.dropped);
    // Advisory fields Anthropic has no place for are left out and named; contract fields are
    // refused (above), or left out too under the lenient policy; nothing is left out under the
    // strict one.
    let req = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}],
        "frequency_penalty": 0.5, "seed": 7, "store": false, "prompt_cache_key": "k",
        "some_future_field": {"x": 1}});
    let mut fields = crate::translate::Fields::default();
    let out = from_openai(&req, "m", &mut fields).unwrap();
    assert_eq!(
        fields.dropped,
        [
            "frequency_penalty",
            "prompt_cache_key",
            "seed",
            "some_future_field",
            "store"
        ]
    );
    for k in &fields.dropped {
        assert!(out.get(k).is_none(), "{k} sent");
    }
    let strict = from_openai(
        &req,
        "m",
        &mut crate::translate::Fields::new(Policy::Strict),
    );
    assert_eq!(
        strict.unwrap_err().param.as_deref(),
        Some("frequency_penalty")
    );
    let req = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}],
        "n": 3, "logprobs": true});
    let mut lenient = crate::translate::Fields::new(Policy::Lenient);
    assert!(from_openai(&req, "m", &mut lenient).is_ok());
    assert_eq!(lenient.dropped, ["logprobs", "n"]);
    let bad = json!({"model": "m", "messages": [{"role": "assistant", "tool_calls": [
        {"id": "x", "type": "function", "function": {"name": "f", "arguments": "{not json"}}]}]});
    assert_eq!(
        from_openai(&bad, "m", &mut crate::translate::Fields::default())
            .unwrap_err()
            .param
            .as_deref(),
        Some("messages[0].tool_calls[0].function.arguments")
    );
}

#[test]
fn message_with_text_and_cache_usage() {
    // The Messages API reference's example response, with prompt-caching usage fields.
    let msg = json!({
        "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF", "type": "message", "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": "Hi! My name is Claude."}],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 2095, "output_tokens": 503, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 5}
    });
    let out = to_openai(&msg, 1_700_000_000);
    assert_eq!(out["id"], "msg_013Zva2CMHLNnXjNJJKqJ2EF");
    assert_eq!(out["object"], "chat.completion");
    assert_eq!(
        out["choices"][0]["message"]["content"],
        "Hi! My name is Claude."
    );
    assert_eq!(out["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        out["usage"],
        json!({"prompt_tokens": 2200, "completion_tokens": 503, "total_tokens": 2703,
            "prompt_tokens_details": {"cached_tokens": 100, "cache_write_tokens": 5}})
    );
}

#[test]
fn message_with_tool_use() {
    let msg = json!({
        "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [
            {"type": "thinking", "thinking": "Need weather.", "signature": "sig"},
            {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "input": {"location": "San Francisco, CA"}}
        ],
        "stop_reason": "tool_use", "usage": {"input_tokens": 10, "output_tokens": 20}
    });
    let out = to_openai(&msg, 1);
    let m = &out["choices"][0]["message"];
    assert!(m["content"].is_null());
    assert_eq!(m["reasoning_content"], "Need weather.");
    assert_eq!(m["tool_calls"][0]["id"], "toolu_01A09q90qw90lq917835lq9");
    assert_eq!(m["tool_calls"][0]["function"]["name"], "get_weather");
    let args: Value = serde_json::from_str(
        m["tool_calls"][0]["function"]["arguments"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(args, json!({"location": "San Francisco, CA"}));
    assert_eq!(out["choices"][0]["finish_reason"], "tool_calls");
}

fn run(events: &[(&str, Value)], include_usage: bool) -> Vec<Value> {
    let mut t = ChunkTranslator::new(7, include_usage);
    let mut out = Vec::new();
    for (name, data) in events {
        match t.translate(name, data) {
            Out::Data(items) => out.extend(items.into_iter().map(|s| {
                if s == "[DONE]" {
                    json!("[DONE]")
                } else {
                    serde_json::from_str(&s).unwrap()
                }
            })),
            Out::Error(k, m) => out.push(json!({"error": k, "message": m})),
        }
    }
    out
}

#[test]
fn streamed_text_with_usage() {
    // The streaming guide's basic example.
    let events = [
        (
            "message_start",
            json!({"type": "message_start", "message": {"id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "type": "message", "role": "assistant", "content": [], "model": "claude-sonnet-4-5", "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 25, "output_tokens": 1}}}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        ("ping", json!({"type": "ping"})),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "!"}}),
        ),
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ),
        (
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 15}}),
        ),
        ("message_stop", json!({"type": "message_stop"})),
    ];
    let out = run(&events, true);
    assert_eq!(out.len(), 6, "{out:#?}");
    assert_eq!(
        out[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    assert_eq!(out[0]["id"], "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY");
    assert_eq!(out[1]["choices"][0]["delta"]["content"], "Hello");
    assert_eq!(out[2]["choices"][0]["delta"]["content"], "!");
    assert_eq!(out[3]["choices"][0]["finish_reason"], "stop");
    assert_eq!(out[4]["choices"], json!([]));
    assert_eq!(out[4]["usage"]["prompt_tokens"], 25);
    assert_eq!(out[4]["usage"]["completion_tokens"], 15);
    assert_eq!(out[5], json!("[DONE]"));
    // Without include_usage there is no usage chunk.
    assert_eq!(run(&events, false).len(), 5);
}

#[test]
fn streamed_tool_use_arguments_arrive_in_pieces() {
    let events = [
        (
            "message_start",
            json!({"message": {"id": "msg_2", "model": "claude-sonnet-4-5", "usage": {"input_tokens": 400, "output_tokens": 1}}}),
        ),
        (
            "content_block_start",
            json!({"index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        (
            "content_block_delta",
            json!({"index": 0, "delta": {"type": "text_delta", "text": "Checking."}}),
        ),
        ("content_block_stop", json!({"index": 0})),
        (
            "content_block_start",
            json!({"index": 1, "content_block": {"type": "tool_use", "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "name": "get_weather", "input": {}}}),
        ),
        (
            "content_block_delta",
            json!({"index": 1, "delta": {"type": "input_json_delta", "partial_json": ""}}),
        ),
        (
            "content_block_delta",
            json!({"index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"location\": \"San Fra"}}),
        ),
        (
            "content_block_delta",
            json!({"index": 1, "delta": {"type": "input_json_delta", "partial_json": "ncisco, CA\"}"}}),
        ),
        ("content_block_stop", json!({"index": 1})),
        (
            "message_delta",
            json!({"delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 89}}),
        ),
        ("message_stop", json!({})),
    ];
    let out = run(&events, false);
    let call_start = &out[2]["choices"][0]["delta"]["tool_calls"][0];
    assert_eq!(call_start["index"], 0);
    assert_eq!(call_start["id"], "toolu_01T1x1fJ34qAmk2tNTrN7Up6");
    assert_eq!(call_start["function"]["name"], "get_weather");
    let args: String = out
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].as_str())
        .collect();
    assert_eq!(args, "{\"location\": \"San Francisco, CA\"}");
    let finish: Vec<&Value> = out
        .iter()
        .map(|c| &c["choices"][0]["finish_reason"])
        .filter(|f| !f.is_null())
        .collect();
    assert_eq!(finish, vec![&json!("tool_calls")]);
}

#[test]
fn stream_error_event() {
    let out = run(
        &[(
            "error",
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        )],
        false,
    );
    assert_eq!(
        out,
        vec![json!({"error": "overloaded_error", "message": "Overloaded"})]
    );
}

#[test]
fn reasoning_effort_becomes_a_thinking_budget_that_fits_max_tokens() {
    let base = json!({"messages": [{"role": "user", "content": "hi"}]});
    let with = |extra: Value| {
        let mut r = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            r[k] = v.clone();
        }
        from_openai(
            &r,
            "claude-sonnet-4-5",
            &mut crate::translate::Fields::default(),
        )
    };
    let out = with(json!({"reasoning_effort": "medium"})).unwrap();
    assert_eq!(
        out["thinking"],
        json!({"type": "enabled", "budget_tokens": 8192})
    );
    assert_eq!(out["max_tokens"], 8192 + 4096);
    let out = with(json!({"reasoning_effort": "high", "max_tokens": 5000})).unwrap();
    assert_eq!(out["thinking"]["budget_tokens"], 4999);
    assert_eq!(out["max_tokens"], 5000);
    let out = with(json!({"reasoning_effort": "low", "max_tokens": 9000})).unwrap();
    assert_eq!(out["thinking"]["budget_tokens"], 1024);
    let out = with(json!({"reasoning_effort": "minimal"})).unwrap();
    assert!(out.get("thinking").is_none());
    let e = with(json!({"reasoning_effort": "low", "max_tokens": 500})).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("reasoning_effort"));
}

#[test]
fn cache_control_on_parts_and_tools_reaches_anthropic() {
    let req = json!({
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": "Long policy", "cache_control": {"type": "ephemeral"}}]},
            {"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]}
        ],
        "tools": [{"type": "function", "cache_control": {"type": "ephemeral"},
            "function": {"name": "f", "parameters": {"type": "object"}}}]
    });
    let out = from_openai(
        &req,
        "claude-sonnet-4-6",
        &mut crate::translate::Fields::default(),
    )
    .unwrap();
    assert_eq!(
        out["system"][0],
        json!({"type": "text", "text": "Long policy", "cache_control": {"type": "ephemeral"}})
    );
    assert_eq!(
        out["messages"][0]["content"][0]["cache_control"],
        json!({"type": "ephemeral", "ttl": "1h"})
    );
    assert_eq!(
        out["tools"][0]["cache_control"],
        json!({"type": "ephemeral"})
    );
}

#[test]
fn json_mode_is_a_forced_tool_whose_input_is_the_answer() {
    use crate::translate::JSON_TOOL;
    let schema =
        json!({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]});
    let req = json!({"messages": [{"role": "user", "content": "n?"}], "tool_choice": "auto",
        "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": schema}}});
    let out = from_openai(
        &req,
        "claude-sonnet-4-6",
        &mut crate::translate::Fields::default(),
    )
    .unwrap();
    assert_eq!(
        out["tools"],
        json!([{"name": JSON_TOOL, "description": "Give the answer as this tool's input.", "input_schema": schema}])
    );
    assert_eq!(
        out["tool_choice"],
        json!({"type": "tool", "name": JSON_TOOL})
    );
    let req = json!({"messages": [], "response_format": {"type": "json_object"},
        "tools": [{"type": "function", "function": {"name": "f"}}]});
    assert_eq!(
        from_openai(&req, "m", &mut crate::translate::Fields::default())
            .unwrap_err()
            .param
            .as_deref(),
        Some("response_format")
    );

    let msg = json!({"id": "msg_1", "model": "m", "stop_reason": "tool_use", "usage": {},
        "content": [{"type": "tool_use", "id": "t", "name": JSON_TOOL, "input": {"n": 3}}]});
    let out = to_openai(&msg, 0);
    assert_eq!(out["choices"][0]["message"]["content"], "{\"n\":3}");
    assert!(out["choices"][0]["message"].get("tool_calls").is_none());
    assert_eq!(out["choices"][0]["finish_reason"], "stop");

    let mut t = ChunkTranslator::new(0, false);
    let mut text = String::new();
    let mut finish = Value::Null;
    for (name, data) in [
        (
            "message_start",
            json!({"message": {"id": "m1", "model": "m", "usage": {}}}),
        ),
        (
            "content_block_start",
            json!({"index": 0, "content_block": {"type": "tool_use", "id": "t", "name": JSON_TOOL, "input": {}}}),
        ),
        (
            "content_block_delta",
            json!({"index": 0, "delta": {"type": "input_json_delta", "partial_json": "{\"n\":"}}),
        ),
        (
            "content_block_delta",
            json!({"index": 0, "delta": {"type": "input_json_delta", "partial_json": " 3}"}}),
        ),
        (
            "message_delta",
            json!({"delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 2}}),
        ),
    ] {
        let Out::Data(chunks) = t.translate(name, &data) else {
            panic!()
        };
        for c in chunks {
            let v: Value = serde_json::from_str(&c).unwrap();
            assert!(v["choices"][0]["delta"].get("tool_calls").is_none());
            text.push_str(v["choices"][0]["delta"]["content"].as_str().unwrap_or(""));
            if !v["choices"][0]["finish_reason"].is_null() {
                finish = v["choices"][0]["finish_reason"].clone();
            }
        }
    }
    assert_eq!(text, "{\"n\": 3}");
    assert_eq!(finish, "stop");
}

#[test]
fn thinking_with_a_forced_tool_is_refused_by_name() {
    for extra in [
        json!({"tool_choice": "required", "tools": [{"type": "function", "function": {"name": "f"}}]}),
        json!({"response_format": {"type": "json_object"}}),
    ] {
        let mut req =
            json!({"messages": [{"role": "user", "content": "hi"}], "reasoning_effort": "low"});
        for (k, v) in extra.as_object().unwrap() {
            req[k] = v.clone();
        }
        let e = from_openai(
            &req,
            "claude-sonnet-4-6",
            &mut crate::translate::Fields::default(),
        )
        .unwrap_err();
        assert_eq!(e.param.as_deref(), Some("reasoning_effort"), "{req}");
    }
}

/// Thinking comes back signed (`thinking_blocks`), whole and streamed, and goes out again first
/// in the assistant turn, so a tool-use loop with thinking on round-trips.
#[test]
fn signed_thinking_round_trips_through_chat() {
    let msg = json!({"id": "msg_1", "model": "claude", "stop_reason": "tool_use", "usage": {},
        "content": [
            {"type": "thinking", "thinking": "plan", "signature": "sig-1"},
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}]});
    let m = &to_openai(&msg, 0)["choices"][0]["message"];
    assert_eq!(m["reasoning_content"], "plan");
    assert_eq!(
        m["thinking_blocks"],
        json!([{"type": "thinking", "thinking": "plan", "signature": "sig-1"},
            {"type": "redacted_thinking", "data": "opaque"}])
    );
    let chunks = run(
        &[
            (
                "message_start",
                json!({"message": {"id": "msg_1", "model": "claude", "usage": {}}}),
            ),
            (
                "content_block_start",
                json!({"index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
            ),
            (
                "content_block_delta",
                json!({"index": 0, "delta": {"type": "thinking_delta", "thinking": "pl"}}),
            ),
            (
                "content_block_delta",
                json!({"index": 0, "delta": {"type": "thinking_delta", "thinking": "an"}}),
            ),
            (
                "content_block_delta",
                json!({"index": 0, "delta": {"type": "signature_delta", "signature": "sig-1"}}),
            ),
            ("content_block_stop", json!({"index": 0})),
            (
                "message_delta",
                json!({"delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 3}}),
            ),
            ("message_stop", json!({})),
        ],
        false,
    );
    let blocks: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c.pointer("/choices/0/delta/thinking_blocks"))
        .collect();
    assert_eq!(
        blocks,
        [&json!([{"type": "thinking", "thinking": "plan", "signature": "sig-1"}])]
    );
    // Sent back: the signed blocks open the assistant turn; unsigned ones cannot be sent.
    let req = json!({"model": "m", "reasoning_effort": "low", "max_tokens": 5000, "messages": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": null,
         "thinking_blocks": [{"type": "thinking", "thinking": "plan", "signature": "sig-1"},
             {"type": "thinking", "thinking": "unsigned", "signature": ""}],
         "tool_calls": [{"id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "toolu_1", "content": "ok"}]});
    let mut fields = crate::translate::Fields::default();
    let out = from_openai(&req, "m", &mut fields).unwrap();
    assert_eq!(
        out["messages"][1]["content"],
        json!([{"type": "thinking", "thinking": "plan", "signature": "sig-1"},
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}])
    );
    assert_eq!(out["thinking"]["type"], "enabled");
    assert!(fields.dropped.is_empty());
}

/// A chat client that does not keep `thinking_blocks` sends a tool-use turn back without them:
/// Anthropic would refuse it with thinking on, so thinking is left out and named (a 400 under
/// the strict policy).
#[test]
fn thinking_is_left_out_when_a_tool_turn_comes_back_without_its_blocks() {
    let req = json!({"model": "m", "reasoning_effort": "low", "messages": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": null,
         "tool_calls": [{"id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "toolu_1", "content": "ok"}]});
    let mut fields = crate::translate::Fields::default();
    let out = from_openai(&req, "m", &mut fields).unwrap();
    assert!(out.get("thinking").is_none(), "{out}");
    assert_eq!(fields.dropped, ["reasoning_effort"]);
    let mut strict = crate::translate::Fields::new(Policy::Strict);
    let e = from_openai(&req, "m", &mut strict).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("reasoning_effort"));
    // A first turn thinks as asked.
    let first = json!({"model": "m", "reasoning_effort": "low", "messages": [{"role": "user", "content": "go"}]});
    let out = from_openai(&first, "m", &mut crate::translate::Fields::default()).unwrap();
    assert_eq!(out["thinking"]["type"], "enabled");
}

/// Claude 4.6 and later think adaptively: the effort goes to `output_config.effort` (OpenAI's
/// `xhigh` is Anthropic's `xhigh` from 4.7 on, `max` on 4.6); older models keep budgets.
#[test]
fn reasoning_effort_is_adaptive_thinking_on_claude_4_6_and_later() {
    let req = |effort: &str| json!({"model": "m", "reasoning_effort": effort, "messages": [{"role": "user", "content": "hi"}]});
    let go = |model: &str, effort: &str| {
        from_openai(
            &req(effort),
            model,
            &mut crate::translate::Fields::default(),
        )
        .unwrap()
    };
    let out = go("claude-sonnet-4-6", "medium");
    assert_eq!(out["thinking"], json!({"type": "adaptive"}));
    assert_eq!(out["output_config"], json!({"effort": "medium"}));
    assert_eq!(out["max_tokens"], 24576 + 4096);
    assert_eq!(
        go("claude-sonnet-4-6", "xhigh")["output_config"]["effort"],
        "max"
    );
    assert_eq!(
        go("claude-opus-4-7", "xhigh")["output_config"]["effort"],
        "xhigh"
    );
    assert_eq!(
        go("claude-mythos-5", "low")["output_config"]["effort"],
        "low"
    );
    assert!(go("claude-opus-4-7", "none").get("thinking").is_none());
    for older in [
        "claude-sonnet-4-5-20250929",
        "claude-sonnet-4-5@20250929",
        "claude-3-7-sonnet-latest",
    ] {
        assert_eq!(
            go(older, "medium")["thinking"]["type"],
            "enabled",
            "{older}"
        );
        assert!(go(older, "medium").get("output_config").is_none());
    }
}
