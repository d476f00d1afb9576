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
    /// Named routes: a model name callers use that stands for a tree of targets (fallback,
    /// load balancing, conditions, ...). See docs/routing.md.
    #[serde(default)]
    pub routes: BTreeMap<String, RawNode>,
    /// Model catalog entries added to the shipped catalog, or overriding fields of its entries:
    /// `<namespace>/<model>` → prices (USD per million tokens), context window, capabilities.
    #[serde(default)]
    pub catalog: BTreeMap<String, switchyard_providers::catalog::Entry>,
    /// Budgets, rate limits and concurrency limits (docs/limits.md).
    #[serde(default)]
    pub limits: RawLimitRules,
    /// Guardrails: checks on requests and answers, grouped into policies (docs/guardrails.md).
    #[serde(default)]
    pub guardrails: RawGuardrails,
    /// The response cache (docs/cache.md).
    #[serde(default)]
    pub cache: RawCache,
}

/// The response cache: whole answers kept and served again to the same request from the same
/// tenant. Off unless `enabled`, or turned on for some routes or keys.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCache {
    /// Cache every request's answer (routes and keys may turn it off). Default false.
    pub enabled: Option<bool>,
    /// How long an answer is served again, in seconds. Default 3600.
    pub ttl_secs: Option<u64>,
    /// The most the in-memory store holds (answers and their keys), in bytes. Default 268435456
    /// (256 MiB).
    pub max_bytes: Option<u64>,
    /// By route name: whether and how long its answers are cached (over the above).
    #[serde(default)]
    pub routes: BTreeMap<String, RawCacheScope>,
    /// By client key name or virtual key id (over the route's and the above).
    #[serde(default)]
    pub keys: BTreeMap<String, RawCacheScope>,
    /// Redis shared by replicas (`redis://[:password@]host:6379/0`): answers are kept there,
    /// with the in-memory store (`max_bytes`) in front. Also `SWITCHYARD_CACHE_REDIS_URL`.
    /// Default: memory only.
    pub redis_url: Option<String>,
    /// Prefix of the cache's Redis keys and channel. Default `switchyard:cache:`.
    pub redis_prefix: Option<String>,
    /// The semantic cache: a request whose prompt means the same as a cached one's (and whose
    /// every other field is equal) is served that answer. Opt-in per route or key (`semantic:
    /// true`) or here for all.
    #[serde(default)]
    pub semantic: RawSemanticCache,
}

/// How the semantic cache compares prompts.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSemanticCache {
    /// Turn it on for every cached request (routes and keys may turn it off). Default false.
    pub enabled: Option<bool>,
    /// The embeddings model the gateway itself routes (a route name or `provider/model`), e.g.
    /// `openai/text-embedding-3-small`. Required when the semantic cache is on anywhere.
    pub embedding_model: Option<String>,
    /// Sent as the embeddings request's `dimensions` (models that can shorten their vectors,
    /// such as OpenAI's text-embedding-3). Default: the model's own.
    pub dimensions: Option<u32>,
    /// Cosine similarity at or above which a prompt counts as the same. Default 0.95.
    pub threshold: Option<f64>,
    /// Prompts longer than this (bytes of text) are matched exactly only. Default 8192.
    pub max_prompt_bytes: Option<usize>,
    /// The most prompt vectors the in-process index holds. Default 100000.
    pub max_entries: Option<usize>,
}

/// The cache's settings for one route or key.
#[derive(Debug, Default, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCacheScope {
    /// Cache its answers (default: as the level above says).
    pub enabled: Option<bool>,
    /// Seconds its answers are served again (default: as the level above says).
    pub ttl_secs: Option<u64>,
    /// Serve answers to prompts that mean the same (default: as the level above says).
    pub semantic: Option<bool>,
}

/// Guardrail policies and where they apply.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawGuardrails {
    /// The policies: each a set of checks with the action their findings take.
    #[serde(default)]
    pub policies: Vec<switchyard_guardrails::policy::RawPolicy>,
    /// Where policies apply (by id); a request gets every one that matches it.
    #[serde(default)]
    pub attach: RawAttach,
    /// Callers may add policies by id with the `x-switchyard-guardrails` header (never remove
    /// one attached here). Default true.
    pub request_policies: Option<bool>,
    /// `standard` (a denied request is a 400 in the caller's shape) or `portkey` (446 for a
    /// deny, 246 for a flagged answer, as Portkey's gateway answers). Default `standard`.
    pub status_codes: Option<RawStatusCodes>,
    /// What a streamed answer's output checks hold back: `window` (text goes once the text
    /// after it covers the longest finding, so redactions and denies act before it is sent),
    /// `none` (events go at once; a deny still ends the stream) or `whole` (nothing goes until
    /// the answer is checked whole). Default `window`.
    pub stream_hold_back: Option<switchyard_guardrails::stream::HoldBack>,
}

