//! `/admin/v1/datasets` and `/admin/v1/runs`: datasets (rows of variables and expected
//! outputs, uploaded as JSON or JSONL or built from logged requests) and runs of a prompt's
//! variants over them (docs/prompts.md#dataset-runs). Viewers read; members upload and run.

use super::params::{invalid as bad, query_param as query, workspace_of};
use super::tenants::{answer, body, list, with, with_limit, Ctx};
use crate::error::GatewayError;
use crate::runs::{
    Dataset, Evaluator, Row, RunDoc, RunVariant, DATASET, MAX_CONCURRENCY, MAX_ROWS, PROGRESS,
    RESULT, RUN,
};
use crate::state::{AppState, Gateway};
use axum::extract::{Path, Request, State};
use axum::response::Response;
use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use switchyard_prompts::model::valid_id;
use switchyard_tenants::model::{WsRole, DEFAULT_WORKSPACE};

/// Largest dataset upload.
const MAX_UPLOAD: usize = 8 * 1024 * 1024;

fn store_err(e: switchyard_tenants::store::StoreError) -> GatewayError {
    GatewayError::StoreUnavailable {
        detail: e.to_string(),
    }
}

/// Records an audit event for a change to documents outside the snapshot.
async fn audit(
    c: &Ctx,
    action: &str,
    target: String,
    ws: &str,
    after: Value,
) -> Result<(), GatewayError> {
    c.t.change_prompts(&c.actor, action, target, ws, None, Some(after), Vec::new())
        .await
        .map_err(super::tenants::admin_error)
}

fn dataset_json(d: &Dataset, with_rows: bool) -> Value {
    let mut v = json!({"object": "dataset", "id": d.id, "workspace": d.workspace,
        "description": d.description, "rows": d.rows.len(), "created_ms": d.created_ms, "created_by": d.created_by});
    if with_rows {
        v["data"] = serde_json::to_value(&d.rows).unwrap_or(Value::Null);
    }
    v
}

fn run_json(state: &AppState, r: &RunDoc) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
    v["object"] = json!("run");
    if let Some((done, failed)) = state.runs.progress(&r.workspace, &r.id) {
        v["done"] = json!(done);
        v["failed"] = json!(failed);
    }
    v
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FromLogs {
    /// Log filters as the logs API takes them (`model`, `status`, `from`, ...).
    #[serde(default)]
    filter: Map<String, Value>,
    #[serde(default)]
    limit: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewDataset {
    id: String,
    workspace: Option<String>,
    description: Option<String>,
    rows: Option<Vec<Row>>,
    /// One JSON row per line.
    jsonl: Option<String>,
    from_logs: Option<FromLogs>,
}

/// The last user message of a logged chat request, and the answer's text.
fn row_from_record(r: &switchyard_store::record::Record) -> Option<Row> {
    let req: Value = serde_json::from_str(r.request_body.as_deref()?).ok()?;
    let input = req["messages"]
        .as_array()?
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str().map(str::to_owned))?;
    let resp: Option<Value> = r
        .response_body
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok());
    let expected = resp.and_then(|v| {
        v["choices"][0]["message"]["content"]
            .as_str()
            .map(str::to_owned)
    });
    let mut variables = Map::new();
    variables.insert("input".into(), Value::String(input));
    Some(Row {
        variables,
        expected,
    })
}

