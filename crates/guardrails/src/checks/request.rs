//! Request policy: which models, which kinds of request, what metadata must come, and bounds
//! on parameters. These read the request, not its text.

use crate::catalogue::Entry;
use crate::check::{params, Check, Finding, ParamError, RequestView, Span, IN};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

pub const CHECKS: &[Entry] = &[
    Entry {
        id: "model_allowlist",
        family: "request",
        summary: "a model outside the allowed set (globs), or on the denied one",
        build: ModelAllowlist::build,
    },
    Entry {
        id: "required_metadata",
        family: "request",
        summary: "metadata keys missing (all or any of them), or values not matching a pattern",
        build: RequiredMetadata::build,
    },
    Entry {
        id: "request_types",
        family: "request",
        summary: "a kind of request (chat.completions, messages, responses, embeddings...) not allowed",
        build: RequestTypes::build,
    },
    Entry {
        id: "param_bounds",
        family: "request",
        summary: "parameters out of bounds: output tokens, temperature, top_p, n, tools, messages, characters, streaming, user",
        build: ParamBounds::build,
    },
];

/// `*` any run, `?` one character; the rest literal.
pub fn glob(pattern: &str, s: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = s.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(sp) = star {
            pi = sp + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowDeny {
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
}

/// Models by glob: a denied one fires; with an allow-list, one not on it fires.
pub struct ModelAllowlist {
    allow: Vec<String>,
    deny: Vec<String>,
}

impl ModelAllowlist {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: AllowDeny = params(v)?;
        if p.allow.is_empty() && p.deny.is_empty() {
            return Err(ParamError::new("", "set `allow`, `deny` or both"));
        }
        Ok(Box::new(ModelAllowlist {
            allow: p.allow,
            deny: p.deny,
        }))
    }
}

impl Check for ModelAllowlist {
    fn id(&self) -> &'static str {
        "model_allowlist"
    }
    fn sources(&self) -> &'static [crate::check::Source] {
        IN
    }
    fn span(&self) -> Span {
        Span::Whole
    }
    fn is_request_check(&self) -> bool {
        true
    }
    fn request(&self, r: &RequestView<'_>, out: &mut Vec<Finding>) {
        if self.deny.iter().any(|g| glob(g, r.model)) {
            out.push(Finding::whole(format!("model {} is denied", r.model)));
        } else if !self.allow.is_empty() && !self.allow.iter().any(|g| glob(g, r.model)) {
            out.push(Finding::whole(format!("model {} is not allowed", r.model)));
        }
    }
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum KeysOp {
    #[default]
    All,
    Any,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequiredMetadataParams {
    #[serde(default)]
    keys: Vec<String>,
    #[serde(default)]
    operator: KeysOp,
    /// Key → pattern its value (as text) must match.
    #[serde(default)]
    values: BTreeMap<String, String>,
}

/// Metadata keys that must come (all, or at least one), and patterns their values must match.
pub struct RequiredMetadata {
    keys: Vec<String>,
    operator: KeysOp,
    values: Vec<(String, regex::Regex)>,
}

impl RequiredMetadata {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: RequiredMetadataParams = params(v)?;
        if p.keys.is_empty() && p.values.is_empty() {
            return Err(ParamError::new(
                "keys",
                "name at least one key (or `values`)",
            ));
        }
        let mut values = Vec::new();
        for (k, pat) in p.values {
            let re = regex::Regex::new(&format!("^(?:{pat})$")).map_err(|e| {
                ParamError::new(format!("values.{k}"), format!("not a valid pattern: {e}"))
            })?;
            values.push((k, re));
        }
        Ok(Box::new(RequiredMetadata {
            keys: p.keys,
            operator: p.operator,
            values,
        }))
    }
}

/// A metadata value as text: strings as they are, other values as JSON; empty strings as absent.
fn meta_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

