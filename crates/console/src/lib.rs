//! The web console: its files, embedded in the binary at compile time (so `cargo build` stays
//! the only build step and nothing is fetched at run time), each with its content type and a
//! strong ETag. The server serves them under `/ui`; every page's data comes from the admin API
//! (`/admin/v1`), which the browser calls with the signed-in admin key or token.
//!
//! No third-party front-end code: charts and the virtualised log table are our own modules.

use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// One embedded file.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    pub content_type: &'static str,
    pub body: &'static [u8],
    /// `"<sha-256 hex>"`, quoted as an ETag is.
    pub etag: &'static str,
}

macro_rules! files {
    ($($path:literal => $ty:literal),* $(,)?) => {
        /// Every file: its path under `/ui/`, content type and bytes.
        const FILES: &[(&str, &str, &[u8])] = &[
            $(($path, $ty, include_bytes!(concat!("../assets/", $path)))),*
        ];
    };
}

files! {
    "index.html" => "text/html; charset=utf-8",
    "app.css" => "text/css; charset=utf-8",
    "js/api.js" => "text/javascript; charset=utf-8",
    "js/app.js" => "text/javascript; charset=utf-8",
    "js/chart.js" => "text/javascript; charset=utf-8",
    "js/dom.js" => "text/javascript; charset=utf-8",
    "js/table.js" => "text/javascript; charset=utf-8",
    "js/pages/overview.js" => "text/javascript; charset=utf-8",
    "js/pages/logs.js" => "text/javascript; charset=utf-8",
    "js/pages/keys.js" => "text/javascript; charset=utf-8",
    "js/pages/limits.js" => "text/javascript; charset=utf-8",
    "js/pages/guardrails.js" => "text/javascript; charset=utf-8",
    "js/pages/routes.js" => "text/javascript; charset=utf-8",
    "js/pages/cache.js" => "text/javascript; charset=utf-8",
    "js/pages/playground.js" => "text/javascript; charset=utf-8",
    "js/pages/prompts.js" => "text/javascript; charset=utf-8",
    "js/pages/experiments.js" => "text/javascript; charset=utf-8",
    "js/pages/runs.js" => "text/javascript; charset=utf-8",
}

fn table() -> &'static [(&'static str, Asset)] {
    static TABLE: OnceLock<Vec<(&'static str, Asset)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        FILES
            .iter()
            .map(|(path, ty, body)| {
                let hex: String = Sha256::digest(body)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                let etag: &'static str = Box::leak(format!("\"{hex}\"").into_boxed_str());
                (
                    *path,
                    Asset {
                        content_type: ty,
                        body,
                        etag,
                    },
                )
            })
            .collect()
    })
}

/// The file at `path` (relative to `/ui/`; empty for the index). A path that names no file
/// and has no extension is a page of the app: the index answers it.
pub fn asset(path: &str) -> Option<Asset> {
    let path = path.trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    if let Some((_, a)) = table().iter().find(|(p, _)| *p == path) {
        return Some(*a);
    }
    let last = path.rsplit('/').next().unwrap_or(path);
    if last.contains('.') {
        return None;
    }
    table()
        .iter()
        .find(|(p, _)| *p == "index.html")
        .map(|(_, a)| *a)
}

/// The Content-Security-Policy the console is served with: its own files only, no inline
/// script, no framing; the admin API is same-origin.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn files_pages_and_missing_files() {
        let index = asset("").unwrap();
        assert!(index.content_type.starts_with("text/html"));
        assert!(std::str::from_utf8(index.body)
            .unwrap()
            .contains("js/app.js"));
        assert_eq!(
            asset("/logs").unwrap().etag,
            index.etag,
            "a page is the index"
        );
        let js = asset("js/app.js").unwrap();
        assert!(js.content_type.starts_with("text/javascript"));
        assert_ne!(js.etag, index.etag);
        assert_eq!(js.etag.len(), 66);
        assert!(asset("js/missing.js").is_none());
        assert!(asset("../Cargo.toml").is_none());
    }

    /// Every module another imports is embedded (a missing one would 404 in the browser).
    #[test]
    fn every_import_is_embedded() {
        for (path, ty, body) in FILES {
            if !ty.starts_with("text/javascript") {
                continue;
            }
            let text = std::str::from_utf8(body).unwrap();
            let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
            for line in text.lines().filter(|l| l.starts_with("import ")) {
                let spec = line.split(['"', '\'']).nth(1).unwrap();
                let mut parts: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
                for seg in spec.split('/') {
                    match seg {
                        "." => {}
                        ".." => {
                            parts.pop();
                        }
                        s => parts.push(s),
                    }
                }
                let target = parts.join("/");
                assert!(
                    FILES.iter().any(|(p, _, _)| *p == target),
                    "{path} imports {spec} ({target}), which is not embedded"
                );
            }
        }
    }
}
