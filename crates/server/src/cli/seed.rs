//! `switchyard logs seed`: writes made-up request records into the request log the config
//! names, spread over the last days, for trying the console and measuring it at scale (the
//! browser tests seed 10,000; docs/benchmarks.md times the logs page over 1,000,000). The
//! records are deterministic for a seed, and marked `metadata.seeded = true`.

use clap::Parser;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use switchyard_store::{Attempt, Record};

#[derive(Parser)]
pub(super) struct SeedArgs {
    /// YAML config file (as for `serve`): where the request log is.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// How many records.
    #[arg(long, default_value_t = 10_000)]
    count: u64,
    /// Spread over this many days before now.
    #[arg(long, default_value_t = 7)]
    days: u64,
    /// The generator's seed (the same seed writes the same records, ids aside).
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

const MODELS: &[(&str, &str, f64, f64)] = &[
    ("openai", "gpt-4o-mini", 0.15, 0.6),
    ("openai", "gpt-4o", 2.5, 10.0),
    ("anthropic", "claude-3-5-haiku-latest", 0.8, 4.0),
    ("anthropic", "claude-sonnet-4-5", 3.0, 15.0),
    ("gemini", "gemini-2.0-flash", 0.1, 0.4),
    ("groq", "llama-3.3-70b-versatile", 0.59, 0.79),
];
const OPERATIONS: &[&str] = &[
    "chat.completions",
    "chat.completions",
    "messages",
    "responses",
    "embeddings",
];
const WORKSPACES: &[&str] = &["default", "search", "support"];
const KEYS: &[&str] = &["team-a", "team-b", "ci", "batch"];
const PROMPTS: &[&str] = &[
    "Summarise this support ticket in two sentences.",
    "Translate the release notes into French.",
    "Write a SQL query for the top ten customers by revenue.",
    "What is the capital of France?",
    "Classify the sentiment of this review.",
];

/// One made-up record at `ts_ms`.
fn record(rng: &mut fastrand::Rng, ts_ms: i64) -> Record {
    let (provider, model, pin, pout) = MODELS[rng.usize(..MODELS.len())];
    let op = OPERATIONS[rng.usize(..OPERATIONS.len())];
    let status = match rng.u32(..1000) {
        0..=14 => 429,
        15..=24 => 503,
        25..=29 => 400,
        _ => 200,
    };
    let stream = op != "embeddings" && rng.bool();
    let input = i64::from(rng.u32(20..4000));
    let output = if op == "embeddings" || status != 200 {
        0
    } else {
        i64::from(rng.u32(5..1200))
    };
    let latency = 80.0 + rng.f64() * 2500.0 + output as f64 * 2.0;
    let cache = match rng.u32(..10) {
        0 | 1 if status == 200 => "hit",
        2 => "bypass",
        _ => "miss",
    };
    let hit = cache == "hit";
    let cost = (input as f64 * pin + output as f64 * pout) / 1e6;
    let prompt = PROMPTS[rng.usize(..PROMPTS.len())];
    let workspace = WORKSPACES[rng.usize(..WORKSPACES.len())];
    let key = KEYS[rng.usize(..KEYS.len())];
    let mut metadata = serde_json::Map::new();
    metadata.insert("seeded".into(), json!(true));
    let tag = ["web", "api", "batch"][rng.usize(..3)];
    metadata.insert("tags".into(), json!([tag]));
    Record {
        id: switchyard_store::record_id(ts_ms, rng.u128(..)),
        request_id: format!("seed-{:016x}", rng.u64(..)),
        trace_id: format!("{:032x}", rng.u128(..)),
        span_id: format!("{:016x}", rng.u64(..)),
        ts_ms,
        end_ms: ts_ms + latency as i64,
        operation: op.into(),
        caller: Some(key.into()),
        requested_model: Some(format!("{provider}/{model}")),
        provider: Some(provider.into()),
        model: Some(model.into()),
        stream,
        status,
        outcome: if status == 200 { "ok" } else { "error" }.into(),
        input_tokens: (status == 200 && !hit).then_some(input),
        output_tokens: (status == 200 && !hit).then_some(output),
        cost_usd: Some(if hit || status != 200 { 0.0 } else { cost }),
        latency_ms: if hit { 1.0 + rng.f64() * 3.0 } else { latency },
        ttft_ms: stream.then(|| 60.0 + rng.f64() * 600.0),
        upstream_ms: (!hit).then_some(latency - 2.0),
        cache: Some(cache.into()),
        cache_saved_usd: hit.then_some(cost),
        metadata,
        attempts: if hit {
            Vec::new()
        } else {
            vec![Attempt {
                provider: provider.into(),
                model: model.into(),
                status: Some(status),
                outcome: if status == 200 {
                    "ok".into()
                } else {
                    format!("status {status}")
                },
                latency_ms: latency - 2.0,
                dropped: Vec::new(),
            }]
        },
        error: (status != 200).then(|| format!("{provider} answered {status}")),
        request_body: Some(
            json!({"model": model, "messages": [{"role": "user", "content": prompt}]}).to_string(),
        ),
        workspace: Some(workspace.into()),
        key_id: Some(format!("key-{key}")),
        end_user: (rng.u32(..4) == 0).then(|| format!("user-{}", rng.u32(..50))),
        ..Record::default()
    }
}

pub(super) fn seed(a: SeedArgs) -> ExitCode {
    let cfg = match super::load(a.config.as_ref()) {
        Ok((c, _)) => c,
        Err(code) => return code,
    };
    let rt = match super::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async move {
        let store = match &cfg.log.store {
            switchyard_config::LogStore::Sqlite(p) => switchyard_store::Store::sqlite(p).await,
            switchyard_config::LogStore::Postgres(u) => switchyard_store::Store::postgres(u).await,
        };
        let store = match store {
            Ok(s) => s,
            Err(e) => {
                eprintln!("switchyard: request log: {}", e.0);
                return ExitCode::from(2);
            }
        };
        let mut rng = fastrand::Rng::with_seed(a.seed);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let span = (a.days.max(1) * 86_400_000) as i64;
        let step = span as f64 / a.count.max(1) as f64;
        let mut written = 0u64;
        let batch = switchyard_store::batch::ROW_RECORDS as u64;
        while written < a.count {
            let n = batch.min(a.count - written);
            // Oldest first, as the gateway writes them.
            let records: Vec<Record> = (written..written + n)
                .map(|i| record(&mut rng, now - span + (i as f64 * step) as i64))
                .collect();
            if let Err(e) = store.insert(Arc::new(records)).await {
                eprintln!("switchyard: writing records: {}", e.0);
                return ExitCode::FAILURE;
            }
            written += n;
        }
        println!("{}", json!({"seeded": written, "days": a.days}));
        ExitCode::SUCCESS
    })
}
