//! Sizes: words, sentences, characters, tokens and reading time outside configured bounds.
//!
//! Every size needs the whole text (`Span::Whole`) and nothing is masked. Labels give the
//! measure and the bound broken (`51 words, max 50`). Words and sentences are counted on the
//! normalized copy (invisible characters cannot split a word); characters and tokens on the
//! original (what is sent and billed).

use crate::catalogue::Entry;
use crate::check::{params, Check, Finding, ParamError, Source, Span, Subject};
use serde::Deserialize;
use serde_json::Value;
use unicode_segmentation::UnicodeSegmentation;

pub const CHECKS: &[Entry] = &[
    Entry {
        id: "word_count",
        family: "sizes",
        summary: "words (Unicode word boundaries) outside [min, max]",
        build: WordCount::build,
    },
    Entry {
        id: "sentence_count",
        family: "sizes",
        summary: "sentences (Unicode sentence boundaries) outside [min, max]",
        build: SentenceCount::build,
    },
    Entry {
        id: "char_count",
        family: "sizes",
        summary: "length in characters, graphemes, UTF-16 units or bytes outside [min, max]",
        build: CharCount::build,
    },
    Entry {
        id: "token_count",
        family: "sizes",
        summary: "estimated tokens outside [min, max]",
        build: TokenCount::build,
    },
    Entry {
        id: "reading_time",
        family: "sizes",
        summary: "an answer taking longer than max_minutes to read",
        build: ReadingTime::build,
    },
];

/// Requests and answers.
const IN_OUT: &[Source] = &[Source::Input, Source::Output];
/// Answers.
const OUTPUT: &[Source] = &[Source::Output];

/// A size's bounds, both inclusive.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    min: Option<usize>,
    max: Option<usize>,
}

impl Bounds {
    fn new(min: Option<usize>, max: Option<usize>) -> Result<Bounds, ParamError> {
        match (min, max) {
            (None, None) => Err(ParamError::new("max", "give min, max or both")),
            (Some(a), Some(b)) if a > b => Err(ParamError::new(
                "min",
                format!("min ({a}) is greater than max ({b})"),
            )),
            _ => Ok(Bounds { min, max }),
        }
    }

    /// A finding when `n` is out of bounds; `unit` is (singular, plural).
    fn judge(&self, n: usize, unit: (&str, &str), out: &mut Vec<Finding>) {
        let unit = if n == 1 { unit.0 } else { unit.1 };
        if let Some(max) = self.max.filter(|m| n > *m) {
            out.push(Finding::whole(format!("{n} {unit}, max {max}")));
        } else if let Some(min) = self.min.filter(|m| n < *m) {
            out.push(Finding::whole(format!("{n} {unit}, min {min}")));
        }
    }
}

/// Words by Unicode's word boundaries (UAX #29): runs of letters, digits and joiners, so
/// punctuation is not a word, `don't` and `3.14` are one, and each CJK ideograph is one.
pub(crate) fn words(text: &str) -> usize {
    text.unicode_words().count()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CountParams {
    min: Option<usize>,
    max: Option<usize>,
}

/// Words outside [min, max].
pub struct WordCount {
    bounds: Bounds,
}

impl WordCount {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: CountParams = params(v)?;
        Ok(Box::new(WordCount {
            bounds: Bounds::new(p.min, p.max)?,
        }))
    }
}

impl Check for WordCount {
    fn id(&self) -> &'static str {
        "word_count"
    }

    fn sources(&self) -> &'static [Source] {
        IN_OUT
    }

    fn span(&self) -> Span {
        Span::Whole
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        self.bounds
            .judge(words(&s.norm.text), ("word", "words"), out);
    }
}

/// Sentences outside [min, max].
pub struct SentenceCount {
    bounds: Bounds,
}

impl SentenceCount {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: CountParams = params(v)?;
        Ok(Box::new(SentenceCount {
            bounds: Bounds::new(p.min, p.max)?,
        }))
    }
}

/// Sentences by Unicode's sentence boundaries (UAX #29: "3.14", "e.g. this" and "Mr. smith"
/// do not end one); a piece with no letter or digit (a lone "..." or a blank line) is none.
fn sentences(text: &str) -> usize {
    // A plain loop: the iterator's `size_hint` underflows on an empty text (in
    // unicode-segmentation 1.13), and `Filter::count` asks for it.
    let mut n = 0;
    for s in text.split_sentence_bounds() {
        if s.chars().any(char::is_alphanumeric) {
            n += 1;
        }
    }
    n
}

