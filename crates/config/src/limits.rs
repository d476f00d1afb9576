//! `server.limits`: bounds on memory, time and fan-out, whatever a caller or an upstream sends.

use crate::raw::{RawInlineConfig, RawLimits};
use crate::ConfigError;
use std::time::Duration;

/// What callers may send in the `x-switchyard-config` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InlineConfig {
    Allow,
    /// Only trees whose targets are configured routes.
    Routes,
    Off,
}

/// Validated `server.limits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_model_name_bytes: usize,
    pub max_attempts_per_request: u32,
    pub inline_config: InlineConfig,
    pub max_series: usize,
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    pub idle_timeout: Duration,
    /// `None`: derived from the descriptor limit at start-up.
    pub max_connections: Option<usize>,
    pub max_event_bytes: usize,
    pub max_upstream_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_model_name_bytes: 256,
            max_attempts_per_request: 10,
            inline_config: InlineConfig::Allow,
            max_series: 2000,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(60),
            max_connections: None,
            max_event_bytes: 16 * 1024 * 1024,
            max_upstream_body_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Most connections when `max_connections` is not set: half the descriptor limit, within this.
pub const MAX_DERIVED_CONNECTIONS: usize = 65536;

impl Limits {
    /// The connection cap for a process whose descriptor limit is `nofile`: the configured one,
    /// else half the limit (a streamed request holds the caller's socket and an upstream one),
    /// less a reserve for files and listeners.
    pub fn connections(&self, nofile: u64) -> usize {
        self.max_connections.unwrap_or_else(|| {
            let half = nofile.saturating_sub(64) / 2;
            usize::try_from(half)
                .unwrap_or(usize::MAX)
                .clamp(16, MAX_DERIVED_CONNECTIONS)
        })
    }
}

fn size(v: Option<u64>, default: usize) -> usize {
    v.map_or(default, |n| usize::try_from(n).unwrap_or(usize::MAX))
}

pub(crate) fn limits(l: &RawLimits, errors: &mut Vec<ConfigError>) -> Limits {
    let d = Limits::default();
    for (field, v) in [
        ("max_model_name_bytes", l.max_model_name_bytes),
        (
            "max_attempts_per_request",
            l.max_attempts_per_request.map(u64::from),
        ),
        ("max_series", l.max_series),
        ("header_read_timeout_ms", l.header_read_timeout_ms),
        ("body_read_timeout_ms", l.body_read_timeout_ms),
        ("idle_timeout_ms", l.idle_timeout_ms),
        ("max_connections", l.max_connections),
        ("max_event_bytes", l.max_event_bytes),
        ("max_upstream_body_bytes", l.max_upstream_body_bytes),
    ] {
        if v == Some(0) {
            errors.push(ConfigError::new(
                format!("server.limits.{field}"),
                "must be greater than 0",
            ));
        }
    }
    let ms = |v: Option<u64>, default: Duration| v.map_or(default, Duration::from_millis);
    Limits {
        max_model_name_bytes: size(l.max_model_name_bytes, d.max_model_name_bytes),
        max_attempts_per_request: l
            .max_attempts_per_request
            .unwrap_or(d.max_attempts_per_request),
        inline_config: match l.inline_config {
            None | Some(RawInlineConfig::Allow) => InlineConfig::Allow,
            Some(RawInlineConfig::Routes) => InlineConfig::Routes,
            Some(RawInlineConfig::Off) => InlineConfig::Off,
        },
        max_series: size(l.max_series, d.max_series),
        header_read_timeout: ms(l.header_read_timeout_ms, d.header_read_timeout),
        body_read_timeout: ms(l.body_read_timeout_ms, d.body_read_timeout),
        idle_timeout: ms(l.idle_timeout_ms, d.idle_timeout),
        max_connections: l
            .max_connections
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        max_event_bytes: size(l.max_event_bytes, d.max_event_bytes),
        max_upstream_body_bytes: size(l.max_upstream_body_bytes, d.max_upstream_body_bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_refused_with_the_field_named_and_defaults_fill_the_rest() {
        let raw = RawLimits {
            idle_timeout_ms: Some(0),
            max_event_bytes: Some(1024),
            inline_config: Some(RawInlineConfig::Routes),
            ..RawLimits::default()
        };
        let mut errors = Vec::new();
        let l = limits(&raw, &mut errors);
        assert_eq!(errors.len(), 1);
        assert!(errors[0]
            .to_string()
            .contains("server.limits.idle_timeout_ms"));
        assert_eq!(l.max_event_bytes, 1024);
        assert_eq!(l.inline_config, InlineConfig::Routes);
        assert_eq!(l.max_attempts_per_request, 10);
    }

    #[test]
    fn derived_connection_cap_is_half_the_descriptors_within_bounds() {
        let l = Limits::default();
        assert_eq!(l.connections(1024 + 64), 512);
        assert_eq!(l.connections(10), 16);
        assert_eq!(l.connections(1 << 30), MAX_DERIVED_CONNECTIONS);
        let set = Limits {
            max_connections: Some(7),
            ..l
        };
        assert_eq!(set.connections(1 << 20), 7);
    }
}
