//! How a request names a prompt: OpenAI's `prompt: {id, version, variables}` (on Responses
//! and, here, chat completions too), LiteLLM's `prompt_id` / `prompt_variables` /
//! `prompt_version`, or the `x-switchyard-prompt` header (`id`, `id@3`, `id:staging`) with
//! variables in `x-switchyard-prompt-variables` (a JSON object), which any inbound API can
//! carry. A version that is not a number names a label.

use crate::apply::ApplyError;
use crate::catalog::PromptRef;
use serde_json::{Map, Value};

fn bad(param: &str, message: impl Into<String>) -> ApplyError {
    ApplyError {
        message: message.into(),
        param: Some(param.to_owned()),
    }
}

/// A version field: a number or digits is a version, another string a label.
fn version_or_label(v: &Value, param: &str) -> Result<(Option<u32>, Option<String>), ApplyError> {
    match v {
        Value::Null => Ok((None, None)),
        Value::Number(n) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0)
            .map(|n| (Some(n), None))
            .ok_or_else(|| {
                bad(
                    param,
                    format!("{param} must be a version number or a label"),
                )
            }),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .map(|n| (Some(n), None))
            .ok_or_else(|| {
                bad(
                    param,
                    format!("{param} must be a version number or a label"),
                )
            }),
        Value::String(s) if !s.is_empty() => Ok((None, Some(s.clone()))),
        _ => Err(bad(
            param,
            format!("{param} must be a version number or a label"),
        )),
    }
}

fn variables(v: Option<&Value>, param: &str) -> Result<Map<String, Value>, ApplyError> {
    match v {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(bad(param, format!("{param} must be an object"))),
    }
}

/// The prompt a chat or Responses body names, if any (the body is not changed).
pub fn from_body(body: &Map<String, Value>) -> Result<Option<PromptRef>, ApplyError> {
    if let Some(p) = body.get("prompt").filter(|p| !p.is_null()) {
        let Some(obj) = p.as_object() else {
            return Err(bad("prompt", "prompt must be an object with an id"));
        };
        let id = obj
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("prompt.id", "prompt.id must be a non-empty string"))?;
        let (version, label) =
            version_or_label(obj.get("version").unwrap_or(&Value::Null), "prompt.version")?;
        return Ok(Some(PromptRef {
            id: id.to_owned(),
            version,
            label,
            variables: variables(obj.get("variables"), "prompt.variables")?,
        }));
    }
    let Some(id) = body.get("prompt_id").filter(|p| !p.is_null()) else {
        return Ok(None);
    };
    let id = id
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("prompt_id", "prompt_id must be a non-empty string"))?;
    let (version, label) = version_or_label(
        body.get("prompt_version").unwrap_or(&Value::Null),
        "prompt_version",
    )?;
    Ok(Some(PromptRef {
        id: id.to_owned(),
        version,
        label,
        variables: variables(body.get("prompt_variables"), "prompt_variables")?,
    }))
}

/// Takes the prompt fields out of a body (they are the gateway's, not the upstream's).
pub fn strip(body: &mut Map<String, Value>) {
    for k in ["prompt", "prompt_id", "prompt_variables", "prompt_version"] {
        body.remove(k);
    }
}

/// The header's reference: `id`, `id@<version>` or `id:<label>`, with `variables` (the
/// variables header's JSON object) when given.
pub fn from_header(value: &str, variables_header: Option<&str>) -> Result<PromptRef, ApplyError> {
    const H: &str = "x-switchyard-prompt";
    let value = value.trim();
    let (id, version, label) = if let Some((id, v)) = value.split_once('@') {
        let n = v
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| bad(H, format!("{H}: \"{v}\" is not a version number")))?;
        (id, Some(n), None)
    } else if let Some((id, l)) = value.split_once(':') {
        (id, None, Some(l.to_owned()))
    } else {
        (value, None, None)
    };
    if id.is_empty() {
        return Err(bad(
            H,
            format!("{H} must name a prompt: id, id@version or id:label"),
        ));
    }
    let variables = match variables_header {
        None => Map::new(),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => m,
            _ => {
                return Err(bad(
                    "x-switchyard-prompt-variables",
                    "x-switchyard-prompt-variables must be a JSON object",
                ))
            }
        },
    };
    Ok(PromptRef {
        id: id.to_owned(),
        version,
        label: label.filter(|l| !l.is_empty()),
        variables,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn openai_and_litellm_fields() {
        let r = from_body(&obj(json!({"prompt": {"id": "greet", "version": "2",
            "variables": {"name": "Ana"}}})))
        .unwrap()
        .unwrap();
        assert_eq!(
            (r.id.as_str(), r.version, r.label),
            ("greet", Some(2), None)
        );
        assert_eq!(r.variables["name"], "Ana");
        let r = from_body(&obj(
            json!({"prompt": {"id": "greet", "version": "staging"}}),
        ))
        .unwrap()
        .unwrap();
        assert_eq!((r.version, r.label.as_deref()), (None, Some("staging")));
        let r = from_body(&obj(json!({"prompt_id": "greet", "prompt_version": 3,
            "prompt_variables": {"x": 1}})))
        .unwrap()
        .unwrap();
        assert_eq!((r.version, r.variables["x"].clone()), (Some(3), json!(1)));
        assert!(from_body(&obj(json!({"model": "m"}))).unwrap().is_none());
        let e = from_body(&obj(json!({"prompt": {"id": "g", "variables": [1]}}))).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("prompt.variables"));
        let e = from_body(&obj(json!({"prompt": "greet"}))).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("prompt"));
        let mut b = obj(json!({"prompt_id": "g", "prompt_variables": {}, "model": "m"}));
        strip(&mut b);
        assert_eq!(b, obj(json!({"model": "m"})));
    }

    #[test]
    fn the_header_names_a_version_or_a_label() {
        let r = from_header("greet@4", Some(r#"{"name": "Bo"}"#)).unwrap();
        assert_eq!(
            (r.id.as_str(), r.version, r.variables["name"].clone()),
            ("greet", Some(4), json!("Bo"))
        );
        let r = from_header("greet:staging", None).unwrap();
        assert_eq!(r.label.as_deref(), Some("staging"));
        assert!(from_header("greet@x", None).is_err());
        assert!(from_header("greet", Some("[1]")).is_err());
        assert!(from_header("@2", None).is_err());
    }
}
