//! Running policies over a request body or a whole answer body (JSON in the caller's API
//! shape): its texts found (`extract`), scanned, and, for a redaction, written back in place.
//! `Guarded` is what a request carries from the input stage to its answer.

use crate::check::RequestView;
use crate::extract::{answer_texts, request_texts, Located};
use crate::policy::{Action, PolicySet, Report, Stage, Text, Verdict};
use crate::redact::{self, Vault};
use serde_json::{Map, Value};

/// A request's guardrails: the policies that apply, what they found, and the reversible
/// tokens its redactions made.
#[derive(Default)]
pub struct Guarded {
    pub set: PolicySet,
    pub verdicts: Vec<Verdict>,
    pub vault: Option<Vault>,
}

impl std::fmt::Debug for Guarded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guarded")
            .field(
                "policies",
                &self
                    .set
                    .policies
                    .iter()
                    .map(|p| p.id.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("verdicts", &self.verdicts.len())
            .finish_non_exhaustive()
    }
}

impl Guarded {
    /// `action=policy` for each policy that fired, in order, without repeats (the answer's
    /// `x-switchyard-guardrails` header).
    pub fn header(&self) -> Option<String> {
        let mut seen: Vec<(Action, &str)> = Vec::new();
        for v in self.verdicts.iter().filter(|v| v.fired) {
            if let Some(a) = v.action {
                if !seen.iter().any(|(sa, p)| *sa == a && *p == v.policy) {
                    seen.push((a, &v.policy));
                }
            }
        }
        if seen.is_empty() {
            return None;
        }
        Some(
            seen.iter()
                .map(|(a, p)| format!("{}={p}", action_name(*a)))
                .collect::<Vec<_>>()
                .join(", "),
        )
    }
}

pub fn action_name(a: Action) -> &'static str {
    match a {
        Action::Flag => "flag",
        Action::Redact => "redact",
        Action::Retry => "retry",
        Action::Fallback => "fallback",
        Action::Deny => "deny",
    }
}

/// What scanning a body gave.
pub struct Scanned {
    pub report: Report,
    /// The body with redactions written in, when a redaction fired.
    pub rewritten: Option<Value>,
}

fn texts<'a>(body: &'a Value, found: &'a [Located]) -> (Vec<Text<'a>>, Vec<&'a Located>) {
    let mut texts = Vec::with_capacity(found.len());
    let mut located = Vec::with_capacity(found.len());
    for l in found {
        if let Some(raw) = body.pointer(&l.pointer).and_then(Value::as_str) {
            texts.push(Text {
                raw,
                source: l.source,
                tool: l.tool.as_deref(),
            });
            located.push(l);
        }
    }
    (texts, located)
}

/// Writes a report's masks into the texts they were found in; reversibly (numbered tokens kept
/// in `vault`) when a vault is given and a reversible policy fired.
fn rewrite(
    body: &Value,
    located: &[&Located],
    report: &Report,
    vault: Option<&mut Option<Vault>>,
) -> Option<Value> {
    if report.masks.iter().all(Vec::is_empty) {
        return None;
    }
    let mut out = body.clone();
    let mut vault = match vault {
        Some(v) if report.reversible => Some(v.get_or_insert_with(Vault::default)),
        _ => None,
    };
    for (i, masks) in report.masks.iter().enumerate() {
        if masks.is_empty() {
            continue;
        }
        let Some(l) = located.get(i) else { continue };
        let Some(slot) = out.pointer_mut(&l.pointer) else {
            continue;
        };
        let Some(raw) = slot.as_str() else { continue };
        let masked = redact::apply(raw, masks, vault.as_deref_mut());
        *slot = Value::String(masked);
    }
    Some(out)
}

/// Gives the output checks that compare an answer with the request's prompt (`language_match`
/// without `expected`, `prompt_overlap` without `reference`) the prompt of a request body of
/// `operation`. `scan_request` does it; a request that skips the input stage needs it before
/// its answer is checked.
pub fn bind_prompt(g: &mut Guarded, operation: &str, body: &Value) {
    if !g.set.takes_prompt(Stage::Output) {
        return;
    }
    let prompt = crate::extract::prompt(operation, body);
    if let Some(set) = g.set.with_prompt(&prompt) {
        g.set = set;
    }
}

/// Runs the input policies over a request body of `operation` (and gives the output checks
/// that take it the request's prompt: `bind_prompt`).
pub fn scan_request(
    g: &mut Guarded,
    operation: &str,
    model: &str,
    metadata: &Map<String, Value>,
    body: &Value,
) -> Scanned {
    bind_prompt(g, operation, body);
    let found = request_texts(operation, body);
    let (texts, located) = texts(body, &found);
    let view = RequestView {
        operation,
        model,
        metadata,
        body,
    };
    let report = g.set.scan(Stage::Input, &texts, Some(&view));
    let rewritten =
        if report.action == Some(Action::Redact) || report.masks.iter().any(|m| !m.is_empty()) {
            rewrite(body, &located, &report, Some(&mut g.vault))
        } else {
            None
        };
    g.verdicts.extend(report.verdicts.iter().cloned());
    Scanned { report, rewritten }
}

