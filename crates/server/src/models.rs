//! GET /v1/models in OpenAI's list shape: the models this gateway can route to.

use bytes::Bytes;
use serde::Serialize;
use switchyard_config::Config;
use switchyard_routing::ModelIndex;

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

/// Serialises the listing once; the config does not change while serving.
pub fn body(index: &ModelIndex, cfg: &Config) -> Bytes {
    let listing = index.listing(cfg);
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
