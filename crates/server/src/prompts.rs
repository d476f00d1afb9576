//! The `prompts` stage: a request that names a prompt (OpenAI's `prompt`, LiteLLM's
//! `prompt_id`, or the `x-switchyard-prompt` header) gets the chosen version's messages and
//! settings merged into its body before anything else reads it. Prompts come from the
//! tenants' snapshot, compiled once per snapshot version (`catalog`): no I/O here.
//!
//! A request with no header and no `"prompt` in its body is not parsed at all. A `prompt` on a
//! Responses request whose id this workspace does not have is left alone: OpenAI serves stored
//! prompts of its own, and an OpenAI upstream gets the field as sent.

use crate::context::{PromptUse, RequestCtx};
use crate::error::GatewayError;
use crate::state::AppState;
use axum::response::IntoResponse;
use bytes::Bytes;
use http::HeaderMap;
use serde_json::{Map, Value};
use std::sync::Arc;
use switchyard_prompts::apply::{apply as merge, Api, ApplyError};
use switchyard_prompts::catalog::{Catalog, LookupError, PromptRef};
use switchyard_prompts::model::{PartialDoc, PromptDoc, Version};
use switchyard_prompts::reference;
use switchyard_prompts::render::RenderError;
use switchyard_providers::Operation;

/// The header naming a prompt (`id`, `id@3`, `id:staging`); the answer carries `id@version`.
pub const HEADER: &str = "x-switchyard-prompt";
/// The header with the variables (a JSON object), for callers that cannot add body fields.
pub const VARIABLES_HEADER: &str = "x-switchyard-prompt-variables";

/// The compiled prompts of one tenants' snapshot version.
pub struct ApiPrompts {
    pub version: u64,
    pub catalog: Catalog,
}

/// The catalog for the current snapshot, built when the snapshot moved; `None` without
/// tenants.
pub fn catalog(state: &AppState) -> Option<Arc<ApiPrompts>> {
    let t = state.tenants.get()?;
    let snap = t.snapshot();
    if let Some(c) = state
        .api_prompts
        .load_full()
        .filter(|c| c.version == snap.version)
    {
        return Some(c);
    }
    let set = snap.prompts();
    let docs: Vec<PromptDoc> = set
        .prompts
        .values()
        .filter_map(|r| serde_json::from_value(r.doc.clone()).ok())
        .collect();
    let versions: Vec<(String, String, Version)> = set
        .versions
        .values()
        .filter_map(|r| {
            let v = serde_json::from_value(r.doc.clone()).ok()?;
            Some((r.workspace.clone(), r.id.clone(), v))
        })
        .collect();
    let partials: Vec<PartialDoc> = set
        .partials
        .values()
        .filter_map(|r| serde_json::from_value(r.doc.clone()).ok())
        .collect();
    let experiments = set
        .experiments
        .values()
        .filter_map(|r| serde_json::from_value(r.doc.clone()).ok())
        .collect();
    let (catalog, errors) = Catalog::build(docs, versions, &partials);
    let catalog = catalog.with_experiments(experiments);
    for e in errors {
        tracing::warn!(error = %e, "a prompt version does not compile");
    }
    let made = Arc::new(ApiPrompts {
        version: snap.version,
        catalog,
    });
    state.api_prompts.store(Some(Arc::clone(&made)));
    Some(made)
}

fn api_of(op: Operation) -> Option<Api> {
    match op {
        Operation::ChatCompletions => Some(Api::Chat),
        Operation::Responses => Some(Api::Responses),
        Operation::Messages => Some(Api::Messages),
        _ => None,
    }
}

fn bad(e: ApplyError) -> GatewayError {
    GatewayError::BadRequest {
        message: e.message,
        param: e.param,
    }
}

/// Where a request's variables were, for naming one in an error.
fn variables_param(from_header: bool, body: &Map<String, Value>) -> &'static str {
    if from_header {
        VARIABLES_HEADER
    } else if body.contains_key("prompt") {
        "prompt.variables"
    } else {
        "prompt_variables"
    }
}

