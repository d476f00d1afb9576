//! Personal data, validated: e-mail addresses, phone numbers, payment cards, IBANs, national
//! identifiers (each with its check digits), IP addresses and crypto addresses. A candidate
//! found by its shape fires only when its checksum, prefixes, lengths and ranges hold, so that
//! order numbers, dates, versions and hashes pass.

use crate::catalogue::Entry;
use crate::check::{params, Check, Finding, ParamError, Source, Span, Subject};
use regex::Regex;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sha3::Keccak256;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;

pub const CHECKS: &[Entry] = &[
    Entry {
        id: "email",
        family: "pii",
        summary: "e-mail addresses (dot-atom local part, real top-level domain shape)",
        build: Email::build,
    },
    Entry {
        id: "phone",
        family: "pii",
        summary: "phone numbers: international (+country code) and national formats by region",
        build: Phone::build,
    },
    Entry {
        id: "payment_card",
        family: "pii",
        summary: "payment card numbers (Luhn, brand prefixes and lengths)",
        build: PaymentCard::build,
    },
    Entry {
        id: "iban",
        family: "pii",
        summary: "IBANs (country length, ISO 7064 mod 97)",
        build: IbanCheck::build,
    },
    Entry {
        id: "us_ssn",
        family: "pii",
        summary: "US Social Security numbers and ITINs (never-issued ranges rejected)",
        build: UsSsn::build,
    },
    Entry {
        id: "uk_nhs",
        family: "pii",
        summary: "UK NHS numbers (mod 11 check digit)",
        build: UkNhs::build,
    },
    Entry {
        id: "es_dni_nie",
        family: "pii",
        summary: "Spanish DNI and NIE numbers (check letter)",
        build: EsDniNie::build,
    },
    Entry {
        id: "in_aadhaar",
        family: "pii",
        summary: "Indian Aadhaar numbers (Verhoeff check digit)",
        build: InAadhaar::build,
    },
    Entry {
        id: "br_cpf",
        family: "pii",
        summary: "Brazilian CPF numbers, optionally CNPJ (check digits)",
        build: BrCpf::build,
    },
    Entry {
        id: "national_ids_more",
        family: "pii",
        summary:
            "Canadian SIN, Dutch BSN, Polish PESEL, Chinese resident id, US ABA routing, Indian PAN",
        build: NationalIdsMore::build,
    },
    Entry {
        id: "ip_address",
        family: "pii",
        summary:
            "IPv4 and IPv6 addresses, optionally without private, loopback or documentation ranges",
        build: IpAddress::build,
    },
    Entry {
        id: "crypto_address",
        family: "pii",
        summary: "Bitcoin (base58check, bech32, bech32m) and Ethereum (EIP-55) addresses",
        build: CryptoAddress::build,
    },
];

/// Requests and answers, not tool traffic.
const IO: &[Source] = &[Source::Input, Source::Output];

/// How far before a number its context words are looked for, in bytes.
const CONTEXT: usize = 48;

/// Compiles one of this file's own patterns.
fn pattern(p: &str) -> Result<Regex, ParamError> {
    Regex::new(p).map_err(|e| ParamError::new("", format!("internal pattern: {e}")))
}

/// Parameters that take none.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoParams {}

// ---------------------------------------------------------------------------------------------
// Boundaries and context
// ---------------------------------------------------------------------------------------------

fn prev_char(text: &str, at: usize) -> Option<char> {
    text.get(..at)?.chars().next_back()
}

fn next_char(text: &str, at: usize) -> Option<char> {
    text.get(at..)?.chars().next()
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Nothing glued on the left of a token starting at `at`: no letter or digit, and no `.`, `-`
/// or `/` joining it to one (`ref-123`, `v1.2`), no `,` or `:` after a digit (`1,234`, `12:30`),
/// no `+` (a phone's country code).
fn free_before(text: &str, at: usize) -> bool {
    match prev_char(text, at) {
        None => true,
        Some(c) if is_word(c) || c == '+' => false,
        Some(c @ ('.' | '-' | '/')) => !prev_char(text, at - c.len_utf8()).is_some_and(is_word),
        Some(c @ (',' | ':')) => {
            !prev_char(text, at - c.len_utf8()).is_some_and(|d| d.is_ascii_digit())
        }
        Some(_) => true,
    }
}

/// Nothing glued on the right of a token ending at `at` (the mirror of `free_before`).
fn free_after(text: &str, at: usize) -> bool {
    match next_char(text, at) {
        None => true,
        Some(c) if is_word(c) => false,
        Some(c @ ('.' | '-' | '/')) => !next_char(text, at + c.len_utf8()).is_some_and(is_word),
        Some(c @ (',' | ':')) => {
            !next_char(text, at + c.len_utf8()).is_some_and(|d| d.is_ascii_digit())
        }
        Some(_) => true,
    }
}

/// Lower-cased words (or phrases) to look for before a candidate.
fn lower_words(words: &[String], field: &str) -> Result<Vec<String>, ParamError> {
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let w = w.trim().to_lowercase();
            if w.is_empty() {
                Err(ParamError::new(
                    format!("{field}[{i}]"),
                    "must not be empty",
                ))
            } else {
                Ok(w)
            }
        })
        .collect()
}

/// Whether one of `words` (lower case) stands as a whole word in the `CONTEXT` bytes before
/// `at`.
fn context_before<S: AsRef<str>>(text: &str, at: usize, words: &[S]) -> bool {
    context_within(text, at, CONTEXT, words)
}

/// Whether one of `words` stands as a whole word in the `bytes` before `at`.
fn context_within<S: AsRef<str>>(text: &str, at: usize, bytes: usize, words: &[S]) -> bool {
    let at = at.min(text.len());
    let from = text.ceil_char_boundary(at.saturating_sub(bytes));
    let Some(window) = text.get(from..at) else {
        return false;
    };
    let window = window.to_lowercase();
    words.iter().any(|w| has_word(&window, w.as_ref()))
}

/// Whether `word` occurs in `hay` with no letter or digit on either side.
fn has_word(hay: &str, word: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    let mut from = 0;
    while let Some(i) = hay.get(from..).and_then(|h| h.find(word)) {
        let start = from + i;
        let end = start + word.len();
        if !prev_char(hay, start).is_some_and(char::is_alphanumeric)
            && !next_char(hay, end).is_some_and(char::is_alphanumeric)
        {
            return true;
        }
        from = start + word.chars().next().map_or(1, char::len_utf8);
    }
    false
}

/// Whether every digit is the same (all-zero and similar numbers pass most checksums).
fn all_same(d: &[u8]) -> bool {
    d.windows(2).all(|w| w.first() == w.last())
}

/// `d` read as a decimal number (at most 18 digits matter).
fn number(d: &[u8]) -> u64 {
    d.iter()
        .fold(0u64, |n, x| n.wrapping_mul(10).wrapping_add(u64::from(*x)))
}

fn set<S: AsRef<str>>(
    given: Option<Vec<String>>,
    known: &[S],
    field: &str,
    what: &str,
) -> Result<Vec<String>, ParamError> {
    let Some(given) = given else {
        return Ok(known.iter().map(|k| k.as_ref().to_owned()).collect());
    };
    if given.is_empty() {
        return Err(ParamError::new(field, format!("at least one {what}")));
    }
    let mut out = Vec::with_capacity(given.len());
    for (i, g) in given.iter().enumerate() {
        let g = g.trim().to_ascii_lowercase();
        match known.iter().find(|k| k.as_ref().eq_ignore_ascii_case(&g)) {
            Some(k) => out.push(k.as_ref().to_owned()),
            None => {
                let names: Vec<&str> = known.iter().map(AsRef::as_ref).collect();
                return Err(ParamError::new(
                    format!("{field}[{i}]"),
                    format!("unknown {what} \"{g}\"; known: {}", names.join(", ")),
                ));
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Digit runs: groups of digits joined by single separators, read in windows
// ---------------------------------------------------------------------------------------------

/// One group of digits in a run, possibly in parentheses (`(202)`).
struct Group {
    /// Its bytes in the text, parentheses included.
    start: usize,
    end: usize,
    /// Its digits in the run's `digits`.
    d: Range<usize>,
    paren: bool,
    /// The separator before it (` `, `-`, `.`, `/`), 0 when none (first group, or next to a
    /// parenthesis).
    sep: u8,
}

/// Digit groups joined by single separators: `4111 1111 1111 1111`, `+1 (202) 555-0143`.
struct Run {
    /// It starts with `+` (part of the first window only).
    plus: bool,
    start: usize,
    /// Nothing glued before it, or after it.
    left_ok: bool,
    right_ok: bool,
    groups: Vec<Group>,
    digits: Vec<u8>,
}

/// Where the group at `i` ends, if a group starts there: digits, or digits in parentheses.
fn group_at(b: &[u8], i: usize) -> Option<(usize, bool)> {
    let paren = b.get(i) == Some(&b'(');
    let from = i + usize::from(paren);
    let n = b
        .get(from..)
        .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count());
    if n == 0 {
        return None;
    }
    let end = from + n;
    if paren {
        (b.get(end) == Some(&b')')).then_some((end + 1, true))
    } else {
        Some((end, false))
    }
}

fn is_sep(c: u8) -> bool {
    matches!(c, b' ' | b'-' | b'.' | b'/')
}

/// Every run of digit groups in `text`, in one pass.
fn digit_runs(text: &str) -> Vec<Run> {
    let b = text.as_bytes();
    let mut runs = Vec::new();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let plus =
            c == b'+' && group_at(b, i + 1).is_some() && !prev_char(text, i).is_some_and(is_word);
        if !plus && group_at(b, i).is_none() {
            i += 1;
            continue;
        }
        let start = i;
        if plus {
            i += 1;
        }
        let mut run = Run {
            plus,
            start,
            left_ok: if plus { true } else { free_before(text, start) },
            right_ok: true,
            groups: Vec::new(),
            digits: Vec::new(),
        };
        let mut sep = 0u8;
        while let Some((end, paren)) = group_at(b, i) {
            let from = i + usize::from(paren);
            let to = end - usize::from(paren);
            let d0 = run.digits.len();
            run.digits
                .extend(b.get(from..to).unwrap_or(&[]).iter().map(|c| c - b'0'));
            run.groups.push(Group {
                start: i,
                end,
                d: d0..run.digits.len(),
                paren,
                sep,
            });
            i = end;
            let next = b.get(i).copied().unwrap_or(0);
            // A parenthesised group follows a separator only as a phone's area code: after a
            // country code (`+1 (202)`, `1 (202)`, `+44 (0)20`).
            let joins = |at: usize| match group_at(b, at) {
                Some((_, false)) => true,
                Some((_, true)) => run.plus || run.digits.len() <= 3,
                None => false,
            };
            if is_sep(next) && joins(i + 1) {
                sep = next;
                i += 1;
            } else if (paren || next == b'(') && group_at(b, i).is_some() {
                sep = 0;
            } else {
                break;
            }
        }
        // `(4111111111111111)`: parentheses around a lone number are delimiters.
        if let [g] = run.groups.as_mut_slice() {
            if g.paren && !run.plus {
                g.start += 1;
                g.end -= 1;
                g.paren = false;
                run.start = g.start;
                run.left_ok = true;
                run.right_ok = true;
                runs.push(run);
                continue;
            }
        }
        run.right_ok = free_after(text, i);
        runs.push(run);
    }
    runs
}

/// How a window's groups are separated.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Seps {
    /// One group: no separator.
    One,
    /// All the same.
    Same(u8),
    /// Different ones (or a parenthesis with none).
    Mixed,
}

/// Consecutive groups of a run, as a candidate.
struct Win<'a> {
    groups: &'a [Group],
    digits: &'a [u8],
    /// The run's `+` is in the window.
    plus: bool,
    /// Where it starts in the text (the `+` when in it).
    start: usize,
}

