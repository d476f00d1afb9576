#![allow(clippy::unwrap_used)]

use super::*;
use serde_json::json;

fn chat_body(question: &str) -> Value {
    json!({
        "model": "gpt-4o-mini",
        "temperature": 0.2,
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": question}
        ]
    })
}

#[test]
fn paraphrased_chat_requests_share_a_bucket_and_differ_in_prompt() {
    let (a, pa) = split(
        "chat.completions",
        &chat_body("What is the capital of France?"),
    )
    .unwrap();
    let (b, pb) = split(
        "chat.completions",
        &chat_body("Tell me France's capital city"),
    )
    .unwrap();
    assert_eq!(a, b);
    assert_ne!(pa, pb);
    assert_eq!(
        pa,
        "system: You are terse.\nuser: What is the capital of France?"
    );
    assert_eq!(
        a,
        json!({
            "model": "gpt-4o-mini",
            "temperature": 0.2,
            "messages": [{"role": "system", "content": ""}, {"role": "user", "content": ""}]
        })
    );
}

#[test]
fn everything_but_the_wording_changes_the_bucket() {
    let bucket = |body: Value| split("chat.completions", &body).unwrap().0;
    let base = bucket(chat_body("hi"));
    let mut others = Vec::new();
    let mut b = chat_body("hi");
    b["temperature"] = json!(0.7);
    others.push(b);
    let mut b = chat_body("hi");
    b["model"] = json!("gpt-4o");
    others.push(b);
    let mut b = chat_body("hi");
    b["tools"] = json!([{"type": "function", "function": {"name": "f", "parameters": {}}}]);
    others.push(b);
    let mut b = chat_body("hi");
    b["messages"][0]["role"] = json!("user");
    b["messages"][1]["role"] = json!("system");
    others.push(b);
    let mut b = chat_body("hi");
    b["messages"]
        .as_array_mut()
        .unwrap()
        .push(json!({"role": "user", "content": "more"}));
    others.push(b);
    let mut b = chat_body("hi");
    b["messages"][1]["content"] = json!([{"type": "text", "text": "hi"}]);
    others.push(b);
    for other in others {
        assert_ne!(bucket(other.clone()), base, "{other}");
    }
}

#[test]
fn chat_parts_keep_images_and_give_their_text_in_order() {
    let body = |first: &str, url: &str| {
        json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "text", "text": first},
            {"type": "image_url", "image_url": {"url": url}},
            {"type": "text", "text": "and this?"}
        ]}]})
    };
    let (a, pa) = split("chat.completions", &body("Look at", "https://x/1.png")).unwrap();
    let (b, _) = split("chat.completions", &body("See", "https://x/1.png")).unwrap();
    let (c, _) = split("chat.completions", &body("Look at", "https://x/2.png")).unwrap();
    assert_eq!(pa, "user: Look at\nuser: and this?");
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(
        a["messages"][0]["content"][1]["image_url"]["url"],
        "https://x/1.png"
    );
    assert_eq!(
        a["messages"][0]["content"][2],
        json!({"type": "text", "text": ""})
    );
}

#[test]
fn chat_tool_calls_and_results_stay_in_the_bucket() {
    let body = |result: &str| {
        json!({"model": "m", "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
                "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": result}
        ]})
    };
    let (a, p) = split("chat.completions", &body("sunny")).unwrap();
    let (b, _) = split("chat.completions", &body("rain")).unwrap();
    assert_eq!(p, "user: Weather in Paris?");
    assert_ne!(a, b);
    assert_eq!(a["messages"][2]["content"], "sunny");
    assert_eq!(
        a["messages"][1]["tool_calls"][0]["function"]["name"],
        "weather"
    );
}

#[test]
fn anthropic_messages_with_a_system_string() {
    let body = json!({"model": "claude", "max_tokens": 100, "system": "Be brief.",
        "messages": [{"role": "user", "content": "Hello there"}]});
    let (bucket, prompt) = split("messages", &body).unwrap();
    assert_eq!(prompt, "system: Be brief.\nuser: Hello there");
    assert_eq!(bucket["system"], "");
    assert_eq!(bucket["messages"][0]["content"], "");
    assert_eq!(bucket["max_tokens"], 100);
}

