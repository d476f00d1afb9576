//! `switchyard prompts pull DIR` / `push DIR [--dry-run]`: prompts as files, so that teams
//! review them in git and deploy them from CI. Both talk to a gateway's admin API (`--url`,
//! an admin key in `--admin-key` or SWITCHYARD_ADMIN_KEY). The layout:
//!
//! - `DIR/<workspace>/<id>.yaml`: `id`, `description`, `labels` (label → a version number, or
//!   `latest` for the version the file describes) and `version` (the latest version's content:
//!   messages, model, params, tools, variables, ...).
//! - `DIR/<workspace>/partials/<name>.mustache`: a partial's latest text.
//!
//! `push` makes a new version only when a file's content differs from the prompt's latest
//! version, then moves the labels the file names (labels the file does not name are left as
//! they are); partials go first, so new versions pin their new text. `--dry-run` prints the
//! same plan and changes nothing.

use clap::{Parser, Subcommand};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use switchyard_prompts::model::{Version, VersionBody};
use yaml_rust2::{Yaml, YamlEmitter, YamlLoader};

#[derive(Parser)]
pub(super) struct PromptsArgs {
    /// The gateway's URL (its admin API answers there).
    #[arg(long, global = true, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// An admin key; SWITCHYARD_ADMIN_KEY gives it too (keep it off the command line in CI).
    #[arg(long, global = true)]
    admin_key: Option<String>,
    #[command(subcommand)]
    command: PromptsCommand,
}