impl Check for SentenceCount {
    fn id(&self) -> &'static str {
        "sentence_count"
    }

    fn sources(&self) -> &'static [Source] {
        IN_OUT
    }

    fn span(&self) -> Span {
        Span::Whole
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        self.bounds
            .judge(sentences(&s.norm.text), ("sentence", "sentences"), out);
    }
}

/// What a character is.
#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
enum Unit {
    /// Unicode scalar values (Rust `chars`, Python `len`).
    #[default]
    Scalar,
    /// User-perceived characters (extended grapheme clusters): one emoji with its skin tone
    /// is one.
    Grapheme,
    /// UTF-16 code units (JavaScript's `length`): characters beyond the BMP are two.
    Utf16,
    /// UTF-8 bytes.
    Byte,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CharCountParams {
    min: Option<usize>,
    max: Option<usize>,
    #[serde(default)]
    unit: Unit,
}

/// Length outside [min, max] in the configured unit.
pub struct CharCount {
    bounds: Bounds,
    unit: Unit,
}

impl CharCount {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: CharCountParams = params(v)?;
        Ok(Box::new(CharCount {
            bounds: Bounds::new(p.min, p.max)?,
            unit: p.unit,
        }))
    }
}

impl Check for CharCount {
    fn id(&self) -> &'static str {
        "char_count"
    }

    fn sources(&self) -> &'static [Source] {
        IN_OUT
    }

    fn span(&self) -> Span {
        Span::Whole
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let t = s.raw;
        let (n, unit) = match self.unit {
            Unit::Scalar => (t.chars().count(), ("character", "characters")),
            Unit::Grapheme => (t.graphemes(true).count(), ("grapheme", "graphemes")),
            Unit::Utf16 => (
                t.chars().map(char::len_utf16).sum(),
                ("UTF-16 unit", "UTF-16 units"),
            ),
            Unit::Byte => (t.len(), ("byte", "bytes")),
        };
        self.bounds.judge(n, unit, out);
    }
}

/// Latin text's characters per token in the estimate (OpenAI's rule of thumb for English).
const DEFAULT_CHARS_PER_TOKEN: f64 = 4.0;

/// Characters whose scripts tokenizers give about one token each: CJK ideographs, kana,
/// Hangul, CJK punctuation and full-width forms.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF | 0x2E80..=0x2FDF | 0x3000..=0x303F | 0x3040..=0x30FF | 0x3100..=0x318F
        | 0x31A0..=0x31FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xA960..=0xA97F
        | 0xAC00..=0xD7FF | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFFEF
        | 0x20000..=0x3134F)
}

/// Characters counted as Latin text: ASCII, Latin-1, Latin Extended A and B, IPA, and
/// general punctuation.
fn is_latin_like(c: char) -> bool {
    matches!(c as u32, 0..=0x024F | 0x2000..=0x206F | 0x1E00..=0x1EFF)
}

/// An estimate of a text's tokens, as no tokenizer is bundled: one token per CJK character,
/// one per `chars_per_token` Latin characters (spaces and punctuation included), and one per
/// half that for other scripts (Cyrillic, Greek, Arabic, Indic, emoji...), which tokenizers
/// split finer. Rounded up. Within about 20% of `cl100k_base`/`o200k_base` on English prose;
/// code and unusual scripts can be further off.
pub(crate) fn estimate_tokens(text: &str, chars_per_token: f64) -> usize {
    let (mut cjk, mut latin, mut other) = (0usize, 0usize, 0usize);
    for c in text.chars() {
        if is_cjk(c) {
            cjk += 1;
        } else if is_latin_like(c) {
            latin += 1;
        } else {
            other += 1;
        }
    }
    let rest = (latin as f64 + 2.0 * other as f64) / chars_per_token;
    cjk + rest.ceil() as usize
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenCountParams {
    min: Option<usize>,
    max: Option<usize>,
    chars_per_token: Option<f64>,
}

/// Estimated tokens outside [min, max] (see `estimate_tokens`).
pub struct TokenCount {
    bounds: Bounds,
    chars_per_token: f64,
}

impl TokenCount {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: TokenCountParams = params(v)?;
        let chars_per_token = p.chars_per_token.unwrap_or(DEFAULT_CHARS_PER_TOKEN);
        if !(1.0..=16.0).contains(&chars_per_token) {
            return Err(ParamError::new(
                "chars_per_token",
                "must be between 1 and 16",
            ));
        }
        Ok(Box::new(TokenCount {
            bounds: Bounds::new(p.min, p.max)?,
            chars_per_token,
        }))
    }
}

