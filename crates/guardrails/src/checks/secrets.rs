//! Secrets: cloud and vendor credentials by their published shapes (with the checksum where a
//! format has one), private keys, JSON Web Tokens, random-looking strings, and values given to
//! credential-like names. Every finding has a span, so all of them can be masked.
//!
//! Documented examples (AWS's `…EXAMPLE` keys, vendors' sample tokens, the storage emulator's
//! published key, jwt.io's sample) and placeholders (`XXXX`, runs, sequences, "your_…") never
//! fire.

use crate::catalogue::Entry;
use crate::check::{params, Check, Finding, ParamError, Span, Subject};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use regex::Regex;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::ops::Range;

pub const CHECKS: &[Entry] = &[
    Entry {
        id: "aws_keys",
        family: "secrets",
        summary: "AWS access key ids, secret keys (by name or beside an id) and Bedrock API keys",
        build: AwsKeys::build,
    },
    Entry {
        id: "gcp_keys",
        family: "secrets",
        summary: "Google API keys, OAuth tokens, client secrets and service-account private keys",
        build: GcpKeys::build,
    },
    Entry {
        id: "azure_keys",
        family: "secrets",
        summary: "Azure storage account keys, SAS signatures and Entra client secrets",
        build: AzureKeys::build,
    },
    Entry {
        id: "code_host_tokens",
        family: "secrets",
        summary: "GitHub (checksum verified), GitLab, npm and PyPI tokens",
        build: CodeHostTokens::build,
    },
    Entry {
        id: "slack_tokens",
        family: "secrets",
        summary: "Slack bot, user, app and configuration tokens, and webhook URLs",
        build: SlackTokens::build,
    },
    Entry {
        id: "stripe_keys",
        family: "secrets",
        summary: "Stripe secret and restricted keys, webhook signing secrets",
        build: StripeKeys::build,
    },
    Entry {
        id: "llm_vendor_keys",
        family: "secrets",
        summary: "model vendors' API keys (OpenAI, Anthropic, Hugging Face...) and the gateway's own keys",
        build: LlmVendorKeys::build,
    },
    Entry {
        id: "saas_tokens",
        family: "secrets",
        summary: "other prefixed tokens: SendGrid, Twilio, Shopify, DigitalOcean, Vault, Grafana...",
        build: SaasTokens::build,
    },
    Entry {
        id: "private_key",
        family: "secrets",
        summary: "PEM, OpenSSH, PGP and PuTTY private keys, private JWK members",
        build: PrivateKey::build,
    },
    Entry {
        id: "jwt",
        family: "secrets",
        summary: "JSON Web Tokens whose header and payload decode to JSON",
        build: Jwt::build,
    },
    Entry {
        id: "high_entropy",
        family: "secrets",
        summary: "random-looking strings (Shannon entropy over base64 or hex limits)",
        build: HighEntropy::build,
    },
    Entry {
        id: "credential_assignment",
        family: "secrets",
        summary: "values given to credential-like names, passwords in URLs, Authorization headers",
        build: CredentialAssignment::build,
    },
];

// ---------------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------------

/// Compiles one of this file's own patterns (an error would be a bug, reported, not a panic).
fn builtin(pattern: &str) -> Result<Regex, ParamError> {
    Regex::new(pattern)
        .map_err(|e| ParamError::new("", format!("built-in pattern failed to compile: {e}")))
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Token characters: letters, digits, `_`, `-`.
fn is_tok(c: char) -> bool {
    is_word(c) || c == '-'
}

/// Base64 characters, padding included.
fn is_b64(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')
}

/// Base64 of either alphabet, padding included.
fn is_b64_any(c: char) -> bool {
    is_b64(c) || c == '_' || c == '-'
}

/// Entra client secrets' characters.
fn is_entra(c: char) -> bool {
    is_tok(c) || matches!(c, '~' | '.')
}

fn char_before(text: &str, at: usize) -> Option<char> {
    text.get(..at)?.chars().next_back()
}

fn char_after(text: &str, at: usize) -> Option<char> {
    text.get(at..)?.chars().next()
}

/// No character of the token's own kind touches `r` on either side.
fn isolated(text: &str, r: &Range<usize>, body: fn(char) -> bool) -> bool {
    !char_before(text, r.start).is_some_and(body) && !char_after(text, r.end).is_some_and(body)
}

/// `i` moved down to a character boundary.
fn floor(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// `i` moved up to a character boundary.
fn ceil(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Shannon entropy in bits per character: H = −Σ p·log₂p over the string's own characters.
fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    let mut n = 0u32;
    for b in s.bytes() {
        counts[usize::from(b)] += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let n = f64::from(n);
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = f64::from(*c) / n;
            -p * p.log2()
        })
        .sum()
}

/// The longest run of one repeated character.
fn longest_repeat(s: &str) -> usize {
    let (mut best, mut run, mut prev) = (0, 0, None);
    for c in s.chars() {
        run = if Some(c) == prev { run + 1 } else { 1 };
        prev = Some(c);
        best = best.max(run);
    }
    best
}

/// The longest run of letters or digits counting up or down by one (`123456`, `abcdef`).
fn longest_sequence(s: &str) -> usize {
    let (mut best, mut up, mut down) = (0usize, 0usize, 0usize);
    let mut prev: Option<u32> = None;
    for c in s.chars() {
        if !c.is_ascii_alphanumeric() {
            prev = None;
            up = 0;
            down = 0;
            continue;
        }
        let v = u32::from(c.to_ascii_lowercase());
        match prev {
            Some(p) if v == p + 1 => {
                up += 1;
                down = 1;
            }
            Some(p) if p == v + 1 => {
                down += 1;
                up = 1;
            }
            _ => {
                up = 1;
                down = 1;
            }
        }
        prev = Some(v);
        best = best.max(up).max(down);
    }
    best
}

/// Words that mark a documentation placeholder rather than a credential.
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "sample",
    "dummy",
    "placeholder",
    "notreal",
    "not-a-real",
    "not_a_real",
    "fake",
    "xxxx",
    "redacted",
    "changeme",
    "your-",
    "your_",
    "yourkey",
    "yoursecret",
    "yourtoken",
    "insert",
    "replace",
    "...",
    "***",
    "…",
];

/// A documentation placeholder: a marking word, a long run of one character, a counting
/// sequence, or too few distinct characters to be random.
fn placeholder(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if PLACEHOLDER_WORDS.iter().any(|w| lower.contains(w)) {
        return true;
    }
    if longest_repeat(s) >= 6 || longest_sequence(s) >= 6 {
        return true;
    }
    let mut seen = [false; 128];
    let mut distinct = 0;
    for b in s.bytes().filter(u8::is_ascii_alphanumeric) {
        let slot = &mut seen[usize::from(b & 0x7f)];
        if !*slot {
            *slot = true;
            distinct += 1;
        }
    }
    s.len() >= 16 && distinct < 6
}

/// SHA-256 (hex) of tokens vendors publish in their documentation: Stripe's two sample secret
/// keys, the Azure storage emulator's account key, GitHub's sample token body, Slack's sample
/// bot token. Kept as hashes so this file holds no key-shaped text.
const DOCUMENTED: &[&str] = &[
    "2cafc0970149a84f3b9e62eaf169f36f59907a3b3e31f7b82e68c69cd27f7326",
    "f2d6ca16515033e5dce14eba840b979d27b5cbae24bb3e5bf484339667f86397",
    "0011cc25eb4320717494d2703e8cba85743e71b500283c21c8b88147992f9059",
    "7e498f91828a193cac5ecbe78ab47c6cae601d6d9edc40c59310c0e305db85ea",
    "2ddc147f3a3b5a1722b8ed6be3c45c49a7156b17fca5d11410137a6d04def6eb",
];

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A published documentation token (whole, or its part after the first `_`).
fn documented(token: &str) -> bool {
    let known = |s: &str| DOCUMENTED.contains(&sha256_hex(s).as_str());
    known(token) || token.split_once('_').is_some_and(|(_, rest)| known(rest))
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), the table built at compile time.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for b in data {
        c = CRC_TABLE[((c ^ u32::from(*b)) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

/// The value of base62 digits (`0-9A-Za-z`, most significant first).
fn base62_value(s: &str) -> Option<u64> {
    s.bytes().try_fold(0u64, |acc, b| {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'A'..=b'Z' => b - b'A' + 10,
            b'a'..=b'z' => b - b'a' + 36,
            _ => return None,
        };
        acc.checked_mul(62)?.checked_add(u64::from(d))
    })
}

/// `check` (6 base62 digits) is the CRC-32 of `body`.
fn crc_matches(body: &str, check: &str) -> bool {
    check.len() == 6 && base62_value(check) == Some(u64::from(crc32(body.as_bytes())))
}

/// Base64 decoders that accept padding or none and ignore stray trailing bits.
const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_allow_trailing_bits(true)
    .with_decode_padding_mode(DecodePaddingMode::Indifferent);
const B64_STD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
const B64_URL: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

/// Sorted ranges: whether one lies within `reach` bytes of `r`.
fn near(sorted: &[Range<usize>], r: &Range<usize>, reach: usize) -> bool {
    let i = sorted.partition_point(|x| x.start <= r.start);
    let gap = |x: &Range<usize>| {
        if x.start >= r.end {
            x.start - r.end
        } else {
            r.start.saturating_sub(x.end)
        }
    };
    sorted.get(i).is_some_and(|x| gap(x) <= reach)
        || i.checked_sub(1)
            .and_then(|j| sorted.get(j))
            .is_some_and(|x| gap(x) <= reach)
}

/// A token format: a pattern (group 1, when present, is the secret and the pattern's prefix
/// anchors its left side), its longest match, and the characters it is made of (none may touch
/// it).
struct Shape {
    /// What selects it in a check's parameters (`vendors`, `rules`), or its variant.
    name: &'static str,
    label: &'static str,
    pattern: &'static str,
    max: usize,
    body: fn(char) -> bool,
}

const fn shape(
    name: &'static str,
    label: &'static str,
    pattern: &'static str,
    max: usize,
    body: fn(char) -> bool,
) -> Shape {
    Shape {
        name,
        label,
        pattern,
        max,
        body,
    }
}

/// A set of shapes, compiled.
struct Shapes {
    list: Vec<(&'static Shape, Regex)>,
}

/// One well-formed match.
struct Hit<'t> {
    shape: &'static Shape,
    range: Range<usize>,
    token: &'t str,
}

impl Shapes {
    fn new(all: &'static [Shape], keep: impl Fn(&Shape) -> bool) -> Result<Shapes, ParamError> {
        let list = all
            .iter()
            .filter(|s| keep(s))
            .map(|s| Ok((s, builtin(s.pattern)?)))
            .collect::<Result<_, ParamError>>()?;
        Ok(Shapes { list })
    }

    /// The longest token any of them matches.
    fn longest(&self) -> usize {
        self.list.iter().map(|(s, _)| s.max).max().unwrap_or(0)
    }

    /// Isolated matches within their length that are neither placeholders nor documented.
    fn find<'t>(&self, text: &'t str) -> Vec<Hit<'t>> {
        let mut out = Vec::new();
        for &(shape, ref re) in &self.list {
            let grouped = re.captures_len() > 1;
            let mut consider = |range: Range<usize>, left: bool| {
                let Some(token) = text.get(range.clone()) else {
                    return;
                };
                let bounded = if left {
                    isolated(text, &range, shape.body)
                } else {
                    !char_after(text, range.end).is_some_and(shape.body)
                };
                if bounded && token.len() <= shape.max && !placeholder(token) && !documented(token)
                {
                    out.push(Hit {
                        shape,
                        range,
                        token,
                    });
                }
            };
            if grouped {
                for c in re.captures_iter(text) {
                    if let Some(g) = c.get(1) {
                        consider(g.range(), false);
                    }
                }
            } else {
                for m in re.find_iter(text) {
                    consider(m.range(), true);
                }
            }
        }
        out
    }
}

/// Validates a list of names against the known ones.
fn known_names(
    field: &str,
    names: &[String],
    known: &[&'static str],
) -> Result<Vec<&'static str>, ParamError> {
    if names.is_empty() {
        return Err(ParamError::new(field, "at least one name"));
    }
    names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            known.iter().copied().find(|k| k == n).ok_or_else(|| {
                ParamError::new(
                    format!("{field}[{i}]"),
                    format!("unknown name \"{n}\"; known: {}", known.join(", ")),
                )
            })
        })
        .collect()
}

/// Distinct names of shapes, in order.
fn shape_names(all: &[Shape]) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for s in all {
        if !names.contains(&s.name) {
            names.push(s.name);
        }
    }
    names
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoParams {}

// ---------------------------------------------------------------------------------------------
// aws_keys
// ---------------------------------------------------------------------------------------------

