//! Patterns and word lists: regular expressions that must or must not match (and masks), listed
//! words, and competitors' names.

use crate::catalogue::Entry;
use crate::check::{params, Check, Finding, ParamError, Source, Span, Subject, ALL};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::{Regex, RegexBuilder};
use serde::Deserialize;
use serde_json::Value;

pub const CHECKS: &[Entry] = &[
    Entry {
        id: "regex_match",
        family: "patterns",
        summary:
            "text matching any of the patterns (mode deny), or matching none (mode must_match)",
        build: RegexMatch::build,
    },
    Entry {
        id: "regex_redact",
        family: "patterns",
        summary: "each match of labelled patterns, to mask",
        build: RegexRedact::build,
    },
    Entry {
        id: "contains",
        family: "patterns",
        summary: "listed words present (any, all) or absent (none)",
        build: Contains::build,
    },
    Entry {
        id: "competitors",
        family: "patterns",
        summary: "competitors' names, aliases and domains",
        build: Competitors::build,
    },
];

/// The longest match a pattern may make, unless the config says (`max_match`).
const DEFAULT_MAX_MATCH: usize = 256;
/// Compiled size cap for one pattern set (regex's own default is 10 MiB; this is per check).
const REGEX_SIZE_LIMIT: usize = 4 << 20;

fn compile(pattern: &str, case_insensitive: bool, at: String) -> Result<Regex, ParamError> {
    RegexBuilder::new(pattern)
        .case_insensitive(case_insensitive)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            let hint = if pattern.contains("(?<=")
                || pattern.contains("(?<!")
                || pattern.contains("(?=")
                || pattern.contains("(?!")
            {
                " (look-around is not supported: patterns run in linear time)"
            } else {
                ""
            };
            ParamError::new(at, format!("not a valid pattern{hint}: {e}"))
        })
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum MatchMode {
    /// Fires on a match.
    #[default]
    Deny,
    /// Fires when no pattern matches.
    MustMatch,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegexMatchParams {
    patterns: Vec<String>,
    #[serde(default)]
    mode: MatchMode,
    #[serde(default)]
    case_insensitive: bool,
    max_match: Option<usize>,
}

/// Patterns that must not (or must) match.
pub struct RegexMatch {
    patterns: Vec<Regex>,
    mode: MatchMode,
    max_match: usize,
}

impl RegexMatch {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: RegexMatchParams = params(v)?;
        if p.patterns.is_empty() {
            return Err(ParamError::new("patterns", "at least one pattern"));
        }
        let patterns = p
            .patterns
            .iter()
            .enumerate()
            .map(|(i, s)| compile(s, p.case_insensitive, format!("patterns[{i}]")))
            .collect::<Result<_, _>>()?;
        Ok(Box::new(RegexMatch {
            patterns,
            mode: p.mode,
            max_match: p.max_match.unwrap_or(DEFAULT_MAX_MATCH),
        }))
    }
}

