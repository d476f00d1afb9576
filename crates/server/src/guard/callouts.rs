//! The checks that call out (`CallOut`): the request or the answer sent to a service, all of a
//! stage's at once after the in-process checks, each within its timeout. One file per
//! service: `webhook`, `moderation` (a provider's `/moderations`), `bedrock` (Bedrock
//! Guardrails' `ApplyGuardrail`), `azure` (Azure AI Content Safety's `text:analyze`), `judge`
//! (an LLM judge through the gateway's own routes: `crate::internal`), `similarity`
//! (embeddings through them).

mod azure;
mod bedrock;
mod judge;
mod moderation;
mod similarity;
mod webhook;

use crate::context::RequestCtx;
use crate::state::AppState;
use serde_json::Value;
use switchyard_guardrails::check::CallOut;
use switchyard_guardrails::policy::{CallOutcome, Stage};
use switchyard_guardrails::{Report, Source};

/// What a service said.
#[derive(Debug, Default)]
pub(super) struct Reply {
    /// The service failed the text.
    pub fired: bool,
    /// Why (the finding's label).
    pub reason: Option<String>,
    /// A passing service's rewrite of the whole body (request or answer).
    pub rewritten: Option<Value>,
    /// What the call used or measured, for the verdict (a judge's tokens, cost and score).
    pub detail: Option<Value>,
}

/// A text of the body the services read (the caller's messages, the answer's text; not tool
/// arguments), with where it is.
pub(super) struct Text<'a> {
    pub pointer: &'a str,
    pub text: &'a str,
}

/// What a stage's call-outs read.
pub(super) struct Subject<'a> {
    pub stage: Stage,
    /// The request or the whole answer, in the caller's shape.
    pub body: &'a Value,
    pub texts: &'a [Text<'a>],
    /// The webhook's event (`{event, operation, model, request_id, metadata, request|response}`).
    pub event: &'a str,
    /// Who the calls are made for (the gateway's own calls go on their behalf).
    pub caller: &'a crate::internal::Caller,
}

impl Subject<'_> {
    /// The body with each text replaced by the one at the same place in `new`.
    pub fn with_texts(&self, new: &[String]) -> Value {
        let mut out = self.body.clone();
        for (t, n) in self.texts.iter().zip(new) {
            if let Some(slot) = out.pointer_mut(t.pointer) {
                *slot = Value::String(n.clone());
            }
        }
        out
    }
}

/// A body a call-out sent back to take the place of the one it was sent, and who sent it.
pub(super) struct Rewrite {
    pub body: Value,
    pub policy: String,
    pub check: &'static str,
}

/// Makes the call-outs of the policies that run at `stage`, all at once, with the request or
/// the answer (`body`); adds their verdicts to `report` and the request's. A service that
/// passes may send back a rewritten body, which is returned.
pub(super) async fn run(
    state: &AppState,
    ctx: &mut RequestCtx,
    stage: Stage,
    body: &Value,
    report: &mut Report,
) -> Option<Rewrite> {
    let calls = ctx.guarded.set.call_outs(stage);
    if calls.is_empty() {
        return None;
    }
    let (event, key) = match stage {
        Stage::Input => ("input", "request"),
        Stage::Output => ("output", "response"),
    };
    let event = serde_json::json!({
        "event": event,
        "operation": ctx.op.name(),
        "model": ctx.requested_model,
        "request_id": ctx.request_id.to_str().unwrap_or_default(),
        "metadata": ctx.metadata,
        key: body,
    })
    .to_string();
    let located = match stage {
        Stage::Input => switchyard_guardrails::extract::request_texts(ctx.op.name(), body),
        Stage::Output => switchyard_guardrails::extract::answer_texts(ctx.op.name(), body),
    };
    let texts: Vec<Text<'_>> = located
        .iter()
        .filter(|l| matches!(l.source, Source::Input | Source::Output))
        .filter_map(|l| {
            let text = body.pointer(&l.pointer).and_then(Value::as_str)?;
            Some(Text {
                pointer: &l.pointer,
                text,
            })
        })
        .collect();
    let caller = crate::internal::Caller::of(ctx);
    let subject = Subject {
        stage,
        body,
        texts: &texts,
        event: &event,
        caller: &caller,
    };
    let replies = futures_util::future::join_all(calls.iter().map(|(p, i)| {
        let call = p.checks[*i].check.call_out();
        let tag = format!("{}/{}", p.id, p.checks[*i].check.id());
        let subject = &subject;
        async move {
            let started = std::time::Instant::now();
            let reply = match call {
                Some(c) => {
                    let limit = c.timeout();
                    tokio::time::timeout(limit, one(state, c, subject, &tag))
                        .await
                        .unwrap_or_else(|_| {
                            Err(format!(
                                "{} did not answer within {} ms",
                                c.service(),
                                limit.as_millis()
                            ))
                        })
                }
                None => Err("not a call-out".to_owned()),
            };
            (reply, started.elapsed().as_micros() as u64)
        }
    }))
    .await;
    let before = report.verdicts.len();
    let mut rewritten = None;
    for ((p, i), (reply, latency_us)) in calls.iter().zip(replies) {
        let check = p.checks[*i].check.id();
        let outcome = match reply {
            Ok(r) => {
                if !r.fired {
                    if let Some(v) = r.rewritten {
                        rewritten = Some(Rewrite {
                            body: v,
                            policy: p.id.clone(),
                            check,
                        });
                    }
                }
                CallOutcome {
                    check,
                    fired: r.fired,
                    label: r.reason,
                    error: None,
                    latency_us,
                    detail: r.detail,
                }
            }
            Err(e) => CallOutcome {
                check,
                fired: false,
                label: None,
                error: Some(e),
                latency_us,
                detail: None,
            },
        };
        report.add_call_out(p, stage, outcome);
    }
    ctx.guarded
        .verdicts
        .extend(report.verdicts[before..].iter().cloned());
    rewritten
}

