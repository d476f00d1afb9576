//! Policies: checks grouped with what their findings do. When several policies fire, the
//! strongest action wins: deny > fallback > retry > redact > flag.

use crate::check::{Check, Finding, ParamError, Prompt, RequestView, Source, Span, Subject};
use crate::redact::Mask;
use crate::text::Normalized;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use std::time::Instant;

/// What a policy's findings do, weakest first (the order is the precedence).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Deserialize,
    Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Recorded, counted, and named in a response header; the request goes on.
    #[default]
    Flag,
    /// The findings are masked (in the request before it is sent, in the answer as it streams).
    Redact,
    /// Output only: the same target is tried again.
    Retry,
    /// Output only: the next target of the route is tried.
    Fallback,
    /// Input: refused before any provider is called. Output: an error, or the configured refusal
    /// ending with the caller's content-filter reason.
    Deny,
}

/// Where a policy runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// On the request, before the cache and any provider.
    Input,
    /// On each attempt's answer.
    Output,
}

/// What a check that fails (a call out that errs or times out) counts as.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FailMode {
    /// As if it had fired.
    #[default]
    Closed,
    /// As if it had passed.
    Open,
}

/// A policy as configured.
#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    pub id: String,
    /// Each: `{check: <id>, sources?: [input, output, tool_call, tool_result], ...parameters}`.
    pub checks: Vec<Value>,
    #[serde(default)]
    pub action: Action,
    /// Where it runs; both by default.
    #[serde(default)]
    pub stages: Option<Vec<Stage>>,
    #[serde(default)]
    pub on_error: FailMode,
    /// Output deny: answer with this text, ended as the caller's content filter ends it,
    /// instead of an error.
    #[serde(default)]
    pub refusal: Option<String>,
    /// Redact: numbered tokens, given their originals back in the answer.
    #[serde(default)]
    pub reversible: bool,
    /// Retry: how many times the same target is tried again. Default 1.
    #[serde(default)]
    pub max_retries: Option<u32>,
    #[serde(default)]
    pub description: Option<String>,
}

/// A check in a policy, with the texts it reads.
#[derive(Clone)]
pub struct Configured {
    pub check: Arc<dyn Check>,
    pub sources: Vec<Source>,
}

/// A built policy.
pub struct Policy {
    pub id: String,
    pub checks: Vec<Configured>,
    pub action: Action,
    pub stages: Vec<Stage>,
    pub on_error: FailMode,
    pub refusal: Option<String>,
    pub reversible: bool,
    pub max_retries: u32,
    pub raw: RawPolicy,
}

impl Policy {
    /// Builds `raw`; an error's path names the bad field (`checks[1].patterns[0]`).
    pub fn build(raw: RawPolicy) -> Result<Policy, ParamError> {
        if raw.id.trim().is_empty() {
            return Err(ParamError::new("id", "must not be empty"));
        }
        if raw.checks.is_empty() {
            return Err(ParamError::new("checks", "at least one check"));
        }
        let stages = raw
            .stages
            .clone()
            .unwrap_or_else(|| vec![Stage::Input, Stage::Output]);
        if stages.is_empty() {
            return Err(ParamError::new("stages", "at least one of input, output"));
        }
        if matches!(raw.action, Action::Retry | Action::Fallback) && stages.contains(&Stage::Input)
        {
            return Err(ParamError::new(
                "action",
                "retry and fallback act on answers: set `stages: [output]`",
            ));
        }
        let mut checks = Vec::with_capacity(raw.checks.len());
        for (i, c) in raw.checks.iter().enumerate() {
            let at = |e: ParamError| {
                let path = if e.path.is_empty() {
                    format!("checks[{i}]")
                } else {
                    format!("checks[{i}].{}", e.path)
                };
                ParamError::new(path, e.message)
            };
            let Value::Object(obj) = c else {
                return Err(at(ParamError::new("", "a mapping with `check: <id>`")));
            };
            let mut obj = obj.clone();
            let id = match obj.remove("check") {
                Some(Value::String(s)) => s,
                _ => return Err(at(ParamError::new("check", "the check's id is required"))),
            };
            let sources = match obj.remove("sources") {
                None => None,
                Some(v) => Some(
                    serde_json::from_value::<Vec<Source2>>(v)
                        .map_err(|e| at(ParamError::new("sources", e.to_string())))?
                        .into_iter()
                        .map(Source::from)
                        .collect::<Vec<_>>(),
                ),
            };
            let check = crate::catalogue::build(&id, &Value::Object(obj)).map_err(at)?;
            if raw.action == Action::Redact && !check.redacts() {
                return Err(at(ParamError::new(
                    "check",
                    format!(
                        "\"{id}\" finds nothing that can be masked (a count, a format, the request \
                         itself): use it in a deny or flag policy"
                    ),
                )));
            }
            let sources = sources.unwrap_or_else(|| check.sources().to_vec());
            checks.push(Configured {
                check: Arc::from(check),
                sources,
            });
        }
        Ok(Policy {
            id: raw.id.clone(),
            checks,
            action: raw.action,
            stages,
            on_error: raw.on_error,
            refusal: raw.refusal.clone(),
            reversible: raw.reversible,
            max_retries: raw.max_retries.unwrap_or(1),
            raw,
        })
    }