#[test]
fn anthropic_system_blocks_and_content_blocks() {
    let body = |sys: &str, text: &str, result: &str| {
        json!({"model": "claude", "max_tokens": 100,
        "system": [{"type": "text", "text": sys, "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
                {"type": "text", "text": text}
            ]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "t1", "name": "look", "input": {"q": 1}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": result}]}
            ]}
        ]})
    };
    let (a, pa) = split("messages", &body("Be brief.", "What is this?", "a cat")).unwrap();
    let (b, pb) = split("messages", &body("Be short.", "What's this?", "a cat")).unwrap();
    let (c, _) = split("messages", &body("Be brief.", "What is this?", "a dog")).unwrap();
    assert_eq!(pa, "system: Be brief.\nuser: What is this?");
    assert_eq!(pb, "system: Be short.\nuser: What's this?");
    assert_eq!(a, b);
    // A tool result is not wording: it stays, so another result is another bucket.
    assert_ne!(a, c);
    assert_eq!(a["system"][0]["cache_control"]["type"], "ephemeral");
    assert_eq!(a["messages"][0]["content"][0]["source"]["data"], "AAAA");
    assert_eq!(a["messages"][1]["content"][0]["input"]["q"], 1);
}

#[test]
fn responses_input_as_a_string() {
    let body = json!({"model": "gpt-4.1", "instructions": "Answer in French.", "input": "Hello"});
    let (bucket, prompt) = split("responses", &body).unwrap();
    assert_eq!(prompt, "instructions: Answer in French.\nuser: Hello");
    assert_eq!(
        bucket,
        json!({"model": "gpt-4.1", "instructions": "", "input": ""})
    );
}

#[test]
fn responses_input_as_items() {
    let body = |q: &str, out: &str| {
        json!({"model": "gpt-4.1", "input": [
            {"role": "user", "content": q},
            {"type": "message", "role": "assistant", "content": [
                {"type": "output_text", "text": "Let me check.", "annotations": []}
            ]},
            {"type": "function_call", "call_id": "c1", "name": "search", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": out},
            {"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": "Summarise it"},
                {"type": "input_image", "image_url": "https://x/1.png"}
            ]}
        ]})
    };
    let (a, pa) = split("responses", &body("Find the news", "result")).unwrap();
    let (b, _) = split("responses", &body("Look up the news", "result")).unwrap();
    let (c, _) = split("responses", &body("Find the news", "other")).unwrap();
    assert_eq!(
        pa,
        "user: Find the news\nassistant: Let me check.\nuser: Summarise it"
    );
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a["input"][2]["name"], "search");
    assert_eq!(a["input"][4]["content"][1]["image_url"], "https://x/1.png");
}

#[test]
fn completions_prompt_as_a_string_or_strings() {
    let (bucket, prompt) =
        split("completions", &json!({"model": "m", "prompt": "Once upon"})).unwrap();
    assert_eq!(prompt, "prompt: Once upon");
    assert_eq!(bucket, json!({"model": "m", "prompt": ""}));
    let (bucket, prompt) =
        split("completions", &json!({"model": "m", "prompt": ["a", "b"]})).unwrap();
    assert_eq!(prompt, "prompt: a\nprompt: b");
    assert_eq!(bucket, json!({"model": "m", "prompt": ["", ""]}));
    // Token ids are not text the embedding can read.
    assert!(split("completions", &json!({"model": "m", "prompt": [1, 2, 3]})).is_none());
}

#[test]
fn no_text_or_another_operation_or_another_shape_is_none() {
    assert!(split("embeddings", &json!({"model": "m", "input": "hi"})).is_none());
    assert!(split("chat.completions", &json!({"model": "m"})).is_none());
    assert!(split("chat.completions", &json!({"model": "m", "messages": "hi"})).is_none());
    assert!(split(
        "chat.completions",
        &json!({"model": "m", "messages": [{"content": "no role"}]})
    )
    .is_none());
    assert!(split(
        "chat.completions",
        &json!({"model": "m", "messages": [{"role": "user", "content": "  "}]})
    )
    .is_none());
    assert!(split(
        "chat.completions",
        &json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://x/1.png"}}
        ]}]})
    )
    .is_none());
    assert!(split(
        "messages",
        &json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t", "content": "x"}
        ]}]})
    )
    .is_none());
    assert!(split("responses", &json!({"model": "m", "input": 5})).is_none());
}
