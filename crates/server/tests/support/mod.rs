//! Test harness: the real gateway and the mock provider, both on loopback, in this process.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Router;
use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::collections::HashMap;
use std::time::Duration;
use switchyard::state::AppState;
use switchyard::Server;
use switchyard_mock::{MockHandle, MockOptions};

pub const KEY: &str = "client-key-123";

pub struct Harness {
    pub server: Server,
    pub mock: MockHandle,
    pub client: Client<HttpConnector, Full<Bytes>>,
}

pub fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Starts the mock and a gateway whose config is `yaml` with `${MOCK}` replaced by the mock's
/// base URL; `extra` routes are mounted inside the gateway's layer stack.
pub async fn start_with(yaml: &str, extra: Router<switchyard::state::Gateway>) -> Harness {
    let opts = MockOptions {
        record: true,
        ..Default::default()
    };
    start_with_mock(yaml, extra, opts).await
}

/// As `start_with`, with the mock's options chosen by the test.
pub async fn start_with_mock(
    yaml: &str,
    extra: Router<switchyard::state::Gateway>,
    opts: MockOptions,
) -> Harness {
    let mock = switchyard_mock::start(opts).await.unwrap();
    let yaml = yaml
        .replace("${MOCK}", &mock.base_url())
        .replace("${MOCK_ROOT}", &format!("http://{}", mock.addr));
    let mut cfg = switchyard_config::from_yaml(&yaml, &env(&[])).unwrap();
    temp_log(&mut cfg);
    let state = AppState::build(cfg).unwrap();
    switchyard::startup::open_tenants(&state).await.unwrap();
    switchyard::startup::open_limits(&state).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = switchyard::serve(state, listener, extra).unwrap();
    Harness {
        server,
        mock,
        client: Client::builder(TokioExecutor::new()).build_http(),
    }
}

/// A SQLite file of its own in the temp directory for a test gateway's request log, unless the
/// config chose where records go.
pub fn temp_log(cfg: &mut switchyard_config::Config) {
    if cfg.log.store == switchyard_config::LogSettings::default().store {
        cfg.log.store = switchyard_config::LogStore::Sqlite(temp_path("db"));
    }
    // The tenants' store and server secret too, unless the config chose them.
    let d = switchyard_config::TenantSettings::default();
    if cfg.tenants.sqlite_path == d.sqlite_path {
        cfg.tenants.sqlite_path = temp_path("tenants.db");
    }
    if cfg.tenants.secret_key_file == d.secret_key_file {
        cfg.tenants.secret_key_file = temp_path("secret");
    }
    if cfg.tenants.kek_file == d.kek_file {
        cfg.tenants.kek_file = temp_path("kek");
    }
}

/// A fresh path in the temp directory.
pub fn temp_path(ext: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("switchyard-test-{:032x}.{ext}", fastrand::u128(..)))
}

/// One provider `openai` at the mock, client auth on with `KEY`.
pub fn default_yaml() -> String {
    format!(
        "server:\n  discover_env: false\n  max_body_bytes: 4096\nproviders:\n  - name: openai\n    base_url: ${{MOCK}}\n    api_key: sk-upstream\n    timeouts: {{ first_byte_ms: 1500, idle_ms: 800 }}\n  - name: groq\n    base_url: ${{MOCK}}\n    api_key: sk-groq\nclient_keys:\n  - name: test\n    key: {KEY}\n"
    )
}

pub async fn start() -> Harness {
    start_with(&default_yaml(), Router::new()).await
}

impl Harness {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.server.addr, path)
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> hyper::Response<Incoming> {
        let mut b = Request::builder().method(method).uri(self.url(path));
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b.body(Full::new(body.into())).unwrap();
        tokio::time::timeout(Duration::from_secs(10), self.client.request(req))
            .await
            .expect("gateway answered in time")
            .expect("request sent")
    }

    /// POST with the client key and JSON content type; returns status, headers and whole body.
    pub async fn post(&self, path: &str, body: &str) -> (StatusCode, HeaderMap, Bytes) {
        self.post_with(path, body, &[]).await
    }

    /// As `post`, with `extra` headers too.
    pub async fn post_with(
        &self,
        path: &str,
        body: &str,
        extra: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, Bytes) {
        let auth = format!("Bearer {KEY}");
        let mut headers = vec![
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ];
        headers.extend_from_slice(extra);
        let resp = self.send("POST", path, &headers, body.to_owned()).await;
        collect(resp).await
    }
}

