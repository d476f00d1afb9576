//! The embedded store: one SQLite file (WAL), queries on a blocking thread.

use super::{AuditQuery, BoxFuture, Change, Loaded, Logged, StoreError, TenantStore};
use crate::model::{
    AdminKey, AuditEvent, Credential, EndUser, ExperimentRecord, GuardrailPolicyRecord,
    LimitRecord, PartialRecord, PromptRecord, PromptVersionRecord, User, VirtualKey, Workspace,
};
use rusqlite::{params, Connection};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS tenant_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
INSERT OR IGNORE INTO tenant_version (id, version) VALUES (1, 1);
CREATE TABLE IF NOT EXISTS tenant_workspaces (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tenant_keys (id TEXT PRIMARY KEY, workspace TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tenant_keys_workspace ON tenant_keys (workspace);
CREATE TABLE IF NOT EXISTS tenant_credentials (id TEXT PRIMARY KEY, workspace TEXT, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tenant_users (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tenant_admin_keys (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tenant_limits (id TEXT PRIMARY KEY, workspace TEXT, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tenant_guardrail_policies (id TEXT PRIMARY KEY, workspace TEXT, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tenant_prompts (workspace TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (workspace, id));
CREATE TABLE IF NOT EXISTS tenant_prompt_versions (workspace TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
  doc TEXT NOT NULL, PRIMARY KEY (workspace, id, version));
CREATE TABLE IF NOT EXISTS tenant_partials (workspace TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (workspace, name));
CREATE TABLE IF NOT EXISTS tenant_docs (kind TEXT NOT NULL, workspace TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY (kind, workspace, id));
CREATE TABLE IF NOT EXISTS tenant_experiments (workspace TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (workspace, id));
CREATE TABLE IF NOT EXISTS tenant_end_users (workspace TEXT NOT NULL, id TEXT NOT NULL, blocked INTEGER NOT NULL DEFAULT 0,
  first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL, PRIMARY KEY (workspace, id));
CREATE TABLE IF NOT EXISTS tenant_key_usage (id TEXT PRIMARY KEY, last_used_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tenant_audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, workspace TEXT, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tenant_audit_workspace ON tenant_audit (workspace, seq);
";

#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(backend)
}

fn parse<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(backend)
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn =
            Connection::open(path).map_err(|e| backend(format!("{}: {e}", path.display())))?;
        Self::init(conn)
    }

    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory().map_err(backend)?)
    }

    fn init(conn: Connection) -> Result<Self, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        conn.execute_batch(SCHEMA).map_err(backend)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection on a blocking thread.
    fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> BoxFuture<'_, Result<T, StoreError>> {
        let conn = Arc::clone(&self.conn);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let mut c = conn
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                f(&mut c)
            })
            .await
            .map_err(backend)?
        })
    }
}

fn version(c: &Connection) -> Result<u64, StoreError> {
    let v: i64 = c
        .query_row("SELECT version FROM tenant_version WHERE id = 1", [], |r| {
            r.get(0)
        })
        .map_err(backend)?;
    Ok(u64::try_from(v).unwrap_or(0))
}

