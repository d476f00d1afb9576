//! Output quality: answers that refuse, and answers stuck in a loop.
//!
//! Both judge a whole answer (`Span::Whole`): a refusal is an opening, which a stream window
//! after the first does not hold, and repetition counts over the whole text. Nothing is masked.
//! `truncation` (an answer cut off) is not here: it reads the finish reason, not the text.

use crate::catalogue::Entry;
use crate::check::{params, Check, Finding, ParamError, Source, Span, Subject};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use unicode_segmentation::UnicodeSegmentation;

pub const CHECKS: &[Entry] = &[
    Entry {
        id: "refusal",
        family: "quality",
        summary: "an answer that opens by refusing (\"I'm sorry, but I can't help with that\")",
        build: Refusal::build,
    },
    Entry {
        id: "repetition",
        family: "quality",
        summary:
            "degenerate loops: repeated phrases or lines, long character runs, few distinct words",
        build: Repetition::build,
    },
];

/// Answers.
const OUTPUT: &[Source] = &[Source::Output];

// ---------------------------------------------------------------------------------------------
// refusal

/// Refusals' openings, lower case with straight apostrophes. Each is specific enough that
/// "Sorry for the delay" or "I can't wait" is none.
const REFUSALS: &[&str] = &[
    "i can't help with",
    "i can't help you with",
    "i cannot help with",
    "i cannot help you with",
    "i can't assist with",
    "i can't assist you with",
    "i cannot assist with",
    "i can't provide",
    "i cannot provide",
    "i can't comply",
    "i cannot comply",
    "i can't do that",
    "i cannot do that",
    "i can't fulfill",
    "i cannot fulfill",
    "i can't fulfil",
    "i can't create",
    "i cannot create",
    "i can't share",
    "i cannot share",
    "i can't support",
    "i can't engage",
    "i cannot engage",
    "i can't and won't",
    "i cannot and will not",
    "i won't be able to help",
    "i won't be able to assist",
    "i will not be able to help",
    "i won't help",
    "i will not help",
    "i won't provide",
    "i will not provide",
    "i'm not able to help",
    "i am not able to help",
    "i'm not able to provide",
    "i am not able to provide",
    "i'm not able to assist",
    "i am not able to assist",
    "i'm unable to help",
    "i am unable to help",
    "i'm unable to assist",
    "i am unable to assist",
    "i'm unable to provide",
    "i am unable to provide",
    "i'm unable to comply",
    "i am unable to comply",
    "i'm not going to help",
    "i am not going to help",
    "i must decline",
    "i have to decline",
    "i need to decline",
    "i'm afraid i can't",
    "i'm afraid i cannot",
    "i am afraid i cannot",
    "i'm sorry, but i can't",
    "i'm sorry, but i cannot",
    "i am sorry, but i cannot",
    "i apologize, but i can't",
    "i apologize, but i cannot",
    "sorry, but i can't",
    "sorry, i can't",
    "that's not something i can help with",
    "that is not something i can help with",
    "this isn't something i can help with",
    "as an ai language model",
    "as an ai model, i",
    "as an ai, i",
];

/// The openings a refusal phrase may follow in its sentence ("Unfortunately, I cannot...").
const LEAD_WORDS: &[&str] = &[
    "but",
    "unfortunately",
    "sorry",
    "however",
    "so",
    "honestly",
    "regretfully",
    "ok",
    "okay",
];

/// Characters opening a quotation: a phrase after one is quoted, not said.
fn is_open_quote(c: char) -> bool {
    matches!(
        c,
        '"' | '“' | '„' | '«' | '‘' | '‹' | '「' | '『' | '`' | '〝'
    )
}