impl Check for RegexMatch {
    fn id(&self) -> &'static str {
        "regex_match"
    }

    fn span(&self) -> Span {
        match self.mode {
            MatchMode::Deny => Span::Bytes(self.max_match),
            MatchMode::MustMatch => Span::Whole,
        }
    }

    fn redacts(&self) -> bool {
        self.mode == MatchMode::Deny
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let text = &s.norm.text;
        match self.mode {
            MatchMode::Deny => {
                for (i, re) in self.patterns.iter().enumerate() {
                    for m in re.find_iter(text) {
                        out.push(Finding::at(s.raw_range(m.range()), format!("pattern {i}")));
                    }
                }
            }
            MatchMode::MustMatch => {
                if !self.patterns.iter().any(|re| re.is_match(text)) {
                    out.push(Finding::whole("no required pattern matched"));
                }
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Labelled {
    label: String,
    pattern: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegexRedactParams {
    patterns: Vec<Labelled>,
    #[serde(default)]
    case_insensitive: bool,
    max_match: Option<usize>,
}

/// Labelled patterns whose matches are masked (`[LABEL]`).
pub struct RegexRedact {
    patterns: Vec<(String, Regex)>,
    max_match: usize,
}

impl RegexRedact {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: RegexRedactParams = params(v)?;
        if p.patterns.is_empty() {
            return Err(ParamError::new("patterns", "at least one pattern"));
        }
        let mut patterns = Vec::with_capacity(p.patterns.len());
        for (i, l) in p.patterns.into_iter().enumerate() {
            if l.label.is_empty() {
                return Err(ParamError::new(
                    format!("patterns[{i}].label"),
                    "must not be empty",
                ));
            }
            let re = compile(
                &l.pattern,
                p.case_insensitive,
                format!("patterns[{i}].pattern"),
            )?;
            patterns.push((l.label, re));
        }
        Ok(Box::new(RegexRedact {
            patterns,
            max_match: p.max_match.unwrap_or(DEFAULT_MAX_MATCH),
        }))
    }
}

impl Check for RegexRedact {
    fn id(&self) -> &'static str {
        "regex_redact"
    }

    fn span(&self) -> Span {
        Span::Bytes(self.max_match)
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        for (label, re) in &self.patterns {
            for m in re.find_iter(&s.norm.text) {
                if !m.is_empty() {
                    out.push(Finding::at(s.raw_range(m.range()), label.clone()));
                }
            }
        }
    }
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Operator {
    /// Fires when any word is present.
    #[default]
    Any,
    /// Fires when every word is present.
    All,
    /// Fires when none is present (the text must mention one).
    None,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContainsParams {
    words: Vec<String>,
    #[serde(default)]
    operator: Operator,
    #[serde(default)]
    case_sensitive: bool,
    #[serde(default = "yes")]
    whole_word: bool,
}

fn yes() -> bool {
    true
}

/// A word list matched in one pass (Aho-Corasick), case-folded unless asked not to.
struct Words {
    ac: AhoCorasick,
    n: usize,
    whole_word: bool,
    longest: usize,
}

impl Words {
    fn new(words: &[String], case_sensitive: bool, whole_word: bool) -> Result<Words, ParamError> {
        if let Some(i) = words.iter().position(|w| w.trim().is_empty()) {
            return Err(ParamError::new(format!("words[{i}]"), "must not be empty"));
        }
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(!case_sensitive)
            .match_kind(MatchKind::LeftmostLongest)
            .build(words.iter().map(|w| {
                if case_sensitive {
                    w.clone()
                } else {
                    w.to_lowercase()
                }
            }))
            .map_err(|e| ParamError::new("words", e.to_string()))?;
        Ok(Words {
            ac,
            n: words.len(),
            whole_word,
            longest: words.iter().map(String::len).max().unwrap_or(0),
        })
    }

    /// Each whole match: the word's index and its range in `text`.
    fn find<'t>(
        &'t self,
        text: &'t str,
    ) -> impl Iterator<Item = (usize, std::ops::Range<usize>)> + 't {
        self.ac.find_iter(text).filter_map(move |m| {
            let ok = !self.whole_word
                || (!text[..m.start()]
                    .chars()
                    .next_back()
                    .is_some_and(is_word_char)
                    && !text[m.end()..].chars().next().is_some_and(is_word_char));
            ok.then(|| (m.pattern().as_usize(), m.range()))
        })
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Lower-cases for matching when the list is case-insensitive. ASCII folding is Aho-Corasick's;
/// other letters are folded here, keeping byte offsets when the lower case has the same length.
fn folded<'t>(text: &'t str, case_sensitive: bool) -> std::borrow::Cow<'t, str> {
    if case_sensitive || text.is_ascii() {
        return std::borrow::Cow::Borrowed(text);
    }
    let lower: String = text
        .chars()
        .map(|c| {
            let mut l = c.to_lowercase();
            match (l.next(), l.next()) {
                (Some(one), None) if one.len_utf8() == c.len_utf8() => one,
                _ => c,
            }
        })
        .collect();
    std::borrow::Cow::Owned(lower)
}

/// Listed words present or absent.
pub struct Contains {
    words: Words,
    operator: Operator,
    case_sensitive: bool,
}

impl Contains {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: ContainsParams = params(v)?;
        if p.words.is_empty() {
            return Err(ParamError::new("words", "at least one word"));
        }
        Ok(Box::new(Contains {
            words: Words::new(&p.words, p.case_sensitive, p.whole_word)?,
            operator: p.operator,
            case_sensitive: p.case_sensitive,
        }))
    }
}

impl Check for Contains {
    fn id(&self) -> &'static str {
        "contains"
    }

    fn span(&self) -> Span {
        match self.operator {
            Operator::Any => Span::Bytes(self.words.longest + 8),
            Operator::All | Operator::None => Span::Whole,
        }
    }

    fn redacts(&self) -> bool {
        self.operator == Operator::Any
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let text = folded(&s.norm.text, self.case_sensitive);
        match self.operator {
            Operator::Any => {
                for (_, r) in self.words.find(&text) {
                    out.push(Finding::at(s.raw_range(r), "listed word"));
                }
            }
            Operator::All => {
                let mut seen = vec![false; self.words.n];
                for (i, _) in self.words.find(&text) {
                    seen[i] = true;
                }
                if seen.iter().all(|s| *s) {
                    out.push(Finding::whole("all listed words"));
                }
            }
            Operator::None => {
                if self.words.find(&text).next().is_none() {
                    out.push(Finding::whole("none of the listed words"));
                }
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Competitor {
    canonical: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    domains: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CompetitorsParams {
    names: Vec<Competitor>,
    /// Names that are common words (Apple, Oracle) are best matched case-sensitively.
    #[serde(default)]
    case_sensitive: bool,
}

/// Competitors' names, aliases (possessives included) and domains.
pub struct Competitors {
    words: Words,
    /// The canonical name of each listed word.
    canonical: Vec<String>,
    case_sensitive: bool,
}

impl Competitors {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: CompetitorsParams = params(v)?;
        if p.names.is_empty() {
            return Err(ParamError::new("names", "at least one competitor"));
        }
        let mut words = Vec::new();
        let mut canonical = Vec::new();
        for (i, c) in p.names.iter().enumerate() {
            if c.canonical.trim().is_empty() {
                return Err(ParamError::new(
                    format!("names[{i}].canonical"),
                    "must not be empty",
                ));
            }
            for w in std::iter::once(&c.canonical)
                .chain(&c.aliases)
                .chain(&c.domains)
            {
                words.push(w.clone());
                canonical.push(c.canonical.clone());
            }
        }
        Ok(Box::new(Competitors {
            words: Words::new(&words, p.case_sensitive, true)?,
            canonical,
            case_sensitive: p.case_sensitive,
        }))
    }
}

impl Check for Competitors {
    fn id(&self) -> &'static str {
        "competitors"
    }

    fn sources(&self) -> &'static [Source] {
        ALL
    }

    fn span(&self) -> Span {
        Span::Bytes(self.words.longest + 8)
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let text = folded(&s.norm.text, self.case_sensitive);
        for (i, r) in self.words.find(&text) {
            out.push(Finding::at(s.raw_range(r), self.canonical[i].clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::checks::testing::{fires, fires_on, spans};
    use serde_json::json;

    #[test]
    fn regex_match_fires_on_a_match_or_on_no_match() {
        let p = json!({"patterns": ["(?i)\\bproject\\s+falcon\\b"]});
        assert!(fires("regex_match", &p, "status of Project Falcon?"));
        assert!(!fires("regex_match", &p, "falconry is a hobby"));
        let must = json!({"patterns": ["^\\{"], "mode": "must_match"});
        assert!(fires("regex_match", &must, "not json"));
        assert!(!fires("regex_match", &must, "{\"a\":1}"));
        let e = crate::catalogue::build("regex_match", &json!({"patterns": ["(?<=a)b"]}))
            .err()
            .unwrap();
        assert_eq!(e.path, "patterns[0]");
        assert!(e.message.contains("look-around"), "{e}");
        let e = crate::catalogue::build("regex_match", &json!({"patern": ["a"]}))
            .err()
            .unwrap();
        assert!(e.message.contains("unknown field"), "{e}");
    }

    #[test]
    fn regex_redact_finds_each_labelled_match_in_the_original_bytes() {
        let p = json!({"patterns": [{"label": "EMAIL", "pattern": "[a-z]+@[a-z]+\\.[a-z]+"}]});
        // A zero-width space inside the address does not hide it; the span covers it.
        let text = "mail bob@cor\u{200B}p.io now";
        assert_eq!(spans("regex_redact", &p, text), vec!["bob@cor\u{200B}p.io"]);
    }

    #[test]
    fn contains_matches_whole_words_case_folded() {
        let any = json!({"words": ["refund"]});
        assert!(fires("contains", &any, "I want a REFUND now"));
        assert!(!fires("contains", &any, "it is refundable"));
        let all = json!({"words": ["refund", "today"], "operator": "all"});
        assert!(fires("contains", &all, "refund it today"));
        assert!(!fires("contains", &all, "refund it tomorrow"));
        let none = json!({"words": ["thanks"], "operator": "none"});
        assert!(fires("contains", &none, "bye"));
        assert!(!fires("contains", &none, "Thanks!"));
        let accented = json!({"words": ["élan"]});
        assert!(fires("contains", &accented, "with ÉLAN"));
        let sub = json!({"words": ["fund"], "whole_word": false});
        assert!(fires("contains", &sub, "refundable"));
    }

    #[test]
    fn competitors_names_the_canonical_name() {
        let p = json!({"names": [{"canonical": "Acme Cloud", "aliases": ["AcmeCloud"], "domains": ["acme.example"]}]});
        let f = fires_on("competitors", &p, "Try acme cloud's plan or acme.example");
        assert_eq!(f.len(), 2);
        assert!(f.iter().all(|f| f.label == "Acme Cloud"));
        assert!(!fires("competitors", &p, "the acme of craft"));
    }
}
