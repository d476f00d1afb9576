//! serde's messages in the config file's words: its messages name the Rust types behind the
//! schema (`expected struct RawNode with 13 elements`), which mean nothing to whoever wrote the
//! file or the `x-switchyard-config` header.

use crate::ConfigError;
use serde_json::Value;

/// What each schema type is called in the docs.
const TERMS: &[(&str, &str)] = &[
    (
        "RawNode",
        "a route object (with model, route, targets or conditions)",
    ),
    ("RawCondition", "a condition object (with when and then)"),
    ("RawRouteTimeouts", "a mapping of timeouts"),
    ("RawTimeouts", "a mapping of timeouts"),
    ("RawRetry", "a retry object"),
    ("RawSticky", "a sticky object (with key)"),
    ("RawPrice", "a price object (with input and output)"),
    ("RawServer", "a mapping of server settings"),
    ("RawLimits", "a mapping of limits"),
    ("RawLog", "a mapping of request log settings"),
    ("RawOtel", "a mapping of trace export settings"),
    ("RawCircuit", "a mapping of circuit breaker settings"),
    ("RawRetryBudget", "a mapping of retry budget settings"),
    ("RawImageFetch", "a mapping of image fetch settings"),
    (
        "RawProvider",
        "a provider object (with name, and base_url or preset)",
    ),
    (
        "RawClientKey",
        "a key object (with name, and key or key_sha256)",
    ),
    ("RawConfig", "a mapping of sections"),
    ("Entry", "a catalog entry (a mapping of prices and limits)"),
    ("RawStrategy", "a strategy name"),
    ("RawKind", "a provider type"),
    ("RawInlineConfig", "allow, routes or off"),
];

/// The docs' name for a schema type; a mapping or a name for any this table misses.
fn term(kind: &str, name: &str) -> &'static str {
    TERMS.iter().find(|(n, _)| *n == name).map_or(
        if kind == "enum" {
            "a name"
        } else {
            "a mapping"
        },
        |t| t.1,
    )
}

/// serde's message with every `struct Name [with N elements]` and `enum Name` in the file's
/// words. A struct read from a list (serde's `invalid length N, expected struct ...`) says so.
pub fn reword(message: &str) -> String {
    if message.starts_with("invalid length ") && message.contains("expected struct ") {
        if let Some(name) = message
            .split("expected struct ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
        {
            return format!("expected {}, found a list", term("struct", name));
        }
    }
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    loop {
        let next = ["struct ", "enum "]
            .iter()
            .filter_map(|k| rest.find(k).map(|i| (i, *k)))
            .min();
        let Some((at, keyword)) = next else {
            out.push_str(rest);
            break;
        };
        let after = &rest[at + keyword.len()..];
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..len];
        out.push_str(&rest[..at]);
        if name.is_empty() {
            out.push_str(keyword);
            rest = after;
            continue;
        }
        out.push_str(term(keyword.trim_end(), name));
        rest = &after[len..];
        // `with 13 elements` only makes sense beside the type's name.
        if let Some(tail) = rest.strip_prefix(" with ") {
            if let Some(end) = tail.find(" elements") {
                if tail[..end].bytes().all(|b| b.is_ascii_digit()) {
                    rest = &tail[end + " elements".len()..];
                }
            }
        }
    }
    // serde_json's words for an enum given something other than a name.
    out.replace("expected string or map", "expected a name")
}

fn found(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Deeper than this the walk stops; the tree builder refuses such depth anyway.
const MAX_WALK: usize = 64;

/// The first node of a route tree (at `at`) that is not a mapping: serde would read a list as the
/// node's fields in order and report the first field's type instead.
pub fn route_shape(v: &Value, at: &str) -> Option<ConfigError> {
    shape(v, at, 0)
}

fn shape(v: &Value, at: &str, depth: usize) -> Option<ConfigError> {
    let Value::Object(node) = v else {
        return Some(ConfigError::new(
            at,
            format!("expected {}, found {}", term("struct", "RawNode"), found(v)),
        ));
    };
    if depth > MAX_WALK {
        return None;
    }
    if let Some(Value::Array(targets)) = node.get("targets") {
        for (i, t) in targets.iter().enumerate() {
            if let Some(e) = shape(t, &format!("{at}.targets[{i}]"), depth + 1) {
                return Some(e);
            }
        }
    }
    if let Some(d) = node.get("default").filter(|d| !d.is_null()) {
        if let Some(e) = shape(d, &format!("{at}.default"), depth + 1) {
            return Some(e);
        }
    }
    if let Some(Value::Array(conditions)) = node.get("conditions") {
        for (i, c) in conditions.iter().enumerate() {
            let here = format!("{at}.conditions[{i}]");
            let Value::Object(c) = c else {
                return Some(ConfigError::new(
                    here,
                    format!(
                        "expected {}, found {}",
                        term("struct", "RawCondition"),
                        found(c)
                    ),
                ));
            };
            if let Some(e) = c
                .get("then")
                .and_then(|t| shape(t, &format!("{here}.then"), depth + 1))
            {
                return Some(e);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn type_names_become_the_files_words() {
        assert_eq!(
            reword("invalid length 0, expected struct RawNode with 13 elements"),
            "expected a route object (with model, route, targets or conditions), found a list"
        );
        assert_eq!(
            reword("invalid type: string \"x\", expected struct RawProvider"),
            "invalid type: string \"x\", expected a provider object (with name, and base_url or preset)"
        );
        assert_eq!(
            reword("invalid type: map, expected enum RawStrategy"),
            "invalid type: map, expected a strategy name"
        );
        assert_eq!(
            reword("invalid type: integer `1`, expected string or map"),
            "invalid type: integer `1`, expected a name"
        );
        assert_eq!(
            reword("invalid type: sequence, expected struct Unlisted with 2 elements here"),
            "invalid type: sequence, expected a mapping here"
        );
        // Nothing to do.
        assert_eq!(
            reword("unknown field `modle`, expected one of `model`"),
            "unknown field `modle`, expected one of `model`"
        );
    }

    #[test]
    fn a_route_node_that_is_not_a_mapping_is_found_with_its_path() {
        let e = route_shape(&json!([{"model": "a/b"}]), "routes.r").unwrap();
        assert_eq!(
            e.to_string(),
            "routes.r: expected a route object (with model, route, targets or conditions), found a list"
        );
        let tree = json!({"targets": [{"model": "a/b"}, {"conditions": [
            {"when": {}, "then": {"model": "a/b"}}, {"when": {}, "then": "a/b"}]}]});
        let e = route_shape(&tree, "h").unwrap();
        assert_eq!(e.path, "h.targets[1].conditions[1].then");
        assert!(e.message.ends_with("found a string"), "{e}");
        let e = route_shape(&json!({"strategy": "conditional", "conditions": [7]}), "h").unwrap();
        assert_eq!(e.path, "h.conditions[0]");
        assert!(route_shape(&json!({"targets": [{"model": "a"}], "default": null}), "h").is_none());
    }
}