/// `GET|POST /admin/v1/datasets`.
pub async fn datasets(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let post = req.method() == Method::POST;
    let state = Arc::clone(&s);
    with_limit(s, req, MAX_UPLOAD, async move |c, bytes, parts| {
        if !post {
            let ws = workspace_of(&parts);
            c.need(&ws, WsRole::Viewer, "reading datasets")?;
            let docs = c.t.docs().list_docs(DATASET, ws, String::new()).await.map_err(store_err)?;
            let data = docs
                .into_iter()
                .filter_map(|(_, d)| serde_json::from_value::<Dataset>(d).ok())
                .map(|d| dataset_json(&d, false))
                .collect();
            return Ok(answer(StatusCode::OK, &list(data)));
        }
        let n: NewDataset = body(&bytes)?;
        let ws = n.workspace.unwrap_or_else(|| DEFAULT_WORKSPACE.to_owned());
        c.need(&ws, WsRole::Member, "uploading datasets")?;
        if !valid_id(&n.id) {
            return Err(bad("id", "1 to 64 lowercase letters, digits, -, _ or ., starting with a letter or digit"));
        }
        let mut rows = n.rows.unwrap_or_default();
        if let Some(text) = n.jsonl {
            for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let row: Row = serde_json::from_str(line).map_err(|e| bad("jsonl", format!("line {}: {e}", i + 1)))?;
                rows.push(row);
            }
        }
        if let Some(f) = n.from_logs {
            let pairs: Vec<(String, String)> = f
                .filter
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
                .collect();
            let filter = super::params::filter(&pairs)?;
            let store = super::logs::store(&state).await?;
            let page = store
                .list(&filter, None, f.limit.unwrap_or(1000).min(MAX_ROWS))
                .await
                .map_err(|e| GatewayError::StoreUnavailable { detail: e.0 })?;
            rows.extend(page.data.iter().filter_map(row_from_record));
        }
        if rows.is_empty() {
            return Err(bad("rows", "a dataset needs rows: `rows`, `jsonl` or `from_logs` (with request bodies in the log)"));
        }
        if rows.len() > MAX_ROWS {
            return Err(bad("rows", format!("at most {MAX_ROWS} rows")));
        }
        let d = Dataset {
            id: n.id,
            workspace: ws.clone(),
            description: n.description,
            rows,
            created_ms: switchyard_tenants::now_ms(),
            created_by: c.actor.name.clone(),
        };
        c.t.docs()
            .put_doc(DATASET, ws.clone(), d.id.clone(), serde_json::to_value(&d).unwrap_or(Value::Null))
            .await
            .map_err(store_err)?;
        let out = dataset_json(&d, false);
        audit(&c, "dataset.create", format!("dataset:{ws}/{}", d.id), &ws, out.clone()).await?;
        Ok(answer(StatusCode::CREATED, &out))
    })
    .await
}

async fn load_dataset(c: &Ctx, ws: &str, id: &str) -> Result<Dataset, GatewayError> {
    c.t.docs()
        .get_doc(DATASET, ws.to_owned(), id.to_owned())
        .await
        .map_err(store_err)?
        .and_then(|d| serde_json::from_value(d).ok())
        .ok_or_else(|| GatewayError::Missing {
            message: format!("no dataset '{id}' in workspace '{ws}'"),
        })
}

