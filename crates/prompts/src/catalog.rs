//! Every prompt of every workspace, compiled once per tenants' snapshot: what the request path
//! looks prompts up in (a hash probe and a render; no I/O), and which version a request gets:
//! the version it names, else the label it names, else `production`, else the latest.

use crate::experiment::{ExperimentDoc, Status};
use crate::model::{PartialDoc, PromptDoc, Version};
use crate::render::Compiled;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The label a request gets when it names no version and no label, when the prompt has it.
pub const PRODUCTION: &str = "production";

/// A request's reference to a prompt.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PromptRef {
    pub id: String,
    pub version: Option<u32>,
    pub label: Option<String>,
    pub variables: Map<String, Value>,
}

/// One prompt: what is stored about it and its compiled versions.
#[derive(Debug, Clone)]
pub struct Entry {
    pub doc: PromptDoc,
    pub versions: BTreeMap<u32, Arc<Compiled>>,
}

/// The version chosen for a request, and the label that chose it.
#[derive(Debug, Clone)]
pub struct Chosen {
    pub compiled: Arc<Compiled>,
    pub label: Option<String>,
}

/// A reference that names nothing in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("No prompt '{0}' in this workspace.")]
    NoPrompt(String),
    #[error("Prompt '{0}' has no version {1}.")]
    NoVersion(String, u32),
    #[error("Prompt '{0}' has no label '{1}'.")]
    NoLabel(String, String),
    #[error("Prompt '{0}' has no versions yet.")]
    Empty(String),
}

/// The compiled prompts, and the experiments on their labels.
#[derive(Debug, Default)]
pub struct Catalog {
    entries: HashMap<(String, String), Entry>,
    /// (workspace, prompt, label) → the experiment running (or concluded) on it.
    experiments: HashMap<(String, String, String), Arc<ExperimentDoc>>,
    /// (workspace, route) → the experiment on a route's traffic.
    routes: HashMap<(String, String), Arc<ExperimentDoc>>,
}

/// The partial texts a version pinned, by name.
fn pinned(
    v: &Version,
    workspace: &str,
    partials: &HashMap<(String, String), &PartialDoc>,
) -> HashMap<String, String> {
    v.partials
        .iter()
        .filter_map(|(name, n)| {
            let doc = partials.get(&(workspace.to_owned(), name.clone()))?;
            let pv = doc.versions.iter().find(|p| p.version == *n)?;
            Some((name.clone(), pv.template.clone()))
        })
        .collect()
}

impl Catalog {
    /// Compiles every version. A version that does not compile (it did when it was made, so
    /// only a partial deleted since can do this) is left out and named in the second value.
    pub fn build(
        prompts: Vec<PromptDoc>,
        versions: Vec<(String, String, Version)>,
        partials: &[PartialDoc],
    ) -> (Catalog, Vec<String>) {
        let partials: HashMap<(String, String), &PartialDoc> = partials
            .iter()
            .map(|p| ((p.workspace.clone(), p.name.clone()), p))
            .collect();
        let mut entries: HashMap<(String, String), Entry> = prompts
            .into_iter()
            .map(|doc| {
                let key = (doc.workspace.clone(), doc.id.clone());
                (
                    key,
                    Entry {
                        doc,
                        versions: BTreeMap::new(),
                    },
                )
            })
            .collect();
        let mut errors = Vec::new();
        for (workspace, id, v) in versions {
            let Some(entry) = entries.get_mut(&(workspace.clone(), id.clone())) else {
                continue;
            };
            match Compiled::compile(&id, &v, &pinned(&v, &workspace, &partials)) {
                Ok(c) => {
                    entry.versions.insert(v.version, Arc::new(c));
                }
                Err(e) => errors.push(format!(
                    "prompt {workspace}/{id} version {}: {e}",
                    v.version
                )),
            }
        }
        (
            Catalog {
                entries,
                experiments: HashMap::new(),
                routes: HashMap::new(),
            },
            errors,
        )
    }

    /// Adds the experiments that run (or have concluded) on labels.
    pub fn with_experiments(mut self, experiments: Vec<ExperimentDoc>) -> Catalog {
        for e in experiments
            .into_iter()
            .filter(|e| e.status != Status::Stopped)
        {
            match e.route.clone() {
                Some(r) => {
                    self.routes.insert((e.workspace.clone(), r), Arc::new(e));
                }
                None => {
                    let k = (e.workspace.clone(), e.prompt.clone(), e.label.clone());
                    self.experiments.insert(k, Arc::new(e));
                }
            }
        }
        self
    }

    /// The experiment on requests naming `route` in `workspace`, when one runs.
    pub fn route_experiment(&self, workspace: &str, route: &str) -> Option<&Arc<ExperimentDoc>> {
        if self.routes.is_empty() {
            return None;
        }
        self.routes.get(&(workspace.to_owned(), route.to_owned()))
    }

    /// The experiment on `label` of a prompt, when one runs.
    pub fn experiment(
        &self,
        workspace: &str,
        prompt: &str,
        label: &str,
    ) -> Option<&Arc<ExperimentDoc>> {
        self.experiments
            .get(&(workspace.to_owned(), prompt.to_owned(), label.to_owned()))
    }

    /// Every experiment not stopped.
    pub fn experiments(&self) -> impl Iterator<Item = &Arc<ExperimentDoc>> {
        self.experiments.values().chain(self.routes.values())
    }

    pub fn get(&self, workspace: &str, id: &str) -> Option<&Entry> {
        self.entries.get(&(workspace.to_owned(), id.to_owned()))
    }

    /// Every prompt, for listings.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// The version `r` gets in `workspace`.
    pub fn choose(&self, workspace: &str, r: &PromptRef) -> Result<Chosen, LookupError> {
        let entry = self
            .get(workspace, &r.id)
            .ok_or_else(|| LookupError::NoPrompt(r.id.clone()))?;
        entry.choose(r.version, r.label.as_deref())
    }
}

impl Entry {
    /// An explicit version, else a label, else `production`, else the latest.
    pub fn choose(&self, version: Option<u32>, label: Option<&str>) -> Result<Chosen, LookupError> {
        let id = &self.doc.id;
        if let Some(n) = version {
            let c = self
                .versions
                .get(&n)
                .ok_or_else(|| LookupError::NoVersion(id.clone(), n))?;
            return Ok(Chosen {
                compiled: Arc::clone(c),
                label: None,
            });
        }
        let (n, label) = match label {
            Some(l) => match self.doc.labels.get(l) {
                Some(n) => (*n, Some(l.to_owned())),
                None => return Err(LookupError::NoLabel(id.clone(), l.to_owned())),
            },
            None => match self.doc.labels.get(PRODUCTION) {
                Some(n) => (*n, Some(PRODUCTION.to_owned())),
                None => (
                    *self
                        .versions
                        .keys()
                        .next_back()
                        .ok_or_else(|| LookupError::Empty(id.clone()))?,
                    None,
                ),
            },
        };
        let c = self
            .versions
            .get(&n)
            .ok_or_else(|| LookupError::NoVersion(id.clone(), n))?;
        Ok(Chosen {
            compiled: Arc::clone(c),
            label,
        })
    }
}

#[cfg(test)]
mod tests;