impl Win<'_> {
    fn seps(&self) -> Seps {
        let mut inner = self.groups.iter().skip(1).map(|g| g.sep);
        match inner.next() {
            None => Seps::One,
            Some(first) if first != 0 && inner.all(|s| s == first) => Seps::Same(first),
            Some(_) => Seps::Mixed,
        }
    }

    /// Whether the groups have exactly these lengths.
    fn layout(&self, lens: &[usize]) -> bool {
        self.groups.len() == lens.len()
            && self.groups.iter().zip(lens).all(|(g, n)| g.d.len() == *n)
    }

    /// No `+` and no parentheses: a plain number.
    fn plain(&self) -> bool {
        !self.plus && self.groups.iter().all(|g| !g.paren)
    }

    fn len_bytes(&self) -> usize {
        self.groups.last().map_or(0, |g| g.end) - self.start
    }
}

/// The windows `accept` takes, leftmost then longest, not overlapping, as text ranges with what
/// `accept` returned. A window inside a run is separated from its neighbours by spaces, and one
/// whose groups are themselves separated by spaces must be the whole run (no `1234 5678 9012`
/// taken out of a longer spaced number).
fn digit_windows<L>(
    text: &str,
    max_digits: usize,
    mut accept: impl FnMut(&Win<'_>) -> Option<L>,
) -> Vec<(Range<usize>, L)> {
    let mut found = Vec::new();
    for run in digit_runs(text) {
        let n = run.groups.len();
        let mut i = 0;
        while i < n {
            let mut best = None;
            let Some(first) = run.groups.get(i) else {
                break;
            };
            let left = if i == 0 {
                run.left_ok
            } else {
                first.sep == b' '
            };
            if left {
                for j in i + 1..=n {
                    let Some(last) = run.groups.get(j - 1) else {
                        break;
                    };
                    if last.d.end - first.d.start > max_digits {
                        break;
                    }
                    let right = match run.groups.get(j) {
                        None => run.right_ok,
                        Some(g) => g.sep == b' ',
                    };
                    if !right {
                        continue;
                    }
                    let plus = i == 0 && run.plus;
                    let win = Win {
                        groups: run.groups.get(i..j).unwrap_or(&[]),
                        digits: run.digits.get(first.d.start..last.d.end).unwrap_or(&[]),
                        plus,
                        start: if plus { run.start } else { first.start },
                    };
                    if win.seps() == Seps::Same(b' ') && (i > 0 || j < n) {
                        continue;
                    }
                    if let Some(l) = accept(&win) {
                        best = Some((win.start..last.end, j, l));
                    }
                }
            }
            match best {
                Some((r, j, l)) => {
                    found.push((r, l));
                    i = j;
                }
                None => i += 1,
            }
        }
    }
    found
}

// ---------------------------------------------------------------------------------------------
// Checksums
// ---------------------------------------------------------------------------------------------

/// Luhn: from the right, every second digit doubled (minus 9 above 9); the sum ends in 0.
fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, x)| {
            let x = u32::from(*x);
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 {
                    y - 9
                } else {
                    y
                }
            } else {
                x
            }
        })
        .sum();
    !d.is_empty() && sum.is_multiple_of(10)
}

/// The dihedral group D5's product, as Verhoeff's scheme numbers its elements.
fn d5(j: u8, k: u8) -> u8 {
    let (j, k) = (i32::from(j), i32::from(k));
    let r = match (j < 5, k < 5) {
        (true, true) => (j + k).rem_euclid(5),
        (true, false) => 5 + (j + k).rem_euclid(5),
        (false, true) => 5 + (j - k).rem_euclid(5),
        (false, false) => (j - k).rem_euclid(5),
    };
    r as u8
}

/// Verhoeff's position permutation (1 5 8 9 4 2 7 0)(3 6), applied `times` times.
fn verhoeff_p(times: usize, x: u8) -> u8 {
    const SIGMA: [u8; 10] = [1, 5, 7, 6, 2, 8, 3, 0, 9, 4];
    (0..times % 8).fold(x, |x, _| SIGMA.get(usize::from(x)).copied().unwrap_or(x))
}

/// Verhoeff: the check digit last; catches every single-digit error and adjacent swap.
fn verhoeff(d: &[u8]) -> bool {
    !d.is_empty()
        && d.iter()
            .rev()
            .enumerate()
            .fold(0u8, |c, (i, x)| d5(c, verhoeff_p(i, *x)))
            == 0
}

fn weighted(d: &[u8], w: &[u32]) -> u32 {
    d.iter().zip(w).map(|(x, w)| u32::from(*x) * w).sum()
}

fn leap(y: u32) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn valid_date(y: u32, m: u32, d: u32) -> bool {
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap(y) => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// The two digits at `at` as a number (99 past the end).
fn two(d: &[u8], at: usize) -> u32 {
    match d.get(at..at + 2) {
        Some([a, b]) => u32::from(*a) * 10 + u32::from(*b),
        _ => 99,
    }
}

// ---------------------------------------------------------------------------------------------
// email
// ---------------------------------------------------------------------------------------------

/// A practical dot-atom: letters, digits and `_ % + -` in dot-separated atoms; labels of letters,
/// digits and inner hyphens; a top-level domain of letters (or an `xn--` label). Lengths are
/// checked after the match.
const EMAIL: &str = r"[\p{L}\p{N}_%+\-]+(?:\.[\p{L}\p{N}_%+\-]+)*@(?:[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?\.)+(?:[xX][nN]--[a-zA-Z0-9\-]+|\p{L}{2,})";

/// File extensions that are no top-level domain: `icon@2x.png`, `pkg@next.js`.
const NOT_TLDS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "svg", "webp", "avif", "bmp", "ico", "tif", "tiff", "heic", "css",
    "scss", "js", "mjs", "cjs", "ts", "tsx", "jsx", "json", "yaml", "yml", "toml", "txt", "html",
    "htm", "xml", "pdf", "wasm",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailParams {
    #[serde(default)]
    allow_domains: Vec<String>,
}

/// E-mail addresses.
pub struct Email {
    re: Regex,
    /// Lower case, no leading `@` or `.`.
    allow: Vec<String>,
}

impl Email {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: EmailParams = params(v)?;
        let mut allow = Vec::with_capacity(p.allow_domains.len());
        for (i, d) in p.allow_domains.iter().enumerate() {
            let d = d.trim().trim_start_matches(['@', '.']).to_lowercase();
            if d.is_empty() || d.contains(char::is_whitespace) || d.contains('@') {
                return Err(ParamError::new(
                    format!("allow_domains[{i}]"),
                    "a domain such as example.com",
                ));
            }
            allow.push(d);
        }
        Ok(Box::new(Email {
            re: pattern(EMAIL)?,
            allow,
        }))
    }

    fn valid(&self, text: &str, r: Range<usize>) -> bool {
        let Some(s) = text.get(r.clone()) else {
            return false;
        };
        let Some((local, domain)) = s.rsplit_once('@') else {
            return false;
        };
        if local.len() > 64 || s.len() > 254 || domain.split('.').any(|l| l.len() > 63) {
            return false;
        }
        let tld = domain.rsplit('.').next().unwrap_or("");
        let idn = tld.len() > 4 && tld.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("xn--"));
        if !idn
            && (tld.chars().count() > 63 || NOT_TLDS.iter().any(|x| x.eq_ignore_ascii_case(tld)))
        {
            return false;
        }
        // `ssh://git@host/...`, `https://user@host`: a URL's user, not an address.
        if text.get(..r.start).is_some_and(|b| b.ends_with("://")) {
            return false;
        }
        match next_char(text, r.end) {
            Some(c) if is_word(c) || c == '-' || c == '@' => return false,
            // `git@github.com:org/repo`: an scp-style remote.
            Some(':') if next_char(text, r.end + 1).is_some_and(|c| !c.is_whitespace()) => {
                return false
            }
            _ => {}
        }
        if prev_char(text, r.start) == Some('@') {
            return false;
        }
        let domain = domain.to_lowercase();
        !self.allow.iter().any(|a| {
            domain == *a
                || (domain.len() > a.len()
                    && domain.ends_with(a.as_str())
                    && domain.as_bytes().get(domain.len() - a.len() - 1) == Some(&b'.'))
        })
    }
}

