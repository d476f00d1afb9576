//! A version compiled once (its templates checked, partials pinned) and rendered per request:
//! variables checked, templates filled, content variables (an image) placed as content parts
//! where they stand. The result is OpenAI chat messages plus the version's model and
//! parameters; `apply` merges it into the caller's request in its own API's shape.

use crate::model::{VarType, Version, VersionBody};
use crate::template::{Template, TemplateError};
use crate::variables::{Schema, VarError};
use serde_json::{json, Map, Value};
use std::collections::{BTreeSet, HashMap};

/// Why a render failed: a variable (the caller's 400, naming it) or a template (a version
/// that compiled cannot fail this way, but partial data can, as a section over a string).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("{0}")]
    Variable(#[from] VarError),
    #[error("{0}")]
    Template(#[from] TemplateError),
}

/// A template at a string leaf of a content part, by its path in the part.
type Leaf = (Vec<String>, Template);

/// A message's content, compiled.
#[derive(Debug, Clone)]
enum Content {
    Text(Template),
    /// Parts: each part's JSON, and the templates at its string leaves to fill in.
    Parts(Vec<(Value, Vec<Leaf>)>),
}

/// One version of one prompt, ready to render.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub id: String,
    pub version: u32,
    messages: Vec<(String, Content)>,
    /// The version's model, parameters, tools and response format (messages and variables
    /// taken out).
    pub body: VersionBody,
    pub schema: Schema,
    partials: HashMap<String, Template>,
}

/// A filled version: OpenAI chat messages and what else the version sets.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub messages: Vec<Value>,
    pub body: VersionBody,
}

