use super::*;
use serde_json::json;

#[test]
fn chat_usage_is_read_with_its_details() {
    let v = json!({"prompt_tokens": 100, "completion_tokens": 40,
        "prompt_tokens_details": {"cached_tokens": 30, "cache_write_tokens": 20},
        "completion_tokens_details": {"reasoning_tokens": 10}});
    let u = Usage::from_chat(&v);
    assert_eq!(
        (
            u.input,
            u.output,
            u.cached_input,
            u.cache_write,
            u.reasoning
        ),
        (100, 40, 30, 20, 10)
    );
    assert_eq!(Usage::from_chat(&Value::Null), Usage::default());
}

#[test]
fn anthropic_prompt_total_adds_cache_reads_and_writes() {
    let v = json!({"input_tokens": 10, "cache_read_input_tokens": 200,
        "cache_creation_input_tokens": 50, "output_tokens": 7});
    let u = Usage::from_anthropic(&v);
    assert_eq!(
        (u.input, u.cached_input, u.cache_write, u.output),
        (260, 200, 50, 7)
    );
}

#[test]
fn responses_usage_is_read_with_its_details() {
    let v = json!({"input_tokens": 12, "input_tokens_details": {"cached_tokens": 4},
        "output_tokens": 9, "output_tokens_details": {"reasoning_tokens": 3}, "total_tokens": 21});
    let u = Usage::from_responses(&v);
    assert_eq!(
        (u.input, u.cached_input, u.output, u.reasoning),
        (12, 4, 9, 3)
    );
}

#[test]
fn whole_bodies_in_each_shape() {
    let mut t = UsageTap::new(Shape::Chat);
    t.body(br#"{"id":"x","usage":{"prompt_tokens":3,"completion_tokens":2}}"#);
    assert_eq!(t.usage().map(|u| (u.input, u.output)), Some((3, 2)));

    let mut t = UsageTap::new(Shape::Anthropic);
    t.body(br#"{"type":"message","usage":{"input_tokens":3,"cache_read_input_tokens":1,"output_tokens":2}}"#);
    assert_eq!(t.usage().map(|u| (u.input, u.cached_input)), Some((4, 1)));

    let mut t = UsageTap::new(Shape::Chat);
    t.body(br#"{"id":"x","choices":[]}"#);
    assert_eq!(t.usage(), None);
}

#[test]
fn chat_streams_take_the_chunk_with_usage_and_ignore_nulls() {
    let mut t = UsageTap::new(Shape::Chat);
    t.event(br#"{"choices":[{"delta":{"content":"Hi"}}],"usage":null}"#);
    assert_eq!(t.usage(), None);
    t.event(br#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":8,"completion_tokens_details":{"reasoning_tokens":2}}}"#);
    t.event(b"[DONE]");
    assert_eq!(
        t.usage().map(|u| (u.input, u.output, u.reasoning)),
        Some((5, 8, 2))
    );
}

#[test]
fn anthropic_streams_join_message_start_and_the_last_delta() {
    let mut t = UsageTap::new(Shape::Anthropic);
    t.event(br#"{"type":"message_start","message":{"usage":{"input_tokens":20,"cache_creation_input_tokens":100,"output_tokens":1}}}"#);
    t.event(br#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"the word \"usage\" in text"}}"#);
    t.event(br#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":15}}"#);
    assert_eq!(
        t.usage().map(|u| (u.input, u.cache_write, u.output)),
        Some((120, 100, 15))
    );
    // A delta that repeats prompt counts replaces those it gives.
    t.event(br#"{"type":"message_delta","delta":{},"usage":{"input_tokens":20,"cache_read_input_tokens":5,"output_tokens":16}}"#);
    assert_eq!(
        t.usage()
            .map(|u| (u.input, u.cached_input, u.cache_write, u.output)),
        Some((125, 5, 100, 16))
    );
}

#[test]
fn responses_streams_read_response_completed() {
    let mut t = UsageTap::new(Shape::Responses);
    t.event(br#"{"type":"response.created","response":{"usage":null}}"#);
    assert_eq!(t.usage(), None);
    t.event(br#"{"type":"response.completed","response":{"usage":{"input_tokens":7,"output_tokens":3}}}"#);
    assert_eq!(t.usage().map(|u| (u.input, u.output)), Some((7, 3)));
}

#[test]
fn broken_json_leaves_what_was_read() {
    let mut t = UsageTap::new(Shape::Chat);
    t.event(br#"{"usage":{"prompt_tokens":1,"completion_tokens":1}}"#);
    t.event(br#"{"usage": {"prompt_tok"#);
    assert_eq!(t.usage().map(|u| u.input), Some(1));
}

#[test]
fn body_reads_only_the_top_level_usage_object() {
    let mut tap = UsageTap::new(Shape::Chat);
    // The word in content is escaped; the real key closes the body.
    let body = br#"{"choices":[{"message":{"content":"say \"usage\": {\"prompt_tokens\": 9}"}}],"usage" : {"prompt_tokens":12,"completion_tokens":3}}"#;
    tap.body(body);
    let u = tap.usage().unwrap();
    assert_eq!((u.input, u.output), (12, 3));
    let mut none = UsageTap::new(Shape::Chat);
    none.body(br#"{"choices":[{"message":{"content":"no \"usage\" here"}}]}"#);
    assert_eq!(none.usage(), None);
    let mut broken = UsageTap::new(Shape::Chat);
    broken.body(br#"{"usage": 5}"#);
    assert_eq!(broken.usage(), None);
}

#[test]
fn only_events_with_a_usage_value_are_parsed() {
    use super::carries_usage;
    assert!(!carries_usage(br#"{"id":"c","choices":[],"usage":null}"#));
    assert!(!carries_usage(br#"{"usage" :  null,"x":1}"#));
    assert!(!carries_usage(
        br#"{"choices":[{"delta":{"content":"no usage here"}}]}"#
    ));
    assert!(carries_usage(
        br#"{"choices":[],"usage":{"prompt_tokens":3}}"#
    ));
    assert!(carries_usage(br#"{"usage" : {"input_tokens":1}}"#));
    // A null one first, the real one later.
    assert!(carries_usage(
        br#"{"a":{"usage":null},"usage":{"output_tokens":2}}"#
    ));
    // A string holding the word with its quotes escaped is left to the parse.
    assert!(!carries_usage(br#"{"text":"the \"usage\" key"}"#));
}
