//! The in-memory snapshot the request path authenticates against: no database read per request.
//! A new snapshot replaces the old one atomically; a request keeps the one it started with.

use crate::access::Access;
use crate::key::{self, Hasher};
use crate::model::{
    matches, AdminKey, Credential, CredentialKind, ExperimentRecord, GuardrailPolicyRecord,
    LimitRecord, PartialRecord, PromptRecord, PromptVersionRecord, User, VirtualKey, Workspace,
};
use crate::vault::{Kek, VaultError};
use arc_swap::ArcSwap;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// Who is calling: resolved once per request, kept on its context.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub workspace: String,
    pub workspace_name: String,
    /// The virtual key's public id; None for a static key from the config.
    pub key_id: Option<String>,
    /// The key's name (a static key's name from the config).
    pub key_name: String,
    /// Model patterns the key may use; empty: any.
    pub models: Arc<[String]>,
    /// Merged into the request's metadata.
    pub metadata: Arc<Map<String, Value>>,
    pub tags: Arc<[String]>,
    /// The workspace's provider credentials (its own, else the organisation's), by provider.
    pub credentials: Arc<HashMap<String, Arc<ProviderSecret>>>,
}

/// A decrypted provider credential, held in memory only; it never prints.
#[derive(Clone, PartialEq, Eq)]
pub enum ProviderSecret {
    ApiKey(String),
    Aws {
        access_key_id: String,
        secret_access_key: String,
        session_token: Option<String>,
    },
    /// A Google service account's JSON key file.
    Gcp(String),
}

impl std::fmt::Debug for ProviderSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ProviderSecret::ApiKey(_) => "ApiKey(..)",
            ProviderSecret::Aws { .. } => "Aws(..)",
            ProviderSecret::Gcp(_) => "Gcp(..)",
        })
    }
}

impl ProviderSecret {
    /// The secret from a credential's opened JSON (`{"api_key"}`, `{"access_key_id",
    /// "secret_access_key", "session_token"?}`, `{"service_account"}`).
    pub fn parse(kind: CredentialKind, plain: &[u8]) -> Option<Self> {
        let v: Value = serde_json::from_slice(plain).ok()?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        Some(match kind {
            CredentialKind::ApiKey => ProviderSecret::ApiKey(s("api_key")?),
            CredentialKind::Aws => ProviderSecret::Aws {
                access_key_id: s("access_key_id")?,
                secret_access_key: s("secret_access_key")?,
                session_token: s("session_token"),
            },
            CredentialKind::Gcp => ProviderSecret::Gcp(s("service_account")?),
        })
    }
}

impl Principal {
    /// Whether the key may use `model` (the name the caller sent).
    pub fn allows(&self, model: &str) -> bool {
        self.models.is_empty() || self.models.iter().any(|p| matches(p, model))
    }
}

/// Why a presented virtual key is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such key (or a wrong secret): 401.
    Unknown,
    /// Disabled by an admin: 403.
    Disabled,
    /// Past its expiry: 403.
    Expired,
}

/// One consistent view of the keys and workspaces.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub version: u64,
    keys: HashMap<String, Arc<Entry>>,
    workspaces: HashMap<String, Workspace>,
    /// The key records as stored (for the admin API's reads).
    records: HashMap<String, VirtualKey>,
    /// Credential records as stored (sealed), for the admin API's reads.
    credential_records: HashMap<String, Credential>,
    /// Each workspace's provider credentials, the organisation's filled in.
    credentials: HashMap<String, Arc<HashMap<String, Arc<ProviderSecret>>>>,
    /// The organisation's, for workspaces without a map of their own.
    shared: Arc<HashMap<String, Arc<ProviderSecret>>>,
    users: HashMap<String, User>,
    /// Blocked end users: (workspace, id).
    blocked: std::collections::HashSet<(String, String)>,
    /// Limits set through the admin API, by id.
    limits: std::collections::BTreeMap<String, LimitRecord>,
    /// Guardrail policies set through the admin API, by id.
    guardrail_policies: std::collections::BTreeMap<String, GuardrailPolicyRecord>,
    /// Prompts, their versions and partials, as stored.
    prompts: Arc<PromptSet>,
    /// Admin keys made through the API: id → (hash, the record).
    admin_keys: HashMap<String, ([u8; 32], AdminKey)>,
}

