#![allow(clippy::unwrap_used)]

use super::*;
use serde_json::json;

fn spec(name: &str, kind: VarType, required: bool, default: Option<Value>) -> VarSpec {
    VarSpec {
        name: name.into(),
        kind,
        required,
        default,
        description: None,
    }
}

fn vars(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn schema(specs: Vec<VarSpec>, used: &[&str], strict: bool) -> Schema {
    Schema {
        specs,
        used: used.iter().map(|s| (*s).to_owned()).collect(),
        top: used.iter().map(|s| (*s).to_owned()).collect(),
        strict,
    }
}

#[test]
fn defaults_fill_in_and_required_ones_are_named_when_missing() {
    let s = schema(
        vec![
            spec("customer", VarType::String, true, None),
            spec("tone", VarType::String, false, Some(json!("friendly"))),
            spec("limit", VarType::Integer, false, None),
        ],
        &["customer", "tone", "limit"],
        false,
    );
    let out = s.check(&vars(json!({"customer": "Ana"}))).unwrap();
    assert_eq!(out["tone"], "friendly");
    assert!(!out.contains_key("limit"));
    let e = s.check(&vars(json!({"costumer": "Ana"}))).unwrap_err();
    assert_eq!(e.variable, "customer");
    assert!(
        e.message
            .contains("Missing required prompt variable \"customer\""),
        "{e}"
    );
    assert!(e.message.contains("\"costumer\" was given"), "{e}");
}

#[test]
fn types_are_checked() {
    let s = schema(
        vec![
            spec("n", VarType::Integer, false, None),
            spec("x", VarType::Number, false, None),
            spec("flag", VarType::Boolean, false, None),
            spec("image", VarType::Content, false, None),
        ],
        &[],
        false,
    );
    assert!(s
        .check(&vars(json!({"n": 3, "x": 2.5, "flag": true,
            "image": {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}})))
        .is_ok());
    let e = s.check(&vars(json!({"n": 2.5}))).unwrap_err();
    assert_eq!(
        e.message,
        "Prompt variable \"n\" must be of type integer, not number."
    );
    let e = s.check(&vars(json!({"flag": "yes"}))).unwrap_err();
    assert!(e.message.contains("boolean, not string"), "{e}");
    let e = s
        .check(&vars(json!({"image": "https://x.test/a.png"})))
        .unwrap_err();
    assert!(e.message.contains("content"), "{e}");
    assert!(s.check(&vars(json!({"image": []}))).is_err());
}

#[test]
fn strict_mode_refuses_unknown_names_with_a_suggestion() {
    let s = schema(
        vec![spec("topic", VarType::String, false, None)],
        &["topic"],
        true,
    );
    let e = s.check(&vars(json!({"topci": "tea"}))).unwrap_err();
    assert_eq!(e.variable, "topci");
    assert!(e.message.contains("Did you mean \"topic\"?"), "{e}");
    assert!(e.message.contains("variables: topic"), "{e}");
    // Not strict: extra names pass.
    let lax = schema(
        vec![spec("topic", VarType::String, false, None)],
        &["topic"],
        false,
    );
    assert!(lax.check(&vars(json!({"topci": "tea"}))).is_ok());
}

#[test]
fn without_declarations_top_level_names_are_required_and_known() {
    let s = schema(vec![], &["name"], true);
    assert!(s.check(&vars(json!({"name": "Bo"}))).is_ok());
    let e = s.check(&vars(json!({}))).unwrap_err();
    assert_eq!(e.variable, "name");
    let e = s
        .check(&vars(json!({"name": "Bo", "extra": 1})))
        .unwrap_err();
    assert_eq!(e.variable, "extra");
}