impl Check for Email {
    fn id(&self) -> &'static str {
        "email"
    }

    fn span(&self) -> Span {
        Span::Bytes(254)
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let text = &s.norm.text;
        for m in self.re.find_iter(text) {
            if self.valid(text, m.range()) {
                out.push(Finding::at(s.raw_range(m.range()), "email"));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// phone
// ---------------------------------------------------------------------------------------------

/// Regions with national formats.
const REGIONS: &[&str] = &["us", "ca", "gb", "fr", "de", "in", "au", "br"];

/// The longest phone number, separators included.
const PHONE_BYTES: usize = 32;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PhoneParams {
    regions: Option<Vec<String>>,
    #[serde(default)]
    require_plus: bool,
    #[serde(default = "eight")]
    min_digits: usize,
}

fn eight() -> usize {
    8
}

/// Phone numbers.
pub struct Phone {
    nanp: bool,
    gb: bool,
    fr: bool,
    de: bool,
    india: bool,
    au: bool,
    br: bool,
    require_plus: bool,
    min_digits: usize,
}

/// A NANP number's ten digits: area code and exchange start 2–9, neither is N11.
fn nanp(d: &[u8]) -> bool {
    match d {
        [a, a1, a2, e, e1, e2, _, _, _, _] => {
            *a >= 2 && *e >= 2 && !(*a1 == 1 && *a2 == 1) && !(*e1 == 1 && *e2 == 1)
        }
        _ => false,
    }
}

impl Phone {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: PhoneParams = params(v)?;
        let given = p.regions.map(|r| {
            r.into_iter()
                .map(|x| {
                    if x.eq_ignore_ascii_case("uk") {
                        "gb".to_owned()
                    } else {
                        x
                    }
                })
                .collect()
        });
        let regions = set(given, REGIONS, "regions", "region")?;
        if !(4..=15).contains(&p.min_digits) {
            return Err(ParamError::new("min_digits", "from 4 to 15"));
        }
        let has = |r: &str| regions.iter().any(|x| x == r);
        Ok(Box::new(Phone {
            nanp: has("us") || has("ca"),
            gb: has("gb"),
            fr: has("fr"),
            de: has("de"),
            india: has("in"),
            au: has("au"),
            br: has("br"),
            require_plus: p.require_plus,
            min_digits: p.min_digits,
        }))
    }

    fn valid(&self, w: &Win<'_>) -> bool {
        let d = w.digits;
        if w.len_bytes() > PHONE_BYTES || d.len() < self.min_digits {
            return false;
        }
        if w.plus {
            return self.international(w);
        }
        if self.require_plus || w.groups.len() < 2 || d.len() > 15 {
            return false;
        }
        let first = w.groups.first().map_or(0, |g| g.d.len());
        // Dots separate all the groups or none (`202.555.0143`, not `1.5 202`).
        let seps = w.seps();
        if seps != Seps::Same(b'.') && w.groups.iter().skip(1).any(|g| g.sep == b'.') {
            return false;
        }
        let lead = d.first().copied().unwrap_or(0);
        // Only an area code is in parentheses: the first group, or the second after NANP's 1.
        let after_one = lead == 1 && w.layout(&[1, 3, 3, 4]);
        let parens_ok = w
            .groups
            .iter()
            .enumerate()
            .all(|(k, g)| !g.paren || k == 0 || (k == 1 && after_one));
        if !parens_ok {
            return false;
        }
        let second = d.get(1).copied().unwrap_or(0);
        let nanp = self.nanp
            && ((w.layout(&[3, 3, 4]) && nanp(d))
                || (w.layout(&[1, 3, 3, 4]) && lead == 1 && nanp(d.get(1..).unwrap_or(&[]))));
        let trunk = lead == 0 && second != 0;
        let gb = self.gb
            && trunk
            && matches!(second, 1 | 2 | 3 | 5 | 7 | 8 | 9)
            && (10..=11).contains(&d.len())
            && (3..=5).contains(&first)
            && w.groups.iter().all(|g| g.d.len() >= 3);
        let fr = self.fr && trunk && w.layout(&[2, 2, 2, 2, 2]) && matches!(seps, Seps::Same(_));
        let de = self.de
            && trunk
            && (8..=12).contains(&d.len())
            && (3..=5).contains(&first)
            && w.groups.len() <= 4
            && w.groups.iter().skip(1).all(|g| g.d.len() >= 2)
            && w.groups.iter().skip(1).all(|g| g.sep != b'.');
        let india =
            self.india && w.layout(&[5, 5]) && lead >= 6 && !w.groups.iter().any(|g| g.paren);
        let au = self.au
            && trunk
            && matches!(second, 2 | 3 | 4 | 7 | 8)
            && (w.layout(&[4, 3, 3]) || w.layout(&[2, 4, 4]));
        // Brazil: a two-digit area code (no 0), then nine digits for a mobile (9...) or eight
        // for a land line (2...–5...), written `(11) 91234-5678` or `11 91234-5678`.
        let subscriber = d.get(2).copied().unwrap_or(0);
        let br = self.br
            && lead != 0
            && second != 0
            && ((w.layout(&[2, 5, 4]) && subscriber == 9)
                || (w.layout(&[2, 4, 4]) && (2..=5).contains(&subscriber)))
            && (w.groups.first().is_some_and(|g| g.paren)
                || w.groups.last().is_some_and(|g| g.sep == b'-'));
        nanp || gb || fr || de || india || au || br
    }

    fn international(&self, w: &Win<'_>) -> bool {
        // `+44 (0)20 ...`: the trunk 0 in parentheses is not dialled.
        let base = w.groups.first().map_or(0, |g| g.d.start);
        let mut d: Vec<u8> = w.digits.to_vec();
        if let Some(g) = w.groups.get(1) {
            let at = g.d.start - base;
            if g.paren && g.d.len() == 1 && d.get(at) == Some(&0) {
                d.remove(at);
            }
        }
        match d.first() {
            None | Some(0) => false,
            Some(1) => d.len() == 11 && nanp(d.get(1..).unwrap_or(&[])),
            Some(7) => d.len() == 11,
            Some(_) => (8..=15).contains(&d.len()),
        }
    }
}

impl Check for Phone {
    fn id(&self) -> &'static str {
        "phone"
    }

    fn span(&self) -> Span {
        Span::Bytes(PHONE_BYTES)
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        // 16: fifteen digits and a `(0)` that is not dialled.
        for (r, ()) in digit_windows(&s.norm.text, 16, |w| self.valid(w).then_some(())) {
            out.push(Finding::at(s.raw_range(r), "phone"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// payment_card
// ---------------------------------------------------------------------------------------------

const BRANDS: &[&str] = &[
    "visa",
    "mastercard",
    "amex",
    "discover",
    "jcb",
    "diners",
    "unionpay",
];

/// Processors' published test numbers.
const TEST_CARDS: &[&str] = &[
    "4111111111111111",
    "4242424242424242",
    "4012888888881881",
    "4222222222222",
    "4000056655665556",
    "5555555555554444",
    "5105105105105100",
    "5200828282828210",
    "2223003122003222",
    "378282246310005",
    "371449635398431",
    "378734493671000",
    "6011111111111117",
    "6011000990139424",
    "3530111333300000",
    "3566002020360505",
    "30569309025904",
    "38520000023237",
    "6200000000000005",
];

/// The brand a number's prefix and length name.
fn brand(d: &[u8]) -> Option<&'static str> {
    let p = |n: usize| d.get(..n).map_or(0, number);
    let len = d.len();
    let (p1, p2, p3, p4) = (p(1), p(2), p(3), p(4));
    if p1 == 4 && matches!(len, 13 | 16 | 19) {
        Some("visa")
    } else if ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && len == 16 {
        Some("mastercard")
    } else if matches!(p2, 34 | 37) && len == 15 {
        Some("amex")
    } else if (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65) && matches!(len, 16 | 19) {
        Some("discover")
    } else if (3528..=3589).contains(&p4) && (16..=19).contains(&len) {
        Some("jcb")
    } else if (p2 == 36 || p2 == 38 || p2 == 39 || (300..=305).contains(&p3))
        && (14..=19).contains(&len)
    {
        Some("diners")
    } else if p2 == 62 && (16..=19).contains(&len) {
        Some("unionpay")
    } else {
        None
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CardParams {
    brands: Option<Vec<String>>,
    #[serde(default)]
    allow_test_cards: bool,
    #[serde(default)]
    keep_last: usize,
}

/// Payment card numbers.
pub struct PaymentCard {
    brands: Vec<String>,
    allow_test_cards: bool,
    keep_last: usize,
}

impl PaymentCard {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: CardParams = params(v)?;
        if p.keep_last > 4 {
            return Err(ParamError::new(
                "keep_last",
                "at most 4 (PCI DSS shows no more than the last four digits)",
            ));
        }
        Ok(Box::new(PaymentCard {
            brands: set(p.brands, BRANDS, "brands", "brand")?,
            allow_test_cards: p.allow_test_cards,
            keep_last: p.keep_last,
        }))
    }

    fn valid(&self, w: &Win<'_>) -> bool {
        let d = w.digits;
        if !w.plain() || !(13..=19).contains(&d.len()) || all_same(d) || !luhn(d) {
            return false;
        }
        // Bare, in fours (the last group shorter), or Amex/Diners 4-6-5 / 4-6-4, with one
        // separator throughout.
        let lens: Vec<usize> = w.groups.iter().map(|g| g.d.len()).collect();
        let layout = match w.seps() {
            Seps::One => true,
            Seps::Same(b' ' | b'-') => {
                matches!(lens.as_slice(), [4, 6, 5] | [4, 6, 4])
                    || (lens.iter().rev().skip(1).all(|n| *n == 4)
                        && lens.last().is_some_and(|n| (1..=4).contains(n)))
            }
            _ => false,
        };
        if !layout {
            return false;
        }
        let Some(b) = brand(d) else {
            return false;
        };
        if !self.brands.iter().any(|x| x == b) {
            return false;
        }
        !(self.allow_test_cards
            && TEST_CARDS
                .iter()
                .any(|t| t.len() == d.len() && t.bytes().zip(d).all(|(a, b)| a - b'0' == *b)))
    }

    /// The span without its last `keep_last` digits (and the separator before them).
    fn masked(&self, text: &str, r: Range<usize>) -> Range<usize> {
        if self.keep_last == 0 {
            return r;
        }
        let b = text.as_bytes();
        let mut end = r.end;
        let mut kept = 0;
        while end > r.start && kept < self.keep_last {
            end -= 1;
            if b.get(end).is_some_and(u8::is_ascii_digit) {
                kept += 1;
            }
        }
        while end > r.start && !b.get(end - 1).is_some_and(u8::is_ascii_digit) {
            end -= 1;
        }
        r.start..end
    }
}

impl Check for PaymentCard {
    fn id(&self) -> &'static str {
        "payment_card"
    }

    fn span(&self) -> Span {
        Span::Bytes(23)
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let text = &s.norm.text;
        for (r, ()) in digit_windows(text, 19, |w| self.valid(w).then_some(())) {
            out.push(Finding::at(
                s.raw_range(self.masked(text, r)),
                "payment_card",
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// iban
// ---------------------------------------------------------------------------------------------

/// IBAN lengths by country (the SWIFT IBAN registry).
#[rustfmt::skip]
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24), ("AE", 23), ("AL", 28), ("AT", 20), ("AZ", 28), ("BA", 20), ("BE", 16),
    ("BG", 22), ("BH", 22), ("BI", 27), ("BR", 29), ("BY", 28), ("CH", 21), ("CR", 22),
    ("CY", 28), ("CZ", 24), ("DE", 22), ("DJ", 27), ("DK", 18), ("DO", 28), ("EE", 20),
    ("EG", 29), ("ES", 24), ("FI", 18), ("FK", 18), ("FO", 18), ("FR", 27), ("GB", 22),
    ("GE", 22), ("GI", 23), ("GL", 18), ("GR", 27), ("GT", 28), ("HN", 28), ("HR", 21),
    ("HU", 28), ("IE", 22), ("IL", 23), ("IQ", 23), ("IS", 26), ("IT", 27), ("JO", 30),
    ("KW", 30), ("KZ", 20), ("LB", 28), ("LC", 32), ("LI", 21), ("LT", 20), ("LU", 20),
    ("LV", 21), ("LY", 25), ("MC", 27), ("MD", 24), ("ME", 22), ("MK", 19), ("MN", 20),
    ("MR", 27), ("MT", 31), ("MU", 30), ("NI", 28), ("NL", 18), ("NO", 15), ("OM", 23),
    ("PK", 24), ("PL", 28), ("PS", 29), ("PT", 25), ("QA", 29), ("RO", 24), ("RS", 22),
    ("RU", 33), ("SA", 24), ("SC", 31), ("SD", 18), ("SE", 24), ("SI", 19), ("SK", 24),
    ("SM", 27), ("SO", 23), ("ST", 25), ("SV", 28), ("TL", 23), ("TN", 24), ("TR", 26),
    ("UA", 29), ("VA", 22), ("VG", 24), ("XK", 20), ("YE", 30),
];

/// ISO 7064 MOD 97-10 over an IBAN (upper case): the first four characters moved to the end,
/// letters as 10–35; valid when the remainder is 1.
fn iban_mod97(iban: &[u8]) -> bool {
    let (head, rest) = iban.split_at(iban.len().min(4));
    let r = rest.iter().chain(head).fold(0u32, |r, c| match c {
        b'0'..=b'9' => (r * 10 + u32::from(c - b'0')) % 97,
        b'A'..=b'Z' => (r * 100 + u32::from(c - b'A') + 10) % 97,
        _ => r,
    });
    r == 1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IbanParams {
    countries: Option<Vec<String>>,
}

/// IBANs.
pub struct IbanCheck {
    start: Regex,
    countries: Vec<(String, usize)>,
}

impl IbanCheck {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: IbanParams = params(v)?;
        let codes: Vec<&str> = IBAN_LENGTHS.iter().map(|(c, _)| *c).collect();
        let chosen = set(p.countries, &codes, "countries", "IBAN country")?;
        let countries = IBAN_LENGTHS
            .iter()
            .filter(|(c, _)| chosen.iter().any(|x| x == c))
            .map(|(c, n)| ((*c).to_owned(), *n))
            .collect();
        Ok(Box::new(IbanCheck {
            start: pattern("[A-Za-z]{2}[0-9]{2}")?,
            countries,
        }))
    }

    /// Where the IBAN starting at `s` ends, if one does.
    fn parse(&self, text: &str, s: usize) -> Option<usize> {
        if !free_before(text, s) {
            return None;
        }
        let b = text.as_bytes();
        let head = b.get(s..s + 4)?;
        let cc = [
            head.first()?.to_ascii_uppercase(),
            head.get(1)?.to_ascii_uppercase(),
        ];
        let len = self
            .countries
            .iter()
            .find(|(c, _)| c.as_bytes() == cc)
            .map(|(_, n)| *n)?;
        if matches!(head.get(2..4)?, b"00" | b"01" | b"99") {
            return None;
        }
        let mut iban = Vec::with_capacity(len);
        iban.extend_from_slice(&cc);
        iban.extend_from_slice(head.get(2..4)?);
        let (mut upper, mut lower) = (
            head.first()?.is_ascii_uppercase(),
            head.first()?.is_ascii_lowercase(),
        );
        upper &= head.get(1)?.is_ascii_uppercase();
        lower &= head.get(1)?.is_ascii_lowercase();
        let mut at = s + 4;
        let mut space = false;
        while iban.len() < len {
            let c = *b.get(at)?;
            if c == b' ' && !space {
                space = true;
            } else if c.is_ascii_alphanumeric() {
                space = false;
                upper &= !c.is_ascii_lowercase();
                lower &= !c.is_ascii_uppercase();
                iban.push(c.to_ascii_uppercase());
            } else {
                return None;
            }
            at += 1;
        }
        if !(upper || lower) || !free_after(text, at) || !iban_mod97(&iban) {
            return None;
        }
        Some(at)
    }
}

impl Check for IbanCheck {
    fn id(&self) -> &'static str {
        "iban"
    }

    fn span(&self) -> Span {
        Span::Bytes(42)
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let text = &s.norm.text;
        let mut at = 0;
        while let Some(m) = self.start.find_at(text, at) {
            match self.parse(text, m.start()) {
                Some(end) => {
                    out.push(Finding::at(s.raw_range(m.start()..end), "iban"));
                    at = end;
                }
                None => at = m.start() + 1,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// us_ssn
// ---------------------------------------------------------------------------------------------

const SSN_CONTEXT: &[&str] = &[
    "ssn",
    "ssns",
    "social security",
    "social sec",
    "itin",
    "taxpayer",
    "tax id",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SsnParams {
    #[serde(default = "yes")]
    require_separators: bool,
    context_words: Option<Vec<String>>,
    #[serde(default = "yes")]
    include_itin: bool,
}

fn yes() -> bool {
    true
}

/// US Social Security numbers (and ITINs).
pub struct UsSsn {
    require_separators: bool,
    context: Vec<String>,
    include_itin: bool,
}

impl UsSsn {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: SsnParams = params(v)?;
        let context = match p.context_words {
            Some(w) => lower_words(&w, "context_words")?,
            None => SSN_CONTEXT.iter().map(|w| (*w).to_owned()).collect(),
        };
        Ok(Box::new(UsSsn {
            require_separators: p.require_separators,
            context,
            include_itin: p.include_itin,
        }))
    }

    fn number_ok(&self, d: &[u8]) -> bool {
        if d.len() != 9 || all_same(d) {
            return false;
        }
        let area = d.get(..3).map_or(0, number);
        let group = d.get(3..5).map_or(0, number);
        let serial = d.get(5..).map_or(0, number);
        let whole = number(d);
        if group == 0
            || serial == 0
            || area == 0
            || area == 666
            || whole == 78_051_120
            || whole == 123_456_789
            || (987_654_320..=987_654_329).contains(&whole)
        {
            return false;
        }
        if area >= 900 {
            return self.include_itin && matches!(group, 50..=65 | 70..=88 | 90..=92 | 94..=99);
        }
        true
    }

    fn valid(&self, text: &str, w: &Win<'_>) -> bool {
        if !w.plain() || !self.number_ok(w.digits) {
            return false;
        }
        match w.seps() {
            Seps::Same(b'-' | b' ' | b'.') => w.layout(&[3, 2, 4]),
            Seps::One => {
                !self.require_separators
                    && (self.context.is_empty() || context_before(text, w.start, &self.context))
            }
            _ => false,
        }
    }
}

impl Check for UsSsn {
    fn id(&self) -> &'static str {
        "us_ssn"
    }

    fn span(&self) -> Span {
        if self.require_separators {
            Span::Bytes(11)
        } else {
            Span::Bytes(11 + CONTEXT)
        }
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let text = &s.norm.text;
        for (r, ()) in digit_windows(text, 9, |w| self.valid(text, w).then_some(())) {
            out.push(Finding::at(s.raw_range(r), "us_ssn"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// uk_nhs
// ---------------------------------------------------------------------------------------------

/// NHS numbers: weights 10 to 2 on the first nine digits, check 11 − (sum mod 11), 11 → 0,
/// 10 never issued.
fn nhs_ok(d: &[u8]) -> bool {
    if d.len() != 10 || all_same(d) {
        return false;
    }
    let sum = weighted(d, &[10, 9, 8, 7, 6, 5, 4, 3, 2]);
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return false,
        c => c,
    };
    d.last().is_some_and(|x| u32::from(*x) == check)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NhsParams {
    #[serde(default)]
    allow_test_range: bool,
    #[serde(default = "yes")]
    require_format: bool,
}

/// UK NHS numbers.
pub struct UkNhs {
    allow_test_range: bool,
    require_format: bool,
}

impl UkNhs {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: NhsParams = params(v)?;
        Ok(Box::new(UkNhs {
            allow_test_range: p.allow_test_range,
            require_format: p.require_format,
        }))
    }

    fn valid(&self, w: &Win<'_>) -> bool {
        let format = match w.seps() {
            Seps::Same(b' ' | b'-') => w.layout(&[3, 3, 4]),
            Seps::One => !self.require_format,
            _ => false,
        };
        let test = w.digits.get(..3) == Some(&[9, 9, 9]);
        w.plain() && format && nhs_ok(w.digits) && !(self.allow_test_range && test)
    }
}

impl Check for UkNhs {
    fn id(&self) -> &'static str {
        "uk_nhs"
    }

    fn sources(&self) -> &'static [Source] {
        IO
    }

    fn span(&self) -> Span {
        Span::Bytes(12)
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        for (r, ()) in digit_windows(&s.norm.text, 10, |w| self.valid(w).then_some(())) {
            out.push(Finding::at(s.raw_range(r), "uk_nhs"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// es_dni_nie
// ---------------------------------------------------------------------------------------------

const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

/// DNI (eight digits, dotted or not) or NIE (X, Y or Z and seven digits), then the letter.
const DNI: &str = r"(?:[XYZ]-?[0-9]{7}|[0-9]{8}|[0-9]{2}\.[0-9]{3}\.[0-9]{3})[- ]?[A-Za-z]";

/// Spanish DNI and NIE numbers.
pub struct EsDniNie {
    re: Regex,
}

impl EsDniNie {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let _: NoParams = params(v)?;
        Ok(Box::new(EsDniNie { re: pattern(DNI)? }))
    }

    fn valid(text: &str, r: Range<usize>) -> bool {
        let Some(s) = text.get(r.clone()) else {
            return false;
        };
        if !free_before(text, r.start) || !free_after(text, r.end) {
            return false;
        }
        let b = s.as_bytes();
        let Some(&letter) = b.last() else {
            return false;
        };
        // A lower-case letter only when attached: `12345678 a` is a number and a word.
        let spaced = b.len() >= 2 && b.get(b.len() - 2) == Some(&b' ');
        if letter.is_ascii_lowercase() && spaced {
            return false;
        }
        // An NIE's letter stands for a leading digit: X 0, Y 1, Z 2.
        let lead = match b.first() {
            Some(b'Y') => 1,
            Some(b'Z') => 2,
            _ => 0,
        };
        let n = b
            .get(..b.len() - 1)
            .unwrap_or(&[])
            .iter()
            .filter(|c| c.is_ascii_digit())
            .fold(lead, |n, c| n * 10 + u32::from(c - b'0'));
        DNI_LETTERS.get((n % 23) as usize) == Some(&letter.to_ascii_uppercase())
    }
}

impl Check for EsDniNie {
    fn id(&self) -> &'static str {
        "es_dni_nie"
    }

    fn sources(&self) -> &'static [Source] {
        IO
    }

    fn span(&self) -> Span {
        Span::Bytes(12)
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let text = &s.norm.text;
        for m in self.re.find_iter(text) {
            if Self::valid(text, m.range()) {
                out.push(Finding::at(s.raw_range(m.range()), "es_dni_nie"));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// in_aadhaar
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AadhaarParams {
    #[serde(default = "yes")]
    require_format: bool,
}

/// Indian Aadhaar numbers.
pub struct InAadhaar {
    require_format: bool,
}

impl InAadhaar {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: AadhaarParams = params(v)?;
        Ok(Box::new(InAadhaar {
            require_format: p.require_format,
        }))
    }

    fn valid(&self, w: &Win<'_>) -> bool {
        let format = match w.seps() {
            Seps::Same(b' ' | b'-') => w.layout(&[4, 4, 4]),
            Seps::One => !self.require_format,
            _ => false,
        };
        w.plain()
            && format
            && w.digits.len() == 12
            && w.digits.first().is_some_and(|d| *d >= 2)
            && !all_same(w.digits)
            && verhoeff(w.digits)
    }
}

impl Check for InAadhaar {
    fn id(&self) -> &'static str {
        "in_aadhaar"
    }

    fn sources(&self) -> &'static [Source] {
        IO
    }

    fn span(&self) -> Span {
        Span::Bytes(14)
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        for (r, ()) in digit_windows(&s.norm.text, 12, |w| self.valid(w).then_some(())) {
            out.push(Finding::at(s.raw_range(r), "in_aadhaar"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// br_cpf
// ---------------------------------------------------------------------------------------------

/// CPF: two check digits, each (Σ dᵢ·wᵢ)·10 mod 11 with 10 → 0, weights 10…2 then 11…2.
fn cpf_ok(d: &[u8]) -> bool {
    if d.len() != 11 || all_same(d) {
        return false;
    }
    let dv = |n: usize| {
        let w: Vec<u32> = (2..=(n as u32 + 1)).rev().collect();
        let r = weighted(d.get(..n).unwrap_or(&[]), &w) * 10 % 11;
        if r == 10 {
            0
        } else {
            r
        }
    };
    d.get(9).is_some_and(|x| u32::from(*x) == dv(9))
        && d.get(10).is_some_and(|x| u32::from(*x) == dv(10))
}

/// CNPJ (numeric, or alphanumeric from 2026: a character's value is its code − 48): two check
/// digits, Σ vᵢ·wᵢ mod 11, below 2 → 0, else 11 − r.
fn cnpj_ok(s: &[u8]) -> bool {
    let v: Vec<u32> = s
        .iter()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| u32::from(c.to_ascii_uppercase()) - 48)
        .collect();
    if v.len() != 14 || v.windows(2).all(|w| w.first() == w.last()) {
        return false;
    }
    const W: [u32; 13] = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
    let dv = |n: usize| {
        let r = v
            .iter()
            .take(n)
            .zip(W.iter().skip(13 - n))
            .map(|(a, b)| a * b)
            .sum::<u32>()
            % 11;
        if r < 2 {
            0
        } else {
            11 - r
        }
    };
    v.get(12) == Some(&dv(12)) && v.get(13) == Some(&dv(13))
}

/// CNPJ: `12.345.678/0001-95`, letters allowed in the first twelve characters.
const CNPJ: &str = r"[0-9A-Z]{2}\.[0-9A-Z]{3}\.[0-9A-Z]{3}/[0-9A-Z]{4}-[0-9]{2}|[0-9]{14}";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CpfParams {
    #[serde(default)]
    include_cnpj: bool,
    #[serde(default = "yes")]
    require_format: bool,
}

/// Brazilian CPF (and CNPJ) numbers.
pub struct BrCpf {
    cnpj: Option<Regex>,
    require_format: bool,
}

impl BrCpf {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: CpfParams = params(v)?;
        Ok(Box::new(BrCpf {
            cnpj: if p.include_cnpj {
                Some(pattern(CNPJ)?)
            } else {
                None
            },
            require_format: p.require_format,
        }))
    }

    fn valid(&self, w: &Win<'_>) -> bool {
        let seps: Vec<u8> = w.groups.iter().skip(1).map(|g| g.sep).collect();
        let format = match w.seps() {
            Seps::One => !self.require_format,
            _ => (w.layout(&[3, 3, 3, 2]) && seps == b"..-") || (w.layout(&[9, 2]) && seps == b"-"),
        };
        w.plain() && format && cpf_ok(w.digits)
    }
}

impl Check for BrCpf {
    fn id(&self) -> &'static str {
        "br_cpf"
    }

    fn sources(&self) -> &'static [Source] {
        IO
    }

    fn span(&self) -> Span {
        Span::Bytes(if self.cnpj.is_some() { 18 } else { 14 })
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let text = &s.norm.text;
        for (r, ()) in digit_windows(text, 11, |w| self.valid(w).then_some(())) {
            out.push(Finding::at(s.raw_range(r), "br_cpf"));
        }
        if let Some(re) = &self.cnpj {
            for m in re.find_iter(text) {
                let bare = !m.as_str().contains('.');
                if (bare && self.require_format)
                    || !free_before(text, m.start())
                    || !free_after(text, m.end())
                    || !cnpj_ok(m.as_str().as_bytes())
                {
                    continue;
                }
                out.push(Finding::at(s.raw_range(m.range()), "br_cnpj"));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// national_ids_more
// ---------------------------------------------------------------------------------------------

const NATIONAL: &[&str] = &["ca_sin", "nl_bsn", "pl_pesel", "cn_id", "us_aba", "in_pan"];

const SIN_WORDS: &[&str] = &[
    "sin",
    "social insurance",
    "insurance number",
    "nas",
    "assurance sociale",
];
const BSN_WORDS: &[&str] = &[
    "bsn",
    "burgerservicenummer",
    "sofinummer",
    "sofi",
    "citizen service",
];
const PESEL_WORDS: &[&str] = &["pesel"];
const ABA_WORDS: &[&str] = &["aba", "rtn", "routing", "transit"];

/// Canadian SIN: nine digits, Luhn.
fn sin_ok(d: &[u8]) -> bool {
    d.len() == 9 && !all_same(d) && luhn(d)
}

/// Dutch BSN: 9·d1 + 8·d2 + … + 2·d8 − d9 ≡ 0 (mod 11).
fn bsn_ok(d: &[u8]) -> bool {
    if d.len() != 9 || all_same(d) {
        return false;
    }
    let sum = weighted(d, &[9, 8, 7, 6, 5, 4, 3, 2]) as i64 - d.last().map_or(0, |x| i64::from(*x));
    sum % 11 == 0
}

/// US ABA routing number: weights 3, 7, 1 repeated, sum ≡ 0 (mod 10); Federal Reserve prefixes.
fn aba_ok(d: &[u8]) -> bool {
    if d.len() != 9 || all_same(d) {
        return false;
    }
    let prefix = two(d, 0);
    matches!(prefix, 0..=12 | 21..=32 | 61..=72 | 80)
        && weighted(d, &[3, 7, 1, 3, 7, 1, 3, 7, 1]).is_multiple_of(10)
}

/// Polish PESEL: YYMMDD (the month carries the century), serial, check (10 − Σ mod 10) mod 10
/// with weights 1, 3, 7, 9.
fn pesel_ok(d: &[u8]) -> bool {
    if d.len() != 11 || all_same(d) {
        return false;
    }
    let (yy, mm, dd) = (two(d, 0), two(d, 2), two(d, 4));
    let (century, month) = match mm {
        1..=12 => (1900, mm),
        21..=32 => (2000, mm - 20),
        41..=52 => (2100, mm - 40),
        61..=72 => (2200, mm - 60),
        81..=92 => (1800, mm - 80),
        _ => return false,
    };
    if !valid_date(century + yy, month, dd) {
        return false;
    }
    let s = weighted(d, &[1, 3, 7, 9, 1, 3, 7, 9, 1, 3]);
    d.last()
        .is_some_and(|x| u32::from(*x) == (10 - s % 10) % 10)
}

/// Chinese resident identity number: 6-digit region, YYYYMMDD, 3-digit serial, ISO 7064
/// MOD 11-2 check (`10X98765432`).
fn cn_id_ok(s: &[u8]) -> bool {
    if s.len() != 18 {
        return false;
    }
    let d: Vec<u8> = s.iter().take(17).map(|c| c.wrapping_sub(b'0')).collect();
    if d.iter().any(|x| *x > 9) {
        return false;
    }
    let year = d.get(6..10).map_or(0, number) as u32;
    let (month, day) = (two(&d, 10), two(&d, 12));
    if !(1900..=2100).contains(&year) || !valid_date(year, month, day) {
        return false;
    }
    let w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let check = b"10X98765432"
        .get((weighted(&d, &w) % 11) as usize)
        .copied();
    s.last().map(u8::to_ascii_uppercase) == check
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NationalParams {
    enabled: Option<Vec<String>>,
    #[serde(default = "yes")]
    require_context: bool,
}

/// Other checksummed national identifiers, one sub-rule each.
pub struct NationalIdsMore {
    sin: bool,
    bsn: bool,
    pesel: bool,
    aba: bool,
    cn: Option<Regex>,
    pan: Option<Regex>,
    require_context: bool,
}

impl NationalIdsMore {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: NationalParams = params(v)?;
        let on = set(p.enabled, NATIONAL, "enabled", "sub-rule")?;
        let has = |r: &str| on.iter().any(|x| x == r);
        Ok(Box::new(NationalIdsMore {
            sin: has("ca_sin"),
            bsn: has("nl_bsn"),
            pesel: has("pl_pesel"),
            aba: has("us_aba"),
            cn: if has("cn_id") {
                Some(pattern("[1-9][0-9]{16}[0-9Xx]")?)
            } else {
                None
            },
            pan: if has("in_pan") {
                Some(pattern("[A-Z]{3}[ABCFGHJLPT][A-Z][0-9]{4}[A-Z]")?)
            } else {
                None
            },
            require_context: p.require_context,
        }))
    }

    fn context(&self, text: &str, at: usize, words: &[&str]) -> bool {
        !self.require_context || context_before(text, at, words)
    }

    fn numeric(&self, text: &str, w: &Win<'_>) -> Option<&'static str> {
        if !w.plain() {
            return None;
        }
        let d = w.digits;
        let seps = w.seps();
        let spaced = |lens: &[usize]| matches!(seps, Seps::Same(b' ' | b'-')) && w.layout(lens);
        if d.len() == 9 {
            if self.sin
                && (seps == Seps::One || spaced(&[3, 3, 3]))
                && sin_ok(d)
                && self.context(text, w.start, SIN_WORDS)
            {
                return Some("ca_sin");
            }
            let dotted = seps == Seps::Same(b'.') && w.layout(&[4, 2, 3]);
            if self.bsn
                && (seps == Seps::One || dotted)
                && bsn_ok(d)
                && self.context(text, w.start, BSN_WORDS)
            {
                return Some("nl_bsn");
            }
            if self.aba && seps == Seps::One && aba_ok(d) && self.context(text, w.start, ABA_WORDS)
            {
                return Some("us_aba");
            }
        }
        if d.len() == 11
            && self.pesel
            && seps == Seps::One
            && pesel_ok(d)
            && self.context(text, w.start, PESEL_WORDS)
        {
            return Some("pl_pesel");
        }
        None
    }
}

impl Check for NationalIdsMore {
    fn id(&self) -> &'static str {
        "national_ids_more"
    }

    fn sources(&self) -> &'static [Source] {
        IO
    }

    fn span(&self) -> Span {
        if self.require_context && (self.sin || self.bsn || self.pesel || self.aba) {
            Span::Bytes(18 + CONTEXT)
        } else {
            Span::Bytes(18)
        }
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let text = &s.norm.text;
        if self.sin || self.bsn || self.pesel || self.aba {
            for (r, label) in digit_windows(text, 11, |w| self.numeric(text, w)) {
                out.push(Finding::at(s.raw_range(r), label));
            }
        }
        let free = |r: &Range<usize>| free_before(text, r.start) && free_after(text, r.end);
        if let Some(re) = &self.cn {
            for m in re.find_iter(text) {
                if free(&m.range()) && cn_id_ok(m.as_str().as_bytes()) {
                    out.push(Finding::at(s.raw_range(m.range()), "cn_id"));
                }
            }
        }
        if let Some(re) = &self.pan {
            for m in re.find_iter(text) {
                if free(&m.range()) {
                    out.push(Finding::at(s.raw_range(m.range()), "in_pan"));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ip_address
// ---------------------------------------------------------------------------------------------

const IP_RANGES: &[&str] = &[
    "private",
    "loopback",
    "link_local",
    "doc",
    "unspecified",
    "multicast",
];

/// Words that make a dotted quad a version number.
const VERSION_WORDS: &[&str] = &[
    "version", "versions", "ver", "v", "release", "build", "firmware",
];

/// How far before a dotted quad a version word counts, in bytes.
const VERSION_LOOKBACK: usize = 16;

const IPV4: &str = r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}";
const IPV6: &str = r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.[0-9]{1,3}){0,3}";

/// The named ranges an IPv4 address falls in.
fn v4_range(a: Ipv4Addr) -> &'static str {
    let [o1, o2, o3, _] = a.octets();
    if a.is_loopback() {
        "loopback"
    } else if a.is_private() || (o1 == 100 && (64..=127).contains(&o2)) {
        "private"
    } else if a.is_link_local() {
        "link_local"
    } else if (o1, o2, o3) == (192, 0, 2)
        || (o1, o2, o3) == (198, 51, 100)
        || (o1, o2, o3) == (203, 0, 113)
    {
        "doc"
    } else if a.is_unspecified() {
        "unspecified"
    } else if a.is_multicast() {
        "multicast"
    } else {
        ""
    }
}

fn v6_range(a: Ipv6Addr) -> &'static str {
    if let Some(v4) = a.to_ipv4_mapped() {
        return v4_range(v4);
    }
    let s = a.segments();
    let s0 = s.first().copied().unwrap_or(0);
    let s1 = s.get(1).copied().unwrap_or(0);
    if a.is_loopback() {
        "loopback"
    } else if a.is_unspecified() {
        "unspecified"
    } else if s0 & 0xfe00 == 0xfc00 {
        "private"
    } else if s0 & 0xffc0 == 0xfe80 {
        "link_local"
    } else if (s0 == 0x2001 && s1 == 0x0db8) || s0 & 0xfff0 == 0x3ff0 {
        "doc"
    } else if a.is_multicast() {
        "multicast"
    } else {
        ""
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IpParams {
    #[serde(default)]
    exclude: Vec<String>,
}

/// IPv4 and IPv6 addresses.
pub struct IpAddress {
    v4: Regex,
    v6: Regex,
    exclude: Vec<String>,
}

impl IpAddress {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: IpParams = params(v)?;
        let exclude = if p.exclude.is_empty() {
            Vec::new()
        } else {
            set(Some(p.exclude), IP_RANGES, "exclude", "range")?
        };
        Ok(Box::new(IpAddress {
            v4: pattern(IPV4)?,
            v6: pattern(IPV6)?,
            exclude,
        }))
    }

    fn kept(&self, range: &str) -> bool {
        !self.exclude.iter().any(|x| x == range)
    }

    fn v4_at(&self, text: &str, r: &Range<usize>) -> bool {
        match prev_char(text, r.start) {
            Some(c) if is_word(c) || c == '.' || c == ':' => return false,
            _ => {}
        }
        match next_char(text, r.end) {
            Some(c) if is_word(c) => return false,
            Some('.') if next_char(text, r.end + 1).is_some_and(|c| c.is_ascii_digit()) => {
                return false
            }
            _ => {}
        }
        let Some(Ok(a)) = text.get(r.clone()).map(str::parse::<Ipv4Addr>) else {
            return false;
        };
        !context_within(text, r.start, VERSION_LOOKBACK, VERSION_WORDS) && self.kept(v4_range(a))
    }

    /// The address in the candidate at `r` (a trailing `:` of prose trimmed), if one.
    fn v6_at(&self, text: &str, r: &Range<usize>) -> Option<Range<usize>> {
        match prev_char(text, r.start) {
            Some(c) if is_word(c) || c == '.' || c == ':' => return None,
            _ => {}
        }
        let s = text.get(r.clone())?;
        let (s, end) = match s.parse::<Ipv6Addr>() {
            Ok(_) => (s, r.end),
            Err(_) if s.ends_with(':') && !s.ends_with("::") => (s.get(..s.len() - 1)?, r.end - 1),
            Err(_) => return None,
        };
        let a = s.parse::<Ipv6Addr>().ok()?;
        if s == "::" || s.bytes().filter(|c| *c == b':').count() < 2 {
            return None;
        }
        match next_char(text, end) {
            Some(c) if is_word(c) => return None,
            Some('.') if next_char(text, end + 1).is_some_and(|c| c.is_ascii_digit()) => {
                return None
            }
            _ => {}
        }
        self.kept(v6_range(a)).then_some(r.start..end)
    }
}

impl Check for IpAddress {
    fn id(&self) -> &'static str {
        "ip_address"
    }

    fn span(&self) -> Span {
        Span::Bytes(45)
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let text = &s.norm.text;
        let v6: Vec<Range<usize>> = self
            .v6
            .find_iter(text)
            .filter_map(|m| self.v6_at(text, &m.range()))
            .collect();
        for m in self.v4.find_iter(text) {
            let r = m.range();
            // An IPv4 embedded in an IPv6 address is part of it.
            let inside = v6.iter().any(|x| x.start <= r.start && r.end <= x.end);
            if !inside && self.v4_at(text, &r) {
                out.push(Finding::at(s.raw_range(r), "ip_address"));
            }
        }
        for r in v6 {
            out.push(Finding::at(s.raw_range(r), "ip_address"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// crypto_address
// ---------------------------------------------------------------------------------------------

const CHAINS: &[&str] = &["btc", "eth"];

const BASE58: &str = "[13][1-9A-HJ-NP-Za-km-z]{25,34}";
const BECH32: &str = "(?:bc1|BC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{8,87}";
const ETH: &str = "0x[0-9a-fA-F]{40}";

/// The value of a base58 character (Bitcoin's alphabet: no 0, O, I, l).
fn b58(c: u8) -> Option<u32> {
    const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    ALPHABET.iter().position(|a| *a == c).map(|p| p as u32)
}

/// A legacy address: base58 of 25 bytes (version 0x00 or 0x05, 20-byte hash, and the first four
/// bytes of SHA-256(SHA-256(first 21 bytes))).
fn base58check(s: &[u8]) -> bool {
    let mut num = [0u8; 25];
    for c in s {
        let Some(mut carry) = b58(*c) else {
            return false;
        };
        for byte in num.iter_mut().rev() {
            let x = u32::from(*byte) * 58 + carry;
            *byte = (x & 0xff) as u8;
            carry = x >> 8;
        }
        if carry != 0 {
            return false;
        }
    }
    let ones = s.iter().take_while(|c| **c == b'1').count();
    let zeros = num.iter().take_while(|b| **b == 0).count();
    if zeros != ones || !matches!(num.first(), Some(0x00 | 0x05)) {
        return false;
    }
    let (payload, check) = num.split_at(21);
    let hash = Sha256::digest(Sha256::digest(payload));
    hash.get(..4) == Some(check)
}

const BECH32_GEN: [u32; 5] = [
    0x3b6a_57b2,
    0x2650_8e6d,
    0x1ea1_19fa,
    0x3d42_33dd,
    0x2a14_62b3,
];
const BECH32_CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn polymod(values: impl Iterator<Item = u8>) -> u32 {
    values.fold(1u32, |chk, v| {
        let top = chk >> 25;
        let mut chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in BECH32_GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
        chk
    })
}

/// A native segwit address on `bc`: bech32 (BIP-173, constant 1) for version 0, bech32m
/// (BIP-350, 0x2bc830a3) for versions 1–16; program of 2–40 bytes (20 or 32 for version 0).
fn segwit(s: &str) -> bool {
    if s.len() > 90
        || (s.bytes().any(|c| c.is_ascii_lowercase()) && s.bytes().any(|c| c.is_ascii_uppercase()))
    {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    let Some(data) = lower.strip_prefix("bc1") else {
        return false;
    };
    let Some(values) = data
        .bytes()
        .map(|c| BECH32_CHARSET.iter().position(|x| *x == c).map(|p| p as u8))
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    if values.len() < 7 {
        return false;
    }
    let hrp = b"bc";
    let expanded = hrp
        .iter()
        .map(|c| c >> 5)
        .chain(std::iter::once(0))
        .chain(hrp.iter().map(|c| c & 31));
    let pm = polymod(expanded.chain(values.iter().copied()));
    let version = values.first().copied().unwrap_or(0);
    let constant = if version == 0 { 1 } else { 0x2bc8_30a3 };
    if version > 16 || pm != constant {
        return false;
    }
    // The program: 5-bit groups back to bytes, at most 4 bits of zero padding.
    let words = values.get(1..values.len() - 6).unwrap_or(&[]);
    let (mut acc, mut bits, mut len) = (0u32, 0u32, 0usize);
    for w in words {
        acc = ((acc << 5) | u32::from(*w)) & 0xfff;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            len += 1;
        }
    }
    if bits >= 5 || (acc & ((1 << bits) - 1)) != 0 {
        return false;
    }
    (2..=40).contains(&len) && (version != 0 || len == 20 || len == 32)
}

/// EIP-55: a letter is upper case where the Keccak-256 of the lower-case hex has a nibble ≥ 8.
/// Fewer than six letters say too little.
fn eip55(hex: &str) -> bool {
    let lower = hex.to_ascii_lowercase();
    let hash = Keccak256::digest(lower.as_bytes());
    let mut letters = 0;
    for (i, c) in hex.bytes().enumerate() {
        if !c.is_ascii_alphabetic() {
            continue;
        }
        letters += 1;
        let Some(byte) = hash.get(i / 2) else {
            return false;
        };
        let nibble = if i % 2 == 0 { byte >> 4 } else { byte & 0x0f };
        if (nibble >= 8) != c.is_ascii_uppercase() {
            return false;
        }
    }
    letters >= 6
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CryptoParams {
    chains: Option<Vec<String>>,
}

/// Bitcoin and Ethereum addresses.
pub struct CryptoAddress {
    base58: Option<Regex>,
    bech32: Option<Regex>,
    eth: Option<Regex>,
}

impl CryptoAddress {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: CryptoParams = params(v)?;
        let chains = set(p.chains, CHAINS, "chains", "chain")?;
        let btc = chains.iter().any(|c| c == "btc");
        let eth = chains.iter().any(|c| c == "eth");
        Ok(Box::new(CryptoAddress {
            base58: if btc { Some(pattern(BASE58)?) } else { None },
            bech32: if btc { Some(pattern(BECH32)?) } else { None },
            eth: if eth { Some(pattern(ETH)?) } else { None },
        }))
    }
}

impl Check for CryptoAddress {
    fn id(&self) -> &'static str {
        "crypto_address"
    }

    fn span(&self) -> Span {
        Span::Bytes(90)
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let text = &s.norm.text;
        let free = |r: &Range<usize>| {
            !prev_char(text, r.start).is_some_and(is_word)
                && !next_char(text, r.end).is_some_and(is_word)
        };
        let mut found = |r: Range<usize>| out.push(Finding::at(s.raw_range(r), "crypto_address"));
        if let Some(re) = &self.base58 {
            for m in re.find_iter(text) {
                if free(&m.range()) && base58check(m.as_str().as_bytes()) {
                    found(m.range());
                }
            }
        }
        if let Some(re) = &self.bech32 {
            for m in re.find_iter(text) {
                if free(&m.range()) && segwit(m.as_str()) {
                    found(m.range());
                }
            }
        }
        if let Some(re) = &self.eth {
            for m in re.find_iter(text) {
                if free(&m.range()) && m.as_str().get(2..).is_some_and(eip55) {
                    found(m.range());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::checks::testing::{fires, fires_on, fires_on_as, spans};
    use serde_json::json;

    fn none() -> Value {
        Value::Null
    }

    /// The error building check `id` with `p`.
    fn error(id: &str, p: Value) -> ParamError {
        match crate::catalogue::build(id, &p) {
            Ok(_) => panic!("{id} built with {p}"),
            Err(e) => e,
        }
    }

    /// `prefix` and random digits up to `len`, completed with a Luhn check digit.
    fn luhn_number(rng: &mut fastrand::Rng, prefix: &str, len: usize) -> String {
        let mut s = prefix.to_owned();
        while s.len() < len - 1 {
            s.push(char::from(b'0' + rng.u8(0..10)));
        }
        for c in b'0'..=b'9' {
            let mut t = s.clone();
            t.push(char::from(c));
            let d: Vec<u8> = t.bytes().map(|c| c - b'0').collect();
            if luhn(&d) {
                return t;
            }
        }
        unreachable!()
    }

    /// Benign text: dates, times, versions, prices, hashes, ids, code and prose.
    const BENIGN: &[&str] = &[
        "The meeting is on 2024-05-01 at 12:30:45, or 01/05/2024 in Europe.",
        "Version 1.2.3 shipped; upgrade to 2.10.0-beta.1 next week. See RFC 5737 and ISO 8601.",
        "Order #12345678 cost $1,299.99 (tax 8.25%), shipped 3 items to 221B Baker Street.",
        "Commit 3f786850e387550fdab836ed7e6dc881de23001b fixed issue 4521.",
        "UUID 123e4567-e89b-12d3-a456-426614174000 and sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "Call stack: std::vector<int>::push_back, then Foo::bar::baz(x); a :: b",
        "Population 67,390,000 in 2021; GDP grew 2.5% to 2,957,000,000,000 USD.",
        "npm i @scope/pkg@1.4.0 and lodash@4.17.21; see icon@2x.png and logo@3x.webp.",
        "Coordinates 48.8566, 2.3522. Build 20240501.1 took 1h 23m 45s.",
        "fn main() { let v = vec![1, 2, 3]; println!(\"{:?}\", v); }",
        "for (i = 0; i < 10; i++) { x += a[i] * 2; } // 0x1F mask",
        "SELECT id, email FROM users WHERE id = 42 LIMIT 100 OFFSET 200;",
        "git clone git@github.com:org/repo.git && cd repo",
        "The ISBN 978-3-16-148410-0 lists 352 pages; chapter 4.2.1 starts on page 97.",
        "Temperature ranged from -12.5 to 38.0 degrees; 1 2 3 4 5 6 7 8 9 10.",
        "Le rendez-vous est à 14 h 30, salle 204. 東京は晴れ、気温は25度です。",
        "MAC 00:1A:2B:3C:4D:5E; OID 1.3.6.1.4.1.311; lockfile integrity sha512-abc==",
    ];

    const ALL_CHECKS: &[&str] = &[
        "email",
        "phone",
        "payment_card",
        "iban",
        "us_ssn",
        "uk_nhs",
        "es_dni_nie",
        "in_aadhaar",
        "br_cpf",
        "national_ids_more",
        "ip_address",
        "crypto_address",
    ];

    #[test]
    fn benign_text_and_code_fire_nothing() {
        for id in ALL_CHECKS {
            for text in BENIGN {
                let f = fires_on(id, &none(), text);
                assert!(f.is_empty(), "{id} fired on {text:?}: {f:?}");
            }
        }
    }

    #[test]
    fn every_check_redacts_with_its_kind_as_label() {
        let samples = [
            ("email", "jane.doe@example.com"),
            ("phone", "+1 202-555-0143"),
            ("payment_card", "4111 1111 1111 1111"),
            ("iban", "GB82 WEST 1234 5698 7654 32"),
            ("us_ssn", "536-44-1290"),
            ("uk_nhs", "943 476 5919"),
            ("es_dni_nie", "12345678Z"),
            ("in_aadhaar", "2345 6789 0124"),
            ("br_cpf", "111.444.777-35"),
            ("ip_address", "203.0.113.7"),
            ("crypto_address", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
        ];
        for (id, sample) in samples {
            let text = format!("see {sample}, thanks");
            let f = fires_on(id, &none(), &text);
            assert_eq!(f.len(), 1, "{id}: {f:?}");
            assert_eq!(f[0].label, id);
            assert_eq!(&text[f[0].span.clone().unwrap()], sample, "{id}");
            let check = crate::catalogue::build(id, &none()).unwrap();
            assert!(check.redacts(), "{id}");
            match check.span() {
                Span::Bytes(n) => assert!(n >= sample.len(), "{id}: span {n}"),
                Span::Whole => panic!("{id} needs the whole text"),
            }
        }
        let f = fires_on("national_ids_more", &none(), "PAN ABCPE1234F");
        assert_eq!(f[0].label, "in_pan");
    }

    #[test]
    fn findings_map_back_to_the_original_bytes() {
        // Full-width digits and a zero-width space are normalized away; the span covers them.
        let text = "card ４１１１ 1111 1111 11\u{200B}11 ok";
        assert_eq!(
            spans("payment_card", &none(), text),
            vec!["４１１１ 1111 1111 11\u{200B}11"]
        );
        let text = "mail jane\u{200B}@example.com";
        assert_eq!(
            spans("email", &none(), text),
            vec!["jane\u{200B}@example.com"]
        );
    }

    #[test]
    fn email_finds_dot_atoms_and_skips_traps() {
        let p = none();
        assert_eq!(
            spans("email", &p, "Write to Jane.Doe+news@mail.example.org."),
            vec!["Jane.Doe+news@mail.example.org"]
        );
        assert!(fires("email", &p, "jane.doe@example.com"));
        assert!(fires("email", &p, "ops@example.net: see you"));
        assert!(fires("email", &p, "mailto:info@xn--bcher-kva.example"));
        assert!(fires("email", &p, "<user_1%x@sub.domain.test>"));
        for no in [
            "@scope/pkg",
            "a@b",
            "git@github.com:org/repo",
            "icon@2x.png",
            "ssh://git@github.com/org/repo",
            "user@localhost",
            "x = a @ b.T",
            "jane@example.c",
            "jane@-example.com",
        ] {
            assert!(!fires("email", &p, no), "{no}");
        }
        let allow = json!({"allow_domains": ["example.com", "@corp.test"]});
        assert!(!fires("email", &allow, "jane@example.com"));
        assert!(!fires("email", &allow, "bob@mail.EXAMPLE.com"));
        assert!(!fires("email", &allow, "amy@corp.test"));
        assert!(fires("email", &allow, "jane@example.org"));
        assert!(fires("email", &allow, "jane@notexample.com"));
        assert_eq!(
            error("email", json!({"allow_domains": [""]})).path,
            "allow_domains[0]"
        );
        assert!(error("email", json!({"allow": []}))
            .message
            .contains("unknown field"));
    }

    #[test]
    fn phone_finds_international_and_national_numbers() {
        let p = none();
        for yes in [
            "+1 202-555-0143",
            "+12025550143",
            "+44 7700 900123",
            "+44 (0)20 7946 0958",
            "+91 98765 43210",
            "(202) 555-0143",
            "202.555.0143",
            "1 (202) 555-0143",
            "020 7946 0958",
            "07700 900123",
            "01 23 45 67 89",
            "030 12345678",
            "98765 43210",
            "0412 345 678",
            "(02) 9876 5432",
            "(11) 91234-5678",
        ] {
            let text = format!("call {yes} today");
            assert_eq!(spans("phone", &p, &text), vec![yes], "{yes}");
        }
        for no in [
            "ISBN 978-3-16-148410-0",
            "2024-05-01",
            "$1,299.99",
            "version 1.2.3",
            "order 12345678",
            "123-456-7890",
            "2025550143",
            "12:34:56",
            "+1 2 3",
            "+0 123 456 789",
            "x+12025550143",
            "202-555-0143-7",
            "+1 202 555 0143 2024",
        ] {
            assert!(!fires("phone", &p, no), "{no}");
        }
        let plus = json!({"require_plus": true});
        assert!(!fires("phone", &plus, "(202) 555-0143"));
        assert!(fires("phone", &plus, "+1 202-555-0143"));
        let fr = json!({"regions": ["FR"]});
        assert!(!fires("phone", &fr, "(202) 555-0143"));
        assert!(fires("phone", &fr, "01 23 45 67 89"));
        let uk = json!({"regions": ["uk"]});
        assert!(fires("phone", &uk, "020 7946 0958"));
        let long = json!({"min_digits": 12});
        assert!(!fires("phone", &long, "+1 202-555-0143"));
        assert!(fires("phone", &long, "+44 7700 900123"));
        assert_eq!(
            error("phone", json!({"regions": ["us", "xx"]})).path,
            "regions[1]"
        );
        assert_eq!(error("phone", json!({"regions": []})).path, "regions");
        assert_eq!(error("phone", json!({"min_digits": 2})).path, "min_digits");
    }

    #[test]
    fn payment_card_needs_luhn_brand_and_layout() {
        let p = none();
        for yes in [
            "4111 1111 1111 1111",
            "4242-4242-4242-4242",
            "3782 822463 10005",
            "5555555555554444",
            "2223 0031 2200 3222",
            "6011 1111 1111 1117",
            "3530 1113 3330 0000",
            "3056 930902 5904",
            "6200 0000 0000 0005",
            "(4111111111111111)",
        ] {
            let text = format!("pay with {yes}.");
            let want = yes.trim_matches(['(', ')']);
            assert_eq!(spans("payment_card", &p, &text), vec![want], "{yes}");
        }
        let mut rng = fastrand::Rng::with_seed(7);
        // An IMEI passes Luhn and may start with 35, like JCB; it has 15 digits, JCB 16–19.
        let imei = luhn_number(&mut rng, "35", 15);
        // A Luhn-valid number with no brand's prefix.
        let unbranded = luhn_number(&mut rng, "9", 16);
        for no in [
            "4111 1111 1111 1112",
            "0000 0000 0000 0000",
            "4111 1111-1111 1111",
            "41 11 11 11 11 11 11 11",
            "+4111111111111111",
            "id4111111111111111",
            imei.as_str(),
            unbranded.as_str(),
        ] {
            assert!(!fires("payment_card", &p, no), "{no}");
        }
        let amex = json!({"brands": ["amex"]});
        assert!(!fires("payment_card", &amex, "4111 1111 1111 1111"));
        assert!(fires("payment_card", &amex, "3782 822463 10005"));
        let real = json!({"allow_test_cards": true});
        assert!(!fires("payment_card", &real, "4111 1111 1111 1111"));
        let visa = luhn_number(&mut rng, "4", 16);
        assert!(fires("payment_card", &real, &visa), "{visa}");
        let keep = json!({"keep_last": 4});
        assert_eq!(
            spans("payment_card", &keep, "4111 1111 1111 1111"),
            vec!["4111 1111 1111"]
        );
        assert_eq!(
            error("payment_card", json!({"keep_last": 5})).path,
            "keep_last"
        );
        assert_eq!(
            error("payment_card", json!({"brands": ["visa", "amx"]})).path,
            "brands[1]"
        );
    }

    #[test]
    fn published_test_cards_pass_luhn_and_a_brand() {
        for c in TEST_CARDS {
            let d: Vec<u8> = c.bytes().map(|c| c - b'0').collect();
            assert!(luhn(&d), "{c}");
            assert!(brand(&d).is_some(), "{c}");
        }
    }

    #[test]
    fn iban_checks_country_length_and_mod_97() {
        let p = none();
        for yes in [
            "GB82 WEST 1234 5698 7654 32",
            "DE89 3704 0044 0532 0130 00",
            "GB82WEST12345698765432",
            "gb82west12345698765432",
            "NO93 8601 1117 947",
            "FR14 2004 1010 0505 0001 3M02 606",
            "NL91 ABNA 0417 1643 00",
        ] {
            let text = format!("IBAN: {yes}, ref 7");
            assert_eq!(spans("iban", &p, &text), vec![yes], "{yes}");
        }
        for no in [
            "GB28 NWBK 6016 1331 9268 19",
            "GB82WEST123456987654321",
            "GB82 WEST 1234 5698 7654 3",
            "QQ82WEST12345698765432",
            "Gb82WEST12345698765432",
            "XGB82WEST12345698765432",
            "GB82  WEST 1234 5698 7654 32",
        ] {
            assert!(!fires("iban", &p, no), "{no}");
        }
        let two = "GB82WEST12345698765432 DE89370400440532013000";
        assert_eq!(spans("iban", &p, two).len(), 2);
        let de = json!({"countries": ["de"]});
        assert!(!fires("iban", &de, "GB82 WEST 1234 5698 7654 32"));
        assert!(fires("iban", &de, "DE89 3704 0044 0532 0130 00"));
        assert_eq!(
            error("iban", json!({"countries": ["QQ"]})).path,
            "countries[0]"
        );
    }

    #[test]
    fn us_ssn_rejects_never_issued_numbers() {
        let p = none();
        for yes in ["536-44-1290", "536 44 1290", "912-70-1234"] {
            assert_eq!(spans("us_ssn", &p, &format!("SSN {yes}.")), vec![yes]);
        }
        for no in [
            "666-12-3456",
            "078-05-1120",
            "123-45-0000",
            "000-12-3456",
            "536-00-1290",
            "123-45-6789",
            "987-65-4321",
            "912-40-1234",
            "111-11-1111",
            "536441290",
            "536-44 1290",
            "part 536-441-290",
            "536-44-1290-7",
        ] {
            assert!(!fires("us_ssn", &p, no), "{no}");
        }
        let no_itin = json!({"include_itin": false});
        assert!(!fires("us_ssn", &no_itin, "912-70-1234"));
        let bare = json!({"require_separators": false});
        assert_eq!(
            spans("us_ssn", &bare, "My SSN: 536441290"),
            vec!["536441290"]
        );
        assert!(!fires("us_ssn", &bare, "order 536441290"));
        let anywhere = json!({"require_separators": false, "context_words": []});
        assert!(fires("us_ssn", &anywhere, "order 536441290"));
        let own = json!({"require_separators": false, "context_words": ["Member ID"]});
        assert!(fires("us_ssn", &own, "member id 536441290"));
        assert_eq!(
            error("us_ssn", json!({"context_words": ["ssn", " "]})).path,
            "context_words[1]"
        );
    }

    #[test]
    fn uk_nhs_checks_mod_11() {
        let p = none();
        for yes in ["999 000 0018", "943 476 5919", "943-476-5919"] {
            assert_eq!(spans("uk_nhs", &p, &format!("NHS {yes}")), vec![yes]);
        }
        for no in [
            "943 476 5918",
            "9434765919",
            "000 000 0000",
            "943 4765 919",
            "943-476 5919",
        ] {
            assert!(!fires("uk_nhs", &p, no), "{no}");
        }
        // 999 123 456 has check value 10: never issued, whatever the last digit.
        for last in 0..10 {
            assert!(!fires("uk_nhs", &p, &format!("999 123 456{last}")));
        }
        assert!(fires(
            "uk_nhs",
            &json!({"require_format": false}),
            "9434765919"
        ));
        let real = json!({"allow_test_range": true});
        assert!(!fires("uk_nhs", &real, "999 000 0018"));
        assert!(fires("uk_nhs", &real, "943 476 5919"));
        assert_eq!(
            crate::catalogue::build("uk_nhs", &none())
                .unwrap()
                .sources(),
            IO
        );
    }

    #[test]
    fn es_dni_nie_checks_the_letter() {
        let p = none();
        for yes in [
            "12345678Z",
            "X1234567L",
            "Y1234567X",
            "12345678-Z",
            "12.345.678-Z",
            "12345678z",
            "12345667 A",
        ] {
            assert_eq!(
                spans("es_dni_nie", &p, &format!("DNI {yes}.")),
                vec![yes],
                "{yes}"
            );
        }
        for no in [
            "12345678A",
            "112345678Z",
            "X1234567M",
            "12345667 a",
            "A12345678Z",
            "12345678ZA",
        ] {
            assert!(!fires("es_dni_nie", &p, no), "{no}");
        }
        // I, Ñ, O and U are never check letters.
        assert!(!DNI_LETTERS.iter().any(|c| b"IOU".contains(c)));
        assert!(error("es_dni_nie", json!({"strict": true}))
            .message
            .contains("unknown field"));
    }

    #[test]
    fn in_aadhaar_checks_verhoeff() {
        assert!(verhoeff(&[2, 3, 6, 3]));
        assert!(!verhoeff(&[2, 3, 6, 4]));
        let p = none();
        for yes in ["2345 6789 0124", "2345-6789-0124"] {
            assert_eq!(
                spans("in_aadhaar", &p, &format!("Aadhaar {yes}")),
                vec![yes]
            );
        }
        for no in [
            "2345 6789 0123",
            "1234 5678 9012",
            "234567890124",
            "2345 6789 0124 5678",
            "2345 6789-0124",
        ] {
            assert!(!fires("in_aadhaar", &p, no), "{no}");
        }
        // A swap of two adjacent digits is caught.
        assert!(!fires("in_aadhaar", &p, "2345 6789 0214"));
        assert!(fires(
            "in_aadhaar",
            &json!({"require_format": false}),
            "234567890124"
        ));
        assert_eq!(
            error("in_aadhaar", json!({"require_format": "yes"})).path,
            "require_format"
        );
    }

    #[test]
    fn br_cpf_checks_both_digits() {
        let p = none();
        for yes in ["111.444.777-35", "111444777-35"] {
            assert_eq!(spans("br_cpf", &p, &format!("CPF {yes}")), vec![yes]);
        }
        for no in [
            "111.444.777-36",
            "111.111.111-11",
            "11144477735",
            "(11) 91234-5678",
            "111-444-777.35",
        ] {
            assert!(!fires("br_cpf", &p, no), "{no}");
        }
        assert!(fires(
            "br_cpf",
            &json!({"require_format": false}),
            "11144477735"
        ));
        assert!(!fires("br_cpf", &p, "CNPJ 11.222.333/0001-81"));
        let cnpj = json!({"include_cnpj": true});
        for yes in ["11.222.333/0001-81", "12.ABC.345/01DE-35"] {
            let f = fires_on("br_cpf", &cnpj, &format!("CNPJ {yes}"));
            assert_eq!(f.len(), 1, "{yes}");
            assert_eq!(f[0].label, "br_cnpj");
        }
        assert!(!fires("br_cpf", &cnpj, "11.222.333/0001-82"));
        assert!(!fires("br_cpf", &cnpj, "11222333000181"));
        assert!(fires(
            "br_cpf",
            &json!({"include_cnpj": true, "require_format": false}),
            "11222333000181"
        ));
    }

    #[test]
    fn national_ids_more_checks_each_sub_rule() {
        let p = none();
        for (text, label) in [
            ("SIN: 046 454 286", "ca_sin"),
            ("BSN 111222333", "nl_bsn"),
            ("numer PESEL 44051401359", "pl_pesel"),
            ("身份证 11010519491231002X", "cn_id"),
            ("routing number 021000021", "us_aba"),
            ("PAN ABCPE1234F", "in_pan"),
        ] {
            let f = fires_on("national_ids_more", &p, text);
            assert_eq!(f.len(), 1, "{text}: {f:?}");
            assert_eq!(f[0].label, label, "{text}");
        }
        for no in [
            "SIN: 046 454 287",
            "BSN 111222334",
            "PESEL 44051401358",
            "110105194912310021",
            "routing number 021000022",
            "PAN ABCQE1234F",
            "PESEL 44133101356",
            "046 454 286",
            "using 046454286",
            "111222333",
        ] {
            assert!(!fires("national_ids_more", &p, no), "{no}");
        }
        let bare = json!({"require_context": false});
        assert_eq!(
            fires_on("national_ids_more", &bare, "046 454 286")[0].label,
            "ca_sin"
        );
        assert_eq!(
            fires_on("national_ids_more", &bare, "1112.22.333")[0].label,
            "nl_bsn"
        );
        assert_eq!(
            fires_on("national_ids_more", &bare, "44051401359")[0].label,
            "pl_pesel"
        );
        let cn = json!({"enabled": ["cn_id"]});
        assert!(!fires("national_ids_more", &cn, "SIN: 046 454 286"));
        assert!(fires("national_ids_more", &cn, "11010519491231002x"));
        assert_eq!(
            error("national_ids_more", json!({"enabled": ["ca_sin", "ssn"]})).path,
            "enabled[1]"
        );
    }

    #[test]
    fn ip_address_parses_and_excludes_ranges() {
        let p = none();
        for (text, want) in [
            ("host 203.0.113.7 is up", "203.0.113.7"),
            ("host 2001:db8::1 is up", "2001:db8::1"),
            ("mapped ::ffff:192.0.2.1 here", "::ffff:192.0.2.1"),
            ("[2001:db8::1]:8080", "2001:db8::1"),
            ("at 2001:db8::1: it failed", "2001:db8::1"),
            ("link fe80::1 only", "fe80::1"),
            ("dns 8.8.8.8.", "8.8.8.8"),
            ("loopback ::1", "::1"),
        ] {
            assert_eq!(spans("ip_address", &p, text), vec![want], "{text}");
        }
        for no in [
            "256.1.1.1",
            "1.2.3",
            "version 1.2.3.4",
            "v1.2.3.4",
            "1.3.6.1.4.1.311",
            "std::vector<int>",
            "00:1A:2B:3C:4D:5E",
            "12:34:56",
            "010.0.0.1",
            "Foo::bar::baz",
            "a :: b",
            "2001:db8::1::2",
        ] {
            assert!(!fires("ip_address", &p, no), "{no}");
        }
        let doc = json!({"exclude": ["doc"]});
        assert!(!fires("ip_address", &doc, "203.0.113.7 and 2001:db8::1"));
        assert!(fires("ip_address", &doc, "8.8.8.8"));
        let private = json!({"exclude": ["private", "loopback", "link_local"]});
        for no in [
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "100.64.0.1",
            "127.0.0.1",
            "::1",
            "fd00::1",
            "169.254.1.1",
            "fe80::1",
        ] {
            assert!(!fires("ip_address", &private, no), "{no}");
        }
        assert!(fires("ip_address", &private, "172.32.0.1"));
        assert_eq!(
            error("ip_address", json!({"exclude": ["public"]})).path,
            "exclude[0]"
        );
    }

    #[test]
    fn crypto_address_verifies_checksums() {
        let p = none();
        for yes in [
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
            "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
            "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
            "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
            "BC1SW50QGDZ25J",
            "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs",
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
            "0x52908400098527886E0F7030069857D2E4169EE7",
        ] {
            assert_eq!(
                spans("crypto_address", &p, &format!("send to {yes}.")),
                vec![yes],
                "{yes}"
            );
        }
        let flipped = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD";
        let mixed = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3T4";
        for no in [
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",
            flipped,
            mixed,
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
            "0x0000000000000000000000000000000000000000",
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
            // BIP-350's invalid addresses.
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
            "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
            "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",
            "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",
            "bc1pw5dgrnzv",
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",
            "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",
            "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
        ] {
            assert!(!fires("crypto_address", &p, no), "{no}");
        }
        // A transaction hash (0x and 64 hex) is no address.
        let mut rng = fastrand::Rng::with_seed(11);
        let tx: String =
            std::iter::repeat_with(|| char::from(b"0123456789abcdefABCDEF"[rng.usize(..22)]))
                .take(64)
                .collect();
        assert!(!fires("crypto_address", &p, &format!("0x{tx}")));
        let eth = json!({"chains": ["ETH"]});
        assert!(!fires(
            "crypto_address",
            &eth,
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
        ));
        assert!(fires(
            "crypto_address",
            &eth,
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
        ));
        assert_eq!(
            error("crypto_address", json!({"chains": ["doge"]})).path,
            "chains[0]"
        );
    }

    #[test]
    fn checks_read_their_catalogue_sources() {
        for id in [
            "uk_nhs",
            "es_dni_nie",
            "in_aadhaar",
            "br_cpf",
            "national_ids_more",
        ] {
            let c = crate::catalogue::build(id, &none()).unwrap();
            assert_eq!(c.sources(), IO, "{id}");
        }
        for id in [
            "email",
            "phone",
            "payment_card",
            "iban",
            "us_ssn",
            "ip_address",
            "crypto_address",
        ] {
            let c = crate::catalogue::build(id, &none()).unwrap();
            assert_eq!(c.sources(), crate::check::ALL, "{id}");
        }
        // A tool call's arguments are read like any text.
        let f = fires_on_as(
            "email",
            &none(),
            "{\"to\":\"jane@example.com\"}",
            Source::ToolCall,
        );
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn random_text_never_panics_and_spans_stay_on_boundaries() {
        let mut rng = fastrand::Rng::with_seed(5);
        let alphabet = [
            "1", "2", "4", "9", "0", " ", "-", ".", "/", "+", "(", ")", ":", "@", "x", "X", "a",
            "b", "c", "e", "f", "Z", "bc1", "0x", "é", "１", "\u{200B}", "😀", ",", "_",
        ];
        let checks: Vec<_> = ALL_CHECKS
            .iter()
            .map(|id| crate::catalogue::build(id, &none()).unwrap())
            .collect();
        for _ in 0..300 {
            let text: String = (0..rng.usize(0..60))
                .map(|_| alphabet[rng.usize(..alphabet.len())])
                .collect();
            let norm = crate::text::Normalized::new(&text);
            let s = Subject {
                raw: &text,
                norm: &norm,
                source: Source::Input,
                tool: None,
            };
            for c in &checks {
                let mut out = Vec::new();
                c.text(&s, &mut out);
                for f in out {
                    let r = f.span.unwrap();
                    assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
                    assert!(
                        r.start < r.end && r.end <= text.len(),
                        "{} {text:?}",
                        c.id()
                    );
                }
            }
        }
    }

    #[test]
    fn long_pathological_text_runs_in_linear_time() {
        let inputs = [
            "1 ".repeat(40_000),
            "1-".repeat(40_000),
            "+1".repeat(40_000),
            "(1)".repeat(30_000),
            "a@".repeat(40_000),
            "a.".repeat(40_000),
            ":".repeat(80_000),
            "1.".repeat(40_000),
            "1".repeat(80_000),
            format!("0x{}", "a".repeat(80_000)),
            format!("bc1{}", "q".repeat(80_000)),
            "GB82 ".repeat(20_000),
        ];
        let checks: Vec<_> = ALL_CHECKS
            .iter()
            .map(|id| crate::catalogue::build(id, &none()).unwrap())
            .collect();
        for text in &inputs {
            let norm = crate::text::Normalized::new(text);
            let s = Subject {
                raw: text,
                norm: &norm,
                source: Source::Input,
                tool: None,
            };
            for c in &checks {
                let t = std::time::Instant::now();
                let mut out = Vec::new();
                c.text(&s, &mut out);
                let took = t.elapsed();
                assert!(
                    took < std::time::Duration::from_secs(3),
                    "{} took {took:?} on {:?}...",
                    c.id(),
                    &text[..10]
                );
            }
        }
    }
}