impl Harness {
    /// Any method with exactly these headers; returns the status as a number, headers and body.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> (u16, HeaderMap, Bytes) {
        let (s, h, b) = collect(self.send(method, path, headers, body).await).await;
        (s.as_u16(), h, b)
    }

    /// POST /v1/chat/completions with the client key.
    pub async fn chat(&self, body: &str) -> (StatusCode, HeaderMap, Bytes) {
        self.post("/v1/chat/completions", body).await
    }

    /// A JSON request as `Authorization: Bearer <bearer>` (no body for `Value::Null`); the
    /// status and the answer parsed (`Value::Null` when it is not JSON).
    pub async fn json_as(
        &self,
        bearer: &str,
        method: &str,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let auth = format!("Bearer {bearer}");
        let text = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let (s, _, b) = self
            .request(
                method,
                path,
                &[
                    ("authorization", &auth),
                    ("content-type", "application/json"),
                ],
                text,
            )
            .await;
        (
            s,
            serde_json::from_slice(&b).unwrap_or(serde_json::Value::Null),
        )
    }

    /// POST /v1/chat/completions of one user message to `model` as `bearer`.
    pub async fn chat_as(&self, bearer: &str, model: &str) -> (u16, serde_json::Value) {
        let body = serde_json::json!({"model": model, "max_tokens": 16,
            "messages": [{"role": "user", "content": "hi"}]});
        self.json_as(bearer, "POST", "/v1/chat/completions", body)
            .await
    }
}

pub async fn collect(resp: hyper::Response<Incoming>) -> (StatusCode, HeaderMap, Bytes) {
    let (parts, body) = resp.into_parts();
    let bytes = tokio::time::timeout(Duration::from_secs(10), body.collect())
        .await
        .expect("body in time")
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    (parts.status, parts.headers, bytes)
}

pub fn json(b: &Bytes) -> serde_json::Value {
    serde_json::from_slice(b)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(b)))
}

/// Polls `f` until it returns true, for at most five seconds.
pub async fn eventually(mut f: impl FnMut() -> bool) -> bool {
    for _ in 0..100 {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// The `data:` payloads of an SSE body, in order (`"[DONE]"` as a JSON string), whatever
/// `event:` lines come with them.
pub fn data_events(body: &Bytes) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(body)
        .split("\n\n")
        .filter_map(|e| e.lines().find_map(|l| l.strip_prefix("data: ")))
        .map(|d| {
            if d == "[DONE]" {
                serde_json::json!("[DONE]")
            } else {
                serde_json::from_str(d).unwrap()
            }
        })
        .collect()
}

/// Two mocks (`${MOCK}`/`${MOCK_ROOT}` and `${MOCK2}`/`${MOCK2_ROOT}`), so a route's targets can
/// fail independently; the second mock is returned beside the harness.
pub async fn start_two(yaml: &str) -> (Harness, MockHandle) {
    let second = switchyard_mock::start(MockOptions {
        record: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let yaml = yaml
        .replace("${MOCK2}", &second.base_url())
        .replace("${MOCK2_ROOT}", &format!("http://{}", second.addr));
    let h = start_with(&yaml, Router::new()).await;
    (h, second)
}

/// Opens a raw connection to the gateway and writes a whole chat-completions POST with the
/// client key, reading nothing: for tests that control the caller's socket.
pub async fn raw_chat_post(addr: std::net::SocketAddr, body: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\nauthorization: Bearer {KEY}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(body.as_bytes()).await.unwrap();
    tcp
}

/// The admin API's request log, filtered by `q` and read with `admin_key`, once it holds `n`
/// records (the log writes in batches).
pub async fn logs_when(h: &Harness, admin_key: &str, q: &str, n: usize) -> Vec<serde_json::Value> {
    let auth = format!("Bearer {admin_key}");
    for _ in 0..100 {
        let (_, _, b) = h
            .request(
                "GET",
                &format!("/admin/v1/logs?{q}"),
                &[("authorization", &auth)],
                "",
            )
            .await;
        let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
        let data = v["data"].as_array().cloned().unwrap_or_default();
        if data.len() >= n {
            return data;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the log never held {n} records for {q}");
}
