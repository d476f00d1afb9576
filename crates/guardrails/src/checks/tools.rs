//! Tool calls: which tools a model may call, and what their arguments may hold. These read a
//! call's arguments (`tool_call` texts), which carry the tool's name.

use crate::catalogue::Entry;
use crate::check::{params, Check, Finding, ParamError, Source, Span, Subject};
use crate::checks::request::glob;
use regex::Regex;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

pub const CHECKS: &[Entry] = &[
    Entry {
        id: "tool_allowlist",
        family: "tools",
        summary: "a call to a tool not allowed (globs), or on the denied list",
        build: ToolAllowlist::build,
    },
    Entry {
        id: "tool_args_schema",
        family: "tools",
        summary: "a call whose arguments are not JSON or break the JSON Schema set for its tool",
        build: ToolArgsSchema::build,
    },
    Entry {
        id: "tool_args_patterns",
        family: "tools",
        summary:
            "dangerous argument values: patterns per tool and JSON pointer, paths outside a jail",
        build: ToolArgsPatterns::build,
    },
];

const CALLS: &[Source] = &[Source::ToolCall];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowlistParams {
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
}

/// Tools by glob (`mcp__github__*`): a denied one fires; with an allow-list, any other fires.
pub struct ToolAllowlist {
    allow: Vec<String>,
    deny: Vec<String>,
}

impl ToolAllowlist {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: AllowlistParams = params(v)?;
        if p.allow.is_empty() && p.deny.is_empty() {
            return Err(ParamError::new("", "set `allow`, `deny` or both"));
        }
        Ok(Box::new(ToolAllowlist {
            allow: p.allow,
            deny: p.deny,
        }))
    }
}

impl Check for ToolAllowlist {
    fn id(&self) -> &'static str {
        "tool_allowlist"
    }
    fn sources(&self) -> &'static [Source] {
        CALLS
    }
    fn span(&self) -> Span {
        // The name arrives with the call's first event.
        Span::Bytes(0)
    }
    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let Some(tool) = s.tool else { return };
        if self.deny.iter().any(|g| glob(g, tool)) {
            out.push(Finding::whole(format!("tool {tool} is denied")));
        } else if !self.allow.is_empty() && !self.allow.iter().any(|g| glob(g, tool)) {
            out.push(Finding::whole(format!("tool {tool} is not allowed")));
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemaParams {
    /// Tool name (glob) → JSON Schema its arguments must meet.
    schemas: BTreeMap<String, Value>,
    /// A tool with no schema here must not be called.
    #[serde(default)]
    strict: bool,
}

/// Arguments checked against an administrator's schema per tool.
pub struct ToolArgsSchema {
    schemas: Vec<(String, jsonschema::Validator)>,
    strict: bool,
}

impl ToolArgsSchema {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: SchemaParams = params(v)?;
        if p.schemas.is_empty() {
            return Err(ParamError::new("schemas", "at least one tool's schema"));
        }
        let mut schemas = Vec::with_capacity(p.schemas.len());
        for (tool, schema) in p.schemas {
            let validator = jsonschema::validator_for(&schema).map_err(|e| {
                ParamError::new(
                    format!("schemas.{tool}"),
                    format!("not a valid JSON Schema: {e}"),
                )
            })?;
            schemas.push((tool, validator));
        }
        Ok(Box::new(ToolArgsSchema {
            schemas,
            strict: p.strict,
        }))
    }
}

impl Check for ToolArgsSchema {
    fn id(&self) -> &'static str {
        "tool_args_schema"
    }
    fn sources(&self) -> &'static [Source] {
        CALLS
    }
    fn span(&self) -> Span {
        // Decided once the call's arguments are whole.
        Span::Whole
    }
    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let Some(tool) = s.tool else { return };
        let Some((_, validator)) = self.schemas.iter().find(|(g, _)| glob(g, tool)) else {
            if self.strict {
                out.push(Finding::whole(format!("tool {tool} has no schema")));
            }
            return;
        };
        // Structured arguments (Anthropic's `input`) arrive leaf by leaf: only a whole JSON
        // text is validated.
        let Ok(args) = serde_json::from_str::<Value>(s.raw) else {
            if s.raw.trim_start().starts_with(['{', '[']) {
                out.push(Finding::whole(format!(
                    "tool {tool}: arguments are not JSON"
                )));
            }
            return;
        };
        let first = validator
            .iter_errors(&args)
            .next()
            .map(|e| (e.instance_path().to_string(), e.kind().keyword().to_owned()));
        if let Some((path, keyword)) = first {
            let path = if path.is_empty() {
                "/".to_owned()
            } else {
                path
            };
            out.push(Finding::whole(format!(
                "tool {tool}: {path} fails \"{keyword}\""
            )));
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    /// Tool name glob. Default: every tool.
    #[serde(default = "any_tool")]
    tool: String,
    /// JSON pointer to the argument (`/path`); every string argument when absent.
    pointer: Option<String>,
    /// Patterns the value must not match.
    #[serde(default)]
    deny: Vec<String>,
    /// Patterns of which the value must match one.
    #[serde(default)]
    allow: Vec<String>,
    /// The value, a path, must stay under this directory once `.` and `..` are resolved.
    path_jail: Option<String>,
}

