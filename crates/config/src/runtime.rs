//! The validated configuration the server runs with: every reference resolved, every default filled.

use crate::Secret;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;
use switchyard_providers::{AuthStyle, ProviderKind};

/// Default listen address: loopback, so nothing is exposed without a decision.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub allow_insecure_public: bool,
    pub max_body_bytes: usize,
    pub drain_timeout: Duration,
    pub client_keys: Vec<ClientKey>,
    pub providers: Vec<Provider>,
    /// alias → target model name (itself `provider/model`, a bare name or another alias).
    pub aliases: BTreeMap<String, String>,
    pub image_fetch: ImageFetch,
    pub retry_budget: RetryBudget,
    /// Seed for routing's random draws; `None` seeds from entropy.
    pub routing_seed: Option<u64>,
    /// Keys for the admin endpoints, kept as SHA-256.
    pub admin_keys: Vec<ClientKey>,
    pub circuit: Circuit,
    /// Named routes as written; the routing crate builds them against the providers.
    pub routes: BTreeMap<String, crate::raw::RawNode>,
    /// Prices, context windows and capabilities: the shipped catalog plus config's `catalog:`.
    pub catalog: switchyard_providers::catalog::Catalog,
    /// The request log.
    pub log: crate::LogSettings,
    /// Workspaces and virtual keys (`server.tenants`).
    pub tenants: crate::TenantSettings,
    /// Trace export; `None` when no endpoint is configured.
    pub otel: Option<crate::OtelSettings>,
    /// Bounds on memory, time and fan-out (`server.limits`).
    pub limits: crate::Limits,
    /// Budgets, rate limits and concurrency limits (`limits:`).
    pub limit_rules: crate::LimitRules,
    /// Guardrail policies and where they apply (`guardrails:`).
    pub guardrails: crate::GuardrailSettings,
    /// The response cache (`cache:`).
    pub cache: crate::CacheSettings,
}

/// Circuit breaking of route targets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Circuit {
    pub consecutive_failures: u32,
    pub failure_ratio: f64,
    pub min_requests: u64,
    pub window: Duration,
    pub base_ejection: Duration,
    pub max_ejection: Duration,
    pub max_ejected_percent: u8,
}

impl Default for Circuit {
    fn default() -> Self {
        Self {
            consecutive_failures: 5,
            failure_ratio: 0.5,
            min_requests: 20,
            window: Duration::from_secs(10),
            base_ejection: Duration::from_secs(30),
            max_ejection: Duration::from_secs(300),
            max_ejected_percent: 50,
        }
    }
}

/// The share of traffic that may be retries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryBudget {
    pub ratio: f64,
    pub min_per_sec: u32,
}

impl Default for RetryBudget {
    fn default() -> Self {
        Self {
            ratio: 0.2,
            min_per_sec: 5,
        }
    }
}

/// Limits on fetching images for providers that only take them inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageFetch {
    pub max_bytes: usize,
    pub timeout: Duration,
    pub max_images: usize,
    pub allow_private_addresses: bool,
}

impl Default for ImageFetch {
    fn default() -> Self {
        Self {
            max_bytes: 20 * 1024 * 1024,
            timeout: Duration::from_secs(10),
            max_images: 20,
            allow_private_addresses: false,
        }
    }
}

/// A caller key, kept only as its SHA-256.
#[derive(Debug, Clone)]
pub struct ClientKey {
    pub name: String,
    pub sha256: [u8; 32],
}

/// Where a provider's definition came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    File,
    Env,
}

#[derive(Debug, Clone)]
pub struct Provider {
    pub name: String,
    pub kind: ProviderKind,
    /// Preset name, when one supplied defaults.
    pub preset: Option<&'static str>,
    /// Base URL without a trailing slash.
    pub base_url: String,
    pub auth: AuthStyle,
    pub api_key: Option<Secret>,
    pub headers: Vec<(String, String)>,
    /// Set for Azure OpenAI: deployment URLs with this api-version.
    pub azure_api_version: Option<String>,
    /// Set for Vertex AI: where the models live and how to get access tokens.
    pub vertex: Option<VertexSettings>,
    /// Set for Bedrock: the region and the keys requests are signed with.
    pub bedrock: Option<BedrockSettings>,
    /// PEM text of extra CA certificates to trust, read from `ca_file` at load time.
    pub extra_ca_pem: Option<Vec<u8>>,
    /// Explicit model list (from config) or the preset's list.
    pub models: Vec<String>,
    /// True when `models` came from config: then it is authoritative for bare names.
    pub models_configured: bool,
    pub model_prefixes: Vec<String>,
    /// What a translated request may leave out when the format cannot take a field.
    pub field_policy: switchyard_providers::translate::Policy,
    /// `/v1/responses` passes through (the provider serves the Responses API itself).
    pub native_responses: bool,
    pub timeouts: Timeouts,
    pub origin: Origin,
}

impl Provider {
    /// Whose price list applies in the model catalog: the preset's name (`openai`, `azure`,
    /// `groq`, ...), else the wire format's.
    pub fn catalog_namespace(&self) -> &'static str {
        self.preset
            .unwrap_or_else(|| switchyard_providers::registry::format(self.kind).name())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub first_byte: Duration,
    pub idle: Duration,
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            first_byte: Duration::from_secs(600),
            idle: Duration::from_secs(300),
            total: Duration::from_secs(1800),
        }
    }
}

/// Vertex AI: the project and region in every URL, and the service account whose key signs
/// token requests (absent when `api_key` is an access token to send as it is).
#[derive(Debug, Clone)]
pub struct VertexSettings {
    pub location: switchyard_providers::vertex::Location,
    pub service_account: Option<ServiceAccount>,
}

/// A Google service account, from its key file.
#[derive(Debug, Clone)]
pub struct ServiceAccount {
    pub client_email: String,
    pub private_key_id: Option<String>,
    /// PKCS#8 PEM private key.
    pub private_key_pem: Secret,
    /// Where signed assertions are exchanged for access tokens.
    pub token_url: String,
}

/// Amazon Bedrock: the region (in the endpoint and the signature) and the AWS keys requests are
/// signed with (SigV4), absent when `api_key` holds a Bedrock API key sent as Bearer.
#[derive(Debug, Clone)]
pub struct BedrockSettings {
    pub region: String,
    pub credentials: Option<AwsCredentials>,
}

/// Static AWS credentials.
#[derive(Debug, Clone)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}