/// Policies by where they apply.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAttach {
    /// On every request.
    #[serde(default)]
    pub org: Vec<String>,
    /// Workspace id → policies.
    #[serde(default)]
    pub workspaces: BTreeMap<String, Vec<String>>,
    /// Client key name or virtual key id → policies.
    #[serde(default)]
    pub keys: BTreeMap<String, Vec<String>>,
    /// Route name → policies.
    #[serde(default)]
    pub routes: BTreeMap<String, Vec<String>>,
}

/// How guardrail outcomes are answered.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawStatusCodes {
    Standard,
    Portkey,
}

/// Budgets, rate limits and concurrency limits: every limit that applies to a request must
/// pass. Counted in memory (the single binary) or in Redis (replicas).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLimitRules {
    /// The limits.
    #[serde(default)]
    pub rules: Vec<switchyard_limits::model::RawLimit>,
    /// How long a request's reservation is held when it never settles (its replica died), in
    /// seconds. Default 900.
    pub reservation_ttl_secs: Option<u64>,
    /// The output tokens assumed for a request that sets no `max_tokens`, when the catalog
    /// does not know the model's maximum either. Default 4096.
    pub default_max_output_tokens: Option<u64>,
    /// What a cost limit does with a model the catalog has no price for: `deny` (refuse the
    /// request) or `tokens_only` (count its tokens, charge no cost). Default `tokens_only`.
    pub unpriced: Option<RawUnpriced>,
    /// Redis to count in, shared by replicas (`redis://[:password@]host:6379/0`); in memory
    /// without it.
    /// SWITCHYARD_LIMITS_REDIS_URL sets it too.
    pub redis_url: Option<String>,
    /// Prefix of the Redis keys. Default `switchyard:limits:`.
    pub redis_prefix: Option<String>,
    /// When the store cannot be reached: `closed` (cost and token limits refuse with a 503;
    /// request rates and concurrency let requests through) or `open` (every limit lets
    /// requests through). Default `closed`.
    pub on_store_error: Option<RawOnStoreError>,
    /// Alerts when a budget (a calendar window) crosses a share of its amount.
    #[serde(default)]
    pub alerts: RawAlerts,
}

/// Budget alerts: a log line, a metric and, when configured, a webhook, once per budget,
/// period and threshold (across replicas sharing Redis).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAlerts {
    /// Percentages of a budget that raise an alert when reached. Default [50, 80, 100].
    pub thresholds: Option<Vec<u8>>,
    /// Where alerts are POSTed as JSON (`{"type": "budget.threshold", ...}`).
    pub webhook_url: Option<String>,
}

/// What limits do when their store cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawOnStoreError {
    Closed,
    Open,
}

/// What a cost limit does with a model that has no price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawUnpriced {
    Deny,
    TokensOnly,
}

/// One node of a route: a target (`model`, or `route` naming another route) or a `strategy`
/// over `targets`. The same schema is accepted per request in the `x-switchyard-config` header.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    /// How the node picks among its targets. Default `single` for a `model`/`route`, else
    /// `fallback`.
    pub strategy: Option<RawStrategy>,
    /// A model name, resolved like any a caller sends (`provider/model`, alias, bare name).
    pub model: Option<String>,
    /// Another route's name, used as this node.
    pub route: Option<String>,
    /// The child nodes a strategy picks from (in order, for `fallback`).
    #[serde(default)]
    pub targets: Vec<RawNode>,
    /// Share of traffic under `loadbalance` (relative to the siblings'). Default 1.
    pub weight: Option<f64>,
    /// Request fields to set when this node is used (e.g. `max_tokens`), merged over the caller's.
    pub params: Option<serde_json::Map<String, serde_json::Value>>,
    /// Timeouts for requests through this node, overriding the provider's.
    pub timeouts: Option<RawRouteTimeouts>,
    /// `fallback`: statuses that move on to the next target (timeouts and connection errors
    /// always do). Default 429, 500, 502, 503, 504.
    pub on_status: Option<Vec<u16>>,
    /// Retries of a failed attempt on the same target.
    pub retry: Option<RawRetry>,
    /// What a translated request may leave out for targets in this subtree, overriding the
    /// provider's `field_policy`. In a caller's `x-switchyard-config` it can only be stricter
    /// than the provider's.
    pub field_policy: Option<RawFieldPolicy>,
    /// `conditional`: the first branch whose `when` matches the request is used.
    #[serde(default)]
    pub conditions: Vec<RawCondition>,
    /// `conditional`: used when no condition matches.
    pub default: Option<Box<RawNode>>,
    /// Keeps a user on one target while it is healthy (`loadbalance`, `least-*`).
    pub sticky: Option<RawSticky>,
    /// Prices for `lowest-cost`, per million tokens.
    pub price: Option<RawPrice>,
}

