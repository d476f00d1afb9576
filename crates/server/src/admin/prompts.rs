//! `/admin/v1/prompts` and `/admin/v1/partials`: prompts with immutable numbered versions and
//! labels that point at them, and partials (versioned snippets versions include). Kept in the
//! tenants' store, so every replica serves a new version or a moved label within the
//! snapshot's refresh. Roles: a workspace's viewers read, members make versions and move
//! labels, admins move `production` and delete. Every change is audited.

use super::params::{invalid as bad, missing, query_param as query, workspace_of};
use super::tenants::{admin_error, answer, body, list, with, Ctx};
use crate::error::GatewayError;
use crate::state::AppState;
use axum::extract::{Path, Request, State};
use axum::response::Response;
use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use switchyard_prompts::catalog::PRODUCTION;
use switchyard_prompts::model::{
    valid_id, PartialDoc, PartialVersion, PromptDoc, Version, VersionBody,
};
use switchyard_prompts::render::Compiled;
use switchyard_tenants::directory::PromptSet;
use switchyard_tenants::model::{
    PartialRecord, PromptRecord, PromptVersionRecord, WsRole, DEFAULT_WORKSPACE,
};
use switchyard_tenants::store::Change;

fn prompt_doc(set: &PromptSet, ws: &str, id: &str) -> Result<PromptDoc, GatewayError> {
    set.prompt(ws, id)
        .and_then(|r| serde_json::from_value(r.doc.clone()).ok())
        .ok_or_else(|| missing(format!("no prompt '{id}' in workspace '{ws}'")))
}

fn version_of(set: &PromptSet, ws: &str, id: &str, n: u32) -> Result<Version, GatewayError> {
    set.version(ws, id, n)
        .and_then(|r| serde_json::from_value(r.doc.clone()).ok())
        .ok_or_else(|| missing(format!("prompt '{id}' has no version {n}")))
}

fn prompt_json(d: &PromptDoc) -> Value {
    let mut v = serde_json::to_value(d).unwrap_or(Value::Null);
    v["object"] = json!("prompt");
    v
}

fn version_json(ws: &str, id: &str, v: &Version) -> Value {
    let mut out = serde_json::to_value(v).unwrap_or(Value::Null);
    out["object"] = json!("prompt_version");
    out["prompt"] = json!(id);
    out["workspace"] = json!(ws);
    out
}

fn partial_json(p: &PartialDoc) -> Value {
    let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
    v["object"] = json!("partial");
    v
}

fn record(d: &PromptDoc) -> PromptRecord {
    PromptRecord {
        workspace: d.workspace.clone(),
        id: d.id.clone(),
        doc: serde_json::to_value(d).unwrap_or(Value::Null),
    }
}

/// The partials' latest texts in `ws`, by name, and their version numbers.
fn latest_partials(set: &PromptSet, ws: &str) -> (HashMap<String, String>, BTreeMap<String, u32>) {
    let mut texts = HashMap::new();
    let mut numbers = BTreeMap::new();
    for ((w, name), r) in &set.partials {
        if w != ws {
            continue;
        }
        if let Some(last) = serde_json::from_value::<PartialDoc>(r.doc.clone())
            .ok()
            .and_then(|d| d.versions.last().cloned())
        {
            texts.insert(name.clone(), last.template);
            numbers.insert(name.clone(), last.version);
        }
    }
    (texts, numbers)
}

/// A new version from `body`: checked, compiled against the workspace's partials (pinning
/// the ones it includes), numbered after `latest`.
fn new_version(
    c: &Ctx,
    set: &PromptSet,
    ws: &str,
    id: &str,
    latest: u32,
    body: VersionBody,
) -> Result<Version, GatewayError> {
    body.check().map_err(|e| bad(&e.param, e.message))?;
    let (texts, numbers) = latest_partials(set, ws);
    let mut v = Version {
        version: latest + 1,
        body,
        partials: BTreeMap::new(),
        created_ms: switchyard_tenants::now_ms(),
        created_by: c.actor.name.clone(),
    };
    // Compile with every partial known; pin the ones it uses, however deep.
    let compiled = Compiled::compile(id, &v, &texts).map_err(|e| bad("messages", e.message))?;
    v.partials = compiled
        .partial_names()
        .filter_map(|n| numbers.get(n).map(|num| (n.clone(), *num)))
        .collect();
    Ok(v)
}

