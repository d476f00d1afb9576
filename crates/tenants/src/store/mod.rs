//! Where the tenant model lives: one trait, one schema, an embedded SQLite default and
//! PostgreSQL when replicas share state. Every mutation writes its audit event in the same
//! transaction and bumps the version that tells replicas to reload.

pub mod postgres;
pub mod sqlite;

use crate::model::{
    AdminKey, AuditEvent, Credential, EndUser, ExperimentRecord, GuardrailPolicyRecord,
    LimitRecord, PartialRecord, PromptRecord, PromptVersionRecord, User, VirtualKey, Workspace,
};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique name taken, or a row that must exist missing: the admin API's 409/404.
    #[error("{0}")]
    Conflict(String),
    #[error("tenant store: {0}")]
    Backend(String),
}

/// One change of a mutation.
#[derive(Debug, Clone)]
pub enum Change {
    PutWorkspace(Workspace),
    DeleteWorkspace(String),
    PutKey(VirtualKey),
    DeleteKey(String),
    PutCredential(Credential),
    DeleteCredential(String),
    PutUser(User),
    DeleteUser(String),
    PutAdminKey(AdminKey),
    DeleteAdminKey(String),
    /// Blocks or unblocks an end user (creating its row when it was never seen).
    BlockEndUser {
        workspace: String,
        id: String,
        blocked: bool,
        now_ms: i64,
    },
    /// Forgets an end user (unblocking it); it is recorded again when next seen.
    DeleteEndUser {
        workspace: String,
        id: String,
    },
    PutLimit(LimitRecord),
    DeleteLimit(String),
    PutGuardrailPolicy(GuardrailPolicyRecord),
    DeleteGuardrailPolicy(String),
    PutPrompt(PromptRecord),
    /// Deletes a prompt and every version of it.
    DeletePrompt {
        workspace: String,
        id: String,
    },
    /// Adds a version; a conflict when that number exists.
    AddPromptVersion(PromptVersionRecord),
    PutPartial(PartialRecord),
    DeletePartial {
        workspace: String,
        name: String,
    },
    PutExperiment(ExperimentRecord),
    DeleteExperiment {
        workspace: String,
        id: String,
    },
}

/// Everything the snapshot is built from.
#[derive(Debug, Default)]
pub struct Loaded {
    pub version: u64,
    pub workspaces: Vec<Workspace>,
    pub keys: Vec<VirtualKey>,
    pub credentials: Vec<Credential>,
    pub users: Vec<User>,
    pub admin_keys: Vec<AdminKey>,
    /// (workspace, end user) pairs that are blocked.
    pub blocked: Vec<(String, String)>,
    pub limits: Vec<LimitRecord>,
    pub guardrail_policies: Vec<GuardrailPolicyRecord>,
    pub prompts: Vec<PromptRecord>,
    pub prompt_versions: Vec<PromptVersionRecord>,
    pub partials: Vec<PartialRecord>,
    pub experiments: Vec<ExperimentRecord>,
}

/// Which audit events to list, newest first.
#[derive(Debug, Default, Clone)]
pub struct AuditQuery {
    /// Only this workspace's events (a workspace-scoped admin's view).
    pub workspace: Option<String>,
    /// Events before this sequence number (the cursor of the page before).
    pub before: Option<i64>,
    pub limit: usize,
}

/// An audit event with its position in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    pub seq: i64,
    pub event: AuditEvent,
}

pub trait TenantStore: Send + Sync {
    fn load(&self) -> BoxFuture<'_, Result<Loaded, StoreError>>;
    /// The version of the last mutation (starts at 1).
    fn version(&self) -> BoxFuture<'_, Result<u64, StoreError>>;
    /// Applies `changes` and records `audit`, all or nothing; returns the new version.
    fn apply(
        &self,
        changes: Vec<Change>,
        audit: AuditEvent,
    ) -> BoxFuture<'_, Result<u64, StoreError>>;
    fn audit(&self, query: AuditQuery) -> BoxFuture<'_, Result<Vec<Logged>, StoreError>>;
    /// When each key was last used (recorded off the request path by `touch`).
    fn last_used(&self) -> BoxFuture<'_, Result<HashMap<String, i64>, StoreError>>;
    fn touch(&self, used: Vec<(String, i64)>) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Records end users seen (workspace, id, when): created on first sight, `last_seen_ms`
    /// moved on after.
    fn saw_end_users(
        &self,
        seen: Vec<(String, String, i64)>,
    ) -> BoxFuture<'_, Result<(), StoreError>>;
    /// A workspace's end users, most recently seen first.
    /// A workspace's end users, most recently seen first; `only`: that one end user.
    fn end_users(
        &self,
        workspace: String,
        only: Option<String>,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<EndUser>, StoreError>>;
    /// A document kept outside the snapshot (datasets, evaluation runs and their results: the
    /// admin API reads them, the request path never does), by kind, workspace and id.
    fn get_doc(
        &self,
        kind: &'static str,
        workspace: String,
        id: String,
    ) -> BoxFuture<'_, Result<Option<serde_json::Value>, StoreError>>;
    /// Documents of a kind in a workspace whose ids start with `prefix`, by id.
    fn list_docs(
        &self,
        kind: &'static str,
        workspace: String,
        prefix: String,
    ) -> BoxFuture<'_, Result<Vec<(String, serde_json::Value)>, StoreError>>;
    fn put_doc(
        &self,
        kind: &'static str,
        workspace: String,
        id: String,
        doc: serde_json::Value,
    ) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Deletes the documents whose ids start with `prefix`; how many went.
    fn delete_docs(
        &self,
        kind: &'static str,
        workspace: String,
        prefix: String,
    ) -> BoxFuture<'_, Result<u64, StoreError>>;
    /// A signal for each change made elsewhere, when the store can tell (PostgreSQL's NOTIFY);
    /// the periodic version check covers the rest.
    fn watch(&self) -> Option<tokio::sync::mpsc::Receiver<()>> {
        None
    }
}