/// Strategies a node can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RawStrategy {
    /// The one target.
    Single,
    /// Each target in order until one answers.
    Fallback,
    /// One target at random, by weight.
    Loadbalance,
    /// The first target whose condition matches, else the default.
    Conditional,
    /// Lowest moving-average latency of two picked at random (power of two choices).
    LeastLatency,
    /// Fewest requests in flight.
    LeastBusy,
    /// Cheapest by price, among healthy targets.
    LowestCost,
}

/// One branch of a `conditional` node.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCondition {
    /// A query over `metadata.*`, `params.*` and `headers.*` with `$eq $ne $gt $gte $lt $lte $in
    /// $nin $regex $and $or`, e.g. `{"metadata.tier": {"$eq": "pro"}}`.
    pub when: serde_json::Value,
    /// The node used when `when` matches.
    pub then: RawNode,
}

/// Timeouts for a route node, in milliseconds.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRouteTimeouts {
    /// TCP and TLS connect.
    pub connect_ms: Option<u64>,
    /// From sending the request to the response headers.
    pub first_byte_ms: Option<u64>,
    /// For streams: from the response headers to the first event. Past it the next target is
    /// tried (nothing has reached the caller yet).
    pub first_token_ms: Option<u64>,
    /// Longest gap between two stream chunks.
    pub idle_ms: Option<u64>,
    /// The whole exchange.
    pub total_ms: Option<u64>,
}

/// Retries of one target.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    /// Further attempts after the first. Default 0.
    pub attempts: Option<u32>,
    /// Statuses that are retried (timeouts and connection errors always are). Default 429, 500,
    /// 502, 503, 504.
    pub on_status: Option<Vec<u16>>,
    /// Base of the exponential backoff (full jitter). Default 100.
    pub backoff_ms: Option<u64>,
    /// Largest backoff. Default 5000.
    pub max_backoff_ms: Option<u64>,
    /// Longest Retry-After honoured; a longer one moves on instead of waiting. Default 30000.
    pub retry_after_cap_ms: Option<u64>,
}

/// Sticky routing.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSticky {
    /// Where the key comes from: `metadata.<field>`, `headers.<name>` or `params.<field>`.
    pub key: String,
}

/// Prices per million tokens.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPrice {
    pub input: f64,
    pub output: f64,
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
    /// Limits on retries across all traffic.
    #[serde(default)]
    pub retry_budget: RawRetryBudget,
    /// Seed for the random draws of load balancing and backoff (for reproducible tests).
    /// Default: a random seed.
    pub routing_seed: Option<u64>,
    /// Keys for the admin endpoints (`/admin/*`, `/metrics`), separate from client keys.
    /// SWITCHYARD_ADMIN_KEYS (comma-separated) adds more.
    #[serde(default)]
    pub admin_keys: Vec<RawClientKey>,
    /// Circuit breaking of route targets.
    #[serde(default)]
    pub circuit: RawCircuit,
    /// The request log: one record per request, written off the request path.
    #[serde(default)]
    pub log: RawLog,
    /// OpenTelemetry traces over OTLP/HTTP.
    #[serde(default)]
    pub otel: RawOtel,
    /// Workspaces, virtual keys and the audit log (docs/governance.md).
    #[serde(default)]
    pub tenants: RawTenants,
    /// A price list laid over the shipped catalog (what `switchyard catalog update` writes),
    /// read at start and at each reload. Default `switchyard.catalog.json` in the working
    /// directory, when it exists.
    pub catalog_file: Option<String>,
    /// Bounds on what one caller, connection or upstream can make the gateway hold or do
    /// (docs/security.md).
    #[serde(default)]
    pub limits: RawLimits,
}

