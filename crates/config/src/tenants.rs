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
    TenantSettings {
        enabled: raw.enabled.unwrap_or(true),
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
    }
}
