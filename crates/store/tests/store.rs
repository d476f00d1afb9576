//! One suite run against both stores: the SQLite file and the local PostgreSQL (each test in a
//! schema of its own, dropped at the end).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use std::path::PathBuf;
use switchyard_store::{
    record_id, Attempt, Cursor, Feedback, Filter, GroupBy, Record, StatusFilter, Store,
};

const PG: &str = "postgres://root@127.0.0.1:5432/test";

fn temp_db() -> PathBuf {
    std::env::temp_dir().join(format!("switchyard-store-{:016x}.db", fastrand_u64()))
}

fn fastrand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.finish()
}

async fn pg_schema() -> (String, String) {
    let schema = format!("sy_test_{:016x}", fastrand_u64());
    let (client, conn) = tokio_postgres::connect(PG, tokio_postgres::NoTls)
        .await
        .expect("the local PostgreSQL at 127.0.0.1:5432 (database test) is running");
    tokio::spawn(conn);
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let url = format!("{PG}?options=-csearch_path%3D{schema}");
    (schema, url)
}

async fn drop_schema(schema: &str) {
    let (client, conn) = tokio_postgres::connect(PG, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}

fn rec(i: i64, model: &str, provider: &str, status: u16) -> Record {
    let mut metadata = serde_json::Map::new();
    metadata.insert(
        "team".into(),
        json!(if i % 2 == 0 { "search" } else { "chat" }),
    );
    metadata.insert("tier".into(), json!(i % 3));
    metadata.insert("beta".into(), json!(i % 4 == 0));
    Record {
        id: record_id(1_700_000_000_000 + i * 1_000, 0xabc + i as u128),
        request_id: format!("req-{i}"),
        trace_id: format!("{:032x}", 500 + i / 2),
        span_id: format!("{:016x}", i + 1),
        parent_span_id: None,
        ts_ms: 1_700_000_000_000 + i * 1_000,
        end_ms: 1_700_000_000_000 + i * 1_000 + 50,
        operation: "chat.completions".into(),
        caller: Some(if i < 5 { "alice" } else { "bob" }.into()),
        route: None,
        requested_model: Some(model.into()),
        provider: Some(provider.into()),
        model: Some(model.into()),
        stream: i % 2 == 1,
        status,
        outcome: if status < 400 { "ok" } else { "error" }.into(),
        input_tokens: Some(100 + i),
        output_tokens: Some(10),
        cached_tokens: Some(5),
        cache_write_tokens: Some(0),
        reasoning_tokens: Some(2),
        cost_usd: Some(0.25),
        latency_ms: (i + 1) as f64 * 10.0,
        ttft_ms: (i % 2 == 1).then_some(5.0),
        upstream_ms: Some(40.0),
        // 2 was answered from the cache, 6 by a semantic match.
        cache: match i {
            2 => Some("hit".into()),
            6 => Some("semantic-hit".into()),
            _ => Some("miss".into()),
        },
        metadata,
        attempts: vec![Attempt {
            provider: provider.into(),
            model: model.into(),
            status: Some(status),
            outcome: "ok".into(),
            latency_ms: 40.0,
            dropped: Vec::new(),
        }],
        error: (status >= 400).then(|| "upstream said no".into()),
        request_body: Some("{\"model\":\"m\"}".into()),
        response_body: None,
        workspace: Some(if i < 5 { "ws-a" } else { "ws-b" }.into()),
        key_id: Some(format!("key{}", i % 2)),
        end_user: (i % 3 == 0).then(|| format!("user{i}")),
        unpriced: i == 4,
        guardrails: (i == 5)
            .then(|| json!([{"policy": "no-pii", "check": "email", "fired": true}])),
        cache_similarity: (i == 6).then_some(0.97),
        cache_saved_usd: match i {
            2 => Some(0.125),
            6 => Some(0.5),
            _ => None,
        },
        prompt: (i == 3).then(|| json!({"id": "greet", "version": 2})),
        own_request_id: false,
        own_trace_id: false,
    }
}

/// Ten records: 0..=9, gpt-a at openai for even, claude-b at anthropic for odd; 7 and 9 are 5xx,
/// 8 is a 429.
fn fixture() -> Vec<Record> {
    (0..10)
        .map(|i| {
            let status = match i {
                7 | 9 => 503,
                8 => 429,
                _ => 200,
            };
            if i % 2 == 0 {
                rec(i, "gpt-a", "openai", status)
            } else {
                rec(i, "claude-b", "anthropic", status)
            }
        })
        .collect()
}

fn ids(p: &[Record]) -> Vec<String> {
    p.iter().map(|r| r.request_id.clone()).collect()
}

async fn suite(store: &Store) {
    let all = fixture();
    store.insert(all[..6].to_vec().into()).await.unwrap();
    store.insert(all[6..].to_vec().into()).await.unwrap();

    // Round trip of every field.
    let got = store.get(&all[3].id).await.unwrap().unwrap();
    assert_eq!(got, all[3]);
    let by_request = store.get("req-4").await.unwrap().unwrap();
    assert_eq!(by_request.id, all[4].id);
    assert!(store.get("nope").await.unwrap().is_none());

    // Newest first, with cursor pagination covering everything once.
    let mut seen = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let page = store
            .list(&Filter::default(), cursor.as_ref(), 4)
            .await
            .unwrap();
        seen.extend(ids(&page.data));
        match page.next_cursor {
            Some(c) => cursor = Some(Cursor::decode(&c).unwrap()),
            None => break,
        }
    }
    let expected: Vec<String> = (0..10).rev().map(|i| format!("req-{i}")).collect();
    assert_eq!(seen, expected);

    let list = |f: Filter| async move { ids(&store.list(&f, None, 100).await.unwrap().data) };
    let base = 1_700_000_000_000;
    assert_eq!(
        list(Filter {
            from_ms: Some(base + 2_000),
            to_ms: Some(base + 5_000),
            ..Filter::default()
        })
        .await,
        vec!["req-4", "req-3", "req-2"]
    );
    assert_eq!(
        list(Filter {
            model: Some("claude-b".into()),
            status: Some(StatusFilter::Class(5)),
            ..Filter::default()
        })
        .await,
        vec!["req-9", "req-7"]
    );
    assert_eq!(
        list(Filter {
            cache: Some("hit".into()),
            ..Filter::default()
        })
        .await,
        vec!["req-2"]
    );
    assert_eq!(
        list(Filter {
            provider: Some("openai".into()),
            status: Some(StatusFilter::Exact(429)),
            ..Filter::default()
        })
        .await,
        vec!["req-8"]
    );
    assert_eq!(
        list(Filter {
            caller: Some("alice".into()),
            metadata: vec![("team".into(), "chat".into())],
            ..Filter::default()
        })
        .await,
        vec!["req-3", "req-1"]
    );
    // The caller's workspace, key and end user.
    assert_eq!(
        list(Filter {
            workspace: Some("ws-b".into()),
            key_id: Some("key1".into()),
            ..Filter::default()
        })
        .await,
        vec!["req-9", "req-7", "req-5"]
    );
    assert_eq!(
        list(Filter {
            end_user: Some("user6".into()),
            ..Filter::default()
        })
        .await,
        vec!["req-6"]
    );
    // Records whose model had no price.
    assert_eq!(
        list(Filter {
            unpriced: Some(true),
            ..Filter::default()
        })
        .await,
        vec!["req-4"]
    );
    assert_eq!(
        list(Filter {
            unpriced: Some(false),
            provider: Some("openai".into()),
            ..Filter::default()
        })
        .await,
        vec!["req-8", "req-6", "req-2", "req-0"]
    );
    // Numbers in metadata compare as their text.
    assert_eq!(
        list(Filter {
            metadata: vec![("tier".into(), "2".into())],
            ..Filter::default()
        })
        .await,
        vec!["req-8", "req-5", "req-2"]
    );
    // So do booleans, alike in both stores.
    assert_eq!(
        list(Filter {
            metadata: vec![("beta".into(), "true".into())],
            ..Filter::default()
        })
        .await,
        vec!["req-8", "req-4", "req-0"]
    );
    assert_eq!(
        list(Filter {
            trace_id: Some(all[6].trace_id.clone()),
            ..Filter::default()
        })
        .await,
        vec!["req-7", "req-6"]
    );

    // Analytics by model over the whole range, and by a metadata key in 5-second buckets.
    let a = store
        .analytics(&Filter::default(), &GroupBy::Model, 0, false)
        .await
        .unwrap();
    assert!(!a.truncated);
    assert_eq!(a.data.len(), 2);
    let claude = &a.data[0];
    assert_eq!(claude.key.as_deref(), Some("claude-b"));
    assert_eq!((claude.requests, claude.errors), (5, 2));
    assert_eq!(claude.input_tokens, 101 + 103 + 105 + 107 + 109);
    assert!((claude.cost_usd - 1.25).abs() < 1e-9);
    // Latencies 20, 40, 60, 80, 100.
    assert_eq!(claude.latency_ms.p50, Some(60.0));
    assert_eq!(claude.latency_ms.p99, Some(100.0));
    assert_eq!(claude.ttft_ms.p50, Some(5.0));
    assert_eq!(a.data[1].ttft_ms.p50, None);
    // gpt-a: 2 and 6 of five answered from the cache, saving 0.125 + 0.5.
    let gpt = &a.data[1];
    assert_eq!((gpt.cache_hits, gpt.cache_hit_rate), (2, Some(0.4)));
    assert!((gpt.cache_saved_usd - 0.625).abs() < 1e-9);
    assert_eq!((claude.cache_hits, claude.cache_saved_usd), (0, 0.0));
    // By the caller's workspace: five records each.
    let by_ws = store
        .analytics(&Filter::default(), &GroupBy::Workspace, 0, false)
        .await
        .unwrap();
    let mut groups: Vec<(Option<String>, u64)> = by_ws
        .data
        .iter()
        .map(|g| (g.key.clone(), g.requests))
        .collect();
    groups.sort();
    assert_eq!(
        groups,
        [(Some("ws-a".to_owned()), 5), (Some("ws-b".to_owned()), 5)]
    );
    let by_team = store
        .analytics(
            &Filter::default(),
            &GroupBy::Metadata("team".into()),
            5_000,
            false,
        )
        .await
        .unwrap();
    let shape: Vec<(Option<String>, Option<i64>, u64)> = by_team
        .data
        .iter()
        .map(|b| (b.key.clone(), b.start_ms, b.requests))
        .collect();
    assert_eq!(
        shape,
        vec![
            (Some("chat".into()), Some(base), 2),
            (Some("chat".into()), Some(base + 5_000), 3),
            (Some("search".into()), Some(base), 3),
            (Some("search".into()), Some(base + 5_000), 2),
        ]
    );
    let by_beta = store
        .analytics(
            &Filter::default(),
            &GroupBy::Metadata("beta".into()),
            0,
            false,
        )
        .await
        .unwrap();
    let shape: Vec<(Option<&str>, u64)> = by_beta
        .data
        .iter()
        .map(|b| (b.key.as_deref(), b.requests))
        .collect();
    assert_eq!(shape, vec![(Some("false"), 7), (Some("true"), 3)]);

    // Feedback by request id and by trace id.
    let mut meta = serde_json::Map::new();
    meta.insert("label".into(), json!("helpful"));
    store
        .add_feedback(Feedback {
            id: "f1".into(),
            ts_ms: base + 20_000,
            request_id: Some("req-3".into()),
            trace_id: None,
            score: Some(0.9),
            metadata: meta.clone(),
            caller: Some("alice".into()),
        })
        .await
        .unwrap();
    store
        .add_feedback(Feedback {
            id: "f2".into(),
            ts_ms: base + 21_000,
            request_id: None,
            trace_id: Some(all[3].trace_id.clone()),
            score: Some(-1.0),
            metadata: serde_json::Map::new(),
            caller: None,
        })
        .await
        .unwrap();
    let fb = store.feedback("req-3", &all[3].trace_id).await.unwrap();
    assert_eq!(fb.len(), 2);
    assert_eq!(fb[0].metadata, meta);
    assert_eq!(fb[1].score, Some(-1.0));

    // Retention.
    assert_eq!(store.delete_before(base + 4_000).await.unwrap(), 4);
    assert_eq!(list(Filter::default()).await.len(), 6);
}

