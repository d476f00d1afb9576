//! A mock LLM provider that speaks OpenAI's, Anthropic's, Gemini's, Vertex AI's (with its OAuth token endpoint), Bedrock's
//! (SigV4-checked, binary event stream, Guardrails' ApplyGuardrail), Azure AI Content Safety's and Cohere's documented wire formats and injects
//! faults on request:
//! latency, status codes, Retry-After, slow first chunk, chunk delays, broken, hanging, endless,
//! oversized, garbled and truncated streams.
//! It records what it receives so tests can check the exact upstream body and headers. It is
//! also an OIDC identity provider (`idp`: a JWKS and minted tokens) for tests of JWT auth.
//!
//! An agent script (`POST /_mock/script`, see `script`) plays the model's side of an agent loop.
//!
//! Faults are chosen per request, first match wins: the queue filled by `POST /_mock/faults`,
//! then a `mock` object in the JSON request body (which pass-through gateways forward untouched).

mod anthropic;
mod azure;
mod bedrock;
mod chat_check;
mod cohere;
mod content_safety;
mod control;

pub use control::PNG;
mod embeddings;
mod faults;
mod gemini;
mod guardrail;
pub mod idp;
mod idp_login;
mod messages_check;
mod moderation;
mod openai;
mod responses;
pub mod script;
mod stream;
mod vertex;

pub use vertex::public_key_of;

pub use faults::Fault;

use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

/// Options for one mock server.
#[derive(Debug, Clone, Default)]
pub struct MockOptions {
    /// Keep a log of received requests (off for benchmarks).
    pub record: bool,
    /// When set, requests must carry exactly this key (Bearer or `api-key`).
    pub expect_key: Option<String>,
    /// PEM private key of the Google service account whose assertions `/token` accepts (the
    /// signature is checked against its public half); any well-formed assertion when unset.
    pub google_key_pem: Option<String>,
    /// `expires_in` of the access tokens `/token` issues. Default 3599.
    pub token_lifetime_secs: Option<u64>,
    /// AWS access key id and secret whose SigV4 signatures the Bedrock routes accept.
    pub aws_credentials: Option<(String, String)>,
    /// Random faults for requests that bring none of their own (resilience benchmarks).
    pub chaos: Option<Chaos>,
}

/// Random faults: each request without a fault of its own fails with `error_status` with
/// probability `error_rate`, or answers `slow_ms` late with probability `slow_rate`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Chaos {
    pub error_rate: f64,
    pub error_status: u16,
    pub slow_rate: f64,
    pub slow_ms: u64,
}

/// A request as the mock received it.
#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    pub method: String,
    /// The request target as sent on the request line (origin-form `/v1/...` expected).
    pub target: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    /// First value of a header, by lowercase name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Counters tests read to see what happened upstream.
#[derive(Debug, Default, Serialize)]
pub struct StatsSnapshot {
    /// TCP connections accepted.
    pub connections: u64,
    pub requests: u64,
    pub streams_started: u64,
    pub streams_completed: u64,
    pub streams_aborted: u64,
    /// Requests whose caller went away while the mock was still delaying its answer.
    pub requests_abandoned: u64,
    /// Access tokens asked of `/token`.
    pub token_requests: u64,
    /// Key sets asked of `/.well-known/jwks.json`.
    pub jwks_requests: u64,
}

#[derive(Default)]
pub(crate) struct Stats {
    pub connections: AtomicU64,
    pub requests: AtomicU64,
    pub streams_started: AtomicU64,
    pub streams_completed: AtomicU64,
    pub streams_aborted: AtomicU64,
    pub requests_abandoned: AtomicU64,
    pub token_requests: AtomicU64,
    pub jwks_requests: AtomicU64,
}

pub(crate) struct State {
    pub opts: MockOptions,
    pub recorded: Mutex<VecDeque<Recorded>>,
    pub faults: Mutex<VecDeque<Fault>>,
    pub stats: Stats,
    pub ids: AtomicU64,
    /// Access tokens issued by `/token`.
    pub tokens: Mutex<Vec<String>>,
    /// The public key `/token` checks assertion signatures with.
    pub google_public_key: Option<Vec<u8>>,
    /// The agent script, when a test loaded one.
    pub script: Mutex<script::Player>,
    /// The identity provider (JWKS and minted tokens).
    pub idp: Mutex<Option<idp::Idp>>,
    /// The identity provider's sign-ins (`idp_login`).
    pub logins: Mutex<idp_login::Logins>,
}

const RECORD_LIMIT: usize = 1000;

impl State {
    pub fn snapshot(&self) -> StatsSnapshot {
        let s = &self.stats;
        StatsSnapshot {
            connections: s.connections.load(Ordering::Relaxed),
            requests: s.requests.load(Ordering::Relaxed),
            streams_started: s.streams_started.load(Ordering::Relaxed),
            streams_completed: s.streams_completed.load(Ordering::Relaxed),
            streams_aborted: s.streams_aborted.load(Ordering::Relaxed),
            requests_abandoned: s.requests_abandoned.load(Ordering::Relaxed),
            token_requests: s.token_requests.load(Ordering::Relaxed),
            jwks_requests: s.jwks_requests.load(Ordering::Relaxed),
        }
    }
}

/// A running mock; dropping it does not stop the server task.
#[derive(Clone)]
pub struct MockHandle {
    pub addr: SocketAddr,
    state: Arc<State>,
}