    /// A copy given the prompt, when a check of it takes something from it.
    fn with_prompt(&self, prompt: &Prompt) -> Option<Policy> {
        let mut changed = false;
        let checks = self
            .checks
            .iter()
            .map(|c| {
                match c
                    .check
                    .takes_prompt()
                    .then(|| c.check.with_prompt(prompt))
                    .flatten()
                {
                    Some(bound) => {
                        changed = true;
                        Configured {
                            check: Arc::from(bound),
                            sources: c.sources.clone(),
                        }
                    }
                    None => c.clone(),
                }
            })
            .collect();
        changed.then(|| Policy {
            id: self.id.clone(),
            checks,
            action: self.action,
            stages: self.stages.clone(),
            on_error: self.on_error,
            refusal: self.refusal.clone(),
            reversible: self.reversible,
            max_retries: self.max_retries,
            raw: self.raw.clone(),
        })
    }

    pub fn runs_at(&self, stage: Stage) -> bool {
        self.stages.contains(&stage)
    }

    /// The longest span of its checks that read `source` (`None` when one needs whole texts).
    pub fn window(&self, source: Source) -> Option<usize> {
        let mut most = 0;
        for c in self.checks.iter().filter(|c| c.sources.contains(&source)) {
            match c.check.span() {
                Span::Bytes(n) => most = most.max(n),
                Span::Whole => return None,
            }
        }
        Some(most)
    }
}

/// `Source` as configured (the same names).
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Source2 {
    Input,
    Output,
    ToolCall,
    ToolResult,
}

impl From<Source2> for Source {
    fn from(s: Source2) -> Source {
        match s {
            Source2::Input => Source::Input,
            Source2::Output => Source::Output,
            Source2::ToolCall => Source::ToolCall,
            Source2::ToolResult => Source::ToolResult,
        }
    }
}

/// A text to scan.
#[derive(Debug, Clone, Copy)]
pub struct Text<'a> {
    pub raw: &'a str,
    pub source: Source,
    pub tool: Option<&'a str>,
}

/// What one check of one policy found over the texts scanned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub policy: String,
    pub check: &'static str,
    pub stage: Stage,
    pub fired: bool,
    /// The policy's action, when it fired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    pub score: f32,
    /// `[text, start, end]` of the first findings (text: its index among those scanned).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub spans: Vec<[usize; 3]>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    pub latency_us: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A call-out's own account (a judge's score, model, tokens and cost).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Value>,
}

/// What a call-out said.
#[derive(Debug, Clone)]
pub struct CallOutcome {
    pub check: &'static str,
    /// The service failed the text.
    pub fired: bool,
    /// Its reason, when it gave one.
    pub label: Option<String>,
    /// The call failed (status, timeout, a reply that is not JSON).
    pub error: Option<String>,
    pub latency_us: u64,
    /// What the call cost or measured (tokens, cost, a score), for the record.
    pub detail: Option<Value>,
}

/// Most spans and labels a verdict keeps.
const KEEP: usize = 16;