/// Ids the gateway made are found through the batches around their time, ids from callers
/// through their key rows; both by filter and by `get`.
async fn own_and_foreign_ids(store: &Store) {
    let ts = 1_700_000_100_000;
    let own_trace = record_id(ts, 0x77);
    let own_request = record_id(ts, 0x88);
    let mut own = rec(100, "gpt-a", "openai", 200);
    own.id = record_id(ts + 1, 1);
    own.ts_ms = ts + 1;
    own.trace_id = own_trace.clone();
    own.request_id = own_request.clone();
    own.own_trace_id = true;
    own.own_request_id = true;
    let mut foreign = rec(101, "gpt-a", "openai", 200);
    foreign.id = record_id(ts + 2, 2);
    foreign.ts_ms = ts + 2;
    foreign.trace_id = "caller-trace-1".into();
    foreign.request_id = "caller-request-1".into();
    store
        .insert(vec![own.clone(), foreign.clone()].into())
        .await
        .unwrap();
    let by_trace = |t: &str| Filter {
        trace_id: Some(t.to_owned()),
        ..Filter::default()
    };
    let by_request = |r: &str| Filter {
        request_id: Some(r.to_owned()),
        ..Filter::default()
    };
    for (f, want) in [
        (by_trace(&own_trace), &own.id),
        (by_trace("caller-trace-1"), &foreign.id),
        (by_request(&own_request), &own.id),
        (by_request("caller-request-1"), &foreign.id),
    ] {
        let page = store.list(&f, None, 10).await.unwrap();
        let ids: Vec<&String> = page.data.iter().map(|r| &r.id).collect();
        assert_eq!(ids, vec![want], "{f:?}");
    }
    assert_eq!(store.get(&own_request).await.unwrap().unwrap().id, own.id);
    assert_eq!(
        store.get("caller-request-1").await.unwrap().unwrap().id,
        foreign.id
    );
    assert!(store.get(&record_id(ts, 0x99)).await.unwrap().is_none());
}