impl MockHandle {
    /// Base URL to configure as an OpenAI-compatible provider.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Requests received so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.state.recorded).iter().cloned().collect()
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.state.snapshot()
    }

    /// A token signed by the mock's identity provider (`alg` RS256 or ES256; see `idp`).
    pub fn mint(&self, alg: &str, claims: &serde_json::Value) -> Option<String> {
        lock(&self.state.idp).as_ref()?.mint(alg, None, claims)
    }

    /// As `mint`, naming `kid` in the header (`""`: none).
    pub fn mint_with_kid(
        &self,
        alg: &str,
        kid: &str,
        claims: &serde_json::Value,
    ) -> Option<String> {
        lock(&self.state.idp).as_ref()?.mint(alg, Some(kid), claims)
    }

    /// A new ES256 signing key, published from now on; its `kid`.
    pub fn rotate_idp_key(&self) -> Option<String> {
        lock(&self.state.idp).as_mut()?.rotate()
    }

    /// Who signs in at the identity provider next (see `idp_login`).
    pub fn set_idp_user(&self, claims: serde_json::Value) {
        lock(&self.state.logins).user = claims;
    }

    /// The forms posted to the identity provider's token endpoint, oldest first.
    pub fn idp_token_forms(&self) -> Vec<std::collections::HashMap<String, String>> {
        lock(&self.state.logins).token_forms.clone()
    }

    /// Queues faults for the next requests, one each.
    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        lock(&self.state.faults).extend(faults);
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The mock's HTTP routes.
fn router(opts: MockOptions) -> (Router, Arc<State>) {
    let google_public_key = opts
        .google_key_pem
        .as_deref()
        .and_then(vertex::public_key_of);
    let state = Arc::new(State {
        google_public_key,
        tokens: Mutex::new(Vec::new()),
        opts,
        recorded: Mutex::new(VecDeque::new()),
        faults: Mutex::new(VecDeque::new()),
        stats: Stats::default(),
        ids: AtomicU64::new(1),
        script: Mutex::new(script::Player::default()),
        idp: Mutex::new(idp::Idp::new()),
        logins: Mutex::default(),
    });
    let app = Router::new()
        .route("/v1/chat/completions", post(openai::chat))
        .route("/v1/completions", post(openai::completions))
        .route("/v1/responses", post(responses::create))
        // Azure's v1 surface: the deployment is the body's model, as on OpenAI's own API.
        .route("/openai/v1/responses", post(responses::create))
        .route("/v1/embeddings", post(embeddings::embeddings))
        .route("/v1/moderations", post(moderation::moderations))
        .route(
            "/contentsafety/text:analyze",
            post(content_safety::text_analyze),
        )
        .route("/v1/models", get(openai::models))
        .route("/v1/messages", post(anthropic::messages))
        .route(
            "/openai/deployments/{deployment}/chat/completions",
            post(azure::chat),
        )
        .route(
            "/openai/deployments/{deployment}/embeddings",
            post(azure::embed),
        )
        .route("/v1/messages/count_tokens", post(anthropic::count_tokens))
        .route("/v1beta/models/{action}", post(gemini::models_action))
        .route("/v2/chat", post(cohere::chat))
        .route("/token", post(vertex::token))
        .route("/model/{model}/{action}", post(bedrock::model_action))
        .route(
            "/guardrail/{id}/version/{version}/apply",
            post(guardrail::apply),
        )
        .route(
            "/v1/projects/{project}/locations/{location}/publishers/{publisher}/models/{action}",
            post(vertex::model_action),
        )
        .route("/v2/embed", post(cohere::embed))
        .route(
            "/_mock/requests",
            get(control::requests).delete(control::clear_requests),
        )
        .route(
            "/_mock/faults",
            post(control::push_faults).delete(control::clear_faults),
        )
        .route("/_mock/stats", get(control::stats))
        .route(
            "/_mock/script",
            get(control::script)
                .post(control::load_script)
                .delete(control::clear_script),
        )
        .route("/.well-known/jwks.json", get(idp::jwks))
        .route("/_mock/idp/token", post(idp::token))
        .route("/_mock/idp/rotate", post(idp::rotate))
        .route("/_mock/idp/user", post(idp_login::user))
        .route("/_mock/idp/authorize", get(idp_login::authorize))
        .route("/_mock/idp/oauth/token", post(idp_login::token))
        .route("/_mock/image.png", get(control::image))
        .route("/_mock/redirect-image", get(control::redirect_image))
        .route("/_mock/not-an-image", get(control::not_an_image))
        // Accept bodies as large as a gateway might forward (vision payloads), not axum's 2 MiB.
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
        .with_state(state.clone());
    (app, state)
}

/// Serves the mock on `listener` in a background task.
pub fn spawn(listener: TcpListener, opts: MockOptions) -> std::io::Result<MockHandle> {
    let addr = listener.local_addr()?;
    let (app, state) = router(opts);
    let counted = state.clone();
    tokio::spawn(async move {
        let listener = axum::serve::ListenerExt::tap_io(listener, move |tcp| {
            let _ = tcp.set_nodelay(true);
            counted.stats.connections.fetch_add(1, Ordering::Relaxed);
        });
        let _ = axum::serve(listener, app).await;
    });
    Ok(MockHandle { addr, state })
}

/// Serves the mock over TLS with `tls` (for tests of the gateway's TLS client).
pub fn spawn_tls(
    listener: TcpListener,
    opts: MockOptions,
    tls: Arc<rustls::ServerConfig>,
) -> std::io::Result<MockHandle> {
    let addr = listener.local_addr()?;
    let (app, state) = router(opts);
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let counted = state.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let _ = tcp.set_nodelay(true);
            counted.stats.connections.fetch_add(1, Ordering::Relaxed);
            let acceptor = acceptor.clone();
            let app = app.clone();
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(app);
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
            });
        }
    });
    Ok(MockHandle { addr, state })
}

/// Binds 127.0.0.1 on a free port and serves the mock.
pub async fn start(opts: MockOptions) -> std::io::Result<MockHandle> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    spawn(listener, opts)
}
