//! The tenant model's records, as stored and as the admin API shows them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The workspace that static keys (config file, `SWITCHYARD_API_KEYS`) belong to.
pub const DEFAULT_WORKSPACE: &str = "default";

/// A team and tenant boundary: keys, credentials and request records belong to one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workspace {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub metadata: Map<String, Value>,
    pub created_ms: i64,
}

/// A virtual API key. The key itself is never stored: only its keyed hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VirtualKey {
    /// The public id (the part of the key after `sk-sy-`).
    pub id: String,
    pub workspace: String,
    pub name: String,
    /// HMAC-SHA256 of the key with the server secret, hex.
    pub hash: String,
    /// The secret before the last rotation, accepted until `grace_until_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Previous>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_ms: Option<i64>,
    #[serde(default)]
    pub disabled: bool,
    /// Model patterns the key may use (`*` matches any run of characters); empty: any model.
    #[serde(default)]
    pub models: Vec<String>,
    /// Merged into every request's metadata (the request's own fields win).
    #[serde(default)]
    pub metadata: Map<String, Value>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub created_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Previous {
    pub hash: String,
    pub grace_until_ms: i64,
}

impl VirtualKey {
    /// The key as the admin API shows it: no hash.
    pub fn public(&self, last_used_ms: Option<i64>) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.remove("hash");
            if let Some(p) = o.remove("previous") {
                o.insert(
                    "previous_valid_until_ms".into(),
                    p.get("grace_until_ms").cloned().unwrap_or(Value::Null),
                );
            }
            o.insert("object".into(), Value::from("virtual_key"));
            o.insert(
                "last_used_ms".into(),
                last_used_ms.map_or(Value::Null, Value::from),
            );
        }
        v
    }
}

/// A provider credential, kept sealed (crate::vault): an API key, AWS keys or a Google service
/// account, for one workspace or (no workspace) shared by the organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credential {
    pub id: String,
    /// None: used by every workspace that has none of its own for the provider.
    pub workspace: Option<String>,
    /// The configured provider it is for.
    pub provider: String,
    pub name: String,
    pub kind: CredentialKind,
    pub sealed: crate::vault::Sealed,
    pub created_ms: i64,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    ApiKey,
    Aws,
    Gcp,
}

impl Credential {
    /// The credential as the admin API and the audit show it: no secret, sealed or not.
    pub fn public(&self) -> Value {
        serde_json::json!({
            "id": self.id, "object": "credential", "workspace": self.workspace,
            "provider": self.provider, "name": self.name, "kind": self.kind,
            "created_ms": self.created_ms, "updated_ms": self.updated_ms,
        })
    }
}

/// An organisation-wide role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgRole {
    Member,
    Admin,
    Owner,
}

/// A role in one workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WsRole {
    Viewer,
    Member,
    Admin,
}

/// A person (or a service) who administers: an organisation role, and a role per workspace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub email: String,
    #[serde(default)]
    pub name: String,
    pub role: OrgRole,
    /// Workspace id → role there.
    #[serde(default)]
    pub workspaces: std::collections::BTreeMap<String, WsRole>,
    pub created_ms: i64,
}

/// A budget or rate limit set through the admin API. Its `spec` is the limit as written
/// (`switchyard_limits::model::RawLimit`, checked by the server before it is stored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitRecord {
    pub id: String,
    /// The workspace whose admins manage it (a `workspace:` or `key:` scope in it); `None`:
    /// organisation admins only.
    pub workspace: Option<String>,
    pub spec: Value,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl LimitRecord {
    pub fn public(&self) -> Value {
        let mut v = self.spec.clone();
        if let Some(m) = v.as_object_mut() {
            m.insert("object".into(), Value::from("limit"));
            m.insert("source".into(), Value::from("api"));
            m.insert(
                "workspace".into(),
                self.workspace.clone().map_or(Value::Null, Value::from),
            );
            m.insert("created_ms".into(), Value::from(self.created_ms));
            m.insert("updated_ms".into(), Value::from(self.updated_ms));
        }
        v
    }
}

/// Where a guardrail policy set through the admin API applies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardrailAttach {
    /// On every request (organisation-owned policies only).
    #[serde(default)]
    pub org: bool,
    /// On the requests of these keys: a virtual key's id, or a key's name.
    #[serde(default)]
    pub keys: Vec<String>,
    /// On the requests of these routes, by name.
    #[serde(default)]
    pub routes: Vec<String>,
}

