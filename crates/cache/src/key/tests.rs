#![allow(clippy::unwrap_used)]

use super::*;
use serde_json::json;

fn key(scope: &str, op: &str, target: &str, policies: &[&str], body: &Value) -> Key {
    let policies: Vec<String> = policies.iter().map(|s| s.to_string()).collect();
    Key::new(&KeyParts {
        scope,
        operation: op,
        target,
        policies: &policies,
        body,
    })
}

fn chat(body: &str) -> Key {
    key(
        "ws1",
        "chat.completions",
        "openai/gpt-4o-mini",
        &[],
        &serde_json::from_str(body).unwrap(),
    )
}

#[test]
fn field_order_and_whitespace_do_not_matter() {
    let a = chat(r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.2}"#);
    let b = chat(
        r#"{ "temperature": 0.2,
             "messages": [ {"content": "hi", "role": "user"} ],
             "model": "m" }"#,
    );
    assert_eq!(a, b);
}

#[test]
fn delivery_and_bookkeeping_fields_do_not_matter() {
    let base = chat(r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#);
    let streamed = chat(
        r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,
            "stream_options":{"include_usage":true},"user":"u-1","metadata":{"a":"b"},
            "store":false,"cache":{"mode":"simple"}}"#,
    );
    assert_eq!(base, streamed);
}

#[test]
fn everything_that_changes_the_answer_changes_the_key() {
    let base = r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.2}"#;
    let k = chat(base);
    for other in [
        r#"{"model":"m2","messages":[{"role":"user","content":"hi"}],"temperature":0.2}"#,
        r#"{"model":"m","messages":[{"role":"user","content":"hi!"}],"temperature":0.2}"#,
        r#"{"model":"m","messages":[{"role":"system","content":"hi"}],"temperature":0.2}"#,
        r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.3}"#,
        r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.2,"max_tokens":5}"#,
        r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.2,"tools":[]}"#,
        // A nested field named like an ignored one still counts.
        r#"{"model":"m","messages":[{"role":"user","content":"hi","user":"x"}],"temperature":0.2}"#,
    ] {
        assert_ne!(k, chat(other), "{other}");
    }
    let body: Value = serde_json::from_str(base).unwrap();
    let k = key("ws1", "chat.completions", "t", &["p1"], &body);
    assert_ne!(
        k,
        key("ws2", "chat.completions", "t", &["p1"], &body),
        "scope"
    );
    assert_ne!(k, key("ws1", "responses", "t", &["p1"], &body), "operation");
    assert_ne!(
        k,
        key("ws1", "chat.completions", "t2", &["p1"], &body),
        "target"
    );
    assert_ne!(
        k,
        key("ws1", "chat.completions", "t", &[], &body),
        "policies"
    );
    assert_ne!(
        k,
        key("ws1", "chat.completions", "t", &["p2"], &body),
        "policies"
    );
    // The order of the policies does not matter; parts do not run into each other.
    assert_eq!(
        key("ws1", "chat.completions", "t", &["a", "b"], &body),
        key("ws1", "chat.completions", "t", &["b", "a", "a"], &body)
    );
    assert_ne!(
        key("ab", "c", "t", &[], &body),
        key("a", "bc", "t", &[], &body)
    );
}

/// A random JSON object, and the same object written with its keys in another order.
fn object(r: &mut fastrand::Rng, depth: u32) -> (String, String) {
    let n = r.usize(1..5);
    let mut fields: Vec<(String, (String, String))> = (0..n)
        .map(|i| {
            let v = match r.u8(0..4) {
                0 if depth < 3 => object(r, depth + 1),
                1 => {
                    let s = format!("\"t{}\"", r.u32(..1000));
                    (s.clone(), s)
                }
                2 => {
                    let s = r.i64(-99..99).to_string();
                    (s.clone(), s)
                }
                _ => ("[1,2]".to_owned(), "[1,2]".to_owned()),
            };
            (format!("k{i}"), v)
        })
        .collect();
    let write = |fields: &[(String, (String, String))], second: bool| {
        let inner: Vec<String> = fields
            .iter()
            .map(|(k, (a, b))| format!("\"{k}\": {}", if second { b } else { a }))
            .collect();
        format!("{{{}}}", inner.join(", "))
    };
    let first = write(&fields, false);
    r.shuffle(&mut fields);
    (first, write(&fields, true))
}

#[test]
fn property_key_order_never_matters_and_a_changed_value_always_does() {
    for seed in 0..500 {
        let mut r = fastrand::Rng::with_seed(seed);
        let (a, b) = object(&mut r, 0);
        let va: Value = serde_json::from_str(&a).unwrap();
        let vb: Value = serde_json::from_str(&b).unwrap();
        let k = key("s", "o", "t", &[], &va);
        assert_eq!(k, key("s", "o", "t", &[], &vb), "{a} / {b}");
        let mut changed = va.clone();
        changed["k0"] = json!(format!("other-{seed}"));
        assert_ne!(k, key("s", "o", "t", &[], &changed), "{a}");
    }
}

#[test]
fn keys_print_as_hex() {
    let k = chat(r#"{"model":"m","messages":[]}"#);
    let h = k.hex();
    assert_eq!(h.len(), 64);
    assert!(h
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
}
