//! The response cache (`cache:`), validated: TTLs within bounds, routes that exist.

use crate::raw::{RawCache, RawCacheScope, RawNode};
use crate::ConfigError;
use std::collections::BTreeMap;
use std::time::Duration;

/// The longest TTL accepted: 30 days.
pub const MAX_TTL_SECS: u64 = 30 * 24 * 3600;

/// Whether and how long answers are cached, at one level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheScope {
    pub enabled: Option<bool>,
    pub ttl: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheSettings {
    pub enabled: bool,
    pub ttl: Duration,
    pub max_bytes: u64,
    pub routes: BTreeMap<String, CacheScope>,
    pub keys: BTreeMap<String, CacheScope>,
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            enabled: false,
            ttl: Duration::from_secs(3600),
            max_bytes: 256 << 20,
            routes: BTreeMap::new(),
            keys: BTreeMap::new(),
        }
    }
}

impl CacheSettings {
    /// Whether any request may be cached (the store is made only then).
    pub fn in_use(&self) -> bool {
        self.enabled
            || self
                .routes
                .values()
                .chain(self.keys.values())
                .any(|s| s.enabled == Some(true))
    }

    /// Whether a request through `route` (if any) with key `key` (if any) is cached, and for
    /// how long: the key's setting over the route's over the top level.
    pub fn for_request(&self, route: Option<&str>, key: Option<&str>) -> Option<Duration> {
        let r = route.and_then(|r| self.routes.get(r));
        let k = key.and_then(|k| self.keys.get(k));
        let enabled = k
            .and_then(|s| s.enabled)
            .or(r.and_then(|s| s.enabled))
            .unwrap_or(self.enabled);
        enabled.then(|| {
            k.and_then(|s| s.ttl)
                .or(r.and_then(|s| s.ttl))
                .unwrap_or(self.ttl)
        })
    }
}

fn ttl(secs: Option<u64>, at: &str, errors: &mut Vec<ConfigError>) -> Option<Duration> {
    let s = secs?;
    if !(1..=MAX_TTL_SECS).contains(&s) {
        errors.push(ConfigError::new(
            at,
            format!("must be from 1 to {MAX_TTL_SECS} seconds (30 days)"),
        ));
        return None;
    }
    Some(Duration::from_secs(s))
}

fn scope(raw: &RawCacheScope, at: &str, errors: &mut Vec<ConfigError>) -> CacheScope {
    CacheScope {
        enabled: raw.enabled,
        ttl: ttl(raw.ttl_secs, &format!("{at}.ttl_secs"), errors),
    }
}

pub(crate) fn cache(
    raw: &RawCache,
    routes: &BTreeMap<String, RawNode>,
    errors: &mut Vec<ConfigError>,
) -> CacheSettings {
    let d = CacheSettings::default();
    let max_bytes = raw.max_bytes.unwrap_or(d.max_bytes);
    if max_bytes < 1 << 16 {
        errors.push(ConfigError::new(
            "cache.max_bytes",
            "must be at least 65536 bytes",
        ));
    }
    let mut by_route = BTreeMap::new();
    for (name, s) in &raw.routes {
        let at = format!("cache.routes.{name}");
        if !routes.contains_key(name) {
            errors.push(ConfigError::new(
                at.clone(),
                format!("no route is named \"{name}\" (routes: lists them)"),
            ));
        }
        by_route.insert(name.clone(), scope(s, &at, errors));
    }
    let keys = raw
        .keys
        .iter()
        .map(|(name, s)| {
            (
                name.clone(),
                scope(s, &format!("cache.keys.{name}"), errors),
            )
        })
        .collect();
    CacheSettings {
        enabled: raw.enabled.unwrap_or(false),
        ttl: ttl(raw.ttl_secs, "cache.ttl_secs", errors).unwrap_or(d.ttl),
        max_bytes,
        routes: by_route,
        keys,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_key_overrides_its_route_which_overrides_the_top_level() {
        let s = CacheSettings {
            enabled: false,
            ttl: Duration::from_secs(60),
            routes: [(
                "r".to_owned(),
                CacheScope {
                    enabled: Some(true),
                    ttl: Some(Duration::from_secs(10)),
                },
            )]
            .into(),
            keys: [
                (
                    "off".to_owned(),
                    CacheScope {
                        enabled: Some(false),
                        ttl: None,
                    },
                ),
                (
                    "short".to_owned(),
                    CacheScope {
                        enabled: None,
                        ttl: Some(Duration::from_secs(2)),
                    },
                ),
            ]
            .into(),
            ..CacheSettings::default()
        };
        assert!(s.in_use());
        assert_eq!(s.for_request(None, None), None);
        assert_eq!(
            s.for_request(Some("r"), None),
            Some(Duration::from_secs(10))
        );
        assert_eq!(s.for_request(Some("r"), Some("off")), None);
        assert_eq!(
            s.for_request(Some("r"), Some("short")),
            Some(Duration::from_secs(2))
        );
        assert_eq!(s.for_request(Some("other"), Some("short")), None);
        assert!(!CacheSettings::default().in_use());
    }

    #[test]
    fn bad_values_name_their_field() {
        let raw = RawCache {
            enabled: Some(true),
            ttl_secs: Some(0),
            max_bytes: Some(100),
            routes: [(
                "nope".to_owned(),
                RawCacheScope {
                    enabled: Some(true),
                    ttl_secs: Some(MAX_TTL_SECS + 1),
                },
            )]
            .into(),
            keys: [(
                "k".to_owned(),
                RawCacheScope {
                    enabled: None,
                    ttl_secs: Some(5),
                },
            )]
            .into(),
        };
        let mut errors = Vec::new();
        let s = cache(&raw, &BTreeMap::new(), &mut errors);
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "cache.max_bytes",
                "cache.routes.nope",
                "cache.routes.nope.ttl_secs",
                "cache.ttl_secs"
            ]
        );
        assert_eq!(s.keys["k"].ttl, Some(Duration::from_secs(5)));
    }
}