fn apply_one(tx: &rusqlite::Transaction<'_>, change: &Change) -> Result<(), StoreError> {
    let conflict = |e: rusqlite::Error, what: String| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(what)
        }
        other => backend(other),
    };
    match change {
        Change::PutWorkspace(w) => {
            tx.execute(
                "INSERT INTO tenant_workspaces (id, name, doc) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, doc = excluded.doc",
                params![w.id, w.name, json(w)?],
            )
            .map_err(|e| conflict(e, format!("a workspace named '{}' exists", w.name)))?;
        }
        Change::DeleteWorkspace(id) => {
            tx.execute("DELETE FROM tenant_workspaces WHERE id = ?1", params![id])
                .map_err(backend)?;
        }
        Change::PutKey(k) => {
            tx.execute(
                "INSERT INTO tenant_keys (id, workspace, doc) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET workspace = excluded.workspace, doc = excluded.doc",
                params![k.id, k.workspace, json(k)?],
            )
            .map_err(backend)?;
        }
        Change::DeleteKey(id) => {
            tx.execute("DELETE FROM tenant_keys WHERE id = ?1", params![id])
                .map_err(backend)?;
            tx.execute("DELETE FROM tenant_key_usage WHERE id = ?1", params![id])
                .map_err(backend)?;
        }
        Change::PutCredential(c) => {
            tx.execute(
                "INSERT INTO tenant_credentials (id, workspace, doc) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET workspace = excluded.workspace, doc = excluded.doc",
                params![c.id, c.workspace, json(c)?],
            )
            .map_err(backend)?;
        }
        Change::DeleteCredential(id) => {
            tx.execute("DELETE FROM tenant_credentials WHERE id = ?1", params![id])
                .map_err(backend)?;
        }
        Change::PutUser(u) => {
            tx.execute(
                "INSERT INTO tenant_users (id, email, doc) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET email = excluded.email, doc = excluded.doc",
                params![u.id, u.email, json(u)?],
            )
            .map_err(|e| conflict(e, format!("a user with email '{}' exists", u.email)))?;
        }
        Change::DeleteUser(id) => {
            tx.execute("DELETE FROM tenant_users WHERE id = ?1", params![id])
                .map_err(backend)?;
        }
        Change::PutAdminKey(k) => {
            tx.execute(
                "INSERT INTO tenant_admin_keys (id, doc) VALUES (?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
                params![k.id, json(k)?],
            )
            .map_err(backend)?;
        }
        Change::DeleteAdminKey(id) => {
            tx.execute("DELETE FROM tenant_admin_keys WHERE id = ?1", params![id])
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
                 VALUES (?1, ?2, ?3, ?4, ?4)
                 ON CONFLICT (workspace, id) DO UPDATE SET blocked = excluded.blocked",
                params![workspace, id, blocked, now_ms],
            )
            .map_err(backend)?;
        }
        Change::DeleteEndUser { workspace, id } => {
            tx.execute(
                "DELETE FROM tenant_end_users WHERE workspace = ?1 AND id = ?2",
                params![workspace, id],
            )
            .map_err(backend)?;
        }
        Change::PutLimit(l) => {
            tx.execute(
                "INSERT INTO tenant_limits (id, workspace, doc) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET workspace = excluded.workspace, doc = excluded.doc",
                params![l.id, l.workspace, json(l)?],
            )
            .map_err(backend)?;
        }
        Change::DeleteLimit(id) => {
            tx.execute("DELETE FROM tenant_limits WHERE id = ?1", params![id])
                .map_err(backend)?;
        }
        Change::PutGuardrailPolicy(p) => {
            tx.execute(
                "INSERT INTO tenant_guardrail_policies (id, workspace, doc) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET workspace = excluded.workspace, doc = excluded.doc",
                params![p.id, p.workspace, json(p)?],
            )
            .map_err(backend)?;
        }
        Change::DeleteGuardrailPolicy(id) => {
            tx.execute(
                "DELETE FROM tenant_guardrail_policies WHERE id = ?1",
                params![id],
            )
            .map_err(backend)?;
        }
        Change::PutPrompt(p) => {
            tx.execute(
                "INSERT INTO tenant_prompts (workspace, id, doc) VALUES (?1, ?2, ?3)
                 ON CONFLICT (workspace, id) DO UPDATE SET doc = excluded.doc",
                params![p.workspace, p.id, json(p)?],
            )
            .map_err(backend)?;
        }
        Change::DeletePrompt { workspace, id } => {
            tx.execute(
                "DELETE FROM tenant_prompts WHERE workspace = ?1 AND id = ?2",
                params![workspace, id],
            )
            .map_err(backend)?;
            tx.execute(
                "DELETE FROM tenant_prompt_versions WHERE workspace = ?1 AND id = ?2",
                params![workspace, id],
            )
            .map_err(backend)?;
        }
        Change::AddPromptVersion(v) => {
            tx.execute(
                "INSERT INTO tenant_prompt_versions (workspace, id, version, doc) VALUES (?1, ?2, ?3, ?4)",
                params![v.workspace, v.id, v.version, json(v)?],
            )
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    StoreError::Conflict(format!(
                        "version {} of prompt '{}' was made at the same time; try again",
                        v.version, v.id
                    ))
                }
                other => backend(other),
            })?;
        }
        Change::PutPartial(p) => {
            tx.execute(
                "INSERT INTO tenant_partials (workspace, name, doc) VALUES (?1, ?2, ?3)
                 ON CONFLICT (workspace, name) DO UPDATE SET doc = excluded.doc",
                params![p.workspace, p.name, json(p)?],
            )
            .map_err(backend)?;
        }
        Change::DeletePartial { workspace, name } => {
            tx.execute(
                "DELETE FROM tenant_partials WHERE workspace = ?1 AND name = ?2",
                params![workspace, name],
            )
            .map_err(backend)?;
        }
        Change::PutExperiment(e) => {
            tx.execute(
                "INSERT INTO tenant_experiments (workspace, id, doc) VALUES (?1, ?2, ?3)
                 ON CONFLICT (workspace, id) DO UPDATE SET doc = excluded.doc",
                params![e.workspace, e.id, json(e)?],
            )
            .map_err(backend)?;
        }
        Change::DeleteExperiment { workspace, id } => {
            tx.execute(
                "DELETE FROM tenant_experiments WHERE workspace = ?1 AND id = ?2",
                params![workspace, id],
            )
            .map_err(backend)?;
        }
    }
    Ok(())
}

