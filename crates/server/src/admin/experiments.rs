//! `/admin/v1/experiments`: experiments on a prompt's label (docs/experiments.md): create,
//! read, results (counts, intervals, probability best, latency, cost, errors per variant),
//! stop, promote the winner to the label (one audited call), delete. A workspace's viewers read;
//! members run experiments on labels they may move (`production` takes an admin).

use super::params::{invalid as bad, missing, workspace_of};
use super::tenants::{admin_error, answer, body, list, with, Ctx};
use crate::error::GatewayError;
use crate::state::AppState;
use axum::extract::{Path, Request, State};
use axum::response::Response;
use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use switchyard_prompts::catalog::PRODUCTION;
use switchyard_prompts::experiment::{ExperimentDoc, Metric, Mode, Status, Unit, Variant};
use switchyard_prompts::model::{valid_id, PromptDoc};
use switchyard_tenants::model::{ExperimentRecord, PromptRecord, WsRole, DEFAULT_WORKSPACE};
use switchyard_tenants::store::Change;

fn doc_json(e: &ExperimentDoc) -> Value {
    let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
    v["object"] = json!("experiment");
    v
}

fn record(e: &ExperimentDoc) -> ExperimentRecord {
    ExperimentRecord {
        workspace: e.workspace.clone(),
        id: e.id.clone(),
        doc: serde_json::to_value(e).unwrap_or(Value::Null),
    }
}

/// Running an experiment on a label changes what the label serves: who may move it may.
fn may_run(c: &Ctx, ws: &str, label: &str) -> Result<(), GatewayError> {
    let role = if label == PRODUCTION {
        WsRole::Admin
    } else {
        WsRole::Member
    };
    c.need(ws, role, &format!("experiments on the '{label}' label"))
}

