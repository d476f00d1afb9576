//! Every built-in check, by id: what it finds, and how it is built from its parameters.

use crate::check::{Check, ParamError};
use serde_json::Value;

/// Builds a check from its parameters (the check's config object without `check`).
pub type Build = fn(&Value) -> Result<Box<dyn Check>, ParamError>;

/// One built-in check.
pub struct Entry {
    pub id: &'static str,
    /// Its family (`patterns`, `pii`, `secrets`...), as docs/guardrails.md groups them.
    pub family: &'static str,
    /// One line: what it finds.
    pub summary: &'static str,
    pub build: Build,
}

/// Every built-in check.
pub fn all() -> impl Iterator<Item = &'static Entry> {
    crate::checks::FAMILIES.iter().flat_map(|f| f.iter())
}

/// The entry for `id`.
pub fn find(id: &str) -> Option<&'static Entry> {
    all().find(|e| e.id == id)
}

/// Builds check `id` from `params`; an unknown id names the nearest known one.
pub fn build(id: &str, params: &Value) -> Result<Box<dyn Check>, ParamError> {
    match find(id) {
        Some(e) => (e.build)(params),
        None => {
            let near = all()
                .map(|e| (edits(id, e.id), e.id))
                .filter(|(d, _)| *d <= 2)
                .min()
                .map(|(_, n)| format!(" (did you mean \"{n}\"?)"))
                .unwrap_or_default();
            Err(ParamError::new(
                "check",
                format!("unknown check \"{id}\"{near}; docs/guardrails.md lists them"),
            ))
        }
    }
}

/// Levenshtein distance, for suggestions.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_unknown_ones_are_named() {
        let mut ids: Vec<&str> = all().map(|e| e.id).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate check ids");
        let e = build("regex_mach", &Value::Null).err().unwrap();
        assert!(e.message.contains("did you mean \"regex_match\""), "{e}");
    }
}