fn any_tool() -> String {
    "*".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatternParams {
    rules: Vec<Rule>,
}

struct Compiled {
    tool: String,
    pointer: Option<String>,
    deny: Vec<Regex>,
    allow: Vec<Regex>,
    jail: Option<String>,
}

/// Argument values against rules per tool and pointer.
pub struct ToolArgsPatterns {
    rules: Vec<Compiled>,
}

impl ToolArgsPatterns {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: PatternParams = params(v)?;
        if p.rules.is_empty() {
            return Err(ParamError::new("rules", "at least one rule"));
        }
        let mut rules = Vec::with_capacity(p.rules.len());
        for (i, r) in p.rules.into_iter().enumerate() {
            let compile = |list: &[String], field: &str| -> Result<Vec<Regex>, ParamError> {
                list.iter()
                    .enumerate()
                    .map(|(j, s)| {
                        Regex::new(s).map_err(|e| {
                            ParamError::new(
                                format!("rules[{i}].{field}[{j}]"),
                                format!("not a valid pattern: {e}"),
                            )
                        })
                    })
                    .collect()
            };
            if r.deny.is_empty() && r.allow.is_empty() && r.path_jail.is_none() {
                return Err(ParamError::new(
                    format!("rules[{i}]"),
                    "set `deny`, `allow` or `path_jail`",
                ));
            }
            if let Some(ptr) = &r.pointer {
                if !ptr.starts_with('/') {
                    return Err(ParamError::new(
                        format!("rules[{i}].pointer"),
                        "a JSON pointer starts with `/`",
                    ));
                }
            }
            rules.push(Compiled {
                deny: compile(&r.deny, "deny")?,
                allow: compile(&r.allow, "allow")?,
                tool: r.tool,
                pointer: r.pointer,
                jail: r.path_jail.map(|j| normalize_path(&j)),
            });
        }
        Ok(Box::new(ToolArgsPatterns { rules }))
    }
}

