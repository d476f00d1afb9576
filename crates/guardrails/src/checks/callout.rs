//! Checks that ask a service. The gateway makes the call (this crate does no I/O): it sends the
//! request or the answer, and the service's reply decides.

use crate::catalogue::Entry;
use crate::check::{params, CallOut, Check, ParamError, Span};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

pub const CHECKS: &[Entry] = &[
    Entry {
        id: "webhook",
        family: "callout",
        summary: "an administrator's service, sent the request or the answer, says pass or fail and may rewrite it",
        build: Webhook::build,
    },
    Entry {
        id: "moderation_api",
        family: "callout",
        summary: "harmful content by category, from a configured provider's moderation endpoint (OpenAI's shape)",
        build: Moderation::build,
    },
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModerationParams {
    /// A provider of the config (its base URL and key are used).
    provider: String,
    /// Default `omni-moderation-latest`.
    model: Option<String>,
    #[serde(default)]
    thresholds: BTreeMap<String, f64>,
    default_threshold: Option<f64>,
    /// Default 5000.
    timeout_ms: Option<u64>,
}

/// A provider's moderation endpoint.
pub struct Moderation(CallOut);

impl Moderation {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: ModerationParams = params(v)?;
        if p.provider.trim().is_empty() {
            return Err(ParamError::new("provider", "name a provider of the config"));
        }
        let score = |x: f64| (0.0..=1.0).contains(&x);
        if let Some((k, _)) = p.thresholds.iter().find(|(_, x)| !score(**x)) {
            return Err(ParamError::new(
                format!("thresholds.{k}"),
                "a score from 0 to 1",
            ));
        }
        if p.default_threshold.is_some_and(|x| !score(x)) {
            return Err(ParamError::new("default_threshold", "a score from 0 to 1"));
        }
        let timeout = p.timeout_ms.unwrap_or(5000);
        if !(1..=60_000).contains(&timeout) {
            return Err(ParamError::new("timeout_ms", "1 to 60000"));
        }
        Ok(Box::new(Moderation(CallOut::Moderation {
            provider: p.provider,
            model: p.model.unwrap_or_else(|| "omni-moderation-latest".into()),
            thresholds: p.thresholds.into_iter().collect(),
            default_threshold: p.default_threshold,
            timeout: std::time::Duration::from_millis(timeout),
        })))
    }
}

impl Check for Moderation {
    fn id(&self) -> &'static str {
        "moderation_api"
    }
    fn sources(&self) -> &'static [crate::check::Source] {
        &[crate::check::Source::Input, crate::check::Source::Output]
    }
    fn span(&self) -> Span {
        Span::Whole
    }
    fn call_out(&self) -> Option<&CallOut> {
        Some(&self.0)
    }
}

/// What a moderation result says under these thresholds: the categories that fire (empty:
/// passes). `results` is the provider's `results` array.
pub fn moderation_fires(
    results: &Value,
    thresholds: &[(String, f64)],
    default: Option<f64>,
) -> Vec<String> {
    let mut out = Vec::new();
    for r in results.as_array().into_iter().flatten() {
        let scores = r["category_scores"].as_object();
        let flagged_cats = r["categories"].as_object();
        for (cat, score) in scores.into_iter().flatten() {
            let s = score.as_f64().unwrap_or(0.0);
            let limit = thresholds
                .iter()
                .find(|(k, _)| k == cat)
                .map(|(_, t)| *t)
                .or(default);
            let fires = match limit {
                Some(t) => s >= t,
                None => flagged_cats
                    .and_then(|c| c.get(cat))
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            };
            if fires && !out.contains(cat) {
                out.push(cat.clone());
            }
        }
    }
    out
}

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

#[cfg(test)]
mod moderation_tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::moderation_fires;
    use serde_json::json;

    #[test]
    fn thresholds_decide_per_category_else_the_providers_flag() {
        let results = json!([{"flagged": true, "categories": {"violence": true, "hate": false},
            "category_scores": {"violence": 0.7, "hate": 0.2}}]);
        assert_eq!(moderation_fires(&results, &[], None), vec!["violence"]);
        assert!(moderation_fires(&results, &[("violence".into(), 0.8)], None).is_empty());
        assert_eq!(
            moderation_fires(&results, &[], Some(0.1)),
            vec!["hate", "violence"]
        );
        let e = crate::catalogue::build(
            "moderation_api",
            &json!({"provider": "openai", "thresholds": {"hate": 2}}),
        )
        .err()
        .unwrap();
        assert_eq!(e.path, "thresholds.hate");
    }
}
