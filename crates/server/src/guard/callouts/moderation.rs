//! `moderation_api`: the texts sent to a configured provider's `/moderations` (OpenAI's
//! shape), with thresholds per category.

use super::{Reply, Subject};
use crate::state::AppState;
use serde_json::json;

pub(super) async fn call(
    state: &AppState,
    provider: &str,
    model: &str,
    thresholds: &[(String, f64)],
    default_threshold: Option<f64>,
    s: &Subject<'_>,
) -> Result<Reply, String> {
    let up = super::provider(state, provider)?;
    if s.texts.is_empty() {
        return Ok(Reply::default());
    }
    let input: Vec<&str> = s.texts.iter().map(|t| t.text).collect();
    let body = json!({"model": model, "input": input}).to_string();
    // The call-out's own timeout bounds this; the provider's first-byte timeout still applies.
    let far = tokio::time::Instant::now() + std::time::Duration::from_secs(3600);
    let v =
        super::post_to_provider(up, "/moderations", body, "the moderation endpoint", far).await?;
    let fired = switchyard_guardrails::checks::callout::moderation_fires(
        &v["results"],
        thresholds,
        default_threshold,
    );
    Ok(Reply {
        fired: !fired.is_empty(),
        reason: (!fired.is_empty()).then(|| fired.join(", ")),
        rewritten: None,
        detail: None,
    })
}
