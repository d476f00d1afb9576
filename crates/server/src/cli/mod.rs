//! Command line: `serve` (the default), `config check FILE`, `config schema`, `vault new-kek`,
//! `vault rotate-kek`, `admin ...` (workspaces, keys and users in the store), `logs seed`
//! (made-up records in the request log), `prompts pull|push` (prompts as files).

mod admin;
mod catalog;
mod prompts;
mod seed;

use crate::startup::{check_exposure, serve, summary, termination_signal};
use crate::state::AppState;
use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use switchyard_config::{Config, ConfigErrors, ProcessEnv};

#[derive(Parser)]
#[command(
    name = "switchyard",
    version,
    about = "An AI gateway for OpenAI-compatible APIs"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway (the default when no command is given).
    Serve(ServeArgs),
    /// Work with config files.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The credential vault's key-encryption key (docs/governance.md).
    #[command(subcommand)]
    Vault(VaultCommand),
    /// The model catalog (prices, context windows): refresh it from a published list.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Workspaces, keys and users straight in the store, for scripts and first set-up (the
    /// admin API does the same over HTTP). Prints JSON; audited as `cli:admin`.
    Admin(admin::AdminArgs),
    /// The request log.
    #[command(subcommand)]
    Logs(LogsCommand),
    /// Prompts as files, through a gateway's admin API: pull them into a folder, push a
    /// folder's changes as new versions and label moves (docs/prompts.md).
    Prompts(prompts::PromptsArgs),
}

#[derive(Subcommand)]
enum LogsCommand {
    /// Write made-up records (spread over the last days, `metadata.seeded: true`) into the
    /// request log the config names: for trying the console, and measuring it at scale.
    Seed(seed::SeedArgs),
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Read a price list (a URL or file: LiteLLM's layout, or the catalog's own) and write the
    /// catalog file the gateway reads at start and on reload.
    Update(catalog::UpdateArgs),
}

#[derive(Subcommand)]
enum VaultCommand {
    /// Print a new key-encryption key: base64 of 32 random bytes, for a file or SWITCHYARD_KEK.
    NewKek,
    /// Re-wrap every stored credential's data key with a new KEK, in one transaction; then
    /// configure that KEK (server.tenants.kek_file or SWITCHYARD_KEK) and restart.
    RotateKek {
        /// YAML config file (as for `serve`): where the store is and the current KEK.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// The file holding the new KEK (from `switchyard vault new-kek`).
        #[arg(long)]
        new_kek_file: PathBuf,
    },
}

#[derive(Parser, Default)]
struct ServeArgs {
    /// YAML config file; SWITCHYARD_CONFIG also names one. Without it, providers come from the
    /// standard environment variables (OPENAI_API_KEY, GROQ_API_KEY, ...).
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Listen address (IP:PORT), overriding the config. Default 127.0.0.1:8080.
    #[arg(long)]
    listen: Option<String>,
    /// Allow listening on a non-loopback address with no client keys. Insecure.
    #[arg(long)]
    allow_insecure_public: bool,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate a config file and report every error with its field path and line.
    Check { file: PathBuf },
    /// Print the config file's JSON Schema (for editors).
    Schema,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => run_serve(ServeArgs::default()),
        Some(Command::Serve(a)) => run_serve(a),
        Some(Command::Config(ConfigCommand::Check { file })) => config_check(&file),
        Some(Command::Config(ConfigCommand::Schema)) => {
            println!("{}", switchyard_config::json_schema());
            ExitCode::SUCCESS
        }
        Some(Command::Vault(VaultCommand::NewKek)) => {
            match switchyard_tenants::vault::Kek::generate() {
                Ok(k) => {
                    println!("{k}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("switchyard: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some(Command::Admin(a)) => admin::admin(a),
        Some(Command::Logs(LogsCommand::Seed(a))) => seed::seed(a),
        Some(Command::Prompts(a)) => prompts::prompts(a),
        Some(Command::Catalog(CatalogCommand::Update(a))) => catalog::update(a),
        Some(Command::Vault(VaultCommand::RotateKek {
            config,
            new_kek_file,
        })) => rotate_kek(config.as_ref(), &new_kek_file),
    }
}

/// A single-threaded runtime for a command's async work (an error is already printed).
fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("switchyard: cannot start the runtime: {e}");
            ExitCode::FAILURE
        })
}

