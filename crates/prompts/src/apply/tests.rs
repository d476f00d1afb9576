#![allow(clippy::unwrap_used)]

use super::*;
use crate::model::VersionBody;
use serde_json::json;

fn rendered() -> Rendered {
    let mut params = Map::new();
    params.insert("temperature".into(), json!(0.2));
    params.insert("max_tokens".into(), json!(300));
    Rendered {
        messages: vec![
            json!({"role": "system", "content": "You are terse."}),
            json!({"role": "user", "content": [
                {"type": "text", "text": "Look:"},
                {"type": "image_url", "image_url": {"url": "https://x.test/a.png", "detail": "low"}}]}),
        ],
        body: VersionBody {
            model: Some("gpt-4o".into()),
            params,
            tools: Some(json!([{"type": "function", "function": {"name": "lookup",
                "description": "Find", "parameters": {"type": "object", "properties": {}}}}])),
            response_format: Some(json!({"type": "json_schema", "json_schema":
                {"name": "answer", "schema": {"type": "object"}, "strict": true}})),
            ..VersionBody::default()
        },
    }
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn chat_gets_template_messages_first_and_the_callers_parameters_win() {
    let mut body =
        obj(json!({"messages": [{"role": "user", "content": "And?"}], "temperature": 0.9}));
    apply(Api::Chat, &mut body, &rendered()).unwrap();
    let msgs = body["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 3);
    assert_eq!(msgs[0]["content"], "You are terse.");
    assert_eq!(msgs[2]["content"], "And?");
    assert_eq!(body["model"], "gpt-4o");
    assert_eq!(body["temperature"], 0.9);
    assert_eq!(body["max_tokens"], 300);
    assert_eq!(body["tools"][0]["function"]["name"], "lookup");
    assert_eq!(body["response_format"]["type"], "json_schema");
    // The caller's model wins.
    let mut body = obj(json!({"model": "claude-x"}));
    apply(Api::Chat, &mut body, &rendered()).unwrap();
    assert_eq!(
        (
            body["model"].as_str(),
            body["messages"].as_array().unwrap().len()
        ),
        (Some("claude-x"), 2)
    );
}

#[test]
fn responses_get_input_items_and_renamed_parameters() {
    let mut body = obj(json!({"input": "What is it?"}));
    apply(Api::Responses, &mut body, &rendered()).unwrap();
    assert_eq!(
        body["input"],
        json!([
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": [
                {"type": "input_text", "text": "Look:"},
                {"type": "input_image", "image_url": "https://x.test/a.png", "detail": "low"}]},
            {"role": "user", "content": "What is it?"}
        ])
    );
    assert_eq!(body["max_output_tokens"], 300);
    assert!(body.get("max_tokens").is_none());
    assert_eq!(
        body["tools"][0],
        json!({"type": "function", "name": "lookup",
        "description": "Find", "parameters": {"type": "object", "properties": {}}})
    );
    assert_eq!(
        body["text"]["format"],
        json!({"type": "json_schema", "name": "answer",
        "schema": {"type": "object"}, "strict": true})
    );
}

#[test]
fn messages_get_system_blocks_and_anthropic_shapes() {
    let mut r = rendered();
    r.body.response_format = None;
    let mut body = obj(
        json!({"model": "claude-x", "max_tokens": 50, "system": "Be kind.",
        "messages": [{"role": "user", "content": "Hi"}]}),
    );
    apply(Api::Messages, &mut body, &r).unwrap();
    assert_eq!(
        body["system"],
        json!([{"type": "text", "text": "You are terse."}, {"type": "text", "text": "Be kind."}])
    );
    let msgs = body["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert_eq!(msgs[0]["content"][1]["type"], "image");
    assert_eq!(
        msgs[0]["content"][1]["source"]["url"],
        "https://x.test/a.png"
    );
    // The caller's Messages turn follows the template's.
    assert_eq!(msgs[1]["role"], "user");
    assert_eq!(body["max_tokens"], 50);
    assert_eq!(body["tools"][0]["name"], "lookup");
    assert!(body["tools"][0].get("input_schema").is_some());
    assert_eq!(body["temperature"], 0.2);
}

#[test]
fn a_request_with_no_model_anywhere_is_refused() {
    let mut r = rendered();
    r.body.model = None;
    let e = apply(Api::Chat, &mut obj(json!({})), &r).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("model"));
}
