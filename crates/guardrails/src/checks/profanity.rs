//! Profanity: swear words and slurs from a built-in list (English, and a few in French,
//! Spanish, German, Italian, Portuguese, Dutch, Polish and Russian), each with a severity,
//! matched as whole words after undoing the usual disguises: leet (`$`→s, `1`→i, `0`→o, `@`→a,
//! `3`→e), letters spelt apart (`s.h.i.t`, `f u c k`), stretched letters (`shiiiit`), and
//! Cyrillic look-alikes mixed into a Latin word. Whole words only, so "Scunthorpe", "cockpit",
//! "assess" and "class" are left alone.

use crate::catalogue::Entry;
use crate::check::{params, Check, Finding, ParamError, Source, Span, Subject};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use unicode_normalization::UnicodeNormalization;

pub const CHECKS: &[Entry] = &[Entry {
    id: "profanity",
    family: "patterns",
    summary: "swear words and slurs (a built-in list with severities), disguises undone",
    build: Profanity::build,
}];

const SOURCES: &[Source] = &[Source::Input, Source::Output];

/// A longer word is not looked up.
const LONGEST_WORD: usize = 64;
/// The most letters spelt apart that are joined back (`s.h.i.t`).
const LONGEST_SPELT: usize = 24;
/// The most characters between two letters spelt apart (`s - h - i - t`).
const WIDEST_GAP: usize = 3;
/// How far before a word the name rule looks (a capitalised word before it).
const NAME_REACH: usize = 40;

/// How strong a word is.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Mild swearing ("damn", "crap").
    #[default]
    Mild,
    /// Strong swearing ("shit", "fuck").
    Strong,
    /// Slurs and the most offensive words.
    Severe,
}

/// What a listed word is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Swear,
    Slur,
    /// A swear word that is also a first name or surname ("Dick"): not when written as a name.
    Name,
}

use Kind::{Name, Slur, Swear};
use Severity::{Mild, Severe, Strong};

