//! `embedding_similarity`: the texts embedded by a model the gateway serves (through its own
//! routing: `internal`), compared by cosine with the check's examples. The examples' vectors
//! are cached in the process by model, dimensions and texts: after the first call, only the
//! texts are sent.

use super::{Reply, Subject};
use crate::internal::{self, Caller};
use crate::state::AppState;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use switchyard_guardrails::checks::callout::{closest, similarity_fires};
use switchyard_providers::Operation;

pub(super) struct Settings<'a> {
    pub model: &'a str,
    pub examples: &'a [String],
    pub threshold: f64,
    pub require: bool,
    pub dimensions: Option<u32>,
}

type Vectors = Arc<Vec<Vec<f32>>>;

/// The examples' vectors, by model, dimensions and examples.
fn cache() -> &'static Mutex<HashMap<String, Vectors>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Vectors>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

/// Most sets of examples kept (one per configured check, in practice).
const CACHED: usize = 1024;

pub(super) async fn call(
    state: &AppState,
    who: &Caller,
    c: &Settings<'_>,
    s: &Subject<'_>,
    tag: &str,
) -> Result<Reply, String> {
    if s.texts.is_empty() {
        return Ok(Reply::default());
    }
    let key = format!(
        "{}\u{0}{:?}\u{0}{}",
        c.model,
        c.dimensions,
        c.examples.join("\u{0}")
    );
    let lock = |m: &'static Mutex<HashMap<String, Vectors>>| {
        m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    let known = lock(cache()).get(&key).cloned();
    // On a miss, the examples go in the same request as the texts, first.
    let mut input: Vec<&str> = Vec::new();
    if known.is_none() {
        input.extend(c.examples.iter().map(String::as_str));
    }
    input.extend(s.texts.iter().map(|t| t.text));
    let mut body = json!({"model": c.model, "input": input});
    if let Some(d) = c.dimensions {
        body["dimensions"] = json!(d);
    }
    let answer = internal::call(
        state,
        who,
        Operation::Embeddings,
        c.model,
        &body,
        ("guardrail", tag),
    )
    .await?;
    let mut vectors = internal::vectors(&answer.body, input.len())?;
    let examples = match known {
        Some(v) => v,
        None => {
            let texts = vectors.split_off(c.examples.len());
            let ex = Arc::new(std::mem::replace(&mut vectors, texts));
            let mut m = lock(cache());
            if m.len() >= CACHED {
                m.clear();
            }
            m.insert(key, Arc::clone(&ex));
            ex
        }
    };
    let best = closest(&vectors, &examples);
    let (fired, label) = similarity_fires(best, c.threshold, c.require);
    let mut detail = answer.usage;
    if let (Some(obj), Some((sim, i))) = (detail.as_object_mut(), best) {
        obj.insert("similarity".into(), json!((sim * 1000.0).round() / 1000.0));
        obj.insert("example".into(), json!(i));
    }
    Ok(Reply {
        fired,
        reason: Some(label).filter(|l| !l.is_empty()),
        rewritten: None,
        detail: Some(detail).filter(|d| !d.is_null()),
    })
}
