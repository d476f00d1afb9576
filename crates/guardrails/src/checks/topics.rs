//! Topics: a forbidden subject, found by weighted hits of its terms, exact phrases and terms
//! near each other, summed over a window of words. A hit counts for nothing after a negation
//! ("never", "don't") and for half in quotation marks or in a sentence that reports or teaches
//! (a study, the news, a year in history) unless the writer speaks of themselves ("I", "my").
//!
//! Everything that decides a finding lies inside its span (the hits, and the sentence around
//! each that was read for those cues), and the span is bounded: a stream window that holds the
//! span decides exactly as the whole text does.

use crate::catalogue::Entry;
use crate::check::{params, Check, Finding, ParamError, Source, Span, Subject};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;

pub const CHECKS: &[Entry] = &[Entry {
    id: "banned_topics",
    family: "patterns",
    summary: "a forbidden topic: weighted hits of its terms, phrases and nearby terms in a window \
              of words",
    build: BannedTopics::build,
}];

const SOURCES: &[Source] = &[Source::Input, Source::Output];

/// Bytes of sentence read on each side of a hit for negation, quotation and framing cues.
const CONTEXT: usize = 120;
/// Bytes a window may stretch per word (long words, punctuation, other scripts).
const BYTES_PER_WORD: usize = 16;
/// A longer run of letters is not a word any list holds (and is not looked up).
const LONGEST_WORD: usize = 64;
/// What a quotation, or a reporting or teaching sentence, leaves of a hit's weight.
const DISCOUNT: f64 = 0.5;
/// How many words before a hit a negation reaches.
const NEGATION_REACH: usize = 5;

const DEFAULT_TERM_WEIGHT: f64 = 0.5;
const DEFAULT_PHRASE_WEIGHT: f64 = 1.0;
const DEFAULT_PROXIMITY_WEIGHT: f64 = 1.0;

fn default_threshold() -> f64 {
    1.0
}

fn default_window() -> usize {
    30
}

fn default_within() -> usize {
    5
}

