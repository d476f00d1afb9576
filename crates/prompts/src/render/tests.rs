#![allow(clippy::unwrap_used)]

use super::*;
use crate::model::{MessageTemplate, VarSpec};
use serde_json::json;

fn version(messages: Value, variables: Value) -> Version {
    let messages: Vec<MessageTemplate> = serde_json::from_value(messages).unwrap();
    let variables: Vec<VarSpec> = serde_json::from_value(variables).unwrap();
    Version {
        version: 3,
        body: VersionBody {
            messages,
            variables,
            model: Some("gpt-4o".into()),
            ..VersionBody::default()
        },
        partials: Default::default(),
        created_ms: 0,
        created_by: "test".into(),
    }
}

fn vars(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn messages_are_filled_and_the_body_kept() {
    let v = version(
        json!([{"role": "system", "content": "You help {{company}} customers."},
               {"role": "user", "content": [{"type": "text", "text": "Order {{order}}"}]}]),
        json!([]),
    );
    let c = Compiled::compile("support", &v, &HashMap::new()).unwrap();
    let r = c
        .render(&vars(json!({"company": "Acme & Co", "order": 42})))
        .unwrap();
    assert_eq!(
        r.messages,
        vec![
            json!({"role": "system", "content": "You help Acme & Co customers."}),
            json!({"role": "user", "content": [{"type": "text", "text": "Order 42"}]}),
        ]
    );
    assert_eq!(r.body.model.as_deref(), Some("gpt-4o"));
    assert_eq!((c.id.as_str(), c.version), ("support", 3));
}

#[test]
fn a_content_variable_becomes_parts_where_it_stands() {
    let v = version(
        json!([{"role": "user", "content": "Describe {{photo}} in {{words}} words."}]),
        json!([{"name": "photo", "type": "content", "required": true},
               {"name": "words", "type": "integer", "default": 10}]),
    );
    let c = Compiled::compile("vision", &v, &HashMap::new()).unwrap();
    let image = json!({"type": "image_url", "image_url": {"url": "https://x.test/cat.png"}});
    let r = c.render(&vars(json!({"photo": image.clone()}))).unwrap();
    assert_eq!(
        r.messages[0]["content"],
        json!([{"type": "text", "text": "Describe "}, image,
               {"type": "text", "text": " in 10 words."}])
    );
    // Two images in an array, inside a text part of a parts message.
    let v = version(
        json!([{"role": "user", "content": [{"type": "text", "text": "{{pics}}"},
                                            {"type": "text", "text": "Compare them."}]}]),
        json!([{"name": "pics", "type": "content"}]),
    );
    let c = Compiled::compile("compare", &v, &HashMap::new()).unwrap();
    let r = c
        .render(&vars(json!({"pics": [image.clone(), image.clone()]})))
        .unwrap();
    assert_eq!(
        r.messages[0]["content"],
        json!([image, image, {"type": "text", "text": "Compare them."}])
    );
}

#[test]
fn partials_resolve_recursively_and_cycles_are_refused() {
    let v = version(
        json!([{"role": "system", "content": "{{> header}}\nAnswer."}]),
        json!([]),
    );
    let mut partials = HashMap::new();
    partials.insert(
        "header".to_owned(),
        "You are {{name}}. {{> motto}}".to_owned(),
    );
    // A standalone partial tag takes its whole line (the Mustache specification): the
    // partial brings its own line end.
    partials.insert("motto".to_owned(), "Be {{trait}}.\n".to_owned());
    let c = Compiled::compile("p", &v, &partials).unwrap();
    let r = c
        .render(&vars(json!({"name": "Ada", "trait": "kind"})))
        .unwrap();
    assert_eq!(r.messages[0]["content"], "You are Ada. Be kind.\nAnswer.");
    // Names used in partials are required too (nothing declared).
    let e = c.render(&vars(json!({"name": "Ada"}))).unwrap_err();
    assert!(e.to_string().contains("\"trait\""), "{e}");
    partials.insert("motto".to_owned(), "{{> header}}".to_owned());
    let e = Compiled::compile("p", &v, &partials).unwrap_err();
    assert!(e.message.contains("includes itself"), "{e}");
    partials.remove("motto");
    let e = Compiled::compile("p", &v, &partials).unwrap_err();
    assert!(e.message.contains("unknown partial \"motto\""), "{e}");
}

#[test]
fn template_errors_name_the_message() {
    let v = version(
        json!([{"role": "user", "content": "ok"}, {"role": "user", "content": "{{#a}}"}]),
        json!([]),
    );
    let e = Compiled::compile("p", &v, &HashMap::new()).unwrap_err();
    assert!(e.message.starts_with("messages[1]:"), "{e}");
}
