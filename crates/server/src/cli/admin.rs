//! `switchyard admin ...`: the admin API's operations straight on the store, for scripts and
//! first set-up. Prints JSON; every change is audited as `cli:admin`. Secrets are never taken
//! on the command line (where shell history and `ps` would show them): a credential's JSON
//! comes on standard input.

use super::{load, on_tenants};
use clap::{Parser, Subcommand};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;
use switchyard_tenants::admin::{KeyPatch, NewCredential, NewKey, NewUser, NewWorkspace};
use switchyard_tenants::store::AuditQuery;

#[derive(Parser)]
pub(super) struct AdminArgs {
    /// YAML config file (as for `serve`): where the store is, the server secret and the KEK.
    #[arg(long, short, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// List workspaces.
    Workspaces,
    /// Create a workspace.
    CreateWorkspace { name: String },
    /// List virtual keys (of one workspace with --workspace).
    Keys {
        #[arg(long)]
        workspace: Option<String>,
    },
    /// Create a virtual key; the key is printed this once.
    CreateKey {
        #[arg(long, default_value = "default")]
        workspace: String,
        #[arg(long)]
        name: String,
        /// A model pattern the key may use (repeat for more); none: any model.
        #[arg(long = "model")]
        models: Vec<String>,
    },
    /// Rotate a key: the new key is printed this once; the old one works for the grace period.
    RotateKey {
        id: String,
        /// How long the old secret keeps working, in seconds. Default 86400 (a day).
        #[arg(long)]
        grace_secs: Option<i64>,
    },
    /// Disable a key (its requests are a 403 until enabled).
    DisableKey { id: String },
    /// Enable a disabled key.
    EnableKey { id: String },
    /// Delete a key.
    DeleteKey { id: String },
    /// List stored provider credentials (never their secrets).
    Credentials,
    /// Store a provider credential, read as JSON from standard input:
    /// `{"provider", "workspace"?, "name", "api_key" | "aws": {...} | "gcp_service_account": {...}}`.
    CreateCredential,
    /// Delete a stored credential.
    DeleteCredential { id: String },
    /// Create a user with an organisation role (owner, admin, member).
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "member")]
        role: String,
    },
    /// Create an admin key acting as a user; the key is printed this once.
    CreateAdminKey {
        #[arg(long)]
        user: String,
        #[arg(long)]
        name: String,
    },
    /// List a workspace's end users, most recently seen first.
    EndUsers {
        #[arg(long, default_value = "default")]
        workspace: String,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Block an end user of a workspace (with --unblock, unblock it).
    BlockEndUser {
        #[arg(long, default_value = "default")]
        workspace: String,
        id: String,
        #[arg(long)]
        unblock: bool,
    },
    /// Audit events, newest first.
    Audit {
        #[arg(long)]
        workspace: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

fn list(data: Vec<Value>) -> Value {
    json!({"object": "list", "data": data})
}

fn to_json(v: impl serde::Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn key_patch(disabled: bool) -> KeyPatch {
    KeyPatch {
        disabled: Some(disabled),
        ..KeyPatch::default()
    }
}

pub(super) fn admin(args: AdminArgs) -> ExitCode {
    let cfg = match load(args.config.as_ref()) {
        Ok((c, _)) => c,
        Err(code) => return code,
    };
    let providers: Vec<String> = cfg.providers.iter().map(|p| p.name.clone()).collect();
    on_tenants(&cfg, async move |t| {
        let actor = switchyard_tenants::admin::Actor {
            name: "cli:admin".into(),
            ..Default::default()
        };
        let err = |e: switchyard_tenants::admin::AdminError| e.to_string();
        let out: Result<Value, String> = match args.command {
            AdminCommand::Workspaces => Ok(list(
                t.snapshot().workspaces().iter().map(to_json).collect(),
            )),
            AdminCommand::CreateWorkspace { name } => t
                .create_workspace(
                    &actor,
                    NewWorkspace {
                        name,
                        metadata: Default::default(),
                    },
                )
                .await
                .map(to_json)
                .map_err(err),
            AdminCommand::Keys { workspace } => Ok(list(
                t.snapshot()
                    .keys(workspace.as_deref())
                    .iter()
                    .map(|k| k.public(None))
                    .collect(),
            )),
            AdminCommand::CreateKey {
                workspace,
                name,
                models,
            } => {
                let input = NewKey {
                    name,
                    models,
                    metadata: Default::default(),
                    tags: Vec::new(),
                    expires_ms: None,
                };
                t.create_key(&actor, &workspace, input)
                    .await
                    .map(|(k, secret)| {
                        let mut v = k.public(None);
                        v["key"] = json!(secret);
                        v
                    })
                    .map_err(err)
            }
            AdminCommand::RotateKey { id, grace_secs } => t
                .rotate_key(&actor, &id, grace_secs.map(|s| s.saturating_mul(1000)))
                .await
                .map(|(k, secret)| {
                    let mut v = k.public(None);
                    v["key"] = json!(secret);
                    v
                })
                .map_err(err),
            AdminCommand::DisableKey { id } => t
                .update_key(&actor, &id, key_patch(true))
                .await
                .map(|k| k.public(None))
                .map_err(err),
            AdminCommand::EnableKey { id } => t
                .update_key(&actor, &id, key_patch(false))
                .await
                .map(|k| k.public(None))
                .map_err(err),
            AdminCommand::DeleteKey { id } => t
                .delete_key(&actor, &id)
                .await
                .map(|()| json!({"id": id, "object": "key", "deleted": true}))
                .map_err(err),
            AdminCommand::Credentials => Ok(list(
                t.snapshot()
                    .credential_list()
                    .iter()
                    .map(|c| c.public())
                    .collect(),
            )),
            AdminCommand::CreateCredential => {
                let input: Result<NewCredential, String> =
                    serde_json::from_reader(std::io::stdin().lock())
                        .map_err(|e| format!("standard input: {e}"));
                match input {
                    Ok(input) => t
                        .create_credential(&actor, input, &|name: &str| {
                            providers.iter().any(|p| p == name)
                        })
                        .await
                        .map(|c| c.public())
                        .map_err(err),
                    Err(e) => Err(e),
                }
            }
            AdminCommand::DeleteCredential { id } => t
                .delete_credential(&actor, &id)
                .await
                .map(|()| json!({"id": id, "object": "credential", "deleted": true}))
                .map_err(err),
            AdminCommand::CreateUser { email, role } => match serde_json::from_value(json!(role)) {
                Ok(role) => t
                    .create_user(
                        &actor,
                        NewUser {
                            email,
                            name: String::new(),
                            role,
                            workspaces: Default::default(),
                        },
                    )
                    .await
                    .map(to_json)
                    .map_err(err),
                Err(_) => Err(format!("--role {role}: expected owner, admin or member")),
            },
            AdminCommand::CreateAdminKey { user, name } => t
                .create_admin_key(&actor, &user, &name)
                .await
                .map(|(k, secret)| {
                    let mut v = k.public();
                    v["key"] = json!(secret);
                    v
                })
                .map_err(err),
            AdminCommand::EndUsers { workspace, limit } => t
                .end_users(&workspace, limit)
                .await
                .map(|us| list(us.iter().map(|u| u.public()).collect()))
                .map_err(err),
            AdminCommand::BlockEndUser {
                workspace,
                id,
                unblock,
            } => match t.block_end_user(&actor, &workspace, &id, !unblock).await {
                Ok(()) => t
                    .find_end_user(&workspace, &id)
                    .await
                    .map(|u| u.public())
                    .map_err(err),
                Err(e) => Err(err(e)),
            },
            AdminCommand::Audit { workspace, limit } => t
                .audit_events(AuditQuery {
                    workspace,
                    before: None,
                    limit,
                })
                .await
                .map(|events| {
                    list(
                        events
                            .into_iter()
                            .map(|l| {
                                let mut v = to_json(&l.event);
                                v["seq"] = json!(l.seq);
                                v
                            })
                            .collect(),
                    )
                })
                .map_err(err),
        };
        match out {
            Ok(v) => {
                println!("{v}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("switchyard: admin: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