fn one() -> f64 {
    1.0
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WeightedText {
    text: String,
    weight: f64,
}

/// A term or phrase, with its own weight or the list's default.
#[derive(Deserialize)]
#[serde(untagged)]
enum Weighted {
    Text(String),
    With(WeightedText),
}

impl Weighted {
    fn parts(&self, default: f64) -> (&str, f64) {
        match self {
            Weighted::Text(t) => (t, default),
            Weighted::With(w) => (&w.text, w.weight),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProximityParams {
    /// Two or more terms (each a word or a phrase).
    terms: Vec<String>,
    /// At most this many words from the end of the first to the start of the last.
    #[serde(default = "default_within")]
    within: usize,
    weight: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicParams {
    name: String,
    #[serde(default)]
    terms: Vec<Weighted>,
    #[serde(default)]
    phrases: Vec<Weighted>,
    #[serde(default)]
    proximity: Vec<ProximityParams>,
    /// Multiplies the weight of each of the topic's hits.
    #[serde(default = "one")]
    weight: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BannedTopicsParams {
    topics: Vec<TopicParams>,
    #[serde(default = "default_threshold")]
    threshold: f64,
    /// Words per window.
    #[serde(default = "default_window")]
    window: usize,
    /// Negation, quotation and reporting or teaching sentences lower a hit's weight.
    #[serde(default = "yes")]
    discount: bool,
}

/// What a word sequence found in the text counts for.
#[derive(Clone, Copy)]
enum Use {
    /// A term or phrase: the item it is.
    Item(usize),
    /// Part `part` of a proximity item.
    Part { item: usize, part: usize },
}

struct Item {
    topic: usize,
    weight: f64,
    /// For a proximity item: how many parts, and how far apart they may be (words).
    near: Option<(usize, usize)>,
}

/// A forbidden topic.
pub struct BannedTopics {
    names: Vec<String>,
    items: Vec<Item>,
    /// Every word of every term, lower-cased, and its id.
    vocab: HashMap<String, u32>,
    /// Word sequences (as ids), and what each counts for.
    seqs: Vec<(Vec<u32>, Vec<Use>)>,
    /// The sequences starting with each word id.
    by_first: Vec<Vec<usize>>,
    threshold: f64,
    window: usize,
    discount: bool,
}

fn bad_weight(w: f64) -> bool {
    !w.is_finite() || !(0.0..=100.0).contains(&w)
}

impl BannedTopics {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: BannedTopicsParams = params(v)?;
        if p.topics.is_empty() {
            return Err(ParamError::new("topics", "at least one topic"));
        }
        if !p.threshold.is_finite() || p.threshold <= 0.0 {
            return Err(ParamError::new("threshold", "a number above 0"));
        }
        if !(2..=200).contains(&p.window) {
            return Err(ParamError::new("window", "2 to 200 words"));
        }
        let mut b = Builder::default();
        let mut names = Vec::with_capacity(p.topics.len());
        for (t, topic) in p.topics.iter().enumerate() {
            let at = format!("topics[{t}]");
            if topic.name.trim().is_empty() {
                return Err(ParamError::new(format!("{at}.name"), "must not be empty"));
            }
            if bad_weight(topic.weight) {
                return Err(ParamError::new(format!("{at}.weight"), "0 to 100"));
            }
            if topic.terms.is_empty() && topic.phrases.is_empty() && topic.proximity.is_empty() {
                return Err(ParamError::new(
                    at,
                    "at least one of terms, phrases or proximity",
                ));
            }
            names.push(topic.name.clone());
            for (list, field, default) in [
                (&topic.terms, "terms", DEFAULT_TERM_WEIGHT),
                (&topic.phrases, "phrases", DEFAULT_PHRASE_WEIGHT),
            ] {
                for (i, w) in list.iter().enumerate() {
                    let (text, weight) = w.parts(default);
                    let here = format!("{at}.{field}[{i}]");
                    if bad_weight(weight) {
                        return Err(ParamError::new(format!("{here}.weight"), "0 to 100"));
                    }
                    let seq = b.seq(text, &here)?;
                    let item = b.items.len();
                    b.items.push(Item {
                        topic: t,
                        weight: weight * topic.weight,
                        near: None,
                    });
                    b.add(seq, Use::Item(item));
                }
            }
            for (i, near) in topic.proximity.iter().enumerate() {
                let here = format!("{at}.proximity[{i}]");
                if near.terms.len() < 2 {
                    return Err(ParamError::new(
                        format!("{here}.terms"),
                        "at least two terms",
                    ));
                }
                if near.within == 0 || near.within >= p.window {
                    return Err(ParamError::new(
                        format!("{here}.within"),
                        format!("1 to {} words (less than window)", p.window - 1),
                    ));
                }
                let weight = near.weight.unwrap_or(DEFAULT_PROXIMITY_WEIGHT);
                if bad_weight(weight) {
                    return Err(ParamError::new(format!("{here}.weight"), "0 to 100"));
                }
                let item = b.items.len();
                b.items.push(Item {
                    topic: t,
                    weight: weight * topic.weight,
                    near: Some((near.terms.len(), near.within)),
                });
                for (j, term) in near.terms.iter().enumerate() {
                    let seq = b.seq(term, &format!("{here}.terms[{j}]"))?;
                    b.add(seq, Use::Part { item, part: j });
                }
            }
        }
        let mut by_first = vec![Vec::new(); b.vocab.len()];
        for (i, (seq, _)) in b.seqs.iter().enumerate() {
            if let Some(&first) = seq.first() {
                by_first[first as usize].push(i);
            }
        }
        Ok(Box::new(BannedTopics {
            names,
            items: b.items,
            vocab: b.vocab,
            seqs: b.seqs,
            by_first,
            threshold: p.threshold,
            window: p.window,
            discount: p.discount,
        }))
    }

    /// The most bytes a window's hits stretch over.
    fn window_bytes(&self) -> usize {
        self.window * BYTES_PER_WORD
    }
}

#[derive(Default)]
struct Builder {
    items: Vec<Item>,
    vocab: HashMap<String, u32>,
    seqs: Vec<(Vec<u32>, Vec<Use>)>,
    seq_ids: HashMap<Vec<u32>, usize>,
}

impl Builder {
    /// A configured term's words as ids (new words added to the vocabulary).
    fn seq(&mut self, text: &str, at: &str) -> Result<Vec<u32>, ParamError> {
        let norm = crate::text::Normalized::new(text);
        let mut seq = Vec::new();
        let mut lower = String::new();
        for (a, b) in words(&norm.text) {
            if b - a > LONGEST_WORD {
                return Err(ParamError::new(
                    at,
                    format!("a word longer than {LONGEST_WORD} bytes"),
                ));
            }
            lowercase_into(&norm.text[a..b], &mut lower);
            let next = self.vocab.len() as u32;
            let id = *self.vocab.entry(lower.clone()).or_insert(next);
            seq.push(id);
        }
        if seq.is_empty() {
            return Err(ParamError::new(at, "no word in it"));
        }
        if seq.len() > 16 {
            return Err(ParamError::new(at, "at most 16 words"));
        }
        Ok(seq)
    }

    fn add(&mut self, seq: Vec<u32>, what: Use) {
        match self.seq_ids.get(&seq) {
            Some(&i) => self.seqs[i].1.push(what),
            None => {
                self.seq_ids.insert(seq.clone(), self.seqs.len());
                self.seqs.push((seq, vec![what]));
            }
        }
    }
}

fn lowercase_into(word: &str, out: &mut String) {
    out.clear();
    for c in word.chars() {
        out.extend(c.to_lowercase());
    }
}

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '\u{2019}'
}

/// The words of a text: runs of letters and digits, an apostrophe between letters joining
/// ("don't"), as byte ranges.
fn words(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || {
        let start = loop {
            let (i, c) = chars.next()?;
            if c.is_alphanumeric() {
                break i;
            }
        };
        let mut end = text.len();
        let mut prev_letter = true;
        while let Some(&(i, c)) = chars.peek() {
            if c.is_alphanumeric() {
                prev_letter = c.is_alphabetic();
                chars.next();
                continue;
            }
            if is_apostrophe(c) && prev_letter {
                let after = text[i + c.len_utf8()..].chars().next();
                if after.is_some_and(char::is_alphabetic) {
                    chars.next();
                    continue;
                }
            }
            end = i;
            break;
        }
        Some((start, end))
    })
}

// Flags of a word, for the cues.
const NEGATION: u8 = 1;
const FRAMING: u8 = 2;
const FIRST_PERSON: u8 = 4;
const YEAR: u8 = 8;
const TIME_PREP: u8 = 16;

fn flags(lower: &str) -> u8 {
    let negation = matches!(
        lower,
        "not" | "no" | "never" | "nor" | "neither" | "without" | "cannot"
    ) || lower.ends_with("n't")
        || lower.ends_with("n\u{2019}t");
    let framing = matches!(
        lower,
        "history"
            | "historical"
            | "historically"
            | "approved"
            | "approval"
            | "discovered"
            | "invented"
            | "introduced"
            | "patented"
            | "study"
            | "studies"
            | "studied"
            | "research"
            | "researchers"
            | "researcher"
            | "scientists"
            | "trial"
            | "trials"
            | "according"
            | "reported"
            | "reports"
            | "reporter"
            | "reporters"
            | "news"
            | "article"
            | "journal"
            | "published"
            | "textbook"
            | "encyclopedia"
            | "wikipedia"
            | "lecture"
            | "syllabus"
            | "century"
            | "centuries"
            | "decades"
            | "statistics"
            | "survey"
            | "documentary"
            | "novel"
    );
    let first_person = matches!(
        lower,
        "i" | "me"
            | "my"
            | "mine"
            | "myself"
            | "i'm"
            | "i\u{2019}m"
            | "i've"
            | "i\u{2019}ve"
            | "i'd"
            | "i\u{2019}d"
            | "i'll"
            | "i\u{2019}ll"
    );
    let year = lower.len() == 4
        && lower.bytes().all(|b| b.is_ascii_digit())
        && lower
            .parse::<u16>()
            .is_ok_and(|y| (1000..=2099).contains(&y));
    let prep = matches!(lower, "in" | "since" | "until" | "from" | "by");
    [
        (negation, NEGATION),
        (framing, FRAMING),
        (first_person, FIRST_PERSON),
        (year, YEAR),
        (prep, TIME_PREP),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .fold(0, |all, (_, flag)| all | flag)
}

struct Word {
    start: usize,
    end: usize,
    id: Option<u32>,
    flags: u8,
}

/// One place a term, phrase or proximity group was found.
struct Hit {
    item: usize,
    first: usize,
    last: usize,
    start: usize,
    end: usize,
    /// The bytes read around it for cues.
    ctx: (usize, usize),
    weight: f64,
}

/// Where the sentence around `start..end` begins and ends, reading at most `CONTEXT` bytes
/// on each side.
fn sentence(text: &str, start: usize, end: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    let lo = start.saturating_sub(CONTEXT);
    let mut from = lo;
    let mut i = start;
    while i > lo {
        i -= 1;
        let b = bytes[i];
        let ends = b == b'\n'
            || (matches!(b, b'.' | b'!' | b'?')
                && bytes.get(i + 1).is_some_and(u8::is_ascii_whitespace));
        if ends {
            from = i + 1;
            break;
        }
    }
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let hi = (end + CONTEXT).min(text.len());
    let mut to = hi;
    for (i, &b) in bytes.iter().enumerate().take(hi).skip(end) {
        let ends = b == b'\n'
            || (matches!(b, b'.' | b'!' | b'?')
                && bytes.get(i + 1).is_none_or(u8::is_ascii_whitespace));
        if ends {
            to = i;
            break;
        }
    }
    while !text.is_char_boundary(to) {
        to -= 1;
    }
    (from, to.max(from))
}

fn opening_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201C}' | '\u{201E}' | '\u{AB}')
}

fn closing_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201D}' | '\u{201C}' | '\u{BB}')
}