/// `labels` in a request body: label names, checked.
fn labels_of(v: Option<Value>) -> Result<Vec<String>, GatewayError> {
    let labels: Vec<String> = match v {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => serde_json::from_value(v)
            .map_err(|_| bad("labels", "labels must be an array of label names"))?,
    };
    for l in &labels {
        if !valid_id(l) {
            return Err(bad(
                "labels",
                format!(
                    "\"{l}\" is not a label name (lowercase letters, digits, -, _ and ., up to 64)"
                ),
            ));
        }
    }
    Ok(labels)
}

/// Members move labels; `production` takes a workspace admin.
fn may_move(c: &Ctx, ws: &str, label: &str) -> Result<(), GatewayError> {
    let role = if label == PRODUCTION {
        WsRole::Admin
    } else {
        WsRole::Member
    };
    c.need(ws, role, &format!("moving the '{label}' label"))
}

/// A JSON object's fields.
type Fields = Map<String, Value>;

/// Splits a request body into the version's fields and the extra keys named in `extra`.
fn split_body(bytes: &bytes::Bytes, extra: &[&str]) -> Result<(Fields, Fields), GatewayError> {
    let mut all: Map<String, Value> = body(bytes)?;
    let mut taken = Map::new();
    for k in extra {
        if let Some(v) = all.remove(*k) {
            taken.insert((*k).to_owned(), v);
        }
    }
    Ok((all, taken))
}

