//! Resolves a requested model name to (provider, upstream model).
//!
//! Order, first match wins:
//! 1. an alias from the config (aliases may point at aliases, up to 8 hops);
//! 2. `provider/model` where `provider` is a configured provider's name;
//! 3. a bare name listed in a provider's configured `models`;
//! 4. a bare name in a preset's default model list;
//! 5. a bare name starting with one of a provider's `model_prefixes`;
//! 6. anything, when exactly one provider is configured.
//!
//! Within each step providers are tried in config order (file providers before discovered ones).

use std::collections::HashMap;
use switchyard_config::{Config, ConfigError};

const MAX_ALIAS_HOPS: usize = 8;

/// Precomputed lookup tables; built once per config.
#[derive(Debug, Default)]
pub struct ModelIndex {
    names: HashMap<String, usize>,
    configured: HashMap<String, usize>,
    listed: HashMap<String, usize>,
    prefixes: Vec<(String, usize)>,
    aliases: HashMap<String, String>,
    provider_count: usize,
}

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved<'a> {
    /// Index into `Config::providers`.
    pub provider: usize,
    /// The model name to send upstream.
    pub model: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// No provider is configured at all.
    NoProviders,
    /// Nothing serves this name.
    UnknownModel,
    /// An alias chain loops or is too deep.
    AliasLoop,
}

impl ModelIndex {
    /// Builds the index, checking that every alias resolves. Alias errors carry `aliases.NAME` paths.
    pub fn build(cfg: &Config) -> Result<Self, Vec<ConfigError>> {
        let mut ix = ModelIndex {
            provider_count: cfg.providers.len(),
            aliases: cfg
                .aliases
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            ..Default::default()
        };
        for (i, p) in cfg.providers.iter().enumerate() {
            ix.names.insert(p.name.clone(), i);
            let table = if p.models_configured {
                &mut ix.configured
            } else {
                &mut ix.listed
            };
            for m in &p.models {
                table.entry(m.clone()).or_insert(i);
            }
            for pre in &p.model_prefixes {
                ix.prefixes.push((pre.clone(), i));
            }
        }
        let mut errors = Vec::new();
        for (alias, target) in &cfg.aliases {
            let err = match ix.resolve(alias) {
                Ok(_) => continue,
                Err(ResolveError::AliasLoop) => {
                    format!("alias chain starting here loops or is deeper than {MAX_ALIAS_HOPS}")
                }
                Err(ResolveError::NoProviders | ResolveError::UnknownModel) => format!(
                    "target \"{target}\" matches no configured provider; write it as provider/model"
                ),
            };
            errors.push(ConfigError::new(format!("aliases.{alias}"), err));
        }
        if errors.is_empty() {
            Ok(ix)
        } else {
            Err(errors)
        }
    }

    /// Resolves a requested model name.
    pub fn resolve<'a>(&'a self, requested: &'a str) -> Result<Resolved<'a>, ResolveError> {
        let mut name = requested;
        let mut hops = 0;
        while let Some(target) = self.aliases.get(name) {
            hops += 1;
            if hops > MAX_ALIAS_HOPS {
                return Err(ResolveError::AliasLoop);
            }
            name = target;
        }
        if self.provider_count == 0 {
            return Err(ResolveError::NoProviders);
        }
        if let Some((prefix, rest)) = name.split_once('/') {
            if let Some(&provider) = self.names.get(prefix) {
                if !rest.is_empty() {
                    return Ok(Resolved {
                        provider,
                        model: rest,
                    });
                }
            }
        }
        let found = self
            .configured
            .get(name)
            .or_else(|| self.listed.get(name))
            .copied()
            .or_else(|| {
                self.prefixes
                    .iter()
                    .find(|(p, _)| name.starts_with(p.as_str()))
                    .map(|(_, i)| *i)
            })
            .or((self.provider_count == 1).then_some(0));
        match found {
            Some(provider) => Ok(Resolved {
                provider,
                model: name,
            }),
            None => Err(ResolveError::UnknownModel),
        }
    }

    /// The model ids GET /v1/models lists, with the provider that serves each:
    /// aliases, then every provider's models both as `provider/model` and bare when the bare
    /// name resolves to the same provider.
    pub fn listing<'a>(&'a self, cfg: &'a Config) -> Vec<(String, &'a str)> {
        let mut out = Vec::new();
        let mut aliases: Vec<_> = self.aliases.keys().collect();
        aliases.sort();
        for a in aliases {
            if let Ok(r) = self.resolve(a) {
                out.push((a.clone(), cfg.providers[r.provider].name.as_str()));
            }
        }
        for (i, p) in cfg.providers.iter().enumerate() {
            for m in &p.models {
                if self
                    .resolve(m)
                    .is_ok_and(|r| r.provider == i && r.model == m)
                {
                    out.push((m.clone(), p.name.as_str()));
                }
                out.push((format!("{}/{}", p.name, m), p.name.as_str()));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
