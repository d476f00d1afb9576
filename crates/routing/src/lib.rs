//! Model resolution: which provider serves a model name the caller sent, and under what name.
//!
//! Later routing strategies (fallback, load balancing, ...) build on the target this yields.

pub mod condition;
mod resolve;
pub mod tree;

pub use resolve::{ModelIndex, ResolveError, Resolved};

use std::collections::HashMap;
use std::sync::Arc;
use switchyard_config::raw::RawNode;
use switchyard_config::{Config, ConfigError};
use switchyard_providers::catalog::Catalog;

/// Model resolution plus the named route trees.
#[derive(Debug)]
pub struct Router {
    pub index: ModelIndex,
    routes: HashMap<String, Arc<tree::Node>>,
    raw_routes: std::collections::BTreeMap<String, RawNode>,
    provider_names: Vec<String>,
    /// Each provider's catalog namespace, by provider index.
    namespaces: Vec<&'static str>,
    catalog: Catalog,
}

impl Router {
    /// Builds the index and every named route; all problems are reported with their paths.
    pub fn build(cfg: &Config) -> Result<Self, Vec<ConfigError>> {
        let index = ModelIndex::build(cfg)?;
        let mut router = Router {
            index,
            routes: HashMap::new(),
            raw_routes: cfg.routes.clone(),
            provider_names: cfg.providers.iter().map(|p| p.name.clone()).collect(),
            namespaces: cfg
                .providers
                .iter()
                .map(|p| p.catalog_namespace())
                .collect(),
            catalog: cfg.catalog.clone(),
        };
        let mut errors = Vec::new();
        let mut built = HashMap::new();
        for (name, raw) in &cfg.routes {
            match router.compile(raw, &format!("routes.{name}")) {
                Ok(node) => {
                    built.insert(name.clone(), Arc::new(node));
                }
                Err(e) => errors.extend(e),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        router.routes = built;
        Ok(router)
    }

    /// The tree of a named route.
    pub fn route(&self, name: &str) -> Option<&Arc<tree::Node>> {
        self.routes.get(name)
    }

    /// Route names, sorted (for GET /v1/models).
    pub fn route_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.routes.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// Builds a tree written elsewhere (the `x-switchyard-config` header) against this config.
    pub fn compile(&self, raw: &RawNode, at: &str) -> Result<tree::Node, Vec<ConfigError>> {
        tree::Builder {
            index: &self.index,
            routes: &self.raw_routes,
            provider_names: &self.provider_names,
            namespaces: &self.namespaces,
            catalog: &self.catalog,
        }
        .build(raw, at)
    }
}