/// The stage: `body` with the prompt merged in, or as it came.
pub fn apply(
    state: &AppState,
    ctx: &mut RequestCtx,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Bytes, GatewayError> {
    let Some(api) = api_of(ctx.op) else {
        return Ok(body);
    };
    let header = headers.get(HEADER).and_then(|v| v.to_str().ok());
    if header.is_none() && memchr::memmem::find(&body, b"\"prompt").is_none() {
        return Ok(body);
    }
    let Ok(Value::Object(mut obj)) = serde_json::from_slice::<Value>(&body) else {
        // Not an object: the parse stage says what is wrong with it.
        return Ok(body);
    };
    let r: PromptRef = match header {
        Some(h) => reference::from_header(
            h,
            headers.get(VARIABLES_HEADER).and_then(|v| v.to_str().ok()),
        )
        .map_err(bad)?,
        None => match reference::from_body(&obj).map_err(bad)? {
            Some(r) => r,
            None => return Ok(body),
        },
    };
    let workspace = ctx
        .principal
        .as_ref()
        .map_or(switchyard_tenants::model::DEFAULT_WORKSPACE, |p| {
            p.workspace.as_str()
        });
    let prompts = catalog(state);
    let mut chosen = match prompts.as_ref().map(|p| p.catalog.choose(workspace, &r)) {
        Some(Ok(c)) => c,
        // OpenAI's own stored prompt: passed on untouched.
        Some(Err(LookupError::NoPrompt(_))) | None
            if header.is_none() && api == Api::Responses && obj.contains_key("prompt") =>
        {
            return Ok(body)
        }
        Some(Err(e)) => {
            return Err(GatewayError::Missing {
                message: e.to_string(),
            })
        }
        None => {
            return Err(GatewayError::Missing {
                message: format!("No prompt '{}': prompts need the tenants' store.", r.id),
            })
        }
    };
    // An experiment on the label the request reached splits it between versions (a request
    // naming a version explicitly is outside any experiment).
    let mut variant = None;
    if let (Some(p), None, Some(label)) = (&prompts, r.version, chosen.label.clone()) {
        if let Some(exp) = p.catalog.experiment(workspace, &r.id, &label) {
            let subject = crate::experiments::subject(exp, headers, &obj, ctx);
            let weights = state.experiment_alloc.weights(exp);
            if let Some(v) = switchyard_prompts::experiment::assign(&exp.id, &subject, &weights)
                .and_then(|i| exp.variants.get(i))
            {
                if let Some(entry) = p.catalog.get(workspace, &r.id) {
                    let c =
                        entry
                            .choose(Some(v.version), None)
                            .map_err(|e| GatewayError::Missing {
                                message: format!("Experiment '{}': {e}", exp.id),
                            })?;
                    chosen.compiled = c.compiled;
                    variant = Some((exp.id.clone(), v.clone()));
                }
            }
        }
    }
    let rendered = chosen.compiled.render(&r.variables).map_err(|e| match e {
        RenderError::Variable(v) => GatewayError::BadRequest {
            message: v.message,
            param: Some(format!(
                "{}.{}",
                variables_param(header.is_some(), &obj),
                v.variable
            )),
        },
        RenderError::Template(t) => GatewayError::BadRequest {
            message: format!("Prompt '{}' could not be rendered: {t}", r.id),
            param: None,
        },
    })?;
    reference::strip(&mut obj);
    merge(api, &mut obj, &rendered).map_err(bad)?;
    if let Some((_, v)) = &variant {
        // A variant's model and parameters replace the version's and the caller's.
        if let Some(m) = &v.model {
            obj.insert("model".into(), Value::String(m.clone()));
        }
        for (k, val) in &v.params {
            obj.insert(k.clone(), val.clone());
        }
    }
    ctx.prompt = Some(PromptUse {
        id: chosen.compiled.id.clone(),
        version: chosen.compiled.version,
        label: chosen.label,
        experiment: variant.map(|(e, v)| (e, v.name)),
    });
    serde_json::to_vec(&obj)
        .map(Bytes::from)
        .map_err(|e| GatewayError::Internal {
            detail: e.to_string(),
        })
}

/// Names the prompt version an answer came from (`x-switchyard-prompt: id@version`) and the
/// experiment's variant (`x-switchyard-experiment: id/variant`).
pub fn add_header(ctx: &RequestCtx, resp: &mut axum::response::Response) {
    if let Some((e, variant)) = &ctx.route_experiment {
        if let Ok(v) = http::HeaderValue::from_str(&format!("{e}/{variant}")) {
            resp.headers_mut()
                .insert(http::HeaderName::from_static(EXPERIMENT_HEADER), v);
        }
    }
    if let Some(p) = &ctx.prompt {
        if let Ok(v) = http::HeaderValue::from_str(&format!("{}@{}", p.id, p.version)) {
            resp.headers_mut()
                .insert(http::HeaderName::from_static(HEADER), v);
        }
        if let Some((e, variant)) = &p.experiment {
            if let Ok(v) = http::HeaderValue::from_str(&format!("{e}/{variant}")) {
                resp.headers_mut()
                    .insert(http::HeaderName::from_static(EXPERIMENT_HEADER), v);
            }
        }
    }
}

/// The header naming the experiment and variant an answer came from.
pub const EXPERIMENT_HEADER: &str = "x-switchyard-experiment";

/// A rendered version as `/render` answers: which version, and the filled request parts.
pub fn rendered_json(
    chosen: &switchyard_prompts::catalog::Chosen,
    r: &switchyard_prompts::render::Rendered,
) -> Value {
    let mut v = serde_json::json!({
        "object": "prompt_render",
        "prompt": chosen.compiled.id,
        "version": chosen.compiled.version,
        "label": chosen.label,
        "messages": r.messages,
    });
    if let Ok(Value::Object(body)) = serde_json::to_value(&r.body) {
        for (k, val) in body {
            if k != "messages" && k != "note" {
                v[k.as_str()] = val;
            }
        }
    }
    v
}

/// The fields of a `/v1/prompts/{id}/...` body that choose and fill the prompt; the rest are
/// the chat request's parameters.
fn prompt_fields(id: &str, body: &[u8]) -> Result<(PromptRef, Map<String, Value>), GatewayError> {
    let mut obj: Map<String, Value> = if body.is_empty() {
        Map::new()
    } else {
        serde_json::from_slice(body).map_err(|e| GatewayError::BadRequest {
            message: format!("request body: {e}"),
            param: None,
        })?
    };
    let variables = match obj.remove("variables") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(GatewayError::BadRequest {
                message: "variables must be an object".into(),
                param: Some("variables".into()),
            })
        }
    };
    let version = match obj.remove("version") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| GatewayError::BadRequest {
                    message: "version must be a version number".into(),
                    param: Some("version".into()),
                })?,
        ),
    };
    let label = match obj.remove("label") {
        None | Some(Value::Null) => None,
        Some(Value::String(l)) => Some(l),
        Some(_) => {
            return Err(GatewayError::BadRequest {
                message: "label must be a string".into(),
                param: Some("label".into()),
            })
        }
    };
    Ok((
        PromptRef {
            id: id.to_owned(),
            version,
            label,
            variables,
        },
        obj,
    ))
}

