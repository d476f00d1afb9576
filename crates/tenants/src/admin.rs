//! Admin operations on workspaces and virtual keys. Each is one store transaction with its audit
//! event, followed by a new snapshot on this replica (others pick it up from the store).

use crate::key;
use crate::model::{AuditEvent, Previous, VirtualKey, Workspace, DEFAULT_WORKSPACE};
use crate::store::{AuditQuery, Change, Logged, StoreError};
use crate::{now_ms, Tenants};
use serde::Deserialize;
use serde_json::{Map, Value};
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
        let t = Tenants::open(store, b"0123456789abcdef0123456789abcdef")
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
}