/// A guardrail policy set through the admin API. Its `doc` is the policy as written
/// (`switchyard_guardrails::policy::RawPolicy`, checked by the server before it is stored).
///
/// A policy owned by a workspace applies only to that workspace's requests: all of them when
/// `attach` names no key and no route, else those of the keys and routes it names. An
/// organisation's policy (no workspace) applies where `attach` says, and otherwise only when
/// a request names it in its guardrails header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardrailPolicyRecord {
    pub id: String,
    /// The workspace whose admins manage it; `None`: organisation admins only.
    pub workspace: Option<String>,
    pub doc: Value,
    #[serde(default)]
    pub attach: GuardrailAttach,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl GuardrailPolicyRecord {
    pub fn public(&self) -> Value {
        let mut v = self.doc.clone();
        if let Some(m) = v.as_object_mut() {
            m.insert("object".into(), Value::from("guardrail_policy"));
            m.insert("source".into(), Value::from("api"));
            m.insert(
                "workspace".into(),
                self.workspace.clone().map_or(Value::Null, Value::from),
            );
            m.insert(
                "attach".into(),
                serde_json::to_value(&self.attach).unwrap_or(Value::Null),
            );
            m.insert("created_ms".into(), Value::from(self.created_ms));
            m.insert("updated_ms".into(), Value::from(self.updated_ms));
        }
        v
    }
}

/// A prompt made through the admin API (docs/prompts.md). `doc` is what the server built
/// (`switchyard_prompts::model::PromptDoc`: description, labels, latest version); the store
/// keys it by workspace and id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptRecord {
    pub workspace: String,
    pub id: String,
    pub doc: Value,
}

/// One immutable version of a prompt (`switchyard_prompts::model::Version` in `doc`). Adding a
/// version number that exists is a conflict, so two replicas cannot both make version N.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptVersionRecord {
    pub workspace: String,
    pub id: String,
    pub version: u32,
    pub doc: Value,
}

/// A partial with its versions (`switchyard_prompts::model::PartialDoc` in `doc`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartialRecord {
    pub workspace: String,
    pub name: String,
    pub doc: Value,
}

/// An experiment between a prompt's versions (`switchyard_prompts::experiment::ExperimentDoc`
/// in `doc`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentRecord {
    pub workspace: String,
    pub id: String,
    pub doc: Value,
}

/// An admin key created through the API: it acts with its user's roles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminKey {
    pub id: String,
    pub user: String,
    pub name: String,
    /// HMAC-SHA256 of the key with the server secret, hex.
    pub hash: String,
    pub created_ms: i64,
}

impl AdminKey {
    pub fn public(&self) -> Value {
        serde_json::json!({"id": self.id, "object": "admin_key", "user": self.user,
            "name": self.name, "created_ms": self.created_ms})
    }
}

/// A caller's own user (the `user` field of a request, Anthropic's `metadata.user_id`, or the
/// `x-switchyard-end-user` header), seen in a workspace; blockable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndUser {
    pub workspace: String,
    pub id: String,
    pub blocked: bool,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
}

impl EndUser {
    pub fn public(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        v["object"] = Value::from("end_user");
        v
    }
}

/// One admin mutation, as the audit log keeps it. Secrets never appear in `before`/`after`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub ts_ms: i64,
    /// Who: an admin key's name, or a JWT subject.
    pub actor: String,
    /// What: `workspace.create`, `key.rotate`, ...
    pub action: String,
    /// The target's kind and id, e.g. `key:8Fq2...`.
    pub target: String,
    pub workspace: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub source_ip: Option<String>,
    pub request_id: Option<String>,
}

/// Whether `model` matches a pattern where `*` stands for any run of characters.
pub fn matches(pattern: &str, model: &str) -> bool {
    let mut parts = pattern.split('*');
    let Some(first) = parts.next() else {
        return false;
    };
    let Some(mut rest) = model.strip_prefix(first) else {
        return false;
    };
    let tail: Vec<&str> = parts.collect();
    let Some((last, middle)) = tail.split_last() else {
        return rest.is_empty();
    };
    for m in middle {
        match rest.find(m) {
            Some(i) => rest = &rest[i + m.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(matches("gpt-4o", "gpt-4o"));
        assert!(!matches("gpt-4o", "gpt-4o-mini"));
        assert!(matches("gpt-4o*", "gpt-4o-mini"));
        assert!(matches("openai/*", "openai/gpt-4o"));
        assert!(!matches("openai/*", "anthropic/claude"));
        assert!(matches("*/claude-*-4-5", "anthropic/claude-sonnet-4-5"));
        assert!(!matches("*/claude-*-4-5", "anthropic/claude-sonnet-4-6"));
        assert!(matches("*", "anything"));
        assert!(matches("a*b*c", "abc"));
        assert!(!matches("a*b*c", "acb"));
    }

    #[test]
    fn the_public_form_has_no_hash() {
        let k = VirtualKey {
            id: "abc".into(),
            workspace: "w".into(),
            name: "n".into(),
            hash: "deadbeef".into(),
            previous: Some(Previous {
                hash: "cafe".into(),
                grace_until_ms: 5,
            }),
            expires_ms: None,
            disabled: false,
            models: vec![],
            metadata: Map::new(),
            tags: vec![],
            created_ms: 1,
        };
        let v = k.public(Some(9));
        assert!(!v.to_string().contains("deadbeef") && !v.to_string().contains("cafe"));
        assert_eq!(v["previous_valid_until_ms"], 5);
        assert_eq!(v["last_used_ms"], 9);
    }
}
