//! `webhook`: the event POSTed to an administrator's service, whose reply (Portkey's shape)
//! passes or fails it and may rewrite the body.

use super::{Reply, Subject};
use serde_json::Value;
use switchyard_guardrails::policy::Stage;

/// POSTs the event to `url`; its reply read.
pub(super) async fn call(
    url: &str,
    headers: &[(String, String)],
    s: &Subject<'_>,
) -> Result<Reply, String> {
    let r = post(url, headers, s.event.to_owned()).await?;
    let key = match s.stage {
        Stage::Input => "request",
        Stage::Output => "response",
    };
    // `{"verdict": false}` fails; Portkey's `transformedData.{request,response}.json` or
    // `transformed_body` rewrites.
    let pass = r.get("verdict").and_then(Value::as_bool).unwrap_or(true);
    let reason = r
        .get("reason")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let rewritten = r
        .get("transformed_body")
        .or_else(|| r.pointer(&format!("/transformedData/{key}/json")))
        .filter(|v| v.is_object())
        .cloned();
    Ok(Reply {
        fired: !pass,
        reason,
        rewritten,
        detail: None,
    })
}

/// POSTs `payload` to a guardrail webhook; its JSON reply.
async fn post(url: &str, headers: &[(String, String)], payload: String) -> Result<Value, String> {
    use http_body_util::BodyExt;
    static TLS: std::sync::OnceLock<Result<crate::upstream::TlsConfig, String>> =
        std::sync::OnceLock::new();
    let url = url::Url::parse(url).map_err(|e| e.to_string())?;
    let (addr, host) = crate::fetch::resolve(&url).await?;
    let tls = TLS.get_or_init(crate::upstream::tls_config).clone()?;
    let resp =
        crate::fetch::post_json_with(addr, &url, &host, &tls, payload.into(), headers).await?;
    let status = resp.status();
    let body = http_body_util::Limited::new(resp.into_body(), 1 << 20)
        .collect()
        .await
        .map_err(|e| format!("reading the webhook's reply: {e}"))?
        .to_bytes();
    if !status.is_success() {
        return Err(format!("the webhook answered {status}"));
    }
    serde_json::from_slice(&body).map_err(|e| format!("the webhook's reply is not JSON: {e}"))
}
