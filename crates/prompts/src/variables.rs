//! A version's variables: defaults filled in, then every check that would otherwise fail
//! silently as an empty string in the prompt: a required variable missing, a value of the
//! wrong type, and (in strict mode) a variable the prompt does not know, with the name it was
//! probably meant to be.

use crate::model::{VarSpec, VarType};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// A variable refused: the message names it; `param` is where it was (or belonged) in the
/// request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct VarError {
    pub message: String,
    pub variable: String,
}

/// What a version expects.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    pub specs: Vec<VarSpec>,
    /// Every name the version's templates use (partials included).
    pub used: BTreeSet<String>,
    /// Names used as plain variables outside sections (required when nothing is declared).
    pub top: BTreeSet<String>,
    pub strict: bool,
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A content part: an object with a string `type`.
fn is_part(v: &Value) -> bool {
    v.get("type").is_some_and(Value::is_string)
}

fn fits(kind: VarType, v: &Value) -> bool {
    match kind {
        VarType::String => v.is_string(),
        VarType::Number => v.is_number(),
        VarType::Integer => v.is_i64() || v.is_u64(),
        VarType::Boolean => v.is_boolean(),
        VarType::Object => v.is_object(),
        VarType::Array => v.is_array(),
        VarType::Content => match v {
            Value::Array(a) => !a.is_empty() && a.iter().all(is_part),
            other => is_part(other),
        },
    }
}

/// Edit distance in characters (for "did you mean", and the similarity evaluator).
pub(crate) fn distance(a: &str, b: &str) -> usize {
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

/// The known name closest to `name`, when close enough to be a slip.
fn closest<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    known
        .map(|k| (distance(name, k), k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4) && *d > 0)
        .min()
        .map(|(_, k)| k)
}

impl Schema {
    /// The names the version knows: declared ones, else the ones its templates use.
    fn known(&self) -> BTreeSet<&str> {
        if self.specs.is_empty() {
            self.used.iter().map(String::as_str).collect()
        } else {
            self.specs.iter().map(|s| s.name.as_str()).collect()
        }
    }

    /// The declared type of `name`, when declared.
    pub fn kind(&self, name: &str) -> Option<VarType> {
        self.specs.iter().find(|s| s.name == name).map(|s| s.kind)
    }

    /// `given` checked, with defaults filled in.
    pub fn check(&self, given: &Map<String, Value>) -> Result<Map<String, Value>, VarError> {
        let known = self.known();
        if self.strict {
            for name in given.keys() {
                if !known.contains(name.as_str()) {
                    let hint = closest(name, known.iter().copied())
                        .map(|k| format!(" Did you mean \"{k}\"?"))
                        .unwrap_or_default();
                    let list = if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.iter().copied().collect::<Vec<_>>().join(", ")
                    };
                    return Err(VarError {
                        message: format!(
                            "Unknown prompt variable \"{name}\".{hint} The prompt's variables: {list}."
                        ),
                        variable: name.clone(),
                    });
                }
            }
        }
        let mut out = given.clone();
        for spec in &self.specs {
            match given.get(&spec.name) {
                Some(v) if !fits(spec.kind, v) => {
                    return Err(VarError {
                        message: format!(
                            "Prompt variable \"{}\" must be of type {}, not {}.",
                            spec.name,
                            match spec.kind {
                                VarType::Content =>
                                    "content (a part with a \"type\", or an array of them)",
                                k => k.name(),
                            },
                            type_of(v)
                        ),
                        variable: spec.name.clone(),
                    })
                }
                Some(_) => {}
                None => match &spec.default {
                    Some(d) => {
                        out.insert(spec.name.clone(), d.clone());
                    }
                    None if spec.required => {
                        return Err(missing(&spec.name, given, &known));
                    }
                    None => {}
                },
            }
        }
        if self.specs.is_empty() {
            for name in &self.top {
                if !given.contains_key(name) {
                    return Err(missing(name, given, &known));
                }
            }
        }
        Ok(out)
    }
}

fn missing(name: &str, given: &Map<String, Value>, known: &BTreeSet<&str>) -> VarError {
    // A given name that is not known and is close to the missing one is the likely slip.
    let slip = closest(
        name,
        given
            .keys()
            .map(String::as_str)
            .filter(|g| !known.contains(g)),
    )
    .map(|g| format!(" (\"{g}\" was given: a misspelling?)"))
    .unwrap_or_default();
    VarError {
        message: format!("Missing required prompt variable \"{name}\"{slip}."),
        variable: name.to_owned(),
    }
}

#[cfg(test)]
mod tests;
