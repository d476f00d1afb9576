//! JWT bearer auth (`server.tenants.jwt`): the identity provider's key set is fetched at start
//! and every `refresh` after, kept in memory and swapped whole; a request verifies its token
//! against the set it finds (no I/O). Only a token naming a key the set lacks (the provider
//! rolled its keys) makes the request wait for one fetch, and at most one such fetch runs per
//! 30 s, so a stream of tokens with made-up key ids cannot make the gateway hammer the provider.
//!
//! A token that verified is remembered (bounded, by its exact text) until it expires or the key
//! set changes, so a caller sending the same token on every request pays for the signature
//! check once: an RS256 check costs about as much as the rest of a request.

use crate::error::GatewayError;
use crate::upstream::TlsConfig;
use arc_swap::ArcSwap;
use http_body_util::{BodyExt, Limited};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use switchyard_config::JwtSettings;
use switchyard_tenants::jwt::{self, ClaimNames, Claims, JwtError, KeySet, Rules};
use tokio::time::Instant;

/// Largest key set read.
const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Longest one fetch of the key set may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Fewest seconds between fetches made because a token named an unknown key.
const UNKNOWN_KEY_COOLDOWN: Duration = Duration::from_secs(30);
/// How soon a failed fetch is tried again while no key set is loaded.
const RETRY_EMPTY: Duration = Duration::from_secs(5);
/// Verified tokens remembered, per shard; a full shard starts again.
const CACHE_PER_SHARD: usize = 1024;
const SHARDS: usize = 8;

/// A token that verified: its claims, when it expires, and the caller's principal made from it
/// (for one tenants' snapshot version).
pub struct Verified {
    pub claims: Claims,
    exp: f64,
    pub principal: arc_swap::ArcSwapOption<(u64, Arc<switchyard_tenants::Principal>)>,
}

type Shard = std::sync::RwLock<std::collections::HashMap<Box<str>, Arc<Verified>>>;

pub struct JwtAuth {
    url: url::Url,
    /// Roots for the provider's endpoints (the key set, and the token endpoint of `ui::oidc`).
    pub tls: TlsConfig,
    pub names: ClaimNames,
    rules: Rules,
    pub callers: bool,
    pub admins: bool,
    refresh: Duration,
    keys: ArcSwap<KeySet>,
    /// When the last fetch for an unknown key began; one such fetch at a time.
    last_unknown: tokio::sync::Mutex<Option<Instant>>,
    /// Key-set fetches that failed (a metric).
    pub fetch_failures: AtomicU64,
    /// Tokens that verified, by their text.
    verified: [Shard; SHARDS],
}

fn unauthorized(e: &JwtError) -> GatewayError {
    GatewayError::Unauthorized {
        message: format!("Invalid token: {e}.").into(),
    }
}

impl JwtAuth {
    pub fn new(s: &JwtSettings, tls: TlsConfig) -> Result<Self, String> {
        let url = url::Url::parse(&s.jwks_url).map_err(|e| format!("jwks_url: {e}"))?;
        Ok(Self {
            url,
            tls,
            names: ClaimNames {
                subject: s.subject_claim.clone(),
                workspace: s.workspace_claim.clone(),
                models: s.models_claim.clone(),
                org_role: s.org_role_claim.clone(),
                workspace_roles: s.workspace_roles_claim.clone(),
            },
            rules: Rules {
                issuer: s.issuer.clone(),
                audience: s.audience.clone(),
                leeway_secs: i64::try_from(s.leeway.as_secs()).unwrap_or(i64::MAX),
            },
            callers: s.callers,
            admins: s.admins,
            refresh: s.refresh,
            keys: ArcSwap::from_pointee(KeySet::default()),
            last_unknown: tokio::sync::Mutex::new(None),
            fetch_failures: AtomicU64::new(0),
            verified: Default::default(),
        })
    }