impl Check for RequiredMetadata {
    fn id(&self) -> &'static str {
        "required_metadata"
    }
    fn sources(&self) -> &'static [crate::check::Source] {
        IN
    }
    fn span(&self) -> Span {
        Span::Whole
    }
    fn is_request_check(&self) -> bool {
        true
    }
    fn request(&self, r: &RequestView<'_>, out: &mut Vec<Finding>) {
        let present = |k: &String| meta_text(r.metadata.get(k)).is_some();
        if !self.keys.is_empty() {
            let missing: Vec<&str> = self
                .keys
                .iter()
                .filter(|k| !present(k))
                .map(String::as_str)
                .collect();
            let fires = match self.operator {
                KeysOp::All => !missing.is_empty(),
                KeysOp::Any => missing.len() == self.keys.len(),
            };
            if fires {
                out.push(Finding::whole(format!(
                    "metadata missing: {}",
                    missing.join(", ")
                )));
            }
        }
        for (k, re) in &self.values {
            match meta_text(r.metadata.get(k)) {
                Some(v) if re.is_match(&v) => {}
                Some(_) => out.push(Finding::whole(format!("metadata {k} does not match"))),
                None => out.push(Finding::whole(format!("metadata missing: {k}"))),
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestTypesParams {
    #[serde(default)]
    allowed: Vec<String>,
    #[serde(default)]
    blocked: Vec<String>,
}

/// The operations a caller may use: a blocked one fires; with an allowed list, any other fires.
pub struct RequestTypes {
    allowed: Vec<String>,
    blocked: Vec<String>,
}

const OPERATIONS: &[&str] = &[
    "chat.completions",
    "completions",
    "embeddings",
    "messages",
    "count_tokens",
    "responses",
];

impl RequestTypes {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: RequestTypesParams = params(v)?;
        if p.allowed.is_empty() && p.blocked.is_empty() {
            return Err(ParamError::new("", "set `allowed`, `blocked` or both"));
        }
        for (field, list) in [("allowed", &p.allowed), ("blocked", &p.blocked)] {
            if let Some((i, bad)) = list
                .iter()
                .enumerate()
                .find(|(_, o)| !OPERATIONS.contains(&o.as_str()))
            {
                return Err(ParamError::new(
                    format!("{field}[{i}]"),
                    format!(
                        "unknown request type \"{bad}\"; one of {}",
                        OPERATIONS.join(", ")
                    ),
                ));
            }
        }
        Ok(Box::new(RequestTypes {
            allowed: p.allowed,
            blocked: p.blocked,
        }))
    }
}

impl Check for RequestTypes {
    fn id(&self) -> &'static str {
        "request_types"
    }
    fn sources(&self) -> &'static [crate::check::Source] {
        IN
    }
    fn span(&self) -> Span {
        Span::Whole
    }
    fn is_request_check(&self) -> bool {
        true
    }
    fn request(&self, r: &RequestView<'_>, out: &mut Vec<Finding>) {
        let op = r.operation.to_owned();
        if self.blocked.contains(&op) || (!self.allowed.is_empty() && !self.allowed.contains(&op)) {
            out.push(Finding::whole(format!("{op} requests are not allowed")));
        }
    }
}

#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct Range {
    min: Option<f64>,
    max: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParamBoundsParams {
    /// Most output tokens asked (`max_tokens`, `max_completion_tokens`, `max_output_tokens`).
    max_tokens: Option<u64>,
    /// Output tokens must be asked for (some callers leave it to the provider's maximum).
    #[serde(default)]
    require_max_tokens: bool,
    temperature: Option<Range>,
    top_p: Option<Range>,
    /// Most choices (`n`).
    max_n: Option<u64>,
    /// Whether streaming is allowed.
    stream: Option<bool>,
    /// Most tools offered.
    max_tools: Option<usize>,
    /// Most messages (or input items).
    max_messages: Option<usize>,
    /// Most characters in all message texts together.
    max_chars: Option<usize>,
    /// A `user` (or `metadata.user_id`, `safety_identifier`) must be sent.
    #[serde(default)]
    require_user: bool,
}