fn find(c: &Ctx, ws: &str, id: &str) -> Result<ExperimentDoc, GatewayError> {
    c.t.snapshot()
        .prompts()
        .experiments
        .get(&(ws.to_owned(), id.to_owned()))
        .and_then(|r| serde_json::from_value(r.doc.clone()).ok())
        .ok_or_else(|| missing(format!("no experiment '{id}' in workspace '{ws}'")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewExperiment {
    id: String,
    workspace: Option<String>,
    description: Option<String>,
    #[serde(default)]
    prompt: Option<String>,
    label: Option<String>,
    route: Option<String>,
    variants: Vec<Variant>,
    #[serde(default)]
    unit: Unit,
    #[serde(default)]
    metric: Metric,
    #[serde(default)]
    mode: Mode,
    confidence: Option<f64>,
    floor: Option<f64>,
    min_samples: Option<u64>,
}

/// `GET|POST /admin/v1/experiments`.
pub async fn experiments(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let post = req.method() == Method::POST;
    with(s, req, async move |c, bytes, parts| {
        let snap = c.t.snapshot();
        let set = snap.prompts();
        if !post {
            let ws = super::params::pairs(parts.uri.query())
                .into_iter()
                .find(|(k, _)| k == "workspace")
                .map(|(_, v)| v);
            let data = set
                .experiments
                .values()
                .filter(|r| ws.as_deref().is_none_or(|w| r.workspace == w) && c.sees(&r.workspace))
                .filter_map(|r| serde_json::from_value::<ExperimentDoc>(r.doc.clone()).ok())
                .map(|e| doc_json(&e))
                .collect();
            return Ok(answer(StatusCode::OK, &list(data)));
        }
        let n: NewExperiment = body(&bytes)?;
        let ws = n.workspace.unwrap_or_else(|| DEFAULT_WORKSPACE.to_owned());
        c.need(&ws, WsRole::Viewer, "reading experiments")?;
        let (prompt, label) = match (&n.route, n.prompt.clone()) {
            (Some(_), None) => {
                // A route's traffic is every caller's: a workspace admin's call.
                c.need(&ws, WsRole::Admin, "experiments on a route")?;
                (String::new(), String::new())
            }
            (None, Some(p)) => {
                let label = n.label.clone().unwrap_or_else(|| PRODUCTION.to_owned());
                may_run(&c, &ws, &label)?;
                (p, label)
            }
            _ => {
                return Err(bad(
                    "prompt",
                    "name a prompt (and label) or a route, not both",
                ))
            }
        };
        if !valid_id(&n.id) {
            return Err(bad(
                "id",
                "1 to 64 lowercase letters, digits, -, _ or ., starting with a letter or digit",
            ));
        }
        if set.experiments.contains_key(&(ws.clone(), n.id.clone())) {
            return Err(GatewayError::Conflict {
                message: format!("an experiment '{}' exists in workspace '{ws}'", n.id),
            });
        }
        if n.route.is_none() {
            if set.prompt(&ws, &prompt).is_none() {
                return Err(bad(
                    "prompt",
                    format!("no prompt '{prompt}' in workspace '{ws}'"),
                ));
            }
            for (i, v) in n.variants.iter().enumerate() {
                if set.version(&ws, &prompt, v.version).is_none() {
                    return Err(bad(
                        &format!("variants[{i}].version"),
                        format!("prompt '{prompt}' has no version {}", v.version),
                    ));
                }
            }
        }
        let busy = set.experiments.values().find_map(|r| {
            let e: ExperimentDoc = serde_json::from_value(r.doc.clone()).ok()?;
            let same = e.workspace == ws
                && e.status != Status::Stopped
                && match (&n.route, &e.route) {
                    (Some(a), Some(b)) => a == b,
                    (None, None) => e.prompt == prompt && e.label == label,
                    _ => false,
                };
            same.then_some(e.id)
        });
        if let Some(other) = busy {
            return Err(GatewayError::Conflict {
                message: format!("experiment '{other}' already splits that traffic; stop it first"),
            });
        }
        let now = switchyard_tenants::now_ms();
        let e = ExperimentDoc {
            id: n.id,
            workspace: ws.clone(),
            description: n.description,
            prompt,
            label,
            route: n.route,
            variants: n.variants,
            unit: n.unit,
            metric: n.metric,
            mode: n.mode,
            confidence: n.confidence.unwrap_or(0.95),
            floor: n.floor.unwrap_or(0.05),
            min_samples: n.min_samples.unwrap_or(100),
            status: Status::Running,
            winner: None,
            started_ms: now,
            updated_ms: now,
            created_by: c.actor.name.clone(),
        };
        e.check().map_err(|err| bad(&err.param, err.message))?;
        c.t.change_prompts(
            &c.actor,
            "experiment.create",
            format!("experiment:{ws}/{}", e.id),
            &ws,
            None,
            Some(doc_json(&e)),
            vec![Change::PutExperiment(record(&e))],
        )
        .await
        .map_err(admin_error)?;
        Ok(answer(StatusCode::CREATED, &doc_json(&e)))
    })
    .await
}

/// `GET|DELETE /admin/v1/experiments/{id}`.
pub async fn experiment(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let delete = req.method() == Method::DELETE;
    with(s, req, async move |c, _, parts| {
        let ws = workspace_of(&parts);
        c.need(&ws, WsRole::Viewer, "reading experiments")?;
        let e = find(&c, &ws, &id)?;
        if !delete {
            return Ok(answer(StatusCode::OK, &doc_json(&e)));
        }
        c.need(&ws, WsRole::Admin, "deleting experiments")?;
        c.t.change_prompts(
            &c.actor,
            "experiment.delete",
            format!("experiment:{ws}/{id}"),
            &ws,
            Some(doc_json(&e)),
            None,
            vec![Change::DeleteExperiment {
                workspace: ws.clone(),
                id: id.clone(),
            }],
        )
        .await
        .map_err(admin_error)?;
        Ok(answer(
            StatusCode::OK,
            &json!({"object": "experiment", "id": id, "workspace": ws, "deleted": true}),
        ))
    })
    .await
}

/// `GET /admin/v1/experiments/{id}/results`.
pub async fn results(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let state = Arc::clone(&s);
    with(s, req, async move |c, _, parts| {
        let ws = workspace_of(&parts);
        c.need(&ws, WsRole::Viewer, "reading experiments")?;
        let e = find(&c, &ws, &id)?;
        let r = crate::experiments::results(&state, &e).await?;
        Ok(answer(StatusCode::OK, &r))
    })
    .await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Promote {
    variant: Option<String>,
}

/// `POST /admin/v1/experiments/{id}/stop` and `/promote`: stop (the label serves its own
/// version again), or point the label at a variant's version (the winner by default) and stop,
/// in one audited change.
pub async fn finish(
    State(s): State<Arc<AppState>>,
    Path((id, action)): Path<(String, String)>,
    req: Request,
) -> Response {
    with(s, req, async move |c, bytes, parts| {
        let ws = workspace_of(&parts);
        c.need(&ws, WsRole::Viewer, "reading experiments")?;
        let e = find(&c, &ws, &id)?;
        if e.route.is_some() {
            c.need(&ws, WsRole::Admin, "experiments on a route")?;
        } else {
            may_run(&c, &ws, &e.label)?;
        }
        let mut after = e.clone();
        after.status = Status::Stopped;
        after.updated_ms = switchyard_tenants::now_ms();
        let mut changes = Vec::new();
        let what = match action.as_str() {
            "stop" => "experiment.stop",
            "promote" if e.route.is_some() => {
                return Err(bad(
                    "variant",
                    "a route experiment has no label to move: change the route's targets in the config",
                ));
            }
            "promote" => {
                let p: Promote = body(&bytes)?;
                let name = p.variant.or_else(|| e.winner.clone()).ok_or_else(|| {
                    bad(
                        "variant",
                        "no winner is declared yet: name the variant to promote",
                    )
                })?;
                let v = e
                    .variants
                    .iter()
                    .find(|v| v.name == name)
                    .ok_or_else(|| bad("variant", format!("no variant '{name}'")))?;
                let snap = c.t.snapshot();
                let mut doc: PromptDoc = snap
                    .prompts()
                    .prompt(&ws, &e.prompt)
                    .and_then(|r| serde_json::from_value(r.doc.clone()).ok())
                    .ok_or_else(|| missing(format!("no prompt '{}'", e.prompt)))?;
                doc.labels.insert(e.label.clone(), v.version);
                doc.updated_ms = after.updated_ms;
                after.winner = Some(name.clone());
                changes.push(Change::PutPrompt(PromptRecord {
                    workspace: ws.clone(),
                    id: doc.id.clone(),
                    doc: serde_json::to_value(&doc).unwrap_or(Value::Null),
                }));
                "experiment.promote"
            }
            _ => {
                return Err(GatewayError::Missing {
                    message: format!("no action '{action}': stop or promote"),
                })
            }
        };
        changes.push(Change::PutExperiment(record(&after)));
        c.t.change_prompts(
            &c.actor,
            what,
            format!("experiment:{ws}/{id}"),
            &ws,
            Some(doc_json(&e)),
            Some(doc_json(&after)),
            changes,
        )
        .await
        .map_err(admin_error)?;
        Ok(answer(StatusCode::OK, &doc_json(&after)))
    })
    .await
}