/// The list: a stem, the endings that make its forms (`""` for the stem itself), severity,
/// kind, language. Words with a common innocent meaning are left out ("cock", "pussy", "tit",
/// "bloody", "hell", "git", "fag", "con", "porra", "kut"); add them with `extra_words`.
const WORDS: &[(&str, &[&str], Severity, Kind, &str)] = &[
    // English, mild.
    ("damn", &["", "ed", "it", "s"], Mild, Swear, "en"),
    ("dammit", &[""], Mild, Swear, "en"),
    ("goddamn", &["", "ed", "it"], Mild, Swear, "en"),
    ("goddammit", &[""], Mild, Swear, "en"),
    ("crap", &["", "py", "per", "ping", "ola"], Mild, Swear, "en"),
    ("bullcrap", &[""], Mild, Swear, "en"),
    (
        "piss",
        &["", "ed", "es", "er", "ing", "y", "head"],
        Mild,
        Swear,
        "en",
    ),
    ("bugger", &["", "s", "ed", "ing", "y"], Mild, Swear, "en"),
    ("bollock", &["s", "ed", "ing"], Mild, Swear, "en"),
    ("arse", &["", "s", "d", "wipe"], Mild, Swear, "en"),
    ("ass", &["", "es"], Mild, Swear, "en"),
    ("jackass", &["", "es"], Mild, Swear, "en"),
    ("smartass", &["", "es"], Mild, Swear, "en"),
    ("dumbass", &["", "es"], Mild, Swear, "en"),
    ("bastard", &["", "s"], Mild, Swear, "en"),
    ("tosser", &["", "s"], Mild, Swear, "en"),
    ("knobhead", &["", "s"], Mild, Swear, "en"),
    ("bellend", &["", "s"], Mild, Swear, "en"),
    ("douchebag", &["", "s"], Mild, Swear, "en"),
    ("scumbag", &["", "s"], Mild, Swear, "en"),
    ("skank", &["", "s", "y"], Mild, Swear, "en"),
    ("wank", &["", "s", "ed", "ing"], Mild, Swear, "en"),
    ("wtf", &[""], Mild, Swear, "en"),
    ("stfu", &[""], Mild, Swear, "en"),
    ("gtfo", &[""], Mild, Swear, "en"),
    // English, strong.
    (
        "shit",
        &[
            "", "s", "ty", "ter", "ting", "ted", "e", "head", "heads", "hole", "show", "storm",
            "face", "load", "house", "less",
        ],
        Strong,
        Swear,
        "en",
    ),
    (
        "bullshit",
        &["", "s", "ting", "ter", "ters"],
        Strong,
        Swear,
        "en",
    ),
    ("horseshit", &[""], Strong, Swear, "en"),
    ("dipshit", &["", "s"], Strong, Swear, "en"),
    ("batshit", &[""], Strong, Swear, "en"),
    ("apeshit", &[""], Strong, Swear, "en"),
    ("chickenshit", &[""], Strong, Swear, "en"),
    (
        "fuck",
        &[
            "", "s", "ed", "er", "ers", "ing", "in", "wit", "wits", "face", "head", "heads", "off",
            "up", "ups", "boy", "tard",
        ],
        Strong,
        Swear,
        "en",
    ),
    (
        "motherfuck",
        &["er", "ers", "ing", "in"],
        Strong,
        Swear,
        "en",
    ),
    ("clusterfuck", &["", "s"], Strong, Swear, "en"),
    ("dumbfuck", &["", "s"], Strong, Swear, "en"),
    ("asshole", &["", "s"], Strong, Swear, "en"),
    ("asshat", &["", "s"], Strong, Swear, "en"),
    ("asswipe", &["", "s"], Strong, Swear, "en"),
    ("arsehole", &["", "s"], Strong, Swear, "en"),
    ("bitch", &["", "es", "y", "ing", "ed"], Strong, Swear, "en"),
    ("wanker", &["", "s"], Strong, Swear, "en"),
    ("twat", &["", "s"], Strong, Swear, "en"),
    ("dick", &["", "s"], Strong, Name, "en"),
    ("dickhead", &["", "s"], Strong, Swear, "en"),
    ("cocksucker", &["", "s"], Strong, Swear, "en"),
    ("whore", &["", "s"], Strong, Swear, "en"),
    ("slut", &["", "s", "ty"], Strong, Swear, "en"),
    ("jizz", &[""], Strong, Swear, "en"),
    ("retard", &["", "s", "ed"], Strong, Slur, "en"),
    // English, severe.
    ("cunt", &["", "s", "y"], Severe, Swear, "en"),
    ("nigger", &["", "s"], Severe, Slur, "en"),
    ("nigga", &["", "s", "z"], Severe, Slur, "en"),
    ("faggot", &["", "s"], Severe, Slur, "en"),
    ("kike", &["", "s"], Severe, Slur, "en"),
    ("spic", &["", "s"], Severe, Slur, "en"),
    ("wetback", &["", "s"], Severe, Slur, "en"),
    ("gook", &["", "s"], Severe, Slur, "en"),
    ("raghead", &["", "s"], Severe, Slur, "en"),
    ("towelhead", &["", "s"], Severe, Slur, "en"),
    ("paki", &["", "s"], Severe, Slur, "en"),
    ("beaner", &["", "s"], Severe, Slur, "en"),
    ("tranny", &[""], Severe, Slur, "en"),
    ("trannies", &[""], Severe, Slur, "en"),
    ("shemale", &["", "s"], Severe, Slur, "en"),
    // French.
    ("merde", &["", "s"], Mild, Swear, "fr"),
    ("bordel", &[""], Mild, Swear, "fr"),
    ("putain", &["", "s"], Strong, Swear, "fr"),
    ("pute", &["", "s"], Strong, Swear, "fr"),
    ("connard", &["", "s"], Strong, Swear, "fr"),
    ("connasse", &["", "s"], Strong, Swear, "fr"),
    ("salope", &["", "s"], Strong, Swear, "fr"),
    ("encul", &["é", "és", "e", "er"], Strong, Swear, "fr"),
    ("niquer", &[""], Strong, Swear, "fr"),
    ("pédé", &["", "s"], Severe, Slur, "fr"),
    ("bougnoule", &["", "s"], Severe, Slur, "fr"),
    // Spanish.
    ("mierda", &["", "s"], Strong, Swear, "es"),
    ("puta", &["", "s"], Strong, Swear, "es"),
    ("puto", &["", "s"], Strong, Swear, "es"),
    ("cabrón", &[""], Strong, Swear, "es"),
    ("cabron", &["", "es"], Strong, Swear, "es"),
    ("gilipollas", &[""], Strong, Swear, "es"),
    ("coño", &[""], Strong, Swear, "es"),
    ("joder", &[""], Strong, Swear, "es"),
    ("jodido", &["", "s"], Strong, Swear, "es"),
    ("pendej", &["o", "a", "os", "as"], Strong, Swear, "es"),
    ("hijueputa", &[""], Strong, Swear, "es"),
    ("maricón", &[""], Severe, Slur, "es"),
    ("maricon", &["", "es"], Severe, Slur, "es"),
    // German.
    ("verdammt", &[""], Mild, Swear, "de"),
    ("arsch", &[""], Mild, Swear, "de"),
    ("scheiße", &[""], Strong, Swear, "de"),
    ("scheisse", &[""], Strong, Swear, "de"),
    ("scheiß", &[""], Strong, Swear, "de"),
    ("scheiss", &[""], Strong, Swear, "de"),
    ("arschloch", &[""], Strong, Swear, "de"),
    ("arschlöcher", &[""], Strong, Swear, "de"),
    ("wichser", &[""], Strong, Swear, "de"),
    ("ficken", &[""], Strong, Swear, "de"),
    ("gefickt", &[""], Strong, Swear, "de"),
    ("hurensohn", &["", "e"], Strong, Swear, "de"),
    ("fotze", &["", "n"], Severe, Swear, "de"),
    ("schwuchtel", &["", "n"], Severe, Slur, "de"),
    // Italian.
    ("cazzo", &[""], Strong, Swear, "it"),
    ("cazzi", &[""], Strong, Swear, "it"),
    ("stronz", &["o", "a", "i", "e"], Strong, Swear, "it"),
    ("vaffanculo", &[""], Strong, Swear, "it"),
    ("merda", &[""], Strong, Swear, "it"),
    ("minchia", &[""], Strong, Swear, "it"),
    ("coglion", &["e", "i"], Strong, Swear, "it"),
    ("puttana", &["", "e"], Strong, Swear, "it"),
    ("frocio", &[""], Severe, Slur, "it"),
    // Portuguese.
    ("caralho", &[""], Strong, Swear, "pt"),
    ("merda", &[""], Strong, Swear, "pt"),
    ("puta", &["", "s"], Strong, Swear, "pt"),
    ("foda", &["", "se"], Strong, Swear, "pt"),
    ("foder", &[""], Strong, Swear, "pt"),
    ("buceta", &[""], Strong, Swear, "pt"),
    ("viado", &["", "s"], Severe, Slur, "pt"),
    // Dutch.
    ("godverdomme", &[""], Mild, Swear, "nl"),
    ("klootzak", &["", "ken"], Strong, Swear, "nl"),
    ("hoer", &["", "en"], Strong, Swear, "nl"),
    // Polish.
    ("kurwa", &["", "mać"], Strong, Swear, "pl"),
    ("chuj", &["", "u"], Strong, Swear, "pl"),
    ("pierdol", &["ić", "e", "ony"], Strong, Swear, "pl"),
    ("spierdalaj", &[""], Strong, Swear, "pl"),
    ("jebać", &[""], Strong, Swear, "pl"),
    // Russian.
    ("блядь", &[""], Strong, Swear, "ru"),
    ("блять", &[""], Strong, Swear, "ru"),
    ("сука", &["", "и"], Strong, Swear, "ru"),
    ("хуй", &["", "ня"], Strong, Swear, "ru"),
    ("пизд", &["а", "ец"], Strong, Swear, "ru"),
    ("ебать", &[""], Strong, Swear, "ru"),
    ("мудак", &["", "и"], Strong, Swear, "ru"),
    ("пидор", &["", "ы", "ас"], Severe, Slur, "ru"),
];

