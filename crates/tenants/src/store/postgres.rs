//! The shared store: PostgreSQL, for replicas. A mutation bumps the version and sends
//! `NOTIFY switchyard_tenants` in its transaction; every replica LISTENs on a connection of its
//! own (and checks the version periodically in case a notification was missed).

use super::{AuditQuery, BoxFuture, Change, Loaded, Logged, StoreError, TenantStore};
use crate::model::{
    AdminKey, AuditEvent, Credential, EndUser, ExperimentRecord, GuardrailPolicyRecord,
    LimitRecord, PartialRecord, PromptRecord, PromptVersionRecord, User, VirtualKey, Workspace,
};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::{mpsc, Mutex};
use tokio_postgres::error::SqlState;
use tokio_postgres::{AsyncMessage, Client, NoTls};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tenant_version (id INT PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL);
INSERT INTO tenant_version (id, version) VALUES (1, 1) ON CONFLICT (id) DO NOTHING;
CREATE TABLE IF NOT EXISTS tenant_workspaces (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tenant_keys (id TEXT PRIMARY KEY, workspace TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tenant_keys_workspace ON tenant_keys (workspace);
CREATE TABLE IF NOT EXISTS tenant_credentials (id TEXT PRIMARY KEY, workspace TEXT, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tenant_users (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tenant_admin_keys (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tenant_limits (id TEXT PRIMARY KEY, workspace TEXT, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tenant_guardrail_policies (id TEXT PRIMARY KEY, workspace TEXT, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tenant_prompts (workspace TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (workspace, id));
CREATE TABLE IF NOT EXISTS tenant_prompt_versions (workspace TEXT NOT NULL, id TEXT NOT NULL, version BIGINT NOT NULL,
  doc TEXT NOT NULL, PRIMARY KEY (workspace, id, version));
CREATE TABLE IF NOT EXISTS tenant_partials (workspace TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (workspace, name));
CREATE TABLE IF NOT EXISTS tenant_docs (kind TEXT NOT NULL, workspace TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY (kind, workspace, id));
CREATE TABLE IF NOT EXISTS tenant_experiments (workspace TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (workspace, id));
CREATE TABLE IF NOT EXISTS tenant_end_users (workspace TEXT NOT NULL, id TEXT NOT NULL, blocked BOOLEAN NOT NULL DEFAULT FALSE,
  first_seen_ms BIGINT NOT NULL, last_seen_ms BIGINT NOT NULL, PRIMARY KEY (workspace, id));
CREATE TABLE IF NOT EXISTS tenant_key_usage (id TEXT PRIMARY KEY, last_used_ms BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS tenant_audit (seq BIGSERIAL PRIMARY KEY, workspace TEXT, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tenant_audit_workspace ON tenant_audit (workspace, seq);
";

/// The channel replicas listen on.
pub const CHANNEL: &str = "switchyard_tenants";
/// Any fixed number: replicas starting together create the schema one at a time.
const SCHEMA_LOCK: i64 = 0x5465_6e61_6e74;

pub struct PostgresStore {
    url: String,
    client: Mutex<Client>,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("postgres: {e}"))
}

fn pg(e: tokio_postgres::Error, conflict: &str) -> StoreError {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        StoreError::Conflict(conflict.to_owned())
    } else {
        backend(e)
    }
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(backend)
}

async fn connect(url: &str) -> Result<Client, StoreError> {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await.map_err(backend)?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::warn!(error = %e, "tenants: postgres connection closed");
        }
    });
    Ok(client)
}

impl PostgresStore {
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let mut client = connect(url).await?;
        let tx = client.transaction().await.map_err(backend)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
            .await
            .map_err(backend)?;
        tx.batch_execute(SCHEMA).await.map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(Self {
            url: url.to_owned(),
            client: Mutex::new(client),
        })
    }

    /// The client, reconnected first when its connection has closed.
    async fn client(&self) -> Result<tokio::sync::MutexGuard<'_, Client>, StoreError> {
        let mut c = self.client.lock().await;
        if c.is_closed() {
            *c = connect(&self.url).await?;
        }
        Ok(c)
    }
}

async fn version(c: &impl tokio_postgres::GenericClient) -> Result<u64, StoreError> {
    let row = c
        .query_one("SELECT version FROM tenant_version WHERE id = 1", &[])
        .await
        .map_err(backend)?;
    Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
}

impl TenantStore for PostgresStore {
    fn load(&self) -> BoxFuture<'_, Result<Loaded, StoreError>> {
        Box::pin(async move {
            let mut c = self.client().await?;
            // One snapshot of every table.
            let tx = c
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await
                .map_err(backend)?;
            let version = version(&tx).await?;
            let docs = |rows: Vec<tokio_postgres::Row>| -> Vec<String> {
                rows.iter().map(|r| r.get::<_, String>(0)).collect()
            };
            let ws = tx
                .query("SELECT doc FROM tenant_workspaces", &[])
                .await
                .map_err(backend)?;
            let keys = tx
                .query("SELECT doc FROM tenant_keys", &[])
                .await
                .map_err(backend)?;
            let creds = tx
                .query("SELECT doc FROM tenant_credentials", &[])
                .await
                .map_err(backend)?;
            let users = tx
                .query("SELECT doc FROM tenant_users", &[])
                .await
                .map_err(backend)?;
            let admin_keys = tx
                .query("SELECT doc FROM tenant_admin_keys", &[])
                .await
                .map_err(backend)?;
            let limits = tx
                .query("SELECT doc FROM tenant_limits", &[])
                .await
                .map_err(backend)?;
            let guardrail_policies = tx
                .query("SELECT doc FROM tenant_guardrail_policies", &[])
                .await
                .map_err(backend)?;
            let prompts = tx
                .query("SELECT doc FROM tenant_prompts", &[])
                .await
                .map_err(backend)?;
            let prompt_versions = tx
                .query("SELECT doc FROM tenant_prompt_versions", &[])
                .await
                .map_err(backend)?;
            let partials = tx
                .query("SELECT doc FROM tenant_partials", &[])
                .await
                .map_err(backend)?;
            let experiments = tx
                .query("SELECT doc FROM tenant_experiments", &[])
                .await
                .map_err(backend)?;
            let blocked = tx
                .query(
                    "SELECT workspace, id FROM tenant_end_users WHERE blocked",
                    &[],
                )
                .await
                .map_err(backend)?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            tx.commit().await.map_err(backend)?;
            let workspaces = docs(ws)
                .iter()
                .map(|d| serde_json::from_str::<Workspace>(d).map_err(backend))
                .collect::<Result<_, _>>()?;
            let keys = docs(keys)
                .iter()
                .map(|d| serde_json::from_str::<VirtualKey>(d).map_err(backend))
                .collect::<Result<_, _>>()?;
            let credentials = docs(creds)
                .iter()
                .map(|d| serde_json::from_str::<Credential>(d).map_err(backend))
                .collect::<Result<_, _>>()?;
            let users = docs(users)
                .iter()
                .map(|d| serde_json::from_str::<User>(d).map_err(backend))
                .collect::<Result<_, _>>()?;
            let admin_keys = docs(admin_keys)
                .iter()
                .map(|d| serde_json::from_str::<AdminKey>(d).map_err(backend))
                .collect::<Result<_, _>>()?;
            let limits = docs(limits)
                .iter()
                .map(|d| serde_json::from_str::<LimitRecord>(d).map_err(backend))
                .collect::<Result<_, _>>()?;
            let guardrail_policies = docs(guardrail_policies)
                .iter()
                .map(|d| serde_json::from_str::<GuardrailPolicyRecord>(d).map_err(backend))
                .collect::<Result<_, _>>()?;
            let prompts = docs(prompts)
                .iter()
                .map(|d| serde_json::from_str::<PromptRecord>(d).map_err(backend))
                .collect::<Result<_, _>>()?;
            let prompt_versions = docs(prompt_versions)
                .iter()
                .map(|d| serde_json::from_str::<PromptVersionRecord>(d).map_err(backend))
                .collect::<Result<_, _>>()?;
            let partials = docs(partials)
                .iter()
                .map(|d| serde_json::from_str::<PartialRecord>(d).map_err(backend))
                .collect::<Result<_, _>>()?;
            let experiments = docs(experiments)
                .iter()
                .map(|d| serde_json::from_str::<ExperimentRecord>(d).map_err(backend))
                .collect::<Result<_, _>>()?;
            Ok(Loaded {
                version,
                workspaces,
                keys,
                credentials,
                users,
                admin_keys,
                blocked,
                limits,
                guardrail_policies,
                prompts,
                prompt_versions,
                partials,
                experiments,
            })
        })
    }

    fn version(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move { version(&*self.client().await?).await })
    }

    fn apply(
        &self,
        changes: Vec<Change>,
        audit: AuditEvent,
    ) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let mut c = self.client().await?;
            let tx = c.transaction().await.map_err(backend)?;
            for ch in &changes {
                match ch {
                    Change::PutWorkspace(w) => {
                        tx.execute(
                            "INSERT INTO tenant_workspaces (id, name, doc) VALUES ($1, $2, $3)
                             ON CONFLICT (id) DO UPDATE SET name = excluded.name, doc = excluded.doc",
                            &[&w.id, &w.name, &json(w)?],
                        )
                        .await
                        .map_err(|e| pg(e, &format!("a workspace named '{}' exists", w.name)))?;
                    }
                    Change::DeleteWorkspace(id) => {
                        tx.execute("DELETE FROM tenant_workspaces WHERE id = $1", &[id])
                            .await
                            .map_err(backend)?;
                    }
                    Change::PutKey(k) => {
                        tx.execute(
                            "INSERT INTO tenant_keys (id, workspace, doc) VALUES ($1, $2, $3)
                             ON CONFLICT (id) DO UPDATE SET workspace = excluded.workspace, doc = excluded.doc",
                            &[&k.id, &k.workspace, &json(k)?],
                        )
                        .await
                        .map_err(backend)?;
                    }
                    Change::DeleteKey(id) => {
                        tx.execute("DELETE FROM tenant_keys WHERE id = $1", &[id])
                            .await
                            .map_err(backend)?;
                        tx.execute("DELETE FROM tenant_key_usage WHERE id = $1", &[id])
                            .await
                            .map_err(backend)?;
                    }
                    Change::PutCredential(c) => {
                        tx.execute(
                            "INSERT INTO tenant_credentials (id, workspace, doc) VALUES ($1, $2, $3)
                             ON CONFLICT (id) DO UPDATE SET workspace = excluded.workspace, doc = excluded.doc",
                            &[&c.id, &c.workspace, &json(c)?],
                        )
                        .await
                        .map_err(backend)?;
                    }
                    Change::DeleteCredential(id) => {
                        tx.execute("DELETE FROM tenant_credentials WHERE id = $1", &[id])
                            .await
                            .map_err(backend)?;
                    }
                    Change::PutUser(u) => {
                        tx.execute(
                            "INSERT INTO tenant_users (id, email, doc) VALUES ($1, $2, $3)
                             ON CONFLICT (id) DO UPDATE SET email = excluded.email, doc = excluded.doc",
                            &[&u.id, &u.email, &json(u)?],
                        )
                        .await
                        .map_err(|e| pg(e, &format!("a user with email '{}' exists", u.email)))?;
                    }
                    Change::DeleteUser(id) => {
                        tx.execute("DELETE FROM tenant_users WHERE id = $1", &[id])
                            .await
                            .map_err(backend)?;
                    }
                    Change::PutAdminKey(k) => {
                        tx.execute(
                            "INSERT INTO tenant_admin_keys (id, doc) VALUES ($1, $2)
                             ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
                            &[&k.id, &json(k)?],
                        )
                        .await
                        .map_err(backend)?;
                    }
                    Change::DeleteAdminKey(id) => {
                        tx.execute("DELETE FROM tenant_admin_keys WHERE id = $1", &[id])
                            .await
                            .map_err(backend)?;
                    }
                    Change::BlockEndUser {
                        workspace,
                        id,
                        blocked,
                        now_ms,
                    } => {
                        tx.execute(
                            "INSERT INTO tenant_end_users (workspace, id, blocked, first_seen_ms, last_seen_ms)
                             VALUES ($1, $2, $3, $4, $4)
                             ON CONFLICT (workspace, id) DO UPDATE SET blocked = excluded.blocked",
                            &[workspace, id, blocked, now_ms],
                        )
                        .await
                        .map_err(backend)?;
                    }
                    Change::PutLimit(l) => {
                        tx.execute(
                            "INSERT INTO tenant_limits (id, workspace, doc) VALUES ($1, $2, $3)
                             ON CONFLICT (id) DO UPDATE SET workspace = excluded.workspace, doc = excluded.doc",
                            &[&l.id, &l.workspace, &serde_json::to_string(l).map_err(backend)?],
                        )
                        .await
                        .map_err(backend)?;
                    }
                    Change::DeleteLimit(id) => {
                        tx.execute("DELETE FROM tenant_limits WHERE id = $1", &[id])
                            .await
                            .map_err(backend)?;
                    }
                    Change::PutGuardrailPolicy(p) => {
                        tx.execute(
                            "INSERT INTO tenant_guardrail_policies (id, workspace, doc) VALUES ($1, $2, $3)
                             ON CONFLICT (id) DO UPDATE SET workspace = excluded.workspace, doc = excluded.doc",
                            &[&p.id, &p.workspace, &json(p)?],
                        )
                        .await
                        .map_err(backend)?;
                    }
                    Change::DeleteGuardrailPolicy(id) => {
                        tx.execute("DELETE FROM tenant_guardrail_policies WHERE id = $1", &[id])
                            .await
                            .map_err(backend)?;
                    }
                    Change::PutPrompt(p) => {
                        tx.execute(
                            "INSERT INTO tenant_prompts (workspace, id, doc) VALUES ($1, $2, $3)
                             ON CONFLICT (workspace, id) DO UPDATE SET doc = excluded.doc",
                            &[&p.workspace, &p.id, &json(p)?],
                        )
                        .await
                        .map_err(backend)?;
                    }
                    Change::DeletePrompt { workspace, id } => {
                        tx.execute(
                            "DELETE FROM tenant_prompts WHERE workspace = $1 AND id = $2",
                            &[workspace, id],
                        )
                        .await
                        .map_err(backend)?;
                        tx.execute(
                            "DELETE FROM tenant_prompt_versions WHERE workspace = $1 AND id = $2",
                            &[workspace, id],
                        )
                        .await
                        .map_err(backend)?;
                    }
                    Change::AddPromptVersion(v) => {
                        tx.execute(
                            "INSERT INTO tenant_prompt_versions (workspace, id, version, doc) VALUES ($1, $2, $3, $4)",
                            &[&v.workspace, &v.id, &i64::from(v.version), &json(v)?],
                        )
                        .await
                        .map_err(|e| {
                            pg(
                                e,
                                &format!(
                                    "version {} of prompt '{}' was made at the same time; try again",
                                    v.version, v.id
                                ),
                            )
                        })?;
                    }
                    Change::PutPartial(p) => {
                        tx.execute(
                            "INSERT INTO tenant_partials (workspace, name, doc) VALUES ($1, $2, $3)
                             ON CONFLICT (workspace, name) DO UPDATE SET doc = excluded.doc",
                            &[&p.workspace, &p.name, &json(p)?],
                        )
                        .await
                        .map_err(backend)?;
                    }
                    Change::DeletePartial { workspace, name } => {
                        tx.execute(
                            "DELETE FROM tenant_partials WHERE workspace = $1 AND name = $2",
                            &[workspace, name],
                        )
                        .await
                        .map_err(backend)?;
                    }
                    Change::PutExperiment(e) => {
                        tx.execute(
                            "INSERT INTO tenant_experiments (workspace, id, doc) VALUES ($1, $2, $3)
                             ON CONFLICT (workspace, id) DO UPDATE SET doc = excluded.doc",
                            &[&e.workspace, &e.id, &json(e)?],
                        )
                        .await
                        .map_err(backend)?;
                    }
                    Change::DeleteExperiment { workspace, id } => {
                        tx.execute(
                            "DELETE FROM tenant_experiments WHERE workspace = $1 AND id = $2",
                            &[workspace, id],
                        )
                        .await
                        .map_err(backend)?;
                    }
                    Change::DeleteEndUser { workspace, id } => {
                        tx.execute(
                            "DELETE FROM tenant_end_users WHERE workspace = $1 AND id = $2",
                            &[workspace, id],
                        )
                        .await
                        .map_err(backend)?;
                    }
                }
            }
            tx.execute(
                "INSERT INTO tenant_audit (workspace, doc) VALUES ($1, $2)",
                &[&audit.workspace, &json(&audit)?],
            )
            .await
            .map_err(backend)?;
            let row = tx
                .query_one(
                    "UPDATE tenant_version SET version = version + 1 WHERE id = 1 RETURNING version",
                    &[],
                )
                .await
                .map_err(backend)?;
            let v: i64 = row.get(0);
            // Delivered to every listener when the transaction commits.
            tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &v.to_string()])
                .await
                .map_err(backend)?;
            tx.commit().await.map_err(backend)?;
            Ok(u64::try_from(v).unwrap_or(0))
        })
    }

    fn audit(&self, q: AuditQuery) -> BoxFuture<'_, Result<Vec<Logged>, StoreError>> {
        Box::pin(async move {
            let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
            let rows = self
                .client()
                .await?
                .query(
                    "SELECT seq, doc FROM tenant_audit
                     WHERE ($1::TEXT IS NULL OR workspace = $1) AND ($2::BIGINT IS NULL OR seq < $2)
                     ORDER BY seq DESC LIMIT $3",
                    &[&q.workspace, &q.before, &limit],
                )
                .await
                .map_err(backend)?;
            rows.iter()
                .map(|r| {
                    Ok(Logged {
                        seq: r.get(0),
                        event: serde_json::from_str(r.get::<_, &str>(1)).map_err(backend)?,
                    })
                })
                .collect()
        })
    }

    fn last_used(&self) -> BoxFuture<'_, Result<HashMap<String, i64>, StoreError>> {
        Box::pin(async move {
            let rows = self
                .client()
                .await?
                .query("SELECT id, last_used_ms FROM tenant_key_usage", &[])
                .await
                .map_err(backend)?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    fn saw_end_users(
        &self,
        seen: Vec<(String, String, i64)>,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let mut c = self.client().await?;
            let tx = c.transaction().await.map_err(backend)?;
            for (w, id, ms) in &seen {
                tx.execute(
                    "INSERT INTO tenant_end_users (workspace, id, blocked, first_seen_ms, last_seen_ms)
                     VALUES ($1, $2, FALSE, $3, $3)
                     ON CONFLICT (workspace, id) DO UPDATE SET last_seen_ms = GREATEST(tenant_end_users.last_seen_ms, excluded.last_seen_ms)",
                    &[w, id, ms],
                )
                .await
                .map_err(backend)?;
            }
            tx.commit().await.map_err(backend)
        })
    }

    fn end_users(
        &self,
        workspace: String,
        only: Option<String>,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<EndUser>, StoreError>> {
        Box::pin(async move {
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = self
                .client()
                .await?
                .query(
                    "SELECT id, blocked, first_seen_ms, last_seen_ms FROM tenant_end_users
                     WHERE workspace = $1 AND ($3::TEXT IS NULL OR id = $3)
                     ORDER BY last_seen_ms DESC, id LIMIT $2",
                    &[&workspace, &limit, &only],
                )
                .await
                .map_err(backend)?;
            Ok(rows
                .iter()
                .map(|r| EndUser {
                    workspace: workspace.clone(),
                    id: r.get(0),
                    blocked: r.get(1),
                    first_seen_ms: r.get(2),
                    last_seen_ms: r.get(3),
                })
                .collect())
        })
    }

    fn get_doc(
        &self,
        kind: &'static str,
        workspace: String,
        id: String,
    ) -> BoxFuture<'_, Result<Option<serde_json::Value>, StoreError>> {
        Box::pin(async move {
            let rows = self
                .client()
                .await?
                .query(
                    "SELECT doc FROM tenant_docs WHERE kind = $1 AND workspace = $2 AND id = $3",
                    &[&kind, &workspace, &id],
                )
                .await
                .map_err(backend)?;
            match rows.first() {
                Some(r) => serde_json::from_str(r.get::<_, &str>(0))
                    .map(Some)
                    .map_err(backend),
                None => Ok(None),
            }
        })
    }

    fn list_docs(
        &self,
        kind: &'static str,
        workspace: String,
        prefix: String,
    ) -> BoxFuture<'_, Result<Vec<(String, serde_json::Value)>, StoreError>> {
        Box::pin(async move {
            let rows = self
                .client()
                .await?
                .query(
                    "SELECT id, doc FROM tenant_docs WHERE kind = $1 AND workspace = $2
                     AND substr(id, 1, length($3)) = $3 ORDER BY id",
                    &[&kind, &workspace, &prefix],
                )
                .await
                .map_err(backend)?;
            rows.iter()
                .map(|r| {
                    let doc = serde_json::from_str(r.get::<_, &str>(1)).map_err(backend)?;
                    Ok((r.get::<_, String>(0), doc))
                })
                .collect()
        })
    }

    fn put_doc(
        &self,
        kind: &'static str,
        workspace: String,
        id: String,
        doc: serde_json::Value,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            self.client()
                .await?
                .execute(
                    "INSERT INTO tenant_docs (kind, workspace, id, doc) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (kind, workspace, id) DO UPDATE SET doc = excluded.doc",
                    &[&kind, &workspace, &id, &doc.to_string()],
                )
                .await
                .map_err(backend)?;
            Ok(())
        })
    }

    fn delete_docs(
        &self,
        kind: &'static str,
        workspace: String,
        prefix: String,
    ) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            self.client()
                .await?
                .execute(
                    "DELETE FROM tenant_docs WHERE kind = $1 AND workspace = $2
                     AND substr(id, 1, length($3)) = $3",
                    &[&kind, &workspace, &prefix],
                )
                .await
                .map_err(backend)
        })
    }

    fn touch(&self, used: Vec<(String, i64)>) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let mut c = self.client().await?;
            let tx = c.transaction().await.map_err(backend)?;
            for (id, ms) in &used {
                tx.execute(
                    "INSERT INTO tenant_key_usage (id, last_used_ms) VALUES ($1, $2)
                     ON CONFLICT (id) DO UPDATE SET last_used_ms = GREATEST(tenant_key_usage.last_used_ms, excluded.last_used_ms)",
                    &[id, ms],
                )
                .await
                .map_err(backend)?;
            }
            tx.commit().await.map_err(backend)
        })
    }

    fn watch(&self) -> Option<mpsc::Receiver<()>> {
        let (tx, rx) = mpsc::channel(1);
        tokio::spawn(listen(self.url.clone(), tx));
        Some(rx)
    }
}

