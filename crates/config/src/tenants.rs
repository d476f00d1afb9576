//! Workspaces and virtual keys (`server.tenants`), validated.

use crate::raw::RawTenants;
use crate::{ConfigError, EnvSource};
use std::path::PathBuf;
use std::time::Duration;

/// Where workspaces, virtual keys and the audit log are kept.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantSettings {
    pub enabled: bool,
    pub sqlite_path: PathBuf,
    /// Kept in PostgreSQL instead of SQLite (replicas share it).
    pub postgres_url: Option<crate::Secret>,
    /// The server secret virtual keys are hashed with, as SWITCHYARD_SECRET_KEY gives it.
    pub secret_key: Option<crate::Secret>,
    /// The file that holds the secret when the environment does not (created on first start).
    pub secret_key_file: PathBuf,
    /// How often the store is checked for changes made by another replica.
    pub refresh: Duration,
    /// The key-encryption key, as SWITCHYARD_KEK gives it.
    pub kek: Option<crate::Secret>,
    /// The file that holds the KEK when the environment does not (created on first start).
    pub kek_file: PathBuf,
    /// JWT auth; `None` when no JWKS URL is configured.
    pub jwt: Option<JwtSettings>,
}

/// Bearer JWTs from an identity provider (`server.tenants.jwt`).
#[derive(Debug, Clone, PartialEq)]
pub struct JwtSettings {
    pub jwks_url: String,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub leeway: Duration,
    pub refresh: Duration,
    pub callers: bool,
    pub admins: bool,
    pub subject_claim: String,
    pub workspace_claim: String,
    pub models_claim: String,
    pub org_role_claim: String,
    pub workspace_roles_claim: String,
    /// The console's sign-in through the provider; `None` when not configured.
    pub oidc: Option<OidcSettings>,
}

/// OpenID Connect sign-in for the console (`server.tenants.jwt.oidc`).
#[derive(Debug, Clone, PartialEq)]
pub struct OidcSettings {
    pub authorization_url: String,
    pub token_url: String,
    pub client_id: String,
    pub client_secret: Option<crate::Secret>,
    pub scopes: String,
    pub redirect_url: Option<String>,
    /// Sign in with the access token rather than the ID token.
    pub use_access_token: bool,
}

impl Default for TenantSettings {
    fn default() -> Self {
        TenantSettings {
            enabled: true,
            sqlite_path: PathBuf::from("switchyard.db"),
            postgres_url: None,
            secret_key: None,
            secret_key_file: PathBuf::from("switchyard.secret"),
            refresh: Duration::from_millis(500),
            kek: None,
            kek_file: PathBuf::from("switchyard.kek"),
            jwt: None,
        }
    }
}

pub(crate) fn tenants(
    raw: &RawTenants,
    env: &dyn EnvSource,
    errors: &mut Vec<ConfigError>,
) -> TenantSettings {
    let d = TenantSettings::default();
    let path = |v: &Option<String>,
                field: &str,
                default: PathBuf,
                errors: &mut Vec<ConfigError>| match v.as_deref() {
        Some("") => {
            errors.push(ConfigError::new(field, "must not be empty"));
            default
        }
        Some(p) => PathBuf::from(p),
        None => default,
    };
    let refresh = match raw.refresh_ms {
        Some(0) => {
            errors.push(ConfigError::new(
                "server.tenants.refresh_ms",
                "must be greater than 0",
            ));
            d.refresh
        }
        Some(ms) => Duration::from_millis(ms),
        None => d.refresh,
    };
    let postgres_url = raw
        .postgres_url
        .clone()
        .or_else(|| env.var("SWITCHYARD_TENANTS_POSTGRES_URL"))
        .filter(|u| !u.is_empty());
    if let Some(u) = &postgres_url {
        if !(u.starts_with("postgres://") || u.starts_with("postgresql://")) {
            errors.push(ConfigError::new(
                "server.tenants.postgres_url",
                "must start with postgres:// or postgresql://",
            ));
        }
    }
    let enabled = raw.enabled.unwrap_or(true);
    let jwt = jwt(&raw.jwt, env, errors);
    if !enabled && jwt.is_some() {
        errors.push(ConfigError::new(
            "server.tenants.jwt",
            "JWT auth maps tokens to workspaces: it needs server.tenants.enabled",
        ));
    }
    TenantSettings {
        enabled,
        postgres_url: postgres_url.map(crate::Secret::new),
        sqlite_path: path(
            &raw.sqlite_path,
            "server.tenants.sqlite_path",
            d.sqlite_path,
            errors,
        ),
        secret_key: env
            .var("SWITCHYARD_SECRET_KEY")
            .filter(|v| !v.is_empty())
            .map(crate::Secret::new),
        secret_key_file: path(
            &raw.secret_key_file,
            "server.tenants.secret_key_file",
            d.secret_key_file,
            errors,
        ),
        refresh,
        kek: env
            .var("SWITCHYARD_KEK")
            .filter(|v| !v.is_empty())
            .map(crate::Secret::new),
        kek_file: path(&raw.kek_file, "server.tenants.kek_file", d.kek_file, errors),
        jwt,
    }
}

