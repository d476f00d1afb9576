//! Mustache templates, rendered with the `mustache2` crate (it follows the Mustache
//! specification, standalone lines and partial indentation included, and needs no other
//! crate), with one change of meaning: nothing is HTML-escaped. A prompt is not HTML, and a
//! variable holding `<b>` or `"quoted"` text must reach the model as it is (Portkey's,
//! OpenAI's and Phoenix's prompt templates behave the same). Plain `{{name}}` tags are
//! rewritten to `{{&name}}` before compiling; `{{{name}}}` and `{{&name}}` are already raw.
//!
//! Set-delimiter tags (`{{=<% %>=}}`) are refused: with them the rewrite could not tell a
//! tag from text.

use mustache2::render::provider::SourceProvider;
use mustache2::render::{RenderManager, SourceCache};
use mustache2::Data;
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

/// A template that did not compile or render, with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    pub message: String,
}

impl TemplateError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// A checked template: its source as rendered (plain tags made raw) and the names it uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    /// The first segment of every variable and section name (`user` for `{{user.name}}`).
    names: BTreeSet<String>,
    /// Plain variables outside every section: without declared variables, these are required.
    top: BTreeSet<String>,
    /// Partials it includes, by name.
    partials: BTreeSet<String>,
    /// A template whose only tags are variables, as text and variable paths: filled without
    /// the engine (the same output: only sections, partials and comments have line rules).
    plain: Option<Vec<Segment>>,
}

/// A piece of a template with no tags but variables.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Text(String),
    /// A variable's dotted path.
    Var(Vec<String>),
}

/// A tag: its sigil (`None` for a plain variable, `&` for `{{{x}}}` too), its name, and the
/// byte where it opens.
type Tag<'a> = (Option<char>, &'a str, usize);

/// The tags of a template, in order.
fn tags(src: &str) -> Result<Vec<Tag<'_>>, TemplateError> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = src[at..].find("{{") {
        let open = at + i;
        let rest = &src[open + 2..];
        let (sigil, body_start, close) = match rest.chars().next() {
            Some('{') => (Some('&'), open + 3, "}}}"),
            Some(c @ ('#' | '^' | '/' | '>' | '!' | '&' | '<' | '$')) => {
                (Some(c), open + 2 + c.len_utf8(), "}}")
            }
            Some('=') => {
                return Err(TemplateError::new(format!(
                    "set-delimiter tags are not supported (at byte {open})"
                )))
            }
            _ => (None, open + 2, "}}"),
        };
        let Some(len) = src[body_start..].find(close) else {
            return Err(TemplateError::new(format!(
                "a tag opened at byte {open} is not closed"
            )));
        };
        let name = src[body_start..body_start + len].trim();
        out.push((sigil, name, open));
        at = body_start + len + close.len();
    }
    Ok(out)
}

/// Looks partials up by name in a map of raw (already rewritten) sources.
struct Partials<'a>(&'a HashMap<String, Template>);

impl SourceProvider for Partials<'_> {
    type Key = String;

    fn get_src(&mut self, key: &String) -> Result<String, Cow<'static, str>> {
        if key.is_empty() {
            return Err("no template".into());
        }
        match self.0.get(key) {
            Some(t) => Ok(t.source.clone()),
            None => Err(format!("unknown partial \"{key}\"").into()),
        }
    }

    fn resolve_partial(&self, _: &String, name: &str) -> String {
        name.to_owned()
    }

    fn display_key(key: &String) -> Cow<'_, str> {
        Cow::Borrowed(key.as_str())
    }
}

/// Renders `main` (not a partial: the key `""` is never a partial's name) with `data`.
fn run(
    main: &str,
    data: Data,
    partials: &HashMap<String, Template>,
) -> Result<String, TemplateError> {
    struct Main<'a> {
        main: &'a str,
        partials: Partials<'a>,
    }
    impl SourceProvider for Main<'_> {
        type Key = String;
        fn get_src(&mut self, key: &String) -> Result<String, Cow<'static, str>> {
            if key.is_empty() {
                Ok(self.main.to_owned())
            } else {
                self.partials.get_src(key)
            }
        }
        fn resolve_partial(&self, k: &String, name: &str) -> String {
            self.partials.resolve_partial(k, name)
        }
        fn display_key(key: &String) -> Cow<'_, str> {
            Cow::Borrowed(key.as_str())
        }
    }
    let cache = SourceCache::default();
    let mut m = RenderManager::new(
        Main {
            main,
            partials: Partials(partials),
        },
        &cache,
    );
    m.render(String::new(), data).map_err(|e| {
        let at = e
            .source
            .as_ref()
            .map(|(_, span)| format!(" (at byte {})", span.start))
            .unwrap_or_default();
        TemplateError::new(format!("{}{at}", e.message))
    })
}

