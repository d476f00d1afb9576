//! The tenant model on both stores, the real SQLite and the local PostgreSQL (127.0.0.1:5432,
//! database `test`, user `root`; each test in a schema of its own): the same operations give the
//! same results, and two instances sharing PostgreSQL see each other's changes within a second.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Map;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard_tenants::admin::{Actor, NewKey, NewWorkspace};
use switchyard_tenants::model::GuardrailAttach;
use switchyard_tenants::store::postgres::PostgresStore;
use switchyard_tenants::store::sqlite::SqliteStore;
use switchyard_tenants::store::{AuditQuery, TenantStore};
use switchyard_tenants::{Refusal, Tenants};

const PG: &str = "postgres://root@127.0.0.1:5432/test";
const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

/// A fresh schema's URL.
async fn pg_url() -> String {
    let (client, conn) = tokio_postgres::connect(PG, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let schema = format!("tenants_{:016x}", fastrand::u64(..));
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    format!("{PG}?options=-csearch_path%3D{schema}")
}

fn actor() -> Actor {
    Actor {
        name: "test".into(),
        ..Actor::default()
    }
}

fn key_input(name: &str) -> NewKey {
    NewKey {
        name: name.into(),
        models: vec![],
        metadata: Map::new(),
        tags: vec![],
        expires_ms: None,
    }
}

async fn exercise(store: Arc<dyn TenantStore>) {
    let t = Tenants::open(Arc::clone(&store), SECRET, None)
        .await
        .unwrap();
    t.ensure_default_workspace().await.unwrap();
    let w = t
        .create_workspace(
            &actor(),
            NewWorkspace {
                name: "team-a".into(),
                metadata: Map::new(),
            },
        )
        .await
        .unwrap();
    let dup = t
        .create_workspace(
            &actor(),
            NewWorkspace {
                name: "team-a".into(),
                metadata: Map::new(),
            },
        )
        .await;
    assert!(dup.is_err());
    let (k, secret) = t
        .create_key(&actor(), &w.id, key_input("ci"))
        .await
        .unwrap();
    assert!(t.authenticate(&secret).unwrap().is_ok());
    // A second instance over the same store loads the same state.
    let again = Tenants::open(Arc::clone(&store), SECRET, None)
        .await
        .unwrap();
    assert_eq!(again.authenticate(&secret).unwrap().unwrap().key_name, "ci");
    let events = t
        .audit_events(AuditQuery {
            limit: 10,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.event.action.as_str()).collect();
    assert_eq!(
        actions,
        ["key.create", "workspace.create", "workspace.create"]
    );
    // Pages by cursor, and by workspace.
    let page = t
        .audit_events(AuditQuery {
            limit: 1,
            before: Some(events[0].seq),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(page[0].seq, events[1].seq);
    let mine = t
        .audit_events(AuditQuery {
            workspace: Some(w.id.clone()),
            limit: 10,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(mine.len(), 2);
    store
        .touch(vec![(k.id.clone(), 5), (k.id.clone(), 3)])
        .await
        .unwrap();
    store.touch(vec![(k.id.clone(), 4)]).await.unwrap();
    assert_eq!(store.last_used().await.unwrap().get(&k.id), Some(&5));
    t.delete_key(&actor(), &k.id).await.unwrap();
    assert_eq!(t.authenticate(&secret), Some(Err(Refusal::Unknown)));

    // End users: seen, made ahead, blocked, read one, forgotten.
    store
        .saw_end_users(vec![(w.id.clone(), "seen-1".into(), 10)])
        .await
        .unwrap();
    let made = t
        .create_end_user(&actor(), &w.id, "ahead-1", true)
        .await
        .unwrap();
    assert!(made.blocked);
    assert!(t
        .create_end_user(&actor(), &w.id, "ahead-1", false)
        .await
        .is_err());
    assert!(t.snapshot().blocks(&w.id, "ahead-1"));
    let one = t.find_end_user(&w.id, "seen-1").await.unwrap();
    assert_eq!((one.blocked, one.last_seen_ms), (false, 10));
    assert_eq!(t.end_users(&w.id, 10).await.unwrap().len(), 2);
    t.delete_end_user(&actor(), &w.id, "ahead-1").await.unwrap();
    assert!(!t.snapshot().blocks(&w.id, "ahead-1"));
    assert!(t.find_end_user(&w.id, "ahead-1").await.is_err());
    assert_eq!(t.end_users(&w.id, 10).await.unwrap().len(), 1);

    // Limits set through the API: stored, seen by another instance, changed, removed.
    let spec =
        serde_json::json!({"id": "rpm", "scope": "org", "dimension": "requests", "amount": 5});
    t.create_limit(&actor(), "rpm", None, spec.clone())
        .await
        .unwrap();
    assert!(t.create_limit(&actor(), "rpm", None, spec).await.is_err());
    let other = Tenants::open(Arc::clone(&store), SECRET, None)
        .await
        .unwrap();
    assert_eq!(other.snapshot().limit("rpm").unwrap().spec["amount"], 5);
    let changed =
        serde_json::json!({"id": "rpm", "scope": "org", "dimension": "requests", "amount": 7});
    t.update_limit(&actor(), "rpm", Some(w.id.clone()), changed)
        .await
        .unwrap();
    let again = Tenants::open(Arc::clone(&store), SECRET, None)
        .await
        .unwrap();
    let rec = again.snapshot().limit("rpm").cloned().unwrap();
    assert_eq!(
        (rec.spec["amount"].as_i64(), rec.workspace),
        (Some(7), Some(w.id.clone()))
    );
    t.delete_limit(&actor(), "rpm").await.unwrap();
    assert!(t.snapshot().limit("rpm").is_none());

    // Guardrail policies set through the API: stored with their attachments, seen by another
    // instance, changed (owner too), removed; each change audited.
    let doc = serde_json::json!({"id": "no-falcon", "action": "deny",
        "checks": [{"check": "contains", "words": ["falcon"]}]});
    let attach = GuardrailAttach {
        org: true,
        keys: vec!["ci".into()],
        routes: vec![],
    };
    let made = t
        .create_guardrail_policy(&actor(), "no-falcon", None, doc.clone(), attach.clone())
        .await
        .unwrap();
    assert_eq!(made.public()["source"], "api");
    assert!(t
        .create_guardrail_policy(&actor(), "no-falcon", None, doc, GuardrailAttach::default())
        .await
        .is_err());
    let other = Tenants::open(Arc::clone(&store), SECRET, None)
        .await
        .unwrap();
    let seen = other
        .snapshot()
        .guardrail_policy("no-falcon")
        .cloned()
        .unwrap();
    assert_eq!(
        (seen.doc["action"].as_str(), &seen.attach),
        (Some("deny"), &attach)
    );
    let changed = serde_json::json!({"id": "no-falcon", "action": "flag",
        "checks": [{"check": "contains", "words": ["falcon", "osprey"]}]});
    let narrowed = GuardrailAttach {
        routes: vec!["support".into()],
        ..GuardrailAttach::default()
    };
    t.update_guardrail_policy(
        &actor(),
        "no-falcon",
        Some(w.id.clone()),
        changed,
        narrowed.clone(),
    )
    .await
    .unwrap();
    assert!(t
        .update_guardrail_policy(
            &actor(),
            "nope",
            None,
            serde_json::json!({}),
            GuardrailAttach::default()
        )
        .await
        .is_err());
    let again = Tenants::open(Arc::clone(&store), SECRET, None)
        .await
        .unwrap();
    let rec = again
        .snapshot()
        .guardrail_policy("no-falcon")
        .cloned()
        .unwrap();
    assert_eq!(
        (
            rec.doc["action"].as_str(),
            rec.workspace.as_deref(),
            &rec.attach
        ),
        (Some("flag"), Some(w.id.as_str()), &narrowed)
    );
    assert_eq!(rec.created_ms, made.created_ms);
    assert_eq!(again.snapshot().guardrail_policies().count(), 1);
    t.delete_guardrail_policy(&actor(), "no-falcon")
        .await
        .unwrap();
    assert!(t.snapshot().guardrail_policy("no-falcon").is_none());
    assert!(t
        .delete_guardrail_policy(&actor(), "no-falcon")
        .await
        .is_err());
    let events = t
        .audit_events(AuditQuery {
            limit: 3,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let actions: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.event.action.as_str(), e.event.target.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("guardrail_policy.delete", "guardrail_policy:no-falcon"),
            ("guardrail_policy.update", "guardrail_policy:no-falcon"),
            ("guardrail_policy.create", "guardrail_policy:no-falcon"),
        ]
    );
    assert_eq!(events[0].event.workspace.as_deref(), Some(w.id.as_str()));

    // Prompts, their versions (a version number taken twice is a conflict) and documents kept
    // outside the snapshot.
    use switchyard_tenants::model::{PromptRecord, PromptVersionRecord};
    use switchyard_tenants::store::Change;
    let version = |n: u32| {
        Change::AddPromptVersion(PromptVersionRecord {
            workspace: "default".into(),
            id: "greet".into(),
            version: n,
            doc: serde_json::json!({"version": n}),
        })
    };
    let prompt = Change::PutPrompt(PromptRecord {
        workspace: "default".into(),
        id: "greet".into(),
        doc: serde_json::json!({"id": "greet"}),
    });
    t.change_prompts(
        &actor(),
        "prompt.create",
        "prompt:greet".into(),
        "default",
        None,
        None,
        vec![prompt, version(1)],
    )
    .await
    .unwrap();
    let again = t
        .change_prompts(
            &actor(),
            "prompt.version.create",
            "prompt:greet".into(),
            "default",
            None,
            None,
            vec![version(1)],
        )
        .await;
    assert!(
        matches!(
            again,
            Err(switchyard_tenants::admin::AdminError::Conflict(_))
        ),
        "{again:?}"
    );
    let snap = t.snapshot();
    assert_eq!(snap.prompts().versions_of("default", "greet").count(), 1);
    let docs = t.docs();
    docs.put_doc(
        "run",
        "default".into(),
        "r1".into(),
        serde_json::json!({"n": 1}),
    )
    .await
    .unwrap();
    docs.put_doc(
        "run",
        "default".into(),
        "r1/row-1".into(),
        serde_json::json!({"n": 2}),
    )
    .await
    .unwrap();
    docs.put_doc(
        "run",
        "default".into(),
        "r2".into(),
        serde_json::json!({"n": 3}),
    )
    .await
    .unwrap();
    docs.put_doc(
        "run",
        "default".into(),
        "r1".into(),
        serde_json::json!({"n": 4}),
    )
    .await
    .unwrap();
    assert_eq!(
        docs.get_doc("run", "default".into(), "r1".into())
            .await
            .unwrap(),
        Some(serde_json::json!({"n": 4}))
    );
    let listed: Vec<String> = docs
        .list_docs("run", "default".into(), "r1".into())
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(listed, vec!["r1", "r1/row-1"]);
    assert_eq!(
        docs.delete_docs("run", "default".into(), "r1".into())
            .await
            .unwrap(),
        2
    );
    assert!(docs
        .get_doc("run", "default".into(), "r1".into())
        .await
        .unwrap()
        .is_none());
    assert!(docs
        .get_doc("dataset", "default".into(), "r2".into())
        .await
        .unwrap()
        .is_none());
}

/// A database made before guardrail policies could be stored opens, keeps its data and gains
/// the table.
#[tokio::test]
async fn an_older_sqlite_database_gains_the_guardrail_policies_table() {
    let path = std::env::temp_dir().join(format!("sy-tenants-{:016x}.db", fastrand::u64(..)));
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE tenant_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
             INSERT INTO tenant_version (id, version) VALUES (1, 7);
             CREATE TABLE tenant_limits (id TEXT PRIMARY KEY, workspace TEXT, doc TEXT NOT NULL);
             INSERT INTO tenant_limits VALUES ('rpm', NULL, '{\"id\":\"rpm\",\"workspace\":null,\"spec\":{},\"created_ms\":1,\"updated_ms\":1}');",
        )
        .unwrap();
    }
    let t = Tenants::open(Arc::new(SqliteStore::open(&path).unwrap()), SECRET, None)
        .await
        .unwrap();
    assert_eq!(t.snapshot().version, 7);
    assert!(t.snapshot().limit("rpm").is_some());
    assert_eq!(t.snapshot().guardrail_policies().count(), 0);
    t.create_guardrail_policy(
        &actor(),
        "p",
        None,
        serde_json::json!({"id": "p"}),
        GuardrailAttach::default(),
    )
    .await
    .unwrap();
    assert!(t.snapshot().guardrail_policy("p").is_some());
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn sqlite_store() {
    let path = std::env::temp_dir().join(format!("sy-tenants-{:016x}.db", fastrand::u64(..)));
    exercise(Arc::new(SqliteStore::open(&path).unwrap())).await;
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn postgres_store() {
    exercise(Arc::new(
        PostgresStore::open(&pg_url().await).await.unwrap(),
    ))
    .await;
}

/// Two replicas sharing PostgreSQL: a key made through one is accepted by the other within a
/// second, and a deleted key refused by both within a second (NOTIFY, with the version check
/// behind it).
#[tokio::test]
async fn replicas_sharing_postgres_see_changes_within_a_second() {
    let url = pg_url().await;
    let a = Tenants::open(
        Arc::new(PostgresStore::open(&url).await.unwrap()),
        SECRET,
        None,
    )
    .await
    .unwrap();
    let b = Tenants::open(
        Arc::new(PostgresStore::open(&url).await.unwrap()),
        SECRET,
        None,
    )
    .await
    .unwrap();
    a.ensure_default_workspace().await.unwrap();
    // A long periodic check: what arrives within a second arrives by notification.
    a.spawn_background(Duration::from_secs(60));
    b.spawn_background(Duration::from_secs(60));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (k, secret) = a
        .create_key(&actor(), "default", key_input("shared"))
        .await
        .unwrap();
    let seen = |t: &Arc<Tenants>, want_ok: bool| {
        let t = Arc::clone(t);
        let secret = secret.clone();
        async move {
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(1) {
                if t.authenticate(&secret).is_some_and(|r| r.is_ok()) == want_ok {
                    return start.elapsed();
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            panic!("not seen within a second (want ok: {want_ok})");
        }
    };
    seen(&b, true).await;
    a.delete_key(&actor(), &k.id).await.unwrap();
    seen(&a, false).await;
    seen(&b, false).await;
    // A guardrail policy set through one replica reaches the other within a second too.
    a.create_guardrail_policy(
        &actor(),
        "shared-policy",
        None,
        serde_json::json!({"id": "shared-policy", "checks": [{"check": "contains", "words": ["x"]}]}),
        GuardrailAttach {
            org: true,
            ..GuardrailAttach::default()
        },
    )
    .await
    .unwrap();
    let start = Instant::now();
    while b.snapshot().guardrail_policy("shared-policy").is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "the policy did not reach the other replica within a second"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
