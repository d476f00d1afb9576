//! Admin operations on workspaces and virtual keys. Each is one store transaction with its audit
//! event, followed by a new snapshot on this replica (others pick it up from the store).

use crate::key;
use crate::model::{
    AdminKey, AuditEvent, Credential, CredentialKind, GuardrailAttach, GuardrailPolicyRecord,
    OrgRole, Previous, User, VirtualKey, Workspace, WsRole, DEFAULT_WORKSPACE,
};
use crate::store::{AuditQuery, Change, Logged, StoreError};
use crate::vault::Kek;
use crate::{now_ms, Tenants};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::collections::HashMap;

/// Who makes a change, for the audit log.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    /// An admin key's name, or a token's subject.
    pub name: String,
    pub source_ip: Option<String>,
    pub request_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{message}")]
    Invalid { message: String, param: String },
    #[error("{0}")]
    Store(String),
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => AdminError::Conflict(m),
            StoreError::Backend(m) => AdminError::Store(m),
        }
    }
}

fn invalid(param: &str, message: impl Into<String>) -> AdminError {
    AdminError::Invalid {
        message: message.into(),
        param: param.to_owned(),
    }
}

/// How long the old secret of a rotated key keeps working unless the caller says: one day.
pub const DEFAULT_GRACE_MS: i64 = 24 * 3600 * 1000;
const MAX_NAME: usize = 128;
const MAX_PATTERN: usize = 256;
const MAX_LIST: usize = 64;
const MAX_METADATA_BYTES: usize = 16 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWorkspace {
    pub name: String,
    #[serde(default)]
    pub metadata: Map<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspacePatch {
    pub name: Option<String>,
    pub metadata: Option<Map<String, Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    pub name: String,
    #[serde(default)]
    pub models: Vec<String>,
    #[serde(default)]
    pub metadata: Map<String, Value>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub expires_ms: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyPatch {
    pub name: Option<String>,
    pub models: Option<Vec<String>>,
    pub metadata: Option<Map<String, Value>>,
    pub tags: Option<Vec<String>>,
    /// `null` removes the expiry.
    #[serde(default, deserialize_with = "some")]
    pub expires_ms: Option<Option<i64>>,
    pub disabled: Option<bool>,
}

/// A present field, even `null`, is `Some`.
fn some<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

/// A provider credential as given: exactly one of `api_key`, `aws`, `gcp_service_account`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCredential {
    /// The configured provider it is for.
    pub provider: String,
    /// The workspace it belongs to; absent: shared by the organisation.
    pub workspace: Option<String>,
    pub name: String,
    #[serde(flatten)]
    pub secret: SecretInput,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretInput {
    pub api_key: Option<String>,
    pub aws: Option<AwsInput>,
    /// The service account's JSON key file, as an object.
    pub gcp_service_account: Option<Map<String, Value>>,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AwsInput {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialPatch {
    pub name: Option<String>,
    /// A new secret (of the same kind or another).
    #[serde(flatten)]
    pub secret: SecretInput,
}

impl SecretInput {
    fn is_empty(&self) -> bool {
        self.api_key.is_none() && self.aws.is_none() && self.gcp_service_account.is_none()
    }

    /// The kind and the plaintext JSON to seal.
    fn plain(self) -> Result<(CredentialKind, Vec<u8>), AdminError> {
        let one = |kind, v: Value| Ok((kind, v.to_string().into_bytes()));
        match (self.api_key, self.aws, self.gcp_service_account) {
            (Some(k), None, None) if !k.trim().is_empty() => {
                one(CredentialKind::ApiKey, serde_json::json!({"api_key": k}))
            }
            (Some(_), None, None) => Err(invalid("api_key", "api_key must not be empty")),
            (None, Some(a), None) => one(
                CredentialKind::Aws,
                serde_json::to_value(a).unwrap_or(Value::Null),
            ),
            (None, None, Some(sa)) => {
                let text = Value::Object(sa).to_string();
                one(
                    CredentialKind::Gcp,
                    serde_json::json!({"service_account": text}),
                )
            }
            _ => Err(invalid(
                "api_key",
                "give exactly one of api_key, aws or gcp_service_account",
            )),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    #[serde(default)]
    pub name: String,
    #[serde(default = "member")]
    pub role: OrgRole,
    /// Workspace id → role there.
    #[serde(default)]
    pub workspaces: BTreeMap<String, WsRole>,
}

fn member() -> OrgRole {
    OrgRole::Member
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub name: Option<String>,
    pub role: Option<OrgRole>,
    /// Replaces the user's workspace roles.
    pub workspaces: Option<BTreeMap<String, WsRole>>,
}

fn check_name(name: &str) -> Result<(), AdminError> {
    if name.trim().is_empty() || name.len() > MAX_NAME {
        return Err(invalid(
            "name",
            format!("name must be 1 to {MAX_NAME} characters"),
        ));
    }
    Ok(())
}

fn check_metadata(m: &Map<String, Value>) -> Result<(), AdminError> {
    if Value::Object(m.clone()).to_string().len() > MAX_METADATA_BYTES {
        return Err(invalid(
            "metadata",
            format!("metadata must be at most {MAX_METADATA_BYTES} bytes of JSON"),
        ));
    }
    Ok(())
}

fn check_list(param: &str, items: &[String]) -> Result<(), AdminError> {
    if items.len() > MAX_LIST {
        return Err(invalid(param, format!("at most {MAX_LIST} entries")));
    }
    if let Some((i, _)) = items
        .iter()
        .enumerate()
        .find(|(_, s)| s.is_empty() || s.len() > MAX_PATTERN)
    {
        return Err(invalid(
            &format!("{param}[{i}]"),
            format!("entries must be 1 to {MAX_PATTERN} characters"),
        ));
    }
    Ok(())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn random(what: &str) -> Result<String, AdminError> {
    key::new_id().map_err(|_| AdminError::Store(format!("no random source for a new {what}")))
}

impl Tenants {
    fn event(
        actor: &Actor,
        action: &str,
        target: String,
        workspace: Option<&str>,
        before: Option<Value>,
        after: Option<Value>,
    ) -> AuditEvent {
        AuditEvent {
            ts_ms: now_ms(),
            actor: actor.name.clone(),
            action: action.to_owned(),
            target,
            workspace: workspace.map(str::to_owned),
            before,
            after,
            source_ip: actor.source_ip.clone(),
            request_id: actor.request_id.clone(),
        }
    }

    /// Records an admin action that changes nothing kept here (a cache purge) in the audit log.
    pub async fn audit(
        &self,
        actor: &Actor,
        action: &str,
        target: String,
        workspace: Option<&str>,
        after: Option<Value>,
    ) -> Result<(), AdminError> {
        let ev = Self::event(actor, action, target, workspace, None, after);
        self.store().apply(Vec::new(), ev).await?;
        Ok(())
    }

    async fn commit(&self, changes: Vec<Change>, event: AuditEvent) -> Result<(), AdminError> {
        self.store().apply(changes, event).await?;
        self.reload().await?;
        Ok(())
    }

    /// Creates the `default` workspace (static keys' home) when the store has none.
    pub async fn ensure_default_workspace(&self) -> Result<(), AdminError> {
        if self.snapshot().workspace(DEFAULT_WORKSPACE).is_some() {
            return Ok(());
        }
        let w = Workspace {
            id: DEFAULT_WORKSPACE.into(),
            name: DEFAULT_WORKSPACE.into(),
            metadata: Map::new(),
            created_ms: now_ms(),
        };
        let actor = Actor {
            name: "switchyard".into(),
            ..Actor::default()
        };
        let after = serde_json::to_value(&w).ok();
        let ev = Self::event(
            &actor,
            "workspace.create",
            format!("workspace:{}", w.id),
            Some(&w.id),
            None,
            after,
        );
        match self.commit(vec![Change::PutWorkspace(w)], ev).await {
            // Another replica made it first.
            Err(AdminError::Conflict(_)) => Ok(()),
            other => other,
        }
    }

    pub async fn create_workspace(
        &self,
        actor: &Actor,
        input: NewWorkspace,
    ) -> Result<Workspace, AdminError> {
        check_name(&input.name)?;
        check_metadata(&input.metadata)?;
        if self
            .snapshot()
            .workspaces()
            .iter()
            .any(|w| w.name == input.name)
        {
            return Err(AdminError::Conflict(format!(
                "a workspace named '{}' exists",
                input.name
            )));
        }
        let w = Workspace {
            id: format!("ws-{}", random("workspace id")?),
            name: input.name,
            metadata: input.metadata,
            created_ms: now_ms(),
        };
        let after = serde_json::to_value(&w).ok();
        let ev = Self::event(
            actor,
            "workspace.create",
            format!("workspace:{}", w.id),
            Some(&w.id),
            None,
            after,
        );
        self.commit(vec![Change::PutWorkspace(w.clone())], ev)
            .await?;
        Ok(w)
    }

    fn workspace(&self, id: &str) -> Result<Workspace, AdminError> {
        self.snapshot()
            .workspace(id)
            .cloned()
            .ok_or_else(|| AdminError::NotFound(format!("no workspace '{id}'")))
    }

    pub async fn update_workspace(
        &self,
        actor: &Actor,
        id: &str,
        patch: WorkspacePatch,
    ) -> Result<Workspace, AdminError> {
        let before = self.workspace(id)?;
        let mut w = before.clone();
        if let Some(n) = patch.name {
            check_name(&n)?;
            w.name = n;
        }
        if let Some(m) = patch.metadata {
            check_metadata(&m)?;
            w.metadata = m;
        }
        let ev = Self::event(
            actor,
            "workspace.update",
            format!("workspace:{id}"),
            Some(id),
            serde_json::to_value(&before).ok(),
            serde_json::to_value(&w).ok(),
        );
        self.commit(vec![Change::PutWorkspace(w.clone())], ev)
            .await?;
        Ok(w)
    }

    /// Deletes an empty workspace (a 409 while it still has keys).
    pub async fn delete_workspace(&self, actor: &Actor, id: &str) -> Result<(), AdminError> {
        let before = self.workspace(id)?;
        if id == DEFAULT_WORKSPACE {
            return Err(AdminError::Conflict(
                "the default workspace holds the static keys and cannot be deleted".into(),
            ));
        }
        let keys = self.snapshot().keys(Some(id)).len();
        if keys > 0 {
            return Err(AdminError::Conflict(format!(
                "workspace '{id}' still has {keys} keys: delete them first"
            )));
        }
        let ev = Self::event(
            actor,
            "workspace.delete",
            format!("workspace:{id}"),
            Some(id),
            serde_json::to_value(&before).ok(),
            None,
        );
        self.commit(vec![Change::DeleteWorkspace(id.to_owned())], ev)
            .await
    }

    /// Creates a key in `workspace`; returns its record and the key itself, shown this once.
    pub async fn create_key(
        &self,
        actor: &Actor,
        workspace: &str,
        input: NewKey,
    ) -> Result<(VirtualKey, String), AdminError> {
        self.workspace(workspace)?;
        check_name(&input.name)?;
        check_list("models", &input.models)?;
        check_list("tags", &input.tags)?;
        check_metadata(&input.metadata)?;
        let id = random("key id")?;
        let secret = key::new_key(&id)
            .map_err(|_| AdminError::Store("no random source for a new key".into()))?;
        let k = VirtualKey {
            id: id.clone(),
            workspace: workspace.to_owned(),
            name: input.name,
            hash: hex(&self.hasher().hash(&secret)),
            previous: None,
            expires_ms: input.expires_ms,
            disabled: false,
            models: input.models,
            metadata: input.metadata,
            tags: input.tags,
            created_ms: now_ms(),
        };
        let ev = Self::event(
            actor,
            "key.create",
            format!("key:{id}"),
            Some(workspace),
            None,
            Some(k.public(None)),
        );
        self.commit(vec![Change::PutKey(k.clone())], ev).await?;
        Ok((k, secret))
    }

    pub fn key(&self, id: &str) -> Result<VirtualKey, AdminError> {
        self.snapshot()
            .key(id)
            .cloned()
            .ok_or_else(|| AdminError::NotFound(format!("no key '{id}'")))
    }

    pub async fn update_key(
        &self,
        actor: &Actor,
        id: &str,
        patch: KeyPatch,
    ) -> Result<VirtualKey, AdminError> {
        let before = self.key(id)?;
        let mut k = before.clone();
        if let Some(n) = patch.name {
            check_name(&n)?;
            k.name = n;
        }
        if let Some(m) = patch.models {
            check_list("models", &m)?;
            k.models = m;
        }
        if let Some(t) = patch.tags {
            check_list("tags", &t)?;
            k.tags = t;
        }
        if let Some(m) = patch.metadata {
            check_metadata(&m)?;
            k.metadata = m;
        }
        if let Some(e) = patch.expires_ms {
            k.expires_ms = e;
        }
        if let Some(d) = patch.disabled {
            k.disabled = d;
        }
        let action = match patch.disabled {
            Some(true) if !before.disabled => "key.disable",
            Some(false) if before.disabled => "key.enable",
            _ => "key.update",
        };
        let ev = Self::event(
            actor,
            action,
            format!("key:{id}"),
            Some(&k.workspace),
            Some(before.public(None)),
            Some(k.public(None)),
        );
        self.commit(vec![Change::PutKey(k.clone())], ev).await?;
        Ok(k)
    }

    /// A new secret for key `id`; the old one keeps working for `grace_ms`.
    pub async fn rotate_key(
        &self,
        actor: &Actor,
        id: &str,
        grace_ms: Option<i64>,
    ) -> Result<(VirtualKey, String), AdminError> {
        let before = self.key(id)?;
        let grace = grace_ms.unwrap_or(DEFAULT_GRACE_MS);
        if !(0..=30 * DEFAULT_GRACE_MS).contains(&grace) {
            return Err(invalid("grace_ms", "grace_ms must be 0 to 30 days"));
        }
        let secret = key::new_key(id)
            .map_err(|_| AdminError::Store("no random source for a new key".into()))?;
        let mut k = before.clone();
        k.previous = (grace > 0).then(|| Previous {
            hash: before.hash.clone(),
            grace_until_ms: now_ms() + grace,
        });
        k.hash = hex(&self.hasher().hash(&secret));
        let ev = Self::event(
            actor,
            "key.rotate",
            format!("key:{id}"),
            Some(&k.workspace),
            Some(before.public(None)),
            Some(k.public(None)),
        );
        self.commit(vec![Change::PutKey(k.clone())], ev).await?;
        Ok((k, secret))
    }

    pub async fn delete_key(&self, actor: &Actor, id: &str) -> Result<(), AdminError> {
        let before = self.key(id)?;
        let ev = Self::event(
            actor,
            "key.delete",
            format!("key:{id}"),
            Some(&before.workspace),
            Some(before.public(None)),
            None,
        );
        self.commit(vec![Change::DeleteKey(id.to_owned())], ev)
            .await
    }

    fn kek_for_credentials(&self) -> Result<&Kek, AdminError> {
        self.kek().ok_or_else(|| {
            AdminError::Conflict(
                "no key-encryption key is configured (SWITCHYARD_KEK or server.tenants.kek_file): credentials cannot be stored".into(),
            )
        })
    }

    /// Stores a provider credential, sealed. `known` says whether a provider name is configured.
    pub async fn create_credential(
        &self,
        actor: &Actor,
        input: NewCredential,
        known: &(dyn Fn(&str) -> bool + Sync),
    ) -> Result<Credential, AdminError> {
        check_name(&input.name)?;
        if !known(&input.provider) {
            return Err(invalid(
                "provider",
                format!("no configured provider is named '{}'", input.provider),
            ));
        }
        if let Some(w) = &input.workspace {
            self.workspace(w)?;
        }
        let snap = self.snapshot();
        let taken = snap
            .credential_list()
            .into_iter()
            .any(|c| c.provider == input.provider && c.workspace == input.workspace);
        if taken {
            return Err(AdminError::Conflict(format!(
                "{} already has a credential for provider '{}': update or delete it",
                input
                    .workspace
                    .as_deref()
                    .map_or("the organisation".into(), |w| format!("workspace '{w}'")),
                input.provider
            )));
        }
        let kek = self.kek_for_credentials()?;
        let (kind, plain) = input.secret.plain()?;
        let id = format!("cred-{}", random("credential id")?);
        let now = now_ms();
        let sealed = kek
            .seal(&id, &plain)
            .map_err(|e| AdminError::Store(e.to_string()))?;
        let c = Credential {
            id: id.clone(),
            workspace: input.workspace,
            provider: input.provider,
            name: input.name,
            kind,
            sealed,
            created_ms: now,
            updated_ms: now,
        };
        let ev = Self::event(
            actor,
            "credential.create",
            format!("credential:{id}"),
            c.workspace.as_deref(),
            None,
            Some(c.public()),
        );
        self.commit(vec![Change::PutCredential(c.clone())], ev)
            .await?;
        Ok(c)
    }

    pub fn credential(&self, id: &str) -> Result<Credential, AdminError> {
        self.snapshot()
            .credential(id)
            .cloned()
            .ok_or_else(|| AdminError::NotFound(format!("no credential '{id}'")))
    }

    pub async fn update_credential(
        &self,
        actor: &Actor,
        id: &str,
        patch: CredentialPatch,
    ) -> Result<Credential, AdminError> {
        let before = self.credential(id)?;
        let mut c = before.clone();
        if let Some(n) = patch.name {
            check_name(&n)?;
            c.name = n;
        }
        if !patch.secret.is_empty() {
            let (kind, plain) = patch.secret.plain()?;
            c.kind = kind;
            c.sealed = self
                .kek_for_credentials()?
                .seal(id, &plain)
                .map_err(|e| AdminError::Store(e.to_string()))?;
        }
        c.updated_ms = now_ms();
        let ev = Self::event(
            actor,
            "credential.update",
            format!("credential:{id}"),
            c.workspace.as_deref(),
            Some(before.public()),
            Some(c.public()),
        );
        self.commit(vec![Change::PutCredential(c.clone())], ev)
            .await?;
        Ok(c)
    }

    pub async fn delete_credential(&self, actor: &Actor, id: &str) -> Result<(), AdminError> {
        let before = self.credential(id)?;
        let ev = Self::event(
            actor,
            "credential.delete",
            format!("credential:{id}"),
            before.workspace.as_deref(),
            Some(before.public()),
            None,
        );
        self.commit(vec![Change::DeleteCredential(id.to_owned())], ev)
            .await
    }

    /// Re-wraps every credential's data key with `next` in one transaction; returns how many.
    /// The configured KEK must open them all; switch the configuration to `next` afterwards.
    pub async fn rotate_kek(&self, actor: &Actor, next: &Kek) -> Result<usize, AdminError> {
        let kek = self.kek_for_credentials()?;
        let loaded = self.store().load().await?;
        let mut changes = Vec::with_capacity(loaded.credentials.len());
        for mut c in loaded.credentials {
            c.sealed = kek
                .rewrap(&c.id, &c.sealed, next)
                .map_err(|e| AdminError::Store(e.to_string()))?;
            changes.push(Change::PutCredential(c));
        }
        let n = changes.len();
        let ev = Self::event(
            actor,
            "vault.rotate_kek",
            "vault".into(),
            None,
            Some(serde_json::json!({"kek": kek.fingerprint()})),
            Some(serde_json::json!({"kek": next.fingerprint(), "credentials": n})),
        );
        self.store().apply(changes, ev).await?;
        Ok(n)
    }

    fn check_workspaces(&self, roles: &BTreeMap<String, WsRole>) -> Result<(), AdminError> {
        let snap = self.snapshot();
        match roles.keys().find(|w| snap.workspace(w).is_none()) {
            Some(w) => Err(invalid("workspaces", format!("no workspace '{w}'"))),
            None => Ok(()),
        }
    }

    pub fn user(&self, id: &str) -> Result<User, AdminError> {
        self.snapshot()
            .user(id)
            .cloned()
            .ok_or_else(|| AdminError::NotFound(format!("no user '{id}'")))
    }

    pub async fn create_user(&self, actor: &Actor, input: NewUser) -> Result<User, AdminError> {
        let email = input.email.trim().to_owned();
        if !email.contains('@') || email.len() > 254 {
            return Err(invalid("email", "email must be an address"));
        }
        self.check_workspaces(&input.workspaces)?;
        if self.snapshot().users().iter().any(|u| u.email == email) {
            return Err(AdminError::Conflict(format!(
                "a user with email '{email}' exists"
            )));
        }
        let u = User {
            id: format!("usr-{}", random("user id")?),
            email,
            name: input.name,
            role: input.role,
            workspaces: input.workspaces,
            created_ms: now_ms(),
        };
        let ev = Self::event(
            actor,
            "user.create",
            format!("user:{}", u.id),
            None,
            None,
            serde_json::to_value(&u).ok(),
        );
        self.commit(vec![Change::PutUser(u.clone())], ev).await?;
        Ok(u)
    }

    pub async fn update_user(
        &self,
        actor: &Actor,
        id: &str,
        patch: UserPatch,
    ) -> Result<User, AdminError> {
        let before = self.user(id)?;
        let mut u = before.clone();
        if let Some(n) = patch.name {
            u.name = n;
        }
        if let Some(r) = patch.role {
            u.role = r;
        }
        if let Some(w) = patch.workspaces {
            self.check_workspaces(&w)?;
            u.workspaces = w;
        }
        let ev = Self::event(
            actor,
            "user.update",
            format!("user:{id}"),
            None,
            serde_json::to_value(&before).ok(),
            serde_json::to_value(&u).ok(),
        );
        self.commit(vec![Change::PutUser(u.clone())], ev).await?;
        Ok(u)
    }

    /// Deletes a user and the admin keys that act as them.
    pub async fn delete_user(&self, actor: &Actor, id: &str) -> Result<(), AdminError> {
        let before = self.user(id)?;
        let mut changes: Vec<Change> = self
            .snapshot()
            .admin_keys(Some(id))
            .into_iter()
            .map(|k| Change::DeleteAdminKey(k.id.clone()))
            .collect();
        changes.push(Change::DeleteUser(id.to_owned()));
        let ev = Self::event(
            actor,
            "user.delete",
            format!("user:{id}"),
            None,
            serde_json::to_value(&before).ok(),
            None,
        );
        self.commit(changes, ev).await
    }

    /// An admin key acting as `user`; the key is in the answer, this once.
    pub async fn create_admin_key(
        &self,
        actor: &Actor,
        user: &str,
        name: &str,
    ) -> Result<(AdminKey, String), AdminError> {
        self.user(user)?;
        check_name(name)?;
        let id = random("admin key id")?;
        let secret = key::new_key_with(key::ADMIN_PREFIX, &id)
            .map_err(|_| AdminError::Store("no random source for a new key".into()))?;
        let k = AdminKey {
            id: id.clone(),
            user: user.to_owned(),
            name: name.to_owned(),
            hash: hex(&self.hasher().hash(&secret)),
            created_ms: now_ms(),
        };
        let ev = Self::event(
            actor,
            "admin_key.create",
            format!("admin_key:{id}"),
            None,
            None,
            Some(k.public()),
        );
        self.commit(vec![Change::PutAdminKey(k.clone())], ev)
            .await?;
        Ok((k, secret))
    }

    pub async fn delete_admin_key(&self, actor: &Actor, id: &str) -> Result<(), AdminError> {
        let before = self
            .snapshot()
            .admin_key(id)
            .cloned()
            .ok_or_else(|| AdminError::NotFound(format!("no admin key '{id}'")))?;
        let ev = Self::event(
            actor,
            "admin_key.delete",
            format!("admin_key:{id}"),
            None,
            Some(before.public()),
            None,
        );
        self.commit(vec![Change::DeleteAdminKey(id.to_owned())], ev)
            .await
    }

    /// Blocks (or unblocks) an end user of `workspace`; its requests are a 403 from then on.
    pub async fn block_end_user(
        &self,
        actor: &Actor,
        workspace: &str,
        id: &str,
        blocked: bool,
    ) -> Result<(), AdminError> {
        let action = if blocked {
            "end_user.block"
        } else {
            "end_user.unblock"
        };
        self.put_end_user(actor, action, workspace, id, blocked)
            .await
    }

    /// Sets an end user's blocked flag (making its row when missing), audited as `action`.
    async fn put_end_user(
        &self,
        actor: &Actor,
        action: &str,
        workspace: &str,
        id: &str,
        blocked: bool,
    ) -> Result<(), AdminError> {
        self.workspace(workspace)?;
        if id.is_empty() || id.len() > 256 {
            return Err(invalid("id", "end user ids are 1 to 256 bytes"));
        }
        let ev = Self::event(
            actor,
            action,
            format!("end_user:{workspace}/{id}"),
            Some(workspace),
            None,
            Some(serde_json::json!({"blocked": blocked})),
        );
        let change = Change::BlockEndUser {
            workspace: workspace.to_owned(),
            id: id.to_owned(),
            blocked,
            now_ms: now_ms(),
        };
        self.commit(vec![change], ev).await
    }

    pub async fn end_users(
        &self,
        workspace: &str,
        limit: usize,
    ) -> Result<Vec<crate::model::EndUser>, AdminError> {
        self.workspace(workspace)?;
        Ok(self
            .store()
            .end_users(workspace.to_owned(), None, limit)
            .await?)
    }

    /// One end user of `workspace`, seen or created.
    pub async fn find_end_user(
        &self,
        workspace: &str,
        id: &str,
    ) -> Result<crate::model::EndUser, AdminError> {
        self.workspace(workspace)?;
        self.store()
            .end_users(workspace.to_owned(), Some(id.to_owned()), 1)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                AdminError::NotFound(format!("no end user '{id}' in workspace '{workspace}'"))
            })
    }

    /// Records an end user ahead of its first request (blocked or not); a 409 when it exists.
    pub async fn create_end_user(
        &self,
        actor: &Actor,
        workspace: &str,
        id: &str,
        blocked: bool,
    ) -> Result<crate::model::EndUser, AdminError> {
        if self.find_end_user(workspace, id).await.is_ok() {
            return Err(AdminError::Conflict(format!(
                "end user '{id}' already exists in workspace '{workspace}'"
            )));
        }
        self.put_end_user(actor, "end_user.create", workspace, id, blocked)
            .await?;
        self.find_end_user(workspace, id).await
    }

    /// Forgets an end user (unblocking it); it is recorded again when next seen.
    pub async fn delete_end_user(
        &self,
        actor: &Actor,
        workspace: &str,
        id: &str,
    ) -> Result<(), AdminError> {
        let before = self.find_end_user(workspace, id).await?;
        let ev = Self::event(
            actor,
            "end_user.delete",
            format!("end_user:{workspace}/{id}"),
            Some(workspace),
            Some(before.public()),
            None,
        );
        let change = Change::DeleteEndUser {
            workspace: workspace.to_owned(),
            id: id.to_owned(),
        };
        self.commit(vec![change], ev).await
    }

    /// Stores a new limit (the server checked its spec); 409 when the id is taken.
    pub async fn create_limit(
        &self,
        actor: &Actor,
        id: &str,
        workspace: Option<String>,
        spec: Value,
    ) -> Result<crate::model::LimitRecord, AdminError> {
        if self.snapshot().limit(id).is_some() {
            return Err(AdminError::Conflict(format!("a limit '{id}' exists")));
        }
        let now = now_ms();
        let record = crate::model::LimitRecord {
            id: id.to_owned(),
            workspace,
            spec,
            created_ms: now,
            updated_ms: now,
        };
        let ev = Self::event(
            actor,
            "limit.create",
            format!("limit:{id}"),
            record.workspace.as_deref(),
            None,
            Some(record.public()),
        );
        self.commit(vec![Change::PutLimit(record.clone())], ev)
            .await?;
        Ok(record)
    }

    /// Replaces a limit's spec (the server checked it).
    pub async fn update_limit(
        &self,
        actor: &Actor,
        id: &str,
        workspace: Option<String>,
        spec: Value,
    ) -> Result<crate::model::LimitRecord, AdminError> {
        let before = self
            .snapshot()
            .limit(id)
            .cloned()
            .ok_or_else(|| AdminError::NotFound(format!("no limit '{id}'")))?;
        let record = crate::model::LimitRecord {
            workspace,
            spec,
            updated_ms: now_ms(),
            ..before.clone()
        };
        let ev = Self::event(
            actor,
            "limit.update",
            format!("limit:{id}"),
            record.workspace.as_deref(),
            Some(before.public()),
            Some(record.public()),
        );
        self.commit(vec![Change::PutLimit(record.clone())], ev)
            .await?;
        Ok(record)
    }

    pub async fn delete_limit(&self, actor: &Actor, id: &str) -> Result<(), AdminError> {
        let before = self
            .snapshot()
            .limit(id)
            .cloned()
            .ok_or_else(|| AdminError::NotFound(format!("no limit '{id}'")))?;
        let ev = Self::event(
            actor,
            "limit.delete",
            format!("limit:{id}"),
            before.workspace.as_deref(),
            Some(before.public()),
            None,
        );
        self.commit(vec![Change::DeleteLimit(id.to_owned())], ev)
            .await
    }

    /// Stores a new guardrail policy (the server built its definition); 409 when the id is
    /// taken.
    pub async fn create_guardrail_policy(
        &self,
        actor: &Actor,
        id: &str,
        workspace: Option<String>,
        doc: Value,
        attach: GuardrailAttach,
    ) -> Result<GuardrailPolicyRecord, AdminError> {
        if self.snapshot().guardrail_policy(id).is_some() {
            return Err(AdminError::Conflict(format!(
                "a guardrail policy '{id}' exists"
            )));
        }
        let now = now_ms();
        let record = GuardrailPolicyRecord {
            id: id.to_owned(),
            workspace,
            doc,
            attach,
            created_ms: now,
            updated_ms: now,
        };
        let ev = Self::event(
            actor,
            "guardrail_policy.create",
            format!("guardrail_policy:{id}"),
            record.workspace.as_deref(),
            None,
            Some(record.public()),
        );
        self.commit(vec![Change::PutGuardrailPolicy(record.clone())], ev)
            .await?;
        Ok(record)
    }

    /// Replaces a guardrail policy's definition, owner and attachments (the server built it).
    pub async fn update_guardrail_policy(
        &self,
        actor: &Actor,
        id: &str,
        workspace: Option<String>,
        doc: Value,
        attach: GuardrailAttach,
    ) -> Result<GuardrailPolicyRecord, AdminError> {
        let before = self
            .snapshot()
            .guardrail_policy(id)
            .cloned()
            .ok_or_else(|| AdminError::NotFound(format!("no guardrail policy '{id}'")))?;
        let record = GuardrailPolicyRecord {
            workspace,
            doc,
            attach,
            updated_ms: now_ms(),
            ..before.clone()
        };
        let ev = Self::event(
            actor,
            "guardrail_policy.update",
            format!("guardrail_policy:{id}"),
            record.workspace.as_deref(),
            Some(before.public()),
            Some(record.public()),
        );
        self.commit(vec![Change::PutGuardrailPolicy(record.clone())], ev)
            .await?;
        Ok(record)
    }

    /// Applies prompt changes (prompts, versions, labels, partials: built and checked by the
    /// server) with their audit event, all or nothing. Only prompt changes are taken.
    #[allow(clippy::too_many_arguments)]
    pub async fn change_prompts(
        &self,
        actor: &Actor,
        action: &str,
        target: String,
        workspace: &str,
        before: Option<Value>,
        after: Option<Value>,
        changes: Vec<Change>,
    ) -> Result<(), AdminError> {
        let prompt_only = changes.iter().all(|c| {
            matches!(
                c,
                Change::PutPrompt(_)
                    | Change::DeletePrompt { .. }
                    | Change::AddPromptVersion(_)
                    | Change::PutPartial(_)
                    | Change::DeletePartial { .. }
                    | Change::PutExperiment(_)
                    | Change::DeleteExperiment { .. }
            )
        });
        if !prompt_only {
            return Err(AdminError::Store("not a prompt change".into()));
        }
        let ev = Self::event(actor, action, target, Some(workspace), before, after);
        self.commit(changes, ev).await
    }

    pub async fn delete_guardrail_policy(&self, actor: &Actor, id: &str) -> Result<(), AdminError> {
        let before = self
            .snapshot()
            .guardrail_policy(id)
            .cloned()
            .ok_or_else(|| AdminError::NotFound(format!("no guardrail policy '{id}'")))?;
        let ev = Self::event(
            actor,
            "guardrail_policy.delete",
            format!("guardrail_policy:{id}"),
            before.workspace.as_deref(),
            Some(before.public()),
            None,
        );
        self.commit(vec![Change::DeleteGuardrailPolicy(id.to_owned())], ev)
            .await
    }

    pub async fn audit_events(&self, q: AuditQuery) -> Result<Vec<Logged>, AdminError> {
        Ok(self.store().audit(q).await?)
    }

    pub async fn last_used(&self) -> Result<HashMap<String, i64>, AdminError> {
        Ok(self.store().last_used().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;
    use std::sync::Arc;

    async fn tenants() -> Arc<Tenants> {
        let store = Arc::new(SqliteStore::in_memory().unwrap());
        let kek = Kek::from_base64(&Kek::generate().unwrap(), "test").unwrap();
        let t = Tenants::open(store, b"0123456789abcdef0123456789abcdef", Some(kek))
            .await
            .unwrap();
        t.ensure_default_workspace().await.unwrap();
        t
    }

    fn admin() -> Actor {
        Actor {
            name: "bootstrap".into(),
            source_ip: Some("127.0.0.1".into()),
            request_id: Some("req-1".into()),
        }
    }

    #[tokio::test]
    async fn a_created_key_authenticates_until_deleted_and_every_change_is_audited() {
        let t = tenants().await;
        let w = t
            .create_workspace(
                &admin(),
                NewWorkspace {
                    name: "Team A".into(),
                    metadata: Map::new(),
                },
            )
            .await
            .unwrap();
        let (k, secret) = t
            .create_key(
                &admin(),
                &w.id,
                NewKey {
                    name: "ci".into(),
                    models: vec!["openai/*".into()],
                    metadata: Map::new(),
                    tags: vec![],
                    expires_ms: None,
                },
            )
            .await
            .unwrap();
        let p = t.authenticate(&secret).unwrap().unwrap();
        assert_eq!(
            (p.workspace.as_str(), p.key_name.as_str()),
            (w.id.as_str(), "ci")
        );
        // The stored record and every audit event hold no secret and no hash.
        let events = t
            .audit_events(AuditQuery {
                limit: 10,
                ..AuditQuery::default()
            })
            .await
            .unwrap();
        let text = format!("{events:?}");
        assert!(!text.contains(&secret) && !text.contains(&k.hash), "{text}");
        let actions: Vec<&str> = events.iter().map(|e| e.event.action.as_str()).collect();
        assert_eq!(
            actions,
            ["key.create", "workspace.create", "workspace.create"]
        );
        assert_eq!(events[0].event.request_id.as_deref(), Some("req-1"));
        // A workspace with keys cannot go; the key can.
        assert!(matches!(
            t.delete_workspace(&admin(), &w.id).await,
            Err(AdminError::Conflict(_))
        ));
        t.delete_key(&admin(), &k.id).await.unwrap();
        assert_eq!(t.authenticate(&secret), Some(Err(crate::Refusal::Unknown)));
        t.delete_workspace(&admin(), &w.id).await.unwrap();
    }

    #[tokio::test]
    async fn rotation_keeps_the_old_secret_for_the_grace_only() {
        let t = tenants().await;
        let input = || NewKey {
            name: "svc".into(),
            models: vec![],
            metadata: Map::new(),
            tags: vec![],
            expires_ms: None,
        };
        let (k, old) = t
            .create_key(&admin(), DEFAULT_WORKSPACE, input())
            .await
            .unwrap();
        let (_, new) = t.rotate_key(&admin(), &k.id, Some(60_000)).await.unwrap();
        assert!(t.authenticate(&old).unwrap().is_ok());
        assert!(t.authenticate(&new).unwrap().is_ok());
        let (_, newer) = t.rotate_key(&admin(), &k.id, Some(0)).await.unwrap();
        assert_eq!(t.authenticate(&new), Some(Err(crate::Refusal::Unknown)));
        assert_eq!(t.authenticate(&old), Some(Err(crate::Refusal::Unknown)));
        assert!(t.authenticate(&newer).unwrap().is_ok());
        let patch = KeyPatch {
            disabled: Some(true),
            ..KeyPatch::default()
        };
        t.update_key(&admin(), &k.id, patch).await.unwrap();
        assert_eq!(t.authenticate(&newer), Some(Err(crate::Refusal::Disabled)));
        let e = t.rotate_key(&admin(), &k.id, Some(-1)).await.unwrap_err();
        assert!(matches!(e, AdminError::Invalid { ref param, .. } if param == "grace_ms"));
    }

    #[tokio::test]
    async fn bad_input_names_the_field() {
        let t = tenants().await;
        let e = t
            .create_workspace(
                &admin(),
                NewWorkspace {
                    name: " ".into(),
                    metadata: Map::new(),
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(e, AdminError::Invalid { ref param, .. } if param == "name"));
        let e = t
            .create_key(
                &admin(),
                DEFAULT_WORKSPACE,
                NewKey {
                    name: "k".into(),
                    models: vec![String::new()],
                    metadata: Map::new(),
                    tags: vec![],
                    expires_ms: None,
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(e, AdminError::Invalid { ref param, .. } if param == "models[0]"));
        let e = t
            .create_key(
                &admin(),
                "ws-nope",
                NewKey {
                    name: "k".into(),
                    models: vec![],
                    metadata: Map::new(),
                    tags: vec![],
                    expires_ms: None,
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(e, AdminError::NotFound(_)));
        let dup = t
            .create_workspace(
                &admin(),
                NewWorkspace {
                    name: DEFAULT_WORKSPACE.into(),
                    metadata: Map::new(),
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(dup, AdminError::Conflict(_)));
    }

    #[tokio::test]
    async fn credentials_are_sealed_merged_with_the_organisations_and_rotated_to_a_new_kek() {
        use crate::directory::ProviderSecret;
        use crate::store::TenantStore;
        let store = Arc::new(SqliteStore::in_memory().unwrap());
        let text = Kek::generate().unwrap();
        let kek = || Kek::from_base64(&text, "test").unwrap();
        let t = Tenants::open(
            store.clone(),
            b"0123456789abcdef0123456789abcdef",
            Some(kek()),
        )
        .await
        .unwrap();
        t.ensure_default_workspace().await.unwrap();
        let known = |p: &str| p == "openai" || p == "anthropic";
        let cred = |provider: &str, workspace: Option<&str>, key: &str| NewCredential {
            provider: provider.into(),
            workspace: workspace.map(str::to_owned),
            name: "k".into(),
            secret: SecretInput {
                api_key: Some(key.into()),
                ..SecretInput::default()
            },
        };
        t.create_credential(&admin(), cred("openai", None, "sk-org-openai"), &known)
            .await
            .unwrap();
        t.create_credential(
            &admin(),
            cred("anthropic", None, "sk-org-anthropic"),
            &known,
        )
        .await
        .unwrap();
        let own = t
            .create_credential(
                &admin(),
                cred("openai", Some(DEFAULT_WORKSPACE), "sk-default-openai"),
                &known,
            )
            .await
            .unwrap();
        let creds = t.snapshot().credentials_of(DEFAULT_WORKSPACE);
        assert_eq!(
            *creds["openai"],
            ProviderSecret::ApiKey("sk-default-openai".into())
        );
        assert_eq!(
            *creds["anthropic"],
            ProviderSecret::ApiKey("sk-org-anthropic".into())
        );
        assert_eq!(
            *t.snapshot().credentials_of("ws-other")["openai"],
            ProviderSecret::ApiKey("sk-org-openai".into())
        );
        // Refused: an unknown provider, a second one for the same pair, no secret at all.
        let e = t
            .create_credential(&admin(), cred("nope", None, "x"), &known)
            .await
            .unwrap_err();
        assert!(matches!(e, AdminError::Invalid { ref param, .. } if param == "provider"));
        let e = t
            .create_credential(&admin(), cred("openai", None, "x"), &known)
            .await
            .unwrap_err();
        assert!(matches!(e, AdminError::Conflict(_)));
        let none = NewCredential {
            provider: "openai".into(),
            workspace: Some(DEFAULT_WORKSPACE.into()),
            name: "k".into(),
            secret: SecretInput::default(),
        };
        assert!(t.create_credential(&admin(), none, &known).await.is_err());
        // Nothing readable is stored or audited.
        let loaded = store.load().await.unwrap();
        let audit = t
            .audit_events(AuditQuery {
                limit: 50,
                ..AuditQuery::default()
            })
            .await
            .unwrap();
        let all = format!("{:?}{:?}", loaded.credentials, audit);
        for secret in ["sk-org-openai", "sk-org-anthropic", "sk-default-openai"] {
            assert!(!all.contains(secret), "{secret}");
        }
        // Rotation re-wraps every row; only the new KEK opens them afterwards.
        let next_text = Kek::generate().unwrap();
        let next = Kek::from_base64(&next_text, "next").unwrap();
        assert_eq!(t.rotate_kek(&admin(), &next).await.unwrap(), 3);
        let with_new = Tenants::open(
            store.clone(),
            b"0123456789abcdef0123456789abcdef",
            Some(next),
        )
        .await
        .unwrap();
        assert_eq!(
            *with_new.snapshot().credentials_of(DEFAULT_WORKSPACE)["openai"],
            ProviderSecret::ApiKey("sk-default-openai".into())
        );
        let stale = Tenants::open(
            store.clone(),
            b"0123456789abcdef0123456789abcdef",
            Some(kek()),
        )
        .await;
        let msg = stale.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            msg.contains("key-encryption key") && msg.contains("rotate-kek"),
            "{msg}"
        );
        let without = Tenants::open(store, b"0123456789abcdef0123456789abcdef", None).await;
        assert!(without
            .err()
            .is_some_and(|e| e.to_string().contains("no key-encryption key")));
        // Deleting removes it from the snapshot.
        with_new.delete_credential(&admin(), &own.id).await.unwrap();
        assert_eq!(
            *with_new.snapshot().credentials_of(DEFAULT_WORKSPACE)["openai"],
            ProviderSecret::ApiKey("sk-org-openai".into())
        );
    }
}
