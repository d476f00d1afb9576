//! The request log and trace export settings, validated.

use crate::raw::{RawLog, RawOtel};
use crate::ConfigError;
use crate::EnvSource;
use std::path::PathBuf;
use std::time::Duration;

/// Where request records go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogStore {
    Sqlite(PathBuf),
    Postgres(String),
}

/// The request log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogSettings {
    pub enabled: bool,
    pub store: LogStore,
    pub queue_capacity: usize,
    pub batch_size: usize,
    pub flush_interval: Duration,
    /// `None` keeps records forever.
    pub retention: Option<Duration>,
    pub bodies: bool,
    pub body_max_bytes: usize,
    pub redact_bodies: bool,
    pub stream_usage: bool,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            enabled: true,
            store: LogStore::Sqlite(PathBuf::from("switchyard.db")),
            queue_capacity: 65_536,
            batch_size: 1_000,
            flush_interval: Duration::from_millis(200),
            retention: Some(Duration::from_secs(30 * 86_400)),
            bodies: false,
            body_max_bytes: 32_768,
            redact_bodies: false,
            stream_usage: true,
        }
    }
}

/// OTLP trace export; `None` in `Config` when no endpoint is set.
#[derive(Debug, Clone, PartialEq)]
pub struct OtelSettings {
    /// The full `.../v1/traces` URL.
    pub endpoint: String,
    pub service_name: String,
    pub headers: Vec<(String, String)>,
    pub capture_content: bool,
    pub queue_capacity: usize,
}

fn positive(v: Option<usize>, field: &str, default: usize, errors: &mut Vec<ConfigError>) -> usize {
    match v {
        Some(0) => {
            errors.push(ConfigError::new(field, "must be greater than 0"));
            default
        }
        Some(n) => n,
        None => default,
    }
}

pub(crate) fn log(raw: &RawLog, env: &dyn EnvSource, errors: &mut Vec<ConfigError>) -> LogSettings {
    let d = LogSettings::default();
    let pg = raw
        .postgres_url
        .clone()
        .or_else(|| env.var("SWITCHYARD_LOG_POSTGRES_URL"))
        .filter(|u| !u.is_empty());
    let store = match pg {
        Some(url) => {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                errors.push(ConfigError::new(
                    "server.log.postgres_url",
                    "must start with postgres:// or postgresql://",
                ));
            }
            LogStore::Postgres(url)
        }
        None => match raw.sqlite_path.as_deref() {
            Some("") => {
                errors.push(ConfigError::new(
                    "server.log.sqlite_path",
                    "must not be empty (set server.log.enabled: false to turn the log off)",
                ));
                d.store.clone()
            }
            Some(p) => LogStore::Sqlite(PathBuf::from(p)),
            None => d.store.clone(),
        },
    };
    LogSettings {
        enabled: raw.enabled.unwrap_or(true),
        store,
        queue_capacity: positive(
            raw.queue_capacity,
            "server.log.queue_capacity",
            d.queue_capacity,
            errors,
        ),
        batch_size: positive(
            raw.batch_size,
            "server.log.batch_size",
            d.batch_size,
            errors,
        ),
        flush_interval: match raw.flush_interval_ms {
            Some(0) => {
                errors.push(ConfigError::new(
                    "server.log.flush_interval_ms",
                    "must be greater than 0",
                ));
                d.flush_interval
            }
            Some(ms) => Duration::from_millis(ms),
            None => d.flush_interval,
        },
        retention: match raw.retention_days {
            Some(0) => None,
            Some(days) => Some(Duration::from_secs(days.saturating_mul(86_400))),
            None => d.retention,
        },
        bodies: raw.bodies.unwrap_or(false),
        body_max_bytes: raw.body_max_bytes.unwrap_or(d.body_max_bytes),
        redact_bodies: raw.redact_bodies.unwrap_or(false),
        stream_usage: raw.stream_usage.unwrap_or(true),
    }
}

pub(crate) fn otel(
    raw: &RawOtel,
    env: &dyn EnvSource,
    errors: &mut Vec<ConfigError>,
) -> Option<OtelSettings> {
    let endpoint = raw
        .endpoint
        .clone()
        .or_else(|| env.var("OTEL_EXPORTER_OTLP_ENDPOINT"))
        .filter(|e| !e.is_empty())?;
    match url::Url::parse(&endpoint) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
        _ => errors.push(ConfigError::new(
            "server.otel.endpoint",
            format!("\"{endpoint}\" is not an http(s) URL"),
        )),
    }
    let base = endpoint.trim_end_matches('/');
    let endpoint = if base.ends_with("/v1/traces") {
        base.to_owned()
    } else {
        format!("{base}/v1/traces")
    };
    Some(OtelSettings {
        endpoint,
        service_name: raw
            .service_name
            .clone()
            .unwrap_or_else(|| "switchyard".into()),
        headers: raw
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        capture_content: raw.capture_content.unwrap_or(false),
        queue_capacity: positive(
            raw.queue_capacity,
            "server.otel.queue_capacity",
            8_192,
            errors,
        ),
    })
}
