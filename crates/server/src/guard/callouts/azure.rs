//! `azure_content_safety`: Azure AI Content Safety's `text:analyze`
//! (`POST {endpoint}/contentsafety/text:analyze?api-version=2024-09-01`, the key in
//! `Ocp-Apim-Subscription-Key`), one request per text, a text over the API's 10,000 code points
//! in pieces; every reply read under the thresholds.

use super::{Reply, Subject};
use crate::state::AppState;
use serde_json::{json, Value};
use switchyard_guardrails::check::SecretParam;
use switchyard_guardrails::checks::callout::{content_safety_fires, split_chars, AZURE_MAX_CHARS};

const API_VERSION: &str = "2024-09-01";

/// The check's settings, as configured.
pub(super) struct Settings<'a> {
    pub endpoint: Option<&'a str>,
    pub provider: Option<&'a str>,
    pub key: Option<&'a SecretParam>,
    pub thresholds: &'a [(String, u8)],
    pub default_threshold: u8,
    pub categories: &'a [String],
    pub blocklists: &'a [String],
    pub halt_on_blocklist_hit: bool,
}

pub(super) async fn call(
    state: &AppState,
    c: &Settings<'_>,
    s: &Subject<'_>,
) -> Result<Reply, String> {
    let (endpoint, key) = resource(state, c)?;
    if s.texts.is_empty() {
        return Ok(Reply::default());
    }
    let url = url::Url::parse(&format!(
        "{endpoint}/contentsafety/text:analyze?api-version={API_VERSION}"
    ))
    .map_err(|e| format!("the Content Safety endpoint: {e}"))?;
    let (addr, host) = crate::fetch::resolve(&url).await?;
    let tls = tls()?;
    let headers = [("ocp-apim-subscription-key".to_owned(), key)];
    let mut base = json!({"outputType": "FourSeverityLevels"});
    if !c.categories.is_empty() {
        base["categories"] = json!(c.categories);
    }
    if !c.blocklists.is_empty() {
        base["blocklistNames"] = json!(c.blocklists);
        base["haltOnBlocklistHit"] = json!(c.halt_on_blocklist_hit);
    }
    let pieces: Vec<&str> = s
        .texts
        .iter()
        .flat_map(|t| split_chars(t.text, AZURE_MAX_CHARS))
        .filter(|p| !p.trim().is_empty())
        .collect();
    let replies = futures_util::future::join_all(pieces.iter().map(|text| {
        let mut body = base.clone();
        body["text"] = json!(text);
        let (url, host, tls, headers) = (&url, &host, &tls, &headers);
        async move { analyze(addr, url, host, tls, body.to_string(), headers).await }
    }))
    .await;
    let replies: Vec<Value> = replies.into_iter().collect::<Result<_, _>>()?;
    let fired = content_safety_fires(&replies, c.thresholds, c.default_threshold)?;
    Ok(Reply {
        fired: !fired.is_empty(),
        reason: (!fired.is_empty()).then(|| fired.join(", ")),
        rewritten: None,
        detail: None,
    })
}

/// The endpoint (no trailing slash) and key: the check's own, or a provider's (its base URL's
/// origin and its API key).
fn resource(state: &AppState, c: &Settings<'_>) -> Result<(String, String), String> {
    if let (Some(e), Some(k)) = (c.endpoint, c.key) {
        return Ok((e.to_owned(), k.0.clone()));
    }
    let name = c.provider.unwrap_or_default();
    let p = state
        .cfg
        .providers
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| format!("no provider '{name}' in the config"))?;
    let key = p
        .api_key
        .as_ref()
        .ok_or_else(|| format!("provider '{name}' has no API key for Content Safety"))?;
    let origin = url::Url::parse(&p.base_url)
        .map_err(|e| format!("provider '{name}': base_url: {e}"))?
        .origin()
        .ascii_serialization();
    Ok((origin, key.expose().to_owned()))
}

fn tls() -> Result<crate::upstream::TlsConfig, String> {
    static TLS: std::sync::OnceLock<Result<crate::upstream::TlsConfig, String>> =
        std::sync::OnceLock::new();
    TLS.get_or_init(crate::upstream::tls_config).clone()
}

/// One `text:analyze` request; its reply.
async fn analyze(
    addr: std::net::SocketAddr,
    url: &url::Url,
    host: &str,
    tls: &crate::upstream::TlsConfig,
    body: String,
    headers: &[(String, String)],
) -> Result<Value, String> {
    use http_body_util::BodyExt;
    let resp = crate::fetch::post_json_with(addr, url, host, tls, body.into(), headers).await?;
    let status = resp.status();
    let bytes = http_body_util::Limited::new(resp.into_body(), 1 << 20)
        .collect()
        .await
        .map_err(|e| format!("reading Azure AI Content Safety's reply: {e}"))?
        .to_bytes();
    let v: Result<Value, _> = serde_json::from_slice(&bytes);
    if !status.is_success() {
        let why = v
            .ok()
            .and_then(|v| {
                v.pointer("/error/message")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        return Err(format!("Azure AI Content Safety answered {status}: {why}"));
    }
    v.map_err(|e| format!("Azure AI Content Safety's reply is not JSON: {e}"))
}
