//! GET /v1/models in OpenAI's list shape: the models this gateway can route to.

use bytes::Bytes;
use serde::Serialize;
use std::collections::HashMap;
use switchyard_config::Config;
use switchyard_providers::catalog::{Entry, Pricing};
use switchyard_routing::Router;

#[derive(Serialize)]
struct Model<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    owned_by: &'a str,
    /// From the model catalog, when it knows the model (absent for route names).
    #[serde(flatten)]
    catalog: Option<Catalogued<'a>>,
}

/// Catalog fields added to OpenAI's: prices in USD per million tokens, limits, capabilities.
#[derive(Serialize)]
struct Catalogued<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pricing: Option<Pricing>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context_window: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    capabilities: Option<&'a [String]>,
}

impl<'a> Catalogued<'a> {
    fn of(e: &'a Entry) -> Self {
        Catalogued {
            pricing: e.pricing(),
            context_window: e.context_window,
            max_output_tokens: e.max_output,
            capabilities: e.capabilities.as_deref(),
        }
    }
}

/// The catalog entry of a listed model name (an alias, a bare name or `provider/model`).
fn entry<'a>(router: &Router, cfg: &'a Config, id: &str) -> Option<&'a Entry> {
    let r = router.index.resolve(id).ok()?;
    let ns = cfg.providers.get(r.provider)?.catalog_namespace();
    cfg.catalog.lookup(ns, r.model).map(|(_, e)| e)
}

#[derive(Serialize)]
struct List<'a> {
    object: &'static str,
    data: Vec<Model<'a>>,
}

/// GET /v1/models and GET /v1/models/{id} bodies, serialised once at start-up.
pub struct Listing {
    pub list: Bytes,
    pub by_id: HashMap<String, Bytes>,
}

/// `list` (a serialised listing) with only the entries whose id `keep` accepts.
pub fn only(list: &Bytes, keep: impl Fn(&str) -> bool) -> Bytes {
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(list) else {
        return list.clone();
    };
    if let Some(data) = v.get_mut("data").and_then(serde_json::Value::as_array_mut) {
        data.retain(|m| {
            m.get("id")
                .and_then(serde_json::Value::as_str)
                .is_some_and(&keep)
        });
    }
    Bytes::from(v.to_string())
}

pub fn build(router: &Router, cfg: &Config) -> Listing {
    let mut listing: Vec<(String, &str, Option<&Entry>)> = router
        .route_names()
        .into_iter()
        .map(|r| (r.to_owned(), "switchyard", None))
        .collect();
    for (id, owner) in router.index.listing(cfg) {
        let e = entry(router, cfg, &id);
        listing.push((id, owner, e));
    }
    let by_id = listing
        .iter()
        .map(|(id, owner, e)| {
            let m = Model {
                id,
                object: "model",
                created: 0,
                owned_by: owner,
                catalog: e.map(Catalogued::of),
            };
            (
                id.clone(),
                Bytes::from(serde_json::to_vec(&m).unwrap_or_default()),
            )
        })
        .collect();
    Listing {
        list: list_body(&listing),
        by_id,
    }
}

fn list_body(listing: &[(String, &str, Option<&Entry>)]) -> Bytes {
    let data = listing
        .iter()
        .map(|(id, owner, e)| Model {
            id,
            object: "model",
            created: 0,
            owned_by: owner,
            catalog: e.map(Catalogued::of),
        })
        .collect();
    Bytes::from(
        serde_json::to_vec(&List {
            object: "list",
            data,
        })
        .unwrap_or_default(),
    )
}
