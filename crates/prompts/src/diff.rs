//! Two versions compared, as the console and the admin API show it: each message's text as a
//! line diff (longest common subsequence), and every setting that differs with both values.

use crate::model::Version;
use serde_json::{json, Map, Value};

/// A line diff: `[{"op": "=" | "-" | "+", "line": ...}]`.
pub fn lines(a: &str, b: &str) -> Vec<Value> {
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push(json!({"op": "=", "line": a[i]}));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push(json!({"op": "+", "line": b[j]}));
            j += 1;
        } else {
            out.push(json!({"op": "-", "line": a[i]}));
            i += 1;
        }
    }
    out
}

/// A message's content as text for the diff (parts as their JSON, one per line).
fn text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .map(|p| match p.get("text").and_then(Value::as_str) {
                Some(t) if p.get("type").and_then(Value::as_str) == Some("text") => t.to_owned(),
                _ => p.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        other => other.to_string(),
    }
}

/// `from` against `to`: messages by position, then the settings.
pub fn versions(from: &Version, to: &Version) -> Value {
    let n = from.body.messages.len().max(to.body.messages.len());
    let mut messages = Vec::with_capacity(n);
    for i in 0..n {
        let a = from.body.messages.get(i);
        let b = to.body.messages.get(i);
        let ta = a.map(|m| text(&m.content)).unwrap_or_default();
        let tb = b.map(|m| text(&m.content)).unwrap_or_default();
        let role = |m: Option<&crate::model::MessageTemplate>| {
            m.map_or(Value::Null, |m| Value::String(m.role.clone()))
        };
        messages.push(json!({
            "index": i,
            "role": {"from": role(a), "to": role(b)},
            "changed": a != b,
            "lines": lines(&ta, &tb),
        }));
    }
    let mut settings = Map::new();
    let as_map = |v: &Version| -> Map<String, Value> {
        let mut m = match serde_json::to_value(&v.body) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        m.remove("messages");
        m.insert("partials".into(), json!(v.partials));
        m
    };
    let (fa, fb) = (as_map(from), as_map(to));
    let mut keys: Vec<&String> = fa.keys().chain(fb.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let (va, vb) = (fa.get(k), fb.get(k));
        if va != vb {
            settings.insert(
                k.clone(),
                json!({"from": va.cloned().unwrap_or(Value::Null), "to": vb.cloned().unwrap_or(Value::Null)}),
            );
        }
    }
    json!({
        "object": "prompt_diff",
        "from": from.version,
        "to": to.version,
        "messages": messages,
        "settings": settings,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_line_diff_keeps_common_lines() {
        let d = lines("a\nb\nc", "a\nx\nc\nd");
        let ops: Vec<String> = d
            .iter()
            .map(|e| {
                format!(
                    "{}{}",
                    e["op"].as_str().unwrap(),
                    e["line"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(ops, vec!["=a", "+x", "-b", "=c", "+d"]);
    }
}