/// Records at openai with status 200 and not streamed, counted through the `requests` view.
const VIEW_COUNT: &str =
    "SELECT COUNT(*) FROM requests WHERE provider = 'openai' AND status = 200 \
     AND NOT stream AND attempts -> 0 IS NOT NULL AND latency_ms > 0";

/// The view's guardrails column: only record 5 of the fixture.
/// (Aggregated: a second row, such as a cache hit's JSON null shown as not NULL, would show.)
const VIEW_GUARDED: &str =
    "SELECT group_concat(request_id) FROM requests WHERE guardrails IS NOT NULL";

/// The view's cache columns: only record 6 of the fixture.
const VIEW_SEMANTIC: &str =
    "SELECT request_id FROM requests WHERE cache_similarity > 0.9 AND cache_saved_usd > 0.4";

/// The view's unpriced column: only record 4 of the fixture.
const VIEW_UNPRICED: &str = "SELECT request_id FROM requests WHERE unpriced";

/// The same count through the store's API.
async fn openai_ok_no_stream(store: &Store) -> usize {
    let f = Filter {
        provider: Some("openai".into()),
        status: Some(StatusFilter::Exact(200)),
        ..Filter::default()
    };
    let all = store.list(&f, None, 1000).await.unwrap().data;
    assert!(!all.is_empty());
    all.iter().filter(|r| !r.stream).count()
}

