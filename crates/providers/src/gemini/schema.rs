//! JSON Schema (as OpenAI tools and `json_schema` response formats carry it) → Gemini's `Schema`,
//! a subset of OpenAPI 3.0: upper-case types, `nullable` instead of `null` in type lists, `$ref`s
//! inlined, `anyOf` for unions, string enums. Keywords outside the subset that only constrain
//! validation (`additionalProperties`, `$schema`, `uniqueItems`, ...) are left out; a string
//! `format` Gemini does not know moves into the description so the model still sees it.

use crate::translate::TranslateError;
use serde_json::{json, Map, Value};

/// Keywords Gemini's Schema accepts that copy over unchanged.
const KEPT: &[&str] = &[
    "description",
    "title",
    "nullable",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "minProperties",
    "maxProperties",
    "default",
    "example",
    "propertyOrdering",
];

/// String formats Gemini acts on; numeric formats pass for numbers.
const STRING_FORMATS: &[&str] = &["enum", "date-time"];
const NUMBER_FORMATS: &[&str] = &["float", "double", "int32", "int64"];

/// How deep `$ref`s may nest before the schema is taken to be recursive.
const MAX_DEPTH: usize = 32;
/// Most nodes an expanded schema may have: `$ref`s that fan out can otherwise grow a small
/// schema exponentially.
const MAX_NODES: usize = 10_000;

/// Converts a whole schema; `path` names it in errors (e.g. `tools[0].function.parameters`).
pub fn to_gemini(schema: &Value, path: &str) -> Result<Value, TranslateError> {
    let defs = schema
        .get("$defs")
        .or_else(|| schema.get("definitions"))
        .and_then(Value::as_object);
    Converter {
        defs,
        root: path,
        nodes: std::cell::Cell::new(0),
    }
    .node(schema, path, 0)
}

struct Converter<'a> {
    defs: Option<&'a Map<String, Value>>,
    root: &'a str,
    /// Nodes produced so far.
    nodes: std::cell::Cell<usize>,
}

fn gemini_type(t: &str, path: &str) -> Result<&'static str, TranslateError> {
    Ok(match t {
        "string" => "STRING",
        "number" => "NUMBER",
        "integer" => "INTEGER",
        "boolean" => "BOOLEAN",
        "array" => "ARRAY",
        "object" => "OBJECT",
        "null" => "NULL",
        other => {
            return Err(TranslateError::field(
                path,
                format!("unknown JSON Schema type '{other}'"),
            ))
        }
    })
}

fn is_null_schema(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null")
}

