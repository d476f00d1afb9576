//! The model catalog: prices, context windows and capabilities of the models the gateway knows,
//! from the data file `catalog/models.json` at the repository root (compiled in), with entries
//! from the config file's `catalog:` added on top.
//!
//! Keys are `<namespace>/<model>`, the namespace naming whose price list applies (`openai`,
//! `anthropic`, `gemini`, `vertex`, `bedrock`, `azure`, `cohere`, ...). Prices are USD per
//! million tokens.

mod cost;
pub mod import;

pub use crate::usage::Usage;
pub use cost::cost;

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The data file shipped with the gateway.
const BUILTIN: &str = include_str!("../../../../catalog/models.json");

/// Prices of one model, USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Pricing {
    pub input: f64,
    pub output: f64,
    /// Prompt tokens read from cache; plain input price when absent.
    pub cached_input: Option<f64>,
    /// Prompt tokens written to cache; plain input price when absent.
    pub cache_write: Option<f64>,
    /// Reasoning tokens; plain output price when absent.
    pub reasoning: Option<f64>,
    /// Prices for prompts longer than a threshold (the whole request bills at them).
    pub long_context: Option<LongContext>,
}

/// A long-context tier: a prompt of more than `above_tokens` bills every token at these
/// prices (USD per million tokens; output and cached input at the base price when absent).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LongContext {
    pub above_tokens: u64,
    pub input: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_input: Option<f64>,
}

/// One catalog entry as written in the data file or config; every field optional so config can
/// override single fields of a shipped entry.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// USD per million prompt tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<f64>,
    /// USD per million generated tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<f64>,
    /// USD per million prompt tokens read from cache. Default: the input price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_input: Option<f64>,
    /// USD per million prompt tokens written to cache. Default: the input price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
    /// USD per million reasoning tokens. Default: the output price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<f64>,
    /// USD per million prompt tokens through the provider's batch API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_input: Option<f64>,
    /// USD per million generated tokens through the provider's batch API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_output: Option<f64>,
    /// Prices for prompts past a length (`{above_tokens, input, output?, cached_input?}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_context: Option<LongContext>,
    /// Largest prompt, in tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u64>,
    /// Largest answer, in tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_output: Option<u64>,
    /// What the model does: `chat`, `tools`, `vision`, `json`, `reasoning`, `embeddings`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Vec<String>>,
}

impl Entry {
    /// The prices, when both the input and the output price are known (embedding models bill
    /// no output: their data gives `output: 0`).
    pub fn pricing(&self) -> Option<Pricing> {
        Some(Pricing {
            input: self.input?,
            output: self.output?,
            cached_input: self.cached_input,
            cache_write: self.cache_write,
            reasoning: self.reasoning,
            long_context: self.long_context,
        })
    }

    /// `patch`'s fields replace this entry's; fields it leaves out stay.
    fn apply(&mut self, patch: &Entry) {
        fn over<T: Clone>(to: &mut Option<T>, from: &Option<T>) {
            if from.is_some() {
                to.clone_from(from);
            }
        }
        over(&mut self.input, &patch.input);
        over(&mut self.output, &patch.output);
        over(&mut self.cached_input, &patch.cached_input);
        over(&mut self.cache_write, &patch.cache_write);
        over(&mut self.reasoning, &patch.reasoning);
        over(&mut self.batch_input, &patch.batch_input);
        over(&mut self.batch_output, &patch.batch_output);
        over(&mut self.long_context, &patch.long_context);
        over(&mut self.context_window, &patch.context_window);
        over(&mut self.max_output, &patch.max_output);
        over(&mut self.capabilities, &patch.capabilities);
    }