/// `GET|DELETE /admin/v1/datasets/{id}`.
pub async fn dataset(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let delete = req.method() == Method::DELETE;
    with(s, req, async move |c, _, parts| {
        let ws = workspace_of(&parts);
        c.need(&ws, WsRole::Viewer, "reading datasets")?;
        let d = load_dataset(&c, &ws, &id).await?;
        if delete {
            c.need(&ws, WsRole::Member, "deleting datasets")?;
            c.t.docs()
                .delete_docs(DATASET, ws.clone(), id.clone())
                .await
                .map_err(store_err)?;
            audit(
                &c,
                "dataset.delete",
                format!("dataset:{ws}/{id}"),
                &ws,
                json!({"deleted": true}),
            )
            .await?;
            return Ok(answer(
                StatusCode::OK,
                &json!({"object": "dataset", "id": id, "deleted": true}),
            ));
        }
        Ok(answer(StatusCode::OK, &dataset_json(&d, true)))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRun {
    id: Option<String>,
    workspace: Option<String>,
    dataset: String,
    prompt: String,
    variants: Vec<RunVariant>,
    #[serde(default)]
    evaluators: Vec<Evaluator>,
    concurrency: Option<usize>,
    confidence: Option<f64>,
    /// Only the estimate; nothing runs.
    #[serde(default)]
    dry_run: bool,
}

/// `GET|POST /admin/v1/runs`.
pub async fn runs(
    State(s): State<Arc<AppState>>,
    State(g): State<Gateway>,
    req: Request,
) -> Response {
    let post = req.method() == Method::POST;
    let state = Arc::clone(&s);
    with(s, req, async move |c, bytes, parts| {
        if !post {
            let ws = workspace_of(&parts);
            c.need(&ws, WsRole::Viewer, "reading runs")?;
            let docs =
                c.t.docs()
                    .list_docs(RUN, ws, String::new())
                    .await
                    .map_err(store_err)?;
            let data = docs
                .into_iter()
                .filter_map(|(_, d)| serde_json::from_value::<RunDoc>(d).ok())
                .map(|r| run_json(&state, &r))
                .collect();
            return Ok(answer(StatusCode::OK, &list(data)));
        }
        let n: NewRun = body(&bytes)?;
        let ws = n.workspace.unwrap_or_else(|| DEFAULT_WORKSPACE.to_owned());
        c.need(&ws, WsRole::Member, "running datasets")?;
        let d = load_dataset(&c, &ws, &n.dataset).await?;
        let id =
            n.id.unwrap_or_else(|| format!("run-{}", switchyard_tenants::now_ms()));
        if !valid_id(&id) {
            return Err(bad("id", "1 to 64 lowercase letters, digits, -, _ or ."));
        }
        if n.variants.len() < 2 {
            return Err(bad("variants", "a run compares two variants or more"));
        }
        let cat = crate::prompts::catalog(&state).ok_or_else(|| GatewayError::Missing {
            message: "no tenants".into(),
        })?;
        let entry = cat.catalog.get(&ws, &n.prompt).ok_or_else(|| {
            bad(
                "prompt",
                format!("no prompt '{}' in workspace '{ws}'", n.prompt),
            )
        })?;
        for (i, v) in n.variants.iter().enumerate() {
            entry
                .choose(v.version, v.label.as_deref())
                .map_err(|e| bad(&format!("variants[{i}]"), e.to_string()))?;
        }
        for (i, e) in n.evaluators.iter().enumerate() {
            crate::runs::check_evaluator(e).map_err(|m| bad(&format!("evaluators[{i}]"), m))?;
        }
        let concurrency = n.concurrency.unwrap_or(4);
        if !(1..=MAX_CONCURRENCY).contains(&concurrency) {
            return Err(bad(
                "concurrency",
                format!("between 1 and {MAX_CONCURRENCY}"),
            ));
        }
        let mut run = RunDoc {
            id,
            workspace: ws.clone(),
            dataset: d.id.clone(),
            prompt: n.prompt,
            variants: n.variants,
            evaluators: n.evaluators,
            concurrency,
            confidence: n.confidence.unwrap_or(0.95),
            status: "running".into(),
            total: 0,
            done: 0,
            failed: 0,
            estimate: Value::Null,
            summary: None,
            created_ms: switchyard_tenants::now_ms(),
            ended_ms: None,
            created_by: c.actor.name.clone(),
        };
        run.total = (d.rows.len() * run.variants.len()) as u64;
        run.estimate = crate::runs::estimate(&state, &run, &d.rows);
        if n.dry_run {
            run.status = "estimate".into();
            return Ok(answer(StatusCode::OK, &run_json(&state, &run)));
        }
        if c.t
            .docs()
            .get_doc(RUN, ws.clone(), run.id.clone())
            .await
            .map_err(store_err)?
            .is_some()
        {
            return Err(GatewayError::Conflict {
                message: format!("a run '{}' exists", run.id),
            });
        }
        c.t.docs()
            .put_doc(
                RUN,
                ws.clone(),
                run.id.clone(),
                serde_json::to_value(&run).unwrap_or(Value::Null),
            )
            .await
            .map_err(store_err)?;
        audit(&c, "run.create", format!("run:{ws}/{}", run.id), &ws, json!({"dataset": run.dataset, "prompt": run.prompt, "variants": run.variants, "estimate": run.estimate})).await?;
        crate::runs::start(g, run.clone(), d.rows);
        Ok(answer(StatusCode::CREATED, &run_json(&state, &run)))
    })
    .await
}

async fn load_run(c: &Ctx, ws: &str, id: &str) -> Result<RunDoc, GatewayError> {
    c.t.docs()
        .get_doc(RUN, ws.to_owned(), id.to_owned())
        .await
        .map_err(store_err)?
        .and_then(|d| serde_json::from_value(d).ok())
        .ok_or_else(|| GatewayError::Missing {
            message: format!("no run '{id}' in workspace '{ws}'"),
        })
}

/// `GET|DELETE /admin/v1/runs/{id}`.
pub async fn run(State(s): State<Arc<AppState>>, Path(id): Path<String>, req: Request) -> Response {
    let delete = req.method() == Method::DELETE;
    let state = Arc::clone(&s);
    with(s, req, async move |c, _, parts| {
        let ws = workspace_of(&parts);
        c.need(&ws, WsRole::Viewer, "reading runs")?;
        let mut r = load_run(&c, &ws, &id).await?;
        if delete {
            c.need(&ws, WsRole::Member, "deleting runs")?;
            state.runs.cancel(&ws, &id);
            c.t.docs()
                .delete_docs(PROGRESS, ws.clone(), id.clone())
                .await
                .map_err(store_err)?;
            c.t.docs()
                .delete_docs(RESULT, ws.clone(), format!("{id}/"))
                .await
                .map_err(store_err)?;
            c.t.docs()
                .delete_docs(RUN, ws.clone(), id.clone())
                .await
                .map_err(store_err)?;
            audit(
                &c,
                "run.delete",
                format!("run:{ws}/{id}"),
                &ws,
                json!({"deleted": true}),
            )
            .await?;
            return Ok(answer(
                StatusCode::OK,
                &json!({"object": "run", "id": id, "deleted": true}),
            ));
        }
        // Running on another replica: the counters it writes every few calls.
        if r.status == "running" && state.runs.progress(&ws, &id).is_none() {
            if let Some(p) =
                c.t.docs()
                    .get_doc(PROGRESS, ws.clone(), id.clone())
                    .await
                    .map_err(store_err)?
            {
                r.done = p["done"].as_u64().unwrap_or(r.done);
                r.failed = p["failed"].as_u64().unwrap_or(r.failed);
            }
        }
        Ok(answer(StatusCode::OK, &run_json(&state, &r)))
    })
    .await
}

/// `GET /admin/v1/runs/{id}/results?offset=&limit=`: rows side by side, each variant's output,
/// tokens, cost, latency and scores.
pub async fn results(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    with(s, req, async move |c, _, parts| {
        let ws = workspace_of(&parts);
        c.need(&ws, WsRole::Viewer, "reading runs")?;
        let r = load_run(&c, &ws, &id).await?;
        let offset: usize = query(&parts, "offset")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let limit: usize = query(&parts, "limit")
            .and_then(|v| v.parse().ok())
            .unwrap_or(100)
            .min(1000);
        let docs =
            c.t.docs()
                .list_docs(RESULT, ws.clone(), format!("{id}/"))
                .await
                .map_err(store_err)?;
        let mut rows: std::collections::BTreeMap<u64, Map<String, Value>> =
            std::collections::BTreeMap::new();
        for (_, d) in docs {
            let (Some(row), Some(v)) =
                (d["row"].as_u64(), d["variant"].as_str().map(str::to_owned))
            else {
                continue;
            };
            rows.entry(row).or_default().insert(v, d);
        }
        let data: Vec<Value> = rows
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|(row, outs)| json!({"row": row, "outputs": outs}))
            .collect();
        Ok(answer(
            StatusCode::OK,
            &json!({"object": "list", "run": r.id, "data": data}),
        ))
    })
    .await
}

/// `POST /admin/v1/runs/{id}/cancel`: stops the run's calls (in flight ones are cut).
pub async fn cancel(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let state = Arc::clone(&s);
    with(s, req, async move |c, _, parts| {
        let ws = workspace_of(&parts);
        c.need(&ws, WsRole::Member, "cancelling runs")?;
        let mut r = load_run(&c, &ws, &id).await?;
        if let Some((done, failed)) = state.runs.progress(&ws, &id) {
            r.done = done;
            r.failed = failed;
        }
        if !state.runs.cancel(&ws, &id) {
            return Err(GatewayError::Conflict {
                message: format!("run '{id}' is not running here"),
            });
        }
        r.status = "cancelled".into();
        r.ended_ms = Some(switchyard_tenants::now_ms());
        c.t.docs()
            .put_doc(
                RUN,
                ws.clone(),
                id.clone(),
                serde_json::to_value(&r).unwrap_or(Value::Null),
            )
            .await
            .map_err(store_err)?;
        audit(
            &c,
            "run.cancel",
            format!("run:{ws}/{id}"),
            &ws,
            json!({"done": r.done, "failed": r.failed}),
        )
        .await?;
        Ok(answer(StatusCode::OK, &run_json(&state, &r)))
    })
    .await
}