/// Bounds on memory, time and fan-out, whatever a caller or an upstream sends.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    /// Longest model name a request may carry, in bytes; a longer one is a 400. Default 256.
    pub max_model_name_bytes: Option<u64>,
    /// Most upstream attempts one request may make, retries and fallbacks together. Default 10.
    pub max_attempts_per_request: Option<u32>,
    /// What callers may send in the `x-switchyard-config` header: `allow` (any route tree),
    /// `routes` (only trees whose targets name configured routes), or `off` (the header is a
    /// 400). Default `allow`.
    pub inline_config: Option<RawInlineConfig>,
    /// Most distinct metric series (per model, provider and status) and route-target health
    /// entries kept. Past it, new names are counted under the model label `other`. Default 2000.
    pub max_series: Option<u64>,
    /// Longest a client may take to send a request's headers, in ms. Default 10000.
    pub header_read_timeout_ms: Option<u64>,
    /// Longest a client may take to send a request's body, in ms; past it the answer is a 408.
    /// Default 60000.
    pub body_read_timeout_ms: Option<u64>,
    /// Longest a keep-alive connection may sit with no request before it is closed, in ms.
    /// Default 60000.
    pub idle_timeout_ms: Option<u64>,
    /// Most client connections open at once. At the cap, connections with no request in
    /// progress are closed to make room, and new ones wait in the kernel's backlog (counted in
    /// `switchyard_connections_cap_reached_total`). Default: half the process's file-descriptor
    /// limit (each streamed request holds two), at most 65536.
    pub max_connections: Option<u64>,
    /// Largest single upstream stream event (SSE or event-stream frame), in bytes; past it the
    /// answer ends with an error in the caller's shape. Default 16777216 (16 MiB).
    pub max_event_bytes: Option<u64>,
    /// Largest non-streamed upstream body, in bytes; past it the answer is a 502. Default
    /// 67108864 (64 MiB).
    pub max_upstream_body_bytes: Option<u64>,
}

impl RawFieldPolicy {
    pub fn policy(self) -> switchyard_providers::translate::Policy {
        use switchyard_providers::translate::Policy;
        match self {
            RawFieldPolicy::Strict => Policy::Strict,
            RawFieldPolicy::Default => Policy::Default,
            RawFieldPolicy::Lenient => Policy::Lenient,
        }
    }
}

/// How `/v1/responses` reaches a provider (see `responses`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RawResponses {
    /// Passed through: the provider serves the Responses API itself.
    Native,
    /// Translated through chat completions.
    Chat,
}

/// What a translated request may leave out (see `field_policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RawFieldPolicy {
    /// Nothing: every field the provider cannot take is a 400.
    Strict,
    /// Advisory fields are left out and named; contract fields are a 400.
    Default,
    /// Advisory and contract fields are left out and named.
    Lenient,
}

/// What callers may send in the `x-switchyard-config` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RawInlineConfig {
    /// Any route tree.
    Allow,
    /// Only trees whose targets are configured routes (`route:`), never a `model:`.
    Routes,
    /// None: the header is a 400.
    Off,
}

/// The request log. Records go through a bounded queue to a writer task, never making a request
/// wait; when the store lags the queue sheds records (counted in
/// `switchyard_log_shed_records_total`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    /// Record requests at all. Default true.
    pub enabled: Option<bool>,
    /// The SQLite file records go to when no `postgres_url` is given. Default `switchyard.db`
    /// (in the working directory).
    pub sqlite_path: Option<String>,
    /// A PostgreSQL URL (`postgres://user:password@host:5432/db`); records go there instead
    /// of SQLite. SWITCHYARD_LOG_POSTGRES_URL sets it too.
    pub postgres_url: Option<String>,
    /// Records the queue holds before it sheds. Default 65536.
    pub queue_capacity: Option<usize>,
    /// Most records written in one transaction. Default 1000.
    pub batch_size: Option<usize>,
    /// Longest a record waits for its batch to fill before the batch is written, in ms.
    /// Default 200.
    pub flush_interval_ms: Option<u64>,
    /// Records older than this many days are deleted (checked hourly); 0 keeps them. Default 30.
    pub retention_days: Option<u64>,
    /// Also store request and response bodies. Default false.
    pub bodies: Option<bool>,
    /// Longest body stored, in bytes; longer ones are cut. Default 32768.
    pub body_max_bytes: Option<usize>,
    /// Store bodies with message text replaced by `[redacted]` (structure, model and parameters
    /// kept). Default false.
    pub redact_bodies: Option<bool>,
    /// Ask OpenAI-compatible streams for their usage chunk (`stream_options.include_usage`)
    /// when the caller did not, so streamed requests have tokens and cost; the caller does not
    /// get the chunk it did not ask for. Turn off for a host that refuses `stream_options`.
    /// Default true.
    pub stream_usage: Option<bool>,
}