/// Runs the output policies over a whole answer of `operation`, as the provider wrote it. Its
/// findings are masked with plain labels (a token the caller would only see); then a
/// reversible redaction's tokens made on the way in are given their originals back.
pub fn scan_answer(g: &mut Guarded, operation: &str, body: &Value) -> Scanned {
    let found = answer_texts(operation, body);
    let (texts, located) = texts(body, &found);
    let report = g.set.scan(Stage::Output, &texts, None);
    let mut rewritten =
        if report.masks.iter().any(|m| !m.is_empty()) && report.action != Some(Action::Deny) {
            rewrite(body, &located, &report, None)
        } else {
            None
        };
    if let Some(vault) = g.vault.as_ref().filter(|v| !v.is_empty()) {
        let mut restored = rewritten.clone().unwrap_or_else(|| body.clone());
        let mut changed = false;
        for l in &located {
            if let Some(slot) = restored.pointer_mut(&l.pointer) {
                if let Some(s) = slot.as_str() {
                    let back = vault.restore(s);
                    if back != s {
                        *slot = Value::String(back);
                        changed = true;
                    }
                }
            }
        }
        if changed {
            rewritten = Some(restored);
        }
    }
    g.verdicts.extend(report.verdicts.iter().cloned());
    Scanned { report, rewritten }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::policy::Policy;
    use serde_json::json;
    use std::sync::Arc;

    fn guarded(policies: Value) -> Guarded {
        let policies = policies
            .as_array()
            .unwrap()
            .iter()
            .map(|p| Arc::new(Policy::build(serde_json::from_value(p.clone()).unwrap()).unwrap()))
            .collect();
        Guarded {
            set: PolicySet { policies },
            ..Guarded::default()
        }
    }

    #[test]
    fn a_reversible_redaction_masks_the_request_and_restores_the_answer() {
        let mut g = guarded(json!([{"id": "ids", "action": "redact", "reversible": true,
            "checks": [{"check": "regex_redact", "patterns": [{"label": "account", "pattern": "ACC-\\d{4}"}]}]}]));
        let body = json!({"model": "m", "messages": [{"role": "user", "content": "move ACC-1234 to ACC-9999"}]});
        let s = scan_request(&mut g, "chat.completions", "m", &Map::new(), &body);
        assert_eq!(s.report.action, Some(Action::Redact));
        let sent = s.rewritten.unwrap();
        assert_eq!(
            sent["messages"][0]["content"],
            "move [ACCOUNT_1] to [ACCOUNT_2]"
        );
        assert_eq!(sent["model"], "m");
        let answer = json!({"choices": [{"message": {"role": "assistant", "content": "Moved [ACCOUNT_1] to [ACCOUNT_2]."}}]});
        let s = scan_answer(&mut g, "chat.completions", &answer);
        assert_eq!(
            s.rewritten.unwrap()["choices"][0]["message"]["content"],
            "Moved ACC-1234 to ACC-9999."
        );
        assert_eq!(g.header().as_deref(), Some("redact=ids"));
    }

    /// language_match and prompt_overlap left to the request: the answer is compared with the
    /// prompt the request carried, whether an input policy ran or not.
    #[test]
    fn answers_are_compared_with_the_requests_prompt() {
        let system = "You are the support assistant for Acme. Never discuss pricing before the \
            customer has confirmed their plan. Escalate refunds above fifty dollars to a human.";
        let body = json!({"model": "m", "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": "Bonjour, j'ai passé une commande la semaine dernière et elle n'est toujours pas arrivée."}
        ]});
        let answer =
            |text: &str| json!({"choices": [{"message": {"role": "assistant", "content": text}}]});
        let english = format!("Sure. My instructions say: {system}");
        let output = json!([
            {"id": "in-kind", "stages": ["output"], "checks": [{"check": "language_match"}]},
            {"id": "no-echo", "stages": ["output"], "checks": [{"check": "prompt_overlap"}]}
        ]);
        let fired = |g: &Guarded| {
            g.verdicts
                .iter()
                .filter(|v| v.fired)
                .map(|v| v.policy.clone())
                .collect::<Vec<_>>()
        };
        // Unbound, neither has anything to compare with.
        let mut g = guarded(output.clone());
        scan_answer(&mut g, "chat.completions", &answer(&english));
        assert!(fired(&g).is_empty());
        // Output policies only: the request is bound without an input scan.
        let mut g = guarded(output.clone());
        bind_prompt(&mut g, "chat.completions", &body);
        scan_answer(&mut g, "chat.completions", &answer(&english));
        assert_eq!(fired(&g), vec!["in-kind", "no-echo"]);
        // With an input policy, scanning the request binds it.
        let mut with_input = output.clone();
        with_input.as_array_mut().unwrap().push(
            json!({"id": "watch", "stages": ["input"], "checks": [{"check": "contains", "words": ["refund"]}]}),
        );
        let mut g = guarded(with_input);
        scan_request(&mut g, "chat.completions", "m", &Map::new(), &body);
        scan_answer(
            &mut g,
            "chat.completions",
            &answer("Votre commande est partie hier et arrivera demain matin chez vous."),
        );
        assert!(fired(&g).is_empty());
        scan_answer(&mut g, "chat.completions", &answer(&english));
        assert_eq!(fired(&g), vec!["in-kind", "no-echo"]);
        // Policies with nothing to take from the prompt are shared, not copied.
        let mut g = guarded(json!([{"id": "x", "checks": [{"check": "email"}]}]));
        let before = Arc::clone(&g.set.policies[0]);
        bind_prompt(&mut g, "chat.completions", &body);
        assert!(Arc::ptr_eq(&before, &g.set.policies[0]));
    }

    #[test]
    fn a_deny_on_the_request_is_reported_and_nothing_is_rewritten() {
        let mut g = guarded(json!([
            {"id": "watch", "checks": [{"check": "contains", "words": ["refund"]}]},
            {"id": "no-falcon", "action": "deny", "checks": [{"check": "regex_match", "patterns": ["(?i)falcon"]}]}
        ]));
        let body = json!({"model": "m", "system": "x", "messages": [{"role": "user", "content": "refund for Falcon"}]});
        let s = scan_request(&mut g, "messages", "m", &Map::new(), &body);
        assert_eq!(s.report.action, Some(Action::Deny));
        assert!(s.rewritten.is_none());
        assert_eq!(g.header().as_deref(), Some("flag=watch, deny=no-falcon"));
    }
}