fn version_body(m: Map<String, Value>) -> Result<VersionBody, GatewayError> {
    serde_path_to_error::deserialize(Value::Object(m)).map_err(|e| {
        let path = e.path().to_string();
        bad(&path, format!("{path}: {}", e.inner()))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Patch {
    description: Option<String>,
}

/// `GET|POST /admin/v1/prompts`.
pub async fn prompts(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let post = req.method() == Method::POST;
    with(s, req, async move |c, bytes, parts| {
        let snap = c.t.snapshot();
        let set = snap.prompts();
        if !post {
            let ws = query(&parts, "workspace");
            let data = set
                .prompts
                .values()
                .filter(|r| ws.as_deref().is_none_or(|w| r.workspace == w) && c.sees(&r.workspace))
                .filter_map(|r| serde_json::from_value::<PromptDoc>(r.doc.clone()).ok())
                .map(|d| prompt_json(&d))
                .collect();
            return Ok(answer(StatusCode::OK, &list(data)));
        }
        let (rest, taken) = split_body(&bytes, &["id", "workspace", "description", "labels", "version"])?;
        if !rest.is_empty() {
            let k = rest.keys().next().cloned().unwrap_or_default();
            return Err(bad(&k, format!("unknown field `{k}`: a prompt takes id, workspace, description, version and labels")));
        }
        let id = taken.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
        if !valid_id(&id) {
            return Err(bad("id", "id must be 1 to 64 lowercase letters, digits, -, _ or ., starting with a letter or digit"));
        }
        let ws = taken
            .get("workspace")
            .and_then(Value::as_str)
            .unwrap_or(DEFAULT_WORKSPACE)
            .to_owned();
        c.need(&ws, WsRole::Member, "creating prompts")?;
        if snap.workspace(&ws).is_none() {
            return Err(missing(format!("no workspace '{ws}'")));
        }
        if set.prompt(&ws, &id).is_some() {
            return Err(GatewayError::Conflict { message: format!("a prompt '{id}' exists in workspace '{ws}'") });
        }
        let labels = labels_of(taken.get("labels").cloned())?;
        for l in &labels {
            may_move(&c, &ws, l)?;
        }
        let now = switchyard_tenants::now_ms();
        let mut doc = PromptDoc {
            id: id.clone(),
            workspace: ws.clone(),
            description: taken.get("description").and_then(Value::as_str).map(str::to_owned),
            labels: BTreeMap::new(),
            latest: 0,
            created_ms: now,
            updated_ms: now,
        };
        let mut changes = Vec::new();
        match taken.get("version") {
            Some(Value::Object(m)) => {
                let v = new_version(&c, set, &ws, &id, 0, version_body(m.clone())?)?;
                doc.latest = v.version;
                for l in &labels {
                    doc.labels.insert(l.clone(), v.version);
                }
                changes.push(Change::AddPromptVersion(PromptVersionRecord {
                    workspace: ws.clone(),
                    id: id.clone(),
                    version: v.version,
                    doc: serde_json::to_value(&v).unwrap_or(Value::Null),
                }));
            }
            None | Some(Value::Null) if labels.is_empty() => {}
            None | Some(Value::Null) => return Err(bad("labels", "labels need a version to point at")),
            Some(_) => return Err(bad("version", "version must be an object (messages, model, params, ...)")),
        }
        changes.insert(0, Change::PutPrompt(record(&doc)));
        c.t.change_prompts(&c.actor, "prompt.create", format!("prompt:{ws}/{id}"), &ws, None, Some(prompt_json(&doc)), changes)
            .await
            .map_err(admin_error)?;
        Ok(answer(StatusCode::CREATED, &prompt_json(&doc)))
    })
    .await
}

/// `GET|PATCH|DELETE /admin/v1/prompts/{id}`.
pub async fn prompt(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let method = req.method().clone();
    with(s, req, async move |c, bytes, parts| {
        let ws = workspace_of(&parts);
        c.need(&ws, WsRole::Viewer, "reading prompts")?;
        let snap = c.t.snapshot();
        let set = snap.prompts();
        let doc = prompt_doc(set, &ws, &id)?;
        match method {
            Method::GET => {
                let mut v = prompt_json(&doc);
                v["versions"] = Value::Array(
                    set.versions_of(&ws, &id)
                        .filter_map(|r| serde_json::from_value::<Version>(r.doc.clone()).ok())
                        .map(|ver| json!({"version": ver.version, "created_ms": ver.created_ms, "created_by": ver.created_by, "note": ver.body.note}))
                        .collect(),
                );
                Ok(answer(StatusCode::OK, &v))
            }
            Method::PATCH => {
                c.need(&ws, WsRole::Member, "editing prompts")?;
                let p: Patch = body(&bytes)?;
                let mut after = doc.clone();
                after.description = p.description;
                after.updated_ms = switchyard_tenants::now_ms();
                c.t.change_prompts(&c.actor, "prompt.update", format!("prompt:{ws}/{id}"), &ws, Some(prompt_json(&doc)), Some(prompt_json(&after)), vec![Change::PutPrompt(record(&after))])
                    .await
                    .map_err(admin_error)?;
                Ok(answer(StatusCode::OK, &prompt_json(&after)))
            }
            _ => {
                c.need(&ws, WsRole::Admin, "deleting prompts")?;
                c.t.change_prompts(&c.actor, "prompt.delete", format!("prompt:{ws}/{id}"), &ws, Some(prompt_json(&doc)), None, vec![Change::DeletePrompt { workspace: ws.clone(), id: id.clone() }])
                    .await
                    .map_err(admin_error)?;
                Ok(answer(StatusCode::OK, &json!({"object": "prompt", "id": id, "workspace": ws, "deleted": true})))
            }
        }
    })
    .await
}

/// `GET|POST /admin/v1/prompts/{id}/versions`.
pub async fn versions(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let post = req.method() == Method::POST;
    with(s, req, async move |c, bytes, parts| {
        let ws = workspace_of(&parts);
        c.need(&ws, WsRole::Viewer, "reading prompts")?;
        let snap = c.t.snapshot();
        let set = snap.prompts();
        let doc = prompt_doc(set, &ws, &id)?;
        if !post {
            let data = set
                .versions_of(&ws, &id)
                .filter_map(|r| serde_json::from_value::<Version>(r.doc.clone()).ok())
                .map(|v| version_json(&ws, &id, &v))
                .collect();
            return Ok(answer(StatusCode::OK, &list(data)));
        }
        c.need(&ws, WsRole::Member, "making prompt versions")?;
        let (rest, taken) = split_body(&bytes, &["labels"])?;
        let labels = labels_of(taken.get("labels").cloned())?;
        for l in &labels {
            may_move(&c, &ws, l)?;
        }
        let v = new_version(&c, set, &ws, &id, doc.latest, version_body(rest)?)?;
        let mut after = doc.clone();
        after.latest = v.version;
        after.updated_ms = v.created_ms;
        for l in &labels {
            after.labels.insert(l.clone(), v.version);
        }
        let out = version_json(&ws, &id, &v);
        c.t.change_prompts(
            &c.actor,
            "prompt.version.create",
            format!("prompt:{ws}/{id}@{}", v.version),
            &ws,
            Some(prompt_json(&doc)),
            Some(out.clone()),
            vec![
                Change::AddPromptVersion(PromptVersionRecord {
                    workspace: ws.clone(),
                    id: id.clone(),
                    version: v.version,
                    doc: serde_json::to_value(&v).unwrap_or(Value::Null),
                }),
                Change::PutPrompt(record(&after)),
            ],
        )
        .await
        .map_err(admin_error)?;
        Ok(answer(StatusCode::CREATED, &out))
    })
    .await
}

/// `GET /admin/v1/prompts/{id}/versions/{version}`.
pub async fn version(
    State(s): State<Arc<AppState>>,
    Path((id, n)): Path<(String, u32)>,
    req: Request,
) -> Response {
    with(s, req, async move |c, _, parts| {
        let ws = workspace_of(&parts);
        c.need(&ws, WsRole::Viewer, "reading prompts")?;
        let snap = c.t.snapshot();
        let v = version_of(snap.prompts(), &ws, &id, n)?;
        Ok(answer(StatusCode::OK, &version_json(&ws, &id, &v)))
    })
    .await
}

/// `GET /admin/v1/prompts/{id}/diff?from=1&to=2`.
pub async fn diff(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    with(s, req, async move |c, _, parts| {
        let ws = workspace_of(&parts);
        c.need(&ws, WsRole::Viewer, "reading prompts")?;
        let snap = c.t.snapshot();
        let set = snap.prompts();
        let doc = prompt_doc(set, &ws, &id)?;
        let num = |name: &str, default: u32| -> Result<u32, GatewayError> {
            match query(&parts, name) {
                None => Ok(default),
                Some(v) => v
                    .parse()
                    .map_err(|_| bad(name, format!("{name} must be a version number"))),
            }
        };
        let to = num("to", doc.latest)?;
        let from = num("from", to.saturating_sub(1).max(1))?;
        let a = version_of(set, &ws, &id, from)?;
        let b = version_of(set, &ws, &id, to)?;
        Ok(answer(
            StatusCode::OK,
            &switchyard_prompts::diff::versions(&a, &b),
        ))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelBody {
    version: u32,
}

/// `PUT|DELETE /admin/v1/prompts/{id}/labels/{label}`.
pub async fn label(
    State(s): State<Arc<AppState>>,
    Path((id, label)): Path<(String, String)>,
    req: Request,
) -> Response {
    let put = req.method() == Method::PUT;
    with(s, req, async move |c, bytes, parts| {
        let ws = workspace_of(&parts);
        c.need(&ws, WsRole::Viewer, "reading prompts")?;
        may_move(&c, &ws, &label)?;
        if !valid_id(&label) {
            return Err(bad(
                "label",
                "a label is 1 to 64 lowercase letters, digits, -, _ or .",
            ));
        }
        let snap = c.t.snapshot();
        let set = snap.prompts();
        let doc = prompt_doc(set, &ws, &id)?;
        let mut after = doc.clone();
        after.updated_ms = switchyard_tenants::now_ms();
        let action = if put {
            let b: LabelBody = body(&bytes)?;
            version_of(set, &ws, &id, b.version)?;
            after.labels.insert(label.clone(), b.version);
            "prompt.label.set"
        } else {
            if after.labels.remove(&label).is_none() {
                return Err(missing(format!("prompt '{id}' has no label '{label}'")));
            }
            "prompt.label.delete"
        };
        c.t.change_prompts(
            &c.actor,
            action,
            format!("prompt:{ws}/{id}:{label}"),
            &ws,
            Some(prompt_json(&doc)),
            Some(prompt_json(&after)),
            vec![Change::PutPrompt(record(&after))],
        )
        .await
        .map_err(admin_error)?;
        Ok(answer(StatusCode::OK, &prompt_json(&after)))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RenderBody {
    version: Option<u32>,
    label: Option<String>,
    #[serde(default)]
    variables: Map<String, Value>,
}

/// `POST /admin/v1/prompts/{id}/render`: the version's messages filled (the console's live
/// render; nothing is sent).
pub async fn render(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let state = Arc::clone(&s);
    with(s, req, async move |c, bytes, parts| {
        let ws = workspace_of(&parts);
        c.need(&ws, WsRole::Viewer, "reading prompts")?;
        let b: RenderBody = body(&bytes)?;
        let cat = crate::prompts::catalog(&state).ok_or_else(|| missing("no tenants".into()))?;
        let entry = cat
            .catalog
            .get(&ws, &id)
            .ok_or_else(|| missing(format!("no prompt '{id}' in workspace '{ws}'")))?;
        let chosen = entry
            .choose(b.version, b.label.as_deref())
            .map_err(|e| missing(e.to_string()))?;
        let r = chosen.compiled.render(&b.variables).map_err(|e| match e {
            switchyard_prompts::render::RenderError::Variable(v) => {
                bad(&format!("variables.{}", v.variable), v.message)
            }
            other => bad("variables", other.to_string()),
        })?;
        Ok(answer(
            StatusCode::OK,
            &crate::prompts::rendered_json(&chosen, &r),
        ))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPartial {
    name: String,
    #[serde(default)]
    workspace: Option<String>,
    template: String,
}

/// `GET|POST /admin/v1/partials`: list, or add a partial (a new version when it exists).
pub async fn partials(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let post = req.method() == Method::POST;
    with(s, req, async move |c, bytes, parts| {
        let snap = c.t.snapshot();
        let set = snap.prompts();
        if !post {
            let ws = query(&parts, "workspace");
            let data = set
                .partials
                .values()
                .filter(|r| ws.as_deref().is_none_or(|w| r.workspace == w) && c.sees(&r.workspace))
                .filter_map(|r| serde_json::from_value::<PartialDoc>(r.doc.clone()).ok())
                .map(|d| partial_json(&d))
                .collect();
            return Ok(answer(StatusCode::OK, &list(data)));
        }
        let p: NewPartial = body(&bytes)?;
        let ws = p.workspace.unwrap_or_else(|| DEFAULT_WORKSPACE.to_owned());
        c.need(&ws, WsRole::Member, "editing partials")?;
        if !valid_id(&p.name) {
            return Err(bad(
                "name",
                "a partial's name is 1 to 64 lowercase letters, digits, -, _ or .",
            ));
        }
        switchyard_prompts::template::Template::compile(&p.template)
            .map_err(|e| bad("template", e.message))?;
        let before: Option<PartialDoc> = set
            .partial(&ws, &p.name)
            .and_then(|r| serde_json::from_value(r.doc.clone()).ok());
        let now = switchyard_tenants::now_ms();
        let mut doc = before.clone().unwrap_or(PartialDoc {
            name: p.name.clone(),
            workspace: ws.clone(),
            versions: Vec::new(),
            updated_ms: now,
        });
        let n = doc.versions.last().map_or(1, |v| v.version + 1);
        doc.versions.push(PartialVersion {
            version: n,
            template: p.template,
            created_ms: now,
            created_by: c.actor.name.clone(),
        });
        doc.updated_ms = now;
        let rec = PartialRecord {
            workspace: ws.clone(),
            name: p.name.clone(),
            doc: serde_json::to_value(&doc).unwrap_or(Value::Null),
        };
        c.t.change_prompts(
            &c.actor,
            "partial.put",
            format!("partial:{ws}/{}", p.name),
            &ws,
            before.as_ref().map(partial_json),
            Some(partial_json(&doc)),
            vec![Change::PutPartial(rec)],
        )
        .await
        .map_err(admin_error)?;
        let status = if n == 1 {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Ok(answer(status, &partial_json(&doc)))
    })
    .await
}

/// `GET|DELETE /admin/v1/partials/{name}`.
pub async fn partial(
    State(s): State<Arc<AppState>>,
    Path(name): Path<String>,
    req: Request,
) -> Response {
    let delete = req.method() == Method::DELETE;
    with(s, req, async move |c, _, parts| {
        let ws = workspace_of(&parts);
        c.need(&ws, WsRole::Viewer, "reading partials")?;
        let snap = c.t.snapshot();
        let doc: PartialDoc = snap
            .prompts()
            .partial(&ws, &name)
            .and_then(|r| serde_json::from_value(r.doc.clone()).ok())
            .ok_or_else(|| missing(format!("no partial '{name}' in workspace '{ws}'")))?;
        if !delete {
            return Ok(answer(StatusCode::OK, &partial_json(&doc)));
        }
        c.need(&ws, WsRole::Admin, "deleting partials")?;
        // A version that pinned it would stop rendering: refuse while one does.
        if let Some(r) = snap.prompts().versions.values().find(|r| {
            r.workspace == ws
                && serde_json::from_value::<Version>(r.doc.clone())
                    .is_ok_and(|v| v.partials.contains_key(&name))
        }) {
            return Err(GatewayError::Conflict {
                message: format!(
                    "partial '{name}' is included by prompt '{}' version {}",
                    r.id, r.version
                ),
            });
        }
        c.t.change_prompts(
            &c.actor,
            "partial.delete",
            format!("partial:{ws}/{name}"),
            &ws,
            Some(partial_json(&doc)),
            None,
            vec![Change::DeletePartial {
                workspace: ws.clone(),
                name: name.clone(),
            }],
        )
        .await
        .map_err(admin_error)?;
        Ok(answer(
            StatusCode::OK,
            &json!({"object": "partial", "name": name, "workspace": ws, "deleted": true}),
        ))
    })
    .await
}