/// A `/v1/prompts/{id}/completions` body as the chat request it stands for.
pub fn completions_body(id: &str, body: &[u8]) -> Result<Bytes, GatewayError> {
    let (r, mut obj) = prompt_fields(id, body)?;
    let mut prompt = serde_json::json!({"id": r.id, "variables": r.variables});
    if let Some(v) = r.version.map(|n| n.to_string()).or(r.label) {
        prompt["version"] = Value::String(v);
    }
    obj.insert("prompt".into(), prompt);
    serde_json::to_vec(&obj)
        .map(Bytes::from)
        .map_err(|e| GatewayError::Internal {
            detail: e.to_string(),
        })
}

/// `POST /v1/prompts/{id}/render` for a client key: the caller's workspace's prompt, filled.
pub async fn render_for_caller(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    body: &[u8],
) -> Result<axum::response::Response, GatewayError> {
    let principal = crate::auth::caller(state, headers).await?;
    let workspace = principal
        .as_ref()
        .map_or(switchyard_tenants::model::DEFAULT_WORKSPACE, |p| {
            p.workspace.as_str()
        });
    let (r, _) = prompt_fields(id, body)?;
    let prompts = catalog(state).ok_or_else(|| GatewayError::Missing {
        message: format!("No prompt '{id}': prompts need the tenants' store."),
    })?;
    let chosen = prompts
        .catalog
        .choose(workspace, &r)
        .map_err(|e| GatewayError::Missing {
            message: e.to_string(),
        })?;
    let rendered = chosen.compiled.render(&r.variables).map_err(|e| match e {
        RenderError::Variable(v) => GatewayError::BadRequest {
            message: v.message,
            param: Some(format!("variables.{}", v.variable)),
        },
        RenderError::Template(t) => GatewayError::BadRequest {
            message: t.to_string(),
            param: None,
        },
    })?;
    let mut resp = axum::Json(rendered_json(&chosen, &rendered)).into_response();
    if let Ok(v) = http::HeaderValue::from_str(&format!(
        "{}@{}",
        chosen.compiled.id, chosen.compiled.version
    )) {
        resp.headers_mut()
            .insert(http::HeaderName::from_static(HEADER), v);
    }
    Ok(resp)
}
