//! Masking findings: each span replaced by its label (`[EMAIL]`), or, when reversible, by a
//! numbered token (`[EMAIL_1]`) kept in the request's vault so the answer can be given the
//! original back.

use std::collections::HashMap;
use std::ops::Range;

/// One span to mask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mask {
    pub range: Range<usize>,
    pub label: String,
}

/// A request's reversible tokens: token to original, and the other way round.
#[derive(Debug, Default, Clone)]
pub struct Vault {
    tokens: Vec<(String, String)>,
    by_original: HashMap<String, usize>,
    counters: HashMap<String, usize>,
}

impl Vault {
    /// The token for `original` under `label` (the same original gets the same token).
    fn token(&mut self, label: &str, original: &str) -> String {
        if let Some(&i) = self.by_original.get(original) {
            return self.tokens[i].0.clone();
        }
        let n = self.counters.entry(label.to_owned()).or_insert(0);
        *n += 1;
        let token = format!("[{label}_{n}]");
        self.by_original
            .insert(original.to_owned(), self.tokens.len());
        self.tokens.push((token.clone(), original.to_owned()));
        token
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The longest token: a stream holds back this many bytes so a token split across deltas
    /// is still restored.
    pub fn longest_token(&self) -> usize {
        self.tokens.iter().map(|(t, _)| t.len()).max().unwrap_or(0)
    }

    /// `text` with every token given its original back.
    pub fn restore(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (token, original) in &self.tokens {
            if out.contains(token.as_str()) {
                out = out.replace(token.as_str(), original);
            }
        }
        out
    }
}

/// A label as a mask shows it: upper case, letters, digits and `_`.
pub fn label_text(label: &str) -> String {
    let s: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() {
        "REDACTED".into()
    } else {
        s
    }
}

/// `raw` with `masks` applied: overlapping masks merge (the first's label names the merged
/// one). With a vault the masks are reversible tokens.
pub fn apply(raw: &str, masks: &[Mask], mut vault: Option<&mut Vault>) -> String {
    let mut sorted: Vec<&Mask> = masks
        .iter()
        .filter(|m| m.range.start < m.range.end && m.range.end <= raw.len())
        .collect();
    sorted.sort_by_key(|m| (m.range.start, std::cmp::Reverse(m.range.end)));
    let mut out = String::with_capacity(raw.len());
    let mut at = 0;
    let mut i = 0;
    while i < sorted.len() {
        let first = sorted[i];
        let mut end = first.range.end;
        i += 1;
        // Overlapping masks merge; touching ones stay two (`[ACCOUNT][ACCOUNT]`), as a stream
        // that sends them in two pieces shows them.
        while i < sorted.len() && sorted[i].range.start < end {
            end = end.max(sorted[i].range.end);
            i += 1;
        }
        let start = first.range.start.max(at);
        out.push_str(&raw[at..start]);
        let label = label_text(&first.label);
        match vault.as_deref_mut() {
            Some(v) => out.push_str(&v.token(&label, &raw[start..end])),
            None => {
                out.push('[');
                out.push_str(&label);
                out.push(']');
            }
        }
        at = end;
    }
    out.push_str(&raw[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(r: Range<usize>, l: &str) -> Mask {
        Mask {
            range: r,
            label: l.into(),
        }
    }

    #[test]
    fn masks_merge_and_keep_the_rest() {
        let raw = "mail bob@corp.io or call 555-0100";
        let out = apply(
            raw,
            &[m(25..33, "phone"), m(5..16, "email"), m(9..12, "x")],
            None,
        );
        assert_eq!(out, "mail [EMAIL] or call [PHONE]");
        assert_eq!(apply("abc", &[], None), "abc");
    }

    #[test]
    fn reversible_tokens_are_restored_and_repeat_for_the_same_value() {
        let mut v = Vault::default();
        let raw = "a@x.io then b@y.io then a@x.io";
        let masks = [m(0..6, "email"), m(12..18, "email"), m(24..30, "email")];
        let out = apply(raw, &masks, Some(&mut v));
        assert_eq!(out, "[EMAIL_1] then [EMAIL_2] then [EMAIL_1]");
        assert_eq!(
            v.restore("Write to [EMAIL_2] and [EMAIL_1]."),
            "Write to b@y.io and a@x.io."
        );
        assert_eq!(v.longest_token(), "[EMAIL_1]".len());
    }
}
