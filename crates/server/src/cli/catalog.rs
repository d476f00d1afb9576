//! `switchyard catalog update --from URL|FILE`: refreshes the price list without a rebuild. It
//! reads a published list (LiteLLM's `model_prices_and_context_window.json`, or a file in the
//! catalog's own layout), lays `--overrides` on top, and writes the catalog file the gateway
//! reads at start and at each reload (`server.catalog_file`, default `switchyard.catalog.json`).

use clap::Parser;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use switchyard_providers::catalog::{import, Entry};

#[derive(Parser)]
pub(super) struct UpdateArgs {
    /// Where the price list is: an http(s) URL or a file.
    #[arg(long)]
    from: String,
    /// A file in the catalog's layout whose entries win over the list's (your own figures).
    #[arg(long)]
    overrides: Option<PathBuf>,
    /// What to record as the list's source in the file (default: where it was read from).
    #[arg(long)]
    note: Option<String>,
    /// The file to write. Default `switchyard.catalog.json`.
    #[arg(long, default_value = switchyard_config::DEFAULT_CATALOG_FILE)]
    out: PathBuf,
}

async fn read(from: &str) -> Result<String, String> {
    if !(from.starts_with("http://") || from.starts_with("https://")) {
        return std::fs::read_to_string(from).map_err(|e| format!("{from}: {e}"));
    }
    let url = url::Url::parse(from).map_err(|e| format!("{from}: {e}"))?;
    let (addr, host) = crate::fetch::resolve(&url).await?;
    let tls = crate::upstream::tls_config()?;
    let resp = crate::fetch::get_at(addr, &url, &host, &tls, "application/json").await?;
    if !resp.status().is_success() {
        return Err(format!("{from}: the server answered {}", resp.status()));
    }
    let body = http_body_util::BodyExt::collect(http_body_util::Limited::new(
        resp.into_body(),
        64 * 1024 * 1024,
    ))
    .await
    .map_err(|e| format!("{from}: {e}"))?
    .to_bytes();
    String::from_utf8(body.to_vec()).map_err(|e| format!("{from}: {e}"))
}

/// A list's entries, and where its figures come from.
type Listed = (BTreeMap<String, Entry>, BTreeMap<String, String>);

/// The entries and sources of a list in either layout.
fn entries(text: &str, from: &str, note: Option<&str>) -> Result<Listed, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("{from}: not JSON: {e}"))?;
    if doc.get("models").is_some() && doc.get("sources").is_some() {
        let models: BTreeMap<String, Entry> =
            serde_json::from_value(doc["models"].clone()).map_err(|e| format!("{from}: {e}"))?;
        let sources = serde_json::from_value(doc["sources"].clone()).unwrap_or_default();
        return Ok((models, sources));
    }
    let models = import::from_litellm(&doc)?;
    let mut sources = BTreeMap::new();
    sources.insert(
        "imported".to_owned(),
        format!(
            "{}: LiteLLM's model_prices_and_context_window.json layout (MIT-licensed data), converted to USD per million tokens",
            note.unwrap_or(from)
        ),
    );
    Ok((models, sources))
}

pub(super) fn update(args: UpdateArgs) -> ExitCode {
    let rt = match super::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let made = rt.block_on(async {
        let text = read(&args.from).await?;
        let (mut models, mut sources) = entries(&text, &args.from, args.note.as_deref())?;
        let imported = models.len();
        let mut overridden = 0;
        if let Some(path) = &args.overrides {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let (over, over_sources) = entries(&text, &path.display().to_string(), None)?;
            overridden = over.len();
            for (k, v) in over {
                models.insert(k, v);
            }
            sources.extend(over_sources);
        }
        // The result must load as the gateway will load it.
        let out = json!({"sources": sources, "models": models});
        let text = serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?;
        switchyard_providers::catalog::Catalog::from_json(&text)?;
        let priced = models.values().filter(|e| e.pricing().is_some()).count();
        std::fs::write(&args.out, text + "\n")
            .map_err(|e| format!("{}: {e}", args.out.display()))?;
        Ok::<_, String>((imported, overridden, models.len(), priced))
    });
    match made {
        Ok((imported, overridden, total, priced)) => {
            println!(
                "{}: {total} models ({priced} priced): {imported} from {}, {overridden} from overrides; the gateway reads it at start and on reload (SIGHUP)",
                args.out.display(),
                args.from
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("switchyard: catalog update: {e}");
            ExitCode::FAILURE
        }
    }
}
