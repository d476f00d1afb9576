//! `${VAR}` references in config strings, resolved from the environment at load time.
//! `$${` writes a literal `${`.

use crate::error::ConfigError;
use crate::EnvSource;
use serde_json::Value;

/// Expands references in every string of `v`, collecting one error per unset variable.
pub fn expand_all(v: &mut Value, path: &str, env: &dyn EnvSource, errors: &mut Vec<ConfigError>) {
    match v {
        Value::String(s) => {
            if s.contains("${") {
                match expand(s, env) {
                    Ok(out) => *s = out,
                    Err(msg) => errors.push(ConfigError::new(path, msg)),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                expand_all(item, &format!("{path}[{i}]"), env, errors);
            }
        }
        Value::Object(map) => {
            for (k, item) in map.iter_mut() {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                expand_all(item, &p, env, errors);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Expands one string.
pub fn expand(s: &str, env: &dyn EnvSource) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            let end = tail
                .find('}')
                .ok_or_else(|| format!("unterminated ${{ in \"{s}\""))?;
            let name = &tail[..end];
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(format!("invalid environment variable name \"{name}\""));
            }
            let value = env
                .var(name)
                .ok_or_else(|| format!("environment variable {name} is not set"))?;
            out.push_str(&value);
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env() -> HashMap<String, String> {
        HashMap::from([("KEY".to_string(), "sk-1".to_string())])
    }

    #[test]
    fn expands_references_and_escapes() {
        assert_eq!(expand("${KEY}", &env()).unwrap(), "sk-1");
        assert_eq!(expand("Bearer ${KEY}!", &env()).unwrap(), "Bearer sk-1!");
        assert_eq!(expand("$${KEY} $5", &env()).unwrap(), "${KEY} $5");
    }

    #[test]
    fn errors_name_the_variable() {
        assert_eq!(
            expand("${NOPE}", &env()).unwrap_err(),
            "environment variable NOPE is not set"
        );
        assert_eq!(
            expand("${A-B}", &env()).unwrap_err(),
            "invalid environment variable name \"A-B\""
        );
        assert!(expand("${KEY", &env())
            .unwrap_err()
            .starts_with("unterminated"));
    }

    #[test]
    fn expand_all_reports_paths() {
        let mut v = serde_json::json!({"providers":[{"api_key":"${NOPE}"}],"x":"${KEY}"});
        let mut errs = Vec::new();
        expand_all(&mut v, "", &env(), &mut errs);
        assert_eq!(v["x"], "sk-1");
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].path, "providers[0].api_key");
    }
}