impl TenantStore for SqliteStore {
    fn load(&self) -> BoxFuture<'_, Result<Loaded, StoreError>> {
        self.with(|c| {
            let tx = c.transaction().map_err(backend)?;
            let version = version(&tx)?;
            let docs = |sql: &str| -> Result<Vec<String>, StoreError> {
                let mut st = tx.prepare(sql).map_err(backend)?;
                let rows = st
                    .query_map([], |r| r.get::<_, String>(0))
                    .map_err(backend)?;
                rows.collect::<Result<_, _>>().map_err(backend)
            };
            let workspaces = docs("SELECT doc FROM tenant_workspaces")?
                .iter()
                .map(|d| parse::<Workspace>(d))
                .collect::<Result<_, _>>()?;
            let keys = docs("SELECT doc FROM tenant_keys")?
                .iter()
                .map(|d| parse::<VirtualKey>(d))
                .collect::<Result<_, _>>()?;
            let credentials = docs("SELECT doc FROM tenant_credentials")?
                .iter()
                .map(|d| parse::<Credential>(d))
                .collect::<Result<_, _>>()?;
            let users = docs("SELECT doc FROM tenant_users")?
                .iter()
                .map(|d| parse::<User>(d))
                .collect::<Result<_, _>>()?;
            let admin_keys = docs("SELECT doc FROM tenant_admin_keys")?
                .iter()
                .map(|d| parse::<AdminKey>(d))
                .collect::<Result<_, _>>()?;
            let limits = docs("SELECT doc FROM tenant_limits")?
                .iter()
                .map(|d| parse::<LimitRecord>(d))
                .collect::<Result<_, _>>()?;
            let guardrail_policies = docs("SELECT doc FROM tenant_guardrail_policies")?
                .iter()
                .map(|d| parse::<GuardrailPolicyRecord>(d))
                .collect::<Result<_, _>>()?;
            let prompts = docs("SELECT doc FROM tenant_prompts")?
                .iter()
                .map(|d| parse::<PromptRecord>(d))
                .collect::<Result<_, _>>()?;
            let prompt_versions = docs("SELECT doc FROM tenant_prompt_versions")?
                .iter()
                .map(|d| parse::<PromptVersionRecord>(d))
                .collect::<Result<_, _>>()?;
            let partials = docs("SELECT doc FROM tenant_partials")?
                .iter()
                .map(|d| parse::<PartialRecord>(d))
                .collect::<Result<_, _>>()?;
            let experiments = docs("SELECT doc FROM tenant_experiments")?
                .iter()
                .map(|d| parse::<ExperimentRecord>(d))
                .collect::<Result<_, _>>()?;
            let blocked = {
                let mut st = tx
                    .prepare("SELECT workspace, id FROM tenant_end_users WHERE blocked = 1")
                    .map_err(backend)?;
                let rows = st
                    .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                    .map_err(backend)?;
                rows.collect::<Result<Vec<_>, _>>().map_err(backend)?
            };
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
        self.with(|c| version(c))
    }

    fn apply(
        &self,
        changes: Vec<Change>,
        audit: AuditEvent,
    ) -> BoxFuture<'_, Result<u64, StoreError>> {
        self.with(move |c| {
            let tx = c.transaction().map_err(backend)?;
            for ch in &changes {
                apply_one(&tx, ch)?;
            }
            tx.execute(
                "INSERT INTO tenant_audit (workspace, doc) VALUES (?1, ?2)",
                params![audit.workspace, json(&audit)?],
            )
            .map_err(backend)?;
            tx.execute(
                "UPDATE tenant_version SET version = version + 1 WHERE id = 1",
                [],
            )
            .map_err(backend)?;
            let v = version(&tx)?;
            tx.commit().map_err(backend)?;
            Ok(v)
        })
    }

