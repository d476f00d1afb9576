//! `/admin/v1/cache`: the response cache's figures (`GET .../stats`) and purges (`POST
//! .../purge`), as Portkey and LiteLLM users expect to clear a cache they no longer trust.
//!
//! Organisation admins read the stats and purge anything. A workspace admin purges its own
//! workspace's entries (`workspace` required); everyone else gets a 403. Each purge is an
//! audit event (`cache.purge`) when the tenants' store is on.

use super::tenants::{admin_error, answer, body};
use crate::error::GatewayError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;
use switchyard_cache::{Key, Purge};
use switchyard_tenants::admin::Actor;
use switchyard_tenants::model::WsRole;

/// What `POST /admin/v1/cache/purge` takes: every condition given must hold.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PurgeBody {
    /// The workspace whose entries go (its namespaces included).
    workspace: Option<String>,
    /// A namespace within `workspace` (`x-switchyard-cache-namespace`).
    namespace: Option<String>,
    /// Entries stored by requests with this virtual key id or static key name.
    key_id: Option<String>,
    /// One entry, by its key (`x-switchyard-cache-key`, 64 hex digits).
    cache_key: Option<String>,
    /// Entries made more than this many seconds ago.
    older_than_secs: Option<u64>,
    /// Every entry: needed when no condition is given, so an empty body purges nothing.
    #[serde(default)]
    all: bool,
}

fn bad(param: &str, message: &str) -> GatewayError {
    GatewayError::BadRequest {
        message: format!("{param}: {message}"),
        param: Some(param.to_owned()),
    }
}

fn no_cache() -> GatewayError {
    GatewayError::Missing {
        message: "The response cache is off (cache: in the config).".into(),
    }
}

fn key_of(hex: &str) -> Option<Key> {
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut k = [0u8; 32];
    for (i, b) in k.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(Key(k))
}

/// The purge a body asks for.
fn purge_of(b: &PurgeBody, now_ms: i64) -> Result<Purge, GatewayError> {
    if b.namespace.is_some() && b.workspace.is_none() {
        return Err(bad(
            "namespace",
            "a namespace is within a workspace: give `workspace` too",
        ));
    }
    let namespace = match (&b.workspace, &b.namespace) {
        (Some(w), Some(n)) => Some(format!("{w}/{n}")),
        (Some(w), None) => Some(w.clone()),
        _ => None,
    };
    let key = match &b.cache_key {
        Some(h) => Some(key_of(h).ok_or_else(|| bad("cache_key", "must be 64 hex digits"))?),
        None => None,
    };
    let p = Purge {
        namespace,
        stored_by: b.key_id.clone(),
        key,
        created_before_ms: b.older_than_secs.map(|s| {
            now_ms.saturating_sub(i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX))
        }),
    };
    if p == Purge::default() && !b.all {
        return Err(bad(
            "all",
            "no condition given: name a workspace, namespace, key_id, cache_key or \
             older_than_secs, or send `all: true` to purge every entry",
        ));
    }
    Ok(p)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// `GET /admin/v1/cache/stats`.
pub async fn stats(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let run = async {
        super::admit(&s, &parts.headers).await?;
        let store = s.cache.as_ref().ok_or_else(no_cache)?;
        let held = store
            .stats()
            .await
            .map_err(|e| GatewayError::StoreUnavailable { detail: e.0 })?;
        let mut v = s.cache_metrics.json();
        v["object"] = json!("cache_stats");
        v["backend"] = json!(store.backend());
        v["entries"] = json!(held.entries);
        v["memory_bytes"] = json!(held.bytes);
        v["memory_max_bytes"] = json!(held.max_bytes);
        v["semantic"] = match &s.semantic {
            Some(ix) => json!({"vectors": ix.len(), "bytes": ix.bytes(),
                "threshold": s.cfg.cache.semantic.threshold}),
            None => Value::Null,
        };
        Ok::<_, GatewayError>(answer(StatusCode::OK, &v))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// `POST /admin/v1/cache/purge`.
pub async fn purge(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let run = async {
        let (parts, b) = req.into_parts();
        let access = super::access(&s, &parts.headers).await?;
        let bytes = crate::pipeline::read_body(
            b,
            &parts.headers,
            64 * 1024,
            std::time::Duration::from_secs(30),
        )
        .await?;
        let asked: PurgeBody = body(&bytes)?;
        let p = purge_of(&asked, now_ms())?;
        if !access.org_admin() {
            let Some(w) = &asked.workspace else {
                return Err(GatewayError::Forbidden {
                    message: "Purging outside one workspace needs an organisation admin: \
                              name your `workspace`."
                        .into(),
                    param: Some("workspace".into()),
                });
            };
            match access.role_in(w) {
                Some(r) if r >= WsRole::Admin => {}
                Some(_) => {
                    return Err(GatewayError::Forbidden {
                        message: "Your role does not allow purging this workspace's cache.".into(),
                        param: None,
                    })
                }
                None => {
                    return Err(GatewayError::Missing {
                        message: format!("no workspace '{w}'"),
                    })
                }
            }
        }
        let store = s.cache.as_ref().ok_or_else(no_cache)?;
        let purged = store
            .purge(&p)
            .await
            .map_err(|e| GatewayError::StoreUnavailable { detail: e.0 })?;
        let after = json!({
            "workspace": asked.workspace, "namespace": asked.namespace, "key_id": asked.key_id,
            "cache_key": asked.cache_key, "older_than_secs": asked.older_than_secs,
            "all": asked.all, "purged": purged,
        });
        let target = format!("cache:{}", asked.workspace.as_deref().unwrap_or("*"));
        match s.tenants.get() {
            Some(t) => {
                let actor = Actor {
                    name: access.actor.clone(),
                    source_ip: parts
                        .extensions
                        .get::<crate::listen::PeerAddr>()
                        .map(|p| p.0.ip().to_string()),
                    request_id: crate::http::request_id_of(&parts.extensions),
                };
                t.audit(
                    &actor,
                    "cache.purge",
                    target,
                    asked.workspace.as_deref(),
                    Some(after),
                )
                .await
                .map_err(admin_error)?;
            }
            None => tracing::info!(actor = %access.actor, %after, "cache purged"),
        }
        Ok(answer(
            StatusCode::OK,
            &json!({"object": "cache_purge", "purged": purged}),
        ))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(v: Value) -> Result<Purge, GatewayError> {
        purge_of(&serde_json::from_value(v).unwrap(), 10_000)
    }

    #[test]
    fn a_purge_body_names_what_goes() {
        let p =
            parse(json!({"workspace": "ws", "namespace": "team", "older_than_secs": 3})).unwrap();
        assert_eq!(p.namespace.as_deref(), Some("ws/team"));
        assert_eq!(p.created_before_ms, Some(7_000));
        let k = "ab".repeat(32);
        assert_eq!(
            parse(json!({"cache_key": k})).unwrap().key,
            Some(Key([0xab; 32]))
        );
        assert!(parse(json!({"all": true})).unwrap() == Purge::default());
        for (body, param) in [
            (json!({}), "all"),
            (json!({"namespace": "team"}), "namespace"),
            (json!({"cache_key": "zz"}), "cache_key"),
        ] {
            match parse(body) {
                Err(GatewayError::BadRequest { param: Some(p), .. }) => assert_eq!(p, param),
                _ => panic!("{param}"),
            }
        }
    }
}