/// The list's languages.
const LANGUAGES: &[&str] = &["en", "fr", "es", "de", "it", "pt", "nl", "pl", "ru"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfanityParams {
    /// The least severity that fires.
    #[serde(default)]
    severity: Severity,
    /// The list's languages used (all by default).
    languages: Option<Vec<String>>,
    /// More words; they fire whatever `severity` says.
    #[serde(default)]
    extra_words: Vec<String>,
    /// Words of the list that never fire.
    #[serde(default)]
    allow_words: Vec<String>,
    /// Undo leet, letters spelt apart, stretched letters and look-alikes.
    #[serde(default = "yes")]
    obfuscation: bool,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Copy)]
struct Listed {
    severity: Severity,
    kind: Kind,
}

/// Swear words and slurs.
pub struct Profanity {
    /// Every form, lower-cased.
    words: HashMap<String, Listed>,
    /// Every form with each run of a letter made one (`ass` → `as`), for stretched words.
    squeezed: HashMap<String, Listed>,
    obfuscation: bool,
}

/// Lower-cased and NFKC, as text is read.
fn canonical(word: &str) -> String {
    word.nfkc().flat_map(char::to_lowercase).collect()
}

/// Each run of one letter made one.
fn squeeze(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut last = None;
    for c in word.chars() {
        if last != Some(c) {
            out.push(c);
        }
        last = Some(c);
    }
    out
}

