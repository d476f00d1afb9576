//! Dataset runs (the playground's A/B over many inputs): every row of a dataset through two or
//! more variants (prompt versions or labels, optionally with a model and parameters of their
//! own), through the gateway's own request path with bounded concurrency; each output stored
//! beside the others with its tokens, cost and latency, scored by evaluators (exact and
//! similarity match with the row's expected output, guardrail checks, an LLM judge through a
//! route), and summarised per variant with intervals. Datasets, runs and results live in the
//! tenants' store outside the snapshot; a run in progress is tracked in memory (progress,
//! cancellation) on the replica that runs it.

use crate::state::AppState;
use axum::body::Body;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use switchyard_tenants::Principal;

/// Document kinds in the tenants' store.
pub const DATASET: &str = "dataset";
pub const RUN: &str = "run";
pub const RESULT: &str = "run-result";
/// A running run's counters, written every `PROGRESS_EVERY` calls so that other replicas see
/// them (a document of its own: the run's document keeps its status).
pub const PROGRESS: &str = "run-progress";
const PROGRESS_EVERY: u64 = 20;
/// Most rows a dataset holds, and most concurrent calls a run makes.
pub const MAX_ROWS: usize = 10_000;
pub const MAX_CONCURRENCY: usize = 32;

/// One dataset row: the variables, and optionally the output expected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    #[serde(default)]
    pub variables: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    pub id: String,
    pub workspace: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub rows: Vec<Row>,
    pub created_ms: i64,
    pub created_by: String,
}

/// How an output is scored (each gives 0 to 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Evaluator {
    /// 1 when the output equals the row's expected output (trimmed).
    Exact {
        #[serde(default)]
        name: Option<String>,
    },
    /// One less the edit distance over the longer text's length.
    Similarity {
        #[serde(default)]
        name: Option<String>,
    },
    /// A guardrail check on the output: 1 when it does not fire (`expect: "fire"`: when it does).
    Check {
        name: String,
        check: Value,
        #[serde(default)]
        expect: Option<String>,
    },
    /// A model asked to rate the output from 0 to `scale` (default 10), through the gateway.
    Judge {
        #[serde(default)]
        name: Option<String>,
        model: String,
        #[serde(default)]
        rubric: Option<String>,
        #[serde(default)]
        scale: Option<f64>,
        /// Parameters for the judge's request (`temperature: 0`, ...).
        #[serde(default)]
        params: Map<String, Value>,
    },
}

impl Evaluator {
    pub fn name(&self) -> String {
        match self {
            Evaluator::Exact { name } => name.clone().unwrap_or_else(|| "exact".into()),
            Evaluator::Similarity { name } => name.clone().unwrap_or_else(|| "similarity".into()),
            Evaluator::Check { name, .. } => name.clone(),
            Evaluator::Judge { name, .. } => name.clone().unwrap_or_else(|| "judge".into()),
        }
    }
}

/// One arm of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunVariant {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub params: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDoc {
    pub id: String,
    pub workspace: String,
    pub dataset: String,
    pub prompt: String,
    pub variants: Vec<RunVariant>,
    pub evaluators: Vec<Evaluator>,
    pub concurrency: usize,
    pub confidence: f64,
    /// `running`, `done`, `cancelled`, `failed`.
    pub status: String,
    pub total: u64,
    pub done: u64,
    pub failed: u64,
    pub estimate: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Value>,
    pub created_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_ms: Option<i64>,
    pub created_by: String,
}

/// Runs in progress on this replica: their counters and how to stop them.
#[derive(Default)]
pub struct Runs(Mutex<HashMap<String, Live>>);

struct Live {
    done: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
    abort: tokio::task::AbortHandle,
}

fn key(ws: &str, id: &str) -> String {
    format!("{ws}/{id}")
}

impl Runs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Live>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A run's live counters, when it runs here.
    pub fn progress(&self, ws: &str, id: &str) -> Option<(u64, u64)> {
        self.lock().get(&key(ws, id)).map(|l| {
            (
                l.done.load(Ordering::Relaxed),
                l.failed.load(Ordering::Relaxed),
            )
        })
    }

    /// Stops a run here: its in-flight calls are dropped (their connections closed).
    pub fn cancel(&self, ws: &str, id: &str) -> bool {
        match self.lock().remove(&key(ws, id)) {
            Some(l) => {
                l.abort.abort();
                true
            }
            None => false,
        }
    }
}

/// What one call produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Output {
    row: usize,
    variant: String,
    output: Option<String>,
    error: Option<String>,
    input_tokens: u64,
    output_tokens: u64,
    cost_usd: f64,
    latency_ms: f64,
    scores: Map<String, Value>,
}