#[derive(Debug)]
struct Entry {
    hash: [u8; 32],
    previous: Option<([u8; 32], i64)>,
    /// Shared by every request the key makes (no copy per request).
    principal: Arc<Principal>,
    expires_ms: Option<i64>,
    disabled: bool,
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = u8::from_str_radix(s.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

impl Snapshot {
    /// Builds a snapshot; credentials are opened with `kek` (a credential without it, or that
    /// does not open, is an error: the snapshot is not installed).
    pub fn build(
        version: u64,
        workspaces: Vec<Workspace>,
        keys: Vec<VirtualKey>,
        creds: Vec<Credential>,
        kek: Option<&Kek>,
    ) -> Result<Self, VaultError> {
        let workspaces: HashMap<String, Workspace> =
            workspaces.into_iter().map(|w| (w.id.clone(), w)).collect();
        let mut shared: HashMap<String, Arc<ProviderSecret>> = HashMap::new();
        let mut own: HashMap<String, HashMap<String, Arc<ProviderSecret>>> = HashMap::new();
        let mut credential_records = HashMap::with_capacity(creds.len());
        for c in creds {
            let kek = kek.ok_or_else(|| {
                VaultError::Key("credentials are stored but no key-encryption key is configured (SWITCHYARD_KEK or server.tenants.kek_file)".into())
            })?;
            let plain = kek.open(&c.id, &c.sealed)?;
            let secret = ProviderSecret::parse(c.kind, &plain).ok_or(VaultError::Corrupt)?;
            let slot = match &c.workspace {
                Some(w) => own.entry(w.clone()).or_default(),
                None => &mut shared,
            };
            slot.insert(c.provider.clone(), Arc::new(secret));
            credential_records.insert(c.id.clone(), c);
        }
        let credentials: HashMap<String, Arc<HashMap<String, Arc<ProviderSecret>>>> = own
            .into_iter()
            .map(|(w, mut m)| {
                for (p, s) in &shared {
                    m.entry(p.clone()).or_insert_with(|| Arc::clone(s));
                }
                (w, Arc::new(m))
            })
            .collect();
        let shared = Arc::new(shared);
        let mut by_id = HashMap::with_capacity(keys.len());
        let mut records = HashMap::with_capacity(keys.len());
        for k in keys {
            let Some(hash) = unhex(&k.hash) else {
                tracing::warn!(key = %k.id, "virtual key with a malformed hash skipped");
                continue;
            };
            let previous = k
                .previous
                .as_ref()
                .and_then(|p| Some((unhex(&p.hash)?, p.grace_until_ms)));
            let workspace_name = workspaces
                .get(&k.workspace)
                .map_or_else(|| k.workspace.clone(), |w| w.name.clone());
            let principal = Principal {
                workspace: k.workspace.clone(),
                workspace_name,
                key_id: Some(k.id.clone()),
                key_name: k.name.clone(),
                models: k.models.clone().into(),
                metadata: Arc::new(k.metadata.clone()),
                tags: k.tags.clone().into(),
                credentials: credentials
                    .get(&k.workspace)
                    .map_or_else(|| Arc::clone(&shared), Arc::clone),
            };
            by_id.insert(
                k.id.clone(),
                Arc::new(Entry {
                    hash,
                    previous,
                    principal: Arc::new(principal),
                    expires_ms: k.expires_ms,
                    disabled: k.disabled,
                }),
            );
            records.insert(k.id.clone(), k);
        }
        Ok(Self {
            version,
            keys: by_id,
            workspaces,
            records,
            credential_records,
            credentials,
            shared,
            users: HashMap::new(),
            blocked: std::collections::HashSet::new(),
            admin_keys: HashMap::new(),
            limits: std::collections::BTreeMap::new(),
            guardrail_policies: std::collections::BTreeMap::new(),
            prompts: Arc::default(),
        })
    }

    /// Adds the prompts, their versions and the partials.
    pub fn with_prompts(
        mut self,
        prompts: Vec<PromptRecord>,
        versions: Vec<PromptVersionRecord>,
        partials: Vec<PartialRecord>,
        experiments: Vec<ExperimentRecord>,
    ) -> Self {
        self.prompts = Arc::new(PromptSet {
            prompts: prompts
                .into_iter()
                .map(|p| ((p.workspace.clone(), p.id.clone()), p))
                .collect(),
            versions: versions
                .into_iter()
                .map(|v| ((v.workspace.clone(), v.id.clone(), v.version), v))
                .collect(),
            partials: partials
                .into_iter()
                .map(|p| ((p.workspace.clone(), p.name.clone()), p))
                .collect(),
            experiments: experiments
                .into_iter()
                .map(|e| ((e.workspace.clone(), e.id.clone()), e))
                .collect(),
        });
        self
    }

    /// Prompts, their versions and partials (shared: the server compiles them once per
    /// snapshot version).
    pub fn prompts(&self) -> &Arc<PromptSet> {
        &self.prompts
    }

    /// Adds the users and their admin keys.
    pub fn with_admins(mut self, users: Vec<User>, admin_keys: Vec<AdminKey>) -> Self {
        self.users = users.into_iter().map(|u| (u.id.clone(), u)).collect();
        self.admin_keys = admin_keys
            .into_iter()
            .filter_map(|k| Some((k.id.clone(), (unhex(&k.hash)?, k))))
            .collect();
        self
    }

    /// Adds the limits set through the admin API.
    pub fn with_limits(mut self, limits: Vec<LimitRecord>) -> Self {
        self.limits = limits.into_iter().map(|l| (l.id.clone(), l)).collect();
        self
    }

    /// Limits set through the admin API, by id.
    pub fn limits(&self) -> impl Iterator<Item = &LimitRecord> {
        self.limits.values()
    }

    pub fn limit(&self, id: &str) -> Option<&LimitRecord> {
        self.limits.get(id)
    }

    /// Adds the guardrail policies set through the admin API.
    pub fn with_guardrail_policies(mut self, policies: Vec<GuardrailPolicyRecord>) -> Self {
        self.guardrail_policies = policies.into_iter().map(|p| (p.id.clone(), p)).collect();
        self
    }

    /// Guardrail policies set through the admin API, by id.
    pub fn guardrail_policies(&self) -> impl Iterator<Item = &GuardrailPolicyRecord> {
        self.guardrail_policies.values()
    }

    pub fn guardrail_policy(&self, id: &str) -> Option<&GuardrailPolicyRecord> {
        self.guardrail_policies.get(id)
    }

    /// Adds the blocked end users.
    pub fn with_blocked(mut self, blocked: Vec<(String, String)>) -> Self {
        self.blocked = blocked.into_iter().collect();
        self
    }

    /// Whether `workspace` blocked its end user `id`.
    pub fn blocks(&self, workspace: &str, id: &str) -> bool {
        !self.blocked.is_empty()
            && self
                .blocked
                .contains(&(workspace.to_owned(), id.to_owned()))
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.get(id)
    }

    /// Users, oldest first.
    pub fn users(&self) -> Vec<&User> {
        let mut out: Vec<&User> = self.users.values().collect();
        out.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
        out
    }

    pub fn admin_key(&self, id: &str) -> Option<&AdminKey> {
        self.admin_keys.get(id).map(|(_, k)| k)
    }

    /// Admin keys, optionally of one user, oldest first.
    pub fn admin_keys(&self, user: Option<&str>) -> Vec<&AdminKey> {
        let mut out: Vec<&AdminKey> = self
            .admin_keys
            .values()
            .map(|(_, k)| k)
            .filter(|k| user.is_none_or(|u| k.user == u))
            .collect();
        out.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
        out
    }

    /// What an admin key made through the API may do (its user's roles); `None` when
    /// `presented` is not shaped like one.
    pub fn authenticate_admin(
        &self,
        hasher: &Hasher,
        presented: &str,
    ) -> Option<Result<Access, Refusal>> {
        let id = key::public_id_with(key::ADMIN_PREFIX, presented)?;
        let Some((hash, k)) = self.admin_keys.get(id) else {
            return Some(Err(Refusal::Unknown));
        };
        if !bool::from(hash.ct_eq(&hasher.hash(presented))) {
            return Some(Err(Refusal::Unknown));
        }
        let Some(u) = self.users.get(&k.user) else {
            return Some(Err(Refusal::Unknown));
        };
        Some(Ok(Access {
            actor: format!("user:{}", u.email),
            org: u.role,
            workspaces: u.workspaces.clone(),
        }))
    }

    /// A workspace's provider credentials (its own, else the organisation's).
    pub fn credentials_of(&self, workspace: &str) -> Arc<HashMap<String, Arc<ProviderSecret>>> {
        self.credentials
            .get(workspace)
            .map_or_else(|| Arc::clone(&self.shared), Arc::clone)
    }

    pub fn credential(&self, id: &str) -> Option<&Credential> {
        self.credential_records.get(id)
    }

    /// Credential records, optionally of one workspace (`Some(None)`: the organisation's).
    pub fn credential_list(&self) -> Vec<&Credential> {
        let mut out: Vec<&Credential> = self.credential_records.values().collect();
        out.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
        out
    }

    pub fn key(&self, id: &str) -> Option<&VirtualKey> {
        self.records.get(id)
    }

    /// Key records, optionally of one workspace, oldest first.
    pub fn keys(&self, workspace: Option<&str>) -> Vec<&VirtualKey> {
        let mut out: Vec<&VirtualKey> = self
            .records
            .values()
            .filter(|k| workspace.is_none_or(|w| k.workspace == w))
            .collect();
        out.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
        out
    }

    /// Workspaces, oldest first.
    pub fn workspaces(&self) -> Vec<&Workspace> {
        let mut out: Vec<&Workspace> = self.workspaces.values().collect();
        out.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
        out
    }

    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    pub fn workspace(&self, id: &str) -> Option<&Workspace> {
        self.workspaces.get(id)
    }

    /// The principal of a well-formed virtual key (see [`key::public_id`]); `None` when
    /// `presented` is not shaped like one.
    pub fn authenticate(
        &self,
        hasher: &Hasher,
        presented: &str,
        now_ms: i64,
    ) -> Option<Result<Arc<Principal>, Refusal>> {
        let id = key::public_id(presented)?;
        let Some(e) = self.keys.get(id) else {
            return Some(Err(Refusal::Unknown));
        };
        let digest = hasher.hash(presented);
        let current = bool::from(e.hash.ct_eq(&digest));
        let previous = e
            .previous
            .is_some_and(|(h, until)| now_ms < until && bool::from(h.ct_eq(&digest)));
        Some(if !(current || previous) {
            Err(Refusal::Unknown)
        } else if e.disabled {
            Err(Refusal::Disabled)
        } else if e.expires_ms.is_some_and(|t| now_ms >= t) {
            Err(Refusal::Expired)
        } else {
            Ok(Arc::clone(&e.principal))
        })
    }
}

/// The current snapshot, swapped whole.
#[derive(Debug)]
pub struct Directory {
    current: ArcSwap<Snapshot>,
}

impl Default for Directory {
    fn default() -> Self {
        Self {
            current: ArcSwap::from_pointee(Snapshot::default()),
        }
    }
}

impl Directory {
    pub fn load(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Installs `next` when it is newer than the current one (a late refresh never goes back);
    /// says whether it did. Stores count versions from 1.
    pub fn install(&self, next: Snapshot) -> bool {
        let next = Arc::new(next);
        let mut installed = false;
        self.current.rcu(|cur| {
            installed = next.version > cur.version;
            if installed {
                Arc::clone(&next)
            } else {
                Arc::clone(cur)
            }
        });
        installed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Previous;

    fn vk(id: &str, hash: [u8; 32]) -> VirtualKey {
        VirtualKey {
            id: id.into(),
            workspace: "ws1".into(),
            name: "ci".into(),
            hash: hash.iter().map(|b| format!("{b:02x}")).collect(),
            previous: None,
            expires_ms: None,
            disabled: false,
            models: vec!["openai/*".into()],
            metadata: Map::new(),
            tags: vec![],
            created_ms: 0,
        }
    }

    fn ws() -> Vec<Workspace> {
        vec![Workspace {
            id: "ws1".into(),
            name: "Team A".into(),
            metadata: Map::new(),
            created_ms: 0,
        }]
    }

    #[test]
    fn a_key_resolves_to_its_principal_and_nothing_else_does() {
        let h = Hasher::new(b"server-secret");
        let id = key::new_id().unwrap();
        let k = key::new_key(&id).unwrap();
        let snap = Snapshot::build(1, ws(), vec![vk(&id, h.hash(&k))], vec![], None).unwrap();
        let p = snap.authenticate(&h, &k, 0).unwrap().unwrap();
        assert_eq!(p.workspace_name, "Team A");
        assert_eq!(p.key_id.as_deref(), Some(id.as_str()));
        assert!(p.allows("openai/gpt-4o") && !p.allows("anthropic/claude"));
        // Another well-formed key with the same id, a wrong secret: unknown.
        let other = key::new_key(&id).unwrap();
        assert_eq!(
            snap.authenticate(&h, &other, 0),
            Some(Err(Refusal::Unknown))
        );
        // Hashed with another server secret: unknown.
        assert_eq!(
            snap.authenticate(&Hasher::new(b"other"), &k, 0),
            Some(Err(Refusal::Unknown))
        );
        assert_eq!(snap.authenticate(&h, "static-key-123", 0), None);
    }

    #[test]
    fn rotation_grace_expiry_and_disable() {
        let h = Hasher::new(b"s");
        let id = key::new_id().unwrap();
        let old = key::new_key(&id).unwrap();
        let new = key::new_key(&id).unwrap();
        let mut rec = vk(&id, h.hash(&new));
        rec.previous = Some(Previous {
            hash: h.hash(&old).iter().map(|b| format!("{b:02x}")).collect(),
            grace_until_ms: 100,
        });
        rec.expires_ms = Some(1000);
        let snap = Snapshot::build(1, ws(), vec![rec.clone()], vec![], None).unwrap();
        assert!(snap.authenticate(&h, &old, 99).unwrap().is_ok());
        assert_eq!(
            snap.authenticate(&h, &old, 100),
            Some(Err(Refusal::Unknown))
        );
        assert!(snap.authenticate(&h, &new, 999).unwrap().is_ok());
        assert_eq!(
            snap.authenticate(&h, &new, 1000),
            Some(Err(Refusal::Expired))
        );
        rec.disabled = true;
        let snap = Snapshot::build(2, ws(), vec![rec], vec![], None).unwrap();
        assert_eq!(snap.authenticate(&h, &new, 0), Some(Err(Refusal::Disabled)));
    }

    #[test]
    fn an_older_snapshot_never_replaces_a_newer_one() {
        let d = Directory::default();
        assert!(d.install(Snapshot::build(3, ws(), vec![], vec![], None).unwrap()));
        assert!(!d.install(Snapshot::build(2, vec![], vec![], vec![], None).unwrap()));
        assert_eq!(d.load().version, 3);
        assert!(d.workspace_name_of("ws1").is_some());
    }

    impl Directory {
        fn workspace_name_of(&self, id: &str) -> Option<String> {
            self.load().workspace(id).map(|w| w.name.clone())
        }
    }
}

/// Prompts, versions and partials as stored, keyed by workspace.
#[derive(Debug, Default)]
pub struct PromptSet {
    /// (workspace, id) → the prompt.
    pub prompts: std::collections::BTreeMap<(String, String), PromptRecord>,
    /// (workspace, id, version) → the version.
    pub versions: std::collections::BTreeMap<(String, String, u32), PromptVersionRecord>,
    /// (workspace, name) → the partial.
    pub partials: std::collections::BTreeMap<(String, String), PartialRecord>,
    /// (workspace, id) → the experiment.
    pub experiments: std::collections::BTreeMap<(String, String), ExperimentRecord>,
}

impl PromptSet {
    pub fn prompt(&self, workspace: &str, id: &str) -> Option<&PromptRecord> {
        self.prompts.get(&(workspace.to_owned(), id.to_owned()))
    }

    /// A prompt's versions, oldest first.
    pub fn versions_of<'a>(
        &'a self,
        workspace: &str,
        id: &str,
    ) -> impl Iterator<Item = &'a PromptVersionRecord> + 'a {
        let lo = (workspace.to_owned(), id.to_owned(), 0);
        let hi = (workspace.to_owned(), id.to_owned(), u32::MAX);
        self.versions.range(lo..=hi).map(|(_, v)| v)
    }

    pub fn version(&self, workspace: &str, id: &str, version: u32) -> Option<&PromptVersionRecord> {
        self.versions
            .get(&(workspace.to_owned(), id.to_owned(), version))
    }

    pub fn partial(&self, workspace: &str, name: &str) -> Option<&PartialRecord> {
        self.partials.get(&(workspace.to_owned(), name.to_owned()))
    }
}