/// Opens the tenants' store that `cfg` names on a runtime of its own and runs `f` on it (for
/// the `admin` and `vault` commands).
fn on_tenants(
    cfg: &Config,
    f: impl AsyncFnOnce(std::sync::Arc<switchyard_tenants::Tenants>) -> ExitCode,
) -> ExitCode {
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async move {
        match crate::startup::tenants_from(&cfg.tenants).await {
            Ok(t) => f(t).await,
            Err(e) => {
                eprintln!("switchyard: tenants: {e}");
                ExitCode::from(2)
            }
        }
    })
}

fn rotate_kek(config: Option<&PathBuf>, new_kek_file: &PathBuf) -> ExitCode {
    let cfg = match load(config) {
        Ok((c, _)) => c,
        Err(code) => return code,
    };
    let next = match std::fs::read_to_string(new_kek_file)
        .map_err(|e| e.to_string())
        .and_then(|text| {
            switchyard_tenants::vault::Kek::from_base64(&text, &new_kek_file.display().to_string())
                .map_err(|e| e.to_string())
        }) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("switchyard: {}: {e}", new_kek_file.display());
            return ExitCode::from(2);
        }
    };
    on_tenants(&cfg, async move |tenants| {
        let actor = switchyard_tenants::admin::Actor {
            name: "cli:vault rotate-kek".into(),
            ..Default::default()
        };
        match tenants.rotate_kek(&actor, &next).await {
            Ok(n) => {
                println!(
                    "re-wrapped {n} credentials with {} ({}); configure it as server.tenants.kek_file or SWITCHYARD_KEK and restart every replica",
                    next.fingerprint(),
                    new_kek_file.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("switchyard: vault rotate-kek: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

fn print_errors(source: &str, errs: &ConfigErrors) {
    for e in &errs.0 {
        match e.line {
            Some(l) => {
                let mut e = e.clone();
                e.line = None;
                eprintln!("{source}:{l}: {e}");
            }
            None => eprintln!("{source}: {e}"),
        }
    }
}

fn load(file: Option<&PathBuf>) -> Result<(Config, String), ExitCode> {
    let file = file
        .cloned()
        .or_else(|| std::env::var_os("SWITCHYARD_CONFIG").map(PathBuf::from));
    let (result, source) = match &file {
        Some(f) => (
            switchyard_config::from_file(f, &ProcessEnv),
            f.display().to_string(),
        ),
        None => (
            switchyard_config::from_env(&ProcessEnv),
            "environment".to_owned(),
        ),
    };
    match result {
        Ok(c) => Ok((c, source)),
        Err(errs) => {
            print_errors(&source, &errs);
            Err(ExitCode::from(2))
        }
    }
}

fn config_check(file: &PathBuf) -> ExitCode {
    let (cfg, source) = match load(Some(file)) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let counts = (
        cfg.providers.len(),
        cfg.aliases.len(),
        cfg.client_keys.len(),
        cfg.routes.len(),
    );
    match AppState::build(cfg) {
        Ok(_) => {
            println!(
                "{source}: ok ({} providers, {} aliases, {} client keys, {} routes)",
                counts.0, counts.1, counts.2, counts.3
            );
            ExitCode::SUCCESS
        }
        Err(errs) => {
            let spans_errs = ConfigErrors(errs);
            print_errors(&source, &spans_errs);
            ExitCode::from(2)
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWITCHYARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A closed stderr must not take the gateway down: no internal-error reports, which would
    // themselves panic on the broken pipe.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .log_internal_errors(false)
        .try_init();
}

fn run_serve(args: ServeArgs) -> ExitCode {
    init_logging();
    // Every connection is a descriptor: take the whole allowance the system grants.
    let nofile = crate::listen::raise_nofile_limit();
    tracing::debug!(nofile, "open-file limit");
    let (mut cfg, _) = match load(args.config.as_ref()) {
        Ok(v) => v,
        Err(code) => return code,
    };
    if let Some(l) = &args.listen {
        match l.parse() {
            Ok(addr) => cfg.listen = addr,
            Err(_) => {
                eprintln!("switchyard: --listen {l}: expected IP:PORT such as 127.0.0.1:8080");
                return ExitCode::from(2);
            }
        }
    }
    cfg.allow_insecure_public |= args.allow_insecure_public;
    let listen = cfg.listen;
    let source = crate::reload::Source {
        file: args
            .config
            .clone()
            .or_else(|| std::env::var_os("SWITCHYARD_CONFIG").map(PathBuf::from)),
        listen: args.listen.as_ref().and_then(|l| l.parse().ok()),
        allow_insecure_public: args.allow_insecure_public,
    };
    let poll = match std::env::var("SWITCHYARD_CONFIG_POLL_MS")
        .ok()
        .filter(|v| !v.is_empty())
    {
        None => Some(std::time::Duration::from_secs(1)),
        Some(v) => match v.parse::<u64>() {
            Ok(0) => None,
            Ok(ms) => Some(std::time::Duration::from_millis(ms)),
            Err(_) => {
                eprintln!(
                    "switchyard: SWITCHYARD_CONFIG_POLL_MS={v}: expected milliseconds (0: off)"
                );
                return ExitCode::from(2);
            }
        },
    };
    let state = match AppState::build(cfg) {
        Ok(s) => s,
        Err(errs) => {
            print_errors("config", &ConfigErrors(errs));
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("switchyard: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("switchyard: cannot listen on {listen}: {e}");
                return ExitCode::FAILURE;
            }
        };
        // A request log that cannot be opened is a start-up error, not a silent loss of records.
        if state.log.enabled() {
            if let Err(e) = state.log.store().await {
                eprintln!("switchyard: request log: {e} (set server.log.enabled: false to run without it)");
                return ExitCode::from(2);
            }
        }
        if let Err(e) = crate::startup::open_tenants(&state).await {
            eprintln!("switchyard: tenants: {e} (set server.tenants.enabled: false to run without virtual keys)");
            return ExitCode::from(2);
        }
        if let Err(e) = crate::startup::open_limits(&state).await {
            eprintln!("switchyard: limits: {e}");
            return ExitCode::from(2);
        }
        // Virtual keys count as client keys: checked once the store is open, before serving.
        let virtual_keys = state
            .tenants
            .get()
            .map_or(0, |t| t.snapshot().key_count());
        if let Err(msg) = check_exposure(&state.cfg, virtual_keys) {
            eprintln!("switchyard: {msg}");
            return ExitCode::from(2);
        }
        let server = match serve(state, listener, axum::Router::new()) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("switchyard: {e}");
                return ExitCode::FAILURE;
            }
        };
        let stop = termination_signal();
        let (reload_stop, reload_stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(crate::reload::watch(
            server.gateway.clone(),
            source,
            poll,
            crate::reload::hangups(),
            reload_stopped,
        ));
        // Written without eprintln!, which panics when stderr has been closed.
        let _ = writeln!(std::io::stderr(), "{}", summary(&server.state(), server.addr));
        stop.await;
        let _ = reload_stop.send(true);
        tracing::info!("shutting down: draining in-flight requests");
        if !server.shutdown().await {
            tracing::warn!("drain deadline reached; remaining connections were closed");
        }
        ExitCode::SUCCESS
    })
}
