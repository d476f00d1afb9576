//! Providers found in the standard environment variables, for the zero-configuration start.
//!
//! A hosted preset is enabled by its key variable (e.g. GROQ_API_KEY); a local server preset
//! (Ollama, vLLM, LM Studio, llama.cpp) by its base-URL variable (e.g. OLLAMA_BASE_URL).

use crate::error::ConfigError;
use crate::runtime::{Origin, Provider, Timeouts};
use crate::{EnvSource, Secret};
use switchyard_providers::presets::{Preset, PRESETS};
use switchyard_providers::{AuthStyle, ProviderKind};

pub fn providers(env: &dyn EnvSource, errors: &mut Vec<ConfigError>) -> Vec<Provider> {
    let mut out = Vec::new();
    for pr in PRESETS {
        let key = env.var(pr.key_env);
        let base = env.var(pr.base_url_env);
        if pr.kind == ProviderKind::Bedrock {
            if let Some(p) = bedrock(pr, base, env, errors) {
                out.push(p);
            }
            continue;
        }
        if pr.kind == ProviderKind::Vertex {
            if let Some(p) = vertex(pr, key.as_deref(), base, env, errors) {
                out.push(p);
            }
            continue;
        }
        // A preset without a default base URL (Azure) needs its base-URL variable too.
        let enabled = if pr.auth.key_required() {
            key.is_some() && (base.is_some() || !pr.base_url.is_empty())
        } else {
            base.is_some()
        };
        if !enabled {
            continue;
        }
        let base_url = match base.as_deref() {
            Some(u) => crate::validate::check_url(u, pr.base_url_env, errors),
            None => pr.base_url.to_owned(),
        };
        out.push(Provider {
            name: pr.name.to_owned(),
            kind: pr.kind,
            preset: Some(pr.name),
            base_url,
            auth: pr.auth.style(),
            api_key: key.map(Secret::new),
            headers: Vec::new(),
            extra_ca_pem: None,
            azure_api_version: pr
                .azure
                .then(|| crate::validate::azure_api_version(None, env)),
            vertex: None,
            bedrock: None,
            models: pr.models.iter().map(|m| (*m).to_owned()).collect(),
            models_configured: false,
            model_prefixes: pr.model_prefixes.iter().map(|m| (*m).to_owned()).collect(),
            drop_params: false,
            timeouts: Timeouts::default(),
            origin: Origin::Env,
        });
    }
    out
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
    let (settings, default_base) = resolved?;
    let base_url = match base {
        Some(u) => crate::validate::check_url(&u, pr.base_url_env, errors),
        None => default_base,
    };
    Some(Provider {
        name: pr.name.to_owned(),
        kind: pr.kind,
        preset: Some(pr.name),
        base_url,
        auth: AuthStyle::Bearer,
        api_key: None,
        headers: Vec::new(),
        extra_ca_pem: None,
        azure_api_version: None,
        vertex: Some(settings),
        bedrock: None,
        models: pr.models.iter().map(|m| (*m).to_owned()).collect(),
        models_configured: false,
        model_prefixes: pr.model_prefixes.iter().map(|m| (*m).to_owned()).collect(),
        drop_params: false,
        timeouts: Timeouts::default(),
        origin: Origin::Env,
    })
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
    let (settings, default_base) = crate::bedrock::settings(&wanted, "AWS_REGION", env, errors)?;
    let base_url = match base {
        Some(u) => crate::validate::check_url(&u, pr.base_url_env, errors),
        None => default_base,
    };
    Some(Provider {
        name: pr.name.to_owned(),
        kind: pr.kind,
        preset: Some(pr.name),
        base_url,
        auth: AuthStyle::Bearer,
        api_key: api_key.map(Secret::new),
        headers: Vec::new(),
        extra_ca_pem: None,
        azure_api_version: None,
        vertex: None,
        bedrock: Some(settings),
        models: pr.models.iter().map(|m| (*m).to_owned()).collect(),
        models_configured: false,
        model_prefixes: pr.model_prefixes.iter().map(|m| (*m).to_owned()).collect(),
        drop_params: false,
        timeouts: Timeouts::default(),
        origin: Origin::Env,
    })
}
