//! What reads cost on a large log, now that records are kept in batches: fills a SQLite file (or
//! the PostgreSQL at `--postgres URL`) with `records` records, then times a page, filtered pages,
//! lookups by id, analytics and retention. `cargo run --release -p switchyard-store --example
//! read_cost -- [records]`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Instant;
use switchyard_store::{Attempt, Filter, GroupBy, Record, StatusFilter, Store};

fn record(k: usize, now: i64) -> Record {
    let ts = now + k as i64 / 20;
    let model = ["gpt-6-sol", "claude-opus-5", "gemini-4-pro"][k % 3];
    // One request in 1,000 brings its own request id, as a traced caller would.
    let caller_id = k.is_multiple_of(1_000);
    Record {
        id: switchyard_store::record_id(ts, k as u128 * 7919),
        request_id: if caller_id {
            format!("caller-{k}")
        } else {
            switchyard_store::record_id(ts, k as u128 * 31)
        },
        trace_id: switchyard_store::record_id(ts, k as u128 * 17),
        span_id: format!("{k:016x}"),
        ts_ms: ts,
        end_ms: ts + 3,
        operation: "chat.completions".into(),
        caller: Some(["alice", "bob"][k % 2].into()),
        requested_model: Some(model.into()),
        provider: Some("openai".into()),
        model: Some(model.into()),
        status: if k.is_multiple_of(500) { 503 } else { 200 },
        outcome: "ok".into(),
        input_tokens: Some(30),
        output_tokens: Some(7),
        cost_usd: Some(0.00013),
        latency_ms: 1.2,
        upstream_ms: Some(0.9),
        attempts: vec![Attempt {
            provider: "openai".into(),
            model: model.into(),
            status: Some(200),
            outcome: "ok".into(),
            latency_ms: 1.1,
            dropped: Vec::new(),
        }],
        own_request_id: !caller_id,
        own_trace_id: true,
        ..Record::default()
    }
}

async fn timed<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    let t = Instant::now();
    let out = f.await;
    println!("| {what} | {:.1} ms |", t.elapsed().as_secs_f64() * 1e3);
    out
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mut n = 1_000_000usize;
    let mut pg = None;
    while let Some(a) = args.next() {
        if a == "--postgres" {
            pg = args.next();
        } else {
            n = a.parse().unwrap();
        }
    }
    let path = std::env::temp_dir().join(format!("read-cost-{}.db", std::process::id()));
    let store = match &pg {
        Some(url) => Store::postgres(url).await.unwrap(),
        None => Store::sqlite(&path).await.unwrap(),
    };
    let now = 1_796_025_600_000i64;
    let started = Instant::now();
    for start in (0..n).step_by(1_000) {
        let batch: Vec<Record> = (start..(start + 1_000).min(n))
            .map(|k| record(k, now))
            .collect();
        store.insert(Arc::new(batch)).await.unwrap();
    }
    println!(
        "{n} records written in {:.1} s ({})\n",
        started.elapsed().as_secs_f64(),
        store.kind()
    );
    println!("| read | time |\n|---|---|");
    let all = Filter::default();
    timed("newest page of 100, no filter", store.list(&all, None, 100))
        .await
        .unwrap();
    let rare = Filter {
        status: Some(StatusFilter::Class(5)),
        ..Filter::default()
    };
    let p = timed(
        "page of 100 of 5xx (1 in 500)",
        store.list(&rare, None, 100),
    )
    .await
    .unwrap();
    assert_eq!(p.data.len(), 100);
    let hour = Filter {
        from_ms: Some(now + n as i64 / 40),
        to_ms: Some(now + n as i64 / 40 + 60_000),
        ..Filter::default()
    };
    timed("page of 100 one minute back", store.list(&hour, None, 100))
        .await
        .unwrap();
    let mid = record(n / 2 + 1, now);
    let got = timed("get by record id", store.get(&mid.id)).await.unwrap();
    assert_eq!(got.map(|r| r.id), Some(mid.id));
    let got = timed("get by own request id", store.get(&mid.request_id))
        .await
        .unwrap();
    assert!(got.is_some());
    let key = format!("caller-{}", (n / 2) / 1_000 * 1_000);
    let got = timed("get by caller's request id", store.get(&key))
        .await
        .unwrap();
    assert!(got.is_some());
    let by_trace = Filter {
        trace_id: Some(mid.trace_id.clone()),
        ..Filter::default()
    };
    let p = timed("list by own trace id", store.list(&by_trace, None, 100))
        .await
        .unwrap();
    assert_eq!(p.data.len(), 1);
    let a = timed(
        "analytics over one minute, by model",
        store.analytics(&hour, &GroupBy::Model, 0, false),
    )
    .await
    .unwrap();
    assert_eq!(a.data.len(), 3);
    let a = timed(
        "analytics over everything, by model",
        store.analytics(&all, &GroupBy::Model, 0, false),
    )
    .await
    .unwrap();
    assert_eq!(a.data.iter().map(|b| b.requests).sum::<u64>(), n as u64);
    let gone = timed(
        "retention: delete the older half",
        store.delete_before(now + n as i64 / 40),
    )
    .await
    .unwrap();
    assert_eq!(gone, n as u64 / 2);
    drop(store);
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
}