/// Lower case, curly apostrophes straightened, whitespace runs collapsed to one space.
fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        match c {
            '’' | 'ʼ' | '\'' => out.push('\''),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefusalParams {
    /// More openings, added to the built-in ones.
    #[serde(default)]
    phrases: Vec<String>,
    /// Use the built-in openings.
    #[serde(default = "yes")]
    builtin: bool,
    #[serde(default = "default_prefix")]
    max_prefix_chars: usize,
}

fn yes() -> bool {
    true
}

fn default_prefix() -> usize {
    200
}

/// An answer that opens with a refusal: a known phrase within its first `max_prefix_chars`
/// characters, at the start of a clause (after the start, punctuation, or a word such as
/// "but" or "unfortunately"), and not inside a quotation.
pub struct Refusal {
    phrases: AhoCorasick,
    max_prefix_chars: usize,
}

impl Refusal {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: RefusalParams = params(v)?;
        if let Some(i) = p.phrases.iter().position(|w| w.trim().is_empty()) {
            return Err(ParamError::new(
                format!("phrases[{i}]"),
                "must not be empty",
            ));
        }
        if !p.builtin && p.phrases.is_empty() {
            return Err(ParamError::new(
                "phrases",
                "give phrases when the built-in ones are off",
            ));
        }
        if p.max_prefix_chars == 0 {
            return Err(ParamError::new("max_prefix_chars", "must be more than 0"));
        }
        let mut all: Vec<String> = p.phrases.iter().map(|w| fold(w)).collect();
        if p.builtin {
            all.extend(REFUSALS.iter().map(|s| (*s).to_owned()));
        }
        let phrases = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&all)
            .map_err(|e| ParamError::new("phrases", e.to_string()))?;
        Ok(Box::new(Refusal {
            phrases,
            max_prefix_chars: p.max_prefix_chars,
        }))
    }

    /// Whether a phrase at `at` in `prefix` opens a clause, unquoted.
    fn opens_clause(prefix: &str, at: usize) -> bool {
        let before = prefix.get(..at).unwrap_or("");
        if before.chars().any(is_open_quote) {
            return false;
        }
        let before = before.trim_end();
        let Some(last) = before.chars().next_back() else {
            return true;
        };
        if matches!(
            last,
            '.' | '!' | '?' | ',' | ';' | ':' | '—' | '–' | '-' | '*' | '(' | ')' | '>' | '…'
        ) {
            return true;
        }
        let word = before
            .rsplit(|c: char| !c.is_alphanumeric())
            .next()
            .unwrap_or("");
        LEAD_WORDS.contains(&word)
    }
}

