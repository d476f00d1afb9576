use super::*;

#[test]
fn reads_model_and_stream() {
    let body = br#"{"model":"gpt-4o-mini","messages":[],"stream":true}"#;
    let p = peek(body, Required::Messages).unwrap();
    assert_eq!(p.model, "gpt-4o-mini");
    assert!(p.stream);
    assert_eq!(&body[p.model_span.clone()], br#""gpt-4o-mini""#);
}

#[test]
fn rewrite_keeps_every_other_byte() {
    let body = Bytes::from_static(
        b"{ \"messages\" : [ {\"role\":\"user\",\"content\":\"hi\"} ],\n  \"model\":  \"openai/gpt-4o\" , \"x_vendor\": {\"keep\": 1.50} }",
    );
    let p = peek(&body, Required::Messages).unwrap();
    let out = rewrite_model(&body, &p, "gpt-4o");
    assert_eq!(
        &out[..],
        &b"{ \"messages\" : [ {\"role\":\"user\",\"content\":\"hi\"} ],\n  \"model\":  \"gpt-4o\" , \"x_vendor\": {\"keep\": 1.50} }"[..]
    );
}

#[test]
fn rewrite_unchanged_model_is_same_buffer() {
    let body = Bytes::from_static(br#"{"model":"m","messages":[]}"#);
    let p = peek(&body, Required::Messages).unwrap();
    let out = rewrite_model(&body, &p, "m");
    assert_eq!(out.as_ptr(), body.as_ptr());
}

#[test]
fn escaped_model_name_is_decoded_and_reencoded() {
    let body = Bytes::from_static(br#"{"model":"a\/b","messages":[]}"#);
    let p = peek(&body, Required::Messages).unwrap();
    assert_eq!(p.model, "a/b");
    let out = rewrite_model(&body, &p, "x\"y");
    assert_eq!(&out[..], br#"{"model":"x\"y","messages":[]}"#);
}

#[test]
fn missing_fields_are_named() {
    let e = peek(br#"{"messages":[]}"#, Required::Messages).unwrap_err();
    assert_eq!(e.message, "missing required field 'model'");
    assert_eq!(e.param.as_deref(), Some("model"));
    let e = peek(br#"{"model":"m"}"#, Required::Messages).unwrap_err();
    assert_eq!(e.message, "missing required field 'messages'");
    let e = peek(br#"{"model":"m"}"#, Required::Input).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("input"));
    let e = peek(br#"{"model":"m"}"#, Required::Prompt).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("prompt"));
}

#[test]
fn wrong_types_name_the_field() {
    let e = peek(
        br#"{"model":"m","messages":[],"stream":"yes"}"#,
        Required::Messages,
    )
    .unwrap_err();
    assert_eq!(e.param.as_deref(), Some("stream"));
    assert!(
        e.message.starts_with("invalid value for 'stream'"),
        "{}",
        e.message
    );
    let e = peek(br#"{"model":5,"messages":[]}"#, Required::Messages).unwrap_err();
    assert_eq!(e.message, "'model' must be a string");
    let e = peek(br#"{"model":"m","messages":{}}"#, Required::Messages).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("messages"));
}

#[test]
fn malformed_json_and_non_objects() {
    let e = peek(br#"{"model":"m","#, Required::Messages).unwrap_err();
    assert!(
        e.message.starts_with("request body is not valid JSON"),
        "{}",
        e.message
    );
    let e = peek(b"[1,2]", Required::Messages).unwrap_err();
    assert!(
        e.message.starts_with("request body must be a JSON object"),
        "{}",
        e.message
    );
    let e = peek(b"  ", Required::Messages).unwrap_err();
    assert_eq!(e.message, "request body is empty; expected a JSON object");
    let e = peek(
        br#"{"model":"m","messages":[]} trailing"#,
        Required::Messages,
    )
    .unwrap_err();
    assert!(
        e.message.starts_with("request body is not valid JSON"),
        "{}",
        e.message
    );
}

#[test]
fn a_field_can_follow_the_model_in_the_same_copy() {
    let body = Bytes::from_static(br#"{"model" : "a\/b" ,"messages":[],"stream":true}"#);
    let p = peek(&body, Required::Messages).unwrap();
    let field = br#","stream_options":{"include_usage":true}"#;
    // Unchanged model: its bytes stay as written.
    let same = rewrite_model_then(&body, &p, "a/b", field);
    assert_eq!(
        &same[..],
        br#"{"model" : "a\/b","stream_options":{"include_usage":true} ,"messages":[],"stream":true}"#
    );
    let changed = rewrite_model_then(&body, &p, "gpt-6", field);
    let v: serde_json::Value = serde_json::from_slice(&changed).unwrap();
    assert_eq!(v["model"], "gpt-6");
    assert_eq!(v["stream_options"]["include_usage"], true);
    assert_eq!(v["stream"], true);
}

/// Pieces of request bodies that matter to the peek.
const FRAGMENTS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b" ",
    b"\"model\"",
    b"\"messages\"",
    b"\"stream\"",
    b"\"prompt\"",
    b"\"input\"",
    b"\"gpt-4o\"",
    b"\"\"",
    b"\"a\\u00e9\\\"b\"",
    b"true",
    b"null",
    b"12",
    b"\"",
    b"\\",
    b"\xff",
];

/// A body that is valid more often than random pieces would be.
fn body(r: &mut fastrand::Rng) -> Vec<u8> {
    if r.bool() {
        return crate::testgen::from_fragments(r, FRAGMENTS, 30);
    }
    let mut fields = vec![
        "\"model\": \"m\\/1\"".to_owned(),
        "\"messages\": [{\"role\":\"user\",\"content\":\"hi\"}]".to_owned(),
        format!("\"stream\": {}", r.bool()),
        "\"x\": {\"y\": [1.5, null]}".to_owned(),
    ];
    r.shuffle(&mut fields);
    fields.truncate(r.usize(0..=4));
    let mut b = format!("{{{}}}", fields.join(" ,")).into_bytes();
    if r.u8(..) < 64 && !b.is_empty() {
        let at = r.usize(..b.len());
        b[at] = FRAGMENTS[r.usize(..FRAGMENTS.len())][0];
    }
    b
}

#[test]
fn property_any_body_peeks_without_panic_and_rewrites_only_the_model() {
    use crate::testgen::{rng, CASES};
    let mut ok = 0;
    for case in 0..CASES * 5 {
        let mut r = rng(case);
        let b = Bytes::from(body(&mut r));
        let required = [Required::Messages, Required::Prompt, Required::Input][r.usize(..3)];
        let Ok(p) = peek(&b, required) else {
            continue;
        };
        ok += 1;
        // What was accepted is JSON, and the span holds the model as a JSON string.
        assert!(
            serde_json::from_slice::<serde_json::Value>(&b).is_ok(),
            "case {case}"
        );
        let at: String = serde_json::from_slice(&b[p.model_span.clone()]).unwrap();
        assert_eq!(at, p.model, "case {case}");
        // A rewrite changes the model and no other byte.
        let out = rewrite_model(&b, &p, "new/\"model\"");
        let again = peek(&out, required).unwrap();
        assert_eq!(again.model, "new/\"model\"", "case {case}");
        assert_eq!(&out[..p.model_span.start], &b[..p.model_span.start]);
        assert_eq!(
            &out[again.model_span.end..],
            &b[p.model_span.end..],
            "case {case}"
        );
    }
    assert!(ok > 50, "only {ok} bodies were accepted");
}

#[test]
fn property_time_is_linear_in_the_body() {
    use crate::testgen::best_of_three;
    let shapes = [
        |n: usize| {
            format!(
                "{{\"model\":\"m\",\"messages\":[\"{}\"]}}",
                "ab\\n".repeat(n)
            )
        },
        |n: usize| {
            format!(
                "{{\"model\":\"m\",\"messages\":[{}1]}}",
                "{\"k\":[2]},".repeat(n)
            )
        },
        |n: usize| {
            let keys: String = (0..n).map(|i| format!("\"k{i}\":{i},")).collect();
            format!("{{{keys}\"messages\":[],\"model\":\"m\"}}")
        },
        |n: usize| format!("{{\"model\":\"m\",\"messages\":[]{}}}", " ".repeat(n * 4)),
    ];
    for shape in shapes {
        let (small, large) = (shape(1 << 12), shape(1 << 15));
        assert!(
            peek(large.as_bytes(), Required::Messages).is_ok(),
            "the whole body is read"
        );
        let t_small = best_of_three(|| {
            let _ = std::hint::black_box(peek(small.as_bytes(), Required::Messages));
        });
        let t_large = best_of_three(|| {
            let _ = std::hint::black_box(peek(large.as_bytes(), Required::Messages));
        });
        // 8x the input; a quadratic peek would take 64x. Generous for a busy machine.
        assert!(
            t_large <= t_small * 32 + std::time::Duration::from_millis(5),
            "{t_small:?} then {t_large:?}"
        );
    }
}