/// The string leaves of a part (not its `type`), with their paths.
fn leaves(v: &Value, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
    match v {
        Value::String(s) => out.push((path.clone(), s.clone())),
        Value::Object(m) => {
            for (k, v) in m {
                if path.is_empty() && k == "type" {
                    continue;
                }
                path.push(k.clone());
                leaves(v, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn at_path<'a>(v: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, k| v.get_mut(k.as_str()))
}

/// Where a template failed, for the admin API's 400.
fn in_message(i: usize, e: TemplateError) -> TemplateError {
    TemplateError {
        message: format!("messages[{i}]: {}", e.message),
    }
}

impl Compiled {
    /// Compiles `v` of prompt `id`; `partials` are the pinned partials' texts by name.
    pub fn compile(
        id: &str,
        v: &Version,
        partials: &HashMap<String, String>,
    ) -> Result<Compiled, TemplateError> {
        let mut used = BTreeSet::new();
        let mut top = BTreeSet::new();
        let mut wanted = BTreeSet::new();
        let mut note = |t: &Template| {
            used.extend(t.names().iter().cloned());
            top.extend(t.top_level().iter().cloned());
            wanted.extend(t.partials().iter().cloned());
        };
        let mut messages = Vec::with_capacity(v.body.messages.len());
        for (i, m) in v.body.messages.iter().enumerate() {
            let content = match &m.content {
                Value::String(s) => {
                    let t = Template::compile(s).map_err(|e| in_message(i, e))?;
                    note(&t);
                    Content::Text(t)
                }
                Value::Array(parts) => {
                    let mut out = Vec::with_capacity(parts.len());
                    for p in parts {
                        if !p.get("type").is_some_and(Value::is_string) {
                            return Err(TemplateError {
                                message: format!(
                                    "messages[{i}]: each content part needs a string \"type\""
                                ),
                            });
                        }
                        let mut found = Vec::new();
                        leaves(p, &mut Vec::new(), &mut found);
                        let mut ts = Vec::with_capacity(found.len());
                        for (path, text) in found {
                            let t = Template::compile(&text).map_err(|e| in_message(i, e))?;
                            note(&t);
                            ts.push((path, t));
                        }
                        out.push((p.clone(), ts));
                    }
                    Content::Parts(out)
                }
                _ => {
                    return Err(TemplateError {
                        message: format!(
                            "messages[{i}]: content must be a string or an array of parts"
                        ),
                    })
                }
            };
            messages.push((m.role.clone(), content));
        }
        // Partials, and the partials they include, compiled; a cycle is refused (it could
        // only end by the data, and a prompt should not loop).
        let mut compiled: HashMap<String, Template> = HashMap::new();
        let mut queue: Vec<(String, Vec<String>)> =
            wanted.into_iter().map(|n| (n, Vec::new())).collect();
        while let Some((name, chain)) = queue.pop() {
            if chain.contains(&name) {
                return Err(TemplateError {
                    message: format!(
                        "partial \"{name}\" includes itself ({} > {name})",
                        chain.join(" > ")
                    ),
                });
            }
            let Some(text) = partials.get(&name) else {
                return Err(TemplateError {
                    message: format!("unknown partial \"{name}\""),
                });
            };
            let t = Template::compile(text).map_err(|e| TemplateError {
                message: format!("partial \"{name}\": {}", e.message),
            })?;
            let mut next = chain.clone();
            next.push(name.clone());
            for p in t.partials() {
                queue.push((p.clone(), next.clone()));
            }
            used.extend(t.names().iter().cloned());
            top.extend(t.top_level().iter().cloned());
            compiled.insert(name, t);
        }
        let mut body = v.body.clone();
        body.messages.clear();
        let schema = Schema {
            specs: std::mem::take(&mut body.variables),
            used,
            top,
            strict: body.strict,
        };
        Ok(Compiled {
            id: id.to_owned(),
            version: v.version,
            messages,
            body,
            schema,
            partials: compiled,
        })
    }

    /// The partials it includes, however deep.
    pub fn partial_names(&self) -> impl Iterator<Item = &String> {
        self.partials.keys()
    }

    /// The version filled with `given` variables.
    pub fn render(&self, given: &Map<String, Value>) -> Result<Rendered, RenderError> {
        let vars = self.schema.check(given)?;
        let content_vars: Vec<&str> = self
            .schema
            .specs
            .iter()
            .filter(|s| s.kind == VarType::Content && vars.contains_key(&s.name))
            .map(|s| s.name.as_str())
            .collect();
        let data = Value::Object(vars);
        let Value::Object(vars) = &data else {
            return Ok(Rendered {
                messages: Vec::new(),
                body: self.body.clone(),
            });
        };
        let mut messages = Vec::with_capacity(self.messages.len());
        for (role, content) in &self.messages {
            let content = match content {
                Content::Text(t) => match self.fill(t, &data, vars, &content_vars)? {
                    Filled::Text(s) => Value::String(s),
                    Filled::Parts(p) => Value::Array(p),
                },
                Content::Parts(parts) => {
                    let mut out = Vec::with_capacity(parts.len());
                    for (part, templates) in parts {
                        let is_text = part.get("type").and_then(Value::as_str) == Some("text");
                        let mut filled = part.clone();
                        let mut spliced = None;
                        for (path, t) in templates {
                            match self.fill(t, &data, vars, &content_vars)? {
                                Filled::Text(s) => {
                                    if let Some(slot) = at_path(&mut filled, path) {
                                        *slot = Value::String(s);
                                    }
                                }
                                // Only a text part's text can become parts.
                                Filled::Parts(p) if is_text && path.len() == 1 => {
                                    spliced = Some(p);
                                }
                                Filled::Parts(_) => {
                                    return Err(RenderError::Template(TemplateError {
                                        message: format!(
                                            "a content variable may stand only in text, not in \"{}\"",
                                            path.join(".")
                                        ),
                                    }))
                                }
                            }
                        }
                        match spliced {
                            Some(p) => out.extend(p),
                            None => out.push(filled),
                        }
                    }
                    Value::Array(out)
                }
            };
            messages.push(json!({"role": role, "content": content}));
        }
        Ok(Rendered {
            messages,
            body: self.body.clone(),
        })
    }

    fn fill(
        &self,
        t: &Template,
        data: &Value,
        vars: &Map<String, Value>,
        content_vars: &[&str],
    ) -> Result<Filled, RenderError> {
        if t.is_static() {
            return Ok(Filled::Text(t.render(data, &self.partials)?));
        }
        let here: Vec<&str> = content_vars
            .iter()
            .copied()
            .filter(|n| t.names().contains(*n))
            .collect();
        if here.is_empty() {
            return Ok(Filled::Text(t.render(data, &self.partials)?));
        }
        // Each content variable renders as a marker the text cannot hold, then the text is cut
        // at the markers and the variable's parts put between the pieces.
        let mut marked = vars.clone();
        for (i, name) in here.iter().enumerate() {
            marked.insert(
                (*name).to_owned(),
                Value::String(format!("\u{E000}{i}\u{E001}")),
            );
        }
        let text = t.render(&Value::Object(marked), &self.partials)?;
        let mut parts = Vec::new();
        let mut rest = text.as_str();
        while let Some(start) = rest.find('\u{E000}') {
            let Some(len) = rest[start..].find('\u{E001}') else {
                break;
            };
            if start > 0 {
                parts.push(json!({"type": "text", "text": &rest[..start]}));
            }
            let idx: Option<usize> = rest[start + 3..start + len].parse().ok();
            if let Some(v) = idx.and_then(|i| here.get(i)).and_then(|n| vars.get(*n)) {
                match v {
                    Value::Array(a) => parts.extend(a.iter().cloned()),
                    other => parts.push(other.clone()),
                }
            }
            rest = &rest[start + len + 3..];
        }
        if !rest.is_empty() {
            parts.push(json!({"type": "text", "text": rest}));
        }
        Ok(Filled::Parts(parts))
    }
}

enum Filled {
    Text(String),
    Parts(Vec<Value>),
}

#[cfg(test)]
mod tests;
