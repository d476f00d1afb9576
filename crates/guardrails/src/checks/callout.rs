//! Checks that ask a service. The gateway makes the call (this crate does no I/O): it sends the
//! request or the answer, and the service's reply decides.

use crate::catalogue::Entry;
use crate::check::{params, CallOut, Check, ParamError, Span};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

pub const CHECKS: &[Entry] = &[Entry {
    id: "webhook",
    family: "callout",
    summary: "an administrator's service, sent the request or the answer, says pass or fail and may rewrite it",
    build: Webhook::build,
}];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookParams {
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// Default 3000 (Portkey's).
    timeout_ms: Option<u64>,
}

/// A webhook: `POST url` with the event, and a reply `{"verdict": bool}` (with an optional
/// rewritten body).
pub struct Webhook(CallOut);

impl Webhook {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: WebhookParams = params(v)?;
        match url::Url::parse(&p.url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {}
            _ => return Err(ParamError::new("url", "an http(s) URL with a host")),
        }
        let timeout = p.timeout_ms.unwrap_or(3000);
        if !(1..=60_000).contains(&timeout) {
            return Err(ParamError::new("timeout_ms", "1 to 60000"));
        }
        for name in p.headers.keys() {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Err(ParamError::new(
                    format!("headers.{name}"),
                    "not a header name",
                ));
            }
        }
        Ok(Box::new(Webhook(CallOut::Webhook {
            url: p.url,
            headers: p.headers.into_iter().collect(),
            timeout: std::time::Duration::from_millis(timeout),
        })))
    }
}

impl Check for Webhook {
    fn id(&self) -> &'static str {
        "webhook"
    }
    fn span(&self) -> Span {
        Span::Whole
    }
    fn call_out(&self) -> Option<&CallOut> {
        Some(&self.0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use serde_json::json;

    #[test]
    fn a_webhook_is_a_call_out_with_its_url_and_timeout() {
        let c = crate::catalogue::build(
            "webhook",
            &json!({"url": "https://hooks.example.com/check", "headers": {"x-token": "t"}}),
        )
        .unwrap();
        match c.call_out() {
            Some(crate::check::CallOut::Webhook {
                url,
                headers,
                timeout,
            }) => {
                assert_eq!(url, "https://hooks.example.com/check");
                assert_eq!(headers, &vec![("x-token".to_owned(), "t".to_owned())]);
                assert_eq!(timeout.as_millis(), 3000);
            }
            other => panic!("{other:?}"),
        }
        for (bad, field) in [
            (json!({"url": "ftp://x/"}), "url"),
            (json!({"url": "http://x/", "timeout_ms": 0}), "timeout_ms"),
            (
                json!({"url": "http://x/", "headers": {"bad header": "v"}}),
                "headers.bad header",
            ),
        ] {
            assert_eq!(
                crate::catalogue::build("webhook", &bad).err().unwrap().path,
                field
            );
        }
    }
}