impl Template {
    /// Checks `src` and makes its plain tags raw. Partials are not resolved here (`render`
    /// gets them), but their names are known (`partials`).
    pub fn compile(src: &str) -> Result<Template, TemplateError> {
        let found = tags(src)?;
        let plain = plain_segments(src, &found);
        let mut source = String::with_capacity(src.len() + found.len());
        let mut names = BTreeSet::new();
        let mut partials = BTreeSet::new();
        let mut top = BTreeSet::new();
        let mut depth = 0usize;
        let mut copied = 0;
        for (sigil, name, open) in found {
            match sigil {
                Some('#' | '^') => depth += 1,
                Some('/') => depth = depth.saturating_sub(1),
                None | Some('&') if depth == 0 && name != "." => {
                    if let Some(first) = name.split('.').next().filter(|n| !n.is_empty()) {
                        top.insert(first.to_owned());
                    }
                }
                _ => {}
            }
            match sigil {
                None => {
                    source.push_str(&src[copied..open + 2]);
                    source.push('&');
                    copied = open + 2;
                }
                Some('!') => continue,
                Some('>') => {
                    partials.insert(name.to_owned());
                    continue;
                }
                Some('<' | '$') => {
                    return Err(TemplateError::new(format!(
                        "template inheritance tags are not supported (at byte {open})"
                    )))
                }
                _ => {}
            }
            if let Some(first) = name.split('.').next().filter(|n| !n.is_empty()) {
                names.insert(first.to_owned());
            }
        }
        source.push_str(&src[copied..]);
        // Syntax errors (an unclosed section, a stray closing tag) show up on a render with
        // no data; partials are empty here.
        let empty: HashMap<String, Template> = partials
            .iter()
            .map(|p| {
                let t = Template {
                    source: String::new(),
                    names: BTreeSet::new(),
                    top: BTreeSet::new(),
                    partials: BTreeSet::new(),
                    plain: None,
                };
                (p.clone(), t)
            })
            .collect();
        run(&source, Data::Map(HashMap::new()), &empty)?;
        Ok(Template {
            source,
            names,
            top,
            partials,
            plain,
        })
    }

    /// Plain variables used outside every section (`{{name}}`, not `{{#list}}{{name}}{{/list}}`).
    pub fn top_level(&self) -> &BTreeSet<String> {
        &self.top
    }

    /// Whether the template has no tags at all (its text is its output).
    pub fn is_static(&self) -> bool {
        self.names.is_empty() && self.partials.is_empty()
    }

    /// The first segment of each name a tag uses (variables and sections).
    pub fn names(&self) -> &BTreeSet<String> {
        &self.names
    }

    /// The partials it includes.
    pub fn partials(&self) -> &BTreeSet<String> {
        &self.partials
    }

    /// Fills the template with `data` (a JSON object); `partials` by name.
    pub fn render(
        &self,
        data: &serde_json::Value,
        partials: &HashMap<String, Template>,
    ) -> Result<String, TemplateError> {
        if let Some(segments) = &self.plain {
            let mut out = String::with_capacity(self.source.len() + 64);
            for s in segments {
                match s {
                    Segment::Text(t) => out.push_str(t),
                    Segment::Var(path) => {
                        let found = path.iter().try_fold(data, |v, k| v.get(k.as_str()));
                        match found {
                            Some(serde_json::Value::String(s)) => out.push_str(s),
                            // As the engine prints it (its `Display`), so both paths agree.
                            Some(v) => {
                                use std::fmt::Write;
                                let _ = write!(out, "{}", to_data(v));
                            }
                            None => {}
                        }
                    }
                }
            }
            return Ok(out);
        }
        run(&self.source, to_data(data), partials)
    }
}

/// The segments of a template whose tags are all variables (not `.`); `None` otherwise.
fn plain_segments(src: &str, found: &[Tag<'_>]) -> Option<Vec<Segment>> {
    let mut out = Vec::with_capacity(found.len() * 2 + 1);
    let mut at = 0;
    for (sigil, name, open) in found {
        if !matches!(sigil, None | Some('&')) || *name == "." || name.is_empty() {
            return None;
        }
        if *open > at {
            out.push(Segment::Text(src[at..*open].to_owned()));
        }
        out.push(Segment::Var(name.split('.').map(str::to_owned).collect()));
        // The tag's end: `}}}` for a triple, else `}}`.
        let triple = src[*open..].starts_with("{{{");
        let close = if triple { "}}}" } else { "}}" };
        let body = open + if triple || *sigil == Some('&') { 3 } else { 2 };
        at = body + src[body..].find(close)? + close.len();
    }
    if at < src.len() {
        out.push(Segment::Text(src[at..].to_owned()));
    }
    Some(out)
}

/// The engine's value for a JSON value. Numbers that fit an `i64` stay integers, so `3` does not
/// print as `3.0`.
pub fn to_data(v: &serde_json::Value) -> Data {
    use serde_json::Value as V;
    match v {
        V::Null => Data::Null,
        V::Bool(b) => Data::Bool(*b),
        V::Number(n) => match n.as_i64() {
            Some(i) => Data::Int(i),
            None => Data::Float(n.as_f64().unwrap_or(0.0)),
        },
        V::String(s) => Data::String(s.clone()),
        V::Array(a) => Data::List(a.iter().map(to_data).collect()),
        V::Object(m) => Data::Map(m.iter().map(|(k, v)| (k.clone(), to_data(v))).collect()),
    }
}

#[cfg(test)]
mod tests;