const AWS_SHAPES: &[Shape] = &[
    shape(
        "access_key_id",
        "aws_access_key",
        r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}",
        20,
        is_word,
    ),
    shape(
        "bedrock",
        "aws_bedrock_key",
        r"ABSK[A-Za-z0-9+/]{109,}={0,2}",
        280,
        is_b64,
    ),
    shape(
        "bedrock",
        "aws_bedrock_key",
        r"bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/=%_-]*",
        2100,
        is_b64_any,
    ),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AwsParams {
    #[serde(default = "default_pair_window")]
    pair_window: usize,
}

fn default_pair_window() -> usize {
    300
}

/// AWS credentials.
pub struct AwsKeys {
    shapes: Shapes,
    /// A 40-character secret given to an AWS secret-key name.
    named: Regex,
    /// Runs that could be a secret key, to pair with an id.
    run: Regex,
    pair_window: usize,
}

impl AwsKeys {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: AwsParams = params(v)?;
        if p.pair_window > 4096 {
            return Err(ParamError::new("pair_window", "at most 4096 bytes"));
        }
        Ok(Box::new(AwsKeys {
            shapes: Shapes::new(AWS_SHAPES, |_| true)?,
            named: builtin(
                r#"(?i)(?:aws[_.\s-]?secret(?:[_.\s-]?access)?[_.\s-]?key|secret[_.\s-]?access[_.\s-]?key)["'\x60]?\s*(?:=>|:=|=|:)\s*["'\x60]?([A-Za-z0-9/+]{40})"#,
            )?,
            run: builtin(r"[A-Za-z0-9/+]+")?,
            pair_window: p.pair_window,
        }))
    }
}

/// A key id's 16 characters are random base32: an upper-case word (no digit, many vowels) that
/// happens to start with AKIA or ASIA is not one.
fn aws_id_random(token: &str) -> bool {
    let rest = token.get(4..).unwrap_or("");
    if rest.bytes().any(|b| b.is_ascii_digit()) {
        return true;
    }
    let vowels = rest
        .bytes()
        .filter(|b| matches!(b, b'A' | b'E' | b'I' | b'O' | b'U'))
        .count();
    vowels * 10 < rest.len() * 3
}

/// A secret access key mixes cases and digits or symbols (hex digests and words do not).
fn aws_secret_shaped(s: &str) -> bool {
    s.len() == 40
        && s.bytes().any(|b| b.is_ascii_uppercase())
        && s.bytes().any(|b| b.is_ascii_lowercase())
        && s.bytes()
            .any(|b| b.is_ascii_digit() || b == b'/' || b == b'+')
        && !placeholder(s)
}

