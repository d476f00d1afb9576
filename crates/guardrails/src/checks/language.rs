//! Language: the language or script a text is written in, by `whatlang` (a trigram model
//! built in: 69 languages, reported as ISO 639-3 codes, with a script and a confidence).
//!
//! Codes in parameters are whatlang's ISO 639-3 codes (`eng`, `cmn`, `pes`, `nob`) or the
//! ISO 639-1 codes of the same languages (`en`, `zh`, `fa`, `no`/`nb`), case-insensitive, a
//! region after `-` or `_` ignored (`en-US`). Findings name languages by the 639-3 code.
//!
//! Short texts say little: under `min_chars` characters (after code is left out) nothing is
//! judged, and a language below `min_confidence` is not judged either (a script always is).

use crate::catalogue::Entry;
use crate::check::{params, Check, Finding, ParamError, Prompt, Source, Span, Subject};
use serde::Deserialize;
use serde_json::Value;
use whatlang::{Info, Lang, Script};

pub const CHECKS: &[Entry] = &[
    Entry {
        id: "language_allowed",
        family: "language",
        summary: "text in a language or script not on the allowed lists",
        build: LanguageAllowed::build,
    },
    Entry {
        id: "language_match",
        family: "language",
        summary: "an answer not in the expected language (the prompt's)",
        build: LanguageMatch::build,
    },
];

/// Requests and answers.
const IN_OUT: &[Source] = &[Source::Input, Source::Output];
/// Answers.
const OUTPUT: &[Source] = &[Source::Output];

/// Detection reads at most this much of a text (from its start): enough to tell a language,
/// and a bound on the work for long texts.
const SAMPLE_BYTES: usize = 16 * 1024;

/// ISO 639-1 codes of the languages whatlang knows, with its 639-3 code for each.
const ISO_639_1: &[(&str, &str)] = &[
    ("af", "afr"),
    ("ak", "aka"),
    ("am", "amh"),
    ("ar", "ara"),
    ("az", "aze"),
    ("be", "bel"),
    ("bg", "bul"),
    ("bn", "ben"),
    ("ca", "cat"),
    ("cs", "ces"),
    ("da", "dan"),
    ("de", "deu"),
    ("el", "ell"),
    ("en", "eng"),
    ("eo", "epo"),
    ("es", "spa"),
    ("et", "est"),
    ("fa", "pes"),
    ("fi", "fin"),
    ("fr", "fra"),
    ("gu", "guj"),
    ("he", "heb"),
    ("hi", "hin"),
    ("hr", "hrv"),
    ("hu", "hun"),
    ("hy", "hye"),
    ("id", "ind"),
    ("it", "ita"),
    ("ja", "jpn"),
    ("jv", "jav"),
    ("ka", "kat"),
    ("km", "khm"),
    ("kn", "kan"),
    ("ko", "kor"),
    ("la", "lat"),
    ("lt", "lit"),
    ("lv", "lav"),
    ("mk", "mkd"),
    ("ml", "mal"),
    ("mr", "mar"),
    ("my", "mya"),
    ("nb", "nob"),
    ("ne", "nep"),
    ("nl", "nld"),
    ("no", "nob"),
    ("or", "ori"),
    ("pa", "pan"),
    ("pl", "pol"),
    ("pt", "por"),
    ("ro", "ron"),
    ("ru", "rus"),
    ("si", "sin"),
    ("sk", "slk"),
    ("sl", "slv"),
    ("sn", "sna"),
    ("sr", "srp"),
    ("sv", "swe"),
    ("ta", "tam"),
    ("te", "tel"),
    ("th", "tha"),
    ("tk", "tuk"),
    ("tl", "tgl"),
    ("tr", "tur"),
    ("uk", "ukr"),
    ("ur", "urd"),
    ("uz", "uzb"),
    ("vi", "vie"),
    ("yi", "yid"),
    ("zh", "cmn"),
    ("zu", "zul"),
    // Other common spellings of the same languages: ISO 639-3 macrolanguages and 639-2/B.
    ("zho", "cmn"),
    ("chi", "cmn"),
    ("fas", "pes"),
    ("per", "pes"),
    ("nor", "nob"),
    ("ger", "deu"),
    ("fre", "fra"),
    ("dut", "nld"),
    ("cze", "ces"),
    ("gre", "ell"),
    ("rum", "ron"),
    ("slo", "slk"),
    ("arm", "hye"),
    ("geo", "kat"),
    ("bur", "mya"),
    ("iw", "heb"),
    ("in", "ind"),
    ("ji", "yid"),
];

