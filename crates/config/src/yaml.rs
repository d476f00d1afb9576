//! YAML text → JSON value, remembering the line where each field path starts.
//!
//! Scalars follow the YAML 1.2 core schema: plain `null`/`~`/empty, `true`/`false`, integers
//! and floats are typed; quoted and block scalars are always strings.

use crate::error::ConfigError;
use serde_json::{Map, Number, Value};
use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A parsed document and the first line of every field path in it.
pub struct Doc {
    pub value: Value,
    pub spans: HashMap<String, usize>,
}

enum Frame {
    Seq {
        path: String,
        items: Vec<Value>,
        anchor: usize,
    },
    Map {
        path: String,
        map: Map<String, Value>,
        key: Option<String>,
        anchor: usize,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Value>,
    root: Option<Value>,
    spans: HashMap<String, usize>,
    error: Option<ConfigError>,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

impl Builder {
    /// Path of the next value in the current container; `None` in a mapping's key position.
    fn next_path(&self) -> Option<String> {
        match self.stack.last() {
            None => Some(String::new()),
            Some(Frame::Seq { path, items, .. }) => Some(format!("{path}[{}]", items.len())),
            Some(Frame::Map { path, key, .. }) => key.as_ref().map(|k| join(path, k)),
        }
    }

    fn fail(&mut self, mark: Marker, msg: String) {
        if self.error.is_none() {
            self.error = Some(ConfigError::new("", msg).at_line(mark.line()));
        }
    }

    fn push_value(&mut self, v: Value, mark: Marker) {
        match self.stack.last_mut() {
            None => self.root = Some(v),
            Some(Frame::Seq { items, .. }) => items.push(v),
            Some(Frame::Map { map, key, path, .. }) => {
                if let Some(k) = key.take() {
                    if map.contains_key(&k) {
                        let p = join(path, &k);
                        self.fail(mark, format!("{p}: duplicate key"));
                        return;
                    }
                    map.insert(k, v);
                }
            }
        }
    }

    fn start_container(&mut self, mark: Marker) -> Option<String> {
        match self.next_path() {
            Some(p) => {
                self.spans.entry(p.clone()).or_insert(mark.line());
                Some(p)
            }
            None => {
                self.fail(mark, "mapping keys must be plain strings".into());
                None
            }
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                if let Some(Frame::Map {
                    path,
                    key: k @ None,
                    ..
                }) = self.stack.last_mut()
                {
                    let p = join(path, &text);
                    self.spans.entry(p).or_insert(mark.line());
                    *k = Some(text);
                    return;
                }
                if let Some(p) = self.next_path() {
                    self.spans.entry(p).or_insert(mark.line());
                }
                let force_str = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let v = if force_str || style != TScalarStyle::Plain {
                    Value::String(text)
                } else {
                    resolve_plain(text)
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                self.push_value(v, mark);
            }
            Event::SequenceStart(anchor, _) => {
                if let Some(path) = self.start_container(mark) {
                    self.stack.push(Frame::Seq {
                        path,
                        items: Vec::new(),
                        anchor,
                    });
                }
            }
            Event::MappingStart(anchor, _) => {
                if let Some(path) = self.start_container(mark) {
                    self.stack.push(Frame::Map {
                        path,
                        map: Map::new(),
                        key: None,
                        anchor,
                    });
                }
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (v, anchor) = match self.stack.pop() {
                    Some(Frame::Seq { items, anchor, .. }) => (Value::Array(items), anchor),
                    Some(Frame::Map { map, anchor, .. }) => (Value::Object(map), anchor),
                    None => return,
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                self.push_value(v, mark);
            }
            Event::Alias(id) => {
                let v = self.anchors.get(&id).cloned().unwrap_or(Value::Null);
                if let Some(p) = self.next_path() {
                    self.spans.entry(p).or_insert(mark.line());
                }
                self.push_value(v, mark);
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}

fn resolve_plain(text: String) -> Value {
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        return Value::Number(i.into());
    }
    if let Some(hex) = text.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return Value::Number(i.into());
        }
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(oct, 8) {
            return Value::Number(i.into());
        }
    }
    let looks_numeric = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
    if looks_numeric && text.bytes().any(|b| b.is_ascii_digit()) {
        if let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(n);
        }
    }
    Value::String(text)
}

/// Parses one YAML document. An empty document is an empty mapping.
pub fn parse(text: &str) -> Result<Doc, ConfigError> {
    let mut b = Builder::default();
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut b, false) {
        return Err(
            ConfigError::new("", format!("invalid YAML: {}", e.info())).at_line(e.marker().line())
        );
    }
    if let Some(e) = b.error {
        return Err(e);
    }
    let value = match b.root {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(v) => v,
    };
    Ok(Doc {
        value,
        spans: b.spans,
    })
}

/// The path → line map alone, empty when the text does not parse.
pub fn parse_spans(text: &str) -> HashMap<String, usize> {
    parse(text).map(|d| d.spans).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_follow_the_core_schema() {
        let d =
            parse("a: 1\nb: 1.5\nc: true\nd: ~\ne: '1'\nf: hello\ng: \"true\"\nh: 0x10\n").unwrap();
        assert_eq!(
            d.value,
            serde_json::json!({"a":1,"b":1.5,"c":true,"d":null,"e":"1","f":"hello","g":"true","h":16})
        );
    }

    #[test]
    fn spans_record_lines_of_nested_paths() {
        let text =
            "server:\n  listen: 1.2.3.4:5\nproviders:\n  - name: a\n    base_url: x\n  - name: b\n";
        let d = parse(text).unwrap();
        assert_eq!(d.spans["server.listen"], 2);
        assert_eq!(d.spans["providers[0].name"], 4);
        assert_eq!(d.spans["providers[0].base_url"], 5);
        assert_eq!(d.spans["providers[1]"], 6);
    }

    #[test]
    fn anchors_and_aliases_copy_values() {
        let d = parse("h: &h {x: 1}\ni: *h\n").unwrap();
        assert_eq!(d.value["i"]["x"], 1);
    }

    #[test]
    fn duplicate_keys_and_syntax_errors_have_lines() {
        let e = parse("a: 1\nb: 2\na: 3\n").err().unwrap();
        assert_eq!(e.to_string(), "line 3: a: duplicate key");
        let e = parse("a: [1, 2\nb: 3\n").err().unwrap();
        assert!(e.to_string().starts_with("line "), "{e}");
        assert!(e.message.starts_with("invalid YAML"), "{e}");
    }

    #[test]
    fn empty_document_is_empty_map() {
        assert_eq!(parse("").unwrap().value, serde_json::json!({}));
        assert_eq!(
            parse("# only a comment\n").unwrap().value,
            serde_json::json!({})
        );
    }
}
