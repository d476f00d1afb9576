//! The response cache (`cache:`), validated: TTLs within bounds, routes that exist.

use crate::raw::{RawCache, RawCacheScope, RawNode};
use crate::{ConfigError, EnvSource};
use std::collections::BTreeMap;
use std::time::Duration;

/// The longest TTL accepted: 30 days.
pub const MAX_TTL_SECS: u64 = 30 * 24 * 3600;

/// Whether and how long answers are cached, at one level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheScope {
    pub enabled: Option<bool>,
    pub ttl: Option<Duration>,
    pub semantic: Option<bool>,
}

/// The semantic cache's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SemanticSettings {
    pub enabled: bool,
    pub embedding_model: Option<String>,
    pub dimensions: Option<u32>,
    pub threshold: f64,
    pub max_prompt_bytes: usize,
    pub max_entries: usize,
}

impl Default for SemanticSettings {
    fn default() -> Self {
        SemanticSettings {
            enabled: false,
            embedding_model: None,
            dimensions: None,
            threshold: 0.95,
            max_prompt_bytes: 8192,
            max_entries: 100_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CacheSettings {
    pub enabled: bool,
    pub ttl: Duration,
    pub max_bytes: u64,
    pub routes: BTreeMap<String, CacheScope>,
    pub keys: BTreeMap<String, CacheScope>,
    /// Answers kept in Redis, shared by replicas.
    pub redis_url: Option<crate::Secret>,
    pub redis_prefix: String,
    pub semantic: SemanticSettings,
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            enabled: false,
            ttl: Duration::from_secs(3600),
            max_bytes: 256 << 20,
            routes: BTreeMap::new(),
            keys: BTreeMap::new(),
            redis_url: None,
            redis_prefix: "switchyard:cache:".into(),
            semantic: SemanticSettings::default(),
        }
    }
}

/// What the cache does for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePlan {
    pub ttl: Duration,
    /// Also look for an answer to a prompt that means the same.
    pub semantic: bool,
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

    /// Whether the semantic cache may be used by any request (its index is made only then).
    pub fn semantic_in_use(&self) -> bool {
        self.semantic.enabled
            || self
                .routes
                .values()
                .chain(self.keys.values())
                .any(|s| s.semantic == Some(true))
    }

    /// Whether the key's or the route's setting turns the semantic cache off (a caller asking
    /// for it is then refused it).
    pub fn semantic_refused(&self, route: Option<&str>, key: Option<&str>) -> bool {
        let explicit = key
            .and_then(|k| self.keys.get(k))
            .and_then(|s| s.semantic)
            .or(route
                .and_then(|r| self.routes.get(r))
                .and_then(|s| s.semantic));
        explicit == Some(false)
    }