fn any_quote(c: char) -> bool {
    opening_quote(c) || closing_quote(c)
}

/// Between quotation marks within its sentence.
fn quoted(text: &str, hit: &Hit) -> bool {
    let before = text[hit.ctx.0..hit.start]
        .chars()
        .rev()
        .find(|c| any_quote(*c));
    let after = text[hit.end..hit.ctx.1].chars().find(|c| any_quote(*c));
    before.is_some_and(opening_quote) && after.is_some_and(closing_quote)
}

impl BannedTopics {
    fn words(&self, text: &str) -> Vec<Word> {
        let mut out = Vec::new();
        let mut lower = String::new();
        for (start, end) in words(text) {
            let w = &text[start..end];
            if w.len() > LONGEST_WORD {
                out.push(Word {
                    start,
                    end,
                    id: None,
                    flags: 0,
                });
                continue;
            }
            lowercase_into(w, &mut lower);
            let id = self.vocab.get(lower.as_str()).copied().or_else(|| {
                // A plural: "doses" for "dose", "boxes" for "box" (not "is", "glass").
                if lower.len() < 4 || lower.ends_with("ss") {
                    return None;
                }
                let one = lower.strip_suffix('s')?;
                self.vocab
                    .get(one)
                    .or_else(|| self.vocab.get(one.strip_suffix('e')?))
                    .copied()
            });
            out.push(Word {
                start,
                end,
                id,
                flags: flags(&lower),
            });
        }
        out
    }