/// The language a code names.
pub(crate) fn lang_of(code: &str) -> Option<Lang> {
    let c = code.trim().to_ascii_lowercase();
    let primary = c.split(['-', '_']).next().unwrap_or("");
    if primary.is_empty() {
        return None;
    }
    Lang::from_code(primary).or_else(|| {
        ISO_639_1
            .iter()
            .find(|(k, _)| *k == primary)
            .and_then(|(_, v)| Lang::from_code(*v))
    })
}

/// The script a name names: whatlang's names (`Latin`, `Cyrillic`, `Mandarin` for Han...),
/// case-insensitive, and `Han`.
fn script_of(name: &str) -> Option<Script> {
    let n = name.trim();
    if n.eq_ignore_ascii_case("han") {
        return Some(Script::Mandarin);
    }
    Script::all()
        .iter()
        .copied()
        .find(|s| s.name().eq_ignore_ascii_case(n))
}

fn langs(codes: &[String], field: &str) -> Result<Vec<Lang>, ParamError> {
    codes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            lang_of(c).ok_or_else(|| {
                ParamError::new(
                    format!("{field}[{i}]"),
                    format!(
                        "unknown language code \"{c}\" (ISO 639-1 or 639-3 of a language \
                         whatlang detects)"
                    ),
                )
            })
        })
        .collect()
}

/// What detection reads: the text's first `SAMPLE_BYTES`, without fenced code when asked,
/// trimmed.
fn sample(text: &str, ignore_code: bool) -> std::borrow::Cow<'_, str> {
    let mut end = text.len().min(SAMPLE_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = text.get(..end).unwrap_or("");
    if ignore_code {
        match super::format::without_fences(head) {
            std::borrow::Cow::Borrowed(b) => std::borrow::Cow::Borrowed(b.trim()),
            std::borrow::Cow::Owned(o) => std::borrow::Cow::Owned(o.trim().to_owned()),
        }
    } else {
        std::borrow::Cow::Borrowed(head.trim())
    }
}

/// The detection settings both checks share.
#[derive(Debug, Clone, Copy)]
struct Detect {
    min_chars: usize,
    min_confidence: f64,
    ignore_code: bool,
}

impl Detect {
    fn new(min_chars: usize, min_confidence: f64, ignore_code: bool) -> Result<Detect, ParamError> {
        if !(0.0..=1.0).contains(&min_confidence) {
            return Err(ParamError::new("min_confidence", "must be between 0 and 1"));
        }
        Ok(Detect {
            min_chars,
            min_confidence,
            ignore_code,
        })
    }

    /// The detection, when the text is long enough to say.
    fn run(&self, text: &str) -> Option<Info> {
        let s = sample(text, self.ignore_code);
        if s.chars().count() < self.min_chars.max(1) {
            return None;
        }
        whatlang::detect(&s)
    }

    /// Whether the language (not the script) is sure enough to judge.
    fn sure(&self, info: &Info) -> bool {
        info.confidence() >= self.min_confidence
    }
}

fn default_min_chars() -> usize {
    20
}

fn default_min_confidence() -> f64 {
    0.5
}

fn yes() -> bool {
    true
}

/// The language of `text` (its 639-3 code) as `language_match` judges it with its default
/// settings, or `None` when the text is too short or the detection unsure: `language_match`
/// takes its `expected` from the prompt with it.
pub fn detect_language(text: &str) -> Option<&'static str> {
    let d = Detect {
        min_chars: default_min_chars(),
        min_confidence: default_min_confidence(),
        ignore_code: true,
    };
    d.run(text).filter(|i| d.sure(i)).map(|i| i.lang().code())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LanguageAllowedParams {
    #[serde(default)]
    allowed: Vec<String>,
    #[serde(default)]
    allowed_scripts: Vec<String>,
    #[serde(default = "default_min_chars")]
    min_chars: usize,
    #[serde(default = "default_min_confidence")]
    min_confidence: f64,
    #[serde(default = "yes")]
    ignore_code: bool,
}

/// A text whose language is not in `allowed`, or whose script is not in `allowed_scripts`.
/// A language below `min_confidence` is still judged when no allowed language is written in
/// its script (a short Cyrillic text when only English is allowed).
pub struct LanguageAllowed {
    allowed: Vec<Lang>,
    scripts: Vec<Script>,
    detect: Detect,
}