    fn check(&self, key: &str) -> Result<(), String> {
        let prices = [
            ("input", self.input),
            ("output", self.output),
            ("cached_input", self.cached_input),
            ("cache_write", self.cache_write),
            ("reasoning", self.reasoning),
            ("batch_input", self.batch_input),
            ("batch_output", self.batch_output),
            ("long_context.input", self.long_context.map(|l| l.input)),
            (
                "long_context.output",
                self.long_context.and_then(|l| l.output),
            ),
            (
                "long_context.cached_input",
                self.long_context.and_then(|l| l.cached_input),
            ),
        ];
        for (field, price) in prices {
            if let Some(p) = price {
                if !p.is_finite() || p < 0.0 {
                    return Err(format!(
                        "{key}.{field}: a price must be a number >= 0, got {p}"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The data file's layout.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// Where each namespace's figures come from, and when they were read.
    #[allow(dead_code)]
    sources: BTreeMap<String, String>,
    models: BTreeMap<String, Entry>,
}

/// Every known model, with an index by bare model name.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    entries: BTreeMap<String, Entry>,
    /// Bare model name → the first key (in key order) that carries it.
    by_model: HashMap<String, String>,
}

impl Catalog {
    /// The shipped data file.
    pub fn builtin() -> Result<Catalog, String> {
        Catalog::from_json(BUILTIN)
    }

    /// A catalog from a data file's text.
    pub fn from_json(text: &str) -> Result<Catalog, String> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let file: File = serde_path_to_error::deserialize(de)
            .map_err(|e| format!("catalog: {}: {}", e.path(), e.inner()))?;
        let mut catalog = Catalog::default();
        for (key, entry) in file.models {
            catalog.add(&key, &entry)?;
        }
        Ok(catalog)
    }

    /// Lays a data file's entries (the same layout as the shipped one) over this catalog;
    /// how many entries it held.
    pub fn merge_json(&mut self, text: &str) -> Result<usize, String> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let file: File = serde_path_to_error::deserialize(de)
            .map_err(|e| format!("{}: {}", e.path(), e.inner()))?;
        let n = file.models.len();
        for (key, entry) in file.models {
            self.add(&key, &entry)?;
        }
        Ok(n)
    }

    /// Adds `key`, or overrides the fields `patch` gives of an existing entry.
    pub fn add(&mut self, key: &str, patch: &Entry) -> Result<(), String> {
        let Some((_, model)) = key
            .split_once('/')
            .filter(|(ns, m)| !ns.is_empty() && !m.is_empty())
        else {
            return Err(format!(
                "{key}: a catalog key is <namespace>/<model>, e.g. openai/gpt-4o"
            ));
        };
        let entry = self.entries.entry(key.to_string()).or_default();
        entry.apply(patch);
        entry.check(key)?;
        let taken = self.by_model.get(model).is_some_and(|k| k.as_str() < key);
        if !taken {
            self.by_model.insert(model.to_string(), key.to_string());
        }
        Ok(())
    }

    /// The entry for `model` served under `namespace`: the exact key, then the model without a
    /// date suffix (`-20250929`, `-2024-08-06`), then the same model under any namespace.
    pub fn lookup(&self, namespace: &str, model: &str) -> Option<(&str, &Entry)> {
        let undated = strip_date(model);
        let exact = [model, undated].into_iter().find_map(|m| {
            self.entries
                .get_key_value(format!("{namespace}/{m}").as_str())
        });
        exact
            .or_else(|| {
                [model, undated].into_iter().find_map(|m| {
                    let key = self.by_model.get(m)?;
                    self.entries.get_key_value(key.as_str())
                })
            })
            .map(|(k, e)| (k.as_str(), e))
    }

    /// Whether any namespace carries `model` (or `model` without its date suffix); allocates
    /// nothing, for the request path.
    pub fn knows(&self, model: &str) -> bool {
        self.by_model.contains_key(model) || self.by_model.contains_key(strip_date(model))
    }

    /// Every entry, in key order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries.iter().map(|(k, e)| (k.as_str(), e))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// `model` without a trailing `-YYYYMMDD` or `-YYYY-MM-DD`.
fn strip_date(model: &str) -> &str {
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if let Some(i) = model
        .len()
        .checked_sub(9)
        .filter(|&i| model.is_char_boundary(i))
    {
        let (head, tail) = model.split_at(i);
        if tail.starts_with('-') && digits(&tail[1..]) {
            return head;
        }
    }
    if let Some(i) = model
        .len()
        .checked_sub(11)
        .filter(|&i| model.is_char_boundary(i))
    {
        let (head, tail) = model.split_at(i);
        let b = tail.as_bytes();
        if b[0] == b'-' && b[5] == b'-' && b[8] == b'-' {
            let parts = [&tail[1..5], &tail[6..8], &tail[9..11]];
            if parts.iter().all(|p| digits(p)) {
                return head;
            }
        }
    }
    model
}

#[cfg(test)]
mod tests;