    /// Every hit of every item, in the order of the words they end on.
    fn hits(&self, words: &[Word]) -> Vec<Hit> {
        let mut hits = Vec::new();
        // A proximity item's parts: the latest place each was found (first word, last word).
        let mut latest: HashMap<usize, Vec<Option<(usize, usize)>>> = HashMap::new();
        let limit = self.window_bytes();
        for (w, word) in words.iter().enumerate() {
            let Some(id) = word.id else { continue };
            for &s in &self.by_first[id as usize] {
                let (seq, uses) = &self.seqs[s];
                let last = w + seq.len() - 1;
                let fits = words
                    .get(w..=last)
                    .is_some_and(|ws| ws.iter().zip(seq).all(|(a, b)| a.id == Some(*b)));
                if !fits {
                    continue;
                }
                for u in uses {
                    match *u {
                        Use::Item(item) => hits.push(Hit {
                            item,
                            first: w,
                            last,
                            start: word.start,
                            end: words[last].end,
                            ctx: (0, 0),
                            weight: 0.0,
                        }),
                        Use::Part { item, part } => {
                            let Some((n, within)) = self.items[item].near else {
                                continue;
                            };
                            let seen = latest.entry(item).or_insert_with(|| vec![None; n]);
                            seen[part] = Some((w, last));
                            let Some(places) = seen.iter().copied().collect::<Option<Vec<_>>>()
                            else {
                                continue;
                            };
                            let first = places.iter().map(|p| p.0).min().unwrap_or(w);
                            let end_word = places.iter().map(|p| p.1).max().unwrap_or(last);
                            // From the end of the earliest part to the start of the latest.
                            let earliest_end = places.iter().map(|p| p.1).min().unwrap_or(last);
                            let latest_start = places.iter().map(|p| p.0).max().unwrap_or(w);
                            let start = words[first].start;
                            let end = words[end_word].end;
                            if latest_start.saturating_sub(earliest_end) <= within
                                && end - start <= limit
                            {
                                hits.push(Hit {
                                    item,
                                    first,
                                    last: end_word,
                                    start,
                                    end,
                                    ctx: (0, 0),
                                    weight: 0.0,
                                });
                            }
                        }
                    }
                }
            }
        }
        hits.sort_by_key(|h| (h.last, h.end, h.start));
        hits
    }