impl Converter<'_> {
    fn resolve(&self, reference: &str, path: &str) -> Result<&Value, TranslateError> {
        let name = reference
            .strip_prefix("#/$defs/")
            .or_else(|| reference.strip_prefix("#/definitions/"));
        name.and_then(|n| self.defs.and_then(|d| d.get(n)))
            .ok_or_else(|| {
                TranslateError::field(
                    path,
                    format!(
                        "$ref '{reference}' must point into the schema's own $defs to be sent to Gemini"
                    ),
                )
            })
    }

    fn node(&self, v: &Value, path: &str, depth: usize) -> Result<Value, TranslateError> {
        self.nodes.set(self.nodes.get() + 1);
        if self.nodes.get() > MAX_NODES {
            return Err(TranslateError::field(
                self.root,
                format!(
                    "the schema expands to more than {MAX_NODES} nodes once its $refs are inlined"
                ),
            ));
        }
        if depth > MAX_DEPTH {
            return Err(TranslateError::field(
                self.root,
                "recursive schemas ($ref cycles) cannot be expressed in Gemini's schema",
            ));
        }
        let Some(obj) = v.as_object() else {
            return match v {
                // `true` accepts anything: the closest Gemini has is no constraint at all.
                Value::Bool(true) => Ok(json!({})),
                _ => Err(TranslateError::field(path, "a schema must be an object")),
            };
        };
        if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
            let target = self.resolve(r, path)?;
            let mut out = self.node(target, path, depth + 1)?;
            if let (Some(d), Some(m)) = (obj.get("description"), out.as_object_mut()) {
                m.insert("description".into(), d.clone());
            }
            return Ok(out);
        }
        let mut out = Map::new();
        for key in KEPT {
            if let Some(val) = obj.get(*key) {
                out.insert((*key).to_owned(), val.clone());
            }
        }
        if let Some(ex) = obj
            .get("examples")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            out.entry("example").or_insert_with(|| ex.clone());
        }
        match obj.get("type") {
            Some(Value::String(t)) => {
                out.insert("type".into(), json!(gemini_type(t, path)?));
            }
            Some(Value::Array(types)) => {
                let mut kinds = Vec::new();
                for t in types {
                    match t.as_str() {
                        Some("null") => {
                            out.insert("nullable".into(), json!(true));
                        }
                        Some(t) => kinds.push(gemini_type(t, path)?),
                        None => {
                            return Err(TranslateError::field(path, "type entries must be strings"))
                        }
                    }
                }
                match kinds.as_slice() {
                    [] => {}
                    [one] => {
                        out.insert("type".into(), json!(one));
                    }
                    many => {
                        let alts: Vec<Value> = many.iter().map(|t| json!({"type": t})).collect();
                        out.insert("anyOf".into(), Value::Array(alts));
                    }
                }
            }
            Some(_) => {
                return Err(TranslateError::field(
                    path,
                    "type must be a string or a list",
                ))
            }
            None => {}
        }
        if let Some(c) = obj.get("const") {
            out.insert("enum".into(), json!([enum_text(c)]));
            out.entry("type").or_insert_with(|| json!("STRING"));
        }
        if let Some(values) = obj.get("enum").and_then(Value::as_array) {
            let mut texts = Vec::new();
            for e in values {
                if e.is_null() {
                    out.insert("nullable".into(), json!(true));
                } else {
                    texts.push(json!(enum_text(e)));
                }
            }
            out.insert("enum".into(), Value::Array(texts));
            out.entry("type").or_insert_with(|| json!("STRING"));
        }
        if let Some(f) = obj.get("format").and_then(Value::as_str) {
            let known = match out.get("type").and_then(Value::as_str) {
                Some("STRING") => STRING_FORMATS.contains(&f),
                Some("NUMBER" | "INTEGER") => NUMBER_FORMATS.contains(&f),
                _ => false,
            };
            if known {
                out.insert("format".into(), json!(f));
            } else {
                let note = format!("(format: {f})");
                let desc = match out.get("description").and_then(Value::as_str) {
                    Some(d) if !d.is_empty() => format!("{d} {note}"),
                    _ => note,
                };
                out.insert("description".into(), json!(desc));
            }
        }
        if let Some(props) = obj.get("properties").and_then(Value::as_object) {
            let mut converted = Map::new();
            for (name, p) in props {
                converted.insert(
                    name.clone(),
                    self.node(p, &format!("{path}.properties.{name}"), depth)?,
                );
            }
            if let Some(req) = obj.get("required").and_then(Value::as_array) {
                let kept: Vec<Value> = req
                    .iter()
                    .filter(|r| r.as_str().is_some_and(|n| converted.contains_key(n)))
                    .cloned()
                    .collect();
                if !kept.is_empty() {
                    out.insert("required".into(), Value::Array(kept));
                }
            }
            if !converted.is_empty() {
                out.insert("properties".into(), Value::Object(converted));
            }
        }
        match obj.get("items") {
            Some(Value::Array(_)) => {
                return Err(TranslateError::field(
                    &format!("{path}.items"),
                    "tuple schemas (items as a list) cannot be expressed in Gemini's schema",
                ))
            }
            Some(items) => {
                out.insert(
                    "items".into(),
                    self.node(items, &format!("{path}.items"), depth)?,
                );
            }
            None => {}
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(alts) = obj.get(key).and_then(Value::as_array) {
                self.union(alts, &mut out, &format!("{path}.{key}"), depth)?;
            }
        }
        if let Some(all) = obj.get("allOf").and_then(Value::as_array) {
            for (i, part) in all.iter().enumerate() {
                let converted = self.node(part, &format!("{path}.allOf[{i}]"), depth)?;
                merge(&mut out, converted);
            }
        }
        Ok(Value::Object(out))
    }

    /// `anyOf`/`oneOf`: `null` alternatives become `nullable`; one remaining alternative merges
    /// into the node; several become Gemini's `anyOf`.
    fn union(
        &self,
        alts: &[Value],
        out: &mut Map<String, Value>,
        path: &str,
        depth: usize,
    ) -> Result<(), TranslateError> {
        let mut kept = Vec::new();
        for (i, a) in alts.iter().enumerate() {
            if is_null_schema(a) {
                out.insert("nullable".into(), json!(true));
            } else {
                kept.push(self.node(a, &format!("{path}[{i}]"), depth)?);
            }
        }
        if kept.len() == 1 {
            if let Some(one) = kept.pop() {
                merge(out, one);
            }
        } else if !kept.is_empty() {
            out.insert("anyOf".into(), Value::Array(kept));
        }
        Ok(())
    }
}

/// Adds `from`'s keywords to `into`; properties and required lists are unioned.
fn merge(into: &mut Map<String, Value>, from: Value) {
    let Value::Object(from) = from else { return };
    for (k, v) in from {
        match (k.as_str(), into.get_mut(&k), v) {
            ("properties", Some(Value::Object(have)), Value::Object(add)) => have.extend(add),
            ("required", Some(Value::Array(have)), Value::Array(add)) => {
                for r in add {
                    if !have.contains(&r) {
                        have.push(r);
                    }
                }
            }
            ("description", Some(_), _) => {}
            (_, _, v) => {
                into.insert(k, v);
            }
        }
    }
}

/// Gemini enums are strings.
fn enum_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
