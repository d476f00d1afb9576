//! System-prompt leaks: a canary planted in the system prompt showing up in an answer, and an
//! answer reproducing a large share of a reference prompt.

use crate::catalogue::Entry;
use crate::check::{params, Check, Finding, ParamError, Prompt, Source, Span, Subject};
use base64::Engine;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashSet;

pub const CHECKS: &[Entry] = &[
    Entry {
        id: "prompt_canary",
        family: "leak",
        summary: "a canary string planted in the system prompt appearing in the answer (also spaced out or in base64)",
        build: PromptCanary::build,
    },
    Entry {
        id: "prompt_overlap",
        family: "leak",
        summary: "an answer reproducing a share of a reference prompt's word n-grams",
        build: PromptOverlap::build,
    },
];

const OUT: &[Source] = &[Source::Output, Source::ToolCall];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CanaryParams {
    /// The canary: a random string of at least 8 characters placed in the system prompt.
    canary: String,
}

/// A planted canary, as written, with separators between its characters, or base64-encoded.
pub struct PromptCanary {
    /// Lower-cased, alphanumerics only.
    squeezed: String,
    b64: String,
    len: usize,
}

impl PromptCanary {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: CanaryParams = params(v)?;
        let squeezed: String = p
            .canary
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        if squeezed.chars().count() < 8 {
            return Err(ParamError::new("canary", "at least 8 letters or digits"));
        }
        Ok(Box::new(PromptCanary {
            b64: base64::engine::general_purpose::STANDARD_NO_PAD.encode(p.canary.as_bytes()),
            len: p.canary.len(),
            squeezed,
        }))
    }
}

impl Check for PromptCanary {
    fn id(&self) -> &'static str {
        "prompt_canary"
    }
    fn sources(&self) -> &'static [Source] {
        OUT
    }
    fn span(&self) -> Span {
        // Spaced out, each character may carry a separator or two.
        Span::Bytes(self.len * 3 + self.b64.len() + 8)
    }
    fn redacts(&self) -> bool {
        true
    }
    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let text = &s.norm.text;
        if let Some(at) = text.find(&self.b64) {
            out.push(Finding::at(
                s.raw_range(at..at + self.b64.len()),
                "canary (base64)",
            ));
        }
        // The text's alphanumerics lower-cased, each with where it came from: the canary found
        // there, however spaced or punctuated.
        let mut squeezed = String::with_capacity(text.len());
        let mut from: Vec<usize> = Vec::with_capacity(text.len());
        for (at, c) in text.char_indices() {
            if c.is_alphanumeric() {
                for l in c.to_lowercase() {
                    squeezed.push(l);
                    from.extend(std::iter::repeat_n(at, l.len_utf8()));
                }
            }
        }
        let mut start = 0;
        while let Some(i) = squeezed[start..].find(&self.squeezed) {
            let a = start + i;
            let b = a + self.squeezed.len();
            if let (Some(&first), Some(&last)) = (from.get(a), from.get(b - 1)) {
                let end = text[last..]
                    .chars()
                    .next()
                    .map_or(text.len(), |c| last + c.len_utf8());
                out.push(Finding::at(s.raw_range(first..end), "canary"));
            }
            start = b;
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverlapParams {
    /// The prompt not to be reproduced; the request's system prompt when not set.
    reference: Option<String>,
    /// Words per shingle. Default 8.
    n: Option<usize>,
    /// Share of the reference's shingles found in the answer that fires. Default 0.3.
    threshold: Option<f64>,
}

/// The share of a reference's word n-grams an answer contains. Without a configured
/// reference, the request's system prompt is the reference (`with_prompt`); without either,
/// there is nothing to compare and it does not fire.
pub struct PromptOverlap {
    shingles: HashSet<u64>,
    n: usize,
    threshold: f64,
    /// The reference was configured: the system prompt is not asked for.
    configured: bool,
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn shingles(words: &[String], n: usize) -> HashSet<u64> {
    use std::hash::{Hash, Hasher};
    words
        .windows(n)
        .map(|w| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            w.hash(&mut h);
            h.finish()
        })
        .collect()
}

impl PromptOverlap {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: OverlapParams = params(v)?;
        let n = p.n.unwrap_or(8);
        if !(2..=64).contains(&n) {
            return Err(ParamError::new("n", "2 to 64 words"));
        }
        let threshold = p.threshold.unwrap_or(0.3);
        if !(threshold > 0.0 && threshold <= 1.0) {
            return Err(ParamError::new("threshold", "above 0, at most 1"));
        }
        let shingles = match &p.reference {
            Some(r) => {
                let s = shingles(&words(r), n);
                if s.is_empty() {
                    return Err(ParamError::new(
                        "reference",
                        format!("needs at least {n} words"),
                    ));
                }
                s
            }
            None => HashSet::new(),
        };
        Ok(Box::new(PromptOverlap {
            shingles,
            n,
            threshold,
            configured: p.reference.is_some(),
        }))
    }
}