    /// Verifies a bearer token; its claims, or a 401 saying why not.
    pub async fn verify(&self, token: &str) -> Result<Arc<Verified>, GatewayError> {
        let now = switchyard_tenants::now_ms() / 1000;
        #[allow(clippy::cast_precision_loss)]
        let now_f = now as f64;
        #[allow(clippy::cast_precision_loss)]
        let leeway = self.rules.leeway_secs as f64;
        let shard = &self.verified[shard_of(token)];
        let known = lock_read(shard).get(token).cloned();
        if let Some(v) = known {
            if now_f < v.exp + leeway {
                return Ok(v);
            }
            lock_write(shard).remove(token);
            return Err(unauthorized(&JwtError::Expired));
        }
        let unverified = jwt::decode(token).map_err(|e| unauthorized(&e))?;
        if !unverified.key_known(&self.keys.load()) {
            self.fetch_for_unknown_key().await;
        }
        let claims = unverified
            .verify(&self.keys.load(), &self.rules, now)
            .map_err(|e| unauthorized(&e))?;
        let exp = claims
            .get("exp")
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(0.0);
        let v = Arc::new(Verified {
            claims,
            exp,
            principal: arc_swap::ArcSwapOption::empty(),
        });
        let mut map = lock_write(shard);
        if map.len() >= CACHE_PER_SHARD {
            map.clear();
        }
        map.insert(token.into(), Arc::clone(&v));
        Ok(v)
    }

    /// Forgets every verified token (the key set changed: a key may be gone).
    fn forget_verified(&self) {
        for shard in &self.verified {
            lock_write(shard).clear();
        }
    }

    /// Fetches the key set again unless another fetch for an unknown key began within the
    /// cooldown (a waiter behind a fetch in progress uses its result).
    async fn fetch_for_unknown_key(&self) {
        let mut last = self.last_unknown.lock().await;
        if last.is_some_and(|t| t.elapsed() < UNKNOWN_KEY_COOLDOWN) {
            return;
        }
        *last = Some(Instant::now());
        if let Err(e) = self.fetch_now().await {
            self.failed(&e);
        }
    }

    fn failed(&self, e: &str) {
        self.fetch_failures.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(url = %self.url, error = %e, "fetching the JWT key set failed");
    }

    /// Fetches and installs the key set; how many keys it holds.
    async fn fetch_now(&self) -> Result<usize, String> {
        let body = tokio::time::timeout(FETCH_TIMEOUT, self.get())
            .await
            .map_err(|_| "timed out".to_owned())??;
        let set = KeySet::parse(&body)?;
        let n = set.len();
        if **self.keys.load() != set {
            self.keys.store(Arc::new(set));
            self.forget_verified();
        }
        Ok(n)
    }

    async fn get(&self) -> Result<bytes::Bytes, String> {
        let (addr, host) = crate::fetch::resolve(&self.url).await?;
        let resp =
            crate::fetch::get_at(addr, &self.url, &host, &self.tls, "application/json").await?;
        if !resp.status().is_success() {
            return Err(format!("the server answered {}", resp.status()));
        }
        Limited::new(resp.into_body(), MAX_JWKS_BYTES)
            .collect()
            .await
            .map(http_body_util::Collected::to_bytes)
            .map_err(|_| format!("the key set is larger than {MAX_JWKS_BYTES} bytes"))
    }

    /// Fetches the key set now (start-up waits for the first try) and then every `refresh`,
    /// sooner while none is loaded.
    pub async fn start(self: &Arc<Self>) {
        let first = self.scheduled_fetch().await;
        // Ends once a config reload has replaced this verifier and no request holds it.
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut loaded = first;
            loop {
                let Some(wait) = weak
                    .upgrade()
                    .map(|me| if loaded { me.refresh } else { RETRY_EMPTY })
                else {
                    return;
                };
                tokio::time::sleep(wait).await;
                let Some(me) = weak.upgrade() else {
                    return;
                };
                loaded = me.scheduled_fetch().await || !me.keys.load().is_empty();
            }
        });
    }

    async fn scheduled_fetch(&self) -> bool {
        match self.fetch_now().await {
            Ok(n) => {
                tracing::debug!(url = %self.url, keys = n, "JWT key set loaded");
                true
            }
            Err(e) => {
                self.failed(&e);
                false
            }
        }
    }
}

fn shard_of(token: &str) -> usize {
    // The signature's last bytes are as random as anything in the token.
    token
        .as_bytes()
        .last()
        .map_or(0, |b| usize::from(*b) % SHARDS)
}

fn lock_read(
    s: &Shard,
) -> std::sync::RwLockReadGuard<'_, std::collections::HashMap<Box<str>, Arc<Verified>>> {
    s.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn lock_write(
    s: &Shard,
) -> std::sync::RwLockWriteGuard<'_, std::collections::HashMap<Box<str>, Arc<Verified>>> {
    s.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}
