//! Helpers for the checks' tests: build a check from the catalogue and run it on a text.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::check::{Check, Finding, Source, Subject};
use crate::text::Normalized;
use serde_json::Value;

/// The findings of check `id` with `params` on `text`, read as input.
pub fn fires_on(id: &str, params: &Value, text: &str) -> Vec<Finding> {
    fires_on_as(id, params, text, Source::Input)
}

/// As `fires_on`, for a text from `source`.
pub fn fires_on_as(id: &str, params: &Value, text: &str, source: Source) -> Vec<Finding> {
    let check =
        crate::catalogue::build(id, params).unwrap_or_else(|e| panic!("building {id}: {e}"));
    run(check.as_ref(), text, source)
}

/// The findings of a built check on `text` from `source`.
pub fn run(check: &dyn Check, text: &str, source: Source) -> Vec<Finding> {
    let id = check.id();
    let norm = Normalized::new(text);
    let s = Subject {
        raw: text,
        norm: &norm,
        source,
        tool: None,
    };
    let mut out = Vec::new();
    check.text(&s, &mut out);
    for f in &out {
        if let Some(r) = &f.span {
            assert!(
                text.is_char_boundary(r.start) && text.is_char_boundary(r.end) && r.start < r.end,
                "{id}: bad span {r:?} in {text:?}"
            );
        }
    }
    out
}

/// Whether check `id` fires on `text`.
pub fn fires(id: &str, params: &Value, text: &str) -> bool {
    !fires_on(id, params, text).is_empty()
}

/// The texts check `id`'s findings cover.
pub fn spans(id: &str, params: &Value, text: &str) -> Vec<String> {
    fires_on(id, params, text)
        .into_iter()
        .filter_map(|f| f.span.map(|r| text[r].to_owned()))
        .collect()
}
