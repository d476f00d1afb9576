//! Query-string parameters of the log and analytics endpoints: filters, times and buckets, each
//! refused with a message naming the parameter.

use crate::error::GatewayError;
use switchyard_store::{Filter, StatusFilter};

fn bad(param: &str, message: String) -> GatewayError {
    GatewayError::BadRequest {
        message,
        param: Some(param.to_owned()),
    }
}

/// The query string's pairs, decoded.
pub fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Unix milliseconds from an RFC 3339 time (`2026-11-30T08:00:00Z`, fractions and offsets
/// allowed) or from a plain integer of Unix milliseconds.
pub fn time_ms(s: &str) -> Option<i64> {
    if let Ok(ms) = s.parse::<i64>() {
        return Some(ms);
    }
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut frac_ms = 0;
    if let Some(f) = rest.strip_prefix('.') {
        let digits = f.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let ms_digits: String = f[..digits].chars().chain("000".chars()).take(3).collect();
        frac_ms = ms_digits.parse::<i64>().ok()?;
        rest = &f[digits..];
    }
    let offset_min = match rest {
        "Z" | "z" => 0,
        o if o.len() == 6
            && (o.starts_with('+') || o.starts_with('-'))
            && o.get(3..4) == Some(":") =>
        {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            sign * (o.get(1..3)?.parse::<i64>().ok()? * 60 + o.get(4..6)?.parse::<i64>().ok()?)
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60;
    Some(secs * 1000 + frac_ms)
}

/// A bucket width: `30s`, `5m`, `1h`, `1d`, or seconds as a number.
pub fn bucket_ms(s: &str) -> Option<i64> {
    let (n, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: i64 = n.parse().ok().filter(|n| *n > 0)?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(unit_ms)
}

/// The filter the pairs describe; pairs the filter does not know are left for the caller.
pub fn filter(pairs: &[(String, String)]) -> Result<Filter, GatewayError> {
    let mut f = Filter::default();
    for (k, v) in pairs {
        let text = || Some(v.clone());
        match k.as_str() {
            "from" | "to" => {
                let ms = time_ms(v).ok_or_else(|| {
                    bad(
                        k,
                        format!(
                            "{k} must be an RFC 3339 time (2026-11-30T08:00:00Z) or Unix \
                             milliseconds, not \"{v}\""
                        ),
                    )
                })?;
                if k == "from" {
                    f.from_ms = Some(ms);
                } else {
                    f.to_ms = Some(ms);
                }
            }
            "model" => f.model = text(),
            "provider" => f.provider = text(),
            "key" | "caller" => f.caller = text(),
            "workspace" => f.workspace = text(),
            "key_id" => f.key_id = text(),
            "end_user" => f.end_user = text(),
            "unpriced" => {
                f.unpriced = Some(match v.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(bad(
                            "unpriced",
                            format!("unpriced must be true or false, not \"{v}\""),
                        ))
                    }
                });
            }
            "cache" => {
                if !matches!(v.as_str(), "hit" | "semantic-hit" | "miss" | "bypass") {
                    return Err(bad(
                        "cache",
                        format!("cache must be hit, semantic-hit, miss or bypass, not \"{v}\""),
                    ));
                }
                f.cache = text();
            }
            "trace_id" => f.trace_id = text(),
            "request_id" => f.request_id = text(),
            "operation" => f.operation = text(),
            "status" => {
                f.status = Some(v.parse::<StatusFilter>().map_err(|e| bad("status", e))?);
            }
            other => {
                if let Some(field) = other.strip_prefix("metadata.") {
                    if field.is_empty() {
                        return Err(bad(
                            other,
                            "metadata filters are metadata.<key>=<value>".into(),
                        ));
                    }
                    f.metadata.push((field.to_owned(), v.clone()));
                }
            }
        }
    }
    Ok(f)
}

/// The named parameter's value, if given.
pub fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Refuses parameters that are neither filters nor in `known`, so a typo is not a silent
/// "no filter".
pub fn check_known(pairs: &[(String, String)], known: &[&str]) -> Result<(), GatewayError> {
    const FILTERS: &[&str] = &[
        "from",
        "to",
        "model",
        "provider",
        "key",
        "caller",
        "workspace",
        "key_id",
        "end_user",
        "unpriced",
        "cache",
        "trace_id",
        "request_id",
        "operation",
        "status",
    ];
    for (k, _) in pairs {
        if !(FILTERS.contains(&k.as_str())
            || known.contains(&k.as_str())
            || k.starts_with("metadata."))
        {
            let mut all: Vec<&str> = FILTERS.iter().chain(known).copied().collect();
            all.push("metadata.<key>");
            return Err(bad(
                k,
                format!(
                    "unknown parameter \"{k}\"; expected one of: {}",
                    all.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// A 400 naming `param` (the admin API's prompts, experiments, datasets and runs).
pub(super) fn invalid(param: &str, message: impl Into<String>) -> GatewayError {
    GatewayError::BadRequest {
        message: message.into(),
        param: Some(param.to_owned()),
    }
}

/// A 404 in the admin API's words.
pub(super) fn missing(message: String) -> GatewayError {
    GatewayError::Missing { message }
}

/// The value of the query parameter `name`.
pub(super) fn query_param(parts: &http::request::Parts, name: &str) -> Option<String> {
    pairs(parts.uri.query())
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The `workspace` query parameter (default `default`).
pub(super) fn workspace_of(parts: &http::request::Parts) -> String {
    query_param(parts, "workspace")
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| switchyard_tenants::model::DEFAULT_WORKSPACE.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_and_unix_ms() {
        assert_eq!(time_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(time_ms("2026-11-30T08:00:00Z"), Some(1_796_025_600_000));
        assert_eq!(
            time_ms("2026-11-30T09:00:00.25+01:00"),
            Some(1_796_025_600_250)
        );
        assert_eq!(time_ms("2000-02-29T12:00:00-00:30"), Some(951_827_400_000));
        assert_eq!(time_ms("1796025600000"), Some(1_796_025_600_000));
        for bad in [
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-30T08:00:00",
            "2026-11-30",
            // Not a char boundary where the offset's colon should be: refused, not a panic.
            "2026-11-30T08:00:00+0\u{e9}00",
        ] {
            assert_eq!(time_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn buckets() {
        assert_eq!(bucket_ms("1h"), Some(3_600_000));
        assert_eq!(bucket_ms("5m"), Some(300_000));
        assert_eq!(bucket_ms("90"), Some(90_000));
        assert_eq!(bucket_ms("1d"), Some(86_400_000));
        assert_eq!(bucket_ms("0h"), None);
        assert_eq!(bucket_ms("2w"), None);
    }

    #[test]
    fn filters_from_pairs() {
        let p = pairs(Some(
            "model=gpt-4o&status=5xx&metadata.team=search&key=alice&from=1000",
        ));
        let f = filter(&p).unwrap();
        assert_eq!(f.model.as_deref(), Some("gpt-4o"));
        assert_eq!(f.status, Some(StatusFilter::Class(5)));
        assert_eq!(f.metadata, vec![("team".to_owned(), "search".to_owned())]);
        assert_eq!(
            (f.caller.as_deref(), f.from_ms),
            (Some("alice"), Some(1000))
        );
        assert!(filter(&pairs(Some("status=abc"))).is_err());
        assert!(check_known(&pairs(Some("modle=x")), &["limit"]).is_err());
        assert!(check_known(&pairs(Some("limit=3&metadata.a=b")), &["limit"]).is_ok());
    }
}