/// The outcome of scanning texts with a set of policies.
#[derive(Debug, Default)]
pub struct Report {
    pub verdicts: Vec<Verdict>,
    /// The strongest action of the policies that fired.
    pub action: Option<Action>,
    /// The policy (and check) that decided `action`.
    pub decided_by: Option<(String, &'static str, String)>,
    /// For a deny: the refusal text of the deciding policy, if it has one.
    pub refusal: Option<String>,
    /// For a retry: the deciding policy's `max_retries`.
    pub max_retries: u32,
    /// Masks per text (by index), from redact policies.
    pub masks: Vec<Vec<Mask>>,
    /// A redact policy that fired is reversible.
    pub reversible: bool,
    /// A partial scan (`scan_partial`): the earliest start of the findings left out because
    /// more text could still change them.
    pub unstable_from: Option<usize>,
}

impl Report {
    pub fn fired(&self) -> impl Iterator<Item = &Verdict> {
        self.verdicts.iter().filter(|v| v.fired)
    }

    /// Adds the verdict of a call-out made for policy `p` (with an error, the policy's
    /// `on_error` decides whether it counts as fired).
    pub fn add_call_out(&mut self, p: &Policy, stage: Stage, outcome: CallOutcome) {
        let CallOutcome {
            check,
            fired,
            label,
            error,
            latency_us,
            detail,
        } = outcome;
        let fired = match &error {
            Some(_) => p.on_error == FailMode::Closed,
            None => fired,
        };
        let labels: Vec<String> = label.into_iter().collect();
        if fired && self.action.is_none_or(|a| p.action > a) {
            self.action = Some(p.action);
            self.decided_by = Some((
                p.id.clone(),
                check,
                labels.first().cloned().unwrap_or_default(),
            ));
            self.refusal = p.refusal.clone();
            self.max_retries = p.max_retries;
        }
        self.verdicts.push(Verdict {
            policy: p.id.clone(),
            check,
            stage,
            fired,
            action: fired.then_some(p.action),
            score: if fired { 1.0 } else { 0.0 },
            spans: Vec::new(),
            labels,
            latency_us,
            error,
            detail,
        });
    }
}

/// The policies that apply to a request, in order (admin-attached first, then the caller's).
#[derive(Clone, Default)]
pub struct PolicySet {
    pub policies: Vec<Arc<Policy>>,
}

impl PolicySet {
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// The call-out checks of the policies that run at `stage`.
    pub fn call_outs(&self, stage: Stage) -> Vec<(Arc<Policy>, usize)> {
        let mut out = Vec::new();
        for p in self.policies.iter().filter(|p| p.runs_at(stage)) {
            for (i, c) in p.checks.iter().enumerate() {
                if c.check.call_out().is_some() {
                    out.push((Arc::clone(p), i));
                }
            }
        }
        out
    }

    /// The set for one request: the checks that compare answers with the prompt
    /// (`Check::takes_prompt`) given it, in copies of their policies; `None` when none took
    /// anything from it.
    pub fn with_prompt(&self, prompt: &Prompt) -> Option<PolicySet> {
        let mut changed = false;
        let policies = self
            .policies
            .iter()
            .map(|p| match p.with_prompt(prompt) {
                Some(bound) => {
                    changed = true;
                    Arc::new(bound)
                }
                None => Arc::clone(p),
            })
            .collect();
        changed.then_some(PolicySet { policies })
    }

    /// Whether a check of a policy that runs at `stage` takes the prompt.
    pub fn takes_prompt(&self, stage: Stage) -> bool {
        self.policies
            .iter()
            .filter(|p| p.runs_at(stage))
            .any(|p| p.checks.iter().any(|c| c.check.takes_prompt()))
    }

    /// Whether any policy runs at `stage`.
    pub fn any_at(&self, stage: Stage) -> bool {
        self.policies.iter().any(|p| p.runs_at(stage))
    }

