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