    /// A hit's weight once its sentence is read: nothing after a negation, half in quotation
    /// marks or in a sentence that reports or teaches (unless the writer speaks of themselves).
    fn weigh(&self, text: &str, words: &[Word], hit: &mut Hit) {
        hit.weight = self.items[hit.item].weight;
        if !self.discount {
            hit.ctx = (hit.start, hit.end);
            return;
        }
        hit.ctx = sentence(text, hit.start, hit.end);
        let (from, to) = hit.ctx;
        // Negation: within the few words before, in the same clause.
        let mut j = hit.first;
        for _ in 0..NEGATION_REACH {
            if j == 0 || words[j - 1].start < from {
                break;
            }
            let gap = &text[words[j - 1].end..words[j].start];
            if gap.contains([',', ';', ':']) {
                break;
            }
            j -= 1;
            if words[j].flags & NEGATION != 0 {
                hit.weight = 0.0;
                return;
            }
        }
        if quoted(text, hit) {
            hit.weight *= DISCOUNT;
        }
        let mut all = 0u8;
        let mut dated = false;
        let mut k = hit.first;
        while k > 0 && words[k - 1].start >= from {
            k -= 1;
        }
        let mut prev = 0u8;
        for word in words[k..].iter().take_while(|w| w.end <= to) {
            all |= word.flags;
            dated |= word.flags & YEAR != 0 && prev & TIME_PREP != 0;
            prev = word.flags;
        }
        if (all & FRAMING != 0 || dated) && all & FIRST_PERSON == 0 {
            hit.weight *= DISCOUNT;
        }
    }
}