impl Check for TokenCount {
    fn id(&self) -> &'static str {
        "token_count"
    }

    fn sources(&self) -> &'static [Source] {
        IN_OUT
    }

    fn span(&self) -> Span {
        Span::Whole
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let n = estimate_tokens(s.raw, self.chars_per_token);
        self.bounds.judge(n, ("token", "tokens"), out);
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadingTimeParams {
    max_minutes: f64,
    #[serde(default = "default_wpm")]
    wpm: f64,
    #[serde(default = "yes")]
    ignore_code: bool,
}

fn default_wpm() -> f64 {
    200.0
}

fn yes() -> bool {
    true
}

/// An answer whose words (fenced code left out) take longer than `max_minutes` at `wpm`.
pub struct ReadingTime {
    max_minutes: f64,
    wpm: f64,
    ignore_code: bool,
}

impl ReadingTime {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: ReadingTimeParams = params(v)?;
        if !(p.max_minutes > 0.0 && p.max_minutes.is_finite()) {
            return Err(ParamError::new("max_minutes", "must be more than 0"));
        }
        if !(1.0..=2000.0).contains(&p.wpm) {
            return Err(ParamError::new("wpm", "must be between 1 and 2000"));
        }
        Ok(Box::new(ReadingTime {
            max_minutes: p.max_minutes,
            wpm: p.wpm,
            ignore_code: p.ignore_code,
        }))
    }
}