/// LISTENs on its own connection and signals every notification (reconnecting after a failure,
/// and signalling then too, as notifications may have been missed meanwhile).
async fn listen(url: String, tx: mpsc::Sender<()>) {
    loop {
        match tokio_postgres::connect(&url, NoTls).await {
            Ok((client, mut conn)) => {
                let (note_tx, mut note_rx) = mpsc::unbounded_channel();
                let driver = tokio::spawn(async move {
                    let mut messages =
                        futures_util::stream::poll_fn(move |cx| conn.poll_message(cx));
                    use futures_util::StreamExt;
                    while let Some(m) = messages.next().await {
                        match m {
                            Ok(AsyncMessage::Notification(_)) => {
                                if note_tx.send(()).is_err() {
                                    return;
                                }
                            }
                            Ok(_) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, "tenants: notification connection closed");
                                return;
                            }
                        }
                    }
                });
                if client
                    .batch_execute(&format!("LISTEN {CHANNEL}"))
                    .await
                    .is_ok()
                {
                    let _ = tx.try_send(());
                    while note_rx.recv().await.is_some() {
                        // One pending signal is enough: the refresh reads the latest version.
                        let _ = tx.try_send(());
                    }
                }
                driver.abort();
                if tx.is_closed() {
                    return;
                }
            }
            Err(e) => tracing::warn!(error = %e, "tenants: cannot listen for changes"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