impl LanguageAllowed {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: LanguageAllowedParams = params(v)?;
        if p.allowed.is_empty() && p.allowed_scripts.is_empty() {
            return Err(ParamError::new(
                "allowed",
                "give allowed languages, allowed_scripts or both",
            ));
        }
        let allowed = langs(&p.allowed, "allowed")?;
        let scripts = p
            .allowed_scripts
            .iter()
            .enumerate()
            .map(|(i, n)| {
                script_of(n).ok_or_else(|| {
                    ParamError::new(
                        format!("allowed_scripts[{i}]"),
                        format!("unknown script \"{n}\" (Latin, Cyrillic, Greek, Arabic, Hebrew, Devanagari, Mandarin or Han, Hiragana, Katakana, Hangul, Thai...)"),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Box::new(LanguageAllowed {
            allowed,
            scripts,
            detect: Detect::new(p.min_chars, p.min_confidence, p.ignore_code)?,
        }))
    }
}

impl Check for LanguageAllowed {
    fn id(&self) -> &'static str {
        "language_allowed"
    }

    fn sources(&self) -> &'static [Source] {
        IN_OUT
    }

    fn span(&self) -> Span {
        Span::Whole
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let Some(info) = self.detect.run(&s.norm.text) else {
            return;
        };
        if !self.scripts.is_empty() && !self.scripts.contains(&info.script()) {
            out.push(Finding::whole(format!(
                "script {} not allowed",
                info.script().name()
            )));
        }
        if self.allowed.is_empty() || self.allowed.contains(&info.lang()) {
            return;
        }
        if self.detect.sure(&info) {
            let mut f = Finding::whole(format!("language {} not allowed", info.lang().code()));
            f.score = info.confidence() as f32;
            out.push(f);
        } else if !info
            .script()
            .langs()
            .iter()
            .any(|l| self.allowed.contains(l))
        {
            // Unsure which language, but none allowed is written in this script.
            out.push(Finding::whole(format!(
                "language not allowed ({} script)",
                info.script().name()
            )));
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LanguageMatchParams {
    expected: Option<String>,
    #[serde(default)]
    also_allow: Vec<String>,
    #[serde(default = "default_min_chars")]
    min_chars: usize,
    #[serde(default = "default_min_confidence")]
    min_confidence: f64,
    #[serde(default = "yes")]
    ignore_code: bool,
}

/// An answer not in the `expected` language (nor one of `also_allow`). A check reads one text
/// at a time, so the prompt's language comes in as `expected`: unless configured, it is the
/// last user message's (`detect_language`), given for each request (`with_prompt`). Without
/// it (the prompt too short or unsure) the check has nothing to compare and does not fire.
pub struct LanguageMatch {
    expected: Option<Lang>,
    /// `expected` was configured: the prompt's language is not asked for.
    configured: bool,
    also_allow: Vec<Lang>,
    detect: Detect,
}

impl LanguageMatch {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: LanguageMatchParams = params(v)?;
        let expected = match &p.expected {
            Some(c) => Some(lang_of(c).ok_or_else(|| {
                ParamError::new(
                    "expected",
                    format!("unknown language code \"{c}\" (ISO 639-1 or 639-3)"),
                )
            })?),
            None => None,
        };
        Ok(Box::new(LanguageMatch {
            expected,
            configured: expected.is_some(),
            also_allow: langs(&p.also_allow, "also_allow")?,
            detect: Detect::new(p.min_chars, p.min_confidence, p.ignore_code)?,
        }))
    }
}

impl Check for LanguageMatch {
    fn id(&self) -> &'static str {
        "language_match"
    }

    fn sources(&self) -> &'static [Source] {
        OUTPUT
    }

    fn span(&self) -> Span {
        Span::Whole
    }

    fn takes_prompt(&self) -> bool {
        !self.configured
    }

    fn with_prompt(&self, prompt: &Prompt) -> Option<Box<dyn Check>> {
        if self.configured {
            return None;
        }
        let lang = detect_language(&prompt.user).and_then(lang_of)?;
        Some(Box::new(LanguageMatch {
            expected: Some(lang),
            configured: false,
            also_allow: self.also_allow.clone(),
            detect: self.detect,
        }))
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let Some(expected) = self.expected else {
            return;
        };
        let Some(info) = self.detect.run(&s.norm.text) else {
            return;
        };
        let lang = info.lang();
        if self.detect.sure(&info) && lang != expected && !self.also_allow.contains(&lang) {
            let mut f = Finding::whole(format!(
                "language {}, expected {}",
                lang.code(),
                expected.code()
            ));
            f.score = info.confidence() as f32;
            out.push(f);
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
        fires_on_as(id, p, text, Source::Output)
            .into_iter()
            .map(|f| f.label.into_owned())
            .collect()
    }

    fn param_path(id: &str, p: Value) -> String {
        crate::catalogue::build(id, &p).err().unwrap().path
    }

    const EN: &str = "Where is my order? I placed it last week and it still has not arrived.";
    const FR: &str =
        "Bonjour, pouvez-vous m'aider à trouver ma commande ? Elle n'est toujours pas arrivée.";
    const DE: &str = "Guten Tag, ich habe letzte Woche eine Bestellung aufgegeben und sie ist noch nicht angekommen.";
    const RU: &str = "Здравствуйте, где мой заказ? Я оформил его на прошлой неделе.";
    const RU_LONG: &str =
        "Я хочу вернуть товар, который купил в вашем магазине. Он не работает, и я очень недоволен.";
    const ZH: &str = "你好，我的订单在哪里？我上周就下单了，到现在还没有收到。";

    #[test]
    fn codes_map_to_whatlang_languages() {
        assert_eq!(lang_of("en"), Some(Lang::Eng));
        assert_eq!(lang_of("ENG"), Some(Lang::Eng));
        assert_eq!(lang_of("en-US"), Some(Lang::Eng));
        assert_eq!(lang_of("pt_BR"), Some(Lang::Por));
        assert_eq!(lang_of("zh"), Some(Lang::Cmn));
        assert_eq!(lang_of("zho"), Some(Lang::Cmn));
        assert_eq!(lang_of("fa"), Some(Lang::Pes));
        assert_eq!(lang_of("no"), Some(Lang::Nob));
        assert_eq!(lang_of("xx"), None);
        assert_eq!(lang_of(""), None);
        // Every 639-1 entry names a language whatlang has.
        for (k, v) in ISO_639_1 {
            assert!(Lang::from_code(*v).is_some(), "{k} -> {v}");
        }
        // Every whatlang language has a 639-1 code in the table.
        for l in Lang::all() {
            assert!(
                ISO_639_1
                    .iter()
                    .any(|(k, v)| k.len() == 2 && *v == l.code()),
                "{}",
                l.code()
            );
        }
        assert_eq!(script_of("latin"), Some(Script::Latin));
        assert_eq!(script_of("Han"), Some(Script::Mandarin));
        assert_eq!(script_of("Klingon"), None);
    }

    #[test]
    fn language_allowed_fires_on_other_languages() {
        let en = json!({"allowed": ["en"]});
        assert_eq!(
            labels("language_allowed", &en, "¿Dónde está mi pedido?"),
            vec!["language spa not allowed"]
        );
        assert!(!fires("language_allowed", &en, "Where is my order?"));
        assert!(!fires("language_allowed", &en, EN));
        assert_eq!(
            labels("language_allowed", &en, DE),
            vec!["language deu not allowed"]
        );
        assert_eq!(
            labels("language_allowed", &en, ZH),
            vec!["language cmn not allowed"]
        );
        let en_fr = json!({"allowed": ["en", "fra"]});
        assert!(!fires("language_allowed", &en_fr, FR));
        // Too short to judge.
        assert!(!fires("language_allowed", &en, "Merci!"));
        // Code is left out: an English answer with a long code block.
        let answer =
            format!("{EN}\n```python\nfor indice in range(10):\n    imprimir(indice)\n```");
        assert!(!fires("language_allowed", &en, &answer));
        // A mostly-code answer with little prose says nothing.
        assert!(!fires(
            "language_allowed",
            &en,
            "Run:\n```sh\nfür datei in *; do echo \"$datei\"; done\n```"
        ));
    }

    #[test]
    fn language_allowed_checks_scripts() {
        let latin = json!({"allowed_scripts": ["Latin"]});
        assert_eq!(
            labels("language_allowed", &latin, RU),
            vec!["script Cyrillic not allowed"]
        );
        assert!(!fires("language_allowed", &latin, DE));
        assert!(!fires("language_allowed", &latin, FR));
        let han = json!({"allowed_scripts": ["Han", "latin"]});
        assert!(!fires("language_allowed", &han, ZH));
        assert!(fires("language_allowed", &han, RU));
        // Both lists: a Cyrillic text breaks both.
        let both = json!({"allowed": ["en"], "allowed_scripts": ["Latin"]});
        assert_eq!(fires_on("language_allowed", &both, RU_LONG).len(), 2);
        // Unsure of the language (this short one reads as Bulgarian, barely), but sure no
        // allowed language is written in Cyrillic.
        let en = json!({"allowed": ["en"]});
        assert_eq!(
            labels("language_allowed", &en, RU),
            vec!["language not allowed (Cyrillic script)"]
        );
        // Unsure, and the script holds an allowed language: not judged.
        let bg = json!({"allowed": ["bg"]});
        assert!(!fires("language_allowed", &bg, RU));
        assert_eq!(
            labels("language_allowed", &bg, RU_LONG),
            vec!["language rus not allowed"]
        );
    }

    #[test]
    fn language_allowed_parameters() {
        assert_eq!(param_path("language_allowed", json!({})), "allowed");
        assert_eq!(
            param_path("language_allowed", json!({"allowed": ["en", "xx"]})),
            "allowed[1]"
        );
        assert_eq!(
            param_path("language_allowed", json!({"allowed_scripts": ["Elvish"]})),
            "allowed_scripts[0]"
        );
        assert_eq!(
            param_path(
                "language_allowed",
                json!({"allowed": ["en"], "min_confidence": 1.5})
            ),
            "min_confidence"
        );
        // A high min_chars: nothing is judged.
        let long = json!({"allowed": ["en"], "min_chars": 1000});
        assert!(!fires("language_allowed", &long, DE));
    }

    #[test]
    fn language_match_compares_with_expected() {
        let fr = json!({"expected": "fr"});
        assert_eq!(
            labels("language_match", &fr, EN),
            vec!["language eng, expected fra"]
        );
        assert!(labels("language_match", &fr, FR).is_empty());
        let en = json!({"expected": "eng", "also_allow": ["de"]});
        assert!(labels("language_match", &en, DE).is_empty());
        assert!(!labels("language_match", &en, FR).is_empty());
        // Without expected (the prompt gave no language), nothing to compare.
        assert!(labels("language_match", &json!({}), FR).is_empty());
        // A code answer is not judged by its identifiers.
        let code = "```python\ndef calculer(a, b):\n    return a + b\n```";
        assert!(labels("language_match", &fr, code).is_empty());
        assert_eq!(
            param_path("language_match", json!({"expected": "zz"})),
            "expected"
        );
        assert_eq!(
            param_path(
                "language_match",
                json!({"expected": "en", "also_allow": ["q"]})
            ),
            "also_allow[0]"
        );
    }

    #[test]
    fn language_match_takes_the_prompts_language_unless_configured() {
        let check = crate::catalogue::build("language_match", &json!({})).unwrap();
        assert!(check.takes_prompt());
        let prompt = |user: &str| Prompt {
            system: EN.into(),
            user: user.into(),
        };
        // A French question answered in English.
        let bound = check.with_prompt(&prompt(FR)).unwrap();
        let found = crate::checks::testing::run(bound.as_ref(), EN, Source::Output);
        assert_eq!(found[0].label, "language eng, expected fra");
        assert!(crate::checks::testing::run(bound.as_ref(), FR, Source::Output).is_empty());
        // Given again (the same set bound twice), the prompt still decides.
        let again = bound.with_prompt(&prompt(EN)).unwrap();
        assert!(crate::checks::testing::run(again.as_ref(), EN, Source::Output).is_empty());
        // A prompt too short to tell gives nothing.
        assert!(check.with_prompt(&prompt("ok?")).is_none());
        // A configured language is kept.
        let de = crate::catalogue::build("language_match", &json!({"expected": "de"})).unwrap();
        assert!(!de.takes_prompt());
        assert!(de.with_prompt(&prompt(FR)).is_none());
    }

    #[test]
    fn detect_language_feeds_expected() {
        assert_eq!(detect_language(FR), Some("fra"));
        assert_eq!(detect_language(EN), Some("eng"));
        assert_eq!(detect_language("ok"), None);
        // Long texts are sampled: a 1 MB text is quick and still detected.
        let long = EN.repeat(15_000);
        assert_eq!(detect_language(&long), Some("eng"));
    }
}