/// Workspaces, virtual keys and the admin audit log, kept in SQLite and served from memory: no
/// database read on the request path.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTenants {
    /// Accept virtual keys and serve `/admin/v1` at all. Default true.
    pub enabled: Option<bool>,
    /// The SQLite file they are kept in. Default `switchyard.db` (in the working directory).
    pub sqlite_path: Option<String>,
    /// A PostgreSQL URL (`postgres://user:password@host:5432/db`) to keep them in instead, shared
    /// by replicas: a change made through one reaches the others within a second.
    /// SWITCHYARD_TENANTS_POSTGRES_URL sets it too.
    pub postgres_url: Option<String>,
    /// The file holding the server secret virtual keys are hashed with (base64 of 32 bytes),
    /// created with mode 0600 on first start when missing; SWITCHYARD_SECRET_KEY overrides it.
    /// Default `switchyard.secret` (in the working directory).
    pub secret_key_file: Option<String>,
    /// How often the store is checked for changes made elsewhere, in ms. Default 500.
    pub refresh_ms: Option<u64>,
    /// The file holding the key-encryption key that provider credentials are sealed under
    /// (base64 of 32 bytes), created with mode 0600 on first start when missing; SWITCHYARD_KEK
    /// overrides it. Keep it apart from the database for the encryption to protect anything.
    /// Default `switchyard.kek` (in the working directory).
    pub kek_file: Option<String>,
    /// JSON Web Tokens from an OIDC provider, accepted from callers and admin callers
    /// (docs/governance.md). Off without `jwks_url`.
    #[serde(default)]
    pub jwt: RawJwt,
}

/// Bearer JWTs signed by an identity provider (RS256 or ES256), verified against its published
/// key set; claims name the caller's workspace and allowed models, or an admin's roles.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawJwt {
    /// The provider's JWKS URL (`jwks_uri` in its OIDC discovery document). JWT auth is off
    /// without it. SWITCHYARD_JWKS_URL sets it too.
    pub jwks_url: Option<String>,
    /// The `iss` a token must carry. Default: any.
    pub issuer: Option<String>,
    /// An `aud` a token must carry. Default: any.
    pub audience: Option<String>,
    /// Clock skew allowed on `exp` and `nbf`, in seconds. Default 60.
    pub leeway_secs: Option<u64>,
    /// How often the key set is fetched again, in seconds (and at most once per 30 s when a
    /// token names a key the set lacks). Default 300.
    pub refresh_secs: Option<u64>,
    /// Accept JWTs from callers of `/v1`. Default true.
    pub callers: Option<bool>,
    /// Accept JWTs from admin callers of `/admin`. Default true.
    pub admins: Option<bool>,
    /// Which claims hold what (dotted paths reach into objects: `realm_access.roles`).
    #[serde(default)]
    pub claims: RawJwtClaims,
    /// The web console's sign-in through the provider (OpenID Connect authorization code flow
    /// with PKCE). Off without `authorization_url`.
    #[serde(default)]
    pub oidc: RawOidc,
}

/// The console's "Sign in with your identity provider": the gateway sends the browser to the
/// provider, takes the code it returns, exchanges it for tokens, and signs the console in with
/// the ID token (verified like any other JWT).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawOidc {
    /// The provider's authorization endpoint (`authorization_endpoint` in its discovery
    /// document). Sign-in through the provider is off without it.
    pub authorization_url: Option<String>,
    /// The provider's token endpoint (`token_endpoint`). Required with `authorization_url`.
    pub token_url: Option<String>,
    /// The client id registered with the provider for the console. Required with
    /// `authorization_url`.
    pub client_id: Option<String>,
    /// The client's secret, for a confidential client (sent as `client_secret` in the token
    /// request). SWITCHYARD_OIDC_CLIENT_SECRET sets it too. Default: none (a public client,
    /// protected by PKCE alone).
    pub client_secret: Option<String>,
    /// Scopes asked for, space-separated. Default `openid profile email`.
    pub scopes: Option<String>,
    /// Where the provider sends the browser back, as registered with it: the gateway's public
    /// URL and `/ui/oidc/callback`. Default: `http://<Host header>/ui/oidc/callback`.
    pub redirect_url: Option<String>,
    /// Which token the console signs in with: `id_token` (its audience is the client id) or
    /// `access_token` (for a provider that issues JWT access tokens). Default `id_token`.
    pub token: Option<RawOidcToken>,
}