/// One call-out (its timeout is the caller's); `tag` is `policy/check`.
async fn one(
    state: &AppState,
    call: &CallOut,
    s: &Subject<'_>,
    tag: &str,
) -> Result<Reply, String> {
    match call {
        CallOut::Webhook { url, headers, .. } => webhook::call(url, headers, s).await,
        CallOut::Moderation {
            provider,
            model,
            thresholds,
            default_threshold,
            ..
        } => moderation::call(state, provider, model, thresholds, *default_threshold, s).await,
        CallOut::BedrockGuardrail {
            provider,
            guardrail_id,
            version,
            ..
        } => bedrock::call(state, provider, guardrail_id, version, s).await,
        CallOut::AzureContentSafety {
            endpoint,
            provider,
            key,
            thresholds,
            default_threshold,
            categories,
            blocklists,
            halt_on_blocklist_hit,
            ..
        } => {
            let settings = azure::Settings {
                endpoint: endpoint.as_deref(),
                provider: provider.as_deref(),
                key: key.as_ref(),
                thresholds,
                default_threshold: *default_threshold,
                categories,
                blocklists,
                halt_on_blocklist_hit: *halt_on_blocklist_hit,
            };
            azure::call(state, &settings, s).await
        }
        CallOut::LlmJudge {
            model,
            criteria,
            threshold,
            max_tokens,
            ..
        } => {
            let settings = judge::Settings {
                model,
                criteria,
                threshold: *threshold,
                max_tokens: *max_tokens,
            };
            judge::call(state, s.caller, &settings, s, tag).await
        }
        CallOut::EmbeddingSimilarity {
            model,
            examples,
            threshold,
            require,
            dimensions,
            ..
        } => {
            let settings = similarity::Settings {
                model,
                examples,
                threshold: *threshold,
                require: *require,
                dimensions: *dimensions,
            };
            similarity::call(state, s.caller, &settings, s, tag).await
        }
    }
}

/// The provider named `name`.
pub(super) fn provider<'s>(
    state: &'s AppState,
    name: &str,
) -> Result<&'s crate::upstream::Upstream, String> {
    state
        .upstreams
        .iter()
        .find(|u| u.name == name)
        .ok_or_else(|| format!("no provider '{name}' in the config"))
}

/// POSTs `body` to `path` under provider `up`'s base URL with its credentials; the reply's
/// JSON (`what` names the service in errors). `deadline` bounds the exchange.
pub(super) async fn post_to_provider(
    up: &crate::upstream::Upstream,
    path: &str,
    body: String,
    what: &str,
    deadline: tokio::time::Instant,
) -> Result<Value, String> {
    use http_body_util::BodyExt;
    let mut req = up
        .endpoint
        .post(path, body.into(), false)
        .map_err(|e| e.to_string())?;
    up.authorize(&mut req, None)
        .await
        .map_err(|e| e.to_string())?;
    let resp = up.send(req, deadline).await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let bytes = http_body_util::Limited::new(resp.into_body(), 4 << 20)
        .collect()
        .await
        .map_err(|e| format!("reading {what}'s reply: {e}"))?
        .to_bytes();
    if !status.is_success() {
        let detail = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
        return Err(format!("{what} answered {status}: {detail}"));
    }
    serde_json::from_slice(&bytes).map_err(|e| format!("{what}'s reply is not JSON: {e}"))
}
