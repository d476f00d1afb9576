//! The config file as written: serde types that reject unknown fields. The JSON Schema printed by
//! `switchyard config schema` is generated from these types.

use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Top level of the Switchyard config file.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Listener, limits and shutdown.
    #[serde(default)]
    pub server: RawServer,
    /// Upstream providers, in the order bare model names are matched against them.
    #[serde(default)]
    pub providers: Vec<RawProvider>,
    /// Model names callers may use, each standing for `provider/model` or another model name.
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
    /// API keys callers must present. SWITCHYARD_API_KEYS (comma-separated) adds more.
    #[serde(default)]
    pub client_keys: Vec<RawClientKey>,
}

/// Listener, limits and shutdown.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    /// Address to listen on, `IP:PORT`. Default 127.0.0.1:8080.
    pub listen: Option<String>,
    /// Largest request body accepted, in bytes. Default 10485760 (10 MiB).
    pub max_body_bytes: Option<u64>,
    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT. Default 30.
    pub drain_timeout_secs: Option<u64>,
    /// Allow a non-loopback listen address with no client keys. Default false.
    pub allow_insecure_public: Option<bool>,
    /// Also add providers found in standard environment variables (OPENAI_API_KEY, ...). Default true.
    pub discover_env: Option<bool>,
    /// Fetching image URLs for providers that only take inline images (Gemini, Bedrock).
    #[serde(default)]
    pub image_fetch: RawImageFetch,
}

/// Limits on fetching images for providers that only take them inline.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawImageFetch {
    /// Largest image fetched, in bytes. Default 20971520 (20 MiB).
    pub max_bytes: Option<u64>,
    /// Time for one image, redirects included, in milliseconds. Default 10000.
    pub timeout_ms: Option<u64>,
    /// Also fetch from loopback and private-network addresses (for internal image hosts; off by
    /// default so callers cannot make the gateway reach its own network). Default false.
    pub allow_private_addresses: Option<bool>,
}

/// One upstream provider.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawProvider {
    /// Name used in `name/model` and in logs; lowercase letters, digits, `-` and `_`.
    pub name: String,
    /// A built-in host (see docs/providers.md) supplying base URL, auth style and env vars.
    /// Defaults to the preset named like the provider, when there is one.
    pub preset: Option<String>,
    /// Wire format. Default: the preset's, else `openai-compatible`.
    #[serde(rename = "type")]
    pub kind: Option<RawKind>,
    /// Base URL that `/chat/completions` is appended to, e.g. `https://api.openai.com/v1`.
    pub base_url: Option<String>,
    /// API key, usually `${ENV_VAR}`. Defaults to the preset's environment variable.
    pub api_key: Option<String>,
    /// Header carrying the key: `authorization` (as `Bearer <key>`), another header name such as
    /// `api-key` (the key alone), or `none`. Default: the preset's or the type's
    /// (`x-api-key` for anthropic, `x-goog-api-key` for gemini), else `authorization`.
    pub auth_header: Option<String>,
    /// Azure OpenAI `api-version`. Default AZURE_OPENAI_API_VERSION, OPENAI_API_VERSION, or 2024-10-21.
    pub api_version: Option<String>,
    /// Vertex AI: Google Cloud project id. Default GOOGLE_CLOUD_PROJECT, else the key file's.
    pub project: Option<String>,
    /// Vertex AI: region, e.g. `us-central1` or `global`. Default GOOGLE_CLOUD_LOCATION, else us-central1.
    pub location: Option<String>,
    /// Vertex AI: service-account key file (JSON). Default GOOGLE_APPLICATION_CREDENTIALS.
    pub credentials_file: Option<String>,
    /// Vertex AI: OAuth token endpoint. Default: the key file's `token_uri`.
    pub token_url: Option<String>,
    /// Bedrock: AWS region. Default AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1.
    pub region: Option<String>,
    /// Bedrock: AWS access key id for SigV4 signing. Default AWS_ACCESS_KEY_ID.
    pub aws_access_key_id: Option<String>,
    /// Bedrock: AWS secret access key. Default AWS_SECRET_ACCESS_KEY.
    pub aws_secret_access_key: Option<String>,
    /// Bedrock: AWS session token for temporary credentials. Default AWS_SESSION_TOKEN.
    pub aws_session_token: Option<String>,
    /// PEM file of CA certificates to trust for this provider besides the system's (an internal CA).
    pub ca_file: Option<String>,
    /// Extra headers sent with every request to this provider.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Models this provider serves; bare names in this list route here.
    #[serde(default)]
    pub models: Vec<String>,
    /// Bare model names starting with one of these route here. Defaults to the preset's.
    pub model_prefixes: Option<Vec<String>>,
    /// Leave out request fields this provider's format cannot take (e.g. `logprobs` for Gemini)
    /// instead of answering 400; the dropped names come back in `x-switchyard-dropped-params`.
    /// Default false.
    pub drop_params: Option<bool>,
    /// Upstream timeouts.
    #[serde(default)]
    pub timeouts: RawTimeouts,
}

/// Wire formats a provider can speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RawKind {
    /// OpenAI's API or a host that copies it.
    OpenaiCompatible,
    /// Anthropic's Messages API (requests are translated).
    Anthropic,
    /// Google's Gemini API (requests are translated; `base_url` is the host, e.g.
    /// `https://generativelanguage.googleapis.com`).
    Gemini,
    /// Google Cloud Vertex AI: Gemini and Claude models (requests are translated; `base_url`
    /// defaults to the region's endpoint; credentials from a service-account key file).
    Vertex,
    /// Amazon Bedrock's Converse API (requests are translated and SigV4-signed; `base_url`
    /// defaults to the region's bedrock-runtime endpoint).
    Bedrock,
    /// Cohere's v2 API (requests are translated; `base_url` is the host, e.g.
    /// `https://api.cohere.com`).
    Cohere,
    /// Azure OpenAI deployments (`base_url` is the resource endpoint; the model names the deployment).
    Azure,
}

/// Upstream timeouts, in milliseconds.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTimeouts {
    /// TCP and TLS connect. Default 10000.
    pub connect_ms: Option<u64>,
    /// From sending the request to the response headers (time to first byte). Default 600000.
    pub first_byte_ms: Option<u64>,
    /// Longest gap between two stream chunks. Default 300000.
    pub idle_ms: Option<u64>,
    /// The whole exchange, body included. Default 1800000.
    pub total_ms: Option<u64>,
}

/// A key callers present as `Authorization: Bearer` or `x-api-key`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawClientKey {
    /// A label for logs; the key itself is never logged.
    pub name: String,
    /// The key, usually `${ENV_VAR}`. Give this or `key_sha256`.
    pub key: Option<String>,
    /// Hex SHA-256 of the key, so the file need not hold it.
    pub key_sha256: Option<String>,
}