/// Bounds on parameters, per API spelling.
pub struct ParamBounds(ParamBoundsParams);

impl ParamBounds {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: ParamBoundsParams = params(v)?;
        Ok(Box::new(ParamBounds(p)))
    }
}

fn out_of(r: Range, v: f64) -> bool {
    r.min.is_some_and(|m| v < m) || r.max.is_some_and(|m| v > m)
}

impl Check for ParamBounds {
    fn id(&self) -> &'static str {
        "param_bounds"
    }
    fn sources(&self) -> &'static [crate::check::Source] {
        IN
    }
    fn span(&self) -> Span {
        Span::Whole
    }
    fn is_request_check(&self) -> bool {
        true
    }
    fn request(&self, r: &RequestView<'_>, out: &mut Vec<Finding>) {
        let b = r.body;
        let p = &self.0;
        let num = |k: &str| b.get(k).and_then(Value::as_f64);
        let asked = ["max_tokens", "max_completion_tokens", "max_output_tokens"]
            .iter()
            .find_map(|k| b.get(*k).and_then(Value::as_u64));
        match (asked, p.max_tokens) {
            (Some(n), Some(max)) if n > max => {
                out.push(Finding::whole(format!("output tokens {n} over {max}")));
            }
            (None, _) if p.require_max_tokens => {
                out.push(Finding::whole("output tokens not set"));
            }
            _ => {}
        }
        for (key, range) in [("temperature", p.temperature), ("top_p", p.top_p)] {
            if let (Some(v), Some(r)) = (num(key), range) {
                if out_of(r, v) {
                    out.push(Finding::whole(format!("{key} {v} out of bounds")));
                }
            }
        }
        if let (Some(n), Some(max)) = (b.get("n").and_then(Value::as_u64), p.max_n) {
            if n > max {
                out.push(Finding::whole(format!("n {n} over {max}")));
            }
        }
        if p.stream == Some(false) && b.get("stream").and_then(Value::as_bool) == Some(true) {
            out.push(Finding::whole("streaming is not allowed"));
        }
        let len = |k: &str| b.get(k).and_then(Value::as_array).map_or(0, Vec::len);
        if let Some(max) = p.max_tools {
            if len("tools") > max {
                out.push(Finding::whole(format!("{} tools over {max}", len("tools"))));
            }
        }
        let messages = len("messages").max(len("input"));
        if let Some(max) = p.max_messages {
            if messages > max {
                out.push(Finding::whole(format!("{messages} messages over {max}")));
            }
        }
        if let Some(max) = p.max_chars {
            let chars: usize = crate::extract::request_texts(r.operation, b)
                .iter()
                .filter_map(|l| b.pointer(&l.pointer).and_then(Value::as_str))
                .map(|s| s.chars().count())
                .sum();
            if chars > max {
                out.push(Finding::whole(format!("{chars} characters over {max}")));
            }
        }
        if p.require_user {
            let user = ["/user", "/metadata/user_id", "/safety_identifier"]
                .iter()
                .any(|ptr| {
                    b.pointer(ptr)
                        .and_then(Value::as_str)
                        .is_some_and(|s| !s.is_empty())
                });
            if !user {
                out.push(Finding::whole("no user sent"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::{json, Map};

    fn run(id: &str, p: Value, op: &str, model: &str, meta: Value, body: Value) -> Vec<String> {
        let check = crate::catalogue::build(id, &p).unwrap();
        let meta: Map<String, Value> = serde_json::from_value(meta).unwrap();
        let view = RequestView {
            operation: op,
            model,
            metadata: &meta,
            body: &body,
        };
        let mut out = Vec::new();
        check.request(&view, &mut out);
        out.into_iter().map(|f| f.label.into_owned()).collect()
    }

    #[test]
    fn globs() {
        assert!(glob("gpt-*", "gpt-4o"));
        assert!(glob("*mini", "gpt-4o-mini"));
        assert!(glob("claude-?-haiku", "claude-3-haiku"));
        assert!(!glob("gpt-*", "claude-3"));
        assert!(glob("*", ""));
        assert!(!glob("a*b", "acbd"));
    }

    #[test]
    fn model_allowlist_denies_first() {
        let p = json!({"allow": ["openai/*"], "deny": ["openai/gpt-4o"]});
        let run = |m: &str| {
            run(
                "model_allowlist",
                p.clone(),
                "chat.completions",
                m,
                json!({}),
                json!({}),
            )
        };
        assert_eq!(run("openai/gpt-4o"), vec!["model openai/gpt-4o is denied"]);
        assert_eq!(
            run("anthropic/claude"),
            vec!["model anthropic/claude is not allowed"]
        );
        assert!(run("openai/gpt-4o-mini").is_empty());
    }

    #[test]
    fn required_metadata_all_any_and_values() {
        let all = json!({"keys": ["team", "app"]});
        let run = |p: &Value, m: Value| {
            run(
                "required_metadata",
                p.clone(),
                "chat.completions",
                "m",
                m,
                json!({}),
            )
        };
        assert_eq!(
            run(&all, json!({"team": "a"})),
            vec!["metadata missing: app"]
        );
        assert!(run(&all, json!({"team": "a", "app": 2})).is_empty());
        assert_eq!(
            run(&all, json!({"team": "", "app": "x"})),
            vec!["metadata missing: team"]
        );
        let any = json!({"keys": ["team", "app"], "operator": "any"});
        assert!(run(&any, json!({"app": "x"})).is_empty());
        assert_eq!(run(&any, json!({})).len(), 1);
        let values = json!({"values": {"env": "prod|dev"}});
        assert!(run(&values, json!({"env": "dev"})).is_empty());
        assert_eq!(
            run(&values, json!({"env": "development"})),
            vec!["metadata env does not match"]
        );
    }

    #[test]
    fn request_types_block_wins() {
        let p = json!({"allowed": ["chat.completions", "embeddings"], "blocked": ["embeddings"]});
        let run = |op: &str| run("request_types", p.clone(), op, "m", json!({}), json!({}));
        assert!(run("chat.completions").is_empty());
        assert_eq!(run("embeddings").len(), 1);
        assert_eq!(run("messages").len(), 1);
        let e = crate::catalogue::build("request_types", &json!({"blocked": ["chat"]}))
            .err()
            .unwrap();
        assert_eq!(e.path, "blocked[0]");
    }

    #[test]
    fn param_bounds_per_api_spelling() {
        let p = json!({"max_tokens": 1000, "temperature": {"max": 1.0}, "max_n": 1, "stream": false,
            "max_messages": 2, "max_chars": 10, "require_user": true});
        let run = |op: &str, body: Value| run("param_bounds", p.clone(), op, "m", json!({}), body);
        let ok = run(
            "chat.completions",
            json!({"max_completion_tokens": 100, "user": "u",
            "messages": [{"role": "user", "content": "short"}]}),
        );
        assert!(ok.is_empty(), "{ok:?}");
        let bad = run(
            "responses",
            json!({"max_output_tokens": 5000, "temperature": 1.5, "n": 2,
            "stream": true, "input": [{"role": "user", "content": "a long enough text"}, {"role": "user", "content": "b"}, {"role": "user", "content": "c"}]}),
        );
        assert_eq!(
            bad,
            vec![
                "output tokens 5000 over 1000",
                "temperature 1.5 out of bounds",
                "n 2 over 1",
                "streaming is not allowed",
                "3 messages over 2",
                "20 characters over 10",
                "no user sent",
            ]
        );
        let anthropic = run(
            "messages",
            json!({"max_tokens": 10, "metadata": {"user_id": "u"},
            "messages": [{"role": "user", "content": "hi"}]}),
        );
        assert!(anthropic.is_empty(), "{anthropic:?}");
    }
}
