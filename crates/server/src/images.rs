//! Fetching images for providers that only take them inline (Gemini, Vertex's Gemini models,
//! Bedrock): an `image_url` part with an http(s) URL is downloaded and replaced by a `data:` URL
//! before translation.
//!
//! Guarded the way a server that fetches URLs for callers must be: the host must resolve to
//! public addresses only (no loopback, private, link-local, CGNAT, multicast or reserved ranges,
//! IPv4 or IPv6; an IPv6 address that embeds an IPv4 one, whether mapped, compatible, translated,
//! NAT64 or 6to4, is judged by that IPv4 address) and the connection goes to the address that was checked, so a DNS answer cannot
//! change between check and use; redirects are followed (at most 3) under the same check; the
//! answer must be an `image/*` within the size cap and the time limit.

use crate::error::GatewayError;
use crate::upstream::TlsConfig;
use base64::Engine;
use http::header;
use http_body_util::{BodyExt, Limited};
use serde_json::Value;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use switchyard_config::ImageFetch;

const MAX_REDIRECTS: usize = 3;

/// Whether an address is on the public internet (what a fetch on a caller's behalf may reach).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18/15
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if s[..6] == [0; 6] || s[..6] == [0, 0, 0, 0, 0xffff, 0] {
        // IPv4-compatible ::/96 (deprecated, still routed to the IPv4 address by some stacks;
        // `::` and `::1` land here as 0.0.0.0 and 0.0.0.1) and IPv4-translated ::ffff:0:0/96:
        // the IPv4 address inside decides.
        return is_public_v4(v4(s[6], s[7]));
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        // NAT64: the IPv4 address inside decides.
        return is_public_v4(v4(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        // 6to4: the IPv4 address inside decides.
        return is_public_v4(v4(s[1], s[2]));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated, still private)
        || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) // local-use NAT64 64:ff9b:1::/48
        || (s[0] == 0x2001 && s[1] == 0x0db8)) // documentation
}

fn refuse(path: &str, why: impl std::fmt::Display) -> GatewayError {
    GatewayError::BadRequest {
        message: format!("the image at {path} could not be fetched: {why}"),
        param: Some(path.to_owned()),
    }
}

/// Downloads images with the configured limits.
pub struct ImageFetcher {
    tls: TlsConfig,
    limits: ImageFetch,
}

impl ImageFetcher {
    pub fn new(tls: TlsConfig, limits: ImageFetch) -> Self {
        Self { tls, limits }
    }

    /// Replaces every http(s) `image_url` in a chat request's messages by a `data:` URL. All of
    /// a request's images share one time limit and a count limit.
    pub async fn inline_chat_images(&self, chat: &mut Value) -> Result<(), GatewayError> {
        let deadline = tokio::time::Instant::now() + self.limits.timeout;
        let mut fetched_count = 0;
        let Some(messages) = chat.get_mut("messages").and_then(Value::as_array_mut) else {
            return Ok(());
        };
        for (i, m) in messages.iter_mut().enumerate() {
            let Some(parts) = m.get_mut("content").and_then(Value::as_array_mut) else {
                continue;
            };
            for (j, p) in parts.iter_mut().enumerate() {
                let Some(url) = p.pointer_mut("/image_url/url") else {
                    continue;
                };
                let Some(text) = url
                    .as_str()
                    .filter(|u| u.get(..4).is_some_and(|s| s.eq_ignore_ascii_case("http")))
                else {
                    continue;
                };
                let path = format!("messages[{i}].content[{j}]");
                fetched_count += 1;
                if fetched_count > self.limits.max_images {
                    return Err(refuse(
                        &path,
                        format!(
                            "a request may have at most {} image URLs to fetch",
                            self.limits.max_images
                        ),
                    ));
                }
                let fetched = tokio::time::timeout_at(deadline, self.fetch(text, &path))
                    .await
                    .map_err(|_| refuse(&path, "timed out"))??;
                *url = Value::String(fetched);
            }
        }
        Ok(())
    }

    /// Fetches one image as a `data:` URL.
    async fn fetch(&self, start: &str, path: &str) -> Result<String, GatewayError> {
        let mut current = url::Url::parse(start).map_err(|e| refuse(path, e))?;
        for _ in 0..=MAX_REDIRECTS {
            let resp = self.get(&current, path).await?;
            let status = resp.status();
            if status.is_redirection() {
                let next = resp
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .ok_or_else(|| refuse(path, format!("redirect {status} without a location")))?;
                let next = current.join(next).map_err(|e| refuse(path, e))?;
                if current.scheme() == "https" && next.scheme() != "https" {
                    return Err(refuse(
                        path,
                        "a redirect from https to http is not followed",
                    ));
                }
                current = next;
                continue;
            }
            if !status.is_success() {
                return Err(refuse(path, format!("the server answered {status}")));
            }
            let mime = resp
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(|v| {
                    v.split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_ascii_lowercase()
                })
                .unwrap_or_default();
            if !mime.starts_with("image/") {
                return Err(refuse(path, format!("it is not an image ({mime})")));
            }
            let max = self.limits.max_bytes;
            let declared = resp
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if declared.is_some_and(|n| n > max as u64) {
                return Err(refuse(path, format!("it is larger than {max} bytes")));
            }
            let bytes = Limited::new(resp.into_body(), max)
                .collect()
                .await
                .map_err(|_| refuse(path, format!("it is larger than {max} bytes")))?
                .to_bytes();
            let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
            return Ok(format!("data:{mime};base64,{b64}"));
        }
        Err(refuse(path, "too many redirects"))
    }

    /// One GET to the first acceptable address of the URL's host.
    async fn get(
        &self,
        url: &url::Url,
        path: &str,
    ) -> Result<http::Response<hyper::body::Incoming>, GatewayError> {
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            other => return Err(refuse(path, format!("scheme {other} is not http(s)"))),
        };
        let host = url
            .host_str()
            .ok_or_else(|| refuse(path, "the URL has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = url
            .port_or_known_default()
            .unwrap_or(if https { 443 } else { 80 });
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| refuse(path, format!("{host} does not resolve: {e}")))?
            .collect();
        let addr = addrs
            .iter()
            .copied()
            .find(|a| self.limits.allow_private_addresses || is_public(a.ip()))
            .ok_or_else(|| {
                refuse(
                    path,
                    format!("{host} resolves to a private or reserved address, which the gateway does not fetch from"),
                )
            })?;
        crate::fetch::get_at(addr, url, &host, &self.tls, "image/*")
            .await
            .map_err(|e| refuse(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_reserved_addresses_are_not_public() {
        for ip in [
            "fec0::1",
            "64:ff9b:1::a00:1",
            "2002:a00:1::1",
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "2001:db8::1",
            "::127.0.0.1",
            "::10.0.0.1",
            "::169.254.169.254",
            "::ffff:0:127.0.0.1",
            "::ffff:0:192.168.0.1",
            "64:ff9b::127.0.0.1",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "::8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:808:808::1",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}
