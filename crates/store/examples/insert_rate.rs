//! Rows per second the SQLite store writes, in batches: `cargo run --release -p switchyard-store
//! --example insert_rate -- [records] [batch]`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Instant;
use switchyard_store::{Attempt, Record, Store};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(200_000, |a| a.parse().unwrap());
    let batch: usize = args.next().map_or(1000, |a| a.parse().unwrap());
    let path = std::env::temp_dir().join(format!("insert-rate-{}.db", std::process::id()));
    let store = Store::sqlite(&path).await.unwrap();
    let now = 1_796_025_600_000i64;
    let started = Instant::now();
    let mut i = 0;
    while i < n {
        let records: Vec<Record> = (i..(i + batch).min(n))
            .map(|k| {
                let ts = now + k as i64 / 10;
                Record {
                    id: switchyard_store::record_id(ts, k as u128 * 7919),
                    request_id: format!("{ts:012x}{:020x}", k as u128 * 31),
                    trace_id: format!("{ts:012x}{:020x}", k as u128 * 17),
                    span_id: format!("{:016x}", k),
                    ts_ms: ts,
                    end_ms: ts + 3,
                    operation: "chat.completions".into(),
                    caller: Some("bench".into()),
                    requested_model: Some("gpt-6-sol".into()),
                    provider: Some("openai".into()),
                    model: Some("gpt-6-sol".into()),
                    status: 200,
                    outcome: "ok".into(),
                    input_tokens: Some(30),
                    output_tokens: Some(7),
                    cached_tokens: Some(0),
                    cache_write_tokens: Some(0),
                    reasoning_tokens: Some(0),
                    cost_usd: Some(0.00013),
                    latency_ms: 1.2,
                    upstream_ms: Some(0.9),
                    attempts: vec![Attempt {
                        provider: "openai".into(),
                        model: "gpt-6-sol".into(),
                        status: Some(200),
                        outcome: "ok".into(),
                        latency_ms: 1.1,
                        dropped: Vec::new(),
                    }],
                    ..Record::default()
                }
            })
            .collect();
        i += records.len();
        store.insert(Arc::new(records)).await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{n} records in batches of {batch}: {:.0} records/s",
        n as f64 / secs
    );
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
}