/// Whether a run of three or more of one letter is in it.
fn stretched(word: &str) -> bool {
    let mut run = 0;
    let mut last = None;
    for c in word.chars() {
        run = if last == Some(c) { run + 1 } else { 1 };
        if run >= 3 {
            return true;
        }
        last = Some(c);
    }
    false
}

impl Profanity {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: ProfanityParams = params(v)?;
        let languages: Vec<&str> = match &p.languages {
            None => LANGUAGES.to_vec(),
            Some(list) => {
                if list.is_empty() {
                    return Err(ParamError::new("languages", "at least one language"));
                }
                let mut out = Vec::new();
                for (i, l) in list.iter().enumerate() {
                    match LANGUAGES.iter().find(|k| k.eq_ignore_ascii_case(l)) {
                        Some(k) => out.push(*k),
                        None => {
                            return Err(ParamError::new(
                                format!("languages[{i}]"),
                                format!("one of {}", LANGUAGES.join(", ")),
                            ))
                        }
                    }
                }
                out
            }
        };
        let one_word = |w: &str, at: String| -> Result<String, ParamError> {
            let c = canonical(w.trim());
            if c.is_empty() || !c.chars().all(char::is_alphanumeric) {
                return Err(ParamError::new(at, "one word of letters or digits"));
            }
            if c.len() > LONGEST_WORD {
                return Err(ParamError::new(at, format!("at most {LONGEST_WORD} bytes")));
            }
            Ok(c)
        };
        let allow = p
            .allow_words
            .iter()
            .enumerate()
            .map(|(i, w)| one_word(w, format!("allow_words[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let mut words: HashMap<String, Listed> = HashMap::new();
        let mut add = |form: String, l: Listed| {
            if allow.contains(&form) {
                return;
            }
            let e = words.entry(form).or_insert(l);
            if l.severity > e.severity {
                *e = l;
            }
        };
        for &(stem, ends, severity, kind, lang) in WORDS {
            if severity < p.severity || !languages.contains(&lang) {
                continue;
            }
            for end in ends {
                add(
                    canonical(&format!("{stem}{end}")),
                    Listed { severity, kind },
                );
            }
        }
        for (i, w) in p.extra_words.iter().enumerate() {
            let form = one_word(w, format!("extra_words[{i}]"))?;
            add(
                form,
                Listed {
                    severity: Severe,
                    kind: Swear,
                },
            );
        }
        let squeezed = words
            .iter()
            .map(|(w, l)| (squeeze(w), *l))
            .collect::<HashMap<_, _>>();
        Ok(Box::new(Profanity {
            words,
            squeezed,
            obfuscation: p.obfuscation,
        }))
    }
}

/// A leet character's letter.
fn leet(c: char) -> Option<char> {
    Some(match c {
        '@' | '4' => 'a',
        '$' | '5' => 's',
        '!' | '1' => 'i',
        '0' => 'o',
        '3' => 'e',
        '7' => 't',
        '8' => 'b',
        '9' => 'g',
        _ => return None,
    })
}

/// A Cyrillic or Greek letter that looks like a Latin one.
fn look_alike(c: char) -> Option<char> {
    Some(match c {
        'а' | 'α' => 'a',
        'с' => 'c',
        'е' | 'ε' => 'e',
        'і' | 'ι' => 'i',
        'к' | 'κ' => 'k',
        'о' | 'ο' => 'o',
        'р' | 'ρ' => 'p',
        'ѕ' => 's',
        'т' | 'τ' => 't',
        'у' | 'υ' => 'u',
        'х' | 'χ' => 'x',
        _ => return None,
    })
}

/// Characters that can stand inside a disguised word.
fn symbol(c: char) -> bool {
    matches!(c, '@' | '$' | '!')
}

/// What may separate letters spelt apart (`s.h.i.t`, `f u c k`, `s-h-i-t`).
fn separator(c: char) -> bool {
    matches!(c, ' ' | '.' | '-' | '_' | '*' | '\u{B7}' | '/' | '+' | '~')
}

/// One word of the text.
struct Tok {
    start: usize,
    end: usize,
}

/// How a word reads once its disguise is undone: lower-cased, leet and look-alikes mapped.
/// `None` when it has no letter, or more digits than letters (a model name like "A55").
fn reading(word: &str, obfuscation: bool) -> Option<String> {
    let latin = word.chars().any(|c| c.is_ascii_alphabetic());
    let mut out = String::with_capacity(word.len());
    let (mut letters, mut digits) = (0usize, 0usize);
    for c in word.chars() {
        if c.is_alphabetic() {
            letters += 1;
            let c = if obfuscation && latin {
                look_alike(c).unwrap_or(c)
            } else {
                c
            };
            out.extend(c.to_lowercase());
        } else if obfuscation {
            if c.is_ascii_digit() {
                digits += 1;
            }
            out.push(leet(c)?);
        } else {
            out.push(c);
        }
    }
    (letters > 0 && digits < letters).then_some(out)
}

fn title_case(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(char::is_uppercase) && chars.all(char::is_lowercase)
}

impl Profanity {
    fn look_up(&self, reading: &str) -> Option<Listed> {
        self.words.get(reading).copied().or_else(|| {
            (self.obfuscation && stretched(reading))
                .then(|| self.squeezed.get(&squeeze(reading)).copied())
                .flatten()
        })
    }

    /// The text's words: letters and digits, with leet symbols when disguises are undone.
    fn tokens(&self, text: &str) -> Vec<Tok> {
        let mut out = Vec::new();
        let mut start = None;
        for (i, c) in text.char_indices() {
            let part = c.is_alphanumeric() || (self.obfuscation && symbol(c));
            match (part, start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    out.push(Tok { start: s, end: i });
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            out.push(Tok {
                start: s,
                end: text.len(),
            });
        }
        out
    }

    /// A word written as a name: capitalised, next to another capitalised word with one space
    /// between ("Dick Smith", "Moby Dick").
    fn as_name(text: &str, toks: &[Tok], i: usize, t: (usize, usize)) -> bool {
        if !title_case(&text[t.0..t.1]) {
            return false;
        }
        let next = toks.get(i + 1).filter(|n| {
            n.start == t.1 + 1 && text.as_bytes()[t.1] == b' ' && n.end - n.start <= NAME_REACH
        });
        let prev = i.checked_sub(1).and_then(|j| toks.get(j)).filter(|p| {
            p.end + 1 == t.0 && text.as_bytes()[p.end] == b' ' && p.end - p.start <= NAME_REACH
        });
        next.is_some_and(|n| title_case(&text[n.start..n.end]))
            || prev.is_some_and(|p| title_case(&text[p.start..p.end]))
    }
}

impl Check for Profanity {
    fn id(&self) -> &'static str {
        "profanity"
    }

    fn sources(&self) -> &'static [Source] {
        SOURCES
    }

    fn span(&self) -> Span {
        // Letters spelt apart (a letter and a gap of up to two bytes a character), the words
        // read around a name, and a word cut at a window's edge.
        Span::Bytes(LONGEST_SPELT * (4 + 2 * WIDEST_GAP) + 2 * NAME_REACH + LONGEST_WORD)
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let text = &s.norm.text;
        let toks = self.tokens(text);
        let mut found = |a: usize, b: usize, l: Listed| {
            out.push(Finding {
                span: Some(s.raw_range(a..b)),
                label: if l.kind == Slur { "slur" } else { "profanity" }.into(),
                score: match l.severity {
                    Mild => 0.5,
                    Strong => 0.8,
                    Severe => 1.0,
                },
            });
        };
        // Each word: as written, and without a leading `@` or trailing `!` ("@dipshit",
        // "shit!").
        for (i, t) in toks.iter().enumerate() {
            if t.end - t.start > LONGEST_WORD {
                continue;
            }
            let word = &text[t.start..t.end];
            let trimmed = word.trim_start_matches('@').trim_end_matches('!');
            let a = t.start + (word.len() - word.trim_start_matches('@').len());
            let b = a + trimmed.len();
            let hit = reading(word, self.obfuscation)
                .and_then(|r| self.look_up(&r))
                .map(|l| (t.start, t.end, l))
                .or_else(|| {
                    (trimmed.len() != word.len() && !trimmed.is_empty())
                        .then(|| reading(trimmed, self.obfuscation))
                        .flatten()
                        .and_then(|r| self.look_up(&r))
                        .map(|l| (a, b, l))
                });
            if let Some((a, b, l)) = hit {
                if l.kind == Name && Self::as_name(text, &toks, i, (a, b)) {
                    continue;
                }
                found(a, b, l);
            }
        }
        if !self.obfuscation {
            return;
        }
        // Letters spelt apart: a run of three or more one-character words, each gap one to
        // three separators on one line; the whole run must spell a listed word.
        let single = |t: &Tok| {
            let w = &text[t.start..t.end];
            w.chars().nth(1).is_none() && w != "!"
        };
        let joined = |a: &Tok, b: &Tok| {
            let gap = &text[a.end..b.start];
            (1..=WIDEST_GAP).contains(&gap.chars().count()) && gap.chars().all(separator)
        };
        let mut i = 0;
        while i < toks.len() {
            if !single(&toks[i]) {
                i += 1;
                continue;
            }
            let mut j = i;
            while j + 1 < toks.len() && single(&toks[j + 1]) && joined(&toks[j], &toks[j + 1]) {
                j += 1;
            }
            let n = j - i + 1;
            if (3..=LONGEST_SPELT).contains(&n) {
                let spelt: String = toks[i..=j].iter().map(|t| &text[t.start..t.end]).collect();
                if let Some(l) = reading(&spelt, true).and_then(|r| self.look_up(&r)) {
                    found(toks[i].start, toks[j].end, l);
                }
            }
            i = j + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::checks::testing::{fires, fires_on, spans};
    use serde_json::{json, Value};

    fn all() -> Value {
        json!({})
    }

    #[test]
    fn fires_on_swearing_and_names_it() {
        let p = all();
        assert_eq!(spans("profanity", &p, "this is sh1t"), vec!["sh1t"]);
        assert_eq!(spans("profanity", &p, "Well, SHIT!"), vec!["SHIT"]);
        assert_eq!(
            spans("profanity", &p, "what the fuck, you motherfucker"),
            vec!["fuck", "motherfucker"]
        );
        let f = fires_on("profanity", &p, "damn it");
        assert_eq!((f[0].label.as_ref(), f[0].score), ("profanity", 0.5));
        let f = fires_on("profanity", &p, "a faggot");
        assert_eq!((f[0].label.as_ref(), f[0].score), ("slur", 1.0));
    }

    #[test]
    fn disguises_are_undone() {
        let p = all();
        for (text, word) in [
            ("you are full of $hit", "$hit"),
            ("such a b!tch", "b!tch"),
            ("kiss my @ss", "@ss"),
            ("a5shole", "a5shole"),
            ("sh1t happens", "sh1t"),
            ("f0ck", ""),
            ("fuuuuuck this", "fuuuuuck"),
            ("shiiiiit", "shiiiiit"),
            ("a dumb asssss", "asssss"),
            ("s.h.i.t happens", "s.h.i.t"),
            ("oh f u c k", "f u c k"),
            ("s - h - i - t", "s - h - i - t"),
            ("you F-U-C-K-E-R", "F-U-C-K-E-R"),
            // A Cyrillic "с" in a Latin word.
            ("fu\u{0441}k off", "fu\u{0441}k"),
            ("@dipshit", "dipshit"),
        ] {
            let got = spans("profanity", &p, text);
            if word.is_empty() {
                assert!(got.is_empty(), "{text}: {got:?}");
            } else {
                assert_eq!(got, vec![word], "{text}");
            }
        }
        let plain = json!({"obfuscation": false});
        for text in ["sh1t", "s.h.i.t", "fuuuuck", "$hit"] {
            assert!(fires("profanity", &p, text), "{text}");
            assert!(!fires("profanity", &plain, text), "{text}");
        }
        assert!(fires("profanity", &plain, "shit"));
    }

    #[test]
    fn whole_words_only_so_scunthorpe_is_safe() {
        let p = all();
        for text in [
            "Scunthorpe United won at home",
            "The pilot sat in the cockpit",
            "Please assess the class of passes",
            "Dick Smith founded an electronics chain",
            "We read Moby Dick in school",
            "a shiitake and cocktail bar in Sussex near Penistone",
            "The Samsung Galaxy A55 and model S3 ship in 2024",
            "Dickens wrote about the assassin; the bassist passed",
            "mail me at ash@pissarro.example.org",
            "A B C D E F",
            "Hello!!! Yes!",
            "Shitterton is a hamlet in Dorset",
            "He had a retardant coating; Arsenal won",
        ] {
            assert!(
                !fires("profanity", &p, text),
                "{text}: {:?}",
                spans("profanity", &p, text)
            );
        }
        // A name only when written as one.
        assert!(fires("profanity", &p, "don't be a dick"));
        assert!(fires("profanity", &p, "Dick."));
        assert!(fires("profanity", &p, "what a DICK Smith"));
    }

    #[test]
    fn severity_languages_extra_and_allowed_words() {
        let strong = json!({"severity": "strong"});
        assert!(!fires("profanity", &strong, "damn, crap"));
        assert!(fires("profanity", &strong, "bullshit"));
        let severe = json!({"severity": "severe"});
        assert!(!fires("profanity", &severe, "bullshit"));
        assert!(fires("profanity", &severe, "cunt"));
        let p = all();
        for text in [
            "Putain, quel connard",
            "¡Qué mierda, cabrón!",
            "So eine Scheiße",
            "Che cazzo fai, stronzo",
            "Vai tomar no caralho",
            "kurwa mać",
            "Вот блядь",
        ] {
            assert!(fires("profanity", &p, text), "{text}");
        }
        let en = json!({"languages": ["en"]});
        assert!(!fires("profanity", &en, "Putain, quel connard"));
        assert!(fires("profanity", &en, "holy shit"));
        let extra = json!({"extra_words": ["frak"], "severity": "severe"});
        assert!(fires("profanity", &extra, "Frakking frak"));
        assert_eq!(spans("profanity", &extra, "Frakking frak"), vec!["frak"]);
        let allow = json!({"allow_words": ["bugger", "Dick"]});
        assert!(!fires("profanity", &allow, "bugger off, dick"));
        assert!(fires("profanity", &allow, "bugger off, shithead"));
    }

    #[test]
    fn bad_parameters_name_the_field() {
        let path = |v: Value| crate::catalogue::build("profanity", &v).err().unwrap().path;
        assert_eq!(path(json!({"severity": "rude"})), "severity");
        assert_eq!(path(json!({"languages": ["en", "xx"]})), "languages[1]");
        assert_eq!(
            path(json!({"extra_words": ["ok", "two words"]})),
            "extra_words[1]"
        );
        assert_eq!(path(json!({"allow_words": [""]})), "allow_words[0]");
        assert_eq!(path(json!({"lists": ["en"]})), "lists");
    }

    #[test]
    fn pathological_input_is_bounded() {
        let p = all();
        for text in [
            "s ".repeat(20_000),
            "a.".repeat(20_000),
            "shit".repeat(10_000),
            "sh1t ".repeat(5_000),
            "@$!".repeat(10_000),
            "u".repeat(50_000),
        ] {
            let t = std::time::Instant::now();
            let f = fires_on("profanity", &p, &text);
            assert!(t.elapsed() < std::time::Duration::from_secs(2));
            let Ok(check) = crate::catalogue::build("profanity", &p) else {
                panic!()
            };
            let crate::check::Span::Bytes(n) = check.span() else {
                panic!("profanity needs a bounded span")
            };
            assert!(f.iter().all(|f| f.span.as_ref().unwrap().len() <= n));
        }
    }
}