impl Check for BannedTopics {
    fn id(&self) -> &'static str {
        "banned_topics"
    }

    fn sources(&self) -> &'static [Source] {
        SOURCES
    }

    fn span(&self) -> Span {
        // A window's hits, the sentence read around each, and a word cut at a window's edge.
        Span::Bytes(self.window_bytes() + 2 * CONTEXT + 2 * LONGEST_WORD)
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let text = &s.norm.text;
        let words = self.words(text);
        let mut hits = self.hits(&words);
        if hits.is_empty() {
            return;
        }
        for h in &mut hits {
            self.weigh(text, &words, h);
        }
        let limit = self.window_bytes();
        // Per topic: each window ending at a hit, its score the sum of its items' best weights.
        let mut best = vec![0.0f64; self.items.len()];
        let mut touched: Vec<usize> = Vec::new();
        for (topic, name) in self.names.iter().enumerate() {
            let mine: Vec<&Hit> = hits
                .iter()
                .filter(|h| self.items[h.item].topic == topic && h.weight > 0.0)
                .collect();
            // The findings made for this topic: (span in the copy, score).
            let mut found: Vec<((usize, usize), f64)> = Vec::new();
            for (i, h) in mine.iter().enumerate() {
                let oldest = (h.last + 1).saturating_sub(self.window);
                let mut score = 0.0;
                let mut span = h.ctx;
                for g in mine[..=i].iter().rev() {
                    if g.last < oldest {
                        break;
                    }
                    if g.first < oldest || h.end.saturating_sub(g.start) > limit {
                        continue;
                    }
                    let b = &mut best[g.item];
                    if *b == 0.0 {
                        touched.push(g.item);
                    }
                    if g.weight > *b {
                        score += g.weight - *b;
                        *b = g.weight;
                    }
                    span = (span.0.min(g.ctx.0), span.1.max(g.ctx.1));
                }
                for t in touched.drain(..) {
                    best[t] = 0.0;
                }
                if score + 1e-9 < self.threshold {
                    continue;
                }
                match found.last_mut() {
                    // The same window grown by a later hit: one finding.
                    Some(last) if last.0 .0 == span.0 => {
                        last.0 .1 = last.0 .1.max(span.1);
                        last.1 = last.1.max(score);
                    }
                    _ => found.push((span, score)),
                }
            }
            for ((a, b), score) in found {
                out.push(Finding {
                    span: Some(s.raw_range(a..b)),
                    label: name.clone().into(),
                    score: (score / (2.0 * self.threshold)).clamp(0.5, 1.0) as f32,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::checks::testing::{fires, fires_on, spans};
    use serde_json::{json, Value};

    /// Personal dosing: a drug name alone, or a dosing question alone, is not enough.
    fn dosing() -> Value {
        json!({"topics": [{
            "name": "personal dosing",
            "terms": ["warfarin", "ibuprofen", "paracetamol", "insulin"],
            "phrases": [
                {"text": "what dose", "weight": 0.5},
                {"text": "should I take", "weight": 0.5},
                {"text": "how many mg", "weight": 0.5}
            ],
            "proximity": [{"terms": ["dose", "my"], "within": 3}]
        }]})
    }

    #[test]
    fn fires_on_a_personal_dosing_question_not_on_history() {
        let p = dosing();
        let f = fires_on("banned_topics", &p, "what dose of warfarin should I take");
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].label, "personal dosing");
        assert!(fires(
            "banned_topics",
            &p,
            "How many mg of Ibuprofen should I take?"
        ));
        // Proximity: "my" and "dose" within three words, plus a drug.
        assert!(fires(
            "banned_topics",
            &p,
            "Can you double my insulin dose tonight"
        ));
        assert!(!fires("banned_topics", &p, "warfarin was approved in 1954"));
        assert!(!fires(
            "banned_topics",
            &p,
            "what dose of paint does a wall need?"
        ));
        assert!(!fires(
            "banned_topics",
            &p,
            "Ibuprofen is common in many homes."
        ));
    }

    #[test]
    fn hits_must_share_a_window_of_words() {
        let p = dosing();
        let filler = " and then the weather".repeat(10);
        let far = format!("warfarin{filler} should I take");
        assert!(!fires("banned_topics", &p, &far));
        let near = "warfarin, should I take it?";
        assert!(fires("banned_topics", &p, near));
        let mut wide = dosing();
        wide["window"] = json!(60);
        assert!(fires("banned_topics", &wide, &far));
        // The same item twice counts once.
        assert!(!fires(
            "banned_topics",
            &p,
            "warfarin warfarin warfarin warfarin"
        ));
    }

    #[test]
    fn negation_quotation_and_reporting_lower_the_weight() {
        let p = dosing();
        let mut flat = dosing();
        flat["discount"] = json!(false);
        for text in [
            // Negated: "what dose" counts for nothing.
            "I would never ask what dose of warfarin to take",
            // A report: a study, a year in history.
            "The study asked what dose of warfarin patients take.",
            "In 1954 doctors debated what dose of warfarin to use.",
            // Quoted.
            "The headline \u{201C}what dose of warfarin\u{201D} ran today.",
        ] {
            assert!(!fires("banned_topics", &p, text), "{text}");
            assert!(fires("banned_topics", &flat, text), "{text}");
        }
        // The writer speaking of themselves is not a report, even next to one.
        assert!(fires(
            "banned_topics",
            &p,
            "The study is old; what dose of warfarin should I take?"
        ));
        assert!(fires(
            "banned_topics",
            &p,
            "A study I read: what dose of warfarin should I take?"
        ));
        // A negation in another clause does not reach.
        assert!(fires(
            "banned_topics",
            &p,
            "No, what dose of warfarin should I take"
        ));
    }

    #[test]
    fn the_span_covers_the_window_and_plurals_match() {
        let p = dosing();
        let text = "Hello there. What doses of warfarin should I take? Thanks";
        let s = spans("banned_topics", &p, text);
        assert_eq!(s.len(), 1);
        assert!(
            s[0].contains("What doses of warfarin should I take"),
            "{s:?}"
        );
        assert!(!s[0].contains("Hello"), "{s:?}");
        let one = |w: &str| json!({"text": w, "weight": 1});
        let p = json!({"topics": [{"name": "t", "terms": [one("dose"), one("box"), one("i")]}]});
        assert!(fires("banned_topics", &p, "two Doses"));
        assert!(fires("banned_topics", &p, "three boxes"));
        // "is" is not a plural of "i".
        assert!(!fires("banned_topics", &p, "this is it"));
    }

    #[test]
    fn topics_are_labelled_separately_and_weights_scale() {
        let p = json!({"topics": [
            {"name": "weapons", "terms": [{"text": "pipe bomb", "weight": 1}]},
            {"name": "gambling", "terms": ["casino", "bet"], "weight": 2}
        ]});
        let f = fires_on(
            "banned_topics",
            &p,
            "build a pipe bomb then bet at the casino",
        );
        let labels: Vec<&str> = f.iter().map(|f| f.label.as_ref()).collect();
        assert_eq!(labels, vec!["weapons", "gambling"]);
        assert!(fires("banned_topics", &p, "one bet"));
        assert!(!fires("banned_topics", &p, "the pipe is a bomb"));
        let mut high = p.clone();
        high["threshold"] = json!(2);
        assert!(!fires("banned_topics", &high, "one bet"));
        assert!(fires("banned_topics", &high, "one bet at the casino"));
    }

    #[test]
    fn bad_parameters_name_the_field() {
        let path = |v: Value| {
            crate::catalogue::build("banned_topics", &v)
                .err()
                .unwrap()
                .path
        };
        assert_eq!(path(json!({"topics": []})), "topics");
        assert_eq!(path(json!({"topics": [{"name": "x"}]})), "topics[0]");
        assert_eq!(
            path(json!({"topics": [{"name": "x", "terms": ["a", "!!"]}]})),
            "topics[0].terms[1]"
        );
        assert_eq!(
            path(json!({"topics": [{"name": "x", "proximity": [{"terms": ["a"]}]}]})),
            "topics[0].proximity[0].terms"
        );
        assert_eq!(
            path(
                json!({"topics": [{"name": "x", "proximity": [{"terms": ["a", "b"], "within": 40}]}]})
            ),
            "topics[0].proximity[0].within"
        );
        assert_eq!(
            path(json!({"topics": [{"name": "x", "terms": ["a"], "colour": 1}]})),
            "topics[0].colour"
        );
        assert_eq!(
            path(json!({"topics": [{"name": "x", "terms": [{"text": "a", "weight": -1}]}]})),
            "topics[0].terms[0].weight"
        );
        assert_eq!(
            path(json!({"topics": [{"name": "x", "terms": ["a"]}], "threshold": 0})),
            "threshold"
        );
    }

    #[test]
    fn long_and_repetitive_text_is_bounded() {
        let p = dosing();
        let text = "what dose of warfarin should I take ".repeat(3000);
        let started = std::time::Instant::now();
        let f = fires_on("banned_topics", &p, &text);
        assert!(!f.is_empty());
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        if let crate::check::Span::Bytes(n) =
            crate::catalogue::build("banned_topics", &p).unwrap().span()
        {
            assert!(f.iter().all(|f| f.span.as_ref().unwrap().len() <= n));
        } else {
            panic!("banned_topics needs a bounded span");
        }
    }
}
