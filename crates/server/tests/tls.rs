//! HTTPS upstreams: the gateway verifies the provider's certificate against the system roots plus
//! a provider's `ca_file`, and refuses one it cannot verify.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use support::*;
use switchyard::state::AppState;
use switchyard_mock::MockOptions;

struct TlsMock {
    mock: switchyard_mock::MockHandle,
    ca_file: std::path::PathBuf,
}

async fn tls_mock() -> TlsMock {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into());
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![ck.cert.der().clone()], key)
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mock = switchyard_mock::spawn_tls(
        listener,
        MockOptions {
            record: true,
            expect_key: None,
            ..Default::default()
        },
        Arc::new(cfg),
    )
    .unwrap();
    let ca_file = std::env::temp_dir().join(format!(
        "sy-tls-{}-{}.pem",
        std::process::id(),
        mock.addr.port()
    ));
    std::fs::write(&ca_file, ck.cert.pem()).unwrap();
    TlsMock { mock, ca_file }
}

async fn gateway(
    yaml: &str,
) -> (
    switchyard::Server,
    hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        http_body_util::Full<bytes::Bytes>,
    >,
) {
    let mut cfg = switchyard_config::from_yaml(yaml, &env(&[])).unwrap();
    support::temp_log(&mut cfg);
    let state = AppState::build(cfg).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = switchyard::serve(state, listener, axum::Router::new()).unwrap();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    (server, client)
}

async fn chat(
    server: &switchyard::Server,
    client: &hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        http_body_util::Full<bytes::Bytes>,
    >,
    body: &'static str,
) -> (http::StatusCode, bytes::Bytes) {
    let req = http::Request::post(format!("http://{}/v1/chat/completions", server.addr))
        .body(http_body_util::Full::new(bytes::Bytes::from_static(
            body.as_bytes(),
        )))
        .unwrap();
    let (s, _, b) = collect(client.request(req).await.unwrap()).await;
    (s, b)
}

#[tokio::test]
async fn https_provider_with_its_ca_file_works_streams_and_reuses_connections() {
    let t = tls_mock().await;
    let yaml = format!(
        "server: {{ discover_env: false }}\nproviders:\n  - name: secure\n    base_url: https://localhost:{}/v1\n    api_key: sk-tls\n    ca_file: {}\n",
        t.mock.addr.port(),
        t.ca_file.display()
    );
    let (server, client) = gateway(&yaml).await;
    let (s, b) = chat(
        &server,
        &client,
        r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#,
    )
    .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    assert_eq!(json(&b)["object"], "chat.completion");
    let (s, b) = chat(
        &server,
        &client,
        r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}"#,
    )
    .await;
    assert_eq!(s, 200);
    assert!(b.ends_with(b"data: [DONE]\n\n"));
    assert_eq!(
        t.mock.requests()[0].header("authorization"),
        Some("Bearer sk-tls")
    );
    assert_eq!(t.mock.stats().connections, 1);
}

#[tokio::test]
async fn an_unverifiable_certificate_is_refused() {
    let t = tls_mock().await;
    let yaml = format!(
        "server: {{ discover_env: false }}\nproviders:\n  - name: secure\n    base_url: https://localhost:{}/v1\n    api_key: sk-tls\n",
        t.mock.addr.port()
    );
    let (server, client) = gateway(&yaml).await;
    let (s, b) = chat(
        &server,
        &client,
        r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#,
    )
    .await;
    assert_eq!(s, 502);
    assert_eq!(json(&b)["error"]["code"], "upstream_unreachable");
    assert_eq!(
        t.mock.stats().requests,
        0,
        "nothing was sent over an unverified connection"
    );
}