    /// Whether a request through `route` (if any) with key `key` (if any) is cached, for how
    /// long, and whether semantically: the key's setting over the route's over the top level.
    pub fn for_request(&self, route: Option<&str>, key: Option<&str>) -> Option<CachePlan> {
        let r = route.and_then(|r| self.routes.get(r));
        let k = key.and_then(|k| self.keys.get(k));
        let enabled = k
            .and_then(|s| s.enabled)
            .or(r.and_then(|s| s.enabled))
            .unwrap_or(self.enabled);
        enabled.then(|| CachePlan {
            ttl: k
                .and_then(|s| s.ttl)
                .or(r.and_then(|s| s.ttl))
                .unwrap_or(self.ttl),
            semantic: k
                .and_then(|s| s.semantic)
                .or(r.and_then(|s| s.semantic))
                .unwrap_or(self.semantic.enabled),
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
        semantic: raw.semantic,
    }
}

fn semantic(raw: &crate::raw::RawSemanticCache, errors: &mut Vec<ConfigError>) -> SemanticSettings {
    let d = SemanticSettings::default();
    let threshold = raw.threshold.unwrap_or(d.threshold);
    if !(threshold > 0.0 && threshold <= 1.0) {
        errors.push(ConfigError::new(
            "cache.semantic.threshold",
            "must be a cosine similarity above 0 and at most 1",
        ));
    }
    if raw.dimensions == Some(0) {
        errors.push(ConfigError::new(
            "cache.semantic.dimensions",
            "must be at least 1",
        ));
    }
    let max_prompt_bytes = raw.max_prompt_bytes.unwrap_or(d.max_prompt_bytes);
    if max_prompt_bytes == 0 {
        errors.push(ConfigError::new(
            "cache.semantic.max_prompt_bytes",
            "must be at least 1",
        ));
    }
    let max_entries = raw.max_entries.unwrap_or(d.max_entries);
    if max_entries == 0 {
        errors.push(ConfigError::new(
            "cache.semantic.max_entries",
            "must be at least 1",
        ));
    }
    SemanticSettings {
        enabled: raw.enabled.unwrap_or(false),
        embedding_model: raw.embedding_model.clone().filter(|m| !m.is_empty()),
        dimensions: raw.dimensions,
        threshold,
        max_prompt_bytes,
        max_entries,
    }
}

pub(crate) fn cache(
    raw: &RawCache,
    routes: &BTreeMap<String, RawNode>,
    env: &dyn EnvSource,
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
    let redis_url = raw
        .redis_url
        .clone()
        .or_else(|| env.var("SWITCHYARD_CACHE_REDIS_URL"))
        .filter(|u| !u.is_empty());
    if redis_url
        .as_ref()
        .is_some_and(|u| !u.starts_with("redis://"))
    {
        errors.push(ConfigError::new(
            "cache.redis_url",
            "must start with redis:// (TLS to Redis is not built in)",
        ));
    }
    let mut settings = CacheSettings {
        enabled: raw.enabled.unwrap_or(false),
        ttl: ttl(raw.ttl_secs, "cache.ttl_secs", errors).unwrap_or(d.ttl),
        max_bytes,
        routes: by_route,
        keys,
        redis_url: redis_url.map(crate::Secret::new),
        redis_prefix: raw.redis_prefix.clone().unwrap_or(d.redis_prefix),
        semantic: semantic(&raw.semantic, errors),
    };
    if settings.semantic_in_use() && settings.semantic.embedding_model.is_none() {
        errors.push(ConfigError::new(
            "cache.semantic.embedding_model",
            "the semantic cache is on, so it needs an embeddings model the gateway routes \
             (e.g. openai/text-embedding-3-small)",
        ));
        settings.semantic.enabled = false;
    }
    settings
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
                    semantic: Some(true),
                },
            )]
            .into(),
            keys: [
                (
                    "off".to_owned(),
                    CacheScope {
                        enabled: Some(false),
                        ttl: None,
                        semantic: None,
                    },
                ),
                (
                    "short".to_owned(),
                    CacheScope {
                        enabled: None,
                        ttl: Some(Duration::from_secs(2)),
                        semantic: Some(false),
                    },
                ),
            ]
            .into(),
            ..CacheSettings::default()
        };
        assert!(s.in_use());
        assert_eq!(s.for_request(None, None), None);
        let plan = |secs, semantic| {
            Some(CachePlan {
                ttl: Duration::from_secs(secs),
                semantic,
            })
        };
        assert_eq!(s.for_request(Some("r"), None), plan(10, true));
        assert_eq!(s.for_request(Some("r"), Some("off")), None);
        assert_eq!(s.for_request(Some("r"), Some("short")), plan(2, false));
        assert!(s.semantic_in_use());
        assert!(s.semantic_refused(Some("r"), Some("short")));
        assert!(!s.semantic_refused(Some("r"), None));
        assert!(!s.semantic_refused(None, Some("off")));
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
                    semantic: Some(true),
                },
            )]
            .into(),
            keys: [(
                "k".to_owned(),
                RawCacheScope {
                    enabled: None,
                    ttl_secs: Some(5),
                    semantic: None,
                },
            )]
            .into(),
            redis_url: Some("http://redis".into()),
            redis_prefix: None,
            semantic: crate::raw::RawSemanticCache {
                threshold: Some(1.5),
                ..Default::default()
            },
        };
        let mut errors = Vec::new();
        let env = std::collections::HashMap::<String, String>::new();
        let s = cache(&raw, &BTreeMap::new(), &env, &mut errors);
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "cache.max_bytes",
                "cache.routes.nope",
                "cache.routes.nope.ttl_secs",
                "cache.redis_url",
                "cache.ttl_secs",
                "cache.semantic.threshold",
                "cache.semantic.embedding_model"
            ]
        );
        assert_eq!(s.keys["k"].ttl, Some(Duration::from_secs(5)));
    }
}