/// A path with `.` and `..` resolved lexically and separators unified (`\` as `/`, `%2e`/`%2f`
/// decoded); `..` past the root stays as `..` so it never lands inside a jail.
fn normalize_path(p: &str) -> String {
    let decoded = p
        .replace("%2e", ".")
        .replace("%2E", ".")
        .replace("%2f", "/")
        .replace("%2F", "/")
        .replace('\\', "/");
    let absolute = decoded.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

fn in_jail(value: &str, jail: &str) -> bool {
    let p = normalize_path(value);
    let jail = jail.trim_end_matches('/');
    // A relative path is taken as under the jail (the tool's working directory).
    let p = if p.starts_with('/') || jail.is_empty() {
        p
    } else if p == ".." || p.starts_with("../") {
        return false;
    } else {
        format!("{jail}/{p}")
    };
    p == jail || p.starts_with(&format!("{jail}/"))
}

fn strings<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

impl Check for ToolArgsPatterns {
    fn id(&self) -> &'static str {
        "tool_args_patterns"
    }
    fn sources(&self) -> &'static [Source] {
        CALLS
    }
    fn span(&self) -> Span {
        Span::Whole
    }
    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let Some(tool) = s.tool else { return };
        // A whole JSON text (OpenAI, Responses), or one leaf of structured arguments (Anthropic),
        // which is checked as a value of any pointer.
        let parsed = serde_json::from_str::<Value>(s.raw)
            .ok()
            .filter(|v| v.is_object());
        for r in self.rules.iter().filter(|r| glob(&r.tool, tool)) {
            let mut values = Vec::new();
            match (&parsed, &r.pointer) {
                (Some(v), Some(ptr)) => {
                    if let Some(x) = v.pointer(ptr) {
                        strings(x, &mut values);
                    }
                }
                (Some(v), None) => strings(v, &mut values),
                (None, _) => values.push(s.raw),
            }
            for value in values {
                let what = r.pointer.as_deref().unwrap_or("an argument");
                if r.deny.iter().any(|re| re.is_match(value)) {
                    out.push(Finding::whole(format!(
                        "tool {tool}: {what} matches a denied pattern"
                    )));
                } else if !r.allow.is_empty() && !r.allow.iter().any(|re| re.is_match(value)) {
                    out.push(Finding::whole(format!(
                        "tool {tool}: {what} matches no allowed pattern"
                    )));
                } else if r.jail.as_deref().is_some_and(|j| !in_jail(value, j)) {
                    out.push(Finding::whole(format!(
                        "tool {tool}: {what} leaves {}",
                        r.jail.as_deref().unwrap_or("")
                    )));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::text::Normalized;
    use serde_json::json;

    fn call(id: &str, p: Value, tool: &str, args: &str) -> Vec<String> {
        let check = crate::catalogue::build(id, &p).unwrap();
        let norm = Normalized::new(args);
        let s = Subject {
            raw: args,
            norm: &norm,
            source: Source::ToolCall,
            tool: Some(tool),
        };
        let mut out = Vec::new();
        check.text(&s, &mut out);
        out.into_iter().map(|f| f.label.into_owned()).collect()
    }

    #[test]
    fn tool_allowlist_by_glob() {
        let p = json!({"allow": ["search_*", "mcp__docs__*"], "deny": ["search_private"]});
        assert!(call("tool_allowlist", p.clone(), "search_docs", "{}").is_empty());
        assert!(call("tool_allowlist", p.clone(), "mcp__docs__read", "{}").is_empty());
        assert_eq!(
            call("tool_allowlist", p.clone(), "delete_repo", "{}"),
            vec!["tool delete_repo is not allowed"]
        );
        assert_eq!(
            call("tool_allowlist", p, "search_private", "{}"),
            vec!["tool search_private is denied"]
        );
    }

    #[test]
    fn tool_args_schema_per_tool() {
        let p = json!({"schemas": {"list_*": {"type": "object", "properties": {"limit": {"type": "integer", "maximum": 100}}, "required": ["limit"]}}});
        assert!(call(
            "tool_args_schema",
            p.clone(),
            "list_users",
            r#"{"limit": 10}"#
        )
        .is_empty());
        assert_eq!(
            call(
                "tool_args_schema",
                p.clone(),
                "list_users",
                r#"{"limit": "all"}"#
            ),
            vec![r#"tool list_users: /limit fails "type""#]
        );
        assert_eq!(
            call(
                "tool_args_schema",
                p.clone(),
                "list_users",
                r#"{"limit": 10"#
            ),
            vec!["tool list_users: arguments are not JSON"]
        );
        assert!(call("tool_args_schema", p.clone(), "other", "{}").is_empty());
        let strict = json!({"schemas": {"a": {}}, "strict": true});
        assert_eq!(
            call("tool_args_schema", strict, "b", "{}"),
            vec!["tool b has no schema"]
        );
        let e =
            crate::catalogue::build("tool_args_schema", &json!({"schemas": {"t": {"type": 5}}}))
                .err()
                .unwrap();
        assert_eq!(e.path, "schemas.t");
    }

    #[test]
    fn tool_args_patterns_and_path_jails() {
        let p = json!({"rules": [
            {"tool": "read_file", "pointer": "/path", "path_jail": "/srv/app"},
            {"tool": "run_sql", "pointer": "/query", "deny": ["(?i)\\b(drop|truncate|delete)\\b"]},
            {"tool": "fetch", "pointer": "/url", "allow": ["^https://docs\\.example\\.com/"]}
        ]});
        let run = |tool: &str, args: Value| {
            call("tool_args_patterns", p.clone(), tool, &args.to_string())
        };
        assert!(run("read_file", json!({"path": "src/main.rs"})).is_empty());
        assert!(run("read_file", json!({"path": "/srv/app/a/../b.txt"})).is_empty());
        assert_eq!(
            run("read_file", json!({"path": "../../etc/passwd"})).len(),
            1
        );
        assert_eq!(
            run("read_file", json!({"path": "/srv/app/../../etc/passwd"})).len(),
            1
        );
        assert_eq!(
            run("read_file", json!({"path": "..%2f..%2fetc/passwd"})).len(),
            1
        );
        assert_eq!(
            run("read_file", json!({"path": "/srv/application/x"})).len(),
            1
        );
        assert_eq!(
            run("run_sql", json!({"query": "DROP TABLE users"})),
            vec!["tool run_sql: /query matches a denied pattern"]
        );
        assert!(run("run_sql", json!({"query": "select * from users"})).is_empty());
        assert_eq!(
            run("fetch", json!({"url": "http://169.254.169.254/"})).len(),
            1
        );
        assert!(run("fetch", json!({"url": "https://docs.example.com/a"})).is_empty());
        // An Anthropic leaf (not a JSON object) is checked as the value itself.
        assert_eq!(
            call("tool_args_patterns", p.clone(), "run_sql", "truncate logs").len(),
            1
        );
        let e = crate::catalogue::build(
            "tool_args_patterns",
            &json!({"rules": [{"tool": "x", "pointer": "path", "deny": ["a"]}]}),
        )
        .err()
        .unwrap();
        assert_eq!(e.path, "rules[0].pointer");
    }
}
