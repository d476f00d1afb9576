//! Format: the text is there, is JSON (valid, to a schema, with keys), holds code or not, starts
//! and ends as required, is in one letter case.
//!
//! JSON and code checks read the original text (`s.raw`): normalizing could change string
//! values a schema constrains. A byte-order mark in front is skipped.

use crate::catalogue::Entry;
use crate::check::{params, Check, Finding, ParamError, Source, Span, Subject};
use serde::Deserialize;
use serde_json::Value;
use std::ops::Range;

pub const CHECKS: &[Entry] = &[
    Entry {
        id: "not_empty",
        family: "format",
        summary: "empty or blank text",
        build: NotEmpty::build,
    },
    Entry {
        id: "json_valid",
        family: "format",
        summary: "text that is not JSON (whole, in a fence, or the first object)",
        build: JsonValid::build,
    },
    Entry {
        id: "json_schema",
        family: "format",
        summary: "JSON that breaks a JSON Schema",
        build: JsonSchema::build,
    },
    Entry {
        id: "json_keys",
        family: "format",
        summary: "JSON object keys missing (any, all) or present (none)",
        build: JsonKeys::build,
    },
    Entry {
        id: "contains_code",
        family: "format",
        summary: "code blocks present (forbid) or absent (require), by language",
        build: ContainsCode::build,
    },
    Entry {
        id: "affix",
        family: "format",
        summary: "text not starting with a prefix or not ending with a suffix",
        build: Affix::build,
    },
    Entry {
        id: "letter_case",
        family: "format",
        summary: "letters not all upper case (or all lower case)",
        build: LetterCase::build,
    },
];

/// Answers and the prompt.
const OUT_IN: &[Source] = &[Source::Output, Source::Input];
/// Answers and tool calls' arguments (where JSON is expected).
const OUT_TOOLS: &[Source] = &[Source::Output, Source::ToolCall];
/// Answers.
const OUTPUT: &[Source] = &[Source::Output];

/// The text without a byte-order mark in front.
fn unbom(text: &str) -> &str {
    text.strip_prefix('\u{FEFF}').unwrap_or(text)
}

// ---------------------------------------------------------------------------------------------
// Fenced code blocks (shared with sizes and language, which leave code out).

/// A fenced code block (CommonMark: three or more backticks or tildes, indented at most three
/// spaces; closed by a run of the same character at least as long, or by the end of the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fence {
    /// The info string's first word, lower-cased (`python`, `json`), empty when untagged.
    pub lang: String,
    /// The block's content (between the fence lines).
    pub body: Range<usize>,
    /// The whole block, fence lines included.
    pub whole: Range<usize>,
}

/// Lines of `text`: where each starts, where the next starts, and the line without its break.
fn lines(text: &str) -> impl Iterator<Item = (usize, usize, &str)> {
    let mut at = 0;
    text.split_inclusive('\n').map(move |l| {
        let start = at;
        at += l.len();
        let l = l.strip_suffix('\n').unwrap_or(l);
        (start, at, l.strip_suffix('\r').unwrap_or(l))
    })
}

/// A fence line: its character, its length, and the rest of the line.
fn fence_marker(line: &str) -> Option<(char, usize, &str)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let c = rest.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let n = rest.len() - rest.trim_start_matches(c).len();
    if n < 3 {
        return None;
    }
    Some((c, n, &rest[n..]))
}

/// Every fenced code block in `text`, in order.
pub(crate) fn fences(text: &str) -> Vec<Fence> {
    let mut out = Vec::new();
    // An open fence: its character, length, language, where it and its body start.
    let mut open: Option<(char, usize, String, usize, usize)> = None;
    for (at, next, line) in lines(text) {
        let marker = fence_marker(line);
        match (&open, marker) {
            (None, Some((c, n, info))) => {
                // A backtick fence's info string holds no backtick (that is inline code).
                if c == '`' && info.contains('`') {
                    continue;
                }
                let lang = info
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .trim_start_matches('{')
                    .trim_start_matches('.')
                    .trim_end_matches('}')
                    .to_lowercase();
                open = Some((c, n, lang, at, next));
            }
            (Some((c, n, _, _, _)), Some((c2, n2, info)))
                if *c == c2 && n2 >= *n && info.trim().is_empty() =>
            {
                if let Some((_, _, lang, start, body)) = open.take() {
                    let end = (at + line.len()).min(text.len());
                    out.push(Fence {
                        lang,
                        body: body.min(at)..at,
                        whole: start..end,
                    });
                }
            }
            _ => {}
        }
    }
    if let Some((_, _, lang, start, body)) = open {
        out.push(Fence {
            lang,
            body: body..text.len(),
            whole: start..text.len(),
        });
    }
    out
}