    /// Scans `texts` (and the request, for request checks) with every policy that runs at
    /// `stage`.
    pub fn scan(
        &self,
        stage: Stage,
        texts: &[Text<'_>],
        request: Option<&RequestView<'_>>,
    ) -> Report {
        self.scan_inner(stage, texts, request, None)
    }

    /// Scans a piece of a text still arriving: findings that end past `stable` (where more
    /// text could change them: a word boundary, a longer match) are left out, and the earliest
    /// of their starts is reported in `unstable_from`. Findings that end at or before `judged`
    /// were decided by an earlier scan that read more of the text before them: cut off from
    /// it, a word's start or a negation before a topic reads differently, so they mask but do
    /// not fire again.
    pub fn scan_partial(
        &self,
        stage: Stage,
        text: Text<'_>,
        judged: usize,
        stable: usize,
    ) -> Report {
        self.scan_inner(
            stage,
            std::slice::from_ref(&text),
            None,
            Some((judged, stable)),
        )
    }

    fn scan_inner(
        &self,
        stage: Stage,
        texts: &[Text<'_>],
        request: Option<&RequestView<'_>>,
        partial: Option<(usize, usize)>,
    ) -> Report {
        let norms: Vec<Normalized> = texts.iter().map(|t| Normalized::new(t.raw)).collect();
        let mut report = Report {
            masks: vec![Vec::new(); texts.len()],
            ..Report::default()
        };
        let mut found: Vec<Finding> = Vec::new();
        for p in self.policies.iter().filter(|p| p.runs_at(stage)) {
            for c in &p.checks {
                // Call-outs are the server's to make (`call_outs`).
                if c.check.call_out().is_some() {
                    continue;
                }
                let started = Instant::now();
                let mut v = Verdict {
                    policy: p.id.clone(),
                    check: c.check.id(),
                    stage,
                    fired: false,
                    action: None,
                    score: 0.0,
                    spans: Vec::new(),
                    labels: Vec::new(),
                    latency_us: 0,
                    error: None,
                    detail: None,
                };
                if c.check.is_request_check() {
                    if let Some(r) = request {
                        found.clear();
                        c.check.request(r, &mut found);
                        note(&mut v, &found, usize::MAX);
                    }
                } else {
                    for (i, t) in texts.iter().enumerate() {
                        if !c.sources.contains(&t.source) {
                            continue;
                        }
                        found.clear();
                        let s = Subject {
                            raw: t.raw,
                            norm: &norms[i],
                            source: t.source,
                            tool: t.tool,
                        };
                        c.check.text(&s, &mut found);
                        let mut judged = 0;
                        if let Some((before, limit)) = partial {
                            judged = before;
                            found.retain(|f| match &f.span {
                                Some(r) if r.end > limit => {
                                    report.unstable_from = Some(
                                        report.unstable_from.map_or(r.start, |u| u.min(r.start)),
                                    );
                                    false
                                }
                                _ => true,
                            });
                        }
                        note(
                            &mut v,
                            found.iter().filter(|f| {
                                judged == 0 || f.span.as_ref().is_none_or(|r| r.end > judged)
                            }),
                            i,
                        );
                        if p.action == Action::Redact {
                            for f in &found {
                                if let Some(r) = &f.span {
                                    report.masks[i].push(Mask {
                                        range: r.clone(),
                                        label: f.label.to_string(),
                                    });
                                }
                            }
                        }
                    }
                }
                v.latency_us = started.elapsed().as_micros() as u64;
                if v.fired {
                    v.action = Some(p.action);
                    if report.action.is_none_or(|a| p.action > a) {
                        report.action = Some(p.action);
                        report.decided_by = Some((
                            p.id.clone(),
                            v.check,
                            v.labels.first().cloned().unwrap_or_default(),
                        ));
                        report.refusal = p.refusal.clone();
                        report.max_retries = p.max_retries;
                    }
                    if p.action == Action::Redact && p.reversible {
                        report.reversible = true;
                    }
                }
                report.verdicts.push(v);
            }
        }
        report
    }
}

/// Adds `found` (in text `text`) to a verdict.
fn note<'f>(v: &mut Verdict, found: impl IntoIterator<Item = &'f Finding>, text: usize) {
    for f in found {
        v.fired = true;
        v.score = v.score.max(f.score);
        if let Some(r) = &f.span {
            if v.spans.len() < KEEP && text != usize::MAX {
                v.spans.push([text, r.start, r.end]);
            }
        }
        if v.labels.len() < KEEP && !v.labels.iter().any(|l| l == f.label.as_ref()) {
            v.labels.push(f.label.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn policy(v: Value) -> Arc<Policy> {
        Arc::new(Policy::build(serde_json::from_value(v).unwrap()).unwrap())
    }

    fn text(raw: &str) -> Text<'_> {
        Text {
            raw,
            source: Source::Input,
            tool: None,
        }
    }

    #[test]
    fn the_strongest_action_wins_and_names_its_policy() {
        let set = PolicySet {
            policies: vec![
                policy(
                    json!({"id": "flag-refund", "checks": [{"check": "contains", "words": ["refund"]}]}),
                ),
                policy(json!({"id": "mask", "action": "redact", "reversible": true,
                    "checks": [{"check": "regex_redact", "patterns": [{"label": "id", "pattern": "ID-\\d+"}]}]})),
                policy(
                    json!({"id": "no-falcon", "action": "deny", "refusal": "Not here.",
                    "checks": [{"check": "regex_match", "patterns": ["(?i)falcon"]}]}),
                ),
            ],
        };
        let r = set.scan(Stage::Input, &[text("refund ID-42 please")], None);
        assert_eq!(r.action, Some(Action::Redact));
        assert!(r.reversible);
        assert_eq!(
            r.masks[0],
            vec![Mask {
                range: 7..12,
                label: "id".into()
            }]
        );
        assert_eq!(r.fired().count(), 2);
        let r = set.scan(
            Stage::Input,
            &[text("refund"), text("project FALCON")],
            None,
        );
        assert_eq!(r.action, Some(Action::Deny));
        assert_eq!(
            r.decided_by.as_ref().map(|d| d.0.as_str()),
            Some("no-falcon")
        );
        assert_eq!(r.refusal.as_deref(), Some("Not here."));
        let falcon = r.verdicts.iter().find(|v| v.policy == "no-falcon").unwrap();
        assert_eq!(falcon.spans, vec![[1, 8, 14]]);
        let r = set.scan(Stage::Input, &[text("hello")], None);
        assert_eq!(
            (r.action, r.fired().count(), r.verdicts.len()),
            (None, 0, 3)
        );
    }

    #[test]
    fn a_policy_reads_only_its_stages_and_sources() {
        let set = PolicySet {
            policies: vec![policy(json!({"id": "out", "stages": ["output"],
                "checks": [{"check": "contains", "words": ["x"], "sources": ["tool_call"]}]}))],
        };
        let out = Text {
            raw: "x",
            source: Source::Output,
            tool: None,
        };
        let call = Text {
            raw: "x",
            source: Source::ToolCall,
            tool: Some("f"),
        };
        assert!(set.scan(Stage::Input, &[call], None).verdicts.is_empty());
        assert_eq!(set.scan(Stage::Output, &[out], None).action, None);
        assert_eq!(
            set.scan(Stage::Output, &[call], None).action,
            Some(Action::Flag)
        );
    }

    #[test]
    fn bad_policies_name_the_field() {
        let e = |v: Value| {
            Policy::build(serde_json::from_value(v).unwrap())
                .err()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            e(json!({"id": "p", "checks": [{"check": "contains", "words": []}]})),
            "checks[0].words: at least one word"
        );
        assert!(e(json!({"id": "p", "action": "redact", "checks": [{"check": "regex_match", "patterns": ["a"], "mode": "must_match"}]}))
            .starts_with("checks[0].check: \"regex_match\" finds nothing that can be masked"));
        assert!(e(
            json!({"id": "p", "action": "retry", "checks": [{"check": "contains", "words": ["a"]}]})
        )
        .starts_with("action: retry and fallback act on answers"));
        assert!(
            e(json!({"id": "p", "checks": [{"check": "contain", "words": ["a"]}]}))
                .contains("did you mean \"contains\"")
        );
        assert!(e(json!({"id": "p", "checks": [{"check": "contains", "words": ["a"], "sources": ["inputs"]}]}))
            .starts_with("checks[0].sources: unknown variant"));
    }
}
