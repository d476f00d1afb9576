//! Configuration: the YAML file schema (raw types), environment discovery, and validation into
//! the runtime config the server uses. Every problem is reported with its field path and line.

mod bedrock;
mod cache;
mod discover;
mod env;
mod error;
mod guardrails;
mod limit_rules;
mod limits;
mod observe;
pub mod raw;
mod runtime;
mod secret;
mod tenants;
pub use cache::{CachePlan, CacheScope, CacheSettings, SemanticSettings};
pub use guardrails::GuardrailSettings;
pub use limit_rules::{LimitRules, Unpriced};
mod validate;
pub use validate::DEFAULT_CATALOG_FILE;
mod vertex;
pub use vertex::service_account_from_json;
mod wording;
mod yaml;

pub use error::{ConfigError, ConfigErrors};
pub use limits::{InlineConfig, Limits};
pub use observe::{LogSettings, LogStore, OtelSettings};
pub use runtime::{
    AwsCredentials, BedrockSettings, Circuit, ClientKey, Config, ImageFetch, Origin, Provider,
    RetryBudget, ServiceAccount, Timeouts, VertexSettings, DEFAULT_LISTEN,
};
pub use secret::Secret;
pub use tenants::{JwtSettings, OidcSettings, TenantSettings};
pub use wording::{reword, route_shape};

use std::path::Path;

/// Reads environment variables; tests pass a map instead of the process environment.
pub trait EnvSource {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl EnvSource for std::collections::HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.is_empty()).cloned()
    }
}

/// Builds the config from the environment alone (the zero-configuration path).
pub fn from_env(env: &dyn EnvSource) -> Result<Config, ConfigErrors> {
    validate::build(raw::RawConfig::default(), env)
}

/// Parses and validates YAML text; `env` resolves `${VAR}` references and discovered providers.
pub fn from_yaml(text: &str, env: &dyn EnvSource) -> Result<Config, ConfigErrors> {
    let doc = yaml::parse(text).map_err(|e| ConfigErrors(vec![e]))?;
    let raw = validate::deserialize(doc, env)?;
    validate::build(raw, env).map_err(|errs| errs.with_lines(&yaml::parse_spans(text)))
}

/// Reads and validates a config file.
pub fn from_file(path: &Path, env: &dyn EnvSource) -> Result<Config, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors(vec![ConfigError::new(
            "",
            format!("cannot read {}: {e}", path.display()),
        )])
    })?;
    from_yaml(&text, env)
}

/// The JSON Schema of the config file, for editors.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(raw::RawConfig);
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}
