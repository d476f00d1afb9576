//! Raw file types → runtime config. Collects every problem before giving up, so one run of
//! `switchyard config check` shows them all.

use crate::discover;
use crate::env::expand_all;
use crate::error::{ConfigError, ConfigErrors};
use crate::raw::{
    RawClientKey, RawConfig, RawKind, RawProvider, RawResponses, RawServer, RawTimeouts,
};
use crate::runtime::{ClientKey, Config, Origin, Provider, Timeouts, DEFAULT_LISTEN};
use crate::yaml::Doc;
use crate::{EnvSource, Secret};
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::time::Duration;
use switchyard_providers::catalog::{Catalog, Entry};
use switchyard_providers::presets::{self, Preset};
use switchyard_providers::translate::Policy;
use switchyard_providers::{AuthStyle, ProviderKind};

const TOP_LEVEL: &[&str] = &[
    "server",
    "providers",
    "aliases",
    "client_keys",
    "routes",
    "catalog",
    "limits",
    "guardrails",
    "cache",
];

/// Deserialises the document, expanding `${VAR}` first; on failure reports every bad section.
pub fn deserialize(doc: Doc, env: &dyn EnvSource) -> Result<RawConfig, ConfigErrors> {
    let Doc { mut value, spans } = doc;
    let mut errors = Vec::new();
    expand_all(&mut value, "", env, &mut errors);
    let parsed = serde_path_to_error::deserialize::<_, RawConfig>(&value);
    let result = match parsed {
        Ok(raw) if errors.is_empty() => return Ok(raw),
        Ok(_) => errors,
        Err(_) => {
            section_errors(&value, &mut errors);
            errors
        }
    };
    Err(ConfigErrors(result).with_lines(&spans))
}

fn join_path(prefix: &str, inner: &str) -> String {
    match (prefix.is_empty(), inner) {
        (_, ".") => prefix.to_owned(),
        (true, _) => inner.to_owned(),
        (false, p) if p.starts_with('[') => format!("{prefix}{p}"),
        (false, p) => format!("{prefix}.{p}"),
    }
}

fn check<T: DeserializeOwned>(v: &Value, prefix: &str, errors: &mut Vec<ConfigError>) {
    if let Err(e) = serde_path_to_error::deserialize::<_, T>(v) {
        let path = join_path(prefix, &e.path().to_string());
        errors.push(ConfigError::new(
            path,
            crate::wording::reword(&e.into_inner().to_string()),
        ));
    }
}

fn check_each<T: DeserializeOwned>(v: &Value, prefix: &str, errors: &mut Vec<ConfigError>) {
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check::<T>(item, &format!("{prefix}[{i}]"), errors);
            }
        }
        _ => check::<Vec<T>>(v, prefix, errors),
    }
}

/// Checks each value of a mapping on its own, so every bad entry is reported with its key.
fn check_map<T: DeserializeOwned>(v: &Value, prefix: &str, errors: &mut Vec<ConfigError>) {
    match v {
        Value::Object(items) => {
            for (k, item) in items {
                check::<T>(item, &format!("{prefix}.{k}"), errors);
            }
        }
        _ => check::<BTreeMap<String, T>>(v, prefix, errors),
    }
}

/// Each route on its own, a node that is not a mapping reported as such (serde would read a
/// list as the node's fields in order).
fn check_routes(v: &Value, errors: &mut Vec<ConfigError>) {
    let Value::Object(routes) = v else {
        return check::<BTreeMap<String, crate::raw::RawNode>>(v, "routes", errors);
    };
    for (name, node) in routes {
        let at = format!("routes.{name}");
        match crate::wording::route_shape(node, &at) {
            Some(e) => errors.push(e),
            None => check::<crate::raw::RawNode>(node, &at, errors),
        }
    }
}

