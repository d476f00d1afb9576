//! GET /v1/models in OpenAI's list shape: the models this gateway can route to.

use bytes::Bytes;
use serde::Serialize;
use std::collections::HashMap;
use switchyard_config::Config;
use switchyard_routing::Router;

#[derive(Serialize)]
struct Model<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    owned_by: &'a str,
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

pub fn build(router: &Router, cfg: &Config) -> Listing {
    let mut listing: Vec<(String, &str)> = router
        .route_names()
        .into_iter()
        .map(|r| (r.to_owned(), "switchyard"))
        .collect();
    listing.extend(router.index.listing(cfg));
    let by_id = listing
        .iter()
        .map(|(id, owner)| {
            let m = Model {
                id,
                object: "model",
                created: 0,
                owned_by: owner,
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

fn list_body(listing: &[(String, &str)]) -> Bytes {
    let data = listing
        .iter()
        .map(|(id, owner)| Model {
            id,
            object: "model",
            created: 0,
            owned_by: owner,
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