impl Check for ReadingTime {
    fn id(&self) -> &'static str {
        "reading_time"
    }

    fn sources(&self) -> &'static [Source] {
        OUTPUT
    }

    fn span(&self) -> Span {
        Span::Whole
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let n = if self.ignore_code {
            words(&super::format::without_fences(&s.norm.text))
        } else {
            words(&s.norm.text)
        };
        let minutes = n as f64 / self.wpm;
        if minutes > self.max_minutes {
            out.push(Finding::whole(format!(
                "{minutes:.1} minutes to read, max {}",
                self.max_minutes
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::checks::testing::{fires, fires_on};
    use serde_json::json;

    fn labels(id: &str, p: &Value, text: &str) -> Vec<String> {
        fires_on(id, p, text)
            .into_iter()
            .map(|f| f.label.into_owned())
            .collect()
    }

    fn n_words(n: usize) -> String {
        (0..n)
            .map(|i| ["alpha", "beta", "gamma", "delta"][i % 4])
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn param_error(id: &str, p: Value) -> ParamError {
        crate::catalogue::build(id, &p).err().unwrap()
    }

    #[test]
    fn word_count_uses_word_boundaries() {
        let p = json!({"max": 50});
        assert_eq!(
            labels("word_count", &p, &n_words(51)),
            vec!["51 words, max 50"]
        );
        assert!(!fires("word_count", &p, &n_words(50)));
        let min = json!({"min": 3});
        assert_eq!(labels("word_count", &min, "Hi."), vec!["1 word, min 3"]);
        // Punctuation is no word; a contraction and a decimal are one each.
        assert!(!fires("word_count", &min, "Don't — pay 3.14 -- !"));
        assert_eq!(words("Don't — pay 3.14 -- !"), 3);
        // CJK has no spaces: each ideograph is a word.
        assert_eq!(words("我喜欢猫"), 4);
        // An invisible character does not split a word (normalized copy).
        assert_eq!(
            labels("word_count", &json!({"max": 1}), "pass\u{200B}word ok"),
            vec!["2 words, max 1"]
        );
        // A URL is a few words, not dozens.
        assert!(words("see https://example.com/a/b?c=d") <= 8);
        assert!(!fires("word_count", &json!({"min": 0, "max": 10}), ""));
    }

    #[test]
    fn sentence_count_is_not_fooled_by_decimals_and_abbreviations() {
        let p = json!({"max": 3});
        assert_eq!(
            labels("sentence_count", &p, "One. Two! Three? Four."),
            vec!["4 sentences, max 3"]
        );
        assert!(!fires("sentence_count", &p, "One. Two! Three?"));
        let two = json!({"max": 1});
        assert_eq!(
            labels("sentence_count", &two, "Pi is 3.14. E.g. this."),
            vec!["2 sentences, max 1"]
        );
        assert_eq!(sentences("Pi is 3.14. E.g. this."), 2);
        assert_eq!(sentences("Wait... what?"), 1);
        assert_eq!(sentences("\n\n...\n"), 0);
        assert_eq!(sentences(""), 0);
        let min = json!({"min": 2});
        assert!(fires("sentence_count", &min, "Only one here."));
        assert!(!fires("sentence_count", &min, "First line.\nSecond line."));
    }

    #[test]
    fn char_count_names_its_unit() {
        let p = json!({"max": 10});
        assert_eq!(
            labels("char_count", &p, "hello world!"),
            vec!["12 characters, max 10"]
        );
        assert!(!fires("char_count", &p, "hello"));
        let thumbs = "👍".repeat(5);
        let g = json!({"max": 5, "unit": "grapheme"});
        assert!(!fires("char_count", &g, &thumbs));
        let u = json!({"max": 5, "unit": "utf16"});
        assert_eq!(
            labels("char_count", &u, &thumbs),
            vec!["10 UTF-16 units, max 5"]
        );
        let b = json!({"max": 5, "unit": "byte"});
        assert_eq!(labels("char_count", &b, &thumbs), vec!["20 bytes, max 5"]);
        // A skin-toned emoji: one grapheme, two scalars.
        let toned = "👍🏽";
        assert!(!fires(
            "char_count",
            &json!({"max": 1, "unit": "grapheme"}),
            toned
        ));
        assert!(fires("char_count", &json!({"max": 1}), toned));
        let min = json!({"min": 1});
        assert_eq!(labels("char_count", &min, ""), vec!["0 characters, min 1"]);
        let e = param_error("char_count", json!({"max": 1, "unit": "codepoint"}));
        assert_eq!(e.path, "unit");
        let e = param_error("char_count", json!({}));
        assert_eq!(e.path, "max");
        let e = param_error("char_count", json!({"min": 5, "max": 2}));
        assert_eq!(e.path, "min");
        let e = param_error("char_count", json!({"max": -1}));
        assert_eq!(e.path, "max");
    }

    #[test]
    fn token_count_estimates_latin_and_cjk() {
        assert_eq!(estimate_tokens("", 4.0), 0);
        assert_eq!(estimate_tokens("abcd", 4.0), 1);
        assert_eq!(estimate_tokens("abcde", 4.0), 2);
        assert_eq!(estimate_tokens("我喜欢猫", 4.0), 4);
        assert_eq!(estimate_tokens("привет", 4.0), 3);
        // 1,200 tokens of English-like text against a max of 1,000, then 900.
        let p = json!({"max": 1000});
        let long = "abc ".repeat(1200);
        assert_eq!(
            labels("token_count", &p, &long),
            vec!["1200 tokens, max 1000"]
        );
        assert!(!fires("token_count", &p, &"abc ".repeat(900)));
        let cpt = json!({"max": 1000, "chars_per_token": 3.0});
        assert!(fires("token_count", &cpt, &"abc ".repeat(900)));
        let e = param_error("token_count", json!({"max": 1, "chars_per_token": 0.0}));
        assert_eq!(e.path, "chars_per_token");
        let e = param_error("token_count", json!({"max": 1, "encoding": "cl100k_base"}));
        assert!(e.message.contains("unknown field"), "{e}");
    }

    #[test]
    fn reading_time_counts_words_without_code() {
        let p = json!({"max_minutes": 1, "wpm": 200});
        assert_eq!(
            labels("reading_time", &p, &n_words(250)),
            vec!["1.2 minutes to read, max 1"]
        );
        assert!(!fires("reading_time", &p, &n_words(150)));
        let code = format!("{}\n```python\n{}\n```\n", n_words(150), n_words(400));
        assert!(!fires("reading_time", &p, &code));
        let with_code = json!({"max_minutes": 1, "ignore_code": false});
        assert!(fires("reading_time", &with_code, &code));
        let e = param_error("reading_time", json!({"max_minutes": 0}));
        assert_eq!(e.path, "max_minutes");
        let e = param_error("reading_time", json!({"max_minutes": 1, "wpm": 0}));
        assert_eq!(e.path, "wpm");
        let e = param_error("reading_time", json!({}));
        assert!(e.message.contains("max_minutes"), "{e}");
    }
}