/// The principal a run's calls are made as: the workspace, named `run:<id>`.
fn principal(state: &AppState, ws: &str, run: &str) -> Principal {
    let snapshot = state.tenants.get().map(|t| t.snapshot());
    let (name, credentials) = match snapshot.as_ref().and_then(|s| {
        s.workspace(ws)
            .map(|w| (w.name.clone(), s.credentials_of(&w.id)))
    }) {
        Some(x) => x,
        None => (ws.to_owned(), Arc::default()),
    };
    let mut metadata = Map::new();
    metadata.insert("run".into(), Value::String(run.to_owned()));
    Principal {
        workspace: ws.to_owned(),
        workspace_name: name,
        key_id: None,
        key_name: format!("run:{run}"),
        models: Arc::from([]),
        metadata: Arc::new(metadata),
        tags: Arc::from([]),
        credentials,
    }
}

/// A chat request through the whole request path as `p`: status, headers, JSON body.
async fn call(
    state: &Arc<AppState>,
    p: &Arc<Principal>,
    body: Value,
) -> (u16, http::HeaderMap, Value) {
    let mut req = http::Request::post("/v1/chat/completions")
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_default();
    req.extensions_mut()
        .insert(crate::pipeline::Preauthorized(Arc::clone(p)));
    let resp = crate::http::chat_request(Arc::clone(state), req).await;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// What an answer cost, from the target that served it and its usage.
fn cost_of(
    state: &AppState,
    headers: &http::HeaderMap,
    usage: &switchyard_providers::usage::Usage,
) -> f64 {
    let target = headers
        .get(crate::headers::X_SWITCHYARD_TARGET)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some((provider, model)) = target.split_once('/') else {
        return 0.0;
    };
    state
        .cfg
        .providers
        .iter()
        .position(|p| p.name == provider)
        .and_then(|i| state.cost(i, model, usage))
        .unwrap_or(0.0)
}

/// A run's request body for one row and variant.
fn body_for(run: &RunDoc, v: &RunVariant, row: &Row) -> Value {
    let mut prompt = json!({"id": run.prompt, "variables": row.variables});
    if let Some(n) = v.version {
        prompt["version"] = Value::String(n.to_string());
    } else if let Some(l) = &v.label {
        prompt["version"] = Value::String(l.clone());
    }
    let mut body = Map::new();
    body.insert("prompt".into(), prompt);
    if let Some(m) = &v.model {
        body.insert("model".into(), Value::String(m.clone()));
    }
    for (k, val) in &v.params {
        body.insert(k.clone(), val.clone());
    }
    Value::Object(body)
}

/// Scores `output` with every evaluator.
async fn score(
    state: &Arc<AppState>,
    p: &Arc<Principal>,
    evaluators: &[Evaluator],
    row: &Row,
    output: &str,
) -> Map<String, Value> {
    use switchyard_prompts::eval;
    let mut out = Map::new();
    for e in evaluators {
        let s = match e {
            Evaluator::Exact { .. } => row.expected.as_deref().map(|x| eval::exact(output, x)),
            Evaluator::Similarity { .. } => {
                row.expected.as_deref().map(|x| eval::similarity(output, x))
            }
            Evaluator::Check { check, expect, .. } => check_score(check, expect.as_deref(), output),
            Evaluator::Judge {
                model,
                rubric,
                scale,
                params,
                ..
            } => {
                let scale = scale.unwrap_or(10.0);
                let rubric = rubric
                    .clone()
                    .unwrap_or_else(|| "How well does the answer do what was asked?".into());
                let expected = row
                    .expected
                    .as_deref()
                    .map(|x| format!("\nA good answer would be close to:\n{x}\n"))
                    .unwrap_or_default();
                let ask = format!(
                    "{rubric}\nRate the answer from 0 to {scale}. Reply with the number first.\n\nThe input's variables: {}\n{expected}\nThe answer:\n{output}",
                    Value::Object(row.variables.clone())
                );
                let mut req =
                    json!({"model": model, "messages": [{"role": "user", "content": ask}]});
                for (k, v) in params {
                    req[k.as_str()] = v.clone();
                }
                let (status, _, b) = call(state, p, req).await;
                if status == 200 {
                    b["choices"][0]["message"]["content"]
                        .as_str()
                        .and_then(|a| eval::judge_score(a, scale))
                } else {
                    None
                }
            }
        };
        out.insert(e.name(), s.map_or(Value::Null, Value::from));
    }
    out
}

/// A guardrail check as an evaluator: 1 when it did what `expect` says (default: not fire).
fn check_score(check: &Value, expect: Option<&str>, output: &str) -> Option<f64> {
    let raw: switchyard_guardrails::policy::RawPolicy = serde_json::from_value(json!({
        "id": "evaluator", "stages": ["output"], "action": "flag", "checks": [check]
    }))
    .ok()?;
    let policy = switchyard_guardrails::Policy::build(raw).ok()?;
    let mut set = switchyard_guardrails::PolicySet::default();
    set.policies.push(Arc::new(policy));
    let text = switchyard_guardrails::policy::Text {
        raw: output,
        source: switchyard_guardrails::Source::Output,
        tool: None,
    };
    let report = set.scan(
        switchyard_guardrails::policy::Stage::Output,
        std::slice::from_ref(&text),
        None,
    );
    let fired = report.verdicts.iter().any(|v| v.fired);
    let want_fire = expect == Some("fire");
    Some(f64::from(u8::from(fired == want_fire)))
}

/// Checks an evaluator can be built (a check's definition, a judge's model).
pub fn check_evaluator(e: &Evaluator) -> Result<(), String> {
    if let Evaluator::Check { check, .. } = e {
        let raw: switchyard_guardrails::policy::RawPolicy = serde_json::from_value(json!({
            "id": "evaluator", "stages": ["output"], "action": "flag", "checks": [check]
        }))
        .map_err(|e| e.to_string())?;
        switchyard_guardrails::Policy::build(raw)
            .map_err(|e| format!("{}: {}", e.path, e.message))?;
    }
    Ok(())
}

/// What a run should cost, before it starts: each row rendered for each variant (about four
/// characters a token), the answer at its `max_tokens` (else 256), priced from the catalog
/// when the variant's model names its provider.
pub fn estimate(state: &AppState, run: &RunDoc, rows: &[Row]) -> Value {
    let Some(cat) = crate::prompts::catalog(state) else {
        return Value::Null;
    };
    let Some(entry) = cat.catalog.get(&run.workspace, &run.prompt) else {
        return Value::Null;
    };
    let (mut input, mut output, mut cost, mut priced) = (0u64, 0u64, 0.0, true);
    for v in &run.variants {
        let Ok(chosen) = entry.choose(v.version, v.label.as_deref()) else {
            continue;
        };
        let model = v
            .model
            .clone()
            .or_else(|| chosen.compiled.body.model.clone())
            .unwrap_or_default();
        let max = v
            .params
            .get("max_tokens")
            .or_else(|| chosen.compiled.body.params.get("max_tokens"))
            .and_then(Value::as_u64)
            .unwrap_or(256);
        for row in rows {
            let chars = chosen
                .compiled
                .render(&row.variables)
                .map(|r| {
                    r.messages
                        .iter()
                        .map(|m| m["content"].to_string().len())
                        .sum::<usize>()
                })
                .unwrap_or(0);
            let usage = switchyard_providers::usage::Usage {
                input: (chars / 4) as u64 + 1,
                output: max,
                ..Default::default()
            };
            input += usage.input;
            output += usage.output;
            let price = model.split_once('/').and_then(|(p, m)| {
                state
                    .cfg
                    .providers
                    .iter()
                    .position(|x| x.name == p)
                    .and_then(|i| state.cost(i, m, &usage))
            });
            match price {
                Some(c) => cost += c,
                None => priced = false,
            }
        }
    }
    json!({
        "requests": rows.len() * run.variants.len(),
        "input_tokens": input,
        "output_tokens_at_most": output,
        "cost_usd_at_most": if priced { Value::from(cost) } else { Value::Null },
    })
}

/// Starts a run in the background; its results and final summary go to the store.
pub fn start(gateway: crate::state::Gateway, run: RunDoc, rows: Vec<Row>) {
    let state = gateway.load();
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let (d, f) = (Arc::clone(&done), Arc::clone(&failed));
    let runs = Arc::clone(&state.runs);
    let k = key(&run.workspace, &run.id);
    let task = tokio::spawn(async move {
        let state = gateway.load();
        let p = Arc::new(principal(&state, &run.workspace, &run.id));
        // The judge's calls are logged under a name of their own (`run:<id>:judge`).
        let judge = Arc::new(Principal {
            key_name: format!("run:{}:judge", run.id),
            ..principal(&state, &run.workspace, &run.id)
        });
        let rows = Arc::new(rows);
        let jobs: Vec<(usize, usize)> = (0..rows.len())
            .flat_map(|r| (0..run.variants.len()).map(move |v| (r, v)))
            .collect();
        let run_ref = &run;
        let results = futures_util::stream::iter(jobs)
            .map(|(r, vi)| {
                let state = Arc::clone(&state);
                let p = Arc::clone(&p);
                let judge = Arc::clone(&judge);
                let rows = Arc::clone(&rows);
                let (d, f) = (Arc::clone(&d), Arc::clone(&f));
                async move {
                    let row = &rows[r];
                    let v = &run_ref.variants[vi];
                    let started = Instant::now();
                    let (status, headers, b) = call(&state, &p, body_for(run_ref, v, row)).await;
                    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
                    let mut out = Output {
                        row: r,
                        variant: v.name.clone(),
                        output: None,
                        error: None,
                        input_tokens: 0,
                        output_tokens: 0,
                        cost_usd: 0.0,
                        latency_ms,
                        scores: Map::new(),
                    };
                    if status == 200 {
                        let usage = switchyard_providers::usage::Usage::from_chat(&b["usage"]);
                        out.input_tokens = usage.input;
                        out.output_tokens = usage.output;
                        out.cost_usd = cost_of(&state, &headers, &usage);
                        let text = b["choices"][0]["message"]["content"].as_str().unwrap_or_default().to_owned();
                        out.scores = score(&state, &judge, &run_ref.evaluators, row, &text).await;
                        out.output = Some(text);
                        d.fetch_add(1, Ordering::Relaxed);
                    } else {
                        out.error = Some(b["error"]["message"].as_str().map_or_else(|| format!("status {status}"), str::to_owned));
                        f.fetch_add(1, Ordering::Relaxed);
                    }
                    let (done, failed) = (d.load(Ordering::Relaxed), f.load(Ordering::Relaxed));
                    if let (Some(t), 0) = (state.tenants.get(), (done + failed) % PROGRESS_EVERY) {
                        let progress = json!({"done": done, "failed": failed, "ts_ms": switchyard_tenants::now_ms()});
                        let _ = t.docs().put_doc(PROGRESS, run_ref.workspace.clone(), run_ref.id.clone(), progress).await;
                    }
                    if let Some(t) = state.tenants.get() {
                        let id = format!("{}/{r:06}/{}", run_ref.id, v.name);
                        if let Err(e) = t.docs().put_doc(RESULT, run_ref.workspace.clone(), id, serde_json::to_value(&out).unwrap_or(Value::Null)).await {
                            tracing::warn!(run = %run_ref.id, error = %e, "storing a run result failed");
                        }
                    }
                    out
                }
            })
            .buffer_unordered(run.concurrency.clamp(1, MAX_CONCURRENCY))
            .collect::<Vec<Output>>()
            .await;
        let mut finished = run.clone();
        finished.done = d.load(Ordering::Relaxed);
        finished.failed = f.load(Ordering::Relaxed);
        finished.status = "done".into();
        finished.ended_ms = Some(switchyard_tenants::now_ms());
        finished.summary = Some(summary(&run, &results));
        if let Some(t) = state.tenants.get() {
            let _ = t
                .docs()
                .put_doc(
                    RUN,
                    run.workspace.clone(),
                    run.id.clone(),
                    serde_json::to_value(&finished).unwrap_or(Value::Null),
                )
                .await;
        }
        state.runs.lock().remove(&key(&run.workspace, &run.id));
    });
    runs.lock().insert(
        k,
        Live {
            done,
            failed,
            abort: task.abort_handle(),
        },
    );
}

/// Per variant: each evaluator's mean with its interval, tokens, cost, latency, errors.
fn summary(run: &RunDoc, results: &[Output]) -> Value {
    let variants: Vec<Value> = run
        .variants
        .iter()
        .map(|v| {
            let mine: Vec<&Output> = results.iter().filter(|o| o.variant == v.name).collect();
            let ok: Vec<&&Output> = mine.iter().filter(|o| o.error.is_none()).collect();
            let mut evaluators = Map::new();
            for e in &run.evaluators {
                let name = e.name();
                let scores: Vec<f64> = ok
                    .iter()
                    .filter_map(|o| o.scores.get(&name).and_then(Value::as_f64))
                    .collect();
                let s = switchyard_prompts::eval::summarise(&scores, run.confidence);
                evaluators.insert(name, serde_json::to_value(s).unwrap_or(Value::Null));
            }
            let mut lat: Vec<f64> = ok.iter().map(|o| o.latency_ms).collect();
            let p = switchyard_store::analytics::percentiles(&mut lat);
            json!({
                "name": v.name,
                "requests": mine.len(),
                "errors": mine.len() - ok.len(),
                "input_tokens": ok.iter().map(|o| o.input_tokens).sum::<u64>(),
                "output_tokens": ok.iter().map(|o| o.output_tokens).sum::<u64>(),
                "cost_usd": ok.iter().map(|o| o.cost_usd).sum::<f64>(),
                "latency_ms": {"p50": p.p50, "p95": p.p95},
                "evaluators": evaluators,
            })
        })
        .collect();
    json!({"confidence": run.confidence, "variants": variants})
}