    fn audit(&self, q: AuditQuery) -> BoxFuture<'_, Result<Vec<Logged>, StoreError>> {
        self.with(move |c| {
            let mut st = c
                .prepare(
                    "SELECT seq, doc FROM tenant_audit
                     WHERE (?1 IS NULL OR workspace = ?1) AND (?2 IS NULL OR seq < ?2)
                     ORDER BY seq DESC LIMIT ?3",
                )
                .map_err(backend)?;
            let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
            let rows = st
                .query_map(params![q.workspace, q.before, limit], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
                })
                .map_err(backend)?;
            let mut out = Vec::new();
            for row in rows {
                let (seq, doc) = row.map_err(backend)?;
                out.push(Logged {
                    seq,
                    event: parse(&doc)?,
                });
            }
            Ok(out)
        })
    }

    fn last_used(&self) -> BoxFuture<'_, Result<HashMap<String, i64>, StoreError>> {
        self.with(|c| {
            let mut st = c
                .prepare("SELECT id, last_used_ms FROM tenant_key_usage")
                .map_err(backend)?;
            let rows = st
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                .map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)
        })
    }

    fn saw_end_users(
        &self,
        seen: Vec<(String, String, i64)>,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        self.with(move |c| {
            let tx = c.transaction().map_err(backend)?;
            for (w, id, ms) in &seen {
                tx.execute(
                    "INSERT INTO tenant_end_users (workspace, id, blocked, first_seen_ms, last_seen_ms)
                     VALUES (?1, ?2, 0, ?3, ?3)
                     ON CONFLICT (workspace, id) DO UPDATE SET last_seen_ms = max(last_seen_ms, excluded.last_seen_ms)",
                    params![w, id, ms],
                )
                .map_err(backend)?;
            }
            tx.commit().map_err(backend)
        })
    }

    fn end_users(
        &self,
        workspace: String,
        only: Option<String>,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<EndUser>, StoreError>> {
        self.with(move |c| {
            let mut st = c
                .prepare(
                    "SELECT id, blocked, first_seen_ms, last_seen_ms FROM tenant_end_users
                     WHERE workspace = ?1 AND (?3 IS NULL OR id = ?3)
                     ORDER BY last_seen_ms DESC, id LIMIT ?2",
                )
                .map_err(backend)?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = st
                .query_map(params![workspace, limit, only], |r| {
                    Ok(EndUser {
                        workspace: workspace.clone(),
                        id: r.get(0)?,
                        blocked: r.get(1)?,
                        first_seen_ms: r.get(2)?,
                        last_seen_ms: r.get(3)?,
                    })
                })
                .map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)
        })
    }

    fn get_doc(
        &self,
        kind: &'static str,
        workspace: String,
        id: String,
    ) -> BoxFuture<'_, Result<Option<serde_json::Value>, StoreError>> {
        self.with(move |c| {
            let mut st = c
                .prepare(
                    "SELECT doc FROM tenant_docs WHERE kind = ?1 AND workspace = ?2 AND id = ?3",
                )
                .map_err(backend)?;
            let mut rows = st
                .query_map(params![kind, workspace, id], |r| r.get::<_, String>(0))
                .map_err(backend)?;
            match rows.next() {
                Some(d) => Ok(Some(parse(&d.map_err(backend)?)?)),
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
        self.with(move |c| {
            let mut st = c
                .prepare(
                    "SELECT id, doc FROM tenant_docs WHERE kind = ?1 AND workspace = ?2
                     AND substr(id, 1, length(?3)) = ?3 ORDER BY id",
                )
                .map_err(backend)?;
            let rows = st
                .query_map(params![kind, workspace, prefix], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .map_err(backend)?;
            let mut out = Vec::new();
            for row in rows {
                let (id, d) = row.map_err(backend)?;
                out.push((id, parse(&d)?));
            }
            Ok(out)
        })
    }

    fn put_doc(
        &self,
        kind: &'static str,
        workspace: String,
        id: String,
        doc: serde_json::Value,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        self.with(move |c| {
            c.execute(
                "INSERT INTO tenant_docs (kind, workspace, id, doc) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (kind, workspace, id) DO UPDATE SET doc = excluded.doc",
                params![kind, workspace, id, doc.to_string()],
            )
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
        self.with(move |c| {
            let n = c
                .execute(
                    "DELETE FROM tenant_docs WHERE kind = ?1 AND workspace = ?2
                     AND substr(id, 1, length(?3)) = ?3",
                    params![kind, workspace, prefix],
                )
                .map_err(backend)?;
            Ok(n as u64)
        })
    }

    fn touch(&self, used: Vec<(String, i64)>) -> BoxFuture<'_, Result<(), StoreError>> {
        self.with(move |c| {
            let tx = c.transaction().map_err(backend)?;
            for (id, ms) in &used {
                tx.execute(
                    "INSERT INTO tenant_key_usage (id, last_used_ms) VALUES (?1, ?2)
                     ON CONFLICT (id) DO UPDATE SET last_used_ms = max(last_used_ms, excluded.last_used_ms)",
                    params![id, ms],
                )
                .map_err(backend)?;
            }
            tx.commit().map_err(backend)
        })
    }
}