fn jwt(
    raw: &crate::raw::RawJwt,
    env: &dyn EnvSource,
    errors: &mut Vec<ConfigError>,
) -> Option<JwtSettings> {
    let url = raw
        .jwks_url
        .clone()
        .or_else(|| env.var("SWITCHYARD_JWKS_URL"))
        .filter(|u| !u.is_empty())?;
    match url::Url::parse(&url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {}
        _ => errors.push(ConfigError::new(
            "server.tenants.jwt.jwks_url",
            "must be an http:// or https:// URL",
        )),
    }
    let secs = |v: Option<u64>,
                field: &str,
                default: u64,
                min: u64,
                errors: &mut Vec<ConfigError>| {
        match v {
            Some(n) if n < min => {
                errors.push(ConfigError::new(field, format!("must be at least {min}")));
                Duration::from_secs(default)
            }
            Some(n) => Duration::from_secs(n),
            None => Duration::from_secs(default),
        }
    };
    let claim =
        |v: &Option<String>, field: &str, default: &str, errors: &mut Vec<ConfigError>| match v
            .as_deref()
        {
            Some("") => {
                errors.push(ConfigError::new(field, "must not be empty"));
                default.to_owned()
            }
            Some(c) => c.to_owned(),
            None => default.to_owned(),
        };
    let c = &raw.claims;
    Some(JwtSettings {
        jwks_url: url,
        issuer: raw.issuer.clone().filter(|v| !v.is_empty()),
        audience: raw.audience.clone().filter(|v| !v.is_empty()),
        leeway: secs(
            raw.leeway_secs,
            "server.tenants.jwt.leeway_secs",
            60,
            0,
            errors,
        ),
        refresh: secs(
            raw.refresh_secs,
            "server.tenants.jwt.refresh_secs",
            300,
            1,
            errors,
        ),
        callers: raw.callers.unwrap_or(true),
        admins: raw.admins.unwrap_or(true),
        subject_claim: claim(
            &c.subject,
            "server.tenants.jwt.claims.subject",
            "sub",
            errors,
        ),
        workspace_claim: claim(
            &c.workspace,
            "server.tenants.jwt.claims.workspace",
            "switchyard_workspace",
            errors,
        ),
        models_claim: claim(
            &c.models,
            "server.tenants.jwt.claims.models",
            "switchyard_models",
            errors,
        ),
        org_role_claim: claim(
            &c.org_role,
            "server.tenants.jwt.claims.org_role",
            "switchyard_role",
            errors,
        ),
        workspace_roles_claim: claim(
            &c.workspace_roles,
            "server.tenants.jwt.claims.workspace_roles",
            "switchyard_workspaces",
            errors,
        ),
        oidc: oidc(&raw.oidc, env, errors),
    })
}

fn oidc(
    raw: &crate::raw::RawOidc,
    env: &dyn EnvSource,
    errors: &mut Vec<ConfigError>,
) -> Option<OidcSettings> {
    let set = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
    let authorization_url = set(&raw.authorization_url);
    let any = authorization_url.is_some()
        || set(&raw.token_url).is_some()
        || set(&raw.client_id).is_some()
        || set(&raw.redirect_url).is_some();
    if !any {
        return None;
    }
    let mut url = |v: &Option<String>, field: &str, required: bool| -> Option<String> {
        let field = format!("server.tenants.jwt.oidc.{field}");
        match set(v) {
            None if required => {
                errors.push(ConfigError::new(
                    &field,
                    "is required for sign-in through the identity provider",
                ));
                None
            }
            None => None,
            Some(u) => match url::Url::parse(&u) {
                Ok(p) if matches!(p.scheme(), "http" | "https") && p.host_str().is_some() => {
                    Some(u)
                }
                _ => {
                    errors.push(ConfigError::new(
                        &field,
                        "must be an http:// or https:// URL",
                    ));
                    None
                }
            },
        }
    };
    let authorization_url = url(&raw.authorization_url, "authorization_url", true);
    let token_url = url(&raw.token_url, "token_url", true);
    let redirect_url = url(&raw.redirect_url, "redirect_url", false);
    let client_id = set(&raw.client_id);
    if client_id.is_none() {
        errors.push(ConfigError::new(
            "server.tenants.jwt.oidc.client_id",
            "is required for sign-in through the identity provider",
        ));
    }
    let scopes = raw
        .scopes
        .clone()
        .unwrap_or_else(|| "openid profile email".to_owned());
    if !scopes.split_whitespace().any(|s| s == "openid") {
        errors.push(ConfigError::new(
            "server.tenants.jwt.oidc.scopes",
            "must include openid",
        ));
    }
    Some(OidcSettings {
        authorization_url: authorization_url?,
        token_url: token_url?,
        client_id: client_id?,
        client_secret: set(&raw.client_secret)
            .or_else(|| {
                env.var("SWITCHYARD_OIDC_CLIENT_SECRET")
                    .filter(|v| !v.is_empty())
            })
            .map(crate::Secret::new),
        scopes,
        redirect_url,
        use_access_token: matches!(raw.token, Some(crate::raw::RawOidcToken::AccessToken)),
    })
}