impl Check for AwsKeys {
    fn id(&self) -> &'static str {
        "aws_keys"
    }

    fn span(&self) -> Span {
        Span::Bytes((self.pair_window + 80).max(self.shapes.longest()))
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let text = &s.norm.text;
        let mut ids = Vec::new();
        for h in self.shapes.find(text) {
            if h.shape.name == "access_key_id" {
                if !aws_id_random(h.token) {
                    continue;
                }
                ids.push(h.range.clone());
            }
            out.push(Finding::at(s.raw_range(h.range), h.shape.label));
        }
        let mut named = Vec::new();
        for c in self.named.captures_iter(text) {
            let Some(g) = c.get(1) else { continue };
            if isolated(text, &g.range(), is_b64) && aws_secret_shaped(g.as_str()) {
                named.push(g.start());
                out.push(Finding::at(s.raw_range(g.range()), "aws_secret_key"));
            }
        }
        if ids.is_empty() {
            return;
        }
        ids.sort_by_key(|r| r.start);
        for m in self.run.find_iter(text) {
            let r = m.range();
            if m.len() == 40
                && char_after(text, r.end) != Some('=')
                && !named.contains(&r.start)
                && aws_secret_shaped(m.as_str())
                && near(&ids, &r, self.pair_window)
            {
                out.push(Finding::at(s.raw_range(r), "aws_secret_key"));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// gcp_keys
// ---------------------------------------------------------------------------------------------

const GCP_SHAPES: &[Shape] = &[
    shape(
        "api_key",
        "google_api_key",
        r"AIza[A-Za-z0-9_-]{35}",
        39,
        is_tok,
    ),
    shape(
        "oauth_token",
        "google_oauth_token",
        r"ya29\.[A-Za-z0-9_-]{30,}",
        2048,
        is_tok,
    ),
    shape(
        "client_secret",
        "google_client_secret",
        r"GOCSPX-[A-Za-z0-9_-]{28}",
        35,
        is_tok,
    ),
];

/// How far a service account's `"type"` may be from its private key.
const SERVICE_ACCOUNT_REACH: usize = 4096;

/// Google credentials.
pub struct GcpKeys {
    shapes: Shapes,
    sa_type: Regex,
    sa_key: Regex,
    pem_end: Regex,
}

impl GcpKeys {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let _: NoParams = params(v)?;
        Ok(Box::new(GcpKeys {
            shapes: Shapes::new(GCP_SHAPES, |_| true)?,
            sa_type: builtin(r#""type"\s*:\s*"service_account""#)?,
            sa_key: builtin(r#""private_key"\s*:\s*"(-----BEGIN PRIVATE KEY-----)"#)?,
            pem_end: builtin(r"-----END PRIVATE KEY-----(?:\\n)?")?,
        }))
    }
}

impl Check for GcpKeys {
    fn id(&self) -> &'static str {
        "gcp_keys"
    }

    fn span(&self) -> Span {
        Span::Bytes(2 * SERVICE_ACCOUNT_REACH)
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let text = &s.norm.text;
        for h in self.shapes.find(text) {
            out.push(Finding::at(s.raw_range(h.range), h.shape.label));
        }
        let starts: Vec<usize> = self
            .sa_key
            .captures_iter(text)
            .filter_map(|c| c.get(1).map(|g| g.start()))
            .collect();
        if starts.is_empty() {
            return;
        }
        let types: Vec<Range<usize>> = self.sa_type.find_iter(text).map(|m| m.range()).collect();
        if types.is_empty() {
            return;
        }
        let ends: Vec<Range<usize>> = self.pem_end.find_iter(text).map(|m| m.range()).collect();
        let mut j = 0;
        for start in starts {
            while ends.get(j).is_some_and(|e| e.start < start) {
                j += 1;
            }
            let Some(end) = ends.get(j) else { break };
            if end.start - start > SERVICE_ACCOUNT_REACH {
                continue;
            }
            let key = start..end.end;
            let body = text.get(start..end.start).unwrap_or("");
            if near(&types, &key, SERVICE_ACCOUNT_REACH) && key_body(body, 64) {
                out.push(Finding::at(s.raw_range(key), "gcp_service_account_key"));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// azure_keys
// ---------------------------------------------------------------------------------------------

const AZURE_SHAPES: &[Shape] = &[
    shape(
        "storage_key",
        "azure_storage_key",
        r"(?i:AccountKey)=([A-Za-z0-9+/]{86}==)",
        88,
        is_b64,
    ),
    shape(
        "shared_access_key",
        "azure_shared_access_key",
        r"(?i:SharedAccessKey)=([A-Za-z0-9+/]{43}=)",
        44,
        is_b64,
    ),
    shape(
        "client_secret",
        "azure_client_secret",
        r"[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}",
        40,
        is_entra,
    ),
];

/// How far around a SAS signature its URL's `sv=` is looked for.
const SAS_REACH: usize = 600;

/// Azure credentials.
pub struct AzureKeys {
    shapes: Shapes,
    sig: Regex,
    sv: Regex,
}

impl AzureKeys {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let _: NoParams = params(v)?;
        Ok(Box::new(AzureKeys {
            shapes: Shapes::new(AZURE_SHAPES, |_| true)?,
            sig: builtin(r"[?&;]sig=([A-Za-z0-9%+/=]{40,120})")?,
            sv: builtin(r"[?&;]sv=[0-9]{4}-[0-9]{2}-[0-9]{2}")?,
        }))
    }
}

/// The stretch of non-space, unquoted text around `r`, at most `reach` bytes either side.
fn url_around(text: &str, r: &Range<usize>, reach: usize) -> Range<usize> {
    let stop = |c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '\x60');
    let lo = floor(text, r.start.saturating_sub(reach));
    let hi = ceil(text, r.end.saturating_add(reach));
    let start = text
        .get(lo..r.start)
        .and_then(|b| {
            b.char_indices()
                .rev()
                .find(|(_, c)| stop(*c))
                .map(|(i, c)| lo + i + c.len_utf8())
        })
        .unwrap_or(lo);
    let end = text
        .get(r.end..hi)
        .and_then(|a| {
            a.char_indices()
                .find(|(_, c)| stop(*c))
                .map(|(i, _)| r.end + i)
        })
        .unwrap_or(hi);
    start..end
}

/// A SAS `sig` value: URL-encoded base64 of an HMAC-SHA256 (32 bytes).
fn sas_signature(v: &str) -> bool {
    let mut decoded = String::with_capacity(v.len());
    let mut rest = v;
    while let Some(i) = rest.find('%') {
        decoded.push_str(rest.get(..i).unwrap_or(""));
        let code = rest.get(i + 1..i + 3).unwrap_or("");
        let c = match code.to_ascii_uppercase().as_str() {
            "2B" => '+',
            "2F" => '/',
            "3D" => '=',
            _ => return false,
        };
        decoded.push(c);
        rest = rest.get(i + 3..).unwrap_or("");
    }
    decoded.push_str(rest);
    B64_STD.decode(decoded).is_ok_and(|b| b.len() == 32)
}

impl Check for AzureKeys {
    fn id(&self) -> &'static str {
        "azure_keys"
    }

    fn span(&self) -> Span {
        Span::Bytes(2 * SAS_REACH + 120)
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let text = &s.norm.text;
        for h in self.shapes.find(text) {
            out.push(Finding::at(s.raw_range(h.range), h.shape.label));
        }
        for c in self.sig.captures_iter(text) {
            let Some(g) = c.get(1) else { continue };
            let url = url_around(text, &g.range(), SAS_REACH);
            if text.get(url).is_some_and(|u| self.sv.is_match(u))
                && sas_signature(g.as_str())
                && !placeholder(g.as_str())
            {
                out.push(Finding::at(s.raw_range(g.range()), "azure_sas_signature"));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// code_host_tokens
// ---------------------------------------------------------------------------------------------

const CODE_HOST_SHAPES: &[Shape] = &[
    shape(
        "github_classic",
        "github_token",
        r"gh[pousr]_[A-Za-z0-9]{36}",
        40,
        is_word,
    ),
    shape(
        "github_fine_grained",
        "github_token",
        r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}",
        93,
        is_word,
    ),
    shape(
        "gitlab",
        "gitlab_token",
        r"(?:glpat|gldt|glrt|glft|glsoat|glffct)-[A-Za-z0-9_-]{20}",
        27,
        is_tok,
    ),
    shape(
        "gitlab",
        "gitlab_token",
        r"(?:glpat-|glrt-t[0-9]_)[A-Za-z0-9_-]{27,300}\.[0-9a-z]{2}[0-9a-z]{7}",
        330,
        is_tok,
    ),
    shape("gitlab", "gitlab_token", r"glptt-[0-9a-f]{40}", 46, is_tok),
    shape(
        "gitlab",
        "gitlab_token",
        r"glcbt-[0-9a-zA-Z]{1,5}_[0-9a-zA-Z_-]{20}",
        32,
        is_tok,
    ),
    shape(
        "gitlab",
        "gitlab_token",
        r"GR1348941[A-Za-z0-9_-]{20}",
        29,
        is_tok,
    ),
    shape("npm", "npm_token", r"npm_[A-Za-z0-9]{36}", 40, is_word),
    shape(
        "pypi",
        "pypi_token",
        r"pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,}",
        1100,
        is_tok,
    ),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeHostParams {
    #[serde(default = "yes")]
    verify_checksum: bool,
}

fn yes() -> bool {
    true
}

/// GitHub, GitLab, npm and PyPI tokens.
pub struct CodeHostTokens {
    shapes: Shapes,
    verify_checksum: bool,
}

impl CodeHostTokens {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: CodeHostParams = params(v)?;
        Ok(Box::new(CodeHostTokens {
            shapes: Shapes::new(CODE_HOST_SHAPES, |_| true)?,
            verify_checksum: p.verify_checksum,
        }))
    }
}

/// A classic GitHub token (`ghp_` + 30 random + 6): the last six characters are the base62
/// CRC-32 of the thirty before them.
fn github_checksum(token: &str) -> bool {
    match (token.get(4..34), token.get(34..)) {
        (Some(random), Some(check)) => crc_matches(random, check),
        _ => false,
    }
}

impl Check for CodeHostTokens {
    fn id(&self) -> &'static str {
        "code_host_tokens"
    }

    fn span(&self) -> Span {
        Span::Bytes(self.shapes.longest())
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        for h in self.shapes.find(&s.norm.text) {
            if self.verify_checksum && h.shape.name == "github_classic" && !github_checksum(h.token)
            {
                continue;
            }
            out.push(Finding::at(s.raw_range(h.range), h.shape.label));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// slack_tokens
// ---------------------------------------------------------------------------------------------

const SLACK_SHAPES: &[Shape] = &[
    shape(
        "bot",
        "slack_token",
        r"xoxb-[0-9]{10,13}-[0-9]{10,13}[A-Za-z0-9-]*",
        120,
        is_tok,
    ),
    shape(
        "user",
        "slack_token",
        r"xox[pe](?:-[0-9]{10,13}){3}-[A-Za-z0-9-]{28,34}",
        100,
        is_tok,
    ),
    shape(
        "app",
        "slack_token",
        r"xapp-[0-9]-[A-Z0-9]+-[0-9]+-[a-z0-9]+",
        160,
        is_tok,
    ),
    shape(
        "config",
        "slack_token",
        r"xoxe\.xox[bp]-[0-9]-[A-Za-z0-9]{163,166}",
        180,
        is_tok,
    ),
    shape(
        "config",
        "slack_token",
        r"xoxe-[0-9]-[A-Za-z0-9]{146}",
        160,
        is_tok,
    ),
    shape(
        "legacy",
        "slack_token",
        r"xox[os]-[0-9]+-[0-9]+-[0-9]+-[a-fA-F0-9]+",
        120,
        is_tok,
    ),
    shape(
        "legacy",
        "slack_token",
        r"xox[ar]-(?:[0-9]-)?[0-9a-zA-Z]{8,48}",
        60,
        is_tok,
    ),
    shape(
        "webhook",
        "slack_webhook",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/T[A-Z0-9]{6,12}/(?:[A-Z0-9]{6,24}/){1,2}[A-Za-z0-9]{20,40}",
        160,
        is_tok,
    ),
];

/// Slack tokens and webhooks.
pub struct SlackTokens {
    shapes: Shapes,
}

impl SlackTokens {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let _: NoParams = params(v)?;
        Ok(Box::new(SlackTokens {
            shapes: Shapes::new(SLACK_SHAPES, |_| true)?,
        }))
    }
}

impl Check for SlackTokens {
    fn id(&self) -> &'static str {
        "slack_tokens"
    }

    fn span(&self) -> Span {
        Span::Bytes(self.shapes.longest() + 16)
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        for h in self.shapes.find(&s.norm.text) {
            out.push(Finding::at(s.raw_range(h.range), h.shape.label));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// stripe_keys
// ---------------------------------------------------------------------------------------------

const STRIPE_SHAPES: &[Shape] = &[
    shape(
        "live",
        "stripe_secret_key",
        r"sk_live_[A-Za-z0-9]{10,99}",
        107,
        is_word,
    ),
    shape(
        "live",
        "stripe_restricted_key",
        r"rk_live_[A-Za-z0-9]{10,99}",
        107,
        is_word,
    ),
    shape(
        "test",
        "stripe_secret_key",
        r"sk_test_[A-Za-z0-9]{10,99}",
        107,
        is_word,
    ),
    shape(
        "test",
        "stripe_restricted_key",
        r"rk_test_[A-Za-z0-9]{10,99}",
        107,
        is_word,
    ),
    shape(
        "webhook",
        "stripe_webhook_secret",
        r"whsec_[A-Za-z0-9+/]{32,88}",
        94,
        is_b64_any,
    ),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StripeParams {
    #[serde(default = "yes")]
    include_test: bool,
}

/// Stripe secret and restricted keys, webhook secrets (publishable keys are public by design).
pub struct StripeKeys {
    shapes: Shapes,
}

impl StripeKeys {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: StripeParams = params(v)?;
        Ok(Box::new(StripeKeys {
            shapes: Shapes::new(STRIPE_SHAPES, |s| p.include_test || s.name != "test")?,
        }))
    }
}

impl Check for StripeKeys {
    fn id(&self) -> &'static str {
        "stripe_keys"
    }

    fn span(&self) -> Span {
        Span::Bytes(self.shapes.longest() + 8)
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        for h in self.shapes.find(&s.norm.text) {
            out.push(Finding::at(s.raw_range(h.range), h.shape.label));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// llm_vendor_keys
// ---------------------------------------------------------------------------------------------

const LLM_SHAPES: &[Shape] = &[
    shape(
        "openai",
        "openai_key",
        r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,100}T3BlbkFJ[A-Za-z0-9_-]{20,100}",
        230,
        is_tok,
    ),
    shape(
        "openai",
        "openai_key",
        r"sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}",
        51,
        is_tok,
    ),
    shape(
        "anthropic",
        "anthropic_key",
        r"sk-ant-api03-[A-Za-z0-9_-]{93}AA",
        108,
        is_tok,
    ),
    shape(
        "anthropic",
        "anthropic_admin_key",
        r"sk-ant-admin01-[A-Za-z0-9_-]{93}AA",
        110,
        is_tok,
    ),
    shape(
        "anthropic",
        "anthropic_oauth_token",
        r"sk-ant-o[ar]t01-[A-Za-z0-9_-]{80,120}",
        133,
        is_tok,
    ),
    shape(
        "huggingface",
        "huggingface_token",
        r"hf_[A-Za-z]{34}",
        37,
        is_word,
    ),
    shape(
        "huggingface",
        "huggingface_token",
        r"api_org_[A-Za-z]{34}",
        42,
        is_word,
    ),
    shape("groq", "groq_key", r"gsk_[A-Za-z0-9]{48}", 52, is_word),
    shape(
        "perplexity",
        "perplexity_key",
        r"pplx-[A-Za-z0-9]{48}",
        53,
        is_tok,
    ),
    shape(
        "databricks",
        "databricks_token",
        r"dapi[a-f0-9]{32}(?:-[0-9])?",
        38,
        is_tok,
    ),
    shape(
        "openrouter",
        "openrouter_key",
        r"sk-or-v1-[a-f0-9]{64}",
        73,
        is_tok,
    ),
    shape("xai", "xai_key", r"xai-[A-Za-z0-9_]{80}", 84, is_tok),
    shape(
        "replicate",
        "replicate_token",
        r"r8_[A-Za-z0-9_-]{37}",
        40,
        is_tok,
    ),
];

/// The gateway's own key prefixes (`sk-sy-<12 id>-<32 secret><6 check>`, admin `sk-sya-`).
const GATEWAY_PREFIXES: &[&str] = &["sk-sy-", "sk-sya-"];

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LlmParams {
    vendors: Option<Vec<String>>,
    own_prefix: Option<OneOrMany>,
}

/// Model vendors' keys and the gateway's own.
pub struct LlmVendorKeys {
    shapes: Shapes,
    /// Each own prefix and its pattern.
    own: Vec<(String, Regex)>,
}

impl LlmVendorKeys {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: LlmParams = params(v)?;
        let vendors = match &p.vendors {
            Some(list) => known_names("vendors", list, &shape_names(LLM_SHAPES))?,
            None => shape_names(LLM_SHAPES),
        };
        let (prefixes, single): (Vec<String>, bool) = match p.own_prefix {
            None => (
                GATEWAY_PREFIXES.iter().map(|s| (*s).to_owned()).collect(),
                false,
            ),
            Some(OneOrMany::One(s)) => (vec![s], true),
            Some(OneOrMany::Many(v)) => (v, false),
        };
        let mut own = Vec::with_capacity(prefixes.len());
        for (i, prefix) in prefixes.into_iter().enumerate() {
            let at = if single {
                "own_prefix".to_owned()
            } else {
                format!("own_prefix[{i}]")
            };
            if prefix.chars().count() < 3 || prefix.chars().any(char::is_whitespace) {
                return Err(ParamError::new(
                    at,
                    "a prefix of 3 or more characters without spaces (an empty list turns it off)",
                ));
            }
            let re = builtin(&format!(
                "{}[A-Za-z0-9_-]{{16,120}}",
                regex::escape(&prefix)
            ))?;
            own.push((prefix, re));
        }
        Ok(Box::new(LlmVendorKeys {
            shapes: Shapes::new(LLM_SHAPES, |s| vendors.contains(&s.name))?,
            own,
        }))
    }

    /// Whether an own-prefixed token is a key: the gateway's layout (12-character id, `-`, 32
    /// random and a 6-character CRC-32 of all before) must check out; other layouts under a
    /// custom prefix count by shape.
    fn own_key(prefix: &str, token: &str) -> bool {
        let rest = token.get(prefix.len()..).unwrap_or("");
        let layout = rest.len() == 51
            && rest.as_bytes().get(12) == Some(&b'-')
            && rest
                .bytes()
                .enumerate()
                .all(|(i, b)| i == 12 || b.is_ascii_alphanumeric());
        if layout {
            let cut = token.len().saturating_sub(6);
            return match (token.get(..cut), token.get(cut..)) {
                (Some(body), Some(check)) => crc_matches(body, check),
                _ => false,
            };
        }
        !GATEWAY_PREFIXES.contains(&prefix)
    }
}

impl Check for LlmVendorKeys {
    fn id(&self) -> &'static str {
        "llm_vendor_keys"
    }

    fn span(&self) -> Span {
        let own = self
            .own
            .iter()
            .map(|(p, _)| p.len() + 120)
            .max()
            .unwrap_or(0);
        Span::Bytes(self.shapes.longest().max(own) + 8)
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let text = &s.norm.text;
        for h in self.shapes.find(text) {
            out.push(Finding::at(s.raw_range(h.range), h.shape.label));
        }
        for (prefix, re) in &self.own {
            for m in re.find_iter(text) {
                let r = m.range();
                // The prefix's own start needs no boundary when it begins with a non-token
                // character; its end is where the token must stop.
                let starts_clean = !char_before(text, r.start).is_some_and(is_tok)
                    || prefix.chars().next().is_some_and(|c| !is_tok(c));
                if starts_clean
                    && !char_after(text, r.end).is_some_and(is_tok)
                    && !placeholder(m.as_str())
                    && Self::own_key(prefix, m.as_str())
                {
                    out.push(Finding::at(s.raw_range(r), "gateway_key"));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// saas_tokens
// ---------------------------------------------------------------------------------------------

const SAAS_SHAPES: &[Shape] = &[
    shape(
        "sendgrid",
        "sendgrid_key",
        r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}",
        69,
        is_tok,
    ),
    shape("twilio", "twilio_api_key", r"SK[0-9a-f]{32}", 34, is_word),
    shape(
        "shopify",
        "shopify_token",
        r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}",
        38,
        is_word,
    ),
    shape(
        "digitalocean",
        "digitalocean_token",
        r"do[opr]_v1_[a-f0-9]{64}",
        71,
        is_word,
    ),
    shape(
        "vault",
        "vault_token",
        r"hvs\.[A-Za-z0-9_-]{90,120}",
        124,
        is_tok,
    ),
    shape(
        "vault",
        "vault_token",
        r"hvb\.[A-Za-z0-9_-]{138,300}",
        304,
        is_tok,
    ),
    shape(
        "doppler",
        "doppler_token",
        r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}",
        56,
        is_tok,
    ),
    shape(
        "grafana",
        "grafana_token",
        r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}",
        46,
        is_word,
    ),
    shape(
        "grafana",
        "grafana_token",
        r"glc_[A-Za-z0-9+/]{32,}={0,2}",
        410,
        is_b64,
    ),
    shape(
        "sentry",
        "sentry_token",
        r"sntrys_eyJ[A-Za-z0-9+/=]{60,}_[A-Za-z0-9+/]{43}",
        700,
        is_b64_any,
    ),
    shape(
        "sentry",
        "sentry_token",
        r"sntryu_[a-f0-9]{64}",
        71,
        is_word,
    ),
    shape(
        "postman",
        "postman_key",
        r"PMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34}",
        64,
        is_tok,
    ),
    shape(
        "age",
        "age_secret_key",
        r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
        74,
        is_tok,
    ),
    shape(
        "onepassword",
        "onepassword_token",
        r"ops_eyJ[A-Za-z0-9+/]{250,}={0,3}",
        1300,
        is_b64,
    ),
    shape(
        "heroku",
        "heroku_key",
        r"HRKU-AA[0-9a-zA-Z_-]{58}",
        65,
        is_tok,
    ),
    shape(
        "linear",
        "linear_key",
        r"lin_api_[A-Za-z0-9]{40}",
        48,
        is_word,
    ),
    shape(
        "rubygems",
        "rubygems_key",
        r"rubygems_[a-f0-9]{48}",
        57,
        is_word,
    ),
    shape("pulumi", "pulumi_token", r"pul-[a-f0-9]{40}", 44, is_tok),
    shape(
        "dynatrace",
        "dynatrace_token",
        r"dt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}",
        96,
        is_tok,
    ),
    shape(
        "brevo",
        "brevo_key",
        r"xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}",
        89,
        is_tok,
    ),
    shape(
        "atlassian",
        "atlassian_token",
        r"ATATT3[A-Za-z0-9_=-]{186}",
        192,
        is_b64_any,
    ),
    shape(
        "notion",
        "notion_token",
        r"ntn_[0-9]{11}[A-Za-z0-9]{35}",
        50,
        is_word,
    ),
    shape(
        "planetscale",
        "planetscale_token",
        r"pscale_(?:tkn|oauth|pw)_[A-Za-z0-9_.=-]{32,64}",
        77,
        is_tok,
    ),
    shape(
        "docker",
        "docker_hub_token",
        r"dckr_pat_[A-Za-z0-9_-]{27}",
        36,
        is_tok,
    ),
    shape(
        "mailchimp",
        "mailchimp_key",
        r"[0-9a-f]{32}-us[0-9]{1,2}",
        37,
        is_tok,
    ),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SaasParams {
    rules: Option<Vec<String>>,
}

/// Other services' prefixed tokens.
pub struct SaasTokens {
    shapes: Shapes,
}

impl SaasTokens {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: SaasParams = params(v)?;
        let rules = match &p.rules {
            Some(list) => known_names("rules", list, &shape_names(SAAS_SHAPES))?,
            None => shape_names(SAAS_SHAPES),
        };
        Ok(Box::new(SaasTokens {
            shapes: Shapes::new(SAAS_SHAPES, |s| rules.contains(&s.name))?,
        }))
    }
}

/// Bech32's checksum function (BIP-173) over 5-bit values.
fn bech32_polymod(values: &[u8]) -> u32 {
    const GEN: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    let mut chk = 1u32;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(*v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// The human-readable part expanded for the checksum: high bits, 0, low bits.
fn bech32_hrp(hrp: &str) -> Vec<u8> {
    let mut v: Vec<u8> = hrp.bytes().map(|b| b >> 5).collect();
    v.push(0);
    v.extend(hrp.bytes().map(|b| b & 31));
    v
}

const BECH32: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/// A bech32 string (either case) whose checksum holds: the polymod of the expanded prefix and
/// the data is 1.
fn bech32_valid(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let Some(sep) = lower.rfind('1') else {
        return false;
    };
    let (hrp, data) = (
        lower.get(..sep).unwrap_or(""),
        lower.get(sep + 1..).unwrap_or(""),
    );
    if hrp.is_empty() || data.len() < 6 {
        return false;
    }
    let mut values = bech32_hrp(hrp);
    for b in data.bytes() {
        match BECH32.iter().position(|c| *c == b) {
            Some(p) => values.push(p as u8),
            None => return false,
        }
    }
    bech32_polymod(&values) == 1
}

impl Check for SaasTokens {
    fn id(&self) -> &'static str {
        "saas_tokens"
    }

    fn span(&self) -> Span {
        Span::Bytes(self.shapes.longest() + 8)
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        for h in self.shapes.find(&s.norm.text) {
            let ok = match h.shape.name {
                "age" => bech32_valid(h.token),
                // `SK` + 32 random hex mixes digits and letters; a digest glued to "SK" in an
                // identifier is the trap, the mix is a cheap guard.
                "twilio" => {
                    let hex = h.token.get(2..).unwrap_or("");
                    hex.bytes().any(|b| b.is_ascii_digit())
                        && hex.bytes().any(|b| b.is_ascii_lowercase())
                }
                _ => true,
            };
            if ok {
                out.push(Finding::at(s.raw_range(h.range), h.shape.label));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// private_key
// ---------------------------------------------------------------------------------------------

/// The longest key body read (an 8192-bit RSA key in PEM is about 6.3 KB).
const MAX_KEY_BODY: usize = 8192;

/// Whether a key's body holds at least `min` base64 characters and little else (armor headers
/// such as `Proc-Type:` and escaped line ends skipped); "…" or a few words are not a key.
fn key_body(body: &str, min: usize) -> bool {
    let unescaped = body.replace("\\n", "\n").replace("\\r", "\n");
    let (mut b64, mut other) = (0usize, 0usize);
    for line in unescaped.lines() {
        if line.contains(": ") {
            continue;
        }
        for c in line.chars() {
            if c.is_ascii_alphanumeric() || c == '+' || c == '/' {
                b64 += 1;
            } else if !(c.is_whitespace() || matches!(c, '=' | '"' | '\'' | ',' | '\\')) {
                other += 1;
            }
        }
    }
    b64 >= min && other * 10 <= b64
}

/// Where an unterminated armored body ends: the run of base64, whitespace and escapes.
fn armor_extent(text: &str, from: usize, limit: usize) -> usize {
    let limit = floor(text, limit);
    let Some(rest) = text.get(from..limit) else {
        return from;
    };
    rest.char_indices()
        .find(|(_, c)| !(is_b64(*c) || c.is_whitespace() || *c == '\\'))
        .map_or(limit, |(i, _)| from + i)
}

/// The range of `r` in `text` without its leading and trailing whitespace.
fn trimmed(text: &str, r: Range<usize>) -> Range<usize> {
    let s = text.get(r.clone()).unwrap_or("");
    let start = r.start + (s.len() - s.trim_start().len());
    let end = r.end - (s.len() - s.trim_end().len());
    start..end.max(start)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrivateKeyParams {
    #[serde(default = "yes")]
    redact_block: bool,
}

/// Private keys.
pub struct PrivateKey {
    begin: Regex,
    end: Regex,
    putty: Regex,
    putty_lines: Regex,
    putty_mac: Regex,
    jwk_member: Regex,
    jwk_kty: Regex,
    redact_block: bool,
}

impl PrivateKey {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: PrivateKeyParams = params(v)?;
        Ok(Box::new(PrivateKey {
            begin: builtin(r"-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----")?,
            end: builtin(r"-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----")?,
            putty: builtin(r"PuTTY-User-Key-File-[1-3]: *[A-Za-z0-9@.-]+")?,
            putty_lines: builtin(r"Private-Lines: *([0-9]{1,3})\r?\n")?,
            putty_mac: builtin(r"\A\r?\nPrivate-(?:MAC|Hash): *[0-9a-fA-F]{40,128}")?,
            jwk_member: builtin(r#""(d|p|q|dp|dq|qi)"\s*:\s*"([A-Za-z0-9_-]{16,2048})""#)?,
            jwk_kty: builtin(r#""kty"\s*:\s*"(?:RSA|EC|OKP)""#)?,
            redact_block: p.redact_block,
        }))
    }

    /// PEM blocks: a BEGIN line, a body, and the END line (or, cut off, the armored run).
    fn pem(&self, text: &str, out: &mut Vec<Range<usize>>) {
        let heads: Vec<Range<usize>> = self.begin.find_iter(text).map(|m| m.range()).collect();
        if heads.is_empty() {
            return;
        }
        let tails: Vec<Range<usize>> = self.end.find_iter(text).map(|m| m.range()).collect();
        let mut j = 0;
        for (i, head) in heads.iter().enumerate() {
            let next = heads.get(i + 1).map_or(text.len(), |n| n.start);
            let limit = (head.end + MAX_KEY_BODY).min(next);
            while tails.get(j).is_some_and(|t| t.start < head.end) {
                j += 1;
            }
            let (body, end) = match tails.get(j) {
                Some(t) if t.start <= limit => (head.end..t.start, t.end),
                _ => {
                    let e = armor_extent(text, head.end, limit);
                    (head.end..e, e)
                }
            };
            if key_body(text.get(body.clone()).unwrap_or(""), 64) {
                out.push(if self.redact_block {
                    head.start..end
                } else {
                    trimmed(text, body)
                });
            }
        }
    }

    /// PuTTY key files: the header, `Private-Lines: N`, N lines of base64, the MAC.
    fn putty(&self, text: &str, out: &mut Vec<Range<usize>>) {
        let heads: Vec<Range<usize>> = self.putty.find_iter(text).map(|m| m.range()).collect();
        for (i, head) in heads.iter().enumerate() {
            let next = heads.get(i + 1).map_or(text.len(), |n| n.start);
            let limit = floor(text, (head.end + MAX_KEY_BODY).min(next));
            let Some(window) = text.get(head.end..limit) else {
                continue;
            };
            let Some(c) = self.putty_lines.captures(window) else {
                continue;
            };
            let (Some(all), Some(n)) = (c.get(0), c.get(1)) else {
                continue;
            };
            let lines: usize = n.as_str().parse().unwrap_or(0);
            let body_start = head.end + all.end();
            let mut at = body_start;
            let mut b64 = 0;
            for _ in 0..lines {
                let Some(rest) = text.get(at..limit) else {
                    break;
                };
                let line = rest.split('\n').next().unwrap_or("");
                let line_trim = line.trim_end_matches('\r');
                if line_trim.is_empty() || !line_trim.chars().all(is_b64) {
                    break;
                }
                b64 += line_trim.len();
                at += line.len();
                if text.get(at..at + 1) == Some("\n") {
                    at += 1;
                }
            }
            let body_end = if text.get(..at).is_some_and(|t| t.ends_with('\n')) {
                at - 1
            } else {
                at
            };
            if b64 < 40 {
                continue;
            }
            let end = text
                .get(body_end..limit)
                .and_then(|rest| self.putty_mac.find(rest))
                .map_or(body_end, |m| body_end + m.end());
            out.push(if self.redact_block {
                head.start..end
            } else {
                trimmed(text, body_start..body_end)
            });
        }
    }

    /// Private members of JSON Web Keys: `d` beside a `kty`, and the RSA factors beside a `d`.
    fn jwk(&self, text: &str, out: &mut Vec<Range<usize>>) {
        let members: Vec<(bool, Range<usize>)> = self
            .jwk_member
            .captures_iter(text)
            .filter_map(|c| Some((c.get(1)?.as_str() == "d", c.get(2)?.range())))
            .collect();
        if members.is_empty() {
            return;
        }
        let ktys: Vec<Range<usize>> = self.jwk_kty.find_iter(text).map(|m| m.range()).collect();
        let ds: Vec<Range<usize>> = members
            .iter()
            .filter(|(d, r)| *d && near(&ktys, r, 2048))
            .map(|(_, r)| r.clone())
            .collect();
        for (d, r) in members {
            let keep = if d {
                ds.binary_search_by_key(&r.start, |x| x.start).is_ok()
            } else {
                near(&ds, &r, 4096)
            };
            if keep && !text.get(r.clone()).is_some_and(placeholder) {
                out.push(r);
            }
        }
    }
}

impl Check for PrivateKey {
    fn id(&self) -> &'static str {
        "private_key"
    }

    fn span(&self) -> Span {
        Span::Bytes(MAX_KEY_BODY + 128)
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let text = &s.norm.text;
        let mut found = Vec::new();
        self.pem(text, &mut found);
        for r in found.drain(..) {
            out.push(Finding::at(s.raw_range(r), "private_key"));
        }
        self.putty(text, &mut found);
        for r in found.drain(..) {
            out.push(Finding::at(s.raw_range(r), "putty_private_key"));
        }
        self.jwk(text, &mut found);
        for r in found {
            out.push(Finding::at(s.raw_range(r), "jwk_private_key"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// jwt
// ---------------------------------------------------------------------------------------------

/// The longest token read.
const MAX_JWT: usize = 8192;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JwtParams {
    #[serde(default)]
    include_unsigned: bool,
    #[serde(default)]
    skip_expired: bool,
}

/// JSON Web Tokens (signed, three parts).
pub struct Jwt {
    re: Regex,
    include_unsigned: bool,
    skip_expired: bool,
}

impl Jwt {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: JwtParams = params(v)?;
        Ok(Box::new(Jwt {
            re: builtin(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*")?,
            include_unsigned: p.include_unsigned,
            skip_expired: p.skip_expired,
        }))
    }

    /// A JSON object from a base64url part.
    fn object(part: &str) -> Option<serde_json::Map<String, Value>> {
        match serde_json::from_slice::<Value>(&B64_URL.decode(part).ok()?).ok()? {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    fn reportable(&self, token: &str, now: u64) -> bool {
        let mut parts = token.splitn(3, '.');
        let (Some(h), Some(p), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        let (Some(header), Some(payload)) = (Self::object(h), Self::object(p)) else {
            return false;
        };
        let Some(alg) = header.get("alg").and_then(Value::as_str) else {
            return false;
        };
        let unsigned = sig.is_empty() || alg.eq_ignore_ascii_case("none");
        if unsigned && !self.include_unsigned {
            return false;
        }
        // jwt.io's sample token, reprinted in tutorials.
        if payload.get("sub").and_then(Value::as_str) == Some("1234567890")
            && payload.get("iat").and_then(Value::as_u64) == Some(1_516_239_022)
        {
            return false;
        }
        if self.skip_expired {
            if let Some(exp) = payload.get("exp").and_then(Value::as_f64) {
                if exp < now as f64 {
                    return false;
                }
            }
        }
        true
    }
}

impl Check for Jwt {
    fn id(&self) -> &'static str {
        "jwt"
    }

    fn span(&self) -> Span {
        Span::Bytes(MAX_JWT)
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let text = &s.norm.text;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        for m in self.re.find_iter(text) {
            let r = m.range();
            // More dot-separated parts (JWE has five) or glued to other text: not a JWT.
            let more = char_after(text, r.end) == Some('.')
                && char_after(text, r.end + 1).is_some_and(is_tok);
            if more
                || char_before(text, r.start) == Some('.')
                || !isolated(text, &r, is_tok)
                || m.len() > MAX_JWT
            {
                continue;
            }
            if self.reportable(m.as_str(), now) {
                out.push(Finding::at(s.raw_range(r), "jwt"));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// high_entropy
// ---------------------------------------------------------------------------------------------

/// How far before a string its context (a credential-like word) is looked for.
const CONTEXT_REACH: usize = 64;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HighEntropyParams {
    #[serde(default = "default_min_len")]
    min_len: usize,
    #[serde(default = "default_max_len")]
    max_len: usize,
    #[serde(default = "default_b64_limit")]
    b64_limit: f64,
    #[serde(default = "default_hex_limit")]
    hex_limit: f64,
    #[serde(default = "yes")]
    require_context: bool,
}

fn default_min_len() -> usize {
    20
}
fn default_max_len() -> usize {
    150
}
fn default_b64_limit() -> f64 {
    4.5
}
fn default_hex_limit() -> f64 {
    3.0
}

/// Random-looking strings.
pub struct HighEntropy {
    run: Regex,
    keyword: Regex,
    min_len: usize,
    max_len: usize,
    b64_limit: f64,
    hex_limit: f64,
    require_context: bool,
}

impl HighEntropy {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: HighEntropyParams = params(v)?;
        if !(8..=1024).contains(&p.min_len) {
            return Err(ParamError::new("min_len", "between 8 and 1024"));
        }
        if p.max_len < p.min_len || p.max_len > 4096 {
            return Err(ParamError::new(
                "max_len",
                "at least min_len and at most 4096",
            ));
        }
        for (name, limit, top) in [
            ("b64_limit", p.b64_limit, 6.0),
            ("hex_limit", p.hex_limit, 4.0),
        ] {
            if !(limit > 0.0 && limit <= top) {
                return Err(ParamError::new(
                    name,
                    format!("bits per character, above 0 and at most {top}"),
                ));
            }
        }
        Ok(Box::new(HighEntropy {
            run: builtin(r"[A-Za-z0-9+/_-]+={0,2}")?,
            keyword: builtin(
                r"(?i)key|secret|token|passw|pwd|auth|credential|creds|api|access|private|bearer|signature|session|cookie|salt",
            )?,
            min_len: p.min_len,
            max_len: p.max_len,
            b64_limit: p.b64_limit,
            hex_limit: p.hex_limit,
            require_context: p.require_context,
        }))
    }
}

/// `8-4-4-4-12` hex digits.
fn uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Digests and inline data: subresource integrity (`sha512-…`), `sha256:…`, data URIs.
fn digest_or_data(text: &str, r: &Range<usize>, token: &str) -> bool {
    let lower = token.get(..7).unwrap_or(token).to_ascii_lowercase();
    if ["sha1-", "sha256-", "sha384-", "sha512-", "md5-"]
        .iter()
        .any(|p| lower.starts_with(p))
    {
        return true;
    }
    let lo = floor(text, r.start.saturating_sub(8));
    let before = text.get(lo..r.start).unwrap_or("").to_ascii_lowercase();
    before.ends_with("base64,") || before.ends_with("sha256:") || before.ends_with("sha1:")
}

impl Check for HighEntropy {
    fn id(&self) -> &'static str {
        "high_entropy"
    }

    fn span(&self) -> Span {
        Span::Bytes(self.max_len + CONTEXT_REACH)
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let text = &s.norm.text;
        for m in self.run.find_iter(text) {
            let token = m.as_str();
            let r = m.range();
            if token.len() < self.min_len
                || token.len() > self.max_len
                || token.bytes().all(|b| b.is_ascii_digit())
                || uuid(token)
                || placeholder(token)
                || digest_or_data(text, &r, token)
            {
                continue;
            }
            let hex = token.bytes().all(|b| b.is_ascii_hexdigit());
            let limit = if hex { self.hex_limit } else { self.b64_limit };
            let h = entropy(token);
            if h <= limit {
                continue;
            }
            if self.require_context {
                let lo = floor(text, r.start.saturating_sub(CONTEXT_REACH));
                let before = text.get(lo..r.start).unwrap_or("");
                let line = before.rsplit('\n').next().unwrap_or("");
                if !self.keyword.is_match(line) {
                    continue;
                }
            }
            out.push(Finding {
                span: Some(s.raw_range(r)),
                label: "high_entropy_string".into(),
                score: 0.8,
            });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// credential_assignment
// ---------------------------------------------------------------------------------------------

const DEFAULT_KEYWORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "token",
    "api_key",
    "api-key",
    "apikey",
    "access_key",
    "access-key",
    "accesskey",
    "client_secret",
    "client-secret",
    "clientsecret",
    "private_key",
    "auth",
];

/// Words ending a credential-like name that make it about the credential, not the credential
/// (`secret_name`, `token_url`, `access_key_id`).
const NAME_STOPS: &[&str] = &[
    "id",
    "ids",
    "name",
    "names",
    "ref",
    "arn",
    "path",
    "file",
    "url",
    "uri",
    "endpoint",
    "type",
    "length",
    "len",
    "count",
    "size",
    "limit",
    "expiry",
    "expires",
    "expiration",
    "ttl",
    "field",
    "env",
    "var",
    "prefix",
    "format",
    "policy",
    "hint",
    "label",
    "hash",
    "version",
    "header",
    "mode",
    "provider",
    "method",
    "store",
    "manager",
    "required",
    "enabled",
    "usage",
    "used",
];

/// Names that begin with a keyword but mean something else (author, tokenizer, secretary).
const NAME_TRAPS: &[(&str, &str)] = &[
    ("auth", "or"),
    ("auth", "ent"),
    ("token", "iz"),
    ("secret", "ar"),
];

/// Well-known sample passwords (letters-only ones are dropped anyway).
const SAMPLE_PASSWORDS: &[&str] = &[
    "password1",
    "password123",
    "p@ssw0rd",
    "passw0rd",
    "p@ssword",
    "admin123",
    "qwerty123",
    "secret123",
    "test1234",
    "changeme123",
    "letmein1",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialParams {
    keywords: Option<Vec<String>>,
    #[serde(default = "default_min_entropy")]
    min_entropy: f64,
}

fn default_min_entropy() -> f64 {
    3.5
}

/// Secrets given to credential-like names, in URLs and in Authorization headers.
pub struct CredentialAssignment {
    assign: Regex,
    url: Regex,
    header: Regex,
    min_entropy: f64,
    custom: bool,
}

impl CredentialAssignment {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: CredentialParams = params(v)?;
        if !(0.0..=6.0).contains(&p.min_entropy) {
            return Err(ParamError::new(
                "min_entropy",
                "bits per character, from 0 to 6",
            ));
        }
        let custom = p.keywords.is_some();
        let mut keywords: Vec<String> = match p.keywords {
            Some(list) => {
                if list.is_empty() {
                    return Err(ParamError::new("keywords", "at least one keyword"));
                }
                for (i, k) in list.iter().enumerate() {
                    if k.trim().is_empty() || k.chars().any(char::is_whitespace) {
                        return Err(ParamError::new(
                            format!("keywords[{i}]"),
                            "a name without spaces",
                        ));
                    }
                }
                list
            }
            None => DEFAULT_KEYWORDS.iter().map(|k| (*k).to_owned()).collect(),
        };
        // Longer first, so `password` wins over a custom `pass`.
        keywords.sort_by_key(|k| std::cmp::Reverse(k.len()));
        let alts: Vec<String> = keywords.iter().map(|k| regex::escape(k)).collect();
        let assign = String::from("(?i)(")
            + &alts.join("|")
            + r#")([A-Za-z0-9_.-]{0,20})["'\x60]?[ \t]*(?:=>|:=|=|:)[ \t]*(?:"([^"\r\n]{1,160})"|'([^'\r\n]{1,160})'|\x60([^\x60\r\n]{1,160})\x60|([^\s"'\x60,;&)\]}]{1,160}))"#;
        Ok(Box::new(CredentialAssignment {
            assign: builtin(&assign)?,
            url: builtin(
                r"(?i)\b[a-z][a-z0-9+.-]{1,15}://([^\s:/?#@'\x22<>]{1,64}):([^\s/?#@'\x22<>]{1,128})@[A-Za-z0-9_.\[\]-]*[A-Za-z0-9\]]",
            )?,
            header: builtin(
                r#"(?i)\bauthorization["']?\s*[:=]\s*["']?(basic|bearer|token)[ \t]+([A-Za-z0-9+/=._~-]{8,400})"#,
            )?,
            min_entropy: p.min_entropy,
            custom,
        }))
    }

    fn label(&self, keyword: &str) -> &'static str {
        if self.custom {
            return "credential";
        }
        let k = keyword.to_ascii_lowercase();
        if k.starts_with("pass") || k == "pwd" {
            "password"
        } else if k.starts_with("api") {
            "api_key"
        } else if k.starts_with("access") {
            "access_key"
        } else if k.starts_with("client") {
            "client_secret"
        } else if k.starts_with("private") {
            "private_key"
        } else if k == "auth" {
            "auth_token"
        } else if k == "token" {
            "token"
        } else {
            "secret"
        }
    }

    /// The entropy a value of `n` characters needs: `min_entropy`, or less for short values
    /// (the most their length allows, log₂ n, less 0.7).
    fn enough_entropy(&self, v: &str) -> bool {
        let n = v.chars().count().max(1) as f64;
        entropy(v) >= self.min_entropy.min(n.log2() - 0.7)
    }
}

/// A name about a credential rather than holding one, or a word that only starts like one.
fn name_stopped(keyword: &str, suffix: &str) -> bool {
    let k = keyword.to_ascii_lowercase();
    let suf = suffix.to_ascii_lowercase();
    if NAME_TRAPS
        .iter()
        .any(|(kw, start)| k == *kw && suf.starts_with(start))
    {
        return true;
    }
    let last = suf
        .rsplit(['_', '-', '.'])
        .find(|w| !w.is_empty())
        .unwrap_or("");
    NAME_STOPS.contains(&last) || NAME_STOPS.iter().any(|w| w.len() > 3 && suf.ends_with(w))
}

/// `a.b.c`: a member access in code (a variable reference, not a value).
fn member_access(v: &str) -> bool {
    let mut parts = 0;
    for p in v.split('.') {
        let mut cs = p.chars();
        let head_ok = cs
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$');
        if !head_ok || !cs.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            return false;
        }
        parts += 1;
    }
    parts >= 2
}

/// A value that could be a credential: not a placeholder, a variable or template reference, a
/// path, a URL, a number, or made only of letters, `_`, `.`, `-`.
fn plausible(v: &str, quoted: bool, min_chars: usize) -> bool {
    let n = v.chars().count();
    if n < min_chars || n > 150 || v.chars().any(char::is_whitespace) {
        return false;
    }
    if v.starts_with(['$', '%', '{', '<', '[', '(', '&', '*', '=']) {
        return false;
    }
    if ["${", "{{", "}}", "%(", "#{", "<%", "-----BEGIN"]
        .iter()
        .any(|p| v.contains(p))
    {
        return false;
    }
    if !quoted && (v.contains('(') || v.contains('[') || member_access(v)) {
        return false;
    }
    if (v.contains("://") && !v.contains('@'))
        || v.starts_with('/')
        || v.starts_with("./")
        || v.starts_with("../")
        || v.starts_with("~/")
        || v.get(1..3) == Some(":\\")
    {
        return false;
    }
    if v.chars()
        .all(|c| c.is_alphabetic() || matches!(c, '_' | '.' | '-'))
        || v.chars().all(|c| c.is_ascii_digit())
    {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    !placeholder(v) && !SAMPLE_PASSWORDS.contains(&lower.as_str())
}

impl Check for CredentialAssignment {
    fn id(&self) -> &'static str {
        "credential_assignment"
    }

    fn span(&self) -> Span {
        // The longest form: `Authorization: Bearer` and a 400-byte value.
        Span::Bytes(480)
    }

    fn redacts(&self) -> bool {
        true
    }

    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        let text = &s.norm.text;
        for c in self.assign.captures_iter(text) {
            let (Some(kw), Some(suffix)) = (c.get(1), c.get(2)) else {
                continue;
            };
            if name_stopped(kw.as_str(), suffix.as_str()) {
                continue;
            }
            let (value, quoted) = match (c.get(3).or(c.get(4)).or(c.get(5)), c.get(6)) {
                (Some(q), _) => (q, true),
                (None, Some(b)) => (b, false),
                (None, None) => continue,
            };
            let r = trimmed(text, value.range());
            let v = text.get(r.clone()).unwrap_or("");
            if plausible(v, quoted, 8) && self.enough_entropy(v) {
                out.push(Finding::at(s.raw_range(r), self.label(kw.as_str())));
            }
        }
        for c in self.url.captures_iter(text) {
            let Some(pass) = c.get(2) else { continue };
            if plausible(pass.as_str(), true, 4) {
                out.push(Finding::at(s.raw_range(pass.range()), "password_in_url"));
            }
        }
        for c in self.header.captures_iter(text) {
            let (Some(scheme), Some(value)) = (c.get(1), c.get(2)) else {
                continue;
            };
            let v = value.as_str();
            let found = if scheme.as_str().eq_ignore_ascii_case("basic") {
                B64_STD
                    .decode(v)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .and_then(|d| {
                        let (user, pass) = d.split_once(':')?;
                        (!user.is_empty() && plausible(pass, true, 3)).then_some("basic_auth")
                    })
            } else {
                (plausible(v, true, 16) && self.enough_entropy(v)).then_some("bearer_token")
            };
            if let Some(label) = found {
                out.push(Finding::at(s.raw_range(value.range()), label));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::check::Source;
    use crate::checks::testing::{fires, fires_on, fires_on_as, spans};
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use serde_json::json;

    const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
    const DIGITS: &str = "0123456789";
    const HEX: &str = "0123456789abcdef";
    const BASE32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const BASE62: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const B64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    const ALL_IDS: &[&str] = &[
        "aws_keys",
        "gcp_keys",
        "azure_keys",
        "code_host_tokens",
        "slack_tokens",
        "stripe_keys",
        "llm_vendor_keys",
        "saas_tokens",
        "private_key",
        "jwt",
        "high_entropy",
        "credential_assignment",
    ];

    /// Secret-shaped strings, made at test time from a seeded generator (never placeholders).
    struct Gen(fastrand::Rng);

    impl Gen {
        fn new(seed: u64) -> Gen {
            Gen(fastrand::Rng::with_seed(seed))
        }

        fn chars(&mut self, alphabet: &str, n: usize) -> String {
            let a: Vec<char> = alphabet.chars().collect();
            loop {
                let s: String = (0..n).map(|_| a[self.0.usize(..a.len())]).collect();
                if !placeholder(&s) {
                    return s;
                }
            }
        }

        fn bytes(&mut self, n: usize) -> Vec<u8> {
            (0..n).map(|_| self.0.u8(..)).collect()
        }

        fn alnum(&mut self, n: usize) -> String {
            self.chars(BASE62, n)
        }

        /// A PEM body: `lines` lines of 64 base64 characters.
        fn pem_body(&mut self, lines: usize, sep: &str) -> String {
            (0..lines)
                .map(|_| self.chars(B64, 64))
                .collect::<Vec<_>>()
                .join(sep)
        }
    }

    fn base62_6(mut v: u32) -> String {
        let digits = BASE62.as_bytes();
        let mut out = [b'0'; 6];
        for slot in out.iter_mut().rev() {
            *slot = digits[(v % 62) as usize];
            v /= 62;
        }
        String::from_utf8(out.to_vec()).unwrap()
    }

    fn github_token(g: &mut Gen, prefix: &str) -> String {
        let random = g.alnum(30);
        let check = base62_6(crc32(random.as_bytes()));
        format!("{prefix}{random}{check}")
    }

    fn gateway_key(g: &mut Gen, prefix: &str) -> String {
        let body = format!("{prefix}{}-{}", g.alnum(12), g.alnum(32));
        let check = base62_6(crc32(body.as_bytes()));
        body + &check
    }

    fn none() -> Value {
        Value::Null
    }

    fn labels(id: &str, p: &Value, text: &str) -> Vec<String> {
        fires_on(id, p, text)
            .into_iter()
            .map(|f| f.label.into_owned())
            .collect()
    }

    fn build_err(id: &str, p: Value) -> ParamError {
        match crate::catalogue::build(id, &p) {
            Ok(_) => panic!("{id} accepted {p}"),
            Err(e) => e,
        }
    }

    /// Ordinary prose and code, with the catalogue's traps, that no secrets check may flag.
    fn benign(g: &mut Gen) -> String {
        let sha1 = g.chars(HEX, 40);
        let sha256 = g.chars(HEX, 64);
        format!(
            "Rotate keys every 90 days; the console shows when a key was last used.\n\
             The tokenizer splits text into tokens, and max_tokens: 4096 keeps answers short.\n\
             author = \"jdoe1984\" # who wrote it\n\
             See https://docs.example.com/auth/overview for the OAuth flow.\n\
             commit {sha1} fixed the build; image digest sha256:{sha256}\n\
             request id 123e4567-e89b-12d3-a456-426614174000 finished in 12 ms.\n\
             fn main() {{ let secret_name = \"prod-db-2\"; println!(\"{{}}\", secret_name); }}\n\
             password = os.environ[\"PW\"]\n\
             token: ${{TOKEN}}\n\
             api_key: \"<YOUR_API_KEY>\"\n\
             DB_PASSWORD=changeme\n\
             pwd: /home/app/releases/v2\n\
             postgres://postgres:postgres@localhost:5432/app\n\
             curl -H \"Authorization: Bearer $TOKEN\" https://api.example.com\n\
             UseDevelopmentStorage=true\n\
             -----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n\
             ユーザー名とパスワードを入力してください。\n"
        )
    }

    #[test]
    fn every_check_redacts_with_a_bounded_span_and_passes_benign_text() {
        let text = benign(&mut Gen::new(1));
        for id in ALL_IDS {
            let check = crate::catalogue::build(id, &none()).unwrap();
            assert!(check.redacts(), "{id}");
            assert!(matches!(check.span(), Span::Bytes(n) if n > 0), "{id}");
            let f = fires_on(id, &none(), &text);
            assert!(f.is_empty(), "{id} fired on benign text: {f:?}");
        }
        assert_eq!(
            CHECKS.iter().map(|e| e.id).collect::<Vec<_>>(),
            ALL_IDS.to_vec()
        );
    }

    #[test]
    fn unknown_parameters_are_named() {
        for id in ALL_IDS {
            let e = build_err(id, json!({"no_such_field": 1}));
            assert!(e.message.contains("unknown field"), "{id}: {e}");
        }
    }

    #[test]
    fn crc32_entropy_and_base62_match_known_values() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(base62_value("10"), Some(62));
        assert_eq!(base62_value("zz"), Some(61 * 62 + 61));
        assert_eq!(base62_value("a-"), None);
        assert!((entropy("aabb") - 1.0).abs() < 1e-9);
        assert!((entropy("abcd") - 2.0).abs() < 1e-9);
        assert_eq!(entropy(""), 0.0);
        assert!(placeholder("AKIAXXXXXXXXXXXXXXXX"));
        assert!(placeholder("abcdefghij"));
        assert!(placeholder("sk_live_00000000000000"));
        assert!(!placeholder("q8Zr2LmP0xWv7Tn4"));
    }

    #[test]
    fn aws_keys_find_ids_secrets_by_name_or_beside_an_id_and_bedrock_keys() {
        let p = none();
        let mut g = Gen::new(11);
        let id = format!("AKIA{}", g.chars(BASE32, 16));
        let sts = format!("ASIA{}", g.chars(BASE32, 16));
        assert_eq!(
            spans("aws_keys", &p, &format!("key id: {id}.")),
            vec![id.clone()]
        );
        assert_eq!(labels("aws_keys", &p, &sts), vec!["aws_access_key"]);

        let secret = loop {
            let s = g.chars(B64, 40);
            if aws_secret_shaped(&s) {
                break s;
            }
        };
        let named = format!("aws_secret_access_key = {secret}\n");
        assert_eq!(spans("aws_keys", &p, &named), vec![secret.clone()]);
        assert_eq!(labels("aws_keys", &p, &named), vec!["aws_secret_key"]);
        let json = format!(r#"{{"SecretAccessKey": "{secret}"}}"#);
        assert_eq!(spans("aws_keys", &p, &json), vec![secret.clone()]);
        // Beside an id (a CSV row from the console), no name needed.
        let csv = format!("alice,{id},{secret}\n");
        assert_eq!(
            spans("aws_keys", &p, &csv),
            vec![id.clone(), secret.clone()]
        );
        // Alone, or farther than pair_window from the id: a 40-character string is not enough.
        assert!(!fires("aws_keys", &p, &format!("value {secret}")));
        let far = format!("{id}{} {secret}", " filler".repeat(60));
        assert_eq!(spans("aws_keys", &p, &far), vec![id.clone()]);
        let wide = json!({"pair_window": 1000});
        assert_eq!(spans("aws_keys", &wide, &far).len(), 2);
        // A SHA-1 beside an id is not its secret.
        let sha1 = g.chars(HEX, 40);
        assert_eq!(
            spans("aws_keys", &p, &format!("{id} {sha1}")),
            vec![id.clone()]
        );

        let bedrock = format!("ABSK{}", g.chars(B64, 120));
        assert_eq!(labels("aws_keys", &p, &bedrock), vec!["aws_bedrock_key"]);

        // AWS's documented examples, placeholders, long upper-case words, a truncated id.
        let doc_id = ["AKIA", "IOSFODNN7", "EXAMPLE"].concat();
        let doc_secret = ["wJalrXUtnFEMI/K7MDENG/", "bPxRfiCY", "EXAMPLEKEY"].concat();
        assert!(!fires("aws_keys", &p, &format!("id {doc_id}")));
        assert!(!fires(
            "aws_keys",
            &p,
            &format!("aws_secret_access_key={doc_secret}\n{doc_id}")
        ));
        assert!(!fires("aws_keys", &p, "AKIAXXXXXXXXXXXXXXXX"));
        assert!(!fires("aws_keys", &p, "ASIAPACIFICOPERATION"));
        assert!(!fires("aws_keys", &p, &id[..18]));
        assert!(!fires("aws_keys", &p, &format!("{id}A")));

        let e = build_err("aws_keys", json!({"pair_window": 100_000}));
        assert_eq!(e.path, "pair_window");
        let e = build_err("aws_keys", json!({"pair_window": "near"}));
        assert_eq!(e.path, "pair_window");
    }

    #[test]
    fn gcp_keys_find_api_keys_tokens_and_service_account_keys() {
        let p = none();
        let mut g = Gen::new(12);
        let api = format!("AIza{}", g.chars(B64URL, 35));
        assert_eq!(spans("gcp_keys", &p, &format!("key={api}&q=1")), vec![api]);
        let short = format!("AIza{}", g.chars(B64URL, 20));
        assert!(!fires("gcp_keys", &p, &short));
        let oauth = format!("ya29.{}", g.chars(B64URL, 120));
        assert_eq!(labels("gcp_keys", &p, &oauth), vec!["google_oauth_token"]);
        let client = format!("GOCSPX-{}", g.chars(B64URL, 28));
        assert_eq!(
            labels("gcp_keys", &p, &client),
            vec!["google_client_secret"]
        );

        let body = g.pem_body(4, "\\n");
        let key = format!("-----BEGIN PRIVATE KEY-----\\n{body}\\n-----END PRIVATE KEY-----\\n");
        let sa = format!(
            r#"{{"type": "service_account", "project_id": "demo", "private_key_id": "{}", "private_key": "{key}", "client_email": "bot@demo.iam.gserviceaccount.com"}}"#,
            g.chars(HEX, 40)
        );
        assert_eq!(spans("gcp_keys", &p, &sa), vec![key.clone()]);
        assert_eq!(labels("gcp_keys", &p, &sa), vec!["gcp_service_account_key"]);
        // The same key outside a service account is private_key's business, not this check's.
        let plain = format!(r#"{{"private_key": "{key}"}}"#);
        assert!(!fires("gcp_keys", &p, &plain));
        assert!(fires("private_key", &p, &plain));
        let stub = r#"{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n"}"#;
        assert!(!fires("gcp_keys", &p, stub));
    }

    #[test]
    fn azure_keys_find_account_keys_sas_signatures_and_client_secrets() {
        let p = none();
        let mut g = Gen::new(13);
        let key = STANDARD.encode(g.bytes(64));
        assert_eq!(key.len(), 88);
        let conn = format!(
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={key};EndpointSuffix=core.windows.net"
        );
        assert_eq!(spans("azure_keys", &p, &conn), vec![key.clone()]);
        assert_eq!(labels("azure_keys", &p, &conn), vec!["azure_storage_key"]);
        // The storage emulator's published key.
        let emulator = [
            "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/",
            "K1SZFPTOtr/KBHBeksoGMGw==",
        ]
        .concat();
        let dev = format!("AccountName=devstoreaccount1;AccountKey={emulator};");
        assert!(!fires("azure_keys", &p, &dev));
        assert!(!fires("azure_keys", &p, "UseDevelopmentStorage=true"));

        let sig = STANDARD
            .encode(g.bytes(32))
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
        let url = format!(
            "https://acct.blob.core.windows.net/c/report.pdf?sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01T00:00:00Z&spr=https&sig={sig}"
        );
        assert_eq!(spans("azure_keys", &p, &url), vec![sig.clone()]);
        assert_eq!(labels("azure_keys", &p, &url), vec!["azure_sas_signature"]);
        // `sig=` in other signed URLs, or a value that is not a 32-byte HMAC.
        assert!(!fires(
            "azure_keys",
            &p,
            &format!("https://cdn.example.com/a.png?sig={sig}")
        ));
        let not_hmac = STANDARD.encode(g.bytes(40)).replace('=', "%3D");
        assert!(!fires(
            "azure_keys",
            &p,
            &format!("https://a.blob.core.windows.net/c?sv=2022-11-02&sig={not_hmac}")
        ));

        let secret = format!("{}8Q~{}", g.alnum(3), g.chars(&format!("{BASE62}_~-"), 34));
        assert_eq!(
            spans("azure_keys", &p, &format!("secret: {secret}")),
            vec![secret]
        );
        assert!(!fires("azure_keys", &p, &format!("abc8Q~{}", g.alnum(10))));
    }

    #[test]
    fn code_host_tokens_verify_github_checksums() {
        let p = none();
        let mut g = Gen::new(14);
        for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
            let t = github_token(&mut g, prefix);
            assert_eq!(
                spans("code_host_tokens", &p, &format!("token {t} ok")),
                vec![t]
            );
        }
        let good = github_token(&mut g, "ghp_");
        let mut bad = good.clone();
        let last = if bad.ends_with('A') { "B" } else { "A" };
        bad.replace_range(39.., last);
        assert!(!fires("code_host_tokens", &p, &bad));
        let off = json!({"verify_checksum": false});
        assert_eq!(labels("code_host_tokens", &off, &bad), vec!["github_token"]);
        // Placeholders, GitHub's documented sample, truncated tokens.
        let xs = format!("ghp_{}", "x".repeat(36));
        let sample = ["gho_", "16C7e42F292c6912E", "7710c838347Ae178B4a"].concat();
        for t in [xs.as_str(), sample.as_str(), &good[..24]] {
            assert!(!fires("code_host_tokens", &p, t), "{t}");
            assert!(!fires("code_host_tokens", &off, t), "{t}");
        }

        let pat = format!("github_pat_{}_{}", g.alnum(22), g.alnum(59));
        let glpat = format!("glpat-{}", g.chars(B64URL, 20));
        let npm = format!("npm_{}", g.alnum(36));
        let pypi = format!("pypi-AgEIcHlwaS5vcmc{}", g.chars(B64URL, 80));
        let text = format!("{pat}\n{glpat}\n{npm}\n{pypi}\n");
        assert_eq!(
            spans("code_host_tokens", &p, &text),
            vec![pat, glpat, npm, pypi]
        );
        assert_eq!(
            labels("code_host_tokens", &p, &text),
            vec!["github_token", "gitlab_token", "npm_token", "pypi_token"]
        );
        let e = build_err("code_host_tokens", json!({"verify_checksum": "yes"}));
        assert_eq!(e.path, "verify_checksum");
    }

    #[test]
    fn slack_tokens_find_tokens_and_webhooks_but_not_documented_ones() {
        let p = none();
        let mut g = Gen::new(15);
        let bot = format!(
            "xoxb-{}-{}-{}",
            g.chars(DIGITS, 10),
            g.chars(DIGITS, 12),
            g.alnum(24)
        );
        assert_eq!(
            spans("slack_tokens", &p, &format!("SLACK_TOKEN={bot}")),
            vec![bot]
        );
        let app = format!(
            "xapp-1-A{}-{}-{}",
            g.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10),
            g.chars(DIGITS, 13),
            g.chars(&format!("{LOWER}{DIGITS}"), 64)
        );
        assert_eq!(labels("slack_tokens", &p, &app), vec!["slack_token"]);
        let hook = format!(
            "hooks.slack.com/services/T{}/B{}/{}",
            g.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 8),
            g.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 8),
            g.alnum(24)
        );
        let f = fires_on("slack_tokens", &p, &format!("POST https://{hook}"));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].label, "slack_webhook");

        assert!(!fires(
            "slack_tokens",
            &p,
            "xoxb-not-a-real-token-this-will-not-work"
        ));
        let sample = [
            "xoxb-17653672481-",
            "19874698323-",
            "pdFZKVeTuE8sk7oOcBrzbqgy",
        ]
        .concat();
        assert!(!fires("slack_tokens", &p, &sample));
        assert!(!fires(
            "slack_tokens",
            &p,
            "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
        ));
        assert!(!fires(
            "slack_tokens",
            &p,
            "xoxb-1234567890-1234567890123-abcdefghijklmnopqrstuvwx"
        ));
    }

    #[test]
    fn stripe_keys_find_secret_and_restricted_keys_not_publishable_ones() {
        let p = none();
        let mut g = Gen::new(16);
        let live = format!("sk_live_{}", g.alnum(24));
        let restricted = format!("rk_live_{}", g.alnum(24));
        let test = format!("sk_test_{}", g.alnum(24));
        let hook = format!("whsec_{}", g.alnum(32));
        let text = format!("{live} {restricted} {test} {hook}");
        assert_eq!(
            labels("stripe_keys", &p, &text),
            vec![
                "stripe_secret_key",
                "stripe_restricted_key",
                "stripe_secret_key",
                "stripe_webhook_secret"
            ]
        );
        let no_test = json!({"include_test": false});
        assert_eq!(
            spans("stripe_keys", &no_test, &text),
            vec![live, restricted, hook]
        );
        assert!(!fires(
            "stripe_keys",
            &p,
            &format!("pk_live_{}", g.alnum(24))
        ));
        // Stripe's documented sample keys.
        for sample in [
            ["sk_test_", "4eC39HqLyjWD", "arjtT1zdp7dc"].concat(),
            ["sk_test_", "BQokikJOvBiI", "2HlWgH4olfQ2"].concat(),
        ] {
            assert!(!fires("stripe_keys", &p, &sample), "{sample}");
        }
    }

    #[test]
    fn llm_vendor_keys_find_each_format_and_the_gateways_own_keys() {
        let p = none();
        let mut g = Gen::new(17);
        let tok = format!("{BASE62}_-");
        let cases = [
            (
                format!("sk-proj-{}T3BlbkFJ{}", g.chars(&tok, 74), g.chars(&tok, 74)),
                "openai_key",
            ),
            (
                format!("sk-{}T3BlbkFJ{}", g.alnum(20), g.alnum(20)),
                "openai_key",
            ),
            (
                format!("sk-ant-api03-{}AA", g.chars(&tok, 93)),
                "anthropic_key",
            ),
            (
                format!("sk-ant-admin01-{}AA", g.chars(&tok, 93)),
                "anthropic_admin_key",
            ),
            (
                format!("hf_{}", g.chars(&format!("{UPPER}{LOWER}"), 34)),
                "huggingface_token",
            ),
            (format!("gsk_{}", g.alnum(48)), "groq_key"),
            (format!("pplx-{}", g.alnum(48)), "perplexity_key"),
            (format!("dapi{}", g.chars(HEX, 32)), "databricks_token"),
            (format!("sk-or-v1-{}", g.chars(HEX, 64)), "openrouter_key"),
            (format!("xai-{}", g.alnum(80)), "xai_key"),
            (format!("r8_{}", g.alnum(37)), "replicate_token"),
            (gateway_key(&mut g, "sk-sy-"), "gateway_key"),
            (gateway_key(&mut g, "sk-sya-"), "gateway_key"),
        ];
        for (key, label) in &cases {
            let text = format!("export KEY=\"{key}\"");
            assert_eq!(
                spans("llm_vendor_keys", &p, &text),
                vec![key.clone()],
                "{label}"
            );
            assert_eq!(labels("llm_vendor_keys", &p, &text), vec![*label]);
        }
        // Wrong suffix, no vendor marker, a gateway key with a bad check or a truncated one.
        let wrong = format!("sk-ant-api03-{}BB", g.chars(&tok, 93));
        let bare = format!("sk-{}", g.alnum(48));
        let mut forged = gateway_key(&mut g, "sk-sy-");
        let last = if forged.ends_with('0') { "1" } else { "0" };
        let n = forged.len();
        forged.replace_range(n - 1.., last);
        let cut = &cases[11].0[..40];
        for t in [wrong.as_str(), bare.as_str(), forged.as_str(), cut] {
            assert!(!fires("llm_vendor_keys", &p, t), "{t}");
        }

        let only = json!({"vendors": ["anthropic"], "own_prefix": []});
        let both = format!("{} {} {}", cases[0].0, cases[2].0, cases[11].0);
        assert_eq!(
            spans("llm_vendor_keys", &only, &both),
            vec![cases[2].0.clone()]
        );
        let custom = json!({"own_prefix": "acme_live_"});
        let acme = format!("acme_live_{}", g.alnum(24));
        assert_eq!(
            labels("llm_vendor_keys", &custom, &acme),
            vec!["gateway_key"]
        );
        assert!(!fires("llm_vendor_keys", &custom, &cases[11].0));

        let e = build_err("llm_vendor_keys", json!({"vendors": ["openai", "nope"]}));
        assert_eq!(e.path, "vendors[1]");
        assert!(e.message.contains("anthropic"), "{e}");
        let e = build_err("llm_vendor_keys", json!({"vendors": []}));
        assert_eq!(e.path, "vendors");
        let e = build_err("llm_vendor_keys", json!({"own_prefix": ""}));
        assert_eq!(e.path, "own_prefix");
        let e = build_err("llm_vendor_keys", json!({"own_prefix": ["sk-sy-", "x"]}));
        assert_eq!(e.path, "own_prefix[1]");
    }

    /// An age secret key with a valid bech32 checksum.
    fn age_key(g: &mut Gen) -> String {
        let hrp = "age-secret-key-";
        let data: Vec<u8> = (0..52).map(|_| g.0.u8(..32)).collect();
        let mut values = bech32_hrp(hrp);
        values.extend(&data);
        values.extend([0u8; 6]);
        let pm = bech32_polymod(&values) ^ 1;
        let check = (0..6).map(|i| ((pm >> (5 * (5 - i))) & 31) as u8);
        let chars: String = data
            .iter()
            .copied()
            .chain(check)
            .map(|v| char::from(BECH32[usize::from(v)]))
            .collect();
        format!("{hrp}1{chars}").to_ascii_uppercase()
    }

    #[test]
    fn saas_tokens_find_prefixed_tokens_and_validate_age_keys() {
        let p = none();
        let mut g = Gen::new(18);
        let cases = [
            (format!("dop_v1_{}", g.chars(HEX, 64)), "digitalocean_token"),
            (
                format!("SG.{}.{}", g.chars(B64URL, 22), g.chars(B64URL, 43)),
                "sendgrid_key",
            ),
            (format!("shpat_{}", g.chars(HEX, 32)), "shopify_token"),
            (format!("hvs.{}", g.chars(B64URL, 95)), "vault_token"),
            (
                format!("PMAK-{}-{}", g.chars(HEX, 24), g.chars(HEX, 34)),
                "postman_key",
            ),
            (format!("HRKU-AA{}", g.chars(B64URL, 58)), "heroku_key"),
            (format!("SK{}", g.chars(HEX, 32)), "twilio_api_key"),
            (
                format!("glsa_{}_{}", g.alnum(32), g.chars(HEX, 8)),
                "grafana_token",
            ),
            (age_key(&mut g), "age_secret_key"),
        ];
        for (token, label) in &cases {
            let text = format!("token = '{token}'");
            assert_eq!(
                spans("saas_tokens", &p, &text),
                vec![token.clone()],
                "{label}"
            );
            assert_eq!(labels("saas_tokens", &p, &text), vec![*label]);
        }
        let short = format!("dop_v1_{}", g.chars(HEX, 63));
        assert!(!fires("saas_tokens", &p, &short));
        let mut age = cases[8].0.clone();
        let flip = if age.ends_with('Q') { "P" } else { "Q" };
        let n = age.len();
        age.replace_range(n - 1.., flip);
        assert!(!fires("saas_tokens", &p, &age));
        assert!(!fires("saas_tokens", &p, "order SKU12345 shipped"));
        let digits_only = format!("SK{}", g.chars(DIGITS, 32));
        assert!(!fires("saas_tokens", &p, &digits_only));

        let twilio_only = json!({"rules": ["twilio"]});
        assert!(!fires("saas_tokens", &twilio_only, &cases[0].0));
        assert!(fires("saas_tokens", &twilio_only, &cases[6].0));
        let e = build_err("saas_tokens", json!({"rules": ["sendgrid", "mystery"]}));
        assert_eq!(e.path, "rules[1]");
    }

    #[test]
    fn private_key_finds_pem_openssh_pgp_putty_and_jwk_keys() {
        let p = none();
        let mut g = Gen::new(19);
        let body = g.pem_body(3, "\n");
        let openssh = format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----"
        );
        let text = format!("here:\n{openssh}\nthanks");
        assert_eq!(spans("private_key", &p, &text), vec![openssh.clone()]);
        let body_only = json!({"redact_block": false});
        assert_eq!(spans("private_key", &body_only, &text), vec![body.clone()]);

        let rsa = format!(
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,{}\n\n{body}\n-----END RSA PRIVATE KEY-----",
            g.chars("0123456789ABCDEF", 32)
        );
        assert_eq!(spans("private_key", &p, &rsa), vec![rsa.clone()]);
        let pgp = format!(
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\n{body}\n={}\n-----END PGP PRIVATE KEY BLOCK-----",
            g.chars(B64, 4)
        );
        assert_eq!(spans("private_key", &p, &pgp), vec![pgp.clone()]);
        // Cut off before END: what is there is masked.
        let cut = format!("-----BEGIN EC PRIVATE KEY-----\n{body}");
        assert_eq!(spans("private_key", &p, &cut), vec![cut.clone()]);
        // Not keys: public keys, certificates, bodies elided.
        for t in [
            format!("-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----"),
            format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----"),
            "-----BEGIN PRIVATE KEY-----\n…\n-----END PRIVATE KEY-----".to_owned(),
            "-----BEGIN RSA PRIVATE KEY-----\n(paste your key here)\n-----END RSA PRIVATE KEY-----"
                .to_owned(),
        ] {
            assert!(!fires("private_key", &p, &t), "{t}");
        }

        let public = g.chars(B64, 68);
        let private = g.pem_body(2, "\n");
        let putty = format!(
            "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: me\nPublic-Lines: 1\n{public}\nPrivate-Lines: 2\n{private}\nPrivate-MAC: {}\n",
            g.chars(HEX, 64)
        );
        let f = fires_on("private_key", &p, &putty);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].label, "putty_private_key");
        let covered = &putty[f[0].span.clone().unwrap()];
        assert!(
            covered.starts_with("PuTTY") && covered.contains(&private),
            "{covered}"
        );
        assert!(covered
            .trim_end()
            .ends_with(|c: char| c.is_ascii_hexdigit()));
        assert_eq!(spans("private_key", &body_only, &putty), vec![private]);

        let (d, q) = (g.chars(B64URL, 86), g.chars(B64URL, 43));
        let jwk = format!(
            r#"{{"kty": "RSA", "n": "{}", "e": "AQAB", "d": "{d}", "q": "{q}"}}"#,
            g.chars(B64URL, 86)
        );
        assert_eq!(spans("private_key", &p, &jwk), vec![d, q]);
        let public_jwk = format!(
            r#"{{"kty": "RSA", "n": "{}", "e": "AQAB"}}"#,
            g.chars(B64URL, 86)
        );
        assert!(!fires("private_key", &p, &public_jwk));
    }

    fn jwt_of(header: &Value, payload: &Value, sig: &str) -> String {
        format!(
            "{}.{}.{sig}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        )
    }

    #[test]
    fn jwt_decodes_header_and_payload() {
        let p = none();
        let mut g = Gen::new(20);
        let sig = g.chars(B64URL, 43);
        let hs = json!({"alg": "HS256", "typ": "JWT"});
        let token = jwt_of(&hs, &json!({"sub": "1"}), &sig);
        assert!(token.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0."));
        let text = format!("Authorization: Bearer {token}\n");
        assert_eq!(spans("jwt", &p, &text), vec![token.clone()]);

        // Parts that are not JSON, no alg, JWE (five parts), jwt.io's sample.
        let garbage = format!("eyJ{}.eyJ{}.{sig}", g.alnum(20), g.alnum(20));
        let no_alg = jwt_of(&json!({"typ": "JWT"}), &json!({"sub": "1"}), &sig);
        let jwe = format!("{token}.{}.{}", g.chars(B64URL, 22), g.chars(B64URL, 22));
        let sample = jwt_of(
            &hs,
            &json!({"sub": "1234567890", "name": "John Doe", "iat": 1516239022}),
            &sig,
        );
        for t in [garbage, no_alg, jwe, sample] {
            assert!(!fires("jwt", &p, &t), "{t}");
        }

        let unsigned = jwt_of(&json!({"alg": "none"}), &json!({"sub": "1"}), "");
        assert!(!fires("jwt", &p, &unsigned));
        assert!(fires("jwt", &json!({"include_unsigned": true}), &unsigned));

        let expired = jwt_of(&hs, &json!({"sub": "1", "exp": 1_000_000_000}), &sig);
        let later = jwt_of(&hs, &json!({"sub": "1", "exp": 4_000_000_000u64}), &sig);
        assert!(fires("jwt", &p, &expired));
        let skip = json!({"skip_expired": true});
        assert!(!fires("jwt", &skip, &expired));
        assert!(fires("jwt", &skip, &later));
        let e = build_err("jwt", json!({"skip_expired": 1}));
        assert_eq!(e.path, "skip_expired");
    }

    #[test]
    fn high_entropy_finds_random_strings_with_context() {
        let p = none();
        let mut g = Gen::new(21);
        // 32 random base64 characters, all different (a plain draw of 32 clears 4.5 bits only
        // most of the time: detect-secrets' limit is that tight).
        let mut alphabet: Vec<char> = B64.chars().collect();
        g.0.shuffle(&mut alphabet);
        let random: String = alphabet[..32].iter().collect();
        assert!(entropy(&random) > 4.5, "{random}");
        let text = format!("api: {random}\n");
        assert_eq!(spans("high_entropy", &p, &text), vec![random.clone()]);
        let f = fires_on_as("high_entropy", &p, &text, Source::Output);
        assert!(f[0].score < 1.0);
        let hex = g.chars(HEX, 40);
        assert!(fires("high_entropy", &p, &format!("secret={hex}")));

        // Without a credential-like word before it, only when context is not required.
        let bare = format!("value {random} here");
        assert!(!fires("high_entropy", &p, &bare));
        let any = json!({"require_context": false});
        assert!(fires("high_entropy", &any, &bare));
        // UUIDs, sequences, digests, data URIs, numbers, ordinary identifiers.
        for t in [
            "token: 123e4567-e89b-12d3-a456-426614174000".to_owned(),
            "token: ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef".to_owned(),
            format!("\"integrity\": \"sha512-{}\"", STANDARD.encode(g.bytes(64))),
            format!(
                "src=\"data:image/png;base64,{}\"",
                STANDARD.encode(g.bytes(60))
            ),
            "key: 84736251908472635142".to_owned(),
            "api: get_user_profile_by_account_identifier".to_owned(),
        ] {
            assert!(!fires("high_entropy", &any, &t), "{t}");
        }
        let short = json!({"min_len": 40});
        assert!(!fires("high_entropy", &short, &text));
        for (params, field) in [
            (json!({"min_len": 2}), "min_len"),
            (json!({"min_len": 30, "max_len": 20}), "max_len"),
            (json!({"b64_limit": 9.0}), "b64_limit"),
            (json!({"hex_limit": 0}), "hex_limit"),
        ] {
            assert_eq!(build_err("high_entropy", params).path, field);
        }
    }

    #[test]
    fn credential_assignment_finds_assigned_secrets_urls_and_headers() {
        let p = none();
        let mut g = Gen::new(22);
        let cases = [
            ("DB_PASSWORD=\"tX9#kq2!Lm\"", "tX9#kq2!Lm", "password"),
            (
                "postgres://app:s3cr3tPa55@db:5432/x",
                "s3cr3tPa55",
                "password_in_url",
            ),
        ];
        for (text, secret, label) in cases {
            assert_eq!(spans("credential_assignment", &p, text), vec![secret]);
            assert_eq!(labels("credential_assignment", &p, text), vec![label]);
        }
        let key = g.alnum(32);
        let json_text = format!(r#"{{"api_key": "{key}", "client_secret": '{key}'}}"#);
        assert_eq!(
            labels("credential_assignment", &p, &json_text),
            vec!["api_key", "client_secret"]
        );
        let yaml = format!("auth:\n  token: {key}\n");
        assert_eq!(spans("credential_assignment", &p, &yaml), vec![key.clone()]);

        let bearer = g.chars(B64URL, 40);
        let header = format!("Authorization: Bearer {bearer}");
        assert_eq!(spans("credential_assignment", &p, &header), vec![bearer]);
        assert_eq!(
            labels("credential_assignment", &p, &header),
            vec!["bearer_token"]
        );
        let basic = STANDARD.encode("deploy:Vq7!rT2x");
        let header = format!("authorization: Basic {basic}");
        assert_eq!(
            labels("credential_assignment", &p, &header),
            vec!["basic_auth"]
        );

        for t in [
            "password = os.environ[\"PW\"]",
            "token: ${TOKEN}",
            "api_key: \"<YOUR_API_KEY>\"",
            "password: changeme",
            "password: \"********\"",
            "password = \"P@ssw0rd\"",
            "author = \"jdoe1984\"",
            "max_tokens: 4096",
            "token_expires: 1700000000",
            "pwd: /home/user/app1",
            "secret_name: prod-db-2",
            "access_key_id = k3y-1d-of-mine",
            "token_url: https://auth.example.com/oauth2/token",
            "password: \"Password must be 8 chars\"",
            "password = settings.DB_PASSWORD2",
            "tokenizer: gpt2-tokenizer-v1",
            "https://user:password@example.com/",
            "Authorization: Basic bm90IGEgY3JlZGVudGlhbA==",
        ] {
            assert!(!fires("credential_assignment", &p, t), "{t}");
        }

        let custom = json!({"keywords": ["pin_code"]});
        assert_eq!(
            labels("credential_assignment", &custom, "pin_code = \"8x7Qz2mK\""),
            vec!["credential"]
        );
        assert!(!fires(
            "credential_assignment",
            &custom,
            "DB_PASSWORD=\"tX9#kq2!Lm\""
        ));
        let strict = json!({"min_entropy": 4.5});
        let long = format!("token = \"{}\"", "ab12".repeat(8));
        assert!(!fires("credential_assignment", &strict, &long));
        assert_eq!(
            build_err("credential_assignment", json!({"min_entropy": -1})).path,
            "min_entropy"
        );
        assert_eq!(
            build_err(
                "credential_assignment",
                json!({"keywords": ["ok", "two words"]})
            )
            .path,
            "keywords[1]"
        );
        assert_eq!(
            build_err("credential_assignment", json!({"keywords": []})).path,
            "keywords"
        );
    }

    #[test]
    fn spans_map_back_through_normalization() {
        let mut g = Gen::new(23);
        let key = format!("sk_live_{}", g.alnum(24));
        // Full-width characters and a zero-width space normalize away; the mask covers them.
        let (head, tail) = key.split_at(10);
        let wide: String = tail
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    char::from_u32(c as u32 + 0xFEE0).unwrap()
                } else {
                    c
                }
            })
            .collect();
        let raw = format!("key: {head}\u{200B}{wide} end");
        assert_eq!(
            spans("stripe_keys", &none(), &raw),
            vec![format!("{head}\u{200B}{wide}")]
        );
    }

    #[test]
    fn pathological_input_finishes_quickly() {
        let started = std::time::Instant::now();
        let inputs = [
            "-----BEGIN PRIVATE KEY-----".repeat(4000),
            "-----BEGIN RSA PRIVATE KEY-----\nAAAA".repeat(3000),
            "eyJhbGciOi.".repeat(10_000),
            "eyJ".repeat(30_000),
            "a".repeat(100_000),
            "A/".repeat(50_000),
            "AKIA".repeat(25_000),
            "password=".repeat(10_000),
            "?sv=2020-01-01&sig=".repeat(5000),
            "\"d\": \"AAAAAAAAAAAAAAAAAAAA\", \"kty\": \"RSA\", ".repeat(2000),
            "PuTTY-User-Key-File-3: x\nPrivate-Lines: 999\n".repeat(2000),
            "x://u:p@h ".repeat(10_000),
        ];
        for text in &inputs {
            for id in ALL_IDS {
                let _ = fires_on(id, &none(), text);
            }
        }
        let took = started.elapsed();
        assert!(took.as_secs() < 60, "took {took:?}");
    }
}