/// `answer` (a whole answer to `operation`) replaced by `text`, ended the way the caller's API
/// ends a filtered answer: chat and completions `finish_reason: "content_filter"`, Messages
/// `stop_reason: "refusal"`, Responses `status: "incomplete"` with
/// `incomplete_details.reason: "content_filter"`. Ids, model and usage are kept.
pub fn refusal_answer(operation: &str, answer: &Value, text: &str) -> Value {
    let mut out = answer.clone();
    match operation {
        "chat.completions" => {
            out["choices"] = serde_json::json!([{
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": null},
                "logprobs": null,
                "finish_reason": "content_filter"
            }]);
        }
        "completions" => {
            out["choices"] = serde_json::json!([{
                "index": 0, "text": text, "logprobs": null, "finish_reason": "content_filter"
            }]);
        }
        "messages" => {
            out["content"] = serde_json::json!([{"type": "text", "text": text}]);
            out["stop_reason"] = Value::String("refusal".into());
            out["stop_sequence"] = Value::Null;
        }
        "responses" => {
            let id = answer
                .pointer("/output/0/id")
                .cloned()
                .unwrap_or_else(|| Value::String("msg_refusal".into()));
            out["output"] = serde_json::json!([{
                "type": "message", "id": id, "status": "incomplete", "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}]
            }]);
            out["status"] = Value::String("incomplete".into());
            out["incomplete_details"] = serde_json::json!({"reason": "content_filter"});
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod refusal_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refusals_end_as_each_api_ends_a_filtered_answer() {
        let chat = refusal_answer(
            "chat.completions",
            &json!({"id": "c", "choices": [{"message": {"content": "secret"}}], "usage": {"total_tokens": 3}}),
            "No.",
        );
        assert_eq!(chat["choices"][0]["message"]["content"], "No.");
        assert_eq!(chat["choices"][0]["finish_reason"], "content_filter");
        assert_eq!(
            (chat["id"].as_str(), chat["usage"]["total_tokens"].as_u64()),
            (Some("c"), Some(3))
        );
        let msg = refusal_answer(
            "messages",
            &json!({"id": "m", "content": [{"type": "text", "text": "secret"}], "stop_reason": "end_turn"}),
            "No.",
        );
        assert_eq!(
            (
                msg["content"][0]["text"].as_str(),
                msg["stop_reason"].as_str()
            ),
            (Some("No."), Some("refusal"))
        );
        let resp = refusal_answer(
            "responses",
            &json!({"id": "r", "status": "completed", "output": [{"id": "o1", "type": "message"}]}),
            "No.",
        );
        assert_eq!(resp["incomplete_details"]["reason"], "content_filter");
        assert_eq!(resp["output"][0]["content"][0]["text"], "No.");
        assert_eq!(resp["output"][0]["id"], "o1");
    }
}