impl Check for Refusal {
    fn id(&self) -> &'static str {
        "refusal"
    }

    fn sources(&self) -> &'static [Source] {
        OUTPUT
    }

    fn span(&self) -> Span {
        Span::Whole
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let head = s.norm.text.trim_start();
        let end = head
            .char_indices()
            .nth(self.max_prefix_chars)
            .map_or(head.len(), |(i, _)| i);
        let prefix = fold(head.get(..end).unwrap_or(head));
        let hit = self.phrases.find_iter(&prefix).any(|m| {
            // A phrase ends at a word's end ("i can't help with" is not "...without").
            let whole_word = !prefix
                .get(m.end()..)
                .and_then(|r| r.chars().next())
                .is_some_and(char::is_alphanumeric);
            whole_word && Self::opens_clause(&prefix, m.start())
        });
        if hit {
            out.push(Finding::whole("refusal"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// repetition

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RepetitionParams {
    #[serde(default = "default_n")]
    n: usize,
    #[serde(default = "default_max_repeats")]
    max_repeats: usize,
    #[serde(default = "default_max_run")]
    max_run: usize,
    #[serde(default = "default_window")]
    window: usize,
    #[serde(default = "default_ratio")]
    min_unique_ratio: f64,
}

fn default_n() -> usize {
    6
}
fn default_max_repeats() -> usize {
    10
}
fn default_max_run() -> usize {
    100
}
fn default_window() -> usize {
    200
}
fn default_ratio() -> f64 {
    0.05
}

/// Degenerate loops, by four measures:
/// - a word n-gram occurring more than `max_repeats` times in the prose;
/// - a line (with a letter or digit) repeated more than `max_repeats` times in a row,
///   anywhere (code and tables included; blank lines between do not break the row);
/// - a run of one character longer than `max_run`;
/// - fewer than `min_unique_ratio` distinct words in some `window` consecutive prose words.
///
/// Prose is the text without fenced code blocks and without table rows (lines starting with
/// `|`): code and tables repeat tokens legitimately.
pub struct Repetition {
    n: usize,
    max_repeats: usize,
    max_run: usize,
    window: usize,
    min_unique_ratio: f64,
}

impl Repetition {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: RepetitionParams = params(v)?;
        if !(2..=32).contains(&p.n) {
            return Err(ParamError::new("n", "must be between 2 and 32"));
        }
        if p.max_repeats == 0 {
            return Err(ParamError::new("max_repeats", "must be at least 1"));
        }
        if p.max_run < 2 {
            return Err(ParamError::new("max_run", "must be at least 2"));
        }
        if !(10..=100_000).contains(&p.window) {
            return Err(ParamError::new("window", "must be between 10 and 100000"));
        }
        if !(0.0..=1.0).contains(&p.min_unique_ratio) {
            return Err(ParamError::new(
                "min_unique_ratio",
                "must be between 0 and 1 (0 turns the measure off)",
            ));
        }
        Ok(Box::new(Repetition {
            n: p.n,
            max_repeats: p.max_repeats,
            max_run: p.max_run,
            window: p.window,
            min_unique_ratio: p.min_unique_ratio,
        }))
    }

    /// The longest run of one character.
    fn longest_run(text: &str) -> usize {
        let mut best = 0;
        let mut run = 0;
        let mut prev = None;
        for c in text.chars() {
            if Some(c) == prev {
                run += 1;
            } else {
                run = 1;
                prev = Some(c);
            }
            best = best.max(run);
        }
        best
    }

    /// The most times one line (with a letter or digit) follows itself, blank lines skipped.
    fn longest_line_row(text: &str) -> usize {
        let mut best = 0;
        let mut row = 0;
        let mut prev: Option<&str> = None;
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if !line.chars().any(char::is_alphanumeric) {
                // A separator (`---`, `}`) neither counts nor breaks the row.
                continue;
            }
            if prev == Some(line) {
                row += 1;
            } else {
                row = 1;
                prev = Some(line);
            }
            best = best.max(row);
        }
        best
    }

    /// The prose's words, as hashes of their lower case.
    fn prose_words(text: &str) -> Vec<u64> {
        let prose = super::format::without_fences(text);
        let mut out = Vec::new();
        for line in prose.lines() {
            if line.trim_start().starts_with('|') {
                continue;
            }
            for w in line.unicode_words() {
                let mut h = DefaultHasher::new();
                for c in w.chars().flat_map(char::to_lowercase) {
                    c.hash(&mut h);
                }
                out.push(h.finish());
            }
        }
        out
    }

    /// The most times one n-gram of `words` occurs.
    fn most_repeated(words: &[u64], n: usize) -> usize {
        let mut counts: HashMap<u64, usize> = HashMap::new();
        let mut best = 0;
        for gram in words.windows(n) {
            let mut h = DefaultHasher::new();
            gram.hash(&mut h);
            let c = counts.entry(h.finish()).or_insert(0);
            *c += 1;
            best = best.max(*c);
        }
        best
    }

    /// The fewest distinct words in any `window` consecutive words; `None` when there are
    /// fewer words than that.
    fn fewest_distinct(words: &[u64], window: usize) -> Option<usize> {
        if words.len() < window {
            return None;
        }
        let mut counts: HashMap<u64, usize> = HashMap::new();
        for w in words.iter().take(window) {
            *counts.entry(*w).or_insert(0) += 1;
        }
        let mut fewest = counts.len();
        for (out, inn) in words.iter().zip(words.iter().skip(window)) {
            *counts.entry(*inn).or_insert(0) += 1;
            if let Some(c) = counts.get_mut(out) {
                *c -= 1;
                if *c == 0 {
                    counts.remove(out);
                }
            }
            fewest = fewest.min(counts.len());
        }
        Some(fewest)
    }
}

impl Check for Repetition {
    fn id(&self) -> &'static str {
        "repetition"
    }

    fn sources(&self) -> &'static [Source] {
        OUTPUT
    }

    fn span(&self) -> Span {
        Span::Whole
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let text = s.norm.text.as_str();
        let run = Self::longest_run(text);
        if run > self.max_run {
            out.push(Finding::whole(format!(
                "run of {run} identical characters, max {}",
                self.max_run
            )));
        }
        let row = Self::longest_line_row(text);
        if row > self.max_repeats {
            out.push(Finding::whole(format!(
                "line repeated {row} times in a row, max {}",
                self.max_repeats
            )));
        }
        let words = Self::prose_words(text);
        let most = Self::most_repeated(&words, self.n);
        if most > self.max_repeats {
            out.push(Finding::whole(format!(
                "{}-word phrase repeated {most} times, max {}",
                self.n, self.max_repeats
            )));
        }
        if self.min_unique_ratio > 0.0 {
            if let Some(d) = Self::fewest_distinct(&words, self.window) {
                if (d as f64) < self.min_unique_ratio * self.window as f64 {
                    out.push(Finding::whole(format!(
                        "{d} distinct words in {}, min ratio {}",
                        self.window, self.min_unique_ratio
                    )));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use crate::checks::testing::{fires, fires_on};
    use serde_json::{json, Value};

    fn labels(id: &str, p: &Value, text: &str) -> Vec<String> {
        fires_on(id, p, text)
            .into_iter()
            .map(|f| f.label.into_owned())
            .collect()
    }

    fn param_path(id: &str, p: Value) -> String {
        crate::catalogue::build(id, &p).err().unwrap().path
    }

    #[test]
    fn refusal_fires_on_refusing_openings() {
        let p = json!({});
        for t in [
            "I'm sorry, but I can't help with that.",
            "I’m sorry, but I can’t help with that.",
            "Sorry, I can't share that information.",
            "I cannot  assist with creating malware.",
            "Unfortunately, I am unable to provide medical dosing advice.",
            "Unfortunately I cannot help with this request.",
            "As an AI language model, I don't have opinions.",
            "I must decline this request.",
            "**I can't help with that.** Here is why: ...",
        ] {
            assert_eq!(labels("refusal", &p, t), vec!["refusal"], "{t}");
        }
    }

    #[test]
    fn refusal_ignores_apologies_quotes_and_late_phrases() {
        let p = json!({});
        for t in [
            "Sorry for the delay, here are the results.",
            "I can't wait to show you the results!",
            "I apologize for the confusion; the correct value is 42.",
            "A typical refusal reads \"I can't help with that.\" and ends the turn.",
            "The bot replied: “I cannot provide that.”",
            "Here is the code. It can't do that without a key, so set API_KEY first.",
            "I can't help without the file, can you attach it?",
            "Sure! Here's a summary of the report.",
            "fn main() { println!(\"hello\"); }",
        ] {
            assert!(!fires("refusal", &p, t), "{t}");
        }
        // Beyond the prefix, a phrase no longer counts.
        let late = format!(
            "{} I can't help with that.",
            "Here is a long answer.".repeat(20)
        );
        assert!(!fires("refusal", &p, &late));
        assert!(fires("refusal", &json!({"max_prefix_chars": 1000}), &late));
    }

    #[test]
    fn refusal_takes_own_phrases() {
        let p = json!({"phrases": ["That is outside my remit"]});
        assert!(fires(
            "refusal",
            &p,
            "Hmm. That is outside my remit, sorry."
        ));
        let only = json!({"phrases": ["computer says no"], "builtin": false});
        assert!(fires("refusal", &only, "Computer says NO."));
        assert!(!fires(
            "refusal",
            &only,
            "I'm sorry, but I can't help with that."
        ));
        assert_eq!(param_path("refusal", json!({"builtin": false})), "phrases");
        assert_eq!(
            param_path("refusal", json!({"phrases": [""]})),
            "phrases[0]"
        );
        assert_eq!(
            param_path("refusal", json!({"max_prefix_chars": 0})),
            "max_prefix_chars"
        );
        assert_eq!(
            param_path("refusal", json!({"max_prefix_chars": "x"})),
            "max_prefix_chars"
        );
    }

    #[test]
    fn repetition_fires_on_loops() {
        let p = json!({});
        let the = "the ".repeat(500);
        let l = labels("repetition", &p, &the);
        assert!(
            l.iter().any(|l| l.starts_with("6-word phrase repeated")),
            "{l:?}"
        );
        assert!(
            l.iter()
                .any(|l| l.starts_with("1 distinct words in 200, min ratio 0.05")),
            "{l:?}"
        );
        let sentence = "I will help you with that. ".repeat(40);
        assert!(fires("repetition", &p, &sentence));
        let lines = "Processing item\n".repeat(12);
        assert_eq!(
            labels("repetition", &p, &lines),
            vec!["line repeated 12 times in a row, max 10"]
        );
        let run = format!("Answer: {}", "a".repeat(150));
        assert_eq!(
            labels("repetition", &p, &run),
            vec!["run of 150 identical characters, max 100"]
        );
        // A loop inside a code block is still a repeated line.
        let code = format!("```python\n{}```", "print('again')\n".repeat(30));
        assert!(fires("repetition", &p, &code));
    }

    #[test]
    fn repetition_passes_tables_lists_code_and_prose() {
        let p = json!({});
        let mut table = String::from("| Name | Active | Admin | Billing |\n|---|---|---|---|\n");
        for i in 0..60 {
            table.push_str(&format!("| user{i} | yes | yes | no |\n"));
        }
        assert!(!fires("repetition", &p, &table), "table");
        let mut list = String::new();
        for i in 0..40 {
            list.push_str(&format!(
                "- Step {i}: open file number {i} and check its header\n"
            ));
        }
        assert!(!fires("repetition", &p, &list), "list");
        let mut code = String::from("```rust\n");
        for i in 0..40 {
            code.push_str(&format!("    assert_eq!(parse(\"{i}\"), Ok({i}));\n"));
        }
        code.push_str("```\n");
        assert!(!fires("repetition", &p, &code), "code");
        let prose = "Guardrails read each request and answer. A policy groups checks and \
                     decides what a finding does: deny, flag, redact, retry or fall back. \
                     Checks are fast and run in process, so the gateway stays quick. "
            .to_owned()
            + "Streams are read in windows that overlap, so a finding split across two \
               deltas is still found, and a deny ends the stream early.";
        assert!(!fires("repetition", &p, &prose), "prose");
        assert!(!fires("repetition", &p, &"=".repeat(80)));
        assert!(!fires("repetition", &p, ""));
    }

    #[test]
    fn repetition_parameters() {
        let tight = json!({"n": 3, "max_repeats": 2});
        assert!(fires(
            "repetition",
            &tight,
            "go to bed. go to bed. go to bed."
        ));
        assert!(!fires("repetition", &tight, "go to bed. go to bed."));
        let no_ratio = json!({"min_unique_ratio": 0, "max_repeats": 1000, "max_run": 10000});
        assert!(!fires("repetition", &no_ratio, &"the ".repeat(500)));
        assert_eq!(param_path("repetition", json!({"n": 1})), "n");
        assert_eq!(
            param_path("repetition", json!({"max_repeats": 0})),
            "max_repeats"
        );
        assert_eq!(param_path("repetition", json!({"max_run": 1})), "max_run");
        assert_eq!(param_path("repetition", json!({"window": 5})), "window");
        assert_eq!(
            param_path("repetition", json!({"min_unique_ratio": 2.0})),
            "min_unique_ratio"
        );
        assert_eq!(param_path("repetition", json!({"ngram": 3})), "ngram");
    }

    /// Every check of the sizes, format, quality and language families on random and
    /// pathological texts: no panic, and large inputs finish.
    #[test]
    fn size_format_quality_language_checks_survive_odd_input() {
        let ids: Vec<(&str, Value)> = vec![
            ("word_count", json!({"max": 5})),
            ("sentence_count", json!({"max": 2})),
            ("char_count", json!({"max": 5, "unit": "grapheme"})),
            ("token_count", json!({"max": 5})),
            ("reading_time", json!({"max_minutes": 0.01})),
            ("not_empty", json!({})),
            ("json_valid", json!({"extract": "first_object"})),
            ("json_valid", json!({"extract": "fenced"})),
            (
                "json_schema",
                json!({"schema": {"type": "object"}, "extract": "first_object"}),
            ),
            ("json_keys", json!({"keys": ["a", "/b/0"]})),
            ("contains_code", json!({"unfenced": true})),
            (
                "affix",
                json!({"prefix": "É", "suffix": "😀", "case_sensitive": false}),
            ),
            ("letter_case", json!({"case": "lower"})),
            ("refusal", json!({"max_prefix_chars": 7})),
            ("repetition", json!({"n": 2, "window": 10})),
            (
                "language_allowed",
                json!({"allowed": ["en"], "allowed_scripts": ["Latin"], "min_chars": 1}),
            ),
            ("language_match", json!({"expected": "fr", "min_chars": 1})),
        ];
        let alphabet = [
            "{",
            "}",
            "[",
            "]",
            "\"",
            "\\",
            "`",
            "```",
            "~~~",
            "\n",
            "|",
            " ",
            "é",
            "😀",
            "👍🏽",
            "\u{200B}",
            "\u{FEFF}",
            "I can't help with",
            "a",
            ".",
            "我",
            "Я",
            "ﬁ",
            "\r\n",
            ":",
        ];
        let mut rng = fastrand::Rng::with_seed(15);
        for _ in 0..300 {
            let text: String = (0..rng.usize(0..60))
                .map(|_| alphabet[rng.usize(..alphabet.len())])
                .collect();
            for (id, p) in &ids {
                let _ = fires_on(id, p, &text);
            }
        }
        let big = [
            "{".repeat(100_000),
            "```\n".repeat(25_000),
            "\"".repeat(100_000),
            "a ".repeat(100_000),
            "|".repeat(100_000),
            "\n".repeat(100_000),
            format!("{}{}", " ".repeat(100_000), "I can't help with that"),
        ];
        for text in &big {
            for (id, p) in &ids {
                let _ = fires_on(id, p, text);
            }
        }
    }
}