/// `text` without its fenced code blocks (each replaced by a line break).
pub(crate) fn without_fences(text: &str) -> std::borrow::Cow<'_, str> {
    let fs = fences(text);
    if fs.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for f in fs {
        out.push_str(text.get(at..f.whole.start).unwrap_or(""));
        out.push('\n');
        at = f.whole.end;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    std::borrow::Cow::Owned(out)
}

// ---------------------------------------------------------------------------------------------
// not_empty

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotEmptyParams {}

/// Empty or blank text (whitespace and invisible characters only).
pub struct NotEmpty;

impl NotEmpty {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let _: NotEmptyParams = params(v)?;
        Ok(Box::new(NotEmpty))
    }
}

impl Check for NotEmpty {
    fn id(&self) -> &'static str {
        "not_empty"
    }

    fn sources(&self) -> &'static [Source] {
        OUT_IN
    }

    fn span(&self) -> Span {
        Span::Whole
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        // The normalized copy has no default-ignorable characters (zero-width spaces, BOM).
        if s.norm.text.trim().is_empty() {
            out.push(Finding::whole(if s.raw.is_empty() {
                "empty"
            } else {
                "blank"
            }));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// JSON: extraction shared by json_valid, json_schema and json_keys.

/// Where the JSON is in the text.
#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
enum Extract {
    /// The whole text (surrounding whitespace and a BOM aside).
    #[default]
    Whole,
    /// The first fenced block tagged `json` (else the first untagged one); the whole text
    /// when there is no such fence.
    Fenced,
    /// The first balanced `{...}` that parses (the first eight candidates are tried).
    FirstObject,
}

/// How many `{` positions `first_object` tries.
const OBJECT_CANDIDATES: usize = 8;

/// The end (exclusive) of the balanced `{...}` starting at `start`, strings and escapes
/// respected; `None` when it never closes.
fn balanced_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, b) in bytes.iter().enumerate().skip(start) {
        if in_string {
            if escaped {
                escaped = false;
            } else if *b == b'\\' {
                escaped = true;
            } else if *b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// The JSON value in `text`, or why there is none.
fn json_in(text: &str, how: Extract) -> Result<Value, String> {
    let text = unbom(text);
    let slice = match how {
        Extract::Whole => text.trim(),
        Extract::Fenced => {
            let fs = fences(text);
            let pick = fs
                .iter()
                .find(|f| f.lang == "json" || f.lang == "jsonc")
                .or_else(|| fs.iter().find(|f| f.lang.is_empty()));
            match pick {
                Some(f) => text.get(f.body.clone()).unwrap_or("").trim(),
                None => text.trim(),
            }
        }
        Extract::FirstObject => {
            let mut first_err = None;
            for (start, _) in text.match_indices('{').take(OBJECT_CANDIDATES) {
                let end = balanced_end(text, start).unwrap_or(text.len());
                match serde_json::from_str::<Value>(text.get(start..end).unwrap_or("")) {
                    Ok(v) => return Ok(v),
                    Err(e) => {
                        first_err.get_or_insert(format!("invalid JSON: {e}"));
                    }
                }
            }
            return Err(first_err.unwrap_or_else(|| "no JSON object".to_owned()));
        }
    };
    if slice.is_empty() {
        return Err("no JSON".to_owned());
    }
    serde_json::from_str(slice).map_err(|e| format!("invalid JSON: {e}"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonValidParams {
    #[serde(default)]
    extract: Extract,
}

/// Text that is not JSON.
pub struct JsonValid {
    extract: Extract,
}

impl JsonValid {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: JsonValidParams = params(v)?;
        Ok(Box::new(JsonValid { extract: p.extract }))
    }
}

impl Check for JsonValid {
    fn id(&self) -> &'static str {
        "json_valid"
    }

    fn sources(&self) -> &'static [Source] {
        OUT_TOOLS
    }

    fn span(&self) -> Span {
        Span::Whole
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        if let Err(e) = json_in(s.raw, self.extract) {
            out.push(Finding::whole(e));
        }
    }
}

#[derive(Deserialize, Clone, Copy)]
enum DraftName {
    #[serde(rename = "4")]
    D4,
    #[serde(rename = "6")]
    D6,
    #[serde(rename = "7")]
    D7,
    #[serde(rename = "2019-09")]
    D201909,
    #[serde(rename = "2020-12")]
    D202012,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonSchemaParams {
    schema: Value,
    /// The draft; by default the schema's `$schema`, else 2020-12.
    draft: Option<DraftName>,
    #[serde(default)]
    extract: Extract,
    /// Assert `format` (in 2019-09 and 2020-12 it only annotates by default).
    #[serde(default)]
    validate_formats: bool,
}

/// JSON that breaks a schema (compiled once, at load).
pub struct JsonSchema {
    validator: jsonschema::Validator,
    extract: Extract,
}

impl JsonSchema {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: JsonSchemaParams = params(v)?;
        if !p.schema.is_object() && !p.schema.is_boolean() {
            return Err(ParamError::new("schema", "must be a JSON Schema object"));
        }
        let mut opts = jsonschema::options()
            // `pattern` runs on the linear-time engine: no look-around, no backtracking.
            .with_pattern_options(jsonschema::PatternOptions::regex())
            .should_validate_formats(p.validate_formats);
        if let Some(d) = p.draft {
            opts = opts.with_draft(match d {
                DraftName::D4 => jsonschema::Draft::Draft4,
                DraftName::D6 => jsonschema::Draft::Draft6,
                DraftName::D7 => jsonschema::Draft::Draft7,
                DraftName::D201909 => jsonschema::Draft::Draft201909,
                DraftName::D202012 => jsonschema::Draft::Draft202012,
            });
        }
        let validator = opts
            .build(&p.schema)
            .map_err(|e| ParamError::new("schema", format!("not a valid schema: {e}")))?;
        Ok(Box::new(JsonSchema {
            validator,
            extract: p.extract,
        }))
    }
}

impl Check for JsonSchema {
    fn id(&self) -> &'static str {
        "json_schema"
    }

    fn sources(&self) -> &'static [Source] {
        OUT_TOOLS
    }

    fn span(&self) -> Span {
        Span::Whole
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let value = match json_in(s.raw, self.extract) {
            Ok(v) => v,
            Err(e) => {
                out.push(Finding::whole(e));
                return;
            }
        };
        // The first error's path and keyword, not the value (it may be anything the model
        // wrote).
        let first = self
            .validator
            .iter_errors(&value)
            .next()
            .map(|e| (e.instance_path().to_string(), e.kind().keyword().to_owned()));
        if let Some((path, keyword)) = first {
            let path = if path.is_empty() {
                "/".to_owned()
            } else {
                path
            };
            out.push(Finding::whole(format!(
                "schema: {path} fails \"{keyword}\""
            )));
        }
    }
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum KeysOperator {
    /// Fires unless at least one key is present.
    Any,
    /// Fires when a key is missing.
    #[default]
    All,
    /// Fires when a key is present.
    None,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonKeysParams {
    keys: Vec<String>,
    #[serde(default)]
    operator: KeysOperator,
    #[serde(default)]
    extract: Extract,
}

/// Object keys missing or present: a plain name is a top-level key, a name starting with `/`
/// is a JSON Pointer (`/user/email`).
pub struct JsonKeys {
    keys: Vec<String>,
    operator: KeysOperator,
    extract: Extract,
}

impl JsonKeys {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: JsonKeysParams = params(v)?;
        if p.keys.is_empty() {
            return Err(ParamError::new("keys", "at least one key"));
        }
        if let Some(i) = p.keys.iter().position(|k| k.is_empty() || k == "/") {
            return Err(ParamError::new(format!("keys[{i}]"), "must name a key"));
        }
        Ok(Box::new(JsonKeys {
            keys: p.keys,
            operator: p.operator,
            extract: p.extract,
        }))
    }

    fn has(object: &Value, key: &str) -> bool {
        if key.starts_with('/') {
            object.pointer(key).is_some()
        } else {
            object.get(key).is_some()
        }
    }
}

impl Check for JsonKeys {
    fn id(&self) -> &'static str {
        "json_keys"
    }

    fn sources(&self) -> &'static [Source] {
        OUT_TOOLS
    }

    fn span(&self) -> Span {
        Span::Whole
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let value = json_in(s.raw, self.extract).ok().filter(Value::is_object);
        let Some(object) = value else {
            // Keys cannot be there; only forbidding keys is satisfied.
            if self.operator != KeysOperator::None {
                out.push(Finding::whole("not a JSON object"));
            }
            return;
        };
        match self.operator {
            KeysOperator::All => {
                for k in self.keys.iter().filter(|k| !Self::has(&object, k)) {
                    out.push(Finding::whole(format!("missing key {k}")));
                }
            }
            KeysOperator::Any => {
                if !self.keys.iter().any(|k| Self::has(&object, k)) {
                    out.push(Finding::whole("none of the keys"));
                }
            }
            KeysOperator::None => {
                for k in self.keys.iter().filter(|k| Self::has(&object, k)) {
                    out.push(Finding::whole(format!("forbidden key {k}")));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// contains_code

/// A fence's tag or a configured name, as one canonical language name.
fn canonical_lang(tag: &str) -> String {
    let t = tag.trim().to_lowercase();
    let c = match t.as_str() {
        "py" | "py3" | "python3" | "python2" | "ipython" => "python",
        "rs" => "rust",
        "js" | "jsx" | "mjs" | "cjs" | "node" | "nodejs" => "javascript",
        "ts" | "tsx" => "typescript",
        "sh" | "bash" | "zsh" | "ksh" | "fish" | "shell" | "console" | "shell-session" => "shell",
        "mysql" | "postgresql" | "postgres" | "psql" | "pgsql" | "plsql" | "tsql" | "sqlite" => {
            "sql"
        }
        "c++" | "cc" | "cxx" | "hpp" | "hxx" => "cpp",
        "h" => "c",
        "cs" | "c#" => "csharp",
        "golang" => "go",
        "rb" => "ruby",
        "kt" | "kts" => "kotlin",
        "yml" => "yaml",
        "htm" | "xhtml" => "html",
        "ps1" | "pwsh" | "ps" => "powershell",
        "docker" => "dockerfile",
        "make" | "mk" => "makefile",
        "pl" => "perl",
        "hs" => "haskell",
        "md" => "markdown",
        "bat" | "cmd" => "batch",
        "objc" | "objective-c" => "objectivec",
        _ => return t,
    };
    c.to_owned()
}

/// A guess at the language of a piece of code with no tag, from tell-tale openings; `None`
/// when nothing looks like code.
fn guess_lang(code: &str) -> Option<&'static str> {
    let mut punct_lines = 0usize;
    let mut lines_seen = 0usize;
    for (_, _, line) in lines(code) {
        let l = line.trim();
        if l.is_empty() {
            continue;
        }
        lines_seen += 1;
        if let Some(interp) = l.strip_prefix("#!") {
            return Some(if interp.contains("python") {
                "python"
            } else if interp.contains("node") {
                "javascript"
            } else {
                "shell"
            });
        }
        let upper = l.to_ascii_uppercase();
        if (upper.starts_with("SELECT ") && upper.contains(" FROM "))
            || upper.starts_with("INSERT INTO ")
            || (upper.starts_with("UPDATE ") && upper.contains(" SET "))
            || upper.starts_with("DELETE FROM ")
            || upper.starts_with("CREATE TABLE ")
            || upper.starts_with("DROP TABLE ")
        {
            return Some("sql");
        }
        if l.starts_with("#include <") || l.starts_with("#include \"") {
            return Some("c");
        }
        if (l.starts_with("def ") && l.ends_with(':'))
            || (l.starts_with("class ") && l.ends_with(':'))
            || (l.starts_with("from ") && l.contains(" import "))
        {
            return Some("python");
        }
        if l.starts_with("fn ") && l.contains('(')
            || l.starts_with("pub fn ")
            || l.starts_with("use std::")
            || l.starts_with("let mut ")
            || l.starts_with("impl ")
        {
            return Some("rust");
        }
        if (l.starts_with("function ") && l.contains('('))
            || l.starts_with("const ") && l.contains(" = ") && l.ends_with(';')
            || l.starts_with("console.log(")
        {
            return Some("javascript");
        }
        if (l.starts_with("package ") && l.ends_with(';'))
            || (l.starts_with("import java.") && l.ends_with(';'))
            || l.starts_with("public static void ")
            || l.starts_with("public class ")
        {
            return Some("java");
        }
        if l.starts_with("func ") && l.contains('(') || l.starts_with("package main") {
            return Some("go");
        }
        if l.starts_with("<?php") {
            return Some("php");
        }
        if l.ends_with(';') || l.ends_with('{') || l == "}" || l == "};" {
            punct_lines += 1;
        }
    }
    // Statement punctuation on many lines: code of some language.
    (punct_lines >= 3 && punct_lines * 10 >= lines_seen * 3).then_some("unknown")
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum CodeMode {
    /// Fires when code is present.
    #[default]
    Forbid,
    /// Fires when no code is present.
    Require,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContainsCodeParams {
    #[serde(default)]
    languages: Vec<String>,
    #[serde(default)]
    mode: CodeMode,
    #[serde(default)]
    unfenced: bool,
}

/// Code present or absent: fenced blocks by their tag (an untagged block's language is
/// guessed), and with `unfenced`, code outside fences by tell-tale lines.
pub struct ContainsCode {
    /// Canonical names; empty for any language.
    languages: Vec<String>,
    mode: CodeMode,
    unfenced: bool,
}

impl ContainsCode {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: ContainsCodeParams = params(v)?;
        if let Some(i) = p.languages.iter().position(|l| l.trim().is_empty()) {
            return Err(ParamError::new(
                format!("languages[{i}]"),
                "must not be empty",
            ));
        }
        Ok(Box::new(ContainsCode {
            languages: p.languages.iter().map(|l| canonical_lang(l)).collect(),
            mode: p.mode,
            unfenced: p.unfenced,
        }))
    }

    fn wanted(&self, lang: &str) -> bool {
        self.languages.is_empty() || self.languages.iter().any(|l| l == lang)
    }

    /// The languages of the code in `text` (`unknown` when it cannot tell), each once.
    fn found(&self, text: &str) -> Vec<(String, bool)> {
        let mut seen: Vec<(String, bool)> = Vec::new();
        let mut add = |lang: String, fenced: bool| {
            if !seen.iter().any(|(l, _)| *l == lang) {
                seen.push((lang, fenced));
            }
        };
        for f in fences(text) {
            let lang = if f.lang.is_empty() {
                guess_lang(text.get(f.body.clone()).unwrap_or(""))
                    .unwrap_or("unknown")
                    .to_owned()
            } else {
                canonical_lang(&f.lang)
            };
            add(lang, true);
        }
        if self.unfenced {
            let rest = without_fences(text);
            // Paragraph by paragraph, so one code-like paragraph is judged on its own.
            for para in rest.split("\n\n") {
                if let Some(lang) = guess_lang(para) {
                    add(lang.to_owned(), false);
                }
            }
        }
        seen
    }
}

impl Check for ContainsCode {
    fn id(&self) -> &'static str {
        "contains_code"
    }

    fn sources(&self) -> &'static [Source] {
        OUTPUT
    }

    fn span(&self) -> Span {
        Span::Whole
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let found = self.found(unbom(s.raw));
        // `unknown` code counts for a language list only when the list is empty.
        let hits: Vec<&(String, bool)> = found.iter().filter(|(l, _)| self.wanted(l)).collect();
        match self.mode {
            CodeMode::Forbid => {
                for (lang, fenced) in hits {
                    out.push(Finding::whole(if *fenced {
                        format!("code: {lang}")
                    } else {
                        format!("code (unfenced): {lang}")
                    }));
                }
            }
            CodeMode::Require => {
                if hits.is_empty() {
                    out.push(Finding::whole(if self.languages.is_empty() {
                        "no code".to_owned()
                    } else {
                        format!("no code in {}", self.languages.join(", "))
                    }));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// affix

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AffixParams {
    prefix: Option<String>,
    suffix: Option<String>,
    #[serde(default = "yes")]
    trim: bool,
    #[serde(default = "yes")]
    case_sensitive: bool,
    #[serde(default = "yes")]
    trailing_period: bool,
}

fn yes() -> bool {
    true
}

/// Text that does not start with `prefix` or end with `suffix`.
pub struct Affix {
    prefix: Option<String>,
    suffix: Option<String>,
    trim: bool,
    case_sensitive: bool,
    trailing_period: bool,
}

impl Affix {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: AffixParams = params(v)?;
        if p.prefix.is_none() && p.suffix.is_none() {
            return Err(ParamError::new("prefix", "give a prefix, a suffix or both"));
        }
        for (name, a) in [("prefix", &p.prefix), ("suffix", &p.suffix)] {
            if a.as_ref().is_some_and(String::is_empty) {
                return Err(ParamError::new(name, "must not be empty"));
            }
        }
        // Compared with the normalized copy, so normalized the same way.
        let fold = |a: Option<String>| {
            a.map(|a| {
                let a = crate::text::Normalized::new(&a).text;
                if p.case_sensitive {
                    a
                } else {
                    a.to_lowercase()
                }
            })
        };
        Ok(Box::new(Affix {
            prefix: fold(p.prefix),
            suffix: fold(p.suffix),
            trim: p.trim,
            case_sensitive: p.case_sensitive,
            trailing_period: p.trailing_period,
        }))
    }
}

impl Check for Affix {
    fn id(&self) -> &'static str {
        "affix"
    }

    fn sources(&self) -> &'static [Source] {
        OUTPUT
    }

    fn span(&self) -> Span {
        // A prefix is judged at the text's start, which a stream window may not hold.
        Span::Whole
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let text = s.norm.text.as_str();
        let text = if self.trim { text.trim() } else { text };
        let text = if self.case_sensitive {
            std::borrow::Cow::Borrowed(text)
        } else {
            std::borrow::Cow::Owned(text.to_lowercase())
        };
        if let Some(p) = &self.prefix {
            if !text.starts_with(p.as_str()) {
                out.push(Finding::whole("missing prefix"));
            }
        }
        if let Some(x) = &self.suffix {
            let ends = text.ends_with(x.as_str())
                || (self.trailing_period
                    && text
                        .strip_suffix('.')
                        .is_some_and(|t| t.ends_with(x.as_str())));
            if !ends {
                out.push(Finding::whole("missing suffix"));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// letter_case

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Case {
    Upper,
    Lower,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LetterCaseParams {
    case: Case,
}

/// Letters not all in one case (Unicode's Uppercase and Lowercase properties; letters with no
/// case, such as CJK, and digits pass).
pub struct LetterCase {
    case: Case,
}

impl LetterCase {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: LetterCaseParams = params(v)?;
        Ok(Box::new(LetterCase { case: p.case }))
    }
}

impl Check for LetterCase {
    fn id(&self) -> &'static str {
        "letter_case"
    }

    fn sources(&self) -> &'static [Source] {
        OUTPUT
    }

    fn span(&self) -> Span {
        Span::Whole
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let (bad, label): (fn(char) -> bool, &'static str) = match self.case {
            Case::Upper => (char::is_lowercase, "not upper case"),
            Case::Lower => (char::is_uppercase, "not lower case"),
        };
        if s.raw.chars().any(bad) {
            out.push(Finding::whole(label));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::check::Source;
    use crate::checks::testing::{fires, fires_on, fires_on_as};
    use serde_json::json;

    fn labels(id: &str, p: &Value, text: &str) -> Vec<String> {
        fires_on(id, p, text)
            .into_iter()
            .map(|f| f.label.into_owned())
            .collect()
    }

    fn param_error(id: &str, p: Value) -> ParamError {
        crate::catalogue::build(id, &p).err().unwrap()
    }

    #[test]
    fn fences_are_found_with_their_language_and_body() {
        let t = "Intro\n```Python title=x\nprint(1)\n```\ntext\n~~~\nraw\n~~~~\n````\nopen";
        let fs = fences(t);
        assert_eq!(fs.len(), 3);
        assert_eq!(fs[0].lang, "python");
        assert_eq!(&t[fs[0].body.clone()], "print(1)\n");
        assert_eq!(&t[fs[0].whole.clone()], "```Python title=x\nprint(1)\n```");
        assert_eq!(fs[1].lang, "");
        assert_eq!(&t[fs[1].body.clone()], "raw\n");
        // An unclosed fence runs to the end.
        assert_eq!(&t[fs[2].body.clone()], "open");
        // Inline triple backticks, and fences indented four spaces, are not fences.
        assert!(fences("use ```x``` inline").is_empty());
        assert!(fences("    ```\n    code\n    ```").is_empty());
        // A shorter closing run does not close.
        assert_eq!(fences("````\na\n```\nb\n````").len(), 1);
        assert_eq!(without_fences("a\n```\nx\n```\nb"), "a\n\n\nb");
    }

    #[test]
    fn not_empty_fires_on_blank_text_only() {
        let p = json!({});
        assert_eq!(labels("not_empty", &p, ""), vec!["empty"]);
        assert_eq!(labels("not_empty", &p, "  \n\t"), vec!["blank"]);
        assert!(fires("not_empty", &p, "\u{200B}\u{FEFF} "));
        assert!(!fires("not_empty", &p, "ok"));
        assert!(!fires("not_empty", &p, " 0 "));
        let e = param_error("not_empty", json!({"allow_tool_only": true}));
        assert!(e.message.contains("unknown field"), "{e}");
    }

    #[test]
    fn json_valid_reads_whole_fenced_or_first_object() {
        let p = json!({});
        assert!(fires("json_valid", &p, "{\"a\":1"));
        assert!(!fires("json_valid", &p, "{\"a\":1}"));
        assert!(!fires("json_valid", &p, "\u{FEFF}  [1, 2]\n"));
        assert!(fires("json_valid", &p, "{\"a\": NaN}"));
        assert!(
            fires("json_valid", &p, "{\"a\":1}\n{\"a\":2}"),
            "JSON Lines"
        );
        assert!(fires("json_valid", &p, "Here: {\"a\":1}"));
        assert_eq!(labels("json_valid", &p, "  "), vec!["no JSON"]);
        let l = labels("json_valid", &p, "{\"a\":1");
        assert!(l[0].starts_with("invalid JSON: EOF"), "{l:?}");
        // Duplicate keys are accepted (the last wins), as serde_json does.
        assert!(!fires("json_valid", &p, "{\"a\":1,\"a\":2}"));
        // Deep nesting is an error, not a stack overflow.
        let deep = "[".repeat(100_000);
        assert!(fires("json_valid", &p, &deep));

        let fenced = json!({"extract": "fenced"});
        let answer = "Sure:\n```json\n{\"a\": 1}\n```\nDone.";
        assert!(!fires("json_valid", &fenced, answer));
        assert!(fires("json_valid", &p, answer));
        assert!(fires(
            "json_valid",
            &fenced,
            "Sure:\n```json\n{\"a\": }\n```"
        ));
        assert!(!fires("json_valid", &fenced, "```\n[1]\n```"));
        // No fence: the whole text.
        assert!(!fires("json_valid", &fenced, "{\"a\":1}"));

        let first = json!({"extract": "first_object"});
        assert!(!fires(
            "json_valid",
            &first,
            "Use the {name} field: {\"name\": \"a } b\", \"n\": [1, {\"x\": 2}]} ok"
        ));
        assert!(fires("json_valid", &first, "no object here"));
        assert!(fires("json_valid", &first, "broken {\"a\": 1"));
        let e = param_error("json_valid", json!({"extract": "auto"}));
        assert_eq!(e.path, "extract");
    }

    #[test]
    fn json_schema_names_the_failing_path() {
        let p = json!({"schema": {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}});
        assert_eq!(
            labels("json_schema", &p, "{\"id\":\"7\"}"),
            vec!["schema: /id fails \"type\""]
        );
        assert!(!fires("json_schema", &p, "{\"id\":7}"));
        // 7.0 is an integer from draft 6 on.
        assert!(!fires("json_schema", &p, "{\"id\":7.0}"));
        assert_eq!(
            labels("json_schema", &p, "{}"),
            vec!["schema: / fails \"required\""]
        );
        assert!(labels("json_schema", &p, "{\"id\":")[0].starts_with("invalid JSON"));
        let fenced =
            json!({"schema": {"type": "array", "items": {"type": "string"}}, "extract": "fenced"});
        assert_eq!(
            labels("json_schema", &fenced, "```json\n[\"a\", 2]\n```"),
            vec!["schema: /1 fails \"type\""]
        );
        // `format` only annotates unless asked.
        let email = json!({"schema": {"type": "string", "format": "email"}});
        assert!(!fires("json_schema", &email, "\"not an email\""));
        let strict =
            json!({"schema": {"type": "string", "format": "email"}, "validate_formats": true});
        assert!(fires("json_schema", &strict, "\"not an email\""));
        assert!(!fires("json_schema", &strict, "\"a@example.com\""));
        let d4 = json!({"schema": {"type": "integer"}, "draft": "4"});
        assert!(!fires("json_schema", &d4, "7"));
        let pattern = json!({"schema": {"type": "string", "pattern": "^[a-z]+$"}});
        assert!(fires("json_schema", &pattern, "\"ABC\""));

        let e = param_error("json_schema", json!({"schema": {"type": "integr"}}));
        assert_eq!(e.path, "schema");
        let e = param_error("json_schema", json!({"schema": {"minimum": "x"}}));
        assert_eq!(e.path, "schema");
        let e = param_error("json_schema", json!({"schema": 3}));
        assert_eq!(e.path, "schema");
        let e = param_error("json_schema", json!({"schema": {}, "draft": "5"}));
        assert_eq!(e.path, "draft");
        let e = param_error("json_schema", json!({}));
        assert!(e.message.contains("schema"), "{e}");
        // A remote reference is not fetched: the schema must be self-contained.
        let e = param_error(
            "json_schema",
            json!({"schema": {"$ref": "https://example.com/schema.json"}}),
        );
        assert_eq!(e.path, "schema");
        // Look-around in `pattern` is refused at load (patterns run in linear time).
        let e = param_error(
            "json_schema",
            json!({"schema": {"type": "string", "pattern": "(?<=a)b"}}),
        );
        assert_eq!(e.path, "schema");
    }

    #[test]
    fn json_keys_checks_top_level_keys_and_pointers() {
        let all = json!({"keys": ["name", "email"]});
        assert_eq!(
            labels("json_keys", &all, "{\"name\":\"x\"}"),
            vec!["missing key email"]
        );
        assert!(!fires(
            "json_keys",
            &all,
            "{\"name\":\"x\",\"email\":\"x@example.com\"}"
        ));
        // Nested keys are not top-level keys.
        assert!(fires(
            "json_keys",
            &all,
            "{\"user\":{\"name\":1,\"email\":2}}"
        ));
        let ptr = json!({"keys": ["/user/email"]});
        assert!(!fires("json_keys", &ptr, "{\"user\":{\"email\":2}}"));
        assert!(fires("json_keys", &ptr, "{\"user\":{}}"));
        // A top-level array is not an object.
        assert_eq!(
            labels("json_keys", &all, "[{\"name\":1,\"email\":2}]"),
            vec!["not a JSON object"]
        );
        let any = json!({"keys": ["a", "b"], "operator": "any"});
        assert!(fires("json_keys", &any, "{\"c\":1}"));
        assert!(!fires("json_keys", &any, "{\"b\":1}"));
        let none = json!({"keys": ["password"], "operator": "none"});
        assert_eq!(
            labels("json_keys", &none, "{\"password\":\"x\"}"),
            vec!["forbidden key password"]
        );
        assert!(!fires("json_keys", &none, "{\"user\":\"x\"}"));
        assert!(!fires("json_keys", &none, "plain prose"));
        let e = param_error("json_keys", json!({"keys": []}));
        assert_eq!(e.path, "keys");
        let e = param_error("json_keys", json!({"keys": ["a", ""]}));
        assert_eq!(e.path, "keys[1]");
        let e = param_error("json_keys", json!({"keys": ["a"], "operator": "some"}));
        assert_eq!(e.path, "operator");
    }

    #[test]
    fn contains_code_reads_fences_and_optionally_unfenced_code() {
        let sql = json!({"languages": ["sql"]});
        assert_eq!(
            labels("contains_code", &sql, "Run:\n```sql\nSELECT 1;\n```"),
            vec!["code: sql"]
        );
        assert!(fires(
            "contains_code",
            &sql,
            "```postgresql\nSELECT 1;\n```"
        ));
        assert!(!fires("contains_code", &sql, "```python\nprint(1)\n```"));
        assert!(!fires(
            "contains_code",
            &sql,
            "Select the rows you need from the table and update them."
        ));
        // An untagged fence is guessed.
        assert!(fires(
            "contains_code",
            &sql,
            "```\nSELECT name FROM users WHERE id = 1;\n```"
        ));
        let any = json!({});
        assert!(fires("contains_code", &any, "```\nsome text\n```"));
        assert!(!fires(
            "contains_code",
            &any,
            "Plain prose with a semicolon; and {braces}."
        ));
        let py = json!({"languages": ["py"]});
        assert_eq!(
            labels("contains_code", &py, "```python3\nprint(1)\n```"),
            vec!["code: python"]
        );
        // Unfenced code is seen only when asked.
        let bare = "Try this:\n\ndef add(a, b):\n    return a + b\n";
        assert!(!fires("contains_code", &py, bare));
        let unfenced = json!({"languages": ["python"], "unfenced": true});
        assert_eq!(
            labels("contains_code", &unfenced, bare),
            vec!["code (unfenced): python"]
        );
        let c = "#include <stdio.h>\nint main(void) {\n  return 0;\n}";
        assert!(fires("contains_code", &json!({"unfenced": true}), c));
        let braces = "int x = 1;\nint y = 2;\nif (x) {\n  y = x;\n}";
        assert!(fires("contains_code", &json!({"unfenced": true}), braces));
        let prose = "The meeting is at noon; bring notes.\nWe will discuss the plan.\n\nThanks, and see you there.";
        assert!(!fires("contains_code", &json!({"unfenced": true}), prose));

        let req = json!({"mode": "require", "languages": ["rust"]});
        assert_eq!(
            labels("contains_code", &req, "no code here"),
            vec!["no code in rust"]
        );
        assert!(!fires("contains_code", &req, "```rs\nfn main() {}\n```"));
        assert!(!fires(
            "contains_code",
            &json!({"mode": "require"}),
            "```\nx\n```"
        ));
        let e = param_error("contains_code", json!({"languages": [" "]}));
        assert_eq!(e.path, "languages[0]");
        let e = param_error("contains_code", json!({"mode": "deny"}));
        assert_eq!(e.path, "mode");
    }

    #[test]
    fn affix_checks_start_and_end() {
        let end = json!({"suffix": "END"});
        assert_eq!(labels("affix", &end, "…done"), vec!["missing suffix"]);
        assert!(!fires("affix", &end, "…END."));
        assert!(!fires("affix", &end, "all good END\n\n"));
        assert!(fires("affix", &end, "all good end"));
        let strict = json!({"suffix": "END", "trailing_period": false, "trim": false});
        assert!(fires("affix", &strict, "…END."));
        assert!(fires("affix", &strict, "…END\n"));
        let folded = json!({"prefix": "answer:", "case_sensitive": false});
        assert!(!fires("affix", &folded, "  ANSWER: 42"));
        assert_eq!(labels("affix", &folded, "42"), vec!["missing prefix"]);
        // Compatibility forms on either side compare equal.
        assert!(!fires("affix", &json!({"prefix": "ﬁnal:"}), "final: yes"));
        let both = json!({"prefix": "<", "suffix": ">"});
        assert_eq!(fires_on("affix", &both, "x").len(), 2);
        assert!(!fires("affix", &both, "<x>"));
        let e = param_error("affix", json!({}));
        assert_eq!(e.path, "prefix");
        let e = param_error("affix", json!({"suffix": ""}));
        assert_eq!(e.path, "suffix");
    }

    #[test]
    fn letter_case_judges_cased_letters_only() {
        let upper = json!({"case": "upper"});
        assert_eq!(
            labels("letter_case", &upper, "Hello"),
            vec!["not upper case"]
        );
        assert!(!fires("letter_case", &upper, "HELLO 123"));
        assert!(!fires("letter_case", &upper, "ÉTÉ À PARIS"));
        assert!(fires("letter_case", &upper, "ÉTÉ à PARIS"));
        // No cased letters: nothing to judge.
        assert!(!fires("letter_case", &upper, "你好，世界 123"));
        let lower = json!({"case": "lower"});
        assert!(fires("letter_case", &lower, "use the API"));
        assert!(!fires("letter_case", &lower, "привет мир"));
        assert!(fires_on_as("letter_case", &lower, "Привет", Source::Output).len() == 1);
        let e = param_error("letter_case", json!({"case": "title"}));
        assert_eq!(e.path, "case");
        let e = param_error("letter_case", json!({}));
        assert!(e.message.contains("case"), "{e}");
    }
}