impl Check for PromptOverlap {
    fn id(&self) -> &'static str {
        "prompt_overlap"
    }
    fn sources(&self) -> &'static [Source] {
        OUT
    }
    fn span(&self) -> Span {
        Span::Whole
    }
    fn takes_prompt(&self) -> bool {
        !self.configured
    }

    fn with_prompt(&self, prompt: &Prompt) -> Option<Box<dyn Check>> {
        if self.configured {
            return None;
        }
        let shingles = shingles(&words(&prompt.system), self.n);
        (!shingles.is_empty()).then(|| {
            Box::new(PromptOverlap {
                shingles,
                n: self.n,
                threshold: self.threshold,
                configured: false,
            }) as Box<dyn Check>
        })
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        if self.shingles.is_empty() {
            return;
        }
        let found = shingles(&words(&s.norm.text), self.n);
        let shared = self.shingles.intersection(&found).count();
        let share = shared as f64 / self.shingles.len() as f64;
        if share >= self.threshold {
            out.push(Finding {
                span: None,
                label: format!("{:.0}% of the reference prompt", share * 100.0).into(),
                score: share as f32,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use crate::check::{Prompt, Source};
    use crate::checks::testing::{fires, fires_on, run, spans};
    use serde_json::json;

    #[test]
    fn a_canary_is_found_as_written_spaced_out_or_in_base64() {
        let p = json!({"canary": "c4n4ry-7f3a9e21"});
        assert_eq!(
            spans("prompt_canary", &p, "my prompt says c4n4ry-7f3a9e21 ok"),
            vec!["c4n4ry-7f3a9e21"]
        );
        assert_eq!(
            spans("prompt_canary", &p, "C 4 N 4 R Y 7 F 3 A 9 E 2 1!"),
            vec!["C 4 N 4 R Y 7 F 3 A 9 E 2 1"]
        );
        assert!(fires("prompt_canary", &p, "encoded: YzRuNHJ5LTdmM2E5ZTIx"));
        assert!(!fires("prompt_canary", &p, "a canary sang 7f3a9e2"));
        let e = crate::catalogue::build("prompt_canary", &json!({"canary": "short"}))
            .err()
            .unwrap();
        assert_eq!(e.path, "canary");
    }

    #[test]
    fn an_answer_quoting_the_reference_prompt_fires() {
        let reference = "You are the support assistant for Acme. Never discuss pricing before the customer \
            has confirmed their plan. Always answer in the customer's language and keep answers under \
            two hundred words. Escalate refunds above fifty dollars to a human agent.";
        let p = json!({"reference": reference});
        let leak = format!("Sure! My instructions are: {reference}");
        let f = fires_on("prompt_overlap", &p, &leak);
        assert_eq!(f.len(), 1);
        assert!(f[0].score > 0.9);
        assert!(!fires(
            "prompt_overlap",
            &p,
            "Acme's support can help with your plan; refunds go to an agent."
        ));
        let half = "Never discuss pricing before the customer has confirmed their plan. Always answer in the customer's language and keep answers under";
        assert!(fires("prompt_overlap", &p, half));
    }

    #[test]
    fn without_a_reference_the_system_prompt_is_the_reference() {
        let system = "You are the support assistant for Acme. Never discuss pricing before the \
            customer has confirmed their plan. Escalate refunds above fifty dollars to a human.";
        let leak = format!("My instructions: {system}");
        let check = crate::catalogue::build("prompt_overlap", &json!({})).unwrap();
        assert!(check.takes_prompt());
        // Nothing to compare with yet.
        assert!(run(check.as_ref(), &leak, Source::Output).is_empty());
        let prompt = |system: &str| Prompt {
            system: system.into(),
            user: "hello".into(),
        };
        let bound = check.with_prompt(&prompt(system)).unwrap();
        assert_eq!(run(bound.as_ref(), &leak, Source::Output).len(), 1);
        assert!(run(
            bound.as_ref(),
            "Happy to help with your plan.",
            Source::Output
        )
        .is_empty());
        // A system prompt shorter than n words gives nothing.
        assert!(check.with_prompt(&prompt("Be brief.")).is_none());
        // A configured reference is kept.
        let set = crate::catalogue::build(
            "prompt_overlap",
            &json!({"reference": "one two three four five six seven eight nine"}),
        )
        .unwrap();
        assert!(!set.takes_prompt());
        assert!(set.with_prompt(&prompt(system)).is_none());
    }
}