/// The token of a token response the console uses.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawOidcToken {
    IdToken,
    AccessToken,
}

/// Claim names; the defaults are namespaced so that no unrelated claim grants a role.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawJwtClaims {
    /// Who the caller is (logged as `jwt:<value>`, the audit's actor). Default `sub`.
    pub subject: Option<String>,
    /// A caller's workspace id. Default `switchyard_workspace`.
    pub workspace: Option<String>,
    /// Model patterns a caller may use (an array of strings); absent: any. Default
    /// `switchyard_models`.
    pub models: Option<String>,
    /// An admin's organisation role: `owner`, `admin` or `member` (a string, or an array whose
    /// highest role counts). Default `switchyard_role`.
    pub org_role: Option<String>,
    /// An admin's workspace roles: an object `{"<workspace>": "admin|member|viewer"}` or an
    /// array of `"<workspace>:<role>"` strings. Default `switchyard_workspaces`.
    pub workspace_roles: Option<String>,
}

/// OpenTelemetry traces: a span per request and per attempt, with the GenAI semantic
/// conventions' attributes, sent as OTLP/HTTP JSON.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawOtel {
    /// The collector's OTLP/HTTP base URL (`http://127.0.0.1:4318`; `/v1/traces` is added
    /// unless the URL already ends with it). Traces are off without it. OTEL_EXPORTER_OTLP_ENDPOINT
    /// sets it too.
    pub endpoint: Option<String>,
    /// `service.name` of the spans. Default `switchyard`.
    pub service_name: Option<String>,
    /// Headers sent with every export (for a collector's API key).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Record prompts and completions on spans (`gen_ai.input.messages`,
    /// `gen_ai.output.messages`). Default false.
    pub capture_content: Option<bool>,
    /// Spans the export queue holds before it sheds. Default 8192.
    pub queue_capacity: Option<usize>,
}

/// When a route target is taken out of rotation, and for how long.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCircuit {
    /// Failures in a row that eject a target. Default 5.
    pub consecutive_failures: Option<u32>,
    /// Share of failed attempts in the window that ejects a target. Default 0.5.
    pub failure_ratio: Option<f64>,
    /// Attempts in the window before the ratio counts. Default 20.
    pub min_requests: Option<u64>,
    /// Length of the window the ratio is measured over, in seconds. Default 10.
    pub window_secs: Option<u64>,
    /// First ejection's length; each ejection in a row doubles it. Default 30000.
    pub base_ejection_ms: Option<u64>,
    /// Longest ejection. Default 300000.
    pub max_ejection_ms: Option<u64>,
    /// Most targets ejected at once, as a percentage of all targets in use. Default 50.
    pub max_ejected_percent: Option<u8>,
}

/// The share of traffic that may be retries, so an outage cannot become a retry storm.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRetryBudget {
    /// Retries allowed as a share of requests over the last 10 seconds. Default 0.2.
    pub ratio: Option<f64>,
    /// Retries per second always allowed, however little traffic there is. Default 5.
    pub min_per_sec: Option<u32>,
}

/// Limits on fetching images for providers that only take them inline.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawImageFetch {
    /// Largest image fetched, in bytes. Default 20971520 (20 MiB).
    pub max_bytes: Option<u64>,
    /// Time for all of one request's images, redirects included, in milliseconds. Default 10000.
    pub timeout_ms: Option<u64>,
    /// Most image URLs fetched for one request; more are a 400. Default 20.
    pub max_images: Option<u32>,
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
    /// What a translated request may leave out when this provider's format cannot take a field
    /// (docs/compatibility.md): `default` leaves out advisory fields (hints, metadata, caching
    /// and context-management directives, client bookkeeping, unknown fields) and refuses
    /// contract fields (`n > 1`, `logprobs`, a forced tool the provider cannot run) with a 400;
    /// `strict` refuses both; `lenient` leaves out both. Left-out fields are named in
    /// `x-switchyard-dropped-params` and the request log. Default `default`.
    pub field_policy: Option<RawFieldPolicy>,
    /// How `/v1/responses` reaches this provider: `native` passes it through (the provider
    /// serves OpenAI's Responses API), `chat` translates it through chat completions. Default
    /// `native` for the `openai` and `azure` presets, `chat` for every other provider.
    pub responses: Option<RawResponses>,
    /// Older name for `field_policy: lenient` (as LiteLLM's `drop_params`); `false` means
    /// `default`. Cannot be combined with `field_policy`.
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
