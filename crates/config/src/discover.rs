//! Providers found in the standard environment variables, for the zero-configuration start.
//!
//! A hosted preset is enabled by its key variable (e.g. GROQ_API_KEY); a local server preset
//! (Ollama, vLLM, LM Studio, llama.cpp) by its base-URL variable (e.g. OLLAMA_BASE_URL); Vertex
//! by a service-account key file and a project; Bedrock by AWS keys or a Bedrock API key.

use crate::error::ConfigError;
use crate::runtime::{BedrockSettings, Origin, Provider, Timeouts, VertexSettings};
use crate::{EnvSource, Secret};
use switchyard_providers::presets::{Preset, PRESETS};
use switchyard_providers::{AuthStyle, ProviderKind};

pub fn providers(env: &dyn EnvSource, errors: &mut Vec<ConfigError>) -> Vec<Provider> {
    let mut out = Vec::new();
    for pr in PRESETS {
        let key = env.var(pr.key_env);
        let base = env.var(pr.base_url_env);
        let found = match pr.kind {
            ProviderKind::Bedrock => bedrock(pr, base, env, errors),
            ProviderKind::Vertex => vertex(pr, key.as_deref(), base, env, errors),
            _ => keyed(pr, key, base, env, errors),
        };
        out.extend(found);
    }
    out
}

/// A preset's provider as found in the environment, with its defaults.
fn discovered(pr: &Preset, base_url: String, auth: AuthStyle, api_key: Option<String>) -> Provider {
    Provider {
        name: pr.name.to_owned(),
        kind: pr.kind,
        preset: Some(pr.name),
        base_url,
        auth,
        api_key: api_key.map(Secret::new),
        headers: Vec::new(),
        extra_ca_pem: None,
        azure_api_version: None,
        vertex: None,
        bedrock: None,
        models: pr.models.iter().map(|m| (*m).to_owned()).collect(),
        models_configured: false,
        model_prefixes: pr.model_prefixes.iter().map(|m| (*m).to_owned()).collect(),
        field_policy: switchyard_providers::translate::Policy::Default,
        native_responses: serves_responses(Some(pr.name)),
        timeouts: Timeouts::default(),
        origin: Origin::Env,
    }
}

/// The base URL: the variable's (checked), else the default.
fn base_url(
    pr: &Preset,
    base: Option<String>,
    default: String,
    errors: &mut Vec<ConfigError>,
) -> String {
    match base {
        Some(u) => crate::validate::check_url(&u, pr.base_url_env, errors),
        None => default,
    }
}

/// A preset enabled by its key variable (or, for local servers, its base-URL variable).
fn keyed(
    pr: &Preset,
    key: Option<String>,
    base: Option<String>,
    env: &dyn EnvSource,
    errors: &mut Vec<ConfigError>,
) -> Option<Provider> {
    // A preset without a default base URL (Azure) needs its base-URL variable too.
    let enabled = if pr.auth.key_required() {
        key.is_some() && (base.is_some() || !pr.base_url.is_empty())
    } else {
        base.is_some()
    };
    if !enabled {
        return None;
    }
    let url = base_url(pr, base, pr.base_url.to_owned(), errors);
    let mut p = discovered(pr, url, pr.auth.style(), key);
    p.azure_api_version = pr
        .azure
        .then(|| crate::validate::azure_api_version(None, env));
    Some(p)
}

/// Vertex from GOOGLE_APPLICATION_CREDENTIALS (the key file) and the project it names or
/// GOOGLE_CLOUD_PROJECT. Without a project it stays off: the variable is common outside Vertex.
fn vertex(
    pr: &Preset,
    key_file: Option<&str>,
    base: Option<String>,
    env: &dyn EnvSource,
    errors: &mut Vec<ConfigError>,
) -> Option<Provider> {
    let key_file = key_file?;
    let wanted = crate::vertex::Wanted {
        project: None,
        location: None,
        credentials_file: Some(key_file),
        token_url: None,
        has_static_token: false,
    };
    let mut quiet = Vec::new();
    let resolved = crate::vertex::settings(&wanted, pr.key_env, env, &mut quiet);
    // A key file that cannot be read is worth saying; a missing project only means "not Vertex".
    errors.extend(quiet.into_iter().filter(|e| !e.path.ends_with(".project")));
    let (settings, default_base): (VertexSettings, String) = resolved?;
    let mut p = discovered(
        pr,
        base_url(pr, base, default_base, errors),
        AuthStyle::Bearer,
        None,
    );
    p.vertex = Some(settings);
    Some(p)
}

/// Bedrock from the standard AWS variables: signing keys (AWS_ACCESS_KEY_ID and
/// AWS_SECRET_ACCESS_KEY, with AWS_SESSION_TOKEN and AWS_REGION) or a Bedrock API key
/// (AWS_BEARER_TOKEN_BEDROCK); the endpoint from AWS_ENDPOINT_URL_BEDROCK_RUNTIME.
fn bedrock(
    pr: &Preset,
    base: Option<String>,
    env: &dyn EnvSource,
    errors: &mut Vec<ConfigError>,
) -> Option<Provider> {
    let api_key = env.var(crate::validate::BEDROCK_API_KEY_ENV);
    let keys = env.var("AWS_ACCESS_KEY_ID").is_some() && env.var("AWS_SECRET_ACCESS_KEY").is_some();
    if api_key.is_none() && !keys {
        return None;
    }
    let wanted = crate::bedrock::Wanted {
        region: None,
        access_key_id: None,
        secret_access_key: None,
        session_token: None,
        has_api_key: api_key.is_some(),
    };
    let (settings, default_base): (BedrockSettings, String) =
        crate::bedrock::settings(&wanted, "AWS_REGION", env, errors)?;
    let mut p = discovered(
        pr,
        base_url(pr, base, default_base, errors),
        AuthStyle::Bearer,
        api_key,
    );
    p.bedrock = Some(settings);
    Some(p)
}

/// Whether a preset's host serves OpenAI's Responses API itself (so `/v1/responses` passes
/// through): OpenAI's own API and Azure OpenAI (its v1 surface), as their references say.
pub fn serves_responses(preset: Option<&str>) -> bool {
    matches!(preset, Some("openai" | "azure"))
}
