//! Guardrails (`guardrails:`), validated: every policy built (errors name the check's field,
//! `guardrails.policies[1].checks[0].patterns[2]`), every attachment naming a known policy.

use crate::raw::{RawGuardrails, RawStatusCodes};
use crate::ConfigError;
use std::collections::BTreeMap;
use std::sync::Arc;
use switchyard_guardrails::Policy;

/// The policies and where they apply.
#[derive(Clone, Default)]
pub struct GuardrailSettings {
    /// Every policy, by id.
    pub policies: BTreeMap<String, Arc<Policy>>,
    /// Policies on every request.
    pub org: Vec<Arc<Policy>>,
    /// By workspace id, by client key name or virtual key id, by route name.
    pub workspaces: BTreeMap<String, Vec<Arc<Policy>>>,
    pub keys: BTreeMap<String, Vec<Arc<Policy>>>,
    pub routes: BTreeMap<String, Vec<Arc<Policy>>>,
    /// Callers may add policies with `x-switchyard-guardrails`.
    pub request_policies: bool,
    /// Answer as Portkey's gateway does: 446 for a deny, 246 for a flagged answer.
    pub portkey_codes: bool,
    /// What a streamed answer's output checks hold back.
    pub hold_back: switchyard_guardrails::stream::HoldBack,
}

impl std::fmt::Debug for GuardrailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardrailSettings")
            .field("policies", &self.policies.keys().collect::<Vec<_>>())
            .field("request_policies", &self.request_policies)
            .field("portkey_codes", &self.portkey_codes)
            .finish_non_exhaustive()
    }
}

impl GuardrailSettings {
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }
}

pub(crate) fn guardrails(
    raw: &RawGuardrails,
    routes: &BTreeMap<String, crate::raw::RawNode>,
    errors: &mut Vec<ConfigError>,
) -> GuardrailSettings {
    let mut policies = BTreeMap::new();
    // Policies with errors of their own: attachments naming them are not errors too.
    let mut broken = std::collections::HashSet::new();
    for (i, p) in raw.policies.iter().enumerate() {
        match Policy::build(p.clone()) {
            Ok(built) => {
                if policies.insert(built.id.clone(), Arc::new(built)).is_some() {
                    errors.push(ConfigError::new(
                        format!("guardrails.policies[{i}].id"),
                        format!("\"{}\" is used by another policy", p.id),
                    ));
                }
            }
            Err(e) => {
                broken.insert(p.id.clone());
                let path = if e.path.is_empty() {
                    format!("guardrails.policies[{i}]")
                } else {
                    format!("guardrails.policies[{i}].{}", e.path)
                };
                errors.push(ConfigError::new(path, e.message));
            }
        }
    }
    let resolve = |ids: &[String], at: &str, errors: &mut Vec<ConfigError>| {
        let mut out = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            match policies.get(id) {
                Some(p) => out.push(Arc::clone(p)),
                None if broken.contains(id) => {}
                None => errors.push(ConfigError::new(
                    format!("{at}[{i}]"),
                    format!("no policy \"{id}\" in guardrails.policies"),
                )),
            }
        }
        out
    };
    let org = resolve(&raw.attach.org, "guardrails.attach.org", errors);
    let by = |map: &BTreeMap<String, Vec<String>>, kind: &str, errors: &mut Vec<ConfigError>| {
        map.iter()
            .map(|(k, ids)| {
                (
                    k.clone(),
                    resolve(ids, &format!("guardrails.attach.{kind}.{k}"), errors),
                )
            })
            .collect::<BTreeMap<_, _>>()
    };
    let workspaces = by(&raw.attach.workspaces, "workspaces", errors);
    let keys = by(&raw.attach.keys, "keys", errors);
    let attached_routes = by(&raw.attach.routes, "routes", errors);
    for name in raw.attach.routes.keys() {
        if !routes.contains_key(name) {
            errors.push(ConfigError::new(
                format!("guardrails.attach.routes.{name}"),
                format!("no route \"{name}\" in routes"),
            ));
        }
    }
    GuardrailSettings {
        policies,
        org,
        workspaces,
        keys,
        routes: attached_routes,
        request_policies: raw.request_policies.unwrap_or(true),
        portkey_codes: matches!(raw.status_codes, Some(RawStatusCodes::Portkey)),
        hold_back: raw.stream_hold_back.unwrap_or_default(),
    }
}
