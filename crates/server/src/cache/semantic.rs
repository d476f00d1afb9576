//! The semantic cache on the request path: a request whose prompt means nearly the same as a
//! cached one's, with every other field equal, is served that answer. The prompt is split out
//! of the body (`switchyard_cache::semantic::prompt`), the rest makes the bucket key (so only
//! the wording may differ), and the prompt's embedding comes from the configured embeddings
//! model through the gateway's own routing (`crate::internal`). The nearest cached prompt in
//! the bucket at or above the threshold wins (`SemanticIndex`, in process; with Redis every
//! replica indexes what any stores).

use crate::context::RequestCtx;
use crate::state::AppState;
use serde_json::{json, Value};
use std::sync::Arc;
use switchyard_cache::semantic::SemanticIndex;
use switchyard_cache::{CacheStore, Entry, Key, KeyParts, SharedVector};
use switchyard_providers::Operation;

/// Where a request's prompt sits: its bucket (the request less its wording) and its
/// embedding.
pub(super) struct Near {
    bucket: Key,
    vector: Vec<f32>,
}

/// The request's place for the semantic cache, or `None` when it cannot have one: no index,
/// no text, a prompt over `max_prompt_bytes`, or an embeddings call that failed (the request
/// then goes on with the exact cache only).
pub(super) async fn embed(
    state: &AppState,
    ctx: &RequestCtx,
    namespace: &str,
    target: &str,
    policies: &[String],
    request: &Value,
) -> Option<Near> {
    let settings = &state.cfg.cache.semantic;
    let model = settings.embedding_model.as_deref()?;
    state.semantic.as_ref()?;
    let (rest, prompt) = switchyard_cache::semantic::prompt::split(ctx.op.name(), request)?;
    if prompt.len() > settings.max_prompt_bytes {
        return None;
    }
    let bucket = Key::new(&KeyParts {
        scope: namespace,
        operation: ctx.op.name(),
        target,
        policies,
        body: &rest,
    });
    let mut body = json!({"model": model, "input": [prompt]});
    if let Some(d) = settings.dimensions {
        body["dimensions"] = json!(d);
    }
    let caller = crate::internal::Caller::of(ctx);
    let answer = crate::internal::call(
        state,
        &caller,
        Operation::Embeddings,
        model,
        &body,
        ("cache", "semantic"),
    )
    .await
    .and_then(|a| crate::internal::vectors(&a.body, 1));
    match answer {
        Ok(mut v) => Some(Near {
            bucket,
            vector: v.pop()?,
        }),
        Err(e) => {
            tracing::warn!(error = %e, model, "the semantic cache's embeddings call failed");
            state.cache_metrics.note_error();
            None
        }
    }
}

/// The cached answer nearest in meaning, with its similarity.
pub(super) async fn nearest(
    state: &AppState,
    store: &dyn CacheStore,
    near: &Near,
    max_age_ms: Option<i64>,
) -> Option<(Arc<Entry>, Option<f32>)> {
    let index = state.semantic.as_ref()?;
    let now = state.cache_clock.now_ms();
    let threshold = state.cfg.cache.semantic.threshold as f32;
    let (key, similarity) = index.nearest(&near.bucket, &near.vector, threshold, now)?;
    match store.get(&key, now, max_age_ms).await {
        Ok(Some(e)) => Some((e, Some(similarity))),
        Ok(None) => {
            // Purged, or older than this request accepts (it may suit another).
            if max_age_ms.is_none() {
                index.remove(&key);
            }
            None
        }
        Err(_) => None,
    }
}

/// Indexes a stored answer's prompt here, and on every replica when the store is shared.
pub(super) fn index(
    store: &Arc<dyn CacheStore>,
    index: &SemanticIndex,
    near: Near,
    key: Key,
    expires_ms: i64,
) {
    index.insert(near.bucket, key, &near.vector, expires_ms);
    if store.backend() == "memory" {
        return;
    }
    let store = Arc::clone(store);
    let v = SharedVector {
        bucket: near.bucket,
        key,
        vector: near.vector,
        expires_ms,
    };
    tokio::spawn(async move {
        if let Err(e) = store.share(v).await {
            tracing::warn!(error = %e, "sharing a semantic cache vector failed");
        }
    });
}

/// The index the config asks for: `previous` kept across a reload; a new one follows the
/// shared store (the vectors stored before, and those any replica stores from now on).
pub fn index_of(
    cfg: &switchyard_config::CacheSettings,
    store: Option<&Arc<dyn CacheStore>>,
    previous: Option<&Arc<SemanticIndex>>,
) -> Option<Arc<SemanticIndex>> {
    let store = store?;
    if !cfg.semantic_in_use() {
        return None;
    }
    if let Some(p) = previous {
        return Some(Arc::clone(p));
    }
    let index = Arc::new(SemanticIndex::new(cfg.semantic.max_entries));
    // A shared store hands over the vectors stored before this replica followed it, and then
    // each one any replica stores.
    let follow = Arc::clone(&index);
    store.watch(Arc::new(move |v: SharedVector| {
        follow.insert(v.bucket, v.key, &v.vector, v.expires_ms);
    }));
    Some(index)
}