fn section_errors(value: &Value, errors: &mut Vec<ConfigError>) {
    let Value::Object(top) = value else {
        errors.push(ConfigError::new(
            "",
            "the config file must be a YAML mapping",
        ));
        return;
    };
    for (k, v) in top {
        match k.as_str() {
            "server" => check::<RawServer>(v, "server", errors),
            "providers" => check_each::<RawProvider>(v, "providers", errors),
            "aliases" => check::<BTreeMap<String, String>>(v, "aliases", errors),
            "client_keys" => check_each::<RawClientKey>(v, "client_keys", errors),
            "routes" => check_routes(v, errors),
            "catalog" => check_map::<switchyard_providers::catalog::Entry>(v, "catalog", errors),
            "limits" => check::<crate::raw::RawLimitRules>(v, "limits", errors),
            "guardrails" => check::<crate::raw::RawGuardrails>(v, "guardrails", errors),
            "cache" => check::<crate::raw::RawCache>(v, "cache", errors),
            other => errors.push(ConfigError::new(
                other,
                format!(
                    "unknown field{}; expected one of: {}",
                    suggestion(other, TOP_LEVEL.iter().copied()),
                    TOP_LEVEL.join(", ")
                ),
            )),
        }
    }
}

/// ` (did you mean "x"?)` when a known name is within two edits.
pub(crate) fn suggestion<'a>(word: &str, known: impl Iterator<Item = &'a str>) -> String {
    known
        .map(|k| (edit_distance(word, k), k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| format!(" (did you mean \"{k}\"?)"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Validates the raw config into the runtime config.
pub fn build(raw: RawConfig, env: &dyn EnvSource) -> Result<Config, ConfigErrors> {
    let mut errors = Vec::new();
    let s = &raw.server;
    let listen_text = s.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
    let listen = listen_text.parse::<SocketAddr>().unwrap_or_else(|_| {
        errors.push(ConfigError::new(
            "server.listen",
            format!("invalid address \"{listen_text}\": expected IP:PORT such as 127.0.0.1:8080"),
        ));
        SocketAddr::from(([127, 0, 0, 1], 8080))
    });
    let max_body = s.max_body_bytes.unwrap_or(10 * 1024 * 1024);
    if max_body == 0 {
        errors.push(ConfigError::new(
            "server.max_body_bytes",
            "must be greater than 0",
        ));
    }
    let mut providers = Vec::new();
    let mut names = HashSet::new();
    for (i, p) in raw.providers.iter().enumerate() {
        let path = format!("providers[{i}]");
        if !names.insert(p.name.clone()) {
            errors.push(ConfigError::new(
                format!("{path}.name"),
                format!("duplicate provider name \"{}\"", p.name),
            ));
        }
        if let Some(p) = provider(p, &path, env, &mut errors) {
            providers.push(p);
        }
    }
    if s.discover_env != Some(false) {
        for p in discover::providers(env, &mut errors) {
            if !names.contains(&p.name) {
                providers.push(p);
            }
        }
    }
    let client_keys = client_keys(&raw.client_keys, env, &mut errors);
    let admin_keys = keys(
        &s.admin_keys,
        "server.admin_keys",
        "SWITCHYARD_ADMIN_KEYS",
        env,
        &mut errors,
    );
    let circuit = circuit(&s.circuit, &mut errors);
    let image_fetch = image_fetch(&s.image_fetch, &mut errors);
    let retry_budget = retry_budget(&s.retry_budget, &mut errors);
    for name in raw.routes.keys() {
        if name.is_empty() || name.contains(char::is_whitespace) {
            errors.push(ConfigError::new(
                format!("routes.{name}"),
                "route names are model names callers send: no spaces, not empty",
            ));
        }
    }
    let catalog = catalog(&raw.catalog, s.catalog_file.as_deref(), &mut errors);
    let log = crate::observe::log(&s.log, env, &mut errors);
    let otel = crate::observe::otel(&s.otel, env, &mut errors);
    let tenants = crate::tenants::tenants(&s.tenants, env, &mut errors);
    let limits = crate::limits::limits(&s.limits, &mut errors);
    let limit_rules = crate::limit_rules::limit_rules(&raw.limits, env, &mut errors);
    let guardrails = crate::guardrails::guardrails(&raw.guardrails, &raw.routes, &mut errors);
    let cache = crate::cache::cache(&raw.cache, &raw.routes, env, &mut errors);
    for (alias, target) in &raw.aliases {
        if alias.is_empty() || target.trim().is_empty() {
            errors.push(ConfigError::new(
                format!("aliases.{alias}"),
                "alias names and targets must not be empty",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    Ok(Config {
        listen,
        allow_insecure_public: s.allow_insecure_public.unwrap_or(false),
        max_body_bytes: usize::try_from(max_body).unwrap_or(usize::MAX),
        drain_timeout: Duration::from_secs(s.drain_timeout_secs.unwrap_or(30)),
        client_keys,
        providers,
        aliases: raw.aliases,
        image_fetch,
        retry_budget,
        routing_seed: s.routing_seed,
        admin_keys,
        circuit,
        routes: raw.routes,
        catalog,
        log,
        tenants,
        otel,
        limits,
        limit_rules,
        guardrails,
        cache,
    })
}

/// The shipped catalog with the config's entries added on top.
/// The catalog file read when `server.catalog_file` is not set (when it exists).
pub const DEFAULT_CATALOG_FILE: &str = "switchyard.catalog.json";

fn catalog(
    extra: &BTreeMap<String, Entry>,
    file: Option<&str>,
    errors: &mut Vec<ConfigError>,
) -> Catalog {
    let mut catalog = Catalog::builtin().unwrap_or_else(|e| {
        errors.push(ConfigError::new(
            "catalog",
            format!("the shipped catalog: {e}"),
        ));
        Catalog::default()
    });
    let path = file.unwrap_or(DEFAULT_CATALOG_FILE);
    match std::fs::read_to_string(path) {
        Ok(text) => {
            if let Err(e) = catalog.merge_json(&text) {
                errors.push(ConfigError::new(
                    "server.catalog_file",
                    format!("{path}: {e}"),
                ));
            }
        }
        Err(e) if file.is_some() => errors.push(ConfigError::new(
            "server.catalog_file",
            format!("cannot read {path}: {e}"),
        )),
        Err(_) => {}
    }
    for (key, entry) in extra {
        if let Err(e) = catalog.add(key, entry) {
            errors.push(ConfigError::new(format!("catalog.{key}"), e));
        }
    }
    catalog
}

fn circuit(c: &crate::raw::RawCircuit, errors: &mut Vec<ConfigError>) -> crate::Circuit {
    let d = crate::Circuit::default();
    if let Some(r) = c.failure_ratio {
        if !(r > 0.0 && r <= 1.0) {
            errors.push(ConfigError::new(
                "server.circuit.failure_ratio",
                "must be above 0 and at most 1",
            ));
        }
    }
    if let Some(p) = c.max_ejected_percent {
        if p > 100 {
            errors.push(ConfigError::new(
                "server.circuit.max_ejected_percent",
                "must be at most 100",
            ));
        }
    }
    for (field, v) in [
        (
            "consecutive_failures",
            c.consecutive_failures.map(u64::from),
        ),
        ("base_ejection_ms", c.base_ejection_ms),
        ("window_secs", c.window_secs),
    ] {
        if v == Some(0) {
            errors.push(ConfigError::new(
                format!("server.circuit.{field}"),
                "must be greater than 0",
            ));
        }
    }
    crate::Circuit {
        consecutive_failures: c.consecutive_failures.unwrap_or(d.consecutive_failures),
        failure_ratio: c.failure_ratio.unwrap_or(d.failure_ratio),
        min_requests: c.min_requests.unwrap_or(d.min_requests),
        window: c.window_secs.map_or(d.window, Duration::from_secs),
        base_ejection: c
            .base_ejection_ms
            .map_or(d.base_ejection, Duration::from_millis),
        max_ejection: c
            .max_ejection_ms
            .map_or(d.max_ejection, Duration::from_millis),
        max_ejected_percent: c
            .max_ejected_percent
            .unwrap_or(d.max_ejected_percent)
            .min(100),
    }
}

fn retry_budget(
    b: &crate::raw::RawRetryBudget,
    errors: &mut Vec<ConfigError>,
) -> crate::RetryBudget {
    let d = crate::RetryBudget::default();
    if let Some(r) = b.ratio {
        if !(0.0..=1.0).contains(&r) {
            errors.push(ConfigError::new(
                "server.retry_budget.ratio",
                "must be between 0 and 1",
            ));
        }
    }
    crate::RetryBudget {
        ratio: b.ratio.unwrap_or(d.ratio).clamp(0.0, 1.0),
        min_per_sec: b.min_per_sec.unwrap_or(d.min_per_sec),
    }
}

fn image_fetch(f: &crate::raw::RawImageFetch, errors: &mut Vec<ConfigError>) -> crate::ImageFetch {
    let d = crate::ImageFetch::default();
    for (field, v) in [("max_bytes", f.max_bytes), ("timeout_ms", f.timeout_ms)] {
        if v == Some(0) {
            errors.push(ConfigError::new(
                format!("server.image_fetch.{field}"),
                "must be greater than 0",
            ));
        }
    }
    crate::ImageFetch {
        max_bytes: f
            .max_bytes
            .map_or(d.max_bytes, |n| usize::try_from(n).unwrap_or(usize::MAX)),
        timeout: f.timeout_ms.map_or(d.timeout, Duration::from_millis),
        max_images: f.max_images.map_or(d.max_images, |n| n as usize),
        allow_private_addresses: f.allow_private_addresses.unwrap_or(false),
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn provider(
    p: &RawProvider,
    path: &str,
    env: &dyn EnvSource,
    errors: &mut Vec<ConfigError>,
) -> Option<Provider> {
    let start = errors.len();
    if !valid_name(&p.name) {
        errors.push(ConfigError::new(
            format!("{path}.name"),
            format!(
                "invalid provider name \"{}\": use lowercase letters, digits, '-' and '_'",
                p.name
            ),
        ));
    }
    let preset: Option<&'static Preset> = match &p.preset {
        Some(name) => {
            let found = presets::find(name);
            if found.is_none() {
                errors.push(ConfigError::new(
                    format!("{path}.preset"),
                    format!(
                        "unknown preset \"{name}\"{}; see docs/providers.md for the list",
                        suggestion(name, presets::PRESETS.iter().map(|p| p.name))
                    ),
                ));
            }
            found
        }
        // A provider named like a preset is that preset; base_url may still point elsewhere.
        None => presets::find(&p.name),
    };
    let kind = match p.kind {
        Some(RawKind::OpenaiCompatible) => ProviderKind::OpenAiCompatible,
        Some(RawKind::Anthropic) => ProviderKind::Anthropic,
        Some(RawKind::Gemini) => ProviderKind::Gemini,
        Some(RawKind::Cohere) => ProviderKind::Cohere,
        Some(RawKind::Vertex) => ProviderKind::Vertex,
        Some(RawKind::Bedrock) => ProviderKind::Bedrock,
        Some(RawKind::Azure) => ProviderKind::OpenAiCompatible,
        None => preset.map_or(ProviderKind::OpenAiCompatible, |pr| pr.kind),
    };
    let vertex = vertex_settings(p, kind, path, env, errors);
    let bedrock = bedrock_settings(p, kind, path, env, errors);
    let base_url = p
        .base_url
        .clone()
        .or_else(|| preset.and_then(|pr| env.var(pr.base_url_env)))
        .or_else(|| {
            preset
                .map(|pr| pr.base_url.to_owned())
                .filter(|u| !u.is_empty())
        })
        .or_else(|| vertex.as_ref().map(|(_, base)| base.clone()))
        .or_else(|| bedrock.as_ref().map(|(_, base)| base.clone()));
    let vertex = vertex.map(|(v, _)| v);
    let bedrock = bedrock.map(|(b, _)| b);
    let base_url = match base_url {
        Some(u) => check_url(&u, &format!("{path}.base_url"), errors),
        None => {
            let message = match preset {
                Some(pr) => format!(
                    "required: preset \"{}\" has no default URL; set base_url or {}",
                    pr.name, pr.base_url_env
                ),
                None => format!(
                    "required: no preset is named \"{}\", so set base_url or preset",
                    p.name
                ),
            };
            // An unknown preset was reported already; a missing URL would only repeat it.
            if p.preset.is_none() || preset.is_some() {
                errors.push(ConfigError::new(format!("{path}.base_url"), message));
            }
            String::new()
        }
    };
    let auth = match p.auth_header.as_deref() {
        None => match (preset, kind) {
            (Some(pr), _) if pr.kind == kind => pr.auth.style(),
            (_, ProviderKind::Anthropic) => AuthStyle::Header("x-api-key".into()),
            (_, ProviderKind::Gemini) => AuthStyle::Header("x-goog-api-key".into()),
            _ => AuthStyle::Bearer,
        },
        Some(h) if h.eq_ignore_ascii_case("authorization") => AuthStyle::Bearer,
        Some("none") => AuthStyle::None,
        Some(h) => {
            if http::HeaderName::from_bytes(h.as_bytes()).is_err() {
                errors.push(ConfigError::new(
                    format!("{path}.auth_header"),
                    format!("\"{h}\" is not a valid header name"),
                ));
            }
            AuthStyle::Header(h.to_ascii_lowercase())
        }
    };
    // A Vertex preset's variable names a key file, not a key: Vertex credentials are resolved
    // with its other settings.
    let api_key = match kind {
        ProviderKind::Vertex => p.api_key.clone(),
        // Bedrock's key variable is the signing key id; an API key is its own variable.
        ProviderKind::Bedrock => p.api_key.clone().or_else(|| env.var(BEDROCK_API_KEY_ENV)),
        _ => p
            .api_key
            .clone()
            .or_else(|| preset.and_then(|pr| env.var(pr.key_env))),
    };
    let signs_its_own = matches!(kind, ProviderKind::Vertex | ProviderKind::Bedrock);
    if api_key.is_none() && auth != AuthStyle::None && !signs_its_own {
        if let Some(pr) = preset.filter(|pr| pr.auth.key_required()) {
            errors.push(ConfigError::new(
                format!("{path}.api_key"),
                format!(
                    "no API key: set api_key (e.g. \"${{{0}}}\") or the {0} environment variable",
                    pr.key_env
                ),
            ));
        }
    }
    let mut headers = Vec::new();
    for (k, v) in &p.headers {
        let ok_name = http::HeaderName::from_bytes(k.as_bytes()).is_ok();
        let ok_value = http::HeaderValue::from_str(v).is_ok();
        if !ok_name || !ok_value {
            errors.push(ConfigError::new(
                format!("{path}.headers.{k}"),
                "not a valid HTTP header name and value",
            ));
        }
        headers.push((k.clone(), v.clone()));
    }
    let extra_ca_pem = p.ca_file.as_ref().and_then(|f| match std::fs::read(f) {
        Ok(pem) if pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") => Some(pem),
        Ok(_) => {
            errors.push(ConfigError::new(
                format!("{path}.ca_file"),
                format!("{f} holds no PEM certificate"),
            ));
            None
        }
        Err(e) => {
            errors.push(ConfigError::new(
                format!("{path}.ca_file"),
                format!("cannot read {f}: {e}"),
            ));
            None
        }
    });
    let timeouts = timeouts(&p.timeouts, &format!("{path}.timeouts"), errors);
    let azure =
        p.kind == Some(RawKind::Azure) || (p.kind.is_none() && preset.is_some_and(|pr| pr.azure));
    let azure_api_version = azure.then(|| azure_api_version(p.api_version.clone(), env));
    if !azure && p.api_version.is_some() {
        errors.push(ConfigError::new(
            format!("{path}.api_version"),
            "only Azure providers (type: azure) take an api_version",
        ));
    }
    if errors.len() > start {
        return None;
    }
    let models_configured = !p.models.is_empty();
    Some(Provider {
        name: p.name.clone(),
        kind,
        preset: preset.map(|pr| pr.name),
        base_url,
        auth,
        api_key: api_key.map(Secret::new),
        headers,
        extra_ca_pem,
        azure_api_version,
        vertex,
        bedrock,
        models: if models_configured {
            p.models.clone()
        } else {
            preset
                .map(|pr| pr.models.iter().map(|m| (*m).to_owned()).collect())
                .unwrap_or_default()
        },
        models_configured,
        model_prefixes: p.model_prefixes.clone().unwrap_or_else(|| {
            preset
                .map(|pr| pr.model_prefixes.iter().map(|m| (*m).to_owned()).collect())
                .unwrap_or_default()
        }),
        field_policy: field_policy(p, path, errors),
        native_responses: match p.responses {
            Some(RawResponses::Native) => kind == ProviderKind::OpenAiCompatible,
            Some(RawResponses::Chat) => false,
            None => {
                kind == ProviderKind::OpenAiCompatible
                    && crate::discover::serves_responses(preset.map(|pr| pr.name))
            }
        },
        timeouts,
        origin: Origin::File,
    })
}

/// The provider's field policy, from `field_policy` or the older `drop_params`.
fn field_policy(p: &RawProvider, path: &str, errors: &mut Vec<ConfigError>) -> Policy {
    match (p.field_policy, p.drop_params) {
        (Some(_), Some(_)) => {
            errors.push(ConfigError::new(
                format!("{path}.drop_params"),
                "give field_policy or drop_params, not both (drop_params: true is field_policy: lenient)",
            ));
            Policy::Default
        }
        (Some(p), None) => p.policy(),
        (None, Some(true)) => Policy::Lenient,
        (None, Some(false) | None) => Policy::Default,
    }
}

/// Vertex settings for a Vertex provider; for any other, an error per Vertex-only field set.
fn vertex_settings(
    p: &RawProvider,
    kind: ProviderKind,
    path: &str,
    env: &dyn EnvSource,
    errors: &mut Vec<ConfigError>,
) -> Option<(crate::VertexSettings, String)> {
    if kind != ProviderKind::Vertex {
        let fields = [
            ("project", p.project.is_some()),
            ("location", p.location.is_some()),
            ("credentials_file", p.credentials_file.is_some()),
            ("token_url", p.token_url.is_some()),
        ];
        for (field, set) in fields {
            if set {
                errors.push(ConfigError::new(
                    format!("{path}.{field}"),
                    "only Vertex providers (type: vertex) take this field",
                ));
            }
        }
        return None;
    }
    let has_static_token = p.api_key.is_some();
    let wanted = crate::vertex::Wanted {
        project: p.project.as_deref(),
        location: p.location.as_deref(),
        credentials_file: p.credentials_file.as_deref(),
        token_url: p.token_url.as_deref(),
        has_static_token,
    };
    crate::vertex::settings(&wanted, path, env, errors)
}

/// Bedrock settings for a Bedrock provider; for any other, an error per Bedrock-only field set.
fn bedrock_settings(
    p: &RawProvider,
    kind: ProviderKind,
    path: &str,
    env: &dyn EnvSource,
    errors: &mut Vec<ConfigError>,
) -> Option<(crate::BedrockSettings, String)> {
    if kind != ProviderKind::Bedrock {
        let fields = [
            ("region", p.region.is_some()),
            ("aws_access_key_id", p.aws_access_key_id.is_some()),
            ("aws_secret_access_key", p.aws_secret_access_key.is_some()),
            ("aws_session_token", p.aws_session_token.is_some()),
        ];
        for (field, set) in fields {
            if set {
                errors.push(ConfigError::new(
                    format!("{path}.{field}"),
                    "only Bedrock providers (type: bedrock) take this field",
                ));
            }
        }
        return None;
    }
    let wanted = crate::bedrock::Wanted {
        region: p.region.as_deref(),
        access_key_id: p.aws_access_key_id.as_deref(),
        secret_access_key: p.aws_secret_access_key.as_deref(),
        session_token: p.aws_session_token.as_deref(),
        has_api_key: p.api_key.is_some() || env.var(BEDROCK_API_KEY_ENV).is_some(),
    };
    crate::bedrock::settings(&wanted, path, env, errors)
}

/// AWS's variable for a Bedrock API key (a bearer token instead of signing keys).
pub(crate) const BEDROCK_API_KEY_ENV: &str = "AWS_BEARER_TOKEN_BEDROCK";

/// The Azure api-version: the config's, else AZURE_OPENAI_API_VERSION, else OPENAI_API_VERSION
/// (the variable OpenAI's SDKs read for Azure), else the latest GA version.
pub(crate) fn azure_api_version(configured: Option<String>, env: &dyn EnvSource) -> String {
    configured
        .or_else(|| env.var("AZURE_OPENAI_API_VERSION"))
        .or_else(|| env.var("OPENAI_API_VERSION"))
        .unwrap_or_else(|| switchyard_providers::azure::DEFAULT_API_VERSION.to_owned())
}

/// Checks an http(s) URL and returns it without a trailing slash.
pub(crate) fn check_url(u: &str, path: &str, errors: &mut Vec<ConfigError>) -> String {
    match url::Url::parse(u) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => {}
        Ok(_) => errors.push(ConfigError::new(
            path,
            format!("\"{u}\" must be an http:// or https:// URL"),
        )),
        Err(e) => errors.push(ConfigError::new(
            path,
            format!("\"{u}\" is not a valid URL: {e}"),
        )),
    }
    u.trim_end_matches('/').to_owned()
}

fn timeouts(t: &RawTimeouts, path: &str, errors: &mut Vec<ConfigError>) -> Timeouts {
    let d = Timeouts::default();
    let mut pick = |v: Option<u64>, field: &str, default: Duration| match v {
        Some(0) => {
            errors.push(ConfigError::new(
                format!("{path}.{field}"),
                "must be greater than 0",
            ));
            default
        }
        Some(ms) => Duration::from_millis(ms),
        None => default,
    };
    Timeouts {
        connect: pick(t.connect_ms, "connect_ms", d.connect),
        first_byte: pick(t.first_byte_ms, "first_byte_ms", d.first_byte),
        idle: pick(t.idle_ms, "idle_ms", d.idle),
        total: pick(t.total_ms, "total_ms", d.total),
    }
}

/// SHA-256 of a key, as stored and compared.
pub fn hash_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

fn client_keys(
    raw: &[RawClientKey],
    env: &dyn EnvSource,
    errors: &mut Vec<ConfigError>,
) -> Vec<ClientKey> {
    keys(raw, "client_keys", "SWITCHYARD_API_KEYS", env, errors)
}

/// Shortest client or admin key accepted, from the file or the environment.
const MIN_KEY_LEN: usize = 8;

/// Keys of one section (client or admin), from the file and a comma-separated variable.
fn keys(
    raw: &[RawClientKey],
    section: &str,
    env_var: &str,
    env: &dyn EnvSource,
    errors: &mut Vec<ConfigError>,
) -> Vec<ClientKey> {
    let mut out = Vec::new();
    let mut names = HashSet::new();
    for (i, k) in raw.iter().enumerate() {
        let path = format!("{section}[{i}]");
        if k.name.is_empty() || !names.insert(k.name.clone()) {
            errors.push(ConfigError::new(
                format!("{path}.name"),
                format!(
                    "client key names must be unique and non-empty (\"{}\")",
                    k.name
                ),
            ));
        }
        let sha = match (&k.key, &k.key_sha256) {
            (Some(key), None) if key.len() >= MIN_KEY_LEN => Some(hash_key(key)),
            (Some(_), None) => {
                errors.push(ConfigError::new(
                    format!("{path}.key"),
                    format!("keys must be at least {MIN_KEY_LEN} characters"),
                ));
                None
            }
            (None, Some(hex)) => {
                let parsed = parse_hex32(hex);
                if parsed.is_none() {
                    errors.push(ConfigError::new(
                        format!("{path}.key_sha256"),
                        "must be 64 hexadecimal characters",
                    ));
                }
                parsed
            }
            _ => {
                errors.push(ConfigError::new(
                    path.clone(),
                    "give exactly one of key and key_sha256",
                ));
                None
            }
        };
        if let Some(sha256) = sha {
            out.push(ClientKey {
                name: k.name.clone(),
                sha256,
            });
        }
    }
    if let Some(list) = env.var(env_var) {
        for (i, key) in list
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .enumerate()
        {
            // The same minimum as the file's keys: a short key would also satisfy the check
            // that refuses a public listener without keys.
            if key.len() < MIN_KEY_LEN {
                errors.push(ConfigError::new(
                    env_var,
                    format!(
                        "key {} of the list is {} characters long; keys must be at least \
                         {MIN_KEY_LEN} characters",
                        i + 1,
                        key.len()
                    ),
                ));
                continue;
            }
            out.push(ClientKey {
                name: format!("env-{}", i + 1),
                sha256: hash_key(key),
            });
        }
    }
    out
}

fn parse_hex32(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests;