#[derive(Subcommand)]
enum PromptsCommand {
    /// Write every prompt and partial the key can read into DIR (overwriting their files).
    Pull {
        dir: PathBuf,
        /// Only this workspace's.
        #[arg(long)]
        workspace: Option<String>,
    },
    /// Make new versions, partial versions and label moves so that the gateway matches DIR.
    Push {
        dir: PathBuf,
        /// Print what would change; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

pub(super) fn prompts(a: PromptsArgs) -> ExitCode {
    let Some(key) = a
        .admin_key
        .clone()
        .or_else(|| std::env::var("SWITCHYARD_ADMIN_KEY").ok())
        .filter(|k| !k.is_empty())
    else {
        eprintln!("switchyard: an admin key is needed: --admin-key or SWITCHYARD_ADMIN_KEY");
        return ExitCode::from(2);
    };
    let rt = match super::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let done = rt.block_on(async {
        let api = Api::new(&a.url, key)?;
        match a.command {
            PromptsCommand::Pull { dir, workspace } => pull(&api, &dir, workspace.as_deref()).await,
            PromptsCommand::Push { dir, dry_run } => push(&api, &dir, dry_run).await,
        }
    });
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchyard: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The admin API, as the CLI calls it.
struct Api {
    base: url::Url,
    key: String,
    tls: crate::upstream::TlsConfig,
}

impl Api {
    fn new(base: &str, key: String) -> Result<Api, String> {
        let base = url::Url::parse(base).map_err(|e| format!("--url: {e}"))?;
        Ok(Api {
            base,
            key,
            tls: crate::upstream::tls_config()?,
        })
    }

    /// A call: its status and JSON answer.
    async fn call(
        &self,
        method: http::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), String> {
        let url = self.base.join(path).map_err(|e| e.to_string())?;
        let (addr, host) = crate::fetch::resolve(&url).await?;
        let headers = vec![("authorization".to_owned(), format!("Bearer {}", self.key))];
        let body = body.map(|b| bytes::Bytes::from(b.to_string()));
        let resp =
            crate::fetch::json_request_at(method, addr, &url, &host, &self.tls, body, &headers)
                .await?;
        let status = resp.status().as_u16();
        let bytes = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    /// A call that must succeed.
    async fn ok(
        &self,
        method: http::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, String> {
        let (s, v) = self.call(method.clone(), path, body).await?;
        if (200..300).contains(&s) {
            Ok(v)
        } else {
            let m = v["error"]["message"].as_str().unwrap_or("(no message)");
            Err(format!("{method} {path}: {s}: {m}"))
        }
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

// ---- YAML <-> JSON ----

fn to_yaml(v: &Value) -> Yaml {
    match v {
        Value::Null => Yaml::Null,
        Value::Bool(b) => Yaml::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Yaml::Integer(i),
            None => Yaml::Real(n.to_string()),
        },
        Value::String(s) => Yaml::String(s.clone()),
        Value::Array(a) => Yaml::Array(a.iter().map(to_yaml).collect()),
        Value::Object(m) => Yaml::Hash(
            m.iter()
                .map(|(k, v)| (Yaml::String(k.clone()), to_yaml(v)))
                .collect(),
        ),
    }
}

fn from_yaml(y: &Yaml, at: &str) -> Result<Value, String> {
    Ok(match y {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Integer(i) => json!(i),
        Yaml::Real(r) => json!(r
            .parse::<f64>()
            .map_err(|_| format!("{at}: {r} is not a number"))?),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Array(a) => Value::Array(
            a.iter()
                .enumerate()
                .map(|(i, v)| from_yaml(v, &format!("{at}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Hash(h) => {
            let mut m = Map::new();
            for (k, v) in h {
                let Yaml::String(k) = k else {
                    return Err(format!("{at}: keys must be strings"));
                };
                let path = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                m.insert(k.clone(), from_yaml(v, &path)?);
            }
            Value::Object(m)
        }
        Yaml::Alias(_) | Yaml::BadValue => return Err(format!("{at}: unsupported YAML value")),
    })
}

fn write_yaml(path: &Path, v: &Value) -> Result<(), String> {
    let mut out = String::from(
        "# A Switchyard prompt: edit it, review it, then `switchyard prompts push`.\n",
    );
    let mut em = YamlEmitter::new(&mut out);
    em.multiline_strings(true);
    em.dump(&to_yaml(v))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    out.push('\n');
    std::fs::write(path, out).map_err(|e| format!("{}: {e}", path.display()))
}

fn read_yaml(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let docs = YamlLoader::load_from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let doc = docs
        .first()
        .ok_or_else(|| format!("{}: empty", path.display()))?;
    from_yaml(doc, "").map_err(|e| format!("{}: {e}", path.display()))
}

// ---- pull ----

/// A version's content as the file holds it (what push compares).
fn content_of(v: &Value) -> Result<Value, String> {
    let version: Version =
        serde_json::from_value(v.clone()).map_err(|e| format!("a version: {e}"))?;
    serde_json::to_value(&version.body).map_err(|e| e.to_string())
}

async fn pull(api: &Api, dir: &Path, only: Option<&str>) -> Result<(), String> {
    let q = only
        .map(|w| format!("?workspace={}", enc(w)))
        .unwrap_or_default();
    let prompts = api
        .ok(http::Method::GET, &format!("/admin/v1/prompts{q}"), None)
        .await?;
    for p in prompts["data"].as_array().into_iter().flatten() {
        let (Some(id), Some(ws)) = (p["id"].as_str(), p["workspace"].as_str()) else {
            continue;
        };
        let latest = p["latest"].as_u64().unwrap_or(0);
        let mut file = Map::new();
        file.insert("id".into(), json!(id));
        if let Some(d) = p["description"].as_str() {
            file.insert("description".into(), json!(d));
        }
        let labels: Map<String, Value> = p["labels"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(l, n)| {
                let v = if n.as_u64() == Some(latest) {
                    json!("latest")
                } else {
                    n.clone()
                };
                (l.clone(), v)
            })
            .collect();
        file.insert("labels".into(), Value::Object(labels));
        if latest > 0 {
            let v = api
                .ok(
                    http::Method::GET,
                    &format!(
                        "/admin/v1/prompts/{}/versions/{latest}?workspace={}",
                        enc(id),
                        enc(ws)
                    ),
                    None,
                )
                .await?;
            file.insert("version".into(), content_of(&v)?);
        }
        let d = dir.join(ws);
        std::fs::create_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        let path = d.join(format!("{id}.yaml"));
        write_yaml(&path, &Value::Object(file))?;
        println!("wrote {}", path.display());
    }
    let partials = api
        .ok(http::Method::GET, &format!("/admin/v1/partials{q}"), None)
        .await?;
    for p in partials["data"].as_array().into_iter().flatten() {
        let (Some(name), Some(ws)) = (p["name"].as_str(), p["workspace"].as_str()) else {
            continue;
        };
        let Some(text) = p["versions"]
            .as_array()
            .and_then(|v| v.last())
            .and_then(|v| v["template"].as_str())
        else {
            continue;
        };
        let d = dir.join(ws).join("partials");
        std::fs::create_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        let path = d.join(format!("{name}.mustache"));
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

// ---- push ----

/// Files of one kind: `(workspace, path)`.
type Found = Vec<(String, PathBuf)>;

/// Files under `dir`, sorted: `*.yaml` prompts and `partials/*.mustache`.
fn files(dir: &Path) -> Result<(Found, Found), String> {
    let mut prompts = Vec::new();
    let mut partials = Vec::new();
    let read = |d: &Path| -> Result<Vec<PathBuf>, String> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(d)
            .map_err(|e| format!("{}: {e}", d.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        v.sort();
        Ok(v)
    };
    for ws_dir in read(dir)?.into_iter().filter(|p| p.is_dir()) {
        let ws = ws_dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        for f in read(&ws_dir)? {
            if f.is_dir() && f.file_name().is_some_and(|n| n == "partials") {
                for p in read(&f)? {
                    if p.extension().is_some_and(|e| e == "mustache") {
                        partials.push((ws.clone(), p));
                    }
                }
            } else if f.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                prompts.push((ws.clone(), f));
            }
        }
    }
    Ok((prompts, partials))
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_owned()
}

async fn push(api: &Api, dir: &Path, dry: bool) -> Result<(), String> {
    let would = if dry { "would " } else { "" };
    let (prompt_files, partial_files) = files(dir)?;
    for (ws, path) in &partial_files {
        let name = stem(path);
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let (s, cur) = api
            .call(
                http::Method::GET,
                &format!("/admin/v1/partials/{}?workspace={}", enc(&name), enc(ws)),
                None,
            )
            .await?;
        let last = cur["versions"]
            .as_array()
            .and_then(|v| v.last())
            .and_then(|v| v["template"].as_str());
        if s == 200 && last == Some(text.as_str()) {
            println!("unchanged partial {ws}/{name}");
            continue;
        }
        println!(
            "{would}{} partial {ws}/{name}",
            if s == 200 { "update" } else { "create" }
        );
        if !dry {
            api.ok(
                http::Method::POST,
                "/admin/v1/partials",
                Some(&json!({"name": name, "workspace": ws, "template": text})),
            )
            .await?;
        }
    }
    for (ws, path) in &prompt_files {
        let file = read_yaml(path)?;
        let id = file["id"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| stem(path));
        let content = file.get("version").cloned().unwrap_or(Value::Null);
        let body: VersionBody = serde_json::from_value(content.clone())
            .map_err(|e| format!("{}: version: {e}", path.display()))?;
        let labels: Vec<(String, Value)> = file["labels"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let at_latest: Vec<String> = labels
            .iter()
            .filter(|(_, v)| v == "latest")
            .map(|(k, _)| k.clone())
            .collect();
        let q = format!("?workspace={}", enc(ws));
        let (s, cur) = api
            .call(
                http::Method::GET,
                &format!("/admin/v1/prompts/{}{q}", enc(&id)),
                None,
            )
            .await?;
        if s == 404 {
            println!(
                "{would}create prompt {ws}/{id} (version 1; labels: {})",
                at_latest.join(", ")
            );
            if !dry {
                let mut b =
                    json!({"id": id, "workspace": ws, "version": content, "labels": at_latest});
                if let Some(d) = file.get("description") {
                    b["description"] = d.clone();
                }
                api.ok(http::Method::POST, "/admin/v1/prompts", Some(&b))
                    .await?;
            }
            continue;
        }
        if s != 200 {
            return Err(format!(
                "GET prompt {ws}/{id}: {s}: {}",
                cur["error"]["message"]
            ));
        }
        let latest = cur["latest"].as_u64().unwrap_or(0);
        let same = if latest == 0 {
            false
        } else {
            let v = api
                .ok(
                    http::Method::GET,
                    &format!("/admin/v1/prompts/{}/versions/{latest}{q}", enc(&id)),
                    None,
                )
                .await?;
            let server: Version = serde_json::from_value(v).map_err(|e| e.to_string())?;
            server.body == body
        };
        let target = if same {
            latest
        } else {
            println!("{would}make version {ws}/{id}@{}", latest + 1);
            latest + 1
        };
        if !same && !dry {
            api.ok(
                http::Method::POST,
                &format!("/admin/v1/prompts/{}/versions{q}", enc(&id)),
                Some(&content),
            )
            .await?;
        }
        if file.get("description") != cur.get("description") && file.get("description").is_some() {
            println!("{would}update description of {ws}/{id}");
            if !dry {
                api.ok(
                    http::Method::PATCH,
                    &format!("/admin/v1/prompts/{}{q}", enc(&id)),
                    Some(&json!({"description": file["description"]})),
                )
                .await?;
            }
        }
        let mut moved = false;
        for (label, v) in &labels {
            let n = match v {
                Value::String(s) if s == "latest" => target,
                other => other.as_u64().ok_or_else(|| {
                    format!(
                        "{}: labels.{label} must be a version number or latest",
                        path.display()
                    )
                })?,
            };
            let now = cur["labels"][label.as_str()].as_u64();
            if now == Some(n) {
                continue;
            }
            moved = true;
            let from = now.map_or("nothing".to_owned(), |n| n.to_string());
            println!("{would}move label {ws}/{id}:{label} {from} -> {n}");
            if !dry {
                api.ok(
                    http::Method::PUT,
                    &format!("/admin/v1/prompts/{}/labels/{}{q}", enc(&id), enc(label)),
                    Some(&json!({"version": n})),
                )
                .await?;
            }
        }
        if same && !moved {
            println!("unchanged prompt {ws}/{id}");
        }
    }
    Ok(())
}