/// How many records the store holds.
async fn count(store: &Store) -> usize {
    store
        .list(&Filter::default(), None, 1000)
        .await
        .unwrap()
        .data
        .len()
}

#[tokio::test]
async fn sqlite_store() {
    let path = temp_db();
    let store = Store::sqlite(&path).await.unwrap();
    suite(&store).await;
    own_and_foreign_ids(&store).await;
    // An id lookup reads its key rows and the batches around an own id's time through their
    // indexes, not a scan of the table.
    let c = rusqlite::Connection::open(&path).unwrap();
    let q = switchyard_store::batch::BatchQuery {
        lookup: Some(switchyard_store::query::Lookup::new(&record_id(
            1_700_000_100_000,
            0x77,
        ))),
        newest_first: true,
        ..Default::default()
    };
    let sql = q.sql(switchyard_store::query::Dialect::Sqlite);
    let values: Vec<String> = sql
        .params
        .iter()
        .map(|p| match p {
            switchyard_store::query::Param::Text(Some(t)) => t.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    let mut stmt = c
        .prepare(&format!("EXPLAIN QUERY PLAN {}", sql.text))
        .unwrap();
    let plan: Vec<String> = stmt
        .query_map(rusqlite::params_from_iter(values), |r| {
            r.get::<_, String>(3)
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let text = plan.join(" | ");
    assert!(
        text.contains("USING INDEX request_keys_key (key=?)"),
        "{text}"
    );
    assert!(text.contains("request_batches_max_id"), "{text}");
    assert!(!text.contains("SCAN request_keys"), "{text}");
    drop(stmt);
    // The SQL view shows one row per record, with 0001's columns.
    let viewed: i64 = c.query_row(VIEW_COUNT, [], |r| r.get(0)).unwrap();
    assert_eq!(viewed as usize, openai_ok_no_stream(&store).await);
    let unpriced: String = c.query_row(VIEW_UNPRICED, [], |r| r.get(0)).unwrap();
    assert_eq!(unpriced, "req-4");
    let guarded: String = c.query_row(VIEW_GUARDED, [], |r| r.get(0)).unwrap();
    assert_eq!(guarded, "req-5");
    let semantic: String = c.query_row(VIEW_SEMANTIC, [], |r| r.get(0)).unwrap();
    assert_eq!(semantic, "req-6");
    drop(store);
    // Reopening runs no migration twice and keeps the data.
    assert_eq!(count(&Store::sqlite(&path).await.unwrap()).await, 8);
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
}

/// The log and SQLite's files beside it are the owner's alone, whatever the umask lets others.
#[cfg(unix)]
#[tokio::test]
async fn sqlite_files_are_created_readable_by_the_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let path = temp_db();
    let store = Store::sqlite(&path).await.unwrap();
    store
        .insert(std::sync::Arc::new(vec![rec(1, "gpt-x", "openai", 200)]))
        .await
        .unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}: {mode:o}", file.display());
    }
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[tokio::test]
async fn postgres_store() {
    let (schema, url) = pg_schema().await;
    let store = Store::postgres(&url).await.unwrap();
    suite(&store).await;
    own_and_foreign_ids(&store).await;
    // A caller's NUL (refused by Postgres in text and jsonb) does not fail the batch it is in.
    let mut nul = rec(200, "gpt-a", "openai", 404);
    nul.id = record_id(1_700_000_200_000, 3);
    nul.requested_model = Some("bad\0model".into());
    nul.metadata.insert("k".into(), json!("v\0"));
    let fine = Record {
        id: record_id(1_700_000_200_001, 4),
        ..nul.clone()
    };
    store.insert(vec![nul.clone(), fine].into()).await.unwrap();
    {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        let viewed: i64 = client.query_one(VIEW_COUNT, &[]).await.unwrap().get(0);
        assert_eq!(viewed as usize, openai_ok_no_stream(&store).await);
        let unpriced: String = client.query_one(VIEW_UNPRICED, &[]).await.unwrap().get(0);
        assert_eq!(unpriced, "req-4");
        let guarded: String = client
            .query_one(
                &VIEW_GUARDED.replace("group_concat(request_id)", "string_agg(request_id, ',')"),
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(guarded, "req-5");
        let semantic: String = client.query_one(VIEW_SEMANTIC, &[]).await.unwrap().get(0);
        assert_eq!(semantic, "req-6");
    }
    let back = store.get(&nul.id).await.unwrap().unwrap();
    assert_eq!(back.requested_model.as_deref(), Some("bad\u{fffd}model"));
    assert_eq!(back.metadata["k"], "v\u{fffd}");
    drop(store);
    // Reopening runs no migration twice and keeps the data.
    assert_eq!(count(&Store::postgres(&url).await.unwrap()).await, 10);
    drop_schema(&schema).await;
}

#[tokio::test]
async fn bad_postgres_url_is_a_clear_error() {
    let e = Store::postgres("postgres://root@127.0.0.1:1/test")
        .await
        .err()
        .expect("nothing listens on port 1");
    assert!(e.0.starts_with("postgres:"), "{e}");
}

/// A row of 0001's one-row-per-record table: a record with own ids at 1_700_000_300_000 and one
/// with a caller's request id a second later.
const V1_ROWS: &str = "INSERT INTO requests VALUES \
    ('018bcfe9fbe00000000000000000000a', '018bcfe9fbe00000000000000000000b', \
     '018bcfe9fbe00000000000000000000c', '00000000000000aa', NULL, 1700000300000, 1700000300040, \
     'chat.completions', 'alice', NULL, 'gpt-a', 'openai', 'gpt-a', TRUE, 200, 'ok', 10, 5, 0, \
     0, 0, 0.5, 40.0, 3.0, 30.0, NULL, '{\"team\":\"x\"}', \
     '[{\"provider\":\"openai\",\"model\":\"gpt-a\",\"status\":200,\"outcome\":\"ok\",\"latency_ms\":30.0}]', \
     NULL, NULL, NULL, TRUE, TRUE), \
    ('018bcfe9ffc80000000000000000000d', 'caller-req-v1', '0000000000000000000000000000beef', \
     '00000000000000bb', NULL, 1700000301000, 1700000301040, 'messages', 'bob', NULL, \
     'claude-b', 'anthropic', 'claude-b', FALSE, 503, 'error', NULL, NULL, NULL, NULL, NULL, \
     NULL, 41.0, NULL, NULL, NULL, '{}', '[]', 'upstream said no', NULL, NULL, FALSE, FALSE)";

/// After the move to batches (migration 2), 0001's rows read back whole, by filters and ids.
async fn reads_rows_from_v1(store: &Store) {
    let all = store.list(&Filter::default(), None, 10).await.unwrap().data;
    let ids: Vec<&str> = all.iter().map(|r| r.request_id.as_str()).collect();
    assert_eq!(
        ids,
        vec!["caller-req-v1", "018bcfe9fbe00000000000000000000b"]
    );
    let first = &all[1];
    assert!(first.stream);
    assert_eq!(first.metadata["team"], "x");
    assert_eq!(first.attempts[0].status, Some(200));
    assert_eq!((first.cost_usd, first.ttft_ms), (Some(0.5), Some(3.0)));
    assert_eq!(all[0].error.as_deref(), Some("upstream said no"));
    assert_eq!(
        store.get("caller-req-v1").await.unwrap().unwrap().status,
        503
    );
    let by_trace = Filter {
        trace_id: Some("0000000000000000000000000000beef".into()),
        ..Filter::default()
    };
    assert_eq!(store.list(&by_trace, None, 10).await.unwrap().data.len(), 1);
    assert_eq!(
        store
            .get("018bcfe9fbe00000000000000000000b")
            .await
            .unwrap()
            .unwrap()
            .caller
            .as_deref(),
        Some("alice")
    );
}

#[tokio::test]
async fn sqlite_rows_from_version_1_move_into_batches() {
    let path = temp_db();
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(include_str!("../migrations/sqlite/0001_init.sql"))
            .unwrap();
        c.execute_batch(
            "CREATE TABLE schema_version (version INTEGER NOT NULL); \
             INSERT INTO schema_version VALUES (1);",
        )
        .unwrap();
        c.execute_batch(V1_ROWS).unwrap();
    }
    let store = Store::sqlite(&path).await.unwrap();
    reads_rows_from_v1(&store).await;
    drop(store);
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
}

#[tokio::test]
async fn postgres_rows_from_version_1_move_into_batches() {
    let (schema, url) = pg_schema().await;
    {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
            .batch_execute(include_str!("../migrations/postgres/0001_init.sql"))
            .await
            .unwrap();
        client
            .batch_execute(
                "CREATE TABLE schema_version (version BIGINT NOT NULL); \
                 INSERT INTO schema_version VALUES (1);",
            )
            .await
            .unwrap();
        client.batch_execute(V1_ROWS).await.unwrap();
    }
    let store = Store::postgres(&url).await.unwrap();
    reads_rows_from_v1(&store).await;
    drop(store);
    drop_schema(&schema).await;
}
