//! Azure OpenAI: deployment URLs with api-version and an `api-key` header, from the standard
//! environment variables.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::*;

#[tokio::test]
async fn azure_deployments_from_the_environment() {
    let mock = switchyard_mock::start(switchyard_mock::MockOptions {
        record: true,
        expect_key: Some("az-key-1".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    let env = env(&[
        ("AZURE_OPENAI_API_KEY", "az-key-1"),
        ("AZURE_OPENAI_ENDPOINT", &format!("http://{}", mock.addr)),
    ]);
    let mut cfg = switchyard_config::from_env(&env).unwrap();
    support::temp_log(&mut cfg);
    let state = switchyard::state::AppState::build(cfg).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = switchyard::serve(state, listener, axum::Router::new()).unwrap();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let post = |path: &str, body: &'static str| {
        http::Request::post(format!("http://{}{path}", server.addr))
            .body(http_body_util::Full::new(bytes::Bytes::from_static(
                body.as_bytes(),
            )))
            .unwrap()
    };
    let (s, _, b) = collect(client.request(post("/v1/chat/completions", r#"{"model":"azure/my-gpt4o","messages":[{"role":"user","content":"Hi"}],"stream":true}"#)).await.unwrap()).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    assert!(b.ends_with(b"data: [DONE]\n\n"));
    let rec = &mock.requests()[0];
    assert_eq!(
        rec.target,
        "/openai/deployments/my-gpt4o/chat/completions?api-version=2024-10-21"
    );
    assert_eq!(rec.header("api-key"), Some("az-key-1"));
    assert_eq!(rec.header("authorization"), None);
    let (s, _, b) = collect(
        client
            .request(post(
                "/v1/embeddings",
                r#"{"model":"text-emb","input":"x"}"#,
            ))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    assert_eq!(
        mock.requests()[1].target,
        "/openai/deployments/text-emb/embeddings?api-version=2024-10-21"
    );
    // A deployment name that would change the URL is refused before anything is sent.
    let (s, _, b) = collect(
        client
            .request(post(
                "/v1/chat/completions",
                r#"{"model":"azure/x?y=1","messages":[{"role":"user","content":"hi"}]}"#,
            ))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(json(&b)["error"]["param"], "model");
    assert_eq!(mock.requests().len(), 2);
}
