//! `bedrock_guardrail`: Amazon Bedrock Guardrails' `ApplyGuardrail`
//! (`POST /guardrail/{id}/version/{version}/apply` on bedrock-runtime), signed with SigV4 by the
//! configured Bedrock provider's credentials and region (or its Bedrock API key). A block
//! fires; a guardrail that only masked (`ANONYMIZED`) passes with its masked texts written back
//! into the body.

use super::{Reply, Subject};
use crate::state::AppState;
use serde_json::json;
use switchyard_guardrails::policy::Stage;
use switchyard_providers::ProviderKind;

pub(super) async fn call(
    state: &AppState,
    provider: &str,
    guardrail_id: &str,
    version: &str,
    s: &Subject<'_>,
) -> Result<Reply, String> {
    let up = super::provider(state, provider)?;
    if up.kind != ProviderKind::Bedrock {
        return Err(format!("provider '{provider}' is not a Bedrock provider"));
    }
    if s.texts.is_empty() {
        return Ok(Reply::default());
    }
    let source = match s.stage {
        Stage::Input => "INPUT",
        Stage::Output => "OUTPUT",
    };
    let content: Vec<_> = s
        .texts
        .iter()
        .map(|t| json!({"text": {"text": t.text}}))
        .collect();
    let body = json!({"source": source, "content": content}).to_string();
    let path = format!(
        "/guardrail/{}/version/{}/apply",
        encode(guardrail_id),
        encode(version)
    );
    let far = tokio::time::Instant::now() + std::time::Duration::from_secs(3600);
    let v = super::post_to_provider(up, &path, body, "the Bedrock guardrail", far).await?;
    let r = switchyard_guardrails::checks::callout::bedrock_reply(&v, s.texts.len())?;
    let rewritten = r.masked.as_deref().map(|m| s.with_texts(m));
    Ok(Reply {
        fired: r.blocked,
        reason: Some(r.labels.join(", ")).filter(|l| !l.is_empty()),
        rewritten,
        detail: None,
    })
}

/// A path segment percent-encoded (an ARN's `:` and `/`).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
