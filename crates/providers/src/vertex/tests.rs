//! Vertex request shapes from Google Cloud's Vertex AI reference (generateContent,
//! streamGenerateContent, countTokens, predict for text embeddings) and Anthropic's "Claude on
//! Vertex AI" guide (rawPredict / streamRawPredict, `anthropic_version: vertex-2023-10-16`),
//! transcribed 2026-11-30.

use super::*;
use crate::endpoint::Endpoint;
use crate::format::Format;
use crate::AuthStyle;
use serde_json::json;

fn ep() -> Endpoint {
    Endpoint {
        base_url: "https://us-east5-aiplatform.googleapis.com".into(),
        auth: AuthStyle::Bearer,
        auth_value: None,
        headers: Vec::new(),
        azure_api_version: None,
        vertex: Some(Location {
            project: "proj-1".into(),
            location: "us-east5".into(),
        }),
        native_responses: false,
    }
}

fn body(r: &http::Request<Bytes>) -> Value {
    serde_json::from_slice(r.body()).unwrap()
}

#[test]
fn gemini_models_take_gemini_bodies_at_publisher_google() {
    let chat = json!({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 5});
    let r = format::Vertex
        .chat_request(
            &ep(),
            &chat,
            "gemini-2.5-flash",
            false,
            &mut crate::translate::Fields::default(),
        )
        .unwrap();
    assert_eq!(
        r.uri(),
        "https://us-east5-aiplatform.googleapis.com/v1/projects/proj-1/locations/us-east5/publishers/google/models/gemini-2.5-flash:generateContent"
    );
    assert_eq!(
        body(&r),
        json!({"contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
            "generationConfig": {"maxOutputTokens": 5}})
    );
    let r = format::Vertex
        .chat_request(
            &ep(),
            &chat,
            "gemini-2.5-flash",
            true,
            &mut crate::translate::Fields::default(),
        )
        .unwrap();
    assert!(r
        .uri()
        .to_string()
        .ends_with("/models/gemini-2.5-flash:streamGenerateContent?alt=sse"));
}

#[test]
fn claude_models_take_messages_bodies_without_model() {
    let chat = json!({"messages": [{"role": "user", "content": "Hi"}], "stream": true});
    let r = format::Vertex
        .chat_request(
            &ep(),
            &chat,
            "claude-sonnet-4-5@20250929",
            true,
            &mut crate::translate::Fields::default(),
        )
        .unwrap();
    assert_eq!(
        r.uri(),
        "https://us-east5-aiplatform.googleapis.com/v1/projects/proj-1/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict"
    );
    assert_eq!(
        body(&r),
        json!({"anthropic_version": "vertex-2023-10-16", "stream": true, "max_tokens": 4096,
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]})
    );
    let m = json!({"model": "x", "max_tokens": 9, "messages": [], "system": [{"type": "text", "text": "s", "cache_control": {"type": "ephemeral"}}]});
    let r = format::Vertex
        .messages_request(&ep(), &m, "claude-opus-4-1@20250805", false)
        .unwrap()
        .unwrap();
    assert!(r.uri().to_string().ends_with(":rawPredict"));
    assert_eq!(
        body(&r),
        json!({"anthropic_version": "vertex-2023-10-16", "max_tokens": 9, "messages": [],
            "system": [{"type": "text", "text": "s", "cache_control": {"type": "ephemeral"}}]})
    );
}

#[test]
fn count_tokens_embeddings_and_bad_names() {
    let chat = json!({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 5, "tool_choice": "auto"});
    let r = format::Vertex
        .count_tokens_request(
            &ep(),
            &chat,
            "gemini-2.5-pro",
            &mut crate::translate::Fields::default(),
        )
        .unwrap();
    assert!(r
        .uri()
        .to_string()
        .ends_with("/models/gemini-2.5-pro:countTokens"));
    assert_eq!(
        body(&r),
        json!({"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]})
    );
    assert!(format::Vertex
        .count_tokens_request(
            &ep(),
            &chat,
            "claude-sonnet-4-5",
            &mut crate::translate::Fields::default()
        )
        .is_err());

    let (b, echo) = embed::from_openai(
        &json!({"input": ["a", "b"], "dimensions": 3}),
        "text-embedding-005",
        &mut crate::translate::Fields::default(),
    )
    .unwrap();
    assert_eq!(
        b,
        json!({"instances": [{"content": "a"}, {"content": "b"}], "parameters": {"outputDimensionality": 3}})
    );
    let out = embed::to_openai(
        &json!({"predictions": [
            {"embeddings": {"values": [0.5, 1.0], "statistics": {"token_count": 2, "truncated": false}}},
            {"embeddings": {"values": [0.25, 0.0], "statistics": {"token_count": 3.0, "truncated": false}}}]}),
        &echo,
    );
    assert_eq!(out["data"][1]["embedding"], json!([0.25, 0.0]));
    assert_eq!(out["usage"]["prompt_tokens"], 5);

    assert!(matches!(
        build_request(
            &ep(),
            Operation::ChatCompletions,
            "a/b",
            Bytes::new(),
            false
        ),
        Err(BuildError::BadModel(_))
    ));
    assert_eq!(
        default_base_url("global"),
        "https://aiplatform.googleapis.com"
    );
    assert_eq!(
        default_base_url("europe-west4"),
        "https://europe-west4-aiplatform.googleapis.com"
    );
}
